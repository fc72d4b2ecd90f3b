//! String context built-ins.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{b, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, Context, Value};

pub const BUILTINS: &[Builtin] = &[
    b("__unsafeDiscardStringContext", 1, discard),
    b("__hasContext", 1, has_context),
    b(
        "__unsafeDiscardOutputDependency",
        1,
        discard_output_dependency,
    ),
    b("__addDrvOutputDependencies", 1, add_drv_output_dependencies),
    b("__getContext", 1, get_context),
    b("__appendContext", 2, append_context),
];

fn discard(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.coerce_to_string(&a[0], false, false, pos)?;
    Ok(Value::string(st.s))
}

fn has_context(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.expect_string(&a[0], pos)?;
    Ok(Value::Bool(!st.ctx.is_empty()))
}

fn discard_output_dependency(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.coerce_to_string(&a[0], false, false, pos)?;
    let ctx: Context = st
        .ctx
        .iter()
        .map(|c| c.strip_prefix('=').unwrap_or(c).to_string())
        .collect();
    Ok(Value::string_ctx(st.s, ctx))
}

fn add_drv_output_dependencies(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.coerce_to_string(&a[0], false, false, pos)?;
    if st.ctx.len() != 1 {
        return Err(other_error(
            format!(
                "context of string '{}' must have exactly one element, but has {}",
                st.s,
                st.ctx.len()
            ),
            pos,
        ));
    }
    let c = st.ctx.iter().next().expect("one element").clone();
    let new = if let Some(rest) = c.strip_prefix('!') {
        let out = rest.split('!').next().unwrap_or("");
        return Err(other_error(
            format!("`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '{out}'"),
            pos,
        ));
    } else if c.starts_with('=') {
        c
    } else {
        if !c.ends_with(".drv") {
            return Err(other_error(format!("path '{c}' is not a derivation"), pos));
        }
        format!("={c}")
    };
    let mut ctx = Context::new();
    ctx.insert(new);
    Ok(Value::string_ctx(st.s, ctx))
}

#[derive(Default)]
struct Info {
    path: bool,
    all_outputs: bool,
    outputs: Vec<String>,
}

fn get_context(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.expect_string(&a[0], pos)?;
    let mut infos: BTreeMap<String, Info> = BTreeMap::new();
    for c in &st.ctx {
        if let Some(drv) = c.strip_prefix('=') {
            infos.entry(drv.to_string()).or_default().all_outputs = true;
        } else if let Some(rest) = c.strip_prefix('!') {
            let (out, drv) = rest.split_once('!').unwrap_or((rest, ""));
            infos
                .entry(drv.to_string())
                .or_default()
                .outputs
                .push(out.to_string());
        } else {
            infos.entry(c.clone()).or_default().path = true;
        }
    }
    let entries = infos
        .into_iter()
        .map(|(p, i)| {
            let mut fields = Vec::new();
            if i.all_outputs {
                fields.push(super::attr("allOutputs", Value::Bool(true)));
            }
            if !i.outputs.is_empty() {
                let mut outs = i.outputs;
                outs.sort();
                fields.push(super::attr(
                    "outputs",
                    Value::list(outs.into_iter().map(Value::string).collect()),
                ));
            }
            if i.path {
                fields.push(super::attr("path", Value::Bool(true)));
            }
            Attr {
                name: Rc::from(p.as_str()),
                value: Value::attrs(Attrs::from_unsorted(fields)),
                pos: Pos::NONE,
            }
        })
        .collect();
    Ok(Value::attrs(Attrs { entries }))
}

fn append_context(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.expect_string(&a[0], pos)?;
    let extra = m.expect_attrs(&a[1], pos)?;
    let mut ctx = st.ctx.clone();
    let store = format!("{}/", m.settings.store_dir);
    for e in &extra.entries {
        if !e.name.starts_with(&store) {
            return Err(other_error(
                format!("context key '{}' is not a store path", e.name),
                pos,
            ));
        }
        let info = m.expect_attrs(&e.value, pos)?;
        if let Some(p) = info.get("path") {
            if m.expect_bool(&p.clone(), pos)? {
                ctx.insert(e.name.to_string());
            }
        }
        if let Some(p) = info.get("allOutputs") {
            if m.expect_bool(&p.clone(), pos)? {
                if !e.name.ends_with(".drv") {
                    return Err(other_error(
                        format!("tried to add all-outputs context of {}, which is not a derivation, to a string", e.name),
                        pos,
                    ));
                }
                ctx.insert(format!("={}", e.name));
            }
        }
        if let Some(o) = info.get("outputs") {
            let outs = m.expect_list(&o.clone(), pos)?;
            if !outs.is_empty() && !e.name.ends_with(".drv") {
                return Err(other_error(
                    format!("tried to add derivation output context of {}, which is not a derivation, to a string", e.name),
                    pos,
                ));
            }
            for out in outs.iter() {
                let out = m.expect_string(out, pos)?;
                ctx.insert(format!("!{}!{}", out.s, e.name));
            }
        }
    }
    Ok(Value::string_ctx(st.s.clone(), ctx))
}
