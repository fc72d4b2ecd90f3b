//! A lazy Nix evaluator: syntax tree lowered to a slot-resolved IR, then evaluated.
//!
//! Entry points: [`Evaluator`] (used by `strata eval` / `strata instantiate`).

pub mod builtins;
pub mod coerce;
pub mod derivation;
pub mod error;
pub mod ir;
pub mod lower;
pub mod machine;
pub mod print;
pub mod shared;
pub mod source;
pub mod value;

#[cfg(test)]
mod tests;

use std::rc::Rc;

pub use error::{EvalError, Result};
pub use machine::Machine;
pub use value::Value;

use error::other_error;
use source::{Origin, Pos};

/// Evaluation settings: what the command line and environment decide.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `-I` entries then `NIX_PATH` entries, as `(prefix, path)`; empty prefix for plain dirs.
    pub search_path: Vec<(String, String)>,
    pub store_dir: String,
    pub system: String,
    /// Nix's `max-call-depth`.
    pub max_call_depth: usize,
    pub show_trace: bool,
    /// `--extra-experimental-features parse-toml-timestamps`.
    pub toml_timestamps: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            search_path: Vec::new(),
            store_dir: std::env::var("NIX_STORE_DIR").unwrap_or_else(|_| "/nix/store".into()),
            system: "x86_64-linux".into(),
            max_call_depth: 10_000,
            show_trace: false,
            toml_timestamps: false,
        }
    }
}

impl Settings {
    /// Parses a `NIX_PATH`-style list (`a=/x:/y`) into search path entries.
    pub fn parse_search_path(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut items: Vec<String> = Vec::new();
        for piece in text.split(':') {
            // Re-join URLs split at their scheme separator (`https://...`).
            if piece.starts_with("//") {
                if let Some(last) = items.last_mut() {
                    last.push(':');
                    last.push_str(piece);
                    continue;
                }
            }
            items.push(piece.to_string());
        }
        for item in items.into_iter().filter(|i| !i.is_empty()) {
            match item.split_once('=') {
                Some((prefix, path)) => out.push((prefix.to_string(), path.to_string())),
                None => out.push((String::new(), item)),
            }
        }
        out
    }
}

/// Parses and lowers a file; `extra` names a `scopedImport` frame.
pub fn load_file(
    m: &mut Machine,
    path: &str,
    extra: Option<&[Rc<str>]>,
    pos: Pos,
) -> Result<Rc<ir::Expr>> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            other_error(format!("path '{path}' does not exist"), pos)
        } else {
            other_error(format!("reading '{path}': {e}"), pos)
        }
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| other_error(format!("file '{path}' is not valid UTF-8"), pos))?;
    let dir = std::path::Path::new(path)
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    load_text(m, Origin::File(Rc::from(path)), text, dir, extra)
}

/// Parses and lowers source text whose relative paths resolve against `base_dir`.
pub fn load_text(
    m: &mut Machine,
    origin: Origin,
    text: String,
    base_dir: String,
    extra: Option<&[Rc<str>]>,
) -> Result<Rc<ir::Expr>> {
    let text: Rc<str> = Rc::from(text);
    let file = source::add_file(origin, text.clone());
    let parse = strata_analyzer::syntax::parse(&text);
    // Undefined variables are found again (with the same message) by lowering, which
    // knows about `scopedImport` frames and attribute sets merged into `rec` ones.
    if let Some(err) = parse
        .errors()
        .iter()
        .find(|e| !e.message.starts_with("undefined variable"))
    {
        let pos = Pos {
            file,
            offset: u32::from(err.range.start()),
        };
        return Err(other_error(err.message.clone(), pos));
    }
    let root = parse.root();
    let expr = root.expr().ok_or_else(|| {
        other_error(
            "syntax error, unexpected end of file",
            Pos { file, offset: 0 },
        )
    })?;
    let base_names = m.base_names.clone();
    let mut lowerer = lower::Lowerer::new(file, base_dir, &base_names, extra);
    lowerer.lower(&expr)
}

/// An argument given with `--arg` (an expression) or `--argstr` (a string).
#[derive(Clone, Debug)]
pub enum AutoArg {
    Expr(String),
    Str(String),
}

/// A whole evaluation session.
pub struct Evaluator {
    pub machine: Machine,
}

impl Evaluator {
    pub fn new(settings: Settings) -> Evaluator {
        Evaluator {
            machine: Machine::new(settings),
        }
    }

    /// Evaluates a file to weak head normal form.
    pub fn eval_file(&mut self, path: &str) -> Result<Value> {
        let abs = absolute(path);
        builtins::paths::import_path(&mut self.machine, &abs, Pos::NONE)
    }

    /// Evaluates an expression given as text; relative paths resolve against `base_dir`.
    pub fn eval_text(&mut self, text: &str, base_dir: &str) -> Result<Value> {
        let expr = load_text(
            &mut self.machine,
            Origin::String,
            text.to_string(),
            base_dir.to_string(),
            None,
        )?;
        let env = self.machine.base_env.clone();
        self.machine.eval(&expr, &env)
    }

    /// Builds the `--arg`/`--argstr` set.
    pub fn auto_args(&mut self, args: &[(String, AutoArg)]) -> Result<value::Shared<value::Attrs>> {
        let cwd = std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/".into());
        let mut entries = Vec::new();
        for (name, a) in args {
            let v = match a {
                AutoArg::Str(s) => Value::string(s.clone()),
                AutoArg::Expr(e) => {
                    let expr = load_text(
                        &mut self.machine,
                        Origin::String,
                        e.clone(),
                        cwd.clone(),
                        None,
                    )?;
                    let env = self.machine.base_env.clone();
                    machine::pending(expr, env)
                }
            };
            entries.push(builtins::attr(name, v));
        }
        Ok(value::Shared::new(value::Attrs::from_unsorted(entries)))
    }

    /// Calls a function whose formals can all be filled from `args` (Nix's `autoCallFunction`).
    pub fn auto_call(&mut self, v: &Value, args: &value::Shared<value::Attrs>) -> Result<Value> {
        let m = &mut self.machine;
        let f = m.force(v)?;
        let f = match &f {
            Value::Attrs(a) if a.get("__functor").is_some() => {
                let functor = a.get("__functor").cloned().unwrap_or(Value::Null);
                let functor = m.force(&functor)?;
                m.call(functor, f.clone(), Pos::NONE)?
            }
            _ => f,
        };
        let Value::Lambda(c) = &f else { return Ok(f) };
        let ir::Param::Pattern { formals, .. } = &c.def.param else {
            return Ok(f);
        };
        let mut entries = Vec::new();
        for formal in formals {
            match args.get(&formal.name) {
                Some(v) => entries.push(builtins::attr(&formal.name, v.clone())),
                None if formal.default.is_some() => {}
                None => {
                    return Err(other_error(
                        format!(
                            "cannot evaluate a function that has an argument without a value ('{}')\nNix attempted to evaluate a function as a top level expression; in this case it must have its arguments supplied either by default values, or passed explicitly with '--arg' or '--argstr'. See https://nix.dev/manual/nix/stable/language/constructs.html#functions.",
                            formal.name
                        ),
                        formal.pos,
                    ))
                }
            }
        }
        let arg = Value::attrs(value::Attrs::from_unsorted(entries));
        let r = m.call(f.clone(), arg, Pos::NONE)?;
        m.force(&r)
    }

    /// Follows `-A a.b.0.c`, auto-calling functions on the way.
    pub fn select_attr_path(
        &mut self,
        v: &Value,
        path: &str,
        args: &value::Shared<value::Attrs>,
    ) -> Result<Value> {
        let mut cur = v.clone();
        if path.is_empty() {
            return Ok(cur);
        }
        for part in path.split('.') {
            cur = self.auto_call(&cur, args)?;
            if let Ok(idx) = part.parse::<usize>() {
                let Value::List(l) = &cur else {
                    return Err(other_error(
                        format!(
                            "the expression selected by the selection path '{path}' should be a list but is {}",
                            cur.show_type()
                        ),
                        Pos::NONE,
                    ));
                };
                let item = l.get(idx).cloned().ok_or_else(|| {
                    other_error(
                        format!("list index {idx} in selection path '{path}' is out of range"),
                        Pos::NONE,
                    )
                })?;
                cur = self.machine.force(&item)?;
            } else {
                let Value::Attrs(a) = &cur else {
                    return Err(other_error(
                        format!(
                            "the expression selected by the selection path '{path}' should be a set but is {}",
                            cur.show_type()
                        ),
                        Pos::NONE,
                    ));
                };
                let item = a.get(part).cloned().ok_or_else(|| {
                    other_error(
                        format!("attribute '{part}' in selection path '{path}' not found"),
                        Pos::NONE,
                    )
                })?;
                cur = self.machine.force(&item)?;
            }
        }
        Ok(cur)
    }

    /// What `nix-instantiate --eval` prints (without the final newline).
    pub fn print(&mut self, v: &Value, strict: bool) -> Result<String> {
        let v = if strict {
            self.machine.force_deep(v)?
        } else {
            self.machine.force(v)?
        };
        Ok(print::print_value(&v))
    }

    /// `--json` output.
    pub fn print_json(&mut self, v: &Value) -> Result<String> {
        let mut out = String::new();
        let mut ctx = value::Context::new();
        builtins::json::value_to_json(&mut self.machine, v, &mut out, &mut ctx, true, Pos::NONE)?;
        Ok(out)
    }

    /// `--xml` output.
    pub fn print_xml(&mut self, v: &Value, strict: bool, location: bool) -> Result<String> {
        let mut ctx = value::Context::new();
        builtins::xml::value_to_xml(&mut self.machine, v, strict, location, &mut ctx, Pos::NONE)
    }
}

/// Makes a path absolute against the current directory, without resolving symlinks.
pub fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        return builtins::paths::canon_path(path);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".into());
    builtins::paths::canon_path(&format!("{cwd}/{path}"))
}
