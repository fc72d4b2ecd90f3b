//! What `flake.lock` says, as plain data the server hands to the analyzer (the analyzer does
//! no IO and does not know the backend's lock reader).

use rowan::TextRange;

use super::flake_ref::FlakeRef;

/// The state of the `flake.lock` beside a `flake.nix`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum LockState {
    /// No lock file (or the server has not read it).
    #[default]
    Missing,
    /// The lock file exists but cannot be read.
    Invalid(LockProblem),
    /// The lock file was read.
    Loaded(LockInfo),
}

impl LockState {
    /// The read lock, if any.
    pub fn info(&self) -> Option<&LockInfo> {
        match self {
            LockState::Loaded(info) => Some(info),
            _ => None,
        }
    }
}

/// Why the lock file could not be read, and where (a byte range in `flake.lock`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockProblem {
    /// The reader's message, e.g. "input `x` of node `root` names node `y`, which does not exist".
    pub message: String,
    /// Where in `flake.lock` the problem is.
    pub range: TextRange,
}

/// The root flake's inputs as the lock pins them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LockInfo {
    /// The lock file's format version (5 to 7).
    pub version: u32,
    /// One entry per input of the root node, sorted by name.
    pub inputs: Vec<LockedInputInfo>,
}

impl LockInfo {
    /// The entry for root input `name`.
    pub fn input(&self, name: &str) -> Option<&LockedInputInfo> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// `(input, sub-input)` pairs whose sub-input follows root input `name` (`"b"` for
    /// `a.inputs.x.follows = "b"`), for "followed by" in hovers.
    pub fn followers_of(&self, name: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for input in &self.inputs {
            for sub in &input.inputs {
                if let SubInputTarget::Follows(path) = &sub.target {
                    if path.len() == 1 && path[0] == name {
                        out.push((input.name.clone(), sub.name.clone()));
                    }
                }
            }
        }
        out
    }
}

/// One input of the root flake, as locked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockedInputInfo {
    /// The input's name (`nixpkgs`).
    pub name: String,
    /// The lock node the input resolves to (after any `follows`), or `None` when it resolves
    /// to the root flake itself (`follows = ""`).
    pub node: Option<String>,
    /// The follows path when the root input itself is written as `follows`.
    pub follows: Option<Vec<String>>,
    /// The reference as written in `flake.nix`, in attribute form.
    pub original: Option<FlakeRef>,
    /// The exact source the lock pins.
    pub locked: Option<FlakeRef>,
    /// `false` for `flake = false` inputs.
    pub flake: bool,
    /// This input's own inputs.
    pub inputs: Vec<SubInput>,
    /// The node's member (key and value) in `flake.lock`, for goto definition.
    pub node_range: Option<TextRange>,
    /// For `path` inputs: whether the tree on disk still has the locked `narHash` (computed by
    /// the server); `None` when not computed or not a path input.
    pub path_matches: Option<bool>,
}

/// An input of a locked input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubInput {
    /// Its name in the locked flake's `inputs`.
    pub name: String,
    /// What it points at.
    pub target: SubInputTarget,
}

/// Where a sub-input points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubInputTarget {
    /// A lock node of its own (by key).
    Node(String),
    /// A follows path from the root flake (`["nixpkgs"]`; empty for the root itself).
    Follows(Vec<String>),
}
