//! The binary's edge: errors are one clear line that says what to do, each cause once.

use std::process::Command;

use strata_tests::strata_bin;

fn stderr_of(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("spawn strata");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_io_error_names_its_os_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    std::fs::write(&file, "x").unwrap();
    // A regular file where the store folder should be: creating the store fails.
    let (code, err) = stderr_of(
        Command::new(strata_bin())
            .args(["store", "--store-dir"])
            .arg(&file)
            .arg("add")
            .arg(&file),
    );
    assert_eq!(code, 1, "{err}");
    let first_line = err.lines().next().unwrap_or_default();
    assert!(first_line.starts_with("error: "), "{err}");
    assert_eq!(first_line.matches("os error").count(), 1, "{err}");
}

#[test]
fn generations_of_a_profile_in_a_missing_folder_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("no-such-folder/profile");
    let (code, err) = stderr_of(
        Command::new(strata_bin())
            .args(["generations", "--profile"])
            .arg(&profile),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("--profile"), "{err}");
}

#[test]
fn generations_of_a_profile_never_applied_is_empty_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    let out = Command::new(strata_bin())
        .args(["generations", "--json", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list, serde_json::json!([]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no generations yet"));
}
