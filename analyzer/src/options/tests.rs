//! Extraction over the shared home-manager corpus, checked against the evaluated ground
//! truth of `scripts/options-ground-truth`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;

/// Reads the real file system (tests only; the analyzer itself never does IO).
pub(crate) struct FsSource;

impl SourceTree for FsSource {
    fn read_file(&self, path: &str) -> Option<Arc<str>> {
        std::fs::read_to_string(path).ok().map(Arc::from)
    }
    fn read_dir(&self, path: &str) -> Option<Vec<(String, bool)>> {
        let rd = std::fs::read_dir(path).ok()?;
        Some(
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    (e.file_name().to_string_lossy().into_owned(), dir)
                })
                .collect(),
        )
    }
}

pub(crate) fn shared() -> PathBuf {
    match std::env::var_os("STRATA_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

pub(crate) fn corpus_hm() -> String {
    let p = shared().join("corpus/home-manager");
    std::fs::canonicalize(&p)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

pub(crate) fn corpus_schema() -> Schema {
    extract(&FsSource, &ExtractConfig::home_manager(&corpus_hm())).0
}

/// Runs `scripts/options-ground-truth/ground-truth.nix` with Nix: every option path the
/// module system declares in home-manager files, and whether it is a rename/removal shim.
fn ground_truth() -> Vec<(String, bool)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let nixpkgs_lib = shared().join("corpus/nixpkgs-lib/lib");
    let out = std::process::Command::new("nix-instantiate")
        .env("NIX_REMOTE", "local")
        .args(["--eval", "--strict", "--json"])
        .arg(repo.join("scripts/options-ground-truth/ground-truth.nix"))
        .args(["--arg", "hm"])
        .arg(corpus_hm())
        .args(["--arg", "nixpkgsLib"])
        .arg(std::fs::canonicalize(nixpkgs_lib).unwrap())
        .output()
        .expect("nix-instantiate (Nix 2.8) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // A tiny reader for the flat records the script prints.
    let mut result = Vec::new();
    for rec in text.split("},{") {
        let field = |name: &str| -> Option<String> {
            let key = format!("\"{name}\":");
            let start = rec.find(&key)? + key.len();
            let rest = &rec[start..];
            if let Some(r) = rest.strip_prefix('"') {
                let mut s = String::new();
                let mut chars = r.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                Some(s)
            } else {
                Some(rest.split([',', '}']).next()?.to_owned())
            }
        };
        let (Some(path), Some(shim)) = (field("path"), field("shim")) else {
            continue;
        };
        result.push((path, shim != "null"));
    }
    result
}

#[test]
fn corpus_count_matches_ground_truth() {
    let schema = corpus_schema();
    let truth = ground_truth();
    let truth_options: BTreeSet<String> = truth
        .iter()
        .filter(|(_, shim)| !shim)
        .map(|(p, _)| p.clone())
        .collect();
    let truth_shims: BTreeSet<String> = truth
        .iter()
        .filter(|(_, shim)| *shim)
        .map(|(p, _)| p.clone())
        .collect();
    let ours: BTreeSet<String> = schema.options.iter().map(|o| o.path.to_string()).collect();
    let our_shims: BTreeSet<String> = schema.shims.iter().map(|s| s.from.to_string()).collect();
    let found = truth_options.intersection(&ours).count();
    let missing: Vec<&String> = truth_options.difference(&ours).collect();
    let extra: Vec<&String> = ours
        .difference(&truth_options)
        .filter(|p| !truth_shims.contains(*p))
        .collect();
    let shims_found = truth_shims
        .iter()
        .filter(|p| our_shims.contains(*p) || ours.contains(*p))
        .count();
    eprintln!(
        "ground truth: {} options, {} shims; extracted {} options ({} matching, {} extra), {} shims ({} matching)",
        truth_options.len(),
        truth_shims.len(),
        ours.len(),
        found,
        extra.len(),
        our_shims.len(),
        shims_found
    );
    eprintln!(
        "missing (first 40): {:#?}",
        &missing[..missing.len().min(40)]
    );
    eprintln!("extra (first 20): {:#?}", &extra[..extra.len().min(20)]);
    assert!(
        truth_options.len() > 5000,
        "ground truth looks wrong: {}",
        truth_options.len()
    );
    assert!(
        found * 100 >= truth_options.len() * 98,
        "found {found} of {}",
        truth_options.len()
    );
    assert!(
        shims_found * 100 >= truth_shims.len() * 95,
        "shims: {shims_found} of {}",
        truth_shims.len()
    );
}
