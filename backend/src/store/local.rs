//! A local store: a directory of store paths plus, beside them in `<root>/.strata/`, the
//! SQLite database (`db.sqlite`), lock files (`locks/`, `gc.lock`), GC roots (`gcroots/`) and
//! a scratch area (`tmp/`) on the same file system, so publication is one `rename`.
//!
//! Adding a path: copy into `tmp/` (holding a lock on the scratch entry), hash it, take the
//! path's lock, rename into place, register in the database, release. A crash leaves either an
//! unlocked scratch entry or an unregistered final entry; both are litter, removed by the next
//! add or GC. Validity is decided by the database only, never by a file's existence.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use super::db::{DbError, PathInfo, StoreDb};
use super::fsutil;
use super::hash::{Hash, HashAlgo};
use super::lock::FileLock;
use super::nar::{self, NarWriteError};
use super::path::{FileIngestionMethod, StoreDir, StorePath, StorePathError};

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Serialising a tree failed.
    #[error(transparent)]
    Nar(#[from] NarWriteError),
    /// A bad store path or name.
    #[error(transparent)]
    Path(#[from] StorePathError),
    /// The path is not valid in this store.
    #[error("{0} is not a valid path in this store (add or build it first)")]
    NotValid(String),
    /// Flat hashing needs a regular file.
    #[error("{0} is not a regular file, so it cannot be added with flat hashing")]
    NotAFile(PathBuf),
    /// The source of an add has no usable file name.
    #[error("cannot derive a store path name from {0}: pass a name")]
    NoName(PathBuf),
}

pub(crate) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What `verify` found wrong with one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyProblem {
    /// Registered but gone from disk.
    Missing,
    /// The contents no longer hash to the registered NAR hash (or size).
    Modified {
        /// What the database says.
        expected: Hash,
        /// What the disk holds now.
        actual: Hash,
    },
}

/// The outcome of [`LocalStore::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// How many valid paths were checked.
    pub checked: usize,
    /// Paths whose contents disagree with the database.
    pub problems: Vec<(StorePath, VerifyProblem)>,
}

/// A store on the local file system.
pub struct LocalStore {
    store_dir: StoreDir,
    root: PathBuf,
    meta: PathBuf,
    db: Mutex<StoreDb>,
}

static SCRATCH_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The current time in seconds since the epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl LocalStore {
    /// Opens (creating if needed) the store at `root`, whose absolute path is also its logical
    /// store directory, as with Nix's `NIX_STORE_DIR`.
    pub fn open(root: &Path) -> Result<LocalStore, StoreError> {
        let abs = absolute_lexical(root).map_err(io_at(root))?;
        let text = abs.to_str().ok_or_else(|| {
            StoreError::Path(StorePathError::BadStoreDir(
                abs.to_string_lossy().into_owned(),
            ))
        })?;
        let dir = StoreDir::new(text)?;
        LocalStore::open_at(dir, &abs)
    }

    /// Opens a store whose paths are named for `store_dir` but live physically under `root`
    /// (e.g. a `/nix/store` image being prepared elsewhere).
    pub fn open_at(store_dir: StoreDir, root: &Path) -> Result<LocalStore, StoreError> {
        let meta = root.join(".strata");
        for d in [
            root.to_owned(),
            meta.join("locks"),
            meta.join("tmp"),
            meta.join("gcroots"),
        ] {
            fs::create_dir_all(&d).map_err(io_at(&d))?;
        }
        let db = {
            // Switching to WAL and creating the schema upgrade read locks to write locks, which
            // SQLite refuses at once (no busy wait) when another opener got there first.
            let lock_file = meta.join("locks").join("db-setup.lock");
            let _setup = FileLock::exclusive(&lock_file).map_err(io_at(&lock_file))?;
            StoreDb::open(&meta.join("db.sqlite"), &store_dir)?
        };
        Ok(LocalStore {
            store_dir,
            root: root.to_owned(),
            meta,
            db: Mutex::new(db),
        })
    }

    /// The logical store directory (what enters path hashes).
    pub fn store_dir(&self) -> &StoreDir {
        &self.store_dir
    }

    /// The physical directory holding the paths.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a store path's files are on disk.
    pub fn real_path(&self, p: &StorePath) -> PathBuf {
        self.root.join(p.base_name())
    }

    /// The folder of GC root symlinks.
    pub fn gcroots_dir(&self) -> PathBuf {
        self.meta.join("gcroots")
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, StoreDb> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back).
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parses an absolute path (logical or physical) to a store path in this store.
    pub fn parse_path(&self, s: &str) -> Result<StorePath, StoreError> {
        if let Ok(p) = self.store_dir.parse_path(s) {
            return Ok(p);
        }
        let root = self.root.to_string_lossy();
        if let Some(rest) = s
            .strip_prefix(root.as_ref())
            .and_then(|r| r.strip_prefix('/'))
        {
            if !rest.contains('/') {
                return Ok(StorePath::from_base_name(rest)?);
            }
        }
        Ok(self.store_dir.parse_path(s)?)
    }

    /// Holds off garbage collection while new paths are being created and registered: anyone
    /// creating files under a final store name must hold this for the whole operation.
    pub fn gc_guard(&self) -> Result<FileLock, StoreError> {
        let p = self.meta.join("gc.lock");
        FileLock::shared(&p).map_err(io_at(&p))
    }

    pub(crate) fn gc_exclusive(&self) -> Result<FileLock, StoreError> {
        let p = self.meta.join("gc.lock");
        FileLock::exclusive(&p).map_err(io_at(&p))
    }

    /// Takes the lock that serialises everything writing `p` (waits for other processes).
    pub fn lock_path(&self, p: &StorePath) -> Result<FileLock, StoreError> {
        let l = self
            .meta
            .join("locks")
            .join(format!("{}.lock", p.hash_part()));
        FileLock::exclusive(&l).map_err(io_at(&l))
    }

    /// Whether `p` is registered.
    pub fn is_valid(&self, p: &StorePath) -> Result<bool, StoreError> {
        Ok(self.db().is_valid(p)?)
    }

    /// What the database records about `p`, if valid.
    pub fn path_info(&self, p: &StorePath) -> Result<Option<PathInfo>, StoreError> {
        Ok(self.db().query_info(p)?)
    }

    /// The references of a valid path.
    pub fn references(&self, p: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        self.require_valid(p)?;
        Ok(self.db().references(p)?)
    }

    /// The valid paths referring to `p`.
    pub fn referrers(&self, p: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        self.require_valid(p)?;
        Ok(self.db().referrers(p)?)
    }

    /// Every valid path.
    pub fn valid_paths(&self) -> Result<BTreeSet<StorePath>, StoreError> {
        Ok(self.db().all_valid()?)
    }

    fn require_valid(&self, p: &StorePath) -> Result<(), StoreError> {
        if self.is_valid(p)? {
            Ok(())
        } else {
            Err(StoreError::NotValid(self.store_dir.display(p)))
        }
    }

    /// The closure of `paths`: them and everything they reference, transitively.
    pub fn closure<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a StorePath>,
    ) -> Result<BTreeSet<StorePath>, StoreError> {
        let db = self.db();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<StorePath> = Vec::new();
        for p in paths {
            if !db.is_valid(p)? {
                return Err(StoreError::NotValid(self.store_dir.display(p)));
            }
            todo.push(p.clone());
        }
        while let Some(p) = todo.pop() {
            if seen.insert(p.clone()) {
                todo.extend(db.references(&p)?.into_iter().filter(|r| !seen.contains(r)));
            }
        }
        Ok(seen)
    }

    /// A fresh scratch path in `tmp/`, locked as in use until dropped.
    fn scratch(&self, what: &str) -> Result<Scratch, StoreError> {
        let n = SCRATCH_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let base = format!("{what}-{}-{n}-{nanos}", std::process::id());
        let tmp = self.meta.join("tmp");
        let lock_path = tmp.join(format!("{base}.lock"));
        let lock = FileLock::exclusive(&lock_path).map_err(io_at(&lock_path))?;
        Ok(Scratch {
            path: tmp.join(base),
            lock: Some(lock),
        })
    }

    /// Removes what interrupted operations left behind: scratch entries whose lock is free and
    /// final-named entries that are not registered (and not being written right now).
    pub fn clean_litter(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut removed = Vec::new();
        let tmp = self.meta.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io_at(&tmp))? {
            let path = entry.map_err(io_at(&tmp))?.path();
            if path.extension().is_some_and(|e| e == "lock") {
                continue;
            }
            let lock_path = PathBuf::from(format!("{}.lock", path.display()));
            if let Some(_held) = FileLock::try_exclusive(&lock_path).map_err(io_at(&lock_path))? {
                fsutil::remove_tree(&path).map_err(io_at(&path))?;
                let _ = fs::remove_file(&lock_path);
                removed.push(path);
            }
        }
        // One query for the whole set; each suspect is re-checked under its lock below.
        let valid = self.valid_paths()?;
        for entry in fs::read_dir(&self.root).map_err(io_at(&self.root))? {
            let entry = entry.map_err(io_at(&self.root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Ok(p) = StorePath::from_base_name(name) else {
                continue;
            };
            if valid.contains(&p) {
                continue;
            }
            let l = self
                .meta
                .join("locks")
                .join(format!("{}.lock", p.hash_part()));
            if let Some(_held) = FileLock::try_exclusive(&l).map_err(io_at(&l))? {
                // Re-check under the lock: a writer may have registered it meanwhile.
                if !self.is_valid(&p)? {
                    let real = self.real_path(&p);
                    fsutil::remove_tree(&real).map_err(io_at(&real))?;
                    removed.push(real);
                }
            }
        }
        Ok(removed)
    }

    /// Removes scratch lock files left without their entry. Only safe while no add can run
    /// (under the exclusive GC lock): a new add creates its lock file just before locking it.
    pub(crate) fn clean_orphan_locks(&self) -> Result<(), StoreError> {
        let tmp = self.meta.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io_at(&tmp))? {
            let path = entry.map_err(io_at(&tmp))?.path();
            if path.extension().is_some_and(|e| e == "lock") && !path.with_extension("").exists() {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(())
    }

    /// Moves a prepared scratch tree to its final name and registers it, unless another
    /// process got there first. Returns the registered info.
    fn publish(&self, scratch: &Path, info: PathInfo) -> Result<PathInfo, StoreError> {
        let _lock = self.lock_path(&info.path)?;
        if let Some(existing) = self.path_info(&info.path)? {
            fsutil::remove_tree(scratch).map_err(io_at(scratch))?;
            tracing::debug!(path = %info.path, "already valid; dropped our copy");
            return Ok(existing);
        }
        let real = self.real_path(&info.path);
        // Litter from a crash between rename and register.
        fsutil::remove_tree(&real).map_err(io_at(&real))?;
        fsutil::canonicalise(scratch).map_err(io_at(scratch))?;
        let is_dir = fs::symlink_metadata(scratch)
            .map_err(io_at(scratch))?
            .is_dir();
        if is_dir {
            // Moving a directory to another parent rewrites its `..`: it must be writable.
            set_mode(scratch, 0o755)?;
        }
        tracing::info!(path = %self.store_dir.display(&info.path), "publishing");
        fs::rename(scratch, &real).map_err(io_at(&real))?;
        if is_dir {
            set_mode(&real, 0o555)?;
            fsutil::set_mtime_one(&real).map_err(io_at(&real))?;
        }
        self.db().register(std::slice::from_ref(&info))?;
        Ok(info)
    }

    /// `nix-store --add`: copies a file or tree into the store as a source path named `name`
    /// (default: the source's file name). Returns the registered info.
    pub fn add_path(&self, src: &Path, name: Option<&str>) -> Result<PathInfo, StoreError> {
        let name = match name {
            Some(n) => n.to_owned(),
            None => src
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
                .ok_or_else(|| StoreError::NoName(src.to_owned()))?,
        };
        self.add_fixed(
            src,
            &name,
            FileIngestionMethod::Recursive,
            HashAlgo::Sha256,
            &mut |_, _| true,
        )
    }

    /// Copies a file or tree into the store as a content-addressed path (`builtins.path`,
    /// `filterSource`, `nix-store --add-fixed`): only entries `filter` accepts are copied;
    /// `method` and `algo` choose the content hash naming the path (flat needs a regular file).
    pub fn add_fixed(
        &self,
        src: &Path,
        name: &str,
        method: FileIngestionMethod,
        algo: HashAlgo,
        filter: &mut dyn FnMut(&Path, &fs::Metadata) -> bool,
    ) -> Result<PathInfo, StoreError> {
        super::path::validate_name(name)?;
        let _guard = self.gc_guard()?;
        self.clean_litter()?;
        let scratch = self.scratch("add")?;
        let scratch = &scratch.path;
        fsutil::copy_tree_filtered(src, scratch, filter).map_err(io_at(src))?;
        // Hash our private copy, not the source, so what is published is what was hashed.
        let (nar_hash, nar_size) = nar::hash_path(scratch, HashAlgo::Sha256)?;
        let content_hash = match method {
            FileIngestionMethod::Recursive if algo == HashAlgo::Sha256 => nar_hash,
            FileIngestionMethod::Recursive => nar::hash_path(scratch, algo)?.0,
            FileIngestionMethod::Flat => {
                if !fs::symlink_metadata(scratch).map_err(io_at(src))?.is_file() {
                    return Err(StoreError::NotAFile(src.to_owned()));
                }
                let mut h = super::hash::Hasher::new(algo);
                let mut f = fs::File::open(scratch).map_err(io_at(src))?;
                io::copy(&mut f, &mut h).map_err(io_at(src))?;
                h.finish()
            }
        };
        let path = self
            .store_dir
            .make_fixed_output_path(method, &content_hash, name, [], false)?;
        let info = PathInfo {
            path,
            nar_hash,
            nar_size,
            references: BTreeSet::new(),
            deriver: None,
            registration_time: now(),
            ca: Some(format!(
                "fixed:{}{}",
                if method == FileIngestionMethod::Recursive {
                    "r:"
                } else {
                    ""
                },
                content_hash.to_typed(super::HashEncoding::Base32)
            )),
        };
        self.publish(scratch, info)
    }

    /// `builtins.toFile`: stores `contents` as a text path referring to `references` (which
    /// must be valid).
    pub fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<PathInfo, StoreError> {
        let path = self
            .store_dir
            .compute_text_path(name, contents, references)?;
        if let Some(info) = self.path_info(&path)? {
            return Ok(info);
        }
        let _guard = self.gc_guard()?;
        let scratch = self.scratch("text")?;
        let scratch = &scratch.path;
        fs::write(scratch, contents).map_err(io_at(scratch))?;
        let (nar_hash, nar_size) = nar::hash_path(scratch, HashAlgo::Sha256)?;
        let info = PathInfo {
            path,
            nar_hash,
            nar_size,
            references: references.clone(),
            deriver: None,
            registration_time: now(),
            ca: Some(format!(
                "text:{}",
                Hash::sha256(contents).to_typed(super::HashEncoding::Base32)
            )),
        };
        self.publish(scratch, info)
    }

    /// Registers a path a builder has written in place at its final name. The caller holds
    /// [`gc_guard`](Self::gc_guard) and [`lock_path`](Self::lock_path) while building. The tree is
    /// canonicalised, hashed and scanned for references among `candidates` (itself included).
    pub fn register_built(
        &self,
        path: &StorePath,
        candidates: &BTreeSet<StorePath>,
        deriver: Option<&StorePath>,
    ) -> Result<PathInfo, StoreError> {
        let real = self.real_path(path);
        fsutil::canonicalise(&real).map_err(io_at(&real))?;
        let (nar_hash, nar_size) = nar::hash_path(&real, HashAlgo::Sha256)?;
        let mut all = candidates.clone();
        all.insert(path.clone());
        let references = super::references::scan_references(&real, &all)?;
        let info = PathInfo {
            path: path.clone(),
            nar_hash,
            nar_size,
            references,
            deriver: deriver.cloned(),
            registration_time: now(),
            ca: None,
        };
        self.db().register(std::slice::from_ref(&info))?;
        Ok(info)
    }

    /// Re-hashes every valid path and compares with the database.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        for p in self.valid_paths()? {
            let Some(info) = self.path_info(&p)? else {
                continue;
            };
            report.checked += 1;
            let real = self.real_path(&p);
            if fs::symlink_metadata(&real).is_err() {
                report.problems.push((p, VerifyProblem::Missing));
                continue;
            }
            let (actual, size) = nar::hash_path(&real, info.nar_hash.algo())?;
            if actual != info.nar_hash || size != info.nar_size {
                report.problems.push((
                    p,
                    VerifyProblem::Modified {
                        expected: info.nar_hash,
                        actual,
                    },
                ));
            }
        }
        Ok(report)
    }
}

/// A scratch entry in `tmp/`: removed with its lock file when dropped (after a successful
/// publication the entry has been renamed away and only the lock file remains).
struct Scratch {
    path: PathBuf,
    lock: Option<FileLock>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fsutil::remove_tree(&self.path);
        if let Some(lock) = self.lock.take() {
            // Unlink while still holding it: the name is unique, nobody else can want it.
            let _ = fs::remove_file(lock.path());
        }
    }
}

/// Makes `p` absolute and removes `.` and `..` without resolving symlinks, as Nix's
/// `canonPath` does for `NIX_STORE_DIR`: the store directory is the path as the user wrote it.
fn absolute_lexical(p: &Path) -> io::Result<PathBuf> {
    use std::path::Component;
    let joined = if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir()?.join(p)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

fn set_mode(p: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).map_err(io_at(p))
}
