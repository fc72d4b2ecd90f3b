//! The native engine against Nix 2.8 under one store directory: every derivation vector of
//! `../shared/conformance/store/derivations` and every example configuration is built by
//! `nix-build`/`nix build` and by `strata build --engine native`, and both must produce the
//! same `.drv` paths and text, the same output paths and the same output NAR hashes.
//!
//! Both stores live at the same path (the path enters every hash), one after the other: Nix
//! builds first, its results are recorded and its store is wiped, then Strata builds there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata_tests::{repo_root, shared_dir, strata_bin};

/// What one store holds after the builds: `.drv` text and output NAR hashes, by store path.
#[derive(Default)]
struct Snapshot {
    drvs: BTreeMap<String, String>,
    nar_hashes: BTreeMap<String, String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The cases: `(label, strata installable args, nix command args)`.
fn cases(vectors: &Path) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut cases = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "derivation vectors missing: {files:?}");
    for f in files {
        let f = f.to_string_lossy().into_owned();
        cases.push((
            f.clone(),
            vec![f.clone()],
            vec!["nix-build".into(), "--no-out-link".into(), f],
        ));
    }
    for (example, attr) in [
        ("home", "homeConfigurations.demo.activationPackage"),
        (
            "system",
            "nixosConfigurations.demo.config.system.build.toplevel",
        ),
    ] {
        let dir = repo_root().join("examples").join(example);
        let installable = format!("{}#{attr}", dir.display());
        cases.push((
            format!("examples/{example}"),
            vec![installable.clone()],
            vec![
                "nix".into(),
                "build".into(),
                "--no-link".into(),
                "--json".into(),
                format!("path:{installable}"),
            ],
        ));
    }
    cases
}

fn nix<'a>(cmd: &'a mut Command, store: &Path, state: &Path) -> &'a mut Command {
    cmd.env("NIX_STORE_DIR", store)
        .env("NIX_STATE_DIR", state)
        .env("NIX_LOG_DIR", state.join("log"))
        .env("NIX_REMOTE", "local")
        .env(
            "NIX_CONFIG",
            "substituters =\nexperimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =",
        )
}

/// Store paths named in `out` (one build's stdout, plain or `nix build --json`).
fn paths_in(out: &str, store: &Path) -> Vec<String> {
    let prefix = format!("{}/", store.display());
    let mut found = Vec::new();
    let mut rest = out;
    while let Some(i) = rest.find(&prefix) {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        let p = tail[..end].to_string();
        if !p.ends_with(".drv") && !found.contains(&p) {
            found.push(p);
        }
        rest = &tail[end..];
    }
    found
}

/// Everything Nix made: each `.drv` file's text and each derivation output's NAR hash (SRI).
fn nix_snapshot(store: &Path, state: &Path) -> Snapshot {
    let mut snap = Snapshot::default();
    for entry in std::fs::read_dir(store).unwrap() {
        let p = entry.unwrap().path();
        let s = p.to_string_lossy().into_owned();
        if s.ends_with(".drv") {
            snap.drvs.insert(s, std::fs::read_to_string(&p).unwrap());
        }
    }
    let outs = ok(
        "nix-store -q --outputs",
        nix(&mut Command::new("nix-store"), store, state)
            .args(["-q", "--outputs"])
            .args(snap.drvs.keys())
            .output()
            .unwrap(),
    );
    let infos = ok(
        "nix path-info --json",
        nix(&mut Command::new("nix"), store, state)
            .args(["path-info", "--json"])
            .args(outs.lines())
            .output()
            .unwrap(),
    );
    let infos: serde_json::Value = serde_json::from_str(&infos).unwrap();
    for info in infos.as_array().unwrap() {
        snap.nar_hashes.insert(
            info["path"].as_str().unwrap().to_string(),
            info["narHash"].as_str().unwrap().to_string(),
        );
    }
    snap
}

/// Everything Strata's store holds: `.drv` text and every valid path's NAR hash.
fn strata_snapshot(store: &Path) -> Snapshot {
    let mut snap = Snapshot::default();
    let mut all = Vec::new();
    for entry in std::fs::read_dir(store).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        all.push(p.to_string_lossy().into_owned());
    }
    let mut cmd = Command::new(strata_bin());
    cmd.arg("--store-dir")
        .arg(store)
        .args(["store", "info", "--json"]);
    cmd.args(&all);
    let json: serde_json::Value =
        serde_json::from_str(&ok("strata store info", cmd.output().unwrap())).unwrap();
    for info in json.as_array().unwrap() {
        let path = info["path"].as_str().unwrap().to_string();
        if path.ends_with(".drv") {
            snap.drvs
                .insert(path.clone(), std::fs::read_to_string(&path).unwrap());
        } else {
            snap.nar_hashes
                .insert(path, info["narHash"].as_str().unwrap().to_string());
        }
    }
    snap
}

fn wipe(dir: &Path) {
    let _ = Command::new("chmod").arg("-R").arg("u+w").arg(dir).status();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn native_engine_matches_nix_on_vectors_and_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let state = tmp.path().join("nix-state");
    let vectors = shared_dir().join("conformance/store/derivations");
    let cases = cases(&vectors);

    // Nix first.
    std::fs::create_dir_all(&store).unwrap();
    let store = std::fs::canonicalize(&store).unwrap();
    let mut nix_outputs = BTreeMap::new();
    for (label, _, argv) in &cases {
        let out = nix(&mut Command::new(&argv[0]), &store, &state)
            .args(&argv[1..])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let out = ok(&format!("{label} with Nix"), out);
        nix_outputs.insert(label.clone(), paths_in(&out, &store));
    }
    let theirs = nix_snapshot(&store, &state);
    wipe(&store);

    // Then Strata, in the same place.
    let mut our_outputs = BTreeMap::new();
    for (label, installable, _) in &cases {
        let out = Command::new(strata_bin())
            .arg("--store-dir")
            .arg(&store)
            .arg("--state-dir")
            .arg(tmp.path().join("strata-state"))
            .arg("build")
            .args(installable)
            .args(["--engine", "native", "-j", "2"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let out = ok(&format!("{label} with the native engine"), out);
        our_outputs.insert(label.clone(), paths_in(&out, &store));
    }
    let ours = strata_snapshot(&store);

    assert_eq!(our_outputs, nix_outputs, "output paths differ");
    // The same derivations, byte for byte.
    let our_drvs: Vec<&String> = ours.drvs.keys().collect();
    let their_drvs: Vec<&String> = theirs.drvs.keys().collect();
    assert!(their_drvs.len() >= 30, "{their_drvs:?}");
    assert_eq!(our_drvs, their_drvs, ".drv paths differ");
    for (path, text) in &theirs.drvs {
        assert_eq!(&ours.drvs[path], text, "{path} differs");
    }
    // Every output Nix built, with the same NAR hash.
    assert!(theirs.nar_hashes.len() > 25, "{:?}", theirs.nar_hashes);
    for (path, hash) in &theirs.nar_hashes {
        let mine = ours
            .nar_hashes
            .get(path)
            .unwrap_or_else(|| panic!("the native engine did not build {path}"));
        assert_eq!(mine, hash, "NAR hash of {path}");
    }
}
