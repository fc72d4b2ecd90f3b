//! One module per subcommand; each exposes `Args` and `run`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod eval;
pub mod instantiate;
pub mod lsp;
pub mod parse;

/// Dispatches the parsed command line to its subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _global = &cli.global;
    match cli.command {
        Command::Lsp(args) => lsp::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Instantiate(args) => instantiate::run(args, _global.store_dir.clone()),
    }
}
