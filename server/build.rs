//! Link-time layout of the release binary on Linux, for the language server's memory.
//!
//! The one `strata` binary holds the evaluator, store, builder and server (10 MB of code).
//! The kernel maps file pages 64 KiB at a time around each one executed, and a language
//! server session runs code spread over most of the binary, so about 6 MiB of it became
//! resident for 1.6 MiB of functions actually run. `lsp-hot-symbols.txt` (written by
//! `scripts/lsp-hot-symbols`) lists those functions; lld places them together. Names the
//! binary no longer has are skipped silently: a stale list costs memory, never correctness.
//! Packed relative relocations (RELR) make the loader read 10 KB instead of 630 KB.
//!
//! Both flags are lld's, so they are passed only where rustc links with lld by default
//! (x86_64-unknown-linux-gnu from Rust 1.90; older toolchains use the system's GNU ld,
//! which rejects them). `STRATA_PLAIN_LINK=1` turns both off (e.g. for another linker).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=lsp-hot-symbols.txt");
    println!("cargo:rerun-if-env-changed=STRATA_PLAIN_LINK");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let wanted = var("PROFILE") == "release" && var("STRATA_PLAIN_LINK").is_empty();
    if !wanted || var("TARGET") != "x86_64-unknown-linux-gnu" || !rustc_links_with_lld() {
        return;
    }
    let list = format!("{}/lsp-hot-symbols.txt", var("CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={list}");
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}

/// Whether the compiler is Rust 1.90 or newer (`rustc 1.90.0 (…)`), the first to link
/// x86_64 Linux binaries with its own lld.
fn rustc_links_with_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut version = text.split_whitespace().nth(1).unwrap_or("").split('.');
    let mut part = || version.next().and_then(|p| p.parse::<u32>().ok());
    matches!((part(), part()), (Some(major), Some(minor)) if (major, minor) >= (1, 90))
}
