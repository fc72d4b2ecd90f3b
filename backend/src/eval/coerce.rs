//! Coercions to strings: interpolation, `toString`, `__toString` and `outPath`.

use super::error::{type_error, Result};
use super::machine::Machine;
use super::print::{format_float_fixed, ErrorValue};
use super::source::Pos;
use super::value::{Context, NixString, Value};

impl Machine {
    /// Appends the string form of `v` to `out`, collecting its context.
    /// `coerce_more` is `toString`'s leniency (numbers, booleans, null, lists);
    /// `copy_to_store` makes paths store paths (as in interpolation).
    pub fn coerce_to_string_into(
        &mut self,
        v: &Value,
        out: &mut String,
        ctx: &mut Context,
        coerce_more: bool,
        copy_to_store: bool,
        pos: Pos,
    ) -> Result<()> {
        let v = self.force(v)?;
        match &v {
            Value::String(s) => {
                out.push_str(&s.s);
                ctx.extend(s.ctx.iter().cloned());
                Ok(())
            }
            Value::Path(p) => {
                if copy_to_store {
                    let sp = self.copy_path_to_store(p, pos)?;
                    out.push_str(&sp);
                    ctx.insert(sp);
                } else {
                    out.push_str(p);
                }
                Ok(())
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get("__toString") {
                    let f = f.clone();
                    let r = self.call_n(&f, std::slice::from_ref(&v), pos)?;
                    return self.coerce_to_string_into(
                        &r,
                        out,
                        ctx,
                        coerce_more,
                        copy_to_store,
                        pos,
                    );
                }
                if let Some(p) = a.get("outPath") {
                    let p = p.clone();
                    return self.coerce_to_string_into(
                        &p,
                        out,
                        ctx,
                        coerce_more,
                        copy_to_store,
                        pos,
                    );
                }
                Err(cannot_coerce(&v, pos))
            }
            _ if coerce_more => match &v {
                Value::Int(i) => {
                    out.push_str(&i.to_string());
                    Ok(())
                }
                Value::Float(f) => {
                    out.push_str(&format_float_fixed(*f));
                    Ok(())
                }
                Value::Bool(true) => {
                    out.push('1');
                    Ok(())
                }
                Value::Bool(false) | Value::Null => Ok(()),
                Value::List(l) => {
                    let n = l.len();
                    for (i, x) in l.iter().enumerate() {
                        self.coerce_to_string_into(x, out, ctx, coerce_more, copy_to_store, pos)?;
                        if i + 1 < n {
                            let x = self.force(x)?;
                            if !matches!(&x, Value::List(l) if l.is_empty()) {
                                out.push(' ');
                            }
                        }
                    }
                    Ok(())
                }
                _ => Err(cannot_coerce(&v, pos)),
            },
            _ => Err(cannot_coerce(&v, pos)),
        }
    }

    /// Coerces to a string value (with context).
    pub fn coerce_to_string(
        &mut self,
        v: &Value,
        coerce_more: bool,
        copy_to_store: bool,
        pos: Pos,
    ) -> Result<NixString> {
        let v = self.force(v)?;
        if let Value::String(s) = &v {
            return Ok((**s).clone());
        }
        let mut out = String::new();
        let mut ctx = Context::new();
        self.coerce_to_string_into(&v, &mut out, &mut ctx, coerce_more, copy_to_store, pos)?;
        Ok(NixString { s: out, ctx })
    }

    /// A path argument of a builtin: a path value, or a string holding an absolute path.
    pub fn coerce_to_path(&mut self, v: &Value, pos: Pos) -> Result<(String, Context)> {
        let v = self.force(v)?;
        if let Value::Path(p) = &v {
            return Ok((p.to_string(), Context::new()));
        }
        let s = self.coerce_to_string(&v, false, false, pos)?;
        if !s.s.starts_with('/') {
            return Err(super::error::other_error(
                format!("string '{}' doesn't represent an absolute path", s.s),
                pos,
            ));
        }
        Ok((s.s, s.ctx))
    }

    /// The store path a local path is copied to when it is interpolated.
    pub fn copy_path_to_store(&mut self, path: &str, pos: Pos) -> Result<String> {
        if let Some(sp) = self.path_cache.get(path) {
            return Ok(sp.clone());
        }
        let sp = super::builtins::paths::store_path_of_path(self, path, None, pos)?;
        self.path_cache.insert(path.to_string(), sp.clone());
        Ok(sp)
    }
}

/// "cannot coerce a set to a string: { }".
pub fn cannot_coerce(v: &Value, pos: Pos) -> Box<super::error::EvalError> {
    type_error(
        format!(
            "cannot coerce {} to a string: {}",
            v.show_type(),
            ErrorValue(v)
        ),
        pos,
    )
}

/// Wraps a string result into a value, reusing the allocation.
pub fn string_value(s: NixString) -> Value {
    Value::String(super::value::Shared::new(s))
}
