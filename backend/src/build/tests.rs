//! Scheduler and builder tests over derivations written into a temporary store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;

use super::*;
use crate::engine::Event;
use crate::store::{
    nar, Derivation, DerivationOutput, FileIngestionMethod, FixedOutputHash, Hash, HashAlgo,
    StorePath,
};

/// A temporary store plus the modulo hashes of the derivations written into it.
struct TestStore {
    _dir: tempfile::TempDir,
    store: LocalStore,
    logs: PathBuf,
    hashes: HashMap<StorePath, Hash>,
}

impl TestStore {
    fn new() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("store")).unwrap();
        let logs = dir.path().join("logs");
        TestStore {
            _dir: dir,
            store,
            logs,
            hashes: HashMap::new(),
        }
    }

    /// Writes a `/bin/sh -c script` derivation depending on `inputs` (their `out`).
    fn drv(&mut self, name: &str, script: &str, inputs: &[&StorePath]) -> StorePath {
        self.drv_with(name, &format!("{P}{script}"), inputs, &[], None)
    }

    fn drv_with(
        &mut self,
        name: &str,
        script: &str,
        inputs: &[&StorePath],
        extra_env: &[(&str, &str)],
        fixed: Option<FixedOutputHash>,
    ) -> StorePath {
        let sd = self.store.store_dir().clone();
        // `.attrs.sh` needs bash.
        let shell = if extra_env.iter().any(|(k, _)| *k == "__json") {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        let mut drv = Derivation {
            platform: "x86_64-linux".into(),
            builder: shell.into(),
            args: vec!["-c".into(), script.into()],
            ..Default::default()
        };
        let outs: Vec<String> = extra_env
            .iter()
            .find(|(k, _)| *k == "outputs")
            .map(|(_, v)| v.split(' ').map(String::from).collect())
            .unwrap_or_else(|| vec!["out".into()]);
        for o in &outs {
            drv.outputs
                .insert(o.clone(), DerivationOutput { path: None, fixed });
            drv.env.insert(o.clone(), String::new());
        }
        drv.env.insert("name".into(), name.into());
        drv.env.insert("builder".into(), shell.into());
        drv.env.insert("system".into(), "x86_64-linux".into());
        for (k, v) in extra_env {
            drv.env.insert(k.to_string(), v.to_string());
        }
        for (i, input) in inputs.iter().enumerate() {
            drv.input_drvs
                .insert((*input).clone(), BTreeSet::from(["out".to_owned()]));
            let idrv = graph::read_drv(&self.store, input).unwrap();
            let p = idrv.outputs["out"].path.clone().unwrap();
            drv.env.insert(format!("in{i}"), sd.display(&p));
        }
        let hashes = &self.hashes;
        drv.fill_output_paths(&sd, name, &mut |p| Ok(hashes[p]))
            .unwrap();
        let modulo = drv
            .hash_modulo(&sd, name, false, &mut |p| Ok(hashes[p]))
            .unwrap();
        let text = drv.to_aterm(&sd);
        let info = self
            .store
            .add_text(&format!("{name}.drv"), text.as_bytes(), &drv.references())
            .unwrap();
        assert_eq!(info.path, drv.drv_path(&sd, name).unwrap());
        self.hashes.insert(info.path.clone(), modulo);
        info.path
    }

    fn settings(&self) -> BuildSettings {
        BuildSettings::new(self.logs.clone())
    }

    fn out(&self, drv: &StorePath) -> StorePath {
        self.output(drv, "out")
    }

    fn output(&self, drv: &StorePath, name: &str) -> StorePath {
        graph::read_drv(&self.store, drv).unwrap().outputs[name]
            .path
            .clone()
            .unwrap()
    }

    fn real(&self, p: &StorePath) -> PathBuf {
        self.store.real_path(p)
    }

    fn valid(&self, p: &StorePath) -> bool {
        self.store.is_valid(p).unwrap()
    }

    fn realise(&self, drvs: &[&StorePath], s: &BuildSettings) -> Result<BuildReport, BuildError> {
        let events = Mutex::new(Vec::new());
        let sink = |e: Event| events.lock().unwrap().push(e);
        let roots: Vec<StorePath> = drvs.iter().map(|d| (*d).clone()).collect();
        realise(&self.store, &roots, s, &sink, &CancelToken::new())
    }
}

/// Builders start with `PATH=/path-not-set`; test scripts use the host's tools.
const P: &str = "export PATH=/usr/bin:/bin; ";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn builds_in_dependency_order_and_registers_references() {
    let mut t = TestStore::new();
    let a = t.drv("a", "echo a > $out", &[]);
    let b = t.drv(
        "b",
        "mkdir $out; cat $in0 > $out/f; echo $in0 > $out/ref",
        &[&a],
    );
    let c = t.drv("c", "cat $in0/f $in1 > $out", &[&b, &a]);
    let r = t.realise(&[&c], &t.settings()).unwrap();
    assert_eq!(r.built, vec![a.clone(), b.clone(), c.clone()]);
    assert_eq!(read(&t.real(&t.out(&c))), "a\na\n");
    let refs = t.store.references(&t.out(&b)).unwrap();
    assert_eq!(refs, BTreeSet::from([t.out(&a)]));
    assert!(t.store.references(&t.out(&c)).unwrap().is_empty());
    let info = t.store.path_info(&t.out(&b)).unwrap().unwrap();
    assert_eq!(info.deriver, Some(b.clone()));
    // Canonical: read-only, mtime 1.
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(t.real(&t.out(&b)).join("f")).unwrap();
    assert_eq!((m.mode() & 0o777, m.mtime()), (0o444, 1));
    // Building again is a no-op.
    let again = t.realise(&[&c], &t.settings()).unwrap();
    assert!(again.built.is_empty());
    assert_eq!(again.outputs[&c]["out"], t.out(&c));
}

#[test]
fn builder_sees_nix_contract_environment() {
    let mut t = TestStore::new();
    let d = t.drv_with(
        "env",
        "/usr/bin/env | /usr/bin/sort > $out; /bin/pwd >> $out; /bin/cat $bigPath >> $out; echo \"$bigPath\" >> $out",
        &[],
        &[("passAsFile", "big"), ("big", "payload"), ("plain", "x y")],
        None,
    );
    let mut s = t.settings();
    s.cores = 3;
    s.build_root = Some(t._dir.path().join("builds"));
    std::fs::create_dir_all(s.build_root.as_ref().unwrap()).unwrap();
    t.realise(&[&d], &s).unwrap();
    let text = read(&t.real(&t.out(&d)));
    let vars: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let top = vars["NIX_BUILD_TOP"];
    assert!(top.contains("/builds/strata-build-env-"), "{top}");
    for v in ["TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"] {
        assert_eq!(vars[v], top, "{v}");
    }
    assert_eq!(vars["HOME"], "/homeless-shelter");
    assert_eq!(vars["PATH"], "/path-not-set");
    assert_eq!(vars["NIX_STORE"], t.store.store_dir().as_str());
    assert_eq!(vars["NIX_BUILD_CORES"], "3");
    assert_eq!(vars["NIX_LOG_FD"], "2");
    assert_eq!(vars["out"], t.store.store_dir().display(&t.out(&d)));
    assert_eq!(vars["plain"], "x y");
    assert!(!vars.contains_key("big"));
    let attr_file = format!("{top}/.attr-{}", Hash::sha256(b"big").to_base32());
    assert!(text.ends_with(&format!("\npayload{attr_file}\n")), "{text}");
    // Nothing of the parent's environment leaks in.
    assert!(!vars.contains_key("CARGO_PKG_NAME"));
    // The build folder is gone.
    assert_eq!(
        std::fs::read_dir(s.build_root.as_ref().unwrap())
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn structured_attrs_files() {
    let mut t = TestStore::new();
    let json =
        r#"{"name":"sa","list":["a","b c"],"n":3,"flag":true,"set":{"k":"v"},"outputs":["out"]}"#;
    let d = t.drv_with(
        "sa",
        &(P.to_owned() + ". $NIX_BUILD_TOP/.attrs.sh; out=${outputs[out]}; mkdir $out; cp $NIX_ATTRS_JSON_FILE $out/json; echo \"${list[1]}|$n|$flag|${set[k]}|${outputs[out]}\" > $out/sh; echo \"${plain-unset}\" >> $out/sh"),
        &[],
        &[("__json", json)],
        None,
    );
    t.realise(&[&d], &t.settings()).unwrap();
    let out = t.real(&t.out(&d));
    let shown = t.store.store_dir().display(&t.out(&d));
    let j: serde_json::Value = serde_json::from_str(&read(&out.join("json"))).unwrap();
    assert_eq!(j["outputs"]["out"], shown.as_str());
    assert_eq!(j["list"][1], "b c");
    assert_eq!(read(&out.join("sh")), format!("b c|3|1|v|{shown}\nunset\n"));
}

#[test]
fn failure_stops_cleanly_and_keeps_log() {
    let mut t = TestStore::new();
    let bad = t.drv("bad", "echo about to fail; mkdir $out; exit 3", &[]);
    let slow = t.drv("slow", "sleep 30; echo > $out", &[]);
    let after = t.drv("after", "echo > $out", &[&bad]);
    let top = t.drv("top", "echo > $out", &[&after, &slow]);
    let mut s = t.settings();
    s.jobs = 2;
    let err = t.realise(&[&top], &s).unwrap_err();
    let BuildError::Failed { failures } = err else {
        panic!("{err}")
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].drv, t.store.store_dir().display(&bad));
    assert!(failures[0].message.contains("exit code 3"));
    assert_eq!(failures[0].log_tail, vec!["about to fail".to_string()]);
    for d in [&bad, &slow, &after, &top] {
        assert!(!t.valid(&t.out(d)), "{d}");
        assert!(!t.real(&t.out(d)).exists(), "{d}");
    }
    assert_eq!(read(&log_path(&t.logs, &bad)), "about to fail\n");
}

#[test]
fn keep_going_builds_what_does_not_depend_on_the_failure() {
    let mut t = TestStore::new();
    let bad = t.drv("bad", "exit 1", &[]);
    let good = t.drv("good", "echo > $out", &[]);
    let after = t.drv("after", "echo > $out", &[&bad]);
    let mut s = t.settings();
    s.keep_going = true;
    s.keep_failed = true;
    s.build_root = Some(t._dir.path().join("builds"));
    std::fs::create_dir_all(s.build_root.as_ref().unwrap()).unwrap();
    let err = t.realise(&[&after, &good], &s).unwrap_err();
    let BuildError::Failed { failures } = err else {
        panic!("{err}")
    };
    assert_eq!(failures.len(), 1);
    assert!(failures[0].message.contains("build folder kept in"));
    assert!(t.valid(&t.out(&good)));
    assert!(!t.valid(&t.out(&after)));
    let kept: Vec<_> = std::fs::read_dir(s.build_root.as_ref().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].starts_with(&builder::build_folder_prefix(&bad)));
}

#[test]
fn parallel_jobs_run_at_once() {
    let mut t = TestStore::new();
    let dir = t._dir.path().join("meet");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    // Each waits (bounded) for the other's mark: only succeeds when both run together.
    let script = |me: &str, other: &str| {
        format!(
            "touch {d}/{me}; i=0; while [ ! -e {d}/{other} ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done; [ -e {d}/{other} ] && echo > $out"
        )
    };
    let a = t.drv("pa", &script("a", "b"), &[]);
    let b = t.drv("pb", &script("b", "a"), &[]);
    let mut s = t.settings();
    s.jobs = 2;
    t.realise(&[&a, &b], &s).unwrap();
    assert!(t.valid(&t.out(&a)) && t.valid(&t.out(&b)));
}

#[test]
fn missing_output_is_an_error() {
    let mut t = TestStore::new();
    let d = t.drv_with("two", "echo > $out", &[], &[("outputs", "out dev")], None);
    let err = t.realise(&[&d], &t.settings()).unwrap_err().to_string();
    assert!(
        err.contains("failed to produce output path for output 'dev'"),
        "{err}"
    );
    assert!(!t.valid(&t.out(&d)));
}

#[test]
fn multiple_outputs_may_refer_to_each_other() {
    let mut t = TestStore::new();
    let d = t.drv_with(
        "two",
        "echo $dev > $out; echo $out > $dev",
        &[],
        &[("outputs", "out dev")],
        None,
    );
    t.realise(&[&d], &t.settings()).unwrap();
    let (out, dev) = (t.output(&d, "out"), t.output(&d, "dev"));
    assert_eq!(
        t.store.references(&out).unwrap(),
        BTreeSet::from([dev.clone()])
    );
    assert_eq!(t.store.references(&dev).unwrap(), BTreeSet::from([out]));
}

fn fixed(method: FileIngestionMethod, contents_hash: Hash) -> Option<FixedOutputHash> {
    Some(FixedOutputHash {
        method,
        hash: contents_hash,
    })
}

#[test]
fn fixed_output_flat_and_recursive_verified() {
    let mut t = TestStore::new();
    let flat = t.drv_with(
        "flat",
        "printf hello > $out",
        &[],
        &[],
        fixed(FileIngestionMethod::Flat, Hash::sha256(b"hello")),
    );
    // The NAR hash of a directory holding one file `f` with "hi".
    let tmp = t._dir.path().join("expect");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("f"), "hi").unwrap();
    let nar_hash = nar::hash_path(&tmp, HashAlgo::Sha256).unwrap().0;
    let rec = t.drv_with(
        "rec",
        &format!("{P}mkdir $out; printf hi > $out/f"),
        &[],
        &[],
        fixed(FileIngestionMethod::Recursive, nar_hash),
    );
    t.realise(&[&flat, &rec], &t.settings()).unwrap();
    let info = t.store.path_info(&t.out(&flat)).unwrap().unwrap();
    assert_eq!(
        info.ca.as_deref(),
        Some(format!("fixed:sha256:{}", Hash::sha256(b"hello").to_base32()).as_str())
    );
    // The path is the one a content-addressed add of the same bytes gets.
    let file = t._dir.path().join("hello");
    std::fs::write(&file, "hello").unwrap();
    let added = t
        .store
        .add_fixed(
            &file,
            "flat",
            FileIngestionMethod::Flat,
            HashAlgo::Sha256,
            &mut |_, _| true,
        )
        .unwrap();
    assert_eq!(added.path, t.out(&flat));
    assert!(t.valid(&t.out(&rec)));
}

#[test]
fn fixed_output_mismatch_reports_both_hashes() {
    let mut t = TestStore::new();
    let want = Hash::sha256(b"expected");
    let d = t.drv_with(
        "fod",
        "printf other > $out",
        &[],
        &[],
        fixed(FileIngestionMethod::Flat, want),
    );
    let err = t.realise(&[&d], &t.settings()).unwrap_err().to_string();
    assert!(err.contains(&want.to_sri()), "{err}");
    assert!(err.contains(&Hash::sha256(b"other").to_sri()), "{err}");
    assert!(!t.valid(&t.out(&d)));
    assert!(!t.real(&t.out(&d)).exists());
}

#[test]
fn cancel_kills_running_builders() {
    let mut t = TestStore::new();
    let d = t.drv("sleepy", "sleep 60; echo > $out", &[]);
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let store = &t.store;
    let sink = |e: Event| {
        if matches!(e, Event::BuildStarted { .. }) {
            c2.cancel();
        }
    };
    let err = realise(
        store,
        std::slice::from_ref(&d),
        &t.settings(),
        &sink,
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::Cancelled), "{err}");
    assert!(!t.valid(&t.out(&d)));
}

#[test]
fn isolation_hides_the_network_and_other_processes() {
    let mut t = TestStore::new();
    let d = t.drv(
        "iso",
        "echo $$ > $out; ls /sys/class/net >> $out 2>&1 || true",
        &[],
    );
    let mut s = t.settings();
    s.isolation = Isolation::Namespaces;
    match builder::probe_isolation(Isolation::Namespaces) {
        Err(msg) => {
            // Asked for isolation where there is none: a clear error, never a plain build.
            let err = t.realise(&[&d], &s).unwrap_err().to_string();
            assert_eq!(err, msg);
            assert!(!t.valid(&t.out(&d)));
        }
        Ok(()) => {
            t.realise(&[&d], &s).unwrap();
            let text = read(&t.real(&t.out(&d)));
            let mut lines = text.lines();
            // PID 1 of its own namespace (unshare --fork runs the builder as its child).
            assert_eq!(lines.next(), Some("1"), "{text}");
        }
    }
}
