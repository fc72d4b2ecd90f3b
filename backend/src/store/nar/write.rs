//! Serialising a file tree to NAR, streamed, and hashing it without holding it in memory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

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

/// Size of the chunks passed from the reading thread to the writing one: large enough that
/// the hasher stays in its fast loop and syscalls are rare, small enough to stay in cache.
const CHUNK: usize = 256 << 10;
/// Chunks in flight: the reader can run this far ahead of the writer.
const CHUNKS: usize = 4;

/// A chunk of NAR bytes: a buffer of `CHUNK` bytes of which the first `len` are filled.
struct Chunk {
    buf: Box<[u8]>,
    len: usize,
}

/// Where full chunks go: another thread (pipelined) or straight into a writer.
trait ChunkSink {
    /// Takes the filled part of `chunk` and leaves `chunk` empty and ready for reuse.
    fn ship(&mut self, chunk: &mut Chunk) -> Result<(), Closed>;
}

/// Hands chunks to the writing thread and takes empty ones back.
struct ChannelSink {
    full: SyncSender<Chunk>,
    free: Receiver<Chunk>,
}

impl ChunkSink for ChannelSink {
    fn ship(&mut self, chunk: &mut Chunk) -> Result<(), Closed> {
        let next = self.free.recv().map_err(|_| Closed)?;
        let full = std::mem::replace(chunk, next);
        self.full.send(full).map_err(|_| Closed)
    }
}

/// Writes chunks to a writer in the same thread, remembering the first error.
struct DirectSink<'w, W: Write> {
    out: &'w mut W,
    written: u64,
    error: Option<io::Error>,
}

impl<W: Write> ChunkSink for DirectSink<'_, W> {
    fn ship(&mut self, chunk: &mut Chunk) -> Result<(), Closed> {
        let r = self.out.write_all(&chunk.buf[..chunk.len]);
        self.written += chunk.len as u64;
        chunk.len = 0;
        r.map_err(|e| {
            self.error = Some(e);
            Closed
        })
    }
}

/// Decides which directory entries (by path and metadata) a serialisation includes.
pub type PathFilter<'f> = &'f mut dyn FnMut(&Path, &fs::Metadata) -> bool;

/// Walks a tree and produces its NAR serialisation as a stream of chunks. File contents are
/// read straight into the chunks, so each byte is copied once, by the kernel.
struct Encoder<'a> {
    chunk: Chunk,
    sink: &'a mut dyn ChunkSink,
    filter: Option<PathFilter<'a>>,
}

/// The writer went away (its `write` failed); the reader stops quietly.
struct Closed;

enum ProduceError {
    Nar(NarWriteError),
    Closed,
}

impl From<NarWriteError> for ProduceError {
    fn from(e: NarWriteError) -> Self {
        ProduceError::Nar(e)
    }
}

impl From<Closed> for ProduceError {
    fn from(_: Closed) -> Self {
        ProduceError::Closed
    }
}

impl Encoder<'_> {
    fn ship(&mut self) -> Result<(), Closed> {
        self.sink.ship(&mut self.chunk)
    }

    fn raw(&mut self, mut bytes: &[u8]) -> Result<(), Closed> {
        while !bytes.is_empty() {
            let room = CHUNK - self.chunk.len;
            let n = room.min(bytes.len());
            self.chunk.buf[self.chunk.len..self.chunk.len + n].copy_from_slice(&bytes[..n]);
            self.chunk.len += n;
            bytes = &bytes[n..];
            if self.chunk.len == CHUNK {
                self.ship()?;
            }
        }
        Ok(())
    }

    fn pad(&mut self, len: u64) -> Result<(), Closed> {
        let pad = (8 - (len % 8) as usize) % 8;
        self.raw(&[0u8; 8][..pad])
    }

    fn token(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        self.raw(&(bytes.len() as u64).to_le_bytes())?;
        self.raw(bytes)?;
        self.pad(bytes.len() as u64)
    }

    fn tokens(&mut self, tokens: &[&str]) -> Result<(), Closed> {
        tokens.iter().try_for_each(|t| self.token(t.as_bytes()))
    }

    fn root(&mut self, path: &Path) -> Result<(), ProduceError> {
        self.token(MAGIC.as_bytes())?;
        let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
        self.node(path, &meta)?;
        if self.chunk.len > 0 {
            self.ship()?;
        }
        Ok(())
    }

    fn node(&mut self, path: &Path, meta: &fs::Metadata) -> Result<(), ProduceError> {
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(path).map_err(io_err(path))?;
            self.tokens(&["(", "type", "symlink", "target"])?;
            self.token(target.as_os_str().as_bytes())?;
            Ok(self.token(b")")?)
        } else if ft.is_file() {
            let executable = meta.permissions().mode() & 0o100 != 0;
            self.regular(path, executable, meta.len())
        } else if ft.is_dir() {
            self.tokens(&["(", "type", "directory"])?;
            let mut names: Vec<_> = fs::read_dir(path)
                .map_err(io_err(path))?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<Result<_, _>>()
                .map_err(io_err(path))?;
            names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for name in names {
                let child = path.join(&name);
                let meta = fs::symlink_metadata(&child).map_err(io_err(&child))?;
                if let Some(filter) = self.filter.as_mut() {
                    if !filter(&child, &meta) {
                        continue;
                    }
                }
                self.tokens(&["entry", "(", "name"])?;
                self.token(name.as_bytes())?;
                self.token(b"node")?;
                self.node(&child, &meta)?;
                self.token(b")")?;
            }
            Ok(self.token(b")")?)
        } else {
            Err(NarWriteError::UnsupportedFileType(path.to_owned()).into())
        }
    }

    fn regular(&mut self, path: &Path, executable: bool, len: u64) -> Result<(), ProduceError> {
        let mut file = File::open(path).map_err(io_err(path))?;
        let head: &[&str] = if executable {
            &["(", "type", "regular", "executable", "", "contents"]
        } else {
            &["(", "type", "regular", "contents"]
        };
        self.tokens(head)?;
        self.raw(&len.to_le_bytes())?;
        let mut left = len;
        while left > 0 {
            let room = CHUNK - self.chunk.len;
            let want = left.min(room as u64) as usize;
            let start = self.chunk.len;
            let n = match file.read(&mut self.chunk.buf[start..start + want]) {
                Ok(0) => return Err(NarWriteError::FileChanged(path.to_owned()).into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(path)(e).into()),
            };
            self.chunk.len += n;
            left -= n as u64;
            if self.chunk.len == CHUNK {
                self.ship()?;
            }
        }
        // A file that grew while we read it would give a NAR that matches neither version.
        if file.read(&mut [0u8; 1]).map_err(io_err(path))? != 0 {
            return Err(NarWriteError::FileChanged(path.to_owned()).into());
        }
        self.pad(len)?;
        Ok(self.token(b")")?)
    }
}

fn new_chunk() -> Chunk {
    Chunk {
        buf: vec![0u8; CHUNK].into_boxed_slice(),
        len: 0,
    }
}

/// Streams the NAR serialisation of `path` (not following a top-level symlink) to `out`;
/// returns the number of bytes written. A helper thread walks and reads the tree while this
/// one writes (usually: hashes), so reading overlaps hashing.
pub fn dump_path(path: &Path, out: &mut impl Write) -> Result<u64, NarWriteError> {
    let (full_tx, full_rx) = sync_channel::<Chunk>(CHUNKS);
    let (free_tx, free_rx) = sync_channel::<Chunk>(CHUNKS + 1);
    for _ in 0..CHUNKS {
        free_tx.send(new_chunk()).expect("channel has room");
    }
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut sink = ChannelSink {
                full: full_tx,
                free: free_rx,
            };
            Encoder {
                chunk: new_chunk(),
                sink: &mut sink,
                filter: None,
            }
            .root(path)
        });
        let mut written = 0u64;
        let mut write_error = None;
        for chunk in full_rx.iter() {
            if let Err(e) = out.write_all(&chunk.buf[..chunk.len]) {
                write_error = Some(e);
                break;
            }
            written += chunk.len as u64;
            // The producer may be done and gone; a failed send just drops the buffer.
            let _ = free_tx.send(Chunk { len: 0, ..chunk });
        }
        // Dropping our ends unblocks a producer waiting on us.
        drop(full_rx);
        drop(free_tx);
        let produced = producer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        if let Some(e) = write_error {
            return Err(io_err(path)(e));
        }
        match produced {
            Ok(()) => Ok(written),
            Err(ProduceError::Nar(e)) => Err(e),
            Err(ProduceError::Closed) => Err(io_err(path)(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "NAR writer stopped early",
            ))),
        }
    })
}

/// [`dump_path`] including only the entries `filter` accepts (called with each entry's path
/// and metadata below the root, as for `builtins.path`'s `filter`); runs in this thread.
pub fn dump_path_filtered(
    path: &Path,
    out: &mut impl Write,
    filter: PathFilter<'_>,
) -> Result<u64, NarWriteError> {
    let mut sink = DirectSink {
        out,
        written: 0,
        error: None,
    };
    let r = Encoder {
        chunk: new_chunk(),
        sink: &mut sink,
        filter: Some(filter),
    }
    .root(path);
    if let Some(e) = sink.error {
        return Err(io_err(path)(e));
    }
    match r {
        Ok(()) => Ok(sink.written),
        Err(ProduceError::Nar(e)) => Err(e),
        // A direct sink only closes after recording its write error, handled above.
        Err(ProduceError::Closed) => Err(io_err(path)(io::Error::other("NAR writer stopped"))),
    }
}

/// The NAR hash and NAR size of `path`, as `nix-hash --type <algo>` and `nix-store -q --size`.
pub fn hash_path(path: &Path, algo: HashAlgo) -> Result<(Hash, u64), NarWriteError> {
    let mut sink = NarHashSink::new(algo);
    dump_path(path, &mut sink)?;
    Ok(sink.finish())
}

/// [`hash_path`] over the entries `filter` accepts (see [`dump_path_filtered`]).
pub fn hash_path_filtered(
    path: &Path,
    algo: HashAlgo,
    filter: PathFilter<'_>,
) -> Result<(Hash, u64), NarWriteError> {
    let mut sink = NarHashSink::new(algo);
    dump_path_filtered(path, &mut sink, filter)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The NAR of a single regular file, built by hand.
    fn expected_file_nar(contents: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut tok = |b: &[u8]| {
            v.extend_from_slice(&(b.len() as u64).to_le_bytes());
            v.extend_from_slice(b);
            v.extend(std::iter::repeat_n(0u8, (8 - b.len() % 8) % 8));
        };
        for t in ["nix-archive-1", "(", "type", "regular", "contents"] {
            tok(t.as_bytes());
        }
        tok(contents);
        tok(b")");
        v
    }

    #[test]
    fn files_spanning_many_chunks() {
        let tmp = tempfile::tempdir().unwrap();
        for size in [0, 1, CHUNK - 60, CHUNK, 2 * CHUNK + 13] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
            let p = tmp.path().join(format!("f{size}"));
            fs::write(&p, &data).unwrap();
            let mut out = Vec::new();
            let n = dump_path(&p, &mut out).unwrap();
            assert_eq!(n as usize, out.len());
            assert!(out == expected_file_nar(&data), "size {size}");
        }
    }

    struct FailAfter(usize);

    impl Write for FailAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 < buf.len() {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writer_errors_stop_the_reader() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..20 {
            fs::write(tmp.path().join(format!("f{i}")), vec![1u8; CHUNK]).unwrap();
        }
        let e = dump_path(tmp.path(), &mut FailAfter(3 * CHUNK)).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        let e = dump_path(&tmp.path().join("missing"), &mut Vec::new()).unwrap_err();
        assert!(matches!(e, NarWriteError::Io { .. }));
    }
}
