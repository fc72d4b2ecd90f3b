//! Running one derivation's builder under Nix's contract, then verifying, canonicalising and
//! registering its outputs.
//!
//! The contract: an empty environment plus the derivation's (or, with `__structuredAttrs`,
//! `.attrs.json`/`.attrs.sh` files), `passAsFile` attributes as files, a fresh build folder
//! as `NIX_BUILD_TOP`/`TMPDIR`/... and working directory, `HOME=/homeless-shelter`,
//! `PATH=/path-not-set`. Outputs are registered only when every output exists and, for a
//! fixed-output derivation, has the declared hash.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::graph::BuildGraph;
use super::{log_path, BuildFailure, BuildSettings};
use crate::engine::{Event, EventSink};
use crate::store::hash::{Hash, HashAlgo, HashEncoding, Hasher};
use crate::store::{fsutil, nar, Derivation, FileIngestionMethod, LocalStore, PathInfo, StorePath};

/// Builders being run: a "stop" flag and each one's process group id.
pub type Running = Mutex<(bool, BTreeMap<StorePath, u32>)>;

/// How builders are separated from the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Run as a plain child process.
    #[default]
    None,
    /// Private mount, network and PID namespaces (Linux; needs user namespaces or root).
    Namespaces,
}

const UNSHARE: &str = "/usr/bin/unshare";

fn unshare_args() -> Vec<String> {
    let mut a: Vec<String> = ["--mount", "--net", "--pid", "--fork", "--kill-child"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        a.push("--map-root-user".into());
    }
    a
}

/// Checks that namespace isolation works here; the error says why not.
pub fn probe_isolation(isolation: Isolation) -> Result<(), String> {
    if isolation == Isolation::None {
        return Ok(());
    }
    if !Path::new(UNSHARE).exists() {
        return Err(format!(
            "build isolation with namespaces was asked for, but {UNSHARE} (util-linux) is missing; install it or build without isolation"
        ));
    }
    let out = Command::new(UNSHARE)
        .args(unshare_args())
        .arg("/bin/sh")
        .arg("-c")
        .arg("true")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {UNSHARE}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "build isolation with namespaces was asked for, but this kernel does not allow it ({}); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or build without isolation",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

static BUILD_COUNTER: AtomicU64 = AtomicU64::new(0);

fn fail(drv: &str, message: impl Into<String>) -> BuildFailure {
    BuildFailure {
        drv: drv.to_owned(),
        message: message.into(),
        log_tail: Vec::new(),
        log_file: None,
    }
}

/// Builds one derivation whose inputs are all valid.
pub fn build_one(
    store: &LocalStore,
    graph: &BuildGraph,
    drv_path: &StorePath,
    drv: &Derivation,
    settings: &BuildSettings,
    sink: &dyn EventSink,
    running: &Running,
) -> Result<(), BuildFailure> {
    let sd = store.store_dir();
    let shown = sd.display(drv_path);
    let err = |m: String| fail(&shown, m);
    if store.real_path(drv_path) != Path::new(&shown) {
        return Err(err(format!(
            "this store's paths live in {} but are named for {}; builders can only run where the two agree",
            store.root().display(),
            sd
        )));
    }
    let outputs: BTreeMap<String, StorePath> = drv
        .outputs
        .iter()
        .map(|(n, o)| {
            o.path
                .clone()
                .map(|p| (n.clone(), p))
                .ok_or_else(|| err(format!("output '{n}' has no path")))
        })
        .collect::<Result<_, _>>()?;
    let _guard = store.gc_guard().map_err(|e| err(e.to_string()))?;
    let mut _locks = Vec::new();
    for p in outputs.values() {
        _locks.push(store.lock_path(p).map_err(|e| err(e.to_string()))?);
    }
    // Another process may have built it while we waited for the locks.
    let mut all_valid = true;
    for p in outputs.values() {
        all_valid &= store.is_valid(p).map_err(|e| err(e.to_string()))?;
    }
    if all_valid {
        return Ok(());
    }
    for p in outputs.values() {
        let real = store.real_path(p);
        fsutil::remove_tree(&real).map_err(|e| err(format!("{}: {e}", real.display())))?;
    }

    let build_root = settings
        .build_root
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let top = build_root.join(format!(
        "strata-build-{}-{}-{}",
        drv_path.name().trim_end_matches(".drv"),
        std::process::id(),
        BUILD_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&top).map_err(|e| err(format!("{}: {e}", top.display())))?;
    let log_file = log_path(&settings.log_dir, drv_path);
    let result = run_builder(
        store, drv_path, drv, &outputs, settings, sink, running, &top, &log_file,
    )
    .and_then(|()| register_outputs(store, graph, drv_path, drv, &outputs));
    match result {
        Ok(()) => {
            let _ = fsutil::remove_tree(&top);
            Ok(())
        }
        Err(message) => {
            for p in outputs.values() {
                let _ = fsutil::remove_tree(&store.real_path(p));
            }
            let mut message = message;
            if settings.keep_failed {
                message.push_str(&format!("; build folder kept in {}", top.display()));
            } else {
                let _ = fsutil::remove_tree(&top);
            }
            Err(BuildFailure {
                drv: shown,
                message,
                log_tail: tail(&log_file, 25),
                log_file: Some(log_file),
            })
        }
    }
}

fn tail(file: &Path, n: usize) -> Vec<String> {
    let text = fs::read_to_string(file).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `passAsFile` file names: `.attr-` plus the base32 SHA-256 of the attribute name.
fn pass_as_file_name(attr: &str) -> String {
    format!(".attr-{}", Hash::sha256(attr.as_bytes()).to_base32())
}

/// The environment of the builder, writing the files it refers to into `top`.
fn builder_env(
    store: &LocalStore,
    drv: &Derivation,
    outputs: &BTreeMap<String, StorePath>,
    settings: &BuildSettings,
    top: &Path,
) -> Result<BTreeMap<String, String>, String> {
    let sd = store.store_dir();
    let top_s = top.to_string_lossy().into_owned();
    let rewrite = placeholder_rewriter(sd, outputs);
    let mut env = BTreeMap::new();
    env.insert("PATH".into(), "/path-not-set".into());
    env.insert("HOME".into(), "/homeless-shelter".into());
    env.insert("NIX_STORE".into(), sd.as_str().to_owned());
    env.insert("NIX_BUILD_CORES".into(), settings.cores.to_string());
    let write = |name: &str, contents: &[u8]| -> Result<(), String> {
        let f = top.join(name);
        fs::write(&f, contents).map_err(|e| format!("{}: {e}", f.display()))
    };
    if let Some(json) = drv.env.get("__json") {
        let mut attrs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| format!("__json is not a JSON object: {e}"))?;
        let outs: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .map(|(n, p)| (n.clone(), serde_json::Value::String(sd.display(p))))
            .collect();
        attrs.insert("outputs".into(), serde_json::Value::Object(outs));
        // Nix writes the keys sorted; the map keeps insertion order (`preserve_order`).
        attrs.sort_keys();
        let text = serde_json::to_string(&attrs).map_err(|e| e.to_string())?;
        write(".attrs.json", rewrite(&text).as_bytes())?;
        write(
            ".attrs.sh",
            rewrite(&structured_attrs_sh(&attrs)).as_bytes(),
        )?;
        env.insert("NIX_ATTRS_JSON_FILE".into(), format!("{top_s}/.attrs.json"));
        env.insert("NIX_ATTRS_SH_FILE".into(), format!("{top_s}/.attrs.sh"));
    } else {
        let pass_as_file: BTreeSet<&str> = drv
            .env
            .get("passAsFile")
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        for (k, v) in &drv.env {
            if pass_as_file.contains(k.as_str()) {
                let name = pass_as_file_name(k);
                write(&name, rewrite(v).as_bytes())?;
                env.insert(format!("{k}Path"), format!("{top_s}/{name}"));
            } else {
                env.insert(k.clone(), rewrite(v));
            }
        }
    }
    if drv.is_fixed_output() {
        // Fixed-output builders may see the variables they declare impure (proxies and such).
        if let Some(impure) = drv.env.get("impureEnvVars") {
            for var in impure.split_whitespace() {
                if let Ok(v) = std::env::var(var) {
                    env.insert(var.to_owned(), v);
                }
            }
        }
    }
    for var in ["NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"] {
        env.insert(var.into(), top_s.clone());
    }
    env.insert("NIX_LOG_FD".into(), "2".into());
    env.insert("TERM".into(), "xterm-256color".into());
    Ok(env)
}

/// Replaces each output's `builtins.placeholder` (`/<nix32 of sha256 "nix-output:NAME">`)
/// with the output's path, as Nix does in the environment, files and arguments of a builder.
fn placeholder_rewriter(
    sd: &crate::store::StoreDir,
    outputs: &BTreeMap<String, StorePath>,
) -> impl Fn(&str) -> String {
    let pairs: Vec<(String, String)> = outputs
        .iter()
        .map(|(name, path)| {
            let h = crate::store::Hash::sha256(format!("nix-output:{name}").as_bytes());
            (format!("/{}", h.to_base32()), sd.display(path))
        })
        .collect();
    move |s: &str| {
        let mut s = s.to_owned();
        for (from, to) in &pairs {
            if s.contains(from.as_str()) {
                s = s.replace(from.as_str(), to);
            }
        }
        s
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn sh_simple(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(shell_quote(s)),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        serde_json::Value::Number(n) => Some(shell_quote(&n.to_string())),
        serde_json::Value::Bool(true) => Some("1".into()),
        serde_json::Value::Bool(false) => Some(String::new()),
        serde_json::Value::Null => Some(String::new()),
        _ => None,
    }
}

fn is_shell_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `.attrs.sh`: the structured attributes bash can hold, as `declare` lines.
fn structured_attrs_sh(attrs: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut out = String::new();
    for (k, v) in attrs {
        if !is_shell_name(k) {
            continue;
        }
        if let Some(s) = sh_simple(v) {
            out.push_str(&format!("declare {k}={s}\n"));
            continue;
        }
        match v {
            serde_json::Value::Array(items) => {
                let parts: Option<Vec<String>> = items.iter().map(sh_simple).collect();
                if let Some(parts) = parts {
                    out.push_str(&format!("declare -a {k}=({} )\n", parts.join(" ")));
                }
            }
            serde_json::Value::Object(map) => {
                let parts: Option<Vec<String>> = map
                    .iter()
                    .map(|(mk, mv)| sh_simple(mv).map(|s| format!("[{}]={s}", shell_quote(mk))))
                    .collect();
                if let Some(parts) = parts {
                    out.push_str(&format!("declare -A {k}=({} )\n", parts.join(" ")));
                }
            }
            _ => {}
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn run_builder(
    store: &LocalStore,
    drv_path: &StorePath,
    drv: &Derivation,
    outputs: &BTreeMap<String, StorePath>,
    settings: &BuildSettings,
    sink: &dyn EventSink,
    running: &Running,
    top: &Path,
    log_file: &Path,
) -> Result<(), String> {
    let env = builder_env(store, drv, outputs, settings, top)?;
    if let Some(dir) = log_file.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut log = fs::File::create(log_file).map_err(|e| format!("{}: {e}", log_file.display()))?;
    let mut cmd = match settings.isolation {
        Isolation::None => Command::new(&drv.builder),
        Isolation::Namespaces => {
            let mut c = Command::new(UNSHARE);
            c.args(unshare_args()).arg("--").arg(&drv.builder);
            c
        }
    };
    let (reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let writer2 = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    let rewrite = placeholder_rewriter(store.store_dir(), outputs);
    cmd.args(drv.args.iter().map(|a| rewrite(a)))
        .env_clear()
        .envs(&env)
        .current_dir(top)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .process_group(0);
    let mut child = {
        let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
        if r.0 {
            return Err("not started: another build failed or the job was cancelled".into());
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run builder '{}': {e}", drv.builder))?;
        r.1.insert(drv_path.clone(), child.id());
        child
    };
    drop(cmd);
    let drv_shown = store.store_dir().display(drv_path);
    let name = drv_path.name().trim_end_matches(".drv").to_owned();
    for line in BufReader::new(reader).split(b'\n') {
        let Ok(line) = line else { break };
        let _ = log.write_all(&line);
        let _ = log.write_all(b"\n");
        sink.emit(Event::LogLine {
            drv: drv_shown.clone(),
            name: name.clone(),
            line: String::from_utf8_lossy(&line).into_owned(),
        });
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for builder: {e}"));
    running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .remove(drv_path);
    let status = status?;
    if !status.success() {
        return Err(match status.code() {
            Some(c) => format!("builder failed with exit code {c}"),
            None => "builder was killed".to_owned(),
        });
    }
    for (n, p) in outputs {
        if fs::symlink_metadata(store.real_path(p)).is_err() {
            return Err(format!(
                "builder failed to produce output path for output '{n}' ({})",
                store.store_dir().display(p)
            ));
        }
    }
    Ok(())
}

/// Verifies fixed outputs, canonicalises, scans references and registers all outputs at once.
fn register_outputs(
    store: &LocalStore,
    graph: &BuildGraph,
    drv_path: &StorePath,
    drv: &Derivation,
    outputs: &BTreeMap<String, StorePath>,
) -> Result<(), String> {
    let sd = store.store_dir();
    let e = |x: crate::store::StoreError| x.to_string();
    // References may point at anything in the inputs' closure and at the outputs themselves.
    let mut inputs: BTreeSet<StorePath> = drv.input_srcs.clone();
    for (i, outs) in &drv.input_drvs {
        if let Some(idrv) = graph.drv(i) {
            for o in outs {
                if let Some(p) = idrv.outputs.get(o).and_then(|o| o.path.clone()) {
                    inputs.insert(p);
                }
            }
        }
    }
    let mut candidates = store.closure(inputs.iter()).map_err(e)?;
    candidates.extend(outputs.values().cloned());
    let mut infos = Vec::new();
    for (n, p) in outputs {
        let real = store.real_path(p);
        fsutil::canonicalise(&real).map_err(|x| format!("{}: {x}", real.display()))?;
        let mut ca = None;
        if let Some(fixed) = drv.outputs.get(n).and_then(|o| o.fixed) {
            let got = match fixed.method {
                FileIngestionMethod::Recursive => {
                    nar::hash_path(&real, fixed.hash.algo())
                        .map_err(|x| x.to_string())?
                        .0
                }
                FileIngestionMethod::Flat => {
                    if !fs::symlink_metadata(&real).is_ok_and(|m| m.is_file()) {
                        return Err(format!(
                            "output '{}' of a flat fixed-output derivation is not a regular file",
                            sd.display(p)
                        ));
                    }
                    let mut h = Hasher::new(fixed.hash.algo());
                    let mut f = fs::File::open(&real).map_err(|x| x.to_string())?;
                    std::io::copy(&mut f, &mut h).map_err(|x| x.to_string())?;
                    h.finish()
                }
            };
            if got != fixed.hash {
                return Err(format!(
                    "hash mismatch in fixed-output derivation '{}':\n  specified: {}\n     got:    {}",
                    sd.display(drv_path),
                    fixed.hash.to_sri(),
                    got.to_sri()
                ));
            }
            ca = Some(format!(
                "fixed:{}{}",
                if fixed.method == FileIngestionMethod::Recursive {
                    "r:"
                } else {
                    ""
                },
                got.to_typed(HashEncoding::Base32)
            ));
        }
        let (nar_hash, nar_size) =
            nar::hash_path(&real, HashAlgo::Sha256).map_err(|x| x.to_string())?;
        let references = crate::store::references::scan_references(&real, &candidates)
            .map_err(|x| x.to_string())?;
        infos.push(PathInfo {
            path: p.clone(),
            nar_hash,
            nar_size,
            references,
            deriver: Some(drv_path.clone()),
            registration_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            ca,
        });
    }
    store.db().register(&infos).map_err(|x| x.to_string())?;
    Ok(())
}

/// The build folder a test can look for.
pub fn build_folder_prefix(drv: &StorePath) -> String {
    format!("strata-build-{}-", drv.name().trim_end_matches(".drv"))
}
