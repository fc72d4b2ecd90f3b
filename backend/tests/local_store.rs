//! The local store: adding, canonical metadata, queries, GC roots and collection, verify, litter.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use strata_backend::store::lock::FileLock;
use strata_backend::store::{LocalStore, StoreDir, StorePath, VerifyProblem};

fn tree(at: &Path) {
    fs::create_dir_all(at.join("bin")).unwrap();
    fs::write(at.join("bin/tool"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(at.join("bin/tool"), fs::Permissions::from_mode(0o4775)).unwrap();
    fs::write(at.join("data.txt"), "data\n").unwrap();
    fs::set_permissions(at.join("data.txt"), fs::Permissions::from_mode(0o2666)).unwrap();
    std::os::unix::fs::symlink("bin/tool", at.join("link")).unwrap();
    fs::create_dir(at.join("empty")).unwrap();
}

fn set(paths: &[&StorePath]) -> BTreeSet<StorePath> {
    paths.iter().map(|p| (*p).clone()).collect()
}

#[test]
fn add_matches_nix_paths_under_the_logical_store_dir() {
    // The physical root is a temp dir, but paths are named for /nix/store: this must give
    // exactly `nix-store --add` results recorded in the vectors.
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open_at(StoreDir::nix(), &tmp.path().join("s")).unwrap();
    let src = tmp.path().join("regular-file.txt");
    fs::copy(
        shared().join("conformance/store/fixtures/regular-file.txt"),
        &src,
    )
    .unwrap();
    let info = store.add_path(&src, None).unwrap();
    let vectors: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(shared().join("conformance/store/nar-vectors.json")).unwrap(),
    )
    .unwrap();
    let v = vectors
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "regular-file.txt")
        .unwrap();
    assert_eq!(store.store_dir().display(&info.path), v["store_path_add"]);
    assert_eq!(
        info.nar_hash.to_string(),
        v["store_path_add_registered_nar_hash"]
    );
    assert!(store.real_path(&info.path).starts_with(tmp.path()));
}

fn shared() -> std::path::PathBuf {
    std::env::var_os("STRATA_SHARED")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

#[test]
fn added_trees_are_canonical_and_registered() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let src = tmp.path().join("pkg");
    tree(&src);
    let info = store.add_path(&src, Some("pkg-1.0")).unwrap();
    assert_eq!(info.path.name(), "pkg-1.0");
    let real = store.real_path(&info.path);
    let mode = |p: &str| fs::symlink_metadata(real.join(p)).unwrap().mode() & 0o7777;
    assert_eq!(mode(""), 0o555);
    assert_eq!(mode("bin"), 0o555);
    assert_eq!(mode("bin/tool"), 0o555, "setuid dropped, executable kept");
    assert_eq!(mode("data.txt"), 0o444, "setgid dropped");
    assert_eq!(mode("empty"), 0o555);
    for p in ["", "bin", "bin/tool", "data.txt", "link", "empty"] {
        assert_eq!(
            fs::symlink_metadata(real.join(p)).unwrap().mtime(),
            1,
            "{p}"
        );
    }
    assert_eq!(
        fs::read_link(real.join("link")).unwrap(),
        Path::new("bin/tool")
    );
    // The path is the one its NAR hash names, and adding again changes nothing.
    let (h, size) =
        strata_backend::store::nar::hash_path(&real, strata_backend::store::HashAlgo::Sha256)
            .unwrap();
    assert_eq!((h, size), (info.nar_hash, info.nar_size));
    assert_eq!(
        store.store_dir().make_source_path(&h, "pkg-1.0").unwrap(),
        info.path
    );
    let again = store.add_path(&src, Some("pkg-1.0")).unwrap();
    assert_eq!(again, info);
    assert_eq!(store.valid_paths().unwrap(), set(&[&info.path]));
    let stored = store.path_info(&info.path).unwrap().unwrap();
    assert_eq!(stored, info);
    // Nothing is left in the scratch area.
    let tmp_entries = fs::read_dir(tmp.path().join("store/.strata/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp_entries, 0);
}

#[test]
fn references_referrers_closure() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let dir = store.store_dir().clone();
    let a = store.add_text("a", b"leaf", &BTreeSet::new()).unwrap().path;
    let b_text = format!("uses {}", dir.display(&a));
    let b = store
        .add_text("b", b_text.as_bytes(), &set(&[&a]))
        .unwrap()
        .path;
    let c = store.add_text("c", b"c", &set(&[&b])).unwrap().path;
    let lone = store.add_text("lone", b"x", &BTreeSet::new()).unwrap().path;
    assert_eq!(store.references(&b).unwrap(), set(&[&a]));
    assert_eq!(store.referrers(&a).unwrap(), set(&[&b]));
    assert_eq!(store.closure([&c]).unwrap(), set(&[&a, &b, &c]));
    assert_eq!(store.closure([&lone, &a]).unwrap(), set(&[&lone, &a]));
    // Text paths are computed exactly like `builtins.toFile` would.
    assert_eq!(
        dir.compute_text_path("b", b_text.as_bytes(), [&a]).unwrap(),
        b
    );
    // A reference to something that is not valid is refused.
    let ghost = StorePath::from_base_name("00000000000000000000000000000000-ghost").unwrap();
    let e = store.add_text("d", b"d", &set(&[&ghost])).unwrap_err();
    assert!(e.to_string().contains("is not valid"), "{e}");
    assert!(store.references(&ghost).is_err());
}

#[test]
fn gc_deletes_exactly_the_unreachable_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let none = BTreeSet::new();
    let a = store.add_text("a", b"a", &none).unwrap().path;
    let b = store.add_text("b", b"b", &set(&[&a])).unwrap().path;
    let c = store.add_text("c", b"c", &set(&[&b])).unwrap().path;
    let d = store.add_text("d", b"d", &none).unwrap().path;
    let e = store.add_text("e", b"e", &set(&[&d])).unwrap().path;
    let f = store.add_text("f", b"f", &none).unwrap().path;
    let g = store.add_text("g", b"g", &set(&[&f])).unwrap().path;
    // Roots: c via the roots folder, e via a chain of symlinks (like an indirect root),
    // and f passed by the caller (as profile generations are).
    store.add_root("c", &c).unwrap();
    let result = tmp.path().join("result");
    std::os::unix::fs::symlink(store.real_path(&e), &result).unwrap();
    std::os::unix::fs::symlink(&result, store.gcroots_dir().join("auto-e")).unwrap();
    let extra = set(&[&f]);

    let dry = store.collect_garbage(&extra, true).unwrap();
    assert_eq!(dry.deleted, set(&[&g]));
    assert!(store.is_valid(&g).unwrap(), "dry run deletes nothing");

    let report = store.collect_garbage(&extra, false).unwrap();
    assert_eq!(report.roots, set(&[&c, &e, &f]));
    assert_eq!(report.deleted, set(&[&g]));
    assert!(report.bytes_freed > 0);
    for p in [&a, &b, &c, &d, &e, &f] {
        assert!(store.is_valid(p).unwrap(), "{p} kept");
        assert!(store.real_path(p).exists(), "{p} kept on disk");
    }
    assert!(!store.is_valid(&g).unwrap());
    assert!(!store.real_path(&g).exists());

    // Dropping the indirect root frees e and d, and nothing else.
    fs::remove_file(&result).unwrap();
    let report = store.collect_garbage(&extra, false).unwrap();
    assert_eq!(report.deleted, set(&[&d, &e]));
    // No roots at all: everything goes.
    fs::remove_file(store.gcroots_dir().join("c")).unwrap();
    fs::remove_file(store.gcroots_dir().join("auto-e")).unwrap();
    let report = store.collect_garbage(&BTreeSet::new(), false).unwrap();
    assert_eq!(report.deleted, set(&[&a, &b, &c, &f]));
    assert!(store.valid_paths().unwrap().is_empty());
    let left: Vec<_> = fs::read_dir(store.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![".strata"]);
}

#[test]
fn profile_generations_are_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let gen1 = store.add_text("gen1", b"1", &BTreeSet::new()).unwrap().path;
    let gen2 = store.add_text("gen2", b"2", &BTreeSet::new()).unwrap().path;
    let other = store
        .add_text("other", b"o", &BTreeSet::new())
        .unwrap()
        .path;
    let profiles = tmp.path().join("profiles");
    fs::create_dir(&profiles).unwrap();
    std::os::unix::fs::symlink(store.real_path(&gen1), profiles.join("p-1-link")).unwrap();
    std::os::unix::fs::symlink(store.real_path(&gen2), profiles.join("p-2-link")).unwrap();
    std::os::unix::fs::symlink("p-2-link", profiles.join("p")).unwrap();
    let roots = store.roots_in(&profiles).unwrap();
    assert_eq!(roots, set(&[&gen1, &gen2]));
    let report = store.collect_garbage(&roots, false).unwrap();
    assert_eq!(report.deleted, set(&[&other]));
}

#[test]
fn verify_finds_modified_and_missing_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let src = tmp.path().join("pkg");
    tree(&src);
    let good = store.add_path(&src, None).unwrap().path;
    let changed = store
        .add_text("changed", b"original", &BTreeSet::new())
        .unwrap();
    let gone = store
        .add_text("gone", b"gone", &BTreeSet::new())
        .unwrap()
        .path;
    assert!(store.verify().unwrap().problems.is_empty());

    let real = store.real_path(&changed.path);
    fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&real, "tampered").unwrap();
    fs::remove_file(store.real_path(&gone)).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.checked, 3);
    assert_eq!(report.problems.len(), 2);
    assert_eq!(
        report.problems.iter().find(|(p, _)| *p == gone).unwrap().1,
        VerifyProblem::Missing
    );
    let modified = &report
        .problems
        .iter()
        .find(|(p, _)| *p == changed.path)
        .unwrap()
        .1;
    assert!(
        matches!(modified, VerifyProblem::Modified { expected, .. } if *expected == changed.nar_hash)
    );
    assert!(!report.problems.iter().any(|(p, _)| *p == good));
}

#[test]
fn litter_is_cleaned_but_work_in_progress_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let meta = tmp.path().join("store/.strata");
    // A crashed add: scratch entry whose lock nobody holds.
    fs::create_dir_all(meta.join("tmp/add-1-0-0/sub")).unwrap();
    fs::set_permissions(
        meta.join("tmp/add-1-0-0"),
        fs::Permissions::from_mode(0o555),
    )
    .unwrap();
    // A running add: its lock is held.
    fs::create_dir(meta.join("tmp/add-2-0-0")).unwrap();
    let _held = FileLock::exclusive(&meta.join("tmp/add-2-0-0.lock")).unwrap();
    // A crash between rename and register: a final-named but unregistered entry.
    let unregistered = StorePath::from_base_name("11111111111111111111111111111111-half").unwrap();
    fs::write(store.real_path(&unregistered), "x").unwrap();
    let valid = store
        .add_text("valid", b"v", &BTreeSet::new())
        .unwrap()
        .path;

    let removed = store.clean_litter().unwrap();
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(!meta.join("tmp/add-1-0-0").exists());
    assert!(meta.join("tmp/add-2-0-0").exists());
    assert!(!store.real_path(&unregistered).exists());
    assert!(store.real_path(&valid).exists());
}

#[test]
fn register_built_scans_references() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&tmp.path().join("store")).unwrap();
    let dep = store
        .add_text("dep", b"dep", &BTreeSet::new())
        .unwrap()
        .path;
    let unrelated = store
        .add_text("unrelated", b"u", &BTreeSet::new())
        .unwrap()
        .path;
    let out = StorePath::from_base_name("22222222222222222222222222222222-out").unwrap();
    let _guard = store.gc_guard().unwrap();
    let _lock = store.lock_path(&out).unwrap();
    let real = store.real_path(&out);
    fs::create_dir(&real).unwrap();
    let text = format!(
        "{} and myself {}",
        store.store_dir().display(&dep),
        store.store_dir().display(&out)
    );
    fs::write(real.join("f"), text).unwrap();
    let info = store
        .register_built(&out, &set(&[&dep, &unrelated]), None)
        .unwrap();
    assert_eq!(info.references, set(&[&dep, &out]));
    assert_eq!(store.closure([&out]).unwrap(), set(&[&dep, &out]));
    assert_eq!(fs::metadata(real.join("f")).unwrap().mode() & 0o777, 0o444);
}
