//! Store formats (base32, store paths, NAR, derivations) and the local store.

pub mod base32;
pub mod db;
pub mod derivation;
pub mod fsutil;
pub mod gc;
pub mod hash;
pub mod local;
pub mod lock;
pub mod nar;
pub mod path;
pub mod references;

pub use db::PathInfo;
pub use derivation::{Derivation, DerivationError, DerivationOutput, FixedOutputHash};
pub use gc::GcReport;
pub use hash::{Hash, HashAlgo, HashEncoding, HashError, Hasher};
pub use local::{LocalStore, StoreError, VerifyProblem, VerifyReport};
pub use path::{FileIngestionMethod, StoreDir, StorePath, StorePathError};
