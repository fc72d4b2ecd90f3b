//! Quick fixes: remove an unused binding or formal, remove a useless `rec` or `with`,
//! and turn `x = x;` / `x = y.x;` into `inherit`.

use crate::db::{self, Db, SourceFile};
use crate::def::NameKind;
use crate::diagnostics::DiagnosticKind;
use crate::ide::diagnostics::with_header_range;
use crate::ide::{TextEdit, TextRange, TextSize};
use crate::syntax::ast::{self, AstNode};
use crate::syntax::{SyntaxKind, SyntaxNode};

/// A code action: a title and the edits it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assist {
    /// Shown in the editor's menu.
    pub title: String,
    /// Edits to the file.
    pub edits: Vec<TextEdit>,
    /// Whether editors may apply it automatically as the fix.
    pub preferred: bool,
}

/// Code actions for a range: fixes for the diagnostics it touches, and rewrites there.
pub fn code_actions(db: &dyn Db, file: SourceFile, range: TextRange) -> Vec<Assist> {
    let text = file.text(db);
    let root = db::parse(db, file).syntax();
    let module = db::module(db, file);
    let source_map = db::source_map(db, file);
    let mut out = Vec::new();
    for d in db::diagnostics(db, file).iter() {
        if d.range.intersect(range).is_none() {
            continue;
        }
        match d.kind {
            DiagnosticKind::UnusedBinding
            | DiagnosticKind::UnusedFormal
            | DiagnosticKind::UnusedParam => {
                let Some(name) = source_map.name_for_range(d.range) else {
                    continue;
                };
                let n = &module.names[name];
                let Some(binding) = source_map.binding_ranges.get(&name).copied() else {
                    continue;
                };
                let edit = match n.kind {
                    NameKind::LetIn => {
                        // `inherit a b;`: drop just this name unless it is the only one.
                        match root
                            .covering_element(binding)
                            .ancestors()
                            .find_map(ast::Inherit::cast)
                        {
                            Some(inh) if inh.attrs().count() > 1 => {
                                delete_with_space_before(text, binding)
                            }
                            Some(inh) => delete_line_aware(text, inh.syntax().text_range()),
                            None => delete_line_aware(text, binding),
                        }
                    }
                    NameKind::PatField => delete_formal(&root, text, binding),
                    _ => continue,
                };
                out.push(Assist {
                    title: format!("Remove unused `{}`", n.text),
                    edits: vec![edit],
                    preferred: true,
                });
            }
            DiagnosticKind::UselessRec => out.push(Assist {
                title: "Remove useless `rec`".into(),
                edits: vec![delete_with_space_after(text, d.range)],
                preferred: true,
            }),
            DiagnosticKind::UnusedWith => {
                let with = root
                    .covering_element(d.range)
                    .ancestors()
                    .find_map(ast::With::cast);
                if let Some(header) = with.as_ref().and_then(with_header_range) {
                    out.push(Assist {
                        title: "Remove unused `with`".into(),
                        edits: vec![delete_with_space_after(text, header)],
                        preferred: true,
                    });
                }
            }
            _ => {}
        }
    }
    out.extend(inherit_rewrite(&root, range));
    out
}

/// `x = x;` (in a plain set) or `x = y.x;` under the cursor, rewritten to `inherit`.
fn inherit_rewrite(root: &SyntaxNode, range: TextRange) -> Option<Assist> {
    let apv = root
        .covering_element(range)
        .ancestors()
        .find_map(ast::AttrpathValue::cast)?;
    let attrs: Vec<ast::Attr> = apv.attrpath()?.attrs().collect();
    let [ast::Attr::Ident(key)] = attrs.as_slice() else {
        return None;
    };
    let name = key.name();
    let parent = apv.syntax().parent()?;
    let replacement = match apv.value()? {
        ast::Expr::Ident(v) if v.name() == name => {
            // In `let`/`rec`, `x = x;` refers to itself; `inherit x;` would not.
            let plain = ast::AttrSet::cast(parent).is_some_and(|s| !s.is_rec());
            if !plain {
                return None;
            }
            format!("inherit {name};")
        }
        ast::Expr::Select(sel) if sel.default_expr().is_none() => {
            let path: Vec<ast::Attr> = sel.attrpath()?.attrs().collect();
            let [last] = path.as_slice() else { return None };
            if last.static_name()? != name {
                return None;
            }
            let from = sel.expr()?;
            format!("inherit ({}) {name};", from.syntax().text())
        }
        _ => return None,
    };
    Some(Assist {
        title: format!("Convert to `{replacement}`"),
        edits: vec![TextEdit {
            range: apv.syntax().text_range(),
            new_text: replacement,
        }],
        preferred: false,
    })
}

/// Deletes a range and, when it sits alone on its line, the whole line.
fn delete_line_aware(text: &str, range: TextRange) -> TextEdit {
    let start = usize::from(range.start());
    let end = usize::from(range.end());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    if text[line_start..start].trim().is_empty() && text[end..line_end].trim().is_empty() {
        return TextEdit {
            range: TextRange::new(
                TextSize::from(line_start as u32),
                TextSize::from(line_end as u32),
            ),
            new_text: String::new(),
        };
    }
    delete_with_space_after(text, range)
}

fn delete_with_space_after(text: &str, range: TextRange) -> TextEdit {
    let end = usize::from(range.end());
    let spaces = text[end..].len() - text[end..].trim_start_matches([' ', '\t']).len();
    TextEdit {
        range: TextRange::new(range.start(), TextSize::from((end + spaces) as u32)),
        new_text: String::new(),
    }
}

fn delete_with_space_before(text: &str, range: TextRange) -> TextEdit {
    let start = usize::from(range.start());
    let spaces = start - text[..start].trim_end_matches([' ', '\t']).len();
    TextEdit {
        range: TextRange::new(TextSize::from((start - spaces) as u32), range.end()),
        new_text: String::new(),
    }
}

/// Deletes a pattern formal with the comma that separates it from a neighbour.
fn delete_formal(root: &SyntaxNode, text: &str, entry: TextRange) -> TextEdit {
    let covering = root.covering_element(entry);
    let node: rowan::NodeOrToken<SyntaxNode, crate::syntax::SyntaxToken> = covering
        .ancestors()
        .find(|n| n.kind() == SyntaxKind::NODE_PAT_ENTRY)
        .map_or(covering, rowan::NodeOrToken::Node);
    let next = std::iter::successors(node.next_sibling_or_token(), |e| e.next_sibling_or_token())
        .find(|e| !e.kind().is_trivia());
    if let Some(comma) = next.filter(|e| e.kind() == SyntaxKind::TOKEN_COMMA) {
        let end = usize::from(comma.text_range().end());
        let spaces = text[end..].len() - text[end..].trim_start().len();
        return TextEdit {
            range: TextRange::new(entry.start(), TextSize::from((end + spaces) as u32)),
            new_text: String::new(),
        };
    }
    let prev = std::iter::successors(node.prev_sibling_or_token(), |e| e.prev_sibling_or_token())
        .find(|e| !e.kind().is_trivia());
    match prev.filter(|e| e.kind() == SyntaxKind::TOKEN_COMMA) {
        Some(comma) => TextEdit {
            range: TextRange::new(comma.text_range().start(), entry.end()),
            new_text: String::new(),
        },
        None => TextEdit {
            range: entry,
            new_text: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use crate::ide::fixture::Fixture;

    /// Applies the first action whose title contains `title` at the cursor.
    fn check(fixture: &str, title: &str, expect: Expect) {
        let f = Fixture::new(fixture);
        let pos = f.pos();
        let actions = super::code_actions(&f.db, pos.file, rowan::TextRange::empty(pos.offset));
        let Some(action) = actions.iter().find(|a| a.title.contains(title)) else {
            let titles: Vec<_> = actions.iter().map(|a| a.title.clone()).collect();
            expect.assert_eq(&format!("no action; got {titles:?}"));
            return;
        };
        let mut text = pos.file.text(&f.db).clone();
        for e in action.edits.iter().rev() {
            text.replace_range(
                usize::from(e.range.start())..usize::from(e.range.end()),
                &e.new_text,
            );
        }
        expect.assert_eq(&format!("{}\n{}", action.title, text));
    }

    #[test]
    fn remove_unused_let_binding() {
        check(
            "let\n  a = 1;\n  u$0nused = 2;\nin a",
            "Remove",
            expect![[r#"
                Remove unused `unused`
                let
                  a = 1;
                in a"#]],
        );
    }

    #[test]
    fn remove_unused_formal() {
        check(
            "{ a, b$0, c }: a + c",
            "Remove",
            expect![[r#"
                Remove unused `b`
                { a, c }: a + c"#]],
        );
        check(
            "{ a, c$0 }: a",
            "Remove",
            expect![[r#"
                Remove unused `c`
                { a }: a"#]],
        );
    }

    #[test]
    fn remove_rec_and_with() {
        check(
            "re$0c { a = 1; }",
            "rec",
            expect![[r#"
                Remove useless `rec`
                { a = 1; }"#]],
        );
        check(
            "w$0ith { }; 1",
            "with",
            expect![[r#"
                Remove unused `with`
                1"#]],
        );
    }

    #[test]
    fn to_inherit() {
        check(
            "x: { x$0 = x; }",
            "inherit",
            expect![[r#"
                Convert to `inherit x;`
                x: { inherit x; }"#]],
        );
        check(
            "y: { x$0 = y.x; }",
            "inherit",
            expect![[r#"
                Convert to `inherit (y) x;`
                y: { inherit (y) x; }"#]],
        );
        check(
            "x: let x$0 = x; in x",
            "inherit",
            expect![[r#"no action; got []"#]],
        );
    }
}
