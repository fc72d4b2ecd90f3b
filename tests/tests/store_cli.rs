//! `strata hash nar`, `strata store ...` and `strata drv show` against the store vectors.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use strata_tests::{shared_dir, strata_bin};

fn strata(store: &Path, args: &[&str]) -> Output {
    Command::new(strata_bin())
        .arg("--store-dir")
        .arg(store)
        .arg("--state-dir")
        .arg(store.with_file_name("state"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout_ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn vectors() -> Vec<Value> {
    let text = fs::read_to_string(shared_dir().join("conformance/store/nar-vectors.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn hash_nar_prints_nix_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    // Regular-file fixtures are carried faithfully by the shared checkout.
    let regular: Vec<Value> = vectors()
        .into_iter()
        .filter(|v| v["type"] == "regular")
        .collect();
    assert!(regular.len() >= 8);
    let paths: Vec<String> = regular
        .iter()
        .map(|v| {
            let p = shared_dir()
                .join("conformance/store")
                .join(v["path"].as_str().unwrap());
            p.to_string_lossy().into_owned()
        })
        .collect();
    for (flag, field) in [
        ("--base32", "nix_hash_sha256_base32"),
        ("--base16", "nix_hash_sha256_base16"),
        ("--sri", "nix_hash_sha256_sri"),
    ] {
        let mut args = vec!["hash", "nar", flag];
        args.extend(paths.iter().map(String::as_str));
        let out = stdout_ok(strata(&store, &args));
        let expected: Vec<&str> = regular.iter().map(|v| v[field].as_str().unwrap()).collect();
        assert_eq!(out.lines().collect::<Vec<_>>(), expected, "{flag}");
    }
    // SRI is the default, as `nix hash path` prints.
    let out = stdout_ok(strata(&store, &["hash", "nar", &paths[0]]));
    assert_eq!(out.trim(), regular[0]["nix_hash_sha256_sri"]);
    let missing = strata(&store, &["hash", "nar", "/nonexistent/x"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/x"));
}

#[test]
fn drv_show_json_matches_nix_show_derivation() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let text = fs::read_to_string(shared_dir().join("conformance/store/drv-vectors.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let mut n = 0;
    for (drv_path, e) in all["derivations"].as_object().unwrap() {
        let file = shared_dir()
            .join("conformance/store")
            .join(e["aterm_file"].as_str().unwrap());
        let out = stdout_ok(strata(
            &store,
            &["drv", "show", "--json", file.to_str().unwrap()],
        ));
        let shown: Value = serde_json::from_str(&out).unwrap();
        let expected = serde_json::json!({ drv_path.as_str(): e["nix_show_derivation"] });
        assert_eq!(shown, expected, "{drv_path}");
        n += 1;
    }
    assert_eq!(n, 29);
    // A .drv under a different name: its path is computed from its contents.
    let (drv_path, e) = all["derivations"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with("-minimal.drv"))
        .unwrap();
    let copy = tmp.path().join("minimal.drv");
    fs::write(&copy, e["aterm"].as_str().unwrap()).unwrap();
    let out = stdout_ok(strata(&store, &["drv", "show", copy.to_str().unwrap()]));
    assert_eq!(out.lines().next().unwrap(), drv_path);
    fs::write(&copy, "Derive([(").unwrap();
    let bad = strata(&store, &["drv", "show", copy.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("malformed derivation"));
}

#[test]
fn store_add_info_closure_verify_gc() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let src = tmp.path().join("pkg");
    fs::create_dir_all(src.join("bin")).unwrap();
    fs::write(src.join("bin/run"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(src.join("bin/run"), fs::Permissions::from_mode(0o755)).unwrap();
    let added = stdout_ok(strata(&store, &["store", "add", src.to_str().unwrap()]));
    let path = added.trim().to_owned();
    let canonical_store = fs::canonicalize(&store).unwrap();
    assert!(
        path.starts_with(&format!("{}/", canonical_store.display())),
        "{path}"
    );
    assert!(path.ends_with("-pkg"));
    let hash = stdout_ok(strata(
        &store,
        &["hash", "nar", "--base32", src.to_str().unwrap()],
    ));

    let info = stdout_ok(strata(&store, &["store", "info", "--json", &path]));
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info[0]["path"], path.as_str());
    let sri = stdout_ok(strata(&store, &["hash", "nar", src.to_str().unwrap()]));
    assert_eq!(info[0]["narHash"], sri.trim());
    let human = stdout_ok(strata(&store, &["store", "info", &path]));
    assert!(
        human.contains(&format!("narHash: sha256:{}", hash.trim())),
        "{human}"
    );

    let closure = stdout_ok(strata(&store, &["store", "closure", &path]));
    assert_eq!(closure.trim(), path);
    let verify = strata(&store, &["store", "verify"]);
    assert!(verify.status.success());

    // A profile generation under <state>/profiles keeps the path alive through GC.
    let profiles = tmp.path().join("state/profiles");
    fs::create_dir_all(&profiles).unwrap();
    std::os::unix::fs::symlink(&path, profiles.join("home-1-link")).unwrap();
    let other = tmp.path().join("other.txt");
    fs::write(&other, "garbage").unwrap();
    let other_path = stdout_ok(strata(&store, &["store", "add", other.to_str().unwrap()]));
    let gc = stdout_ok(strata(&store, &["store", "gc"]));
    assert_eq!(gc.trim(), other_path.trim());
    assert!(Path::new(&path).exists());
    assert!(!Path::new(other_path.trim()).exists());
    let gone = strata(&store, &["store", "info", other_path.trim()]);
    assert!(!gone.status.success());

    // Tampering is caught by verify.
    let run = Path::new(&path).join("bin/run");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(&run, "#!/bin/sh\nrm -rf /\n").unwrap();
    let verify = strata(&store, &["store", "verify"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("contents changed"));
}
