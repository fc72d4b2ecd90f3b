//! The lock as the analyzer sees it: `LockFile` turned into the analyzer's plain `LockState`,
//! and the one fact only IO can tell, whether a `path` input's tree still has its locked hash.

use std::path::{Path, PathBuf};

use strata_analyzer::flake::{
    LockInfo, LockProblem, LockState, LockedInputInfo, SourceKind, SubInput, SubInputTarget,
    TextRange, TextSize,
};

use super::lock::{InputEdge, LockFile};
use crate::store::nar::hash_path;
use crate::store::HashAlgo;

fn text_range(r: &std::ops::Range<usize>) -> TextRange {
    let clamp = |n: usize| TextSize::from(u32::try_from(n).unwrap_or(u32::MAX));
    TextRange::new(clamp(r.start), clamp(r.end.max(r.start)))
}

/// Reads lock text into the analyzer's `LockState` (`Invalid` with the error's range when the
/// lock cannot be read). Path inputs are not hashed here; see [`check_path_inputs`].
pub fn lock_state(text: &str) -> LockState {
    match LockFile::parse(text) {
        Ok(lock) => LockState::Loaded(lock_info(&lock)),
        Err(e) => LockState::Invalid(LockProblem {
            message: e.kind.to_string(),
            range: text_range(&e.range),
        }),
    }
}

/// The root's inputs of a read lock as plain data, each resolved through `follows`.
pub fn lock_info(lock: &LockFile) -> LockInfo {
    let mut inputs = Vec::new();
    for (name, edge) in &lock.root_node().inputs {
        let (node_key, follows) = match edge {
            InputEdge::Node(key) => (Some(key.clone()), None),
            InputEdge::Follows(path) => {
                let resolved = lock
                    .resolve(path)
                    .ok()
                    .filter(|k| *k != lock.root)
                    .map(str::to_owned);
                (resolved, Some(path.clone()))
            }
        };
        let node = node_key.as_deref().and_then(|k| lock.node(k));
        inputs.push(LockedInputInfo {
            name: name.clone(),
            node: node_key.clone(),
            follows,
            original: node.and_then(|n| n.original.clone()),
            locked: node.and_then(|n| n.locked.clone()),
            flake: node.is_none_or(|n| n.flake),
            inputs: node
                .map(|n| {
                    n.inputs
                        .iter()
                        .map(|(sub, e)| SubInput {
                            name: sub.clone(),
                            target: match e {
                                InputEdge::Node(k) => SubInputTarget::Node(k.clone()),
                                InputEdge::Follows(p) => SubInputTarget::Follows(p.clone()),
                            },
                        })
                        .collect()
                })
                .unwrap_or_default(),
            node_range: node.map(|n| text_range(&n.range)),
            path_matches: None,
        });
    }
    LockInfo {
        version: lock.version,
        inputs,
    }
}

/// The outcome of hashing one `path` input's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCheck {
    /// The lock node's key.
    pub node: String,
    /// The directory that was hashed.
    pub path: PathBuf,
    /// The lock's `narHash`.
    pub expected: String,
    /// The tree's NAR hash (SRI), or why it could not be computed.
    pub actual: Result<String, String>,
}

impl PathCheck {
    /// Whether the tree on disk still has the locked hash.
    pub fn matches(&self) -> bool {
        self.actual.as_deref() == Ok(self.expected.as_str())
    }
}

/// Hashes the tree of every `path` node in the lock (relative paths from `flake_dir`) and
/// compares it with the locked `narHash`, as `nix hash path` would compute it.
pub fn check_path_inputs(lock: &LockFile, flake_dir: &Path) -> Vec<PathCheck> {
    let mut out = Vec::new();
    for node in lock.nodes.values() {
        let Some(locked) = &node.locked else { continue };
        if locked.kind() != Some(SourceKind::Path) {
            continue;
        }
        let (Some(path), Some(expected)) = (locked.path(), locked.nar_hash()) else {
            continue;
        };
        let path = flake_dir.join(path);
        let actual = hash_path(&path, HashAlgo::Sha256)
            .map(|(hash, _size)| hash.to_sri())
            .map_err(|e| e.to_string());
        out.push(PathCheck {
            node: node.key.clone(),
            path,
            expected: expected.to_owned(),
            actual,
        });
    }
    out
}

/// `lock_state` plus, for `path` inputs, whether their trees still match the lock.
pub fn lock_state_with_path_checks(text: &str, flake_dir: &Path) -> LockState {
    let Ok(lock) = LockFile::parse(text) else {
        return lock_state(text);
    };
    let mut info = lock_info(&lock);
    let checks = check_path_inputs(&lock, flake_dir);
    for input in &mut info.inputs {
        if let Some(check) = checks.iter().find(|c| Some(&c.node) == input.node.as_ref()) {
            input.path_matches = Some(check.matches());
        }
    }
    LockState::Loaded(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> PathBuf {
        std::env::var_os("STRATA_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
            .join("conformance/flakes/nix28-generated")
    }

    /// The Nix-written lock, with `/tmp/flkgen` (where Nix saw the inputs) replaced by `base`.
    fn generated_lock(base: &Path) -> String {
        std::fs::read_to_string(generated().join("root/flake.lock"))
            .unwrap()
            .replace("/tmp/flkgen", base.to_str().unwrap())
    }

    #[test]
    fn path_inputs_hash_like_nix() {
        let base = generated();
        let lock = LockFile::parse(&generated_lock(&base)).unwrap();
        let checks = check_path_inputs(&lock, &base.join("root"));
        let nodes: Vec<_> = checks.iter().map(|c| c.node.as_str()).collect();
        assert_eq!(nodes, ["data", "libflake"]);
        for c in &checks {
            assert!(c.matches(), "{c:?}");
        }
    }

    #[test]
    fn a_changed_tree_no_longer_matches() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("data")).unwrap();
        std::fs::write(tmp.path().join("data/hello.txt"), "hello, changed\n").unwrap();
        let text = generated_lock(tmp.path());
        let state = lock_state_with_path_checks(&text, tmp.path());
        let info = state.info().unwrap();
        assert_eq!(info.input("data").unwrap().path_matches, Some(false));
        // libflake's tree is missing altogether: not a match either.
        assert_eq!(info.input("libflake").unwrap().path_matches, Some(false));
        assert_eq!(info.input("gitdep").unwrap().path_matches, None);

        std::fs::write(tmp.path().join("data/hello.txt"), "hello\n").unwrap();
        let state = lock_state_with_path_checks(&text, tmp.path());
        assert_eq!(
            state.info().unwrap().input("data").unwrap().path_matches,
            Some(true)
        );
    }

    #[test]
    fn lock_info_resolves_follows_and_keeps_node_ranges() {
        let text = generated_lock(Path::new("/tmp/flkgen"));
        let state = lock_state(&text);
        let info = state.info().unwrap();
        let libflake = info.input("libflake").unwrap();
        assert_eq!(
            libflake.inputs,
            vec![SubInput {
                name: "data".into(),
                target: SubInputTarget::Follows(vec!["data".into()])
            }]
        );
        assert_eq!(
            info.followers_of("data"),
            vec![("libflake".into(), "data".into())]
        );
        let range = libflake.node_range.unwrap();
        assert!(text[usize::from(range.start())..].starts_with("\"libflake\": {"));

        let bad = lock_state("{\"version\": 3}");
        match bad {
            LockState::Invalid(p) => {
                assert!(p.message.contains("unsupported lock file version 3"));
                assert_eq!(&"{\"version\": 3}"[p.range], "3");
            }
            other => panic!("{other:?}"),
        }
    }
}
