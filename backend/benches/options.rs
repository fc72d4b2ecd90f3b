//! Option schema benchmarks: extraction of the whole home-manager corpus (cold and from the
//! on-disk cache), evaluation of its option tree with our evaluator (and the merged schema
//! from the cache), completion/hover/diagnostics latency in a 500-line `home.nix`, and the
//! memory of a loaded schema.
//!
//!     STRATA_SHARED=/path/to/shared cargo bench -p strata-backend --bench options

use std::path::{Path, PathBuf};

use std::hint::black_box;

use criterion::Criterion;
use strata_analyzer::ide::options::{completion, diagnostics, hover};
use strata_analyzer::options::{extract, ExtractConfig};
use strata_backend::options_eval::evaluate_home_manager;
use strata_backend::options_source::{
    load_schema, load_schema_evaluated, FsSource, OptionSource, SchemaKind,
};
use strata_backend::store::StoreDir;

fn corpus(rel: &str) -> PathBuf {
    let shared = match std::env::var_os("STRATA_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    std::fs::canonicalize(shared.join(rel)).expect("../shared/corpus")
}

/// A 500-line home.nix: nested sets, dotted paths, wrappers and submodule elements.
fn home_nix() -> String {
    let programs = [
        "git",
        "bash",
        "zsh",
        "fish",
        "neovim",
        "vim",
        "tmux",
        "alacritty",
        "kitty",
        "firefox",
        "htop",
        "bat",
        "fzf",
        "direnv",
        "starship",
        "ssh",
        "gpg",
        "jq",
        "ripgrep",
        "eza",
    ];
    let mut s = String::from("{ config, lib, pkgs, ... }:\n{\n  home.username = \"alice\";\n  home.homeDirectory = \"/home/alice\";\n  home.stateVersion = \"24.11\";\n");
    let mut i = 0;
    while s.lines().count() < 480 {
        let p = programs[i % programs.len()];
        s.push_str(&format!(
            "  programs.{p} = lib.mkIf true {{\n    enable = true;\n    package = pkgs.{p};\n  }};\n  home.file.\"file{i}\".text = \"line {i}\";\n  home.sessionVariables.VAR{i} = \"{i}\";\n"
        ));
        i += 1;
    }
    s.push_str("  programs.git.signing = {\n    \n  };\n");
    while s.lines().count() < 499 {
        s.push_str("  xdg.enable = true;\n");
    }
    s.push_str("}\n");
    s
}

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let hm = corpus("corpus/home-manager");
    let lib = corpus("corpus/nixpkgs-lib/lib");
    let config = ExtractConfig::home_manager(&hm.to_string_lossy());

    // Memory of the loaded schema: resident set before and after extraction, the
    // interpreter's arenas dropped (what the server keeps).
    let before = rss_bytes();
    let (schema, _) = extract(&FsSource, &config);
    let after = rss_bytes();
    println!(
        "options/schema_memory: {} options, {} shims, RSS +{:.1} MiB",
        schema.options.len(),
        schema.shims.len(),
        (after.saturating_sub(before)) as f64 / (1024.0 * 1024.0)
    );

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("options/extract_corpus_cold", |b| {
        b.iter(|| black_box(extract(&FsSource, &config)))
    });

    let cache = tempfile::tempdir().unwrap();
    let source = OptionSource {
        kind: SchemaKind::HomeManager,
        root: hm.clone(),
        origin: "bench".into(),
    };
    let store = StoreDir::nix();
    load_schema(&source, Some(cache.path()), &store);
    c.bench_function("options/load_corpus_cached", |b| {
        b.iter(|| black_box(load_schema(&source, Some(cache.path()), &store)))
    });

    // The evaluated source: `lib.evalModules` over the corpus with our evaluator, read into
    // a schema (no merge, no cache), then the merged schema as a second start reads it.
    let work = tempfile::tempdir().unwrap();
    let (evaluated, _) = evaluate_home_manager(&hm, &lib, work.path()).unwrap();
    println!(
        "options/evaluated: {} options from the evaluated tree",
        evaluated.options.len()
    );
    c.bench_function("options/evaluate_corpus", |b| {
        b.iter(|| black_box(evaluate_home_manager(&hm, &lib, work.path()).unwrap()))
    });
    load_schema_evaluated(&source, Some(&lib), Some(cache.path()), &store);
    c.bench_function("options/load_corpus_evaluated_cached", |b| {
        b.iter(|| {
            black_box(load_schema_evaluated(
                &source,
                Some(&lib),
                Some(cache.path()),
                &store,
            ))
        })
    });

    let text = home_nix();
    assert_eq!(text.lines().count(), 500);
    let offset = text.find("signing = {\n    ").unwrap() + "signing = {\n    ".len();
    let mut c = Criterion::default().configure_from_args().sample_size(50);
    c.bench_function("options/completion_500_line_home_nix", |b| {
        b.iter(|| {
            let parse = strata_analyzer::syntax::parse(&text);
            let items = completion::option_completions(
                &parse.root(),
                &text,
                &schema,
                (offset as u32).into(),
            );
            assert!(!items.is_empty());
            black_box(items)
        })
    });
    let hover_at = text.find("stateVersion").unwrap() + 3;
    c.bench_function("options/hover_500_line_home_nix", |b| {
        b.iter(|| {
            let parse = strata_analyzer::syntax::parse(&text);
            black_box(hover::option_hover(
                &parse.root(),
                &schema,
                (hover_at as u32).into(),
            ))
        })
    });
    c.bench_function("options/diagnostics_500_line_home_nix", |b| {
        b.iter(|| {
            let parse = strata_analyzer::syntax::parse(&text);
            black_box(diagnostics::option_diagnostics(&parse.root(), &schema))
        })
    });
    c.final_summary();
}
