//! Runtime values. Everything is cheap to clone: compound values sit behind `Rc`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use super::ir::{Expr, LambdaDef};
use super::source::Pos;

/// A Nix value; `Thunk` is the only variant that is not in weak head normal form.
#[derive(Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Rc<NixString>),
    /// Behind a thin `Rc` (not `Rc<str>`) so that every `Value` is two words, not three.
    Path(Rc<String>),
    Attrs(Rc<Attrs>),
    List(Rc<Vec<Value>>),
    Lambda(Rc<Closure>),
    PrimOp(Rc<PrimOp>),
    PrimOpApp(Rc<PrimOpApp>),
    Thunk(Rc<Thunk>),
}

/// A string with the store paths it refers to (its context).
#[derive(Clone, Default, PartialEq)]
pub struct NixString {
    pub s: String,
    pub ctx: Context,
}

/// String context elements in Nix's own encoding: `/nix/store/..` (plain path),
/// `=/nix/store/..drv` (derivation with all outputs), `!out!/nix/store/..drv` (one output).
pub type Context = BTreeSet<String>;

impl NixString {
    pub fn plain(s: impl Into<String>) -> NixString {
        NixString {
            s: s.into(),
            ctx: Context::new(),
        }
    }
}

/// An attribute set: entries sorted by name.
#[derive(Default)]
pub struct Attrs {
    pub entries: Vec<Attr>,
}

/// One attribute with the position it was defined at.
#[derive(Clone)]
pub struct Attr {
    pub name: Rc<str>,
    pub value: Value,
    pub pos: Pos,
}

impl Attrs {
    /// Builds a set from entries in any order; later duplicates win.
    pub fn from_unsorted(mut entries: Vec<Attr>) -> Attrs {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries.dedup_by(|later, earlier| {
            if later.name == earlier.name {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        Attrs { entries }
    }
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    #[inline]
    pub fn get_attr(&self, name: &str) -> Option<&Attr> {
        self.entries
            .binary_search_by(|a| cmp_name(&a.name, name))
            .ok()
            .map(|i| &self.entries[i])
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `str` ordering without a `memcmp` call: attribute names are short and lookups are
/// the evaluator's most frequent comparison.
#[inline]
fn cmp_name(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// A lambda together with the environment it closes over.
pub struct Closure {
    pub def: Rc<LambdaDef>,
    pub env: Rc<Env>,
}

/// Signature of a built-in function: gets all its arguments at once.
pub type PrimOpFn = fn(&mut super::machine::Machine, &[Value], Pos) -> super::error::Result<Value>;

/// A built-in function of fixed arity.
pub struct PrimOp {
    pub name: &'static str,
    pub arity: usize,
    pub func: PrimOpFn,
}

/// A primop applied to fewer arguments than its arity.
pub struct PrimOpApp {
    pub op: Rc<PrimOp>,
    pub args: Vec<Value>,
}

/// A lazily computed value, updated in place once forced. A `Cell`, not a `RefCell`: the
/// state is taken out and put back, so a thunk carries no borrow flag (8 bytes each).
pub struct Thunk(Cell<ThunkState>);

/// What a thunk holds over its life.
pub enum ThunkState {
    /// An expression to evaluate in an environment.
    Pending(Rc<Expr>, Rc<Env>),
    /// Apply a function to an argument (lazy results of builtins such as `map`).
    Apply(Value, Value),
    /// `f x y` (`mapAttrs`): one thunk instead of two, boxed to keep thunks small.
    Apply2(Box<[Value; 3]>),
    /// Being evaluated: forcing it again is infinite recursion.
    Blackhole,
    Done(Value),
}

impl Thunk {
    /// A thunk in the given state, for builtins that tie knots through a cell.
    pub fn cell(state: ThunkState) -> Rc<Thunk> {
        Rc::new(Thunk(Cell::new(state)))
    }
    /// Replaces the state (the value once forced, or the work to retry after an error).
    pub fn set(&self, state: ThunkState) {
        self.0.set(state);
    }
    /// Takes the state out, leaving a black hole while it is evaluated.
    pub fn take(&self) -> ThunkState {
        self.0.replace(ThunkState::Blackhole)
    }
    /// The value if the thunk has been forced, without forcing it.
    pub fn done_value(&self) -> Option<Value> {
        let state = self.take();
        let v = match &state {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        };
        self.0.set(state);
        v
    }
    /// Whether the thunk is being evaluated right now.
    pub fn is_blackhole(&self) -> bool {
        let state = self.take();
        let hole = matches!(state, ThunkState::Blackhole);
        self.0.set(state);
        hole
    }
    #[allow(clippy::new_ret_no_self)]
    pub fn new(e: &Rc<Expr>, env: &Rc<Env>) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Pending(e.clone(), env.clone())))
    }
    pub fn apply(f: Value, x: Value) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Apply(f, x)))
    }
    /// `f x y`, lazily, as one thunk.
    pub fn apply2(f: Value, x: Value, y: Value) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Apply2(Box::new([f, x, y]))))
    }
}

/// A lexical environment frame: slots resolved at lowering time.
pub struct Env {
    pub vals: RefCell<EnvSlots>,
    pub parent: Option<Rc<Env>>,
}

/// Frame slots, stored inline for the common small frames (one allocation per frame).
pub type EnvSlots = smallvec::SmallVec<[Value; 3]>;

impl Env {
    pub fn new(vals: Vec<Value>, parent: Option<Rc<Env>>) -> Rc<Env> {
        Rc::new(Env {
            vals: RefCell::new(EnvSlots::from_vec(vals)),
            parent,
        })
    }
    /// A frame from slots built without an intermediate `Vec`.
    pub fn with_slots(vals: EnvSlots, parent: Option<Rc<Env>>) -> Rc<Env> {
        Rc::new(Env {
            vals: RefCell::new(vals),
            parent,
        })
    }
    pub fn lookup(self: &Rc<Env>, depth: u32, slot: u32) -> Value {
        let mut e = self;
        for _ in 0..depth {
            e = e
                .parent
                .as_ref()
                .expect("lowering resolved depth within the env chain");
        }
        e.vals.borrow()[slot as usize].clone()
    }
    pub fn at_depth(self: &Rc<Env>, depth: u32) -> &Rc<Env> {
        let mut e = self;
        for _ in 0..depth {
            e = e
                .parent
                .as_ref()
                .expect("lowering resolved depth within the env chain");
        }
        e
    }
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(Rc::new(NixString::plain(s)))
    }
    pub fn string_ctx(s: impl Into<String>, ctx: Context) -> Value {
        Value::String(Rc::new(NixString { s: s.into(), ctx }))
    }
    pub fn path(p: String) -> Value {
        Value::Path(Rc::new(p))
    }
    pub fn attrs(a: Attrs) -> Value {
        Value::Attrs(Rc::new(a))
    }
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Rc::new(v))
    }
    /// The type name used by `builtins.typeOf`.
    pub fn type_of(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Path(_) => "path",
            Value::Attrs(_) => "set",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) => "lambda",
            Value::Thunk(_) => "thunk",
        }
    }
    /// The type with its article, as in "expected a set but found an integer".
    pub fn show_type(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Path(_) => "a path",
            Value::Attrs(_) => "a set",
            Value::List(_) => "a list",
            Value::Lambda(_) => "a function",
            Value::PrimOp(_) => "a built-in function",
            Value::PrimOpApp(_) => "a partially applied built-in function",
            Value::Thunk(_) => "a thunk",
        }
    }
    pub fn is_function(&self) -> bool {
        matches!(
            self,
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_)
        )
    }
}
