//! End-to-end: `strata lsp` with `strata.options.homeManager` at the shared home-manager
//! corpus and `strata.options.nixos` at the shared nixpkgs lib, so the option tree is also
//! evaluated (`strata.options.evaluate`, default `"auto"`) and merged into the static
//! schema. Options whose names static extraction cannot compute (home-manager's
//! `qt.qt5ctSettings`, made by `genAttrs'` over a list) become known; a second start reads
//! the merged schema from the cache; with `"evaluate": "off"` they are unknown again.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use strata_tests::lsp::{file_uri, position_of, Client};

/// Starts `strata lsp` with its own schema cache, its log in `log`, and `settings` as the
/// `strata` initialization options.
fn start(cache: &Path, log: &Path, root: &Path, settings: Value) -> Client {
    let log = std::fs::File::create(log).unwrap();
    let mut c = Client::spawn_with(|cmd| {
        cmd.env("STRATA_CACHE_DIR", cache)
            .env("STRATA_LOG", "info")
            .env_remove("NIX_PATH")
            .stderr(log);
    });
    c.initialize(Some(root), json!({}), json!({ "strata": settings }));
    c
}

fn open(c: &mut Client, uri: &str, text: &str) {
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": text}}),
    );
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
    let uri = file_uri(&home);
    let settings = |evaluate: &str| json!({"options": {"homeManager": hm, "nixos": nixpkgs, "evaluate": evaluate}});

    // Evaluated and merged: the generated options are known, typed and documented.
    let log = work.path().join("server.log");
    let mut c = start(cache.path(), &log, work.path(), settings("auto"));
    open(&mut c, &uri, HOME_NIX);
    let diags = c.diagnostics_where(&uri, schema_loaded);
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
        json!({"textDocument": {"uri": uri}, "position": position_of(HOME_NIX, "qt5ctSettings", 2)}),
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
    let mut c = start(cache.path(), &log, work.path(), settings("auto"));
    open(&mut c, &uri, HOME_NIX);
    let diags = c.diagnostics_where(&uri, schema_loaded);
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
    let mut c = start(cache.path(), &log, work.path(), settings("off"));
    open(&mut c, &uri, HOME_NIX);
    let diags = c.diagnostics_where(&uri, schema_loaded);
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
