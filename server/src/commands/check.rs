//! `strata check [--format human|json] PATH...`: the language server's diagnostics on the
//! command line. Folders are walked for `*.nix`; exit 1 when any diagnostic is an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use strata_analyzer::db::{self, RootDatabase};
use strata_analyzer::diagnostics::Severity;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `FILE:LINE:COL: severity[code]: message`, one per line.
    Human,
    /// One JSON array of diagnostics.
    Json,
}

/// Arguments of `strata check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Diagnostic codes to leave out (repeatable), like the `diagnostics.ignored` setting.
    #[arg(long = "ignore", value_name = "CODE")]
    pub ignored: Vec<String>,
    /// Files or folders (walked for `*.nix`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Stack for analysis: deeply nested input recurses deeply.
const STACK_BYTES: usize = 256 << 20;

/// Checks every file; exit 1 if any has an error.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let files = collect_files(&args.paths)?;
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || check_files(&files, &args))
        .context("cannot start the analysis thread")?;
    worker
        .join()
        .map_err(|_| anyhow::anyhow!("the analysis thread panicked"))?
}

fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|e| e == "nix")
                {
                    files.push(entry.into_path());
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn check_files(files: &[PathBuf], args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut db = RootDatabase::new();
    let mut settings = strata_analyzer::settings::Settings::default();
    settings.diagnostics.ignored = args.ignored.clone();
    db.set_settings(settings);
    let mut loaded = Vec::new();
    for path in files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 (Nix files must be)", path.display()))?;
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        let file = db.set_file(&abs.to_string_lossy(), text);
        loaded.push((path.as_path(), file));
    }
    let mut errors = 0usize;
    let mut json = Vec::new();
    let mut out = String::new();
    for (path, file) in &loaded {
        let index = db::line_index(&db, *file);
        for d in db::diagnostics(&db, *file).iter() {
            let start = index.line_col(d.range.start());
            let end = index.line_col(d.range.end());
            let severity = match d.severity() {
                Severity::Error => {
                    errors += 1;
                    "error"
                }
                Severity::Warning => "warning",
                Severity::Hint => "hint",
            };
            match args.format {
                Format::Human => out.push_str(&format!(
                    "{}:{}:{}: {severity}[{}]: {}\n",
                    display(path),
                    start.line + 1,
                    start.col + 1,
                    d.code(),
                    d.message
                )),
                Format::Json => json.push(serde_json::json!({
                    "file": display(path),
                    "line": start.line + 1,
                    "column": start.col + 1,
                    "endLine": end.line + 1,
                    "endColumn": end.col + 1,
                    "severity": severity,
                    "code": d.code(),
                    "message": d.message,
                })),
            }
        }
    }
    match args.format {
        Format::Human => {
            print!("{out}");
            println!(
                "checked {} file{}: {errors} error{}",
                loaded.len(),
                if loaded.len() == 1 { "" } else { "s" },
                if errors == 1 { "" } else { "s" }
            );
        }
        Format::Json => println!("{}", serde_json::Value::Array(json)),
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
