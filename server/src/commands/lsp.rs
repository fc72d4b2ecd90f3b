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
    disable_transparent_huge_pages();
    crate::lsp::run_stdio(crate::lsp::apply::Paths {
        state_dir: crate::engine_cli::state_dir(global),
        store_dir: crate::engine_cli::store_dir(global),
    })
}

/// Turns transparent huge pages off for this process. The allocator asks for them on its
/// arenas, and each touched 2 MiB then becomes resident: that more than doubled the
/// long-running server's peak RSS. Short batch commands (`strata eval`) keep them, since
/// fewer page faults make them faster. Failure only costs memory, so it is ignored.
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        tracing::debug!(
            "prctl(PR_SET_THP_DISABLE) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}
