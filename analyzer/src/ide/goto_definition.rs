//! Goto definition: names, `inherit`, `with` variables, path literals, `import ./x.nix`.

use crate::db::{self, Db};
use crate::def::scope::ResolveResult;
use crate::def::{Expr, Literal};
use crate::ide::{name_at, token_at, FilePos, NavFile, NavTarget};
use crate::syntax::SyntaxKind;

/// Where the thing under the cursor is defined.
pub fn goto_definition(db: &dyn Db, pos: FilePos) -> Option<Vec<NavTarget>> {
    if let Some(target) = path_target(db, pos) {
        return Some(vec![target]);
    }
    let at = name_at(db, pos)?;
    let source_map = db::source_map(db, pos.file);
    let module = db::module(db, pos.file);
    let name = match &at.reference {
        Some((_, Some(ResolveResult::Definition(n)))) => *n,
        Some((_, Some(ResolveResult::WithExprs(withs)))) => {
            // The `with` environments the variable may come from, innermost first.
            return Some(
                withs
                    .iter()
                    .filter_map(|w| match module.exprs[*w] {
                        Expr::With(env, _) => source_map.range_for_expr(env),
                        _ => None,
                    })
                    .map(|r| NavTarget {
                        file: NavFile::Same,
                        range: Some(r),
                    })
                    .collect(),
            );
        }
        Some((_, _)) => return None,
        None => at.definition?,
    };
    Some(
        source_map
            .ranges_for_name(name)
            .iter()
            .map(|r| NavTarget {
                file: NavFile::Same,
                range: Some(*r),
            })
            .collect(),
    )
}

/// A relative or absolute path literal under the cursor, or `import` applied to one.
fn path_target(db: &dyn Db, pos: FilePos) -> Option<NavTarget> {
    let root = db::parse(db, pos.file).syntax();
    let token = token_at(&root, pos.offset)?;
    let source_map = db::source_map(db, pos.file);
    let module = db::module(db, pos.file);
    let path_expr = match token.kind() {
        SyntaxKind::TOKEN_PATH => {
            let node = token.parent()?;
            source_map.expr_for_range(node.text_range())?
        }
        SyntaxKind::TOKEN_IDENT if token.text() == "import" => {
            let reference = source_map.expr_for_range(token.parent()?.text_range())?;
            // `import` applied to a path.
            module.exprs.iter().find_map(|(_, e)| match e {
                Expr::Apply(f, arg) if *f == reference => Some(*arg),
                _ => None,
            })?
        }
        _ => return None,
    };
    let Expr::Literal(Literal::Path(p)) = &module.exprs[path_expr] else {
        return None;
    };
    let target = db::resolve_path(pos.file.path(db), p)?;
    Some(NavTarget {
        file: NavFile::Path(target),
        range: None,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;
    use crate::ide::NavFile;

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let targets = super::goto_definition(&f.db, f.pos()).unwrap_or_default();
        let mut out = Vec::new();
        let mut ranges = Vec::new();
        for t in targets {
            match t.file {
                NavFile::Same => ranges.extend(t.range),
                NavFile::Path(p) => out.push(format!("file {p}")),
            }
        }
        if !ranges.is_empty() {
            out.push(f.mark(f.pos().file, &ranges));
        }
        expect.assert_eq(&out.join("\n"));
    }

    #[test]
    fn let_and_lambda() {
        check("let a = 1; in a$0", expect!["let <a> = 1; in a"]);
        check("a: b: a$0", expect!["<a>: b: a"]);
        check("{ x ? 1 }@args: ar$0gs", expect!["{ x ? 1 }@<args>: args"]);
        check("a: (a: (a $0a)) 1", expect!["a: (<a>: (a a)) 1"]);
    }

    #[test]
    fn rec_inherit_and_merged_paths() {
        check(
            "rec { a = 1; b = a$0; }",
            expect!["rec { <a> = 1; b = a; }"],
        );
        check(
            "let x = 1; in { inherit x$0; }",
            expect!["let <x> = 1; in { inherit x; }"],
        );
        check(
            "let a.b = 1; a.c = 2; in a$0",
            expect!["let <a>.b = 1; <a>.c = 2; in a"],
        );
    }

    #[test]
    fn with_and_builtins() {
        check("with { a = 1; }; a$0", expect!["with <{ a = 1; }>; a"]);
        check("map$0", expect![""]);
    }

    #[test]
    fn paths_and_imports() {
        check(
            "//- /w/default.nix\nimport ./sub/x.nix$0",
            expect!["file /w/sub/x.nix"],
        );
        check(
            "//- /w/default.nix\nimpo$0rt ../y.nix",
            expect!["file /y.nix"],
        );
    }
}
