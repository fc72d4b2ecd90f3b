//! `strata parse FILE...`: report syntax errors as `FILE:LINE:COL: message`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `strata parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Nix files to parse.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Parses each file; exit 1 if any has a syntax error.
pub fn run(_args: ParseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the parser is not built yet (issue 2)")
}
