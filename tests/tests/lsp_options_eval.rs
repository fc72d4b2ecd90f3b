//! End-to-end: `strata lsp` with `strata.options.homeManager` at the shared home-manager
//! corpus and `strata.options.nixos` at the shared nixpkgs lib, so the option tree is also
//! evaluated (`strata.options.evaluate`, default `"auto"`) and merged into the static
//! schema. Options whose names static extraction cannot compute (home-manager's
//! `qt.qt5ctSettings`, made by `genAttrs'` over a list) become known; a second start reads
//! the merged schema from the cache; with `"evaluate": "off"` they are unknown again.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// Only reached when the server hangs; the test never waits on timing otherwise.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A bare LSP client over the server's stdio.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    backlog: Vec<Value>,
}

impl Client {
    fn start(cache: &Path, log: &Path, root: &Path, settings: Value) -> Client {
        let mut child = Command::new(strata_tests::strata_bin())
            .arg("lsp")
            .env("STRATA_CACHE_DIR", cache)
            .env("STRATA_LOG", "info")
            .env_remove("NIX_PATH")
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
        let mut c = Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            backlog: Vec::new(),
        };
        c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": format!("file://{}", root.display()),
                "capabilities": {},
                "initializationOptions": {"strata": settings},
            }),
        );
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: Value) {
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
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        if params_is_null(&msg) {
            msg.as_object_mut().unwrap().remove("params");
        }
        self.send(msg);
        loop {
            let msg = self.recv();
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                assert!(msg.get("error").is_none(), "{method}: {msg}");
                return msg["result"].clone();
            }
            self.backlog.push(msg);
        }
    }

    /// The first diagnostics of `uri` that satisfy `done`.
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

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": text}}),
        );
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

fn params_is_null(msg: &Value) -> bool {
    msg.get("params") == Some(&Value::Null)
}

fn position(text: &str, needle: &str, delta: usize) -> Value {
    let offset = text.find(needle).expect("needle in text") + delta;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

/// `programs.git.enabel` is unknown either way: its diagnostic says the schema is loaded.
const HOME_NIX: &str = r#"{ config, lib, pkgs, ... }:
{
  programs.git.enabel = true;
  qt.qt5ctSettings = { Appearance.style = "kvantum"; };
  qt.qt6ctSettings = 5;
}
"#;

fn corpus(rel: &str) -> PathBuf {
    std::fs::canonicalize(strata_tests::shared_dir().join(rel)).unwrap()
}

fn schema_loaded(d: &[Value]) -> bool {
    d.iter()
        .any(|d| d["code"] == "unknown-option" && d["message"].as_str().unwrap().contains("enabel"))
}

fn mentions(diags: &[Value], code: &str, needle: &str) -> bool {
    diags
        .iter()
        .any(|d| d["code"] == code && d["message"].as_str().unwrap().contains(needle))
}

#[test]
fn evaluated_options_are_merged_cached_and_can_be_turned_off() {
    let hm = corpus("corpus/home-manager");
    let nixpkgs = corpus("corpus/nixpkgs-lib");
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let home = work.path().join("home.nix");
    std::fs::write(&home, HOME_NIX).unwrap();
    let uri = format!("file://{}", home.display());
    let settings = |evaluate: &str| json!({"options": {"homeManager": hm, "nixos": nixpkgs, "evaluate": evaluate}});

    // Evaluated and merged: the generated options are known, typed and documented.
    let log = work.path().join("server.log");
    let mut c = Client::start(cache.path(), &log, work.path(), settings("auto"));
    c.open(&uri, HOME_NIX);
    let diags = c.diagnostics_until(&uri, schema_loaded);
    assert!(
        !mentions(&diags, "unknown-option", "qt5ctSettings"),
        "{diags:?}"
    );
    assert!(
        mentions(&diags, "option-type", "`qt.qt6ctSettings` expects"),
        "{diags:?}"
    );
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(HOME_NIX, "qt5ctSettings", 2)}),
    );
    let md = hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{hover}"));
    assert!(md.starts_with("**`qt.qt5ctSettings`**"), "{md}");
    assert!(md.contains("Qtct configuration"), "{md}");
    assert!(md.contains("modules/misc/qt/default.nix"), "{md}");
    c.shutdown();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains(&format!(
            "evaluated with the nixpkgs lib {}/lib (setting strata.options.nixos)",
            nixpkgs.display()
        )),
        "{log_text}"
    );
    assert!(
        log_text.contains("merged into the static schema"),
        "{log_text}"
    );

    // A second start reads the merged schema from the cache.
    let log = work.path().join("server2.log");
    let mut c = Client::start(cache.path(), &log, work.path(), settings("auto"));
    c.open(&uri, HOME_NIX);
    let diags = c.diagnostics_until(&uri, schema_loaded);
    assert!(
        !mentions(&diags, "unknown-option", "qt5ctSettings"),
        "{diags:?}"
    );
    c.shutdown();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("evaluated option schema loaded from cache"),
        "{log_text}"
    );
    assert!(
        !log_text.contains("merged into the static schema"),
        "{log_text}"
    );

    // Turned off: static extraction only, which cannot name the generated options.
    let log = work.path().join("server3.log");
    let mut c = Client::start(cache.path(), &log, work.path(), settings("off"));
    c.open(&uri, HOME_NIX);
    let diags = c.diagnostics_until(&uri, schema_loaded);
    assert!(
        mentions(&diags, "unknown-option", "qt.qt5ctSettings"),
        "{diags:?}"
    );
    c.shutdown();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("static extraction only (strata.options.evaluate is off)"),
        "{log_text}"
    );
}
