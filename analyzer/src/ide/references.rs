//! References: every use of a definition in the file (and the definition itself).

use crate::db::{self, Db};
use crate::def::scope::ResolveResult;
use crate::def::NameId;
use crate::ide::{name_at, FilePos, TextRange};

/// The definition a position refers to (at a definition site, or through a resolved use).
pub fn target_name(db: &dyn Db, pos: FilePos) -> Option<NameId> {
    let at = name_at(db, pos)?;
    match (&at.reference, at.definition) {
        // `inherit x;` defines and uses `x`: the cursor is on the use's target.
        (Some((_, Some(ResolveResult::Definition(n)))), _) => Some(*n),
        (_, Some(n)) => Some(n),
        _ => None,
    }
}

/// Ranges of the uses of the definition under the cursor, plus its definition sites when asked.
pub fn references(db: &dyn Db, pos: FilePos, include_declaration: bool) -> Option<Vec<TextRange>> {
    let name = target_name(db, pos)?;
    let source_map = db::source_map(db, pos.file);
    let mut out = Vec::new();
    if include_declaration {
        out.extend_from_slice(source_map.ranges_for_name(name));
    }
    for e in db::name_resolution(db, pos.file).references_to(name) {
        out.extend(source_map.range_for_expr(e));
    }
    out.sort_by_key(|r| r.start());
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let ranges = super::references(&f.db, f.pos(), true).unwrap_or_default();
        expect.assert_eq(&f.mark(f.pos().file, &ranges));
    }

    #[test]
    fn uses_and_definition() {
        check(
            "let a$0 = 1; b = a + a; in { inherit a; c = a; }",
            expect!["let <a> = 1; b = <a> + <a>; in { inherit <a>; c = <a>; }"],
        );
        check("x: y: x$0 + y", expect!["<x>: y: <x> + y"]);
        check("a: (a: a$0) a", expect!["a: (<a>: <a>) a"]);
    }
}
