//! Option schemas of NixOS and home-manager module trees: the data ([`schema`]) and a
//! fast static extractor ([`extract`]) that needs no Nix evaluator. The caller reads the
//! files (through [`SourceTree`]); nothing here does IO.

mod eval;
pub mod extract;
mod prims;
pub mod schema;

#[cfg(test)]
mod tests;

pub use eval::SourceTree;
pub use extract::{extract, ExtractConfig, ExtractStats};
pub use rowan::TextRange;
pub use schema::{
    Child, Declaration, Lookup, OptionDecl, OptionPath, OptionShim, OptionType, Schema, Segment,
    ShimKind, TypeShape,
};
