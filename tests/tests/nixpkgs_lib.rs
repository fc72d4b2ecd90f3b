//! nixpkgs' own library tests, evaluated by `strata eval`.

use std::process::Command;

/// `lib/tests/misc.nix` evaluates to the list of failed tests: it must be empty.
#[test]
fn nixpkgs_lib_misc_tests_all_pass() {
    let file = strata_tests::shared_dir().join("corpus/nixpkgs-lib/lib/tests/misc.nix");
    let out = Command::new(strata_tests::strata_bin())
        .args(["eval", "--strict"])
        .arg(&file)
        .output()
        .expect("run strata");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "strata eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "[ ]\n", "failed lib tests: {stdout}");
}

/// `lib/tests/systems.nix` (which Nix 2.8 can run too) also reports no failures.
#[test]
fn nixpkgs_lib_systems_tests_all_pass() {
    let file = strata_tests::shared_dir().join("corpus/nixpkgs-lib/lib/tests/systems.nix");
    let out = Command::new(strata_tests::strata_bin())
        .args(["eval", "--strict"])
        .arg(&file)
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "strata eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[ ]\n");
}
