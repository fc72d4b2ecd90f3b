//! `strata rollback [--profile P] [--to N]`: switch back a generation and activate it.

use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::engine::Job;

use crate::cli::GlobalArgs;
use crate::engine_cli::{self, ActivationArgs, EngineArg};
use crate::progress::Renderer;

/// Arguments of `strata rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The profile (default: home-manager's profile).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The generation to switch to (default: the one before the current).
    #[arg(long)]
    pub to: Option<u64>,
    /// The engine (default: nix when installed).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    #[command(flatten)]
    pub activation: ActivationArgs,
}

/// Rolls the profile back and activates the generation it lands on.
pub fn run(args: RollbackArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let engine = match engine_cli::open_engine(args.engine, global) {
        Ok(e) => e,
        Err(e) => return Ok(engine_cli::report(&e)),
    };
    let profile = engine_cli::profile(args.profile.clone(), None, global);
    let renderer = Renderer::new();
    let cancel = engine_cli::interrupt_token();
    let job = Job {
        sink: &renderer,
        cancel: &cancel,
        log_dir: engine_cli::log_dir(global),
    };
    let result = engine.rollback(&profile, args.to, &args.activation.options(global), &job);
    renderer.finish();
    match result {
        Ok(s) => {
            match s.from {
                Some(from) => println!(
                    "switched {} from generation {from} to {}",
                    profile.path().display(),
                    s.to
                ),
                None => println!(
                    "generation {} of {} is current",
                    s.to,
                    profile.path().display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(engine_cli::report(&e)),
    }
}
