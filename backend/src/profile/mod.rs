//! Profiles and generations in the layout Nix uses (`P -> P-N-link -> /store/path`).
//!
//! The profile `P` is a symlink whose target is the *relative* name `P-N-link`; each
//! generation link lives beside it and points at an absolute store path. Every switch is
//! one atomic `rename` of a temporary symlink over `P`, so a reader (or a crash) only ever
//! sees the old or the new generation. `nix-env --list-generations --profile P` reads what
//! this module writes, and this module reads what `nix-env` wrote.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// What went wrong with a profile; every message names the path and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A file system call on the profile failed.
    #[error("{action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `P` exists but is not a profile Strata or Nix can read.
    #[error(
        "profile `{path}` is corrupt: {reason}; fix or remove it by hand (nothing was changed)"
    )]
    Corrupt { path: PathBuf, reason: String },
    /// The requested generation has no link.
    #[error("profile `{profile}` has no generation {number}")]
    NoSuchGeneration { profile: PathBuf, number: u64 },
    /// A rollback was asked for on the oldest generation.
    #[error("profile `{profile}` has no generation older than the current one ({current})")]
    NoOlderGeneration { profile: PathBuf, current: u64 },
    /// The profile does not exist yet (no generation to switch or roll back).
    #[error("profile `{0}` has no generations yet")]
    Empty(PathBuf),
    /// Deleting the current generation was asked for.
    #[error("cannot delete generation {number} of `{profile}`: it is the current one")]
    DeleteCurrent { profile: PathBuf, number: u64 },
    /// The profile path has no file name or parent folder.
    #[error("`{0}` cannot be a profile path")]
    BadPath(PathBuf),
}

/// Result alias for profile operations.
pub type Result<T, E = ProfileError> = std::result::Result<T, E>;

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ProfileError + 'a {
    move |source| ProfileError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// One generation of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generation {
    /// The generation number (`N` in `P-N-link`).
    pub number: u64,
    /// The link `P-N-link`.
    pub link: PathBuf,
    /// Where the link points (a store path).
    pub target: PathBuf,
    /// The link's mtime in seconds since the epoch (what `nix-env` shows as the date).
    pub created: i64,
    /// Whether `P` points at this generation.
    pub current: bool,
}

impl Generation {
    /// The creation date as `YYYY-MM-DD HH:MM:SS` in local time, as `nix-env` prints it.
    pub fn date(&self) -> String {
        format_local_time(self.created)
    }
}

/// Which generations `delete` removes (the current one is always kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteSelection {
    /// These numbers.
    Numbers(Vec<u64>),
    /// All but the newest `K` generations (counting the current one among them if it is).
    KeepLast(usize),
    /// Generations whose link is older than this.
    OlderThan(Duration),
}

impl DeleteSelection {
    /// Parses nix-env's age syntax `30d` (days only, like `--delete-generations 30d`).
    pub fn parse_age(s: &str) -> Option<Duration> {
        let days: u64 = s.strip_suffix('d')?.parse().ok()?;
        Some(Duration::from_secs(days.checked_mul(86_400)?))
    }
}

/// A profile path `P` and the generation links beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    path: PathBuf,
}

impl Profile {
    /// A profile at `path` (which may not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Profile { path: path.into() }
    }

    /// The profile symlink `P`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> Result<&Path> {
        match self.path.parent() {
            Some(p) if p.as_os_str().is_empty() => Ok(Path::new(".")),
            Some(p) => Ok(p),
            None => Err(ProfileError::BadPath(self.path.clone())),
        }
    }

    fn name(&self) -> Result<String> {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| ProfileError::BadPath(self.path.clone()))
    }

    /// The link of generation `n`: `P-n-link`.
    pub fn link_of(&self, n: u64) -> Result<PathBuf> {
        Ok(self.dir()?.join(format!("{}-{n}-link", self.name()?)))
    }

    /// Parses `P-N-link` names; `None` for anything else in the folder.
    fn parse_link_name(&self, file_name: &str) -> Option<u64> {
        let name = self.name().ok()?;
        let rest = file_name.strip_prefix(&name)?.strip_prefix('-')?;
        let digits = rest.strip_suffix("-link")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The current generation number, `None` when `P` does not exist.
    ///
    /// A `P` that is not a symlink, or points at anything but an existing generation
    /// link of this profile, is reported as corrupt rather than guessed at.
    pub fn current(&self) -> Result<Option<u64>> {
        let meta = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("cannot read profile", &self.path)(e)),
        };
        let corrupt = |reason: String| ProfileError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        if !meta.file_type().is_symlink() {
            return Err(corrupt("it is not a symlink".into()));
        }
        let target =
            std::fs::read_link(&self.path).map_err(io_err("cannot read profile", &self.path))?;
        let dir = self.dir()?;
        // Old Nix wrote absolute targets; accept them when they stay in the same folder.
        let same_dir = match target.parent() {
            None => true,
            Some(p) if p.as_os_str().is_empty() => true,
            Some(p) => same_file(p, dir),
        };
        let number = target
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| self.parse_link_name(n))
            .filter(|_| same_dir)
            .ok_or_else(|| {
                corrupt(format!(
                    "it points to `{}`, which is not a generation link `{}-N-link`",
                    target.display(),
                    self.name().unwrap_or_default()
                ))
            })?;
        let link = self.link_of(number)?;
        match std::fs::symlink_metadata(&link) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(corrupt(format!(
                    "it points to generation {number}, whose link `{}` is missing",
                    link.display()
                )))
            }
            Err(e) => return Err(io_err("cannot read generation link", &link)(e)),
        }
        Ok(Some(number))
    }

    /// Every generation, oldest first, with the current one marked.
    pub fn generations(&self) -> Result<Vec<Generation>> {
        let current = self.current()?;
        let dir = self.dir()?;
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("cannot list profile folder", dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("cannot list profile folder", dir))?;
            let Some(number) = entry
                .file_name()
                .to_str()
                .and_then(|n| self.parse_link_name(n))
            else {
                continue;
            };
            let link = entry.path();
            let meta = match std::fs::symlink_metadata(&link) {
                Ok(m) => m,
                // Deleted between listing and reading: not a generation any more.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("cannot read generation link", &link)(e)),
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            let target =
                std::fs::read_link(&link).map_err(io_err("cannot read generation link", &link))?;
            out.push(Generation {
                number,
                link,
                target,
                created: meta.mtime(),
                current: current == Some(number),
            });
        }
        out.sort_by_key(|g| g.number);
        Ok(out)
    }

    /// One generation by number.
    pub fn generation(&self, number: u64) -> Result<Generation> {
        self.generations()?
            .into_iter()
            .find(|g| g.number == number)
            .ok_or_else(|| ProfileError::NoSuchGeneration {
                profile: self.path.clone(),
                number,
            })
    }

    /// The number a new generation gets: highest existing + 1 (holes are never refilled).
    pub fn next_number(&self) -> Result<u64> {
        Ok(self.generations()?.last().map_or(1, |g| g.number + 1))
    }

    /// Creates the link of a new generation pointing at `target`, without switching to it.
    ///
    /// `make_link(link, target)` creates the link; engines pass one that also registers it
    /// as a garbage-collector root (see [`atomic_symlink`] for the plain version). Fails
    /// before touching anything when the profile is corrupt.
    pub fn add_generation(
        &self,
        target: &Path,
        make_link: &dyn Fn(&Path, &Path) -> io::Result<()>,
    ) -> Result<u64> {
        let number = self.next_number()?;
        let link = self.link_of(number)?;
        let dir = self.dir()?;
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io_err("cannot create profile folder", dir))?;
        }
        make_link(&link, target).map_err(io_err("cannot create generation link", &link))?;
        Ok(number)
    }

    /// Points `P` at generation `number` by one atomic rename; returns the previous one.
    pub fn switch_to(&self, number: u64) -> Result<Option<u64>> {
        let previous = self.current()?;
        let link = self.link_of(number)?;
        if std::fs::symlink_metadata(&link).is_err() {
            return Err(ProfileError::NoSuchGeneration {
                profile: self.path.clone(),
                number,
            });
        }
        let relative = link
            .file_name()
            .ok_or_else(|| ProfileError::BadPath(link.clone()))?;
        atomic_symlink(&self.path, Path::new(relative))
            .map_err(io_err("cannot switch profile", &self.path))?;
        Ok(previous)
    }

    /// The generation `--rollback` goes to: the highest one below the current.
    pub fn previous_generation(&self) -> Result<u64> {
        let gens = self.generations()?;
        let current = gens
            .iter()
            .find(|g| g.current)
            .ok_or_else(|| ProfileError::Empty(self.path.clone()))?
            .number;
        gens.iter()
            .rev()
            .find(|g| g.number < current)
            .map(|g| g.number)
            .ok_or_else(|| ProfileError::NoOlderGeneration {
                profile: self.path.clone(),
                current,
            })
    }

    /// Removes the links of the selected generations (never the current one); returns
    /// the numbers removed. The store paths stay until the next garbage collection.
    pub fn delete(&self, selection: &DeleteSelection, now: SystemTime) -> Result<Vec<u64>> {
        let gens = self.generations()?;
        let current = gens.iter().find(|g| g.current).map(|g| g.number);
        let doomed: Vec<u64> = match selection {
            DeleteSelection::Numbers(numbers) => {
                for &n in numbers {
                    if Some(n) == current {
                        return Err(ProfileError::DeleteCurrent {
                            profile: self.path.clone(),
                            number: n,
                        });
                    }
                    if !gens.iter().any(|g| g.number == n) {
                        return Err(ProfileError::NoSuchGeneration {
                            profile: self.path.clone(),
                            number: n,
                        });
                    }
                }
                numbers.clone()
            }
            DeleteSelection::KeepLast(keep) => {
                let cut = gens.len().saturating_sub(*keep);
                gens[..cut].iter().map(|g| g.number).collect()
            }
            DeleteSelection::OlderThan(age) => {
                let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
                let limit = now - age.as_secs() as i64;
                gens.iter()
                    .filter(|g| g.created < limit)
                    .map(|g| g.number)
                    .collect()
            }
        };
        let mut removed = Vec::new();
        for n in doomed {
            if Some(n) == current {
                continue;
            }
            let link = self.link_of(n)?;
            match std::fs::remove_file(&link) {
                Ok(()) => removed.push(n),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("cannot remove generation link", &link)(e)),
            }
        }
        removed.sort_unstable();
        removed.dedup();
        Ok(removed)
    }
}

/// An exclusive lock on a profile (`P.lock`, the same `flock` `nix-env` takes), held while
/// generations are created and switched so concurrent applies cannot race.
#[derive(Debug)]
pub struct ProfileLock {
    _file: std::fs::File,
}

impl Profile {
    /// Takes the profile's lock, waiting for another holder (Strata or `nix-env`).
    pub fn lock(&self) -> Result<ProfileLock> {
        self.lock_with(libc::LOCK_EX)
    }

    /// Takes the lock only if it is free (`None` when someone holds it).
    pub fn try_lock(&self) -> Result<Option<ProfileLock>> {
        match self.lock_with(libc::LOCK_EX | libc::LOCK_NB) {
            Ok(l) => Ok(Some(l)),
            Err(ProfileError::Io { source, .. }) if source.kind() == io::ErrorKind::WouldBlock => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn lock_with(&self, op: libc::c_int) -> Result<ProfileLock> {
        use std::os::fd::AsRawFd;
        let mut path = self.path.clone().into_os_string();
        path.push(".lock");
        let path = PathBuf::from(path);
        let dir = self.dir()?;
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io_err("cannot create profile folder", dir))?;
        }
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io_err("cannot create profile lock", &path))?;
            // SAFETY: flock on a descriptor we own; no memory is shared.
            if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(io_err("cannot lock profile", &path)(err));
            }
            // Nix deletes its lock files when done; a lock on a deleted file protects
            // nothing, so lock the file that is there now instead.
            let ours = file
                .metadata()
                .map_err(io_err("cannot lock profile", &path))?;
            match std::fs::metadata(&path) {
                Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                    return Ok(ProfileLock { _file: file })
                }
                _ => continue,
            }
        }
    }
}

/// Makes `link` point at `target` atomically: a temporary symlink beside it, renamed over it.
pub fn atomic_symlink(link: &Path, target: &Path) -> io::Result<()> {
    let dir = link.parent().unwrap_or(Path::new("."));
    let name = link
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "link has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    if let Err(e) = std::fs::rename(&tmp, link) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => a == b,
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DD HH:MM:SS` in the local time zone.
pub fn format_local_time(secs: i64) -> String {
    // SAFETY: localtime_r only writes into the `tm` we own.
    let tm = unsafe {
        let t: libc::time_t = secs as libc::time_t;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// One `--list-generations` line exactly as `nix-env` prints it (trailing spaces kept).
pub fn nix_env_line(g: &Generation) -> String {
    format!(
        "{:>4}   {}   {}",
        g.number,
        g.date(),
        if g.current { "(current)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(link: &Path, target: &Path) -> io::Result<()> {
        atomic_symlink(link, target)
    }

    fn setup() -> (tempfile::TempDir, Profile) {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::new(dir.path().join("p"));
        (dir, p)
    }

    fn numbers(p: &Profile) -> Vec<(u64, bool)> {
        p.generations()
            .unwrap()
            .iter()
            .map(|g| (g.number, g.current))
            .collect()
    }

    #[test]
    fn new_generations_follow_nix_env_numbering() {
        let (_d, p) = setup();
        assert_eq!(p.current().unwrap(), None);
        for (i, t) in ["/nix/store/a", "/nix/store/b", "/nix/store/c"]
            .iter()
            .enumerate()
        {
            let n = p.add_generation(Path::new(t), &plain).unwrap();
            assert_eq!(n, i as u64 + 1);
            p.switch_to(n).unwrap();
        }
        assert_eq!(std::fs::read_link(p.path()).unwrap(), Path::new("p-3-link"));
        assert_eq!(
            std::fs::read_link(p.link_of(2).unwrap()).unwrap(),
            Path::new("/nix/store/b")
        );
        assert_eq!(numbers(&p), vec![(1, false), (2, false), (3, true)]);
        // Delete 2, roll back skips it; the next generation continues from the highest.
        assert_eq!(
            p.delete(&DeleteSelection::Numbers(vec![2]), SystemTime::now())
                .unwrap(),
            vec![2]
        );
        assert_eq!(p.previous_generation().unwrap(), 1);
        assert_eq!(p.next_number().unwrap(), 4);
    }

    #[test]
    fn never_deletes_the_current_generation() {
        let (_d, p) = setup();
        for t in ["/x/a", "/x/b", "/x/c"] {
            let n = p.add_generation(Path::new(t), &plain).unwrap();
            p.switch_to(n).unwrap();
        }
        p.switch_to(2).unwrap();
        let err = p
            .delete(&DeleteSelection::Numbers(vec![2]), SystemTime::now())
            .unwrap_err();
        assert!(matches!(err, ProfileError::DeleteCurrent { number: 2, .. }));
        assert_eq!(
            p.delete(&DeleteSelection::KeepLast(1), SystemTime::now())
                .unwrap(),
            vec![1]
        );
        assert_eq!(numbers(&p), vec![(2, true), (3, false)]);
        let later = SystemTime::now() + Duration::from_secs(40 * 86_400);
        let age = DeleteSelection::parse_age("30d").unwrap();
        assert_eq!(
            p.delete(&DeleteSelection::OlderThan(age), later).unwrap(),
            vec![3]
        );
        assert_eq!(numbers(&p), vec![(2, true)]);
    }

    #[test]
    fn rollback_from_the_oldest_fails() {
        let (_d, p) = setup();
        let n = p.add_generation(Path::new("/x/a"), &plain).unwrap();
        p.switch_to(n).unwrap();
        assert!(matches!(
            p.previous_generation(),
            Err(ProfileError::NoOlderGeneration { current: 1, .. })
        ));
        assert!(matches!(
            p.switch_to(7),
            Err(ProfileError::NoSuchGeneration { number: 7, .. })
        ));
    }

    #[test]
    fn corrupt_profiles_are_reported() {
        let (d, p) = setup();
        std::os::unix::fs::symlink("elsewhere", p.path()).unwrap();
        let msg = p.generations().unwrap_err().to_string();
        assert!(msg.contains("not a generation link"), "{msg}");
        std::fs::remove_file(p.path()).unwrap();
        std::os::unix::fs::symlink("p-9-link", p.path()).unwrap();
        let msg = p.current().unwrap_err().to_string();
        assert!(
            msg.contains("generation 9") && msg.contains("missing"),
            "{msg}"
        );
        std::fs::remove_file(p.path()).unwrap();
        std::fs::write(p.path(), "x").unwrap();
        let msg = p.current().unwrap_err().to_string();
        assert!(msg.contains("not a symlink"), "{msg}");
        assert!(p.add_generation(Path::new("/x"), &plain).is_err());
        assert!(!d.path().join("p-1-link").exists());
    }

    #[test]
    fn reads_absolute_targets_and_ignores_unrelated_files() {
        let (d, p) = setup();
        std::os::unix::fs::symlink("/x/a", d.path().join("p-5-link")).unwrap();
        std::os::unix::fs::symlink("/x/b", d.path().join("p-x-link")).unwrap();
        std::os::unix::fs::symlink("/x/c", d.path().join("pp-6-link")).unwrap();
        std::os::unix::fs::symlink(d.path().join("p-5-link"), p.path()).unwrap();
        assert_eq!(numbers(&p), vec![(5, true)]);
    }

    #[test]
    fn lock_is_exclusive() {
        let (_d, p) = setup();
        let held = p.lock().unwrap();
        assert!(p.try_lock().unwrap().is_none());
        drop(held);
        assert!(p.try_lock().unwrap().is_some());
        // The lock file is not mistaken for a generation.
        assert!(p.generations().unwrap().is_empty());
    }

    #[test]
    fn nix_env_line_format() {
        let g = Generation {
            number: 3,
            link: PathBuf::new(),
            target: PathBuf::new(),
            created: 0,
            current: true,
        };
        let line = nix_env_line(&g);
        assert!(line.starts_with("   3   "), "{line:?}");
        assert!(line.ends_with("   (current)"), "{line:?}");
        assert_eq!(line.len(), 4 + 3 + 19 + 3 + 9);
    }
}
