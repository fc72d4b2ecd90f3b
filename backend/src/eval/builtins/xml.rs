//! `toXML` and the `--xml` output format.

use std::collections::HashSet;

use super::{b, Builtin};
use crate::eval::error::Result;
use crate::eval::ir::Param;
use crate::eval::machine::{is_derivation_attrs, Machine};
use crate::eval::print::format_float_g;
use crate::eval::source::{file_path, line_col, Pos};
use crate::eval::value::{Attrs, Context, Value};

pub const BUILTINS: &[Builtin] = &[b("__toXML", 1, to_xml)];

fn to_xml(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let mut ctx = Context::new();
    let out = value_to_xml(m, &a[0], true, false, &mut ctx, pos)?;
    Ok(Value::string_ctx(out, ctx))
}

/// The whole XML document for a value.
pub fn value_to_xml(
    m: &mut Machine,
    v: &Value,
    strict: bool,
    location: bool,
    ctx: &mut Context,
    pos: Pos,
) -> Result<String> {
    let mut w = Writer {
        out: String::from("<?xml version='1.0' encoding='utf-8'?>\n"),
        depth: 0,
    };
    w.open("expr", &[]);
    let mut seen = HashSet::new();
    print(m, &mut w, v, strict, location, ctx, &mut seen, pos)?;
    w.close("expr");
    Ok(w.out)
}

struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn attrs(&mut self, attrs: &[(&str, String)]) {
        let mut sorted: Vec<&(&str, String)> = attrs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in sorted {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            for c in v.chars() {
                match c {
                    '"' => self.out.push_str("&quot;"),
                    '<' => self.out.push_str("&lt;"),
                    '>' => self.out.push_str("&gt;"),
                    '&' => self.out.push_str("&amp;"),
                    '\n' => self.out.push_str("&#xA;"),
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        }
    }
    fn open(&mut self, name: &str, attrs: &[(&str, String)]) {
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push_str(&format!("</{name}>\n"));
    }
    fn empty(&mut self, name: &str, attrs: &[(&str, String)]) {
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str(" />\n");
    }
}

fn pos_attrs(pos: Pos, out: &mut Vec<(&'static str, String)>) {
    if let Some((line, col)) = line_col(pos) {
        if let Some(p) = file_path(pos) {
            out.push(("path", p.to_string()));
        }
        out.push(("line", line.to_string()));
        out.push(("column", col.to_string()));
    }
}

#[allow(clippy::too_many_arguments)]
fn show_attrs(
    m: &mut Machine,
    w: &mut Writer,
    a: &Attrs,
    strict: bool,
    location: bool,
    ctx: &mut Context,
    seen: &mut HashSet<String>,
) -> Result<()> {
    for attr in &a.entries {
        let mut xa = vec![("name", attr.name.to_string())];
        if location {
            pos_attrs(attr.pos, &mut xa);
        }
        w.open("attr", &xa);
        print(m, w, &attr.value, strict, location, ctx, seen, attr.pos)?;
        w.close("attr");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn print(
    m: &mut Machine,
    w: &mut Writer,
    v: &Value,
    strict: bool,
    location: bool,
    ctx: &mut Context,
    seen: &mut HashSet<String>,
    _pos: Pos,
) -> Result<()> {
    let v = if strict { m.force(v)? } else { v.clone() };
    let v = match &v {
        Value::Lambda(c) if !c.is_forced() => {
            w.empty("unevaluated", &[]);
            return Ok(());
        }
        Value::Thunk(t) => match t.done_value() {
            Some(x) => x,
            None => {
                w.empty("unevaluated", &[]);
                return Ok(());
            }
        },
        _ => v,
    };
    match &v {
        Value::Int(i) => w.empty("int", &[("value", i.to_string())]),
        Value::Bool(x) => w.empty("bool", &[("value", x.to_string())]),
        Value::String(st) => {
            ctx.extend(st.ctx.iter().cloned());
            w.empty("string", &[("value", st.s.clone())]);
        }
        Value::Path(p) => w.empty("path", &[("value", p.to_string())]),
        Value::Null => w.empty("null", &[]),
        Value::Float(f) => w.empty("float", &[("value", format_float_g(*f))]),
        Value::Attrs(a) => {
            if is_derivation_attrs(m, a)? {
                let mut xa = Vec::new();
                let mut drv_path = String::new();
                for (key, field) in [("drvPath", "drvPath"), ("outPath", "outPath")] {
                    if let Some(x) = a.get(field) {
                        let x = if strict {
                            m.force(&x.clone())?
                        } else {
                            x.clone()
                        };
                        if let Value::String(st) = &x {
                            if key == "drvPath" {
                                drv_path = st.s.clone();
                            }
                            xa.push((key, st.s.clone()));
                        }
                    }
                }
                w.open("derivation", &xa);
                if !drv_path.is_empty() && seen.insert(drv_path) {
                    show_attrs(m, w, a, strict, location, ctx, seen)?;
                } else {
                    w.empty("repeated", &[]);
                }
                w.close("derivation");
            } else {
                w.open("attrs", &[]);
                show_attrs(m, w, a, strict, location, ctx, seen)?;
                w.close("attrs");
            }
        }
        Value::List(l) => {
            w.open("list", &[]);
            for x in l.iter() {
                print(m, w, x, strict, location, ctx, seen, Pos::NONE)?;
            }
            w.close("list");
        }
        Value::Lambda(c) => {
            let mut xa = Vec::new();
            if location {
                pos_attrs(c.def.pos, &mut xa);
            }
            w.open("function", &xa);
            match &c.def.param {
                Param::Pattern {
                    formals, ellipsis, ..
                } => {
                    let mut pa = Vec::new();
                    if let Some(n) = &c.def.arg_name {
                        pa.push(("name", n.to_string()));
                    }
                    if *ellipsis {
                        pa.push(("ellipsis", "1".to_string()));
                    }
                    w.open("attrspat", &pa);
                    let mut names: Vec<&str> = formals.iter().map(|f| &*f.name).collect();
                    names.sort();
                    for n in names {
                        w.empty("attr", &[("name", n.to_string())]);
                    }
                    w.close("attrspat");
                }
                Param::Ident => {
                    w.empty(
                        "varpat",
                        &[("name", c.def.arg_name.as_deref().unwrap_or("").to_string())],
                    );
                }
            }
            w.close("function");
        }
        Value::PrimOp(_) | Value::PrimOpApp(_) | Value::Thunk(_) => w.empty("unevaluated", &[]),
    }
    Ok(())
}
