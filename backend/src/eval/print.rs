//! Printing values: what `nix-instantiate --eval` writes, and the bounded form
//! used inside error messages.

use std::collections::HashSet;
use std::fmt::{self, Write};

use super::source::ShowPos;
use super::value::{Shared, Value};

/// Formats a float like C++'s `ostream << double` (`%g`, 6 significant digits).
pub fn format_float_g(f: f64) -> String {
    format_g(f, 6)
}

/// `%g` with the given precision.
pub fn format_g(f: f64, prec: usize) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = prec.max(1);
    let e = format!("{:.*e}", p - 1, f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let decimals = (p as i32 - 1 - x).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, f))
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Formats a float like `std::to_string(double)` (`%f`), as `toString` does.
pub fn format_float_fixed(f: f64) -> String {
    format!("{f:.6}")
}

/// Writes a string literal with Nix's escapes.
pub fn write_string_literal(out: &mut String, s: &str, max_len: usize) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut printed = 0;
    for (i, c) in s.char_indices() {
        if printed >= max_len {
            out.push_str("\" ");
            let _ = write!(out, "«{} elided»", plural(s.len() - i, "byte", "bytes"));
            return;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if bytes.get(i + 1) == Some(&b'{') => out.push_str("\\$"),
            c => out.push(c),
        }
        printed += c.len_utf8();
    }
    out.push('"');
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn is_var_name(s: &str) -> bool {
    let Some(c) = s.chars().next() else {
        return false;
    };
    if matches!(
        s,
        "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit"
    ) {
        return false;
    }
    if c.is_ascii_digit() || c == '-' || c == '\'' {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '\'')
}

/// An attribute name, quoted when it is not a plain identifier.
pub fn write_attr_name(out: &mut String, name: &str) {
    if is_var_name(name) {
        out.push_str(name);
    } else {
        write_string_literal(out, name, usize::MAX);
    }
}

/// Resolves an already-forced thunk to its value, without forcing anything.
fn peek(v: &Value) -> Option<Value> {
    match v {
        Value::Thunk(t) => t.done_value(),
        // A lambda made in place of a thunk that nothing has forced yet.
        Value::Lambda(c) if !c.is_forced() => None,
        v => Some(v.clone()),
    }
}

/// Prints a value the way `nix-instantiate --eval` (Nix 2.8) does; unforced parts
/// appear as `<CODE>`.
pub fn print_value(v: &Value) -> String {
    let mut out = String::new();
    let mut seen = HashSet::new();
    print_28(&mut out, v, &mut seen);
    out
}

fn print_28(out: &mut String, v0: &Value, seen: &mut HashSet<usize>) {
    // Nix stores lists of up to two elements inside the value itself, so a copy of
    // such a list (reached through another thunk) is not "repeated": key it by the
    // thunk it came through.
    let small_key = match v0 {
        Value::Thunk(t) => Some(Shared::addr(t)),
        _ => None,
    };
    let v = v0;
    let Some(v) = peek(v) else {
        if let Value::Thunk(t) = v {
            if t.is_blackhole() {
                out.push_str("«potential infinite recursion»");
                return;
            }
        }
        out.push_str("<CODE>");
        return;
    };
    match &v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float_g(*f)),
        Value::String(s) => write_string_literal(out, &s.s, usize::MAX),
        Value::Path(p) => out.push_str(p),
        Value::Attrs(a) => {
            if !a.is_empty() && !seen.insert(Shared::addr(a)) {
                out.push_str("«repeated»");
                return;
            }
            out.push_str("{ ");
            for attr in &a.entries {
                write_attr_name(out, &attr.name);
                out.push_str(" = ");
                print_28(out, &attr.value, seen);
                out.push_str("; ");
            }
            out.push('}');
        }
        Value::List(l) => {
            let key = match small_key {
                Some(k) if l.len() <= 2 => k,
                _ => Shared::addr(l),
            };
            if !l.is_empty() && !seen.insert(key) {
                out.push_str("«repeated»");
                return;
            }
            out.push_str("[ ");
            for x in l.iter() {
                print_28(out, x, seen);
                out.push(' ');
            }
            out.push(']');
        }
        Value::Lambda(_) => out.push_str("<LAMBDA>"),
        Value::PrimOp(_) => out.push_str("<PRIMOP>"),
        Value::PrimOpApp(_) => out.push_str("<PRIMOP-APP>"),
        Value::Thunk(_) => out.push_str("<CODE>"),
    }
}

/// Bounded printing for error messages (current Nix's `errorPrintOptions`).
pub struct ErrorValue<'a>(pub &'a Value);

impl fmt::Display for ErrorValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show_value_for_error(self.0))
    }
}

/// The string `ErrorValue` displays.
pub fn show_value_for_error(v: &Value) -> String {
    let mut p = ErrPrinter {
        out: String::new(),
        seen: HashSet::new(),
        attrs: 0,
        items: 0,
    };
    p.print(v, 0);
    p.out
}

struct ErrPrinter {
    out: String,
    seen: HashSet<usize>,
    attrs: usize,
    items: usize,
}

const MAX_DEPTH: usize = 10;
const MAX_ATTRS: usize = 10;
const MAX_ITEMS: usize = 10;
const MAX_STRING: usize = 1024;

impl ErrPrinter {
    fn print(&mut self, v: &Value, depth: usize) {
        let Some(v) = peek(v) else {
            if let Value::Thunk(t) = v {
                if t.is_blackhole() {
                    self.out.push_str("«potential infinite recursion»");
                    return;
                }
            }
            self.out.push_str("«thunk»");
            return;
        };
        match &v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Float(x) => self.out.push_str(&format_float_g(*x)),
            Value::String(s) => write_string_literal(&mut self.out, &s.s, MAX_STRING),
            Value::Path(p) => self.out.push_str(p),
            Value::Attrs(a) => {
                if !self.seen.insert(Shared::addr(a)) {
                    self.out.push_str("«repeated»");
                    return;
                }
                if depth >= MAX_DEPTH {
                    self.out.push_str("{ ... }");
                    return;
                }
                self.out.push('{');
                let mut sorted: Vec<_> = a.entries.iter().collect();
                sorted.sort_by(|x, y| {
                    let ix = !matches!(&*x.name, "type" | "_type");
                    let iy = !matches!(&*y.name, "type" | "_type");
                    (ix, &x.name).cmp(&(iy, &y.name))
                });
                for (current, attr) in sorted.iter().enumerate() {
                    self.out.push(' ');
                    if self.attrs >= MAX_ATTRS {
                        let _ = write!(
                            self.out,
                            "«{} elided»",
                            plural(sorted.len() - current, "attribute", "attributes")
                        );
                        break;
                    }
                    write_attr_name(&mut self.out, &attr.name);
                    self.out.push_str(" = ");
                    self.print(&attr.value, depth + 1);
                    self.out.push(';');
                    self.attrs += 1;
                }
                self.out.push_str(" }");
            }
            Value::List(l) => {
                if !l.is_empty() && !self.seen.insert(Shared::addr(l)) {
                    self.out.push_str("«repeated»");
                    return;
                }
                if depth >= MAX_DEPTH {
                    self.out.push_str("[ ... ]");
                    return;
                }
                self.out.push('[');
                for (current, x) in l.iter().enumerate() {
                    self.out.push(' ');
                    if self.items >= MAX_ITEMS {
                        let _ = write!(
                            self.out,
                            "«{} elided»",
                            plural(l.len() - current, "item", "items")
                        );
                        break;
                    }
                    self.print(x, depth + 1);
                    self.items += 1;
                }
                self.out.push_str(" ]");
            }
            Value::Lambda(c) => {
                self.out.push_str("«lambda");
                if let Some(n) = &c.def.name {
                    let _ = write!(self.out, " {n}");
                }
                let _ = write!(self.out, " @ {}»", ShowPos(c.def.pos));
            }
            Value::PrimOp(p) => {
                let _ = write!(self.out, "«primop {}»", p.name);
            }
            Value::PrimOpApp(p) => {
                let _ = write!(self.out, "«partially applied primop {}»", p.op.name);
            }
            Value::Thunk(_) => self.out.push_str("«thunk»"),
        }
    }
}

/// Prints a fully forced value as JSON text for `--json` (same as `builtins.toJSON`).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_cpp_streams() {
        assert_eq!(format_float_g(1.1), "1.1");
        assert_eq!(format_float_g(1.23456789), "1.23457");
        assert_eq!(format_float_g(1e6), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(2.0), "2");
        assert_eq!(format_float_fixed(1.5), "1.500000");
    }
}
