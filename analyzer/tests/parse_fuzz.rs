//! Fuzzing the parser with mutated corpus files: it must never panic, the tree's text
//! must be the input, and it must finish (in time linear in the input: the token and
//! node counts stay proportional to the input length).
//!
//! The normal suite runs a few cases; `STRATA_FUZZ_CASES=N` runs N (the long run
//! recorded in BENCHMARKS.md uses `--release` and a large N).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use strata_analyzer::syntax;

fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| common::small_corpus_files(16 * 1024))
}

/// One edit of the input; positions are fractions of the length so they always fit.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(f64, String),
    Delete(f64, usize),
    Duplicate(f64, usize),
    Truncate(f64),
}

/// Fragments that stress the lexer's modes and the parser's recovery.
const FRAGMENTS: &[&str] = &[
    "{", "}", "(", ")", "[", "]", "${", "\"", "''", "'''", "''$", "''\\", ";", "=", ":", "@", ",",
    ".", "...", "?", "or", "let", "in", "rec", "inherit", "if", "then", "else", "with", "assert",
    "./", "/", "~/", "<", ">", "a/b/", "/*", "*/", "#", "\n", "\\", "$", "x:x", "1.", ".5", "é",
    "\r\n", "->", "//", "++", "!", "-", "\u{0}",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, prop::sample::select(FRAGMENTS))
            .prop_map(|(p, f)| Mutation::Insert(p, f.to_owned())),
        (0.0..1.0f64, any::<char>()).prop_map(|(p, c)| Mutation::Insert(p, c.to_string())),
        (0.0..1.0f64, 1..64usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (0.0..1.0f64, 1..256usize).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        (0.0..1.0f64).prop_map(Mutation::Truncate),
    ]
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, m: &Mutation) {
    let at = |p: f64, text: &str| floor_boundary(text, (p * text.len() as f64) as usize);
    match m {
        Mutation::Insert(p, s) => {
            let i = at(*p, text);
            text.insert_str(i, s);
        }
        Mutation::Delete(p, n) => {
            let i = at(*p, text);
            let j = floor_boundary(text, i + n);
            text.replace_range(i..j, "");
        }
        Mutation::Duplicate(p, n) => {
            let i = at(*p, text);
            let j = floor_boundary(text, i + n);
            let piece = text[i..j].to_owned();
            text.insert_str(j, &piece);
        }
        Mutation::Truncate(p) => {
            let i = at(*p, text);
            text.truncate(i);
        }
    }
}

fn check_one(text: &str) -> Result<(), TestCaseError> {
    let parse = syntax::parse(text);
    let root = parse.syntax();
    prop_assert_eq!(root.to_string(), text, "round trip");
    // Linear: the tree never has more than a few elements per input byte.
    let elements = root.descendants_with_tokens().count();
    prop_assert!(
        elements <= 4 * text.len() + 4,
        "{} elements for {} bytes",
        elements,
        text.len()
    );
    for error in parse.errors() {
        prop_assert!(error.range.end() <= rowan::TextSize::of(text));
        prop_assert!(!error.message.is_empty());
    }
    // The typed layer must cope with any broken tree too.
    for node in root.descendants() {
        use syntax::ast::AstNode;
        if let Some(s) = syntax::ast::Str::cast(node.clone()) {
            let _ = s.normalized_parts();
        }
        if let Some(p) = syntax::ast::Path::cast(node) {
            let _ = (p.kind(), p.parts());
        }
    }
    Ok(())
}

#[test]
fn mutated_corpus_files_never_break_the_parser() {
    let cases = std::env::var("STRATA_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48u32);
    // The long run: keep going in batches until this many seconds have passed.
    let seconds: u64 = std::env::var("STRATA_FUZZ_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let files = corpus();
    assert!(!files.is_empty(), "no corpus files found");
    let strategy = (0..files.len(), prop::collection::vec(mutation(), 1..12));
    let started = std::time::Instant::now();
    let mut total = 0u64;
    let bytes = std::cell::Cell::new(0u64);
    let mut batch = 0u32;
    loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(u64::from(batch)),
            ..Config::default()
        });
        runner
            .run(&strategy, |(index, mutations)| {
                let mut text = files[index].clone();
                for m in &mutations {
                    apply(&mut text, m);
                }
                bytes.set(bytes.get() + text.len() as u64);
                check_one(&text)
            })
            .unwrap();
        total += u64::from(cases);
        batch += 1;
        if started.elapsed().as_secs() >= seconds {
            break;
        }
    }
    println!(
        "fuzz: {total} mutated inputs ({} bytes) from {} corpus files in {:.1?}",
        bytes.get(),
        files.len(),
        started.elapsed()
    );
}

#[test]
fn arbitrary_strings_never_break_the_parser() {
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop::collection::vec(prop::sample::select(FRAGMENTS), 0..64)
        .prop_map(|parts| parts.concat());
    runner.run(&strategy, |text| check_one(&text)).unwrap();
    runner.run(&".{0,200}", |text| check_one(&text)).unwrap();
}
