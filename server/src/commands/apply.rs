//! `strata apply [INSTALLABLE] [--profile P] [--dry-run]`: build, switch to a new
//! generation, activate (rolling back if that fails) and print what changed.

use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::engine::{ApplyRequest, BuildOptions, Installable, Job};

use crate::cli::GlobalArgs;
use crate::engine_cli::{self, ActivationArgs, EngineArg};
use crate::progress::Renderer;

/// Arguments of `strata apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// `FLAKEDIR#nixosConfigurations.HOST`, `FLAKEDIR#homeConfigurations.NAME`, any other
    /// `FLAKEDIR#ATTR`, or a file with `-A` (default: `/etc/nixos#nixosConfigurations.<hostname>`
    /// when /etc/nixos/flake.nix exists).
    pub installable: Option<String>,
    /// Attribute path in a file installable (`FILE -A ATTR`).
    #[arg(short = 'A', long = "attr")]
    pub attr: Option<String>,
    /// The engine (default: nix when installed).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// The profile to switch (default: NixOS's system profile, home-manager's profile,
    /// or `<state-dir>/profiles/default`, by the kind of configuration).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Evaluate and list what would be built and what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Builds to run at once.
    #[arg(short = 'j', long = "max-jobs")]
    pub jobs: Option<u32>,
    /// Keep building what does not depend on a failed build (native engine).
    #[arg(long)]
    pub keep_going: bool,
    /// Keep the build folders of failed builds (native engine).
    #[arg(long)]
    pub keep_failed: bool,
    #[command(flatten)]
    pub activation: ActivationArgs,
}

fn default_installable() -> Option<String> {
    if !std::path::Path::new("/etc/nixos/flake.nix").exists() {
        return None;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(format!("/etc/nixos#nixosConfigurations.{}", host.trim()))
}

/// Applies the configuration; exit codes as in the README.
pub fn run(args: ApplyArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let Some(spec) = args.installable.clone().or_else(default_installable) else {
        anyhow::bail!(
            "no configuration given: pass e.g. `.#homeConfigurations.NAME` or `.#nixosConfigurations.HOST`"
        );
    };
    let installable = match Installable::parse(&spec, args.attr.as_deref()) {
        Ok(i) => i,
        Err(e) => return Ok(engine_cli::report(&e.into())),
    };
    let engine = match engine_cli::open_engine(args.engine, global) {
        Ok(e) => e,
        Err(e) => return Ok(engine_cli::report(&e)),
    };
    let profile = engine_cli::profile(args.profile.clone(), Some(&installable.kind()), global);
    let request = ApplyRequest {
        installable,
        profile: profile.clone(),
        build: BuildOptions {
            jobs: args.jobs,
            keep_going: args.keep_going,
            keep_failed: args.keep_failed,
        },
        activation: args.activation.options(global),
        dry_run: args.dry_run,
    };
    let renderer = Renderer::new();
    let cancel = engine_cli::interrupt_token();
    let job = Job {
        sink: &renderer,
        cancel: &cancel,
        log_dir: engine_cli::log_dir(global),
    };
    let result = engine.apply(&request, &job);
    renderer.finish();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return Ok(engine_cli::report(&e)),
    };
    if let Some(plan) = &outcome.plan {
        println!("dry run: nothing was changed");
        println!("would build {} derivation(s):", plan.to_build.len());
        for d in &plan.to_build {
            println!("  {d}");
        }
        if !plan.to_fetch.is_empty() {
            println!("would fetch {} path(s):", plan.to_fetch.len());
            for p in &plan.to_fetch {
                println!("  {p}");
            }
        }
        println!("result: {}", outcome.output.display());
        match outcome.previous {
            Some(n) => println!(
                "would switch {} from generation {n} to a new generation",
                profile.path().display()
            ),
            None => println!(
                "would create profile {} at generation 1",
                profile.path().display()
            ),
        }
        if let Some(diff) = &outcome.diff {
            println!("{diff}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let generation = outcome.generation.unwrap_or_default();
    match outcome.previous {
        Some(prev) if prev == generation => println!(
            "generation {generation} of {} is current (unchanged: {})",
            profile.path().display(),
            outcome.output.display()
        ),
        _ => println!(
            "generation {generation} of {} is current: {}",
            profile.path().display(),
            outcome.output.display()
        ),
    }
    if let Some(diff) = &outcome.diff {
        println!("{}", diff.summary());
        println!("{diff}");
    }
    Ok(ExitCode::SUCCESS)
}
