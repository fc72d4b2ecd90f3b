//! `strata drv show FILE.drv [--json]`: read a derivation (`nix show-derivation`-style JSON).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use strata_backend::store::derivation::guess_store_dir;
use strata_backend::store::{Derivation, StoreDir, StorePath};

/// Arguments of `strata drv`.
#[derive(Debug, clap::Args)]
pub struct DrvArgs {
    #[command(subcommand)]
    pub command: DrvCommand,
}

/// Derivation commands.
#[derive(Debug, clap::Subcommand)]
pub enum DrvCommand {
    /// Print a `.drv` file: a summary, or with `--json` what `nix show-derivation` prints.
    Show {
        /// The `.drv` file (in a store or anywhere else).
        file: PathBuf,
        /// Print JSON keyed by the derivation's store path.
        #[arg(long)]
        json: bool,
    },
}

/// The `.drv` file's store path: its own name if it is a store path base name, else computed
/// from its contents.
fn drv_store_path(file: &Path, drv: &Derivation, dir: &StoreDir) -> anyhow::Result<StorePath> {
    let base = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the .drv file has no usable name")?;
    if let Ok(p) = StorePath::from_base_name(base) {
        if p.is_derivation() {
            return Ok(p);
        }
    }
    let name = base.strip_suffix(".drv").unwrap_or(base);
    Ok(drv.drv_path(dir, name)?)
}

/// Prints the derivation.
pub fn run(args: DrvArgs) -> anyhow::Result<ExitCode> {
    let DrvCommand::Show { file, json } = args.command;
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    // The paths inside name their store directory; take it from the first output.
    let dir = guess_store_dir(&text).unwrap_or_default();
    let drv =
        Derivation::parse(&dir, &text).with_context(|| format!("parsing {}", file.display()))?;
    let path = dir.display(&drv_store_path(&file, &drv, &dir)?);
    if json {
        let map = BTreeMap::from([(path, drv.to_json(&dir))]);
        println!("{}", serde_json::to_string_pretty(&map)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{path}");
    for (name, out) in &drv.outputs {
        let p = out
            .path
            .as_ref()
            .map(|p| dir.display(p))
            .unwrap_or_default();
        match &out.fixed {
            Some(f) => println!(
                "  output {name}: {p} (fixed {} {})",
                f.method_algo(),
                f.hash.to_sri()
            ),
            None => println!("  output {name}: {p}"),
        }
    }
    for (input, outs) in &drv.input_drvs {
        let outs: Vec<&str> = outs.iter().map(String::as_str).collect();
        println!("  input {} [{}]", dir.display(input), outs.join(", "));
    }
    for src in &drv.input_srcs {
        println!("  source {}", dir.display(src));
    }
    println!("  system {}", drv.platform);
    println!("  builder {} {:?}", drv.builder, drv.args);
    for (k, v) in &drv.env {
        println!("  env {k}={v:?}");
    }
    Ok(ExitCode::SUCCESS)
}
