//! The `Native` engine: Strata's own evaluator, store and builder, no Nix needed.
//!
//! An installable is evaluated with [`crate::eval`] (a flake's `outputs` is called with a
//! `self` built as Nix does: the outputs plus `outPath`, the flake folder's store path), the
//! resulting `.drv` files and the local sources they name are added to the [`LocalStore`] at
//! `--store-dir`, and [`crate::build::realise`] builds what is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{BuildOptions, ClosurePath, EngineError, Event, Installable, Job, Plan};
use crate::build::{self, BuildError, BuildSettings, Isolation};
use crate::eval::builtins::paths::SourceRecipe;
use crate::eval::{Evaluator, Settings, Value};
use crate::store::{FileIngestionMethod, HashAlgo, LocalStore, StorePath};

/// Strata's own engine over a local store.
pub struct Native {
    store: LocalStore,
    isolation: Isolation,
}

/// The default store folder: `$XDG_DATA_HOME/strata/store` (or `~/.local/share/...`).
pub fn default_store_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("strata/store");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/".into());
    home.join(".local/share/strata/store")
}

fn tool(context: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Tool {
        context: context.to_owned(),
        message: e.to_string(),
    }
}

/// The derivations an evaluation produced: the `.drv` paths asked for and their outputs.
struct Instantiated {
    drvs: Vec<StorePath>,
    outputs: Vec<PathBuf>,
}

impl Native {
    /// Opens (creating) the store at `store_dir`. `STRATA_BUILD_ISOLATION=namespaces` asks
    /// for namespace isolation of builders.
    pub fn open(store_dir: &Path) -> Result<Native, EngineError> {
        let store = LocalStore::open(store_dir)
            .map_err(|e| tool(&format!("opening the store {}", store_dir.display()), e))?;
        let isolation = match std::env::var("STRATA_BUILD_ISOLATION").as_deref() {
            Ok("namespaces") => Isolation::Namespaces,
            Ok("" | "none") | Err(_) => Isolation::None,
            Ok(other) => {
                return Err(EngineError::Unavailable(format!(
                    "STRATA_BUILD_ISOLATION={other}: expected `none` or `namespaces`"
                )))
            }
        };
        Ok(Native { store, isolation })
    }

    /// The store this engine builds into.
    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    fn eval_error(&self, e: &crate::eval::EvalError) -> EngineError {
        EngineError::Eval {
            message: e.msg.clone(),
            location: eval_location(e),
        }
    }

    /// Evaluates `installable`, writes its `.drv` files and sources into the store.
    fn instantiate(
        &self,
        installable: &Installable,
        job: &Job,
    ) -> Result<Instantiated, EngineError> {
        job.emit(Event::EvaluationStarted {
            installable: installable.to_string(),
        });
        let sd = self.store.store_dir().clone();
        let settings = Settings {
            store_dir: sd.as_str().to_owned(),
            ..Settings::default()
        };
        let mut ev = Evaluator::new(settings);
        let value = match installable {
            Installable::Flake { flake_ref, .. } => {
                let dir = installable
                    .local_flake_dir()
                    .ok_or_else(|| {
                        EngineError::Unavailable(format!(
                            "the native engine only evaluates local path flakes, not `{installable}`"
                        ))
                    })?;
                // The same messages as the Nix engine.
                if !dir.is_dir() {
                    return Err(EngineError::NotFound(format!(
                        "no flake at `{flake_ref}`: the folder `{}` does not exist",
                        dir.display()
                    )));
                }
                let flake = dir.join("flake.nix");
                if !flake.is_file() {
                    return Err(EngineError::NotFound(format!(
                        "no flake at `{flake_ref}`: `{}` has no flake.nix",
                        dir.display()
                    )));
                }
                // Nix calls `outputs` with `self` = outputs // { outPath, sourceInfo, ... };
                // inputs other than `self` need the lock file and fetchers, which this
                // engine does not have yet.
                let expr = format!(
                    r#"let
  flake = import {file};
  src = builtins.path {{ path = {dir}; name = "source"; }};
  extra = builtins.removeAttrs (builtins.functionArgs flake.outputs) [ "self" ];
  self = outputs // {{ outPath = src; inherit outputs; inputs = {{ }}; sourceInfo = {{ outPath = src; }}; _type = "flake"; }};
  outputs = if extra == {{ }} then flake.outputs {{ inherit self; }}
    else throw "flake inputs (${{builtins.concatStringsSep ", " (builtins.attrNames extra)}}) are not supported by the native engine yet; use --engine nix";
in outputs"#,
                    file = nix_path(&flake),
                    dir = nix_path(&dir),
                );
                ev.eval_text(&expr, &dir.to_string_lossy())
            }
            Installable::File { file, .. } => {
                if !file.is_file() {
                    return Err(EngineError::NotFound(format!(
                        "{} does not exist",
                        file.display()
                    )));
                }
                ev.eval_file(&file.to_string_lossy())
            }
        }
        .map_err(|e| self.eval_error(&e))?;
        let empty = ev.auto_args(&[]).map_err(|e| self.eval_error(&e))?;
        let value = match installable {
            Installable::File { .. } => ev.auto_call(&value, &empty),
            Installable::Flake { .. } => Ok(value),
        }
        .map_err(|e| self.eval_error(&e))?;
        let selected = ev
            .select_attr_path(&value, &installable.build_attr(), &empty)
            .map_err(|e| match installable {
                // Phrased as Nix phrases it for flakes (and as the Nix engine reports it).
                Installable::Flake { flake_ref, .. } if e.msg.contains("in selection path") => {
                    EngineError::Eval {
                        message: format!(
                            "flake '{flake_ref}' does not provide attribute '{}': {}",
                            installable.build_attr(),
                            e.msg
                        ),
                        location: None,
                    }
                }
                _ => self.eval_error(&e),
            })?;
        let items = match &selected {
            Value::List(l) => l.iter().cloned().collect(),
            _ => vec![selected.clone()],
        };
        let mut drvs = Vec::new();
        let mut outputs = Vec::new();
        for item in items {
            let m = &mut ev.machine;
            let item = m.force(&item).map_err(|e| self.eval_error(&e))?;
            let Value::Attrs(a) = &item else {
                return Err(EngineError::Eval {
                    message: format!(
                        "`{}` is not a derivation (or a list of them)",
                        installable.build_attr()
                    ),
                    location: None,
                });
            };
            let get = |m: &mut crate::eval::Machine, name: &str| -> Result<String, EngineError> {
                let v = m
                    .get_attr(a, name, crate::eval::source::Pos::NONE)
                    .map_err(|e| self.eval_error(&e))?;
                Ok(m.expect_string(&v, crate::eval::source::Pos::NONE)
                    .map_err(|e| self.eval_error(&e))?
                    .s
                    .clone())
            };
            let drv_path = get(m, "drvPath")?;
            let out_path = get(m, "outPath")?;
            let dp = sd.parse_path(&drv_path).map_err(|e| tool("drvPath", e))?;
            self.write_drv_closure(&ev, &dp)?;
            drvs.push(dp);
            outputs.push(PathBuf::from(out_path));
        }
        Ok(Instantiated { drvs, outputs })
    }

    /// Adds `drv` and, first, everything it refers to (input `.drv`s, local sources).
    fn write_drv_closure(&self, ev: &Evaluator, drv: &StorePath) -> Result<(), EngineError> {
        let sd = self.store.store_dir();
        let store_err = |e: crate::store::StoreError| tool("writing to the store", e);
        if self.store.is_valid(drv).map_err(store_err)? {
            return Ok(());
        }
        let shown = sd.display(drv);
        let known = ev.machine.drvs.get(&shown).ok_or_else(|| {
            tool(
                "instantiating",
                format!("{shown} was not produced by this evaluation"),
            )
        })?;
        for input in known.drv.input_drvs.keys() {
            self.write_drv_closure(ev, input)?;
        }
        for src in &known.drv.input_srcs {
            self.add_source(ev, src)?;
        }
        let text = known.drv.to_aterm(sd);
        let info = self
            .store
            .add_text(drv.name(), text.as_bytes(), &known.drv.references())
            .map_err(store_err)?;
        if &info.path != drv {
            return Err(tool(
                "instantiating",
                format!("{shown} was stored as {}", sd.display(&info.path)),
            ));
        }
        Ok(())
    }

    /// Writes a source the evaluation referred to: a `./file` copied in, a `toFile` text, a
    /// (filtered) `builtins.path`, or a `.drv` used as a plain source.
    fn add_source(&self, ev: &Evaluator, src: &StorePath) -> Result<(), EngineError> {
        let sd = self.store.store_dir();
        if self.store.is_valid(src).unwrap_or(false) {
            return Ok(());
        }
        let shown = sd.display(src);
        if ev.machine.drvs.contains_key(&shown) {
            return self.write_drv_closure(ev, src);
        }
        let info = if let Some(recipe) = ev.machine.sources.get(&shown) {
            self.add_recipe(ev, recipe)?
        } else {
            let local = ev
                .machine
                .path_cache
                .iter()
                .find(|(_, sp)| **sp == shown)
                .map(|(local, _)| local.clone())
                .ok_or_else(|| {
                    EngineError::Unavailable(format!(
                        "the native engine cannot recreate {shown} (made by a fetcher); use --engine nix"
                    ))
                })?;
            self.store
                .add_path(Path::new(&local), Some(src.name()))
                .map_err(|e| tool(&format!("copying {local} to the store"), e))?
        };
        if &info.path != src {
            return Err(tool(
                &format!("recreating {shown}"),
                format!("it became {} instead", sd.display(&info.path)),
            ));
        }
        Ok(())
    }

    /// Replays one [`SourceRecipe`], after the paths a text refers to.
    fn add_recipe(
        &self,
        ev: &Evaluator,
        recipe: &SourceRecipe,
    ) -> Result<crate::store::PathInfo, EngineError> {
        let sd = self.store.store_dir();
        match recipe {
            SourceRecipe::Text {
                name,
                contents,
                references,
            } => {
                let mut refs = BTreeSet::new();
                for r in references {
                    let p = sd.parse_path(r).map_err(|e| tool("toFile reference", e))?;
                    self.add_source(ev, &p)?;
                    refs.insert(p);
                }
                self.store
                    .add_text(name, contents.as_bytes(), &refs)
                    .map_err(|e| tool(&format!("writing {name} to the store"), e))
            }
            SourceRecipe::Local {
                path,
                name,
                recursive,
                kept,
            } => {
                let method = if *recursive {
                    FileIngestionMethod::Recursive
                } else {
                    FileIngestionMethod::Flat
                };
                self.store
                    .add_fixed(
                        Path::new(path),
                        name,
                        method,
                        HashAlgo::Sha256,
                        &mut |p, _| {
                            kept.as_ref()
                                .is_none_or(|k| k.contains(p.to_string_lossy().as_ref()))
                        },
                    )
                    .map_err(|e| tool(&format!("copying {path} to the store"), e))
            }
        }
    }

    fn build_settings(&self, opts: &BuildOptions, job: &Job) -> BuildSettings {
        let mut s = BuildSettings::new(job.log_dir.clone());
        s.jobs = opts.jobs.map(|j| j as usize).unwrap_or(1).max(1);
        s.cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        s.isolation = self.isolation;
        s.keep_going = opts.keep_going;
        s.keep_failed = opts.keep_failed;
        s
    }

    fn realise_drvs(
        &self,
        drvs: &[StorePath],
        opts: &BuildOptions,
        job: &Job,
    ) -> Result<(), EngineError> {
        let settings = self.build_settings(opts, job);
        match build::realise(&self.store, drvs, &settings, job.sink, job.cancel) {
            Ok(_) => Ok(()),
            Err(BuildError::Cancelled) => Err(EngineError::Cancelled),
            Err(BuildError::Failed { failures }) => {
                let first = failures.into_iter().next();
                Err(match first {
                    Some(f) => EngineError::Build {
                        drv: Some(f.drv),
                        message: f.message,
                        log_tail: f.log_tail,
                        log_file: f.log_file,
                    },
                    None => EngineError::Build {
                        drv: None,
                        message: "build failed".into(),
                        log_tail: Vec::new(),
                        log_file: None,
                    },
                })
            }
            Err(BuildError::Isolation(m)) => Err(EngineError::Unavailable(m)),
            Err(e) => Err(EngineError::Build {
                drv: None,
                message: e.to_string(),
                log_tail: Vec::new(),
                log_file: None,
            }),
        }
    }

    fn parse(&self, p: &Path) -> Option<StorePath> {
        self.store.parse_path(&p.to_string_lossy()).ok()
    }
}

/// A path literal for generated Nix text (paths with spaces go through a string).
fn nix_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s.into_owned()
    } else {
        format!(
            "(/. + \"{}\")",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
        )
    }
}

impl super::Engine for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn plan(&self, installable: &Installable, job: &Job) -> Result<Plan, EngineError> {
        let inst = self.instantiate(installable, job)?;
        let graph =
            build::BuildGraph::load(&self.store, &inst.drvs).map_err(|e| EngineError::Build {
                drv: None,
                message: e.to_string(),
                log_tail: Vec::new(),
                log_file: None,
            })?;
        let sd = self.store.store_dir();
        Ok(Plan {
            outputs: inst.outputs,
            to_build: graph.to_build().iter().map(|d| sd.display(d)).collect(),
            to_fetch: Vec::new(),
        })
    }

    fn build(
        &self,
        installable: &Installable,
        opts: &BuildOptions,
        job: &Job,
    ) -> Result<Vec<PathBuf>, EngineError> {
        job.check_cancelled()?;
        let inst = self.instantiate(installable, job)?;
        job.check_cancelled()?;
        self.realise_drvs(&inst.drvs, opts, job)?;
        job.emit(Event::Built {
            outputs: inst.outputs.clone(),
        });
        Ok(inst.outputs)
    }

    fn realise(&self, paths: &[PathBuf], job: &Job) -> Result<(), EngineError> {
        let mut drvs = Vec::new();
        for p in paths {
            let sp = self
                .parse(p)
                .ok_or_else(|| tool("realise", format!("{} is not in the store", p.display())))?;
            if sp.is_derivation() {
                drvs.push(sp);
            } else if !self.store.is_valid(&sp).unwrap_or(false) {
                // Output paths do not name their derivation; only the database could.
                return Err(tool(
                    "realise",
                    format!("{} is not valid; build its installable first", p.display()),
                ));
            }
        }
        self.realise_drvs(&drvs, &BuildOptions::default(), job)
    }

    fn is_valid(&self, path: &Path) -> bool {
        self.parse(path)
            .is_some_and(|p| self.store.is_valid(&p).unwrap_or(false))
    }

    fn add_root(&self, link: &Path, target: &Path) -> std::io::Result<()> {
        let tmp = link.with_file_name(format!(
            ".{}.tmp-{}",
            link.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(target, &tmp)?;
        std::fs::rename(&tmp, link)?;
        // An indirect root: the GC follows gcroots/<hash> -> link -> store path, so the
        // root goes away with the link.
        let abs = if link.is_absolute() {
            link.to_owned()
        } else {
            std::env::current_dir()?.join(link)
        };
        let name = format!(
            "auto-{}",
            crate::store::Hash::sha256(abs.to_string_lossy().as_bytes()).to_base32()
        );
        let gc = self.store.gcroots_dir();
        let gtmp = gc.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&gtmp);
        std::os::unix::fs::symlink(&abs, &gtmp)?;
        std::fs::rename(&gtmp, gc.join(name))
    }

    fn closure(&self, path: &Path) -> Result<Vec<ClosurePath>, EngineError> {
        let sp = self
            .parse(path)
            .ok_or_else(|| tool("closure", format!("{} is not in the store", path.display())))?;
        let sd = self.store.store_dir();
        let all: BTreeSet<StorePath> = self.store.closure([&sp]).map_err(|e| tool("closure", e))?;
        let mut out = Vec::new();
        for p in all {
            let size = self
                .store
                .path_info(&p)
                .map_err(|e| tool("closure", e))?
                .map(|i| i.nar_size)
                .unwrap_or(0);
            out.push(ClosurePath {
                path: PathBuf::from(sd.display(&p)),
                nar_size: size,
            });
        }
        Ok(out)
    }
}

/// Where an evaluation error happened: its own position, else the innermost frame of its
/// trace that lies in a real file (the flake wrapper expression has none).
fn eval_location(e: &crate::eval::EvalError) -> Option<super::Location> {
    use crate::eval::source;
    let in_file = |p: source::Pos| source::file_path(p).is_some();
    let pos = std::iter::once(e.pos)
        .chain(e.trace.iter().map(|f| f.pos))
        .find(|p| in_file(*p))?;
    let (line, column) = source::line_col(pos)?;
    Some(super::Location {
        file: PathBuf::from(&*source::file_path(pos)?),
        line,
        column,
    })
}
