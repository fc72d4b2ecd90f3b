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
    purge_freed_segments_sooner();
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

/// mimalloc's `mi_option_set` and the index of `mi_option_arena_purge_mult` in its
/// `mi_option_t` (mimalloc 2.x `mimalloc.h`; `libmimalloc-sys` pins that version but does
/// not bind this option).
mod mimalloc_options {
    extern "C" {
        pub fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    pub const ARENA_PURGE_MULT: std::ffi::c_int = 24;
}

/// Lets mimalloc return freed segments to the OS after its page purge delay (10 ms) instead
/// of ten times that. Measured, not derived: in the language server's 200-edit benchmark on
/// a 1.1 MB file (each edit frees the old revision's trees), the default kept the peak RSS
/// at 207 MiB, this gives 124 MiB with unchanged latency; purging pages sooner instead
/// (`purge_delay` 0 or 1) gave the same RSS but made requests fault their scratch pages in
/// again (BENCHMARKS.md). `MIMALLOC_ARENA_PURGE_MULT` still wins.
fn purge_freed_segments_sooner() {
    if std::env::var_os("MIMALLOC_ARENA_PURGE_MULT").is_none() {
        // SAFETY: a plain setter of a global option, valid at any time.
        unsafe { mimalloc_options::mi_option_set(mimalloc_options::ARENA_PURGE_MULT, 1) };
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
