//! The evaluation machine: forces thunks, evaluates IR, applies functions.

use std::collections::HashMap;
use std::rc::Rc;

use super::error::{other_error, type_error, ErrorKind, EvalError, Frame, Result};
use super::ir::{AttrKey, AttrsDef, BinOp, Binding, Expr, LambdaDef, Param};
use super::print::{show_value_for_error, ErrorValue};
use super::source::{Pos, ShowPos};
use super::value::{
    Attr, Attrs, Closure, Context, Env, Hint, NixString, PrimOpApp, Shared, Thunk, ThunkState,
    Value,
};
use super::Settings;

/// Native recursion budget: deeper nesting is reported as a stack overflow.
const MAX_EVAL_DEPTH: usize = 60_000;

/// Frames kept per error: enough for any real trace, bounded for runaway recursion.
const MAX_TRACE_FRAMES: usize = 256;

/// Tail calls of one loop remembered for `--show-trace` (the innermost ones).
const MAX_TAIL_FRAMES: usize = 32;

/// Evaluator state shared by the whole evaluation.
pub struct Machine {
    pub settings: Settings,
    /// The global frame (`builtins`, `true`, `map`, ...) and its names.
    pub base_env: Env,
    pub base_names: Vec<Rc<str>>,
    pub builtins: Value,
    pub import_cache: HashMap<String, Value>,
    /// Store paths of local paths already "copied" (interpolated).
    pub path_cache: HashMap<String, String>,
    /// How to recreate store paths the evaluation named but did not write (`toFile`,
    /// `builtins.path`, `filterSource`), by store path.
    pub sources: HashMap<String, super::builtins::paths::SourceRecipe>,
    /// Derivations computed so far, by `.drv` path.
    pub drvs: HashMap<String, super::derivation::KnownDrv>,
    pub call_depth: usize,
    eval_depth: usize,
    /// Output of `trace`/`warn`, written to stderr as it happens.
    pub trace_sink: Box<dyn FnMut(&str)>,
}

impl Machine {
    pub fn new(settings: Settings) -> Machine {
        let mut m = Machine {
            settings,
            base_env: Env::new(Vec::new(), None),
            base_names: Vec::new(),
            builtins: Value::Null,
            import_cache: HashMap::new(),
            path_cache: HashMap::new(),
            sources: HashMap::new(),
            drvs: HashMap::new(),
            call_depth: 0,
            eval_depth: 0,
            trace_sink: Box::new(|s| eprintln!("{s}")),
        };
        super::builtins::install(&mut m);
        m
    }

    /// A value from the global frame by name (`Null` if absent).
    pub fn base_env_value(&self, name: &str) -> Value {
        match self.base_names.iter().position(|n| &**n == name) {
            Some(i) => self.base_env.get(i),
            None => Value::Null,
        }
    }

    // ---- forcing -------------------------------------------------------------

    /// Evaluates a value to weak head normal form.
    #[inline]
    pub fn force(&mut self, v: &Value) -> Result<Value> {
        match v {
            Value::Thunk(t) => self.force_thunk(t),
            Value::Lambda(c) => {
                c.mark_forced();
                Ok(v.clone())
            }
            _ => Ok(v.clone()),
        }
    }

    /// [`force`](Self::force) for a value the caller owns (no clone of a non-thunk).
    #[inline]
    pub fn force_owned(&mut self, v: Value) -> Result<Value> {
        match v {
            Value::Thunk(t) => self.force_thunk(&t),
            Value::Lambda(c) => {
                c.mark_forced();
                Ok(Value::Lambda(c))
            }
            v => Ok(v),
        }
    }

    fn force_thunk(&mut self, t: &Shared<Thunk>) -> Result<Value> {
        // Most forces find the value already there: read it without moving the state.
        if let Some(v) = t.done_value() {
            return Ok(v);
        }
        let state = match t.take() {
            ThunkState::Done(v) => {
                let r = v.clone();
                t.set(ThunkState::Done(v));
                return Ok(r);
            }
            ThunkState::Blackhole => {
                return Err(EvalError::new(
                    ErrorKind::InfiniteRecursion,
                    "infinite recursion encountered",
                    Pos::NONE,
                ))
            }
            s => s,
        };
        let r = match &state {
            ThunkState::Pending(e, env) => self.eval(e, env),
            ThunkState::Apply(c) => match self.force(&c[0]) {
                Ok(f) => self.call(f, c[1].clone(), Pos::NONE),
                Err(e) => Err(e),
            },
            ThunkState::Apply2(c) => self.call_n(&c[0], &c[1..], Pos::NONE),
            _ => unreachable!("taken out above"),
        };
        match r {
            Ok(v) => {
                if let Value::Lambda(c) = &v {
                    c.mark_forced();
                }
                t.set(ThunkState::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                // Like Nix, a failed thunk is re-evaluated when forced again.
                t.set(state);
                Err(e)
            }
        }
    }

    /// Forces a value and everything inside it (`deepSeq`, `--strict`).
    pub fn force_deep(&mut self, v: &Value) -> Result<Value> {
        let mut seen = std::collections::HashSet::new();
        let v = self.force(v)?;
        self.force_deep_inner(&v, &mut seen)?;
        Ok(v)
    }

    fn force_deep_inner(
        &mut self,
        v: &Value,
        seen: &mut std::collections::HashSet<usize>,
    ) -> Result<()> {
        match v {
            Value::Attrs(a) => {
                if !seen.insert(Shared::addr(a)) {
                    return Ok(());
                }
                for attr in &a.entries {
                    let x = self.force(&attr.value).map_err(|mut e| {
                        e.trace.push(Frame {
                            pos: attr.pos,
                            msg: format!("while evaluating the attribute '{}'", attr.name),
                        });
                        e
                    })?;
                    self.check_depth()?;
                    self.eval_depth += 1;
                    let r = self.force_deep_inner(&x, seen);
                    self.eval_depth -= 1;
                    r?;
                }
            }
            Value::List(l) => {
                if !seen.insert(Shared::addr(l)) {
                    return Ok(());
                }
                for x in l.iter() {
                    let x = self.force(x)?;
                    self.check_depth()?;
                    self.eval_depth += 1;
                    let r = self.force_deep_inner(&x, seen);
                    self.eval_depth -= 1;
                    r?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_depth(&self) -> Result<()> {
        if self.eval_depth > MAX_EVAL_DEPTH || self.call_depth > self.settings.max_call_depth {
            return Err(EvalError::new(
                ErrorKind::StackOverflow,
                "stack overflow; max-call-depth exceeded",
                Pos::NONE,
            ));
        }
        Ok(())
    }

    /// A lazy value for `e` in `env`: literals and variables need no thunk.
    #[inline]
    pub fn thunk(&mut self, e: &Rc<Expr>, env: &Env) -> Value {
        match &**e {
            Expr::Const(v) => v.clone(),
            Expr::Var { depth, slot } => env.lookup(*depth, *slot),
            Expr::Select { expr, path, .. } if !self.settings.show_trace => {
                match select_forced(expr, path, env) {
                    Some(v) => v,
                    None => Thunk::new(e, env),
                }
            }
            // Making a closure cannot fail, so it needs no thunk; it is marked unforced
            // so that it still prints as `<CODE>` until forced, as Nix's thunk would.
            Expr::Lambda(def) => {
                Value::Lambda(Shared::new(Closure::lazy(def.clone(), env.clone())))
            }
            _ => Thunk::new(e, env),
        }
    }

    /// Like [`thunk`](Self::thunk) for a frame still being filled: only its first
    /// `filled` slots can be read yet.
    #[inline]
    fn thunk_in_new(&mut self, e: &Rc<Expr>, env: &Env, filled: usize) -> Value {
        match &**e {
            // Slots are filled in order; like Nix, an earlier one is shared directly.
            Expr::Var { depth: 0, slot } => {
                if (*slot as usize) < filled {
                    env.get(*slot as usize)
                } else {
                    Thunk::new(e, env)
                }
            }
            _ => self.thunk(e, env),
        }
    }

    // ---- evaluation ----------------------------------------------------------

    /// Evaluates `e` in `env` to weak head normal form.
    pub fn eval(&mut self, e: &Rc<Expr>, env: &Env) -> Result<Value> {
        // Leaves need neither the loop nor depth accounting.
        match &**e {
            Expr::Const(v) => return Ok(v.clone()),
            Expr::Var { depth, slot } => return self.force_owned(env.lookup(*depth, *slot)),
            Expr::Bin { op, lhs, rhs, pos } => return self.eval_bin(*op, lhs, rhs, *pos, env),
            _ => {}
        }
        self.eval_depth += 1;
        if self.eval_depth > MAX_EVAL_DEPTH {
            self.eval_depth -= 1;
            return Err(EvalError::new(
                ErrorKind::StackOverflow,
                "stack overflow; max-call-depth exceeded",
                Pos::NONE,
            ));
        }
        let r = if self.settings.show_trace {
            self.eval_loop_traced(e, env)
        } else {
            self.eval_loop(e, env, None)
        };
        self.eval_depth -= 1;
        // A lambda reached through evaluation is forced, wherever it was made.
        if let Ok(Value::Lambda(c)) = &r {
            c.mark_forced();
        }
        r
    }

    /// `eval_loop` remembering its last tail calls, which reuse the native frame, so an
    /// error can still name them (`--show-trace` only: the plain path stays lean).
    #[cold]
    fn eval_loop_traced(&mut self, e: &Rc<Expr>, env: &Env) -> Result<Value> {
        let mut tail_calls = std::collections::VecDeque::new();
        self.eval_loop(e, env, Some(&mut tail_calls))
            .map_err(|mut err| {
                for (def, pos) in tail_calls.iter().rev() {
                    err = call_frames(err, def, *pos);
                }
                err
            })
    }

    fn eval_loop(
        &mut self,
        e0: &Rc<Expr>,
        env0: &Env,
        mut tail_calls: Option<&mut std::collections::VecDeque<(Rc<LambdaDef>, Pos)>>,
    ) -> Result<Value> {
        // Borrowed until a tail position moves to an expression or frame of its own:
        // entering costs no reference count traffic.
        let mut own_e: Rc<Expr>;
        let mut own_env: Env;
        let mut e: &Rc<Expr> = e0;
        let mut env: &Env = env0;
        loop {
            match &**e {
                Expr::Const(v) => return Ok(v.clone()),
                Expr::Var { depth, slot } => {
                    return self.force_owned(env.lookup(*depth, *slot));
                }
                Expr::WithVar {
                    name,
                    withs,
                    pos,
                    hint,
                } => {
                    let v = self.lookup_with(name, withs, env, *pos, hint)?;
                    return self.force_owned(v);
                }
                Expr::Attrs(def) => return self.eval_attrs(def, env),
                Expr::List(items) => {
                    let v: Vec<Value> = items.iter().map(|i| self.thunk(i, env)).collect();
                    return Ok(Value::list(v));
                }
                Expr::Select {
                    expr,
                    path,
                    default,
                    pos,
                } => {
                    return self.eval_select(expr, path, default.as_ref(), *pos, env);
                }
                Expr::HasAttr { expr, path } => {
                    let mut v = self.eval(expr, env)?;
                    let last = path.len() - 1;
                    for (i, key) in path.iter().enumerate() {
                        let name = self.attr_name(key, env)?;
                        let Value::Attrs(a) = &v else {
                            return Ok(Value::Bool(false));
                        };
                        match a.get(&name) {
                            // The attribute itself is not forced, only the sets on the way.
                            Some(_) if i == last => return Ok(Value::Bool(true)),
                            Some(x) => {
                                let x = x.clone();
                                v = self.force(&x)?;
                            }
                            None => return Ok(Value::Bool(false)),
                        }
                    }
                    return Ok(Value::Bool(true));
                }
                Expr::Lambda(def) => {
                    return Ok(Value::Lambda(Shared::new(Closure::new(
                        def.clone(),
                        env.clone(),
                    ))))
                }
                Expr::Apply { func, args, pos } => {
                    let mut f = Callee::Value(self.eval(func, env)?);
                    let mut args: &[Rc<Expr>] = args;
                    // A builtin given all its arguments gets them at once: no partial
                    // applications on the way.
                    if let Callee::Value(Value::PrimOp(op)) = &f {
                        let k = op.arity;
                        if k <= args.len() && k <= 3 {
                            let op = op.clone();
                            let mut argv = [Value::Null, Value::Null, Value::Null];
                            for (slot, a) in argv.iter_mut().zip(&args[..k]) {
                                *slot = self.thunk(a, env);
                            }
                            let r = (op.func)(self, &argv[..k], *pos)
                                .map_err(|e| primop_frame(e, op.name, *pos))?;
                            args = &args[k..];
                            if args.is_empty() {
                                return Ok(r);
                            }
                            f = Callee::Value(r);
                        }
                    }
                    let (last, init) = args.split_last().expect("an application has arguments");
                    for a in init {
                        let a = self.thunk(a, env);
                        f = self.call_step(f, a, *pos)?;
                    }
                    let last = self.thunk(last, env);
                    let (def, fenv) = match &f {
                        Callee::Value(Value::Lambda(c)) => (&c.def, &c.env),
                        Callee::Inner(def, fenv) => (def, fenv),
                        Callee::Value(_) => {
                            let Callee::Value(f) = f else { unreachable!() };
                            return self.call(f, last, *pos);
                        }
                    };
                    // Tail call: reuse this native frame for the body.
                    if let Some(log) = tail_calls.as_deref_mut() {
                        if log.len() == MAX_TAIL_FRAMES {
                            log.pop_front();
                        }
                        log.push_back((def.clone(), *pos));
                    }
                    let new_env = self.bind_lambda(def, fenv, last, *pos)?;
                    own_e = def.body.clone();
                    own_env = new_env;
                    e = &own_e;
                    env = &own_env;
                    continue;
                }
                Expr::Let { bindings, body } => {
                    let new_env = self.make_rec_env(bindings, env);
                    own_e = body.clone();
                    own_env = new_env;
                    e = &own_e;
                    env = &own_env;
                    continue;
                }
                Expr::With { attrs, body, .. } => {
                    let a = self.thunk(attrs, env);
                    let new_env = Env::one(a, env.clone());
                    own_e = body.clone();
                    own_env = new_env;
                    e = &own_e;
                    env = &own_env;
                    continue;
                }
                Expr::If {
                    cond,
                    then,
                    else_,
                    pos,
                } => {
                    let c = match self.eval(cond, env)? {
                        Value::Bool(b) => b,
                        c => self.expect_bool(&c, *pos).map_err(|mut err| {
                            err.trace.push(Frame {
                                pos: *pos,
                                msg: "while evaluating a branch condition".into(),
                            });
                            err
                        })?,
                    };
                    own_e = if c { then.clone() } else { else_.clone() };
                    e = &own_e;
                    continue;
                }
                Expr::Assert {
                    cond,
                    body,
                    pos,
                    text,
                } => {
                    let c = self.eval(cond, env)?;
                    let c = self.expect_bool(&c, *pos)?;
                    if !c {
                        if let Expr::Bin {
                            op: BinOp::Eq,
                            lhs,
                            rhs,
                            pos: eqpos,
                        } = &**cond
                        {
                            let a = self.eval(lhs, env)?;
                            let b = self.eval(rhs, env)?;
                            self.assert_eq_values(&a, &b, *eqpos)?;
                        }
                        return Err(EvalError::new(
                            ErrorKind::Assert,
                            format!("assertion '{text}' failed"),
                            *pos,
                        ));
                    }
                    own_e = body.clone();
                    e = &own_e;
                    continue;
                }
                Expr::Not(x, pos) => {
                    let v = self.eval(x, env)?;
                    return Ok(Value::Bool(!self.expect_bool(&v, *pos)?));
                }
                Expr::Neg(x, pos) => {
                    let v = self.eval(x, env)?;
                    return self.arith(BinOp::Sub, &Value::Int(0), &v, *pos);
                }
                Expr::Bin { op, lhs, rhs, pos } => return self.eval_bin(*op, lhs, rhs, *pos, env),
                Expr::Interp {
                    parts,
                    is_path,
                    pos,
                } => return self.eval_interp(parts, *is_path, *pos, env),
                Expr::CurPos(pos) => return Ok(self.pos_to_attrs(*pos)),
            }
        }
    }

    fn lookup_with(
        &mut self,
        name: &str,
        withs: &[u32],
        env: &Env,
        pos: Pos,
        hint: &Hint,
    ) -> Result<Value> {
        for &d in withs {
            let scope = env.at_depth(d).get(0);
            let scope = self.force(&scope)?;
            let Value::Attrs(a) = &scope else {
                return Err(type_error(
                    format!(
                        "expected a set but found {}: {}",
                        scope.show_type(),
                        ErrorValue(&scope)
                    ),
                    pos,
                ));
            };
            if let Some(a) = a.get_hinted(name, hint) {
                return Ok(a.value.clone());
            }
        }
        Err(other_error(format!("undefined variable '{name}'"), pos))
    }

    /// Builds the frame of a `let`: each binding lazily sees the frame itself.
    fn make_rec_env(&mut self, bindings: &[Binding], env: &Env) -> Env {
        let new_env = Env::empty(bindings.len(), Some(env.clone()));
        for (i, b) in bindings.iter().enumerate() {
            let v = if b.outer {
                self.thunk(&b.value, env)
            } else {
                self.thunk_in_new(&b.value, &new_env, i)
            };
            new_env.set(i, v);
        }
        new_env
    }

    fn eval_attrs(&mut self, def: &AttrsDef, env: &Env) -> Result<Value> {
        let mut entries: Vec<Attr>;
        let dyn_env;
        if def.rec {
            let new_env = Env::empty(def.statics.len() + def.sources.len(), Some(env.clone()));
            // With `__overrides`, slots may be replaced afterwards: share nothing early.
            let has_overrides = def.statics.iter().any(|st| &*st.name == "__overrides");
            entries = Vec::with_capacity(def.statics.len());
            for (i, st) in def.statics.iter().enumerate() {
                let v = if has_overrides && !st.outer {
                    Thunk::new(&st.value, &new_env)
                } else if st.outer {
                    self.thunk(&st.value, env)
                } else {
                    self.thunk_in_new(&st.value, &new_env, i)
                };
                new_env.set(i, v.clone());
                entries.push(Attr {
                    name: st.name.clone(),
                    value: v,
                    pos: st.pos,
                });
            }
            let n = def.statics.len();
            for (i, src) in def.sources.iter().enumerate() {
                new_env.set(n + i, Thunk::new(src, &new_env));
            }
            // `__overrides` replaces attributes both in the result and in the frame.
            if let Ok(i) = entries.binary_search_by(|a| (*a.name).cmp("__overrides")) {
                let ov = entries[i].value.clone();
                let ov = self.force(&ov)?;
                let ov = self.expect_attrs(&ov, def.pos)?;
                let mut extra = Vec::new();
                for a in &ov.entries {
                    match entries.binary_search_by(|e| e.name.cmp(&a.name)) {
                        Ok(j) => {
                            entries[j].value = a.value.clone();
                            new_env.set(j, a.value.clone());
                        }
                        Err(_) => extra.push(a.clone()),
                    }
                }
                if !extra.is_empty() {
                    entries.extend(extra);
                    entries.sort_by(|a, b| a.name.cmp(&b.name));
                }
            }
            dyn_env = new_env;
        } else {
            entries = def
                .statics
                .iter()
                .map(|s| Attr {
                    name: s.name.clone(),
                    value: self.thunk(&s.value, env),
                    pos: s.pos,
                })
                .collect();
            dyn_env = env.clone();
        }
        if !def.dynamics.is_empty() {
            for d in &def.dynamics {
                let n = self.eval(&d.name, &dyn_env)?;
                if let Value::Null = n {
                    continue;
                }
                let name = self.expect_string(&n, d.pos)?;
                let name: Rc<str> = Rc::from(name.s.as_str());
                match entries.binary_search_by(|e| e.name.cmp(&name)) {
                    Ok(j) => {
                        return Err(other_error(
                            format!(
                                "dynamic attribute '{name}' already defined at {}",
                                ShowPos(entries[j].pos)
                            ),
                            d.pos,
                        ))
                    }
                    Err(j) => {
                        let value = self.thunk(&d.value, &dyn_env);
                        entries.insert(
                            j,
                            Attr {
                                name,
                                value,
                                pos: d.pos,
                            },
                        );
                    }
                }
            }
        }
        Ok(Value::attrs(Attrs { entries }))
    }

    /// The name of one attribute path step.
    pub fn attr_name(&mut self, key: &AttrKey, env: &Env) -> Result<Rc<str>> {
        match key {
            AttrKey::Static(n, _) => Ok(n.clone()),
            AttrKey::Dynamic(e, pos) => {
                let v = self.eval(e, env)?;
                let s = self.expect_string(&v, *pos)?;
                Ok(Rc::from(s.s.as_str()))
            }
        }
    }

    fn eval_select(
        &mut self,
        expr: &Rc<Expr>,
        path: &[AttrKey],
        default: Option<&Rc<Expr>>,
        pos: Pos,
        env: &Env,
    ) -> Result<Value> {
        let mut v = self.eval(expr, env)?;
        for key in path {
            // Static names (nearly all) are borrowed: no reference count traffic.
            let dynamic;
            let (name, hint): (&str, Option<&Hint>) = match key {
                AttrKey::Static(n, hint) => (n, Some(hint)),
                AttrKey::Dynamic(..) => {
                    dynamic = self.attr_name(key, env)?;
                    (&dynamic, None)
                }
            };
            let next = match &v {
                Value::Attrs(a) => {
                    let found = match hint {
                        Some(h) => a.get_hinted(name, h),
                        None => a.get_attr(name),
                    };
                    found.map(|attr| self.force_attr(attr, name))
                }
                _ if default.is_some() => None,
                other => {
                    return Err(type_error(
                        format!(
                            "expected a set but found {}: {}",
                            other.show_type(),
                            ErrorValue(other)
                        ),
                        pos,
                    )
                    .with_frame(pos, "while selecting an attribute"))
                }
            };
            match next {
                Some(x) => v = x?,
                None => {
                    if let Some(d) = default {
                        return self.eval(d, env);
                    }
                    let Value::Attrs(a) = &v else { unreachable!() };
                    let mut msg = format!("attribute '{name}' missing");
                    let names: Vec<&str> = a.entries.iter().map(|a| &*a.name).collect();
                    let sugg = super::builtins::misc::suggestions(&names, name);
                    if !sugg.is_empty() {
                        msg.push_str("\nDid you mean ");
                        msg.push_str(&super::builtins::misc::one_of(&sugg));
                        msg.push('?');
                    }
                    return Err(other_error(msg, pos));
                }
            }
        }
        Ok(v)
    }

    /// Forces a selected attribute; a failure names the attribute in the trace.
    fn force_attr(&mut self, attr: &Attr, name: &str) -> Result<Value> {
        match &attr.value {
            Value::Thunk(t) => match t.done_value() {
                Some(x) => Ok(x),
                None => self.force_thunk(t).map_err(|mut e| {
                    if !attr.pos.is_none() {
                        e.trace.push(Frame {
                            pos: attr.pos,
                            msg: format!("while evaluating the attribute '{name}'"),
                        });
                    }
                    e
                }),
            },
            Value::Lambda(c) => {
                c.mark_forced();
                Ok(attr.value.clone())
            }
            x => Ok(x.clone()),
        }
    }

    // ---- function application -----------------------------------------------

    /// Applies a function value to one argument.
    pub fn call(&mut self, f: Value, arg: Value, pos: Pos) -> Result<Value> {
        match f {
            Value::Lambda(c) => {
                c.mark_forced();
                self.call_lambda(&c.def, &c.env, arg, pos)
            }
            Value::PrimOp(op) => {
                if op.arity == 1 {
                    (op.func)(self, &[arg], pos).map_err(|e| primop_frame(e, op.name, pos))
                } else {
                    Ok(Value::PrimOpApp(Shared::new(PrimOpApp {
                        op,
                        args: vec![arg],
                    })))
                }
            }
            Value::PrimOpApp(app) => {
                let mut args = app.args.clone();
                args.push(arg);
                if args.len() == app.op.arity {
                    (app.op.func)(self, &args, pos).map_err(|e| primop_frame(e, app.op.name, pos))
                } else {
                    Ok(Value::PrimOpApp(Shared::new(PrimOpApp {
                        op: app.op.clone(),
                        args,
                    })))
                }
            }
            Value::Attrs(ref a) if a.get("__functor").is_some() => {
                let functor = a.get("__functor").cloned().unwrap_or(Value::Null);
                let functor = self.force(&functor)?;
                let g = self.call(functor, f.clone(), pos)?;
                self.call(g, arg, pos)
            }
            Value::Thunk(_) => {
                let f = self.force(&f)?;
                self.call(f, arg, pos)
            }
            other => Err(type_error(
                format!(
                    "attempt to call something which is not a function but {}: {}",
                    other.show_type(),
                    ErrorValue(&other)
                ),
                pos,
            )),
        }
    }

    /// Applies the lambda `def` closed over `env` to one argument.
    fn call_lambda(&mut self, def: &LambdaDef, env: &Env, arg: Value, pos: Pos) -> Result<Value> {
        self.call_depth += 1;
        if self.call_depth > self.settings.max_call_depth {
            self.call_depth -= 1;
            return Err(EvalError::new(
                ErrorKind::StackOverflow,
                "stack overflow; max-call-depth exceeded",
                pos,
            ));
        }
        let r = match self.bind_lambda(def, env, arg, pos) {
            Ok(env) => self.eval(&def.body, &env),
            Err(e) => Err(e),
        };
        self.call_depth -= 1;
        r.map_err(|e| {
            if self.settings.show_trace {
                call_frames(e, def, pos)
            } else {
                e
            }
        })
    }

    /// Applies a function to one argument of several (not the last): a curried lambda
    /// (`x: y: ...`) is entered without allocating the closure of its inner lambda.
    fn call_step(&mut self, f: Callee, arg: Value, pos: Pos) -> Result<Callee> {
        let (def, env) = match &f {
            Callee::Value(Value::Lambda(c)) => (&c.def, &c.env),
            Callee::Inner(def, env) => (def, env),
            Callee::Value(_) => {
                let Callee::Value(f) = f else { unreachable!() };
                return Ok(Callee::Value(self.call(f, arg, pos)?));
            }
        };
        match &*def.body {
            // Evaluating the body would only capture the new frame in a closure. Under
            // `--show-trace` the call keeps its frame in traces, so it is made in full.
            Expr::Lambda(inner) if !self.settings.show_trace => {
                let new_env = self.bind_lambda(def, env, arg, pos)?;
                Ok(Callee::Inner(inner.clone(), new_env))
            }
            _ => Ok(Callee::Value(self.call_lambda(def, env, arg, pos)?)),
        }
    }

    /// Applies a function to several arguments in turn.
    pub fn call_n(&mut self, f: &Value, args: &[Value], pos: Pos) -> Result<Value> {
        let f = self.force(f)?;
        let Some((last, init)) = args.split_last() else {
            return Ok(f);
        };
        let mut f = Callee::Value(f);
        for a in init {
            f = self.call_step(f, a.clone(), pos)?;
        }
        match f {
            Callee::Value(f) => self.call(f, last.clone(), pos),
            Callee::Inner(def, env) => self.call_lambda(&def, &env, last.clone(), pos),
        }
    }

    /// Creates the frame of a call of the lambda `def` closed over `env`, checking its
    /// formals.
    fn bind_lambda(&mut self, def: &LambdaDef, env: &Env, arg: Value, pos: Pos) -> Result<Env> {
        match &def.param {
            Param::Ident => Ok(Env::one(arg, env.clone())),
            Param::Pattern {
                formals,
                ellipsis,
                at,
            } => {
                let argv = self.force(&arg)?;
                let Value::Attrs(attrs) = &argv else {
                    return Err(type_error(
                        format!(
                            "expected a set but found {}: {}",
                            argv.show_type(),
                            ErrorValue(&argv)
                        ),
                        pos,
                    ));
                };
                let new_env = Env::empty(formals.len() + *at as usize, Some(env.clone()));
                let mut used = 0;
                for (i, f) in formals.iter().enumerate() {
                    match attrs.get_hinted(&f.name, &f.hint).map(|a| &a.value) {
                        Some(v) => {
                            used += 1;
                            new_env.set(i, v.clone());
                        }
                        None => match &f.default {
                            Some(d) => {
                                let v = self.thunk_in_new(d, &new_env, i);
                                new_env.set(i, v);
                            }
                            None => {
                                return Err(type_error(
                                    format!(
                                        "function {} called without required argument '{}'",
                                        def.display_name(),
                                        f.name
                                    ),
                                    pos,
                                )
                                .with_frame(def.pos, format!("from call site {}", ShowPos(pos))))
                            }
                        },
                    }
                }
                if !*ellipsis && used < attrs.len() {
                    for a in &attrs.entries {
                        if !formals.iter().any(|f| f.name == a.name) {
                            return Err(type_error(
                                format!(
                                    "function {} called with unexpected argument '{}'",
                                    def.display_name(),
                                    a.name
                                ),
                                pos,
                            ));
                        }
                    }
                }
                if *at {
                    new_env.set(formals.len(), argv.clone());
                }
                Ok(new_env)
            }
        }
    }

    // ---- type checks -------------------------------------------------------------

    pub fn expect_bool(&mut self, v: &Value, pos: Pos) -> Result<bool> {
        match self.force(v)? {
            Value::Bool(b) => Ok(b),
            other => Err(expected("a Boolean", &other, pos)),
        }
    }
    pub fn expect_int(&mut self, v: &Value, pos: Pos) -> Result<i64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i),
            other => Err(expected("an integer", &other, pos)),
        }
    }
    pub fn expect_float(&mut self, v: &Value, pos: Pos) -> Result<f64> {
        match self.force(v)? {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(expected("a float", &other, pos)),
        }
    }
    pub fn expect_string(&mut self, v: &Value, pos: Pos) -> Result<Shared<NixString>> {
        match self.force(v)? {
            Value::String(s) => Ok(s),
            other => Err(expected("a string", &other, pos)),
        }
    }
    pub fn expect_attrs(&mut self, v: &Value, pos: Pos) -> Result<Shared<Attrs>> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a),
            other => Err(expected("a set", &other, pos)),
        }
    }
    pub fn expect_list(&mut self, v: &Value, pos: Pos) -> Result<Shared<Vec<Value>>> {
        match self.force(v)? {
            Value::List(l) => Ok(l),
            other => Err(expected("a list", &other, pos)),
        }
    }
    pub fn expect_function(&mut self, v: &Value, pos: Pos) -> Result<Value> {
        let f = self.force(v)?;
        match &f {
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) => Ok(f),
            Value::Attrs(a) if a.get("__functor").is_some() => Ok(f),
            other => Err(expected("a function", other, pos)),
        }
    }

    /// Gets a required attribute of a set given to a builtin.
    pub fn get_attr(&mut self, a: &Attrs, name: &str, pos: Pos) -> Result<Value> {
        match a.get(name) {
            Some(v) => self.force(v),
            None => Err(other_error(format!("attribute '{name}' missing"), pos)),
        }
    }

    /// `{ file, line, column }` for `__curPos` and `unsafeGetAttrPos`.
    pub fn pos_to_attrs(&self, pos: Pos) -> Value {
        let Some((line, col)) = super::source::line_col(pos) else {
            return Value::Null;
        };
        let file = super::source::file_path(pos)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "«string»".into());
        let mk = |n: &str, v: Value| Attr {
            name: Rc::from(n),
            value: v,
            pos: Pos::NONE,
        };
        Value::attrs(Attrs {
            entries: vec![
                mk("column", Value::Int(col as i64)),
                mk("file", Value::string(file)),
                mk("line", Value::Int(line as i64)),
            ],
        })
    }

    /// Writes a `trace:`/`warning:` line to stderr.
    pub fn emit(&mut self, s: &str) {
        (self.trace_sink)(s)
    }

    pub fn show(&self, v: &Value) -> String {
        show_value_for_error(v)
    }

    // ---- strings, interpolation ------------------------------------------------

    fn eval_interp(
        &mut self,
        parts: &[Rc<Expr>],
        is_path: bool,
        pos: Pos,
        env: &Env,
    ) -> Result<Value> {
        let mut ctx = Context::new();
        let mut out = String::new();
        for (i, p) in parts.iter().enumerate() {
            let v = self.eval(p, env)?;
            if is_path && i == 0 {
                if let Value::Path(p) = &v {
                    out.push_str(p);
                    continue;
                }
            }
            self.coerce_to_string_into(&v, &mut out, &mut ctx, false, !is_path, pos)?;
        }
        if is_path {
            if !ctx.is_empty() {
                return Err(other_error(
                    "a string that refers to a store path cannot be appended to a path",
                    pos,
                ));
            }
            return Ok(Value::path(super::builtins::paths::canon_path(&out)));
        }
        Ok(Value::string_ctx(out, ctx))
    }

    fn eval_bin(
        &mut self,
        op: BinOp,
        lhs: &Rc<Expr>,
        rhs: &Rc<Expr>,
        pos: Pos,
        env: &Env,
    ) -> Result<Value> {
        match op {
            BinOp::And => {
                let a = self.eval(lhs, env)?;
                if !self.expect_bool(&a, pos).map_err(|e| {
                    e.with_frame(pos, "in the left operand of the AND (&&) operator")
                })? {
                    return Ok(Value::Bool(false));
                }
                let b = self.eval(rhs, env)?;
                Ok(Value::Bool(self.expect_bool(&b, pos)?))
            }
            BinOp::Or => {
                let a = self.eval(lhs, env)?;
                if self.expect_bool(&a, pos)? {
                    return Ok(Value::Bool(true));
                }
                let b = self.eval(rhs, env)?;
                Ok(Value::Bool(self.expect_bool(&b, pos)?))
            }
            BinOp::Impl => {
                let a = self.eval(lhs, env)?;
                if !self.expect_bool(&a, pos)? {
                    return Ok(Value::Bool(true));
                }
                let b = self.eval(rhs, env)?;
                Ok(Value::Bool(self.expect_bool(&b, pos)?))
            }
            _ => {
                let a = self.eval(lhs, env)?;
                let b = self.eval(rhs, env)?;
                // Integers are the hot case: no re-forcing, no dispatch.
                if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
                    let (x, y) = (*x, *y);
                    match op {
                        BinOp::Lt => return Ok(Value::Bool(x < y)),
                        BinOp::Le => return Ok(Value::Bool(x <= y)),
                        BinOp::Gt => return Ok(Value::Bool(x > y)),
                        BinOp::Ge => return Ok(Value::Bool(x >= y)),
                        BinOp::Eq => return Ok(Value::Bool(x == y)),
                        BinOp::Neq => return Ok(Value::Bool(x != y)),
                        BinOp::Add => {
                            if let Some(r) = x.checked_add(y) {
                                return Ok(Value::Int(r));
                            }
                        }
                        BinOp::Sub => {
                            if let Some(r) = x.checked_sub(y) {
                                return Ok(Value::Int(r));
                            }
                        }
                        BinOp::Mul => {
                            if let Some(r) = x.checked_mul(y) {
                                return Ok(Value::Int(r));
                            }
                        }
                        _ => {}
                    }
                }
                self.binop(op, &a, &b, pos)
            }
        }
    }

    /// Applies a strict binary operator to two values in weak head normal form.
    pub fn binop(&mut self, op: BinOp, a: &Value, b: &Value, pos: Pos) -> Result<Value> {
        match op {
            BinOp::Eq => Ok(Value::Bool(self.equal(a, b, pos)?)),
            BinOp::Neq => Ok(Value::Bool(!self.equal(a, b, pos)?)),
            BinOp::Lt => Ok(Value::Bool(self.less_than(a, b, pos)?)),
            BinOp::Gt => Ok(Value::Bool(self.less_than(b, a, pos)?)),
            BinOp::Le => Ok(Value::Bool(!self.less_than(b, a, pos)?)),
            BinOp::Ge => Ok(Value::Bool(!self.less_than(a, b, pos)?)),
            BinOp::Add => self.add(a, b, pos),
            BinOp::Sub | BinOp::Mul | BinOp::Div => self.arith(op, a, b, pos),
            BinOp::Update => {
                let x = self.expect_attrs(a, pos)?;
                let y = self.expect_attrs(b, pos)?;
                Ok(update(&x, &y))
            }
            BinOp::Concat => {
                let x = self.expect_list(a, pos)?;
                let y = self.expect_list(b, pos)?;
                if x.is_empty() {
                    return Ok(Value::List(y));
                }
                if y.is_empty() {
                    return Ok(Value::List(x));
                }
                let mut v = Vec::with_capacity(x.len() + y.len());
                v.extend(x.iter().cloned());
                v.extend(y.iter().cloned());
                Ok(Value::list(v))
            }
            BinOp::And | BinOp::Or | BinOp::Impl => {
                unreachable!("short-circuit operators are lazy")
            }
        }
    }

    /// `+` with Nix's rules: numbers add, a path absorbs strings, strings concatenate.
    pub fn add(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<Value> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                Some(r) => Ok(Value::Int(r)),
                None => Err(other_error(
                    format!("integer overflow in adding {x} + {y}"),
                    pos,
                )),
            },
            (Value::Int(x), Value::Float(y)) => Ok(Value::Float(*x as f64 + y)),
            (Value::Float(x), Value::Int(y)) => Ok(Value::Float(x + *y as f64)),
            (Value::Float(x), Value::Float(y)) => Ok(Value::Float(x + y)),
            (Value::Int(_), other) => Err(other_error(
                format!("cannot add {} to an integer", other.show_type()),
                pos,
            )),
            (Value::Float(_), other) => Err(other_error(
                format!("cannot add {} to a float", other.show_type()),
                pos,
            )),
            (Value::Path(p), _) => {
                let mut ctx = Context::new();
                let mut s = p.to_string();
                self.coerce_to_string_into(&b, &mut s, &mut ctx, false, false, pos)?;
                if !ctx.is_empty() {
                    return Err(other_error(
                        "a string that refers to a store path cannot be appended to a path",
                        pos,
                    ));
                }
                Ok(Value::path(super::builtins::paths::canon_path(&s)))
            }
            (Value::String(x), Value::String(y)) => {
                let mut s = String::with_capacity(x.s.len() + y.s.len());
                s.push_str(&x.s);
                s.push_str(&y.s);
                let ctx = if y.ctx.is_empty() {
                    x.ctx.clone()
                } else {
                    let mut c = x.ctx.clone();
                    c.extend(y.ctx.iter().cloned());
                    c
                };
                Ok(Value::string_ctx(s, ctx))
            }
            _ => {
                let mut ctx = Context::new();
                let mut s = String::new();
                self.coerce_to_string_into(&a, &mut s, &mut ctx, false, true, pos)?;
                self.coerce_to_string_into(&b, &mut s, &mut ctx, false, true, pos)?;
                Ok(Value::string_ctx(s, ctx))
            }
        }
    }

    /// `-`, `*`, `/` (and unary minus) with overflow and division-by-zero errors.
    pub fn arith(&mut self, op: BinOp, a: &Value, b: &Value, pos: Pos) -> Result<Value> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        let (verb, sym) = match op {
            BinOp::Sub => ("subtracting", "-"),
            BinOp::Mul => ("multiplying", "*"),
            _ => ("dividing", "/"),
        };
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => {
                let r = match op {
                    BinOp::Sub => x.checked_sub(*y),
                    BinOp::Mul => x.checked_mul(*y),
                    _ => {
                        if *y == 0 {
                            return Err(other_error("division by zero", pos));
                        }
                        x.checked_div(*y)
                    }
                };
                match r {
                    Some(r) => Ok(Value::Int(r)),
                    None => Err(other_error(
                        format!("integer overflow in {verb} {x} {sym} {y}"),
                        pos,
                    )),
                }
            }
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let x = as_f64(&a);
                let y = as_f64(&b);
                match op {
                    BinOp::Sub => Ok(Value::Float(x - y)),
                    BinOp::Mul => Ok(Value::Float(x * y)),
                    _ => {
                        if y == 0.0 {
                            return Err(other_error("division by zero", pos));
                        }
                        Ok(Value::Float(x / y))
                    }
                }
            }
            _ => super::builtins::misc::numeric_type_error(&a, &b, pos),
        }
    }

    // ---- comparison ----------------------------------------------------------------

    /// `==`: functions are never equal (except identical ones inside sets/lists).
    pub fn equal(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<bool> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        self.eq_inner(&a, &b, pos, 0)
    }

    fn eq_inner(&mut self, a: &Value, b: &Value, pos: Pos, depth: usize) -> Result<bool> {
        if depth > 10_000 {
            return Err(EvalError::new(
                ErrorKind::StackOverflow,
                "stack overflow; max-call-depth exceeded",
                pos,
            ));
        }
        Ok(match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(x), Value::Float(y)) => (*x as f64) == *y,
            (Value::Float(x), Value::Int(y)) => *x == (*y as f64),
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::String(x), Value::String(y)) => x.s == y.s,
            (Value::Path(x), Value::Path(y)) => **x == **y,
            (Value::List(x), Value::List(y)) => {
                if Shared::ptr_eq(x, y) {
                    return Ok(true);
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if let (Value::Thunk(t1), Value::Thunk(t2)) = (p, q) {
                        if Shared::ptr_eq(t1, t2) {
                            continue;
                        }
                    }
                    let p = self.force(p)?;
                    let q = self.force(q)?;
                    if !identical_fn(&p, &q) && !self.eq_inner(&p, &q, pos, depth + 1)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if Shared::ptr_eq(x, y) {
                    return Ok(true);
                }
                // Derivations compare by output path.
                if is_derivation_attrs(self, x)? && is_derivation_attrs(self, y)? {
                    if let (Some(p), Some(q)) = (x.get("outPath"), y.get("outPath")) {
                        let (p, q) = (p.clone(), q.clone());
                        let p = self.force(&p)?;
                        let q = self.force(&q)?;
                        return self.eq_inner(&p, &q, pos, depth + 1);
                    }
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.entries.iter().zip(y.entries.iter()) {
                    if p.name != q.name {
                        return Ok(false);
                    }
                    let pv = self.force(&p.value)?;
                    let qv = self.force(&q.value)?;
                    if !identical_fn(&pv, &qv) && !self.eq_inner(&pv, &qv, pos, depth + 1)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// The detailed failure of an `assert a == b`, as current Nix reports it.
    fn assert_eq_values(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<()> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        if self.eq_inner(&a, &b, pos, 0)? {
            return Ok(());
        }
        let fail = |msg: String| Err(EvalError::new(ErrorKind::Assert, msg, pos));
        let is_num = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
        if is_num(&a) && is_num(&b) {
            return fail(format!(
                "{} with value '{}' is not equal to {} with value '{}'",
                a.show_type(),
                ErrorValue(&a),
                b.show_type(),
                ErrorValue(&b)
            ));
        }
        if std::mem::discriminant(&a) != std::mem::discriminant(&b)
            && !(a.is_function() && b.is_function())
        {
            return fail(format!(
                "{} of value '{}' is not equal to {} of value '{}'",
                a.show_type(),
                ErrorValue(&a),
                b.show_type(),
                ErrorValue(&b)
            ));
        }
        match (&a, &b) {
            (Value::Bool(_), _) => fail(format!("boolean '{}' is not equal to boolean '{}'", ErrorValue(&a), ErrorValue(&b))),
            (Value::String(_), _) => fail(format!("string '{}' is not equal to string '{}'", ErrorValue(&a), ErrorValue(&b))),
            (Value::Path(_), _) => fail(format!("path '{}' is not equal to path '{}'", ErrorValue(&a), ErrorValue(&b))),
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return fail(format!(
                        "list of size '{}' is not equal to list of size '{}', left hand side is '{}', right hand side is '{}'",
                        x.len(),
                        y.len(),
                        ErrorValue(&a),
                        ErrorValue(&b)
                    ));
                }
                for (n, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                    self.assert_eq_values(p, q, pos)
                        .map_err(|e| e.with_frame(pos, format!("while comparing list element {n}")))?;
                }
                Ok(())
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if is_derivation_attrs(self, x)? && is_derivation_attrs(self, y)? {
                    if let (Some(p), Some(q)) = (x.get("outPath").cloned(), y.get("outPath").cloned()) {
                        return self
                            .assert_eq_values(&p, &q, pos)
                            .map_err(|e| e.with_frame(pos, "while comparing a derivation by its 'outPath' attribute"));
                    }
                }
                if x.len() != y.len() {
                    return fail(format!(
                        "attribute names of attribute set '{}' differs from attribute set '{}'",
                        ErrorValue(&a),
                        ErrorValue(&b)
                    ));
                }
                for (p, q) in x.entries.iter().zip(y.entries.iter()) {
                    if p.name != q.name {
                        if y.get(&p.name).is_none() {
                            return fail(format!(
                                "attribute name '{}' is contained in '{}', but not in '{}'",
                                p.name,
                                ErrorValue(&a),
                                ErrorValue(&b)
                            ));
                        }
                        return fail(format!(
                            "attribute name '{}' is missing in '{}', but is contained in '{}'",
                            q.name,
                            ErrorValue(&a),
                            ErrorValue(&b)
                        ));
                    }
                    self.assert_eq_values(&p.value, &q.value, pos)
                        .map_err(|e| e.with_frame(pos, format!("while comparing attribute '{}'", p.name)))?;
                }
                Ok(())
            }
            _ if a.is_function() => {
                fail("distinct functions and immediate comparisons of identical functions compare as unequal".into())
            }
            _ => Ok(()),
        }
    }

    /// `<`: numbers, strings, paths, and lists lexicographically.
    pub fn less_than(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<bool> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => Ok(x < y),
            (Value::Int(x), Value::Float(y)) => Ok((*x as f64) < *y),
            (Value::Float(x), Value::Int(y)) => Ok(*x < (*y as f64)),
            (Value::Float(x), Value::Float(y)) => Ok(x < y),
            (Value::String(x), Value::String(y)) => Ok(x.s < y.s),
            (Value::Path(x), Value::Path(y)) => Ok(**x < **y),
            (Value::List(x), Value::List(y)) => {
                for (p, q) in x.iter().zip(y.iter()) {
                    if !self.equal(p, q, pos)? {
                        return self.less_than(p, q, pos);
                    }
                }
                Ok(x.len() < y.len())
            }
            _ => {
                if std::mem::discriminant(&a) == std::mem::discriminant(&b) {
                    Err(other_error(
                        format!(
                            "cannot compare {} with {}; values of that type are incomparable (values are {} and {})",
                            a.show_type(),
                            b.show_type(),
                            ErrorValue(&a),
                            ErrorValue(&b)
                        ),
                        pos,
                    ))
                } else {
                    Err(other_error(
                        format!(
                            "cannot compare {} with {}; values are {} and {}",
                            a.show_type(),
                            b.show_type(),
                            ErrorValue(&a),
                            ErrorValue(&b)
                        ),
                        pos,
                    ))
                }
            }
        }
    }
}

/// `x.a.b` without evaluating anything, when `x` is a variable whose value and every set
/// on the path are already forced and every attribute is there: the attribute's own
/// (possibly lazy) value, so no thunk is made for the selection. Errors could not differ
/// (the selection cannot fail); only `--show-trace`'s "while evaluating the attribute"
/// frame would, which is why callers skip this when tracing.
fn select_forced(expr: &Expr, path: &[AttrKey], env: &Env) -> Option<Value> {
    let Expr::Var { depth, slot } = expr else {
        return None;
    };
    let mut v = env.lookup(*depth, *slot);
    for key in path {
        if let Value::Thunk(t) = &v {
            v = t.done_value()?;
        }
        let (Value::Attrs(a), AttrKey::Static(name, hint)) = (&v, key) else {
            return None;
        };
        let x = a.get_hinted(name, hint)?.value.clone();
        v = x;
    }
    Some(v)
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Functions compare equal inside lists and sets only when they are the same value.
fn identical_fn(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Lambda(x), Value::Lambda(y)) => Shared::ptr_eq(x, y),
        (Value::PrimOp(x), Value::PrimOp(y)) => Shared::ptr_eq(x, y),
        (Value::PrimOpApp(x), Value::PrimOpApp(y)) => Shared::ptr_eq(x, y),
        _ => false,
    }
}

/// `a // b`.
pub fn update(a: &Shared<Attrs>, b: &Shared<Attrs>) -> Value {
    if b.is_empty() {
        return Value::Attrs(a.clone());
    }
    if a.is_empty() {
        return Value::Attrs(b.clone());
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.entries.len() && j < b.entries.len() {
        match super::value::cmp_name(&a.entries[i].name, &b.entries[j].name) {
            std::cmp::Ordering::Less => {
                out.push(a.entries[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b.entries[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(b.entries[j].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a.entries[i..]);
    out.extend_from_slice(&b.entries[j..]);
    Value::attrs(Attrs { entries: out })
}

/// `type = "derivation"`, forcing only the `type` attribute.
pub fn is_derivation_attrs(m: &mut Machine, a: &Attrs) -> Result<bool> {
    match a.get("type") {
        Some(t) => {
            let t = t.clone();
            Ok(matches!(m.force(&t)?, Value::String(s) if s.s == "derivation"))
        }
        None => Ok(false),
    }
}

/// "expected a list but found an integer: 1".
pub fn expected(what: &str, found: &Value, pos: Pos) -> Box<EvalError> {
    type_error(
        format!(
            "expected {what} but found {}: {}",
            found.show_type(),
            ErrorValue(found)
        ),
        pos,
    )
}

fn lambda_desc(def: &LambdaDef) -> String {
    match &def.name {
        Some(n) => format!("'{n}'"),
        None => "anonymous lambda".to_string(),
    }
}

/// The frames Nix adds for a failed lambda call: the function, then where it was called.
/// A function being applied to several arguments in turn: a value, or the inner lambda
/// of a curried one together with the frame its outer call made (no closure allocated).
enum Callee {
    Value(Value),
    Inner(Rc<LambdaDef>, Env),
}

fn call_frames(mut e: Box<EvalError>, def: &LambdaDef, pos: Pos) -> Box<EvalError> {
    if e.trace.len() >= MAX_TRACE_FRAMES {
        return e;
    }
    e.trace.push(Frame {
        pos: def.pos,
        msg: format!("while calling {}", lambda_desc(def)),
    });
    if !pos.is_none() {
        e.trace.push(Frame {
            pos,
            msg: "from call site".into(),
        });
    }
    e
}

fn primop_frame(e: Box<EvalError>, name: &str, pos: Pos) -> Box<EvalError> {
    if pos.is_none() {
        return e;
    }
    e.with_frame(pos, format!("while calling the '{name}' builtin"))
}

impl EvalError {
    /// Adds a trace frame (frames are stored innermost first).
    pub fn with_frame(mut self: Box<Self>, pos: Pos, msg: impl Into<String>) -> Box<Self> {
        if self.trace.len() < MAX_TRACE_FRAMES {
            self.trace.push(Frame {
                pos,
                msg: msg.into(),
            });
        }
        if self.pos.is_none() {
            self.pos = pos;
        }
        self
    }
}

/// Keeps `ThunkState` constructors referenced from one place for lowering's use.
pub fn pending(e: Rc<Expr>, env: Env) -> Value {
    Value::Thunk(Thunk::cell(ThunkState::Pending(e, env)))
}
