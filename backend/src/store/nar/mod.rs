//! NAR, the Nix ARchive: a canonical serialisation of a file tree (regular files with an
//! executable bit, directories with sorted entries, symlinks), hashed to identify store paths.
//!
//! Every token is a byte string: a little-endian u64 length, the bytes, zero padding to 8.

mod unpack;
mod write;

pub use unpack::{unpack, NarUnpackError, SymlinkPolicy, UnpackOptions};
pub use write::{dump_path, hash_path, NarHashSink, NarWriteError};

/// The first token of every NAR.
pub const MAGIC: &str = "nix-archive-1";
