//! Serialising a file tree to NAR, streamed, and hashing it without holding it in memory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::MAGIC;
use crate::store::hash::{Hash, HashAlgo, Hasher};

/// Why a tree could not be serialised.
#[derive(Debug, Error)]
pub enum NarWriteError {
    /// Reading the tree or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file is neither regular, directory nor symlink (socket, device, fifo).
    #[error("{0}: unsupported file type (NAR holds only files, directories and symlinks)")]
    UnsupportedFileType(PathBuf),
    /// A file's size changed while it was being read.
    #[error("{0}: file changed while it was being read")]
    FileChanged(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> NarWriteError + '_ {
    move |source| NarWriteError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Size of the read buffer for file contents: large reads keep the hasher in its fast loop.
const READ_BUF: usize = 1 << 20;

/// Writes NAR tokens to a sink and counts the bytes.
struct Encoder<'a, W: Write> {
    out: &'a mut W,
    written: u64,
    buf: Vec<u8>,
}

impl<W: Write> Encoder<'_, W> {
    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let pad = (8 - (len % 8) as usize) % 8;
        self.raw(&[0u8; 8][..pad])
    }

    fn token(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.raw(&(bytes.len() as u64).to_le_bytes())?;
        self.raw(bytes)?;
        self.pad(bytes.len() as u64)
    }

    fn tokens(&mut self, tokens: &[&str]) -> io::Result<()> {
        tokens.iter().try_for_each(|t| self.token(t.as_bytes()))
    }

    fn node(&mut self, path: &Path) -> Result<(), NarWriteError> {
        let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(path).map_err(io_err(path))?;
            self.tokens(&["(", "type", "symlink", "target"])
                .and_then(|_| self.token(target.as_os_str().as_bytes()))
                .and_then(|_| self.token(b")"))
                .map_err(io_err(path))
        } else if ft.is_file() {
            let executable = meta.permissions().mode() & 0o100 != 0;
            self.regular(path, executable, meta.len())
        } else if ft.is_dir() {
            self.tokens(&["(", "type", "directory"])
                .map_err(io_err(path))?;
            let mut names: Vec<_> = fs::read_dir(path)
                .map_err(io_err(path))?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<Result<_, _>>()
                .map_err(io_err(path))?;
            names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for name in names {
                self.tokens(&["entry", "(", "name"])
                    .and_then(|_| self.token(name.as_bytes()))
                    .and_then(|_| self.token(b"node"))
                    .map_err(io_err(path))?;
                self.node(&path.join(&name))?;
                self.token(b")").map_err(io_err(path))?;
            }
            self.token(b")").map_err(io_err(path))
        } else {
            Err(NarWriteError::UnsupportedFileType(path.to_owned()))
        }
    }

    fn regular(&mut self, path: &Path, executable: bool, len: u64) -> Result<(), NarWriteError> {
        let mut file = File::open(path).map_err(io_err(path))?;
        let head: &[&str] = if executable {
            &["(", "type", "regular", "executable", "", "contents"]
        } else {
            &["(", "type", "regular", "contents"]
        };
        self.tokens(head).map_err(io_err(path))?;
        self.raw(&len.to_le_bytes()).map_err(io_err(path))?;
        if self.buf.is_empty() && len > 0 {
            self.buf = vec![0u8; READ_BUF];
        }
        let mut left = len;
        while left > 0 {
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match file.read(&mut self.buf[..want]) {
                Ok(0) => return Err(NarWriteError::FileChanged(path.to_owned())),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(path)(e)),
            };
            self.out.write_all(&self.buf[..n]).map_err(io_err(path))?;
            self.written += n as u64;
            left -= n as u64;
        }
        // A file that grew while we read it would give a NAR that matches neither version.
        if file.read(&mut [0u8; 1]).map_err(io_err(path))? != 0 {
            return Err(NarWriteError::FileChanged(path.to_owned()));
        }
        self.pad(len).map_err(io_err(path))?;
        self.token(b")").map_err(io_err(path))
    }
}

/// Streams the NAR serialisation of `path` (not following a top-level symlink) to `out`;
/// returns the number of bytes written.
pub fn dump_path(path: &Path, out: &mut impl Write) -> Result<u64, NarWriteError> {
    let mut enc = Encoder {
        out,
        written: 0,
        buf: Vec::new(),
    };
    enc.token(MAGIC.as_bytes()).map_err(io_err(path))?;
    enc.node(path)?;
    Ok(enc.written)
}

/// The NAR hash and NAR size of `path`, as `nix-hash --type <algo>` and `nix-store -q --size`.
pub fn hash_path(path: &Path, algo: HashAlgo) -> Result<(Hash, u64), NarWriteError> {
    let mut sink = NarHashSink::new(algo);
    dump_path(path, &mut sink)?;
    Ok(sink.finish())
}

/// An `io::Write` sink that hashes and counts what is written (a NAR, usually).
pub struct NarHashSink {
    hasher: Hasher,
    size: u64,
}

impl NarHashSink {
    /// A sink hashing with `algo`.
    pub fn new(algo: HashAlgo) -> NarHashSink {
        NarHashSink {
            hasher: Hasher::new(algo),
            size: 0,
        }
    }

    /// The hash and byte count.
    pub fn finish(self) -> (Hash, u64) {
        (self.hasher.finish(), self.size)
    }
}

impl Write for NarHashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
