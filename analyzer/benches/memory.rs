//! Where the analyzer's memory goes: loads a folder of `.nix` files (default: the
//! home-manager modules of `../shared/corpus`, as the `open-all` language-server scenario
//! does) into a database, runs the queries the server runs on open, and prints the live
//! heap after each step, counted by a wrapping global allocator.
//!
//! `cargo bench -p strata-analyzer --bench memory [-- DIR_OR_FILE] [--server]`; with
//! `--server`, only what the language server keeps after opening every file (64 at a time,
//! LRU applied between chunks).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use strata_analyzer::db::{self, RootDatabase};

/// The system allocator, counting live and peak bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `step` and prints how much live heap it added (and the peak while it ran).
fn step(what: &str, f: impl FnOnce()) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    f();
    let after = LIVE.load(Relaxed);
    println!(
        "{what:<28} live {:>8.2} MiB  (+{:>7.2} MiB, peak during step +{:.2} MiB)",
        mib(after),
        mib(after.saturating_sub(before)),
        mib(PEAK.load(Relaxed).saturating_sub(before))
    );
}

fn main() {
    let target = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shared = match std::env::var_os("STRATA_SHARED") {
                Some(dir) => PathBuf::from(dir),
                None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .ancestors()
                    .map(|dir| dir.join("shared"))
                    .find(|dir| dir.is_dir())
                    .expect("../shared beside the checkout"),
            };
            shared.join("corpus/home-manager/modules")
        });
    let files: Vec<(String, String)> = walkdir::WalkDir::new(&target)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "nix"))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((e.path().to_string_lossy().into_owned(), text))
        })
        .collect();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    println!(
        "{} files, {:.2} MiB of text from {}",
        files.len(),
        mib(bytes),
        target.display()
    );
    if std::env::args().any(|a| a == "--server") {
        return like_the_server(files);
    }
    let mut db = RootDatabase::new();
    let mut handles = Vec::new();
    step("texts (set_file)", || {
        for (path, text) in files {
            handles.push(db.set_file(&path, text));
        }
    });
    let each = |f: &dyn Fn(db::SourceFile)| {
        for &h in &handles {
            f(h)
        }
    };
    step("parse", || {
        each(&|f| {
            db::parse(&db, f);
        })
    });
    step("module_with_source_map", || {
        each(&|f| {
            db::module_with_source_map(&db, f);
        })
    });
    step("module + source_map", || {
        each(&|f| {
            db::module(&db, f);
            db::source_map(&db, f);
        })
    });
    step("scopes", || each(&|f| drop(db::scopes(&db, f))));
    step("name_resolution", || {
        each(&|f| drop(db::name_resolution(&db, f)))
    });
    step("liveness", || each(&|f| drop(db::liveness(&db, f))));
    step("diagnostics", || each(&|f| drop(db::diagnostics(&db, f))));
    step("imported_paths", || {
        each(&|f| drop(db::imported_paths(&db, f)))
    });
    step("line_index", || {
        each(&|f| {
            db::line_index(&db, f);
        })
    });
    step("flake_model", || each(&|f| drop(db::flake_model(&db, f))));

    // The lowering's two halves on their own (outside salsa).
    let roots: Vec<_> = handles
        .iter()
        .map(|&h| db::parse(&db, h).syntax())
        .collect();
    let mut modules = Vec::new();
    let mut maps = Vec::new();
    step("lower: Module only", || {
        for r in &roots {
            modules.push(strata_analyzer::def::lower::lower(r).0);
        }
    });
    step("lower: ModuleSourceMap only", || {
        for r in &roots {
            maps.push(strata_analyzer::def::lower::lower(r).1);
        }
    });
    let exprs: usize = modules.iter().map(|m| m.exprs.len()).sum();
    let names: usize = modules.iter().map(|m| m.names.len()).sum();
    println!(
        "{exprs} exprs ({} bytes each), {names} names ({} bytes each)",
        std::mem::size_of::<strata_analyzer::def::Expr>(),
        std::mem::size_of::<strata_analyzer::def::Name>()
    );
}

/// What the language server keeps after opening every file: texts set, diagnostics and
/// imports computed 64 files at a time with the parse LRU applied between chunks.
fn like_the_server(files: Vec<(String, String)>) {
    use salsa::Database as _;
    let mut db = RootDatabase::new();
    step("open all, diagnostics", || {
        for chunk in files.chunks(64) {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(path, text)| db.set_file(path, text.clone()))
                .collect();
            for &h in &handles {
                drop(db::diagnostics(&db, h));
                drop(db::imported_paths(&db, h));
            }
            db.trigger_lru_eviction();
        }
    });
    drop(files);
    println!(
        "live after dropping the bench's own copies: {:.2} MiB",
        mib(LIVE.load(Relaxed))
    );
}
