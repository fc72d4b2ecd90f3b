//! Crash safety and concurrency of `strata store add`: SIGKILL at random moments never leaves
//! a partial path registered or under its final name, the next run cleans the litter, and
//! processes adding the same path at once publish it exactly once.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use strata_tests::strata_bin;

fn strata(store: &Path) -> Command {
    let mut c = Command::new(strata_bin());
    c.arg("--store-dir").arg(store);
    c
}

fn run_ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// A tree large enough that an add takes a noticeable time: 40 files of 1 MiB plus many
/// small files in nested folders.
fn large_tree(at: &Path) {
    let mut x: u32 = 1;
    let block: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    for d in 0..8 {
        let dir = at.join(format!("dir{d}/sub"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..5 {
            let mut data = format!("{d}/{f}").into_bytes();
            data.extend_from_slice(&block);
            fs::write(dir.join(format!("big{f}")), data).unwrap();
        }
        for f in 0..40 {
            fs::write(at.join(format!("dir{d}/small{f}")), format!("{d} {f}\n")).unwrap();
        }
    }
}

/// Entries in the scratch area other than lock files.
fn scratch_entries(store: &Path) -> Vec<PathBuf> {
    fs::read_dir(store.join(".strata/tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect()
}

/// Store entries under a final name (everything but `.strata`).
fn final_entries(store: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != ".strata")
        .collect();
    v.sort();
    v
}

fn is_registered(store: &Path, path: &str) -> bool {
    strata(store)
        .args(["store", "info", path])
        .output()
        .unwrap()
        .status
        .success()
}

fn make_deletable(p: &Path) {
    if let Ok(m) = p.symlink_metadata() {
        if m.is_dir() {
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
            for e in fs::read_dir(p).unwrap() {
                make_deletable(&e.unwrap().path());
            }
        }
    }
}

#[test]
fn sigkill_at_random_moments() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(tmp.path()).unwrap();
    let src = base.join("big");
    large_tree(&src);
    let store = base.join("store");
    let expected_hash = run_ok(strata(&store).args(["hash", "nar", "--base32"]).arg(&src));

    // One complete run gives the path and the duration to aim the kills at.
    let started = Instant::now();
    let path = run_ok(strata(&store).args(["store", "add"]).arg(&src));
    let full = started.elapsed();
    let base_name = Path::new(&path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    run_ok(
        strata(&store)
            .args(["store", "gc"])
            .env("XDG_STATE_HOME", base.join("state")),
    );
    assert!(final_entries(&store).is_empty());

    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed_mid_way = 0;
    for round in 0..8 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        // Kill anywhere from immediately to a bit after a normal run would finish.
        let delay = full.mul_f64((seed >> 33) as f64 / (1u64 << 31) as f64 * 1.2);
        let mut child = strata(&store)
            .args(["store", "add"])
            .arg(&src)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if !finished {
            killed_mid_way += 1;
        }

        // Whatever is under the final name is registered and complete, or (killed between
        // rename and register) complete and unregistered; never partial.
        let registered = is_registered(&store, &path);
        for name in final_entries(&store) {
            assert_eq!(name, base_name, "round {round}: unexpected entry");
            let h = run_ok(strata(&store).args(["hash", "nar", "--base32"]).arg(&path));
            assert_eq!(
                h, expected_hash,
                "round {round}: partial tree under the final name"
            );
        }
        if registered {
            assert!(Path::new(&path).exists());
            run_ok(strata(&store).args(["store", "verify"]));
        }

        // The next run of any add cleans the litter of the killed one.
        let other = base.join(format!("other{round}"));
        fs::write(&other, format!("round {round}")).unwrap();
        let other_path = run_ok(strata(&store).args(["store", "add"]).arg(&other));
        assert!(
            scratch_entries(&store).is_empty(),
            "round {round}: scratch litter left"
        );
        for name in final_entries(&store) {
            let full_path = format!("{}/{name}", store.display());
            assert!(
                is_registered(&store, &full_path),
                "round {round}: unregistered {name} left behind"
            );
        }
        assert!(is_registered(&store, &other_path));

        // Start the next round from an empty store.
        run_ok(
            strata(&store)
                .args(["store", "gc"])
                .env("XDG_STATE_HOME", base.join("state")),
        );
    }
    assert!(
        killed_mid_way >= 2,
        "only {killed_mid_way} kills hit a running add"
    );

    // A final complete run publishes the path correctly.
    assert_eq!(
        run_ok(strata(&store).args(["store", "add"]).arg(&src)),
        path
    );
    run_ok(strata(&store).args(["store", "verify"]));
    make_deletable(&store);
}

#[test]
fn concurrent_adds_of_one_path_publish_once() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(tmp.path()).unwrap();
    let src = base.join("tree");
    large_tree(&src);
    let store = base.join("store");
    let children: Vec<_> = (0..4)
        .map(|_| {
            strata(&store)
                .args(["store", "add"])
                .arg(&src)
                .env("STRATA_LOG", "strata_backend=info")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut publishes = 0;
    let mut paths = Vec::new();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        paths.push(String::from_utf8_lossy(&o.stdout).trim().to_owned());
        publishes += String::from_utf8_lossy(&o.stderr)
            .matches("publishing")
            .count();
    }
    assert!(paths.iter().all(|p| p == &paths[0]), "{paths:?}");
    assert_eq!(publishes, 1, "exactly one process wrote the path");
    assert_eq!(final_entries(&store).len(), 1);
    assert!(scratch_entries(&store).is_empty());
    run_ok(strata(&store).args(["store", "verify"]));
    // Nothing accumulates in the scratch area, not even lock files.
    assert_eq!(fs::read_dir(store.join(".strata/tmp")).unwrap().count(), 0);
    make_deletable(&store);
}
