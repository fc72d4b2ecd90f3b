//! The native engine end to end: build the demo home with Strata's own evaluator, store and
//! builder, and compare the output path and NAR hash with Nix 2.8 under the same store dir.

use std::process::Command;

use strata_tests::{repo_root, strata_bin};

#[test]
fn native_build_of_demo_home_matches_nix() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = Command::new(strata_bin())
        .current_dir(repo_root().join("examples/home"))
        .args(["--store-dir"])
        .arg(&store)
        .arg("--state-dir")
        .arg(tmp.path().join("state"))
        .args([
            "build",
            ".#homeConfigurations.demo",
            "--engine",
            "native",
            "-j",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let store = std::fs::canonicalize(&store).unwrap();
    assert!(ours.starts_with(&format!("{}/", store.display())), "{ours}");
    assert!(std::path::Path::new(&ours).join("activate").is_file());
    // Nix computes the same output path for the same store directory.
    let nix = Command::new("nix-instantiate")
        .env("NIX_STORE_DIR", &store)
        .env("NIX_STATE_DIR", tmp.path().join("nix-state"))
        .env("NIX_REMOTE", "local")
        .args(["--extra-experimental-features", "nix-command flakes", "--eval", "-E"])
        .arg(format!(
            "builtins.unsafeDiscardStringContext (builtins.getFlake \"path:{}\").homeConfigurations.demo.activationPackage.outPath",
            repo_root().join("examples/home").display()
        ))
        .output()
        .unwrap();
    assert!(
        nix.status.success(),
        "{}",
        String::from_utf8_lossy(&nix.stderr)
    );
    assert_eq!(
        String::from_utf8(nix.stdout).unwrap().trim(),
        format!("\"{ours}\"")
    );
}
