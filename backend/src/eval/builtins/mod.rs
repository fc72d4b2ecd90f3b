//! The built-in functions and constants, split by area.

use std::rc::Rc;

use super::machine::Machine;
use super::source::Pos;
use super::value::{Attr, Attrs, Env, NixString, PrimOp, PrimOpFn, Value};

pub mod attrs;
pub mod context;
pub mod derivation;
pub mod hashing;
pub mod json;
pub mod lists;
pub mod misc;
pub mod paths;
pub mod regex;
pub mod strings;
pub mod toml;
pub mod xml;

/// A built-in as registered: its global name (`__x` when only reachable as `builtins.x`).
pub struct Builtin {
    pub name: &'static str,
    pub arity: usize,
    pub func: PrimOpFn,
}

/// Shorthand for the tables each area module exports.
pub const fn b(name: &'static str, arity: usize, func: PrimOpFn) -> Builtin {
    Builtin { name, arity, func }
}

/// Fills the machine's global frame and the `builtins` set.
pub fn install(m: &mut Machine) {
    let mut globals: Vec<(Rc<str>, Value)> = Vec::new();
    let tables: [&[Builtin]; 12] = [
        attrs::BUILTINS,
        context::BUILTINS,
        derivation::BUILTINS,
        hashing::BUILTINS,
        json::BUILTINS,
        lists::BUILTINS,
        misc::BUILTINS,
        paths::BUILTINS,
        regex::BUILTINS,
        strings::BUILTINS,
        toml::BUILTINS,
        xml::BUILTINS,
    ];
    for table in tables {
        for bi in table {
            let short = bi.name.strip_prefix("__").unwrap_or(bi.name);
            let op = super::value::Shared::new(PrimOp {
                name: short,
                arity: bi.arity,
                func: bi.func,
            });
            globals.push((Rc::from(bi.name), Value::PrimOp(op)));
        }
    }
    let s = &m.settings;
    let nix_path: Vec<Value> = s
        .search_path
        .iter()
        .map(|(prefix, path)| {
            Value::attrs(Attrs::from_unsorted(vec![
                attr("path", Value::string(path.clone())),
                attr("prefix", Value::string(prefix.clone())),
            ]))
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    globals.extend([
        (Rc::from("true"), Value::Bool(true)),
        (Rc::from("false"), Value::Bool(false)),
        (Rc::from("null"), Value::Null),
        (Rc::from("__currentSystem"), Value::string(s.system.clone())),
        (Rc::from("__currentTime"), Value::Int(now)),
        (Rc::from("__nixVersion"), Value::string(NIX_VERSION)),
        (Rc::from("__langVersion"), Value::Int(6)),
        (Rc::from("__storeDir"), Value::string(s.store_dir.clone())),
        (Rc::from("__nixPath"), Value::list(nix_path)),
    ]);
    let derivation = derivation::derivation_value();
    globals.push((Rc::from("derivation"), derivation));

    // `builtins` holds everything without the `__` prefix, itself included.
    let builtins_attrs = super::value::Shared::new(Attrs::default());
    let builtins_value = Value::Attrs(builtins_attrs.clone());
    let mut entries: Vec<Attr> = globals
        .iter()
        .map(|(n, v)| attr(n.strip_prefix("__").unwrap_or(n), v.clone()))
        .collect();
    // The set contains itself: build it through a thunk-free cycle.
    let cell = super::value::Thunk::cell(super::value::ThunkState::Blackhole);
    entries.push(attr("builtins", Value::Thunk(cell.clone())));
    let set = Value::attrs(Attrs::from_unsorted(entries));
    cell.set(super::value::ThunkState::Done(set.clone()));
    drop(builtins_value);
    drop(builtins_attrs);
    globals.push((Rc::from("builtins"), set.clone()));

    m.base_names = globals.iter().map(|(n, _)| n.clone()).collect();
    m.base_env = Env::new(globals.into_iter().map(|(_, v)| v).collect(), None);
    m.builtins = set;
}

/// The version reported by `builtins.nixVersion`.
pub const NIX_VERSION: &str = "2.24.0";

/// An attribute without a source position.
pub fn attr(name: &str, value: Value) -> Attr {
    Attr {
        name: Rc::from(name),
        value,
        pos: Pos::NONE,
    }
}

/// A set built from name/value pairs in any order.
pub fn mk_attrs(pairs: Vec<(&str, Value)>) -> Value {
    Value::attrs(Attrs::from_unsorted(
        pairs.into_iter().map(|(n, v)| attr(n, v)).collect(),
    ))
}

/// A string result without context.
pub fn s(text: impl Into<String>) -> Value {
    Value::String(super::value::Shared::new(NixString::plain(text)))
}

/// Forces `v` and calls it with `args` (for builtins taking callbacks).
pub fn apply(m: &mut Machine, f: &Value, args: &[Value], pos: Pos) -> super::error::Result<Value> {
    let r = m.call_n(f, args, pos)?;
    m.force(&r)
}
