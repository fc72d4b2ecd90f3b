//! The command line surface (DESIGN.md, "Command line"): users and tests rely on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Nix language server and configuration tool.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The native engine's store (default `$XDG_DATA_HOME/strata/store`).
    #[arg(long, global = true, env = "STRATA_STORE_DIR")]
    pub store_dir: Option<PathBuf>,
    /// Profiles, database and logs (default `$XDG_STATE_HOME/strata`).
    #[arg(long, global = true, env = "STRATA_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
}

/// One subcommand per module in `commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report every diagnostic of Nix files (folders are walked); exit 1 on any error.
    Check(crate::commands::check::CheckArgs),
    /// Run the language server on stdio.
    Lsp(crate::commands::lsp::LspArgs),
    /// Parse files; exit 0 iff there is no syntax error.
    Parse(crate::commands::parse::ParseArgs),
}
