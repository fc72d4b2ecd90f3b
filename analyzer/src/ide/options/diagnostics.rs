//! Option diagnostics in configuration modules: unknown options ("did you mean" with a
//! quick fix), literals of the wrong type, renamed options (warning, quick fix to the new
//! name) and removed options (error with the module author's explanation).

use rowan::TextRange;

use super::{closest, is_builtin, unwrap_value, ConfigBinding, ConfigModule};
use crate::options::{Lookup, OptionDecl, Schema, ShimKind, TypeShape};
use crate::syntax::ast::{self, AstNode};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionSeverity {
    /// The configuration will not evaluate.
    Error,
    /// It evaluates, but should change.
    Warning,
}

/// A quick fix: replacements to apply together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionFix {
    /// What the fix does.
    pub label: String,
    /// Replacements (range, new text).
    pub edits: Vec<(TextRange, String)>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDiagnostic {
    /// Where.
    pub range: TextRange,
    /// How bad.
    pub severity: OptionSeverity,
    /// A stable code: `unknown-option`, `option-type`, `renamed-option`, `removed-option`,
    /// `changed-option`.
    pub code: &'static str,
    /// For the user.
    pub message: String,
    /// Quick fixes.
    pub fixes: Vec<OptionFix>,
}

/// Every option diagnostic of a configuration module.
pub fn option_diagnostics(root: &ast::Root, schema: &Schema) -> Vec<OptionDiagnostic> {
    let module = ConfigModule::of(root);
    let mut out = Vec::new();
    for b in &module.bindings {
        if is_builtin(&b.path) {
            continue;
        }
        match schema.lookup(&b.path) {
            Lookup::Option(o) => {
                if let Some(v) = &b.value {
                    for v in unwrap_value(v) {
                        check_value(o, &v, &mut out);
                    }
                }
            }
            Lookup::Shim(s) => {
                // Report once, on the binding that names the shim's last segment.
                let Some(i) = (b.first..b.path.len()).find(|&i| i + 1 == s.from.0.len()) else {
                    continue;
                };
                let range = b.segments[i - b.first];
                let name = b.path[..=i].join(".");
                match &s.kind {
                    ShimKind::Renamed { to } => {
                        let new = to.to_string();
                        out.push(OptionDiagnostic {
                            range,
                            severity: OptionSeverity::Warning,
                            code: "renamed-option",
                            message: format!("`{name}` has been renamed to `{new}`"),
                            fixes: rename_fix(b, &b.path[..=i], &to.0, &new)
                                .into_iter()
                                .collect(),
                        });
                    }
                    ShimKind::Removed { message } => out.push(OptionDiagnostic {
                        range,
                        severity: OptionSeverity::Error,
                        code: "removed-option",
                        message: format!("`{name}` has been removed. {message}")
                            .trim()
                            .to_owned(),
                        fixes: Vec::new(),
                    }),
                    ShimKind::Changed { to } => out.push(OptionDiagnostic {
                        range,
                        severity: OptionSeverity::Warning,
                        code: "changed-option",
                        message: format!(
                            "`{name}` has been replaced by {}",
                            to.iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        fixes: Vec::new(),
                    }),
                }
            }
            Lookup::Unknown => unknown(schema, b, &mut out),
            Lookup::Prefix | Lookup::InsideValue(_) => {}
        }
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out.dedup();
    out
}

/// Reports the first unknown name of a binding (only if it is one of its own names: an
/// unknown enclosing name is reported on its own binding).
fn unknown(schema: &Schema, b: &ConfigBinding, out: &mut Vec<OptionDiagnostic>) {
    let Some(k) =
        (0..b.path.len()).find(|&k| matches!(schema.lookup(&b.path[..=k]), Lookup::Unknown))
    else {
        return;
    };
    if k < b.first {
        return;
    }
    // Below a renamed prefix or inside a value, nothing to say.
    if k > 0 && !matches!(schema.lookup(&b.path[..k]), Lookup::Prefix) {
        return;
    }
    let parent = &b.path[..k];
    let name = &b.path[k];
    let siblings = schema.sibling_names(parent);
    let range = b.segments[k - b.first];
    let full = b.path[..=k].join(".");
    let suggestion = closest(name, siblings.iter().map(String::as_str));
    let mut message = format!("unknown option `{full}`");
    let mut fixes = Vec::new();
    if let Some(s) = suggestion {
        message.push_str(&format!("; did you mean `{s}`?"));
        fixes.push(OptionFix {
            label: format!("Change to `{s}`"),
            edits: vec![(range, quote(s))],
        });
    }
    out.push(OptionDiagnostic {
        range,
        severity: OptionSeverity::Error,
        code: "unknown-option",
        message,
        fixes,
    });
}

/// Rewrites the names of the old path written in this binding to the new path, when the
/// part that changes is all in this binding's attribute path.
fn rename_fix(
    b: &ConfigBinding,
    old: &[String],
    new: &[crate::options::Segment],
    new_text: &str,
) -> Option<OptionFix> {
    let new: Vec<String> = new.iter().map(|s| s.to_string()).collect();
    let common = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let start = common.max(b.first);
    if common < b.first && old[..b.first] != new[..b.first.min(new.len())] {
        return None;
    }
    let first = b.segments.get(start - b.first)?;
    let last = b.segments.get(old.len() - 1 - b.first)?;
    let replacement = new[start..]
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(".");
    Some(OptionFix {
        label: format!("Use `{new_text}`"),
        edits: vec![(TextRange::new(first.start(), last.end()), replacement)],
    })
}

fn quote(name: &str) -> String {
    if crate::options::schema::is_plain_name(name) {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

/// What a literal is, if the value is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    Bool,
    Null,
    Int,
    Float,
    Str,
    Path,
    List,
    Attrs,
    Function,
}

impl Literal {
    fn of(e: &ast::Expr) -> Option<Literal> {
        Some(match e {
            ast::Expr::Paren(p) => return Literal::of(&p.expr()?),
            ast::Expr::Ident(i) => match i.name().as_str() {
                "true" | "false" => Literal::Bool,
                "null" => Literal::Null,
                _ => return None,
            },
            ast::Expr::Literal(l) => match l.kind()? {
                ast::LiteralKind::Int => Literal::Int,
                ast::LiteralKind::Float => Literal::Float,
                ast::LiteralKind::Uri => Literal::Str,
            },
            ast::Expr::UnaryOp(u) if u.operator() == Some(ast::UnaryOpKind::Negate) => {
                match Literal::of(&u.expr()?)? {
                    n @ (Literal::Int | Literal::Float) => n,
                    _ => return None,
                }
            }
            ast::Expr::Str(_) => Literal::Str,
            ast::Expr::Path(_) => Literal::Path,
            ast::Expr::List(_) => Literal::List,
            ast::Expr::AttrSet(_) => Literal::Attrs,
            ast::Expr::Lambda(_) => Literal::Function,
            _ => return None,
        })
    }

    fn noun(self) -> &'static str {
        match self {
            Literal::Bool => "a boolean",
            Literal::Null => "null",
            Literal::Int => "an integer",
            Literal::Float => "a float",
            Literal::Str => "a string",
            Literal::Path => "a path",
            Literal::List => "a list",
            Literal::Attrs => "an attribute set",
            Literal::Function => "a function",
        }
    }
}

/// Whether a literal fits a type; `None` when it cannot be told without evaluation.
fn fits(shape: &TypeShape, lit: Literal, e: &ast::Expr) -> Option<bool> {
    use Literal as L;
    Some(match shape {
        TypeShape::Any | TypeShape::Function => return None,
        TypeShape::Bool => lit == L::Bool,
        TypeShape::Int => lit == L::Int,
        TypeShape::Float => lit == L::Float,
        TypeShape::Number => matches!(lit, L::Int | L::Float),
        TypeShape::Str => lit == L::Str,
        TypeShape::Path => matches!(lit, L::Path | L::Str),
        // A derivation is an attribute set; store paths may be given as strings or paths.
        TypeShape::Package => matches!(lit, L::Attrs | L::Path | L::Str),
        TypeShape::List(_) => lit == L::List,
        TypeShape::AttrsOf(_) | TypeShape::Attrs => lit == L::Attrs,
        // A submodule value may also be a module function or a path to one.
        TypeShape::Submodule => matches!(lit, L::Attrs | L::Function | L::Path),
        TypeShape::NullOr(inner) => lit == L::Null || fits(inner, lit, e)?,
        TypeShape::Enum(values) => {
            let text = literal_source(e)?;
            values.contains(&text)
        }
        TypeShape::OneOf(shapes) => {
            let mut unknown = false;
            for s in shapes {
                match fits(s, lit, e) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                return None;
            }
            false
        }
    })
}

/// The value of a simple literal as an enum member is written (`"a"`, `1`, `true`).
fn literal_source(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Paren(p) => literal_source(&p.expr()?),
        ast::Expr::Str(s) => {
            let v = s.literal_value()?;
            Some(format!(
                "\"{}\"",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            ))
        }
        ast::Expr::Ident(_) | ast::Expr::Literal(_) => Some(e.syntax().text().to_string()),
        _ => None,
    }
}

fn check_value(o: &OptionDecl, v: &ast::Expr, out: &mut Vec<OptionDiagnostic>) {
    let Some(lit) = Literal::of(v) else { return };
    if fits(&o.ty.shape, lit, v) == Some(false) {
        out.push(OptionDiagnostic {
            range: v.syntax().text_range(),
            severity: OptionSeverity::Error,
            code: "option-type",
            message: format!(
                "`{}` expects {}, found {}",
                o.path,
                article(&o.ty.description),
                lit.noun()
            ),
            fixes: Vec::new(),
        });
        return;
    }
    // Elements of lists and sets with literal element types.
    match (&o.ty.shape, v) {
        (TypeShape::List(elem), ast::Expr::List(l)) => {
            for item in l.items() {
                check_element(o, elem, &item, out);
            }
        }
        (TypeShape::AttrsOf(elem), ast::Expr::AttrSet(s)) => {
            use crate::syntax::ast::HasBindings;
            for b in s.attrpath_values() {
                if b.attrpath().is_some_and(|p| p.attrs().count() == 1) {
                    if let Some(item) = b.value() {
                        check_element(o, elem, &item, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn check_element(
    o: &OptionDecl,
    elem: &TypeShape,
    item: &ast::Expr,
    out: &mut Vec<OptionDiagnostic>,
) {
    let Some(lit) = Literal::of(item) else { return };
    if matches!(elem, TypeShape::Submodule) {
        return;
    }
    if fits(elem, lit, item) == Some(false) {
        out.push(OptionDiagnostic {
            range: item.syntax().text_range(),
            severity: OptionSeverity::Error,
            code: "option-type",
            message: format!(
                "elements of `{}` ({}) cannot be {}",
                o.path,
                o.ty.description,
                lit.noun()
            ),
            fixes: Vec::new(),
        });
    }
}

fn article(description: &str) -> String {
    let starts_vowel = description.starts_with(['a', 'e', 'i', 'o', 'u']);
    if description.starts_with("one of")
        || description.starts_with("null or")
        || description.starts_with("list of")
    {
        description.to_owned()
    } else if starts_vowel {
        format!("an {description}")
    } else {
        format!("a {description}")
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::super::fixture::fixture_schema;
    use super::*;

    fn check(src: &str, expect: Expect) {
        let parse = crate::syntax::parse(src);
        let diags = option_diagnostics(&parse.root(), &fixture_schema());
        let mut out = String::new();
        for d in diags {
            let at = &src[std::ops::Range::<usize>::from(d.range)];
            out.push_str(&format!(
                "{:?} {} {at:?}: {}\n",
                d.severity, d.code, d.message
            ));
            for f in d.fixes {
                for (r, t) in f.edits {
                    out.push_str(&format!(
                        "  fix {:?}: {:?} -> {t:?}\n",
                        f.label,
                        &src[std::ops::Range::<usize>::from(r)]
                    ));
                }
            }
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn unknown_option_with_did_you_mean() {
        check(
            "{ pkgs, ... }: { programs.git.enabel = true; }",
            expect![[r#"
                Error unknown-option "enabel": unknown option `programs.git.enabel`; did you mean `enable`?
                  fix "Change to `enable`": "enabel" -> "enable"
            "#]],
        );
        check(
            "{ programs = { gti = { enable = true; }; }; }",
            expect![[r#"
                Error unknown-option "gti": unknown option `programs.gti`; did you mean `git`?
                  fix "Change to `git`": "gti" -> "git"
            "#]],
        );
        check(
            "{ frobnicate.x = 1; }",
            expect![[r#"
                Error unknown-option "frobnicate": unknown option `frobnicate`
            "#]],
        );
    }

    #[test]
    fn wrong_literal_types() {
        check(
            r#"{ programs.git.enable = "yes"; home.username = 42; home.packages = { }; programs.git.userName = null; programs.git.includes = [ { path = true; } ]; }"#,
            expect![[r#"
                Error option-type "\"yes\"": `programs.git.enable` expects a boolean, found a string
                Error option-type "42": `home.username` expects a string, found an integer
                Error option-type "{ }": `home.packages` expects list of package, found an attribute set
                Error option-type "true": `programs.git.includes.*.path` expects a string, found a boolean
            "#]],
        );
    }

    #[test]
    fn enums_null_paths_and_elements() {
        check(
            r#"{ programs.git.signing.format = "x509"; home.stateVersion = "24.11"; home.file.a.source = ./a; home.file.b.executable = null; home.sessionVariables = { A = "1"; B = 2; C = [ ]; }; programs.git.aliases = { co = 1; }; }"#,
            expect![[r#"
                Error option-type "\"x509\"": `programs.git.signing.format` expects one of "openpgp", "ssh", found a string
                Error option-type "[ ]": elements of `home.sessionVariables` (lazy attribute set of (string or absolute path or signed integer or floating point number)) cannot be a list
                Error option-type "1": elements of `programs.git.aliases` (attribute set of string) cannot be an integer
            "#]],
        );
    }

    #[test]
    fn renamed_and_removed_options() {
        check(
            r#"{ programs.git.userEmailAddress = "a@b.c"; programs.git.gpgKey = "ABC"; }"#,
            expect![[r#"
                Warning renamed-option "userEmailAddress": `programs.git.userEmailAddress` has been renamed to `programs.git.userEmail`
                  fix "Use `programs.git.userEmail`": "userEmailAddress" -> "userEmail"
                Error removed-option "gpgKey": `programs.git.gpgKey` has been removed. Use programs.git.signing.key instead.
            "#]],
        );
    }

    #[test]
    fn through_wrappers_config_and_imports() {
        check(
            r#"{ config, lib, pkgs, ... }:
            let x = 1; in {
              imports = [ ./other.nix { programs.git.enabl = true; } ];
              options.my.thing = lib.mkOption { };
              config = lib.mkMerge [
                (lib.mkIf config.programs.git.enable { programs.git.enable = lib.mkForce 3; })
                { home.usernam = "me"; }
              ];
            }"#,
            expect![[r#"
                Error unknown-option "enabl": unknown option `programs.git.enabl`; did you mean `enable`?
                  fix "Change to `enable`": "enabl" -> "enable"
                Error option-type "3": `programs.git.enable` expects a boolean, found an integer
                Error unknown-option "usernam": unknown option `home.usernam`; did you mean `username`?
                  fix "Change to `username`": "usernam" -> "username"
            "#]],
        );
    }

    #[test]
    fn free_form_values_and_expressions_are_not_checked() {
        check(
            r#"{ pkgs, ... }: { programs.git.extraConfig.core.editor = 1; home.username = pkgs.lib.mkDefault "x"; programs.git.enable = builtins.pathExists ./x; assertions = [ ]; }"#,
            expect![""],
        );
    }
}
