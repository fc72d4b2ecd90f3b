//! `flake.lock` reading and lock/`flake.nix` drift checks.

mod json_spans;
pub mod lock;

pub use json_spans::{JsonSpans, MemberSpan};
pub use lock::{
    position_of, InputEdge, InputTreeEntry, InputTreeTarget, LockError, LockErrorKind, LockFile,
    LockNode, Position, ResolveError,
};
