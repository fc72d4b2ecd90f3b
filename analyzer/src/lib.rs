//! Strata's analyzer: the Nix syntax tree, the incremental (salsa) database over it,
//! and one pure function per editor feature. No file or network IO lives here.

pub mod builtins;
pub mod db;
pub mod def;
pub mod diagnostics;
pub mod ide;
pub mod settings;
pub mod syntax;
