//! Every `.nix` file under `../shared/corpus` (nixpkgs `lib/`, home-manager modules)
//! parses with zero errors, and the tree's text is the file, byte for byte.

use strata_analyzer::syntax;
use strata_tests::shared_dir;

#[test]
fn corpus_parses_cleanly_and_round_trips() {
    let corpus = shared_dir().join("corpus");
    let mut files = 0;
    let mut failures = Vec::new();
    for entry in walkdir::WalkDir::new(&corpus).sort_by_file_name() {
        let entry = entry.expect("walk the corpus");
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "nix") {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(entry.path()).expect("read a corpus file");
        let rel = entry.path().strip_prefix(&corpus).unwrap().display();
        let parse = match syntax::parse_bytes(&bytes) {
            Ok(parse) => parse,
            Err(err) => {
                failures.push(format!("{rel}: {err}"));
                continue;
            }
        };
        if parse.syntax().to_string().as_bytes() != bytes.as_slice() {
            failures.push(format!("{rel}: the tree's text differs from the file"));
        }
        for error in parse.errors().iter().take(3) {
            failures.push(format!("{rel}@{:?}: {}", error.range, error.message));
        }
    }
    println!("{files} corpus files parsed, {} problems", failures.len());
    assert!(files > 1000, "the corpus looks incomplete: {files} files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
