//! `strata build INSTALLABLE [--engine nix|native] [-j N]`: build and print the output paths.

use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::engine::{BuildOptions, Installable, Job};

use crate::cli::GlobalArgs;
use crate::engine_cli::{self, EngineArg};
use crate::progress::Renderer;

/// Arguments of `strata build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// `FLAKEDIR#ATTR` (e.g. `.#homeConfigurations.NAME`) or a Nix file (with `-A`).
    pub installable: String,
    /// Attribute path in a file installable (`FILE -A ATTR`).
    #[arg(short = 'A', long = "attr")]
    pub attr: Option<String>,
    /// The engine (default: nix when installed).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Builds to run at once.
    #[arg(short = 'j', long = "max-jobs")]
    pub jobs: Option<u32>,
    /// Keep building what does not depend on a failed build (native engine).
    #[arg(long)]
    pub keep_going: bool,
    /// Keep the build folders of failed builds (native engine).
    #[arg(long)]
    pub keep_failed: bool,
    /// Also keep the result as a symlink (a garbage-collector root) at this path.
    #[arg(long)]
    pub out_link: Option<PathBuf>,
}

/// Builds the installable; prints one output path per line.
pub fn run(args: BuildArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let installable = match Installable::parse(&args.installable, args.attr.as_deref()) {
        Ok(i) => i,
        Err(e) => return Ok(engine_cli::report(&e.into())),
    };
    let engine = match engine_cli::open_engine(args.engine, global) {
        Ok(e) => e,
        Err(e) => return Ok(engine_cli::report(&e)),
    };
    let renderer = Renderer::new();
    let cancel = engine_cli::interrupt_token();
    let job = Job {
        sink: &renderer,
        cancel: &cancel,
        log_dir: engine_cli::log_dir(global),
    };
    let opts = BuildOptions {
        jobs: args.jobs,
        keep_going: args.keep_going,
        keep_failed: args.keep_failed,
    };
    let result = engine.build(&installable, &opts, &job);
    renderer.finish();
    match result {
        Ok(outputs) => {
            if let (Some(link), Some(first)) = (&args.out_link, outputs.first()) {
                engine.add_root(link, first)?;
            }
            for o in outputs {
                println!("{}", o.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(engine_cli::report(&e)),
    }
}
