//! `strata instantiate` on the store conformance derivations: the printed `.drv` paths
//! equal Nix 2.8's and every written `.drv` file is byte-identical to Nix's.

use std::process::Command;

use serde_json::Value as Json;

#[test]
fn derivations_instantiate_to_nix_drv_files() {
    let store = strata_tests::shared_dir().join("conformance/store");
    let vectors: Json = serde_json::from_str(
        &std::fs::read_to_string(store.join("drv-vectors.json")).expect("vectors"),
    )
    .expect("json");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for v in vectors["vectors"].as_array().expect("vectors list") {
        let file = v["file"].as_str().expect("file");
        let want: Vec<&str> = v["nix_instantiate"]["stdout"]
            .as_array()
            .expect("stdout")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        let out = Command::new(strata_tests::strata_bin())
            .arg("--store-dir")
            .arg(out_dir.path())
            .arg("instantiate")
            .arg(file.rsplit('/').next().expect("name"))
            .current_dir(store.join("derivations"))
            .output()
            .expect("run strata");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = stdout.split_whitespace().collect();
        assert_eq!(
            got,
            want,
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} vectors");
    let drvs = vectors["derivations"].as_object().expect("derivations");
    for path in drvs.keys() {
        let base = path.rsplit('/').next().expect("base name");
        let ours = std::fs::read(out_dir.path().join(base))
            .unwrap_or_else(|_| panic!("{base} was not written"));
        let nix = std::fs::read(store.join("drvs").join(base)).expect("nix drv");
        assert!(ours == nix, "{base} differs from Nix's");
    }
}
