//! Link-time layout of the release binary on Linux, for the language server's memory.
//!
//! The one `strata` binary holds the evaluator, store, builder and server (10 MB of code).
//! The kernel maps file pages 64 KiB at a time around each one executed, and a language
//! server session runs code spread over most of the binary, so about 6 MiB of it became
//! resident for 1.6 MiB of functions actually run. `lsp-hot-symbols.txt` (written by
//! `scripts/lsp-hot-symbols`) lists those functions; lld places them together. Names the
//! binary no longer has are skipped silently: a stale list costs memory, never correctness.
//! Packed relative relocations (RELR) make the loader read 10 KB instead of 630 KB.
//! `STRATA_PLAIN_LINK=1` turns both off (e.g. for a linker other than lld).

fn main() {
    println!("cargo:rerun-if-changed=lsp-hot-symbols.txt");
    println!("cargo:rerun-if-env-changed=STRATA_PLAIN_LINK");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let lld_default = var("TARGET") == "x86_64-unknown-linux-gnu";
    if var("PROFILE") != "release" || !lld_default || !var("STRATA_PLAIN_LINK").is_empty() {
        return;
    }
    let list = format!("{}/lsp-hot-symbols.txt", var("CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={list}");
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
