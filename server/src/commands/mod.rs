//! One module per subcommand; each exposes `Args` and `run`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod apply;
pub mod build;
pub mod check;
pub mod diff;
pub mod drv;
pub mod eval;
pub mod flake;
pub mod generations;
pub mod hash;
pub mod instantiate;
pub mod log;
pub mod lsp;
pub mod parse;
pub mod rollback;
pub mod store;

/// Dispatches the parsed command line to its subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Lsp(args) => lsp::run(args, global),
        Command::Log(args) => log::run(args, global),
        Command::Parse(args) => parse::run(args),
        Command::Hash(args) => hash::run(args),
        Command::Store(args) => store::run(args, global),
        Command::Drv(args) => drv::run(args),
        Command::Build(args) => build::run(args, global),
        Command::Apply(args) => apply::run(args, global),
        Command::Rollback(args) => rollback::run(args, global),
        Command::Generations(args) => generations::run(args, global),
        Command::Diff(args) => diff::run(args, global),
        Command::Eval(args) => eval::run(args),
        Command::Instantiate(args) => instantiate::run(args, global.store_dir.clone()),
        Command::Flake(args) => flake::run(args),
    }
}
