//! Lowering: syntax tree to [`Module`]. Attribute paths are merged the way Nix's parser
//! merges them (`a.b = 1; a.c = 2;` and `a = { b = 1; }; a.c = 2;` give one set `a`).
//! Duplicates are reported by the parser's checks; here a duplicate's value is still
//! lowered (as an anonymous dynamic binding) so the names it uses stay resolved.

use rustc_hash::FxHashMap as HashMap;

use super::{
    Attrpath, BindingValue, Bindings, Expr, ExprId, Literal, Module, ModuleSourceMap, Name, NameId,
    NameKind, Pat,
};
use crate::syntax::ast::{self, AstNode, HasBindings, LiteralKind, Param, PathPart, StrPart};
use crate::syntax::SyntaxNode;
use rowan::{GreenNode, TextRange, TextSize};
use std::sync::Arc;

/// Lowers a parsed file (its root node) into a module and its source map.
pub fn lower(root: &SyntaxNode) -> (Module, ModuleSourceMap) {
    lower_root(root, None)
}

/// One binding's value lowered on its own: ids local to it, ranges relative to its start.
/// It depends only on the value's text, so it is reused wherever that text occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    module: Module,
    source_map: ModuleSourceMap,
}

/// Where [`lower_with`] gets a binding value's fragment from.
pub type FragmentSource<'f> = &'f dyn Fn(&GreenNode) -> Arc<Fragment>;

/// Lowers one expression (a binding's value) into a [`Fragment`].
pub fn lower_fragment(expr: &GreenNode) -> Fragment {
    let root = SyntaxNode::new_root(expr.clone());
    let mut ctx = LowerCtx::default();
    let entry = ctx.lower_expr_opt(ast::Expr::cast(root));
    ctx.module.entry = Some(entry);
    ctx.source_map.finish();
    Fragment {
        module: ctx.module,
        source_map: ctx.source_map,
    }
}

/// Lowers a file like [`lower`], taking the values of `name = value;` bindings from
/// `fragments` (a cache keyed by the value's green node), so an edit re-lowers one value
/// and copies the others. The result is exactly what [`lower`] gives.
pub fn lower_with(root: &SyntaxNode, fragments: FragmentSource<'_>) -> (Module, ModuleSourceMap) {
    lower_root(root, Some(fragments))
}

fn lower_root(
    root: &SyntaxNode,
    fragments: Option<FragmentSource<'_>>,
) -> (Module, ModuleSourceMap) {
    let mut ctx = LowerCtx {
        fragments,
        ..LowerCtx::default()
    };
    let entry = root.children().find_map(ast::Expr::cast);
    let entry = ctx.lower_expr_opt(entry);
    ctx.module.entry = Some(entry);
    ctx.module.exprs.shrink_to_fit();
    ctx.module.names.shrink_to_fit();
    ctx.source_map.finish();
    (ctx.module, ctx.source_map)
}

#[derive(Default)]
struct LowerCtx<'f> {
    module: Module,
    source_map: ModuleSourceMap,
    fragments: Option<FragmentSource<'f>>,
}

/// Bindings being collected for one set or `let`, before merging is complete.
struct SetBuilder {
    name_kind: NameKind,
    entries: Vec<(NameId, Entry)>,
    index: HashMap<String, usize>,
    inherit_froms: Vec<ExprId>,
    dynamics: Vec<(ExprId, ExprId)>,
}

enum Entry {
    Value(BindingValue),
    /// A set that later attribute paths may still add to.
    Nested(Box<NestedSet>),
}

struct NestedSet {
    set: SetBuilder,
    is_rec: bool,
    /// The literal `{ }` it came from (none when made by an attribute path).
    range: Option<TextRange>,
    rec_keyword: Option<TextRange>,
}

impl SetBuilder {
    fn new(name_kind: NameKind) -> Self {
        SetBuilder {
            name_kind,
            entries: Vec::new(),
            index: HashMap::default(),
            inherit_froms: Vec::new(),
            dynamics: Vec::new(),
        }
    }
}

/// The literal attribute set an expression is, looking through parentheses.
fn literal_set(expr: &ast::Expr) -> Option<ast::AttrSet> {
    match expr {
        ast::Expr::AttrSet(s) => Some(s.clone()),
        ast::Expr::Paren(p) => p.expr().as_ref().and_then(literal_set),
        _ => None,
    }
}

impl LowerCtx<'_> {
    fn alloc_expr(&mut self, expr: Expr, range: Option<TextRange>) -> ExprId {
        let id = self.module.exprs.alloc(expr);
        self.source_map.expr_map_rev.push(range);
        if let Some(r) = range {
            self.source_map.expr_map.insert(r, id);
        }
        id
    }

    fn alloc_name(&mut self, text: &str, kind: NameKind, range: TextRange) -> NameId {
        let id = self.module.names.alloc(Name {
            text: text.into(),
            kind,
        });
        self.add_name_range(id, range);
        id
    }

    fn add_name_range(&mut self, name: NameId, range: TextRange) {
        self.source_map.name_map.insert(range, name);
        self.source_map
            .name_map_rev
            .entry(name)
            .or_default()
            .push(range);
    }

    fn missing(&mut self) -> ExprId {
        self.alloc_expr(Expr::Missing, None)
    }

    fn lower_expr_opt(&mut self, expr: Option<ast::Expr>) -> ExprId {
        match expr {
            Some(e) => self.lower_expr(e),
            None => self.missing(),
        }
    }

    fn lower_expr(&mut self, expr: ast::Expr) -> ExprId {
        let range = expr.syntax().text_range();
        let lowered = match expr {
            ast::Expr::Paren(p) => {
                let inner = self.lower_expr_opt(p.expr());
                // The parenthesised range finds the inner expression too.
                self.source_map.expr_map.insert(range, inner);
                return inner;
            }
            ast::Expr::Ident(i) => Expr::Reference(i.name().into()),
            ast::Expr::CurPos(_) => Expr::CurPos,
            ast::Expr::Literal(l) => match l.kind() {
                Some(LiteralKind::Int) => match l.int_value() {
                    Some(v) => Expr::Literal(Literal::Int(v)),
                    None => Expr::Missing,
                },
                Some(LiteralKind::Float) => Expr::Literal(Literal::Float(
                    l.token()
                        .map_or_else(String::new, |t| t.text().to_owned())
                        .into(),
                )),
                Some(LiteralKind::Uri) => Expr::Literal(Literal::Uri(
                    l.token()
                        .map_or_else(String::new, |t| t.text().to_owned())
                        .into(),
                )),
                None => Expr::Missing,
            },
            ast::Expr::Str(s) => self.lower_string(&s),
            ast::Expr::Path(p) => {
                let parts = p.parts();
                match parts.as_slice() {
                    [PathPart::Literal(text)] => Expr::Literal(Literal::Path(text.as_str().into())),
                    _ => {
                        let exprs = parts
                            .into_iter()
                            .filter_map(|part| match part {
                                PathPart::Interpolation(i) => Some(i),
                                PathPart::Literal(_) => None,
                            })
                            .map(|i| self.lower_expr_opt(i.expr()))
                            .collect();
                        Expr::PathInterpolation(exprs)
                    }
                }
            }
            ast::Expr::Apply(a) => {
                let f = self.lower_expr_opt(a.lambda());
                let x = self.lower_expr_opt(a.argument());
                Expr::Apply(f, x)
            }
            ast::Expr::Assert(a) => {
                let c = self.lower_expr_opt(a.condition());
                let b = self.lower_expr_opt(a.body());
                Expr::Assert(c, b)
            }
            ast::Expr::IfElse(i) => {
                let c = self.lower_expr_opt(i.condition());
                let t = self.lower_expr_opt(i.body());
                let e = self.lower_expr_opt(i.else_body());
                Expr::IfThenElse(c, t, e)
            }
            ast::Expr::With(w) => {
                let env = self.lower_expr_opt(w.namespace());
                let body = self.lower_expr_opt(w.body());
                Expr::With(env, body)
            }
            ast::Expr::BinOp(b) => {
                let lhs = self.lower_expr_opt(b.lhs());
                let rhs = self.lower_expr_opt(b.rhs());
                Expr::Binary(b.operator(), lhs, rhs)
            }
            ast::Expr::UnaryOp(u) => {
                let x = self.lower_expr_opt(u.expr());
                Expr::Unary(u.operator(), x)
            }
            ast::Expr::HasAttr(h) => {
                let set = self.lower_expr_opt(h.expr());
                let path = self.lower_attrpath(h.attrpath());
                Expr::HasAttr(set, path)
            }
            ast::Expr::Select(s) => {
                let set = self.lower_expr_opt(s.expr());
                let path = self.lower_attrpath(s.attrpath());
                let default = s.default_expr().map(|d| self.lower_expr(d));
                Expr::Select(set, path, default)
            }
            ast::Expr::List(l) => {
                let items = l.items().map(|e| self.lower_expr(e)).collect();
                Expr::List(items)
            }
            ast::Expr::Lambda(l) => self.lower_lambda(&l),
            ast::Expr::LetIn(l) => {
                let mut b = SetBuilder::new(NameKind::LetIn);
                self.add_bindings(&mut b, &l);
                let bindings = self.finish_bindings(b);
                let body = self.lower_expr_opt(l.body());
                Expr::LetIn(bindings, body)
            }
            ast::Expr::LegacyLet(l) => {
                let mut b = SetBuilder::new(NameKind::LetIn);
                self.add_bindings(&mut b, &l);
                let bindings = self.finish_bindings(b);
                // `let { … }` evaluates to its `body` attribute.
                let body = self.alloc_expr(Expr::Reference("body".into()), None);
                Expr::LetIn(bindings, body)
            }
            ast::Expr::AttrSet(s) => {
                let nested = self.nested_from_literal(&s);
                return self.finish_nested(*nested);
            }
        };
        self.alloc_expr(lowered, Some(range))
    }

    fn lower_string(&mut self, s: &ast::Str) -> Expr {
        let parts = s.normalized_parts();
        if parts.iter().all(|p| matches!(p, StrPart::Literal(_))) {
            let text: String = parts
                .into_iter()
                .map(|p| match p {
                    StrPart::Literal(t) => t,
                    StrPart::Interpolation(_) => String::new(),
                })
                .collect();
            return Expr::Literal(Literal::String(text.into()));
        }
        let exprs = parts
            .into_iter()
            .filter_map(|p| match p {
                StrPart::Interpolation(i) => Some(i),
                StrPart::Literal(_) => None,
            })
            .map(|i| self.lower_expr_opt(i.expr()))
            .collect();
        Expr::StringInterpolation(exprs)
    }

    fn lower_lambda(&mut self, l: &ast::Lambda) -> Expr {
        let mut param_name = None;
        let mut pat = None;
        match l.param() {
            Some(Param::IdentParam(p)) => {
                if let Some(ident) = p.ident() {
                    let range = ident.syntax().text_range();
                    let id = self.alloc_name(&ident.name(), NameKind::Param, range);
                    self.source_map.binding_ranges.insert(id, range);
                    param_name = Some(id);
                }
            }
            Some(Param::Pattern(p)) => {
                if let Some(ident) = p.pat_bind().and_then(|b| b.ident()) {
                    let id = self.alloc_name(
                        &ident.name(),
                        NameKind::Param,
                        ident.syntax().text_range(),
                    );
                    if let Some(bind) = p.pat_bind() {
                        self.source_map
                            .binding_ranges
                            .insert(id, bind.syntax().text_range());
                    }
                    param_name = Some(id);
                }
                // Names first, then defaults: defaults may refer to any formal.
                let entries: Vec<ast::PatEntry> = p.pat_entries().collect();
                let mut names = Vec::with_capacity(entries.len());
                for entry in &entries {
                    let name = entry.ident().map(|ident| {
                        let id = self.alloc_name(
                            &ident.name(),
                            NameKind::PatField,
                            ident.syntax().text_range(),
                        );
                        self.source_map
                            .binding_ranges
                            .insert(id, entry.syntax().text_range());
                        id
                    });
                    names.push(name);
                }
                let mut fields = Vec::with_capacity(entries.len());
                for (entry, name) in entries.iter().zip(names) {
                    let default = entry.default().map(|d| self.lower_expr(d));
                    if let Some(name) = name {
                        fields.push((name, default));
                    }
                }
                pat = Some(Box::new(Pat {
                    fields: fields.into(),
                    ellipsis: p.has_ellipsis(),
                }));
            }
            None => {}
        }
        let body = self.lower_expr_opt(l.body());
        Expr::Lambda(param_name, pat, body)
    }

    fn lower_attrpath(&mut self, path: Option<ast::Attrpath>) -> Attrpath {
        match path {
            Some(p) => p.attrs().map(|a| self.lower_attr(a)).collect(),
            None => Box::new([]),
        }
    }

    /// An attribute name as an expression: a string literal when static.
    fn lower_attr(&mut self, attr: ast::Attr) -> ExprId {
        let range = attr.syntax().text_range();
        match attr {
            ast::Attr::Ident(i) => {
                self.alloc_expr(Expr::Literal(Literal::String(i.name().into())), Some(range))
            }
            ast::Attr::Str(s) => {
                let e = self.lower_string(&s);
                self.alloc_expr(e, Some(range))
            }
            ast::Attr::Dynamic(d) => {
                let inner = self.lower_expr_opt(d.expr());
                self.source_map.expr_map.insert(range, inner);
                inner
            }
        }
    }

    fn nested_from_literal(&mut self, set: &ast::AttrSet) -> Box<NestedSet> {
        let is_rec = set.is_rec();
        let mut b = SetBuilder::new(if is_rec {
            NameKind::RecAttrset
        } else {
            NameKind::PlainAttrset
        });
        self.add_bindings(&mut b, set);
        Box::new(NestedSet {
            set: b,
            is_rec,
            range: Some(set.syntax().text_range()),
            rec_keyword: set.rec_token().map(|t| t.text_range()),
        })
    }

    fn add_bindings(&mut self, b: &mut SetBuilder, node: &impl HasBindings) {
        for binding in node.bindings() {
            match binding {
                ast::Binding::AttrpathValue(apv) => {
                    let attrs: Vec<ast::Attr> = apv
                        .attrpath()
                        .map(|p| p.attrs().collect())
                        .unwrap_or_default();
                    let range = apv.syntax().text_range();
                    self.add_path(b, &attrs, apv.value(), range);
                }
                ast::Binding::Inherit(inherit) => self.add_inherit(b, &inherit),
            }
        }
    }

    fn add_inherit(&mut self, b: &mut SetBuilder, inherit: &ast::Inherit) {
        let from = inherit.from().map(|f| {
            let e = self.lower_expr_opt(f.expr());
            b.inherit_froms.push(e);
            (b.inherit_froms.len() - 1) as u32
        });
        for attr in inherit.attrs() {
            let Some(name) = attr.static_name() else {
                continue;
            };
            let range = attr.syntax().text_range();
            let value = match from {
                Some(i) => BindingValue::InheritFrom(i),
                None => BindingValue::Inherit(
                    self.alloc_expr(Expr::Reference(name.as_str().into()), Some(range)),
                ),
            };
            if b.index.contains_key(&name) {
                // A duplicate (the parser reports it); keep a plain reference reachable.
                if let BindingValue::Inherit(e) = value {
                    let key = self.missing();
                    b.dynamics.push((key, e));
                }
                continue;
            }
            let id = self.alloc_name(&name, b.name_kind, range);
            self.source_map.binding_ranges.insert(id, range);
            b.index.insert(name, b.entries.len());
            b.entries.push((id, Entry::Value(value)));
        }
    }

    fn add_path(
        &mut self,
        b: &mut SetBuilder,
        attrs: &[ast::Attr],
        value: Option<ast::Expr>,
        binding_range: TextRange,
    ) {
        let Some((first, rest)) = attrs.split_first() else {
            // `= e;` without a name: keep the value reachable.
            let key = self.missing();
            let v = self.lower_expr_opt(value);
            b.dynamics.push((key, v));
            return;
        };
        let Some(name) = first.static_name() else {
            let key = self.lower_attr(first.clone());
            let v = self.path_value(rest, value, binding_range);
            b.dynamics.push((key, v));
            return;
        };
        let range = first.syntax().text_range();
        if let Some(&i) = b.index.get(&name) {
            let id = b.entries[i].0;
            self.add_name_range(id, range);
            let literal = value.as_ref().and_then(literal_set);
            match (&mut b.entries[i].1, rest.is_empty(), literal) {
                (Entry::Nested(nested), false, _) => {
                    self.add_path(&mut nested.set, rest, value, binding_range);
                }
                (Entry::Nested(nested), true, Some(lit)) => {
                    self.add_bindings(&mut nested.set, &lit);
                }
                _ => {
                    // A duplicate: lower the value anyway.
                    let key = self.missing();
                    let v = self.path_value(rest, value, binding_range);
                    b.dynamics.push((key, v));
                }
            }
            return;
        }
        let id = self.alloc_name(&name, b.name_kind, range);
        let entry = if rest.is_empty() {
            self.source_map.binding_ranges.insert(id, binding_range);
            match value.as_ref().and_then(literal_set) {
                Some(lit) => Entry::Nested(self.nested_from_literal(&lit)),
                None => Entry::Value(BindingValue::Expr(self.lower_value(value))),
            }
        } else {
            let mut nested = SetBuilder::new(NameKind::PlainAttrset);
            self.add_path(&mut nested, rest, value, binding_range);
            Entry::Nested(Box::new(NestedSet {
                set: nested,
                is_rec: false,
                range: None,
                rec_keyword: None,
            }))
        };
        b.index.insert(name, b.entries.len());
        b.entries.push((id, entry));
    }

    /// A binding's value: from the fragment cache when there is one.
    fn lower_value(&mut self, value: Option<ast::Expr>) -> ExprId {
        match (self.fragments, value) {
            (Some(fragments), Some(value)) => {
                let node = value.syntax();
                let fragment = fragments(&node.green().into_owned());
                self.splice(&fragment, node.text_range().start())
            }
            (_, value) => self.lower_expr_opt(value),
        }
    }

    /// Appends a fragment lowered at offset `base`: the same arena entries, in the same
    /// order, that lowering the value in place would have allocated.
    fn splice(&mut self, fragment: &Fragment, base: TextSize) -> ExprId {
        let de = self.module.exprs.len() as u32;
        let dn = self.module.names.len() as u32;
        let e = |id: ExprId| ExprId::from_raw(id.into_raw() + de);
        let n = |id: NameId| NameId::from_raw(id.into_raw() + dn);
        for (_, name) in fragment.module.names.iter() {
            self.module.names.alloc(name.clone());
        }
        for (_, expr) in fragment.module.exprs.iter() {
            self.module.exprs.alloc(shift_expr(expr, &e, &n));
        }
        let src = &fragment.source_map;
        let map = &mut self.source_map;
        map.expr_map_rev
            .extend(src.expr_map_rev.iter().map(|r| r.map(|r| r + base)));
        for (r, id) in src.expr_map.iter() {
            map.expr_map.insert(r + base, e(id));
        }
        for (r, id) in src.name_map.iter() {
            map.name_map.insert(r + base, n(id));
        }
        map.name_map_rev.extend(
            src.name_map_rev
                .iter()
                .map(|(id, rs)| (n(*id), rs.iter().map(|r| *r + base).collect())),
        );
        map.binding_ranges
            .extend(src.binding_ranges.iter().map(|(id, r)| (n(*id), *r + base)));
        map.rec_keywords
            .extend(src.rec_keywords.iter().map(|(id, r)| (e(*id), *r + base)));
        e(fragment.module.entry.expect("a fragment has an entry"))
    }

    /// The value of the rest of an attribute path (a fresh nested set, or the value itself).
    fn path_value(
        &mut self,
        rest: &[ast::Attr],
        value: Option<ast::Expr>,
        binding_range: TextRange,
    ) -> ExprId {
        if rest.is_empty() {
            return self.lower_expr_opt(value);
        }
        let mut nested = SetBuilder::new(NameKind::PlainAttrset);
        self.add_path(&mut nested, rest, value, binding_range);
        self.finish_nested(NestedSet {
            set: nested,
            is_rec: false,
            range: None,
            rec_keyword: None,
        })
    }

    fn finish_nested(&mut self, nested: NestedSet) -> ExprId {
        let bindings = self.finish_bindings(nested.set);
        let expr = if nested.is_rec {
            Expr::RecAttrset(bindings)
        } else {
            Expr::Attrset(bindings)
        };
        let id = self.alloc_expr(expr, nested.range);
        if let Some(kw) = nested.rec_keyword {
            self.source_map.rec_keywords.insert(id, kw);
        }
        id
    }

    fn finish_bindings(&mut self, b: SetBuilder) -> Box<Bindings> {
        let statics = b
            .entries
            .into_iter()
            .map(|(name, entry)| {
                let value = match entry {
                    Entry::Value(v) => v,
                    Entry::Nested(n) => BindingValue::Expr(self.finish_nested(*n)),
                };
                (name, value)
            })
            .collect();
        Box::new(Bindings {
            statics,
            inherit_froms: b.inherit_froms.into(),
            dynamics: b.dynamics.into(),
        })
    }
}

/// `expr` with its expression and name ids renumbered.
fn shift_expr(expr: &Expr, e: &impl Fn(ExprId) -> ExprId, n: &impl Fn(NameId) -> NameId) -> Expr {
    let list = |xs: &[ExprId]| xs.iter().map(|x| e(*x)).collect();
    let bindings = |b: &Bindings| Bindings {
        statics: b
            .statics
            .iter()
            .map(|(name, v)| {
                let v = match v {
                    BindingValue::Inherit(x) => BindingValue::Inherit(e(*x)),
                    BindingValue::InheritFrom(i) => BindingValue::InheritFrom(*i),
                    BindingValue::Expr(x) => BindingValue::Expr(e(*x)),
                };
                (n(*name), v)
            })
            .collect(),
        inherit_froms: list(&b.inherit_froms),
        dynamics: b.dynamics.iter().map(|(k, v)| (e(*k), e(*v))).collect(),
    };
    match expr {
        Expr::Missing => Expr::Missing,
        Expr::Reference(name) => Expr::Reference(name.clone()),
        Expr::Literal(l) => Expr::Literal(l.clone()),
        Expr::CurPos => Expr::CurPos,
        Expr::Lambda(param, pat, body) => Expr::Lambda(
            param.map(n),
            pat.as_ref().map(|p| {
                Box::new(Pat {
                    fields: p
                        .fields
                        .iter()
                        .map(|(name, d)| (n(*name), d.map(e)))
                        .collect(),
                    ellipsis: p.ellipsis,
                })
            }),
            e(*body),
        ),
        Expr::With(a, b) => Expr::With(e(*a), e(*b)),
        Expr::Assert(a, b) => Expr::Assert(e(*a), e(*b)),
        Expr::IfThenElse(a, b, c) => Expr::IfThenElse(e(*a), e(*b), e(*c)),
        Expr::Apply(a, b) => Expr::Apply(e(*a), e(*b)),
        Expr::Binary(op, a, b) => Expr::Binary(*op, e(*a), e(*b)),
        Expr::Unary(op, a) => Expr::Unary(*op, e(*a)),
        Expr::HasAttr(a, path) => Expr::HasAttr(e(*a), list(path)),
        Expr::Select(a, path, d) => Expr::Select(e(*a), list(path), d.map(e)),
        Expr::StringInterpolation(xs) => Expr::StringInterpolation(list(xs)),
        Expr::PathInterpolation(xs) => Expr::PathInterpolation(list(xs)),
        Expr::List(xs) => Expr::List(list(xs)),
        Expr::LetIn(b, body) => Expr::LetIn(Box::new(bindings(b)), e(*body)),
        Expr::Attrset(b) => Expr::Attrset(Box::new(bindings(b))),
        Expr::RecAttrset(b) => Expr::RecAttrset(Box::new(bindings(b))),
    }
}
