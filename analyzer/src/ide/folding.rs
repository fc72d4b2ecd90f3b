//! Folding ranges: sets, lets, lists, multi-line strings, patterns and comment blocks.

use crate::db::{self, Db, SourceFile};
use crate::ide::TextRange;
use crate::syntax::SyntaxKind;

/// What a folding range covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    /// Comments.
    Comment,
    /// Code.
    Region,
}

/// One foldable range (the server drops those on a single line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The range.
    pub range: TextRange,
    /// What it is.
    pub kind: FoldKind,
}

/// Foldable ranges of a file.
pub fn folding_ranges(db: &dyn Db, file: SourceFile) -> Vec<Fold> {
    use SyntaxKind::*;
    let root = db::parse(db, file).syntax();
    let mut out = Vec::new();
    let mut comment_run: Option<TextRange> = None;
    for element in root.descendants_with_tokens() {
        match element {
            rowan::NodeOrToken::Node(n) => {
                if matches!(
                    n.kind(),
                    NODE_ATTR_SET
                        | NODE_LET_IN
                        | NODE_LIST
                        | NODE_STRING
                        | NODE_PATTERN
                        | NODE_LEGACY_LET
                ) && n.text().contains_char('\n')
                {
                    out.push(Fold {
                        range: n.text_range(),
                        kind: FoldKind::Region,
                    });
                }
            }
            rowan::NodeOrToken::Token(t) => match t.kind() {
                TOKEN_COMMENT => {
                    comment_run =
                        Some(comment_run.map_or(t.text_range(), |r| r.cover(t.text_range())));
                }
                // A run of line comments continues across single newlines only.
                TOKEN_WHITESPACE if t.text().matches('\n').count() <= 1 => {}
                _ => {
                    if let Some(r) = comment_run.take() {
                        out.push(Fold {
                            range: r,
                            kind: FoldKind::Comment,
                        });
                    }
                }
            },
        }
    }
    if let Some(r) = comment_run {
        out.push(Fold {
            range: r,
            kind: FoldKind::Comment,
        });
    }
    out.sort_by_key(|f| f.range.start());
    out
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::Fixture;

    #[test]
    fn multi_line_constructs() {
        let f = Fixture::new("# a\n# b\n{\n  x = [\n    1\n  ];\n  y = 2;\n}\n");
        let shown: Vec<String> = super::folding_ranges(&f.db, f.files[0])
            .into_iter()
            .map(|fold| format!("{:?} {:?}", fold.kind, f.text_of(fold.range)))
            .collect();
        assert_eq!(
            shown,
            vec![
                "Comment \"# a\\n# b\"",
                "Region \"{\\n  x = [\\n    1\\n  ];\\n  y = 2;\\n}\"",
                "Region \"[\\n    1\\n  ]\"",
            ]
        );
    }
}
