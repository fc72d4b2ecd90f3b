//! Goto definition from an input in `flake.nix` to its node in `flake.lock`.

use rowan::{TextRange, TextSize};

use super::lock_info::LockState;
use super::model::FlakeModel;

/// A jump from `flake.nix` into `flake.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTarget {
    /// The name or url under the cursor in `flake.nix`.
    pub source: TextRange,
    /// The node's member (`"nixpkgs": { … }`) in `flake.lock`.
    pub target: TextRange,
}

/// Where the lock pins the input at `offset` (following `follows` to the node it resolves to).
pub fn goto_lock_node(
    model: &FlakeModel,
    lock: &LockState,
    offset: TextSize,
) -> Option<LockTarget> {
    let (name, source) = model.input_name_at(offset)?;
    let target = lock.info()?.input(&name)?.node_range?;
    Some(LockTarget { source, target })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::{cursor, github, lock_of, model_of};

    #[test]
    fn jumps_to_the_node() {
        let rev = "58a1abdbae3217ca6b702f03d3b35125d88a2994";
        let mut nixpkgs = github("nixpkgs", "NixOS", "nixpkgs", None, rev);
        nixpkgs.node_range = Some(TextRange::new(10.into(), 42.into()));
        let lock = lock_of(vec![nixpkgs]);
        let (text, offset) = cursor(
            r#"{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; outputs = { self, nix$0pkgs }: { }; }"#,
        );
        let (model, _) = model_of(&text);
        let t = goto_lock_node(&model, &lock, offset).unwrap();
        assert_eq!(&text[t.source], "nixpkgs");
        assert_eq!(t.target, TextRange::new(10.into(), 42.into()));
        // The url jumps too; `self` and unlocked inputs do not.
        let url_offset = TextSize::from(text.find("github").unwrap() as u32);
        assert!(goto_lock_node(&model, &lock, url_offset).is_some());
        let self_offset = TextSize::from(text.find("self").unwrap() as u32);
        assert_eq!(goto_lock_node(&model, &lock, self_offset), None);
        assert_eq!(goto_lock_node(&model, &LockState::Missing, offset), None);
    }
}
