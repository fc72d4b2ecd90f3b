//! The `Engine` trait and its implementations, reporting progress as typed [`Event`]s.
//!
//! An engine knows how to evaluate, build and realise an [`Installable`] and how to keep
//! store paths alive; everything after that (switching a profile, activation, rollback,
//! listing generations, closure diffs) is shared code in the trait's provided methods,
//! so the `Nix` engine here and the native engine (issue 8) behave the same. Callers pass
//! a [`Job`]: where events go (the CLI renders them, the language server turns them into
//! `$/progress`) and a [`CancelToken`] that stops the running child processes.

pub mod activate;
pub mod apply;
pub mod diff;
pub mod installable;
pub mod native;
pub mod nix;
pub mod nix_log;
mod process;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::profile::{Generation, Profile, ProfileError};
pub use activate::ActivationOptions;
pub use apply::{ApplyOutcome, ApplyRequest};
pub use diff::{ClosureDiff, ClosurePath};
pub use installable::{Installable, InstallableError, InstallableKind};

/// The step of an apply that an event or a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Evaluating the installable.
    Evaluate,
    /// Building or fetching store paths.
    Build,
    /// Creating the generation and switching the profile.
    Switch,
    /// Running the activation script.
    Activate,
    /// Going back to the previous generation after a failed activation.
    Rollback,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Evaluate => "evaluation",
            Step::Build => "build",
            Step::Switch => "switch",
            Step::Activate => "activation",
            Step::Rollback => "rollback",
        })
    }
}

/// A source position (of an evaluation error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file (mapped back from the store copy to the user's folder when possible).
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Progress of a job, in the order it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Evaluation of the installable began.
    EvaluationStarted {
        /// The installable as the user wrote it.
        installable: String,
    },
    /// How many derivations will be built and paths fetched (updated when it grows).
    Planned {
        /// Derivations to build.
        builds: u64,
        /// Paths to substitute or copy.
        downloads: u64,
    },
    /// Build counters.
    Progress {
        /// Finished builds.
        done: u64,
        /// Builds expected in total.
        expected: u64,
        /// Builds running now.
        running: u64,
        /// Failed builds.
        failed: u64,
    },
    /// A derivation's builder started.
    BuildStarted {
        /// The `.drv` path.
        drv: String,
        /// Its `name-version`.
        name: String,
    },
    /// A derivation's builder finished.
    BuildFinished {
        /// The `.drv` path.
        drv: String,
        /// Its `name-version`.
        name: String,
        /// Whether it succeeded.
        ok: bool,
    },
    /// A line of a builder's log.
    LogLine {
        /// The `.drv` path.
        drv: String,
        /// Its `name-version`.
        name: String,
        /// The line, without colours.
        line: String,
    },
    /// A path is being substituted or copied.
    Copy {
        /// The store path.
        path: String,
        /// Its `name-version`.
        name: String,
    },
    /// A warning or notice from the engine.
    Message {
        /// The text.
        text: String,
    },
    /// The build finished with these outputs.
    Built {
        /// Output store paths.
        outputs: Vec<PathBuf>,
    },
    /// The profile now points at another generation.
    Switched {
        /// The profile.
        profile: PathBuf,
        /// The generation before (none for a new profile).
        from: Option<u64>,
        /// The generation now current.
        to: u64,
    },
    /// An activation step began (the script's name, or a step it announced).
    ActivationStep {
        /// What is being done.
        step: String,
    },
    /// A line printed by the activation script.
    ActivationLog {
        /// The line.
        line: String,
    },
    /// The job finished.
    Done {
        /// The generation now current (apply, rollback), if any.
        generation: Option<u64>,
    },
    /// The job failed at `step`.
    Failed {
        /// Which step failed.
        step: Step,
        /// What went wrong.
        message: String,
        /// The last log lines of the failing build or activation.
        log_tail: Vec<String>,
    },
}

/// Where events go.
pub trait EventSink: Send + Sync {
    /// Receives one event; must not block for long (it runs on the engine's thread).
    fn emit(&self, event: Event);
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}

/// Sends every event into a channel (a closed receiver is ignored).
pub struct ChannelSink(pub std::sync::Mutex<std::sync::mpsc::Sender<Event>>);

impl EventSink for ChannelSink {
    fn emit(&self, event: Event) {
        if let Ok(tx) = self.0.lock() {
            let _ = tx.send(event);
        }
    }
}

/// Cancels a running job: the engine checks it between steps and kills the process
/// group of the running child. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a job needs besides its request: where events go, its cancel token and where
/// logs are kept.
pub struct Job<'a> {
    /// Event receiver.
    pub sink: &'a dyn EventSink,
    /// Checked between steps and while children run.
    pub cancel: &'a CancelToken,
    /// Folder for per-derivation build logs and activation logs.
    pub log_dir: PathBuf,
}

impl Job<'_> {
    /// Emits an event.
    pub fn emit(&self, event: Event) {
        self.sink.emit(event)
    }
    /// `Err(Cancelled)` once the token is cancelled.
    pub fn check_cancelled(&self) -> Result<(), EngineError> {
        if self.cancel.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Build options shared by all engines.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Builds at once (`-j N`); engine default when `None`.
    pub jobs: Option<u32>,
    /// Keep building what does not depend on a failed build.
    pub keep_going: bool,
    /// Keep the build folders of failed builds.
    pub keep_failed: bool,
}

/// What building an installable would do (a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The output paths it evaluates to.
    pub outputs: Vec<PathBuf>,
    /// Derivations that would be built.
    pub to_build: Vec<String>,
    /// Paths that would be fetched.
    pub to_fetch: Vec<String>,
}

/// Everything that can go wrong in a job; each has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The requested engine cannot run here.
    #[error("{0}")]
    Unavailable(String),
    /// The installable is malformed or names nothing.
    #[error(transparent)]
    Installable(#[from] InstallableError),
    /// The flake or file does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Evaluation failed.
    #[error("evaluation failed{}: {message}", location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
    Eval {
        /// Nix's message.
        message: String,
        /// Where, when known.
        location: Option<Location>,
    },
    /// A build failed.
    #[error("build of {} failed: {message}{}", drv.as_deref().map(nix_log::drv_name).unwrap_or_else(|| "the installable".into()), log_file.as_ref().map(|f| format!(" (full log: {})", f.display())).unwrap_or_default())]
    Build {
        /// The failing derivation, when known.
        drv: Option<String>,
        /// Nix's message.
        message: String,
        /// The builder's last lines.
        log_tail: Vec<String>,
        /// The full log in the state folder.
        log_file: Option<PathBuf>,
    },
    /// Activation failed (the profile was switched back).
    #[error("activation of generation {generation} failed{}: {message}; {}", step.as_deref().map(|s| format!(" in step `{s}`")).unwrap_or_default(), match restored { Some(n) => format!("generation {n} is current again and was re-activated"), None => "there was no other generation to go back to; the profile was left as it was".to_string() })]
    Activation {
        /// The generation whose activation failed.
        generation: u64,
        /// The step the script announced last.
        step: Option<String>,
        /// What failed.
        message: String,
        /// The script's last lines.
        log_tail: Vec<String>,
        /// The generation that is current again.
        restored: Option<u64>,
    },
    /// The job was cancelled; nothing was switched.
    #[error("cancelled; the profile was not changed")]
    Cancelled,
    /// A profile error.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A tool could not be run or misbehaved.
    #[error("{context}: {message}")]
    Tool {
        /// What was being done.
        context: String,
        /// What went wrong.
        message: String,
    },
}

impl EngineError {
    /// The process exit code the CLI uses for this error (documented in the README).
    pub fn exit_code(&self) -> u8 {
        match self {
            EngineError::Installable(_) | EngineError::NotFound(_) => 2,
            EngineError::Eval { .. } => 3,
            EngineError::Build { .. } => 4,
            EngineError::Activation { .. } => 5,
            EngineError::Profile(_) => 6,
            EngineError::Unavailable(_) => 7,
            EngineError::Cancelled => 130,
            EngineError::Tool { .. } => 1,
        }
    }

    /// The step this error belongs to.
    pub fn step(&self) -> Step {
        match self {
            EngineError::Installable(_)
            | EngineError::NotFound(_)
            | EngineError::Eval { .. }
            | EngineError::Unavailable(_) => Step::Evaluate,
            EngineError::Build { .. } | EngineError::Cancelled | EngineError::Tool { .. } => {
                Step::Build
            }
            EngineError::Activation { .. } => Step::Activate,
            EngineError::Profile(_) => Step::Switch,
        }
    }

    /// The log lines worth showing with this error.
    pub fn log_tail(&self) -> &[String] {
        match self {
            EngineError::Build { log_tail, .. } | EngineError::Activation { log_tail, .. } => {
                log_tail
            }
            _ => &[],
        }
    }
}

/// Builds, realises and keeps store paths alive; the rest is shared (provided methods).
pub trait Engine: Send + Sync {
    /// `nix` or `native`.
    fn name(&self) -> &'static str;

    /// Evaluates `installable` and reports what building it would do; changes nothing.
    fn plan(&self, installable: &Installable, job: &Job) -> Result<Plan, EngineError>;

    /// Evaluates and builds `installable`; returns its output paths.
    fn build(
        &self,
        installable: &Installable,
        opts: &BuildOptions,
        job: &Job,
    ) -> Result<Vec<PathBuf>, EngineError>;

    /// Makes store paths valid (building or fetching what is missing).
    fn realise(&self, paths: &[PathBuf], job: &Job) -> Result<(), EngineError>;

    /// Whether `path` is a valid path of this engine's store.
    fn is_valid(&self, path: &Path) -> bool;

    /// Creates `link -> target` atomically and registers it as a garbage-collector root.
    fn add_root(&self, link: &Path, target: &Path) -> std::io::Result<()>;

    /// The closure of `path`: every path it references, transitively, with NAR sizes.
    fn closure(&self, path: &Path) -> Result<Vec<ClosurePath>, EngineError>;

    /// Makes `target` a generation of `profile` (reusing the newest one when it already
    /// points there, as `nix-env --set` does) and switches to it atomically.
    fn switch(
        &self,
        profile: &Profile,
        target: &Path,
        job: &Job,
    ) -> Result<apply::Switch, EngineError> {
        apply::switch(self, profile, target, job)
    }

    /// Runs the activation of a generation's store path.
    fn activate(
        &self,
        generation: &Generation,
        opts: &ActivationOptions,
        job: &Job,
    ) -> Result<(), EngineError> {
        activate::activate(generation, opts, job)
    }

    /// Switches back to generation `to` (default: the one before the current) and
    /// activates it.
    fn rollback(
        &self,
        profile: &Profile,
        to: Option<u64>,
        opts: &ActivationOptions,
        job: &Job,
    ) -> Result<apply::Switch, EngineError> {
        apply::rollback(self, profile, to, opts, job)
    }

    /// The profile's generations, oldest first.
    fn generations(&self, profile: &Profile) -> Result<Vec<Generation>, EngineError> {
        Ok(profile.generations()?)
    }

    /// The difference between the closures of two store paths.
    fn diff(&self, old: &Path, new: &Path) -> Result<ClosureDiff, EngineError> {
        Ok(ClosureDiff::new(&self.closure(old)?, &self.closure(new)?))
    }

    /// Evaluate, build, switch, activate (rolling back on failure) and diff.
    fn apply(&self, request: &ApplyRequest, job: &Job) -> Result<ApplyOutcome, EngineError> {
        apply::apply(self, request, job)
    }
}

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// The installed Nix.
    Nix,
    /// Strata's own evaluator, store and builder.
    Native,
}

/// Opens the chosen engine (`None`: Nix when installed, else native). The native engine
/// uses the store at `store_dir` (default [`native::default_store_dir`]).
pub fn open(
    choice: Option<EngineChoice>,
    store_dir: Option<&Path>,
) -> Result<Box<dyn Engine>, EngineError> {
    let native = || -> Result<Box<dyn Engine>, EngineError> {
        let dir = store_dir
            .map(Path::to_owned)
            .unwrap_or_else(native::default_store_dir);
        Ok(Box::new(native::Native::open(&dir)?))
    };
    match choice {
        Some(EngineChoice::Nix) => Ok(Box::new(nix::Nix::detect()?)),
        Some(EngineChoice::Native) => native(),
        None => match nix::Nix::detect() {
            Ok(nix) => Ok(Box::new(nix)),
            Err(_) => native(),
        },
    }
}

/// The name part of a store path (`/nix/store/HASH-hello-1.0` → `hello-1.0`).
pub fn store_path_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    match base.split_once('-') {
        Some((hash, name)) if hash.len() == 32 => name,
        _ => base,
    }
}
