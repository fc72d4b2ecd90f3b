//! Rename with prepareRename. Only `let` bindings and lambda parameters (`x:`, `@ x`) are
//! renamed: attribute names and pattern formals are part of an interface callers use.
//!
//! `inherit x;` both names an attribute and reads the variable `x`, so renaming through
//! it rewrites the statement instead of the name: renaming the variable `x` to `y` turns
//! `inherit x;` into `x = y;` (the set keeps its attribute), and renaming a `let`
//! binding defined by `inherit x;` (or `inherit (e) x;`) to `y` turns it into `y = x;`
//! (or `y = e.x;`). Other names of the same `inherit` stay where they are.

use std::collections::BTreeMap;

use crate::db::{self, Db};
use crate::def::scope::{ResolveResult, ScopeKind};
use crate::def::{BindingValue, Bindings, Expr, ExprId, Module, NameId, NameKind};
use crate::ide::references::target_name;
use crate::ide::{is_valid_ident, name_at, FilePos, TextEdit, TextRange, TextSize};
use crate::syntax::ast::{self, AstNode};
use crate::syntax::{SyntaxKind, SyntaxNode};

/// The range to rename and its current text, or why renaming here is refused.
pub fn prepare_rename(db: &dyn Db, pos: FilePos) -> Result<(TextRange, String), String> {
    let at = name_at(db, pos).ok_or("no name to rename here")?;
    let name = target_name(db, pos).ok_or_else(|| match &at.reference {
        Some((_, Some(ResolveResult::Builtin(_)))) => format!("`{}` is a builtin", at.text),
        Some((_, Some(ResolveResult::WithExprs(_)))) => {
            format!(
                "`{}` comes from a `with` and cannot be renamed safely",
                at.text
            )
        }
        _ => format!("`{}` is not defined in this file", at.text),
    })?;
    check_renamable(db, pos, name)?;
    Ok((at.range, at.text))
}

fn check_renamable(db: &dyn Db, pos: FilePos, name: NameId) -> Result<(), String> {
    let module = db::module(db, pos.file);
    let n = &module.names[name];
    match n.kind {
        NameKind::LetIn | NameKind::Param => {}
        NameKind::PatField => {
            return Err(format!(
                "`{}` is a formal argument: callers pass it by name",
                n.text
            ))
        }
        NameKind::PlainAttrset | NameKind::RecAttrset => {
            return Err(format!("`{}` is an attribute name", n.text))
        }
    }
    if db::source_map(db, pos.file).ranges_for_name(name).len() > 1 {
        return Err(format!(
            "`{}` is defined by several attribute paths",
            n.text
        ));
    }
    Ok(())
}

/// The `let`, set or `rec` set whose `inherit x;` reads `reference`, if any.
fn inheriting_bindings(module: &Module, reference: ExprId) -> Option<(&Expr, &Bindings)> {
    module.exprs.iter().find_map(|(_, e)| match e {
        Expr::LetIn(b, _) | Expr::Attrset(b) | Expr::RecAttrset(b) => b
            .statics
            .iter()
            .any(|(_, v)| *v == BindingValue::Inherit(reference))
            .then_some((e, &**b)),
        _ => None,
    })
}

/// The edits renaming the name under the cursor to `new_name`.
pub fn rename(db: &dyn Db, pos: FilePos, new_name: &str) -> Result<Vec<TextEdit>, String> {
    prepare_rename(db, pos)?;
    let name = target_name(db, pos).ok_or("no name to rename here")?;
    if !is_valid_ident(new_name) {
        return Err(format!("`{new_name}` is not a valid Nix identifier"));
    }
    let module = db::module(db, pos.file);
    let scopes = db::scopes(db, pos.file);
    let resolution = db::name_resolution(db, pos.file);
    let source_map = db::source_map(db, pos.file);
    let root = db::parse(db, pos.file).syntax();
    let old_name = &module.names[name].text;
    let def_scope = scopes
        .scope_defining(name)
        .ok_or("definition has no scope")?;
    let uses = resolution.references_to(name);
    let already_bound = || format!("`{new_name}` is already bound where `{old_name}` is used");
    // The new name must not be captured by, or capture, another binding.
    for &u in &uses {
        if let Some(scope) = scopes.scope_for_expr(u) {
            if let Some(ResolveResult::Definition(other)) = scopes.resolve_name(scope, new_name) {
                if other != name {
                    return Err(already_bound());
                }
            }
        }
        // `inherit x;` in a `let` or `rec` set becomes `x = new;`, read inside that scope.
        if let Some((Expr::LetIn(..) | Expr::RecAttrset(_), b)) = inheriting_bindings(&module, u) {
            if b.statics
                .iter()
                .any(|(n, _)| *module.names[*n].text == *new_name)
            {
                return Err(already_bound());
            }
        }
    }
    for (e, r) in resolution.iter() {
        let Expr::Reference(text) = &module.exprs[e] else {
            continue;
        };
        if &**text != new_name {
            continue;
        }
        let captured = scopes
            .scope_for_expr(e)
            .is_some_and(|s| scopes.is_ancestor(def_scope, s));
        if captured && *r != ResolveResult::Definition(name) {
            return Err(format!(
                "renaming would capture the existing use of `{new_name}`"
            ));
        }
    }
    if let ScopeKind::Definitions(defs) = &scopes.ancestors(def_scope).next().unwrap().kind {
        if defs.contains_key(new_name) {
            return Err(format!("`{new_name}` is already defined here"));
        }
    }

    let mut edits = Vec::new();
    // Attributes of `inherit` statements to turn into bindings, by attribute range.
    let mut rewrites: Vec<(TextRange, String)> = Vec::new();
    let def_value = module.binding_of(name).map(|(_, _, v)| v.clone());
    for &range in source_map.ranges_for_name(name) {
        match def_value {
            Some(BindingValue::Inherit(_)) => {
                rewrites.push((range, format!("{new_name} = {old_name};")));
            }
            Some(BindingValue::InheritFrom(_)) => {
                let from = inherit_node(&root, range)
                    .and_then(|i| i.from())
                    .and_then(|f| f.expr())
                    .ok_or("the `inherit (…)` source is missing")?;
                let attr = text_at(&root, range);
                rewrites.push((
                    range,
                    format!("{new_name} = {}.{attr};", select_base(&from)),
                ));
            }
            _ => edits.push(TextEdit {
                range,
                new_text: new_name.to_string(),
            }),
        }
    }
    for &u in &uses {
        let Some(range) = source_map.range_for_expr(u) else {
            continue;
        };
        if inheriting_bindings(&module, u).is_some() {
            let attr = text_at(&root, range);
            rewrites.push((range, format!("{attr} = {new_name};")));
        } else {
            edits.push(TextEdit {
                range,
                new_text: new_name.to_string(),
            });
        }
    }
    edits.extend(inherit_edits(&root, rewrites)?);
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    edits.dedup();
    Ok(edits)
}

/// The `inherit` statement containing the attribute at `range`.
fn inherit_node(root: &SyntaxNode, range: TextRange) -> Option<ast::Inherit> {
    let element = root.covering_element(range);
    let start = match element {
        rowan::NodeOrToken::Node(n) => n,
        rowan::NodeOrToken::Token(t) => t.parent()?,
    };
    start.ancestors().find_map(ast::Inherit::cast)
}

/// `e` as the left side of `e.attr`: parenthesised unless it already binds tighter.
fn select_base(e: &ast::Expr) -> String {
    let text = e.syntax().text().to_string();
    match e {
        ast::Expr::Ident(_)
        | ast::Expr::Select(_)
        | ast::Expr::Paren(_)
        | ast::Expr::AttrSet(_)
        | ast::Expr::List(_) => text,
        _ => format!("({text})"),
    }
}

/// Edits that move the given attributes out of their `inherit` statements into the
/// given bindings: a statement losing all its names is replaced; otherwise the names are
/// removed from it and the bindings follow it.
fn inherit_edits(
    root: &SyntaxNode,
    rewrites: Vec<(TextRange, String)>,
) -> Result<Vec<TextEdit>, String> {
    // Keyed by the statement's start, so edits come out in source order.
    let mut by_statement: BTreeMap<TextSize, (ast::Inherit, Vec<(TextRange, String)>)> =
        BTreeMap::new();
    for (range, binding) in rewrites {
        let inherit = inherit_node(root, range).ok_or("no `inherit` around the name")?;
        by_statement
            .entry(inherit.syntax().text_range().start())
            .or_insert_with(|| (inherit, Vec::new()))
            .1
            .push((range, binding));
    }
    let mut edits = Vec::new();
    for (inherit, mut moved) in by_statement.into_values() {
        let stmt_range = inherit.syntax().text_range();
        moved.sort_by_key(|(r, _)| r.start());
        let bindings: Vec<&str> = moved.iter().map(|(_, b)| b.as_str()).collect();
        if inherit.attrs().count() == moved.len() {
            edits.push(TextEdit {
                range: stmt_range,
                new_text: bindings.join(" "),
            });
            continue;
        }
        for (range, _) in &moved {
            edits.push(TextEdit {
                range: TextRange::new(start_with_leading_space(&inherit, *range), range.end()),
                new_text: String::new(),
            });
        }
        edits.push(TextEdit {
            range: TextRange::empty(stmt_range.end()),
            new_text: format!(" {}", bindings.join(" ")),
        });
    }
    Ok(edits)
}

/// Where the whitespace before the attribute at `range` starts, within the statement.
fn start_with_leading_space(inherit: &ast::Inherit, range: TextRange) -> TextSize {
    let mut start = range.start();
    let mut token = inherit
        .syntax()
        .token_at_offset(range.start())
        .right_biased();
    while let Some(prev) = token.and_then(|t| t.prev_token()) {
        if prev.kind() != SyntaxKind::TOKEN_WHITESPACE {
            break;
        }
        start = prev.text_range().start();
        token = Some(prev);
    }
    start
}

/// The source text of the syntax element spanning exactly `range`.
fn text_at(root: &SyntaxNode, range: TextRange) -> String {
    match root.covering_element(range) {
        rowan::NodeOrToken::Node(n) => n.text().to_string(),
        rowan::NodeOrToken::Token(t) => t.text().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    fn check(fixture: &str, new_name: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let shown = match super::rename(&f.db, f.pos(), new_name) {
            Ok(edits) => {
                let mut text = f.pos().file.text(&f.db).clone();
                for e in edits.iter().rev() {
                    text.replace_range(
                        usize::from(e.range.start())..usize::from(e.range.end()),
                        &e.new_text,
                    );
                }
                text
            }
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&shown);
    }

    #[test]
    fn renames_let_and_params() {
        check("let a = 1; in a$0 + a", "b", expect!["let b = 1; in b + b"]);
        check("x$0: { y = x; }", "z", expect!["z: { y = z; }"]);
        check("{ a }@ar$0gs: args.a", "all", expect!["{ a }@all: all.a"]);
    }

    #[test]
    fn refuses_unsafe_renames() {
        check(
            "{ pk$0gs }: pkgs",
            "p",
            expect!["error: `pkgs` is a formal argument: callers pass it by name"],
        );
        check(
            "{ a$0 = 1; }",
            "b",
            expect!["error: `a` is an attribute name"],
        );
        check(
            "let a$0 = 1; in rec { inherit a; b = 2; }",
            "b",
            expect!["error: `b` is already bound where `a` is used"],
        );
        check(
            "let a$0 = 1; in a",
            "if",
            expect!["error: `if` is not a valid Nix identifier"],
        );
        check(
            "let a$0 = 1; b = 2; in a + b",
            "b",
            expect!["error: `b` is already bound where `a` is used"],
        );
        check(
            "let a$0 = 1; in x: a + x",
            "x",
            expect!["error: `x` is already bound where `a` is used"],
        );
        check("ma$0p", "f", expect!["error: `map` is a builtin"]);
        check(
            "let a$0 = 1; b = map; in a b",
            "map",
            expect!["error: renaming would capture the existing use of `map`"],
        );
        check(
            "let a$0 = 1; b = 2; in 3",
            "b",
            expect!["error: `b` is already defined here"],
        );
    }

    #[test]
    fn renaming_a_variable_rewrites_inherit_keeping_the_attribute() {
        check(
            "let x$0 = 1; in { inherit x; }",
            "y",
            expect!["let y = 1; in { x = y; }"],
        );
        // From the `inherit` site: the variable it reads is renamed.
        check(
            "let x = 1; in { inherit x$0; }",
            "y",
            expect!["let y = 1; in { x = y; }"],
        );
        // Other names stay inherited.
        check(
            "let x$0 = 1; z = 2; in { inherit z x; w = x; }",
            "y",
            expect!["let y = 1; z = 2; in { inherit z; x = y; w = y; }"],
        );
        check(
            "let x$0 = 1; z = 2; in { inherit x z; }",
            "y",
            expect!["let y = 1; z = 2; in { inherit z; x = y; }"],
        );
        // An inherit inside a `let` keeps its own binding's name.
        check(
            "x$0: let inherit x; in x",
            "y",
            expect!["y: let x = y; in x"],
        );
        check(
            "let x$0 = 1; in rec { inherit x; z = x; }",
            "y",
            expect!["let y = 1; in rec { x = y; z = x; }"],
        );
    }

    #[test]
    fn inherit_from_is_an_attribute_selection() {
        // Renaming a variable does not touch `inherit (e) x;`, which selects `e.x`.
        check(
            "let x$0 = 1; s = { x = 2; }; in { inherit (s) x; y = x; }",
            "v",
            expect!["let v = 1; s = { x = 2; }; in { inherit (s) x; y = v; }"],
        );
    }

    #[test]
    fn renaming_a_binding_defined_by_inherit() {
        check(
            "x: let inherit x; in x$0",
            "y",
            expect!["x: let y = x; in y"],
        );
        check(
            "s: let inherit (s) a b; in a$0 + b",
            "c",
            expect!["s: let inherit (s) b; c = s.a; in c + b"],
        );
        check(
            "let inherit (import ./x.nix) a$0; in a",
            "c",
            expect!["let c = (import ./x.nix).a; in c"],
        );
        check(
            "x: let inherit x; y = 1; in x$0 + y",
            "y",
            expect!["error: `y` is already bound where `x` is used"],
        );
        // From the `inherit` site the outer `x` is meant, and `x = y;` would read the inner `y`.
        check(
            "x: let inherit x$0; y = 1; in x + y",
            "y",
            expect!["error: `y` is already bound where `x` is used"],
        );
    }

    #[test]
    fn prepare_gives_range() {
        let f = Fixture::new("let abc = 1; in a$0bc");
        let (range, text) = super::prepare_rename(&f.db, f.pos()).unwrap();
        assert_eq!(
            (f.text_of(range), text),
            ("abc".to_string(), "abc".to_string())
        );
    }
}
