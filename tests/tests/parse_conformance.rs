//! Nix's own language tests (`../shared/conformance/lang/manifest.json`) through
//! `strata parse`: the parser accepts exactly what Nix 2.8 accepts.
//!
//! `parse-okay` files must parse cleanly and `parse-fail` files must get an error.
//! `eval-*` files must parse cleanly too, except the few whose recorded Nix 2.8 error
//! is itself a parse-time error (`undefined variable` at the top level, `dynamic
//! attributes not allowed in let`, ...): Nix rejects those before evaluating, so the
//! parser must reject them as well.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use strata_tests::{shared_dir, strata_bin};

/// Messages Nix 2.8 raises from the lexer, the grammar, or `bindVars` (all before
/// evaluation starts): an `eval-fail` case whose error is one of these is a parse failure.
const PARSE_TIME_ERRORS: &[&str] = &[
    "error: syntax error",
    "error: undefined variable",
    "error: dynamic attributes not allowed",
    "error: duplicate formal function argument",
    "error: invalid integer",
    "error: invalid float",
    "error: path has a trailing slash",
];

fn nix_rejects_while_parsing(case: &Value) -> bool {
    match case["kind"].as_str() {
        Some("parse-fail") => true,
        Some("eval-fail") => {
            let stderr = case["expected_stderr"].as_str().unwrap_or("");
            let first = stderr.lines().next().unwrap_or("");
            PARSE_TIME_ERRORS.iter().any(|p| first.starts_with(p))
                || (first.starts_with("error: attribute") && first.contains("already defined"))
        }
        _ => false,
    }
}

#[test]
fn parser_agrees_with_nix_on_the_language_tests() {
    let conformance = shared_dir().join("conformance");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(conformance.join("lang/manifest.json"))
            .expect("read the conformance manifest"),
    )
    .expect("manifest is JSON");
    let cases = manifest.as_array().expect("manifest is a list");

    let mut passed = 0;
    let mut failures = Vec::new();
    let mut skipped = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        if case.get("skip_reason").is_some_and(|r| !r.is_null()) {
            skipped += 1;
            continue;
        }
        let file = conformance.join(case["file"].as_str().expect("case has a file"));
        let expect_error = nix_rejects_while_parsing(case);
        let (ok, output) = run_parse(&file);
        if ok != expect_error {
            passed += 1;
        } else {
            let want = if expect_error { "an error" } else { "no error" };
            failures.push(format!("{name}: expected {want}, got: {output}"));
        }
    }
    println!(
        "{passed} passed, {} failed ({skipped} skipped: see skip_reason in the manifest)",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "parse disagreements with Nix:\n{}",
        failures.join("\n")
    );
    assert!(passed > 300, "too few cases ran: {passed}");
}

/// Runs `strata parse FILE`: (exited 0, its output).
fn run_parse(file: &Path) -> (bool, String) {
    let out = Command::new(strata_bin())
        .arg("parse")
        .arg(file)
        .output()
        .expect("run strata parse");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn parse_reports_file_line_col_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.nix");
    let bad = dir.path().join("bad.nix");
    std::fs::write(&good, "{ a = 1; }\n").unwrap();
    std::fs::write(&bad, "{\n  a = 1;\n  a = 2;\n}\n").unwrap();

    let ok = Command::new(strata_bin())
        .arg("parse")
        .arg(&good)
        .output()
        .unwrap();
    assert!(ok.status.success());
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "");

    let out = Command::new(strata_bin())
        .arg("parse")
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{}:3:3: attribute 'a' already defined at 2:3\n",
            bad.display()
        )
    );
}

#[test]
fn invalid_utf8_is_a_warning_in_strings_and_an_error_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    // Nix reads bytes: a Latin-1 byte inside a string is accepted (with a warning here).
    let in_string = dir.path().join("latin1.nix");
    std::fs::write(&in_string, b"{\n  a = \"caf\xe9\";\n}\n").unwrap();
    let out = Command::new(strata_bin())
        .arg("parse")
        .arg(&in_string)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{}:2:11: warning: invalid UTF-8 at byte 12: Nix files must be UTF-8 encoded\n",
            in_string.display()
        )
    );
    // Outside a string it is a stray character, as in Nix.
    let bare = dir.path().join("bare.nix");
    std::fs::write(&bare, b"[ 1 \xff ]").unwrap();
    let out = Command::new(strata_bin())
        .arg("parse")
        .arg(&bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{}:1:5: ", bare.display())),
        "{stdout}"
    );
}
