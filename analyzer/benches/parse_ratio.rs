//! Parse throughput ratio vs rnix 0.15 on a shared, loaded machine:
//! `cargo bench -p strata-analyzer --bench parse_ratio`.
//!
//! Criterion (`--bench parse`) measures one parser after the other, so a change in the
//! machine's load between them skews the ratio. Here every round parses the whole
//! corpus with each parser back to back, and the ratio is taken per round; the median
//! over rounds is what we report.

mod common;

use common::corpus;
use std::time::{Duration, Instant};

const ROUNDS: usize = 31;

fn time(files: &[String], parse: impl Fn(&str) -> usize) -> Duration {
    let start = Instant::now();
    let errors: usize = files.iter().map(|text| parse(text)).sum();
    std::hint::black_box(errors);
    start.elapsed()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run once there.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        ROUNDS
    } else {
        1
    };
    let files = corpus();
    let mib = files.iter().map(String::len).sum::<usize>() as f64 / (1024.0 * 1024.0);
    let full = |t: &str| strata_analyzer::syntax::parse(t).errors().len();
    let syntax_only = |t: &str| strata_analyzer::syntax::parse_syntax_only(t).errors().len();
    let rnix = |t: &str| rnix::Root::parse(t).errors().len();
    // Profiling aid: `STRATA_BENCH_ONLY=full|syntax|rnix` parses with one parser only,
    // so `perf record` on this binary sees nothing else.
    if let Ok(only) = std::env::var("STRATA_BENCH_ONLY") {
        let parse: &dyn Fn(&str) -> usize = match only.as_str() {
            "syntax" => &syntax_only,
            "rnix" => &rnix,
            _ => &full,
        };
        let total: f64 = (0..rounds).map(|_| time(&files, parse).as_secs_f64()).sum();
        println!("{only}: {:.1} ms per round", total * 1e3 / rounds as f64);
        return;
    }
    // Warm-up: caches, allocator pools.
    time(&files, full);
    time(&files, rnix);
    let (mut t_full, mut t_syntax, mut t_rnix) = (Vec::new(), Vec::new(), Vec::new());
    let (mut r_full, mut r_syntax) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let a = time(&files, full).as_secs_f64();
        let b = time(&files, syntax_only).as_secs_f64();
        let c = time(&files, rnix).as_secs_f64();
        t_full.push(a);
        t_syntax.push(b);
        t_rnix.push(c);
        r_full.push(c / a);
        r_syntax.push(c / b);
    }
    let report = |name: &str, times: &mut [f64]| {
        let t = median(times);
        println!(
            "{name:<20} median {:7.1} ms  {:6.2} MiB/s",
            t * 1e3,
            mib / t
        );
    };
    println!("{rounds} rounds over {} files ({mib:.2} MiB)", files.len());
    report("strata", &mut t_full);
    report("strata_syntax_only", &mut t_syntax);
    report("rnix", &mut t_rnix);
    println!("strata / rnix throughput, median of per-round ratios:");
    println!("  full parse (with checks) {:.2}x", median(&mut r_full));
    println!("  tree only                {:.2}x", median(&mut r_syntax));
}
