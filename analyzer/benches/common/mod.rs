//! What the parser benchmarks share: the corpus they parse.

use std::path::PathBuf;

/// Every `.nix` file of `../shared/corpus` (or `$STRATA_SHARED/corpus`), in name order.
pub fn corpus() -> Vec<String> {
    let dir = match std::env::var_os("STRATA_SHARED") {
        Some(dir) => PathBuf::from(dir).join("corpus"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("shared/corpus"))
            .find(|dir| dir.is_dir())
            .expect("../shared/corpus beside the checkout"),
    };
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "nix"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}
