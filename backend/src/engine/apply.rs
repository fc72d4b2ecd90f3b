//! The apply pipeline shared by every engine: evaluate and build, make a generation,
//! switch atomically, activate, and go back to the previous generation if activation
//! fails; then diff the closures.
//!
//! Crash safety: the generation link is only created once the build finished (it points
//! at a complete, valid path), and `P` changes by one `rename`; so killing Strata at any
//! moment leaves `P` at the old or the new generation, never at a missing path.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    ActivationOptions, BuildOptions, CancelToken, ClosureDiff, Engine, EngineError, Event,
    Installable, Job, Plan,
};
use crate::profile::{Profile, ProfileError};

/// What `strata apply` asks for.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// What to build.
    pub installable: Installable,
    /// The profile to switch.
    pub profile: Profile,
    /// Build options.
    pub build: BuildOptions,
    /// How to activate.
    pub activation: ActivationOptions,
    /// Only evaluate and report what would happen.
    pub dry_run: bool,
}

/// A profile switch that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Switch {
    /// The generation before (none for a new profile).
    pub from: Option<u64>,
    /// The generation now current.
    pub to: u64,
    /// Whether the generation link was created by this switch.
    pub created: bool,
}

/// The result of an apply.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyOutcome {
    /// The built top level.
    pub output: PathBuf,
    /// The generation before.
    pub previous: Option<u64>,
    /// The generation now current (`None` for a dry run).
    pub generation: Option<u64>,
    /// Closure difference from the previous generation, when there is one.
    pub diff: Option<ClosureDiff>,
    /// What a dry run found.
    pub plan: Option<Plan>,
}

/// Makes `target` a generation of `profile` (reusing the newest generation when it
/// already points there, as `nix-env --set` does) and switches to it.
pub fn switch<E: Engine + ?Sized>(
    engine: &E,
    profile: &Profile,
    target: &Path,
    job: &Job,
) -> Result<Switch, EngineError> {
    let gens = profile.generations()?;
    let (to, created) = match gens.last() {
        Some(last) if last.target == target => (last.number, false),
        _ => (
            profile.add_generation(target, &|l, t| engine.add_root(l, t))?,
            true,
        ),
    };
    let current = gens.iter().find(|g| g.current).map(|g| g.number);
    if current == Some(to) {
        return Ok(Switch {
            from: current,
            to,
            created: false,
        });
    }
    let from = match profile.switch_to(to) {
        Ok(from) => from,
        Err(e) => {
            if created {
                let _ = std::fs::remove_file(profile.link_of(to)?);
            }
            return Err(e.into());
        }
    };
    job.emit(Event::Switched {
        profile: profile.path().to_path_buf(),
        from,
        to,
    });
    Ok(Switch { from, to, created })
}

/// Fails early when the profile folder cannot be written (nothing is built then). A
/// folder that does not exist yet is created later; its nearest existing parent is probed.
fn check_writable(profile: &Profile) -> Result<(), EngineError> {
    let mut dir = profile
        .path()
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    while !dir.exists() {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p,
            _ => break,
        }
    }
    let probe = dir.join(format!(".strata-probe-{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    std::os::unix::fs::symlink("probe", &probe).map_err(|source| {
        EngineError::Profile(ProfileError::Io {
            action: "cannot write to profile folder",
            path: dir.to_path_buf(),
            source,
        })
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Runs a whole apply; emits `Failed` before returning an error.
pub fn apply<E: Engine + ?Sized>(
    engine: &E,
    req: &ApplyRequest,
    job: &Job,
) -> Result<ApplyOutcome, EngineError> {
    let result = apply_inner(engine, req, job);
    match &result {
        Ok(outcome) => job.emit(Event::Done {
            generation: outcome.generation,
        }),
        Err(e) => job.emit(Event::Failed {
            step: e.step(),
            message: e.to_string(),
            log_tail: e.log_tail().to_vec(),
        }),
    }
    result
}

fn apply_inner<E: Engine + ?Sized>(
    engine: &E,
    req: &ApplyRequest,
    job: &Job,
) -> Result<ApplyOutcome, EngineError> {
    job.emit(Event::EvaluationStarted {
        installable: req.installable.to_string(),
    });
    // A corrupt profile is reported before anything is built.
    let current = req.profile.current()?;
    let current_gen = match current {
        Some(n) => Some(req.profile.generation(n)?),
        None => None,
    };
    if req.dry_run {
        let plan = engine.plan(&req.installable, job)?;
        job.emit(Event::Planned {
            builds: plan.to_build.len() as u64,
            downloads: plan.to_fetch.len() as u64,
        });
        let output = plan.outputs.first().cloned().unwrap_or_default();
        let diff = match &current_gen {
            Some(g) if engine.is_valid(&output) => engine.diff(&g.target, &output).ok(),
            _ => None,
        };
        return Ok(ApplyOutcome {
            output,
            previous: current,
            generation: None,
            diff,
            plan: Some(plan),
        });
    }
    check_writable(&req.profile)?;
    let outputs = engine.build(&req.installable, &req.build, job)?;
    let output = outputs.first().cloned().ok_or_else(|| EngineError::Tool {
        context: format!("building {}", req.installable),
        message: "the build produced no output path".into(),
    })?;
    job.emit(Event::Built {
        outputs: outputs.clone(),
    });
    job.check_cancelled()?;

    // From here to the end the profile is ours: a concurrent apply waits.
    let _lock = req.profile.lock()?;
    let switched = engine.switch(&req.profile, &output, job)?;
    let generation = req.profile.generation(switched.to)?;
    if let Err(err) = engine.activate(&generation, &req.activation, job) {
        return Err(restore(
            engine,
            &req.profile,
            switched,
            &req.activation,
            job,
            err,
        ));
    }
    // Diff against what was current when the profile was locked (not before the build).
    let before = match switched.from {
        Some(n) if n != switched.to => req.profile.generation(n).ok(),
        _ => None,
    };
    let diff = match &before {
        Some(g) => match engine.diff(&g.target, &output) {
            Ok(d) => Some(d),
            Err(e) => {
                job.emit(Event::Message {
                    text: format!("warning: cannot compute the closure difference: {e}"),
                });
                None
            }
        },
        _ => None,
    };
    Ok(ApplyOutcome {
        output,
        previous: switched.from,
        generation: Some(switched.to),
        diff,
        plan: None,
    })
}

/// After a failed activation: point the profile back at the previous generation,
/// re-activate it, and drop the generation this apply created.
fn restore<E: Engine + ?Sized>(
    engine: &E,
    profile: &Profile,
    switched: Switch,
    opts: &ActivationOptions,
    job: &Job,
    err: EngineError,
) -> EngineError {
    // Restoring must finish even when the job was cancelled.
    let uncancelled = CancelToken::new();
    let job = Job {
        sink: job.sink,
        cancel: &uncancelled,
        log_dir: job.log_dir.clone(),
    };
    let mut restored = None;
    match switched.from {
        Some(prev) if prev != switched.to => {
            if profile.switch_to(prev).is_ok() {
                job.emit(Event::Switched {
                    profile: profile.path().to_path_buf(),
                    from: Some(switched.to),
                    to: prev,
                });
                restored = Some(prev);
                if let Ok(g) = profile.generation(prev) {
                    if let Err(e) = engine.activate(&g, opts, &job) {
                        job.emit(Event::Message {
                            text: format!("warning: re-activating generation {prev} failed: {e}"),
                        });
                    }
                }
            }
        }
        Some(_) => {}
        None => {
            // There was no profile before: leave none behind.
            let _ = std::fs::remove_file(profile.path());
        }
    }
    // A generation this apply created and that is no longer current is dropped again.
    if switched.created && profile.current().ok().flatten() != Some(switched.to) {
        if let Ok(link) = profile.link_of(switched.to) {
            let _ = std::fs::remove_file(link);
        }
    }
    match err {
        EngineError::Activation {
            generation,
            step,
            message,
            log_tail,
            ..
        } => EngineError::Activation {
            generation,
            step,
            message,
            log_tail,
            restored,
        },
        other => other,
    }
}

/// Switches to generation `to` (default: the one before the current) and activates it;
/// if that activation fails, goes back to where it was.
pub fn rollback<E: Engine + ?Sized>(
    engine: &E,
    profile: &Profile,
    to: Option<u64>,
    opts: &ActivationOptions,
    job: &Job,
) -> Result<Switch, EngineError> {
    let result = (|| {
        if profile.current()?.is_none() {
            return Err(ProfileError::Empty(profile.path().to_path_buf()).into());
        }
        let _lock = profile.lock()?;
        let target = match to {
            Some(n) => profile.generation(n)?.number,
            None => profile.previous_generation()?,
        };
        let from = profile.switch_to(target)?;
        job.emit(Event::Switched {
            profile: profile.path().to_path_buf(),
            from,
            to: target,
        });
        let switched = Switch {
            from,
            to: target,
            created: false,
        };
        let generation = profile.generation(target)?;
        if let Err(err) = engine.activate(&generation, opts, job) {
            return Err(restore(engine, profile, switched, opts, job, err));
        }
        Ok(switched)
    })();
    match &result {
        Ok(s) => job.emit(Event::Done {
            generation: Some(s.to),
        }),
        Err(e) => job.emit(Event::Failed {
            step: e.step(),
            message: e.to_string(),
            log_tail: e.log_tail().to_vec(),
        }),
    }
    result
}
