//! `strata parse FILE...`: report syntax errors as `FILE:LINE:COL: message`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use strata_analyzer::syntax::{self, LineIndex};

/// Arguments of `strata parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Nix files to parse (`-` reads standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also print each file's syntax tree.
    #[arg(long)]
    pub tree: bool,
}

/// Parses each file; exit 1 if any has a syntax error. Lines and columns are 1-based,
/// columns counted in bytes (as Nix and compilers do).
pub fn run(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &args.files {
        let shown = file.display().to_string();
        let bytes = if shown == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .context("reading standard input")?;
            buf
        } else {
            std::fs::read(file).with_context(|| format!("reading {shown}"))?
        };
        // Nix reads bytes: invalid UTF-8 in a string or comment is accepted, so it is
        // a warning here; anywhere else it is a syntax error like any stray byte.
        let (parse, invalid) = syntax::parse_bytes_lossy(&bytes);
        if let Some(err) = invalid {
            let prefix = std::str::from_utf8(&bytes[..err.offset]).unwrap_or_default();
            let lc = LineIndex::new(prefix).line_col((prefix.len() as u32).into());
            eprintln!("{shown}:{}:{}: warning: {err}", lc.line + 1, lc.col + 1);
        }
        if args.tree {
            write!(out, "{}", parse.debug_tree())?;
        }
        if !parse.errors().is_empty() {
            failed = true;
            let text = String::from_utf8_lossy(&bytes);
            let index = LineIndex::new(&text);
            for error in parse.errors() {
                let lc = index.line_col(error.range.start());
                writeln!(
                    out,
                    "{shown}:{}:{}: {}",
                    lc.line + 1,
                    lc.col + 1,
                    error.message
                )?;
            }
        }
        tracing::debug!(file = %shown, errors = parse.errors().len(), "parsed");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
