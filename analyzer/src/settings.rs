//! Workspace settings the analysis depends on (the server parses them from the client's JSON).

use crate::diagnostics::DiagnosticKind;

/// Which unused formals of `{ … }:` patterns to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnusedFormals {
    /// Every unused formal.
    All,
    /// Only in patterns without `...`: a module's `{ pkgs, ... }:` arguments stay quiet.
    #[default]
    WithoutEllipsis,
    /// Never.
    None,
}

/// Settings that change diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosticSettings {
    /// Codes of diagnostic kinds not to report.
    pub ignored: Vec<String>,
    /// Globs of files whose diagnostics are not reported (`*`, `**`, `?`).
    pub excluded_files: Vec<String>,
    /// Which unused pattern formals to report.
    pub unused_formals: UnusedFormals,
    /// Names starting with this prefix are never reported unused (default `_`).
    pub unused_prefix: String,
}

impl Default for DiagnosticSettings {
    fn default() -> Self {
        DiagnosticSettings {
            ignored: Vec::new(),
            excluded_files: Vec::new(),
            unused_formals: UnusedFormals::default(),
            unused_prefix: "_".into(),
        }
    }
}

/// Everything the analyzer reads from the `strata` settings section.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Settings {
    /// Diagnostics configuration.
    pub diagnostics: DiagnosticSettings,
}

impl Settings {
    /// Whether a diagnostic kind is switched on.
    pub fn is_enabled(&self, kind: DiagnosticKind) -> bool {
        !self.diagnostics.ignored.iter().any(|c| c == kind.code())
    }

    /// Whether a file (by path) is excluded from diagnostics.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.diagnostics
            .excluded_files
            .iter()
            .any(|g| glob_matches_path(g, path))
    }
}

/// Matches a glob against a path: absolute globs against the whole path, relative ones
/// against any trailing run of path components.
pub fn glob_matches_path(glob: &str, path: &str) -> bool {
    if glob.starts_with('/') {
        return glob_match(glob.as_bytes(), path.as_bytes());
    }
    let mut start = 0;
    loop {
        if glob_match(glob.as_bytes(), &path.as_bytes()[start..]) {
            return true;
        }
        match path[start..].find('/') {
            Some(i) => start += i + 1,
            None => return false,
        }
    }
}

/// `*` matches within a component, `**` across components, `?` one non-slash byte.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) if rest.first() == Some(&b'*') => {
            let rest = &rest[1..];
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=s.len()).any(|i| glob_match(rest, &s[i..]))
        }
        Some((b'*', rest)) => {
            let limit = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
            (0..=limit).any(|i| glob_match(rest, &s[i..]))
        }
        Some((b'?', rest)) => !s.is_empty() && s[0] != b'/' && glob_match(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && glob_match(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches_path("*.nix", "/w/a/b.nix"));
        assert!(glob_matches_path("gen/**", "/w/gen/x/y.nix"));
        assert!(glob_matches_path("**/tests/*.nix", "/w/a/tests/t.nix"));
        assert!(!glob_matches_path("tests/*.nix", "/w/tests/sub/t.nix"));
        assert!(glob_matches_path("/w/a?.nix", "/w/ab.nix"));
        assert!(!glob_matches_path("/w/*.nix", "/w/a/b.nix"));
    }

    #[test]
    fn ignored_codes() {
        let mut s = Settings::default();
        assert!(s.is_enabled(DiagnosticKind::UnusedWith));
        s.diagnostics.ignored.push("unused-with".into());
        assert!(!s.is_enabled(DiagnosticKind::UnusedWith));
    }
}
