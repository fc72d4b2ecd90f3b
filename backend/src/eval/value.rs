//! Runtime values. Everything is cheap to clone: compound values sit behind `Rc`.

use std::alloc::Layout;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::ptr::NonNull;
use std::rc::Rc;

use super::ir::{Expr, LambdaDef};
pub use super::shared::Shared;
use super::source::Pos;

/// A Nix value; `Thunk` is the only variant that is not in weak head normal form.
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Shared<NixString>),
    /// Behind a thin pointer (not `Rc<str>`) so that every `Value` is two words, not three.
    Path(Shared<String>),
    Attrs(Shared<Attrs>),
    List(Shared<Vec<Value>>),
    Lambda(Shared<Closure>),
    PrimOp(Shared<PrimOp>),
    PrimOpApp(Shared<PrimOpApp>),
    Thunk(Shared<Thunk>),
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
        entries.sort_by(|a, b| cmp_name(&a.name, &b.name));
        entries.dedup_by(|later, earlier| {
            if same_name(&later.name, &earlier.name) {
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

/// Where a name was last found in a set (an inline cache kept by each lookup site):
/// sets of the same shape keep a name at the same index, so one comparison usually
/// replaces a binary search over a large set.
#[derive(Default)]
pub struct Hint(Cell<u32>);

impl Attrs {
    /// [`get_attr`](Self::get_attr) trying the index `hint` remembers first.
    #[inline]
    pub fn get_hinted(&self, name: &str, hint: &Hint) -> Option<&Attr> {
        let i = hint.0.get() as usize;
        if let Some(a) = self.entries.get(i) {
            if same_name(&a.name, name) {
                return Some(a);
            }
        }
        let i = self
            .entries
            .binary_search_by(|a| cmp_name(&a.name, name))
            .ok()?;
        hint.0.set(i as u32);
        Some(&self.entries[i])
    }
}

/// Name equality, by address first (names from the same source text are shared).
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a.as_bytes() == b.as_bytes())
}

/// `str` ordering without a `memcmp` call: attribute names are short and lookups are
/// the evaluator's most frequent comparison.
#[inline]
pub fn cmp_name(a: &str, b: &str) -> std::cmp::Ordering {
    if std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len() {
        return std::cmp::Ordering::Equal;
    }
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
    pub env: Env,
    /// False while the closure stands in for a thunk Nix would still hold unforced: a
    /// lambda in a lazy position is made at once (making it cannot fail), but until
    /// something forces it, printing shows it as Nix shows an unforced thunk (`<CODE>`).
    forced: Cell<bool>,
}

impl Closure {
    /// A closure made by evaluating a lambda expression.
    pub fn new(def: Rc<LambdaDef>, env: Env) -> Closure {
        Closure {
            def,
            env,
            forced: Cell::new(true),
        }
    }
    /// A closure made in place of a thunk (a lambda in a lazy position).
    pub fn lazy(def: Rc<LambdaDef>, env: Env) -> Closure {
        Closure {
            def,
            env,
            forced: Cell::new(false),
        }
    }
    /// Records that the value was forced, as forcing Nix's thunk would.
    #[inline]
    pub fn mark_forced(&self) {
        self.forced.set(true);
    }
    /// Whether a thunk standing for this closure would have been forced by now.
    pub fn is_forced(&self) -> bool {
        self.forced.get()
    }
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
    pub op: Shared<PrimOp>,
    pub args: Vec<Value>,
}

/// A lazily computed value, updated in place once forced. A `Cell`, not a `RefCell`: the
/// state is taken out and put back, so a thunk carries no borrow flag (8 bytes each).
pub struct Thunk(Cell<ThunkState>);

/// What a thunk holds over its life.
pub enum ThunkState {
    /// An expression to evaluate in an environment.
    Pending(Rc<Expr>, Env),
    /// Apply a function to an argument (lazy results of builtins such as `map`); boxed,
    /// like `Apply2`, so that the state is three words and a thunk allocation 40 bytes.
    Apply(Box<[Value; 2]>),
    /// `f x y` (`mapAttrs`): one thunk instead of two, boxed to keep thunks small.
    Apply2(Box<[Value; 3]>),
    /// Being evaluated: forcing it again is infinite recursion.
    Blackhole,
    Done(Value),
}

impl Thunk {
    /// A thunk in the given state, for builtins that tie knots through a cell.
    pub fn cell(state: ThunkState) -> Shared<Thunk> {
        Shared::new(Thunk(Cell::new(state)))
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
    #[inline]
    pub fn done_value(&self) -> Option<Value> {
        // SAFETY: single-threaded, and the state is only ever moved in or out by `take`,
        // `set` and `done_value` itself, none of which is running while this shared borrow
        // lives; cloning a value only bumps a reference count.
        match unsafe { &*self.0.as_ptr() } {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        }
    }
    /// Whether the thunk is being evaluated right now.
    pub fn is_blackhole(&self) -> bool {
        // SAFETY: as in `done_value`.
        matches!(unsafe { &*self.0.as_ptr() }, ThunkState::Blackhole)
    }
    #[allow(clippy::new_ret_no_self)]
    pub fn new(e: &Rc<Expr>, env: &Env) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Pending(e.clone(), env.clone())))
    }
    pub fn apply(f: Value, x: Value) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Apply(Box::new([f, x]))))
    }
    /// `f x y`, lazily, as one thunk.
    pub fn apply2(f: Value, x: Value, y: Value) -> Value {
        Value::Thunk(Thunk::cell(ThunkState::Apply2(Box::new([f, x, y]))))
    }
}

/// A lexical environment frame: slots resolved at lowering time.
///
/// One allocation holding a small header and the slots inline (a thin pointer, so
/// closures and pending thunks stay small): a one-slot frame is 32 bytes. Slots are
/// written while the frame is built (a `let` or `rec` frame exists before its slots are
/// filled, because their thunks refer to it) and only read afterwards.
pub struct Env(NonNull<EnvHeader>);

/// What precedes the slots of a frame.
#[repr(C)]
struct EnvHeader {
    refs: Cell<u32>,
    len: u32,
    parent: Option<Env>,
}

impl Env {
    fn layout(len: usize) -> (Layout, usize) {
        let (layout, offset) = Layout::new::<EnvHeader>()
            .extend(Layout::array::<Value>(len).expect("frame size fits in memory"))
            .expect("frame size fits in memory");
        (layout.pad_to_align(), offset)
    }

    /// A frame of `len` slots, all `null` until [`set`](Self::set).
    pub fn empty(len: usize, parent: Option<Env>) -> Env {
        let len32 = u32::try_from(len).expect("a frame has fewer than 2^32 slots");
        let (layout, offset) = Env::layout(len);
        // SAFETY: the layout has a non-zero size (the header); every slot is initialised
        // before the pointer escapes.
        unsafe {
            let p = std::alloc::alloc(layout);
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let header = p as *mut EnvHeader;
            header.write(EnvHeader {
                refs: Cell::new(1),
                len: len32,
                parent,
            });
            let slots = p.add(offset) as *mut Value;
            for i in 0..len {
                slots.add(i).write(Value::Null);
            }
            Env(NonNull::new_unchecked(header))
        }
    }

    pub fn new(vals: Vec<Value>, parent: Option<Env>) -> Env {
        let env = Env::empty(vals.len(), parent);
        for (i, v) in vals.into_iter().enumerate() {
            env.set(i, v);
        }
        env
    }

    /// A one-slot frame (lambda argument, `with` scope).
    #[inline]
    pub fn one(v: Value, parent: Env) -> Env {
        let env = Env::empty(1, Some(parent));
        env.set(0, v);
        env
    }

    #[inline]
    fn header(&self) -> &EnvHeader {
        // SAFETY: the header lives as long as any handle.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    fn slots(&self) -> *mut Value {
        let offset = Env::layout(0).1;
        // SAFETY: the slots follow the header at `offset` in the same allocation.
        unsafe { (self.0.as_ptr() as *mut u8).add(offset) as *mut Value }
    }

    /// How many slots the frame has.
    pub fn len(&self) -> usize {
        self.header().len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The enclosing frame.
    #[inline]
    pub fn parent(&self) -> Option<&Env> {
        self.header().parent.as_ref()
    }

    /// A copy of slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Value {
        assert!(i < self.len(), "slot within the frame");
        // SAFETY: in bounds and initialised; no reference to a slot outlives a call, and
        // cloning a value runs no code that could write a slot.
        unsafe { (*self.slots().add(i)).clone() }
    }

    /// Replaces slot `i` (while the frame is built, or for `__overrides`).
    #[inline]
    pub fn set(&self, i: usize, v: Value) {
        assert!(i < self.len(), "slot within the frame");
        // SAFETY: in bounds and initialised; the old value is dropped only after the write,
        // so code its drop runs never sees the slot half-written.
        let old = unsafe { std::ptr::replace(self.slots().add(i), v) };
        drop(old);
    }

    #[inline]
    pub fn lookup(&self, depth: u32, slot: u32) -> Value {
        self.at_depth(depth).get(slot as usize)
    }

    #[inline]
    pub fn at_depth(&self, depth: u32) -> &Env {
        let mut e = self;
        for _ in 0..depth {
            e = e
                .parent()
                .expect("lowering resolved depth within the env chain");
        }
        e
    }

    /// The bytes one frame of `len` slots allocates.
    pub fn alloc_size(len: usize) -> usize {
        Env::layout(len).0.size()
    }

    /// Whether two handles name the same frame.
    pub fn ptr_eq(a: &Env, b: &Env) -> bool {
        a.0 == b.0
    }
}

impl Clone for Env {
    #[inline]
    fn clone(&self) -> Env {
        let refs = &self.header().refs;
        let n = refs
            .get()
            .checked_add(1)
            .unwrap_or_else(|| std::process::abort());
        refs.set(n);
        Env(self.0)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let refs = &self.header().refs;
        let n = refs.get() - 1;
        refs.set(n);
        if n != 0 {
            return;
        }
        let len = self.len();
        let slots = self.slots();
        // SAFETY: this was the last handle: drop the slots and the header, then free the
        // allocation with the layout it was made with.
        unsafe {
            for i in 0..len {
                std::ptr::drop_in_place(slots.add(i));
            }
            std::ptr::drop_in_place(self.0.as_ptr());
            std::alloc::dealloc(self.0.as_ptr() as *mut u8, Env::layout(len).0);
        }
    }
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(Shared::new(NixString::plain(s)))
    }
    pub fn string_ctx(s: impl Into<String>, ctx: Context) -> Value {
        Value::String(Shared::new(NixString { s: s.into(), ctx }))
    }
    pub fn path(p: String) -> Value {
        Value::Path(Shared::new(p))
    }
    pub fn attrs(a: Attrs) -> Value {
        Value::Attrs(Shared::new(a))
    }
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Shared::new(v))
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

impl Clone for Value {
    /// Inline and branch-light: every shared variant has its count at the same place
    /// (`SharedInner` is `repr(C)`), so cloning is one bump and a two-word copy rather
    /// than an out-of-line call through a per-variant jump table.
    #[inline]
    fn clone(&self) -> Value {
        let refs = match self {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => None,
            Value::String(s) => Some(s.refs()),
            Value::Path(s) => Some(s.refs()),
            Value::Attrs(s) => Some(s.refs()),
            Value::List(s) => Some(s.refs()),
            Value::Lambda(s) => Some(s.refs()),
            Value::PrimOp(s) => Some(s.refs()),
            Value::PrimOpApp(s) => Some(s.refs()),
            Value::Thunk(s) => Some(s.refs()),
        };
        if let Some(refs) = refs {
            Shared::<()>::bump(refs);
        }
        // SAFETY: the payload is either plain data or a `Shared` whose count was just
        // raised for the new handle, so the bitwise copy is an owned clone.
        unsafe { std::ptr::read(self) }
    }
}
