//! Parse throughput over the whole corpus (`../shared/corpus`), Strata's parser side by
//! side with rnix 0.15 in one run: `cargo bench -p strata-analyzer --bench parse`.
//!
//! `strata` is everything `syntax::parse` does (lexing, the tree, and the parse-time
//! checks: duplicate attributes, scopes, ...); `strata_syntax_only` and `rnix` only
//! build a tree.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Vec<String> {
    let dir = match std::env::var_os("STRATA_SHARED") {
        Some(dir) => PathBuf::from(dir).join("corpus"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("shared/corpus"))
            .find(|dir| dir.is_dir())
            .expect("../shared/corpus beside the checkout"),
    };
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "nix"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

fn parse_corpus(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(String::len).sum();
    let mut group = c.benchmark_group("parse_corpus");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("strata", |b| {
        b.iter(|| {
            let mut errors = 0;
            for text in &files {
                errors += strata_analyzer::syntax::parse(text).errors().len();
            }
            errors
        })
    });
    group.bench_function("strata_syntax_only", |b| {
        b.iter(|| {
            let mut errors = 0;
            for text in &files {
                errors += strata_analyzer::syntax::parse_syntax_only(text)
                    .errors()
                    .len();
            }
            errors
        })
    });
    group.bench_function("rnix", |b| {
        b.iter(|| {
            let mut errors = 0;
            for text in &files {
                errors += rnix::Root::parse(text).errors().len();
            }
            errors
        })
    });
    group.finish();
}

criterion_group!(benches, parse_corpus);
criterion_main!(benches);
