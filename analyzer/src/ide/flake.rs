//! Flake features over the database: for a `flake.nix`, its model (a tracked query) and the
//! lock the server read beside it (an input) go to the pure functions of `crate::flake`.

use crate::db::{self, Db, FlakeLockFile, SourceFile};
use crate::flake::{
    self, FlakeCompletion, FlakeDiagnostic, FlakeHover, FlakeInlayHint, LockState, LockTarget,
};
use crate::ide::FilePos;

/// Whether the file is a `flake.nix` (the flake features only answer there).
pub fn is_flake_nix(db: &dyn Db, file: SourceFile) -> bool {
    let path = file.path(db);
    path == "flake.nix" || path.ends_with("/flake.nix")
}

fn lock_state(db: &dyn Db, file: SourceFile) -> LockState {
    db::flake_lock_of(db, file)
        .map(|l| l.state(db).clone())
        .unwrap_or_default()
}

/// Hover on an input; `now` is the current Unix time (for "3 weeks ago").
pub fn hover(db: &dyn Db, pos: FilePos, now: i64) -> Option<FlakeHover> {
    if !is_flake_nix(db, pos.file) {
        return None;
    }
    let model = db::flake_model(db, pos.file);
    flake::flake_hover(&model, &lock_state(db, pos.file), pos.offset, now)
}

/// Drift and declaration findings on a `flake.nix`, after the user's ignore/exclude settings.
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Vec<FlakeDiagnostic> {
    if !is_flake_nix(db, file) {
        return Vec::new();
    }
    let settings = db.workspace().settings(db);
    if settings.is_excluded(file.path(db)) {
        return Vec::new();
    }
    let model = db::flake_model(db, file);
    let mut out = flake::flake_diagnostics(&model, &lock_state(db, file));
    out.retain(|d| !settings.diagnostics.ignored.iter().any(|c| c == d.code));
    out
}

/// Findings on a `flake.lock` itself (whether it can be read).
pub fn lock_diagnostics(db: &dyn Db, lock: FlakeLockFile) -> Vec<FlakeDiagnostic> {
    let settings = db.workspace().settings(db);
    let mut out = flake::lock_diagnostics(lock.state(db));
    out.retain(|d| !settings.diagnostics.ignored.iter().any(|c| c == d.code));
    out
}

/// The locked revision after each input's url.
pub fn inlay_hints(db: &dyn Db, file: SourceFile) -> Vec<FlakeInlayHint> {
    if !is_flake_nix(db, file) {
        return Vec::new();
    }
    let model = db::flake_model(db, file);
    flake::flake_inlay_hints(&model, &lock_state(db, file))
}

/// Flake-specific completions (empty outside `flake.nix` or outside a flake context).
pub fn completions(db: &dyn Db, pos: FilePos) -> Vec<FlakeCompletion> {
    if !is_flake_nix(db, pos.file) {
        return Vec::new();
    }
    use crate::syntax::ast::AstNode;
    let Some(root) = crate::syntax::ast::Root::cast(db::parse(db, pos.file).syntax()) else {
        return Vec::new();
    };
    let model = db::flake_model(db, pos.file);
    flake::flake_completions(&root, &model, pos.offset)
}

/// From an input to its node in `flake.lock`.
pub fn goto_lock(db: &dyn Db, pos: FilePos) -> Option<(FlakeLockFile, LockTarget)> {
    if !is_flake_nix(db, pos.file) {
        return None;
    }
    let lock = db::flake_lock_of(db, pos.file)?;
    let model = db::flake_model(db, pos.file);
    let target = flake::goto_lock_node(&model, lock.state(db), pos.offset)?;
    Some((lock, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::RootDatabase;
    use crate::flake::{AttrValue, FlakeRef, LockInfo, LockedInputInfo};
    use crate::ide::TextSize;

    fn lock(rev: &str) -> LockState {
        let s = |v: &str| AttrValue::Str(v.to_owned());
        LockState::Loaded(LockInfo {
            version: 7,
            inputs: vec![LockedInputInfo {
                name: "nixpkgs".into(),
                node: Some("nixpkgs".into()),
                follows: None,
                original: FlakeRef::parse_url("github:NixOS/nixpkgs").ok(),
                locked: Some(FlakeRef::from_attrs([
                    ("type", s("github")),
                    ("owner", s("NixOS")),
                    ("repo", s("nixpkgs")),
                    ("rev", s(rev)),
                    ("narHash", s("sha256-x")),
                ])),
                flake: true,
                inputs: Vec::new(),
                node_range: None,
                path_matches: None,
            }],
        })
    }

    #[test]
    fn lock_changes_flow_through_the_database() {
        let mut db = RootDatabase::new();
        let text =
            r#"{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; outputs = { self, nixpkgs }: { }; }"#;
        let file = db.set_file("/w/flake.nix", text.into());
        let other = db.set_file("/w/default.nix", text.into());
        let pos = FilePos {
            file,
            offset: TextSize::from(text.find("nixpkgs").unwrap() as u32),
        };
        // No lock read yet.
        let h = hover(&db, pos, 0).unwrap();
        assert!(
            h.markdown.contains("there is no flake.lock"),
            "{}",
            h.markdown
        );
        let a = "a".repeat(40);
        db.set_flake_lock("/w", "/w/flake.lock".into(), "{}".into(), lock(&a));
        assert!(hover(&db, pos, 0).unwrap().markdown.contains(&a));
        assert!(diagnostics(&db, file).is_empty());
        let b = "b".repeat(40);
        db.set_flake_lock("/w", "/w/flake.lock".into(), "{}".into(), lock(&b));
        assert!(hover(&db, pos, 0).unwrap().markdown.contains(&b));
        assert_eq!(inlay_hints(&db, file)[0].label, "bbbbbbb");
        // Only flake.nix files get flake features.
        assert!(hover(
            &db,
            FilePos {
                file: other,
                offset: pos.offset
            },
            0
        )
        .is_none());
        // Ignored codes stay quiet.
        db.set_flake_lock(
            "/w",
            "/w/flake.lock".into(),
            "{}".into(),
            LockState::Loaded(LockInfo::default()),
        );
        assert_eq!(diagnostics(&db, file)[0].code, "flake-input-not-locked");
        let mut settings = db.workspace().settings(&db).clone();
        settings
            .diagnostics
            .ignored
            .push("flake-input-not-locked".into());
        db.set_settings(settings);
        assert!(diagnostics(&db, file).is_empty());
    }
}
