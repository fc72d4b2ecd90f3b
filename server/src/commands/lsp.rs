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
    tune_allocator_for_server();
    crate::lsp::run_stdio(crate::lsp::apply::Paths {
        state_dir: crate::engine_cli::state_dir(global),
        store_dir: crate::engine_cli::store_dir(global),
    })
}

/// Turns transparent huge pages off for `strata lsp` before anything allocates.
///
/// mimalloc asks for huge pages on its arena (`MADV_HUGEPAGE`) when it first allocates,
/// which happens before `main` (the runtime's own start-up); the first 2 MiB pages it
/// touched then stayed resident for the whole session (an idle server: 15 MiB, 9 MiB
/// without). `prctl` from `main` came too late for them, so this runs as an ELF
/// constructor ordered before mimalloc's (priority 101) and before Rust's runtime setup.
/// It reads `argv` without allocating; any argument spelled `lsp` counts (a batch command
/// given such an argument only loses huge pages, never correctness).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array.00090"]
static DISABLE_THP_BEFORE_ALLOCATOR: extern "C" fn(
    libc::c_int,
    *const *const libc::c_char,
    *const *const libc::c_char,
) = disable_thp_for_server;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn disable_thp_for_server(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    _envp: *const *const libc::c_char,
) {
    if argv.is_null() {
        return;
    }
    for i in 1..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: glibc (not every libc) passes constructors argc/argv: `argc` valid pointers
        // to NUL-terminated strings.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        if arg.to_bytes() == b"lsp" {
            // SAFETY: plain integer arguments; touches no memory of ours.
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
            return;
        }
    }
}

/// mimalloc's `mi_option_purge_delay` (v3's `mi_option_t`; the crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tunes the allocator for a long-running server rather than a batch command.
///
/// - Transparent huge pages off: the allocator asks for them on its arenas, and each
///   touched 2 MiB then became resident, which more than doubled the server's peak RSS.
/// - Freed memory goes back to the OS at once instead of after 10 ms: requests and the
///   diagnostics thread allocate in different heaps, and memory one of them freed but kept
///   was not reusable by the other, so each edit of a large file left about a third more
///   resident (212 vs 141 MiB peak in the 200-edit loop), for about 20% more CPU per edit.
///
/// Batch commands (`strata eval`) keep the defaults: fewer page faults make them faster.
/// Failing only costs memory, so errors are logged and ignored.
fn tune_allocator_for_server() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        tracing::debug!(
            "prctl(PR_SET_THP_DISABLE) failed: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: setting an option is thread-safe and takes plain integers.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}
