//! Type predicates, control, tracing, arithmetic and environment built-ins.

use super::{b, mk_attrs, s, Builtin};
use crate::eval::error::{other_error, ErrorKind, EvalError, Result};
use crate::eval::ir::BinOp;
use crate::eval::machine::{expected, Machine};
use crate::eval::print::ErrorValue;
use crate::eval::source::Pos;
use crate::eval::value::Value;

pub const BUILTINS: &[Builtin] = &[
    b("__typeOf", 1, type_of),
    b("isNull", 1, is_null),
    b("__isFunction", 1, is_function),
    b("__isInt", 1, is_int),
    b("__isFloat", 1, is_float),
    b("__isString", 1, is_string),
    b("__isBool", 1, is_bool),
    b("__isPath", 1, is_path),
    b("throw", 1, throw),
    b("abort", 1, abort),
    b("__addErrorContext", 2, add_error_context),
    b("__tryEval", 1, try_eval),
    b("__getEnv", 1, get_env),
    b("__seq", 2, seq),
    b("__deepSeq", 2, deep_seq),
    b("__trace", 2, trace),
    b("__traceVerbose", 2, trace_verbose),
    b("__warn", 2, warn),
    b("break", 1, break_),
    b("__add", 2, add),
    b("__sub", 2, sub),
    b("__mul", 2, mul),
    b("__div", 2, div),
    b("__bitAnd", 2, bit_and),
    b("__bitOr", 2, bit_or),
    b("__bitXor", 2, bit_xor),
    b("__lessThan", 2, less_than),
    b("__ceil", 1, ceil),
    b("__floor", 1, floor),
    b("__fetchurl", 1, fetchurl),
    b("fetchTarball", 1, fetch_tarball),
    b("fetchGit", 1, fetch_git),
    b("fetchMercurial", 1, fetch_mercurial),
    b("fetchTree", 1, fetch_tree),
    b("__fetchClosure", 1, fetch_closure),
    b("__getFlake", 1, get_flake),
    b("__flakeRefToString", 1, flake_ref_to_string),
    b("__parseFlakeRef", 1, parse_flake_ref),
];

fn type_of(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(s(m.force(&a[0])?.type_of()))
}
fn is_null(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Null)))
}
fn is_function(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(m.force(&a[0])?.is_function()))
}
fn is_int(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Int(_))))
}
fn is_float(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Float(_))))
}
fn is_string(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::String(_))))
}
fn is_bool(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Bool(_))))
}
fn is_path(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    Ok(Value::Bool(matches!(m.force(&a[0])?, Value::Path(_))))
}

fn throw(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let msg = m.coerce_to_string(&a[0], false, false, pos)?;
    Err(EvalError::new(ErrorKind::Throw, msg.s, pos))
}

fn abort(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let msg = m.coerce_to_string(&a[0], false, false, pos)?;
    Err(EvalError::new(
        ErrorKind::Abort,
        format!(
            "evaluation aborted with the following error message: '{}'",
            msg.s
        ),
        pos,
    ))
}

fn add_error_context(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    match m.force(&a[1]) {
        Ok(v) => Ok(v),
        Err(e) => {
            let ctx = m
                .coerce_to_string(&a[0], false, false, pos)
                .map(|s| s.s)
                .unwrap_or_default();
            Err(e.with_frame(pos, ctx))
        }
    }
}

fn try_eval(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    match m.force(&a[0]) {
        Ok(v) => Ok(mk_attrs(vec![("success", Value::Bool(true)), ("value", v)])),
        Err(e) if e.catchable() => Ok(mk_attrs(vec![
            ("success", Value::Bool(false)),
            ("value", Value::Bool(false)),
        ])),
        Err(e) => Err(e),
    }
}

fn get_env(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    Ok(s(std::env::var(&name.s).unwrap_or_default()))
}

fn seq(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    m.force(&a[0])?;
    m.force(&a[1])
}

fn deep_seq(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    m.force_deep(&a[0])?;
    m.force(&a[1])
}

fn trace(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    let v = m.force(&a[0])?;
    let text = match &v {
        Value::String(s) => s.s.clone(),
        other => ErrorValue(other).to_string(),
    };
    m.emit(&format!("trace: {text}"));
    m.force(&a[1])
}

fn trace_verbose(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    m.force(&a[1])
}

fn warn(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let msg = m.expect_string(&a[0], pos)?;
    let body = if msg.s.starts_with('\n') {
        msg.s.clone()
    } else {
        msg.s.replace('\n', "\n                    ")
    };
    m.emit(&format!("evaluation warning: {body}"));
    m.force(&a[1])
}

fn break_(m: &mut Machine, a: &[Value], _pos: Pos) -> Result<Value> {
    m.force(&a[0])
}

fn add(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let x = m.force(&a[0])?;
    let y = m.force(&a[1])?;
    match (&x, &y) {
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => m.add(&x, &y, pos),
        _ => numeric_type_error(&x, &y, pos),
    }
}
fn sub(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    m.arith(BinOp::Sub, &a[0], &a[1], pos)
}
fn mul(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    m.arith(BinOp::Mul, &a[0], &a[1], pos)
}
fn div(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    // Nix checks the divisor (as a float) first.
    let d = m.force(&a[1])?;
    if !matches!(d, Value::Int(_) | Value::Float(_)) {
        return Err(expected("a float", &d, pos));
    }
    m.arith(BinOp::Div, &a[0], &a[1], pos)
}

/// The error `builtins.add` & co. give for non-numbers.
pub fn numeric_type_error(x: &Value, y: &Value, pos: Pos) -> Result<Value> {
    let is_num = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
    if matches!(x, Value::Float(_)) || matches!(y, Value::Float(_)) {
        let bad = if is_num(x) { y } else { x };
        Err(expected("a float", bad, pos))
    } else {
        let bad = if matches!(x, Value::Int(_)) { y } else { x };
        Err(expected("an integer", bad, pos))
    }
}

fn bit_and(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    Ok(Value::Int(
        m.expect_int(&a[0], pos)? & m.expect_int(&a[1], pos)?,
    ))
}
fn bit_or(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    Ok(Value::Int(
        m.expect_int(&a[0], pos)? | m.expect_int(&a[1], pos)?,
    ))
}
fn bit_xor(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    Ok(Value::Int(
        m.expect_int(&a[0], pos)? ^ m.expect_int(&a[1], pos)?,
    ))
}
fn less_than(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    Ok(Value::Bool(m.less_than(&a[0], &a[1], pos)?))
}

fn round_to_int(m: &mut Machine, v: &Value, pos: Pos, f: fn(f64) -> f64) -> Result<Value> {
    match m.force(v)? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(x) => {
            let r = f(x);
            if !(-9.223372036854776e18..9.223372036854776e18).contains(&r) {
                return Err(other_error(
                    format!("float {x} cannot be converted to an integer"),
                    pos,
                ));
            }
            Ok(Value::Int(r as i64))
        }
        other => Err(expected("a float", &other, pos)),
    }
}
fn ceil(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    round_to_int(m, &a[0], pos, f64::ceil)
}
fn floor(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    round_to_int(m, &a[0], pos, f64::floor)
}

fn no_network(name: &str, pos: Pos) -> Result<Value> {
    Err(other_error(
        format!("'builtins.{name}' needs network access, which strata's evaluator does not do; use the nix engine"),
        pos,
    ))
}
fn fetchurl(_m: &mut Machine, _a: &[Value], pos: Pos) -> Result<Value> {
    no_network("fetchurl", pos)
}
fn fetch_tarball(_m: &mut Machine, _a: &[Value], pos: Pos) -> Result<Value> {
    no_network("fetchTarball", pos)
}
fn fetch_mercurial(_m: &mut Machine, _a: &[Value], pos: Pos) -> Result<Value> {
    no_network("fetchMercurial", pos)
}
fn fetch_closure(_m: &mut Machine, _a: &[Value], pos: Pos) -> Result<Value> {
    no_network("fetchClosure", pos)
}
fn get_flake(_m: &mut Machine, _a: &[Value], pos: Pos) -> Result<Value> {
    Err(other_error(
        "'builtins.getFlake' is not supported by strata's evaluator; use the nix engine",
        pos,
    ))
}

fn fetch_git(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    super::paths::fetch_git_local(m, &a[0], pos)
}

fn fetch_tree(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let v = m.force(&a[0])?;
    if let Value::String(url) = &v {
        if let Some(rest) = url.s.strip_prefix("file:") {
            if !rest.starts_with('/') {
                return Err(other_error(
                    format!(
                        "tarball '{}' must use an absolute path. The 'file' scheme does not support relative paths.",
                        url.s
                    ),
                    pos,
                ));
            }
        }
        if let Some(p) = url.s.strip_prefix("path:") {
            let attrs = mk_attrs(vec![("type", s("path")), ("path", s(p))]);
            return super::paths::fetch_tree_path(m, &attrs, pos);
        }
        return no_network("fetchTree", pos);
    }
    let attrs = m.expect_attrs(&v, pos)?;
    let ty = m.get_attr(&attrs, "type", pos)?;
    let ty = m.expect_string(&ty, pos)?;
    match ty.s.as_str() {
        "path" => super::paths::fetch_tree_path(m, &v, pos),
        "git" => super::paths::fetch_git_local(m, &v, pos),
        _ => no_network("fetchTree", pos),
    }
}

fn flake_ref_to_string(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let attrs = m.expect_attrs(&a[0], pos)?;
    let mut params: Vec<(String, String)> = Vec::new();
    let get = |m: &mut Machine, name: &str| -> Result<Option<String>> {
        match attrs.get(name) {
            None => Ok(None),
            Some(v) => {
                let v = m.force(&v.clone())?;
                match &v {
                    Value::String(s) => Ok(Some(s.s.clone())),
                    Value::Int(i) if *i < 0 => Err(other_error(
                        format!("negative value given for flake ref attr {name}: {i}"),
                        pos,
                    )),
                    Value::Int(i) => Ok(Some(i.to_string())),
                    Value::Bool(b) => Ok(Some(if *b { "1".into() } else { "0".into() })),
                    other => Err(other_error(
                        format!("flake reference attribute sets may only contain integers, Booleans, and strings, but attribute '{name}' is {}", other.show_type()),
                        pos,
                    )),
                }
            }
        }
    };
    let ty = get(m, "type")?.unwrap_or_default();
    let mut seen = std::collections::BTreeMap::new();
    for e in &attrs.entries {
        let v = get(m, &e.name)?;
        seen.insert(e.name.to_string(), v.unwrap_or_default());
    }
    let base = match ty.as_str() {
        "github" | "gitlab" | "sourcehut" => {
            let owner = seen.remove("owner").unwrap_or_default();
            let repo = seen.remove("repo").unwrap_or_default();
            let mut s = format!("{ty}:{owner}/{repo}");
            if let Some(r) = seen.remove("rev").or_else(|| seen.remove("ref")) {
                s.push('/');
                s.push_str(&r);
            }
            s
        }
        "path" => format!("path:{}", seen.remove("path").unwrap_or_default()),
        "indirect" => {
            let mut s = format!("flake:{}", seen.remove("id").unwrap_or_default());
            if let Some(r) = seen.remove("ref") {
                s.push('/');
                s.push_str(&r);
            }
            if let Some(r) = seen.remove("rev") {
                s.push('/');
                s.push_str(&r);
            }
            s
        }
        other => format!("{other}+{}", seen.remove("url").unwrap_or_default()),
    };
    seen.remove("type");
    params.extend(seen);
    if params.is_empty() {
        return Ok(s(base));
    }
    let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(s(format!("{base}?{}", q.join("&"))))
}

fn parse_flake_ref(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let r = m.expect_string(&a[0], pos)?;
    let (base, query) = match r.s.split_once('?') {
        Some((b, q)) => (b.to_string(), q.to_string()),
        None => (r.s.clone(), String::new()),
    };
    let mut pairs: Vec<(String, Value)> = Vec::new();
    if let Some(rest) = base
        .strip_prefix("github:")
        .or_else(|| base.strip_prefix("gitlab:"))
    {
        let ty = base.split(':').next().unwrap_or("github");
        let parts: Vec<&str> = rest.split('/').collect();
        pairs.push(("type".into(), s(ty)));
        pairs.push(("owner".into(), s(*parts.first().unwrap_or(&""))));
        pairs.push(("repo".into(), s(*parts.get(1).unwrap_or(&""))));
        if let Some(r) = parts.get(2) {
            let is_rev = r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit());
            pairs.push((if is_rev { "rev" } else { "ref" }.into(), s(*r)));
        }
    } else if let Some(p) = base.strip_prefix("path:") {
        pairs.push(("type".into(), s("path")));
        pairs.push(("path".into(), s(p)));
    } else if base.starts_with('/') || base.starts_with('.') {
        pairs.push(("type".into(), s("path")));
        pairs.push(("path".into(), s(base.as_str())));
    } else {
        let id = base.strip_prefix("flake:").unwrap_or(&base);
        let parts: Vec<&str> = id.split('/').collect();
        pairs.push(("type".into(), s("indirect")));
        pairs.push(("id".into(), s(parts[0])));
        if let Some(r) = parts.get(1) {
            pairs.push(("ref".into(), s(*r)));
        }
    }
    for kv in query.split('&').filter(|q| !q.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        pairs.push((k.to_string(), s(v)));
    }
    Ok(mk_attrs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect(),
    ))
}

/// Candidate names close to `query`, best first (Nix's `Suggestions::trim`).
pub fn suggestions(names: &[&str], query: &str) -> Vec<String> {
    let mut scored: Vec<(usize, String)> = names
        .iter()
        .map(|n| (levenshtein(query, n), n.to_string()))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .filter(|(d, _)| *d <= 2)
        .take(5)
        .map(|(_, n)| n)
        .collect()
}

/// "y", "one of x or y", "one of x, y or z".
pub fn one_of(s: &[String]) -> String {
    match s.len() {
        0 => String::new(),
        1 => s[0].clone(),
        n => format!("one of {} or {}", s[..n - 1].join(", "), s[n - 1]),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut v0: Vec<usize> = (0..=b.len()).collect();
    let mut v1 = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        v1[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = if ca == cb { v0[j] } else { v0[j] + 1 };
            v1[j + 1] = (v0[j + 1] + 1).min(v1[j] + 1).min(sub);
        }
        std::mem::swap(&mut v0, &mut v1);
    }
    v0[b.len()]
}
