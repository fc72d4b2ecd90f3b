//! Understanding `flake.nix` beside its `flake.lock`: flake references, the lock's data as
//! plain values, and the editor features built on them. Pure: the server reads the files.

pub mod flake_ref;
pub mod lock_info;
pub mod time;

pub use flake_ref::{AttrValue, FlakeRef, FlakeRefError, SourceKind};
pub use rowan::{TextRange, TextSize};

pub use lock_info::{LockInfo, LockProblem, LockState, LockedInputInfo, SubInput, SubInputTarget};
