//! `strata`: the Nix language server and configuration tool (the binary's edge).

mod cli;
mod commands;
mod engine_cli;
mod lsp;
mod progress;

use clap::Parser;

/// The evaluator allocates many small objects; mimalloc handles that far better than glibc.
/// Built without transparent huge pages (`no_thp`): with them, every touched 2 MiB of an
/// arena became resident, which more than doubled the language server's peak RSS.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    purge_freed_memory_soon();
    let cli = cli::Cli::parse();
    init_tracing();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", render(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping a cause its parent already quoted (library
/// errors often end their message with their source's text).
fn render(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// mimalloc's `mi_option_set` and the index of `mi_option_purge_delay` in its `mi_option_t`
/// (mimalloc 2.x `mimalloc.h`; `libmimalloc-sys` pins that version but does not bind this
/// option).
mod mimalloc_options {
    extern "C" {
        pub fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    pub const PURGE_DELAY: std::ffi::c_int = 15;
}

/// Returns freed pages to the OS 1 ms after they become free instead of 10 ms (measured,
/// not derived: in the language server's edit loop each edit frees the old revision's
/// trees, built on several threads, and with the default delay the peak RSS of the
/// 200-edit benchmark was 207 MiB instead of 124 MiB). A delay of 0 gives the same RSS but
/// makes every request fault its scratch pages in again (`documentSymbol` on a 100 KB file
/// took three times as long); see BENCHMARKS.md. `MIMALLOC_PURGE_DELAY` still wins.
fn purge_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain setter of a global option, valid at any time.
        unsafe { mimalloc_options::mi_option_set(mimalloc_options::PURGE_DELAY, 1) };
    }
}

/// Logs go to stderr (stdout belongs to the LSP stream); filter with `STRATA_LOG`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
