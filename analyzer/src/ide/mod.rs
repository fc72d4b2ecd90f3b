//! Editor features, one file each, returning plain structs (no lsp-types).
pub mod options;
