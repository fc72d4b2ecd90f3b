//! Building the green tree: what rowan's `GreenNodeBuilder` does, tuned for one parse.
//!
//! Like rowan, equal tokens and equal small nodes are stored once (an identifier or a
//! `;` repeats thousands of times in a file). Unlike rowan's `NodeCache`, the tables
//! are sized from the token count up front and keep their keys (token text borrowed
//! from the input; a node's kind and its children's addresses), so they never rehash
//! by walking the stored trees, which was a large part of parse time.
//!
//! The tables do not own what they point at: every element the builder makes ends up
//! in the tree being built, which keeps it alive until the builder is done. Owning
//! table entries cost an atomic increment and decrement per distinct token and node
//! (rowan's elements are `Arc`s), a measurable share of parse time.

use std::ptr::NonNull;

use rowan::{GreenNode, GreenNodeData, GreenToken, GreenTokenData, NodeOrToken};
use rustc_hash::FxHashMap;

use super::kind::SyntaxKind;

type Element = NodeOrToken<GreenNode, GreenToken>;

/// Nodes with at most this many children are interned (rowan's choice too): larger
/// ones rarely repeat.
const MAX_INTERNED_CHILDREN: usize = 3;

/// A small node's identity: its kind and its (already interned) children by address.
/// Equal addresses mean equal subtrees: nothing the builder made is freed before it
/// finishes (see [`TreeBuilder`]), so an address is never reused for another element.
#[derive(PartialEq, Eq, Hash)]
struct NodeKey {
    kind: SyntaxKind,
    children: [usize; MAX_INTERNED_CHILDREN],
}

/// A position in the builder to wrap later tokens and nodes in a node from.
#[derive(Clone, Copy)]
pub(crate) struct Checkpoint(usize);

/// Builds a green tree from tokens and node boundaries.
///
/// Invariant that makes the borrowed pointers in `last_of_kind`, `tokens` and `nodes`
/// valid: every element made here is pushed onto `children`, and leaves it only by
/// moving into a node that is pushed onto `children` in turn; the only elements ever
/// dropped before the builder finishes are the children `node` discards on an
/// interning hit, which are extra references to elements the hit node holds. So every
/// element made stays reachable from `children` (and finally from the root).
pub(crate) struct TreeBuilder<'t> {
    /// The last token made of each kind: punctuation and keywords always hit here,
    /// whitespace often, without hashing.
    last_of_kind: Vec<Option<NonNull<GreenTokenData>>>,
    tokens: FxHashMap<(SyntaxKind, &'t str), NonNull<GreenTokenData>>,
    nodes: FxHashMap<NodeKey, NonNull<GreenNodeData>>,
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
    /// All `None` between parses (the pointers die with the tree).
    last_of_kind: Vec<Option<NonNull<GreenTokenData>>>,
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
        last_of_kind.clear();
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
        if let Some(ptr) = *last {
            // SAFETY: the token is alive (see the invariant on `TreeBuilder`).
            let data = unsafe { ptr.as_ref() };
            if data.text() == text {
                self.children.push(NodeOrToken::Token(data.to_owned()));
                return;
            }
        }
        let token = match self.tokens.entry((kind, text)) {
            std::collections::hash_map::Entry::Occupied(entry) => {
                let ptr = *entry.get();
                *last = Some(ptr);
                // SAFETY: as above.
                unsafe { ptr.as_ref() }.to_owned()
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                let token = GreenToken::new(kind.into(), text);
                let ptr = NonNull::from(&*token);
                entry.insert(ptr);
                *last = Some(ptr);
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
        if let Some(ptr) = self.nodes.get(&key) {
            // SAFETY: the node is alive (see the invariant on `TreeBuilder`), and it
            // holds its children, so dropping these references to them frees nothing.
            let node = unsafe { ptr.as_ref() }.to_owned();
            self.children.truncate(first);
            return node;
        }
        let node = GreenNode::new(kind.into(), self.children.drain(first..));
        self.nodes.insert(key, NonNull::from(&*node));
        node
    }
}
