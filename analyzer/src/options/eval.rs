//! A small, lazy, forgiving interpreter for the part of Nix that option declarations use.
//!
//! Module files compute their option trees with ordinary Nix (`mapAttrs` over a table of
//! browsers, `genAttrs`, helper functions from the tree's own `lib`), so a purely
//! syntactic walk misses many options. This interpreter evaluates just enough: anything it
//! cannot know (`pkgs`, `config`, a missing builtin, an error) becomes [`Value::Unknown`]
//! and evaluation goes on. It never fails and never panics; runaway recursion and loops are
//! cut off by a depth limit and a step budget. Library functions of nixpkgs' `lib` are
//! built in ([`super::prims`]); everything else is evaluated from source.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use rowan::TextRange;

use crate::syntax;
use crate::syntax::ast::{self, AstNode, HasBindings};

use super::prims::Prim;
use super::schema::{Segment, TypeShape};

/// What the extractor reads the source tree through: the caller does the IO.
pub trait SourceTree {
    /// The text of a file (absolute, normalised path), if it exists.
    fn read_file(&self, path: &str) -> Option<Arc<str>>;
    /// The entries of a directory with whether each is a directory, if it is one.
    fn read_dir(&self, path: &str) -> Option<Vec<(String, bool)>>;
}

/// Index of a loaded file.
pub(crate) type FileId = u32;
/// Index of a thunk in the evaluator's arena.
pub(crate) type ThunkId = u32;
/// Index of a scope in the evaluator's arena.
pub(crate) type EnvId = u32;

/// A source position: file and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub file: FileId,
    pub range: TextRange,
}

/// A value. Cheap to clone.
#[derive(Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Path(Rc<str>),
    List(Rc<Vec<ThunkId>>),
    Attrs(Rc<Attrs>),
    Lambda(Rc<Closure>),
    Prim(Rc<PrimApp>),
    Type(Rc<Type>),
    /// What a `getSubOptions` of a built-in type returns: "the options of this type below
    /// this prefix", resolved by the extractor.
    SubOptions(Rc<Type>, Rc<Vec<Segment>>),
    Unknown,
}

/// An attribute set. `open` sets (like `pkgs` or `config`) answer Unknown for missing names.
#[derive(Clone, Default)]
pub(crate) struct Attrs {
    pub entries: BTreeMap<Rc<str>, Entry>,
    pub open: bool,
    /// Where the set was made (for `mkOption`: the call).
    pub pos: Option<Pos>,
}

/// One attribute: its value and where its name is written.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    pub value: ThunkId,
    pub pos: Option<Pos>,
}

pub(crate) struct Closure {
    pub lambda: ast::Lambda,
    pub env: EnvId,
    pub file: FileId,
}

/// A built-in function, possibly partially applied.
pub(crate) struct PrimApp {
    pub prim: Prim,
    pub args: Vec<ThunkId>,
    pub site: Option<Pos>,
}

/// How a type's description reads inside another's (`optionDescriptionPhrase`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Class {
    Noun,
    Composite,
    Conjunction,
    NonRestrictive,
    None,
}

/// An option type.
#[derive(Clone)]
pub(crate) struct Type {
    pub name: Rc<str>,
    pub description: Rc<str>,
    pub class: Class,
    pub shape: TypeShape,
    pub sub: SubOptions,
}

/// Where a type's sub-options come from.
#[derive(Clone)]
pub(crate) enum SubOptions {
    None,
    /// A submodule: its modules and special arguments.
    Modules {
        modules: Vec<ThunkId>,
        special_args: Option<ThunkId>,
    },
    /// Those of an element type, below an extra segment (`<name>`, `*`) or none.
    Elem(Rc<Type>, Option<Segment>),
    /// A type made with `mkOptionType { getSubOptions = prefix: …; }`.
    Custom(ThunkId),
}

enum ThunkState {
    Expr(ast::Expr, EnvId, FileId),
    Apply(ThunkId, ThunkId),
    Select(ThunkId, Rc<str>),
    Lookup(Rc<str>, EnvId),
    Forcing,
    Done(Value),
}

struct Thunk {
    state: ThunkState,
    origin: Option<Pos>,
}

#[derive(Default)]
struct Env {
    vars: HashMap<Rc<str>, ThunkId>,
    with: Option<ThunkId>,
    parent: Option<EnvId>,
}

/// A parsed file.
pub(crate) struct File {
    pub path: String,
    pub text: Arc<str>,
    root: Option<ast::Expr>,
}

/// Deepest nesting of forcing before giving up on a value.
const MAX_DEPTH: u32 = 400;
/// Evaluation steps for one extraction; generous, but bounds pathological trees.
const FUEL: u64 = 200_000_000;

/// The interpreter: arenas of thunks and scopes, loaded files and the import cache.
pub(crate) struct Evaluator<'s> {
    pub source: &'s dyn SourceTree,
    pub files: Vec<File>,
    file_ids: HashMap<String, FileId>,
    imports: HashMap<String, ThunkId>,
    thunks: Vec<Thunk>,
    envs: Vec<Env>,
    depth: u32,
    fuel: u64,
    base_env: EnvId,
    /// `lib`, as passed to modules.
    pub lib: ThunkId,
    /// `builtins`.
    pub builtins: ThunkId,
    /// Values for `<name>` search paths (`<nixpkgs>`).
    pub search_path: HashMap<String, String>,
}

impl<'s> Evaluator<'s> {
    /// An evaluator reading files through `source`.
    pub fn new(source: &'s dyn SourceTree) -> Evaluator<'s> {
        let mut ev = Evaluator {
            source,
            files: Vec::new(),
            file_ids: HashMap::new(),
            imports: HashMap::new(),
            thunks: Vec::new(),
            envs: vec![Env::default()],
            depth: 0,
            fuel: FUEL,
            base_env: 0,
            lib: 0,
            builtins: 0,
            search_path: HashMap::new(),
        };
        let builtins = super::prims::builtins_set(&mut ev);
        ev.builtins = ev.value_thunk(builtins.clone());
        let lib = super::prims::lib_set(&mut ev);
        ev.lib = ev.value_thunk(lib);
        let mut vars = HashMap::new();
        vars.insert(Rc::from("builtins"), ev.builtins);
        vars.insert(Rc::from("true"), ev.value_thunk(Value::Bool(true)));
        vars.insert(Rc::from("false"), ev.value_thunk(Value::Bool(false)));
        vars.insert(Rc::from("null"), ev.value_thunk(Value::Null));
        if let Value::Attrs(b) = &builtins {
            for name in super::prims::GLOBAL_BUILTINS {
                if let Some(e) = b.entries.get(*name) {
                    vars.insert(Rc::from(*name), e.value);
                }
            }
        }
        ev.envs[0].vars = vars;
        ev
    }

    // ---- arenas -------------------------------------------------------------------

    /// A thunk already holding `v`.
    pub fn value_thunk(&mut self, v: Value) -> ThunkId {
        self.push_thunk(ThunkState::Done(v), None)
    }

    fn push_thunk(&mut self, state: ThunkState, origin: Option<Pos>) -> ThunkId {
        self.thunks.push(Thunk { state, origin });
        (self.thunks.len() - 1) as ThunkId
    }

    fn expr_thunk(&mut self, e: ast::Expr, env: EnvId, file: FileId) -> ThunkId {
        let origin = Some(Pos {
            file,
            range: e.syntax().text_range(),
        });
        // Constants need no suspension.
        self.push_thunk(ThunkState::Expr(e, env, file), origin)
    }

    /// Replaces a thunk's value (for values that refer to themselves, like an extended `lib`).
    pub fn set_thunk(&mut self, t: ThunkId, v: Value) {
        self.thunks[t as usize].state = ThunkState::Done(v);
    }

    /// A suspended application `f x`.
    pub fn apply_thunk(&mut self, f: ThunkId, x: ThunkId) -> ThunkId {
        self.push_thunk(ThunkState::Apply(f, x), None)
    }

    /// A suspended selection `t.name`.
    pub fn select_thunk(&mut self, t: ThunkId, name: Rc<str>) -> ThunkId {
        self.push_thunk(ThunkState::Select(t, name), None)
    }

    fn new_env(&mut self, parent: EnvId) -> EnvId {
        self.envs.push(Env {
            parent: Some(parent),
            ..Env::default()
        });
        (self.envs.len() - 1) as EnvId
    }

    /// The source expression a thunk was made from, if it was.
    pub fn origin(&self, t: ThunkId) -> Option<Pos> {
        self.thunks[t as usize].origin
    }

    /// The source text at a position.
    pub fn text_at(&self, pos: Pos) -> Option<&str> {
        self.files
            .get(pos.file as usize)
            .and_then(|f| f.text.get(std::ops::Range::<usize>::from(pos.range)))
    }

    // ---- forcing ------------------------------------------------------------------

    /// Evaluates a thunk to weak head normal form.
    pub fn force(&mut self, t: ThunkId) -> Value {
        let state = std::mem::replace(&mut self.thunks[t as usize].state, ThunkState::Forcing);
        let v = match state {
            ThunkState::Done(v) => {
                self.thunks[t as usize].state = ThunkState::Done(v.clone());
                return v;
            }
            // Infinite recursion in Nix; here simply not knowable.
            ThunkState::Forcing => return Value::Unknown,
            ThunkState::Expr(e, env, file) => self.guarded(|ev| ev.eval(&e, env, file)),
            ThunkState::Apply(f, x) => self.guarded(|ev| {
                let fv = ev.force(f);
                ev.apply(fv, x, None)
            }),
            ThunkState::Select(s, name) => self.guarded(|ev| {
                let sv = ev.force(s);
                ev.select(&sv, &name).unwrap_or(Value::Unknown)
            }),
            ThunkState::Lookup(name, env) => self.guarded(|ev| ev.lookup(&name, env)),
        };
        self.thunks[t as usize].state = ThunkState::Done(v.clone());
        v
    }

    fn guarded(&mut self, f: impl FnOnce(&mut Self) -> Value) -> Value {
        if self.depth >= MAX_DEPTH || self.fuel == 0 {
            return Value::Unknown;
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    /// Forces a value and, for lists and sets, their elements (bounded), like `deepSeq`.
    pub fn force_attrs(&mut self, t: ThunkId) -> Option<Rc<Attrs>> {
        match self.force(t) {
            Value::Attrs(a) => Some(a),
            _ => None,
        }
    }

    /// Forces to a string (strings and paths), if known.
    pub fn force_str(&mut self, t: ThunkId) -> Option<Rc<str>> {
        match self.force(t) {
            Value::Str(s) | Value::Path(s) => Some(s),
            _ => None,
        }
    }

    /// Forces to a list of thunks, if it is one.
    pub fn force_list(&mut self, t: ThunkId) -> Option<Rc<Vec<ThunkId>>> {
        match self.force(t) {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    // ---- files --------------------------------------------------------------------

    /// Loads and parses a file once; `None` when it cannot be read.
    pub fn load(&mut self, path: &str) -> Option<FileId> {
        if let Some(&id) = self.file_ids.get(path) {
            return Some(id);
        }
        let text = self.source.read_file(path)?;
        let parse = syntax::parse(&text);
        let root = parse.root().expr();
        let id = self.files.len() as FileId;
        self.files.push(File {
            path: path.to_owned(),
            text,
            root,
        });
        self.file_ids.insert(path.to_owned(), id);
        Some(id)
    }

    /// `import path`: the file's value (a directory means its `default.nix`), cached.
    pub fn import(&mut self, path: &str) -> Value {
        let t = self.import_thunk(path);
        self.force(t)
    }

    /// The (suspended) value of a file, cached per path.
    pub fn import_thunk(&mut self, path: &str) -> ThunkId {
        if let Some(&t) = self.imports.get(path) {
            return t;
        }
        let file_path = self.resolve_file(path);
        let t = match file_path.and_then(|p| self.load(&p)) {
            Some(id) => match self.files[id as usize].root.clone() {
                Some(e) => self.expr_thunk(e, self.base_env, id),
                None => self.value_thunk(Value::Unknown),
            },
            None => self.value_thunk(Value::Unknown),
        };
        self.imports.insert(path.to_owned(), t);
        t
    }

    /// A path as a file: itself, or `default.nix` inside it when it is a directory.
    pub fn resolve_file(&self, path: &str) -> Option<String> {
        if self.source.read_dir(path).is_some() {
            Some(format!("{}/default.nix", path.trim_end_matches('/')))
        } else {
            Some(path.to_owned())
        }
    }

    /// The file id of a loaded path.
    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.file_ids.get(path).copied()
    }

    // ---- evaluation ---------------------------------------------------------------

    fn tick(&mut self) -> bool {
        if self.fuel == 0 {
            return false;
        }
        self.fuel -= 1;
        true
    }

    fn eval(&mut self, e: &ast::Expr, env: EnvId, file: FileId) -> Value {
        if !self.tick() {
            return Value::Unknown;
        }
        match e {
            ast::Expr::Paren(p) => match p.expr() {
                Some(inner) => self.eval(&inner, env, file),
                None => Value::Unknown,
            },
            ast::Expr::Literal(l) => match l.kind() {
                Some(ast::LiteralKind::Int) => l.int_value().map_or(Value::Unknown, Value::Int),
                Some(ast::LiteralKind::Float) => {
                    l.float_value().map_or(Value::Unknown, Value::Float)
                }
                Some(ast::LiteralKind::Uri) => l
                    .token()
                    .map_or(Value::Unknown, |t| Value::Str(Rc::from(t.text()))),
                None => Value::Unknown,
            },
            ast::Expr::Str(s) => self.eval_str(s, env, file),
            ast::Expr::Path(p) => self.eval_path(p, env, file),
            ast::Expr::Ident(i) => self.lookup(&i.name(), env),
            ast::Expr::Select(s) => self.eval_select(s, env, file),
            ast::Expr::HasAttr(h) => {
                let Some(base) = h.expr() else {
                    return Value::Unknown;
                };
                let mut v = self.eval(&base, env, file);
                let Some(path) = h.attrpath() else {
                    return Value::Unknown;
                };
                for attr in path.attrs() {
                    let Some(name) = self.attr_name(&attr, env, file) else {
                        return Value::Unknown;
                    };
                    match &v {
                        Value::Attrs(a) => match a.entries.get(name.as_ref()) {
                            Some(entry) => v = self.force(entry.value),
                            None if a.open => return Value::Unknown,
                            None => return Value::Bool(false),
                        },
                        Value::Unknown => return Value::Unknown,
                        _ => return Value::Bool(false),
                    }
                }
                Value::Bool(true)
            }
            ast::Expr::Apply(a) => {
                let (Some(f), Some(x)) = (a.lambda(), a.argument()) else {
                    return Value::Unknown;
                };
                let fv = self.eval(&f, env, file);
                let xt = self.expr_thunk(x, env, file);
                let site = Some(Pos {
                    file,
                    range: a.syntax().text_range(),
                });
                self.apply(fv, xt, site)
            }
            ast::Expr::Lambda(l) => Value::Lambda(Rc::new(Closure {
                lambda: l.clone(),
                env,
                file,
            })),
            ast::Expr::LetIn(l) => {
                let inner = self.new_env(env);
                let set = self.build_bindings(l, inner, env, inner, file);
                for (name, entry) in set.entries.iter() {
                    self.envs[inner as usize]
                        .vars
                        .insert(name.clone(), entry.value);
                }
                match l.body() {
                    Some(b) => self.eval(&b, inner, file),
                    None => Value::Unknown,
                }
            }
            ast::Expr::AttrSet(s) => {
                if s.is_rec() {
                    let inner = self.new_env(env);
                    let set = self.build_bindings(s, inner, env, inner, file);
                    for (name, entry) in set.entries.iter() {
                        self.envs[inner as usize]
                            .vars
                            .insert(name.clone(), entry.value);
                    }
                    Value::Attrs(Rc::new(set))
                } else {
                    Value::Attrs(Rc::new(self.build_bindings(s, env, env, env, file)))
                }
            }
            ast::Expr::List(l) => {
                let items: Vec<ThunkId> =
                    l.items().map(|i| self.expr_thunk(i, env, file)).collect();
                Value::List(Rc::new(items))
            }
            ast::Expr::With(w) => {
                let Some(ns) = w.namespace() else {
                    return Value::Unknown;
                };
                let ns_t = self.expr_thunk(ns, env, file);
                let inner = self.new_env(env);
                self.envs[inner as usize].with = Some(ns_t);
                match w.body() {
                    Some(b) => self.eval(&b, inner, file),
                    None => Value::Unknown,
                }
            }
            ast::Expr::IfElse(i) => {
                let cond = match i.condition() {
                    Some(c) => self.eval(&c, env, file),
                    None => Value::Unknown,
                };
                match cond {
                    Value::Bool(true) => self.eval_opt(i.body(), env, file),
                    Value::Bool(false) => self.eval_opt(i.else_body(), env, file),
                    // Not knowable (often a platform test): prefer the `then` branch, which
                    // usually holds the declarations; fall back to `else`.
                    _ => match self.eval_opt(i.body(), env, file) {
                        Value::Unknown => self.eval_opt(i.else_body(), env, file),
                        v => v,
                    },
                }
            }
            ast::Expr::Assert(a) => self.eval_opt(a.body(), env, file),
            ast::Expr::UnaryOp(u) => {
                let v = self.eval_opt(u.expr(), env, file);
                match (u.operator(), v) {
                    (Some(ast::UnaryOpKind::Invert), Value::Bool(b)) => Value::Bool(!b),
                    (Some(ast::UnaryOpKind::Negate), Value::Int(n)) => Value::Int(n.wrapping_neg()),
                    (Some(ast::UnaryOpKind::Negate), Value::Float(n)) => Value::Float(-n),
                    _ => Value::Unknown,
                }
            }
            ast::Expr::BinOp(b) => self.eval_binop(b, env, file),
            ast::Expr::LegacyLet(_) | ast::Expr::CurPos(_) => Value::Unknown,
        }
    }

    fn eval_opt(&mut self, e: Option<ast::Expr>, env: EnvId, file: FileId) -> Value {
        match e {
            Some(e) => self.eval(&e, env, file),
            None => Value::Unknown,
        }
    }

    fn eval_str(&mut self, s: &ast::Str, env: EnvId, file: FileId) -> Value {
        let mut out = String::new();
        for part in s.normalized_parts() {
            match part {
                ast::StrPart::Literal(l) => out.push_str(&l),
                ast::StrPart::Interpolation(i) => {
                    let v = self.eval_opt(i.expr(), env, file);
                    match self.coerce_to_string(&v) {
                        Some(s) => out.push_str(&s),
                        None => return Value::Unknown,
                    }
                }
            }
        }
        Value::Str(Rc::from(out))
    }

    /// `"${v}"`: strings, paths, numbers and sets with `outPath`.
    pub fn coerce_to_string(&mut self, v: &Value) -> Option<String> {
        match v {
            Value::Str(s) | Value::Path(s) => Some(s.to_string()),
            Value::Int(n) => Some(n.to_string()),
            Value::Attrs(a) => {
                let out = a.entries.get("outPath")?.value;
                let v = self.force(out);
                self.coerce_to_string(&v)
            }
            _ => None,
        }
    }

    fn eval_path(&mut self, p: &ast::Path, env: EnvId, file: FileId) -> Value {
        let mut text = String::new();
        for part in p.parts() {
            match part {
                ast::PathPart::Literal(l) => text.push_str(&l),
                ast::PathPart::Interpolation(i) => {
                    let v = self.eval_opt(i.expr(), env, file);
                    match self.coerce_to_string(&v) {
                        Some(s) => text.push_str(&s),
                        None => return Value::Unknown,
                    }
                }
            }
        }
        match p.kind() {
            Some(ast::PathKind::Absolute) => Value::Path(Rc::from(normalize(&text))),
            Some(ast::PathKind::Relative) => {
                let dir = dir_of(&self.files[file as usize].path);
                Value::Path(Rc::from(normalize(&format!("{dir}/{text}"))))
            }
            Some(ast::PathKind::Search) => {
                let inner = text.trim_start_matches('<').trim_end_matches('>');
                let (head, rest) = inner.split_once('/').unwrap_or((inner, ""));
                match self.search_path.get(head) {
                    Some(base) if rest.is_empty() => Value::Path(Rc::from(base.as_str())),
                    Some(base) => Value::Path(Rc::from(normalize(&format!("{base}/{rest}")))),
                    None => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    fn eval_select(&mut self, s: &ast::Select, env: EnvId, file: FileId) -> Value {
        let base = self.eval_opt(s.expr(), env, file);
        let Some(path) = s.attrpath() else {
            return Value::Unknown;
        };
        let mut v = base;
        for attr in path.attrs() {
            let name = self.attr_name(&attr, env, file);
            let next = name.and_then(|n| self.select(&v, &n));
            match next {
                Some(n) => v = n,
                None => {
                    // A missing attribute: the `or` default, if any. (An unknown set or name
                    // is not "missing": the default would be a guess.)
                    let missing = matches!(&v, Value::Attrs(a) if !a.open);
                    return match s.default_expr() {
                        Some(d) if missing => self.eval(&d, env, file),
                        _ => Value::Unknown,
                    };
                }
            }
        }
        v
    }

    /// `v.name`: `None` when the attribute is known to be missing or not knowable.
    pub fn select(&mut self, v: &Value, name: &str) -> Option<Value> {
        match v {
            Value::Attrs(a) => match a.entries.get(name) {
                Some(e) => Some(self.force(e.value)),
                None if a.open => Some(Value::Unknown),
                None => None,
            },
            Value::Type(t) => Some(super::prims::type_attr(self, t, name)),
            Value::Unknown => Some(Value::Unknown),
            _ => None,
        }
    }

    /// The name an attribute path element stands for, if knowable.
    fn attr_name(&mut self, attr: &ast::Attr, env: EnvId, file: FileId) -> Option<Rc<str>> {
        if let Some(n) = attr.static_name() {
            return Some(Rc::from(n));
        }
        let v = match attr {
            ast::Attr::Dynamic(d) => self.eval_opt(d.expr(), env, file),
            ast::Attr::Str(s) => self.eval_str(s, env, file),
            ast::Attr::Ident(_) => return None,
        };
        match v {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Variable lookup: lexical bindings first, then `with` scopes innermost first.
    fn lookup(&mut self, name: &str, env: EnvId) -> Value {
        let mut e = Some(env);
        while let Some(id) = e {
            if let Some(&t) = self.envs[id as usize].vars.get(name) {
                return self.force(t);
            }
            e = self.envs[id as usize].parent;
        }
        let mut e = Some(env);
        while let Some(id) = e {
            if let Some(ns) = self.envs[id as usize].with {
                match self.force(ns) {
                    Value::Attrs(a) => {
                        if let Some(entry) = a.entries.get(name) {
                            return self.force(entry.value);
                        }
                        if a.open {
                            return Value::Unknown;
                        }
                    }
                    Value::Unknown => return Value::Unknown,
                    _ => {}
                }
            }
            e = self.envs[id as usize].parent;
        }
        Value::Unknown
    }

    /// Builds the set of a binding list. `rhs_env` evaluates values, `inherit_env` plain
    /// `inherit x` names, `dyn_env` dynamic names.
    fn build_bindings(
        &mut self,
        node: &impl HasBindings,
        rhs_env: EnvId,
        inherit_env: EnvId,
        dyn_env: EnvId,
        file: FileId,
    ) -> Attrs {
        let mut root = Builder::default();
        for binding in node.bindings() {
            match binding {
                ast::Binding::Inherit(inh) => {
                    let from = inh
                        .from()
                        .and_then(|f| f.expr())
                        .map(|e| self.expr_thunk(e, rhs_env, file));
                    for attr in inh.attrs() {
                        let Some(name) = attr.static_name() else {
                            continue;
                        };
                        let name: Rc<str> = Rc::from(name);
                        let t = match from {
                            Some(f) => self.select_thunk(f, name.clone()),
                            None => {
                                self.push_thunk(ThunkState::Lookup(name.clone(), inherit_env), None)
                            }
                        };
                        let pos = Some(Pos {
                            file,
                            range: attr.syntax().text_range(),
                        });
                        root.children.insert(name, BuilderNode::Leaf(t, pos));
                    }
                }
                ast::Binding::AttrpathValue(av) => {
                    let (Some(path), Some(value)) = (av.attrpath(), av.value()) else {
                        continue;
                    };
                    let mut names = Vec::new();
                    for attr in path.attrs() {
                        let Some(n) = self.attr_name(&attr, dyn_env, file) else {
                            names.clear();
                            break;
                        };
                        let pos = Pos {
                            file,
                            range: attr.syntax().text_range(),
                        };
                        names.push((n, pos));
                    }
                    if names.is_empty() {
                        continue;
                    }
                    root.insert(self, &names, value, rhs_env, file);
                }
            }
        }
        root.finish(self)
    }

    fn eval_binop(&mut self, b: &ast::BinOp, env: EnvId, file: FileId) -> Value {
        use ast::BinaryOp as B;
        let Some(op) = b.operator() else {
            return Value::Unknown;
        };
        let lhs = self.eval_opt(b.lhs(), env, file);
        match op {
            B::And => match lhs {
                Value::Bool(false) => return Value::Bool(false),
                Value::Bool(true) => return self.eval_opt(b.rhs(), env, file),
                _ => {
                    return match self.eval_opt(b.rhs(), env, file) {
                        Value::Bool(false) => Value::Bool(false),
                        _ => Value::Unknown,
                    }
                }
            },
            B::Or => match lhs {
                Value::Bool(true) => return Value::Bool(true),
                Value::Bool(false) => return self.eval_opt(b.rhs(), env, file),
                _ => {
                    return match self.eval_opt(b.rhs(), env, file) {
                        Value::Bool(true) => Value::Bool(true),
                        _ => Value::Unknown,
                    }
                }
            },
            B::Implication => match lhs {
                Value::Bool(false) => return Value::Bool(true),
                Value::Bool(true) => return self.eval_opt(b.rhs(), env, file),
                _ => return Value::Unknown,
            },
            _ => {}
        }
        let rhs = self.eval_opt(b.rhs(), env, file);
        self.binop(op, lhs, rhs)
    }

    /// A strict binary operator on two values.
    pub fn binop(&mut self, op: ast::BinaryOp, lhs: Value, rhs: Value) -> Value {
        use ast::BinaryOp as B;
        use Value as V;
        match (op, lhs, rhs) {
            (B::Update, V::Attrs(a), V::Attrs(b)) => {
                let mut out = (*a).clone();
                out.open = a.open || b.open;
                for (k, v) in b.entries.iter() {
                    out.entries.insert(k.clone(), *v);
                }
                V::Attrs(Rc::new(out))
            }
            (B::Update, V::Type(t), V::Attrs(b)) => super::prims::override_type(self, &t, &b),
            // Unknown sides of `//` and `++` are dropped: the known side is what declarations
            // need (`browserModule … // optionalAttrs isLinux { … }`).
            (B::Update, V::Unknown, x @ V::Attrs(_)) | (B::Update, x @ V::Attrs(_), V::Unknown) => {
                x
            }
            (B::Concat, V::List(a), V::List(b)) => {
                let mut out = (*a).clone();
                out.extend(b.iter().copied());
                V::List(Rc::new(out))
            }
            (B::Concat, V::Unknown, x @ V::List(_)) | (B::Concat, x @ V::List(_), V::Unknown) => x,
            (B::Add, V::Int(a), V::Int(b)) => V::Int(a.wrapping_add(b)),
            (B::Add, V::Float(a), V::Float(b)) => V::Float(a + b),
            (B::Add, V::Int(a), V::Float(b)) | (B::Add, V::Float(b), V::Int(a)) => {
                V::Float(a as f64 + b)
            }
            (B::Add, V::Str(a), V::Str(b)) => V::Str(Rc::from(format!("{a}{b}"))),
            (B::Add, V::Str(a), V::Path(b)) => V::Str(Rc::from(format!("{a}{b}"))),
            (B::Add, V::Path(a), V::Str(b)) | (B::Add, V::Path(a), V::Path(b)) => {
                V::Path(Rc::from(normalize(&format!("{a}{b}"))))
            }
            (B::Sub, V::Int(a), V::Int(b)) => V::Int(a.wrapping_sub(b)),
            (B::Mul, V::Int(a), V::Int(b)) => V::Int(a.wrapping_mul(b)),
            (B::Div, V::Int(a), V::Int(b)) if b != 0 => V::Int(a.wrapping_div(b)),
            (B::Sub, V::Float(a), V::Float(b)) => V::Float(a - b),
            (B::Mul, V::Float(a), V::Float(b)) => V::Float(a * b),
            (B::Div, V::Float(a), V::Float(b)) => V::Float(a / b),
            (B::Equal, a, b) => self.equal(&a, &b).map_or(V::Unknown, V::Bool),
            (B::NotEqual, a, b) => self.equal(&a, &b).map_or(V::Unknown, |e| V::Bool(!e)),
            (B::Less, V::Int(a), V::Int(b)) => V::Bool(a < b),
            (B::LessOrEq, V::Int(a), V::Int(b)) => V::Bool(a <= b),
            (B::More, V::Int(a), V::Int(b)) => V::Bool(a > b),
            (B::MoreOrEq, V::Int(a), V::Int(b)) => V::Bool(a >= b),
            (B::Less, V::Str(a), V::Str(b)) => V::Bool(a < b),
            _ => V::Unknown,
        }
    }

    /// `==` where it is knowable.
    pub fn equal(&mut self, a: &Value, b: &Value) -> Option<bool> {
        use Value as V;
        Some(match (a, b) {
            (V::Unknown, _) | (_, V::Unknown) => return None,
            (V::Null, V::Null) => true,
            (V::Bool(x), V::Bool(y)) => x == y,
            (V::Int(x), V::Int(y)) => x == y,
            (V::Float(x), V::Float(y)) => x == y,
            (V::Int(x), V::Float(y)) | (V::Float(y), V::Int(x)) => (*x as f64) == *y,
            (V::Str(x), V::Str(y)) | (V::Path(x), V::Path(y)) => x == y,
            (V::List(x), V::List(y)) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    let (p, q) = (self.force(*p), self.force(*q));
                    if !self.equal(&p, &q)? {
                        return Some(false);
                    }
                }
                true
            }
            (V::Attrs(x), V::Attrs(y)) => {
                if x.open || y.open {
                    return None;
                }
                if x.entries.len() != y.entries.len() || !x.entries.keys().eq(y.entries.keys()) {
                    return Some(false);
                }
                for (p, q) in x.entries.values().zip(y.entries.values()) {
                    let (p, q) = (self.force(p.value), self.force(q.value));
                    if !self.equal(&p, &q)? {
                        return Some(false);
                    }
                }
                true
            }
            (V::Lambda(_) | V::Prim(_) | V::Type(_) | V::SubOptions(..), _) => return None,
            _ => false,
        })
    }

    /// Applies a function value to an argument thunk.
    pub fn apply(&mut self, f: Value, x: ThunkId, site: Option<Pos>) -> Value {
        if !self.tick() {
            return Value::Unknown;
        }
        match f {
            Value::Lambda(c) => self.guarded(|ev| ev.call_closure(&c, x)),
            Value::Prim(p) => {
                let mut args = p.args.clone();
                args.push(x);
                let site = site.or(p.site);
                if args.len() < p.prim.arity() {
                    Value::Prim(Rc::new(PrimApp {
                        prim: p.prim,
                        args,
                        site,
                    }))
                } else {
                    self.guarded(|ev| super::prims::call(ev, p.prim, &args, site))
                }
            }
            Value::Attrs(a) => match a.entries.get("__functor") {
                Some(functor) => {
                    let fv = self.force(functor.value);
                    let me = self.value_thunk(Value::Attrs(a.clone()));
                    let g = self.apply(fv, me, site);
                    self.apply(g, x, site)
                }
                None => Value::Unknown,
            },
            _ => Value::Unknown,
        }
    }

    /// Applies a function value to a value.
    pub fn apply_value(&mut self, f: Value, x: Value) -> Value {
        let t = self.value_thunk(x);
        self.apply(f, t, None)
    }

    fn call_closure(&mut self, c: &Closure, arg: ThunkId) -> Value {
        let env = self.new_env(c.env);
        match c.lambda.param() {
            Some(ast::Param::IdentParam(p)) => {
                if let Some(i) = p.ident() {
                    self.envs[env as usize].vars.insert(Rc::from(i.name()), arg);
                }
            }
            Some(ast::Param::Pattern(pat)) => {
                let argv = self.force(arg);
                let set = match &argv {
                    Value::Attrs(a) => Some(a.clone()),
                    _ => None,
                };
                if let Some(b) = pat.pat_bind().and_then(|b| b.ident()) {
                    self.envs[env as usize].vars.insert(Rc::from(b.name()), arg);
                }
                for entry in pat.pat_entries() {
                    let Some(name) = entry.ident().map(|i| i.name()) else {
                        continue;
                    };
                    let given = set
                        .as_ref()
                        .and_then(|s| s.entries.get(name.as_str()).copied());
                    let t = match (given, entry.default()) {
                        (Some(g), _) => g.value,
                        (None, Some(d)) => self.expr_thunk(d, env, c.file),
                        (None, None) => self.value_thunk(Value::Unknown),
                    };
                    self.envs[env as usize].vars.insert(Rc::from(name), t);
                }
            }
            None => {}
        }
        match c.lambda.body() {
            Some(b) => self.eval(&b, env, c.file),
            None => Value::Unknown,
        }
    }

    /// Makes an attribute set value from named thunks.
    pub fn make_attrs(&mut self, entries: Vec<(&str, Value)>) -> Value {
        let mut a = Attrs::default();
        for (k, v) in entries {
            let t = self.value_thunk(v);
            a.entries.insert(
                Rc::from(k),
                Entry {
                    value: t,
                    pos: None,
                },
            );
        }
        Value::Attrs(Rc::new(a))
    }
}

/// Nested attribute paths (`a.b.c = v; a.d = w;`) are grouped before becoming sets.
#[derive(Default)]
struct Builder {
    children: BTreeMap<Rc<str>, BuilderNode>,
    pos: Option<Pos>,
}

enum BuilderNode {
    Leaf(ThunkId, Option<Pos>),
    /// A literal set value that may still receive more nested bindings.
    Literal(ast::AttrSet, EnvId, FileId, Option<Pos>, Builder),
    Set(Builder),
}

impl Builder {
    fn insert(
        &mut self,
        ev: &mut Evaluator<'_>,
        names: &[(Rc<str>, Pos)],
        value: ast::Expr,
        env: EnvId,
        file: FileId,
    ) {
        let (name, pos) = &names[0];
        if names.len() == 1 {
            let node = match &value {
                ast::Expr::AttrSet(s) if !s.is_rec() => {
                    BuilderNode::Literal(s.clone(), env, file, Some(*pos), Builder::default())
                }
                _ => BuilderNode::Leaf(ev.expr_thunk(value, env, file), Some(*pos)),
            };
            match self.children.get_mut(name) {
                // `a.b = 1; a = { c = 2; };` merges like Nix does.
                Some(BuilderNode::Set(b)) => {
                    if let BuilderNode::Literal(s, env, file, _, _) = node {
                        b.absorb(ev, &s, env, file);
                    }
                }
                _ => {
                    self.children.insert(name.clone(), node);
                }
            }
            return;
        }
        let child = self.children.entry(name.clone()).or_insert_with(|| {
            BuilderNode::Set(Builder {
                pos: Some(*pos),
                ..Builder::default()
            })
        });
        match child {
            BuilderNode::Set(b) => b.insert(ev, &names[1..], value, env, file),
            BuilderNode::Literal(_, _, _, _, extra) => {
                extra.insert(ev, &names[1..], value, env, file)
            }
            BuilderNode::Leaf(..) => {}
        }
    }

    /// Adds a literal set's bindings into this builder.
    fn absorb(&mut self, ev: &mut Evaluator<'_>, s: &ast::AttrSet, env: EnvId, file: FileId) {
        let built = ev.build_bindings(s, env, env, env, file);
        for (k, e) in built.entries {
            self.children
                .entry(k)
                .or_insert(BuilderNode::Leaf(e.value, e.pos));
        }
    }

    fn finish(self, ev: &mut Evaluator<'_>) -> Attrs {
        let mut out = Attrs {
            pos: self.pos,
            ..Attrs::default()
        };
        for (name, node) in self.children {
            let entry = match node {
                BuilderNode::Leaf(t, pos) => Entry { value: t, pos },
                BuilderNode::Literal(s, env, file, pos, extra) => {
                    let mut set = ev.build_bindings(&s, env, env, env, file);
                    let more = extra.finish(ev);
                    for (k, e) in more.entries {
                        set.entries.insert(k, e);
                    }
                    set.pos = pos;
                    // Keep the source of the literal (a default's text for hover).
                    let origin = Some(Pos {
                        file,
                        range: s.syntax().text_range(),
                    });
                    Entry {
                        value: ev.push_thunk(ThunkState::Done(Value::Attrs(Rc::new(set))), origin),
                        pos,
                    }
                }
                BuilderNode::Set(b) => {
                    let pos = b.pos;
                    let set = b.finish(ev);
                    Entry {
                        value: ev.value_thunk(Value::Attrs(Rc::new(set))),
                        pos,
                    }
                }
            };
            out.entries.insert(name, entry);
        }
        out
    }
}

/// The directory part of a path.
pub(crate) fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// Removes `.` and `..` segments and duplicate slashes, like Nix's path canonicalisation.
pub(crate) fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}
