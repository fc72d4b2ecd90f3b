//! Understanding `flake.nix` beside its `flake.lock`: flake references, the lock's data as
//! plain values, the model of what `flake.nix` declares, and the editor features built on
//! them (diagnostics, hover, inlay hints, completion, goto). Pure: the server reads the files.

pub mod completion;
pub mod diagnostics;
pub mod flake_ref;
pub mod goto;
pub mod hover;
pub mod inlay_hints;
pub mod lock_info;
pub mod model;
pub mod time;

#[cfg(test)]
mod test_fixtures;

pub use rowan::{TextRange, TextSize};

pub use completion::{flake_completions, FlakeCompletion, FlakeCompletionKind};
pub use diagnostics::{flake_diagnostics, lock_diagnostics, FlakeDiagnostic, Severity};
pub use flake_ref::{AttrValue, FlakeRef, FlakeRefError, SourceKind};
pub use goto::{goto_lock_node, LockTarget};
pub use hover::{flake_hover, FlakeHover};
pub use inlay_hints::{flake_inlay_hints, FlakeInlayHint};
pub use lock_info::{LockInfo, LockProblem, LockState, LockedInputInfo, SubInput, SubInputTarget};
pub use model::{FlakeModel, InputDecl, InputUse, Named, OutputsDecl, StrValue, SubInputDecl};
