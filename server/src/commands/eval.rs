//! `strata eval`: evaluate a Nix file or expression and print the result exactly as
//! `nix-instantiate --eval` does.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::eval::{AutoArg, Evaluator, Settings};

/// Arguments of `strata eval` (the flags `nix-instantiate --eval` takes).
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Files to evaluate (`-` reads stdin), or expressions with `-E`.
    pub files: Vec<String>,
    /// Treat the positional arguments as expressions.
    #[arg(short = 'E', long = "expr")]
    pub expr: bool,
    /// Select an attribute of the result (`a.b.0.c`).
    #[arg(short = 'A', long = "attr")]
    pub attr: Vec<String>,
    /// Evaluate the result deeply.
    #[arg(long)]
    pub strict: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print as XML.
    #[arg(long)]
    pub xml: bool,
    /// Omit source positions from `--xml` output.
    #[arg(long)]
    pub no_location: bool,
    /// Print the trace of frames that led to an error.
    #[arg(long)]
    pub show_trace: bool,
    /// Do not print the trace (the default).
    #[arg(long)]
    pub no_show_trace: bool,
    /// Add a search path entry (`DIR` or `PREFIX=DIR`).
    #[arg(short = 'I', long = "include")]
    pub include: Vec<String>,
    /// Pass `NAME = EXPR` to a top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "EXPR"])]
    pub arg: Vec<String>,
    /// Pass `NAME = "STRING"` to a top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "STRING"])]
    pub argstr: Vec<String>,
    /// Accepted for compatibility with `nix-instantiate --eval` (always on here).
    #[arg(long, hide = true)]
    pub eval: bool,
    /// Enable experimental features (`parse-toml-timestamps` is the one that matters).
    #[arg(long, value_name = "FEATURES")]
    pub extra_experimental_features: Vec<String>,
    /// Nix's `max-call-depth` setting.
    #[arg(long)]
    pub max_call_depth: Option<usize>,
    /// Accepted for compatibility; evaluation is always impure here.
    #[arg(long, hide = true)]
    pub impure: bool,
    /// Accepted for compatibility (`warn` or `fatal`); lints are not implemented.
    #[arg(long, hide = true)]
    pub lint_url_literals: Option<String>,
    #[arg(long, hide = true)]
    pub lint_short_path_literals: Option<String>,
    #[arg(long, hide = true)]
    pub lint_absolute_path_literals: Option<String>,
    /// Accepted for compatibility with `nix-instantiate`.
    #[arg(long, hide = true)]
    pub read_write_mode: bool,
}

/// What to do once the value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Print the value (`strata eval`).
    Print,
    /// Write `.drv` files and print their paths (`strata instantiate`).
    Instantiate,
}

/// Runs on a thread with a large stack: deeply nested evaluation recurses natively.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    run_with(args, Output::Print, None)
}

/// Shared by `eval` and `instantiate`.
pub fn run_with(
    args: EvalArgs,
    output: Output,
    store_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let handle = std::thread::Builder::new()
        .name("eval".into())
        .stack_size(1 << 30)
        .spawn(move || evaluate(args, output, store_dir))?;
    match handle.join() {
        Ok(r) => r,
        Err(_) => anyhow::bail!("the evaluator panicked"),
    }
}

fn settings_for(args: &EvalArgs) -> Settings {
    let mut settings = Settings::default();
    for i in &args.include {
        settings.search_path.extend(Settings::parse_search_path(i));
    }
    if let Ok(p) = std::env::var("NIX_PATH") {
        settings.search_path.extend(Settings::parse_search_path(&p));
    }
    let show_trace_env = std::env::var("NIX_CONFIG")
        .map(|c| c.lines().any(|l| l.replace(' ', "") == "show-trace=true"))
        .unwrap_or(false);
    settings.show_trace = (args.show_trace || show_trace_env) && !args.no_show_trace;
    settings.toml_timestamps = args
        .extra_experimental_features
        .iter()
        .any(|f| f.split_whitespace().any(|x| x == "parse-toml-timestamps"));
    if let Some(d) = args.max_call_depth {
        settings.max_call_depth = d;
    }
    settings
}

fn evaluate(
    args: EvalArgs,
    output: Output,
    store_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let settings = settings_for(&args);
    let show_trace = settings.show_trace;
    let mut ev = Evaluator::new(settings);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let fail = |e: &strata_backend::eval::EvalError| {
        eprint!("{}", e.render(show_trace));
        Ok(ExitCode::FAILURE)
    };
    let mut auto = Vec::new();
    for pair in args.arg.chunks(2) {
        auto.push((
            pair[0].clone(),
            AutoArg::Expr(pair.get(1).cloned().unwrap_or_default()),
        ));
    }
    for pair in args.argstr.chunks(2) {
        auto.push((
            pair[0].clone(),
            AutoArg::Str(pair.get(1).cloned().unwrap_or_default()),
        ));
    }
    let auto_args = match ev.auto_args(&auto) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let cwd = std::env::current_dir()?.to_string_lossy().into_owned();
    let inputs: Vec<String> = if args.files.is_empty() {
        if args.expr {
            anyhow::bail!("-E needs an expression");
        }
        vec!["./default.nix".to_string()]
    } else {
        args.files.clone()
    };
    let attr_paths = if args.attr.is_empty() {
        vec![String::new()]
    } else {
        args.attr.clone()
    };
    for input in &inputs {
        let root = if args.expr {
            ev.eval_text(input, &cwd)
        } else if input == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
            ev.eval_text(&text, &cwd)
        } else {
            ev.eval_file(input)
        };
        let root = match root {
            Ok(v) => v,
            Err(e) => return fail(&e),
        };
        for path in &attr_paths {
            let result = (|| {
                let v = ev.select_attr_path(&root, path, &auto_args)?;
                let v = if auto.is_empty() {
                    v
                } else {
                    ev.auto_call(&v, &auto_args)?
                };
                match output {
                    Output::Instantiate => strata_backend::eval::derivation::instantiate_value(
                        &mut ev.machine,
                        &v,
                        store_dir.as_deref(),
                    ),
                    Output::Print => {
                        if args.xml {
                            ev.print_xml(&v, args.strict, !args.no_location)
                        } else if args.json {
                            if args.strict {
                                ev.machine.force_deep(&v)?;
                            }
                            ev.print_json(&v).map(|s| s + "\n")
                        } else {
                            ev.print(&v, args.strict).map(|s| s + "\n")
                        }
                    }
                }
            })();
            match result {
                Ok(text) => {
                    out.write_all(text.as_bytes())?;
                    out.flush()?;
                }
                Err(e) => return fail(&e),
            }
        }
    }
    // The process ends next: freeing the evaluated heap (every thunk, frame and set,
    // often hundreds of thousands) one by one would only cost time; the OS takes it back.
    std::mem::forget(ev);
    Ok(ExitCode::SUCCESS)
}
