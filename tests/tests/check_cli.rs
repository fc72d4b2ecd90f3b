//! `strata check`: the analyzer's diagnostics on the command line.

use std::process::Command;

fn check(args: &[&str]) -> (i32, String) {
    let out = Command::new(strata_tests::strata_bin())
        .arg("check")
        .args(args)
        .output()
        .expect("run strata check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn example_is_clean() {
    let examples = strata_tests::repo_root().join("examples");
    let (code, stdout) = check(&[examples.to_str().unwrap()]);
    let files = walkdir::WalkDir::new(&examples)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "nix"))
        .count();
    // Not a single diagnostic, warnings included: the examples are what users copy.
    assert_eq!(stdout, format!("checked {files} files: 0 errors\n"));
    assert_eq!(code, 0);
}

#[test]
fn reports_errors_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.nix"), "let\n  unused = 1;\nin y\n").unwrap();
    std::fs::write(dir.path().join("ok.nix"), "{ a = 1; }\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not nix").unwrap();
    let root = dir.path().to_str().unwrap();
    let (code, stdout) = check(&[root]);
    assert_eq!(code, 1);
    let a = dir.path().join("sub/a.nix");
    assert_eq!(
        stdout,
        format!(
            "{a}:2:3: warning[unused-binding]: unused let binding `unused`\n\
             {a}:3:4: error[undefined-name]: undefined variable `y`\n\
             checked 2 files: 1 error\n",
            a = a.display()
        )
    );

    let (code, stdout) = check(&["--format", "json", "--ignore", "undefined-name", root]);
    assert_eq!(code, 0, "warnings alone do not fail");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["code"], "unused-binding");
    assert_eq!(json[0]["line"], 2);
    assert_eq!(json[0]["endColumn"], 9);
}

#[test]
fn missing_path_is_an_error() {
    let (code, _) = check(&["/nonexistent/strata/path.nix"]);
    assert_eq!(code, 1);
}
