//! `strata flake info` and `strata flake check-lock` against real flakes, with Nix 2.8 as the
//! oracle for the lock tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata_tests::{shared_dir, strata_bin};

/// Copies a shared flake into a fresh writable temporary directory (shared data is read-only and
/// must never be written).
fn copy_flake(rel: &str) -> tempfile::TempDir {
    let src = shared_dir().join("conformance/flakes").join(rel);
    let tmp = tempfile::tempdir().unwrap();
    for name in ["flake.nix", "flake.lock"] {
        let from = src.join(name);
        if from.exists() {
            let to = tmp.path().join(name);
            std::fs::write(&to, std::fs::read(&from).unwrap()).unwrap();
        }
    }
    tmp
}

fn strata(args: &[&str]) -> Output {
    Command::new(strata_bin()).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lines after `Inputs:`, without ANSI colours and without the date Strata appends.
fn input_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let mut clean = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                clean.push(c);
            }
        }
        if inside {
            // Strata's date suffix: ` (YYYY-MM-DD HH:MM:SS)`.
            let bytes = clean.len();
            if clean.ends_with(')') && bytes > 22 && clean.as_bytes()[bytes - 21] == b'(' {
                clean.truncate(bytes - 22);
            }
            lines.push(clean);
        } else if clean == "Inputs:" {
            inside = true;
        }
    }
    lines
}

fn nix_metadata(dir: &Path) -> String {
    let out = Command::new("nix")
        .env("NIX_REMOTE", "local")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "--option",
            "flake-registry",
            "",
            "--option",
            "substituters",
            "",
            "--offline",
            "flake",
            "metadata",
        ])
        .arg(format!("path:{}", dir.display()))
        .output()
        .expect("nix is installed");
    assert!(
        out.status.success(),
        "nix flake metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// The samples Nix 2.8 can read (the shared README lists which).
const NIX28_READABLE: [&str; 5] = [
    "nix28-generated/root",
    "samples/home-manager",
    "samples/nil-nixpkgs_revs",
    "samples/nixd-example",
    "samples/rnix-parser",
];

#[test]
fn info_tree_matches_nix_2_8_metadata() {
    for rel in NIX28_READABLE {
        let dir = copy_flake(rel);
        let ours = strata(&["flake", "info", dir.path().to_str().unwrap()]);
        assert!(
            ours.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let nix = nix_metadata(dir.path());
        let (ours_lines, nix_lines) = (input_lines(&stdout(&ours)), input_lines(&nix));
        assert!(!nix_lines.is_empty(), "{rel}: {nix}");
        assert_eq!(ours_lines, nix_lines, "{rel}");
    }
}

#[test]
fn info_appends_the_locked_date() {
    let dir = copy_flake("nix28-generated/root");
    let out = stdout(&strata(&["flake", "info", dir.path().to_str().unwrap()]));
    assert!(
        out.contains("├───gitdep: git+file:///tmp/flkgen/gitdep?ref=main&rev=c32b0a96c9860e4d07c3aa72fad331f040fe5569 (2024-01-01 00:00:00)\n"),
        "{out}"
    );
    assert!(out.contains("    └───data follows input 'data'\n"), "{out}");
}

#[test]
fn info_reads_every_sample_including_those_nix_2_8_cannot() {
    let samples = shared_dir().join("conformance/flakes/samples");
    let mut seen = 0;
    for entry in std::fs::read_dir(samples).unwrap() {
        let dir: PathBuf = entry.unwrap().path();
        let out = strata(&["flake", "info", "--json", dir.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let lock: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("flake.lock")).unwrap())
                .unwrap();
        // One entry per root input, and each node entry carries the lock's `locked` unchanged.
        let root_inputs = lock["nodes"]["root"]["inputs"].as_object().unwrap();
        let inputs = json["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), root_inputs.len());
        for input in inputs {
            let name = input["name"].as_str().unwrap();
            match &root_inputs[name] {
                serde_json::Value::String(key) => {
                    assert_eq!(input["node"], key.as_str());
                    assert_eq!(input["locked"], lock["nodes"][key]["locked"]);
                    if let Some(rev) = lock["nodes"][key]["locked"]["rev"].as_str() {
                        assert_eq!(input["shortRev"], &rev[..7]);
                    }
                }
                serde_json::Value::Array(_) => assert!(input["follows"].is_string()),
                other => panic!("{other}"),
            }
        }
        assert_eq!(json["locks"], lock);
        seen += 1;
    }
    assert!(seen >= 6);
}

#[test]
fn info_on_a_missing_or_broken_lock_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flake.nix"), "{ outputs = _: { }; }").unwrap();
    let out = strata(&["flake", "info", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `nix flake lock`"));

    std::fs::write(dir.path().join("flake.lock"), "{\n  \"nodes\": {\n").unwrap();
    let out = strata(&["flake", "info", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("flake.lock:3:1: flake.lock is not valid JSON"),
        "{err}"
    );
}

/// The Nix-written flake with its path inputs copied beside it, every `/tmp/flkgen` (where Nix
/// saw them) rewritten to the copy; `edit` changes `flake.nix` first.
fn generated_flake(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let src = shared_dir().join("conformance/flakes/nix28-generated");
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_str().unwrap().to_owned();
    for dir in ["root", "data", "libflake"] {
        std::fs::create_dir(tmp.path().join(dir)).unwrap();
        for entry in std::fs::read_dir(src.join(dir)).unwrap() {
            let entry = entry.unwrap();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(tmp.path().join(dir).join(entry.file_name()), text).unwrap();
        }
    }
    let root = tmp.path().join("root");
    for name in ["flake.nix", "flake.lock"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        let mut text = text.replace("/tmp/flkgen", &base);
        if name == "flake.nix" {
            text = edit(text);
        }
        std::fs::write(root.join(name), text).unwrap();
    }
    (tmp, root)
}

fn check_lock(root: &Path) -> (Option<i32>, String) {
    let out = strata(&["flake", "check-lock", root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    (out.status.code(), stdout(&out))
}

#[test]
fn check_lock_passes_on_the_flake_nix_locked() {
    let (_tmp, root) = generated_flake(|t| t);
    let (code, out) = check_lock(&root);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "flake.lock matches flake.nix: 3 inputs locked, 2 path inputs verified\n"
    );
}

/// Runs check-lock on an edited flake and returns the findings without the directory prefix.
fn drift(edit: impl Fn(String) -> String) -> String {
    let (tmp, root) = generated_flake(edit);
    let (code, out) = check_lock(&root);
    assert_eq!(code, Some(1), "{out}");
    out.replace(tmp.path().to_str().unwrap(), "TMP")
}

#[test]
fn check_lock_reports_each_kind_of_drift() {
    let out = drift(|t| {
        t.replace(
            "  };\n  outputs",
            "    extra.url = \"github:a/b\";\n  };\n  outputs",
        )
        .replace("gitdep, data }", "gitdep, data, extra }")
    });
    assert_eq!(
        out,
        "TMP/root/flake.nix:9:5: warning[flake-input-not-locked]: flake.lock has no entry for input `extra`: run `nix flake lock`\n"
    );

    let out = drift(|t| {
        t.replace("gitdep.url", "# gitdep")
            .replace(", gitdep,", ",")
            .replace("answer = gitdep.value;", "")
    });
    assert!(
        out.contains("warning[flake-lock-unused]: flake.lock pins input `gitdep`, which flake.nix does not declare"),
        "{out}"
    );

    let out = drift(|t| t.replace("?ref=main", "?ref=dev"));
    assert!(out.starts_with("TMP/root/flake.nix:5:18: warning[flake-lock-outdated]: input `gitdep` is `git+file://TMP/gitdep?ref=dev` but flake.lock locked `git+file://TMP/gitdep?ref=main`"), "{out}");

    let out = drift(|t| t.replace("follows = \"data\"", "follows = \"dta\""));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("TMP/root/flake.nix:8:36: error[flake-follows-missing]: `follows = \"dta\"` names no input of this flake"), "{out}");

    let out = drift(|t| t.replace("{ self, libflake", "{ self, nixpkgs, libflake"));
    assert!(out.contains("warning[flake-unknown-outputs-param]: `nixpkgs` is neither `self` nor a declared input"), "{out}");
}

#[test]
fn check_lock_hashes_path_inputs() {
    let (tmp, root) = generated_flake(|t| t);
    std::fs::write(tmp.path().join("data/hello.txt"), "changed\n").unwrap();
    let (code, out) = check_lock(&root);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("warning[flake-path-changed]: the tree of path input `data` changed since it was locked"),
        "{out}"
    );
    assert!(!out.contains("libflake"), "{out}");
}

#[test]
fn check_lock_on_a_broken_or_missing_lock() {
    let (_tmp, root) = generated_flake(|t| t);
    let lock = std::fs::read_to_string(root.join("flake.lock")).unwrap();
    std::fs::write(
        root.join("flake.lock"),
        lock.replace("\"version\": 7", "\"version\": 9"),
    )
    .unwrap();
    let (code, out) = check_lock(&root);
    assert_eq!(code, Some(1));
    assert!(out.contains("flake.lock:58:14: error[flake-lock-invalid]: flake.lock cannot be read: unsupported lock file version 9"), "{out}");

    std::fs::remove_file(root.join("flake.lock")).unwrap();
    let (code, out) = check_lock(&root);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("there is no flake.lock: run `nix flake lock`"),
        "{out}"
    );
}
