//! `strata store {add,info,closure,gc,verify}`: the native engine's local store.
//!
//! The store lives at `--store-dir` (default `$XDG_DATA_HOME/strata/store`); that directory is
//! also the logical store directory in path hashes, as with Nix's `NIX_STORE_DIR`. Its database,
//! locks and GC roots are in `<store>/.strata/`. `gc` also keeps every generation of the
//! profiles under `<state-dir>/profiles`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use strata_backend::store::{LocalStore, PathInfo, StorePath, VerifyProblem};

use crate::cli::GlobalArgs;

/// Arguments of `strata store`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

/// Store operations.
#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Copy files or trees into the store and print their paths (like `nix-store --add`).
    Add {
        /// What to add.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Store path name (default: each file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show what the database records about store paths.
    Info {
        /// Store paths (or symlinks to them).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Print `nix path-info --json`-style JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the closure of store paths, one per line, sorted.
    Closure {
        /// Store paths (or symlinks to them).
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Delete every path not reachable from a GC root or a profile generation.
    Gc {
        /// Only print what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Re-hash every valid path and compare with the database; exit 1 on any mismatch.
    Verify,
}

/// `$XDG_DATA_HOME/strata/store` (or `~/.local/share/strata/store`).
pub fn default_store_dir() -> anyhow::Result<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share").map(|d| d.join("strata/store"))
}

/// `$XDG_STATE_HOME/strata` (or `~/.local/state/strata`).
pub fn default_state_dir() -> anyhow::Result<PathBuf> {
    xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("strata"))
}

fn xdg_dir(var: &str, fallback: &str) -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let home =
        std::env::var_os("HOME").context("neither $XDG_* nor $HOME is set: pass --store-dir")?;
    Ok(Path::new(&home).join(fallback))
}

/// Opens the store named by the global options.
pub fn open_store(global: &GlobalArgs) -> anyhow::Result<LocalStore> {
    let root = match &global.store_dir {
        Some(d) => d.clone(),
        None => default_store_dir()?,
    };
    LocalStore::open(&root).with_context(|| format!("opening the store at {}", root.display()))
}

/// Resolves a command-line argument to a store path: an absolute store path (possibly below
/// one) or a symlink pointing into the store.
fn resolve(store: &LocalStore, arg: &str) -> anyhow::Result<StorePath> {
    let dir = store.store_dir().as_str();
    let mut s = arg.to_owned();
    if !s.starts_with(dir) {
        if let Ok(real) = std::fs::canonicalize(arg) {
            s = real.to_string_lossy().into_owned();
        }
    }
    let rest = s
        .strip_prefix(dir)
        .and_then(|r| r.strip_prefix('/'))
        .with_context(|| format!("{arg} is not in the store {dir}"))?;
    let base = rest.split('/').next().unwrap_or(rest);
    Ok(StorePath::from_base_name(base)?)
}

fn info_json(store: &LocalStore, i: &PathInfo) -> serde_json::Value {
    let d = store.store_dir();
    let mut v = json!({
        "path": d.display(&i.path),
        "narHash": i.nar_hash.to_sri(),
        "narSize": i.nar_size,
        "references": i.references.iter().map(|r| d.display(r)).collect::<Vec<_>>(),
        "registrationTime": i.registration_time,
    });
    if let Some(drv) = &i.deriver {
        v["deriver"] = json!(d.display(drv));
    }
    if let Some(ca) = &i.ca {
        v["ca"] = json!(ca);
    }
    v
}

/// Runs a store subcommand.
pub fn run(args: StoreArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(global)?;
    let dir = store.store_dir().clone();
    match args.command {
        StoreCommand::Add { paths, name } => {
            for path in &paths {
                let info = store
                    .add_path(path, name.as_deref())
                    .with_context(|| format!("adding {}", path.display()))?;
                println!("{}", dir.display(&info.path));
            }
        }
        StoreCommand::Info { paths, json } => {
            let mut infos = Vec::new();
            for arg in &paths {
                let p = resolve(&store, arg)?;
                let info = store
                    .path_info(&p)?
                    .with_context(|| format!("{} is not valid in this store", dir.display(&p)))?;
                infos.push(info);
            }
            if json {
                let list: Vec<_> = infos.iter().map(|i| info_json(&store, i)).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for i in &infos {
                    println!("path: {}", dir.display(&i.path));
                    println!("narHash: {}", i.nar_hash);
                    println!("narSize: {}", i.nar_size);
                    for r in &i.references {
                        println!("reference: {}", dir.display(r));
                    }
                    if let Some(d) = &i.deriver {
                        println!("deriver: {}", dir.display(d));
                    }
                    println!("registrationTime: {}", i.registration_time);
                    if let Some(ca) = &i.ca {
                        println!("ca: {ca}");
                    }
                }
            }
        }
        StoreCommand::Closure { paths } => {
            let roots = paths
                .iter()
                .map(|a| resolve(&store, a))
                .collect::<anyhow::Result<Vec<_>>>()?;
            for p in store.closure(&roots)? {
                println!("{}", dir.display(&p));
            }
        }
        StoreCommand::Gc { dry_run } => {
            let state = match &global.state_dir {
                Some(d) => d.clone(),
                None => default_state_dir()?,
            };
            let generations: BTreeSet<StorePath> = store.roots_in(&state.join("profiles"))?;
            let report = store.collect_garbage(&generations, dry_run)?;
            for p in &report.deleted {
                println!("{}", dir.display(p));
            }
            let verb = if dry_run { "would delete" } else { "deleted" };
            eprintln!(
                "{verb} {} store paths ({} bytes), kept {} roots' closures",
                report.deleted.len(),
                report.bytes_freed,
                report.roots.len()
            );
        }
        StoreCommand::Verify => {
            let report = store.verify()?;
            for (p, problem) in &report.problems {
                match problem {
                    VerifyProblem::Missing => {
                        println!("{}: registered but missing from disk", dir.display(p))
                    }
                    VerifyProblem::Modified { expected, actual } => println!(
                        "{}: contents changed: hash is {actual}, the database says {expected}",
                        dir.display(p)
                    ),
                }
            }
            eprintln!(
                "checked {} paths, {} problems",
                report.checked,
                report.problems.len()
            );
            if !report.problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
