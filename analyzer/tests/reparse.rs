//! Incremental reparsing gives exactly the tree of a full parse: random edits of corpus
//! files (typing inside identifiers and numbers, whitespace, comments, brackets, strings),
//! each reparsed from the previous tree and compared with a full parse of the new text.
//!
//! `STRATA_REPARSE_CASES=N` runs N cases (default: a few hundred, a second or two).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rowan::{TextRange, TextSize};
use strata_analyzer::syntax;
use strata_analyzer::syntax::lexer;
use strata_analyzer::syntax::reparse::{reparse, Reuse, TextEdit};

/// Corpus files without grammar errors (only those trees are reused), small enough that a
/// case stays fast.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = common::small_corpus_files(24 * 1024);
        files.retain(|text| syntax::parse_syntax_only(text).errors().is_empty());
        files
    })
}

/// Texts typed in: mostly what keeps a token's kind (letters, digits, spaces), some that
/// change the structure.
const INSERTS: &[&str] = &[
    "a",
    "x",
    "Z",
    "_",
    "'",
    "-",
    "0",
    "7",
    " ",
    "  ",
    "\n",
    "\t",
    "e",
    "1.",
    ".",
    "#",
    "# c\n",
    "/*",
    "*/",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "${",
    "''",
    ";",
    "=",
    ":",
    "@",
    ",",
    "or",
    "in",
    "let",
    "rec",
    "if",
    "__curPo",
    "s",
    "x = 1;",
    "a.b = 2;",
    "inherit x;",
    "é",
    "//",
    "a/b",
    "x:x",
];

/// One edit, positioned relative to a token of the text so it often falls inside one.
#[derive(Debug, Clone)]
struct EditSpec {
    token: f64,
    offset_in_token: f64,
    delete: usize,
    insert: &'static str,
}

fn edit_spec() -> impl Strategy<Value = EditSpec> {
    (
        0.0..1.0f64,
        0.0..=1.0f64,
        prop_oneof![3 => Just(0usize), 2 => 1..3usize, 1 => 1..40usize],
        prop_oneof![
            3 => prop::sample::select(INSERTS),
            1 => Just(""),
        ],
    )
        .prop_map(|(token, offset_in_token, delete, insert)| EditSpec {
            token,
            offset_in_token,
            delete,
            insert,
        })
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn to_edit(text: &str, spec: &EditSpec) -> TextEdit {
    let tokens = lexer::lex(text).tokens;
    let (start, len) = match tokens.get((spec.token * tokens.len() as f64) as usize) {
        Some(t) => (t.start as usize, t.len as usize),
        None => (0, text.len()),
    };
    let s = floor_boundary(text, start + (spec.offset_in_token * len as f64) as usize);
    let e = floor_boundary(text, s + spec.delete);
    TextEdit {
        delete: TextRange::new(TextSize::from(s as u32), TextSize::from(e as u32)),
        insert: spec.insert.to_string(),
    }
}

#[derive(Default, Debug)]
struct Counts {
    token: u32,
    node: u32,
    full: u32,
}

fn check(
    file: &str,
    specs: &[EditSpec],
    counts: &std::cell::RefCell<Counts>,
) -> Result<(), TestCaseError> {
    let mut text = file.to_string();
    let mut old = syntax::parse_syntax_only(&text);
    for spec in specs {
        let edit = to_edit(&text, spec);
        let new_text = edit.apply(&text);
        let full = syntax::parse_syntax_only(&new_text);
        if old.errors().is_empty() {
            match reparse(&old.green, &edit, &new_text) {
                Some((green, how)) => {
                    prop_assert!(
                        full.errors().is_empty(),
                        "reused a tree for a text with errors: {:?} in {:?}",
                        full.errors(),
                        new_text
                    );
                    prop_assert_eq!(
                        syntax::debug_tree(&syntax::SyntaxNode::new_root(green.clone())),
                        full.debug_tree(),
                        "edit {:?} ({:?})",
                        edit,
                        how
                    );
                    prop_assert!(green == full.green);
                    let mut c = counts.borrow_mut();
                    match how {
                        Reuse::Token => c.token += 1,
                        Reuse::Node => c.node += 1,
                    }
                }
                None => counts.borrow_mut().full += 1,
            }
        }
        text = new_text;
        old = full;
    }
    Ok(())
}

#[test]
fn incremental_reparse_equals_full_parse_on_random_edits() {
    let cases = std::env::var("STRATA_REPARSE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300u32);
    let files = corpus();
    assert!(files.len() > 100, "corpus has {} files", files.len());
    let counts = std::cell::RefCell::new(Counts::default());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(
                prop::sample::select(files),
                prop::collection::vec(edit_spec(), 1..6),
            ),
            |(file, specs)| check(&file, &specs, &counts),
        )
        .unwrap();
    let c = counts.into_inner();
    eprintln!("{c:?}");
    // Each kind of reuse is exercised (otherwise this test would prove nothing).
    assert!(c.token > cases / 20, "{c:?}");
    assert!(c.node > cases / 50, "{c:?}");
    assert!(c.full > 0, "{c:?}");
}

#[test]
fn typing_in_an_identifier_swaps_one_token() {
    let text = "{ a = foo bar; b = [ 1 2 ]; }";
    let old = syntax::parse(text);
    for (edit, how) in [
        (
            TextEdit::diff(text, "{ a = fooo bar; b = [ 1 2 ]; }"),
            Reuse::Token,
        ),
        (
            TextEdit::diff(text, "{ a = foo bar; b = [ 1 22 ]; }"),
            Reuse::Token,
        ),
        (
            TextEdit::diff(text, "{ a = foo  bar; b = [ 1 2 ]; }"),
            Reuse::Token,
        ),
        (
            TextEdit::diff(text, "{ a = foo bar; b = [ 1 (2) ]; }"),
            Reuse::Node,
        ),
    ] {
        let new_text = edit.apply(text);
        let (green, got) = reparse(&old.green, &edit, &new_text).expect("reused");
        assert_eq!(got, how, "{new_text}");
        assert!(green == syntax::parse(&new_text).green, "{new_text}");
    }
    // Whatever changes the tokens around it is parsed again.
    for new_text in [
        "{ a = fo:o bar; b = [ 1 2 ]; }",
        "{ a = foo bar; b = [ 1 2 ]; } # x",
        "{ a = if bar; b = [ 1 2 ]; }",
        "{ a = __curPos bar; b = [ 1 2 ]; }",
    ] {
        let edit = TextEdit::diff(text, new_text);
        let reused = reparse(&old.green, &edit, new_text);
        if let Some((green, _)) = reused {
            assert!(green == syntax::parse(new_text).green, "{new_text}");
        }
    }
}
