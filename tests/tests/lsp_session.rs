//! End-to-end: spawn `strata lsp` and drive a whole session over stdio, including
//! malformed input the server must answer without dying.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// Generous: only reached when the server hangs, so the suite never waits on timing.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A minimal JSON-RPC client over the child's stdio.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications and server requests seen while waiting for something else.
    backlog: Vec<Value>,
    /// What `workspace/configuration` answers for the `strata` section.
    config: Value,
}

impl Client {
    fn spawn() -> Client {
        let mut child = Command::new(strata_tests::strata_bin())
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("STRATA_TEST_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
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
                let msg: Value = serde_json::from_slice(&body).expect("server sent JSON");
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 1,
            backlog: Vec::new(),
            config: json!({"diagnostics": {"unusedFormals": "all"}}),
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open until exit");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        stdin.write_all(body).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        let mut msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        if params.is_null() {
            msg.as_object_mut().unwrap().remove("params");
        }
        self.send_raw(msg.to_string().as_bytes());
    }

    fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        if params.is_null() {
            msg.as_object_mut().unwrap().remove("params");
        }
        self.send_raw(msg.to_string().as_bytes());
        id
    }

    /// Next message from the server; answers its requests (configuration) on the way.
    fn recv(&mut self) -> Value {
        let msg = self
            .incoming
            .recv_timeout(TIMEOUT)
            .expect("the server answered in time and is still running");
        if msg.get("method").is_some() && msg.get("id").is_some() {
            let result = match msg["method"].as_str() {
                Some("workspace/configuration") => json!([self.config.clone()]),
                _ => Value::Null,
            };
            let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": result});
            self.send_raw(reply.to_string().as_bytes());
        }
        msg
    }

    /// Waits for the response to `id` (result or error object).
    fn response(&mut self, id: i64) -> Value {
        loop {
            let msg = self.recv();
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.backlog.push(msg);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let resp = self.response(id);
        assert!(resp.get("error").is_none(), "{method} failed: {resp}");
        resp["result"].clone()
    }

    fn request_error(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let resp = self.response(id);
        resp.get("error")
            .cloned()
            .unwrap_or_else(|| panic!("{method} should fail: {resp}"))
    }

    /// Waits for diagnostics of `uri` published for `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let matches = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        };
        if let Some(i) = self.backlog.iter().position(matches) {
            let m = self.backlog.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let msg = self.recv();
            if matches(&msg) {
                return msg["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.backlog.push(msg);
        }
    }

    fn initialize(&mut self, root: &std::path::Path) {
        let caps = json!({
            "workspace": {"configuration": true},
            "textDocument": {"documentSymbol": {"hierarchicalDocumentSymbolSupport": true}}
        });
        let result = self.request(
            "initialize",
            json!({"processId": null, "rootUri": url(root), "capabilities": caps,
                   "initializationOptions": {"strata": {"diagnostics": {"unusedFormals": "all"}}}}),
        );
        assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
        self.notify("initialized", json!({}));
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        // Like editors do after `exit`: close the pipe.
        drop(self.stdin.take());
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the server did not exit after `exit`");
    }
}

fn url(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

const MAIN: &str = "{ pkgs, lib, ... }:\nlet\n  helper = x: x;\n  unused = 1;\n  cfg = import ./cfg.nix;\nin\n{\n  value = helper lib.id;\n  port = cfg.port;\n}\n";

#[test]
fn whole_session() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cfg.nix"), "{ port = 80; host = \"h\"; }\n").unwrap();
    let main_path = dir.path().join("main.nix");
    std::fs::write(&main_path, MAIN).unwrap();
    let uri = url(&main_path);
    let mut c = Client::spawn();
    c.initialize(dir.path());

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": MAIN}}),
    );
    // unusedFormals = "all" from initializationOptions: `pkgs` is reported too.
    let diags = c.diagnostics(&uri, 1);
    assert_eq!(
        codes(&diags),
        vec!["unused-formal", "unused-binding"],
        "{diags:?}"
    );
    assert_eq!(
        diags[1]["range"]["start"],
        json!({"line": 3, "character": 2})
    );

    // Incremental edit: rename the use of `helper` to an undefined name.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 7, "character": 10},
                                             "end": {"line": 7, "character": 16}},
                                   "text": "helpr"}]}),
    );
    let diags = c.diagnostics(&uri, 2);
    assert!(
        codes(&diags).contains(&"undefined-name".to_string()),
        "{diags:?}"
    );
    assert!(codes(&diags).contains(&"unused-binding".to_string()));
    // And back.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": {"start": {"line": 7, "character": 10},
                                             "end": {"line": 7, "character": 15}},
                                   "text": "helper"}]}),
    );
    assert!(!codes(&c.diagnostics(&uri, 3)).contains(&"undefined-name".to_string()));

    let pos = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    // Completion of names in scope, and of an imported file's attributes.
    let items = c.request("textDocument/completion", pos(7, 12));
    let labels: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"helper") && labels.contains(&"cfg") && labels.contains(&"map"));
    let items = c.request("textDocument/completion", pos(8, 13));
    let mut labels: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    labels.sort();
    assert_eq!(labels, vec!["host", "port"]);

    let hover = c.request("textDocument/hover", pos(7, 12));
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("let binding, defined on line 3"));

    let def = c.request("textDocument/definition", pos(7, 12));
    assert_eq!(def[0]["range"]["start"], json!({"line": 2, "character": 2}));
    let def = c.request("textDocument/definition", pos(4, 18));
    assert_eq!(def[0]["uri"], url(&dir.path().join("cfg.nix")));

    let mut p = pos(2, 3);
    p["context"] = json!({"includeDeclaration": true});
    let refs = c.request("textDocument/references", p);
    assert_eq!(refs.as_array().unwrap().len(), 2);

    let prep = c.request("textDocument/prepareRename", pos(2, 3));
    assert_eq!(prep["placeholder"], "helper");
    let mut p = pos(2, 3);
    p["newName"] = json!("id2");
    let edit = c.request("textDocument/rename", p);
    assert_eq!(edit["changes"][&uri].as_array().unwrap().len(), 2);
    let mut p = pos(2, 3);
    p["newName"] = json!("not valid");
    let err = c.request_error("textDocument/rename", p);
    assert!(err["message"].as_str().unwrap().contains("not a valid"));

    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": 3, "character": 3}, "end": {"line": 3, "character": 3}},
               "context": {"diagnostics": []}}),
    );
    assert_eq!(actions[0]["title"], "Remove unused `unused`");
    assert_eq!(
        actions[0]["edit"]["changes"][&uri][0]["range"],
        json!({"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 0}})
    );

    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["helper", "unused", "cfg", "value", "port"]);

    let tokens = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let data = tokens["data"].as_array().unwrap();
    assert_eq!(data.len() % 5, 0);
    // The first token is `pkgs` (line 0, char 2), a parameter declaration.
    assert_eq!(
        &data[..5],
        &[json!(0), json!(2), json!(4), json!(2), json!(1)]
    );
    let delta = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": uri}, "previousResultId": tokens["resultId"]}),
    );
    assert_eq!(delta["edits"], json!([]));

    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4},
               "contentChanges": [{"text": "x: 1"}]}),
    );
    assert_eq!(codes(&c.diagnostics(&uri, 4)), vec!["unused-param"]);
    // Settings pulled through workspace/configuration on didChangeConfiguration: the
    // server republishes open documents with the new settings.
    c.config = json!({"diagnostics": {"ignored": ["unused-param"]}});
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    assert!(c.diagnostics(&uri, 4).is_empty());
    // Settings pushed in the notification itself.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"strata": {"diagnostics": {"ignored": []}}}}),
    );
    assert_eq!(codes(&c.diagnostics(&uri, 4)), vec!["unused-param"]);

    c.shutdown();
}

#[test]
fn malformed_input_is_answered_and_survived() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.initialize(dir.path());

    // A frame that is not JSON: answered with a parse error.
    c.send_raw(b"{ this is not json");
    let msg = loop {
        let msg = c.recv();
        if msg.get("method").is_none() {
            break msg;
        }
    };
    assert_eq!(msg["error"]["code"], -32700, "{msg}");

    // An unknown method.
    let err = c.request_error("strata/noSuchMethod", json!({}));
    assert_eq!(err["code"], -32601);

    // A request about a file that was never opened.
    let never = url(&dir.path().join("never.nix"));
    let err = c.request_error(
        "textDocument/hover",
        json!({"textDocument": {"uri": never}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(err["code"], -32602);

    // A 5 MB file.
    let big_uri = url(&dir.path().join("big.nix"));
    let mut big = String::from("{\n");
    while big.len() < 5_000_000 {
        big.push_str(&format!(
            "  a{} = {{ x = \"some string\"; y = [ 1 2 3 ]; }};\n",
            big.len()
        ));
    }
    big.push_str("}\n");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": big_uri, "languageId": "nix", "version": 1, "text": big}}),
    );
    assert!(c.diagnostics(&big_uri, 1).is_empty());
    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": big_uri}}),
    );
    assert_eq!(folds.as_array().unwrap().len(), 1, "the one multi-line set");

    // 100,000 nested brackets: a syntax error, not a crash.
    let deep_uri = url(&dir.path().join("deep.nix"));
    let deep = "[".repeat(100_000);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": deep_uri, "languageId": "nix", "version": 1, "text": deep}}),
    );
    let diags = c.diagnostics(&deep_uri, 1);
    assert!(codes(&diags).contains(&"syntax-error".to_string()));
    c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": deep_uri}}),
    );
    c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": deep_uri}}),
    );

    // Still up and answering.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": big_uri}, "position": {"line": 1, "character": 2}}),
    );
    assert!(hover.is_object());
    c.shutdown();
}
