//! Lowering: the analyzer's typed syntax tree to the evaluator's IR, resolving
//! every lexical variable to a `(depth, slot)` pair.

use std::collections::HashMap;
use std::rc::Rc;

use strata_analyzer::syntax::ast::{self, AstNode, HasBindings};

use super::error::{other_error, Result};
use super::ir::{
    AttrKey, AttrsDef, BinOp, Binding, DynamicAttr, Expr, Formal, LambdaDef, Param, StaticAttr,
};
use super::source::{Pos, ShowPos};
use super::value::{Hint, Value};

/// One runtime frame as lowering sees it.
enum Scope {
    Frame(HashMap<Rc<str>, u32>),
    With,
}

/// Lowers one file (or `-E` string).
pub struct Lowerer<'a> {
    file: u32,
    /// Directory relative paths resolve against.
    base_dir: String,
    home: String,
    scopes: Vec<Scope>,
    _marker: std::marker::PhantomData<&'a ()>,
}

/// An attribute set (or `let`) while its bindings are being merged.
struct Pending {
    rec: bool,
    statics: Vec<(Rc<str>, PendingValue, Pos)>,
    dynamics: Vec<(ast::Expr, PendingValue, Pos)>,
    /// The `e` of each `inherit (e) ...;`, evaluated once into a hidden slot that every
    /// name of that clause selects from (as Nix shares it).
    sources: Vec<ast::Expr>,
    pos: Pos,
}

enum PendingValue {
    Expr(ast::Expr),
    Nested(Pending),
    Inherit(Rc<str>, Pos),
    /// An index into `Pending::sources`, the name, its position.
    InheritFrom(usize, Rc<str>, Pos),
}

thread_local! {
    /// Every name lowered on this thread, so that equal names share one allocation and
    /// attribute lookups can compare them by address (the set only holds distinct
    /// identifiers and attribute names of the code read, never values).
    static NAMES: std::cell::RefCell<std::collections::HashSet<Rc<str>>> = Default::default();
}

/// The shared copy of a name.
fn intern(name: &str) -> Rc<str> {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(n) = names.get(name) {
            return n.clone();
        }
        let n: Rc<str> = Rc::from(name);
        names.insert(n.clone());
        n
    })
}

impl<'a> Lowerer<'a> {
    /// `base_names` is the global frame; `extra` an optional frame above it (`scopedImport`).
    pub fn new(
        file: u32,
        base_dir: String,
        base_names: &[Rc<str>],
        extra: Option<&[Rc<str>]>,
    ) -> Lowerer<'a> {
        let mut scopes = vec![Scope::Frame(
            base_names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect(),
        )];
        if let Some(extra) = extra {
            scopes.push(Scope::Frame(
                extra
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), i as u32))
                    .collect(),
            ));
        }
        let home = std::env::var("HOME").unwrap_or_default();
        Lowerer {
            file,
            base_dir,
            home,
            scopes,
            _marker: std::marker::PhantomData,
        }
    }

    fn pos(&self, node: &impl AstNode) -> Pos {
        Pos {
            file: self.file,
            offset: u32::from(node.syntax().text_range().start()),
        }
    }

    fn missing(&self, what: &str, pos: Pos) -> Box<super::error::EvalError> {
        other_error(format!("syntax error: missing {what}"), pos)
    }

    fn resolve(&self, name: &str, pos: Pos) -> Result<Expr> {
        let mut withs = Vec::new();
        for (depth, scope) in self.scopes.iter().rev().enumerate() {
            match scope {
                Scope::Frame(names) => {
                    if let Some(slot) = names.get(name) {
                        return Ok(Expr::Var {
                            depth: depth as u32,
                            slot: *slot,
                        });
                    }
                }
                Scope::With => withs.push(depth as u32),
            }
        }
        if withs.is_empty() {
            return Err(other_error(format!("undefined variable '{name}'"), pos));
        }
        Ok(Expr::WithVar {
            name: intern(name),
            withs: withs.into_boxed_slice(),
            pos,
            hint: Hint::default(),
        })
    }

    /// Lowers an expression.
    pub fn lower(&mut self, e: &ast::Expr) -> Result<Rc<Expr>> {
        self.lower_named(e, None)
    }

    fn lower_opt(&mut self, e: Option<ast::Expr>, what: &str, pos: Pos) -> Result<Rc<Expr>> {
        match e {
            Some(e) => self.lower(&e),
            None => Err(self.missing(what, pos)),
        }
    }

    fn lower_named(&mut self, e: &ast::Expr, name: Option<Rc<str>>) -> Result<Rc<Expr>> {
        let pos = self.pos(e);
        Ok(Rc::new(match e {
            ast::Expr::Apply(a) => {
                let mut args = Vec::new();
                let mut cur = ast::Expr::Apply(a.clone());
                while let ast::Expr::Apply(app) = &cur {
                    let arg = app
                        .argument()
                        .ok_or_else(|| self.missing("argument", pos))?;
                    args.push(arg);
                    let f = app.lambda().ok_or_else(|| self.missing("function", pos))?;
                    cur = f;
                }
                let func = self.lower(&cur)?;
                args.reverse();
                let mut lowered = Vec::with_capacity(args.len());
                for a in &args {
                    lowered.push(self.lower(a)?);
                }
                Expr::Apply {
                    func,
                    args: lowered.into_boxed_slice(),
                    pos,
                }
            }
            ast::Expr::Assert(a) => {
                let c = a
                    .condition()
                    .ok_or_else(|| self.missing("condition", pos))?;
                let text: Rc<str> = Rc::from(c.syntax().text().to_string().as_str());
                let cond = self.lower(&c)?;
                let body = self.lower_opt(a.body(), "body", pos)?;
                Expr::Assert {
                    cond,
                    body,
                    pos,
                    text,
                }
            }
            ast::Expr::AttrSet(s) => {
                let mut p = Pending {
                    rec: s.is_rec(),
                    statics: Vec::new(),
                    dynamics: Vec::new(),
                    sources: Vec::new(),
                    pos,
                };
                self.collect_bindings(&mut p, s.bindings(), false)?;
                self.lower_pending(p)?
            }
            ast::Expr::BinOp(b) => {
                let op = b.operator().ok_or_else(|| self.missing("operator", pos))?;
                let opos = b
                    .operator_token()
                    .map(|t| Pos {
                        file: self.file,
                        offset: u32::from(t.text_range().start()),
                    })
                    .unwrap_or(pos);
                let lhs = self.lower_opt(b.lhs(), "operand", pos)?;
                let rhs = self.lower_opt(b.rhs(), "operand", pos)?;
                use ast::BinaryOp as B;
                let op = match op {
                    B::Implication => BinOp::Impl,
                    B::Or => BinOp::Or,
                    B::And => BinOp::And,
                    B::Equal => BinOp::Eq,
                    B::NotEqual => BinOp::Neq,
                    B::Less => BinOp::Lt,
                    B::LessOrEq => BinOp::Le,
                    B::More => BinOp::Gt,
                    B::MoreOrEq => BinOp::Ge,
                    B::Update => BinOp::Update,
                    B::Add => BinOp::Add,
                    B::Sub => BinOp::Sub,
                    B::Mul => BinOp::Mul,
                    B::Div => BinOp::Div,
                    B::Concat => BinOp::Concat,
                };
                Expr::Bin {
                    op,
                    lhs,
                    rhs,
                    pos: opos,
                }
            }
            ast::Expr::HasAttr(h) => {
                let expr = self.lower_opt(h.expr(), "expression", pos)?;
                let path = self.attrpath(h.attrpath(), pos)?;
                Expr::HasAttr { expr, path }
            }
            ast::Expr::Ident(i) => self.resolve(&i.name(), pos)?,
            ast::Expr::IfElse(i) => Expr::If {
                cond: self.lower_opt(i.condition(), "condition", pos)?,
                then: self.lower_opt(i.body(), "then branch", pos)?,
                else_: self.lower_opt(i.else_body(), "else branch", pos)?,
                pos,
            },
            ast::Expr::Lambda(l) => Expr::Lambda(self.lower_lambda(l, name, pos)?),
            ast::Expr::LegacyLet(l) => {
                let mut p = Pending {
                    rec: true,
                    statics: Vec::new(),
                    dynamics: Vec::new(),
                    sources: Vec::new(),
                    pos,
                };
                self.collect_bindings(&mut p, l.bindings(), false)?;
                let set = self.lower_pending(p)?;
                Expr::Select {
                    expr: Rc::new(set),
                    path: vec![AttrKey::Static(intern("body"), Hint::default())].into_boxed_slice(),
                    default: None,
                    pos,
                }
            }
            ast::Expr::LetIn(l) => {
                let mut p = Pending {
                    rec: true,
                    statics: Vec::new(),
                    dynamics: Vec::new(),
                    sources: Vec::new(),
                    pos,
                };
                self.collect_bindings(&mut p, l.bindings(), true)?;
                let names: HashMap<Rc<str>, u32> = p
                    .statics
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _, _))| (n.clone(), i as u32))
                    .collect();
                self.scopes.push(Scope::Frame(names));
                let r = (|| -> Result<Expr> {
                    let src_base = p.statics.len() as u32;
                    let mut bindings = Vec::with_capacity(p.statics.len() + p.sources.len());
                    for (name, v, _) in p.statics {
                        bindings.push(self.lower_binding_value(v, Some(name), true, src_base)?);
                    }
                    // Hidden slots after the named ones: the `inherit (e)` sources.
                    for src in &p.sources {
                        bindings.push(Binding {
                            value: self.lower(src)?,
                            outer: false,
                        });
                    }
                    let body = self.lower_opt(l.body(), "body", pos)?;
                    Ok(Expr::Let {
                        bindings: bindings.into_boxed_slice(),
                        body,
                    })
                })();
                self.scopes.pop();
                r?
            }
            ast::Expr::List(l) => {
                let mut items = Vec::new();
                for i in l.items() {
                    items.push(self.lower(&i)?);
                }
                Expr::List(items.into_boxed_slice())
            }
            ast::Expr::Literal(l) => match l.kind() {
                Some(ast::LiteralKind::Int) => Expr::Const(Value::Int(
                    l.int_value()
                        .ok_or_else(|| other_error("invalid integer literal", pos))?,
                )),
                Some(ast::LiteralKind::Float) => Expr::Const(Value::Float(
                    l.float_value()
                        .ok_or_else(|| other_error("invalid float literal", pos))?,
                )),
                _ => Expr::Const(Value::string(l.syntax().text().to_string())),
            },
            ast::Expr::Paren(p) => {
                return self.lower_named(
                    &p.expr().ok_or_else(|| self.missing("expression", pos))?,
                    name,
                )
            }
            ast::Expr::Path(p) => self.lower_path(p, pos)?,
            ast::Expr::Select(s) => {
                let expr = self.lower_opt(s.expr(), "expression", pos)?;
                let path = self.attrpath(s.attrpath(), pos)?;
                let default = match s.default_expr() {
                    Some(d) => Some(self.lower(&d)?),
                    None => None,
                };
                Expr::Select {
                    expr,
                    path,
                    default,
                    pos,
                }
            }
            ast::Expr::Str(s) => {
                let parts = s.normalized_parts();
                if parts
                    .iter()
                    .any(|p| matches!(p, ast::StrPart::Literal(t) if t.contains('\0')))
                {
                    let raw = s.syntax().text().to_string();
                    let inner = if s.is_indented() {
                        &raw[2..raw.len().saturating_sub(2).max(2)]
                    } else {
                        &raw[1..raw.len().saturating_sub(1).max(1)]
                    };
                    return Err(other_error(
                        format!(
                            "input string '{}' cannot be represented as Nix string because it contains null bytes",
                            inner.replace('\0', "␀")
                        ),
                        pos,
                    ));
                }
                match parts.as_slice() {
                    [] => Expr::Const(Value::string("")),
                    [ast::StrPart::Literal(t)] => Expr::Const(Value::string(t.as_str())),
                    _ => {
                        let mut out = Vec::new();
                        for part in parts {
                            match part {
                                ast::StrPart::Literal(t) => {
                                    out.push(Rc::new(Expr::Const(Value::string(t))))
                                }
                                ast::StrPart::Interpolation(i) => {
                                    let ipos = self.pos(&i);
                                    out.push(self.lower_opt(i.expr(), "interpolation", ipos)?)
                                }
                            }
                        }
                        Expr::Interp {
                            parts: out.into_boxed_slice(),
                            is_path: false,
                            pos,
                        }
                    }
                }
            }
            ast::Expr::UnaryOp(u) => {
                let x = self.lower_opt(u.expr(), "operand", pos)?;
                match u.operator() {
                    Some(ast::UnaryOpKind::Invert) => Expr::Not(x, pos),
                    _ => Expr::Neg(x, pos),
                }
            }
            ast::Expr::With(w) => {
                let attrs = self.lower_opt(w.namespace(), "namespace", pos)?;
                self.scopes.push(Scope::With);
                let body = self.lower_opt(w.body(), "body", pos);
                self.scopes.pop();
                Expr::With {
                    attrs,
                    body: body?,
                    pos,
                }
            }
            ast::Expr::CurPos(_) => Expr::CurPos(pos),
        }))
    }

    fn lower_path(&mut self, p: &ast::Path, pos: Pos) -> Result<Expr> {
        let kind = p.kind().ok_or_else(|| self.missing("path", pos))?;
        if kind == ast::PathKind::Search {
            let name = p.search_path().unwrap_or_default();
            let find = self.resolve("__findFile", pos)?;
            let nix_path = self.resolve("__nixPath", pos)?;
            return Ok(Expr::Apply {
                func: Rc::new(find),
                args: vec![Rc::new(nix_path), Rc::new(Expr::Const(Value::string(name)))]
                    .into_boxed_slice(),
                pos,
            });
        }
        let parts = p.parts();
        let (home, base_dir) = (self.home.clone(), self.base_dir.clone());
        let absolutize = move |lit: &str| -> String {
            match kind {
                ast::PathKind::Absolute => lit.to_string(),
                ast::PathKind::Home => format!("{}{}", home, &lit[1..]),
                _ => format!("{}/{}", base_dir, lit),
            }
        };
        match parts.as_slice() {
            [ast::PathPart::Literal(lit)] => {
                let abs = super::builtins::paths::canon_path(&absolutize(lit));
                Ok(Expr::Const(Value::path(abs)))
            }
            _ => {
                let mut out = Vec::new();
                for (i, part) in parts.into_iter().enumerate() {
                    match part {
                        ast::PathPart::Literal(lit) => {
                            let v = if i == 0 {
                                Value::path(absolutize(&lit))
                            } else {
                                Value::string(lit)
                            };
                            out.push(Rc::new(Expr::Const(v)));
                        }
                        ast::PathPart::Interpolation(it) => {
                            let ipos = self.pos(&it);
                            out.push(self.lower_opt(it.expr(), "interpolation", ipos)?);
                        }
                    }
                }
                Ok(Expr::Interp {
                    parts: out.into_boxed_slice(),
                    is_path: true,
                    pos,
                })
            }
        }
    }

    fn lower_lambda(
        &mut self,
        l: &ast::Lambda,
        name: Option<Rc<str>>,
        pos: Pos,
    ) -> Result<Rc<LambdaDef>> {
        let param = l.param().ok_or_else(|| self.missing("parameter", pos))?;
        match param {
            ast::Param::IdentParam(ip) => {
                let ident = ip.ident().ok_or_else(|| self.missing("parameter", pos))?;
                let n: Rc<str> = intern(ident.name().as_str());
                let mut names = HashMap::new();
                names.insert(n.clone(), 0);
                self.scopes.push(Scope::Frame(names));
                let body = self.lower_opt(l.body(), "body", pos);
                self.scopes.pop();
                Ok(Rc::new(LambdaDef {
                    name,
                    pos,
                    arg_name: Some(n),
                    param: Param::Ident,
                    body: body?,
                }))
            }
            ast::Param::Pattern(pat) => {
                let entries: Vec<ast::PatEntry> = pat.pat_entries().collect();
                let mut names = HashMap::new();
                let mut formal_names = Vec::new();
                for (i, e) in entries.iter().enumerate() {
                    let id = e.ident().ok_or_else(|| self.missing("formal", pos))?;
                    let n: Rc<str> = intern(id.name().as_str());
                    if names.insert(n.clone(), i as u32).is_some() {
                        return Err(other_error(
                            format!("duplicate formal function argument '{n}'"),
                            self.pos(e),
                        ));
                    }
                    formal_names.push((n, self.pos(&id)));
                }
                let at_name: Option<Rc<str>> = pat
                    .pat_bind()
                    .and_then(|b| b.ident())
                    .map(|i| intern(i.name().as_str()));
                if let Some(a) = &at_name {
                    if names.contains_key(a) {
                        return Err(other_error(
                            format!("duplicate formal function argument '{a}'"),
                            pos,
                        ));
                    }
                    names.insert(a.clone(), entries.len() as u32);
                }
                self.scopes.push(Scope::Frame(names));
                let r = (|| -> Result<(Vec<Formal>, Rc<Expr>)> {
                    let mut formals = Vec::new();
                    for (e, (n, fpos)) in entries.iter().zip(formal_names) {
                        let default = match e.default() {
                            Some(d) => Some(self.lower(&d)?),
                            None => None,
                        };
                        formals.push(Formal {
                            name: n,
                            hint: Hint::default(),
                            default,
                            pos: fpos,
                        });
                    }
                    let body = self.lower_opt(l.body(), "body", pos)?;
                    Ok((formals, body))
                })();
                self.scopes.pop();
                let (formals, body) = r?;
                let at = at_name.is_some();
                Ok(Rc::new(LambdaDef {
                    name,
                    pos,
                    arg_name: at_name,
                    param: Param::Pattern {
                        formals,
                        ellipsis: pat.has_ellipsis(),
                        at,
                    },
                    body,
                }))
            }
        }
    }

    fn attrpath(&mut self, p: Option<ast::Attrpath>, pos: Pos) -> Result<Box<[AttrKey]>> {
        let p = p.ok_or_else(|| self.missing("attribute path", pos))?;
        let mut out = Vec::new();
        for a in p.attrs() {
            out.push(self.attr_key(&a)?);
        }
        Ok(out.into_boxed_slice())
    }

    fn attr_key(&mut self, a: &ast::Attr) -> Result<AttrKey> {
        if let Some(n) = a.static_name() {
            return Ok(AttrKey::Static(intern(n.as_str()), Hint::default()));
        }
        let pos = self.pos(a);
        let e = match a {
            ast::Attr::Dynamic(d) => self.lower_opt(d.expr(), "attribute name", pos)?,
            ast::Attr::Str(s) => self.lower(&ast::Expr::Str(s.clone()))?,
            ast::Attr::Ident(i) => Rc::new(Expr::Const(Value::string(i.name()))),
        };
        Ok(AttrKey::Dynamic(e, pos))
    }

    /// The name expression of a dynamic attribute, as an AST expression.
    fn dynamic_name_expr(a: &ast::Attr) -> Option<ast::Expr> {
        match a {
            ast::Attr::Dynamic(d) => d.expr(),
            ast::Attr::Str(s) => Some(ast::Expr::Str(s.clone())),
            ast::Attr::Ident(_) => None,
        }
    }

    /// Merges bindings into `p` following Nix's rules for nested attribute paths.
    fn collect_bindings(
        &mut self,
        p: &mut Pending,
        bindings: Box<dyn Iterator<Item = ast::Binding>>,
        is_let: bool,
    ) -> Result<()> {
        for b in bindings {
            match b {
                ast::Binding::Inherit(inh) => {
                    let from = inh.from().and_then(|f| f.expr());
                    if inh.from().is_some() && from.is_none() {
                        return Err(self.missing("inherit source", self.pos(&inh)));
                    }
                    let src = from.map(|f| {
                        p.sources.push(f);
                        p.sources.len() - 1
                    });
                    for a in inh.attrs() {
                        let apos = self.pos(&a);
                        let Some(name) = a.static_name() else {
                            let msg = if is_let {
                                "dynamic attributes not allowed in let"
                            } else {
                                "dynamic attributes not allowed in inherit"
                            };
                            return Err(other_error(msg, apos));
                        };
                        let name: Rc<str> = intern(name.as_str());
                        if let Some((_, _, prev)) = p.statics.iter().find(|(n, _, _)| *n == name) {
                            return Err(other_error(
                                format!("attribute '{name}' already defined at {}", ShowPos(*prev)),
                                apos,
                            ));
                        }
                        let v = match src {
                            Some(i) => PendingValue::InheritFrom(i, name.clone(), apos),
                            None => PendingValue::Inherit(name.clone(), apos),
                        };
                        p.statics.push((name, v, apos));
                    }
                }
                ast::Binding::AttrpathValue(av) => {
                    let bpos = self.pos(&av);
                    let path: Vec<ast::Attr> = av
                        .attrpath()
                        .ok_or_else(|| self.missing("attribute path", bpos))?
                        .attrs()
                        .collect();
                    let value = av.value().ok_or_else(|| self.missing("value", bpos))?;
                    self.add_attr(p, &path, value, is_let)?;
                }
            }
        }
        Ok(())
    }

    fn add_attr(
        &mut self,
        p: &mut Pending,
        path: &[ast::Attr],
        value: ast::Expr,
        is_let: bool,
    ) -> Result<()> {
        let first = &path[0];
        let apos = self.pos(first);
        let Some(name) = first.static_name() else {
            if is_let {
                return Err(other_error("dynamic attributes not allowed in let", apos));
            }
            let name_expr = Self::dynamic_name_expr(first)
                .ok_or_else(|| self.missing("attribute name", apos))?;
            let v = if path.len() == 1 {
                PendingValue::Expr(value)
            } else {
                let mut nested = Pending {
                    rec: false,
                    statics: Vec::new(),
                    dynamics: Vec::new(),
                    sources: Vec::new(),
                    pos: apos,
                };
                self.add_attr(&mut nested, &path[1..], value, false)?;
                PendingValue::Nested(nested)
            };
            p.dynamics.push((name_expr, v, apos));
            return Ok(());
        };
        let name: Rc<str> = intern(name.as_str());
        let existing = p.statics.iter().position(|(n, _, _)| *n == name);
        if path.len() == 1 {
            match existing {
                None => {
                    p.statics.push((name, PendingValue::Expr(value), apos));
                }
                Some(i) => {
                    // `a.x = 1; a = { y = 2; };` merges when both are plain set literals.
                    let new_set = match strip_parens(&value) {
                        ast::Expr::AttrSet(s) if !s.is_rec() => Some(s),
                        _ => None,
                    };
                    let Some(new_set) = new_set else {
                        return Err(self.dup(&name, p.statics[i].2, apos));
                    };
                    let target = self.as_nested(&mut p.statics[i].1, &name, apos)?;
                    self.collect_bindings(target, new_set.bindings(), false)?;
                }
            }
            return Ok(());
        }
        let idx = match existing {
            Some(i) => i,
            None => {
                p.statics.push((
                    name.clone(),
                    PendingValue::Nested(Pending {
                        rec: false,
                        statics: Vec::new(),
                        dynamics: Vec::new(),
                        sources: Vec::new(),
                        pos: apos,
                    }),
                    apos,
                ));
                p.statics.len() - 1
            }
        };
        let prev = p.statics[idx].2;
        let target = match self.as_nested(&mut p.statics[idx].1, &name, apos) {
            Ok(t) => t,
            Err(_) => return Err(self.dup(&name, prev, apos)),
        };
        self.add_attr(target, &path[1..], value, false)
    }

    fn dup(&self, name: &str, prev: Pos, pos: Pos) -> Box<super::error::EvalError> {
        other_error(
            format!("attribute '{name}' already defined at {}", ShowPos(prev)),
            pos,
        )
    }

    /// Turns an existing binding into a nested set to merge into, if it is one.
    fn as_nested<'p>(
        &mut self,
        v: &'p mut PendingValue,
        name: &str,
        pos: Pos,
    ) -> Result<&'p mut Pending> {
        if let PendingValue::Expr(e) = v {
            if let ast::Expr::AttrSet(s) = strip_parens(e) {
                let spos = self.pos(&s);
                let mut nested = Pending {
                    rec: s.is_rec(),
                    statics: Vec::new(),
                    dynamics: Vec::new(),
                    sources: Vec::new(),
                    pos: spos,
                };
                self.collect_bindings(&mut nested, s.bindings(), false)?;
                *v = PendingValue::Nested(nested);
            }
        }
        match v {
            PendingValue::Nested(n) => Ok(n),
            _ => Err(other_error(
                format!("attribute '{name}' already defined"),
                pos,
            )),
        }
    }

    fn lower_binding_value(
        &mut self,
        v: PendingValue,
        name: Option<Rc<str>>,
        in_frame: bool,
        src_base: u32,
    ) -> Result<Binding> {
        Ok(match v {
            PendingValue::Expr(e) => Binding {
                value: self.lower_named(&e, name)?,
                outer: false,
            },
            PendingValue::Nested(n) => Binding {
                value: Rc::new(self.lower_pending(n)?),
                outer: false,
            },
            PendingValue::Inherit(n, pos) => {
                if in_frame {
                    // Resolve outside the frame being built.
                    let top = self.scopes.pop().expect("frame pushed by caller");
                    let r = self.resolve(&n, pos);
                    self.scopes.push(top);
                    Binding {
                        value: Rc::new(r?),
                        outer: true,
                    }
                } else {
                    Binding {
                        value: Rc::new(self.resolve(&n, pos)?),
                        outer: false,
                    }
                }
            }
            PendingValue::InheritFrom(i, n, pos) => {
                // The source sits in a hidden slot of the innermost frame.
                let from = Rc::new(Expr::Var {
                    depth: 0,
                    slot: src_base + i as u32,
                });
                Binding {
                    value: Rc::new(Expr::Select {
                        expr: from,
                        path: vec![AttrKey::Static(n, Hint::default())].into_boxed_slice(),
                        default: None,
                        pos,
                    }),
                    outer: false,
                }
            }
        })
    }

    fn lower_pending(&mut self, mut p: Pending) -> Result<Expr> {
        p.statics.sort_by(|a, b| a.0.cmp(&b.0));
        let rec = p.rec;
        // Non-recursive sets evaluate `inherit (e)` sources outside the set: they get a
        // frame of their own around it (only when there are any).
        let mut outer_sources = Vec::new();
        if !rec {
            for src in &p.sources {
                outer_sources.push(Binding {
                    value: self.lower(src)?,
                    outer: true,
                });
            }
        }
        let wrap = !outer_sources.is_empty();
        if rec {
            let names: HashMap<Rc<str>, u32> = p
                .statics
                .iter()
                .enumerate()
                .map(|(i, (n, _, _))| (n.clone(), i as u32))
                .collect();
            self.scopes.push(Scope::Frame(names));
        } else if wrap {
            self.scopes.push(Scope::Frame(HashMap::new()));
        }
        let src_base = if rec { p.statics.len() as u32 } else { 0 };
        let r = (|| -> Result<Expr> {
            let mut statics = Vec::with_capacity(p.statics.len());
            for (name, v, pos) in p.statics {
                let b = self.lower_binding_value(v, Some(name.clone()), rec, src_base)?;
                statics.push(StaticAttr {
                    name,
                    value: b.value,
                    outer: b.outer,
                    pos,
                });
            }
            let mut dynamics = Vec::with_capacity(p.dynamics.len());
            for (n, v, pos) in p.dynamics {
                let name = self.lower(&n)?;
                let value = self.lower_binding_value(v, None, false, src_base)?.value;
                dynamics.push(DynamicAttr { name, value, pos });
            }
            let mut sources = Vec::new();
            if rec {
                for src in &p.sources {
                    sources.push(self.lower(src)?);
                }
            }
            Ok(Expr::Attrs(Box::new(AttrsDef {
                rec,
                statics,
                dynamics,
                sources,
                pos: p.pos,
            })))
        })();
        if rec || wrap {
            self.scopes.pop();
        }
        let attrs = r?;
        if wrap {
            return Ok(Expr::Let {
                bindings: outer_sources.into_boxed_slice(),
                body: Rc::new(attrs),
            });
        }
        Ok(attrs)
    }
}

fn strip_parens(e: &ast::Expr) -> ast::Expr {
    let mut e = e.clone();
    while let ast::Expr::Paren(p) = &e {
        match p.expr() {
            Some(x) => e = x,
            None => break,
        }
    }
    e
}
