//! Name resolution: which definition, `with`, or builtin each variable use refers to.
//!
//! Lexical bindings (`let`, `rec`, lambda formals) always win over `with`, whatever the
//! nesting; a name bound nowhere lexically may come from any enclosing `with` (innermost
//! first), and otherwise must be a global builtin.

use rustc_hash::FxHashMap as HashMap;

use super::{Arena, BindingValue, Bindings, Expr, ExprId, Idx, Module, NameId};
use crate::builtins;

/// Index of a scope in [`ModuleScopes`].
pub type ScopeId = Idx<ScopeData>;

/// One scope: names it binds, or a `with` whose environment is searched dynamically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeData {
    /// The enclosing scope.
    pub parent: Option<ScopeId>,
    /// What this scope contributes.
    pub kind: ScopeKind,
}

/// What a scope contributes to lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKind {
    /// Names bound lexically.
    Definitions(HashMap<std::sync::Arc<str>, NameId>),
    /// The environment of `with env; …` (the `With` expression itself).
    With(ExprId),
}

/// The scope tree of a module and the scope each expression is evaluated in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleScopes {
    scopes: Arena<ScopeData>,
    /// By expression arena index: every expression reachable from the entry has one.
    scope_by_expr: Vec<Option<ScopeId>>,
}

impl ModuleScopes {
    /// Builds the scope tree of a module.
    pub fn new(module: &Module) -> Self {
        let mut this = ModuleScopes {
            scopes: Arena::default(),
            scope_by_expr: vec![None; module.exprs.len()],
        };
        if let Some(entry) = module.entry {
            let root = this.scopes.alloc(ScopeData {
                parent: None,
                kind: ScopeKind::Definitions(HashMap::default()),
            });
            // An explicit stack: deeply nested input must not overflow ours.
            let mut stack = vec![(entry, root)];
            while let Some((expr, scope)) = stack.pop() {
                this.traverse(module, expr, scope, &mut stack);
            }
        }
        this
    }

    fn traverse(
        &mut self,
        module: &Module,
        expr: ExprId,
        scope: ScopeId,
        stack: &mut Vec<(ExprId, ScopeId)>,
    ) {
        if let Some(slot) = self.scope_by_expr.get_mut(expr.into_raw() as usize) {
            *slot = Some(scope);
        }
        match &module.exprs[expr] {
            Expr::Lambda(param, pat, body) => {
                let mut defs = HashMap::default();
                if let Some(p) = param {
                    defs.insert(module.names[*p].text.clone(), *p);
                }
                if let Some(pat) = pat {
                    for (name, _) in pat.fields.iter() {
                        defs.insert(module.names[*name].text.clone(), *name);
                    }
                }
                let inner = self.scopes.alloc(ScopeData {
                    parent: Some(scope),
                    kind: ScopeKind::Definitions(defs),
                });
                if let Some(pat) = pat {
                    for d in pat.fields.iter().filter_map(|(_, d)| *d) {
                        stack.push((d, inner));
                    }
                }
                stack.push((*body, inner));
            }
            Expr::LetIn(bindings, body) => {
                let inner = self.recursive_scope(module, bindings, scope, stack);
                stack.push((*body, inner));
            }
            Expr::RecAttrset(bindings) => {
                self.recursive_scope(module, bindings, scope, stack);
            }
            Expr::With(env, body) => {
                stack.push((*env, scope));
                let inner = self.scopes.alloc(ScopeData {
                    parent: Some(scope),
                    kind: ScopeKind::With(expr),
                });
                stack.push((*body, inner));
            }
            _ => {
                for child in module.children(expr) {
                    stack.push((child, scope));
                }
            }
        }
    }

    /// `let` and `rec { }`: values see the bindings; plain `inherit a;` reads the outer scope.
    fn recursive_scope(
        &mut self,
        module: &Module,
        bindings: &Bindings,
        scope: ScopeId,
        stack: &mut Vec<(ExprId, ScopeId)>,
    ) -> ScopeId {
        let defs = bindings
            .statics
            .iter()
            .map(|(n, _)| (module.names[*n].text.clone(), *n))
            .collect();
        let inner = self.scopes.alloc(ScopeData {
            parent: Some(scope),
            kind: ScopeKind::Definitions(defs),
        });
        for e in bindings.inherit_froms.iter() {
            stack.push((*e, inner));
        }
        for (_, v) in bindings.statics.iter() {
            match v {
                BindingValue::Inherit(e) => stack.push((*e, scope)),
                BindingValue::Expr(e) => stack.push((*e, inner)),
                BindingValue::InheritFrom(_) => {}
            }
        }
        for (k, v) in bindings.dynamics.iter() {
            stack.push((*k, inner));
            stack.push((*v, inner));
        }
        inner
    }

    /// The scope an expression is evaluated in.
    pub fn scope_for_expr(&self, expr: ExprId) -> Option<ScopeId> {
        self.scope_by_expr
            .get(expr.into_raw() as usize)
            .copied()
            .flatten()
    }

    /// The scope and its ancestors, innermost first.
    pub fn ancestors(&self, scope: ScopeId) -> impl Iterator<Item = &ScopeData> + '_ {
        std::iter::successors(Some(&self.scopes[scope]), |s| {
            s.parent.map(|p| &self.scopes[p])
        })
    }

    /// The scope in which `name` is defined.
    pub fn scope_defining(&self, name: NameId) -> Option<ScopeId> {
        self.scopes.iter().find_map(|(id, s)| match &s.kind {
            ScopeKind::Definitions(defs) if defs.values().any(|n| *n == name) => Some(id),
            _ => None,
        })
    }

    /// Whether `ancestor` is `scope` or encloses it.
    pub fn is_ancestor(&self, ancestor: ScopeId, scope: ScopeId) -> bool {
        let mut cur = Some(scope);
        while let Some(s) = cur {
            if s == ancestor {
                return true;
            }
            cur = self.scopes[s].parent;
        }
        false
    }

    /// Resolves `name` as seen from `scope`.
    pub fn resolve_name(&self, scope: ScopeId, name: &str) -> Option<ResolveResult> {
        let mut withs = Vec::new();
        for data in self.ancestors(scope) {
            match &data.kind {
                ScopeKind::Definitions(defs) => {
                    if let Some(n) = defs.get(name) {
                        return Some(ResolveResult::Definition(*n));
                    }
                }
                ScopeKind::With(w) => withs.push(*w),
            }
        }
        if !withs.is_empty() {
            return Some(ResolveResult::WithExprs(withs));
        }
        if let Some(b) = builtins::lookup_global(name) {
            return Some(ResolveResult::Builtin(b.name));
        }
        if builtins::EXTRA_GLOBALS.iter().any(|(n, _)| *n == name) {
            return Some(ResolveResult::Builtin("__curPos"));
        }
        None
    }
}

/// What a variable use refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveResult {
    /// A lexical definition.
    Definition(NameId),
    /// Not bound lexically: one of these `with` expressions (innermost first) must supply it.
    WithExprs(Vec<ExprId>),
    /// A builtin reachable without `builtins.` (its name inside `builtins`).
    Builtin(&'static str),
}

/// The resolution of every reference in a module; references missing here are undefined.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameResolution {
    resolved: HashMap<ExprId, ResolveResult>,
}

impl NameResolution {
    /// Resolves every `Reference` of the module.
    pub fn new(module: &Module, scopes: &ModuleScopes) -> Self {
        let mut resolved = HashMap::default();
        for (id, e) in module.exprs.iter() {
            if let Expr::Reference(name) = e {
                if let Some(scope) = scopes.scope_for_expr(id) {
                    if let Some(r) = scopes.resolve_name(scope, name) {
                        resolved.insert(id, r);
                    }
                }
            }
        }
        NameResolution { resolved }
    }

    /// What a reference refers to (`None`: undefined, or not a reference).
    pub fn get(&self, expr: ExprId) -> Option<&ResolveResult> {
        self.resolved.get(&expr)
    }

    /// Every resolved reference.
    pub fn iter(&self) -> impl Iterator<Item = (ExprId, &ResolveResult)> + '_ {
        self.resolved.iter().map(|(e, r)| (*e, r))
    }

    /// References that resolve to a given definition.
    pub fn references_to(&self, name: NameId) -> Vec<ExprId> {
        let mut v: Vec<ExprId> = self
            .resolved
            .iter()
            .filter(|(_, r)| **r == ResolveResult::Definition(name))
            .map(|(e, _)| *e)
            .collect();
        v.sort();
        v
    }
}
