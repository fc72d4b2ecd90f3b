//! Every vector in `../shared/conformance/store` (made with Nix 2.8) reproduced byte for byte:
//! NAR bytes and hashes, store paths, `.drv` text, derivation and output paths, JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_backend::store::fsutil::copy_tree;
use strata_backend::store::nar::{self, UnpackOptions};
use strata_backend::store::references::scan_references;
use strata_backend::store::{
    Derivation, DerivationError, FileIngestionMethod, Hash, HashAlgo, StoreDir, StorePath,
};

fn store_vectors() -> PathBuf {
    let shared = std::env::var_os("STRATA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("conformance/store");
    assert!(
        dir.is_dir(),
        "{} is missing: set STRATA_SHARED to the shared data folder",
        dir.display()
    );
    dir
}

fn json(name: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(store_vectors().join(name)).unwrap()).unwrap()
}

/// Copies a fixture into `tmp`, restoring what a plain checkout cannot carry: empty
/// directories (listed in the vector) and symlinks (the shared copy has them as regular
/// files holding the target text; the vectors and descriptions say which are links).
fn materialise(vector: &Value, tmp: &Path) -> PathBuf {
    let store = store_vectors();
    let name = vector["name"].as_str().unwrap();
    let dest = tmp.join(name);
    let src = store.join(vector["path"].as_str().unwrap());
    if vector["type"] == "symlink" {
        std::os::unix::fs::symlink(vector["target"].as_str().unwrap(), &dest).unwrap();
        return dest;
    }
    if src.exists() {
        copy_tree(&src, &dest).unwrap();
        make_writable(&dest);
    }
    for d in vector["create_empty_dirs"].as_array().into_iter().flatten() {
        let rel = Path::new(d.as_str().unwrap()).strip_prefix(vector["path"].as_str().unwrap());
        fs::create_dir_all(dest.join(rel.unwrap())).unwrap();
    }
    if name == "nested-dir" {
        for link in ["link-to-lib", "bin/readme-link"] {
            let p = dest.join(link);
            if p.symlink_metadata().unwrap().file_type().is_file() {
                let target = fs::read_to_string(&p).unwrap();
                fs::remove_file(&p).unwrap();
                std::os::unix::fs::symlink(target, &p).unwrap();
            }
        }
    }
    dest
}

fn make_writable(p: &Path) {
    let meta = p.symlink_metadata().unwrap();
    if meta.is_dir() {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
        for e in fs::read_dir(p).unwrap() {
            make_writable(&e.unwrap().path());
        }
    }
}

#[test]
fn nar_vectors() {
    let vectors = json("nar-vectors.json");
    let tmp = tempfile::tempdir().unwrap();
    let dir = StoreDir::nix();
    let mut checked = 0;
    for v in vectors.as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let path = materialise(v, tmp.path());
        let (h, size) = nar::hash_path(&path, HashAlgo::Sha256).unwrap();
        assert_eq!(h.to_base32(), v["nix_hash_sha256_base32"], "{name}");
        assert_eq!(h.to_base16(), v["nix_hash_sha256_base16"], "{name}");
        assert_eq!(h.to_sri(), v["nix_hash_sha256_sri"], "{name}");
        assert_eq!(h.to_base16(), v["nar_sha256_base16"], "{name}");
        assert_eq!(size, v["nar_size"].as_u64().unwrap(), "{name}");
        assert_eq!(
            size,
            v["store_path_add_registered_nar_size"].as_u64().unwrap()
        );
        assert_eq!(
            h.to_string(),
            v["store_path_add_registered_nar_hash"],
            "{name}"
        );

        let source = dir.make_source_path(&h, name).unwrap();
        assert_eq!(dir.display(&source), v["store_path_add"], "{name}");
        assert_eq!(
            v["store_path_add"],
            v["store_path_add_fixed_recursive_sha256"]
        );
        let fixed_r = dir
            .make_fixed_output_path(FileIngestionMethod::Recursive, &h, name, [], false)
            .unwrap();
        assert_eq!(
            dir.display(&fixed_r),
            v["print_fixed_path_recursive_sha256"]
        );

        if v["type"] == "regular" {
            let flat = Hash::sha256(&fs::read(&path).unwrap());
            assert_eq!(flat.to_base32(), v["flat_sha256_base32"], "{name}");
            assert_eq!(flat.to_base16(), v["flat_sha256_base16"], "{name}");
            assert_eq!(flat.to_sri(), v["flat_sha256_sri"], "{name}");
            let p = dir
                .make_fixed_output_path(FileIngestionMethod::Flat, &flat, name, [], false)
                .unwrap();
            assert_eq!(
                dir.display(&p),
                v["store_path_add_fixed_flat_sha256"],
                "{name}"
            );
            assert_eq!(dir.display(&p), v["print_fixed_path_flat_sha256"], "{name}");
        }

        let mut bytes = Vec::new();
        nar::dump_path(&path, &mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, size);
        if let Some(golden) = v["golden_nar"].as_str() {
            let expected = fs::read(store_vectors().join(golden)).unwrap();
            assert!(bytes == expected, "{name}: NAR bytes differ from {golden}");
        }
        // Unpacking our own NAR and dumping it again is the identity.
        let back = tmp.path().join(format!("unpacked-{name}"));
        nar::unpack(&bytes[..], &back, &UnpackOptions::default()).unwrap();
        let mut again = Vec::new();
        nar::dump_path(&back, &mut again).unwrap();
        assert!(again == bytes, "{name}: unpack/dump round trip differs");
        checked += 1;
    }
    assert_eq!(checked, 16);
}

#[test]
fn golden_nars_unpack_and_redump() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["nested-dir", "unicode-names", "executable-script"] {
        let golden = fs::read(store_vectors().join(format!("nar/{name}.nar"))).unwrap();
        let target = tmp.path().join(name);
        nar::unpack(&golden[..], &target, &UnpackOptions::default()).unwrap();
        let mut bytes = Vec::new();
        nar::dump_path(&target, &mut bytes).unwrap();
        assert!(bytes == golden, "{name}");
    }
}

struct DrvVectors {
    all: Value,
    dir: StoreDir,
}

impl DrvVectors {
    fn load() -> DrvVectors {
        DrvVectors {
            all: json("drv-vectors.json"),
            dir: StoreDir::nix(),
        }
    }

    fn derivations(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.all["derivations"].as_object().unwrap().iter()
    }

    fn parse(&self, drv_path: &str) -> Derivation {
        let text = self.all["derivations"][drv_path]["aterm"].as_str().unwrap();
        Derivation::parse(&self.dir, text).unwrap()
    }

    /// `hashDerivationModulo` of an input derivation, recursively through the vectors.
    fn modulo(&self, path: &StorePath) -> Result<Hash, DerivationError> {
        let drv = self.parse(&self.dir.display(path));
        let name = path.name().strip_suffix(".drv").unwrap();
        drv.hash_modulo(&self.dir, name, false, &mut |p| self.modulo(p))
    }
}

#[test]
fn drv_aterm_round_trip_and_paths() {
    let v = DrvVectors::load();
    let mut n = 0;
    for (drv_path, e) in v.derivations() {
        let aterm = e["aterm"].as_str().unwrap();
        let file = fs::read_to_string(store_vectors().join(e["aterm_file"].as_str().unwrap()));
        assert_eq!(file.unwrap(), aterm, "drvs/ file and vector agree");
        let drv = v.parse(drv_path);
        assert_eq!(drv.to_aterm(&v.dir), aterm, "{drv_path}");

        let sp = v.dir.parse_path(drv_path).unwrap();
        let name = sp.name().strip_suffix(".drv").unwrap();
        assert_eq!(drv.drv_path(&v.dir, name).unwrap(), sp);

        let refs: Vec<String> = drv.references().iter().map(|p| v.dir.display(p)).collect();
        assert_eq!(
            serde_json::to_value(refs).unwrap(),
            e["drv_references"],
            "{drv_path}"
        );

        let shown = serde_json::to_value(drv.to_json(&v.dir)).unwrap();
        assert_eq!(shown, e["nix_show_derivation"], "{drv_path}");

        // Output paths computed from scratch, as `derivation` does at evaluation time.
        let mut blank = drv.clone();
        for (out, o) in blank.outputs.iter_mut() {
            o.path = None;
            blank.env.insert(out.clone(), String::new());
        }
        blank
            .fill_output_paths(&v.dir, name, &mut |p| v.modulo(p))
            .unwrap();
        assert_eq!(blank, drv, "{drv_path}: output paths");
        let outs: Vec<String> = drv
            .outputs
            .values()
            .map(|o| v.dir.display(o.path.as_ref().unwrap()))
            .collect();
        let mut expected: Vec<String> =
            serde_json::from_value(e["nix_store_q_outputs"].clone()).unwrap();
        expected.sort();
        let mut outs_sorted = outs.clone();
        outs_sorted.sort();
        assert_eq!(outs_sorted, expected);
        n += 1;
    }
    assert_eq!(n, 29);
}

#[test]
fn instantiate_and_build_stdout() {
    let v = DrvVectors::load();
    for vec in v.all["vectors"].as_array().unwrap() {
        for (i, top) in vec["top_level_drvs"].as_array().unwrap().iter().enumerate() {
            let top = top.as_str().unwrap();
            assert_eq!(vec["nix_instantiate"]["stdout"][i], top);
            let drv = v.parse(top);
            // nix-build prints every output of the top-level derivations.
            // nix-build prints the default output of each top-level derivation.
            let out = v.dir.display(drv.outputs["out"].path.as_ref().unwrap());
            assert_eq!(vec["nix_build"]["stdout"][i], out, "{}", vec["file"]);
        }
    }
}

/// Recreates a tree from the vectors' `contents` listing.
fn build_tree(contents: &Value, at: &Path) {
    match contents["type"].as_str().unwrap() {
        "regular" => {
            fs::write(at, contents["text"].as_str().unwrap()).unwrap();
            let mode = if contents["executable"] == true {
                0o755
            } else {
                0o644
            };
            fs::set_permissions(at, fs::Permissions::from_mode(mode)).unwrap();
        }
        "directory" => {
            fs::create_dir(at).unwrap();
            for (name, c) in contents["entries"].as_object().unwrap() {
                build_tree(c, &at.join(name));
            }
        }
        other => panic!("unexpected type {other}"),
    }
}

#[test]
fn outputs_and_sources_hash_and_reference_scan() {
    let v = DrvVectors::load();
    let tmp = tempfile::tempdir().unwrap();
    let mut all_outputs: BTreeSet<StorePath> = BTreeSet::new();
    let mut all_paths: BTreeSet<StorePath> = BTreeSet::new();
    for (drv_path, e) in v.derivations() {
        all_paths.insert(v.dir.parse_path(drv_path).unwrap());
        for o in e["outputs"].as_object().unwrap().values() {
            all_outputs.insert(v.dir.parse_path(o["path"].as_str().unwrap()).unwrap());
        }
        for (s, info) in e["input_sources"].as_object().unwrap() {
            all_paths.insert(v.dir.parse_path(s).unwrap());
            for r in info["references"].as_array().unwrap() {
                all_paths.insert(v.dir.parse_path(r.as_str().unwrap()).unwrap());
            }
        }
    }
    all_paths.extend(all_outputs.iter().cloned());
    let mut i = 0;
    let mut check = |path: &StorePath, info: &Value| -> Option<(PathBuf, Hash)> {
        let contents = info.get("contents")?;
        i += 1;
        let at = tmp.path().join(format!("t{i}"));
        build_tree(contents, &at);
        let (h, size) = nar::hash_path(&at, HashAlgo::Sha256).unwrap();
        assert_eq!(h.to_string(), info["nar_hash"], "{path}");
        assert_eq!(size, info["nar_size"].as_u64().unwrap(), "{path}");
        let candidates: BTreeSet<StorePath> = all_paths.clone();
        let found = scan_references(&at, &candidates).unwrap();
        let expected: BTreeSet<StorePath> = info["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| v.dir.parse_path(r.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(found, expected, "references of {path}");
        Some((at, h))
    };
    let mut sources = BTreeMap::new();
    for (_, e) in v.derivations() {
        for o in e["outputs"].as_object().unwrap().values() {
            let p = v.dir.parse_path(o["path"].as_str().unwrap()).unwrap();
            check(&p, o);
        }
        for (s, info) in e["input_sources"].as_object().unwrap() {
            let p = v.dir.parse_path(s).unwrap();
            if let Some((at, h)) = check(&p, info) {
                sources.insert(p, (at, h, info.clone()));
            }
        }
    }
    // Each input source is a `toFile` text path, a `nix-store --add` source path or a flat
    // fixed-output path (`builtins.path` with sha256): one of them must give its exact path.
    assert!(sources.len() >= 6);
    for (p, (at, nar_hash, info)) in &sources {
        let refs: BTreeSet<StorePath> = info["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| v.dir.parse_path(r.as_str().unwrap()).unwrap())
            .collect();
        let mut candidates = vec![v.dir.make_source_path(nar_hash, p.name()).unwrap()];
        if at.is_file() {
            let bytes = fs::read(at).unwrap();
            candidates.push(v.dir.compute_text_path(p.name(), &bytes, &refs).unwrap());
            let flat = Hash::sha256(&bytes);
            candidates.push(
                v.dir
                    .make_fixed_output_path(FileIngestionMethod::Flat, &flat, p.name(), [], false)
                    .unwrap(),
            );
        }
        assert!(candidates.contains(p), "no computation gives {p}");
    }
}
