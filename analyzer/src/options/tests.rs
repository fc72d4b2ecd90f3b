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

/// One option as the module system sees it.
struct Truth {
    path: String,
    shim: bool,
    ty: Option<String>,
}

/// Runs `scripts/options-ground-truth/ground-truth.nix` with Nix: every option path the
/// module system declares in home-manager files, its type, and whether it is a
/// rename/removal shim.
fn ground_truth() -> Vec<Truth> {
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
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|r| Truth {
            path: r["path"].as_str().unwrap().to_owned(),
            shim: !r["shim"].is_null(),
            ty: r["type"].as_str().map(str::to_owned),
        })
        .collect()
}

#[test]
fn corpus_count_matches_ground_truth() {
    let schema = corpus_schema();
    let truth = ground_truth();
    let truth_options: BTreeSet<String> = truth
        .iter()
        .filter(|t| !t.shim)
        .map(|t| t.path.clone())
        .collect();
    let truth_shims: BTreeSet<String> = truth
        .iter()
        .filter(|t| t.shim)
        .map(|t| t.path.clone())
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
    // Types rendered like the manual: compared where both sides have the option.
    let (mut same_type, mut compared) = (0, 0);
    for t in &truth {
        let (Some(ty), Some(o)) = (&t.ty, schema.declared(&OptionPath::parse(&t.path))) else {
            continue;
        };
        compared += 1;
        if &o.ty.description == ty {
            same_type += 1;
        }
    }
    eprintln!("types: {same_type} of {compared} rendered as the module system does");
    assert!(
        same_type * 100 >= compared * 97,
        "types: {same_type} of {compared}"
    );
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

#[test]
#[ignore = "debugging aid: writes the extracted schema to $STRATA_DUMP"]
fn dump_corpus_schema() {
    let schema = corpus_schema();
    let mut out = String::new();
    for o in &schema.options {
        out.push_str(&format!(
            "{}\t{}\n",
            o.path,
            o.ty.description.replace('\n', "\\n")
        ));
    }
    std::fs::write(std::env::var("STRATA_DUMP").unwrap(), out).unwrap();
}

#[test]
fn option_paths_round_trip_through_text() {
    for text in [
        "programs.git.enable",
        "home.file.<name>.source",
        "programs.git.includes.*.path",
        "programs.ssh.settings.\"*\".AddKeysToAgent",
        "xdg.configFile.\"a.b\".text",
    ] {
        let p = OptionPath::parse(text);
        assert_eq!(p.to_string(), text);
    }
    assert_eq!(
        OptionPath::parse("a.\"*\".*").0,
        vec![
            Segment::Name("a".into()),
            Segment::Name("*".into()),
            Segment::AnyIndex
        ]
    );
}
