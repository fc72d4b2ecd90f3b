//! File system helpers for store trees: canonical metadata and removal of read-only trees.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Makes a tree look like every store path does: mode 0444 or 0555 (executables and
/// directories), no setuid/setgid/sticky, modification time 1. Directories are done after
/// their children, so the walk never needs write permission it has just removed.
pub fn canonicalise(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    let ft = meta.file_type();
    if ft.is_dir() {
        for entry in fs::read_dir(path)? {
            canonicalise(&entry?.path())?;
        }
    }
    if !ft.is_symlink() {
        let mode = meta.permissions().mode();
        let want = if ft.is_dir() || mode & 0o100 != 0 {
            0o555
        } else {
            0o444
        };
        if mode & 0o7777 != want {
            fs::set_permissions(path, fs::Permissions::from_mode(want))?;
        }
    }
    set_mtime_one(path)
}

/// Sets atime and mtime to 1 (the epoch plus one second) without following symlinks.
pub fn set_mtime_one(path: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    let times = [
        libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        },
    ];
    // SAFETY: `c` is a valid NUL-terminated string and `times` has the two entries utimensat reads.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes a file, symlink or directory tree, first making read-only directories writable.
/// A missing path is not an error.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        if meta.permissions().mode() & 0o700 != 0o700 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
        }
        for entry in fs::read_dir(path)? {
            remove_tree(&entry?.path())?;
        }
        fs::remove_dir(path)
    } else {
        fs::remove_file(path)
    }
}

/// Copies a tree (files, directories, symlinks as symlinks), keeping the owner-executable bit.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)
    } else if ft.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if ft.is_file() {
        fs::copy(from, to)?;
        let exec = meta.permissions().mode() & 0o100 != 0;
        fs::set_permissions(
            to,
            fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }),
        )
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: unsupported file type (only files, directories and symlinks can be stored)",
                from.display()
            ),
        ))
    }
}
