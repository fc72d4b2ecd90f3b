//! What the build/apply/rollback/generations/diff commands share: engine choice, state
//! folder, default profiles, Ctrl-C as cancellation, and error reporting with exit codes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use strata_backend::engine::{
    self, ActivationOptions, CancelToken, EngineChoice, EngineError, InstallableKind,
};
use strata_backend::profile::Profile;

use crate::cli::GlobalArgs;

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// The installed Nix.
    Nix,
    /// Strata's own evaluator, store and builder.
    Native,
}

impl From<EngineArg> for EngineChoice {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Nix => EngineChoice::Nix,
            EngineArg::Native => EngineChoice::Native,
        }
    }
}

/// Options of commands that activate a generation.
#[derive(Debug, Clone, clap::Args)]
pub struct ActivationArgs {
    /// Command that runs activation with more privileges (default: `sudo` for a system
    /// configuration unless already root; `""` for none).
    #[arg(long, env = "STRATA_ELEVATE", value_name = "CMD")]
    pub elevate: Option<String>,
    /// Only switch the profile; do not run the activation script.
    #[arg(long)]
    pub no_activate: bool,
}

impl ActivationArgs {
    /// The backend's activation options, with `STRATA_STATE_DIR` passed to the script.
    pub fn options(&self, global: &GlobalArgs) -> ActivationOptions {
        ActivationOptions {
            elevate: self
                .elevate
                .as_ref()
                .map(|e| e.split_whitespace().map(String::from).collect()),
            env: vec![(
                "STRATA_STATE_DIR".into(),
                state_dir(global).to_string_lossy().into_owned(),
            )],
            skip: self.no_activate,
        }
    }
}

/// The state folder: `--state-dir`, else `$XDG_STATE_HOME/strata`, else `~/.local/state/strata`.
pub fn state_dir(global: &GlobalArgs) -> PathBuf {
    if let Some(d) = &global.state_dir {
        return absolute(d.clone());
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("strata");
    }
    home().join(".local/state/strata")
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    }
}

/// Where build and activation logs go.
pub fn log_dir(global: &GlobalArgs) -> PathBuf {
    state_dir(global).join("logs")
}

/// The profile a command works on: `--profile`, else the default for the kind of
/// configuration (NixOS's system profile, home-manager's profile, or Strata's own).
pub fn profile(
    explicit: Option<PathBuf>,
    kind: Option<&InstallableKind>,
    global: &GlobalArgs,
) -> Profile {
    if let Some(p) = explicit {
        return Profile::new(absolute(p));
    }
    match kind {
        Some(InstallableKind::NixosSystem { .. }) => Profile::new("/nix/var/nix/profiles/system"),
        Some(InstallableKind::Other) => Profile::new(state_dir(global).join("profiles/default")),
        Some(InstallableKind::Home { .. }) | None => Profile::new(home_profile()),
    }
}

/// home-manager's profile: the per-user one when it exists, else the XDG one.
pub fn home_profile() -> PathBuf {
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let legacy = PathBuf::from(format!(
        "/nix/var/nix/profiles/per-user/{user}/home-manager"
    ));
    if std::fs::symlink_metadata(&legacy).is_ok() {
        return legacy;
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local/state"));
    state.join("nix/profiles/home-manager")
}

/// Opens the engine (`--engine`, default Nix when installed).
pub fn open_engine(
    choice: Option<EngineArg>,
    global: &GlobalArgs,
) -> Result<Box<dyn engine::Engine>, EngineError> {
    engine::open(choice.map(Into::into), store_dir(global).as_deref())
}

/// `--store-dir` (native engine), made absolute.
pub fn store_dir(global: &GlobalArgs) -> Option<PathBuf> {
    global.store_dir.clone().map(absolute)
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// A cancel token that Ctrl-C (SIGINT) or SIGTERM fires, so builds stop cleanly.
pub fn interrupt_token() -> CancelToken {
    let token = CancelToken::new();
    // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_interrupt as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_interrupt as *const () as libc::sighandler_t,
        );
    }
    let t = token.clone();
    std::thread::spawn(move || loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            t.cancel();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
    token
}

/// Prints an engine error (with the log lines that explain it) and returns its exit code.
pub fn report(err: &EngineError) -> ExitCode {
    eprintln!("error: {err}");
    let tail = err.log_tail();
    if !tail.is_empty() {
        eprintln!("last log lines:");
        for line in tail {
            eprintln!("  > {line}");
        }
    }
    ExitCode::from(err.exit_code())
}
