//! One module per subcommand; each exposes `Args` and `run`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod drv;
pub mod hash;
pub mod lsp;
pub mod parse;
pub mod store;

/// Dispatches the parsed command line to its subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Lsp(args) => lsp::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Hash(args) => hash::run(args),
        Command::Store(args) => store::run(args, &cli.global),
        Command::Drv(args) => drv::run(args),
    }
}
