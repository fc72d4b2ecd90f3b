//! The `strata` settings section: parsed from the client's JSON into the analyzer's settings.
//!
//! Unknown keys are kept in `raw` so other parts of the server (apply, options, flake
//! hints) can read their own keys without this module knowing them.

use serde_json::Value;
use strata_analyzer::settings::{Settings, UnusedFormals};

/// Settings as the server holds them.
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// The part the analysis depends on (a salsa input).
    pub analyzer: Settings,
    /// The whole `strata` section as sent by the client.
    pub raw: Value,
}

impl ServerSettings {
    /// Parses a `strata` section; wrong types are logged and fall back to defaults.
    pub fn from_json(section: &Value) -> Self {
        let mut analyzer = Settings::default();
        let diags = &section["diagnostics"];
        if let Some(list) = diags["ignored"].as_array() {
            analyzer.diagnostics.ignored = strings(list);
        }
        if let Some(list) = diags["excludedFiles"].as_array() {
            analyzer.diagnostics.excluded_files = strings(list);
        }
        match diags["unusedFormals"].as_str() {
            Some("all") => analyzer.diagnostics.unused_formals = UnusedFormals::All,
            Some("withoutEllipsis") => {
                analyzer.diagnostics.unused_formals = UnusedFormals::WithoutEllipsis
            }
            Some("none") => analyzer.diagnostics.unused_formals = UnusedFormals::None,
            Some(other) => tracing::warn!("unknown diagnostics.unusedFormals value {other:?}"),
            None => {}
        }
        if let Some(p) = diags["unusedPrefix"].as_str() {
            analyzer.diagnostics.unused_prefix = p.to_string();
        }
        ServerSettings {
            analyzer,
            raw: section.clone(),
        }
    }

    /// Accepts either `{ "strata": { … } }` or the bare section (clients differ).
    pub fn from_any(value: &Value) -> Option<Self> {
        match value {
            Value::Object(map) if map.contains_key("strata") => {
                Some(Self::from_json(&map["strata"]))
            }
            Value::Object(_) => Some(Self::from_json(value)),
            _ => None,
        }
    }
}

fn strings(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wrapped_and_bare_sections() {
        let wrapped = serde_json::json!({"strata": {"diagnostics": {"ignored": ["unused-with"], "unusedFormals": "all"}}});
        let s = ServerSettings::from_any(&wrapped).unwrap();
        assert_eq!(
            s.analyzer.diagnostics.ignored,
            vec!["unused-with".to_string()]
        );
        assert_eq!(s.analyzer.diagnostics.unused_formals, UnusedFormals::All);
        let bare = serde_json::json!({"diagnostics": {"excludedFiles": ["gen/**"]}});
        let s = ServerSettings::from_any(&bare).unwrap();
        assert_eq!(
            s.analyzer.diagnostics.excluded_files,
            vec!["gen/**".to_string()]
        );
        assert!(ServerSettings::from_any(&Value::Null).is_none());
    }
}
