//! Realisation: builds the `.drv` files of a [`LocalStore`] in dependency order, `-j N` at a
//! time, skipping derivations whose outputs are already valid.
//!
//! The graph is loaded first ([`graph`]), then a scheduler thread hands ready derivations to
//! worker threads, each running one builder under Nix's contract ([`builder`]). When a build
//! fails the scheduler stops starting new ones and, unless `keep_going`, kills the process
//! groups of the running ones, so nothing half-built is registered.

pub mod builder;
pub mod graph;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::engine::{CancelToken, Event, EventSink};
use crate::store::{LocalStore, StoreError, StorePath};
pub use builder::Isolation;
pub use graph::BuildGraph;

/// Why a realisation failed.
#[derive(Debug, Error)]
pub enum BuildError {
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `.drv` file could not be read or parsed.
    #[error("{drv}: {message}")]
    BadDerivation {
        /// The `.drv` path.
        drv: String,
        /// What is wrong.
        message: String,
    },
    /// An input source is not valid and nothing can build it.
    #[error("{0} is not valid and no derivation builds it")]
    MissingSource(String),
    /// The requested isolation is not available here.
    #[error("{0}")]
    Isolation(String),
    /// One or more builds failed.
    #[error("{}", failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"))]
    Failed {
        /// Each failure, in the order they happened.
        failures: Vec<BuildFailure>,
    },
    /// The job was cancelled; running builders were killed.
    #[error("cancelled")]
    Cancelled,
}

/// One failed build.
#[derive(Debug, Clone)]
pub struct BuildFailure {
    /// The `.drv` path.
    pub drv: String,
    /// What went wrong.
    pub message: String,
    /// The last lines of the builder's log.
    pub log_tail: Vec<String>,
    /// The full log.
    pub log_file: Option<PathBuf>,
}

impl std::fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "builder for '{}' failed: {}", self.drv, self.message)
    }
}

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// Builds at once (at least 1).
    pub jobs: usize,
    /// Keep building what does not depend on a failed derivation.
    pub keep_going: bool,
    /// Keep the build folder of failed builds.
    pub keep_failed: bool,
    /// Namespace isolation of builders.
    pub isolation: Isolation,
    /// `NIX_BUILD_CORES`.
    pub cores: u32,
    /// Where per-derivation logs go (`<log_dir>/<drv base name>.log`, as the Nix engine).
    pub log_dir: PathBuf,
    /// Parent of the build folders (default: the system temporary folder).
    pub build_root: Option<PathBuf>,
}

impl BuildSettings {
    /// One job, no isolation, logs under `log_dir`.
    pub fn new(log_dir: PathBuf) -> BuildSettings {
        BuildSettings {
            jobs: 1,
            keep_going: false,
            keep_failed: false,
            isolation: Isolation::None,
            cores: 1,
            log_dir,
            build_root: None,
        }
    }
}

/// The log file of a derivation.
pub fn log_path(log_dir: &std::path::Path, drv: &StorePath) -> PathBuf {
    log_dir
        .join("drvs")
        .join(format!("{}.log", drv.base_name()))
}

/// What a realisation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Derivations that were built, in completion order.
    pub built: Vec<StorePath>,
    /// Output paths of the requested derivations, by `.drv` path and output name.
    pub outputs: BTreeMap<StorePath, BTreeMap<String, StorePath>>,
}

enum Msg {
    Done(StorePath, Result<(), BuildFailure>),
}

/// Builds `drvs` (and whatever they need) in `store`. Returns once everything is valid, or
/// with the failures once nothing more can be built.
pub fn realise(
    store: &LocalStore,
    drvs: &[StorePath],
    settings: &BuildSettings,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Result<BuildReport, BuildError> {
    if settings.isolation != Isolation::None {
        builder::probe_isolation(settings.isolation).map_err(BuildError::Isolation)?;
    }
    let graph = BuildGraph::load(store, drvs)?;
    let mut report = BuildReport::default();
    for d in drvs {
        let node = graph.drv(d).ok_or_else(|| BuildError::BadDerivation {
            drv: store.store_dir().display(d),
            message: "not loaded".into(),
        })?;
        report.outputs.insert(
            d.clone(),
            node.outputs
                .iter()
                .filter_map(|(n, o)| o.path.clone().map(|p| (n.clone(), p)))
                .collect(),
        );
    }
    let to_build = graph.to_build();
    sink.emit(Event::Planned {
        builds: to_build.len() as u64,
        downloads: 0,
    });
    // Remaining unbuilt dependencies of each derivation to build.
    let mut waiting: HashMap<StorePath, usize> = HashMap::new();
    let mut dependents: HashMap<StorePath, Vec<StorePath>> = HashMap::new();
    for d in &to_build {
        let deps: Vec<&StorePath> = graph.drv(d).map_or(Vec::new(), |n| {
            n.input_drvs
                .keys()
                .filter(|i| to_build.contains(*i))
                .collect()
        });
        waiting.insert(d.clone(), deps.len());
        for i in deps {
            dependents.entry(i.clone()).or_default().push(d.clone());
        }
    }
    let mut ready: Vec<StorePath> = to_build
        .iter()
        .filter(|d| waiting[*d] == 0)
        .cloned()
        .collect();
    ready.sort();
    ready.reverse();
    let running_pids: Arc<builder::Running> = Arc::default();
    let (tx, rx) = mpsc::channel::<Msg>();
    let jobs = settings.jobs.max(1);
    let total = to_build.len() as u64;
    let mut running: BTreeSet<StorePath> = BTreeSet::new();
    let mut failures: Vec<BuildFailure> = Vec::new();
    let mut blocked: BTreeSet<StorePath> = BTreeSet::new();
    let mut stopping = false;
    let mut cancelled = false;
    let mut done = 0u64;
    std::thread::scope(|scope| loop {
        if cancel.is_cancelled() && !cancelled {
            cancelled = true;
            stopping = true;
            kill_all(&running_pids);
        }
        while !stopping && running.len() < jobs {
            let Some(d) = ready.pop() else { break };
            let Some(node) = graph.drv(&d) else { continue };
            running.insert(d.clone());
            let name = d.name().trim_end_matches(".drv").to_owned();
            sink.emit(Event::BuildStarted {
                drv: store.store_dir().display(&d),
                name: name.clone(),
            });
            let tx = tx.clone();
            let pids = running_pids.clone();
            let graph = &graph;
            scope.spawn(move || {
                let r = builder::build_one(store, graph, &d, node, settings, sink, &pids);
                let _ = tx.send(Msg::Done(d, r));
            });
        }
        sink.emit(Event::Progress {
            done,
            expected: total,
            running: running.len() as u64,
            failed: failures.len() as u64,
        });
        if running.is_empty() {
            break;
        }
        let msg = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let Msg::Done(d, result) = msg;
        running.remove(&d);
        let name = d.name().trim_end_matches(".drv").to_owned();
        sink.emit(Event::BuildFinished {
            drv: store.store_dir().display(&d),
            name,
            ok: result.is_ok(),
        });
        match result {
            Ok(()) => {
                done += 1;
                report.built.push(d.clone());
                for dep in dependents.get(&d).into_iter().flatten() {
                    if let Some(n) = waiting.get_mut(dep) {
                        *n -= 1;
                        if *n == 0 && !blocked.contains(dep) {
                            ready.push(dep.clone());
                        }
                    }
                }
            }
            Err(f) => {
                if !stopping && !cancelled {
                    failures.push(f);
                }
                block_dependents(&d, &dependents, &mut blocked);
                ready.retain(|r| !blocked.contains(r));
                if !settings.keep_going && !stopping {
                    stopping = true;
                    kill_all(&running_pids);
                }
            }
        }
    });
    if cancelled || (failures.is_empty() && cancel.is_cancelled()) {
        return Err(BuildError::Cancelled);
    }
    if !failures.is_empty() {
        return Err(BuildError::Failed { failures });
    }
    Ok(report)
}

fn block_dependents(
    d: &StorePath,
    dependents: &HashMap<StorePath, Vec<StorePath>>,
    blocked: &mut BTreeSet<StorePath>,
) {
    for dep in dependents.get(d).into_iter().flatten() {
        if blocked.insert(dep.clone()) {
            block_dependents(dep, dependents, blocked);
        }
    }
}

fn kill_all(running: &builder::Running) {
    let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
    // Builders starting after this see the flag and do not run.
    r.0 = true;
    for pid in r.1.values() {
        // SAFETY: plain syscall; the builder leads its own process group.
        unsafe {
            libc::kill(-(*pid as i32), libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests;
