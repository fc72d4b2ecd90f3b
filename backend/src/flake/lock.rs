//! The `flake.lock` reader (format versions 5 to 7).
//!
//! A lock is a graph: `nodes` maps keys to nodes, `root` names the flake itself, and each node's
//! `inputs` either names another node or gives a `follows` path resolved from the root. The
//! reader checks everything Nix checks when it reads a lock (version, node names, fetcher
//! attributes, that every entry is locked, follows paths) and reports the first problem with
//! its line and column, so a broken lock is a message in the editor and never a panic.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use serde_json::Value;
use strata_analyzer::flake::{AttrValue, FlakeRef, SourceKind};

use super::json_spans::JsonSpans;

/// A read and validated `flake.lock`.
#[derive(Debug, Clone)]
pub struct LockFile {
    /// The format version (5, 6 or 7).
    pub version: u32,
    /// The key of the node standing for the flake itself (by convention `root`).
    pub root: String,
    /// Every node by key, sorted.
    pub nodes: BTreeMap<String, LockNode>,
}

/// One node of the lock graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockNode {
    /// The node's key in `nodes`.
    pub key: String,
    /// The node's inputs by name.
    pub inputs: BTreeMap<String, InputEdge>,
    /// The exact source (absent only on the root node).
    pub locked: Option<FlakeRef>,
    /// The reference as the user wrote it (absent only on the root node).
    pub original: Option<FlakeRef>,
    /// `false` for inputs declared with `flake = false`.
    pub flake: bool,
    /// The node's member (`"key": { … }`) in the lock text, in bytes.
    pub range: Range<usize>,
}

/// Where an input of a node points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputEdge {
    /// Another node, by key.
    Node(String),
    /// A follows path, resolved from the root node (empty: the root itself).
    Follows(Vec<String>),
}

/// A 1-based line and column in the lock text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Why a lock file could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {kind}", position.line, position.column)]
pub struct LockError {
    /// What is wrong.
    pub kind: LockErrorKind,
    /// Where (line and column of the offending value).
    pub position: Position,
    /// The offending value's byte range in the lock text.
    pub range: Range<usize>,
}

/// The problems a lock file can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockErrorKind {
    /// Not JSON at all (serde_json's message).
    #[error("flake.lock is not valid JSON: {0}")]
    Syntax(String),
    /// A value of the wrong JSON type.
    #[error("{what} must be {expected}")]
    WrongType {
        /// The value's place, e.g. "`nodes.nixpkgs.inputs`".
        what: String,
        /// e.g. "an object".
        expected: &'static str,
    },
    /// A required member is missing.
    #[error("{what} has no `{member}`")]
    Missing {
        /// The containing value's place.
        what: String,
        /// The missing member's name.
        member: &'static str,
    },
    /// A version this reader does not understand.
    #[error("unsupported lock file version {0}: Strata reads versions 5 to 7 (run `nix flake lock` with a current Nix)")]
    UnsupportedVersion(String),
    /// `root` names no node.
    #[error("`root` names node `{0}`, which does not exist")]
    MissingRoot(String),
    /// An input names a node that does not exist.
    #[error("input `{input}` of node `{node}` names node `{target}`, which does not exist")]
    DanglingNode {
        /// The node with the input.
        node: String,
        /// The input's name.
        input: String,
        /// The missing node's key.
        target: String,
    },
    /// An input names the root node directly, which Nix refuses.
    #[error("input `{input}` of node `{node}` points back at the root node (a cycle)")]
    CycleToRoot {
        /// The node with the input.
        node: String,
        /// The input's name.
        input: String,
    },
    /// `type` is not a fetcher Nix knows.
    #[error("node `{node}` has unsupported input type `{ty}` in `{field}`")]
    UnsupportedType {
        /// The node's key.
        node: String,
        /// `locked` or `original`.
        field: &'static str,
        /// The type as written.
        ty: String,
    },
    /// A fetcher attribute that is not a string, unsigned integer or boolean.
    #[error("attribute `{attr}` of `{field}` in node `{node}` must be a string, an unsigned integer or a boolean")]
    BadAttribute {
        /// The node's key.
        node: String,
        /// `locked` or `original`.
        field: &'static str,
        /// The attribute's name.
        attr: String,
    },
    /// A fetcher type's required attribute is missing.
    #[error("`{field}` of node `{node}` is a `{ty}` reference without `{attr}`")]
    MissingAttribute {
        /// The node's key.
        node: String,
        /// `locked` or `original`.
        field: &'static str,
        /// The fetcher type.
        ty: &'static str,
        /// The missing attribute.
        attr: &'static str,
    },
    /// A `locked` entry that does not pin one exact source.
    #[error("node `{node}` is not locked (its `locked` has neither a revision nor a `narHash`): run `nix flake lock`")]
    NotLocked {
        /// The node's key.
        node: String,
    },
    /// A follows path that leads back to itself.
    #[error("input `{input}` follows `{follows}`, which leads back to itself (a follows cycle)")]
    FollowsCycle {
        /// The input path with the follows (`a/b`).
        input: String,
        /// The follows path.
        follows: String,
    },
    /// A follows path naming an input that does not exist.
    #[error("input `{input}` follows a non-existent input `{follows}`")]
    FollowsMissing {
        /// The input path with the follows (`a/b`).
        input: String,
        /// The follows path.
        follows: String,
    },
}

/// Why a follows path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A step names no input.
    #[error("no input `{0}`")]
    Missing(String),
    /// The path leads back to itself.
    #[error("follows cycle through `{0}`")]
    Cycle(String),
}

/// One line of the input tree (`nix flake metadata`'s "Inputs:").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTreeEntry {
    /// The input's name.
    pub name: String,
    /// The input path from the root (`["libflake", "data"]`).
    pub path: Vec<String>,
    /// A node (with its own inputs, shown once per node) or a follows path.
    pub target: InputTreeTarget,
}

/// What a line of the input tree shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputTreeTarget {
    /// A locked node.
    Node {
        /// The node's key.
        key: String,
        /// The node's inputs; empty when the node was already shown earlier in the tree.
        children: Vec<InputTreeEntry>,
        /// Whether this is the node's first appearance in the tree.
        first_visit: bool,
    },
    /// `follows` the given input path.
    Follows(Vec<String>),
}

impl LockFile {
    /// Reads and validates a lock from its text.
    pub fn parse(text: &str) -> Result<LockFile, LockError> {
        let json: Value = serde_json::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let reader = Reader {
            text,
            spans: JsonSpans::index(text),
        };
        reader.read(&json)
    }

    /// The root node.
    pub fn root_node(&self) -> &LockNode {
        // `parse` guarantees the root exists.
        &self.nodes[&self.root]
    }

    /// The node with key `key`.
    pub fn node(&self, key: &str) -> Option<&LockNode> {
        self.nodes.get(key)
    }

    /// Resolves an input path (`["home-manager", "nixpkgs"]`) from the root to a node key,
    /// following `follows` on the way. The empty path is the root node.
    pub fn resolve(&self, path: &[String]) -> Result<&str, ResolveError> {
        let mut stack = Vec::new();
        self.resolve_inner(path, &mut stack)
    }

    fn resolve_inner<'a>(
        &'a self,
        path: &[String],
        stack: &mut Vec<Vec<String>>,
    ) -> Result<&'a str, ResolveError> {
        let mut current: &str = &self.root;
        for (i, name) in path.iter().enumerate() {
            let node = &self.nodes[current];
            match node.inputs.get(name) {
                None => return Err(ResolveError::Missing(path[..=i].join("/"))),
                Some(InputEdge::Node(key)) => current = key,
                Some(InputEdge::Follows(target)) => {
                    if stack.contains(target) {
                        return Err(ResolveError::Cycle(path[..=i].join("/")));
                    }
                    stack.push(target.clone());
                    let resolved = self.resolve_inner(target, stack);
                    stack.pop();
                    current = resolved?;
                }
            }
        }
        // Keys come from `self.nodes`; hand back the map's own string for the lifetime.
        Ok(self
            .nodes
            .get_key_value(current)
            .map(|(k, _)| k.as_str())
            .unwrap_or(&self.root))
    }

    /// The root's inputs as a tree, each node's own inputs shown at its first appearance only
    /// (as `nix flake metadata` does, which also keeps cyclic locks finite).
    pub fn input_tree(&self) -> Vec<InputTreeEntry> {
        let mut visited = HashSet::new();
        self.subtree(&self.root, &[], &mut visited)
    }

    fn subtree(
        &self,
        key: &str,
        prefix: &[String],
        visited: &mut HashSet<String>,
    ) -> Vec<InputTreeEntry> {
        let Some(node) = self.nodes.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, edge) in &node.inputs {
            let mut path = prefix.to_vec();
            path.push(name.clone());
            let target = match edge {
                InputEdge::Node(child) => {
                    let first_visit = visited.insert(child.clone());
                    let children = if first_visit {
                        self.subtree(child, &path, visited)
                    } else {
                        Vec::new()
                    };
                    InputTreeTarget::Node {
                        key: child.clone(),
                        children,
                        first_visit,
                    }
                }
                InputEdge::Follows(p) => InputTreeTarget::Follows(p.clone()),
            };
            out.push(InputTreeEntry {
                name: name.clone(),
                path,
                target,
            });
        }
        out
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

/// Byte offset of a 1-based line and column (serde_json's error position).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            return offset + col_bytes;
        }
        offset += l.len();
    }
    text.len()
}

fn syntax_error(text: &str, e: &serde_json::Error) -> LockError {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    };
    let (line, column) = (e.line().max(1), e.column().max(1));
    let offset = offset_of(text, line, column);
    LockError {
        kind: LockErrorKind::Syntax(message),
        position: Position { line, column },
        range: offset..offset,
    }
}

struct Reader<'a> {
    text: &'a str,
    spans: JsonSpans,
}

fn place(path: &[&str]) -> String {
    if path.is_empty() {
        "the lock file".to_owned()
    } else {
        format!("`{}`", path.join("."))
    }
}

impl Reader<'_> {
    fn error(&self, path: &[&str], kind: LockErrorKind) -> LockError {
        let range = self.spans.value_or_ancestor(path);
        LockError {
            kind,
            position: position_of(self.text, range.start),
            range,
        }
    }

    fn read(&self, json: &Value) -> Result<LockFile, LockError> {
        let top = json.as_object().ok_or_else(|| {
            self.error(
                &[],
                LockErrorKind::WrongType {
                    what: "the lock file".into(),
                    expected: "a JSON object",
                },
            )
        })?;

        let version = match top.get("version") {
            None => {
                return Err(self.error(
                    &[],
                    LockErrorKind::Missing {
                        what: "the lock file".into(),
                        member: "version",
                    },
                ))
            }
            Some(v) => match v.as_u64() {
                Some(n @ 5..=7) => n as u32,
                _ => {
                    return Err(self.error(
                        &["version"],
                        LockErrorKind::UnsupportedVersion(v.to_string()),
                    ))
                }
            },
        };

        let root = match top.get("root") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(self.error(
                    &["root"],
                    LockErrorKind::WrongType {
                        what: "`root`".into(),
                        expected: "a string",
                    },
                ))
            }
            None => {
                return Err(self.error(
                    &[],
                    LockErrorKind::Missing {
                        what: "the lock file".into(),
                        member: "root",
                    },
                ))
            }
        };

        let json_nodes = match top.get("nodes") {
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(self.error(
                    &["nodes"],
                    LockErrorKind::WrongType {
                        what: "`nodes`".into(),
                        expected: "an object",
                    },
                ))
            }
            None => {
                return Err(self.error(
                    &[],
                    LockErrorKind::Missing {
                        what: "the lock file".into(),
                        member: "nodes",
                    },
                ))
            }
        };
        if !json_nodes.contains_key(&root) {
            return Err(self.error(&["root"], LockErrorKind::MissingRoot(root)));
        }

        let mut nodes = BTreeMap::new();
        for (key, value) in json_nodes {
            let node = self.read_node(key, value, key == &root)?;
            nodes.insert(key.clone(), node);
        }

        // Edges by name: every named node exists and none is the root.
        for node in nodes.values() {
            for (input, edge) in &node.inputs {
                if let InputEdge::Node(target) = edge {
                    let at = ["nodes", node.key.as_str(), "inputs", input.as_str()];
                    if target == &root {
                        return Err(self.error(
                            &at,
                            LockErrorKind::CycleToRoot {
                                node: node.key.clone(),
                                input: input.clone(),
                            },
                        ));
                    }
                    if !nodes.contains_key(target) {
                        return Err(self.error(
                            &at,
                            LockErrorKind::DanglingNode {
                                node: node.key.clone(),
                                input: input.clone(),
                                target: target.clone(),
                            },
                        ));
                    }
                }
            }
        }

        let lock = LockFile {
            version,
            root,
            nodes,
        };
        self.check_follows(&lock)?;
        Ok(lock)
    }

    /// Resolves every follows path reachable from the root (Nix's `LockFile::check`).
    fn check_follows(&self, lock: &LockFile) -> Result<(), LockError> {
        let mut seen = HashSet::new();
        let mut queue: Vec<(String, Vec<String>)> = vec![(lock.root.clone(), Vec::new())];
        while let Some((key, prefix)) = queue.pop() {
            if !seen.insert(key.clone()) {
                continue;
            }
            let node = &lock.nodes[&key];
            for (name, edge) in &node.inputs {
                let mut path = prefix.clone();
                path.push(name.clone());
                match edge {
                    InputEdge::Node(child) => queue.push((child.clone(), path)),
                    InputEdge::Follows(target) => {
                        let mut stack = vec![target.clone()];
                        if let Err(e) = lock.resolve_inner(target, &mut stack) {
                            let at = ["nodes", key.as_str(), "inputs", name.as_str()];
                            let input = path.join("/");
                            let follows = target.join("/");
                            let kind = match e {
                                ResolveError::Cycle(_) => {
                                    LockErrorKind::FollowsCycle { input, follows }
                                }
                                ResolveError::Missing(_) => {
                                    LockErrorKind::FollowsMissing { input, follows }
                                }
                            };
                            return Err(self.error(&at, kind));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn read_node(&self, key: &str, value: &Value, is_root: bool) -> Result<LockNode, LockError> {
        let here = ["nodes", key];
        let obj = value.as_object().ok_or_else(|| {
            self.error(
                &here,
                LockErrorKind::WrongType {
                    what: place(&here),
                    expected: "an object",
                },
            )
        })?;

        let mut inputs = BTreeMap::new();
        if let Some(json_inputs) = obj.get("inputs") {
            let at = ["nodes", key, "inputs"];
            let map = json_inputs.as_object().ok_or_else(|| {
                self.error(
                    &at,
                    LockErrorKind::WrongType {
                        what: place(&at),
                        expected: "an object",
                    },
                )
            })?;
            for (name, edge) in map {
                let at = ["nodes", key, "inputs", name.as_str()];
                let wrong = || {
                    self.error(
                        &at,
                        LockErrorKind::WrongType {
                            what: place(&at),
                            expected: "a node name or a follows path (a list of input names)",
                        },
                    )
                };
                let edge = match edge {
                    Value::String(s) => InputEdge::Node(s.clone()),
                    Value::Array(items) => InputEdge::Follows(
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_owned).ok_or_else(wrong))
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(wrong()),
                };
                inputs.insert(name.clone(), edge);
            }
        }

        let flake = match obj.get("flake") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                let at = ["nodes", key, "flake"];
                return Err(self.error(
                    &at,
                    LockErrorKind::WrongType {
                        what: place(&at),
                        expected: "a boolean",
                    },
                ));
            }
        };

        let (locked, original) = if is_root {
            (None, None)
        } else {
            let mut locked = self.read_ref(key, obj, "locked")?;
            // Version 5 kept `narHash`/`lastModified` in a separate `info` object.
            if let Some(info) = obj.get("info") {
                let extra = self.read_attrs(key, info, "info")?;
                locked.attrs.extend(extra.attrs);
            }
            let original = self.read_ref(key, obj, "original")?;
            self.validate_ref(key, &locked, "locked")?;
            self.validate_ref(key, &original, "original")?;
            if locked.kind() == Some(SourceKind::Indirect) {
                return Err(self.error(
                    &["nodes", key, "locked", "type"],
                    LockErrorKind::UnsupportedType {
                        node: key.to_owned(),
                        field: "locked",
                        ty: "indirect".into(),
                    },
                ));
            }
            if !locked.is_locked() && locked.nar_hash().is_none() {
                return Err(self.error(
                    &["nodes", key, "locked"],
                    LockErrorKind::NotLocked {
                        node: key.to_owned(),
                    },
                ));
            }
            (Some(locked), Some(original))
        };

        let range = self
            .spans
            .get(&here)
            .map_or(0..0, |m| m.key.start..m.value.end);
        Ok(LockNode {
            key: key.to_owned(),
            inputs,
            locked,
            original,
            flake,
            range,
        })
    }

    fn read_ref(
        &self,
        key: &str,
        obj: &serde_json::Map<String, Value>,
        field: &'static str,
    ) -> Result<FlakeRef, LockError> {
        match obj.get(field) {
            Some(v) => self.read_attrs(key, v, field),
            None => Err(self.error(
                &["nodes", key],
                LockErrorKind::Missing {
                    what: format!("node `{key}`"),
                    member: field,
                },
            )),
        }
    }

    fn read_attrs(
        &self,
        key: &str,
        value: &Value,
        field: &'static str,
    ) -> Result<FlakeRef, LockError> {
        let at = ["nodes", key, field];
        let map = value.as_object().ok_or_else(|| {
            self.error(
                &at,
                LockErrorKind::WrongType {
                    what: place(&at),
                    expected: "an object",
                },
            )
        })?;
        let mut attrs = BTreeMap::new();
        for (name, v) in map {
            let value = match v {
                Value::String(s) => AttrValue::Str(s.clone()),
                Value::Bool(b) => AttrValue::Bool(*b),
                Value::Number(n) if n.as_u64().is_some() => AttrValue::Int(n.as_u64().unwrap_or(0)),
                _ => {
                    return Err(self.error(
                        &["nodes", key, field, name.as_str()],
                        LockErrorKind::BadAttribute {
                            node: key.to_owned(),
                            field,
                            attr: name.clone(),
                        },
                    ))
                }
            };
            attrs.insert(name.clone(), value);
        }
        Ok(FlakeRef { attrs })
    }

    fn validate_ref(&self, key: &str, r: &FlakeRef, field: &'static str) -> Result<(), LockError> {
        let Some(ty) = r.type_name() else {
            return Err(self.error(
                &["nodes", key, field],
                LockErrorKind::Missing {
                    what: format!("`nodes.{key}.{field}`"),
                    member: "type",
                },
            ));
        };
        let Some(kind) = SourceKind::from_type(ty) else {
            return Err(self.error(
                &["nodes", key, field, "type"],
                LockErrorKind::UnsupportedType {
                    node: key.to_owned(),
                    field,
                    ty: ty.to_owned(),
                },
            ));
        };
        for attr in kind.required_attrs() {
            if r.str_attr(attr).is_none() {
                return Err(self.error(
                    &["nodes", key, field],
                    LockErrorKind::MissingAttribute {
                        node: key.to_owned(),
                        field,
                        ty: kind.as_str(),
                        attr,
                    },
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use std::path::PathBuf;

    /// `../shared` beside the repository (or `$STRATA_SHARED`, for worktrees elsewhere).
    fn shared_flakes() -> PathBuf {
        std::env::var_os("STRATA_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
            .join("conformance/flakes")
    }

    /// Every `flake.lock` under the shared flake conformance data.
    fn real_locks() -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(shared_flakes()) {
            let entry = entry.unwrap();
            if entry.file_name() == "flake.lock" {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                out.push((entry.path().to_path_buf(), text));
            }
        }
        out.sort();
        assert!(
            out.len() >= 7,
            "expected the shared samples, found {}",
            out.len()
        );
        out
    }

    fn read(name: &str) -> LockFile {
        let (_, text) = real_locks()
            .into_iter()
            .find(|(p, _)| p.parent().unwrap().ends_with(name))
            .unwrap();
        LockFile::parse(&text).unwrap()
    }

    #[test]
    fn every_real_lock_reads_and_matches_its_json() {
        for (path, text) in real_locks() {
            let lock = LockFile::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json: Value = serde_json::from_str(&text).unwrap();
            let nodes = json["nodes"].as_object().unwrap();
            assert_eq!(lock.nodes.len(), nodes.len(), "{}", path.display());
            assert_eq!(lock.root, json["root"].as_str().unwrap());
            for (key, jnode) in nodes {
                let node = &lock.nodes[key];
                // The node's range covers exactly its member in the text.
                let member = &text[node.range.clone()];
                assert!(member.starts_with(&format!("\"{key}\"")), "{member}");
                assert!(member.ends_with('}'));
                let jinputs = jnode.get("inputs").and_then(Value::as_object);
                assert_eq!(node.inputs.len(), jinputs.map_or(0, |m| m.len()));
                assert_eq!(node.flake, jnode.get("flake") != Some(&Value::Bool(false)));
                if key == &lock.root {
                    continue;
                }
                // Every attribute of `locked` survives, with its type.
                let locked = node.locked.as_ref().unwrap();
                for (attr, v) in jnode["locked"].as_object().unwrap() {
                    let ours = &locked.attrs[attr];
                    match (ours, v) {
                        (AttrValue::Str(a), Value::String(b)) => assert_eq!(a, b),
                        (AttrValue::Int(a), Value::Number(b)) => assert_eq!(Some(*a), b.as_u64()),
                        (AttrValue::Bool(a), Value::Bool(b)) => assert_eq!(a, b),
                        other => panic!("{other:?}"),
                    }
                }
                assert_eq!(
                    node.original.as_ref().unwrap().attrs.len(),
                    jnode["original"].as_object().unwrap().len()
                );
                // Every follows path resolves to a node that exists.
                for edge in node.inputs.values() {
                    if let InputEdge::Follows(p) = edge {
                        let target = lock.resolve(p).unwrap();
                        assert!(lock.nodes.contains_key(target));
                    }
                }
            }
        }
    }

    #[test]
    fn follows_resolve_from_the_root() {
        let lock = read("nixd-example");
        let path = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            lock.resolve(&path(&["home-manager", "nixpkgs"])),
            Ok("nixpkgs")
        );
        assert_eq!(
            lock.resolve(&path(&["flake-parts", "nixpkgs-lib"])),
            Ok("nixpkgs-lib")
        );
        assert_eq!(
            lock.resolve(&path(&["flake-parts", "nope"])),
            Err(ResolveError::Missing("flake-parts/nope".into()))
        );
        let nix = read("nixos-nix");
        // `follows = ""` resolves to the root flake itself.
        assert_eq!(
            nix.resolve(&path(&["git-hooks-nix", "flake-compat"])),
            Ok("root")
        );
        assert_eq!(
            nix.resolve(&path(&["flake-parts", "nixpkgs-lib"])),
            Ok("nixpkgs")
        );
        assert_eq!(
            nix.nodes["nixpkgs"].locked.as_ref().unwrap().kind(),
            Some(SourceKind::Tarball)
        );
        let rnix = read("rnix-parser");
        assert_eq!(
            rnix.resolve(&path(&["fenix", "rust-analyzer-src"])),
            Ok("rust-analyzer-src")
        );
        assert!(!rnix.nodes["rust-analyzer-src"].flake);
        assert_eq!(rnix.resolve(&path(&["utils", "systems"])), Ok("systems"));
        let gen = read("root");
        assert_eq!(gen.resolve(&path(&["libflake", "data"])), Ok("data"));
        let git = gen.nodes["gitdep"].locked.as_ref().unwrap();
        assert_eq!(git.rev_count(), Some(1));
        assert_eq!(git.git_ref(), Some("main"));
        let file = read("nil-test_flake");
        let f = file.nodes["non-flake-file"].locked.as_ref().unwrap();
        assert_eq!(f.kind(), Some(SourceKind::File));
        assert_eq!(f.last_modified(), None);
    }

    #[test]
    fn input_tree_shows_each_node_once() {
        let lock = read("rnix-parser");
        fn render(entries: &[InputTreeEntry], depth: usize, out: &mut String) {
            for e in entries {
                out.push_str(&"  ".repeat(depth));
                match &e.target {
                    InputTreeTarget::Node {
                        key,
                        children,
                        first_visit,
                    } => {
                        out.push_str(&format!(
                            "{} -> {key}{}\n",
                            e.name,
                            if *first_visit { "" } else { " (again)" }
                        ));
                        render(children, depth + 1, out);
                    }
                    InputTreeTarget::Follows(p) => {
                        out.push_str(&format!("{} follows '{}'\n", e.name, p.join("/")))
                    }
                }
            }
        }
        let mut out = String::new();
        render(&lock.input_tree(), 0, &mut out);
        expect![[r#"
            fenix -> fenix
              nixpkgs follows 'nixpkgs'
              rust-analyzer-src -> rust-analyzer-src
            import-cargo -> import-cargo
            nixpkgs -> nixpkgs
            utils -> utils
              systems -> systems
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn every_truncation_of_a_real_lock_is_an_error_not_a_panic() {
        for (_, text) in real_locks() {
            let trimmed = text.trim_end();
            for end in (0..trimmed.len()).filter(|&i| trimmed.is_char_boundary(i)) {
                let err = LockFile::parse(&trimmed[..end]).unwrap_err();
                assert!(matches!(err.kind, LockErrorKind::Syntax(_)), "{err}");
                assert!(err.range.end <= end);
            }
        }
    }

    fn check_err(text: &str, expect: Expect) {
        match LockFile::parse(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => {
                // The reported position is where the range starts.
                assert_eq!(position_of(text, e.range.start), e.position);
                expect.assert_eq(&e.to_string())
            }
        }
    }

    /// A minimal valid lock with `extra_nodes` added and the root's inputs replaced.
    fn lock_with(root_inputs: &str, extra_nodes: &str) -> String {
        format!(
            r#"{{
  "nodes": {{
    "a": {{
      "locked": {{ "owner": "o", "repo": "a", "rev": "0123456789abcdef0123456789abcdef01234567", "type": "github", "narHash": "sha256-x" }},
      "original": {{ "owner": "o", "repo": "a", "type": "github" }}
    }},{extra_nodes}
    "root": {{ "inputs": {root_inputs} }}
  }},
  "root": "root",
  "version": 7
}}"#
        )
    }

    #[test]
    fn malformed_locks_give_positioned_errors() {
        check_err(
            r#"{"nodes": {"root": {}}, "root": "root", "version": 7"#,
            expect!["1:52: flake.lock is not valid JSON: EOF while parsing an object"],
        );
        check_err(
            "",
            expect!["1:1: flake.lock is not valid JSON: EOF while parsing a value"],
        );
        check_err("[1]", expect!["1:1: the lock file must be a JSON object"]);
        check_err(
            r#"{"nodes": {"root": {}}, "root": "root", "version": 4}"#,
            expect!["1:52: unsupported lock file version 4: Strata reads versions 5 to 7 (run `nix flake lock` with a current Nix)"],
        );
        check_err(
            r#"{"nodes": {"root": {}}, "root": "root", "version": 8}"#,
            expect!["1:52: unsupported lock file version 8: Strata reads versions 5 to 7 (run `nix flake lock` with a current Nix)"],
        );
        check_err(
            r#"{"nodes": {"root": {}}, "root": "root", "version": "7"}"#,
            expect![[
                r#"1:52: unsupported lock file version "7": Strata reads versions 5 to 7 (run `nix flake lock` with a current Nix)"#
            ]],
        );
        check_err(
            r#"{"nodes": {"root": {}}, "root": "root"}"#,
            expect!["1:1: the lock file has no `version`"],
        );
        check_err(
            r#"{"nodes": {"root": {}}, "root": "main", "version": 7}"#,
            expect!["1:33: `root` names node `main`, which does not exist"],
        );
        check_err(
            r#"{"nodes": [], "root": "root", "version": 7}"#,
            expect!["1:11: `nodes` must be an object"],
        );
    }

    #[test]
    fn dangling_node_names_and_bad_edges() {
        check_err(
            &lock_with(r#"{ "a": "a", "b": "b" }"#, ""),
            expect!["7:42: input `b` of node `root` names node `b`, which does not exist"],
        );
        check_err(
            &lock_with(
                r#"{ "a": "a" }"#,
                r#"
    "c": { "inputs": { "x": "root" }, "locked": { "path": "/p", "type": "path", "narHash": "sha256-y" }, "original": { "path": "/p", "type": "path" } },"#,
            ),
            expect!["7:29: input `x` of node `c` points back at the root node (a cycle)"],
        );
        check_err(
            &lock_with(r#"{ "a": 3 }"#, ""),
            expect!["7:32: `nodes.root.inputs.a` must be a node name or a follows path (a list of input names)"],
        );
        check_err(
            &lock_with(r#"{ "a": ["x", 1] }"#, ""),
            expect!["7:32: `nodes.root.inputs.a` must be a node name or a follows path (a list of input names)"],
        );
    }

    #[test]
    fn follows_cycles_and_missing_targets() {
        // a -> b -> a
        check_err(
            &lock_with(r#"{ "a": "a", "x": ["y"], "y": ["x"] }"#, ""),
            expect!["7:42: input `x` follows `y`, which leads back to itself (a follows cycle)"],
        );
        // Following itself.
        check_err(
            &lock_with(r#"{ "a": "a", "x": ["x"] }"#, ""),
            expect!["7:42: input `x` follows `x`, which leads back to itself (a follows cycle)"],
        );
        // Through a node: a.inputs.n follows a/n.
        let text = lock_with(r#"{ "a": "a" }"#, "").replace(
            r#""a": {
      "locked""#,
            r#""a": {
      "inputs": { "n": ["a", "n"] },
      "locked""#,
        );
        check_err(
            &text,
            expect![
                "4:24: input `a/n` follows `a/n`, which leads back to itself (a follows cycle)"
            ],
        );
        check_err(
            &lock_with(r#"{ "a": "a", "x": ["a", "zzz"] }"#, ""),
            expect!["7:42: input `x` follows a non-existent input `a/zzz`"],
        );
        // The empty path is the root itself, not an error.
        assert!(LockFile::parse(&lock_with(r#"{ "a": "a", "x": [] }"#, "")).is_ok());
    }

    #[test]
    fn fetcher_attributes_are_checked() {
        let node = |locked: &str, original: &str| {
            lock_with(
                r#"{ "a": "a", "b": "b" }"#,
                &format!("\n    \"b\": {{ \"locked\": {locked}, \"original\": {original} }},"),
            )
        };
        let gh = r#"{ "owner": "o", "repo": "r", "type": "github" }"#;
        check_err(
            &node(r#"{ "type": "svn", "url": "x" }"#, gh),
            expect!["7:32: node `b` has unsupported input type `svn` in `locked`"],
        );
        check_err(
            &node(gh, gh),
            expect!["7:22: node `b` is not locked (its `locked` has neither a revision nor a `narHash`): run `nix flake lock`"],
        );
        check_err(
            &node(
                r#"{ "type": "indirect", "id": "nixpkgs", "narHash": "sha256-x" }"#,
                gh,
            ),
            expect!["7:32: node `b` has unsupported input type `indirect` in `locked`"],
        );
        check_err(
            &node(
                r#"{ "type": "git", "rev": "0123456789abcdef0123456789abcdef01234567" }"#,
                gh,
            ),
            expect!["7:22: `locked` of node `b` is a `git` reference without `url`"],
        );
        check_err(
            &node(r#"{ "type": "path", "path": "/p", "narHash": "sha256-x", "lastModified": 1.5 }"#, gh),
            expect!["7:93: attribute `lastModified` of `locked` in node `b` must be a string, an unsigned integer or a boolean"],
        );
        check_err(
            &node(
                r#"{ "type": "path", "path": "/p", "narHash": "sha256-x" }"#,
                r#"{ "path": "/p" }"#,
            ),
            expect!["7:91: `nodes.b.original` has no `type`"],
        );
        check_err(
            &lock_with(
                r#"{ "a": "a", "b": "b" }"#,
                "\n    \"b\": { \"original\": {} },",
            ),
            expect!["7:10: node `b` has no `locked`"],
        );
        check_err(
            &lock_with(
                r#"{ "a": "a" }"#,
                "\n    \"b\": { \"flake\": \"no\", \"locked\": {}, \"original\": {} },",
            ),
            expect!["7:21: `nodes.b.flake` must be a boolean"],
        );
    }

    #[test]
    fn version_5_merges_info_into_locked() {
        let text = r#"{
  "nodes": {
    "a": {
      "info": { "lastModified": 1600000000, "narHash": "sha256-abc" },
      "locked": { "owner": "o", "repo": "a", "rev": "0123456789abcdef0123456789abcdef01234567", "type": "github" },
      "original": { "owner": "o", "repo": "a", "type": "github" }
    },
    "root": { "inputs": { "a": "a" } }
  },
  "root": "root",
  "version": 5
}"#;
        let lock = LockFile::parse(text).unwrap();
        let a = lock.nodes["a"].locked.as_ref().unwrap();
        assert_eq!(lock.version, 5);
        assert_eq!(a.last_modified(), Some(1600000000));
        assert_eq!(a.nar_hash(), Some("sha256-abc"));
    }
}
