//! The evaluated source over the shared home-manager corpus, compared with Nix's own
//! evaluation of the same tree and with the static extractor; and the pieces one by one.

use std::collections::BTreeSet;

use expect_test::expect;
use strata_analyzer::options::{extract, ExtractConfig};

use super::*;
use crate::options_source::FsSource;

fn shared() -> PathBuf {
    match std::env::var_os("STRATA_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn corpus(rel: &str) -> PathBuf {
    std::fs::canonicalize(shared().join(rel)).unwrap()
}

/// Every (path, type) the module system declares in the corpus, evaluated by Nix 2.8
/// (`scripts/options-ground-truth`), shims left out.
fn nix_ground_truth() -> BTreeSet<(String, Option<String>)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("nix-instantiate")
        .env("NIX_REMOTE", "local")
        .args(["--eval", "--strict", "--json"])
        .arg(repo.join("scripts/options-ground-truth/ground-truth.nix"))
        .args(["--arg", "hm"])
        .arg(corpus("corpus/home-manager"))
        .args(["--arg", "nixpkgsLib"])
        .arg(corpus("corpus/nixpkgs-lib/lib"))
        .output()
        .expect("nix-instantiate (Nix 2.8) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["shim"].is_null())
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["type"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn corpus_evaluates_like_nix_and_merges_with_static() {
    let hm = corpus("corpus/home-manager");
    let work = tempfile::tempdir().unwrap();
    let (evaluated, stats) =
        evaluate_home_manager(&hm, &corpus("corpus/nixpkgs-lib/lib"), work.path()).unwrap();

    // Our evaluator lists what Nix lists, with the same types.
    let truth = nix_ground_truth();
    let ours: BTreeSet<(String, Option<String>)> = evaluated
        .options
        .iter()
        .map(|o| (o.path.to_string(), Some(o.ty.description.clone())))
        .collect();
    let truth_paths: BTreeSet<&String> = truth.iter().map(|(p, _)| p).collect();
    let our_paths: BTreeSet<&String> = ours.iter().map(|(p, _)| p).collect();
    assert_eq!(
        our_paths.symmetric_difference(&truth_paths).count(),
        0,
        "paths differ from Nix's: {:?}",
        our_paths
            .symmetric_difference(&truth_paths)
            .take(10)
            .collect::<Vec<_>>()
    );
    let type_diffs: Vec<_> = ours.difference(&truth).collect();
    eprintln!("types that differ from Nix's: {type_diffs:?}");
    assert!(type_diffs.is_empty(), "{type_diffs:?}");
    assert_eq!(stats.listed, evaluated.options.len() + stats.shims);

    // Every option has its declaration in a home-manager file, most at the name.
    let positioned = evaluated
        .options
        .iter()
        .filter(|o| o.declaration.as_ref().is_some_and(|d| !d.range.is_empty()))
        .count();
    assert!(evaluated.options.iter().all(|o| o
        .declaration
        .as_ref()
        .is_some_and(|d| d.file.starts_with("modules/"))));
    let git = evaluated
        .declared(&OptionPath::parse("programs.git.enable"))
        .unwrap();
    let decl = git.declaration.as_ref().unwrap();
    let text = std::fs::read_to_string(hm.join(&decl.file)).unwrap();
    assert_eq!(&text[decl.range], "enable");
    assert_eq!(git.ty.shape, TypeShape::Bool);
    assert_eq!(git.default.as_deref(), Some("false"));
    assert!(git.description.is_some());

    // Overlap with the static extractor, and the merge.
    let (static_schema, _) = extract(
        &FsSource,
        &ExtractConfig::home_manager(&hm.to_string_lossy()),
    );
    let static_paths: BTreeSet<String> = static_schema
        .options
        .iter()
        .map(|o| o.path.to_string())
        .collect();
    let eval_paths: BTreeSet<String> = our_paths.into_iter().cloned().collect();
    let both = static_paths.intersection(&eval_paths).count();
    let only_eval: Vec<_> = eval_paths.difference(&static_paths).collect();
    let only_static = static_paths.difference(&eval_paths).count();
    let (merged, merge_stats) = merge(&static_schema, &evaluated);
    eprintln!(
        "evaluated {} options ({} shims left out, {} fields failed, {} with a position); \
         static {}; both {both}; only evaluated {} {:?}; only static {only_static}; \
         merge: {merge_stats:?}; merged {}",
        evaluated.options.len(),
        stats.shims,
        stats.failed_fields,
        positioned,
        static_paths.len(),
        only_eval.len(),
        &only_eval[..only_eval.len().min(10)],
        merged.options.len(),
    );
    assert!(both * 100 >= eval_paths.len() * 98, "overlap {both}");
    assert_eq!(merge_stats.added, only_eval.len());
    assert_eq!(merged.options.len(), static_paths.len() + only_eval.len());
    for p in &only_eval {
        assert!(merged.declared(&OptionPath::parse(p)).is_some(), "{p}");
    }
    assert!(
        positioned * 100 >= evaluated.options.len() * 95,
        "{positioned}"
    );
}

#[test]
fn shapes_follow_the_type_structure() {
    let shape = |j: &str| format!("{:?}", shape_from(&serde_json::from_str(j).unwrap()));
    expect![[r#"NullOr(List(Str))"#]].assert_eq(&shape(
        r#"{"name":"nullOr","nested":{"elemType":{"name":"listOf","nested":{"elemType":{"name":"str","nested":{}}}}}}"#,
    ));
    expect![[r#"OneOf([Bool, Int, Enum(["\"a\""])])"#]].assert_eq(&shape(
        r#"{"name":"either","nested":{"left":{"name":"either","nested":{"left":{"name":"bool"},"right":{"name":"unsignedInt16"}}},"right":{"name":"enum","values":["\"a\""]}}}"#,
    ));
    expect![[r#"AttrsOf(Any)"#]].assert_eq(&shape(
        r#"{"name":"lazyAttrsOf","nested":{"elemType":{"name":"anything"}}}"#,
    ));
    expect![[r#"Number"#]].assert_eq(&shape(r#"{"name":"numberBetween"}"#));
}

#[test]
fn name_ranges_cover_plain_and_quoted_names() {
    let text = "{\n  options.foo = 1;\n  \"a.b\" = 2;\n}\n";
    let r = name_range_at(text, 2, 3).unwrap();
    assert_eq!(&text[r], "options.foo");
    let r = name_range_at(text, 3, 3).unwrap();
    assert_eq!(&text[r], "\"a.b\"");
    assert_eq!(name_range_at(text, 9, 1), None);
}

fn decl(path: &str, ty: OptionType, description: Option<&str>) -> OptionDecl {
    OptionDecl {
        path: OptionPath::parse(path),
        ty,
        default: None,
        example: None,
        description: description.map(str::to_owned),
        read_only: false,
        hidden: false,
        internal: false,
        declaration: None,
    }
}

#[test]
fn merge_fills_gaps_and_keeps_static_data() {
    let bool_ty = OptionType {
        description: "boolean".into(),
        shape: TypeShape::Bool,
    };
    let str_ty = OptionType {
        description: "string".into(),
        shape: TypeShape::Str,
    };
    let static_schema = Schema::new(
        "/hm".into(),
        vec![
            decl("a.enable", bool_ty.clone(), Some("static words")),
            decl("a.name", OptionType::unknown(), None),
        ],
        Vec::new(),
    );
    let mut evaluated_name = decl("a.name", str_ty.clone(), Some("evaluated words"));
    evaluated_name.default = Some("\"x\"".into());
    let evaluated = Schema::new(
        "/hm".into(),
        vec![
            decl("a.enable", str_ty.clone(), Some("other words")),
            evaluated_name,
            decl("b.only", bool_ty.clone(), None),
        ],
        Vec::new(),
    );
    let (merged, stats) = merge(&static_schema, &evaluated);
    assert_eq!(
        stats,
        MergeStats {
            added: 1,
            types: 1,
            fields: 2
        }
    );
    let enable = merged.declared(&OptionPath::parse("a.enable")).unwrap();
    assert_eq!(enable.ty, bool_ty);
    assert_eq!(enable.description.as_deref(), Some("static words"));
    let name = merged.declared(&OptionPath::parse("a.name")).unwrap();
    assert_eq!(name.ty, str_ty);
    assert_eq!(name.default.as_deref(), Some("\"x\""));
    assert_eq!(name.description.as_deref(), Some("evaluated words"));
    assert!(merged.option(&["b".into(), "only".into()]).is_some());
}
