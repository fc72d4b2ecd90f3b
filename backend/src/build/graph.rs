//! The build graph: the requested derivations and, for those whose outputs are not all valid,
//! their input derivations, transitively.

use std::collections::{BTreeMap, BTreeSet};

use super::BuildError;
use crate::store::{Derivation, LocalStore, StorePath};

/// Loaded derivations and which of them need building.
pub struct BuildGraph {
    drvs: BTreeMap<StorePath, Derivation>,
    needed: BTreeSet<StorePath>,
}

impl BuildGraph {
    /// Reads `roots` and, where an output is missing, everything they depend on.
    pub fn load(store: &LocalStore, roots: &[StorePath]) -> Result<BuildGraph, BuildError> {
        let mut g = BuildGraph {
            drvs: BTreeMap::new(),
            needed: BTreeSet::new(),
        };
        let mut todo: Vec<StorePath> = roots.to_vec();
        while let Some(d) = todo.pop() {
            if g.drvs.contains_key(&d) {
                continue;
            }
            let drv = read_drv(store, &d)?;
            let mut complete = true;
            for o in drv.outputs.values() {
                match &o.path {
                    Some(p) if store.is_valid(p)? => {}
                    _ => complete = false,
                }
            }
            if !complete {
                for src in &drv.input_srcs {
                    if !store.is_valid(src)? {
                        return Err(BuildError::MissingSource(store.store_dir().display(src)));
                    }
                }
                todo.extend(drv.input_drvs.keys().cloned());
                g.needed.insert(d.clone());
            }
            g.drvs.insert(d, drv);
        }
        Ok(g)
    }

    /// A loaded derivation.
    pub fn drv(&self, p: &StorePath) -> Option<&Derivation> {
        self.drvs.get(p)
    }

    /// The derivations with a missing output.
    pub fn to_build(&self) -> BTreeSet<StorePath> {
        self.needed.clone()
    }
}

/// Parses a `.drv` file of `store` (it must be valid there).
pub fn read_drv(store: &LocalStore, d: &StorePath) -> Result<Derivation, BuildError> {
    let shown = store.store_dir().display(d);
    if !d.is_derivation() {
        return Err(BuildError::BadDerivation {
            drv: shown,
            message: "not a .drv path".into(),
        });
    }
    if !store.is_valid(d)? {
        return Err(BuildError::BadDerivation {
            drv: shown,
            message: "not a valid path in this store (instantiate it first)".into(),
        });
    }
    let real = store.real_path(d);
    let text = std::fs::read_to_string(&real).map_err(|e| BuildError::BadDerivation {
        drv: shown.clone(),
        message: e.to_string(),
    })?;
    Derivation::parse(store.store_dir(), &text).map_err(|e| BuildError::BadDerivation {
        drv: shown,
        message: e.to_string(),
    })
}
