//! `flake.lock` reading and lock/`flake.nix` drift checks.

mod json_spans;
pub mod lock;
pub mod summary;

pub use json_spans::{JsonSpans, MemberSpan};
pub use lock::{
    position_of, InputEdge, InputTreeEntry, InputTreeTarget, LockError, LockErrorKind, LockFile,
    LockNode, Position, ResolveError,
};
pub use summary::{
    check_path_inputs, lock_info, lock_state, lock_state_with_path_checks, PathCheck,
};
