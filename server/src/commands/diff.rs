//! `strata diff [--profile P] [GEN_A GEN_B]`: closure difference between two generations.

use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::engine::EngineError;

use crate::cli::GlobalArgs;
use crate::engine_cli::{self, EngineArg};

/// Arguments of `strata diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The profile (default: home-manager's profile).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The older generation (default: the one before the current).
    pub gen_a: Option<u64>,
    /// The newer generation (default: the current one).
    pub gen_b: Option<u64>,
    /// The engine (default: nix when installed).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Print the difference as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints packages added, removed and changed between two generations, and the size change.
pub fn run(args: DiffArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let profile = engine_cli::profile(args.profile.clone(), None, global);
    let result = (|| -> Result<_, EngineError> {
        let engine = engine_cli::open_engine(args.engine, global)?;
        let (a, b) = match (args.gen_a, args.gen_b) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, profile.current()?.ok_or_else(|| no_gens(&profile))?),
            (None, _) => {
                let cur = profile.current()?.ok_or_else(|| no_gens(&profile))?;
                (profile.previous_generation()?, cur)
            }
        };
        let (ga, gb) = (profile.generation(a)?, profile.generation(b)?);
        let diff = engine.diff(&ga.target, &gb.target)?;
        Ok((ga, gb, diff))
    })();
    match result {
        Ok((ga, gb, diff)) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&diff)?);
            } else {
                println!("<<< generation {}: {}", ga.number, ga.target.display());
                println!(">>> generation {}: {}", gb.number, gb.target.display());
                println!("{diff}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(engine_cli::report(&e)),
    }
}

fn no_gens(profile: &strata_backend::profile::Profile) -> EngineError {
    EngineError::Profile(strata_backend::profile::ProfileError::Empty(
        profile.path().to_path_buf(),
    ))
}
