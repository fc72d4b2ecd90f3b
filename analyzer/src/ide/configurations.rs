//! Where a flake defines its configurations: each entry of `nixosConfigurations` and
//! `homeConfigurations` in its `outputs`, for the editor's Apply actions and lenses.
//!
//! This is a syntactic search (no evaluation): it follows `outputs = inputs: …` through
//! `let`, `with`, parentheses and both sides of `//`, and understands the nested and
//! dotted forms (`nixosConfigurations.host = …`, `nixosConfigurations = { host = …; }`,
//! `homeConfigurations.demo.activationPackage = …`).

use crate::db::{self, Db, SourceFile};
use crate::ide::TextRange;
use crate::syntax::ast::{self, AstNode, HasBindings};
use crate::syntax::SyntaxNode;

/// Which kind of configuration an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigurationKind {
    /// An entry of `nixosConfigurations` (a system profile).
    Nixos,
    /// An entry of `homeConfigurations` (a home-manager profile).
    Home,
}

impl ConfigurationKind {
    /// The flake output attribute holding configurations of this kind.
    pub fn output_attr(self) -> &'static str {
        match self {
            ConfigurationKind::Nixos => "nixosConfigurations",
            ConfigurationKind::Home => "homeConfigurations",
        }
    }

    fn from_output_attr(name: &str) -> Option<Self> {
        match name {
            "nixosConfigurations" => Some(ConfigurationKind::Nixos),
            "homeConfigurations" => Some(ConfigurationKind::Home),
            _ => None,
        }
    }
}

/// One configuration defined in a flake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// The configuration's name (`host` in `nixosConfigurations.host`).
    pub name: String,
    /// NixOS or home-manager.
    pub kind: ConfigurationKind,
    /// The attribute path below the flake's outputs, e.g. `nixosConfigurations.host`;
    /// names that are not plain identifiers are quoted.
    pub attr_path: String,
    /// The binding (or bindings, for `a.x = …; a.y = …;`) defining it.
    pub range: TextRange,
    /// The configuration's name where it is first defined.
    pub focus_range: TextRange,
}

/// The configurations a flake's `outputs` define, in source order.
pub fn configurations(db: &dyn Db, file: SourceFile) -> Vec<Configuration> {
    configurations_in(&db::parse(db, file).syntax())
}

/// The configurations defined under the `outputs` of a parsed `flake.nix`.
pub fn configurations_in(root: &SyntaxNode) -> Vec<Configuration> {
    let mut out = Vec::new();
    let Some(top) = ast::Root::cast(root.clone()).and_then(|r| r.expr()) else {
        return out;
    };
    for set in attr_sets(top, 0) {
        for binding in set.attrpath_values() {
            let Some(path) = static_path(&binding) else {
                continue;
            };
            if path.len() == 1 && path[0].0 == "outputs" {
                if let Some(value) = binding.value() {
                    for outputs in attr_sets(value, 0) {
                        collect(&outputs, &[], &mut out, 0);
                    }
                }
            }
        }
    }
    out
}

/// The attribute sets an expression evaluates to, looking through functions, `let`,
/// `with`, `assert`, parentheses and `//`.
fn attr_sets(expr: ast::Expr, depth: u32) -> Vec<ast::AttrSet> {
    if depth > 32 {
        return Vec::new();
    }
    let inner = |e: Option<ast::Expr>| e.map_or_else(Vec::new, |e| attr_sets(e, depth + 1));
    match expr {
        ast::Expr::AttrSet(set) => vec![set],
        ast::Expr::Lambda(l) => inner(l.body()),
        ast::Expr::LetIn(l) => inner(l.body()),
        ast::Expr::With(w) => inner(w.body()),
        ast::Expr::Assert(a) => inner(a.body()),
        ast::Expr::Paren(p) => inner(p.expr()),
        ast::Expr::BinOp(b) if b.operator() == Some(ast::BinaryOp::Update) => {
            let mut sets = inner(b.lhs());
            sets.extend(inner(b.rhs()));
            sets
        }
        _ => Vec::new(),
    }
}

/// The names of a binding's attribute path with their ranges; `None` when a name is
/// computed at evaluation time.
fn static_path(binding: &ast::AttrpathValue) -> Option<Vec<(String, TextRange)>> {
    binding
        .attrpath()?
        .attrs()
        .map(|a| Some((a.static_name()?, a.syntax().text_range())))
        .collect()
}

/// Collects configurations from a set whose bindings sit at `prefix` below the outputs.
fn collect(set: &ast::AttrSet, prefix: &[String], out: &mut Vec<Configuration>, depth: u32) {
    if depth > 8 {
        return;
    }
    for binding in set.attrpath_values() {
        let Some(path) = static_path(&binding) else {
            continue;
        };
        let full: Vec<(String, TextRange)> = prefix
            .iter()
            .map(|n| (n.clone(), TextRange::default()))
            .chain(path.iter().cloned())
            .collect();
        let Some(kind) = full
            .first()
            .and_then(|(n, _)| ConfigurationKind::from_output_attr(n))
        else {
            continue;
        };
        let range = binding.syntax().text_range();
        if full.len() >= 2 {
            let (name, focus) = &full[1];
            // The name comes from an enclosing set when the prefix already holds it.
            let focus = if focus.is_empty() { range } else { *focus };
            add(out, kind, name, range, focus);
        } else if let Some(value) = binding.value() {
            let names: Vec<String> = full.into_iter().map(|(n, _)| n).collect();
            for inner in attr_sets(value, 0) {
                collect(&inner, &names, out, depth + 1);
            }
        }
    }
}

fn add(
    out: &mut Vec<Configuration>,
    kind: ConfigurationKind,
    name: &str,
    range: TextRange,
    focus: TextRange,
) {
    if let Some(existing) = out.iter_mut().find(|c| c.kind == kind && c.name == name) {
        existing.range = existing.range.cover(range);
        return;
    }
    out.push(Configuration {
        name: name.to_string(),
        kind,
        attr_path: format!("{}.{}", kind.output_attr(), quote_attr(name)),
        range,
        focus_range: focus,
    });
}

/// An attribute name as it must be written in an attribute path.
fn quote_attr(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'));
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    fn check(text: &str, expect: Expect) {
        let f = Fixture::new(text);
        let configs = super::configurations(&f.db, f.files[0]);
        let mut out = String::new();
        for c in &configs {
            out.push_str(&format!(
                "{:?} {} [{}] {{{}}}\n",
                c.kind,
                c.attr_path,
                f.text_of(c.focus_range),
                f.text_of(c.range)
            ));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn dotted_entry_with_nixos_system() {
        check(
            "{ inputs.nixpkgs.url = \"x\"; outputs = { self, nixpkgs }: { nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ]; }; }; }",
            expect![[r#"
                Nixos nixosConfigurations.host [host] {nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ]; };}
            "#]],
        );
    }

    #[test]
    fn nested_sets_and_let() {
        check(
            "{ outputs = inputs: let mk = x: x; in { homeConfigurations = { alice = mk 1; \"bob@work\" = mk 2; }; packages.x86_64-linux.default = 1; }; }",
            expect![[r#"
                Home homeConfigurations.alice [alice] {alice = mk 1;}
                Home homeConfigurations."bob@work" ["bob@work"] {"bob@work" = mk 2;}
            "#]],
        );
    }

    #[test]
    fn deeper_paths_merge_into_one_configuration() {
        check(
            "{ outputs = { self }: { nixosConfigurations.demo.config.a = 1; nixosConfigurations.demo.config.b = 2; }; }",
            expect![[r#"
                Nixos nixosConfigurations.demo [demo] {nixosConfigurations.demo.config.a = 1; nixosConfigurations.demo.config.b = 2;}
            "#]],
        );
    }

    #[test]
    fn update_operator_and_parens() {
        check(
            "{ outputs = { self }: (with self; { x = 1; } // { nixosConfigurations = ({ a = 1; }); homeConfigurations.b = 2; }); }",
            expect![[r#"
                Nixos nixosConfigurations.a [a] {a = 1;}
                Home homeConfigurations.b [b] {homeConfigurations.b = 2;}
            "#]],
        );
    }

    #[test]
    fn ignores_dynamic_names_and_non_outputs() {
        check(
            "{ nixosConfigurations.x = 1; outputs = { self }: { nixosConfigurations.${self.name} = 1; lib.nixosConfigurations.y = 2; }; }",
            expect![""],
        );
    }

    #[test]
    fn broken_file_still_finds_earlier_entries() {
        check(
            "{ outputs = { self }: { homeConfigurations.demo = 1; broken = ; }; }",
            expect![[r#"
                Home homeConfigurations.demo [demo] {homeConfigurations.demo = 1;}
            "#]],
        );
    }

    #[test]
    fn example_flakes() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        for (dir, want) in [
            ("home", "homeConfigurations.demo"),
            ("system", "nixosConfigurations.demo"),
        ] {
            let text = std::fs::read_to_string(format!("{root}/{dir}/flake.nix")).unwrap();
            let parse = crate::syntax::parse(&text);
            let paths: Vec<String> = super::configurations_in(&parse.syntax())
                .into_iter()
                .map(|c| c.attr_path)
                .collect();
            assert_eq!(paths, vec![want.to_string()]);
        }
    }
}
