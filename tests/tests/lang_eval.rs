//! Nix's own language tests (`../shared/conformance/lang`) run through `strata eval`,
//! judged by current Nix: okay cases must print upstream's expected output, fail cases
//! must exit 1 with upstream's error message.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// Cases known to pass; the suite fails if fewer pass (raised as the evaluator grows).
const MIN_PASSING: usize = 306;

/// Cases about symlinks, and a fixture that must be a symlink for them to make sense:
/// a copy of `../shared` made without symlinks turns these into plain files.
const NEEDS_SYMLINK: &[(&str, &str)] = &[
    ("eval-okay-readDir", "lang/readDir/ldir"),
    ("eval-okay-readFileType", "lang/readDir/ldir"),
    (
        "eval-okay-symlink-resolution",
        "lang/symlink-resolution/foo/overlays",
    ),
];

struct Outcome {
    exit: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn run_case(dir: &Path, entry: &Json) -> Outcome {
    let args: Vec<&str> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .filter(|a| *a != "--eval")
        .collect();
    let mut cmd = Command::new(strata_tests::strata_bin());
    cmd.arg("eval").args(&args).current_dir(dir).env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Some(env) = entry["env"].as_object() {
        for (k, v) in env {
            cmd.env(k, v.as_str().unwrap_or_default());
        }
    }
    let stdin_file = entry["stdin"].as_str().map(|f| dir.join(f));
    cmd.stdin(if stdin_file.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn strata");
    if let Some(f) = stdin_file {
        let data = std::fs::read(f).expect("stdin file");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&data)
            .expect("write stdin");
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    // A runaway case must not hang the suite.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let pwd = dir.to_string_lossy().into_owned();
    let stdout = t_out.join().unwrap_or_default();
    let stdout = String::from_utf8(stdout.clone())
        .map(|s| s.replace(&pwd, "/pwd").into_bytes())
        .unwrap_or(stdout);
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).replace(&pwd, "/pwd");
    Outcome {
        exit: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

fn expected_stdout(entry: &Json) -> Vec<u8> {
    if let Some(s) = entry["upstream_expected_stdout"].as_str() {
        return s.as_bytes().to_vec();
    }
    if let Some(s) = entry["expected_stdout"].as_str() {
        return s.as_bytes().to_vec();
    }
    let b64 = entry["expected_stdout_b64"].as_str().unwrap_or_default();
    decode_base64(b64)
}

fn decode_base64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let Some(d) = A.iter().position(|x| *x == c) else {
            continue;
        };
        buf = buf << 6 | d as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks one case; `Err` explains the mismatch.
fn check(dir: &Path, entry: &Json) -> Result<(), String> {
    let kind = entry["kind"].as_str().unwrap_or_default();
    let o = run_case(dir, entry);
    match kind {
        "eval-okay" => {
            let want = expected_stdout(entry);
            if o.exit != Some(0) {
                return Err(format!(
                    "exit {:?}: {}",
                    o.exit,
                    o.stderr.lines().take(6).collect::<Vec<_>>().join(" | ")
                ));
            }
            if o.stdout != want {
                return Err(format!(
                    "stdout differs:\n  want: {}\n  got:  {}",
                    String::from_utf8_lossy(&want)
                        .chars()
                        .take(400)
                        .collect::<String>(),
                    String::from_utf8_lossy(&o.stdout)
                        .chars()
                        .take(400)
                        .collect::<String>()
                ));
            }
            Ok(())
        }
        _ => {
            let want = entry["upstream_error"].as_str().unwrap_or_default();
            if o.exit != Some(1) {
                return Err(format!(
                    "exit {:?} (want 1); stdout {}",
                    o.exit,
                    String::from_utf8_lossy(&o.stdout)
                ));
            }
            let got = collapse(&o.stderr);
            if !got.contains(&collapse(want)) {
                return Err(format!(
                    "error differs:\n  want: {want}\n  got:  {}",
                    got.chars().take(600).collect::<String>()
                ));
            }
            Ok(())
        }
    }
}

#[test]
fn nix_language_eval_cases() {
    let dir = strata_tests::shared_dir().join("conformance");
    let dir = dir
        .canonicalize()
        .expect("../shared/conformance is missing");
    let manifest: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("lang/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let filter = std::env::var("LANG_CASE").ok();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for entry in manifest.as_array().expect("list") {
        let kind = entry["kind"].as_str().unwrap_or_default();
        if !kind.starts_with("eval-") {
            continue;
        }
        let name = entry["name"].as_str().unwrap_or_default();
        if let Some(f) = &filter {
            if !name.contains(f.as_str()) {
                continue;
            }
        }
        if entry.get("skip_reason").is_some_and(|s| !s.is_null()) {
            skipped += 1;
            continue;
        }
        if let Some((_, link)) = NEEDS_SYMLINK.iter().find(|(n, _)| *n == name) {
            if !dir.join(link).is_symlink() {
                println!("SKIP {name}: {link} is not a symlink in this copy of the data");
                skipped += 1;
                continue;
            }
        }
        match check(&dir, entry) {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("lang eval: {passed} passed, {failed} failed, {skipped} skipped");
    if filter.is_none() {
        assert!(
            passed >= MIN_PASSING,
            "only {passed} cases pass; at least {MIN_PASSING} did before"
        );
    }
}
