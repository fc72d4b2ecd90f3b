//! `strata log DRV`: print the build log of a derivation (either engine's builds).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::engine_cli;

/// Arguments of `strata log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The `.drv` path (or its base name).
    pub drv: PathBuf,
}

/// Prints the log kept in the state folder; exit 1 when there is none.
pub fn run(args: LogArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let drv = args.drv.to_string_lossy();
    let file = strata_backend::engine::nix::build_log_path(&engine_cli::log_dir(global), &drv);
    match std::fs::read(&file) {
        Ok(bytes) => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => {
            eprintln!(
                "error: no build log for {drv} (looked for {})",
                file.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
