//! Document highlight: the definition and uses of the name under the cursor.

use crate::db::{self, Db};
use crate::ide::references::target_name;
use crate::ide::{FilePos, TextRange};

/// One highlighted range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighlightRange {
    /// The range.
    pub range: TextRange,
    /// A definition site (as opposed to a use).
    pub is_definition: bool,
}

/// Highlights for the name under the cursor.
pub fn highlight(db: &dyn Db, pos: FilePos) -> Option<Vec<HighlightRange>> {
    let name = target_name(db, pos)?;
    let source_map = db::source_map(db, pos.file);
    let mut out: Vec<HighlightRange> = source_map
        .ranges_for_name(name)
        .iter()
        .map(|r| HighlightRange {
            range: *r,
            is_definition: true,
        })
        .collect();
    for e in db::name_resolution(db, pos.file).references_to(name) {
        if let Some(range) = source_map.range_for_expr(e) {
            // `inherit x;` is both; keep it once, as a use.
            out.retain(|h| h.range != range);
            out.push(HighlightRange {
                range,
                is_definition: false,
            });
        }
    }
    out.sort_by_key(|h| h.range.start());
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::Fixture;

    #[test]
    fn definition_and_uses() {
        let f = Fixture::new("let a = 1; in a$0 + a");
        let hs = super::highlight(&f.db, f.pos()).unwrap();
        let shown: Vec<(String, bool)> = hs
            .iter()
            .map(|h| (format!("{:?}", h.range), h.is_definition))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("4..5".to_string(), true),
                ("14..15".to_string(), false),
                ("18..19".to_string(), false)
            ]
        );
    }
}
