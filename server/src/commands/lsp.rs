//! `strata lsp`: the language server on stdio.

use std::process::ExitCode;

/// Arguments of `strata lsp`.
#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for clients that always pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the server until the client sends `exit`.
pub fn run(_args: LspArgs, global: &crate::cli::GlobalArgs) -> anyhow::Result<ExitCode> {
    crate::lsp::run_stdio(crate::lsp::apply::Paths {
        state_dir: crate::engine_cli::state_dir(global),
        store_dir: crate::engine_cli::store_dir(global),
    })
}
