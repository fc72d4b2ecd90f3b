//! Semantic tokens: every meaningful token classified by what its name resolves to.

use crate::db::{self, Db, SourceFile};
use crate::def::scope::ResolveResult;
use crate::def::{Expr, NameKind};
use crate::ide::TextRange;
use crate::syntax::SyntaxKind;

/// Token classes; the discriminant is the index in the LSP legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum TokenKind {
    /// Keywords.
    Keyword,
    /// `let` bindings and `with` variables.
    Variable,
    /// Lambda parameters and formals.
    Parameter,
    /// Attribute names.
    Property,
    /// Builtin functions.
    Function,
    /// Strings and paths.
    String,
    /// Numbers.
    Number,
    /// Comments.
    Comment,
    /// Operators.
    Operator,
}

impl TokenKind {
    /// Every kind, in legend order.
    pub const ALL: &'static [TokenKind] = &[
        TokenKind::Keyword,
        TokenKind::Variable,
        TokenKind::Parameter,
        TokenKind::Property,
        TokenKind::Function,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Comment,
        TokenKind::Operator,
    ];

    /// The standard LSP token type name.
    pub fn lsp_name(self) -> &'static str {
        match self {
            TokenKind::Keyword => "keyword",
            TokenKind::Variable => "variable",
            TokenKind::Parameter => "parameter",
            TokenKind::Property => "property",
            TokenKind::Function => "function",
            TokenKind::String => "string",
            TokenKind::Number => "number",
            TokenKind::Comment => "comment",
            TokenKind::Operator => "operator",
        }
    }
}

/// Modifier names, in legend order (bit i is `MODIFIERS[i]`).
pub const MODIFIERS: &[&str] = &["declaration", "defaultLibrary", "deprecated"];
const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;
const DEPRECATED: u32 = 4;

/// One classified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemanticToken {
    /// Its range (may span lines; the server splits it).
    pub range: TextRange,
    /// Its class.
    pub kind: TokenKind,
    /// Modifier bits.
    pub modifiers: u32,
}

/// Classified tokens of a file, in order, optionally only those touching `range`.
pub fn semantic_tokens(
    db: &dyn Db,
    file: SourceFile,
    range: Option<TextRange>,
) -> Vec<SemanticToken> {
    use SyntaxKind::*;
    let root = db::parse(db, file).syntax();
    let module = db::module(db, file);
    let source_map = db::source_map(db, file);
    let resolution = db::name_resolution(db, file);
    let scope = range.unwrap_or_else(|| root.text_range());
    let mut out = Vec::new();
    let start_token = root.token_at_offset(scope.start()).right_biased();
    let tokens = std::iter::successors(start_token, |t| t.next_token());
    for t in tokens {
        let r = t.text_range();
        if r.start() > scope.end() {
            break;
        }
        let kind = t.kind();
        let (class, modifiers) = match kind {
            TOKEN_COMMENT => (TokenKind::Comment, 0),
            TOKEN_INT | TOKEN_FLOAT => (TokenKind::Number, 0),
            TOKEN_URI => (TokenKind::String, DEPRECATED),
            TOKEN_PATH
            | TOKEN_PATH_HOME
            | TOKEN_PATH_SEARCH
            | TOKEN_PATH_FRAGMENT
            | TOKEN_QUOTE
            | TOKEN_IND_QUOTE_OPEN
            | TOKEN_IND_QUOTE_CLOSE
            | TOKEN_STR_CONTENT
            | TOKEN_STR_ESCAPE => (TokenKind::String, 0),
            TOKEN_IDENT | TOKEN_OR_KW => {
                let Some(node) = t.parent() else { continue };
                let nr = node.text_range();
                let deprecated = if kind == TOKEN_OR_KW { DEPRECATED } else { 0 };
                if let Some(name) = source_map.name_for_range(nr) {
                    let class = match module.names[name].kind {
                        NameKind::Param | NameKind::PatField => TokenKind::Parameter,
                        NameKind::LetIn => TokenKind::Variable,
                        NameKind::PlainAttrset | NameKind::RecAttrset => TokenKind::Property,
                    };
                    // `inherit x;` reads x: classify by what it reads, still a declaration.
                    let class = match source_map
                        .expr_for_range(nr)
                        .and_then(|e| resolution.get(e))
                    {
                        Some(ResolveResult::Builtin(_)) => TokenKind::Function,
                        _ => class,
                    };
                    (class, DECLARATION | deprecated)
                } else if let Some(e) = source_map.expr_for_range(nr) {
                    match (&module.exprs[e], resolution.get(e)) {
                        (Expr::Reference(_), Some(ResolveResult::Definition(n))) => {
                            let class = match module.names[*n].kind {
                                NameKind::Param | NameKind::PatField => TokenKind::Parameter,
                                NameKind::PlainAttrset | NameKind::RecAttrset => {
                                    TokenKind::Property
                                }
                                NameKind::LetIn => TokenKind::Variable,
                            };
                            (class, deprecated)
                        }
                        (Expr::Reference(_), Some(ResolveResult::Builtin(b))) => {
                            let is_fn = crate::builtins::lookup(b).is_some_and(|b| b.is_function());
                            let class = if is_fn {
                                TokenKind::Function
                            } else {
                                TokenKind::Variable
                            };
                            (class, DEFAULT_LIBRARY | deprecated)
                        }
                        (Expr::Reference(_), _) => (TokenKind::Variable, deprecated),
                        // An attribute name in a select or `?` path.
                        _ => (TokenKind::Property, deprecated),
                    }
                } else {
                    (TokenKind::Property, deprecated)
                }
            }
            k if k.is_keyword() => (TokenKind::Keyword, 0),
            TOKEN_EQ | TOKEN_NEQ | TOKEN_LEQ | TOKEN_GEQ | TOKEN_LESS | TOKEN_MORE
            | TOKEN_AND_AND | TOKEN_OR_OR | TOKEN_IMPLICATION | TOKEN_UPDATE | TOKEN_CONCAT
            | TOKEN_ADD | TOKEN_SUB | TOKEN_MUL | TOKEN_DIV | TOKEN_INVERT | TOKEN_QUESTION => {
                (TokenKind::Operator, 0)
            }
            _ => continue,
        };
        if r.end() < scope.start() {
            continue;
        }
        out.push(SemanticToken {
            range: r,
            kind: class,
            modifiers,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::ide::fixture::Fixture;

    #[test]
    fn classifies_by_resolution() {
        let f = Fixture::new(
            "{ pkgs, ... }: let n = 1; in { inherit n; x = map toString [ n ./p ]; # c\n}",
        );
        let shown: Vec<String> = super::semantic_tokens(&f.db, f.files[0], None)
            .into_iter()
            .map(|t| format!("{} {:?} {}", f.text_of(t.range), t.kind, t.modifiers))
            .collect();
        expect![[r#"
            pkgs Parameter 1
            let Keyword 0
            n Variable 1
            1 Number 0
            in Keyword 0
            inherit Keyword 0
            n Property 1
            x Property 1
            map Function 2
            toString Function 2
            n Variable 0
            ./p String 0
            # c Comment 0"#]]
        .assert_eq(&shown.join("\n"));
    }

    #[test]
    fn range_restricts() {
        let f = Fixture::new("let a = 1; in a + a");
        let r = rowan::TextRange::new(14.into(), 15.into());
        let shown: Vec<String> = super::semantic_tokens(&f.db, f.files[0], Some(r))
            .into_iter()
            .map(|t| f.text_of(t.range))
            .collect();
        assert_eq!(shown, vec!["a"]);
    }
}
