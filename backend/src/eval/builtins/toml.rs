//! `fromTOML`.

use std::rc::Rc;

use super::{b, mk_attrs, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, Value};

pub const BUILTINS: &[Builtin] = &[b("fromTOML", 1, from_toml)];

fn from_toml(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let st = m.expect_string(&a[0], pos)?;
    let table: toml::Table = toml::from_str(&st.s).map_err(|e| {
        let msg = e.message().to_string();
        if msg.contains("i128") || msg.contains("out of range") {
            // Word it as toml11 (which Nix uses) does.
            let start = e.span().map(|s| s.start).unwrap_or(0);
            let line_no = st.s[..start.min(st.s.len())].matches('\n').count() + 1;
            let line = st.s.lines().nth(line_no - 1).unwrap_or("");
            return other_error(
                format!(
                    "while parsing TOML: [error] toml::parse_dec_integer: too large integer: current max digits = 2^63\n --> fromTOML\n   |\n {line_no} | {line}\n   |        ^-- must be < 2^63"
                ),
                pos,
            );
        }
        other_error(format!("while parsing TOML: {msg}"), pos)
    })?;
    let timestamps = m.settings.toml_timestamps;
    convert(&toml::Value::Table(table), timestamps, pos)
}

fn convert(v: &toml::Value, timestamps: bool, pos: Pos) -> Result<Value> {
    let no_nul = |x: &str| -> Result<()> {
        if x.contains('\0') {
            return Err(other_error(
                format!(
                    "while parsing TOML: error: input string '{}' cannot be represented as Nix string because it contains null bytes",
                    x.replace('\0', "␀")
                ),
                pos,
            ));
        }
        Ok(())
    };
    Ok(match v {
        toml::Value::String(x) => {
            no_nul(x)?;
            s(x.as_str())
        }
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for x in items {
                out.push(convert(x, timestamps, pos)?);
            }
            Value::list(out)
        }
        toml::Value::Table(t) => {
            let mut entries = Vec::with_capacity(t.len());
            for (k, x) in t {
                no_nul(k)?;
                entries.push(Attr {
                    name: Rc::from(k.as_str()),
                    value: convert(x, timestamps, pos)?,
                    pos: Pos::NONE,
                });
            }
            Value::attrs(Attrs::from_unsorted(entries))
        }
        toml::Value::Datetime(dt) => {
            if !timestamps {
                return Err(other_error(
                    "while parsing TOML: Dates and times are not supported",
                    pos,
                ));
            }
            mk_attrs(vec![
                ("_type", s("timestamp")),
                ("value", s(format_datetime(dt))),
            ])
        }
    })
}

/// Normalised RFC 3339 text, as toml11 prints it (fractions in 3, 6 or 9 digits).
fn format_datetime(dt: &toml::value::Datetime) -> String {
    let mut out = String::new();
    if let Some(d) = &dt.date {
        out.push_str(&format!("{:04}-{:02}-{:02}", d.year, d.month, d.day));
    }
    if let Some(t) = &dt.time {
        if dt.date.is_some() {
            out.push('T');
        }
        out.push_str(&format!(
            "{:02}:{:02}:{:02}",
            t.hour,
            t.minute,
            t.second.unwrap_or(0)
        ));
        let ns = t.nanosecond.unwrap_or(0);
        if ns != 0 {
            if ns % 1_000_000 == 0 {
                out.push_str(&format!(".{:03}", ns / 1_000_000));
            } else if ns % 1000 == 0 {
                out.push_str(&format!(".{:06}", ns / 1000));
            } else {
                out.push_str(&format!(".{ns:09}"));
            }
        }
    }
    if let Some(o) = &dt.offset {
        match o {
            toml::value::Offset::Z => out.push('Z'),
            toml::value::Offset::Custom { minutes } => {
                let sign = if *minutes < 0 { '-' } else { '+' };
                let m = minutes.unsigned_abs();
                out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
            }
        }
    }
    out
}
