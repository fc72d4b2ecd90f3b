//! `lib.evalModules` from nixpkgs' lib, evaluated by `strata eval` and checked against
//! the installed Nix (2.8): same output, or the same error message.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lib_dir() -> PathBuf {
    strata_tests::shared_dir().join("corpus/nixpkgs-lib/lib")
}

/// Wraps a module-system expression: `lib` and `eval` (evalModules over `modules`) in scope.
fn program(body: &str) -> String {
    format!(
        "let lib = import {lib}; inherit (lib) types mkOption mkIf mkMerge mkDefault mkForce mkOverride mkOrder mkBefore mkAfter; eval = args: lib.evalModules args; in {body}",
        lib = lib_dir().display()
    )
}

fn run(cmd: &mut Command, expr: &str) -> Output {
    cmd.args(["--eval", "--strict", "-E", expr])
        .env("NIX_REMOTE", "local")
        .output()
        .expect("spawn")
}

fn strata(expr: &str) -> Output {
    let mut c = Command::new(strata_tests::strata_bin());
    c.arg("eval");
    let mut args: Vec<String> = Vec::new();
    args.extend(["--strict", "-E", expr].map(String::from));
    c.args(&args).output().expect("spawn strata")
}

fn nix(expr: &str) -> Output {
    run(&mut Command::new("nix-instantiate"), expr)
}

/// The message of Nix 2.8's final error, whitespace-collapsed.
fn nix_error_message(stderr: &str) -> String {
    let start = stderr.rfind("error: ").map(|i| i + 7).unwrap_or(0);
    let msg = &stderr[start..];
    let end = msg.find("\n\n       at ").unwrap_or(msg.len());
    let msg = msg[..end].replace(
        "(use '--show-trace' to show detailed location information)",
        "",
    );
    collapse(&msg)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Evaluates `body` with both and checks they agree.
fn check(body: &str) {
    let expr = program(body);
    let n = nix(&expr);
    let s = strata(&expr);
    let n_err = String::from_utf8_lossy(&n.stderr);
    let s_err = String::from_utf8_lossy(&s.stderr);
    if n.status.success() {
        assert!(
            s.status.success(),
            "nix succeeded, strata failed:\n{s_err}\n--- for: {body}"
        );
        assert_eq!(
            String::from_utf8_lossy(&s.stdout),
            String::from_utf8_lossy(&n.stdout),
            "outputs differ for: {body}"
        );
    } else {
        assert!(
            !s.status.success(),
            "nix failed ({n_err}), strata printed {}",
            String::from_utf8_lossy(&s.stdout)
        );
        let want = nix_error_message(&n_err);
        assert!(
            collapse(&s_err).contains(&want),
            "error differs for: {body}\n  nix:    {want}\n  strata: {}",
            collapse(&s_err)
        );
    }
}

#[test]
fn options_with_basic_types_and_defaults() {
    check(
        r#"(eval { modules = [
            { options.name = mkOption { type = types.str; default = "x"; };
              options.port = mkOption { type = types.int; default = 80; };
              options.on = mkOption { type = types.bool; default = false; }; }
            { port = 8080; on = true; }
          ]; }).config"#,
    );
}

#[test]
fn composite_types_merge_definitions() {
    check(
        r#"(eval { modules = [
            { options.l = mkOption { type = types.listOf types.int; };
              options.a = mkOption { type = types.attrsOf types.str; };
              options.n = mkOption { type = types.nullOr types.int; default = null; };
              options.e = mkOption { type = types.either types.int types.str; };
              options.k = mkOption { type = types.enum [ "a" "b" ]; }; }
            { l = [ 1 2 ]; a.x = "1"; e = 3; k = "a"; }
            { l = [ 3 ]; a.y = "2"; }
          ]; }).config"#,
    );
}

#[test]
fn submodules_and_attrs_of_submodules() {
    check(
        r#"(eval { modules = [
            { options.users = mkOption { type = types.attrsOf (types.submodule ({ name, ... }: {
                options.home = mkOption { type = types.str; default = "/home/${name}"; };
                options.uid = mkOption { type = types.int; };
              })); }; }
            { users.alice.uid = 1000; users.bob = { uid = 1001; home = "/srv/bob"; }; }
          ]; }).config"#,
    );
}

#[test]
fn mk_if_mk_merge_and_priorities() {
    check(
        r#"(eval { modules = [
            ({ config, ... }: { options.a = mkOption { type = types.int; };
              options.b = mkOption { type = types.int; default = 1; };
              options.c = mkOption { type = types.str; };
              options.d = mkOption { type = types.listOf types.str; default = [ ]; };
              config = mkMerge [ { a = mkDefault 1; } (mkIf (config.a > 1) { c = "big"; }) (mkIf (config.a <= 1) { c = "small"; }) ]; })
            { a = 5; b = mkForce 7; }
            { b = mkOverride 10 9; d = mkBefore [ "first" ]; }
            { d = [ "middle" ]; }
            { d = mkAfter [ "last" ]; }
            { d = mkOrder 1600 [ "very last" ]; }
          ]; }).config"#,
    );
}

#[test]
fn imports_disabled_modules_and_special_args() {
    check(
        r#"let
            m1 = { options.x = mkOption { type = types.int; default = 1; }; };
            m2 = { greeting, ... }: { options.y = mkOption { type = types.str; default = greeting; }; };
            m3 = { key = "m3"; config.x = 3; };
          in (eval { specialArgs.greeting = "hi"; modules = [
            { imports = [ m1 m2 m3 ]; disabledModules = [ m3 ]; }
            ({ config, ... }: { _module.args.twice = config.x * 2; })
            ({ twice, ... }: { options.z = mkOption { default = twice; }; })
          ]; }).config"#,
    );
}

#[test]
fn type_error_message() {
    check(
        r#"(eval { modules = [
            { options.port = mkOption { type = types.int; }; }
            { port = "eighty"; }
          ]; }).config.port"#,
    );
}

#[test]
fn conflicting_definitions_message() {
    check(
        r#"(eval { modules = [
            { options.name = mkOption { type = types.str; }; }
            { name = "a"; }
            { name = "b"; }
          ]; }).config.name"#,
    );
}

#[test]
fn undeclared_option_message() {
    check(
        r#"(eval { modules = [
            { options.name = mkOption { type = types.str; default = ""; }; }
            { nmae = "a"; }
          ]; }).config"#,
    );
}

#[test]
fn option_used_without_value_message() {
    check(
        r#"(eval { modules = [ { options.name = mkOption { type = types.str; }; } ]; }).config.name"#,
    );
}
