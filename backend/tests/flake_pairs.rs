//! Every real `flake.nix`/`flake.lock` pair in `../shared/conformance/flakes`: the analyzer's
//! model of `flake.nix` agrees with the backend's reading of `flake.lock` (no drift is reported
//! on pairs Nix wrote together), and every input gets a hover, a hint and a goto target.

use std::path::PathBuf;

use expect_test::expect;
use strata_analyzer::flake::{
    flake_diagnostics, flake_hover, flake_inlay_hints, goto_lock_node, lock_diagnostics,
    FlakeModel, LockState,
};
use strata_backend::flake::lock_state;

fn flakes_dir() -> PathBuf {
    std::env::var_os("STRATA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("conformance/flakes")
}

/// `(sample name, flake.nix, flake.lock)` for every pair.
fn pairs() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(flakes_dir().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.push(flakes_dir().join("nix28-generated/root"));
    dirs.sort();
    for dir in dirs {
        let nix = std::fs::read_to_string(dir.join("flake.nix")).unwrap();
        let lock = std::fs::read_to_string(dir.join("flake.lock")).unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, nix, lock));
    }
    assert_eq!(out.len(), 7);
    out
}

fn model(nix: &str) -> FlakeModel {
    let parse = strata_analyzer::syntax::parse(nix);
    assert!(parse.errors().is_empty(), "{:?}", parse.errors());
    FlakeModel::from_root(&parse.root())
}

#[test]
fn pairs_written_together_have_no_drift() {
    for (name, nix, lock_text) in pairs() {
        let lock = lock_state(&lock_text);
        assert!(matches!(lock, LockState::Loaded(_)), "{name}: {lock:?}");
        assert!(lock_diagnostics(&lock).is_empty());
        let diags = flake_diagnostics(&model(&nix), &lock);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
    }
}

#[test]
fn every_declared_input_has_hover_hint_and_goto() {
    let now = 1_800_000_000;
    for (name, nix, lock_text) in pairs() {
        let model = model(&nix);
        let lock = lock_state(&lock_text);
        let info = lock.info().unwrap();
        for input in &model.inputs {
            let offset = input.range().start();
            let hover = flake_hover(&model, &lock, offset, now)
                .unwrap_or_else(|| panic!("{name}: no hover on {}", input.name));
            let locked = info.input(&input.name).unwrap();
            let l = locked.locked.as_ref().unwrap();
            if let Some(rev) = l.rev() {
                assert!(hover.markdown.contains(rev), "{name}: {}", hover.markdown);
            }
            assert!(
                hover.markdown.contains(l.nar_hash().unwrap()),
                "{name}: {}",
                hover.markdown
            );
            let target = goto_lock_node(&model, &lock, offset).unwrap().target;
            let node = locked.node.as_deref().unwrap();
            assert!(lock_text[target].starts_with(&format!("\"{node}\": {{")));
        }
        let with_url = model.inputs.iter().filter(|i| i.url.is_some()).count();
        assert_eq!(flake_inlay_hints(&model, &lock).len(), with_url, "{name}");
    }
}

#[test]
fn models_of_the_real_flakes() {
    let mut out = String::new();
    for (name, nix, _) in pairs() {
        let m = model(&nix);
        out.push_str(&format!("{name}:"));
        if let Some(d) = &m.description {
            out.push_str(&format!(" {:?}", d.value));
        }
        out.push('\n');
        for i in &m.inputs {
            out.push_str(&format!("  input {} x{}", i.name, i.name_ranges.len()));
            if let Some(u) = &i.url {
                out.push_str(&format!(" url={}", u.value));
            }
            if let Some((f, _)) = i.flake {
                out.push_str(&format!(" flake={f}"));
            }
            for s in &i.sub_inputs {
                let f = s.follows.as_ref().map_or("?", |f| f.value.as_str());
                out.push_str(&format!(" {}->{:?}", s.name.name, f));
            }
            out.push('\n');
        }
        if let Some(o) = &m.outputs {
            let formals: Vec<&str> = o.formals.iter().map(|f| f.name.as_str()).collect();
            out.push_str(&format!(
                "  outputs param={:?} at={:?} formals={formals:?} ellipsis={} results={}\n",
                o.param.as_ref().map(|p| &p.name),
                o.at_name.as_ref().map(|p| &p.name),
                o.ellipsis,
                o.result_sets.len()
            ));
        }
        let mut uses: Vec<&str> = m.input_uses.iter().map(|u| u.name.as_str()).collect();
        uses.dedup();
        if !uses.is_empty() {
            out.push_str(&format!("  uses {uses:?}\n"));
        }
    }
    expect![[r#"
        root: "root flake locked by Nix 2.8.0 (offline) to show path, git and follows entries"
          input libflake x2 url=path:/tmp/flkgen/libflake data->"data"
          input gitdep x1 url=git+file:///tmp/flkgen/gitdep?ref=main
          input data x1 url=path:/tmp/flkgen/data flake=false
          outputs param=None at=None formals=["self", "libflake", "gitdep", "data"] ellipsis=false results=1
        home-manager: "Home Manager for Nix"
          input nixpkgs x1 url=github:NixOS/nixpkgs/nixpkgs-unstable
          outputs param=None at=None formals=["self", "nixpkgs"] ellipsis=true results=2
        nil-nixpkgs_revs:
          input nixos-unstable x1 url=github:NixOS/nixpkgs/nixos-unstable
          input nixos-22-11 x1 url=github:NixOS/nixpkgs/nixos-22.11
          input nixos-23-05 x1 url=github:nixos/nixpkgs/nixos-23.05
          outputs param=Some("inputs") at=None formals=[] ellipsis=false results=1
        nil-test_flake:
          input nixpkgs x1 url=github:NixOS/nixpkgs/5ed481943351e9fd354aeb557679624224de38d5
          input nix x1 url=github:NixOS/nix/2.13.3 flake=false
          input non-flake-file x1 url=https://raw.githubusercontent.com/NixOS/nix/7304806241fe4f72c5f33a5a929d675c8342fabd/flake.nix flake=false
          outputs param=None at=None formals=["nixpkgs"] ellipsis=true results=1
        nixd-example: "A simple flake for NixOS and Home Manager using flake-parts"
          input nixpkgs x1 url=github:NixOS/nixpkgs/nixos-unstable
          input home-manager x1 url=github:nix-community/home-manager nixpkgs->"nixpkgs"
          input flake-parts x1 url=github:hercules-ci/flake-parts
          outputs param=None at=Some("inputs") formals=["self", "flake-parts"] ellipsis=true results=0
          uses ["nixpkgs", "home-manager", "nixpkgs"]
        nixos-nix: "The purely functional package manager"
          input nixpkgs x1 url=https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz
          input nixpkgs-regression x1 url=github:NixOS/nixpkgs/215d4d0fd80ca5163643b03a33fde804a29cc1e2
          input nixpkgs-23-11 x1 url=github:NixOS/nixpkgs/a62e6edd6d5e1fa0329b8653c801147986f8d446
          input flake-compat x1 url=github:NixOS/flake-compat flake=false
          input flake-parts x2 url=github:hercules-ci/flake-parts nixpkgs-lib->"nixpkgs"
          input git-hooks-nix x3 url=github:cachix/git-hooks.nix nixpkgs->"nixpkgs" flake-compat->""
          outputs param=None at=Some("inputs") formals=["self", "nixpkgs", "nixpkgs-regression"] ellipsis=true results=1
          uses ["flake-parts"]
        rnix-parser: "Rust-based parser for nix files"
          input utils x1 url=github:numtide/flake-utils
          input nixpkgs x1 url=github:NixOS/nixpkgs/nixos-unstable
          input import-cargo x1 url=github:edolstra/import-cargo
          input fenix x1 url=github:nix-community/fenix nixpkgs->"nixpkgs"
          outputs param=None at=None formals=["self", "nixpkgs", "utils", "import-cargo", "fenix"] ellipsis=false results=1
    "#]]
    .assert_eq(&out);
}
