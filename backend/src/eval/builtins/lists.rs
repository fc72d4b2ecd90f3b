//! List built-ins.

use std::rc::Rc;

use super::{apply, b, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, Thunk, Value};

pub const BUILTINS: &[Builtin] = &[
    b("map", 2, map),
    b("__filter", 2, filter),
    b("__elem", 2, elem),
    b("__elemAt", 2, elem_at),
    b("__head", 1, head),
    b("__tail", 1, tail),
    b("__length", 1, length),
    b("__foldl'", 3, foldl_strict),
    b("__any", 2, any),
    b("__all", 2, all),
    b("__genList", 2, gen_list),
    b("__sort", 2, sort),
    b("__partition", 2, partition),
    b("__groupBy", 2, group_by),
    b("__concatLists", 1, concat_lists),
    b("__concatMap", 2, concat_map),
    b("__isList", 1, is_list),
];

fn map(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[1], pos)?;
    if list.is_empty() {
        return Ok(Value::List(list));
    }
    let f = m.expect_function(&a[0], pos)?;
    Ok(Value::list(
        list.iter()
            .map(|x| Thunk::apply(f.clone(), x.clone()))
            .collect(),
    ))
}

fn filter(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[1], pos)?;
    let f = m.expect_function(&a[0], pos)?;
    let mut out = Vec::new();
    for x in list.iter() {
        let r = apply(m, &f, std::slice::from_ref(x), pos)?;
        if m.expect_bool(&r, pos)? {
            out.push(x.clone());
        }
    }
    if out.len() == list.len() {
        return Ok(Value::List(list));
    }
    Ok(Value::list(out))
}

fn elem(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[1], pos)?;
    for x in list.iter() {
        if m.equal(&a[0], x, pos)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn elem_at(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    let n = m.expect_int(&a[1], pos)?;
    if n < 0 || n as usize >= list.len() {
        return Err(other_error(
            format!(
                "'builtins.elemAt' called with index {n} on a list of size {}",
                list.len()
            ),
            pos,
        ));
    }
    m.force(&list[n as usize])
}

fn head(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    match list.first() {
        Some(x) => m.force(x),
        None => Err(other_error("'builtins.head' called on an empty list", pos)),
    }
}

fn tail(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    if list.is_empty() {
        return Err(other_error("'builtins.tail' called on an empty list", pos));
    }
    Ok(Value::list(list[1..].to_vec()))
}

fn length(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    Ok(Value::Int(m.expect_list(&a[0], pos)?.len() as i64))
}

fn foldl_strict(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[2], pos)?;
    if list.is_empty() {
        return m.force(&a[1]);
    }
    let mut acc = a[1].clone();
    for x in list.iter() {
        acc = apply(m, &f, &[acc, x.clone()], pos)?;
    }
    Ok(acc)
}

fn any(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    for x in list.iter() {
        let r = apply(m, &f, std::slice::from_ref(x), pos)?;
        if m.expect_bool(&r, pos)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn all(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    for x in list.iter() {
        let r = apply(m, &f, std::slice::from_ref(x), pos)?;
        if !m.expect_bool(&r, pos)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn gen_list(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let n = m.expect_int(&a[1], pos)?;
    if n < 0 {
        return Err(other_error(format!("cannot create list of size {n}"), pos));
    }
    let f = m.expect_function(&a[0], pos)?;
    Ok(Value::list(
        (0..n)
            .map(|i| Thunk::apply(f.clone(), Value::Int(i)))
            .collect(),
    ))
}

fn sort(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[1], pos)?;
    if list.is_empty() {
        return Ok(Value::List(list));
    }
    let f = m.expect_function(&a[0], pos)?;
    let mut items: Vec<Value> = Vec::with_capacity(list.len());
    for x in list.iter() {
        items.push(m.force(x)?);
    }
    // Stable merge sort whose comparator may fail.
    let mut buf = items.clone();
    merge_sort(m, &f, &mut items, &mut buf, pos)?;
    Ok(Value::list(items))
}

fn merge_sort(
    m: &mut Machine,
    f: &Value,
    v: &mut [Value],
    buf: &mut [Value],
    pos: Pos,
) -> Result<()> {
    let n = v.len();
    if n <= 1 {
        return Ok(());
    }
    if n <= 8 {
        // Insertion sort: stable, few comparisons for short runs.
        for i in 1..n {
            let mut j = i;
            while j > 0 {
                let r = apply(m, f, &[v[j].clone(), v[j - 1].clone()], pos)?;
                if m.expect_bool(&r, pos)? {
                    v.swap(j, j - 1);
                    j -= 1;
                } else {
                    break;
                }
            }
        }
        return Ok(());
    }
    let mid = n / 2;
    merge_sort(m, f, &mut v[..mid], &mut buf[..mid], pos)?;
    merge_sort(m, f, &mut v[mid..], &mut buf[mid..], pos)?;
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        // Take from the right only when it is strictly less: keeps the sort stable.
        let r = apply(m, f, &[v[j].clone(), v[i].clone()], pos)?;
        if m.expect_bool(&r, pos)? {
            buf[k] = v[j].clone();
            j += 1;
        } else {
            buf[k] = v[i].clone();
            i += 1;
        }
        k += 1;
    }
    while i < mid {
        buf[k] = v[i].clone();
        i += 1;
        k += 1;
    }
    while j < n {
        buf[k] = v[j].clone();
        j += 1;
        k += 1;
    }
    v.clone_from_slice(&buf[..n]);
    Ok(())
}

fn partition(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for x in list.iter() {
        let r = apply(m, &f, std::slice::from_ref(x), pos)?;
        if m.expect_bool(&r, pos)? {
            right.push(x.clone());
        } else {
            wrong.push(x.clone());
        }
    }
    Ok(super::mk_attrs(vec![
        ("right", Value::list(right)),
        ("wrong", Value::list(wrong)),
    ]))
}

fn group_by(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    let mut groups: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for x in list.iter() {
        let k = apply(m, &f, std::slice::from_ref(x), pos)?;
        let k = m.expect_string(&k, pos)?;
        groups.entry(k.s.clone()).or_default().push(x.clone());
    }
    Ok(Value::attrs(Attrs {
        entries: groups
            .into_iter()
            .map(|(k, v)| Attr {
                name: Rc::from(k.as_str()),
                value: Value::list(v),
                pos: Pos::NONE,
            })
            .collect(),
    }))
}

fn concat_lists(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    let mut out = Vec::new();
    for x in list.iter() {
        out.extend(m.expect_list(x, pos)?.iter().cloned());
    }
    Ok(Value::list(out))
}

fn concat_map(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let f = m.expect_function(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    let mut out = Vec::new();
    for x in list.iter() {
        let r = apply(m, &f, std::slice::from_ref(x), pos)?;
        out.extend(m.expect_list(&r, pos)?.iter().cloned());
    }
    Ok(Value::list(out))
}

fn is_list(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::List(_))))
}
