//! Inlay hints after each input's url: the locked short revision and date.

use rowan::TextSize;

use super::lock_info::LockState;
use super::model::FlakeModel;
use super::time;

/// A hint to show at `offset` (just after the url string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakeInlayHint {
    /// Where the hint goes.
    pub offset: TextSize,
    /// The hint, e.g. `58a1abd (2024-04-27)`.
    pub label: String,
    /// The full revision and hash, for a tooltip.
    pub tooltip: String,
}

/// One hint per locked input whose reference is written in `flake.nix` (after the url, or
/// after the last written attribute of the attribute-set form).
pub fn flake_inlay_hints(model: &FlakeModel, lock: &LockState) -> Vec<FlakeInlayHint> {
    let Some(info) = lock.info() else {
        return Vec::new();
    };
    let mut hints = Vec::new();
    for input in &model.inputs {
        let anchor = input.url.as_ref().map(|u| u.range.end()).or(input
            .attrs
            .iter()
            .map(|a| a.2.end())
            .max());
        let (Some(offset), Some(locked)) = (anchor, info.input(&input.name)) else {
            continue;
        };
        let Some(l) = &locked.locked else { continue };
        // The revision when there is one, else the start of the NAR hash (paths, tarballs).
        let id = match (l.rev(), l.nar_hash()) {
            (Some(rev), _) => rev.get(..7).unwrap_or(rev).to_owned(),
            (None, Some(h)) => {
                let body = h.strip_prefix("sha256-").unwrap_or(h);
                format!("{}…", body.get(..8).unwrap_or(body))
            }
            (None, None) => continue,
        };
        let label = match l.last_modified() {
            Some(t) => format!("{id} ({})", time::utc_date(t as i64)),
            None => id,
        };
        let mut tooltip = Vec::new();
        if let Some(rev) = l.rev() {
            tooltip.push(format!("rev {rev}"));
        }
        if let Some(h) = l.nar_hash() {
            tooltip.push(format!("narHash {h}"));
        }
        hints.push(FlakeInlayHint {
            offset,
            label,
            tooltip: tooltip.join("\n"),
        });
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::{github, lock_of, model_of};
    use crate::flake::{AttrValue, FlakeRef};
    use expect_test::expect;

    #[test]
    fn hints_follow_urls_and_attribute_sets() {
        let rev = "58a1abdbae3217ca6b702f03d3b35125d88a2994";
        let mut file = github("file", "x", "y", None, rev);
        file.locked = Some(FlakeRef::from_attrs([
            ("type", AttrValue::Str("file".into())),
            ("url", AttrValue::Str("https://e.org/f.nix".into())),
            (
                "narHash",
                AttrValue::Str("sha256-D4N+MuIfbF+WogLprhLa5iQACL0tU1OKVqFhkQNf10A=".into()),
            ),
        ]));
        let lock = lock_of(vec![
            github("nixpkgs", "NixOS", "nixpkgs", Some("nixos-unstable"), rev),
            github("utils", "numtide", "flake-utils", None, rev),
            file,
        ]);
        let text = r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.utils = { type = "github"; owner = "numtide"; repo = "flake-utils"; };
  inputs.file = { url = "https://e.org/f.nix"; flake = false; };
  inputs.unlocked.url = "github:a/b";
  outputs = { ... }: { };
}"#;
        let (model, _) = model_of(text);
        let rendered: Vec<String> = flake_inlay_hints(&model, &lock)
            .iter()
            .map(|h| {
                let at = usize::from(h.offset);
                format!("{}⟨{}⟩{}", &text[at - 6..at], h.label, &text[at..at + 1])
            })
            .collect();
        expect![[r#"
            [
                "table\"⟨58a1abd (2024-04-27)⟩;",
                "utils\"⟨58a1abd (2024-04-27)⟩;",
                "f.nix\"⟨D4N+MuIf…⟩;",
            ]
        "#]]
        .assert_debug_eq(&rendered);
        assert!(flake_inlay_hints(&model, &LockState::Missing).is_empty());
    }
}
