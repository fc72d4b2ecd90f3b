//! `derivation`, `derivationStrict` and `placeholder`.

use std::rc::Rc;

use super::hashing::{nix32, Algo};
use super::{b, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::{update, Machine};
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, PrimOp, Shared, Thunk, ThunkState, Value};

pub const BUILTINS: &[Builtin] = &[
    b("derivationStrict", 1, derivation_strict),
    b("placeholder", 1, placeholder),
];

/// The `derivation` function: `derivationStrict` wrapped so every output is a set.
pub fn derivation_value() -> Value {
    Value::PrimOp(Shared::new(PrimOp {
        name: "derivation",
        arity: 1,
        func: derivation,
    }))
}

fn placeholder(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let out = m.expect_string(&a[0], pos)?;
    Ok(s(format!(
        "/{}",
        nix32(&Algo::Sha256.digest(format!("nix-output:{}", out.s).as_bytes()))
    )))
}

fn derivation(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let drv_attrs = m.expect_attrs(&a[0], pos)?;
    let outputs: Vec<String> = match drv_attrs.get("outputs") {
        Some(o) => {
            let l = m.expect_list(&o.clone(), pos)?;
            let mut v = Vec::new();
            for x in l.iter() {
                v.push(m.expect_string(x, pos)?.s.clone());
            }
            v
        }
        None => vec!["out".to_string()],
    };
    if outputs.is_empty() {
        return Err(other_error("'builtins.head' called on an empty list", pos));
    }
    let strict_fn = m.base_env_value("derivationStrict");
    let strict = Thunk::apply(strict_fn, Value::Attrs(drv_attrs.clone()));
    let cells: Vec<Shared<Thunk>> = outputs
        .iter()
        .map(|_| Thunk::cell(ThunkState::Blackhole))
        .collect();
    let mut extra: Vec<Attr> = outputs
        .iter()
        .zip(&cells)
        .map(|(o, c)| Attr {
            name: Rc::from(o.as_str()),
            value: Value::Thunk(c.clone()),
            pos: Pos::NONE,
        })
        .collect();
    extra.push(super::attr(
        "all",
        Value::list(cells.iter().map(|c| Value::Thunk(c.clone())).collect()),
    ));
    extra.push(super::attr("drvAttrs", Value::Attrs(drv_attrs.clone())));
    let extra = Shared::new(Attrs::from_unsorted(extra));
    let common = match update(&drv_attrs, &extra) {
        Value::Attrs(c) => c,
        _ => unreachable!("update returns a set"),
    };
    let select = |name: &str| {
        Thunk::apply(
            Value::PrimOp(Shared::new(PrimOp {
                name: "getAttr",
                arity: 2,
                func: get_attr_of,
            })),
            s(name),
        )
    };
    for (o, cell) in outputs.iter().zip(&cells) {
        let own = Attrs::from_unsorted(vec![
            super::attr("outPath", Thunk::apply(select(o), strict.clone())),
            super::attr("drvPath", Thunk::apply(select("drvPath"), strict.clone())),
            super::attr("type", s("derivation")),
            super::attr("outputName", s(o.as_str())),
        ]);
        let v = update(&common, &Shared::new(own));
        cell.set(ThunkState::Done(v));
    }
    m.force(&Value::Thunk(cells[0].clone()))
}

fn get_attr_of(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let set = m.expect_attrs(&a[1], pos)?;
    match set.get(&name.s) {
        Some(v) => m.force(&v.clone()),
        None => Err(other_error(format!("attribute '{}' missing", name.s), pos)),
    }
}

fn derivation_strict(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    super::super::derivation::derivation_strict(m, &a[0], pos)
}
