//! End-to-end: a flake in the editor. Open `flake.nix` beside its `flake.lock`, hover an input
//! and see what the lock pins; rewrite `flake.lock` on disk, notify the server, and see the
//! hover, hints and diagnostics follow.

use std::time::Duration;

use serde_json::{json, Value};
use strata_tests::lsp::{self, file_uri as uri, Client};
use strata_tests::shared_dir;

/// Spawns the server with these `initializationOptions` and a client that lets it
/// register file watchers (`workspace/configuration` answers `{}`).
fn start(initialization_options: Value) -> Client {
    let mut s = Client::spawn();
    s.config = json!({});
    let capabilities = json!({
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
        "textDocument": { "hover": { "contentFormat": ["markdown"] } }
    });
    s.initialize(None, capabilities, initialization_options);
    s
}

/// The latest diagnostics of `uri` satisfying `pred`: already published ones first
/// (newest first), else the next matching publication.
fn diagnostics_where(s: &mut Client, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let matches = |n: &Value| {
        n["method"] == "textDocument/publishDiagnostics"
            && n["params"]["uri"] == uri
            && pred(n["params"]["diagnostics"].as_array().map_or(&[], |v| v))
    };
    if let Some(n) = s.notifications().iter().rev().find(|n| matches(n)) {
        return n["params"]["diagnostics"].as_array().unwrap().clone();
    }
    s.diagnostics_where(uri, &pred)
}

fn hover_text(s: &mut Client, uri: &str, line: u32, character: u32) -> String {
    let r = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    );
    r["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Line and UTF-16 column of the first occurrence of `needle` (plus `skip` characters).
fn position_of(text: &str, needle: &str, skip: u32) -> (u32, u32) {
    let p = lsp::position_of(text, needle, skip);
    (
        p["line"].as_u64().unwrap() as u32,
        p["character"].as_u64().unwrap() as u32,
    )
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
    let mut s = start(json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": nix_uri, "languageId": "nix", "version": 1, "text": nix}}),
    );

    let (line, col) = position_of(&nix, "nixpkgs.url", 2);
    let hover = hover_text(&mut s, &nix_uri, line, col);
    assert!(hover.contains(OLD_REV), "{hover}");
    assert!(hover.contains("(`58a1abd`)"), "{hover}");
    assert!(hover.contains("2024-04-27 21:35:43 UTC"), "{hover}");
    assert!(hover.contains(OLD_HASH), "{hover}");
    assert!(
        hover.contains("followed by: `home-manager.inputs.nixpkgs`"),
        "{hover}"
    );
    // The server asked (after `initialized`) to watch lock files. It registers
    // asynchronously, so the request may come after the hover answer.
    let registration = s.try_wait_for(
        |r| {
            r["method"] == "client/registerCapability"
                && r.to_string().contains("workspace/didChangeWatchedFiles")
                && r.to_string().contains("flake.lock")
        },
        Duration::from_secs(60),
    );
    assert!(
        registration.is_some(),
        "no watcher registration: {:?}",
        s.server_requests()
    );

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
    let hover = hover_text(&mut s, &nix_uri, line, col);
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
    let mut s = start(json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": nix_uri, "languageId": "nix", "version": 1, "text": nix}}),
    );
    // A consistent pair: no flake findings.
    let diags = diagnostics_where(&mut s, &nix_uri, |_| true);
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
    let diags = diagnostics_where(&mut s, &nix_uri, |d| {
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
    let diags = diagnostics_where(&mut s, &lock_uri, |d| !d.is_empty());
    assert_eq!(diags[0]["code"], "flake-lock-invalid", "{diags:?}");
    assert_eq!(diags[0]["range"]["start"]["line"], 0);
}

#[test]
fn locked_revision_hints_can_be_switched_off() {
    let (tmp, nix, _) = nixd_example();
    let nix_uri = uri(&tmp.path().join("flake.nix"));
    let mut s = start(json!({"inlayHints": {"lockedRevisions": false}}));
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
