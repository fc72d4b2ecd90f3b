//! Selection ranges: from the token under the cursor outwards through enclosing nodes.

use crate::db::{self, Db};
use crate::ide::{token_at, FilePos, TextRange};

/// Ranges enclosing the position, innermost first, each strictly larger than the last.
pub fn selection_ranges(db: &dyn Db, pos: FilePos) -> Vec<TextRange> {
    let root = db::parse(db, pos.file).syntax();
    let Some(token) = token_at(&root, pos.offset) else {
        return Vec::new();
    };
    let mut out = vec![token.text_range()];
    for node in token.parent_ancestors() {
        let r = node.text_range();
        if out.last().is_some_and(|last| *last != r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::Fixture;

    #[test]
    fn grows_outwards() {
        let f = Fixture::new("{ a = [ 1 (f x$0) ]; }");
        let shown: Vec<String> = super::selection_ranges(&f.db, f.pos())
            .into_iter()
            .map(|r| f.text_of(r))
            .collect();
        assert_eq!(
            shown,
            vec![
                "x",
                "f x",
                "(f x)",
                "[ 1 (f x) ]",
                "a = [ 1 (f x) ];",
                "{ a = [ 1 (f x) ]; }"
            ]
        );
    }
}
