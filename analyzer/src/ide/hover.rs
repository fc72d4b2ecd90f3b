//! Hover: what a name is and where it is defined, builtin docs, literal values.

use crate::builtins;
use crate::db::{self, Db};
use crate::def::scope::ResolveResult;
use crate::def::{BindingValue, Expr, Literal, NameId, NameKind};
use crate::ide::{name_at, token_at, FilePos, TextRange};
use crate::syntax::ast::{self, AstNode};
use crate::syntax::SyntaxKind;

/// Hover text for a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    /// The hovered range.
    pub range: TextRange,
    /// Markdown shown to the user.
    pub markdown: String,
}

/// Hover at a position.
pub fn hover(db: &dyn Db, pos: FilePos) -> Option<HoverResult> {
    if let Some(h) = builtin_attr_hover(db, pos) {
        return Some(h);
    }
    let at = name_at(db, pos)?;
    let markdown = match (&at.reference, &at.definition) {
        (Some((_, Some(ResolveResult::Definition(name)))), _) | (None, Some(name)) => {
            describe_name(db, pos, *name)
        }
        (Some((_, Some(ResolveResult::Builtin(b)))), _) => describe_builtin(b)?,
        (Some((_, Some(ResolveResult::WithExprs(withs)))), _) => {
            let source_map = db::source_map(db, pos.file);
            let text = pos.file.text(db);
            let envs: Vec<String> = withs
                .iter()
                .filter_map(|w| {
                    let module = db::module(db, pos.file);
                    let Expr::With(env, _) = module.exprs[*w] else {
                        return None;
                    };
                    source_map.range_for_expr(env).map(|r| text[r].to_string())
                })
                .collect();
            format!(
                "`{}`: not bound lexically; looked up in `with {}` at run time",
                at.text,
                envs.join("`, then `with ")
            )
        }
        (Some((_, None)), _) => format!("`{}`: undefined variable", at.text),
        (None, None) => return None,
    };
    Some(HoverResult {
        range: at.range,
        markdown,
    })
}

fn describe_builtin(name: &str) -> Option<String> {
    if let Some(b) = builtins::lookup(name) {
        return Some(format!("```nix\n{}\n```\n{}", b.signature, b.description));
    }
    builtins::EXTRA_GLOBALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, d)| format!("`{n}`\n\n{d}"))
}

fn describe_name(db: &dyn Db, pos: FilePos, name: NameId) -> String {
    let module = db::module(db, pos.file);
    let source_map = db::source_map(db, pos.file);
    let n = &module.names[name];
    let what = match n.kind {
        NameKind::LetIn => "let binding",
        NameKind::PlainAttrset => "attribute",
        NameKind::RecAttrset => "attribute of a `rec` set",
        NameKind::Param => "lambda parameter",
        NameKind::PatField => "formal argument",
    };
    let line = source_map
        .range_for_name(name)
        .map(|r| db::line_index(db, pos.file).line_col(r.start()).line + 1);
    let mut out = format!("```nix\n{}", n.text);
    if let Some((_, _, BindingValue::Expr(e))) = module.binding_of(name) {
        if let Expr::Literal(lit) = &module.exprs[*e] {
            let shown = match lit {
                Literal::Int(i) => i.to_string(),
                Literal::Float(f) | Literal::Path(f) | Literal::Uri(f) => f.to_string(),
                Literal::String(s) if s.len() <= 200 && !s.contains('\n') => format!("{s:?}"),
                Literal::String(_) => "\"…\"".into(),
            };
            out.push_str(&format!(" = {shown}"));
        }
    }
    out.push_str("\n```\n");
    out.push_str(what);
    if let Some(line) = line {
        out.push_str(&format!(", defined on line {line}"));
    }
    out
}

/// `builtins.name`: the builtin's documentation.
fn builtin_attr_hover(db: &dyn Db, pos: FilePos) -> Option<HoverResult> {
    let root = db::parse(db, pos.file).syntax();
    let token = token_at(&root, pos.offset)?;
    if token.kind() != SyntaxKind::TOKEN_IDENT {
        return None;
    }
    let ident = token.parent()?;
    let select = ident.parent()?.parent().and_then(ast::Select::cast)?;
    let set = select.expr()?;
    let source_map = db::source_map(db, pos.file);
    let set_expr = source_map.expr_for_range(set.syntax().text_range())?;
    let resolution = db::name_resolution(db, pos.file);
    if resolution.get(set_expr) != Some(&ResolveResult::Builtin("builtins")) {
        return None;
    }
    let first = select.attrpath()?.attrs().next()?;
    if first.syntax().text_range() != ident.text_range() {
        return None;
    }
    Some(HoverResult {
        range: ident.text_range(),
        markdown: describe_builtin(token.text())?,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let h = super::hover(&f.db, f.pos());
        let shown = h.map_or("none".to_string(), |h| {
            format!("[{}]\n{}", f.text_of(h.range), h.markdown)
        });
        expect.assert_eq(&shown);
    }

    #[test]
    fn let_binding_with_literal_value() {
        check(
            "let\n  port = 8080;\nin po$0rt",
            expect![[r#"
                [port]
                ```nix
                port = 8080
                ```
                let binding, defined on line 2"#]],
        );
    }

    #[test]
    fn builtin_global_and_attr() {
        check(
            "ma$0p f xs",
            expect![[r#"
                [map]
                ```nix
                map :: (a -> b) -> [a] -> [b]
                ```
                Applies a function to every list element."#]],
        );
        check(
            "builtins.attrNa$0mes { }",
            expect![[r#"
                [attrNames]
                ```nix
                attrNames :: AttrSet -> [String]
                ```
                The names of a set's attributes, in sorted order."#]],
        );
    }

    #[test]
    fn with_variable_and_formal() {
        check(
            "{ pkgs }: with pkgs; hel$0lo",
            expect!["[hello]\n`hello`: not bound lexically; looked up in `with pkgs` at run time"],
        );
        check(
            "{ pk$0gs }: pkgs",
            expect![[r#"
                [pkgs]
                ```nix
                pkgs
                ```
                formal argument, defined on line 1"#]],
        );
    }
}
