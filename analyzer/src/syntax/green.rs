//! Building the green tree: what rowan's `GreenNodeBuilder` does, tuned for one parse.
//!
//! Like rowan, equal tokens and equal small nodes are stored once (an identifier or a
//! `;` repeats thousands of times in a file). Unlike rowan's `NodeCache`, the tables
//! are sized from the token count up front and keep their keys (token text borrowed
//! from the input; a node's kind and its children's addresses), so they never rehash
//! by walking the stored trees, which was a large part of parse time.

use rowan::{GreenNode, GreenToken, NodeOrToken};
use rustc_hash::FxHashMap;

use super::kind::SyntaxKind;

type Element = NodeOrToken<GreenNode, GreenToken>;

/// Nodes with at most this many children are interned (rowan's choice too): larger
/// ones rarely repeat.
const MAX_INTERNED_CHILDREN: usize = 3;

/// A small node's identity: its kind and its (already interned) children by address.
/// Equal addresses mean equal subtrees, and the addresses stay valid because the
/// table's node keeps its children alive.
#[derive(PartialEq, Eq, Hash)]
struct NodeKey {
    kind: SyntaxKind,
    children: [usize; MAX_INTERNED_CHILDREN],
}

/// A position in the builder to wrap later tokens and nodes in a node from.
#[derive(Clone, Copy)]
pub(crate) struct Checkpoint(usize);

/// Builds a green tree from tokens and node boundaries.
pub(crate) struct TreeBuilder<'t> {
    /// The last token made of each kind: punctuation and keywords always hit here,
    /// whitespace often, without hashing.
    last_of_kind: Vec<Option<GreenToken>>,
    tokens: FxHashMap<(SyntaxKind, &'t str), GreenToken>,
    nodes: FxHashMap<NodeKey, GreenNode>,
    /// Open nodes: kind and index of their first child in `children`.
    parents: Vec<(SyntaxKind, usize)>,
    children: Vec<Element>,
}

fn address(element: &Element) -> usize {
    match element {
        NodeOrToken::Node(node) => &**node as *const rowan::GreenNodeData as usize,
        NodeOrToken::Token(token) => &**token as *const rowan::GreenTokenData as usize,
    }
}

/// The builder's stacks, kept empty between parses so the next parse on the same
/// thread reuses their allocations. (Keeping the interning tables too was measured
/// slower: a table sized for a large file makes every later small parse touch more
/// memory.)
#[derive(Default)]
pub(crate) struct BuilderScratch {
    last_of_kind: Vec<Option<GreenToken>>,
    parents: Vec<(SyntaxKind, usize)>,
    children: Vec<Element>,
}

impl<'t> TreeBuilder<'t> {
    /// A builder for about `token_count` tokens, reusing `scratch`'s allocations.
    pub(crate) fn with_scratch(token_count: usize, scratch: BuilderScratch) -> Self {
        // Most tokens and small nodes repeat: a quarter is plenty for distinct ones.
        let capacity = token_count / 4;
        let BuilderScratch {
            mut last_of_kind,
            parents,
            mut children,
        } = scratch;
        last_of_kind.resize(SyntaxKind::__LAST as usize + 1, None);
        children.reserve(64);
        TreeBuilder {
            last_of_kind,
            tokens: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            nodes: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            parents,
            children,
        }
    }

    /// Adds a token to the current node.
    pub(crate) fn token(&mut self, kind: SyntaxKind, text: &'t str) {
        let last = &mut self.last_of_kind[kind as usize];
        let token = match last {
            Some(token) if token.text() == text => token.clone(),
            _ => {
                let token = self
                    .tokens
                    .entry((kind, text))
                    .or_insert_with(|| GreenToken::new(kind.into(), text))
                    .clone();
                *last = Some(token.clone());
                token
            }
        };
        self.children.push(NodeOrToken::Token(token));
    }

    /// Opens a node; what follows until `finish_node` goes into it.
    pub(crate) fn start_node(&mut self, kind: SyntaxKind) {
        self.parents.push((kind, self.children.len()));
    }

    /// The current position, to open a node there later with `start_node_at`.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.children.len())
    }

    /// Opens a node that starts at `checkpoint` (wrapping what came since).
    pub(crate) fn start_node_at(&mut self, checkpoint: Checkpoint, kind: SyntaxKind) {
        let floor = self.parents.last().map_or(0, |&(_, first)| first);
        let start = checkpoint.0.clamp(floor, self.children.len());
        self.parents.push((kind, start));
    }

    /// Closes the node opened last.
    pub(crate) fn finish_node(&mut self) {
        let Some((kind, first)) = self.parents.pop() else {
            return;
        };
        let node = self.node(kind, first);
        self.children.push(NodeOrToken::Node(node));
    }

    /// The tree, and the emptied tables to build the next one with.
    pub(crate) fn finish_with_scratch(
        mut self,
        root_kind: SyntaxKind,
    ) -> (GreenNode, BuilderScratch) {
        while !self.parents.is_empty() {
            self.finish_node();
        }
        let root = if let [NodeOrToken::Node(root)] = self.children.as_slice() {
            root.clone()
        } else {
            // Not reached for trees the parser builds (one root node); stay total anyway.
            GreenNode::new(root_kind.into(), self.children.drain(..))
        };
        self.last_of_kind.fill(None);
        self.children.clear();
        self.parents.clear();
        let scratch = BuilderScratch {
            last_of_kind: self.last_of_kind,
            parents: self.parents,
            children: self.children,
        };
        (root, scratch)
    }

    /// The node of `kind` made of `children[first..]`, interned when small.
    fn node(&mut self, kind: SyntaxKind, first: usize) -> GreenNode {
        let children = &self.children[first..];
        if children.len() > MAX_INTERNED_CHILDREN {
            return GreenNode::new(kind.into(), self.children.drain(first..));
        }
        let mut key = NodeKey {
            kind,
            children: [0; MAX_INTERNED_CHILDREN],
        };
        for (slot, child) in key.children.iter_mut().zip(children) {
            *slot = address(child);
        }
        if let Some(node) = self.nodes.get(&key) {
            let node = node.clone();
            self.children.truncate(first);
            return node;
        }
        let node = GreenNode::new(kind.into(), self.children.drain(first..));
        self.nodes.insert(key, node.clone());
        node
    }
}
