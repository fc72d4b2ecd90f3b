//! The corpus the analyzer's property tests mutate, loaded once per test binary.

use std::path::PathBuf;

/// `../shared/corpus`, found from this crate upwards (or `STRATA_SHARED`).
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_SHARED") {
        return PathBuf::from(dir).join("corpus");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/corpus"))
        .find(|dir| dir.is_dir())
        .expect("../shared/corpus beside the checkout")
}

/// The texts of the corpus's `.nix` files shorter than `max_len` (small files keep each
/// case fast; mutations bring the variety), sorted so runs are reproducible.
pub fn small_corpus_files(max_len: usize) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(corpus_dir())
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "nix"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|text| text.len() < max_len)
        .collect();
    files.sort();
    files
}
