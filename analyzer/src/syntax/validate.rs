//! The checks Nix 2.8 makes while parsing, beyond the grammar (`parser.y`'s actions and
//! `bindVars`): duplicate attributes (across merged attribute paths too), duplicate
//! formals, dynamic attributes in `let` and `inherit`, out-of-range numbers, and
//! variables bound nowhere (`nix-instantiate --parse` rejects `x: y`).
//!
//! Every walk here is iterative, so a deeply nested tree cannot overflow the stack.

use std::collections::{HashMap, HashSet};

use rowan::TextRange;

use super::ast::{self, AstNode, Attr, Expr, HasBindings};
use super::kind::SyntaxKind::*;
use super::kind::SyntaxNode;
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
    let mut v = Validator {
        root: root.clone(),
        line_index: None,
        errors: Vec::new(),
    };
    // One walk resolves variables and collects the nodes the other checks look at.
    let checked = v.undefined_variables();
    for node in checked {
        match node.kind() {
            NODE_LITERAL => v.literal(&node),
            NODE_PATTERN => v.pattern(&node),
            NODE_INHERIT => v.inherit_names(&node),
            NODE_LET_IN => {
                v.let_dynamic(&node);
                v.duplicates(&node);
            }
            NODE_ATTR_SET | NODE_LEGACY_LET => v.duplicates(&node),
            _ => {}
        }
    }
    v.errors
}

struct Validator {
    root: SyntaxNode,
    line_index: Option<LineIndex>,
    errors: Vec<SyntaxError>,
}

impl Validator {
    fn error(&mut self, range: TextRange, message: String) {
        self.errors.push(SyntaxError { range, message });
    }

    /// "line L, column C" of an offset (built lazily: only errors need it).
    fn position(&mut self, range: TextRange) -> String {
        let index = self
            .line_index
            .get_or_insert_with(|| LineIndex::new(&self.root.text().to_string()));
        let lc = index.line_col(range.start());
        format!("{}:{}", lc.line + 1, lc.col + 1)
    }

    fn literal(&mut self, node: &SyntaxNode) {
        let Some(lit) = ast::Literal::cast(node.clone()) else {
            return;
        };
        let Some(token) = lit.token() else { return };
        match token.kind() {
            TOKEN_INT if token.text().parse::<i64>().is_err() => self.error(
                token.text_range(),
                format!(
                    "invalid integer '{}': integers must fit in 64 bits",
                    token.text()
                ),
            ),
            TOKEN_FLOAT if strings::parse_float(token.text()).is_none() => self.error(
                token.text_range(),
                format!("invalid float '{}': out of range", token.text()),
            ),
            _ => {}
        }
    }

    fn pattern(&mut self, node: &SyntaxNode) {
        let Some(pattern) = ast::Pattern::cast(node.clone()) else {
            return;
        };
        let mut seen: HashMap<String, TextRange> = HashMap::new();
        for entry in pattern.pat_entries() {
            let Some(ident) = entry.ident() else { continue };
            let name = ident.name();
            let range = ident.syntax().text_range();
            if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(name.clone()) {
                slot.insert(range);
            } else {
                self.error(
                    range,
                    format!("duplicate formal function argument '{name}'"),
                );
            }
        }
        if let Some(ident) = pattern.pat_bind().and_then(|b| b.ident()) {
            let name = ident.name();
            if seen.contains_key(&name) {
                self.error(
                    ident.syntax().text_range(),
                    format!(
                        "duplicate formal function argument '{name}': the `@` name is also a formal"
                    ),
                );
            }
        }
    }

    fn inherit_names(&mut self, node: &SyntaxNode) {
        let Some(inherit) = ast::Inherit::cast(node.clone()) else {
            return;
        };
        for attr in inherit.attrs() {
            if attr.static_name().is_none() {
                self.error(
                    attr.syntax().text_range(),
                    "dynamic attributes not allowed in inherit".to_owned(),
                );
            }
        }
    }

    fn let_dynamic(&mut self, node: &SyntaxNode) {
        let Some(let_in) = ast::LetIn::cast(node.clone()) else {
            return;
        };
        for binding in let_in.attrpath_values() {
            let first = binding.attrpath().and_then(|p| p.attrs().next());
            if let Some(attr) = first {
                if attr.static_name().is_none() {
                    self.error(
                        attr.syntax().text_range(),
                        "dynamic attributes not allowed in let".to_owned(),
                    );
                }
            }
        }
    }

    /// Duplicate definitions in one set or `let`, following Nix's `addAttr`: attribute
    /// paths create nested sets, and a path may extend a set written literally
    /// (`a = { b = 1; }; a.c = 2;`), but defining a name twice is an error.
    fn duplicates(&mut self, node: &SyntaxNode) {
        // Only bindings sharing a first name can clash (or merge): most sets have none.
        let mut first_names: Vec<String> = Vec::new();
        for child in node.children() {
            match child.kind() {
                NODE_ATTRPATH_VALUE => {
                    let first = ast::AttrpathValue::cast(child)
                        .and_then(|b| b.attrpath())
                        .and_then(|p| p.attrs().next());
                    first_names.extend(first.and_then(|a| a.static_name()));
                }
                NODE_INHERIT => {
                    if let Some(i) = ast::Inherit::cast(child) {
                        first_names.extend(i.attrs().filter_map(|a| a.static_name()));
                    }
                }
                _ => {}
            }
        }
        first_names.sort_unstable();
        if first_names.windows(2).all(|w| w[0] != w[1]) {
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

    fn undefined_variables(&mut self) -> Vec<SyntaxNode> {
        let mut resolver = Resolver {
            scopes: Vec::new(),
            globals: GLOBALS.iter().copied().collect(),
            merged_into_rec: HashMap::new(),
            demoted_rec: HashSet::new(),
            checked: Vec::new(),
        };
        let undefined = resolver.run(&self.root);
        for (range, name) in undefined {
            self.error(range, format!("undefined variable '{name}'"));
        }
        resolver.checked
    }
}

// ---- duplicate attributes ---------------------------------------------------------

#[derive(Default)]
struct Table {
    entries: HashMap<String, Entry>,
}

struct Entry {
    /// Where the name was first defined.
    range: TextRange,
    value: Value,
}

enum Value {
    /// `inherit x;`: never extended.
    Inherited,
    /// Anything that is not a literal set.
    Other,
    /// A set: made by an attribute path, or written literally (expanded on demand).
    Set {
        literal: Option<SyntaxNode>,
        table: Option<Table>,
    },
}

impl Value {
    fn table(&mut self) -> Option<&mut Table> {
        match self {
            Value::Set { literal, table } => {
                if table.is_none() {
                    let mut t = Table::default();
                    if let Some(node) = literal {
                        fill_table(&mut t, node, None);
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
fn literal_set(expr: Option<Expr>) -> Option<SyntaxNode> {
    let mut expr = expr?;
    loop {
        match expr {
            Expr::Paren(p) => expr = p.expr()?,
            Expr::AttrSet(s) => return Some(s.syntax().clone()),
            _ => return None,
        }
    }
}

fn show_attr(attr: &Attr) -> String {
    attr.static_name()
        .unwrap_or_else(|| "\"${...}\"".to_owned())
}

/// Adds the bindings of `node` (a set or a `let`) to `table`, recording duplicates.
fn fill_table(table: &mut Table, node: &SyntaxNode, mut dups: Option<&mut Vec<Dup>>) {
    for child in node.children() {
        match child.kind() {
            NODE_ATTRPATH_VALUE => {
                let Some(binding) = ast::AttrpathValue::cast(child) else {
                    continue;
                };
                let Some(path) = binding.attrpath() else {
                    continue;
                };
                let attrs: Vec<Attr> = path.attrs().collect();
                add_attr(table, &attrs, binding.value(), dups.as_deref_mut());
            }
            NODE_INHERIT => {
                let Some(inherit) = ast::Inherit::cast(child) else {
                    continue;
                };
                let from = inherit.from().is_some();
                for attr in inherit.attrs() {
                    let Some(name) = attr.static_name() else {
                        continue;
                    };
                    let range = attr.syntax().text_range();
                    if let Some(prev) = table.entries.get(&name) {
                        if let Some(d) = dups.as_deref_mut() {
                            d.push((range, prev.range, name));
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

fn add_attr(table: &mut Table, attrs: &[Attr], value: Option<Expr>, dups: Option<&mut Vec<Dup>>) {
    let Some((last, prefix)) = attrs.split_last() else {
        return;
    };
    let shown = || attrs.iter().map(show_attr).collect::<Vec<_>>().join(".");
    let mut current = table;
    for attr in prefix {
        let Some(name) = attr.static_name() else {
            // A dynamic component makes a fresh set: nothing below it can clash.
            return;
        };
        let range = attr.syntax().text_range();
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
    let Some(name) = last.static_name() else {
        return;
    };
    let range = last.syntax().text_range();
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
                    fill_table(&mut incoming, &node, None);
                    let mut incoming: Vec<(String, Entry)> = incoming.entries.into_iter().collect();
                    incoming.sort_by_key(|(_, e)| e.range.start());
                    let mut dups = dups;
                    for (key, entry) in incoming {
                        if let Some(prev) = target.entries.get(&key) {
                            if let Some(d) = dups.as_deref_mut() {
                                d.push((entry.range, prev.range, key));
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

enum Scope {
    Names(HashSet<String>),
    With,
}

struct Resolver {
    /// Arena of scopes: (parent, scope).
    scopes: Vec<(Option<usize>, Scope)>,
    globals: HashSet<&'static str>,
    /// Bindings Nix moves into a `rec` set written earlier (`a = rec { ... }; a.c = e;`
    /// puts `c` in that set's scope and evaluates `e` there): per `rec` set, the extra
    /// names and the nodes to resolve inside it.
    merged_into_rec: HashMap<SyntaxNode, (Vec<String>, Vec<SyntaxNode>)>,
    /// `rec` sets Nix merges into a set defined earlier (`a.x = 1; a = rec { ... };`):
    /// their attributes move into that plain set, so they lose their own scope.
    demoted_rec: HashSet<SyntaxNode>,
    /// Nodes the other checks need (literals, patterns, bindings), met on the walk.
    checked: Vec<SyntaxNode>,
}

impl Resolver {
    fn push(&mut self, parent: Option<usize>, scope: Scope) -> Option<usize> {
        self.scopes.push((parent, scope));
        Some(self.scopes.len() - 1)
    }

    fn defined(&self, mut scope: Option<usize>, name: &str) -> bool {
        let mut under_with = false;
        while let Some(i) = scope {
            let (parent, s) = &self.scopes[i];
            match s {
                Scope::Names(names) if names.contains(name) => return true,
                Scope::With => under_with = true,
                _ => {}
            }
            scope = *parent;
        }
        under_with || self.globals.contains(name)
    }

    /// Walks the tree with an explicit stack; returns undefined variable uses.
    fn run(&mut self, root: &SyntaxNode) -> Vec<(TextRange, String)> {
        let mut undefined = Vec::new();
        let mut stack: Vec<(SyntaxNode, Option<usize>)> = vec![(root.clone(), None)];
        while let Some((node, scope)) = stack.pop() {
            match node.kind() {
                NODE_IDENT => {
                    // Only references are pushed (see `push_children`).
                    if let Some(token) = node.first_token() {
                        if !self.defined(scope, token.text()) {
                            undefined.push((node.text_range(), token.text().to_owned()));
                        }
                    }
                    continue;
                }
                NODE_LITERAL => {
                    self.checked.push(node);
                    continue;
                }
                NODE_PATTERN => self.checked.push(node.clone()),
                NODE_LAMBDA => {
                    let mut names = HashSet::new();
                    if let Some(param) = ast::Lambda::cast(node.clone()).and_then(|l| l.param()) {
                        match param {
                            ast::Param::IdentParam(p) => {
                                if let Some(i) = p.ident() {
                                    names.insert(i.name());
                                }
                            }
                            ast::Param::Pattern(p) => {
                                names.extend(
                                    p.pat_entries().filter_map(|e| e.ident()).map(|i| i.name()),
                                );
                                if let Some(i) = p.pat_bind().and_then(|b| b.ident()) {
                                    names.insert(i.name());
                                }
                            }
                        }
                    }
                    let inner = self.push(scope, Scope::Names(names));
                    push_children(&node, inner, &mut stack);
                    continue;
                }
                NODE_WITH => {
                    let with = ast::With::cast(node.clone());
                    let namespace = with.as_ref().and_then(|w| w.namespace());
                    let inner = self.push(scope, Scope::With);
                    for child in node.children() {
                        let is_namespace = namespace.as_ref().is_some_and(|n| n.syntax() == &child);
                        stack.push((child, if is_namespace { scope } else { inner }));
                    }
                    continue;
                }
                NODE_LET_IN | NODE_LEGACY_LET => {
                    self.checked.push(node.clone());
                    let inner = self.push(scope, Scope::Names(binding_names(&node)));
                    self.push_bindings(&node, scope, inner, &mut stack, &mut undefined);
                    continue;
                }
                NODE_ATTR_SET => {
                    self.checked.push(node.clone());
                    let is_rec = ast::AttrSet::cast(node.clone()).is_some_and(|s| s.is_rec())
                        && !self.demoted_rec.contains(&node);
                    let inner = if is_rec {
                        let mut names = binding_names(&node);
                        let merged = self.merged_into_rec.remove(&node);
                        let (extra_names, extra_nodes) = merged.unwrap_or_default();
                        names.extend(extra_names);
                        let inner = self.push(scope, Scope::Names(names));
                        stack.extend(extra_nodes.into_iter().map(|n| (n, inner)));
                        inner
                    } else {
                        scope
                    };
                    self.push_bindings(&node, scope, inner, &mut stack, &mut undefined);
                    continue;
                }
                _ => {}
            }
            push_children(&node, scope, &mut stack);
        }
        undefined.sort_by_key(|(r, _)| r.start());
        undefined
    }

    /// Children of a binding construct: plain `inherit x` looks `x` up outside, the
    /// rest (values, names, `inherit (e)`, a `let` body) sees the new scope.
    fn push_bindings(
        &mut self,
        node: &SyntaxNode,
        outer: Option<usize>,
        inner: Option<usize>,
        stack: &mut Vec<(SyntaxNode, Option<usize>)>,
        undefined: &mut Vec<(TextRange, String)>,
    ) {
        // `name = rec { ... };` bindings, which later `name.x = e;` bindings extend.
        let mut rec_sets: HashMap<String, SyntaxNode> = HashMap::new();
        let mut defined: HashSet<String> = HashSet::new();
        for binding in node.children().filter_map(ast::AttrpathValue::cast) {
            let attrs: Vec<Attr> = binding
                .attrpath()
                .map(|p| p.attrs().collect())
                .unwrap_or_default();
            let first = attrs.first().and_then(|a| a.static_name());
            let target = literal_set(binding.value());
            let is_rec = target
                .as_ref()
                .and_then(|t| ast::AttrSet::cast(t.clone()))
                .is_some_and(|s| s.is_rec());
            if let (Some(name), Some(target), 1, true) = (&first, target, attrs.len(), is_rec) {
                if defined.contains(name) {
                    self.demoted_rec.insert(target);
                } else {
                    rec_sets.insert(name.clone(), target);
                }
            }
            defined.extend(first);
        }
        for child in node.children() {
            if let Some(binding) = ast::AttrpathValue::cast(child.clone()) {
                let attrs: Vec<Attr> = binding
                    .attrpath()
                    .map(|p| p.attrs().collect())
                    .unwrap_or_default();
                let target = attrs
                    .first()
                    .and_then(|a| a.static_name())
                    .and_then(|name| rec_sets.get(&name))
                    .filter(|t| t.text_range().start() < child.text_range().start());
                if let (Some(target), true) = (target, attrs.len() >= 2) {
                    let entry = self.merged_into_rec.entry(target.clone()).or_default();
                    entry.0.extend(attrs[1].static_name());
                    // Names are not references; dynamic names and the value are.
                    entry.1.extend(
                        attrs[1..]
                            .iter()
                            .filter(|a| !matches!(a, Attr::Ident(_)))
                            .map(|a| a.syntax().clone()),
                    );
                    entry.1.extend(binding.value().map(|v| v.syntax().clone()));
                    continue;
                }
            }
            if child.kind() == NODE_INHERIT {
                self.checked.push(child.clone());
                let Some(inherit) = ast::Inherit::cast(child.clone()) else {
                    continue;
                };
                match inherit.from() {
                    Some(from) => stack.push((from.syntax().clone(), inner)),
                    None => {
                        for attr in inherit.attrs() {
                            if let Some(name) = attr.static_name() {
                                if !self.defined(outer, &name) {
                                    undefined.push((attr.syntax().text_range(), name));
                                }
                            }
                            if let Attr::Dynamic(_) | Attr::Str(_) = attr {
                                stack.push((attr.syntax().clone(), outer));
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

/// Pushes the children of `node` to visit, leaving out identifiers that are names
/// rather than variable references.
fn push_children(
    node: &SyntaxNode,
    scope: Option<usize>,
    stack: &mut Vec<(SyntaxNode, Option<usize>)>,
) {
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

/// The static names a `let` or `rec` set binds: first components of attribute paths
/// and inherited names.
fn binding_names(node: &SyntaxNode) -> HashSet<String> {
    let mut names = HashSet::new();
    let bindings: Box<dyn Iterator<Item = ast::Binding>> =
        match node.kind() {
            NODE_LET_IN => ast::LetIn::cast(node.clone())
                .map_or(Box::new(std::iter::empty()), |n| n.bindings()),
            NODE_LEGACY_LET => ast::LegacyLet::cast(node.clone())
                .map_or(Box::new(std::iter::empty()), |n| n.bindings()),
            _ => ast::AttrSet::cast(node.clone())
                .map_or(Box::new(std::iter::empty()), |n| n.bindings()),
        };
    for binding in bindings {
        match binding {
            ast::Binding::AttrpathValue(b) => {
                if let Some(name) = b
                    .attrpath()
                    .and_then(|p| p.attrs().next())
                    .and_then(|a| a.static_name())
                {
                    names.insert(name);
                }
            }
            ast::Binding::Inherit(i) => {
                names.extend(i.attrs().filter_map(|a| a.static_name()));
            }
        }
    }
    names
}
