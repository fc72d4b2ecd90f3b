//! `derivationStrict`: from a set of attributes to a store derivation, its `.drv`
//! path and output paths (computed through the store module, never built here).

use std::collections::{BTreeMap, BTreeSet};

use crate::store::{
    Derivation, DerivationOutput, FileIngestionMethod, FixedOutputHash, Hash, HashAlgo, StoreDir,
    StorePath,
};

use super::builtins::attr;
use super::error::{other_error, Result};
use super::machine::Machine;
use super::source::Pos;
use super::value::{Attrs, Context, Shared, Value};

/// A derivation computed during this evaluation, kept for its dependents.
pub struct KnownDrv {
    pub drv: Derivation,
    pub name: String,
    /// `hashDerivationModulo` with outputs filled in (what dependents hash it as).
    pub modulo: Hash,
}

fn store_dir(m: &Machine, pos: Pos) -> Result<StoreDir> {
    StoreDir::new(&m.settings.store_dir).map_err(|e| other_error(e.to_string(), pos))
}

fn parse_store_path(sd: &StoreDir, p: &str, pos: Pos) -> Result<StorePath> {
    sd.parse_path(p)
        .map_err(|e| other_error(format!("path '{p}' is not a valid store path: {e}"), pos))
}

/// Nix's check of a derivation name.
fn check_drv_name(name: &str, pos: Pos) -> Result<()> {
    let bad = |why: String| {
        Err(other_error(
            format!("invalid derivation name: {why}. Please pass a different 'name'."),
            pos,
        ))
    };
    if name.is_empty() {
        return bad("name must not be empty".into());
    }
    if name.len() > 211 {
        return bad(format!(
            "name '{name}' must be no longer than 211 characters"
        ));
    }
    if name.starts_with('.')
        && (name == "." || name == ".." || name.starts_with(".-") || name.starts_with("..-"))
    {
        return bad(format!("name '{name}' is not allowed"));
    }
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || "+-._?=".contains(c)) {
            return bad(format!("name '{name}' contains illegal character '{c}'"));
        }
    }
    Ok(())
}

fn handle_outputs(names: Vec<String>, pos: Pos) -> Result<Vec<String>> {
    if names.is_empty() {
        return Err(other_error(
            "derivation cannot have an empty set of outputs",
            pos,
        ));
    }
    let mut seen = BTreeSet::new();
    for n in &names {
        if n == "drvPath" {
            return Err(other_error(
                format!("invalid derivation output name '{n}'"),
                pos,
            ));
        }
        if !seen.insert(n.clone()) {
            return Err(other_error(
                format!("duplicate derivation output '{n}'"),
                pos,
            ));
        }
    }
    Ok(names)
}

/// Computes the derivation described by `attrs`; returns `{ drvPath, <outputs> }`.
pub fn derivation_strict(m: &mut Machine, attrs: &Value, pos: Pos) -> Result<Value> {
    let attrs = m.expect_attrs(attrs, pos)?;
    let name = m.get_attr(&attrs, "name", pos)?;
    let name = m.expect_string(&name, pos)?.s.clone();
    check_drv_name(&name, pos)
        .map_err(|e| e.with_frame(pos, format!("while evaluating derivation '{name}'")))?;
    derivation_inner(m, &attrs, &name, pos)
        .map_err(|e| e.with_frame(pos, format!("while evaluating derivation '{name}'")))
}

fn derivation_inner(m: &mut Machine, attrs: &Shared<Attrs>, name: &str, pos: Pos) -> Result<Value> {
    let structured = match attrs.get("__structuredAttrs") {
        Some(v) => m.expect_bool(&v.clone(), pos)?,
        None => false,
    };
    let ignore_nulls = match attrs.get("__ignoreNulls") {
        Some(v) => m.expect_bool(&v.clone(), pos)?,
        None => false,
    };
    let mut ctx = Context::new();
    let mut drv = Derivation::default();
    let mut outputs = vec!["out".to_string()];
    let mut output_hash: Option<String> = None;
    let mut output_hash_algo: Option<String> = None;
    let mut output_hash_mode = FileIngestionMethod::Flat;
    let mut json: BTreeMap<String, String> = BTreeMap::new();
    for a in &attrs.entries {
        let key = &*a.name;
        if key == "__ignoreNulls" || (structured && key == "__structuredAttrs") {
            continue;
        }
        let apos = a.pos;
        let frame = |e: Box<super::error::EvalError>| {
            e.with_frame(
                apos,
                format!("while evaluating attribute '{key}' of derivation '{name}'"),
            )
        };
        let v = m.force(&a.value).map_err(frame)?;
        if ignore_nulls && matches!(v, Value::Null) {
            continue;
        }
        if key == "__contentAddressed" || key == "__impure" {
            if m.expect_bool(&v, apos).map_err(frame)? {
                return Err(other_error(
                    format!("'{key}' derivations are not supported by strata"),
                    apos,
                ));
            }
            continue;
        }
        if key == "args" {
            let list = m.expect_list(&v, apos).map_err(frame)?;
            for x in list.iter() {
                let st = m.coerce_to_string(x, true, true, apos).map_err(frame)?;
                ctx.extend(st.ctx);
                drv.args.push(st.s);
            }
            continue;
        }
        let text = if structured {
            let mut out = String::new();
            super::builtins::json::value_to_json(m, &v, &mut out, &mut ctx, true, apos)
                .map_err(frame)?;
            json.insert(key.to_string(), out);
            if key == "outputs" {
                let list = m.expect_list(&v, apos).map_err(frame)?;
                let mut names = Vec::new();
                for x in list.iter() {
                    names.push(m.expect_string(x, apos)?.s.clone());
                }
                outputs = handle_outputs(names, apos)?;
            }
            match &v {
                Value::String(st) => st.s.clone(),
                _ => String::new(),
            }
        } else {
            let st = m.coerce_to_string(&v, true, true, apos).map_err(frame)?;
            ctx.extend(st.ctx.iter().cloned());
            drv.env.insert(key.to_string(), st.s.clone());
            if key == "outputs" {
                outputs =
                    handle_outputs(st.s.split_whitespace().map(String::from).collect(), apos)?;
            }
            st.s
        };
        match key {
            "builder" => drv.builder = text,
            "system" => drv.platform = text,
            "outputHash" => output_hash = Some(text),
            "outputHashAlgo" => output_hash_algo = Some(text),
            "outputHashMode" => {
                output_hash_mode = match text.as_str() {
                    "recursive" | "nar" => FileIngestionMethod::Recursive,
                    "flat" => FileIngestionMethod::Flat,
                    _ => {
                        return Err(other_error(
                            format!("invalid value '{text}' for 'outputHashMode' attribute"),
                            apos,
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    if structured {
        let mut out = String::from("{");
        for (i, (k, v)) in json.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&super::print::json_string(k));
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
        drv.env.insert("__json".into(), out);
    }
    if !attrs.entries.iter().any(|a| &*a.name == "builder") {
        return Err(other_error("required attribute 'builder' missing", pos));
    }
    if !attrs.entries.iter().any(|a| &*a.name == "system") {
        return Err(other_error("required attribute 'system' missing", pos));
    }

    // Inputs from the string context.
    let sd = store_dir(m, pos)?;
    for c in &ctx {
        if let Some(drv_path) = c.strip_prefix('=') {
            let p = parse_store_path(&sd, drv_path, pos)?;
            let outs: BTreeSet<String> = match m.drvs.get(drv_path) {
                Some(k) => k.drv.outputs.keys().cloned().collect(),
                None => BTreeSet::from(["out".to_string()]),
            };
            drv.input_drvs.entry(p).or_default().extend(outs);
        } else if let Some(rest) = c.strip_prefix('!') {
            let (out, drv_path) = rest.split_once('!').unwrap_or((rest, ""));
            let p = parse_store_path(&sd, drv_path, pos)?;
            drv.input_drvs.entry(p).or_default().insert(out.to_string());
        } else {
            let p = parse_store_path(&sd, c, pos)?;
            drv.input_srcs.insert(p);
        }
    }

    let err = |e: crate::store::DerivationError| other_error(e.to_string(), pos);
    if let Some(h) = output_hash {
        if outputs.len() != 1 || outputs[0] != "out" {
            return Err(other_error(
                "multiple outputs are not supported in fixed-output derivations",
                pos,
            ));
        }
        let algo: Option<HashAlgo> = match output_hash_algo.as_deref() {
            None | Some("") => None,
            Some(a) => Some(
                a.parse()
                    .map_err(|_| other_error(format!("unknown hash algorithm '{a}'"), pos))?,
            ),
        };
        let hash = Hash::parse(&h, algo).map_err(|e| other_error(e.to_string(), pos))?;
        let fixed = FixedOutputHash {
            method: output_hash_mode,
            hash,
        };
        drv.outputs.insert(
            "out".into(),
            DerivationOutput {
                path: None,
                fixed: Some(fixed),
            },
        );
    } else {
        for o in &outputs {
            drv.outputs.insert(o.clone(), DerivationOutput::default());
            drv.env.insert(o.clone(), String::new());
        }
    }
    let known = &m.drvs;
    let mut input_hash = |p: &StorePath| {
        let key = sd.display(p);
        match known.get(&key) {
            Some(k) => Ok(k.modulo),
            None => Err(crate::store::DerivationError::MissingInput(key)),
        }
    };
    drv.fill_output_paths(&sd, name, &mut input_hash)
        .map_err(err)?;
    let modulo = drv
        .hash_modulo(&sd, name, false, &mut input_hash)
        .map_err(err)?;
    let drv_path = sd.display(&drv.drv_path(&sd, name).map_err(err)?);

    let mut result = vec![attr(
        "drvPath",
        Value::string_ctx(drv_path.clone(), Context::from([format!("={drv_path}")])),
    )];
    for (o, out) in &drv.outputs {
        let p = out.path.as_ref().map(|p| sd.display(p)).unwrap_or_default();
        result.push(attr(
            o,
            Value::string_ctx(p, Context::from([format!("!{o}!{drv_path}")])),
        ));
    }
    m.drvs.insert(
        drv_path,
        KnownDrv {
            drv,
            name: name.to_string(),
            modulo,
        },
    );
    Ok(Value::attrs(Attrs::from_unsorted(result)))
}

/// `strata instantiate`: writes the `.drv` files of the derivations in `v` (and their
/// input derivations) and returns their paths, one per line.
pub fn instantiate_value(
    m: &mut Machine,
    v: &Value,
    store_dir_override: Option<&std::path::Path>,
) -> Result<String> {
    let v = m.force(v)?;
    let items: Vec<Value> = match &v {
        Value::List(l) => l.iter().cloned().collect(),
        _ => vec![v.clone()],
    };
    let mut out = String::new();
    for item in items {
        let item = m.force(&item)?;
        let Value::Attrs(a) = &item else {
            return Err(other_error(
                "expression does not evaluate to a derivation (or a set or list of those)",
                Pos::NONE,
            ));
        };
        let dp = m.get_attr(a, "drvPath", Pos::NONE)?;
        let dp = m.expect_string(&dp, Pos::NONE)?.s.clone();
        write_drv_closure(m, &dp, store_dir_override)?;
        out.push_str(&dp);
        out.push('\n');
    }
    Ok(out)
}

fn write_drv_closure(m: &Machine, drv_path: &str, dir: Option<&std::path::Path>) -> Result<()> {
    let Some(k) = m.drvs.get(drv_path) else {
        return Ok(());
    };
    let sd = store_dir(m, Pos::NONE)?;
    for input in k.drv.input_drvs.keys() {
        write_drv_closure(m, &sd.display(input), dir)?;
    }
    let base = drv_path.rsplit('/').next().unwrap_or(drv_path);
    let target = match dir {
        Some(d) => d.join(base),
        None => std::path::PathBuf::from(drv_path),
    };
    if target.exists() {
        return Ok(());
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| other_error(format!("creating '{}': {e}", parent.display()), Pos::NONE))?;
    }
    std::fs::write(&target, k.drv.to_aterm(&sd))
        .map_err(|e| other_error(format!("writing '{}': {e}", target.display()), Pos::NONE))?;
    Ok(())
}
