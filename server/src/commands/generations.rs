//! `strata generations [--profile P] [--json] [--delete N... | --keep K | --older-than 30d]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use strata_backend::engine::EngineError;
use strata_backend::profile::{nix_env_line, DeleteSelection};

use crate::cli::GlobalArgs;
use crate::engine_cli;

/// Arguments of `strata generations`.
#[derive(Debug, clap::Args)]
pub struct GenerationsArgs {
    /// The profile (default: home-manager's profile).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
    /// Delete these generations (never the current one).
    #[arg(long, num_args = 1.., value_name = "N", conflicts_with_all = ["keep", "older_than"])]
    pub delete: Vec<u64>,
    /// Delete all but the newest K generations (never the current one).
    #[arg(long, value_name = "K", conflicts_with = "older_than")]
    pub keep: Option<usize>,
    /// Delete generations older than this (`30d`), never the current one.
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
}

/// Lists (or deletes) the generations of a profile, as `nix-env --list-generations` does.
pub fn run(args: GenerationsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let profile = engine_cli::profile(args.profile.clone(), None, global);
    let selection = if !args.delete.is_empty() {
        Some(DeleteSelection::Numbers(args.delete.clone()))
    } else if let Some(k) = args.keep {
        Some(DeleteSelection::KeepLast(k))
    } else if let Some(age) = &args.older_than {
        let Some(d) = DeleteSelection::parse_age(age) else {
            anyhow::bail!("`--older-than {age}`: write the age in days, like `30d`");
        };
        Some(DeleteSelection::OlderThan(d))
    } else {
        None
    };
    if let Some(selection) = selection {
        match profile.delete(&selection, SystemTime::now()) {
            Ok(removed) => {
                for n in &removed {
                    println!("removed generation {n}");
                }
                if removed.is_empty() {
                    println!("no generation to remove");
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => return Ok(engine_cli::report(&EngineError::Profile(e))),
        }
    }
    let gens = match profile.generations() {
        Ok(g) => g,
        Err(e) => return Ok(engine_cli::report(&EngineError::Profile(e))),
    };
    if gens.is_empty() {
        explain_empty(profile.path())?;
    }
    if args.json {
        let items: Vec<serde_json::Value> = gens
            .iter()
            .map(|g| {
                serde_json::json!({
                    "generation": g.number,
                    "date": g.date(),
                    "created": g.created,
                    "current": g.current,
                    "path": g.target,
                    "link": g.link,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        for g in &gens {
            println!("{}", nix_env_line(g));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An empty list is normal for a profile never applied; a missing folder is almost always a typo.
fn explain_empty(path: &std::path::Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|d| !d.is_dir()) {
        anyhow::bail!(
            "no profile `{}`: the folder `{}` does not exist (check `--profile`)",
            path.display(),
            dir.display()
        );
    }
    eprintln!(
        "profile `{}` has no generations yet (apply a configuration to create one)",
        path.display()
    );
    Ok(())
}
