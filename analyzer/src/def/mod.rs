//! The compact module representation: a file's expressions and names in arenas, with a
//! source map back to text ranges. Analyses (name resolution, liveness) read only this, so
//! an edit that does not change the lowered module (whitespace, comments) stops there.

mod arena;
pub mod liveness;
pub mod lower;
pub mod scope;

use rustc_hash::FxHashMap as HashMap;

pub use crate::syntax::ast::{BinaryOp, UnaryOpKind};
pub use arena::{Arena, Idx};
pub use rowan::{TextRange, TextSize};

/// Index of an expression in [`Module::exprs`].
pub type ExprId = Idx<Expr>;
/// Index of a defined name in [`Module::names`].
pub type NameId = Idx<Name>;

/// One file's lowered expressions and the names they define.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Module {
    /// Every expression; nested attribute paths are already merged into attribute sets.
    pub exprs: Arena<Expr>,
    /// Every name a binding construct defines.
    pub names: Arena<Name>,
    /// The file's top expression.
    pub entry: Option<ExprId>,
}

/// A lowered expression. Kept at 32 bytes (bindings and patterns are boxed): a file has
/// about one per 16 bytes of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A hole left by a syntax error.
    Missing,
    /// A variable use (shared with the lowered binding it came from).
    Reference(std::sync::Arc<str>),
    /// A constant.
    Literal(Literal),
    /// `param: body`, `{ pat }: body`, `{ pat } @ param: body`.
    Lambda(Option<NameId>, Option<Box<Pat>>, ExprId),
    /// `with env; body`.
    With(ExprId, ExprId),
    /// `assert cond; body`.
    Assert(ExprId, ExprId),
    /// `if c then a else b`.
    IfThenElse(ExprId, ExprId, ExprId),
    /// `f x`.
    Apply(ExprId, ExprId),
    /// Binary operators (`None` for an operator the parser could not classify).
    Binary(Option<BinaryOp>, ExprId, ExprId),
    /// `!x`, `-x`.
    Unary(Option<UnaryOpKind>, ExprId),
    /// `set ? a.b`.
    HasAttr(ExprId, Attrpath),
    /// `set.a.b or default`.
    Select(ExprId, Attrpath, Option<ExprId>),
    /// `"…${x}…"` with at least one interpolation; parts are the interpolated expressions.
    StringInterpolation(Box<[ExprId]>),
    /// `./a/${x}` with interpolation.
    PathInterpolation(Box<[ExprId]>),
    /// `[ a b ]`.
    List(Box<[ExprId]>),
    /// `let … in body` (and the legacy `let { … body = …; }` with its `body` reference).
    LetIn(Box<Bindings>, ExprId),
    /// `{ … }`.
    Attrset(Box<Bindings>),
    /// `rec { … }`.
    RecAttrset(Box<Bindings>),
    /// `__curPos`.
    CurPos,
}

/// An attribute path: each element is a string literal (static) or any expression (dynamic).
pub type Attrpath = Box<[ExprId]>;

/// Constant values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// Integer.
    Int(i64),
    /// Float, kept as written (equality on text keeps `Eq`).
    Float(Box<str>),
    /// String without interpolation, escapes resolved.
    String(Box<str>),
    /// A path as written (`./a.nix`, `<nixpkgs>`, `~/x`, `/abs`).
    Path(Box<str>),
    /// A legacy URI literal.
    Uri(Box<str>),
}

/// `{ a, b ? d, ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pat {
    /// Formals: the name and its default.
    pub fields: Box<[(NameId, Option<ExprId>)]>,
    /// Whether `...` is present.
    pub ellipsis: bool,
}

/// The bindings of a set or `let`, after merging attribute paths.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bindings {
    /// Statically named bindings in source order.
    pub statics: Box<[(NameId, BindingValue)]>,
    /// The `e` of every `inherit (e) …`.
    pub inherit_froms: Box<[ExprId]>,
    /// `"${k}" = v;`.
    pub dynamics: Box<[(ExprId, ExprId)]>,
}

/// What a static binding holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingValue {
    /// `inherit a;`: the reference it reads.
    Inherit(ExprId),
    /// `inherit (e) a;`: index into `inherit_froms`.
    InheritFrom(u32),
    /// `a = e;`.
    Expr(ExprId),
}

/// A defined name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name as written (string keys unescaped; shared with the lowered binding).
    pub text: std::sync::Arc<str>,
    /// The construct that defines it.
    pub kind: NameKind,
}

/// Which construct defines a name; decides scoping and which warnings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// `let a = …;`
    LetIn,
    /// An attribute of a plain (non-`rec`) set: not in scope anywhere.
    PlainAttrset,
    /// An attribute of a `rec` set.
    RecAttrset,
    /// `a: …` or `… @ a`.
    Param,
    /// A formal of a `{ … }:` pattern.
    PatField,
}

impl NameKind {
    /// Whether this name is visible to references (plain set attributes are not).
    pub fn is_definition(self) -> bool {
        !matches!(self, NameKind::PlainAttrset)
    }
}

/// Maps between module items and source ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleSourceMap {
    /// Expression syntax node range to expression (a parenthesised range finds the inner
    /// expression too).
    pub expr_map: RangeMap<ExprId>,
    /// Expression (by arena index) to the range of the node it came from (synthesized
    /// sets have none); a vector, since every expression has a slot.
    pub expr_map_rev: Vec<Option<TextRange>>,
    /// Range of a defining identifier/attribute to its name.
    pub name_map: RangeMap<NameId>,
    /// Name to all ranges that define it (merged `a.b`/`a.c` give `a` two); almost
    /// always one, kept inline.
    pub name_map_rev: HashMap<NameId, smallvec::SmallVec<[TextRange; 1]>>,
    /// Name to the range of its whole binding (`a = 1;`, `b ? 1`), used by quick fixes.
    pub binding_ranges: HashMap<NameId, TextRange>,
    /// `rec` keyword ranges of `rec { }` sets, by set expression.
    pub rec_keywords: HashMap<ExprId, TextRange>,
}

/// A map from text ranges to ids, stored as one sorted vector: 12 bytes an entry where a
/// hash map took about twice that, and files have an entry for nearly every expression.
/// Lowering [`insert`](Self::insert)s in any order, then [`finish`](Self::finish)es it
/// once; lookups are binary searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMap<T> {
    entries: Vec<(TextRange, T)>,
}

impl<T> Default for RangeMap<T> {
    fn default() -> Self {
        RangeMap {
            entries: Vec::new(),
        }
    }
}

impl<T: Copy> RangeMap<T> {
    /// Records `range -> value`; a later insert of the same range wins (after `finish`).
    pub fn insert(&mut self, range: TextRange, value: T) {
        self.entries.push((range, value));
    }

    /// Sorts the entries by range, keeps the last value inserted for each range, and
    /// releases spare capacity. Lookups are only valid after this.
    pub fn finish(&mut self) {
        // Stable: equal ranges keep their insertion order, so the last one is the latest.
        self.entries.sort_by_key(|(r, _)| (r.start(), r.end()));
        let mut out: Vec<(TextRange, T)> = Vec::with_capacity(self.entries.len());
        for (range, value) in self.entries.drain(..) {
            match out.last_mut() {
                Some(last) if last.0 == range => last.1 = value,
                _ => out.push((range, value)),
            }
        }
        out.shrink_to_fit();
        self.entries = out;
    }

    /// The value recorded for exactly this range.
    pub fn get(&self, range: TextRange) -> Option<T> {
        self.entries
            .binary_search_by_key(&(range.start(), range.end()), |(r, _)| (r.start(), r.end()))
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// Every entry, ordered by range start (then end).
    pub fn iter(&self) -> impl Iterator<Item = (TextRange, T)> + '_ {
        self.entries.iter().copied()
    }

    /// Number of distinct ranges.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl ModuleSourceMap {
    /// Makes the range maps searchable; lowering calls this once when it is done.
    pub fn finish(&mut self) {
        self.expr_map.finish();
        self.name_map.finish();
        self.expr_map_rev.shrink_to_fit();
        self.name_map_rev.shrink_to_fit();
        self.binding_ranges.shrink_to_fit();
        self.rec_keywords.shrink_to_fit();
    }
    /// The expression lowered from the node with exactly this range.
    pub fn expr_for_range(&self, range: TextRange) -> Option<ExprId> {
        self.expr_map.get(range)
    }
    /// The node range of an expression.
    pub fn range_for_expr(&self, expr: ExprId) -> Option<TextRange> {
        self.expr_map_rev
            .get(expr.into_raw() as usize)
            .copied()
            .flatten()
    }
    /// The name defined at exactly this range.
    pub fn name_for_range(&self, range: TextRange) -> Option<NameId> {
        self.name_map.get(range)
    }
    /// The first (primary) defining range of a name.
    pub fn range_for_name(&self, name: NameId) -> Option<TextRange> {
        self.name_map_rev
            .get(&name)
            .and_then(|v| v.first().copied())
    }
    /// Every defining range of a name.
    pub fn ranges_for_name(&self, name: NameId) -> &[TextRange] {
        self.name_map_rev.get(&name).map_or(&[], |v| v.as_slice())
    }
    /// The name defined at a range containing `offset`, if any.
    pub fn name_at(&self, offset: TextSize) -> Option<NameId> {
        self.name_map
            .iter()
            .filter(|(r, _)| r.contains_inclusive(offset))
            .min_by_key(|(r, _)| r.len())
            .map(|(_, n)| n)
    }
}

impl Module {
    /// The expressions directly inside `expr`, in source order.
    pub fn children(&self, expr: ExprId) -> Vec<ExprId> {
        let mut out = Vec::new();
        match &self.exprs[expr] {
            Expr::Missing | Expr::Reference(_) | Expr::Literal(_) | Expr::CurPos => {}
            Expr::Lambda(_, pat, body) => {
                if let Some(pat) = pat {
                    out.extend(pat.fields.iter().filter_map(|(_, d)| *d));
                }
                out.push(*body);
            }
            Expr::With(a, b) | Expr::Assert(a, b) | Expr::Apply(a, b) | Expr::Binary(_, a, b) => {
                out.push(*a);
                out.push(*b);
            }
            Expr::IfThenElse(a, b, c) => out.extend([*a, *b, *c]),
            Expr::Unary(_, a) => out.push(*a),
            Expr::HasAttr(a, path) => {
                out.push(*a);
                out.extend(path.iter().copied());
            }
            Expr::Select(a, path, default) => {
                out.push(*a);
                out.extend(path.iter().copied());
                out.extend(*default);
            }
            Expr::StringInterpolation(xs) | Expr::PathInterpolation(xs) | Expr::List(xs) => {
                out.extend(xs.iter().copied())
            }
            Expr::LetIn(b, body) => {
                bindings_children(b, &mut out);
                out.push(*body);
            }
            Expr::Attrset(b) | Expr::RecAttrset(b) => bindings_children(b, &mut out),
        }
        out
    }
}

fn bindings_children(b: &Bindings, out: &mut Vec<ExprId>) {
    out.extend(b.inherit_froms.iter().copied());
    for (_, v) in b.statics.iter() {
        match v {
            BindingValue::Inherit(e) | BindingValue::Expr(e) => out.push(*e),
            BindingValue::InheritFrom(_) => {}
        }
    }
    for (k, v) in b.dynamics.iter() {
        out.push(*k);
        out.push(*v);
    }
}

impl Module {
    /// The binding that defines `name` in a set or `let`, with the expression that owns it.
    pub fn binding_of(&self, name: NameId) -> Option<(ExprId, &Bindings, &BindingValue)> {
        self.exprs.iter().find_map(|(id, e)| {
            let b = match e {
                Expr::LetIn(b, _) | Expr::Attrset(b) | Expr::RecAttrset(b) => &**b,
                _ => return None,
            };
            b.statics
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (id, b, v))
        })
    }

    /// The lambda whose parameter or pattern defines `name`.
    pub fn lambda_of(&self, name: NameId) -> Option<ExprId> {
        self.exprs.iter().find_map(|(id, e)| match e {
            Expr::Lambda(param, pat, _)
                if *param == Some(name)
                    || pat
                        .as_ref()
                        .is_some_and(|p| p.fields.iter().any(|(n, _)| *n == name)) =>
            {
                Some(id)
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u32, end: u32) -> TextRange {
        TextRange::new(start.into(), end.into())
    }

    #[test]
    fn range_map_finds_exact_ranges_and_the_last_insert_wins() {
        let mut map: RangeMap<u32> = RangeMap::default();
        map.insert(r(4, 9), 1);
        map.insert(r(0, 20), 2);
        map.insert(r(4, 6), 3);
        // A parenthesised range is inserted again for the inner expression.
        map.insert(r(0, 20), 4);
        map.finish();
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(r(0, 20)), Some(4));
        assert_eq!(map.get(r(4, 6)), Some(3));
        assert_eq!(map.get(r(4, 9)), Some(1));
        assert_eq!(map.get(r(4, 7)), None);
        let order: Vec<u32> = map.iter().map(|(_, v)| v).collect();
        assert_eq!(order, vec![4, 3, 1]);
    }

    #[test]
    fn lowered_source_map_finds_parenthesised_expressions() {
        let parse = crate::syntax::parse("let a = (1 + 2); in a");
        let (module, map) = lower::lower(&parse.syntax());
        let paren = map.expr_for_range(r(8, 15)).expect("(1 + 2)");
        assert!(matches!(module.exprs[paren], Expr::Binary(..)));
        assert_eq!(map.range_for_expr(paren), Some(r(9, 14)));
        let a = map.name_for_range(r(4, 5)).expect("a");
        assert_eq!(&*module.names[a].text, "a");
        assert_eq!(map.name_at(5.into()), Some(a));
    }

    /// Files have about one expression per 16 bytes of text; keep them small.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn expressions_stay_small() {
        assert_eq!(std::mem::size_of::<Expr>(), 32);
    }
}
