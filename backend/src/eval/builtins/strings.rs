//! String built-ins.

use super::{b, mk_attrs, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{Context, NixString, Value};

pub const BUILTINS: &[Builtin] = &[
    b("toString", 1, to_string),
    b("__substring", 3, substring),
    b("__stringLength", 1, string_length),
    b("__concatStringsSep", 2, concat_strings_sep),
    b("__replaceStrings", 3, replace_strings),
    b("__parseDrvName", 1, parse_drv_name),
    b("__compareVersions", 2, compare_versions),
    b("__splitVersion", 1, split_version),
];

fn to_string(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let r = m.coerce_to_string(&a[0], true, false, pos)?;
    Ok(Value::String(crate::eval::value::Shared::new(r)))
}

/// Cuts bytes `start..start+len` out of a string, keeping whatever is valid UTF-8.
pub fn byte_slice(s: &str, start: usize, len: usize) -> String {
    let bytes = s.as_bytes();
    let start = start.min(bytes.len());
    let end = start.saturating_add(len).min(bytes.len());
    match std::str::from_utf8(&bytes[start..end]) {
        Ok(x) => x.to_string(),
        Err(_) => String::from_utf8_lossy(&bytes[start..end]).into_owned(),
    }
}

fn substring(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let start = m.expect_int(&a[0], pos)?;
    let len = m.expect_int(&a[1], pos)?;
    if start < 0 {
        return Err(other_error("negative start position in 'substring'", pos));
    }
    let st = m.coerce_to_string(&a[2], false, false, pos)?;
    let len = if len < 0 { usize::MAX } else { len as usize };
    Ok(Value::string_ctx(
        byte_slice(&st.s, start as usize, len),
        st.ctx,
    ))
}

fn string_length(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.coerce_to_string(&a[0], false, false, pos)?;
    Ok(Value::Int(st.s.len() as i64))
}

fn concat_strings_sep(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let sep = m.expect_string(&a[0], pos)?;
    let list = m.expect_list(&a[1], pos)?;
    let mut out = String::new();
    let mut ctx = Context::new();
    for (i, x) in list.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep.s);
            ctx.extend(sep.ctx.iter().cloned());
        }
        m.coerce_to_string_into(x, &mut out, &mut ctx, false, true, pos)?;
    }
    Ok(Value::string_ctx(out, ctx))
}

fn replace_strings(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let from = m.expect_list(&a[0], pos)?;
    let to = m.expect_list(&a[1], pos)?;
    if from.len() != to.len() {
        return Err(other_error(
            "'from' and 'to' arguments passed to builtins.replaceStrings have different lengths",
            pos,
        ));
    }
    let mut pats: Vec<crate::eval::value::Shared<NixString>> = Vec::with_capacity(from.len());
    for f in from.iter() {
        pats.push(m.expect_string(f, pos)?);
    }
    let mut reps: Vec<Option<crate::eval::value::Shared<NixString>>> = vec![None; to.len()];
    let subject = m.expect_string(&a[2], pos)?;
    let bytes = subject.s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut ctx = subject.ctx.clone();
    let mut p = 0;
    while p <= bytes.len() {
        let mut found = false;
        for (i, pat) in pats.iter().enumerate() {
            let pb = pat.s.as_bytes();
            if bytes[p..].starts_with(pb) {
                found = true;
                if reps[i].is_none() {
                    reps[i] = Some(m.expect_string(&to[i], pos)?);
                }
                let r = reps[i].as_ref().expect("filled above");
                out.extend_from_slice(r.s.as_bytes());
                ctx.extend(r.ctx.iter().cloned());
                if pb.is_empty() {
                    if p < bytes.len() {
                        out.push(bytes[p]);
                    }
                    p += 1;
                } else {
                    p += pb.len();
                }
                break;
            }
        }
        if !found {
            if p < bytes.len() {
                out.push(bytes[p]);
            }
            p += 1;
        }
    }
    let out = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(Value::string_ctx(out, ctx))
}

fn parse_drv_name(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.coerce_to_string(&a[0], false, false, pos)?;
    let (name, version) = split_drv_name(&st.s);
    Ok(mk_attrs(vec![("name", s(name)), ("version", s(version))]))
}

/// Splits `hello-1.2` into `("hello", "1.2")`: at the first `-` not followed by a letter.
pub fn split_drv_name(full: &str) -> (String, String) {
    let b = full.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'-' && i + 1 < b.len() && !b[i + 1].is_ascii_alphabetic() {
            return (full[..i].to_string(), full[i + 1..].to_string());
        }
    }
    (full.to_string(), String::new())
}

fn next_component(s: &[u8], p: &mut usize) -> String {
    while *p < s.len() && (s[*p] == b'.' || s[*p] == b'-') {
        *p += 1;
    }
    let start = *p;
    if *p < s.len() && s[*p].is_ascii_digit() {
        while *p < s.len() && s[*p].is_ascii_digit() {
            *p += 1;
        }
    } else {
        while *p < s.len() && !(s[*p].is_ascii_digit() || s[*p] == b'.' || s[*p] == b'-') {
            *p += 1;
        }
    }
    String::from_utf8_lossy(&s[start..*p]).into_owned()
}

fn components_lt(c1: &str, c2: &str) -> bool {
    let n1: Option<i64> = if !c1.is_empty() && c1.bytes().all(|b| b.is_ascii_digit()) {
        c1.parse().ok()
    } else {
        None
    };
    let n2: Option<i64> = if !c2.is_empty() && c2.bytes().all(|b| b.is_ascii_digit()) {
        c2.parse().ok()
    } else {
        None
    };
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == "pre" && c2 != "pre" => true,
        _ if c2 == "pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

/// Nix's version ordering: -1, 0 or 1.
pub fn compare_version_strings(v1: &str, v2: &str) -> i64 {
    let (a, b) = (v1.as_bytes(), v2.as_bytes());
    let (mut p1, mut p2) = (0, 0);
    while p1 < a.len() || p2 < b.len() {
        let c1 = next_component(a, &mut p1);
        let c2 = next_component(b, &mut p2);
        if components_lt(&c1, &c2) {
            return -1;
        } else if components_lt(&c2, &c1) {
            return 1;
        }
    }
    0
}

fn compare_versions(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let x = m.expect_string(&a[0], pos)?;
    let y = m.expect_string(&a[1], pos)?;
    Ok(Value::Int(compare_version_strings(&x.s, &y.s)))
}

fn split_version(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let v = m.expect_string(&a[0], pos)?;
    let bytes = v.s.as_bytes();
    let mut p = 0;
    let mut out = Vec::new();
    while p < bytes.len() {
        let c = next_component(bytes, &mut p);
        if c.is_empty() {
            break;
        }
        out.push(s(c));
    }
    Ok(Value::list(out))
}
