//! Completion: names in scope, builtins, keywords, and attribute names of sets the file
//! (or a file it imports) defines literally.

use std::collections::HashSet;

use crate::builtins::{self, BUILTINS};
use crate::db::{self, Db, SourceFile};
use crate::def::scope::{ResolveResult, ScopeKind};
use crate::def::{BindingValue, Expr, ExprId, Literal, NameKind};
use crate::ide::{FilePos, TextRange};
use crate::syntax::ast::{self, AstNode};
use crate::syntax::SyntaxKind;

/// What a completion item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// A `let` binding.
    LetBinding,
    /// A lambda parameter or formal.
    Param,
    /// An attribute of an enclosing `rec` set.
    RecAttr,
    /// An attribute of a set (after `.`).
    Attr,
    /// A builtin function.
    BuiltinFunction,
    /// A builtin constant.
    BuiltinConstant,
    /// A keyword.
    Keyword,
}

/// One completion item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    /// Text shown and inserted.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A short detail (a builtin's signature).
    pub detail: Option<String>,
    /// Markdown documentation.
    pub documentation: Option<String>,
    /// The range the label replaces (the identifier being typed).
    pub replace: TextRange,
}

const EXPR_KEYWORDS: &[&str] = &["assert", "if", "let", "rec", "with"];

/// Completions at a position.
pub fn completions(db: &dyn Db, pos: FilePos) -> Option<Vec<CompletionItem>> {
    let root = db::parse(db, pos.file).syntax();
    let token = root.token_at_offset(pos.offset).left_biased()?;
    let (replace, before) = if matches!(
        token.kind(),
        SyntaxKind::TOKEN_IDENT | SyntaxKind::TOKEN_OR_KW
    ) || token.kind().is_keyword()
    {
        (
            TextRange::new(token.text_range().start(), pos.offset),
            token.prev_token(),
        )
    } else {
        (TextRange::empty(pos.offset), Some(token.clone()))
    };
    // After a dot: attribute names of the set on the left.
    let before = before.filter(|t| !t.kind().is_trivia() || t.kind() == SyntaxKind::TOKEN_DOT);
    if before.as_ref().map(|t| t.kind()) == Some(SyntaxKind::TOKEN_DOT) {
        let dot = before.unwrap();
        return Some(attr_completions(db, pos.file, &dot, replace).unwrap_or_default());
    }
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let module = db::module(db, pos.file);
    let source_map = db::source_map(db, pos.file);
    let scopes = db::scopes(db, pos.file);
    let expr = token
        .parent_ancestors()
        .find_map(|n| source_map.expr_for_range(n.text_range()))
        .or(module.entry);
    if let Some(scope) = expr.and_then(|e| scopes.scope_for_expr(e)) {
        for data in scopes.ancestors(scope) {
            if let ScopeKind::Definitions(defs) = &data.kind {
                let mut names: Vec<_> = defs.iter().collect();
                names.sort();
                for (text, &name) in names {
                    if !seen.insert(text.to_string()) {
                        continue;
                    }
                    let kind = match module.names[name].kind {
                        NameKind::LetIn => CompletionKind::LetBinding,
                        NameKind::RecAttrset | NameKind::PlainAttrset => CompletionKind::RecAttr,
                        NameKind::Param | NameKind::PatField => CompletionKind::Param,
                    };
                    items.push(CompletionItem {
                        label: text.to_string(),
                        kind,
                        detail: None,
                        documentation: None,
                        replace,
                    });
                }
            }
        }
    }
    for b in BUILTINS.iter().filter(|b| b.global) {
        if seen.insert(b.name.to_string()) {
            items.push(builtin_item(b, replace));
        }
    }
    let in_bindings = token.parent_ancestors().next().is_some_and(|n| {
        matches!(
            n.kind(),
            SyntaxKind::NODE_ATTR_SET | SyntaxKind::NODE_LET_IN | SyntaxKind::NODE_ATTRPATH
        )
    });
    let keywords: &[&str] = if in_bindings {
        &["inherit"]
    } else {
        EXPR_KEYWORDS
    };
    for kw in keywords {
        items.push(CompletionItem {
            label: kw.to_string(),
            kind: CompletionKind::Keyword,
            detail: None,
            documentation: None,
            replace,
        });
    }
    Some(items)
}

fn builtin_item(b: &builtins::Builtin, replace: TextRange) -> CompletionItem {
    CompletionItem {
        label: b.name.to_string(),
        kind: if b.is_function() {
            CompletionKind::BuiltinFunction
        } else {
            CompletionKind::BuiltinConstant
        },
        detail: Some(b.signature.to_string()),
        documentation: Some(b.description.to_string()),
        replace,
    }
}

/// Attribute completions after `set.` or `set.a.`.
fn attr_completions(
    db: &dyn Db,
    file: SourceFile,
    dot: &crate::syntax::SyntaxToken,
    replace: TextRange,
) -> Option<Vec<CompletionItem>> {
    let select = dot
        .parent_ancestors()
        .find_map(|n| {
            ast::Select::cast(n.clone())
                .map(Into::into)
                .or_else(|| ast::HasAttr::cast(n).map(Into::into))
        })
        .map(|e: ast::Expr| e)?;
    let (set_expr, attrpath) = match &select {
        ast::Expr::Select(s) => (s.expr()?, s.attrpath()),
        ast::Expr::HasAttr(h) => (h.expr()?, h.attrpath()),
        _ => return None,
    };
    // Attribute names written before the dot being completed.
    let mut path = Vec::new();
    for attr in attrpath.iter().flat_map(|p| p.attrs()) {
        if attr.syntax().text_range().start() >= dot.text_range().start() {
            break;
        }
        path.push(attr.static_name()?);
    }
    let source_map = db::source_map(db, file);
    let expr = source_map.expr_for_range(set_expr.syntax().text_range())?;
    let names = static_attrs(db, file, expr, &path, 0)?;
    Some(
        names
            .into_iter()
            .map(|(label, doc)| match doc {
                Some(b) => builtin_item(b, replace),
                None => CompletionItem {
                    label,
                    kind: CompletionKind::Attr,
                    detail: None,
                    documentation: None,
                    replace,
                },
            })
            .collect(),
    )
}

type AttrNames = Vec<(String, Option<&'static builtins::Builtin>)>;

/// The attribute names of `expr` selected by `path`, when they are known without evaluation.
pub fn static_attrs(
    db: &dyn Db,
    file: SourceFile,
    expr: ExprId,
    path: &[String],
    depth: u32,
) -> Option<AttrNames> {
    let (file, expr) = resolve_set(db, file, expr, depth)?;
    let module = db::module(db, file);
    if let Some((first, rest)) = path.split_first() {
        let child = match &module.exprs[expr] {
            Expr::Attrset(b) | Expr::RecAttrset(b) => b.statics.iter().find_map(|(n, v)| {
                if &*module.names[*n].text != first.as_str() {
                    return None;
                }
                match v {
                    BindingValue::Expr(e) | BindingValue::Inherit(e) => Some(*e),
                    BindingValue::InheritFrom(_) => None,
                }
            })?,
            _ => return None,
        };
        return static_attrs(db, file, child, rest, depth + 1);
    }
    match &module.exprs[expr] {
        Expr::Attrset(b) | Expr::RecAttrset(b) => Some(
            b.statics
                .iter()
                .map(|(n, _)| (module.names[*n].text.to_string(), None))
                .collect(),
        ),
        Expr::Reference(name) if &**name == "builtins" => Some(
            BUILTINS
                .iter()
                .map(|b| (b.name.to_string(), Some(b)))
                .collect(),
        ),
        _ => None,
    }
}

/// Follows references, `import ./file.nix`, lambdas and `let` bodies to a set expression.
fn resolve_set(
    db: &dyn Db,
    file: SourceFile,
    expr: ExprId,
    depth: u32,
) -> Option<(SourceFile, ExprId)> {
    if depth > 16 {
        return None;
    }
    let module = db::module(db, file);
    match &module.exprs[expr] {
        Expr::Attrset(_) | Expr::RecAttrset(_) => Some((file, expr)),
        Expr::Reference(_) => match db::name_resolution(db, file).get(expr)? {
            ResolveResult::Definition(name) => match module.binding_of(*name)?.2 {
                BindingValue::Expr(e) | BindingValue::Inherit(e) => {
                    resolve_set(db, file, *e, depth + 1)
                }
                BindingValue::InheritFrom(_) => None,
            },
            ResolveResult::Builtin("builtins") => Some((file, expr)),
            _ => None,
        },
        Expr::LetIn(_, body) | Expr::Lambda(_, _, body) | Expr::With(_, body) => {
            resolve_set(db, file, *body, depth + 1)
        }
        Expr::Apply(f, arg) => {
            // `import ./file.nix` (possibly applied to arguments: `import ./lib.nix { }`).
            if let Expr::Reference(n) = &module.exprs[*f] {
                if &**n == "import" {
                    if let Expr::Literal(Literal::Path(p)) = &module.exprs[*arg] {
                        let target = db::file_for_path(db, file, p)?;
                        let entry = db::module(db, target).entry?;
                        return resolve_set(db, target, entry, depth + 1);
                    }
                }
            }
            resolve_set(db, file, *f, depth + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let items = super::completions(&f.db, f.pos()).unwrap_or_default();
        let shown: Vec<String> = items
            .iter()
            .filter(|i| {
                !matches!(
                    i.kind,
                    super::CompletionKind::BuiltinFunction | super::CompletionKind::BuiltinConstant
                ) || i.label.starts_with("to")
            })
            .map(|i| format!("{:?} {}", i.kind, i.label))
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn names_in_scope_inner_first() {
        check(
            "{ pkgs, ... }: let a = 1; b = 2; in x: a$0",
            expect![[r#"
                Param x
                LetBinding a
                LetBinding b
                Param pkgs
                BuiltinFunction toString
                Keyword assert
                Keyword if
                Keyword let
                Keyword rec
                Keyword with"#]],
        );
    }

    #[test]
    fn attrs_of_local_set() {
        check(
            "let s = { a = 1; b.c = 2; }; in s.$0",
            expect![[r#"
                Attr a
                Attr b"#]],
        );
        check(
            "let s = { a = 1; b.c = 2; d = 3; }; in s.b.$0",
            expect!["Attr c"],
        );
    }

    #[test]
    fn attrs_of_imported_file() {
        check(
            r#"
//- /lib.nix
{ ... }: { mkThing = x: x; other = 1; }
//- /default.nix
let lib = import ./lib.nix { }; in lib.mk$0
"#,
            expect![[r#"
                Attr mkThing
                Attr other"#]],
        );
    }

    #[test]
    fn builtins_attrs_have_docs() {
        let f = Fixture::new("builtins.attrN$0");
        let items = super::completions(&f.db, f.pos()).unwrap();
        let item = items.iter().find(|i| i.label == "attrNames").unwrap();
        assert_eq!(
            item.detail.as_deref(),
            Some("attrNames :: AttrSet -> [String]")
        );
        assert_eq!(f.text_of(item.replace), "attrN");
    }
}
