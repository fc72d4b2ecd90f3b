//! `strata instantiate FILE [-A ATTRPATH]`: evaluate derivations, write their `.drv`
//! files into the store directory and print the `.drv` paths, like `nix-instantiate`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::eval::{run_with, EvalArgs, Output};

/// Arguments of `strata instantiate`: the same flags as `strata eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct InstantiateArgs {
    #[command(flatten)]
    pub eval: EvalArgs,
}

/// Writes the `.drv` files of the selected derivations; `store_dir` overrides where.
pub fn run(args: InstantiateArgs, store_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    run_with(args.eval, Output::Instantiate, store_dir)
}
