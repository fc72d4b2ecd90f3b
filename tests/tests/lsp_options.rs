//! End-to-end: `strata lsp` with settings pointing `strata.options.homeManager` at the
//! shared home-manager corpus. A `home.nix` gets option completion, hover, goto
//! declaration, diagnostics and their quick fixes; the log says which source serves the
//! workspace, and a second start reads the schema from the on-disk cache.

use std::path::Path;

use serde_json::{json, Value};
use strata_tests::lsp::Client;

/// Spawns the server with its own schema cache, logging at `info` into `log`.
fn spawn(cache: &Path, log: &Path) -> Client {
    let log = std::fs::File::create(log).unwrap();
    Client::spawn_with(|cmd| {
        cmd.env("STRATA_CACHE_DIR", cache)
            .env("STRATA_LOG", "info")
            .stderr(log);
    })
}

/// Initializes with `strata.options.homeManager` pointing at `hm` (nothing more comes
/// from `workspace/configuration`).
fn initialize(c: &mut Client, root: &Path, hm: &Path) {
    c.initialize(
        Some(root),
        json!({}),
        json!({"strata": {"options": {"homeManager": hm}}}),
    );
}

/// LSP position of `needle` plus `delta` bytes (ASCII text).
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

    let mut c = spawn(cache.path(), &log);
    initialize(&mut c, work.path(), &hm);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": HOME_NIX}}),
    );

    // Diagnostics: unknown option with "did you mean", renamed option, wrong literal type.
    let diags = c.diagnostics_where(&uri, |d| d.iter().any(|d| d["code"] == "unknown-option"));
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
    let mut c = spawn(cache.path(), &log2);
    initialize(&mut c, work.path(), &hm);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": HOME_NIX}}),
    );
    c.diagnostics_where(&uri, |d| d.iter().any(|d| d["code"] == "unknown-option"));
    c.shutdown();
    let log_text = std::fs::read_to_string(&log2).unwrap();
    assert!(
        log_text.contains("option schema loaded from cache"),
        "{log_text}"
    );
}
