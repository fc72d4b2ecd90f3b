//! End-to-end: `strata lsp` with settings pointing `strata.options.homeManager` at the
//! shared home-manager corpus. A `home.nix` gets option completion, hover, goto
//! declaration, diagnostics and their quick fixes; the log says which source serves the
//! workspace, and a second start reads the schema from the on-disk cache.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// Only reached when the server hangs; the test never waits on timing otherwise.
const TIMEOUT: Duration = Duration::from_secs(300);

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    backlog: Vec<Value>,
}

impl Client {
    fn spawn(cache: &Path, log: &Path) -> Client {
        let mut child = Command::new(strata_tests::strata_bin())
            .arg("lsp")
            .env("STRATA_CACHE_DIR", cache)
            .env("STRATA_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
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
                let mut body = vec![0; length.expect("Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if tx
                    .send(serde_json::from_slice(&body).expect("JSON"))
                    .is_err()
                {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            backlog: Vec::new(),
        }
    }

    fn send(&mut self, mut msg: Value) {
        if msg.get("params") == Some(&Value::Null) {
            msg.as_object_mut().unwrap().remove("params");
        }
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self) -> Value {
        let msg = self
            .incoming
            .recv_timeout(TIMEOUT)
            .expect("server alive and answering");
        if msg.get("method").is_some() && msg.get("id").is_some() {
            // workspace/configuration and the like: nothing beyond initializationOptions.
            let result = if msg["method"] == "workspace/configuration" {
                json!([null])
            } else {
                Value::Null
            };
            self.send(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}));
        }
        msg
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.recv();
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                assert!(msg.get("error").is_none(), "{method}: {msg}");
                return msg["result"].clone();
            }
            self.backlog.push(msg);
        }
    }

    /// Waits for diagnostics of `uri` that satisfy `done` (earlier publications, made
    /// before the schema was loaded, are skipped).
    fn diagnostics_until(&mut self, uri: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut pending = std::mem::take(&mut self.backlog).into_iter();
        loop {
            let msg = match pending.next() {
                Some(m) => m,
                None => self.recv(),
            };
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                let diags = msg["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if done(&diags) {
                    self.backlog.extend(pending);
                    return diags;
                }
            }
        }
    }

    fn initialize(&mut self, root: &Path, hm: &Path) {
        let root_uri = format!("file://{}", root.display());
        self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {},
                "initializationOptions": {"strata": {"options": {"homeManager": hm}}},
            }),
        );
        self.notify("initialized", json!({}));
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

fn position(text: &str, needle: &str, delta: usize) -> Value {
    let offset = text.find(needle).expect("needle in text") + delta;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

const HOME_NIX: &str = r#"{ config, lib, pkgs, ... }:
{
  home.username = "alice";
  home.stateVersion = "24.11";
  programs.git.enabel = true;
  programs.git.extraConfig = { };
  programs.bash.enable = "yes";
  programs.git = {
    
  };
}
"#;

#[test]
fn home_nix_gets_option_completion_hover_and_diagnostics() {
    let hm = std::fs::canonicalize(strata_tests::shared_dir().join("corpus/home-manager")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let home = work.path().join("home.nix");
    std::fs::write(&home, HOME_NIX).unwrap();
    let uri = format!("file://{}", home.display());
    let log = work.path().join("server.log");

    let mut c = Client::spawn(cache.path(), &log);
    c.initialize(work.path(), &hm);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": HOME_NIX}}),
    );

    // Diagnostics: unknown option with "did you mean", renamed option, wrong literal type.
    let diags = c.diagnostics_until(&uri, |d| d.iter().any(|d| d["code"] == "unknown-option"));
    let find = |code: &str| -> &Value {
        diags
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {diags:?}"))
    };
    let unknown = find("unknown-option");
    assert_eq!(
        unknown["message"],
        "unknown option `programs.git.enabel`; did you mean `enable`?"
    );
    assert_eq!(unknown["range"]["start"], position(HOME_NIX, "enabel", 0));
    let renamed = find("renamed-option");
    assert!(
        renamed["message"]
            .as_str()
            .unwrap()
            .contains("`programs.git.extraConfig` has been renamed to `programs.git.settings`"),
        "{renamed}"
    );
    let ty = find("option-type");
    assert_eq!(
        ty["message"],
        "`programs.bash.enable` expects a boolean, found a string"
    );
    assert_eq!(
        diags.iter().filter(|d| d["code"] == "option-type").count(),
        1,
        "{diags:?}"
    );

    // Quick fixes for the unknown and the renamed option.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": unknown["range"], "context": {"diagnostics": [unknown]}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(titles.contains(&"Change to `enable`"), "{titles:?}");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": renamed["range"], "context": {"diagnostics": [renamed]}}),
    );
    let rename = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Use `programs.git.settings`")
        .unwrap_or_else(|| panic!("{actions}"));
    let edits = rename["edit"]["changes"][&uri].as_array().unwrap();
    assert_eq!(edits[0]["newText"], "settings");

    // Completion inside `programs.git = { … }`.
    let completion = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position(HOME_NIX, "programs.git = {\n    ", 20)}),
    );
    let items = completion["items"].as_array().unwrap();
    let enable = items
        .iter()
        .find(|i| i["label"] == "enable")
        .unwrap_or_else(|| panic!("{completion}"));
    assert_eq!(enable["detail"], "boolean");
    assert!(items.iter().any(|i| i["label"] == "signing"));

    // Hover on an option name.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(HOME_NIX, "username", 2)}),
    );
    let md = hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{hover}"));
    assert!(
        md.starts_with("**`home.username`**\n\n*Type:* non-empty string"),
        "{md}"
    );
    assert!(md.contains("modules/home-environment.nix"), "{md}");

    // Goto declaration lands in the declaring module, on the option's name.
    let goto = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position(HOME_NIX, "stateVersion", 2)}),
    );
    let loc = &goto.as_array().unwrap_or_else(|| panic!("{goto}"))[0];
    assert!(
        loc["uri"]
            .as_str()
            .unwrap()
            .ends_with("modules/misc/version.nix"),
        "{loc}"
    );
    let line = loc["range"]["start"]["line"].as_u64().unwrap() as usize;
    let decl = std::fs::read_to_string(hm.join("modules/misc/version.nix")).unwrap();
    assert!(
        decl.lines().nth(line).unwrap().contains("stateVersion"),
        "{loc}"
    );
    c.shutdown();

    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains(&format!(
            "workspace {} uses home-manager options from {} (setting strata.options.homeManager)",
            work.path().display(),
            hm.display()
        )),
        "{log_text}"
    );
    assert!(
        log_text.contains("option schema extracted from"),
        "{log_text}"
    );

    // A second start reads the cache.
    let log2 = work.path().join("server2.log");
    let mut c = Client::spawn(cache.path(), &log2);
    c.initialize(work.path(), &hm);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": HOME_NIX}}),
    );
    c.diagnostics_until(&uri, |d| d.iter().any(|d| d["code"] == "unknown-option"));
    c.shutdown();
    let log_text = std::fs::read_to_string(&log2).unwrap();
    assert!(
        log_text.contains("option schema loaded from cache"),
        "{log_text}"
    );
}
