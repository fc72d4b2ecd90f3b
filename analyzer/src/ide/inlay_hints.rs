//! Inlay hints: after the closing brace of a long set or `let`, the name of its binding,
//! so the end of a big `services.foo = { … };` block says what it closes.

use crate::db::{self, Db, SourceFile};
use crate::def::{BindingValue, Expr};
use crate::ide::{TextRange, TextSize};

/// One hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the label goes.
    pub offset: TextSize,
    /// The label.
    pub label: String,
}

/// Sets spanning at least this many lines get a closing hint.
const MIN_LINES: u32 = 10;

/// Hints in a file (optionally only within `range`).
pub fn inlay_hints(db: &dyn Db, file: SourceFile, range: Option<TextRange>) -> Vec<InlayHint> {
    let module = db::module(db, file);
    let source_map = db::source_map(db, file);
    let index = db::line_index(db, file);
    let mut out = Vec::new();
    for (_, e) in module.exprs.iter() {
        let (Expr::Attrset(b) | Expr::RecAttrset(b) | Expr::LetIn(b, _)) = e else {
            continue;
        };
        for (name, value) in b.statics.iter() {
            let BindingValue::Expr(v) = value else {
                continue;
            };
            if !matches!(module.exprs[*v], Expr::Attrset(_) | Expr::RecAttrset(_)) {
                continue;
            }
            let Some(r) = source_map.range_for_expr(*v) else {
                continue;
            };
            let lines = index.line_col(r.end()).line - index.line_col(r.start()).line;
            if lines < MIN_LINES || range.is_some_and(|q| !q.contains_inclusive(r.end())) {
                continue;
            }
            out.push(InlayHint {
                offset: r.end(),
                label: format!("# {}", module.names[*name].text),
            });
        }
    }
    out.sort_by_key(|h| h.offset);
    out
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::Fixture;

    #[test]
    fn closing_brace_of_long_sets() {
        let body = "    a = 1;\n".repeat(10);
        let f = Fixture::new(&format!(
            "{{\n  web = {{\n{body}  }};\n  short = {{ b = 1; }};\n}}\n"
        ));
        let hints = super::inlay_hints(&f.db, f.files[0], None);
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].label, "# web");
        let text = f.files[0].text(&f.db);
        assert_eq!(
            &text[..usize::from(hints[0].offset)].trim_end()
                [text[..usize::from(hints[0].offset)].trim_end().len() - 1..],
            "}"
        );
    }
}
