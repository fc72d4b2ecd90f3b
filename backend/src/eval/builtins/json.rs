//! `toJSON` and `fromJSON`.

use std::rc::Rc;

use super::{b, s, Builtin};
use crate::eval::error::{other_error, type_error, Result};
use crate::eval::machine::Machine;
use crate::eval::print::{json_string, ErrorValue};
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, Context, Value};

pub const BUILTINS: &[Builtin] = &[b("__toJSON", 1, to_json), b("__fromJSON", 1, from_json)];

fn to_json(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let mut ctx = Context::new();
    let mut out = String::new();
    value_to_json(m, &a[0], &mut out, &mut ctx, true, pos)?;
    Ok(Value::string_ctx(out, ctx))
}

/// Formats a float as Nix 2.8's JSON writer does (`std::ostream << double`: `%g`, six
/// significant digits; `1.0` is `1`, `123456789.0` is `1.23457e+08`).
pub fn json_float(f: f64) -> String {
    crate::eval::print::format_float_g(f)
}

/// Serialises a value as JSON (`toJSON`, `--json`); paths are copied to the store
/// when `copy_to_store`.
pub fn value_to_json(
    m: &mut Machine,
    v: &Value,
    out: &mut String,
    ctx: &mut Context,
    copy_to_store: bool,
    pos: Pos,
) -> Result<()> {
    let v = m.force(v)?;
    match &v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::String(st) => {
            ctx.extend(st.ctx.iter().cloned());
            out.push_str(&json_string(&st.s));
        }
        Value::Path(p) => {
            if copy_to_store {
                let sp = m.copy_path_to_store(p, pos)?;
                ctx.insert(sp.clone());
                out.push_str(&json_string(&sp));
            } else {
                out.push_str(&json_string(p));
            }
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value_to_json(m, x, out, ctx, copy_to_store, pos).map_err(|e| {
                    e.with_frame(pos, format!("while evaluating list element at index {i}"))
                })?;
            }
            out.push(']');
        }
        Value::Attrs(_) => {
            // Peel `__toString` and `outPath` like Nix.
            let mut cur = v.clone();
            let mut through_to_string = false;
            while let Value::Attrs(a) = &cur {
                if let Some(f) = a.get("__toString") {
                    let f = f.clone();
                    let r = m.call_n(&f, &[cur.clone()], pos)?;
                    cur = m.force(&r)?;
                    through_to_string = true;
                    continue;
                }
                if let Some(p) = a.get("outPath") {
                    let p = p.clone();
                    cur = m.force(&p)?;
                    continue;
                }
                break;
            }
            match &cur {
                Value::Attrs(a) => {
                    if through_to_string {
                        return Err(type_error(
                            format!(
                                "`__toString` must return a string, but got a set: {}",
                                ErrorValue(&cur)
                            ),
                            pos,
                        ));
                    }
                    out.push('{');
                    for (i, attr) in a.entries.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&json_string(&attr.name));
                        out.push(':');
                        value_to_json(m, &attr.value, out, ctx, copy_to_store, attr.pos).map_err(
                            |e| {
                                e.with_frame(
                                    attr.pos,
                                    format!("while evaluating attribute '{}'", attr.name),
                                )
                            },
                        )?;
                    }
                    out.push('}');
                }
                Value::String(_) | Value::Path(_) => {
                    value_to_json(m, &cur, out, ctx, copy_to_store && !through_to_string, pos)?;
                }
                other if through_to_string => {
                    return Err(type_error(
                        format!(
                            "`__toString` should return a string, but got {}: {}",
                            other.show_type(),
                            ErrorValue(other)
                        ),
                        pos,
                    ))
                }
                _ => value_to_json(m, &cur, out, ctx, copy_to_store, pos)?,
            }
        }
        other => {
            return Err(type_error(
                format!("cannot convert {} to JSON", other.show_type()),
                pos,
            ));
        }
    }
    Ok(())
}

fn from_json(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.expect_string(&a[0], pos)?;
    let j: serde_json::Value = serde_json::from_str(&st.s)
        .map_err(|e| other_error(format!("while decoding a JSON string: {e}"), pos))?;
    json_to_value(&j, pos)
}

/// Converts parsed JSON to a Nix value.
pub fn json_to_value(j: &serde_json::Value, pos: Pos) -> Result<Value> {
    Ok(match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                return Err(other_error(
                    format!("unsigned json number {u} outside of Nix integer range"),
                    pos,
                ));
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(x) => {
            check_no_nul(x, pos)?;
            s(x.as_str())
        }
        serde_json::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for x in items {
                out.push(json_to_value(x, pos)?);
            }
            Value::list(out)
        }
        serde_json::Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                check_no_nul(k, pos)?;
                entries.push(Attr {
                    name: Rc::from(k.as_str()),
                    value: json_to_value(v, pos)?,
                    pos: Pos::NONE,
                });
            }
            Value::attrs(Attrs::from_unsorted(entries))
        }
    })
}

/// Nix strings cannot hold NUL bytes.
pub fn check_no_nul(x: &str, pos: Pos) -> Result<()> {
    if x.contains('\0') {
        return Err(other_error(
            format!(
                "input string '{}' cannot be represented as Nix string because it contains null bytes",
                x.replace('\0', "␀")
            ),
            pos,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::json_float;

    #[test]
    fn floats_like_nix_2_8() {
        // `nix-instantiate --eval -E 'builtins.toJSON [ … ]'` with Nix 2.8.
        let cases = [
            (1.44, "1.44"),
            (3.0, "3"),
            (-0.5, "-0.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-07"),
            (999999.5, "1e+06"),
            (1234567.0, "1.23457e+06"),
            (123456.7, "123457"),
            (0.1 + 0.2, "0.3"),
            (100.0, "100"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(json_float(f), want, "{f}");
        }
    }
}
