//! Garbage collection: delete exactly the valid paths no root reaches, plus litter.
//!
//! Roots are the symlinks under the store's `gcroots/` folder (followed through chains of
//! symlinks, like Nix's indirect roots) and whatever the caller passes, such as the live
//! generations of every profile.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::fsutil;
use super::local::{io_at, LocalStore, StoreError};
use super::path::StorePath;

/// What a collection did.
#[derive(Debug, Clone, Default)]
pub struct GcReport {
    /// The roots that were honoured.
    pub roots: BTreeSet<StorePath>,
    /// Valid paths that were deleted (or would be, in a dry run).
    pub deleted: BTreeSet<StorePath>,
    /// NAR bytes of the deleted paths.
    pub bytes_freed: u64,
    /// Unregistered leftovers removed.
    pub litter: Vec<PathBuf>,
}

/// How many symlinks to follow from a root before giving up (cycles).
const MAX_HOPS: usize = 32;

impl LocalStore {
    /// Resolves a symlink chain starting at `link` to the store path it ends in, if any.
    fn root_target(&self, link: &Path) -> Option<StorePath> {
        let mut cur = link.to_owned();
        for _ in 0..MAX_HOPS {
            let target = fs::read_link(&cur).ok()?;
            let abs = match cur.parent() {
                Some(parent) if target.is_relative() => parent.join(&target),
                _ => target,
            };
            if let Some(p) = self.store_path_of(&abs) {
                return Some(p);
            }
            cur = abs;
        }
        None
    }

    /// The store path that `p` is, or lies inside of (logical or physical spelling).
    fn store_path_of(&self, p: &Path) -> Option<StorePath> {
        let s = p.to_str()?;
        for prefix in [self.store_dir().as_str(), &self.root().to_string_lossy()] {
            if let Some(rest) = s.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) {
                let base = rest.split('/').next()?;
                return StorePath::from_base_name(base).ok();
            }
        }
        None
    }

    /// Makes `<gcroots>/<name>` a root for `path`.
    pub fn add_root(&self, name: &str, path: &StorePath) -> Result<PathBuf, StoreError> {
        let link = self.gcroots_dir().join(name);
        let tmp = self
            .gcroots_dir()
            .join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(self.real_path(path), &tmp).map_err(io_at(&tmp))?;
        fs::rename(&tmp, &link).map_err(io_at(&link))?;
        Ok(link)
    }

    /// Store paths that symlinks anywhere below `dir` resolve into (e.g. a profiles folder:
    /// every `P-N-link` is a live generation). A missing folder has no roots.
    pub fn roots_in(&self, dir: &Path) -> Result<BTreeSet<StorePath>, StoreError> {
        let mut roots = BTreeSet::new();
        if !dir.exists() {
            return Ok(roots);
        }
        for entry in walkdir::WalkDir::new(dir).follow_links(false) {
            let entry = entry.map_err(|e| StoreError::Io {
                path: dir.to_owned(),
                source: e.into(),
            })?;
            if entry.path_is_symlink() {
                if let Some(p) = self.root_target(entry.path()) {
                    roots.insert(p);
                }
            }
        }
        Ok(roots)
    }

    /// Deletes every valid path not in the closure of the roots (the `gcroots/` folder plus
    /// `extra_roots`), and all litter. With `dry_run`, only reports what would go.
    pub fn collect_garbage(
        &self,
        extra_roots: &BTreeSet<StorePath>,
        dry_run: bool,
    ) -> Result<GcReport, StoreError> {
        // No add or build may run meanwhile: their paths are not rooted yet.
        let _excl = self.gc_exclusive()?;
        let mut roots = self.roots_in(&self.gcroots_dir())?;
        roots.extend(extra_roots.iter().cloned());
        let valid = self.valid_paths()?;
        // Roots that are not valid (a dangling result link) protect nothing.
        let live_roots: Vec<&StorePath> = roots.iter().filter(|r| valid.contains(*r)).collect();
        let live = self.closure(live_roots)?;
        let dead: BTreeSet<StorePath> = valid.difference(&live).cloned().collect();
        let mut report = GcReport {
            roots,
            ..GcReport::default()
        };
        for p in &dead {
            if let Some(info) = self.path_info(p)? {
                report.bytes_freed += info.nar_size;
            }
        }
        report.deleted = dead;
        if dry_run {
            return Ok(report);
        }
        // Invalidate first: a crash then leaves unregistered files, which are litter.
        self.db().invalidate(&report.deleted)?;
        for p in &report.deleted {
            let real = self.real_path(p);
            tracing::debug!(path = %real.display(), "deleting");
            fsutil::remove_tree(&real).map_err(io_at(&real))?;
        }
        report.litter = self.clean_litter()?;
        self.clean_orphan_locks()?;
        Ok(report)
    }
}
