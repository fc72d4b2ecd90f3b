//! Helpers shared by the end-to-end tests: where the built binary and `../shared` are.

use std::path::PathBuf;

/// The `strata` binary built by cargo for this test run.
pub fn strata_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_BIN") {
        return PathBuf::from(p);
    }
    // tests/ -> target dir: the test executable lives in target/<profile>/deps.
    let mut exe = std::env::current_exe().expect("current_exe");
    exe.pop();
    if exe.ends_with("deps") {
        exe.pop();
    }
    let bin = exe.join("strata");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p strata` (scripts/test does)",
        bin.display()
    );
    bin
}

/// The repository root (the parent of `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `../shared` beside the repository: read-only data for tests and benchmarks.
pub fn shared_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_SHARED") {
        return PathBuf::from(p);
    }
    // `../shared` beside the checkout (CI); a worktree may sit one level deeper.
    let beside = repo_root().parent().unwrap().join("shared");
    repo_root()
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared"))
        .find(|dir| dir.join("conformance").is_dir())
        .unwrap_or(beside)
}
pub mod lsp;
