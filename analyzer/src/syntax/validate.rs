//! The checks Nix 2.8 makes while parsing, beyond the grammar (`parser.y`'s actions and
//! `bindVars`): duplicate attributes (across merged attribute paths too), duplicate
//! formals, dynamic attributes in `let` and `inherit`, out-of-range numbers, and
//! variables bound nowhere (`nix-instantiate --parse` rejects `x: y`).
//!
//! Every walk here is iterative, so a deeply nested tree cannot overflow the stack.
//! The walks read the green tree through [`Node`] (a green node plus its offset)
//! instead of red `SyntaxNode`s: they visit every node of every file, and a red node
//! is a heap allocation while a `Node` is two words. Names are borrowed from the
//! tree's tokens where possible.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

use rowan::{GreenNodeData, GreenTokenData, NodeOrToken, TextRange, TextSize};
use rustc_hash::{FxHashMap, FxHashSet};

use super::ast::{self, AstNode};
use super::kind::SyntaxKind::{self, *};
use super::kind::{NixLanguage, SyntaxNode};
use super::line_index::LineIndex;
use super::strings;
use super::SyntaxError;

/// Names in Nix 2.8's base environment: every builtin under its global name
/// (`map`, `toString`, ...) or its `__`-prefixed one, plus `builtins`, `true`, ....
pub const GLOBALS: &[&str] = &[
    "abort",
    "__add",
    "__addErrorContext",
    "__all",
    "__any",
    "__appendContext",
    "__attrNames",
    "__attrValues",
    "baseNameOf",
    "__bitAnd",
    "__bitOr",
    "__bitXor",
    "builtins",
    "__catAttrs",
    "__ceil",
    "__compareVersions",
    "__concatLists",
    "__concatMap",
    "__concatStringsSep",
    "__currentSystem",
    "__currentTime",
    "__deepSeq",
    "derivation",
    "derivationStrict",
    "dirOf",
    "__div",
    "__elem",
    "__elemAt",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "__fetchurl",
    "__filter",
    "__filterSource",
    "__findFile",
    "__floor",
    "__foldl'",
    "__fromJSON",
    "fromTOML",
    "__functionArgs",
    "__genList",
    "__genericClosure",
    "__getAttr",
    "__getContext",
    "__getEnv",
    "__getFlake",
    "__groupBy",
    "__hasAttr",
    "__hasContext",
    "__hashFile",
    "__hashString",
    "__head",
    "import",
    "__intersectAttrs",
    "__isAttrs",
    "__isBool",
    "__isFloat",
    "__isFunction",
    "__isInt",
    "__isList",
    "isNull",
    "__isPath",
    "__isString",
    "__langVersion",
    "__length",
    "__lessThan",
    "__listToAttrs",
    "map",
    "__mapAttrs",
    "__match",
    "__mul",
    "__nixPath",
    "__nixVersion",
    "null",
    "__parseDrvName",
    "__partition",
    "__path",
    "__pathExists",
    "placeholder",
    "__readDir",
    "__readFile",
    "removeAttrs",
    "__replaceStrings",
    "scopedImport",
    "__seq",
    "__sort",
    "__split",
    "__splitVersion",
    "__storeDir",
    "__storePath",
    "__stringLength",
    "__sub",
    "__substring",
    "__tail",
    "throw",
    "__toFile",
    "__toJSON",
    "__toPath",
    "toString",
    "__toXML",
    "__trace",
    "true",
    "__tryEval",
    "__typeOf",
    "__unsafeDiscardOutputDependency",
    "__unsafeDiscardStringContext",
    "__unsafeGetAttrPos",
    "__zipAttrsWith",
];

/// Runs every parse-time check over a tree.
pub fn validate(root: &SyntaxNode) -> Vec<SyntaxError> {
    let green = root.green();
    validate_node(Node {
        green: &green,
        start: root.text_range().start(),
    })
}

/// Runs every parse-time check over a green tree starting at offset 0 (what
/// [`super::parse`] builds), without making a red tree.
pub(crate) fn validate_green(root: &GreenNodeData) -> Vec<SyntaxError> {
    validate_node(Node {
        green: root,
        start: TextSize::from(0),
    })
}

/// The walk's buffers, kept empty between runs so the next run on the same thread
/// reuses their allocations: growing them afresh for every file cost reallocations,
/// and each large allocation made glibc consolidate the chunks the previous parse's
/// tree had freed.
#[derive(Default)]
struct Scratch {
    scopes: Vec<(Option<usize>, Scope<'static>)>,
    names: Vec<Cow<'static, str>>,
    checked: Vec<Node<'static>>,
    stack: Vec<Visit<'static>>,
}

/// Buffers with a larger capacity than this are freed after a run instead of kept.
const MAX_KEPT: usize = 1 << 16;

thread_local! {
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

/// `buffer`, emptied, with another lifetime in its element type: the same allocation,
/// since the element layout is the same (in-place collection). Too large: a new one.
fn reuse<T, U>(mut buffer: Vec<T>) -> Vec<U> {
    buffer.clear();
    if buffer.capacity() > MAX_KEPT {
        return Vec::new();
    }
    buffer.into_iter().map(|_| unreachable!("empty")).collect()
}

fn validate_node(root: Node<'_>) -> Vec<SyntaxError> {
    let mut v = Validator {
        root,
        first_names: Vec::new(),
        line_index: None,
        errors: Vec::new(),
    };
    let scratch = SCRATCH.with(Cell::take);
    let mut resolver = Resolver {
        scopes: reuse(scratch.scopes),
        names: reuse(scratch.names),
        merged_into_rec: FxHashMap::default(),
        demoted_rec: FxHashSet::default(),
        checked: reuse(scratch.checked),
        stack: reuse(scratch.stack),
    };
    // One walk resolves variables and collects the nodes the other checks look at.
    v.undefined_variables(&mut resolver);
    let checked = std::mem::take(&mut resolver.checked);
    for &node in &checked {
        match node.kind() {
            NODE_LITERAL => v.literal(node),
            NODE_PATTERN => v.pattern(node),
            NODE_INHERIT => v.inherit_names(node),
            NODE_LET_IN => {
                v.let_dynamic(node);
                v.duplicates(node);
            }
            NODE_ATTR_SET | NODE_LEGACY_LET => v.duplicates(node),
            _ => {}
        }
    }
    SCRATCH.with(|cell| {
        cell.set(Scratch {
            scopes: reuse(resolver.scopes),
            names: reuse(resolver.names),
            checked: reuse(checked),
            stack: reuse(resolver.stack),
        })
    });
    v.errors
}

// ---- a green-tree view --------------------------------------------------------------

/// A green node and the offset it starts at: all a red node tells these checks,
/// without allocating.
#[derive(Clone, Copy)]
struct Node<'g> {
    green: &'g GreenNodeData,
    start: TextSize,
}

/// A green token and the offset it starts at.
#[derive(Clone, Copy)]
struct Token<'g> {
    green: &'g GreenTokenData,
    start: TextSize,
}

fn kind_of(raw: rowan::SyntaxKind) -> SyntaxKind {
    <NixLanguage as rowan::Language>::kind_from_raw(raw)
}

impl<'g> Node<'g> {
    fn kind(self) -> SyntaxKind {
        kind_of(self.green.kind())
    }

    fn range(self) -> TextRange {
        TextRange::at(self.start, self.green.text_len())
    }

    fn is(self, other: Node<'_>) -> bool {
        self.start == other.start && std::ptr::eq(self.green, other.green)
    }

    /// Child nodes and tokens in order, with their offsets.
    fn elements(self) -> impl Iterator<Item = NodeOrToken<Node<'g>, Token<'g>>> {
        let mut offset = self.start;
        self.green.children().map(move |child| {
            let start = offset;
            match child {
                NodeOrToken::Node(green) => {
                    offset += green.text_len();
                    NodeOrToken::Node(Node { green, start })
                }
                NodeOrToken::Token(green) => {
                    offset += green.text_len();
                    NodeOrToken::Token(Token { green, start })
                }
            }
        })
    }

    fn children(self) -> impl Iterator<Item = Node<'g>> {
        self.elements().filter_map(NodeOrToken::into_node)
    }

    fn child(self, kind: SyntaxKind) -> Option<Node<'g>> {
        self.children().find(|c| c.kind() == kind)
    }

    fn has_token(self, kind: SyntaxKind) -> bool {
        self.green
            .children()
            .any(|c| c.into_token().is_some_and(|t| kind_of(t.kind()) == kind))
    }

    /// The first token of the subtree (like `SyntaxNode::first_token`).
    fn first_token(self) -> Option<Token<'g>> {
        let mut node = self;
        loop {
            match node.elements().next()? {
                NodeOrToken::Node(child) => node = child,
                NodeOrToken::Token(token) => return Some(token),
            }
        }
    }

    /// A red tree of just this subtree (ranges relative to it), for the rare cases
    /// where the typed AST's string cooking is needed.
    fn to_red(self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.to_owned())
    }
}

impl<'g> Token<'g> {
    fn kind(self) -> SyntaxKind {
        kind_of(self.green.kind())
    }

    fn text(self) -> &'g str {
        self.green.text()
    }

    fn range(self) -> TextRange {
        TextRange::at(self.start, self.green.text_len())
    }
}

// The typed-AST accessors the checks need, on `Node` (same rules as `ast.rs`).

fn is_expr(node: Node<'_>) -> bool {
    ast::Expr::can_cast(node.kind())
}

fn is_attr(node: Node<'_>) -> bool {
    ast::Attr::can_cast(node.kind())
}

/// An identifier's name (`Ident::name`).
fn ident_name(ident: Node<'_>) -> &str {
    ident
        .elements()
        .filter_map(NodeOrToken::into_token)
        .find(|t| matches!(t.kind(), TOKEN_IDENT | TOKEN_OR_KW))
        .map_or("", |t| t.text())
}

/// The names of an attribute path or an `inherit`.
fn attrs_of(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    node.children().filter(|c| is_attr(*c))
}

/// The attribute names of a binding `a.b = v;`.
fn binding_attrs(binding: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    binding.child(NODE_ATTRPATH).into_iter().flat_map(attrs_of)
}

/// The value of a binding: the first expression after `=` (`AttrpathValue::value`).
fn binding_value(binding: Node<'_>) -> Option<Node<'_>> {
    let mut after_assign = false;
    for element in binding.elements() {
        match element {
            NodeOrToken::Token(t) if t.kind() == TOKEN_ASSIGN => after_assign = true,
            NodeOrToken::Node(n) if after_assign && is_expr(n) => return Some(n),
            _ => {}
        }
    }
    None
}

/// The namespace of `with e; body`: the first expression before `;` (`With::namespace`).
fn with_namespace(with: Node<'_>) -> Option<Node<'_>> {
    for element in with.elements() {
        match element {
            NodeOrToken::Token(t) if t.kind() == TOKEN_SEMICOLON => return None,
            NodeOrToken::Node(n) if is_expr(n) => return Some(n),
            _ => {}
        }
    }
    None
}

/// The name of an attribute if known without evaluation (`Attr::static_name`),
/// borrowed from the tree for identifiers and plain strings.
fn static_name(attr: Node<'_>) -> Option<Cow<'_, str>> {
    match attr.kind() {
        NODE_IDENT => Some(Cow::Borrowed(ident_name(attr))),
        NODE_STRING => match plain_string(attr) {
            Some(text) => Some(Cow::Borrowed(text)),
            None => cooked_static_name(attr),
        },
        _ => cooked_static_name(attr),
    }
}

fn cooked_static_name(attr: Node<'_>) -> Option<Cow<'_, str>> {
    let attr = ast::Attr::cast(attr.to_red())?;
    attr.static_name().map(Cow::Owned)
}

/// The value of `"text"` when the text has nothing to cook (no escape, no `\r`, no
/// interpolation): the common case, answered without allocating.
fn plain_string(string: Node<'_>) -> Option<&str> {
    let mut content = "";
    let mut contents = 0;
    for (i, element) in string.elements().enumerate() {
        let NodeOrToken::Token(t) = element else {
            return None;
        };
        match t.kind() {
            TOKEN_QUOTE => {}
            TOKEN_STR_CONTENT if i > 0 && !t.text().contains(['\\', '\r']) => {
                content = t.text();
                contents += 1;
            }
            _ => return None,
        }
        if i == 0 && t.kind() != TOKEN_QUOTE {
            return None;
        }
    }
    (contents <= 1).then_some(content)
}

// ---- the checks ---------------------------------------------------------------------

struct Validator<'g> {
    root: Node<'g>,
    /// Scratch space for `duplicates`, kept to avoid an allocation per set.
    first_names: Vec<Cow<'g, str>>,
    line_index: Option<LineIndex>,
    errors: Vec<SyntaxError>,
}

impl<'g> Validator<'g> {
    fn error(&mut self, range: TextRange, message: String) {
        self.errors.push(SyntaxError { range, message });
    }

    /// "line L, column C" of an offset (built lazily: only errors need it).
    fn position(&mut self, range: TextRange) -> String {
        let root = self.root;
        let index = self
            .line_index
            .get_or_insert_with(|| LineIndex::new(&root.to_red().text().to_string()));
        let lc = index.line_col(range.start() - root.start);
        format!("{}:{}", lc.line + 1, lc.col + 1)
    }

    fn literal(&mut self, node: Node<'g>) {
        let Some(token) = node.first_token() else {
            return;
        };
        match token.kind() {
            TOKEN_INT if token.text().parse::<i64>().is_err() => self.error(
                token.range(),
                format!(
                    "invalid integer '{}': integers must fit in 64 bits",
                    token.text()
                ),
            ),
            TOKEN_FLOAT if strings::parse_float(token.text()).is_none() => self.error(
                token.range(),
                format!("invalid float '{}': out of range", token.text()),
            ),
            _ => {}
        }
    }

    fn pattern(&mut self, node: Node<'g>) {
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for entry in node.children().filter(|c| c.kind() == NODE_PAT_ENTRY) {
            let Some(ident) = entry.child(NODE_IDENT) else {
                continue;
            };
            let name = ident_name(ident);
            if !seen.insert(name) {
                self.error(
                    ident.range(),
                    format!("duplicate formal function argument '{name}'"),
                );
            }
        }
        let bind = node.child(NODE_PAT_BIND);
        if let Some(ident) = bind.and_then(|b| b.child(NODE_IDENT)) {
            let name = ident_name(ident);
            if seen.contains(name) {
                self.error(
                    ident.range(),
                    format!(
                        "duplicate formal function argument '{name}': the `@` name is also a formal"
                    ),
                );
            }
        }
    }

    fn inherit_names(&mut self, node: Node<'g>) {
        for attr in attrs_of(node) {
            if static_name(attr).is_none() {
                self.error(
                    attr.range(),
                    "dynamic attributes not allowed in inherit".to_owned(),
                );
            }
        }
    }

    fn let_dynamic(&mut self, node: Node<'g>) {
        for binding in node.children().filter(|c| c.kind() == NODE_ATTRPATH_VALUE) {
            if let Some(attr) = binding_attrs(binding).next() {
                if static_name(attr).is_none() {
                    self.error(
                        attr.range(),
                        "dynamic attributes not allowed in let".to_owned(),
                    );
                }
            }
        }
    }

    /// Duplicate definitions in one set or `let`, following Nix's `addAttr`: attribute
    /// paths create nested sets, and a path may extend a set written literally
    /// (`a = { b = 1; }; a.c = 2;`), but defining a name twice is an error.
    fn duplicates(&mut self, node: Node<'g>) {
        // Only bindings sharing a first name can clash (or merge): most sets have none.
        let mut first_names = std::mem::take(&mut self.first_names);
        first_names.clear();
        for child in node.children() {
            match child.kind() {
                NODE_ATTRPATH_VALUE => {
                    first_names.extend(binding_attrs(child).next().and_then(static_name));
                }
                NODE_INHERIT => first_names.extend(attrs_of(child).filter_map(static_name)),
                _ => {}
            }
        }
        first_names.sort_unstable();
        let clash = first_names.windows(2).any(|w| w[0] == w[1]);
        self.first_names = first_names;
        if !clash {
            return;
        }
        let mut table = Table::default();
        let mut dups = Vec::new();
        fill_table(&mut table, node, Some(&mut dups));
        for (range, first, path) in dups {
            let at = self.position(first);
            self.error(range, format!("attribute '{path}' already defined at {at}"));
        }
    }

    /// Resolves every variable; `resolver.checked` is left holding the nodes the
    /// other checks look at.
    fn undefined_variables(&mut self, resolver: &mut Resolver<'g>) {
        let undefined = resolver.run(self.root);
        for (range, name) in undefined {
            self.error(range, format!("undefined variable '{name}'"));
        }
    }
}

// ---- duplicate attributes ---------------------------------------------------------

#[derive(Default)]
struct Table<'g> {
    entries: FxHashMap<Cow<'g, str>, Entry<'g>>,
}

struct Entry<'g> {
    /// Where the name was first defined.
    range: TextRange,
    value: Value<'g>,
}

enum Value<'g> {
    /// `inherit x;`: never extended.
    Inherited,
    /// Anything that is not a literal set.
    Other,
    /// A set: made by an attribute path, or written literally (expanded on demand).
    Set {
        literal: Option<Node<'g>>,
        table: Option<Table<'g>>,
    },
}

impl<'g> Value<'g> {
    fn table(&mut self) -> Option<&mut Table<'g>> {
        match self {
            Value::Set { literal, table } => {
                if table.is_none() {
                    let mut t = Table::default();
                    if let Some(node) = literal {
                        fill_table(&mut t, *node, None);
                    }
                    *table = Some(t);
                }
                table.as_mut()
            }
            _ => None,
        }
    }
}

/// A duplicate: where, where first defined, the path as shown to the user.
type Dup = (TextRange, TextRange, String);

/// The literal set an expression is, looking through parentheses (as Nix's parser does).
fn literal_set(expr: Option<Node<'_>>) -> Option<Node<'_>> {
    let mut expr = expr?;
    loop {
        match expr.kind() {
            NODE_PAREN => expr = expr.children().find(|c| is_expr(*c))?,
            NODE_ATTR_SET => return Some(expr),
            _ => return None,
        }
    }
}

fn show_attr(attr: Node<'_>) -> String {
    static_name(attr).map_or_else(|| "\"${...}\"".to_owned(), Cow::into_owned)
}

/// Adds the bindings of `node` (a set or a `let`) to `table`, recording duplicates.
fn fill_table<'g>(table: &mut Table<'g>, node: Node<'g>, mut dups: Option<&mut Vec<Dup>>) {
    for child in node.children() {
        match child.kind() {
            NODE_ATTRPATH_VALUE => {
                let Some(path) = child.child(NODE_ATTRPATH) else {
                    continue;
                };
                let attrs: Vec<Node<'g>> = attrs_of(path).collect();
                add_attr(table, &attrs, binding_value(child), dups.as_deref_mut());
            }
            NODE_INHERIT => {
                let from = child.child(NODE_INHERIT_FROM).is_some();
                for attr in attrs_of(child) {
                    let Some(name) = static_name(attr) else {
                        continue;
                    };
                    let range = attr.range();
                    if let Some(prev) = table.entries.get(&name) {
                        if let Some(d) = dups.as_deref_mut() {
                            d.push((range, prev.range, name.into_owned()));
                        }
                    } else {
                        let value = if from { Value::Other } else { Value::Inherited };
                        table.entries.insert(name, Entry { range, value });
                    }
                }
            }
            _ => {}
        }
    }
}

fn add_attr<'g>(
    table: &mut Table<'g>,
    attrs: &[Node<'g>],
    value: Option<Node<'g>>,
    dups: Option<&mut Vec<Dup>>,
) {
    let Some((last, prefix)) = attrs.split_last() else {
        return;
    };
    let shown = || {
        attrs
            .iter()
            .map(|a| show_attr(*a))
            .collect::<Vec<_>>()
            .join(".")
    };
    let mut current = table;
    for attr in prefix {
        let Some(name) = static_name(*attr) else {
            // A dynamic component makes a fresh set: nothing below it can clash.
            return;
        };
        let range = attr.range();
        let entry = current.entries.entry(name).or_insert_with(|| Entry {
            range,
            value: Value::Set {
                literal: None,
                table: Some(Table::default()),
            },
        });
        let first = entry.range;
        match entry.value.table() {
            Some(t) => current = t,
            None => {
                if let Some(d) = dups {
                    d.push((range, first, shown()));
                }
                return;
            }
        }
    }
    let Some(name) = static_name(*last) else {
        return;
    };
    let range = last.range();
    let literal = literal_set(value);
    match current.entries.get_mut(&name) {
        None => {
            let value = match literal {
                Some(node) => Value::Set {
                    literal: Some(node),
                    table: None,
                },
                None => Value::Other,
            };
            current.entries.insert(name, Entry { range, value });
        }
        Some(existing) => {
            let first = existing.range;
            match (existing.value.table(), literal) {
                (Some(target), Some(node)) => {
                    // Both are sets: merge the new one's attributes in, one level deep.
                    let mut incoming = Table::default();
                    fill_table(&mut incoming, node, None);
                    let mut incoming: Vec<(Cow<'g, str>, Entry<'g>)> =
                        incoming.entries.into_iter().collect();
                    incoming.sort_by_key(|(_, e)| e.range.start());
                    let mut dups = dups;
                    for (key, entry) in incoming {
                        if let Some(prev) = target.entries.get(&key) {
                            if let Some(d) = dups.as_deref_mut() {
                                d.push((entry.range, prev.range, key.into_owned()));
                            }
                        } else {
                            target.entries.insert(key, entry);
                        }
                    }
                }
                _ => {
                    if let Some(d) = dups {
                        d.push((range, first, shown()));
                    }
                }
            }
        }
    }
}

// ---- undefined variables ----------------------------------------------------------

/// [`GLOBALS`] as a set, built once.
fn globals() -> &'static FxHashSet<&'static str> {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| GLOBALS.iter().copied().collect())
}

enum Scope<'g> {
    /// Names bound here: `Resolver::names[start..end]`, plus a hash set of them when
    /// there are many (most scopes bind a handful: a scan is cheaper than a set).
    Names {
        start: usize,
        end: usize,
        set: Option<FxHashSet<Cow<'g, str>>>,
    },
    With,
}

/// Scopes binding more names than this get a hash set for lookups.
const SCAN_LIMIT: usize = 12;

/// A node to visit and the scope it sees.
type Visit<'g> = (Node<'g>, Option<usize>);

struct Resolver<'g> {
    /// Arena of scopes: (parent, scope).
    scopes: Vec<(Option<usize>, Scope<'g>)>,
    /// The names of every `Scope::Names`, one after the other.
    names: Vec<Cow<'g, str>>,
    /// Bindings Nix moves into a `rec` set written earlier (`a = rec { ... }; a.c = e;`
    /// puts `c` in that set's scope and evaluates `e` there): per `rec` set (by its
    /// start offset), the extra names and the nodes to resolve inside it.
    merged_into_rec: FxHashMap<TextSize, (Vec<Cow<'g, str>>, Vec<Node<'g>>)>,
    /// `rec` sets (by start offset) Nix merges into a set defined earlier
    /// (`a.x = 1; a = rec { ... };`): their attributes move into that plain set, so
    /// they lose their own scope.
    demoted_rec: FxHashSet<TextSize>,
    /// Nodes the other checks need (literals, patterns, bindings), met on the walk.
    checked: Vec<Node<'g>>,
    /// The walk's work list (empty between runs).
    stack: Vec<Visit<'g>>,
}

impl<'g> Resolver<'g> {
    fn push(&mut self, parent: Option<usize>, scope: Scope<'g>) -> Option<usize> {
        self.scopes.push((parent, scope));
        Some(self.scopes.len() - 1)
    }

    /// A scope binding the names pushed onto `self.names` since `start`.
    fn push_names(&mut self, parent: Option<usize>, start: usize) -> Option<usize> {
        let end = self.names.len();
        let set =
            (end - start > SCAN_LIMIT).then(|| self.names[start..end].iter().cloned().collect());
        self.push(parent, Scope::Names { start, end, set })
    }

    fn defined(&self, mut scope: Option<usize>, name: &str) -> bool {
        while let Some(i) = scope {
            let (parent, s) = &self.scopes[i];
            match s {
                Scope::Names { set: Some(set), .. } => {
                    if set.contains(name) {
                        return true;
                    }
                }
                Scope::Names {
                    start,
                    end,
                    set: None,
                } => {
                    if self.names[*start..*end].iter().any(|n| n == name) {
                        return true;
                    }
                }
                // A `with` may bind any name: nothing outside it can change that.
                Scope::With => return true,
            }
            scope = *parent;
        }
        globals().contains(name)
    }

    /// Walks the tree with an explicit stack; returns undefined variable uses.
    fn run(&mut self, root: Node<'g>) -> Vec<(TextRange, String)> {
        let mut undefined = Vec::new();
        let mut stack = std::mem::take(&mut self.stack);
        stack.push((root, None));
        while let Some((node, scope)) = stack.pop() {
            match node.kind() {
                NODE_IDENT => {
                    // Only references are pushed (see `push_children`).
                    if let Some(token) = node.first_token() {
                        if !self.defined(scope, token.text()) {
                            undefined.push((node.range(), token.text().to_owned()));
                        }
                    }
                    continue;
                }
                NODE_LITERAL => {
                    self.checked.push(node);
                    continue;
                }
                NODE_PATTERN => self.checked.push(node),
                NODE_LAMBDA => {
                    let start = self.names.len();
                    lambda_names(node, &mut self.names);
                    let inner = self.push_names(scope, start);
                    push_children(node, inner, &mut stack);
                    continue;
                }
                NODE_WITH => {
                    let namespace = with_namespace(node);
                    let inner = self.push(scope, Scope::With);
                    for child in node.children() {
                        let is_namespace = namespace.is_some_and(|n| n.is(child));
                        stack.push((child, if is_namespace { scope } else { inner }));
                    }
                    continue;
                }
                NODE_LET_IN | NODE_LEGACY_LET => {
                    self.checked.push(node);
                    let start = self.names.len();
                    binding_names(node, &mut self.names);
                    let inner = self.push_names(scope, start);
                    self.push_bindings(node, scope, inner, &mut stack, &mut undefined);
                    continue;
                }
                NODE_ATTR_SET => {
                    self.checked.push(node);
                    let is_rec =
                        node.has_token(TOKEN_REC) && !self.demoted_rec.contains(&node.start);
                    let inner = if is_rec {
                        let start = self.names.len();
                        binding_names(node, &mut self.names);
                        let merged = self.merged_into_rec.remove(&node.start);
                        let (extra_names, extra_nodes) = merged.unwrap_or_default();
                        self.names.extend(extra_names);
                        let inner = self.push_names(scope, start);
                        stack.extend(extra_nodes.into_iter().map(|n| (n, inner)));
                        inner
                    } else {
                        scope
                    };
                    self.push_bindings(node, scope, inner, &mut stack, &mut undefined);
                    continue;
                }
                _ => {}
            }
            push_children(node, scope, &mut stack);
        }
        self.stack = stack;
        undefined.sort_by_key(|(r, _)| r.start());
        undefined
    }

    /// `name = rec { ... };` bindings, which later `name.x = e;` bindings extend;
    /// marks `rec` sets that themselves extend an earlier binding as demoted.
    fn rec_sets(&mut self, node: Node<'g>) -> FxHashMap<Cow<'g, str>, Node<'g>> {
        let mut rec_sets = FxHashMap::default();
        let bindings = || node.children().filter(|c| c.kind() == NODE_ATTRPATH_VALUE);
        // Most sets bind no literal `rec` set: skip the name work for them.
        let has_rec = bindings()
            .any(|b| literal_set(binding_value(b)).is_some_and(|t| t.has_token(TOKEN_REC)));
        if !has_rec {
            return rec_sets;
        }
        let mut defined: FxHashSet<Cow<'g, str>> = FxHashSet::default();
        for binding in bindings() {
            let mut attrs = binding_attrs(binding);
            let first = attrs.next();
            let single = attrs.next().is_none();
            let first = first.and_then(static_name);
            let target = literal_set(binding_value(binding)).filter(|t| t.has_token(TOKEN_REC));
            if let (Some(name), Some(target), true) = (&first, target, single) {
                if defined.contains(name) {
                    self.demoted_rec.insert(target.start);
                } else {
                    rec_sets.insert(name.clone(), target);
                }
            }
            defined.extend(first);
        }
        rec_sets
    }

    /// Children of a binding construct: plain `inherit x` looks `x` up outside, the
    /// rest (values, names, `inherit (e)`, a `let` body) sees the new scope.
    fn push_bindings(
        &mut self,
        node: Node<'g>,
        outer: Option<usize>,
        inner: Option<usize>,
        stack: &mut Vec<Visit<'g>>,
        undefined: &mut Vec<(TextRange, String)>,
    ) {
        let rec_sets = self.rec_sets(node);
        for child in node.children() {
            if child.kind() == NODE_ATTRPATH_VALUE && !rec_sets.is_empty() {
                let attrs: Vec<Node<'g>> = binding_attrs(child).collect();
                let target = attrs
                    .first()
                    .and_then(|a| static_name(*a))
                    .and_then(|name| rec_sets.get(&name).copied())
                    .filter(|t| t.start < child.start);
                if let (Some(target), true) = (target, attrs.len() >= 2) {
                    let entry = self.merged_into_rec.entry(target.start).or_default();
                    entry.0.extend(static_name(attrs[1]));
                    // Names are not references; dynamic names and the value are.
                    entry
                        .1
                        .extend(attrs[1..].iter().filter(|a| a.kind() != NODE_IDENT));
                    entry.1.extend(binding_value(child));
                    continue;
                }
            }
            if child.kind() == NODE_INHERIT {
                self.checked.push(child);
                match child.child(NODE_INHERIT_FROM) {
                    Some(from) => stack.push((from, inner)),
                    None => {
                        for attr in attrs_of(child) {
                            if let Some(name) = static_name(attr) {
                                if !self.defined(outer, &name) {
                                    undefined.push((attr.range(), name.into_owned()));
                                }
                            }
                            if attr.kind() != NODE_IDENT {
                                stack.push((attr, outer));
                            }
                        }
                    }
                }
            } else {
                stack.push((child, inner));
            }
        }
    }
}

/// Pushes the names a lambda's parameter binds: `x`, or the formals and the `@` name.
fn lambda_names<'g>(lambda: Node<'g>, names: &mut Vec<Cow<'g, str>>) {
    let param = lambda
        .children()
        .find(|c| matches!(c.kind(), NODE_IDENT_PARAM | NODE_PATTERN));
    let Some(param) = param else {
        return;
    };
    let name = |ident: Node<'g>| Cow::Borrowed(ident_name(ident));
    if param.kind() == NODE_IDENT_PARAM {
        names.extend(param.child(NODE_IDENT).map(name));
        return;
    }
    for entry in param.children().filter(|c| c.kind() == NODE_PAT_ENTRY) {
        names.extend(entry.child(NODE_IDENT).map(name));
    }
    let bind = param.child(NODE_PAT_BIND).and_then(|b| b.child(NODE_IDENT));
    names.extend(bind.map(name));
}

/// Pushes the children of `node` to visit, leaving out identifiers that are names
/// rather than variable references.
fn push_children<'g>(node: Node<'g>, scope: Option<usize>, stack: &mut Vec<Visit<'g>>) {
    let names_only = matches!(
        node.kind(),
        NODE_ATTRPATH | NODE_INHERIT | NODE_PAT_ENTRY | NODE_PAT_BIND | NODE_IDENT_PARAM
    );
    for child in node.children() {
        if names_only && child.kind() == NODE_IDENT {
            continue;
        }
        stack.push((child, scope));
    }
}

/// Pushes the static names a `let` or `rec` set binds: first components of attribute
/// paths and inherited names.
fn binding_names<'g>(node: Node<'g>, names: &mut Vec<Cow<'g, str>>) {
    for binding in node.children() {
        match binding.kind() {
            NODE_ATTRPATH_VALUE => {
                names.extend(binding_attrs(binding).next().and_then(static_name));
            }
            NODE_INHERIT => names.extend(attrs_of(binding).filter_map(static_name)),
            _ => {}
        }
    }
}
