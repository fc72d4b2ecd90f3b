//! Rename with prepareRename. Only `let` bindings and lambda parameters (`x:`, `@ x`) are
//! renamed: attribute names and pattern formals are part of an interface callers use,
//! and a name also read by `inherit x;` would change the inheriting set's attribute.

use crate::db::{self, Db};
use crate::def::scope::ResolveResult;
use crate::def::{BindingValue, Expr, NameId, NameKind};
use crate::ide::references::target_name;
use crate::ide::{is_valid_ident, name_at, FilePos, TextEdit, TextRange};

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
    let inherited = db::name_resolution(db, pos.file)
        .references_to(name)
        .into_iter()
        .any(|r| is_inherit_reference(&module, r));
    if inherited {
        return Err(format!(
            "`{}` is inherited into a set, whose attribute would be renamed too",
            n.text
        ));
    }
    Ok(())
}

fn is_inherit_reference(module: &crate::def::Module, reference: crate::def::ExprId) -> bool {
    module.exprs.iter().any(|(_, e)| match e {
        Expr::LetIn(b, _) | Expr::Attrset(b) | Expr::RecAttrset(b) => b
            .statics
            .iter()
            .any(|(_, v)| *v == BindingValue::Inherit(reference)),
        _ => false,
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
    let def_scope = scopes
        .scope_defining(name)
        .ok_or("definition has no scope")?;
    let uses = resolution.references_to(name);
    // The new name must not be captured by, or capture, another binding.
    for &u in &uses {
        if let Some(scope) = scopes.scope_for_expr(u) {
            if let Some(ResolveResult::Definition(other)) = scopes.resolve_name(scope, new_name) {
                if other != name {
                    return Err(format!(
                        "`{new_name}` is already bound where `{}` is used",
                        module.names[name].text
                    ));
                }
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
    if let crate::def::scope::ScopeKind::Definitions(defs) =
        &scopes.ancestors(def_scope).next().unwrap().kind
    {
        if defs.contains_key(new_name) {
            return Err(format!("`{new_name}` is already defined here"));
        }
    }
    let mut edits: Vec<TextEdit> = source_map
        .ranges_for_name(name)
        .iter()
        .chain(uses.iter().filter_map(|u| source_map.expr_map_rev.get(u)))
        .map(|r| TextEdit {
            range: *r,
            new_text: new_name.to_string(),
        })
        .collect();
    edits.sort_by_key(|e| e.range.start());
    edits.dedup();
    Ok(edits)
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
            "let a$0 = 1; in { inherit a; }",
            "b",
            expect!["error: `a` is inherited into a set, whose attribute would be renamed too"],
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
    fn prepare_gives_range() {
        let f = Fixture::new("let abc = 1; in a$0bc");
        let (range, text) = super::prepare_rename(&f.db, f.pos()).unwrap();
        assert_eq!(
            (f.text_of(range), text),
            ("abc".to_string(), "abc".to_string())
        );
    }
}
