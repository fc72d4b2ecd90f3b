//! Parse throughput over the whole corpus (`../shared/corpus`), Strata's parser side by
//! side with rnix 0.15 in one run: `cargo bench -p strata-analyzer --bench parse`.
//!
//! `strata` is everything `syntax::parse` does (lexing, the tree, and the parse-time
//! checks: duplicate attributes, scopes, ...); `strata_syntax_only` and `rnix` only
//! build a tree.

mod common;

use common::corpus;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

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
