//! Flakes in the editor, server side: reading `flake.lock` from disk into the database (the
//! analyzer does no IO), watching it, and converting the analyzer's flake results to lsp-types.

use std::path::Path;

use strata_analyzer::db::{FlakeLockFile, RootDatabase};
use strata_analyzer::flake::{FlakeCompletionKind, FlakeDiagnostic, LockState, Severity};
use strata_analyzer::ide::{self, FilePos};
use tower_lsp::lsp_types::*;

use super::convert::PositionMap;
use super::server::{path_to_uri, DocContext};

/// The directory of a `flake.nix` path, or `None` for any other file.
pub fn flake_dir_of(path: &str) -> Option<&str> {
    let dir = path.strip_suffix("/flake.nix")?;
    Some(if dir.is_empty() { "/" } else { dir })
}

/// Reads `DIR/flake.lock`: its path, text and state (a missing lock is `LockState::Missing`).
/// Fast: `path` inputs are not hashed here (see [`with_path_checks`]).
pub fn read_lock(dir: &str) -> (String, String, LockState) {
    let path = format!("{}/flake.lock", dir.trim_end_matches('/'));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let state = strata_backend::flake::lock_state(&text);
            (path, text, state)
        }
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot read {path}: {e}");
            }
            (path, String::new(), LockState::Missing)
        }
    }
}

/// Whether the lock has root inputs of type `path`, whose trees are worth hashing.
pub fn has_path_inputs(state: &LockState) -> bool {
    state.info().is_some_and(|info| {
        info.inputs.iter().any(|i| {
            i.locked.as_ref().and_then(|l| l.kind())
                == Some(strata_analyzer::flake::SourceKind::Path)
        })
    })
}

/// The lock state with each `path` input's tree hashed against its locked `narHash` (slow for
/// big trees: run it off the async threads).
pub fn with_path_checks(dir: &str, text: &str) -> LockState {
    strata_backend::flake::lock_state_with_path_checks(text, Path::new(dir))
}

/// The registration asking the client to report changes to any `flake.lock`.
pub fn watcher_registration() -> Registration {
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![FileSystemWatcher {
            glob_pattern: GlobPattern::String("**/flake.lock".into()),
            kind: None,
        }],
    };
    Registration {
        id: "strata-flake-lock-watcher".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    }
}

fn diagnostic(map: &PositionMap, text: &str, d: &FlakeDiagnostic) -> Diagnostic {
    Diagnostic {
        range: map.range(text, d.range),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.into())),
        source: Some("strata".into()),
        message: d.message.clone(),
        ..Default::default()
    }
}

/// Findings on a `flake.nix` in lsp-types.
pub fn diagnostics(
    db: &RootDatabase,
    ctx_file: strata_analyzer::db::SourceFile,
    map: &PositionMap,
) -> Vec<Diagnostic> {
    let text = ctx_file.text(db);
    ide::flake::diagnostics(db, ctx_file)
        .iter()
        .map(|d| diagnostic(map, text, d))
        .collect()
}

/// Findings on a `flake.lock` itself, with its URI.
pub fn lock_diagnostics(db: &RootDatabase, lock: FlakeLockFile) -> Option<(Url, Vec<Diagnostic>)> {
    let uri = path_to_uri(lock.path(db))?;
    let text = lock.text(db);
    let map = PositionMap::new(text);
    let diags = ide::flake::lock_diagnostics(db, lock)
        .iter()
        .map(|d| diagnostic(&map, text, d))
        .collect();
    Some((uri, diags))
}

/// Hover on a flake input.
pub fn hover(db: &RootDatabase, ctx: &DocContext, pos: FilePos) -> Option<Hover> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let h = ide::flake::hover(db, pos, now)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(ctx.map.range(ctx.file.text(db), h.range)),
    })
}

/// The locked revision after each url, within `restrict` when given.
pub fn inlay_hints(
    db: &RootDatabase,
    ctx: &DocContext,
    restrict: Option<ide::TextRange>,
) -> Vec<InlayHint> {
    let text = ctx.file.text(db);
    ide::flake::inlay_hints(db, ctx.file)
        .into_iter()
        .filter(|h| restrict.is_none_or(|r| r.contains_inclusive(h.offset)))
        .map(|h| InlayHint {
            position: ctx.map.position(text, h.offset),
            label: InlayHintLabel::String(h.label),
            kind: None,
            text_edits: None,
            tooltip: (!h.tooltip.is_empty()).then_some(InlayHintTooltip::String(h.tooltip)),
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect()
}

/// Flake completions as lsp-types items.
pub fn completions(db: &RootDatabase, pos: FilePos) -> Vec<CompletionItem> {
    ide::flake::completions(db, pos)
        .into_iter()
        .map(|c| CompletionItem {
            label: c.label,
            kind: Some(match c.kind {
                FlakeCompletionKind::TopLevel => CompletionItemKind::PROPERTY,
                FlakeCompletionKind::InputField => CompletionItemKind::FIELD,
                FlakeCompletionKind::Input => CompletionItemKind::MODULE,
                FlakeCompletionKind::Output => CompletionItemKind::PROPERTY,
            }),
            detail: Some(c.detail),
            // Before the generic items: in these places they are what the user wants.
            sort_text: Some("0".into()),
            ..Default::default()
        })
        .collect()
}

/// From an input to its node in `flake.lock`.
pub fn goto_lock(db: &RootDatabase, pos: FilePos) -> Option<Location> {
    let (lock, target) = ide::flake::goto_lock(db, pos)?;
    let uri = path_to_uri(lock.path(db))?;
    let text = lock.text(db);
    let range = PositionMap::new(text).range(text, target.target);
    Some(Location::new(uri, range))
}
