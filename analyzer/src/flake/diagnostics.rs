//! Lock drift and declaration mistakes in `flake.nix`, and the lock's own readability problem
//! on `flake.lock`.

use rowan::{TextRange, TextSize};

use super::flake_ref::{FlakeRef, SourceKind};
use super::lock_info::{LockInfo, LockState, LockedInputInfo, SubInputTarget};
use super::model::{FlakeModel, InputDecl};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Nix will refuse the flake as it is.
    Error,
    /// The lock and `flake.nix` disagree, or something is likely a mistake.
    Warning,
}

/// One finding, with a stable code users can silence (`diagnostics.ignored`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlakeDiagnostic {
    /// Where (in `flake.nix`, or in `flake.lock` for [`lock_diagnostics`]).
    pub range: TextRange,
    /// How bad.
    pub severity: Severity,
    /// A stable identifier, e.g. `flake-input-not-locked`.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// An input declared in `flake.nix` has no entry in `flake.lock`.
pub const INPUT_NOT_LOCKED: &str = "flake-input-not-locked";
/// `flake.lock` pins an input `flake.nix` does not declare.
pub const LOCK_ENTRY_UNUSED: &str = "flake-lock-unused";
/// The declaration changed since the lock was written (url, `flake`, `follows`).
pub const LOCK_OUTDATED: &str = "flake-lock-outdated";
/// `follows` names an input that does not exist.
pub const FOLLOWS_MISSING: &str = "flake-follows-missing";
/// An `outputs` formal that is neither `self` nor a declared input.
pub const UNKNOWN_OUTPUTS_PARAM: &str = "flake-unknown-outputs-param";
/// A declared input the `outputs` pattern cannot receive (no formal, no `...`).
pub const INPUT_NOT_A_PARAM: &str = "flake-input-not-a-param";
/// A `url` that is not a flake reference.
pub const INVALID_URL: &str = "flake-invalid-url";
/// `flake.lock` cannot be read.
pub const LOCK_INVALID: &str = "flake-lock-invalid";
/// A `path` input's tree no longer has the locked `narHash`.
pub const PATH_CHANGED: &str = "flake-path-changed";

/// The findings on `flake.lock` itself: whether it can be read at all.
pub fn lock_diagnostics(lock: &LockState) -> Vec<FlakeDiagnostic> {
    match lock {
        LockState::Invalid(problem) => vec![FlakeDiagnostic {
            range: problem.range,
            severity: Severity::Error,
            code: LOCK_INVALID,
            message: format!("flake.lock cannot be read: {}", problem.message),
        }],
        _ => Vec::new(),
    }
}

/// The findings on `flake.nix`: declaration mistakes, and drift against the lock when it was
/// read.
pub fn flake_diagnostics(model: &FlakeModel, lock: &LockState) -> Vec<FlakeDiagnostic> {
    let mut out = Vec::new();
    check_urls(model, &mut out);
    check_follows(model, lock.info(), &mut out);
    check_outputs(model, &mut out);
    if let Some(info) = lock.info() {
        check_lock(model, info, &mut out);
    }
    out.sort_by_key(|d| (d.range.start(), d.code));
    out
}

fn push(
    out: &mut Vec<FlakeDiagnostic>,
    range: TextRange,
    severity: Severity,
    code: &'static str,
    message: String,
) {
    out.push(FlakeDiagnostic {
        range,
        severity,
        code,
        message,
    });
}

fn check_urls(model: &FlakeModel, out: &mut Vec<FlakeDiagnostic>) {
    for input in &model.inputs {
        if let (Some(url), Some(Err(e))) = (&input.url, input.flake_ref()) {
            push(out, url.range, Severity::Error, INVALID_URL, e.to_string());
        }
    }
}

/// Whether `name` is an input of this flake: declared, or an `outputs` formal (Nix infers
/// those as registry inputs).
fn is_known_input(model: &FlakeModel, name: &str) -> bool {
    model.input(name).is_some()
        || model
            .outputs
            .iter()
            .flat_map(|o| o.formals.iter())
            .any(|f| f.name == name && name != "self")
}

fn check_follows(model: &FlakeModel, lock: Option<&LockInfo>, out: &mut Vec<FlakeDiagnostic>) {
    let follows = model.inputs.iter().flat_map(|i| {
        i.follows
            .iter()
            .chain(i.sub_inputs.iter().filter_map(|s| s.follows.as_ref()))
    });
    for f in follows {
        if f.value.is_empty() {
            continue; // the root flake itself
        }
        let path: Vec<&str> = f.value.split('/').collect();
        let missing = if !is_known_input(model, path[0]) {
            Some(format!(
                "`follows = \"{}\"` names no input of this flake: declare `inputs.{}` or fix the name",
                f.value, path[0]
            ))
        } else if let (Some(lock), [first, second, ..]) = (lock, path.as_slice()) {
            // A deeper path can only be checked against what the lock knows.
            match lock.input(first) {
                Some(l) if !l.inputs.iter().any(|s| s.name == *second) => Some(format!(
                    "`follows = \"{}\"`: input `{first}` has no input `{second}` in flake.lock",
                    f.value
                )),
                _ => None,
            }
        } else {
            None
        };
        if let Some(message) = missing {
            push(out, f.range, Severity::Error, FOLLOWS_MISSING, message);
        }
    }
}

fn check_outputs(model: &FlakeModel, out: &mut Vec<FlakeDiagnostic>) {
    let Some(outputs) = &model.outputs else {
        return;
    };
    if outputs.pattern_range.is_none() {
        return; // `outputs = inputs: …` receives everything
    }
    if !outputs.ellipsis {
        for formal in &outputs.formals {
            if formal.name != "self" && model.input(&formal.name).is_none() {
                push(
                    out,
                    formal.range,
                    Severity::Warning,
                    UNKNOWN_OUTPUTS_PARAM,
                    format!(
                        "`{}` is neither `self` nor a declared input (Nix would fetch `flake:{}` from the flake registry): declare `inputs.{}.url`",
                        formal.name, formal.name, formal.name
                    ),
                );
            }
        }
        for input in &model.inputs {
            if !outputs.formals.iter().any(|f| f.name == input.name) {
                push(
                    out,
                    input.range(),
                    Severity::Error,
                    INPUT_NOT_A_PARAM,
                    format!(
                        "input `{}` is passed to `outputs`, whose pattern has neither `{}` nor `...`: add one of them",
                        input.name, input.name
                    ),
                );
            }
        }
    }
}

fn check_lock(model: &FlakeModel, lock: &LockInfo, out: &mut Vec<FlakeDiagnostic>) {
    for input in &model.inputs {
        let Some(locked) = lock.input(&input.name) else {
            push(
                out,
                input.range(),
                Severity::Warning,
                INPUT_NOT_LOCKED,
                format!(
                    "flake.lock has no entry for input `{}`: run `nix flake lock`",
                    input.name
                ),
            );
            continue;
        };
        check_input_drift(model, input, locked, out);
        if locked.path_matches == Some(false) {
            let range = input.url.as_ref().map_or(input.range(), |u| u.range);
            push(
                out,
                range,
                Severity::Warning,
                PATH_CHANGED,
                format!(
                    "the tree of path input `{}` changed since it was locked (its NAR hash is no longer the locked narHash): run `nix flake lock`",
                    input.name
                ),
            );
        }
    }
    let anchor = model
        .inputs_key_ranges
        .first()
        .copied()
        .or(model.top_range.map(|r| TextRange::empty(r.start())))
        .unwrap_or_else(|| TextRange::empty(TextSize::from(0)));
    for locked in &lock.inputs {
        if !is_known_input(model, &locked.name) {
            push(
                out,
                anchor,
                Severity::Warning,
                LOCK_ENTRY_UNUSED,
                format!(
                    "flake.lock pins input `{}`, which flake.nix does not declare: run `nix flake lock` to drop it",
                    locked.name
                ),
            );
        }
    }
}

fn check_input_drift(
    model: &FlakeModel,
    input: &InputDecl,
    locked: &LockedInputInfo,
    out: &mut Vec<FlakeDiagnostic>,
) {
    let relock = "run `nix flake lock`";
    // `follows` on the input itself.
    let declared_follows: Option<Vec<String>> = input.follows.as_ref().map(|f| {
        if f.value.is_empty() {
            Vec::new()
        } else {
            f.value.split('/').map(str::to_owned).collect()
        }
    });
    if declared_follows != locked.follows {
        let range = input.follows.as_ref().map_or(input.range(), |f| f.range);
        let message = match (&declared_follows, &locked.follows) {
            (Some(d), _) => format!(
                "input `{}` follows `{}` but flake.lock has it {}: {relock}",
                input.name,
                d.join("/"),
                describe_lock_follows(&locked.follows)
            ),
            (None, Some(l)) => format!(
                "flake.lock has input `{}` following `{}`, but flake.nix no longer says so: {relock}",
                input.name,
                l.join("/")
            ),
            (None, None) => unreachable!("equal follows are not drift"),
        };
        push(out, range, Severity::Warning, LOCK_OUTDATED, message);
        return;
    }

    // The reference itself.
    if let (Some(Ok(declared)), Some(original)) = (input.flake_ref(), &locked.original) {
        if locked.follows.is_none() && !same_ref(&declared, original) {
            let range = input
                .url
                .as_ref()
                .map(|u| u.range)
                .or(input.attrs.first().map(|a| a.2))
                .unwrap_or(input.range());
            push(
                out,
                range,
                Severity::Warning,
                LOCK_OUTDATED,
                format!(
                    "input `{}` is `{}` but flake.lock locked `{}`: {relock}",
                    input.name,
                    declared.to_url(),
                    original.to_url()
                ),
            );
        }
    }

    // `flake = false`.
    if let Some((is_flake, range)) = input.flake {
        if locked.follows.is_none() && is_flake != locked.flake {
            push(
                out,
                range,
                Severity::Warning,
                LOCK_OUTDATED,
                format!(
                    "input `{}` is declared with `flake = {is_flake}` but flake.lock has `flake = {}`: {relock}",
                    input.name, locked.flake
                ),
            );
        }
    }

    // `inputs.x.inputs.y.follows`.
    for sub in &input.sub_inputs {
        let Some(f) = &sub.follows else { continue };
        let first = f.value.split('/').next().unwrap_or_default();
        if !f.value.is_empty() && !is_known_input(model, first) {
            continue; // already a `follows` naming a missing input
        }
        let want: Vec<String> = if f.value.is_empty() {
            Vec::new()
        } else {
            f.value.split('/').map(str::to_owned).collect()
        };
        let have = locked.inputs.iter().find(|s| s.name == sub.name.name);
        let agrees =
            matches!(have.map(|s| &s.target), Some(SubInputTarget::Follows(p)) if *p == want);
        // An input the locked flake does not have at all is Nix's own warning, not drift.
        if have.is_some() && !agrees {
            push(
                out,
                f.range,
                Severity::Warning,
                LOCK_OUTDATED,
                format!(
                    "`{}.inputs.{}` follows `{}` but flake.lock does not: {relock}",
                    input.name, sub.name.name, f.value
                ),
            );
        }
    }
}

fn describe_lock_follows(f: &Option<Vec<String>>) -> String {
    match f {
        Some(p) => format!("following `{}`", p.join("/")),
        None => "as an input of its own".to_owned(),
    }
}

/// Whether a declared reference is the one the lock recorded as `original`.
fn same_ref(declared: &FlakeRef, original: &FlakeRef) -> bool {
    if declared == original {
        return true;
    }
    // A relative path is written as `./x`; locks may record it made absolute.
    if declared.kind() == Some(SourceKind::Path) && original.kind() == Some(SourceKind::Path) {
        if let (Some(d), Some(o)) = (declared.path(), original.path()) {
            if d.starts_with('.') {
                let rel = d.trim_start_matches("./");
                let mut a = declared.clone();
                let mut b = original.clone();
                a.attrs.remove("path");
                b.attrs.remove("path");
                return a == b && (o == d || o.ends_with(&format!("/{rel}")));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::{github, lock_of, model_of};
    use expect_test::{expect, Expect};

    fn check(nix: &str, lock: LockState, expect: Expect) {
        let (model, text) = model_of(nix);
        let diags = flake_diagnostics(&model, &lock);
        let rendered: Vec<String> = diags
            .iter()
            .map(|d| {
                format!(
                    "{:?} {} `{}`: {}",
                    d.severity, d.code, &text[d.range], d.message
                )
            })
            .collect();
        expect.assert_eq(&rendered.join("\n"));
    }

    const NIXPKGS_REV: &str = "58a1abdbae3217ca6b702f03d3b35125d88a2994";

    fn nixpkgs_lock() -> LockState {
        lock_of(vec![github(
            "nixpkgs",
            "NixOS",
            "nixpkgs",
            Some("nixos-unstable"),
            NIXPKGS_REV,
        )])
    }

    #[test]
    fn consistent_flake_has_no_findings() {
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs }: { };
}"#,
            nixpkgs_lock(),
            expect![""],
        );
    }

    #[test]
    fn declared_but_not_locked() {
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.sops.url = "github:Mic92/sops-nix";
  outputs = { self, ... }: { };
}"#,
            nixpkgs_lock(),
            expect!["Warning flake-input-not-locked `sops`: flake.lock has no entry for input `sops`: run `nix flake lock`"],
        );
    }

    #[test]
    fn locked_but_not_declared() {
        check(
            r#"{
  inputs = { };
  outputs = { self }: { };
}"#,
            nixpkgs_lock(),
            expect!["Warning flake-lock-unused `inputs`: flake.lock pins input `nixpkgs`, which flake.nix does not declare: run `nix flake lock` to drop it"],
        );
    }

    #[test]
    fn url_changed_since_locking() {
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }: { };
}"#,
            nixpkgs_lock(),
            expect![[
                r#"Warning flake-lock-outdated `"github:NixOS/nixpkgs/nixos-24.05"`: input `nixpkgs` is `github:NixOS/nixpkgs/nixos-24.05` but flake.lock locked `github:NixOS/nixpkgs/nixos-unstable`: run `nix flake lock`"#
            ]],
        );
        // Attribute-set form, compared the same way.
        check(
            r#"{
  inputs.nixpkgs = { type = "github"; owner = "NixOS"; repo = "nixpkgs"; ref = "nixos-unstable"; };
  outputs = { self, nixpkgs }: { };
}"#,
            nixpkgs_lock(),
            expect![""],
        );
        check(
            r#"{
  inputs.nixpkgs = { flake = false; url = "github:NixOS/nixpkgs/nixos-unstable"; };
  outputs = { self, nixpkgs }: { };
}"#,
            nixpkgs_lock(),
            expect!["Warning flake-lock-outdated `false`: input `nixpkgs` is declared with `flake = false` but flake.lock has `flake = true`: run `nix flake lock`"],
        );
    }

    #[test]
    fn follows_naming_a_missing_input() {
        check(
            r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    hm = { url = "github:nix-community/home-manager"; inputs.nixpkgs.follows = "nixpkgz"; };
  };
  outputs = { self, ... }: { };
}"#,
            LockState::Missing,
            expect![[
                r#"Error flake-follows-missing `"nixpkgz"`: `follows = "nixpkgz"` names no input of this flake: declare `inputs.nixpkgz` or fix the name"#
            ]],
        );
    }

    #[test]
    fn sub_input_follows_not_in_the_lock_yet() {
        let mut hm = github("hm", "nix-community", "home-manager", None, NIXPKGS_REV);
        hm.inputs.push(crate::flake::SubInput {
            name: "nixpkgs".into(),
            target: SubInputTarget::Node("nixpkgs_2".into()),
        });
        let mut lock = lock_of(vec![hm]);
        if let LockState::Loaded(info) = &mut lock {
            info.inputs.push(github(
                "nixpkgs",
                "NixOS",
                "nixpkgs",
                Some("nixos-unstable"),
                NIXPKGS_REV,
            ));
        }
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.hm.url = "github:nix-community/home-manager";
  inputs.hm.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, ... }: { };
}"#,
            lock,
            expect![[
                r#"Warning flake-lock-outdated `"nixpkgs"`: `hm.inputs.nixpkgs` follows `nixpkgs` but flake.lock does not: run `nix flake lock`"#
            ]],
        );
    }

    #[test]
    fn outputs_parameters_against_inputs() {
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.utils.url = "github:numtide/flake-utils";
  outputs = { self, nixpkgs, nixpkgz }: { };
}"#,
            LockState::Missing,
            expect![[r#"
                Error flake-input-not-a-param `utils`: input `utils` is passed to `outputs`, whose pattern has neither `utils` nor `...`: add one of them
                Warning flake-unknown-outputs-param `nixpkgz`: `nixpkgz` is neither `self` nor a declared input (Nix would fetch `flake:nixpkgz` from the flake registry): declare `inputs.nixpkgz.url`"#]],
        );
        // With `...` both are fine; with a single parameter too.
        check(
            r#"{ inputs.utils.url = "github:numtide/flake-utils"; outputs = { self, other, ... }: { }; }"#,
            LockState::Missing,
            expect![""],
        );
        check(
            r#"{ inputs.utils.url = "github:numtide/flake-utils"; outputs = inputs: { }; }"#,
            LockState::Missing,
            expect![""],
        );
    }

    #[test]
    fn path_tree_changed_since_locking() {
        let mut data = github("data", "x", "y", None, NIXPKGS_REV);
        data.original = FlakeRef::parse_url("path:/src/data").ok();
        data.path_matches = Some(false);
        check(
            r#"{ inputs.data.url = "path:/src/data"; outputs = { ... }: { }; }"#,
            lock_of(vec![data.clone()]),
            expect![[
                r#"Warning flake-path-changed `"path:/src/data"`: the tree of path input `data` changed since it was locked (its NAR hash is no longer the locked narHash): run `nix flake lock`"#
            ]],
        );
        data.path_matches = Some(true);
        check(
            r#"{ inputs.data.url = "path:/src/data"; outputs = { ... }: { }; }"#,
            lock_of(vec![data]),
            expect![""],
        );
    }

    #[test]
    fn invalid_url() {
        check(
            r#"{ inputs.x.url = "github:NixOS"; outputs = { ... }: { }; }"#,
            LockState::Missing,
            expect![[
                r#"Error flake-invalid-url `"github:NixOS"`: `github:NixOS` needs the form `github:OWNER/REPO[/REF-OR-REV]`"#
            ]],
        );
    }

    #[test]
    fn unreadable_lock_is_reported_on_the_lock() {
        let problem = crate::flake::LockProblem {
            message: "unsupported lock file version 3".into(),
            range: TextRange::new(12.into(), 13.into()),
        };
        let diags = lock_diagnostics(&LockState::Invalid(problem));
        expect![[r#"
            [
                FlakeDiagnostic {
                    range: 12..13,
                    severity: Error,
                    code: "flake-lock-invalid",
                    message: "flake.lock cannot be read: unsupported lock file version 3",
                },
            ]
        "#]]
        .assert_debug_eq(&diags);
        assert!(lock_diagnostics(&nixpkgs_lock()).is_empty());
    }
}
