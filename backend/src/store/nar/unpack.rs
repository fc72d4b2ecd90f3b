//! Restoring a NAR stream into a directory, treating the stream as hostile.
//!
//! Every name is checked (no empty, `.`, `..`, `/` or NUL; strictly sorted, so no duplicates),
//! lengths are bounded before anything is allocated, padding must be zero, and files are created
//! with `create_new` below directories this function created itself, so nothing is ever written
//! through a symlink or outside the target.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::MAGIC;

/// What to do with symlinks whose target leaves the unpacked tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymlinkPolicy {
    /// Keep any target, as Nix does (store paths legitimately hold absolute symlinks).
    /// Symlinks are still never followed while unpacking.
    #[default]
    Any,
    /// Reject absolute targets and relative ones that could resolve outside the target
    /// (for archives from untrusted sources that will be browsed or executed in place).
    WithinRoot,
}

/// Limits and policies for [`unpack`].
#[derive(Debug, Clone, Copy)]
pub struct UnpackOptions {
    /// Symlink target policy.
    pub symlinks: SymlinkPolicy,
    /// Maximum directory nesting.
    pub max_depth: usize,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        UnpackOptions {
            symlinks: SymlinkPolicy::Any,
            max_depth: 512,
        }
    }
}

/// Longest entry name (Linux `NAME_MAX`).
const MAX_NAME: u64 = 255;
/// Longest symlink target (Linux `PATH_MAX`).
const MAX_TARGET: u64 = 4095;
/// Longest structural token (`directory` is the longest Nix writes).
const MAX_TOKEN: u64 = 64;

/// Why a NAR was rejected; nothing outside the target has been written.
#[derive(Debug, Error)]
pub enum NarUnpackError {
    /// Reading the stream or writing the tree failed.
    #[error("{path}: {source}")]
    Io {
        /// Where it happened.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The stream ended in the middle of the archive.
    #[error("NAR is truncated: the stream ended inside {0}")]
    Truncated(PathBuf),
    /// The stream does not start with `nix-archive-1`.
    #[error("not a NAR: missing the nix-archive-1 header")]
    BadMagic,
    /// A structural token other than the expected one.
    #[error("malformed NAR at {path}: expected {expected}, found {found:?}")]
    Unexpected {
        /// Where in the tree.
        path: PathBuf,
        /// What the format requires there.
        expected: &'static str,
        /// What was read (lossy, shortened).
        found: String,
    },
    /// A length field larger than its limit.
    #[error("malformed NAR at {path}: a {what} of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Where in the tree.
        path: PathBuf,
        /// Name, target or token.
        what: &'static str,
        /// The length read.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Non-zero padding bytes.
    #[error("malformed NAR at {0}: non-zero padding")]
    BadPadding(PathBuf),
    /// An entry name that could escape or is not a single component.
    #[error("NAR entry name {name:?} in {dir} is not allowed: {reason}")]
    BadName {
        /// The directory holding it.
        dir: PathBuf,
        /// The name (lossy).
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Entries out of order or duplicated.
    #[error("NAR entries in {dir} are not strictly sorted: {name:?} after {previous:?}")]
    Unsorted {
        /// The directory.
        dir: PathBuf,
        /// The earlier name.
        previous: String,
        /// The name that should have come first (or is a duplicate).
        name: String,
    },
    /// A symlink pointing outside the tree, rejected by [`SymlinkPolicy::WithinRoot`].
    #[error("symlink {path} -> {target:?} points outside the unpacked tree")]
    SymlinkEscape {
        /// The link.
        path: PathBuf,
        /// Its target (lossy).
        target: String,
    },
    /// Directories nested deeper than the limit.
    #[error("NAR nests directories deeper than {0} levels")]
    TooDeep(usize),
    /// The target already exists.
    #[error("{0} already exists; unpacking needs a fresh target")]
    TargetExists(PathBuf),
    /// Bytes after the end of the archive.
    #[error("trailing data after the end of the NAR")]
    TrailingData,
}

struct Reader<R: Read> {
    r: BufReader<R>,
    target: PathBuf,
    opts: UnpackOptions,
}

fn lossy(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(80)]).into_owned();
    if b.len() > 80 {
        s + "..."
    } else {
        s
    }
}

impl<R: Read> Reader<R> {
    fn read_exact(&mut self, buf: &mut [u8], at: &Path) -> Result<(), NarUnpackError> {
        self.r.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                NarUnpackError::Truncated(at.to_owned())
            } else {
                NarUnpackError::Io {
                    path: at.to_owned(),
                    source: e,
                }
            }
        })
    }

    fn u64(&mut self, at: &Path) -> Result<u64, NarUnpackError> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b, at)?;
        Ok(u64::from_le_bytes(b))
    }

    fn padding(&mut self, len: u64, at: &Path) -> Result<(), NarUnpackError> {
        let pad = ((8 - len % 8) % 8) as usize;
        let mut b = [0u8; 8];
        self.read_exact(&mut b[..pad], at)?;
        if b[..pad].iter().any(|&x| x != 0) {
            return Err(NarUnpackError::BadPadding(at.to_owned()));
        }
        Ok(())
    }

    fn bytes(
        &mut self,
        max: u64,
        what: &'static str,
        at: &Path,
    ) -> Result<Vec<u8>, NarUnpackError> {
        let len = self.u64(at)?;
        if len > max {
            return Err(NarUnpackError::TooLong {
                path: at.to_owned(),
                what,
                len,
                max,
            });
        }
        let mut v = vec![0u8; len as usize];
        self.read_exact(&mut v, at)?;
        self.padding(len, at)?;
        Ok(v)
    }

    fn token(&mut self, at: &Path) -> Result<Vec<u8>, NarUnpackError> {
        self.bytes(MAX_TOKEN, "token", at)
    }

    fn expect(&mut self, want: &'static str, at: &Path) -> Result<(), NarUnpackError> {
        let t = self.token(at)?;
        if t != want.as_bytes() {
            return Err(NarUnpackError::Unexpected {
                path: at.to_owned(),
                expected: want,
                found: lossy(&t),
            });
        }
        Ok(())
    }

    fn rel<'a>(&self, p: &'a Path) -> &'a Path {
        p.strip_prefix(&self.target).unwrap_or(p)
    }

    /// Reads one node (after its `(`) and creates it at `path`, which must not exist. A
    /// directory is only created and opened: its entries are read by [`Self::tree`], which keeps
    /// an explicit stack so hostile nesting cannot overflow the call stack.
    fn start_node(
        &mut self,
        path: &Path,
        depth: usize,
    ) -> Result<Option<DirFrame>, NarUnpackError> {
        let at = self.rel(path).to_owned();
        self.expect("type", &at)?;
        let kind = self.token(&at)?;
        match kind.as_slice() {
            b"regular" => self.regular(path, &at).map(|_| None),
            b"symlink" => {
                self.expect("target", &at)?;
                let target = self.bytes(MAX_TARGET, "symlink target", &at)?;
                self.expect(")", &at)?;
                if target.is_empty() || target.contains(&0) {
                    return Err(NarUnpackError::Unexpected {
                        path: at,
                        expected: "a non-empty symlink target without NUL",
                        found: lossy(&target),
                    });
                }
                if self.opts.symlinks == SymlinkPolicy::WithinRoot
                    && !target_stays_inside(&target, depth)
                {
                    return Err(NarUnpackError::SymlinkEscape {
                        path: at,
                        target: lossy(&target),
                    });
                }
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), path)
                    .map(|_| None)
                    .map_err(|source| NarUnpackError::Io {
                        path: path.to_owned(),
                        source,
                    })
            }
            b"directory" => {
                if depth > self.opts.max_depth {
                    return Err(NarUnpackError::TooDeep(self.opts.max_depth));
                }
                fs::create_dir(path).map_err(|source| NarUnpackError::Io {
                    path: path.to_owned(),
                    source,
                })?;
                Ok(Some(DirFrame {
                    path: path.to_owned(),
                    at,
                    depth,
                    previous: None,
                }))
            }
            _ => Err(NarUnpackError::Unexpected {
                path: at,
                expected: "regular, symlink or directory",
                found: lossy(&kind),
            }),
        }
    }

    /// Reads the root node (after its `(`) and everything below it.
    fn tree(&mut self, root: &Path) -> Result<(), NarUnpackError> {
        let mut stack: Vec<DirFrame> = self.start_node(root, 0)?.into_iter().collect();
        while let Some(frame) = stack.last_mut() {
            let at = frame.at.clone();
            let t = self.token(&at)?;
            match t.as_slice() {
                b")" => {
                    stack.pop();
                    if !stack.is_empty() {
                        // The `)` closing the entry that held this directory.
                        self.expect(")", &at)?;
                    }
                    continue;
                }
                b"entry" => {}
                _ => {
                    return Err(NarUnpackError::Unexpected {
                        path: at,
                        expected: "entry or )",
                        found: lossy(&t),
                    })
                }
            }
            self.expect("(", &at)?;
            self.expect("name", &at)?;
            let name = self.bytes(MAX_NAME, "name", &at)?;
            check_name(&name, &at)?;
            let frame = stack.last_mut().expect("loop condition");
            if let Some(prev) = &frame.previous {
                if prev.as_slice() >= name.as_slice() {
                    return Err(NarUnpackError::Unsorted {
                        dir: at,
                        previous: lossy(prev),
                        name: lossy(&name),
                    });
                }
            }
            let child = frame.path.join(std::ffi::OsStr::from_bytes(&name));
            let depth = frame.depth + 1;
            frame.previous = Some(name);
            self.expect("node", &at)?;
            self.expect("(", &at)?;
            match self.start_node(&child, depth)? {
                Some(dir) => stack.push(dir),
                None => self.expect(")", &at)?,
            }
        }
        Ok(())
    }

    fn regular(&mut self, path: &Path, at: &Path) -> Result<(), NarUnpackError> {
        let mut t = self.token(at)?;
        let mut executable = false;
        if t == b"executable" {
            executable = true;
            let marker = self.token(at)?;
            if !marker.is_empty() {
                return Err(NarUnpackError::Unexpected {
                    path: at.to_owned(),
                    expected: "an empty executable marker",
                    found: lossy(&marker),
                });
            }
            t = self.token(at)?;
        }
        if t != b"contents" {
            return Err(NarUnpackError::Unexpected {
                path: at.to_owned(),
                expected: "contents",
                found: lossy(&t),
            });
        }
        let len = self.u64(at)?;
        let io_err = |source| NarUnpackError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o755 } else { 0o644 })
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(io_err)?;
        let copied = io::copy(&mut (&mut self.r).take(len), &mut file).map_err(io_err)?;
        if copied != len {
            return Err(NarUnpackError::Truncated(at.to_owned()));
        }
        file.flush().map_err(io_err)?;
        self.padding(len, at)?;
        self.expect(")", at)
    }
}

/// A directory being filled by [`Reader::tree`].
struct DirFrame {
    path: PathBuf,
    at: PathBuf,
    depth: usize,
    previous: Option<Vec<u8>>,
}

fn check_name(name: &[u8], dir: &Path) -> Result<(), NarUnpackError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == b"." || name == b".." {
        "a relative directory reference"
    } else if name.contains(&b'/') {
        "contains '/'"
    } else if name.contains(&0) {
        "contains NUL"
    } else {
        return Ok(());
    };
    Err(NarUnpackError::BadName {
        dir: dir.to_owned(),
        name: lossy(name),
        reason,
    })
}

/// Whether a relative symlink target provably resolves inside the tree: leading `..`
/// components may climb at most to the root through real directories; after the first normal
/// component no `..` is allowed, because that component may itself be a symlink.
fn target_stays_inside(target: &[u8], depth: usize) -> bool {
    // A link at depth 0 is the root itself: any relative target is resolved outside it.
    if target.first() == Some(&b'/') || depth == 0 {
        return false;
    }
    // `depth` counts the link's own level: a link directly in the root has depth 1.
    let mut up_budget = depth.saturating_sub(1);
    let mut descended = false;
    for comp in target.split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if descended || up_budget == 0 {
                    return false;
                }
                up_budget -= 1;
            }
            _ => descended = true,
        }
    }
    true
}

/// Restores the NAR read from `nar` at `target` (which must not exist). On error the partial
/// tree is removed; nothing is ever created outside `target`.
pub fn unpack(nar: impl Read, target: &Path, opts: &UnpackOptions) -> Result<(), NarUnpackError> {
    if fs::symlink_metadata(target).is_ok() {
        return Err(NarUnpackError::TargetExists(target.to_owned()));
    }
    let mut r = Reader {
        r: BufReader::with_capacity(1 << 16, nar),
        target: target.to_owned(),
        opts: *opts,
    };
    let result = (|| {
        let root = PathBuf::new();
        let magic = r.bytes(MAX_TOKEN, "token", &root).map_err(|e| match e {
            NarUnpackError::Io { .. } => e,
            _ => NarUnpackError::BadMagic,
        })?;
        if magic != MAGIC.as_bytes() {
            return Err(NarUnpackError::BadMagic);
        }
        r.expect("(", &root)?;
        r.tree(target)?;
        let mut extra = [0u8; 1];
        match r.r.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(NarUnpackError::TrailingData),
            Err(source) => Err(NarUnpackError::Io { path: root, source }),
        }
    })();
    if result.is_err() {
        let _ = crate::store::fsutil::remove_tree(target);
    }
    result
}
