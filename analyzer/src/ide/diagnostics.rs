//! Every diagnostic of a file: parser errors, undefined names, liveness, syntax lints.

use std::collections::HashMap;

use crate::db::{self, Db, SourceFile};
use crate::def::{Expr, NameId, NameKind};
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::settings::UnusedFormals;
use crate::syntax::ast::{self, AstNode};
use crate::syntax::SyntaxKind;

/// Computes the diagnostics of a file, with the settings applied, sorted by position.
pub fn compute(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let settings = db.workspace().settings(db);
    if settings.is_excluded(file.path(db)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (range, message) in db::syntax_errors(db, file).iter() {
        let kind = if message.contains("already defined") {
            DiagnosticKind::DuplicateAttr
        } else if message.starts_with("undefined variable") {
            // Reported below from name resolution, which knows about `with`.
            continue;
        } else {
            DiagnosticKind::SyntaxError
        };
        out.push(Diagnostic::new(*range, kind, message.clone()));
    }

    let module = db::module(db, file);
    let source_map = db::source_map(db, file);
    let resolution = db::name_resolution(db, file);
    for (id, e) in module.exprs.iter() {
        if let Expr::Reference(name) = e {
            if resolution.get(id).is_none() {
                if let Some(range) = source_map.range_for_expr(id) {
                    out.push(Diagnostic::new(
                        range,
                        DiagnosticKind::UndefinedName,
                        format!("undefined variable `{name}`"),
                    ));
                }
            }
        }
    }

    let liveness = db::liveness(db, file);
    let dc = &settings.diagnostics;
    let ellipsis_of = pattern_ellipsis(&module);
    for &name in &liveness.unused_names {
        let n = &module.names[name];
        if !dc.unused_prefix.is_empty() && n.text.starts_with(dc.unused_prefix.as_str()) {
            continue;
        }
        let Some(range) = source_map.range_for_name(name) else {
            continue;
        };
        let (kind, what) = match n.kind {
            NameKind::LetIn => (DiagnosticKind::UnusedBinding, "let binding"),
            NameKind::Param => (DiagnosticKind::UnusedParam, "parameter"),
            NameKind::PatField => {
                let quiet = match dc.unused_formals {
                    UnusedFormals::All => false,
                    UnusedFormals::WithoutEllipsis => ellipsis_of.get(&name) == Some(&true),
                    UnusedFormals::None => true,
                };
                if quiet {
                    continue;
                }
                (DiagnosticKind::UnusedFormal, "formal argument")
            }
            _ => continue,
        };
        out.push(Diagnostic::new(
            range,
            kind,
            format!("unused {what} `{}`", n.text),
        ));
    }
    let root = db::parse(db, file).syntax();
    for &w in &liveness.unused_withs {
        if let Some(range) = source_map.range_for_expr(w) {
            let header = root
                .covering_element(range)
                .into_node()
                .and_then(|n| n.ancestors().find_map(ast::With::cast))
                .and_then(|with| with_header_range(&with))
                .unwrap_or(range);
            out.push(Diagnostic::new(
                header,
                DiagnosticKind::UnusedWith,
                "this `with` supplies no variable",
            ));
        }
    }
    for &r in &liveness.useless_recs {
        if let Some(range) = source_map.rec_keywords.get(&r) {
            out.push(Diagnostic::new(
                *range,
                DiagnosticKind::UselessRec,
                "`rec` is not needed: no attribute refers to another",
            ));
        }
    }
    syntax_lints(&root, &mut out);
    for d in db::option_diagnostics(db, file).iter() {
        let kind = match d.code {
            "unknown-option" => DiagnosticKind::UnknownOption,
            "option-type" => DiagnosticKind::OptionType,
            "renamed-option" => DiagnosticKind::RenamedOption,
            "removed-option" => DiagnosticKind::RemovedOption,
            _ => DiagnosticKind::ChangedOption,
        };
        out.push(Diagnostic::new(d.range, kind, d.message.clone()));
    }
    out.retain(|d| settings.is_enabled(d.kind));
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out
}

/// `with e;`: from the keyword through the semicolon.
pub fn with_header_range(with: &ast::With) -> Option<rowan::TextRange> {
    let start = with.with_token()?.text_range().start();
    let semi = with
        .syntax()
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == SyntaxKind::TOKEN_SEMICOLON)?;
    Some(rowan::TextRange::new(start, semi.text_range().end()))
}

/// For every pattern formal, whether its pattern has `...`.
fn pattern_ellipsis(module: &crate::def::Module) -> HashMap<NameId, bool> {
    let mut map = HashMap::new();
    for (_, e) in module.exprs.iter() {
        if let Expr::Lambda(_, Some(pat), _) = e {
            for (name, _) in pat.fields.iter() {
                map.insert(*name, pat.ellipsis);
            }
        }
    }
    map
}

/// Lints that only need the tree: empty `let`/`inherit`, legacy syntax.
fn syntax_lints(root: &crate::syntax::SyntaxNode, out: &mut Vec<Diagnostic>) {
    use SyntaxKind::*;
    for element in lint_candidates(root) {
        match element {
            rowan::NodeOrToken::Token(t) => {
                if t.kind() == TOKEN_URI {
                    out.push(Diagnostic::new(
                        t.text_range(),
                        DiagnosticKind::UriLiteral,
                        "URI literals are deprecated: write a string instead",
                    ));
                } else if t.kind() == TOKEN_OR_KW
                    && t.parent().is_some_and(|p| p.kind() == NODE_IDENT)
                {
                    out.push(Diagnostic::new(
                        t.text_range(),
                        DiagnosticKind::OrIdentifier,
                        "`or` used as a name is deprecated",
                    ));
                }
            }
            rowan::NodeOrToken::Node(n) => match n.kind() {
                NODE_LET_IN => {
                    let l = ast::LetIn::cast(n.clone()).unwrap();
                    if ast::HasBindings::bindings(&l).next().is_none() {
                        let start = l.let_token().map(|t| t.text_range().start());
                        let end = l.in_token().map(|t| t.text_range().end());
                        if let (Some(s), Some(e)) = (start, end) {
                            out.push(Diagnostic::new(
                                rowan::TextRange::new(s, e),
                                DiagnosticKind::EmptyLet,
                                "this `let` binds nothing",
                            ));
                        }
                    }
                }
                NODE_INHERIT => {
                    let i = ast::Inherit::cast(n.clone()).unwrap();
                    if i.attrs().next().is_none() {
                        out.push(Diagnostic::new(
                            n.text_range(),
                            DiagnosticKind::EmptyInherit,
                            "this `inherit` names nothing",
                        ));
                    }
                }
                NODE_LEGACY_LET => {
                    let range = ast::LegacyLet::cast(n.clone())
                        .and_then(|l| l.let_token())
                        .map_or(n.text_range(), |t| t.text_range());
                    out.push(Diagnostic::new(
                        range,
                        DiagnosticKind::LegacyLet,
                        "`let { … body = …; }` is deprecated: use `let … in`",
                    ));
                }
                _ => {}
            },
        }
    }
}

/// The elements [`syntax_lints`] looks at, found by walking the green tree (no red node
/// per element: this runs over the whole file after every edit).
fn lint_candidates(root: &crate::syntax::SyntaxNode) -> Vec<crate::syntax::SyntaxElement> {
    use crate::syntax::NixLanguage;
    use rowan::{Language, NodeOrToken, TextRange, TextSize};
    use SyntaxKind::*;
    let green = root.green();
    let mut found = Vec::new();
    let mut stack: Vec<(&rowan::GreenNodeData, TextSize)> = vec![(&green, TextSize::from(0))];
    while let Some((node, start)) = stack.pop() {
        let parent_kind = NixLanguage::kind_from_raw(node.kind());
        let mut offset = start;
        for child in node.children() {
            let here = offset;
            offset += match child {
                NodeOrToken::Node(n) => n.text_len(),
                NodeOrToken::Token(t) => t.text_len(),
            };
            let offset = here;
            match child {
                NodeOrToken::Token(t) => {
                    let kind = NixLanguage::kind_from_raw(t.kind());
                    if kind == TOKEN_URI || kind == TOKEN_OR_KW && parent_kind == NODE_IDENT {
                        let range = TextRange::at(offset, t.text_len());
                        if let Some(token) = root.covering_element(range).into_token() {
                            found.push(NodeOrToken::Token(token));
                        }
                    }
                }
                NodeOrToken::Node(n) => {
                    let kind = NixLanguage::kind_from_raw(n.kind());
                    if matches!(kind, NODE_LET_IN | NODE_INHERIT | NODE_LEGACY_LET) {
                        let range = TextRange::at(offset, n.text_len());
                        let covering = match root.covering_element(range) {
                            NodeOrToken::Node(c) => Some(c),
                            NodeOrToken::Token(t) => t.parent(),
                        };
                        if let Some(node) = covering.and_then(|c| {
                            c.ancestors()
                                .find(|a| a.kind() == kind && a.text_range() == range)
                        }) {
                            found.push(NodeOrToken::Node(node));
                        }
                    }
                    stack.push((n, offset));
                }
            }
        }
    }
    // Preorder, as a walk of the red tree would give them.
    found.sort_by_key(|e| {
        (
            e.text_range().start(),
            std::cmp::Reverse(e.text_range().len()),
        )
    });
    found
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::db::{self, RootDatabase};
    use crate::settings::{Settings, UnusedFormals};

    fn check_with(settings: Settings, text: &str, expect: Expect) {
        let mut db = RootDatabase::new();
        db.set_settings(settings);
        let file = db.set_file("/w/test.nix", text.into());
        let shown: Vec<String> = db::diagnostics(&db, file)
            .iter()
            .map(|d| {
                format!(
                    "{} {:?} `{}`: {}",
                    d.code(),
                    d.severity(),
                    &text[d.range],
                    d.message
                )
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    fn check(text: &str, expect: Expect) {
        check_with(Settings::default(), text, expect)
    }

    #[test]
    fn undefined_names_respect_with() {
        check(
            "x: y",
            expect![[r#"
            unused-param Warning `x`: unused parameter `x`
            undefined-name Error `y`: undefined variable `y`"#]],
        );
        check("pkgs: with pkgs; hello", expect![""]);
        check(
            "{ a = b; }",
            expect!["undefined-name Error `b`: undefined variable `b`"],
        );
        check("builtins.map toString [ __curPos true ]", expect![""]);
    }

    #[test]
    fn unused_definitions_and_conventions() {
        check(
            "{ pkgs, ... }: let a = 1; b = 2; in x: b",
            expect![[r#"
                unused-binding Warning `a`: unused let binding `a`
                unused-param Warning `x`: unused parameter `x`"#]],
        );
        check(
            "{ lib, stdenv }@args: _: stdenv",
            expect![[r#"
                unused-formal Warning `lib`: unused formal argument `lib`
                unused-param Warning `args`: unused parameter `args`"#]],
        );
        let mut all = Settings::default();
        all.diagnostics.unused_formals = UnusedFormals::All;
        check_with(
            all,
            "{ pkgs, ... }: 1",
            expect!["unused-formal Warning `pkgs`: unused formal argument `pkgs`"],
        );
    }

    #[test]
    fn with_rec_and_empty_constructs() {
        check(
            "with { }; rec { a = 1; b = let in 2; c = { inherit; }; }",
            expect![[r#"
                unused-with Warning `with { };`: this `with` supplies no variable
                useless-rec Hint `rec`: `rec` is not needed: no attribute refers to another
                empty-let Hint `let in`: this `let` binds nothing
                empty-inherit Hint `inherit;`: this `inherit` names nothing"#]],
        );
        check("rec { a = 1; b = a; }", expect![""]);
    }

    #[test]
    fn duplicates_syntax_and_legacy() {
        check(
            "{ a.b = 1; a = { b = 2; }; }",
            expect!["duplicate-attr Error `b`: attribute 'b' already defined at 1:5"],
        );
        check(
            "{ a = 1; a.b = 2; }",
            expect!["duplicate-attr Error `a`: attribute 'a.b' already defined at 1:3"],
        );
        check(
            "let { x = https://nixos.org; body = x; }",
            expect![[r#"
            legacy-let Warning `let`: `let { … body = …; }` is deprecated: use `let … in`
            uri-literal Warning `https://nixos.org`: URI literals are deprecated: write a string instead"#]],
        );
        check(
            "{ a = 1 }",
            expect!["syntax-error Error `}`: expected `;`, found `}`"],
        );
        check(
            "let or = 1; f = x: x; in f or",
            expect![[r#"
            or-identifier Warning `or`: `or` used as a name is deprecated
            or-identifier Warning `or`: `or` used as a name is deprecated"#]],
        );
    }

    #[test]
    fn settings_silence_kinds_and_files() {
        let mut s = Settings::default();
        s.diagnostics.ignored = vec!["undefined-name".into()];
        check_with(
            s,
            "x: y",
            expect!["unused-param Warning `x`: unused parameter `x`"],
        );
        let mut s = Settings::default();
        s.diagnostics.excluded_files = vec!["w/*.nix".into()];
        check_with(s, "x: y", expect![""]);
    }
}
