//! Liveness: definitions nobody reads, `with`s nothing looks into, `rec`s nothing needs.

use std::collections::HashSet;

use super::scope::{NameResolution, ResolveResult};
use super::{Expr, ExprId, Module, NameId, NameKind};

/// Results of the liveness analysis, each list in index order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Liveness {
    /// Definitions (let bindings, lambda parameters, formals) never referenced.
    pub unused_names: Vec<NameId>,
    /// `with` expressions whose environment no reference may come from.
    pub unused_withs: Vec<ExprId>,
    /// `rec { }` sets whose attributes are never referenced inside them.
    pub useless_recs: Vec<ExprId>,
}

impl Liveness {
    /// Computes liveness from the module and its name resolution.
    pub fn new(module: &Module, resolution: &NameResolution) -> Self {
        let mut used_names = HashSet::new();
        let mut used_withs = HashSet::new();
        for (_, r) in resolution.iter() {
            match r {
                ResolveResult::Definition(n) => {
                    used_names.insert(*n);
                }
                ResolveResult::WithExprs(ws) => used_withs.extend(ws.iter().copied()),
                ResolveResult::Builtin(_) => {}
            }
        }
        let unused_names = module
            .names
            .iter()
            .filter(|(id, n)| {
                matches!(
                    n.kind,
                    NameKind::LetIn | NameKind::Param | NameKind::PatField
                ) && !used_names.contains(id)
            })
            .map(|(id, _)| id)
            .collect();
        let mut unused_withs = Vec::new();
        let mut useless_recs = Vec::new();
        for (id, e) in module.exprs.iter() {
            match e {
                Expr::With(..) if !used_withs.contains(&id) => unused_withs.push(id),
                Expr::RecAttrset(b) if !b.statics.iter().any(|(n, _)| used_names.contains(n)) => {
                    useless_recs.push(id)
                }
                _ => {}
            }
        }
        Liveness {
            unused_names,
            unused_withs,
            useless_recs,
        }
    }
}
