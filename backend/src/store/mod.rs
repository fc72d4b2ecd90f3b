//! Store formats (base32, store paths, NAR, derivations) and the local store.

pub mod base32;
pub mod derivation;
pub mod fsutil;
pub mod hash;
pub mod nar;
pub mod path;
pub mod references;

pub use derivation::{Derivation, DerivationError, DerivationOutput, FixedOutputHash};
pub use hash::{Hash, HashAlgo, HashEncoding, HashError, Hasher};
pub use path::{FileIngestionMethod, StoreDir, StorePath, StorePathError};
