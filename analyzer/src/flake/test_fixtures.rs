//! Helpers for the flake feature tests: parse a `flake.nix` fixture (with an optional `$0`
//! cursor) and build lock data by hand (the analyzer cannot read `flake.lock` itself).

use rowan::{TextRange, TextSize};

use super::flake_ref::{AttrValue, FlakeRef};
use super::lock_info::{LockInfo, LockState, LockedInputInfo};
use super::model::FlakeModel;

/// Parses `text` and reads its model.
pub fn model_of(text: &str) -> (FlakeModel, String) {
    let parse = crate::syntax::parse(text);
    (FlakeModel::from_root(&parse.root()), text.to_owned())
}

/// Removes the `$0` marker, returning the text and the cursor offset.
pub fn cursor(text: &str) -> (String, TextSize) {
    let offset = text.find("$0").expect("fixture has a $0 cursor");
    (text.replacen("$0", "", 1), TextSize::from(offset as u32))
}

/// The `lastModified` every fixture input has: 2024-04-27 21:35:43 UTC.
pub const LAST_MODIFIED: u64 = 1_714_253_743;

/// A locked `github` input as `nix flake lock` writes it.
pub fn github(
    name: &str,
    owner: &str,
    repo: &str,
    git_ref: Option<&str>,
    rev: &str,
) -> LockedInputInfo {
    let s = |v: &str| AttrValue::Str(v.to_owned());
    let mut original = FlakeRef::from_attrs([
        ("type", s("github")),
        ("owner", s(owner)),
        ("repo", s(repo)),
    ]);
    if let Some(r) = git_ref {
        original.attrs.insert("ref".into(), s(r));
    }
    let locked = FlakeRef::from_attrs([
        ("type", s("github")),
        ("owner", s(owner)),
        ("repo", s(repo)),
        ("rev", s(rev)),
        ("lastModified", AttrValue::Int(LAST_MODIFIED)),
        (
            "narHash",
            s("sha256-mdTQw2XlariysyScCv2tTE45QSU9v/ezLcHJ22f0Nxc="),
        ),
    ]);
    LockedInputInfo {
        name: name.to_owned(),
        node: Some(name.to_owned()),
        follows: None,
        original: Some(original),
        locked: Some(locked),
        flake: true,
        inputs: Vec::new(),
        node_range: Some(TextRange::new(100.into(), 200.into())),
        path_matches: None,
    }
}

/// A loaded lock with these root inputs.
pub fn lock_of(inputs: Vec<LockedInputInfo>) -> LockState {
    LockState::Loaded(LockInfo { version: 7, inputs })
}
