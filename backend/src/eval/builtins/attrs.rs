//! Attribute set built-ins.

use std::rc::Rc;

use super::{apply, b, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::ir::Param;
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{cmp_name, Attr, Attrs, Thunk, Value};

pub const BUILTINS: &[Builtin] = &[
    b("__attrNames", 1, attr_names),
    b("__attrValues", 1, attr_values),
    b("__getAttr", 2, get_attr),
    b("__hasAttr", 2, has_attr),
    b("__isAttrs", 1, is_attrs),
    b("removeAttrs", 2, remove_attrs),
    b("__listToAttrs", 1, list_to_attrs),
    b("__intersectAttrs", 2, intersect_attrs),
    b("__catAttrs", 2, cat_attrs),
    b("__functionArgs", 1, function_args),
    b("__mapAttrs", 2, map_attrs),
    b("__zipAttrsWith", 2, zip_attrs_with),
    b("__unsafeGetAttrPos", 2, unsafe_get_attr_pos),
    b("__genericClosure", 1, generic_closure),
];

fn attr_names(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let set = m.expect_attrs(&a[0], pos)?;
    Ok(Value::list(
        set.entries.iter().map(|e| s(&*e.name)).collect(),
    ))
}

fn attr_values(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let set = m.expect_attrs(&a[0], pos)?;
    Ok(Value::list(
        set.entries.iter().map(|e| e.value.clone()).collect(),
    ))
}

fn get_attr(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let set = m.expect_attrs(&a[1], pos)?;
    match set.get(&name.s) {
        Some(v) => m.force(&v.clone()),
        None => Err(other_error(format!("attribute '{}' missing", name.s), pos)),
    }
}

fn has_attr(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let set = m.expect_attrs(&a[1], pos)?;
    Ok(Value::Bool(set.get(&name.s).is_some()))
}

fn is_attrs(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Attrs(_))))
}

fn remove_attrs(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let set = m.expect_attrs(&a[0], pos)?;
    let names = m.expect_list(&a[1], pos)?;
    let mut remove = std::collections::HashSet::new();
    for n in names.iter() {
        remove.insert(m.expect_string(n, pos)?.s.clone());
    }
    if remove.is_empty() {
        return Ok(Value::Attrs(set));
    }
    Ok(Value::attrs(Attrs {
        entries: set
            .entries
            .iter()
            .filter(|e| !remove.contains(&*e.name))
            .cloned()
            .collect(),
    }))
}

fn list_to_attrs(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    let mut entries: Vec<Attr> = Vec::with_capacity(list.len());
    for x in list.iter() {
        let item = m.expect_attrs(x, pos)?;
        let name = m.get_attr(&item, "name", pos)?;
        let name = m.expect_string(&name, pos)?;
        let Some(value) = item.get_attr("value") else {
            return Err(other_error("attribute 'value' missing", pos));
        };
        let apos = item.get_attr("name").map(|a| a.pos).unwrap_or(Pos::NONE);
        entries.push(Attr {
            name: Rc::from(name.s.as_str()),
            value: value.value.clone(),
            pos: apos,
        });
    }
    // The first occurrence of a name wins.
    entries.reverse();
    let mut set = Attrs::from_unsorted(entries);
    set.entries.shrink_to_fit();
    Ok(Value::attrs(set))
}

fn intersect_attrs(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let x = m.expect_attrs(&a[0], pos)?;
    let y = m.expect_attrs(&a[1], pos)?;
    Ok(Value::attrs(Attrs {
        entries: y
            .entries
            .iter()
            .filter(|e| x.get(&e.name).is_some())
            .cloned()
            .collect(),
    }))
}

fn cat_attrs(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    let mut out = Vec::new();
    for x in list.iter() {
        let set = m.expect_attrs(x, pos)?;
        if let Some(v) = set.get(&name.s) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn function_args(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.force(&a[0])?;
    match &f {
        Value::Lambda(c) => match &c.def.param {
            Param::Ident => Ok(Value::attrs(Attrs::default())),
            Param::Pattern { formals, .. } => Ok(Value::attrs(Attrs::from_unsorted(
                formals
                    .iter()
                    .map(|f| Attr {
                        name: f.name.clone(),
                        value: Value::Bool(f.default.is_some()),
                        pos: f.pos,
                    })
                    .collect(),
            ))),
        },
        Value::PrimOp(_) | Value::PrimOpApp(_) => Ok(Value::attrs(Attrs::default())),
        other => Err(crate::eval::machine::expected("a function", other, pos)),
    }
}

fn map_attrs(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let set = m.expect_attrs(&a[1], pos)?;
    let f = a[0].clone();
    Ok(Value::attrs(Attrs {
        entries: set
            .entries
            .iter()
            .map(|e| Attr {
                name: e.name.clone(),
                value: Thunk::apply2(f.clone(), s(&*e.name), e.value.clone()),
                pos: e.pos,
            })
            .collect(),
    }))
}

fn zip_attrs_with(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[1], pos)?;
    let mut sets = Vec::with_capacity(list.len());
    for x in list.iter() {
        sets.push(m.expect_attrs(x, pos)?);
    }
    // Every set is sorted by name already, so the stable sort only merges those runs
    // (no tree of names), and keeps each name's values in list order.
    let mut all: Vec<&Attr> = sets.iter().flat_map(|set| set.entries.iter()).collect();
    all.sort_by(|x, y| cmp_name(&x.name, &y.name));
    let f = a[0].clone();
    let mut entries = Vec::new();
    let mut rest = &all[..];
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|e| cmp_name(&e.name, &first.name).is_eq())
            .count();
        let vals = rest[..n].iter().map(|e| e.value.clone()).collect();
        entries.push(Attr {
            name: first.name.clone(),
            value: Thunk::apply2(f.clone(), s(&*first.name), Value::list(vals)),
            pos: Pos::NONE,
        });
        rest = &rest[n..];
    }
    Ok(Value::attrs(Attrs { entries }))
}

fn unsafe_get_attr_pos(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let set = m.expect_attrs(&a[1], pos)?;
    match set.get_attr(&name.s) {
        Some(attr) => Ok(m.pos_to_attrs(attr.pos)),
        None => Ok(Value::Null),
    }
}

fn generic_closure(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let args = m.expect_attrs(&a[0], pos)?;
    let start = m.get_attr(&args, "startSet", pos)?;
    let start = m.expect_list(&start, pos)?;
    let op = m.get_attr(&args, "operator", pos)?;
    let op = m.expect_function(&op, pos)?;
    let mut work: std::collections::VecDeque<Value> = start.iter().cloned().collect();
    // Keys seen so far, kept sorted with Nix's value ordering.
    let mut keys: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    while let Some(item) = work.pop_front() {
        let set = m.expect_attrs(&item, pos)?;
        let key = m.get_attr(&set, "key", pos)?;
        // Binary search with a comparator that may fail.
        let (mut lo, mut hi) = (0, keys.len());
        let mut found = false;
        while lo < hi {
            let mid = (lo + hi) / 2;
            if m.less_than(&keys[mid], &key, pos)? {
                lo = mid + 1;
            } else if m.less_than(&key, &keys[mid], pos)? {
                hi = mid;
            } else {
                found = true;
                break;
            }
        }
        if found {
            continue;
        }
        keys.insert(lo, key);
        out.push(Value::Attrs(set.clone()));
        let next = apply(m, &op, &[Value::Attrs(set)], pos)?;
        let next = m.expect_list(&next, pos)?;
        work.extend(next.iter().cloned());
    }
    Ok(Value::list(out))
}
