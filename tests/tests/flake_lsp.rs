//! End-to-end: a flake in the editor. Open `flake.nix` beside its `flake.lock`, hover an input
//! and see what the lock pins; rewrite `flake.lock` on disk, notify the server, and see the
//! hover, hints and diagnostics follow.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};
use strata_tests::{shared_dir, strata_bin};

/// Only reached when the server hangs; nothing here waits on timing otherwise.
const TIMEOUT: Duration = Duration::from_secs(120);

/// JSON-RPC over the server's stdio, keeping notifications for later inspection.
struct Session {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    notifications: Vec<Value>,
    /// Server-to-client requests seen (e.g. `client/registerCapability`).
    server_requests: Vec<Value>,
}

impl Session {
    fn start(initialization_options: Value) -> Session {
        let mut child = Command::new(strata_bin())
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strata lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        length = v.trim().parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        let mut s = Session {
            child,
            stdin,
            incoming,
            next_id: 1,
            notifications: Vec::new(),
            server_requests: Vec::new(),
        };
        let capabilities = json!({
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
            "textDocument": { "hover": { "contentFormat": ["markdown"] } }
        });
        s.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": capabilities,
                    "initializationOptions": initialization_options }),
        );
        s.notify("initialized", json!({}));
        s
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Next message; answers server requests on the way (registration: ok, configuration: none).
    fn recv(&mut self) -> Value {
        let msg = self
            .incoming
            .recv_timeout(TIMEOUT)
            .expect("the server answered in time and is still running");
        if msg.get("method").is_some() {
            if let Some(id) = msg.get("id") {
                let result = match msg["method"].as_str() {
                    Some("workspace/configuration") => json!([{}]),
                    _ => Value::Null,
                };
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
                self.server_requests.push(msg.clone());
            } else {
                self.notifications.push(msg.clone());
            }
        }
        msg
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.recv();
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                assert!(msg.get("error").is_none(), "{method} failed: {msg}");
                return msg["result"].clone();
            }
        }
    }

    /// Waits for the next `publishDiagnostics` for `uri` whose list satisfies `pred`.
    fn diagnostics_where(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let matches = |n: &Value| {
            n["method"] == "textDocument/publishDiagnostics"
                && n["params"]["uri"] == uri
                && pred(n["params"]["diagnostics"].as_array().map_or(&[], |v| v))
        };
        if let Some(n) = self.notifications.iter().rev().find(|n| matches(n)) {
            return n["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let msg = self.recv();
            if matches(&msg) {
                return msg["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn hover(&mut self, uri: &str, line: u32, character: u32) -> String {
        let r = self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        r["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Line and UTF-16 column of the first occurrence of `needle` (plus `skip` characters).
fn position_of(text: &str, needle: &str, skip: u32) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in fixture"));
    let line = text[..at].matches('\n').count() as u32;
    let col = text[..at]
        .rsplit('\n')
        .next()
        .unwrap()
        .encode_utf16()
        .count() as u32;
    (line, col + skip)
}

/// A real flake (nixd's example, three inputs and a follows) in a fresh directory.
fn nixd_example() -> (tempfile::TempDir, String, String) {
    let src = shared_dir().join("conformance/flakes/samples/nixd-example");
    let tmp = tempfile::tempdir().unwrap();
    let nix = std::fs::read_to_string(src.join("flake.nix")).unwrap();
    let lock = std::fs::read_to_string(src.join("flake.lock")).unwrap();
    std::fs::write(tmp.path().join("flake.nix"), &nix).unwrap();
    std::fs::write(tmp.path().join("flake.lock"), &lock).unwrap();
    (tmp, nix, lock)
}

const OLD_REV: &str = "58a1abdbae3217ca6b702f03d3b35125d88a2994";
const OLD_HASH: &str = "sha256-mdTQw2XlariysyScCv2tTE45QSU9v/ezLcHJ22f0Nxc=";
const NEW_REV: &str = "0123456789abcdef0123456789abcdef01234567";
const NEW_HASH: &str = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

#[test]
fn hover_follows_flake_lock_on_disk() {
    let (tmp, nix, lock) = nixd_example();
    let nix_uri = uri(&tmp.path().join("flake.nix"));
    let lock_uri = uri(&tmp.path().join("flake.lock"));
    let mut s = Session::start(json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": nix_uri, "languageId": "nix", "version": 1, "text": nix}}),
    );

    let (line, col) = position_of(&nix, "nixpkgs.url", 2);
    let hover = s.hover(&nix_uri, line, col);
    assert!(hover.contains(OLD_REV), "{hover}");
    assert!(hover.contains("(`58a1abd`)"), "{hover}");
    assert!(hover.contains("2024-04-27 21:35:43 UTC"), "{hover}");
    assert!(hover.contains(OLD_HASH), "{hover}");
    assert!(
        hover.contains("followed by: `home-manager.inputs.nixpkgs`"),
        "{hover}"
    );
    // The server asked (after `initialized`) to watch lock files.
    let watched = s.server_requests.iter().any(|r| {
        r["method"] == "client/registerCapability"
            && r.to_string().contains("workspace/didChangeWatchedFiles")
            && r.to_string().contains("flake.lock")
    });
    assert!(watched, "no watcher registration: {:?}", s.server_requests);

    // Rewrite the lock on disk (as `nix flake update` would), then tell the server.
    let new_lock = lock
        .replace(OLD_REV, NEW_REV)
        .replace(OLD_HASH, NEW_HASH)
        .replace("1714253743", "1735689600");
    std::fs::write(tmp.path().join("flake.lock"), new_lock).unwrap();
    s.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": lock_uri, "type": 2}]}),
    );
    let hover = s.hover(&nix_uri, line, col);
    assert!(hover.contains(NEW_REV), "{hover}");
    assert!(hover.contains("2025-01-01 00:00:00 UTC"), "{hover}");
    assert!(hover.contains(NEW_HASH), "{hover}");
    assert!(!hover.contains(OLD_REV), "{hover}");
}

#[test]
fn lock_drift_hints_goto_and_completion_in_the_editor() {
    let (tmp, nix, lock) = nixd_example();
    let nix_uri = uri(&tmp.path().join("flake.nix"));
    let lock_uri = uri(&tmp.path().join("flake.lock"));
    let mut s = Session::start(json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": nix_uri, "languageId": "nix", "version": 1, "text": nix}}),
    );
    // A consistent pair: no flake findings.
    let diags = s.diagnostics_where(&nix_uri, |_| true);
    assert!(
        !diags
            .iter()
            .any(|d| d["code"].as_str().is_some_and(|c| c.starts_with("flake-"))),
        "{diags:?}"
    );

    // Inlay hints after each url: the short revision and date.
    let hints = s.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": nix_uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 60, "character": 0}}}),
    );
    let labels: Vec<String> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["label"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| h["label"].to_string())
        })
        .collect();
    assert!(
        labels.iter().any(|l| l.contains("58a1abd (2024-04-27)")),
        "{labels:?}"
    );
    assert_eq!(
        labels.iter().filter(|l| l.contains('(')).count(),
        3,
        "{labels:?}"
    );

    // Goto definition from the input to its lock node.
    let (line, col) = position_of(&nix, "home-manager = {", 2);
    let target = s.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": nix_uri}, "position": {"line": line, "character": col}}),
    );
    let target = if target.is_array() {
        target[0].clone()
    } else {
        target
    };
    assert_eq!(target["uri"], lock_uri.as_str(), "{target}");
    let (lock_line, _) = position_of(&lock, "\"home-manager\": {", 0);
    assert_eq!(target["range"]["start"]["line"], lock_line, "{target}");

    // Completion of outputs formals from the declared inputs.
    let (line, col) = position_of(&nix, "self, flake-parts, ...", 6);
    let items = s.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": nix_uri}, "position": {"line": line, "character": col}}),
    );
    let items = items.get("items").cloned().unwrap_or(items);
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"nixpkgs") && labels.contains(&"home-manager"),
        "{labels:?}"
    );

    // Drift: declare an input the lock does not have.
    let edited = nix.replace(
        "    flake-parts.url",
        "    sops.url = \"github:Mic92/sops-nix\";\n    flake-parts.url",
    );
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": nix_uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let diags = s.diagnostics_where(&nix_uri, |d| {
        d.iter().any(|d| d["code"] == "flake-input-not-locked")
    });
    let d = diags
        .iter()
        .find(|d| d["code"] == "flake-input-not-locked")
        .unwrap();
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("run `nix flake lock`"),
        "{d}"
    );

    // A lock that no longer parses is reported on flake.lock itself.
    std::fs::write(tmp.path().join("flake.lock"), "{ \"version\": 7, ").unwrap();
    s.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": lock_uri, "type": 2}]}),
    );
    let diags = s.diagnostics_where(&lock_uri, |d| !d.is_empty());
    assert_eq!(diags[0]["code"], "flake-lock-invalid", "{diags:?}");
    assert_eq!(diags[0]["range"]["start"]["line"], 0);
}

#[test]
fn locked_revision_hints_can_be_switched_off() {
    let (tmp, nix, _) = nixd_example();
    let nix_uri = uri(&tmp.path().join("flake.nix"));
    let mut s = Session::start(json!({"inlayHints": {"lockedRevisions": false}}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": nix_uri, "languageId": "nix", "version": 1, "text": nix}}),
    );
    let hints = s.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": nix_uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 60, "character": 0}}}),
    );
    let text = hints.to_string();
    assert!(!text.contains("58a1abd"), "{text}");
}
