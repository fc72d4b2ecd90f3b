//! Strata's backend: evaluate Nix, build into a store, switch and roll back profiles.

pub mod build;
pub mod engine;
pub mod eval;
pub mod flake;
pub mod options_eval;
pub mod options_source;
pub mod profile;
pub mod store;
