//! `strata flake info` (the lock tree, like `nix flake metadata`) and `strata flake check-lock`
//! (lock/`flake.nix` drift and path-input NAR hash verification).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{json, Map, Value};
use strata_analyzer::flake::{
    flake_diagnostics, lock_diagnostics, time, AttrValue, FlakeDiagnostic, FlakeModel, FlakeRef,
    Severity,
};
use strata_backend::flake::{
    check_path_inputs, lock_info, position_of, InputTreeEntry, InputTreeTarget, LockFile,
};

/// Arguments of `strata flake`.
#[derive(Debug, clap::Args)]
pub struct FlakeArgs {
    #[command(subcommand)]
    pub command: FlakeCommand,
}

/// The `strata flake` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum FlakeCommand {
    /// Show the lock tree: each input, its locked reference, revision, date and follows.
    Info(InfoArgs),
    /// Check that flake.lock matches flake.nix and that path inputs still have their locked
    /// narHash; exit 1 on any drift.
    CheckLock(CheckLockArgs),
}

/// Arguments of `strata flake check-lock`.
#[derive(Debug, clap::Args)]
pub struct CheckLockArgs {
    /// The flake's directory (default: the current one).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Arguments of `strata flake info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The flake's directory (default: the current one).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Print JSON instead of a tree.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `strata flake` subcommand.
pub fn run(args: FlakeArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        FlakeCommand::Info(args) => info(args),
        FlakeCommand::CheckLock(args) => check_lock(args),
    }
}

/// The flake directory, made absolute (paths are what users compare with `nix flake metadata`).
fn flake_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = std::path::absolute(dir).with_context(|| format!("{}", dir.display()))?;
    anyhow::ensure!(
        dir.join("flake.nix").is_file() || dir.join("flake.lock").is_file(),
        "{} is not a flake: it has neither flake.nix nor flake.lock",
        dir.display()
    );
    Ok(dir)
}

/// Reads `DIR/flake.lock`, turning a missing or broken lock into a message that says what to do.
fn read_lock(dir: &Path) -> anyhow::Result<(String, LockFile)> {
    let path = dir.join("flake.lock");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "{} has no flake.lock: run `nix flake lock` to create it",
                dir.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let lock = LockFile::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
    Ok((text, lock))
}

fn info(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let dir = flake_dir(&args.dir)?;
    let (text, lock) = read_lock(&dir)?;
    let tree = lock.input_tree();
    let description = read_model(&dir)
        .ok()
        .and_then(|(_, m)| m.description.map(|d| d.value));
    if args.json {
        let raw: Value = serde_json::from_str(&text)?;
        let mut out = json!({
            "path": dir.display().to_string(),
            "description": description,
            "lockVersion": lock.version,
            "inputs": tree.iter().map(|e| entry_json(&lock, e)).collect::<Vec<_>>(),
            "locks": raw,
        });
        // Sorted keys, as Nix prints JSON (objects otherwise keep insertion order).
        out.sort_all_objects();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!(
            "{}",
            render_info(&dir, description.as_deref(), &lock, &tree)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The human form: the header, then the input tree drawn as `nix flake metadata` draws it,
/// with the locked date appended to each node's line.
fn render_info(
    dir: &Path,
    description: Option<&str>,
    lock: &LockFile,
    tree: &[InputTreeEntry],
) -> String {
    let mut out = String::new();
    if let Some(d) = description {
        out.push_str(&format!("Description:   {d}\n"));
    }
    out.push_str(&format!("Path:          {}\n", dir.display()));
    out.push_str(&format!(
        "Lock file:     {} (version {}, {} nodes)\n",
        dir.join("flake.lock").display(),
        lock.version,
        lock.nodes.len()
    ));
    out.push_str("Inputs:\n");
    render_tree(lock, tree, "", &mut out);
    out
}

fn render_tree(lock: &LockFile, entries: &[InputTreeEntry], prefix: &str, out: &mut String) {
    for (i, entry) in entries.iter().enumerate() {
        let last = i + 1 == entries.len();
        let branch = if last { "└───" } else { "├───" };
        match &entry.target {
            InputTreeTarget::Node { key, children, .. } => {
                let node = lock.node(key);
                let locked = node.and_then(|n| n.locked.as_ref());
                let url = locked.map(FlakeRef::to_url).unwrap_or_default();
                let date = locked
                    .and_then(FlakeRef::last_modified)
                    .map(|t| format!(" ({})", time::utc_datetime(t as i64)))
                    .unwrap_or_default();
                out.push_str(&format!("{prefix}{branch}{}: {url}{date}\n", entry.name));
                let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
                render_tree(lock, children, &deeper, out);
            }
            InputTreeTarget::Follows(path) => {
                out.push_str(&format!(
                    "{prefix}{branch}{} follows input '{}'\n",
                    entry.name,
                    path.join("/")
                ));
            }
        }
    }
}

fn attrs_json(r: &FlakeRef) -> Value {
    let mut m = Map::new();
    for (k, v) in &r.attrs {
        let v = match v {
            AttrValue::Str(s) => Value::from(s.clone()),
            AttrValue::Int(n) => Value::from(*n),
            AttrValue::Bool(b) => Value::from(*b),
        };
        m.insert(k.clone(), v);
    }
    Value::Object(m)
}

fn entry_json(lock: &LockFile, entry: &InputTreeEntry) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), entry.name.clone().into());
    m.insert("path".into(), entry.path.join("/").into());
    match &entry.target {
        InputTreeTarget::Follows(path) => {
            m.insert("follows".into(), path.join("/").into());
            // Where the follows ends up, so scripts need not resolve it themselves.
            if let Ok(key) = lock.resolve(path) {
                m.insert("resolvesTo".into(), key.into());
            }
        }
        InputTreeTarget::Node { key, children, .. } => {
            m.insert("node".into(), key.clone().into());
            if let Some(node) = lock.node(key) {
                if let Some(locked) = &node.locked {
                    m.insert("url".into(), locked.to_url().into());
                    if let Some(rev) = locked.rev() {
                        m.insert("rev".into(), rev.into());
                        m.insert("shortRev".into(), rev.get(..7).unwrap_or(rev).into());
                    }
                    if let Some(t) = locked.last_modified() {
                        m.insert("lastModified".into(), t.into());
                        m.insert(
                            "lastModifiedDate".into(),
                            time::utc_datetime(t as i64).into(),
                        );
                    }
                    if let Some(h) = locked.nar_hash() {
                        m.insert("narHash".into(), h.into());
                    }
                    m.insert("locked".into(), attrs_json(locked));
                }
                if let Some(original) = &node.original {
                    m.insert("originalUrl".into(), original.to_url().into());
                    m.insert("original".into(), attrs_json(original));
                }
                m.insert("flake".into(), node.flake.into());
            }
            m.insert(
                "inputs".into(),
                children
                    .iter()
                    .map(|c| entry_json(lock, c))
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
    }
    Value::Object(m)
}

/// Parses `DIR/flake.nix` into the analyzer's model (statically: nothing is evaluated).
fn read_model(dir: &Path) -> anyhow::Result<(String, FlakeModel)> {
    let path = dir.join("flake.nix");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let parse = strata_analyzer::syntax::parse(&text);
    if let Some(e) = parse.errors().first() {
        let pos = position_of(&text, usize::from(e.range.start()));
        anyhow::bail!(
            "{}:{}:{}: {}",
            path.display(),
            pos.line,
            pos.column,
            e.message
        );
    }
    let model = FlakeModel::from_root(&parse.root());
    Ok((text, model))
}

/// `FILE:LINE:COL: severity[code]: message`, the format `strata check` uses.
fn print_finding(file: &Path, text: &str, d: &FlakeDiagnostic) {
    let pos = position_of(text, usize::from(d.range.start()));
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    println!(
        "{}:{}:{}: {severity}[{}]: {}",
        file.display(),
        pos.line,
        pos.column,
        d.code,
        d.message
    );
}

fn check_lock(args: CheckLockArgs) -> anyhow::Result<ExitCode> {
    let dir = flake_dir(&args.dir)?;
    let (nix_text, model) = read_model(&dir)?;
    let nix_path = dir.join("flake.nix");
    let lock_path = dir.join("flake.lock");
    let lock_text = match std::fs::read_to_string(&lock_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "{}: error[flake-lock-missing]: there is no flake.lock: run `nix flake lock`",
                nix_path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", lock_path.display())),
    };

    let lock = match LockFile::parse(&lock_text) {
        Ok(lock) => lock,
        Err(_) => {
            let state = strata_backend::flake::lock_state(&lock_text);
            for d in lock_diagnostics(&state) {
                print_finding(&lock_path, &lock_text, &d);
            }
            return Ok(ExitCode::FAILURE);
        }
    };

    // Hash every path input once; root inputs get the verdict for their diagnostics, nested
    // ones are reported on their lock node.
    let checks = check_path_inputs(&lock, &dir);
    let mut info = lock_info(&lock);
    for input in &mut info.inputs {
        if let Some(c) = checks.iter().find(|c| Some(&c.node) == input.node.as_ref()) {
            input.path_matches = Some(c.matches());
        }
    }
    let state = strata_analyzer::flake::LockState::Loaded(info.clone());
    let findings = flake_diagnostics(&model, &state);
    for d in &findings {
        print_finding(&nix_path, &nix_text, d);
    }
    let mut drift = !findings.is_empty();
    for c in &checks {
        let is_root_input = info.inputs.iter().any(|i| i.node.as_ref() == Some(&c.node));
        if c.matches() || is_root_input {
            continue;
        }
        let actual = match &c.actual {
            Ok(h) => format!("has NAR hash {h}"),
            Err(e) => format!("cannot be hashed ({e})"),
        };
        let pos = position_of(&lock_text, lock.nodes[&c.node].range.start);
        println!(
            "{}:{}:{}: warning[flake-path-changed]: path input node `{}` ({}) {actual}, but the lock has {}: run `nix flake lock`",
            lock_path.display(),
            pos.line,
            pos.column,
            c.node,
            c.path.display(),
            c.expected
        );
        drift = true;
    }
    if drift {
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "flake.lock matches flake.nix: {} inputs locked, {} path inputs verified",
        info.inputs.len(),
        checks.len()
    );
    Ok(ExitCode::SUCCESS)
}
