//! End-to-end: spawn `strata lsp` and drive a whole session over stdio, including
//! malformed input the server must answer without dying.

use serde_json::{json, Value};
use strata_tests::lsp::{file_uri as url, Client};

/// Spawns the server and initializes it with `unusedFormals = "all"` (also answered to
/// `workspace/configuration`).
fn start(root: &std::path::Path) -> Client {
    let mut c = Client::spawn();
    c.config = json!({"diagnostics": {"unusedFormals": "all"}});
    let caps = json!({
        "workspace": {"configuration": true},
        "textDocument": {"documentSymbol": {"hierarchicalDocumentSymbolSupport": true}}
    });
    let result = c.initialize(
        Some(root),
        caps,
        json!({"strata": {"diagnostics": {"unusedFormals": "all"}}}),
    );
    assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
    c
}

/// Waits for diagnostics of `uri` published for `version`.
fn diagnostics(c: &mut Client, uri: &str, version: i64) -> Vec<Value> {
    let params = c.notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == version
    });
    params["diagnostics"].as_array().unwrap().clone()
}

fn request_error(c: &mut Client, method: &str, params: Value) -> Value {
    match c.request_result(method, params) {
        Err(e) => e,
        Ok(r) => panic!("{method} should fail: {r}"),
    }
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
    let mut c = start(dir.path());

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": MAIN}}),
    );
    // unusedFormals = "all" from initializationOptions: `pkgs` is reported too.
    let diags = diagnostics(&mut c, &uri, 1);
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
    let diags = diagnostics(&mut c, &uri, 2);
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
    assert!(!codes(&diagnostics(&mut c, &uri, 3)).contains(&"undefined-name".to_string()));

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
    let err = request_error(&mut c, "textDocument/rename", p);
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
    assert_eq!(codes(&diagnostics(&mut c, &uri, 4)), vec!["unused-param"]);
    // Settings pulled through workspace/configuration on didChangeConfiguration: the
    // server republishes open documents with the new settings.
    c.config = json!({"diagnostics": {"ignored": ["unused-param"]}});
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    assert!(diagnostics(&mut c, &uri, 4).is_empty());
    // Settings pushed in the notification itself.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"strata": {"diagnostics": {"ignored": []}}}}),
    );
    assert_eq!(codes(&diagnostics(&mut c, &uri, 4)), vec!["unused-param"]);

    c.shutdown();
}

#[test]
fn malformed_input_is_answered_and_survived() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = start(dir.path());

    // A frame that is not JSON: answered with a parse error.
    c.send_raw(b"{ this is not json");
    let msg = c.wait_for(|m| m.get("method").is_none());
    assert_eq!(msg["error"]["code"], -32700, "{msg}");

    // An unknown method.
    let err = request_error(&mut c, "strata/noSuchMethod", json!({}));
    assert_eq!(err["code"], -32601);

    // A request about a file that was never opened.
    let never = url(&dir.path().join("never.nix"));
    let err = request_error(
        &mut c,
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
    assert!(diagnostics(&mut c, &big_uri, 1).is_empty());
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
    let diags = diagnostics(&mut c, &deep_uri, 1);
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

/// Requests the server answers beside tower-lsp (symbols, completion, hover, ...) see every
/// edit the client sent before them, even when the request arrives while a large edit is
/// still being read.
#[test]
fn requests_sent_right_after_edits_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.nix");
    let mut c = start(dir.path());
    let uri = url(&path);
    // A long comment makes each whole-text change a large message.
    let text = |i: usize| format!("{{ a{i} = 1; }}\n# {}\n", "x".repeat(400_000));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": text(0)}}),
    );
    for i in 1..=10 {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i + 1},
                "contentChanges": [{"text": text(i)}]}),
        );
        let symbols = c.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_eq!(
            symbols[0]["name"],
            format!("a{i}"),
            "after edit {i}: {symbols}"
        );
        let hover = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}),
        );
        assert!(
            hover.to_string().contains(&format!("a{i}")),
            "after edit {i}: {hover}"
        );
    }
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let error = request_error(
        &mut c,
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(error["code"], -32602, "{error}");
    c.shutdown();
}
