//! Completion in `flake.nix`: top-level keys, input fields, `outputs` formals from the declared
//! inputs, and well-known output names.

use rowan::{TextRange, TextSize};

use super::model::FlakeModel;
use crate::syntax::ast::{self, AstNode};

/// What a completion item names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlakeCompletionKind {
    /// A top-level flake attribute (`inputs`, `outputs`, …).
    TopLevel,
    /// A field of an input (`url`, `follows`, …).
    InputField,
    /// An input, offered as an `outputs` formal.
    Input,
    /// A well-known output (`packages`, `nixosConfigurations`, …).
    Output,
}

/// One completion item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakeCompletion {
    /// The text to insert.
    pub label: String,
    /// What it is.
    pub kind: FlakeCompletionKind,
    /// A one-line explanation.
    pub detail: String,
}

const TOP_LEVEL: &[(&str, &str)] = &[
    ("description", "a one-line summary of the flake"),
    ("inputs", "the flake's dependencies, pinned in flake.lock"),
    (
        "outputs",
        "a function from the inputs to what the flake provides",
    ),
    ("nixConfig", "Nix settings to apply when using this flake"),
];

const INPUT_FIELDS: &[(&str, &str)] = &[
    (
        "url",
        "a flake reference, e.g. \"github:NixOS/nixpkgs/nixos-unstable\"",
    ),
    ("flake", "false: a plain source tree, not a flake"),
    (
        "follows",
        "use another input instead (\"nixpkgs\", \"a/b\")",
    ),
    (
        "inputs",
        "override this input's own inputs (inputs.<name>.follows)",
    ),
    (
        "type",
        "the fetcher: github, gitlab, sourcehut, git, mercurial, path, tarball, file, indirect",
    ),
    ("owner", "forge owner (github, gitlab, sourcehut)"),
    ("repo", "forge repository (github, gitlab, sourcehut)"),
    ("ref", "branch or tag"),
    ("rev", "commit hash"),
    ("dir", "subdirectory holding flake.nix"),
];

const SUB_INPUT_FIELDS: &[(&str, &str)] = &[
    (
        "follows",
        "use an input of this flake instead (\"nixpkgs\")",
    ),
    ("url", "override the reference"),
];

const OUTPUTS: &[(&str, &str)] = &[
    (
        "packages",
        "packages.<system>.<name>: derivations for `nix build`",
    ),
    (
        "devShells",
        "devShells.<system>.<name>: shells for `nix develop`",
    ),
    (
        "nixosConfigurations",
        "nixosConfigurations.<host>: NixOS systems (nixos-rebuild --flake)",
    ),
    (
        "homeConfigurations",
        "homeConfigurations.<user>: home-manager homes",
    ),
    (
        "overlays",
        "overlays.<name>: nixpkgs overlays (final: prev: { … })",
    ),
    ("nixosModules", "nixosModules.<name>: NixOS modules"),
    (
        "checks",
        "checks.<system>.<name>: derivations for `nix flake check`",
    ),
    (
        "formatter",
        "formatter.<system>: the package `nix fmt` runs",
    ),
    (
        "apps",
        "apps.<system>.<name>: { type = \"app\"; program = …; } for `nix run`",
    ),
    (
        "templates",
        "templates.<name>: { path; description; } for `nix flake init`",
    ),
    ("lib", "functions for other flakes"),
    (
        "legacyPackages",
        "legacyPackages.<system>: nested package sets (as nixpkgs has)",
    ),
];

/// The completions at `offset` in `flake.nix` (parsed as `root`, read as `model`).
pub fn flake_completions(
    root: &ast::Root,
    model: &FlakeModel,
    offset: TextSize,
) -> Vec<FlakeCompletion> {
    let Some(token) = root.syntax().token_at_offset(offset).left_biased() else {
        return top_level(model);
    };
    // The attribute names already written before the cursor in the binding being typed.
    let mut prefix: Vec<String> = Vec::new();
    let mut container: Option<(TextRange, bool)> = None; // (range, is pattern)
    for node in token.parent_ancestors() {
        if let Some(path) = ast::Attrpath::cast(node.clone()) {
            if prefix.is_empty() {
                prefix = path
                    .attrs()
                    .take_while(|a| a.syntax().text_range().end() < offset)
                    .filter_map(|a| a.static_name())
                    .collect();
            }
        }
        if let Some(set) = ast::AttrSet::cast(node.clone()) {
            // Inside the braces only.
            let r = set.syntax().text_range();
            if r.start() < offset && offset < r.end() {
                container = Some((r, false));
                break;
            }
        }
        if let Some(p) = ast::Pattern::cast(node.clone()) {
            container = Some((p.syntax().text_range(), true));
            break;
        }
    }
    let Some((range, is_pattern)) = container else {
        return Vec::new();
    };
    let outputs = model.outputs.as_ref();
    if is_pattern {
        if outputs.and_then(|o| o.pattern_range) == Some(range) {
            return formals(model);
        }
        return Vec::new();
    }
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    if model.top_range == Some(range) {
        return match prefix.as_slice() {
            [] => top_level(model),
            ["inputs", name] => input_fields(model, name),
            ["inputs", _, "inputs", _] => items(SUB_INPUT_FIELDS, FlakeCompletionKind::InputField),
            _ => Vec::new(),
        };
    }
    if model.inputs_set_ranges.contains(&range) {
        return match prefix.as_slice() {
            [name] => input_fields(model, name),
            [_, "inputs", _] => items(SUB_INPUT_FIELDS, FlakeCompletionKind::InputField),
            _ => Vec::new(),
        };
    }
    if let Some(input) = model.inputs.iter().find(|i| i.body_ranges.contains(&range)) {
        return match prefix.as_slice() {
            [] => input_fields(model, &input.name),
            ["inputs", _] => items(SUB_INPUT_FIELDS, FlakeCompletionKind::InputField),
            _ => Vec::new(),
        };
    }
    if outputs.is_some_and(|o| o.result_sets.contains(&range)) && prefix.is_empty() {
        return items(OUTPUTS, FlakeCompletionKind::Output);
    }
    Vec::new()
}

fn items(table: &[(&str, &str)], kind: FlakeCompletionKind) -> Vec<FlakeCompletion> {
    table
        .iter()
        .map(|(label, detail)| FlakeCompletion {
            label: (*label).to_owned(),
            kind,
            detail: (*detail).to_owned(),
        })
        .collect()
}

fn top_level(model: &FlakeModel) -> Vec<FlakeCompletion> {
    let mut out = items(TOP_LEVEL, FlakeCompletionKind::TopLevel);
    // `inputs` may be written many times (`inputs.a.url`, `inputs.b.url`); the others once.
    out.retain(|c| c.label == "inputs" || !model.top_keys.iter().any(|k| k.name == c.label));
    out
}

fn input_fields(model: &FlakeModel, name: &str) -> Vec<FlakeCompletion> {
    let mut out = items(INPUT_FIELDS, FlakeCompletionKind::InputField);
    if let Some(input) = model.input(name) {
        out.retain(|c| match c.label.as_str() {
            "url" => input.url.is_none(),
            "flake" => input.flake.is_none(),
            "follows" => input.follows.is_none(),
            "inputs" => true,
            other => !input.attrs.iter().any(|a| a.0 == other),
        });
    }
    out
}

fn formals(model: &FlakeModel) -> Vec<FlakeCompletion> {
    let written: Vec<&str> = model
        .outputs
        .iter()
        .flat_map(|o| o.formals.iter())
        .map(|f| f.name.as_str())
        .collect();
    let mut out = Vec::new();
    if !written.contains(&"self") {
        out.push(FlakeCompletion {
            label: "self".into(),
            kind: FlakeCompletionKind::Input,
            detail: "this flake's own outputs and source".into(),
        });
    }
    for input in &model.inputs {
        if !written.contains(&input.name.as_str()) {
            let detail = input
                .url
                .as_ref()
                .map(|u| u.value.clone())
                .unwrap_or_else(|| "declared input".into());
            out.push(FlakeCompletion {
                label: input.name.clone(),
                kind: FlakeCompletionKind::Input,
                detail,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::cursor;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, expect: Expect) {
        let (text, offset) = cursor(fixture);
        let parse = crate::syntax::parse(&text);
        let model = FlakeModel::from_root(&parse.root());
        let labels: Vec<String> = flake_completions(&parse.root(), &model, offset)
            .into_iter()
            .map(|c| c.label)
            .collect();
        expect.assert_eq(&labels.join(" "));
    }

    #[test]
    fn top_level_keys() {
        check(
            r#"{ description = "x"; $0 }"#,
            expect!["inputs outputs nixConfig"],
        );
        check(
            r#"{ inputs.a.url = "github:a/b"; d$0 }"#,
            expect!["description inputs outputs nixConfig"],
        );
    }

    #[test]
    fn input_fields() {
        check(
            r#"{ inputs.nixpkgs = { url = "github:a/b"; $0 }; }"#,
            expect!["flake follows inputs type owner repo ref rev dir"],
        );
        check(
            r#"{ inputs = { nixpkgs = { flake = false; $0 }; }; }"#,
            expect!["url follows inputs type owner repo ref rev dir"],
        );
        check(
            r#"{ inputs.nixpkgs.$0 }"#,
            expect!["url flake follows inputs type owner repo ref rev dir"],
        );
        check(r#"{ inputs.hm.inputs.nixpkgs.$0 }"#, expect!["follows url"]);
    }

    #[test]
    fn outputs_formals_from_declared_inputs() {
        check(
            r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  inputs.utils.url = "github:numtide/flake-utils";
  outputs = { self, $0 }: { };
}"#,
            expect!["nixpkgs utils"],
        );
        check(
            r#"{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; outputs = { nixpkgs, $0 }: { }; }"#,
            expect!["self"],
        );
    }

    #[test]
    fn well_known_outputs() {
        check(
            r#"{ outputs = { self }: { $0 }; }"#,
            expect!["packages devShells nixosConfigurations homeConfigurations overlays nixosModules checks formatter apps templates lib legacyPackages"],
        );
        check(
            r#"{ outputs = { self }: let x = 1; in { a = 1; } // { $0 }; }"#,
            expect!["packages devShells nixosConfigurations homeConfigurations overlays nixosModules checks formatter apps templates lib legacyPackages"],
        );
        // Not inside a nested set of an output.
        check(
            r#"{ outputs = { self }: { packages = { $0 }; }; }"#,
            expect![""],
        );
    }
}
