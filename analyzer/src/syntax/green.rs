//! Building the green tree: what rowan's `GreenNodeBuilder` does, tuned for one parse.
//!
//! Like rowan, equal tokens and equal small nodes are stored once (an identifier or a
//! `;` repeats thousands of times in a file). Unlike rowan's `NodeCache`, the tables
//! are sized from the token count up front and keep each entry's hash, so they never
//! rehash by walking the stored trees, which was a large part of parse time.
//!
//! The tables do not own what they point at: every element the builder makes ends up
//! in the tree being built, which keeps it alive until the builder is done. Owning
//! table entries cost an atomic increment and decrement per distinct token and node
//! (rowan's elements are `Arc`s), a measurable share of parse time. Because they hold
//! no borrowed text, the tables' buffers are kept for the next parse on the thread:
//! allocating them afresh made glibc consolidate the chunks the previous tree freed on
//! every parse.

use std::hash::Hasher;
use std::ptr::NonNull;

use rowan::{GreenNode, GreenNodeData, GreenToken, GreenTokenData, NodeOrToken};
use rustc_hash::FxHasher;

use super::kind::SyntaxKind;

type Element = NodeOrToken<GreenNode, GreenToken>;

/// Nodes with at most this many children are interned (rowan's choice too): larger
/// ones rarely repeat.
const MAX_INTERNED_CHILDREN: usize = 3;

/// Table buffers with more slots than this are freed after a parse instead of kept.
const MAX_KEPT_SLOTS: usize = 1 << 16;

/// One entry of an [`Interner`]: a stored element and its hash (`None`: empty).
struct Slot<T> {
    hash: u64,
    element: Option<NonNull<T>>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Slot<T> {}

impl<T> Slot<T> {
    const EMPTY: Self = Slot {
        hash: 0,
        element: None,
    };
}

/// A hash set of elements of the tree being built (open addressing, linear probing),
/// looked up by hash and an equality test on the stored element.
pub(crate) struct Interner<T> {
    /// A power of two long while in use; empty between parses.
    slots: Vec<Slot<T>>,
    len: usize,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Interner<T> {
    /// Empties the table and sizes it for about `expected` entries.
    fn reset(&mut self, expected: usize) {
        let size = (expected * 2).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(size, Slot::EMPTY);
        self.len = 0;
    }

    /// Forgets every entry (they die with the tree), keeping a small enough buffer.
    fn release(&mut self) {
        self.len = 0;
        if self.slots.capacity() > MAX_KEPT_SLOTS {
            self.slots = Vec::new();
        } else {
            self.slots.clear();
        }
    }

    /// The stored element with this hash that `eq` accepts, or the free slot to
    /// insert it at.
    ///
    /// Safety: every stored element must be alive (see [`TreeBuilder`]).
    unsafe fn find(&self, hash: u64, eq: impl Fn(&T) -> bool) -> Result<NonNull<T>, usize> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            match slot.element {
                None => return Err(i),
                // SAFETY: the caller guarantees the element is alive.
                Some(element) if slot.hash == hash && eq(unsafe { element.as_ref() }) => {
                    return Ok(element)
                }
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Stores `element` at the free slot `find` returned.
    fn insert_at(&mut self, index: usize, hash: u64, element: NonNull<T>) {
        self.slots[index] = Slot {
            hash,
            element: Some(element),
        };
        self.len += 1;
        if self.len * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::EMPTY; size]);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.element.is_some()) {
            let mut i = slot.hash as usize & mask;
            while self.slots[i].element.is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

fn token_hash(kind: SyntaxKind, text: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u16(kind as u16);
    hasher.write(text.as_bytes());
    hasher.finish()
}

/// A small node's identity is its kind and its (already interned) children by
/// address: equal addresses mean equal subtrees, since nothing the builder made is
/// freed before it finishes (see [`TreeBuilder`]), so no address is reused.
fn node_hash(kind: SyntaxKind, children: &[Element]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u16(kind as u16);
    for child in children {
        hasher.write_usize(address(child));
    }
    hasher.finish()
}

fn node_matches(node: &GreenNodeData, kind: rowan::SyntaxKind, children: &[Element]) -> bool {
    let theirs = node.children();
    node.kind() == kind
        && theirs.len() == children.len()
        && theirs.zip(children).all(|(a, b)| {
            let a = match a {
                NodeOrToken::Node(n) => n as *const GreenNodeData as usize,
                NodeOrToken::Token(t) => t as *const GreenTokenData as usize,
            };
            a == address(b)
        })
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
pub(crate) struct TreeBuilder {
    /// The last token made of each kind: punctuation and keywords always hit here,
    /// whitespace often, without hashing.
    last_of_kind: Vec<Option<NonNull<GreenTokenData>>>,
    tokens: Interner<GreenTokenData>,
    nodes: Interner<GreenNodeData>,
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

/// The builder's stacks and tables, kept empty between parses so the next parse on
/// the same thread reuses their allocations. (Each table is resized to the next file,
/// so a small file after a large one still works in a small table.)
#[derive(Default)]
pub(crate) struct BuilderScratch {
    /// All `None` between parses (the pointers die with the tree).
    last_of_kind: Vec<Option<NonNull<GreenTokenData>>>,
    tokens: Interner<GreenTokenData>,
    nodes: Interner<GreenNodeData>,
    parents: Vec<(SyntaxKind, usize)>,
    children: Vec<Element>,
}

impl TreeBuilder {
    /// A builder for about `token_count` tokens, reusing `scratch`'s allocations.
    pub(crate) fn with_scratch(token_count: usize, scratch: BuilderScratch) -> Self {
        let BuilderScratch {
            mut last_of_kind,
            mut tokens,
            mut nodes,
            parents,
            mut children,
        } = scratch;
        // Measured on the corpus: distinct tokens are about a quarter of all tokens,
        // distinct small nodes about a third (the tables grow when a file has more).
        tokens.reset(token_count / 4);
        nodes.reset(token_count / 3);
        last_of_kind.clear();
        last_of_kind.resize(SyntaxKind::__LAST as usize + 1, None);
        children.reserve(64);
        TreeBuilder {
            last_of_kind,
            tokens,
            nodes,
            parents,
            children,
        }
    }

    /// Adds a token to the current node.
    pub(crate) fn token(&mut self, kind: SyntaxKind, text: &str) {
        let last = &mut self.last_of_kind[kind as usize];
        if let Some(ptr) = *last {
            // SAFETY: the token is alive (see the invariant on `TreeBuilder`).
            let data = unsafe { ptr.as_ref() };
            if data.text() == text {
                self.children.push(NodeOrToken::Token(data.to_owned()));
                return;
            }
        }
        let hash = token_hash(kind, text);
        let raw_kind = kind.into();
        // SAFETY: as above.
        let found = unsafe {
            self.tokens
                .find(hash, |t| t.kind() == raw_kind && t.text() == text)
        };
        let token = match found {
            Ok(ptr) => {
                *last = Some(ptr);
                // SAFETY: as above.
                unsafe { ptr.as_ref() }.to_owned()
            }
            Err(index) => {
                let token = GreenToken::new(raw_kind, text);
                let ptr = NonNull::from(&*token);
                self.tokens.insert_at(index, hash, ptr);
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
        self.tokens.release();
        self.nodes.release();
        self.children.clear();
        self.parents.clear();
        let scratch = BuilderScratch {
            last_of_kind: self.last_of_kind,
            tokens: self.tokens,
            nodes: self.nodes,
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
        let hash = node_hash(kind, children);
        let raw_kind = kind.into();
        // SAFETY: the stored nodes are alive (see the invariant on `TreeBuilder`).
        let found = unsafe {
            self.nodes
                .find(hash, |n| node_matches(n, raw_kind, children))
        };
        match found {
            Ok(ptr) => {
                // SAFETY: as above; the node holds its children, so dropping these
                // extra references to them frees nothing.
                let node = unsafe { ptr.as_ref() }.to_owned();
                self.children.truncate(first);
                node
            }
            Err(index) => {
                let node = GreenNode::new(raw_kind, self.children.drain(first..));
                self.nodes.insert_at(index, hash, NonNull::from(&*node));
                node
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rowan::{GreenNodeData, GreenToken, GreenTokenData, NodeOrToken};

    use super::{token_hash, Interner};
    use crate::syntax::kind::SyntaxKind::{self, *};
    use crate::syntax::parse_syntax_only;

    /// The address of every token and small node under `node`, with its text.
    fn elements(node: &GreenNodeData, out: &mut Vec<(String, bool, usize)>) {
        for child in node.children() {
            match child {
                NodeOrToken::Node(n) => {
                    if n.children().len() <= super::MAX_INTERNED_CHILDREN {
                        out.push((n.to_string(), false, n as *const _ as usize));
                    }
                    elements(n, out);
                }
                NodeOrToken::Token(t) => {
                    out.push((t.text().to_owned(), true, t as *const _ as usize))
                }
            }
        }
    }

    #[test]
    fn equal_tokens_and_small_nodes_are_stored_once() {
        let parse = parse_syntax_only("[ a b a (a) b (a) ]");
        let mut seen = Vec::new();
        elements(&parse.green, &mut seen);
        let address = |text: &str, token: bool| {
            let mut found: Vec<usize> = seen
                .iter()
                .filter(|(t, is_token, _)| t == text && *is_token == token)
                .map(|(_, _, address)| *address)
                .collect();
            found.sort_unstable();
            found.dedup();
            found
        };
        // Each identifier and each `(a)` is one allocation however often it appears.
        assert_eq!(address("a", true).len(), 1);
        assert_eq!(address("b", true).len(), 1);
        assert_eq!(address("(a)", false).len(), 1);
        assert_ne!(address("a", true), address("b", true));
        assert_eq!(parse.green.to_string(), "[ a b a (a) b (a) ]");
    }

    #[test]
    fn interner_finds_every_entry_after_growing() {
        let texts: Vec<String> = (0..2000).map(|i| format!("name{i}")).collect();
        // Kept alive for as long as the table points at them, as the tree does.
        let tokens: Vec<GreenToken> = texts
            .iter()
            .map(|t| GreenToken::new(TOKEN_IDENT.into(), t))
            .collect();
        let mut table = Interner::default();
        table.reset(1);
        let find = |table: &Interner<GreenTokenData>, kind: SyntaxKind, text: &str| {
            let raw = kind.into();
            // SAFETY: every stored token is in `tokens`, alive for the whole test.
            unsafe {
                table.find(token_hash(kind, text), |t| {
                    t.kind() == raw && t.text() == text
                })
            }
        };
        for (text, token) in texts.iter().zip(&tokens) {
            let index = find(&table, TOKEN_IDENT, text).expect_err("not stored yet");
            table.insert_at(index, token_hash(TOKEN_IDENT, text), (&**token).into());
        }
        assert!(table.slots.len() >= 2048, "the table grew from 16 slots");
        for (text, token) in texts.iter().zip(&tokens) {
            let found = find(&table, TOKEN_IDENT, text).expect("stored");
            assert!(std::ptr::eq(found.as_ptr(), &**token));
        }
        // Same text, other kind: a different token.
        assert!(find(&table, TOKEN_STR_CONTENT, "name7").is_err());
        table.release();
        table.reset(1);
        assert!(find(&table, TOKEN_IDENT, "name7").is_err());
    }
}
