//! End-to-end: Apply from the editor. A copy of `examples/home` (and `examples/system`) is
//! opened in `strata lsp` with temporary profiles, state folder and native store; the
//! configurations' code actions and lenses drive `workspace/executeCommand`, and the test
//! watches `$/progress`, `window/logMessage`, `window/showMessage`, diagnostics, the
//! profile links and the activated files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata_tests::lsp::{file_uri, position_of, Client};
use strata_tests::repo_root;

/// A scratch world: example copies, profiles, home, state and store folders.
struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        for example in ["home", "system"] {
            copy_dir(
                &repo_root().join("examples").join(example),
                &root.join(example),
            );
        }
        // The demo builders are silent; make each say what it writes, so the build log
        // has lines to relay.
        edit(
            &root.join("home/flake.nix"),
            r#"[ "-c" ''/bin/mkdir -p"#,
            r#"[ "-c" ''echo "writing $name"; /bin/mkdir -p"#,
        );
        World { _tmp: tmp, root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn home_profile(&self) -> PathBuf {
        self.path("profiles/home")
    }

    /// The generation the profile points at, read from the symlink itself.
    fn current(&self, profile: &Path) -> Option<u64> {
        let target = std::fs::read_link(profile).ok()?;
        let name = target.file_name()?.to_str()?.to_string();
        let prefix = format!("{}-", profile.file_name()?.to_str()?);
        name.strip_prefix(&prefix)?
            .strip_suffix("-link")?
            .parse()
            .ok()
    }

    fn link_exists(&self, profile: &Path, n: u64) -> bool {
        let name = format!(
            "{}-{n}-link",
            profile.file_name().unwrap().to_str().unwrap()
        );
        std::fs::symlink_metadata(profile.with_file_name(name)).is_ok()
    }

    fn home_file(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path("demo-home").join(rel)).ok()
    }

    /// `strata lsp` on this world, native engine, confirmation on, initialized.
    fn start(&self) -> Client {
        let root = self.root.clone();
        let mut c = Client::spawn_with(|cmd| {
            cmd.env("STRATA_STATE_DIR", root.join("state"))
                .env("STRATA_STORE_DIR", root.join("store"))
                .env("STRATA_DEMO_HOME", root.join("demo-home"))
                .env("STRATA_DEMO_SYSTEM", root.join("demo-system"))
                .env("STRATA_ELEVATE", "")
                .current_dir(&root);
        });
        let caps = json!({"window": {"workDoneProgress": true, "showMessage": {}},
                          "workspace": {"configuration": true}});
        let options = json!({"strata": {"engine": "native", "apply": {
            "confirm": true,
            "configurationFiles": {
                self.path("home/home.nix").to_str().unwrap():
                    format!("{}#homeConfigurations.demo", self.path("home").display())
            },
            "profiles": {"home": self.home_profile(), "system": self.path("profiles/system")}}}});
        let init = c.initialize(Some(&self.root), caps, options);
        let commands = &init["capabilities"]["executeCommandProvider"]["commands"];
        for name in [
            "strata.apply",
            "strata.build",
            "strata.rollback",
            "strata.generations",
        ] {
            assert!(
                commands.as_array().unwrap().contains(&json!(name)),
                "{init}"
            );
        }
        c
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Opens a file from disk; returns its URI and text.
fn open(c: &mut Client, path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let uri = file_uri(path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": text}}),
    );
    (uri, text)
}

/// A request answered again when the server says the content was modified (a file it
/// loads on its own changed the snapshot), as editors do.
fn request_retrying(c: &mut Client, method: &str, params: Value) -> Value {
    loop {
        match c.request_result(method, params.clone()) {
            Ok(v) => return v,
            Err(e) if e["code"] == -32801 => continue,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }
}

/// The code actions at `needle` in the document.
fn actions_at(c: &mut Client, uri: &str, text: &str, needle: &str) -> Vec<Value> {
    let pos = position_of(text, needle, 1);
    let actions = request_retrying(
        c,
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos, "end": pos},
               "context": {"diagnostics": []}}),
    );
    actions.as_array().unwrap().clone()
}

fn titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {:?}", titles(actions)))
}

/// Executes an action's (or lens') command and waits for the answer.
fn execute(c: &mut Client, command: &Value) -> Result<Value, Value> {
    c.request_result(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    )
}

/// Sends an action's command without waiting; returns the request id.
fn start_execute(c: &mut Client, command: &Value) -> i64 {
    c.send_request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    )
}

/// The token of the most recent `window/workDoneProgress/create`.
fn last_progress_token(c: &mut Client) -> Value {
    c.server_requests()
        .iter()
        .rev()
        .find(|r| r["method"] == "window/workDoneProgress/create")
        .map(|r| r["params"]["token"].clone())
        .expect("the server created a progress token")
}

/// The `$/progress` values sent under `token`, in order.
fn progress_of(c: &mut Client, token: &Value) -> Vec<Value> {
    c.notifications()
        .iter()
        .filter(|n| n["method"] == "$/progress" && n["params"]["token"] == *token)
        .map(|n| n["params"]["value"].clone())
        .collect()
}

fn show_messages(c: &mut Client) -> Vec<String> {
    c.notifications()
        .iter()
        .filter(|n| n["method"] == "window/showMessage")
        .map(|n| n["params"]["message"].as_str().unwrap().to_string())
        .collect()
}

fn log_lines(c: &mut Client) -> Vec<String> {
    c.notifications()
        .iter()
        .filter(|n| n["method"] == "window/logMessage" && n["params"]["type"] == 4)
        .map(|n| n["params"]["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn apply_see_the_diff_and_roll_back_from_the_editor() {
    let w = World::new();
    let mut c = w.start();
    let (uri, text) = open(&mut c, &w.path("home/flake.nix"));
    let profile = w.home_profile();

    // A fresh profile: Apply and Build, no rollback yet.
    let actions = actions_at(
        &mut c,
        &uri,
        &text,
        "homeConfigurations.demo.activationPackage =",
    );
    assert_eq!(
        titles(&actions),
        vec!["Apply configuration", "Build configuration (dry run)"]
    );
    let lenses = request_retrying(
        &mut c,
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let lens_titles: Vec<&str> = lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        lens_titles,
        vec!["Apply", "Build", "Generations (none yet)"]
    );
    assert_eq!(
        lenses[0]["range"]["start"]["line"],
        position_of(&text, "homeConfigurations.demo.activationPackage =", 0)["line"]
    );

    // Apply through the code action.
    let apply = find(&actions, "Apply configuration")["command"].clone();
    assert_eq!(
        apply["arguments"][0]["installable"],
        format!("{}#homeConfigurations.demo", w.path("home").display())
    );
    let result = execute(&mut c, &apply).unwrap();
    assert_eq!(result["generation"], 1, "{result}");
    assert_eq!(w.current(&profile), Some(1));
    assert_eq!(
        w.home_file(".config/greeting.txt").as_deref(),
        Some("Hello from Strata!\n")
    );
    let token = last_progress_token(&mut c);
    let progress = progress_of(&mut c, &token);
    let kinds: Vec<&str> = progress
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"begin"), "{progress:?}");
    assert_eq!(kinds.last(), Some(&"end"), "{progress:?}");
    assert_eq!(progress[0]["cancellable"], true);
    let reports: Vec<&str> = progress
        .iter()
        .filter(|p| p["kind"] == "report")
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(
        reports.iter().any(|m| m.starts_with("evaluating ")),
        "{reports:?}"
    );
    assert!(
        reports.iter().any(|m| m.starts_with("building 1 of ")),
        "{reports:?}"
    );
    assert!(
        reports.iter().any(|m| m.starts_with("activating")),
        "{reports:?}"
    );
    let logs = log_lines(&mut c);
    assert!(
        logs.contains(&"greeting-1.0> writing greeting-1.0".to_string()),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.starts_with("activate> linked .config/greeting.txt")),
        "{logs:?}"
    );
    // The full build log stays in the state folder.
    let kept = std::fs::read_dir(w.path("state/logs/drvs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .any(|log| log.contains("writing greeting-1.0"));
    assert!(kept, "no log in state/logs/drvs has the builder's line");
    assert!(
        show_messages(&mut c)
            .iter()
            .any(|m| m.starts_with("generation 1: ")),
        "{:?}",
        show_messages(&mut c)
    );

    // Change the configuration and apply again: the message has the closure diff.
    edit(
        &w.path("home/home.nix"),
        "version = \"1.0\";\n      text = \"Hello from Strata!\\n\";",
        "version = \"1.1\";\n      text = \"Hello again!\\n\";",
    );
    // This time the client brings its own progress token (`workDoneToken`).
    let creates = c.server_requests().len();
    let result = c
        .request_result(
            "workspace/executeCommand",
            json!({"command": "strata.apply", "arguments": apply["arguments"],
                   "workDoneToken": "client-token-7"}),
        )
        .unwrap();
    assert_eq!(c.server_requests().len(), creates, "no token was created");
    let kinds: Vec<Value> = progress_of(&mut c, &json!("client-token-7"))
        .iter()
        .map(|p| p["kind"].clone())
        .collect();
    assert_eq!(kinds.first(), Some(&json!("begin")), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&json!("end")), "{kinds:?}");
    assert_eq!(result["generation"], 2, "{result}");
    assert_eq!(result["previous"], 1, "{result}");
    assert_eq!(
        w.home_file(".config/greeting.txt").as_deref(),
        Some("Hello again!\n")
    );
    let messages = show_messages(&mut c);
    let last = messages.last().unwrap();
    assert!(
        last.starts_with("generation 2: ") && last.contains("greeting 1.0 → 1.1"),
        "{last}"
    );

    // Now there is a generation to go back to, and the lens counts generations.
    let actions = actions_at(
        &mut c,
        &uri,
        &text,
        "homeConfigurations.demo.activationPackage =",
    );
    let rollback = find(&actions, "Roll back to generation 1")["command"].clone();
    let lenses = request_retrying(
        &mut c,
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(lenses[2]["command"]["title"], "Generations (current: 2)");
    let gens = execute(&mut c, &lenses[2]["command"]).unwrap();
    assert_eq!(gens["current"], 2, "{gens}");
    let numbers: Vec<u64> = gens["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2]);

    // Roll back through the command.
    let result = execute(&mut c, &rollback).unwrap();
    assert_eq!(result["generation"], 1, "{result}");
    assert_eq!(w.current(&profile), Some(1));
    assert_eq!(
        w.home_file(".config/greeting.txt").as_deref(),
        Some("Hello from Strata!\n")
    );
    let gens = execute(
        &mut c,
        &json!({"command": "strata.generations", "arguments": [{"profile": profile}]}),
    )
    .unwrap();
    assert_eq!(gens["current"], 1, "{gens}");

    // A standalone configuration file named in the settings gets the same actions, and
    // lenses at its top.
    let (home_uri, home_text) = open(&mut c, &w.path("home/home.nix"));
    let actions = actions_at(&mut c, &home_uri, &home_text, "files = {");
    assert_eq!(
        find(&actions, "Apply configuration")["command"]["arguments"][0],
        apply["arguments"][0]
    );
    // Generation 1 is current again: nothing earlier to roll back to.
    assert_eq!(
        titles(&actions),
        vec!["Apply configuration", "Build configuration (dry run)"]
    );
    let lenses = request_retrying(
        &mut c,
        "textDocument/codeLens",
        json!({"textDocument": {"uri": home_uri}}),
    );
    assert_eq!(
        lenses[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(lenses[2]["command"]["title"], "Generations (current: 1)");
    c.shutdown();
}

/// A home configuration whose builder sleeps, in the same profile as the demo.
const SLOW_FLAKE: &str = r#"{
  outputs = { self, ... }: {
    homeConfigurations.slow.activationPackage = derivation {
      system = "x86_64-linux";
      name = "slow-home";
      builder = "/bin/sh";
      args = [ "-c" "echo going to sleep; /bin/sleep 300; /bin/mkdir $out" ];
    };
  };
}
"#;

#[test]
fn cancel_stops_the_build_and_a_second_apply_is_refused() {
    let w = World::new();
    std::fs::create_dir_all(w.path("slow")).unwrap();
    std::fs::write(w.path("slow/flake.nix"), SLOW_FLAKE).unwrap();
    let profile = w.home_profile();
    let mut c = w.start();
    let demo = json!({"command": "strata.apply", "arguments": [
        {"installable": format!("{}#homeConfigurations.demo", w.path("home").display())}]});
    assert_eq!(execute(&mut c, &demo).unwrap()["generation"], 1);

    let (uri, text) = open(&mut c, &w.path("slow/flake.nix"));
    let actions = actions_at(&mut c, &uri, &text, "homeConfigurations.slow");
    let slow = find(&actions, "Apply configuration")["command"].clone();
    let id = start_execute(&mut c, &slow);
    c.notification("window/logMessage", |p| {
        p["message"] == "slow-home> going to sleep"
    });

    // While it runs: another Apply is refused, and the server still answers.
    let err = execute(&mut c, &demo).unwrap_err();
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("is still running") && msg.contains("homeConfigurations.slow"),
        "{msg}"
    );
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "derivation", 1)}),
    );
    assert!(hover.is_object() || hover.is_null());

    // Cancel: the builder is killed long before its 300 s, nothing switches.
    let token = last_progress_token(&mut c);
    let cancelled_at = Instant::now();
    c.notify("window/workDoneProgress/cancel", json!({"token": token}));
    let response = c.response(id);
    let stopped_after = cancelled_at.elapsed();
    assert!(stopped_after < Duration::from_secs(60), "{stopped_after:?}");
    assert_eq!(response["error"]["code"], -32800, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled; the profile was not changed"),
        "{response}"
    );
    assert_eq!(w.current(&profile), Some(1));
    assert!(!w.link_exists(&profile, 2));
    let end = progress_of(&mut c, &token).pop().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["message"], "cancelled");

    // The slot is free again.
    assert_eq!(execute(&mut c, &demo).unwrap()["generation"], 1);
    c.shutdown();
}

#[test]
fn an_evaluation_error_is_a_diagnostic_until_the_next_good_build() {
    let w = World::new();
    let profile = w.home_profile();
    let home_nix = w.path("home/home.nix");
    edit(&home_nix, "version = \"0.1\";", "version = 1 + \"0.1\";");
    let mut c = w.start();
    let (uri, text) = open(&mut c, &w.path("home/flake.nix"));
    let (home_uri, home_text) = open(&mut c, &home_nix);
    let actions = actions_at(
        &mut c,
        &uri,
        &text,
        "homeConfigurations.demo.activationPackage =",
    );
    let apply = find(&actions, "Apply configuration")["command"].clone();

    let err = execute(&mut c, &apply).unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("failed at the evaluation step"),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(&profile).is_err(),
        "no profile was made"
    );
    let diags = c.diagnostics_where(&home_uri, |d| d.iter().any(|d| d["code"] == "eval-error"));
    let d = diags.iter().find(|d| d["code"] == "eval-error").unwrap();
    let expected = position_of(&home_text, "1 + \"0.1\"", 0);
    assert_eq!(d["range"]["start"]["line"], expected["line"], "{d}");
    assert_eq!(d["source"], "strata apply");
    let messages = show_messages(&mut c);
    assert!(
        messages
            .last()
            .unwrap()
            .contains("failed at the evaluation step"),
        "{messages:?}"
    );

    // Fixed on disk: the next apply succeeds and the diagnostic goes away.
    edit(&home_nix, "version = 1 + \"0.1\";", "version = \"0.1\";");
    assert_eq!(execute(&mut c, &apply).unwrap()["generation"], 1);
    c.diagnostics_where(&home_uri, |d| !d.iter().any(|d| d["code"] == "eval-error"));
    c.shutdown();
}

#[test]
fn switching_a_system_profile_asks_first() {
    let w = World::new();
    let profile = w.path("profiles/system");
    let mut c = w.start();
    let answer = Arc::new(Mutex::new("Cancel"));
    let asked = answer.clone();
    c.set_responder(move |method, _| {
        (method == "window/showMessageRequest").then(|| json!({"title": *asked.lock().unwrap()}))
    });
    let (uri, text) = open(&mut c, &w.path("system/flake.nix"));
    let actions = actions_at(
        &mut c,
        &uri,
        &text,
        "nixosConfigurations.demo.config.system.build.toplevel =",
    );
    let apply = find(&actions, "Apply configuration")["command"].clone();

    let err = execute(&mut c, &apply).unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("not confirmed"),
        "{err}"
    );
    assert!(std::fs::symlink_metadata(&profile).is_err());
    let question = c
        .server_requests()
        .iter()
        .find(|r| r["method"] == "window/showMessageRequest")
        .cloned()
        .expect("asked before switching");
    assert!(
        question["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&profile.display().to_string()),
        "{question}"
    );

    *answer.lock().unwrap() = "Apply";
    let result = execute(&mut c, &apply).unwrap();
    assert_eq!(result["generation"], 1, "{result}");
    assert_eq!(w.current(&profile), Some(1));
    let motd = std::fs::read_to_string(w.path("demo-system/etc/motd")).unwrap();
    assert_eq!(motd, "Welcome to the Strata demo system.\n");
    c.shutdown();
}

/// A build that keeps a core busy until cancelled.
const BUSY_FLAKE: &str = r#"{
  outputs = { self, ... }: {
    homeConfigurations.busy.activationPackage = derivation {
      system = "x86_64-linux";
      name = "busy-home";
      builder = "/bin/sh";
      args = [ "-c" "echo spinning; while :; do :; done" ];
    };
  };
}
"#;

/// Median and 95th percentile of completion and hover on nixpkgs' `lib/strings.nix`.
fn latencies(
    c: &mut Client,
    uri: &str,
    text: &str,
    rounds: usize,
) -> (Duration, Duration, Duration, Duration) {
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() * 95 / 100])
    };
    let (mut completion, mut hover) = (Vec::new(), Vec::new());
    let at = position_of(text, "concatStringsSep", 3);
    for _ in 0..rounds {
        let t = Instant::now();
        request_retrying(
            c,
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": at}),
        );
        completion.push(t.elapsed());
        let t = Instant::now();
        request_retrying(
            c,
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": at}),
        );
        hover.push(t.elapsed());
    }
    let (c50, c95) = stats(completion);
    let (h50, h95) = stats(hover);
    (c50, c95, h50, h95)
}

/// Responsiveness benchmark (not part of the suite): completion and hover latency idle
/// and while an apply's builder spins. Run with
/// `cargo test --release -p strata-tests --test lsp_apply -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark driver, run by hand; numbers go to BENCHMARKS.md, never asserted"]
fn bench_responsiveness_during_apply() {
    let w = World::new();
    std::fs::create_dir_all(w.path("busy")).unwrap();
    std::fs::write(w.path("busy/flake.nix"), BUSY_FLAKE).unwrap();
    let mut c = w.start();
    let strings = strata_tests::shared_dir().join("corpus/nixpkgs-lib/lib/strings.nix");
    let (uri, text) = open(&mut c, &strings);
    latencies(&mut c, &uri, &text, 10); // warm-up
    let idle = latencies(&mut c, &uri, &text, 500);
    let busy = json!({"command": "strata.apply", "arguments": [
        {"installable": format!("{}#homeConfigurations.busy", w.path("busy").display())}]});
    let id = start_execute(&mut c, &busy);
    c.notification("window/logMessage", |p| {
        p["message"] == "busy-home> spinning"
    });
    let during = latencies(&mut c, &uri, &text, 500);
    let token = last_progress_token(&mut c);
    c.notify("window/workDoneProgress/cancel", json!({"token": token}));
    c.response(id);
    for (what, (c50, c95, h50, h95)) in [("idle", idle), ("during apply", during)] {
        println!(
            "{what:>13}: completion p50 {:.2} ms p95 {:.2} ms | hover p50 {:.2} ms p95 {:.2} ms",
            c50.as_secs_f64() * 1e3,
            c95.as_secs_f64() * 1e3,
            h50.as_secs_f64() * 1e3,
            h95.as_secs_f64() * 1e3
        );
    }
    c.shutdown();
}

#[test]
fn malformed_commands_are_refused_with_a_reason_and_change_nothing() {
    let w = World::new();
    let mut c = w.start();
    let profile = w.home_profile();
    let cases = [
        ("strata.apply", json!([42]), "must be an object"),
        ("strata.apply", json!([{}]), "needs"),
        (
            "strata.build",
            json!([{"installable": 7}]),
            "must be an object",
        ),
        (
            "strata.rollback",
            json!([{"to": "three"}]),
            "must be an object",
        ),
        ("strata.nonsense", json!([]), ""),
    ];
    for (command, arguments, says) in cases {
        let err = c
            .request_result(
                "workspace/executeCommand",
                json!({"command": command, "arguments": arguments}),
            )
            .expect_err(command);
        let message = err["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{command}: {err}");
    }
    assert!(
        std::fs::symlink_metadata(&profile).is_err(),
        "no profile made"
    );
    // The server is still up and answers a well-formed command.
    let gens = c
        .request_result(
            "workspace/executeCommand",
            json!({"command": "strata.generations", "arguments": [{"profile": profile}]}),
        )
        .unwrap();
    assert_eq!(gens["generations"], json!([]), "{gens}");
    c.shutdown();
}
