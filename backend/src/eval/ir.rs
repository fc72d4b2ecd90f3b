//! The evaluator's intermediate representation: the syntax tree with every lexical
//! variable resolved to a `(depth, slot)` pair; only `with` lookups stay dynamic.

use std::rc::Rc;

use super::source::Pos;
use super::value::{Hint, Value};

/// An expression node.
pub enum Expr {
    /// A literal (number, string without interpolation, resolved path).
    Const(Value),
    /// A lexical variable: `depth` frames up, slot `slot`.
    Var {
        depth: u32,
        slot: u32,
    },
    /// A variable only a `with` can bind: the frames of the enclosing `with`s, innermost first.
    WithVar {
        name: Rc<str>,
        withs: Box<[u32]>,
        pos: Pos,
        hint: Hint,
    },
    Attrs(Box<AttrsDef>),
    List(Box<[Rc<Expr>]>),
    Select {
        expr: Rc<Expr>,
        path: Box<[AttrKey]>,
        default: Option<Rc<Expr>>,
        pos: Pos,
    },
    HasAttr {
        expr: Rc<Expr>,
        path: Box<[AttrKey]>,
    },
    Apply {
        func: Rc<Expr>,
        args: Box<[Rc<Expr>]>,
        pos: Pos,
    },
    Lambda(Rc<LambdaDef>),
    /// A new frame whose slots are the bindings (lazily, in the new frame), then the body.
    Let {
        bindings: Box<[Binding]>,
        body: Rc<Expr>,
    },
    /// A one-slot frame holding the (lazy) attribute set; `WithVar`s look into it.
    With {
        attrs: Rc<Expr>,
        body: Rc<Expr>,
        pos: Pos,
    },
    If {
        cond: Rc<Expr>,
        then: Rc<Expr>,
        else_: Rc<Expr>,
        pos: Pos,
    },
    Assert {
        cond: Rc<Expr>,
        body: Rc<Expr>,
        pos: Pos,
        text: Rc<str>,
    },
    Not(Rc<Expr>, Pos),
    Neg(Rc<Expr>, Pos),
    Bin {
        op: BinOp,
        lhs: Rc<Expr>,
        rhs: Rc<Expr>,
        pos: Pos,
    },
    /// String interpolation (or a path with interpolation when `is_path`).
    Interp {
        parts: Box<[Rc<Expr>]>,
        is_path: bool,
        pos: Pos,
    },
    /// `__curPos`.
    CurPos(Pos),
}

/// Binary operators with Nix's own semantics.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
    Impl,
    Update,
    Concat,
}

/// One step of an attribute path.
pub enum AttrKey {
    /// A name known at lowering time, with the index it was last found at.
    Static(Rc<str>, Hint),
    Dynamic(Rc<Expr>, Pos),
}

/// A `let` or `rec` binding: the expression is evaluated in the new frame unless
/// `outer` (plain `inherit`), which evaluates it in the enclosing frame.
pub struct Binding {
    pub value: Rc<Expr>,
    pub outer: bool,
}

/// An attribute set literal after nested attribute paths were merged.
pub struct AttrsDef {
    /// `rec { }`: the static attributes form a frame the values see.
    pub rec: bool,
    pub statics: Vec<StaticAttr>,
    pub dynamics: Vec<DynamicAttr>,
    /// `rec` only: the `inherit (e)` sources, hidden frame slots after the statics.
    pub sources: Vec<Rc<Expr>>,
    pub pos: Pos,
}

/// `name = value;` with a name known at lowering time.
pub struct StaticAttr {
    pub name: Rc<str>,
    pub value: Rc<Expr>,
    /// Plain `inherit`: evaluate in the frame outside the `rec` frame.
    pub outer: bool,
    pub pos: Pos,
}

/// `${name} = value;`.
pub struct DynamicAttr {
    pub name: Rc<Expr>,
    pub value: Rc<Expr>,
    pub pos: Pos,
}

/// A function literal.
pub struct LambdaDef {
    /// The binding name it was defined under, for messages.
    pub name: Option<Rc<str>>,
    pub pos: Pos,
    /// The argument's name: the identifier, or the `@` name of a pattern.
    pub arg_name: Option<Rc<str>>,
    pub param: Param,
    pub body: Rc<Expr>,
}

/// How a lambda binds its argument. Slots: formals in order, then the `@` name.
pub enum Param {
    Ident,
    Pattern {
        formals: Vec<Formal>,
        ellipsis: bool,
        at: bool,
    },
}

/// One `{ name ? default }` entry.
pub struct Formal {
    pub name: Rc<str>,
    /// Where the name was last found in an argument set.
    pub hint: Hint,
    pub default: Option<Rc<Expr>>,
    pub pos: Pos,
}

impl LambdaDef {
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) => format!("'{n}'"),
            None => "'anonymous lambda'".to_string(),
        }
    }
}
