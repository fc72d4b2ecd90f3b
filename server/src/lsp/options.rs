//! Option schemas for the workspace: found from the settings, the flake lock and
//! `NIX_PATH`, loaded from the on-disk cache or extracted, then handed to the analyzer as
//! its salsa input. Which source serves each workspace is logged.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use strata_analyzer::options::Schema;
use strata_backend::options_source::{
    discover, find_nixpkgs_lib, load_schema_evaluated, EvalMode, SchemaKind, SourceSettings,
};
use strata_backend::store::StoreDir;

/// `strata.options.homeManager` / `strata.options.nixos` / `strata.options.evaluate` from
/// the settings section (`evaluate`: `"auto"`, `"off"`, or a boolean).
pub fn source_settings(raw: &Value) -> SourceSettings {
    let path = |k: &str| {
        raw["options"][k]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    let evaluate = match &raw["options"]["evaluate"] {
        Value::Null => EvalMode::Auto,
        Value::Bool(true) => EvalMode::Auto,
        Value::Bool(false) => EvalMode::Off,
        Value::String(s) if s == "auto" || s == "on" => EvalMode::Auto,
        Value::String(s) if s == "off" => EvalMode::Off,
        other => {
            tracing::warn!("unknown options.evaluate value {other}; using \"auto\"");
            EvalMode::Auto
        }
    };
    SourceSettings {
        home_manager: path("homeManager"),
        nixos: path("nixos"),
        evaluate,
    }
}

/// Where schemas are cached: `$STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`, else
/// `~/.cache/strata`.
fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("STRATA_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(Path::new(&d).join("strata"));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/strata"))
}

/// Finds and loads the schemas of every workspace root (blocking: may extract).
pub fn load(roots: &[PathBuf], raw_settings: &Value) -> Vec<Arc<Schema>> {
    let settings = source_settings(raw_settings);
    let nix_path = std::env::var("NIX_PATH").ok();
    let store_dir = std::env::var("NIX_STORE_DIR")
        .ok()
        .and_then(|d| StoreDir::new(&d).ok())
        .unwrap_or_default();
    let cache = cache_dir().map(|d| d.join("options"));
    let fallback = [std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))];
    let roots = if roots.is_empty() {
        &fallback[..]
    } else {
        roots
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for root in roots {
        let sources = discover(root, &settings, nix_path.as_deref(), &store_dir);
        if sources.is_empty() {
            tracing::info!(
                "options: no home-manager or NixOS option source for workspace {} \
                 (set strata.options.homeManager / strata.options.nixos, or lock the inputs in flake.lock)",
                root.display()
            );
        }
        for s in sources {
            // Only home-manager trees are evaluated (NixOS modules need a real package set).
            let lib = match settings.evaluate {
                EvalMode::Auto if s.kind == SchemaKind::HomeManager => {
                    find_nixpkgs_lib(root, &settings, nix_path.as_deref(), &store_dir)
                }
                _ => None,
            };
            match &lib {
                Some((dir, origin)) => tracing::info!(
                    "options: workspace {} uses {} options from {} ({}), evaluated with the nixpkgs lib {} ({})",
                    root.display(),
                    s.kind.name(),
                    s.root.display(),
                    s.origin,
                    dir.display(),
                    origin
                ),
                None => tracing::info!(
                    "options: workspace {} uses {} options from {} ({}), static extraction only{}",
                    root.display(),
                    s.kind.name(),
                    s.root.display(),
                    s.origin,
                    match (settings.evaluate, s.kind) {
                        (EvalMode::Off, _) => " (strata.options.evaluate is off)",
                        (_, SchemaKind::Nixos) => " (NixOS trees are not evaluated)",
                        _ => " (no nixpkgs lib found to evaluate with)",
                    }
                ),
            }
            if seen.insert(s.root.clone()) {
                let lib_dir = lib.as_ref().map(|(d, _)| d.as_path());
                let (schema, _) = load_schema_evaluated(&s, lib_dir, cache.as_deref(), &store_dir);
                out.push(Arc::new(schema));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluate_setting_defaults_to_auto_and_can_be_turned_off() {
        let s = |v: Value| source_settings(&json!({ "options": v })).evaluate;
        assert_eq!(s(json!({})), EvalMode::Auto);
        assert_eq!(s(json!({"evaluate": "auto"})), EvalMode::Auto);
        assert_eq!(s(json!({"evaluate": true})), EvalMode::Auto);
        assert_eq!(s(json!({"evaluate": "off"})), EvalMode::Off);
        assert_eq!(s(json!({"evaluate": false})), EvalMode::Off);
        assert_eq!(s(json!({"evaluate": 3})), EvalMode::Auto);
        let full = source_settings(&json!({"options": {"homeManager": "/hm", "nixos": "/np"}}));
        assert_eq!(full.home_manager, Some(PathBuf::from("/hm")));
        assert_eq!(full.nixos, Some(PathBuf::from("/np")));
    }
}
