//! Advisory file locks (`flock`): released when dropped or when the process dies, so a killed
//! process never leaves a lock behind.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// A held lock on a lock file.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

#[derive(Clone, Copy)]
enum Mode {
    Shared,
    Exclusive,
}

fn flock(path: &Path, mode: Mode, wait: bool) -> io::Result<Option<FileLock>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let mut op = match mode {
        Mode::Shared => libc::LOCK_SH,
        Mode::Exclusive => libc::LOCK_EX,
    };
    if !wait {
        op |= libc::LOCK_NB;
    }
    loop {
        // SAFETY: the descriptor is owned by `file`, which outlives the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(Some(FileLock {
                _file: file,
                path: path.to_owned(),
            }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if !wait => return Ok(None),
            _ => return Err(err),
        }
    }
}

impl FileLock {
    /// Waits for an exclusive lock on `path` (created if missing).
    pub fn exclusive(path: &Path) -> io::Result<FileLock> {
        flock(path, Mode::Exclusive, true).map(|l| l.expect("blocking flock returns a lock"))
    }

    /// Waits for a shared lock on `path` (created if missing).
    pub fn shared(path: &Path) -> io::Result<FileLock> {
        flock(path, Mode::Shared, true).map(|l| l.expect("blocking flock returns a lock"))
    }

    /// Takes an exclusive lock if nobody holds one; `None` if it is held.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<FileLock>> {
        flock(path, Mode::Exclusive, false)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("l");
        let held = FileLock::exclusive(&p).unwrap();
        // flock locks belong to the open file description, so a second open conflicts.
        assert!(FileLock::try_exclusive(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_exclusive(&p).unwrap().is_some());
        let _s1 = FileLock::shared(&p).unwrap();
        let _s2 = FileLock::shared(&p).unwrap();
        assert!(FileLock::try_exclusive(&p).unwrap().is_none());
    }
}
