//! One module per subcommand; each exposes `Args` and `run`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod check;
pub mod lsp;
pub mod parse;

/// Dispatches the parsed command line to its subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _global = &cli.global;
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Parse(args) => parse::run(args),
    }
}
