//! `strata`: the Nix language server and configuration tool (the binary's edge).

mod cli;
mod commands;
mod engine_cli;
mod lsp;
mod progress;

use clap::Parser;

#[cfg(feature = "alloc-stats")]
mod alloc_stats;

/// The evaluator allocates many small objects; mimalloc handles that far better than glibc.
/// `strata lsp` turns transparent huge pages off for itself (see `commands::lsp`).
#[cfg(not(feature = "alloc-stats"))]
#[global_allocator]
static GLOBAL: SmallFirst = SmallFirst;

/// mimalloc, calling its plain `mi_malloc` when the alignment asked for is one it gives
/// anyway (as Rust's own `System` does with `malloc`): the `mimalloc` crate always takes
/// the aligned entry point, a few more checks on every one of the evaluator's millions of
/// small allocations.
struct SmallFirst;

/// Blocks from `mi_malloc` are aligned to 16 bytes whenever their size allows it.
const MI_MAX_ALIGN: usize = 16;

// SAFETY: every path returns memory from mimalloc that `mi_free` releases, with at least
// the alignment asked for: `mi_malloc` aligns a block to 16 bytes when its size is a
// multiple of 16, and to the size's own alignment below that.
unsafe impl std::alloc::GlobalAlloc for SmallFirst {
    #[inline]
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        if l.align() <= MI_MAX_ALIGN && l.align() <= l.size() {
            unsafe { libmimalloc_sys::mi_malloc(l.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(l) }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        if l.align() <= MI_MAX_ALIGN && l.align() <= l.size() {
            unsafe { libmimalloc_sys::mi_zalloc(l.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _l: std::alloc::Layout) {
        unsafe { libmimalloc_sys::mi_free(p as *mut std::ffi::c_void) }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        if l.align() <= MI_MAX_ALIGN && l.align() <= new {
            unsafe { libmimalloc_sys::mi_realloc(p as *mut std::ffi::c_void, new) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
        }
    }
}

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
