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
