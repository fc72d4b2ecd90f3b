//! `strata`: the Nix language server and configuration tool (the binary's edge).

mod allocator;
mod cli;
mod commands;
mod engine_cli;
mod lsp;
mod progress;

use clap::Parser;

#[cfg(feature = "alloc-stats")]
mod alloc_stats;

/// mimalloc (see `allocator`); `strata lsp` turns transparent huge pages off for itself
/// (see `commands::lsp`).
#[cfg(not(feature = "alloc-stats"))]
#[global_allocator]
static GLOBAL: allocator::SmallFirst = allocator::SmallFirst;

#[cfg(feature = "alloc-stats")]
#[global_allocator]
static GLOBAL: alloc_stats::Counting = alloc_stats::Counting;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_tracing();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", render(&err));
            std::process::ExitCode::FAILURE
        }
    };
    #[cfg(feature = "alloc-stats")]
    alloc_stats::report();
    code
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
