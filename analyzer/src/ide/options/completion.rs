//! Completion of option names (at every depth, in dotted paths) and of values (`true`/
//! `false` for booleans, the members of an enum) in configuration modules.

use rowan::{TextRange, TextSize};

use super::ConfigModule;
use crate::options::{Lookup, Schema, TypeShape};
use crate::syntax::ast;

/// What a completion inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionCompletionKind {
    /// An option.
    Option,
    /// A set of options (a path prefix).
    OptionSet,
    /// A value for the option being set.
    Value,
}

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionCompletion {
    /// The text shown and inserted.
    pub label: String,
    /// What it is.
    pub kind: OptionCompletionKind,
    /// The option's type (or "option set").
    pub detail: Option<String>,
    /// The option's Markdown description.
    pub documentation: Option<String>,
    /// The range the label replaces (the partly typed name).
    pub replace: TextRange,
}

/// Completions at `offset` of a configuration module.
pub fn option_completions(
    root: &ast::Root,
    text: &str,
    schema: &Schema,
    offset: TextSize,
) -> Vec<OptionCompletion> {
    let module = ConfigModule::of(root);
    let at = usize::from(offset).min(text.len());
    // The dotted name typed so far, e.g. `programs.gi`.
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\'' | '.' | '"'))
        .last()
        .map_or(at, |(i, _)| i);
    let typed = &text[start..at];
    let before = text[..start].trim_end();
    let (done, partial) = match typed.rfind('.') {
        Some(i) => (&typed[..i], &typed[i + 1..]),
        None => ("", typed),
    };
    let replace = TextRange::new(TextSize::from((at - partial.len()) as u32), offset);
    if before.ends_with('=') && !before.ends_with("==") {
        return value_completions(&module, schema, TextSize::from(start as u32), replace);
    }
    if !(before.ends_with('{') || before.ends_with(';') || before.is_empty()) {
        return Vec::new();
    }
    let Some(set) = module.set_at(TextSize::from(start as u32)) else {
        return Vec::new();
    };
    let mut prefix = set.prefix.clone();
    prefix.extend(
        done.split('.')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_matches('"').to_owned()),
    );
    schema
        .children(&prefix)
        .into_iter()
        .map(|c| match c.option {
            Some(o) => OptionCompletion {
                label: quote(&c.name),
                kind: OptionCompletionKind::Option,
                detail: Some(o.ty.description.clone()),
                documentation: o.description.clone(),
                replace,
            },
            None => OptionCompletion {
                label: quote(&c.name),
                kind: OptionCompletionKind::OptionSet,
                detail: Some("option set".into()),
                documentation: None,
                replace,
            },
        })
        .collect()
}

fn value_completions(
    module: &ConfigModule,
    schema: &Schema,
    at: TextSize,
    replace: TextRange,
) -> Vec<OptionCompletion> {
    let Some(binding) = module.binding_at(at) else {
        return Vec::new();
    };
    let Lookup::Option(o) = schema.lookup(&binding.path) else {
        return Vec::new();
    };
    values_for(&o.ty.shape)
        .into_iter()
        .map(|v| OptionCompletion {
            label: v,
            kind: OptionCompletionKind::Value,
            detail: Some(o.ty.description.clone()),
            documentation: None,
            replace,
        })
        .collect()
}

fn values_for(shape: &TypeShape) -> Vec<String> {
    match shape {
        TypeShape::Bool => vec!["true".into(), "false".into()],
        TypeShape::Enum(values) => values.clone(),
        TypeShape::NullOr(inner) => {
            let mut v = values_for(inner);
            v.push("null".into());
            v
        }
        TypeShape::OneOf(shapes) => shapes.iter().flat_map(values_for).collect(),
        _ => Vec::new(),
    }
}

/// A name as written in an attribute path.
fn quote(name: &str) -> String {
    if crate::options::schema::is_plain_name(name) {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::super::fixture::{fixture_schema, parse_with_cursor};
    use super::*;

    fn check(src: &str, expect: Expect) {
        let (text, offset) = parse_with_cursor(src);
        let parse = crate::syntax::parse(&text);
        let schema = fixture_schema();
        let items = option_completions(&parse.root(), &text, &schema, offset);
        let out: Vec<String> = items
            .iter()
            .map(|c| format!("{} ({})", c.label, c.detail.as_deref().unwrap_or("")))
            .collect();
        expect.assert_eq(&out.join("\n"));
    }

    #[test]
    fn top_level_of_module_function() {
        check(
            "{ config, lib, pkgs, ... }: { $0 }",
            expect![[r#"
                accounts (option set)
                home (option set)
                programs (option set)"#]],
        );
    }

    #[test]
    fn dotted_path() {
        check(
            "{ ... }: { programs.git.$0 }",
            expect![[r#"
                aliases (attribute set of string)
                enable (boolean)
                extraConfig (attribute set of anything)
                includes (list of (submodule))
                package (package)
                signing (option set)
                userEmail (null or string)
                userName (null or string)"#]],
        );
    }

    #[test]
    fn partial_name_in_nested_set() {
        // `{ sign }` parses as a lambda pattern while being typed.
        check(
            "{ programs = { git = { sign$0 }; }; }",
            expect![[r#"
                aliases (attribute set of string)
                enable (boolean)
                extraConfig (attribute set of anything)
                includes (list of (submodule))
                package (package)
                signing (option set)
                userEmail (null or string)
                userName (null or string)"#]],
        );
        check(
            "{ hom$0 }",
            expect![[r#"
            accounts (option set)
            home (option set)
            programs (option set)"#]],
        );
    }

    #[test]
    fn inside_config_and_mk_if() {
        check(
            "{ config, lib, ... }: { options = { }; config = lib.mkIf true { programs.git.signing.$0 }; }",
            expect![[r#"format (one of "openpgp", "ssh")"#]],
        );
    }

    #[test]
    fn submodule_elements_of_attrs_and_lists() {
        check(
            "{ accounts.email.accounts.work = { $0 }; }",
            expect![[r#"
                address (string)
                primary (boolean)"#]],
        );
        check(
            "{ programs.git.includes = [ { $0 } ]; }",
            expect!["path (string)"],
        );
    }

    #[test]
    fn boolean_and_enum_values() {
        check(
            "{ programs.git.enable = $0 }",
            expect![[r#"
                true (boolean)
                false (boolean)"#]],
        );
        check(
            "{ programs.git.signing.format = $0; }",
            expect![[r#"
                "openpgp" (one of "openpgp", "ssh")
                "ssh" (one of "openpgp", "ssh")"#]],
        );
    }

    #[test]
    fn nothing_inside_free_form_values_or_expressions() {
        check("{ programs.git.extraConfig.core.$0 }", expect![""]);
        check("{ x = 1 + $0; }", expect![""]);
    }

    #[test]
    fn replaces_the_partial_name() {
        let (text, offset) = parse_with_cursor("{ programs.gi$0 }");
        let parse = crate::syntax::parse(&text);
        let items = option_completions(&parse.root(), &text, &fixture_schema(), offset);
        assert_eq!(items[0].replace, TextRange::new(11.into(), 13.into()));
        assert_eq!(items[0].label, "git");
    }
}
