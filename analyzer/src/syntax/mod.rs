//! Lexer, lossless rowan parser and typed AST for the Nix language.
//!
//! `parse(text)` never fails and never panics: the tree's text is the input, byte for
//! byte, and everything Nix would reject (syntax errors and the checks Nix makes while
//! parsing, see [`validate`]) is in [`Parse::errors`].

pub mod ast;
mod green;
pub mod kind;
pub mod lexer;
pub mod line_index;
mod parser;
pub mod reparse;
pub mod strings;
pub mod validate;

#[cfg(test)]
mod tests;

use std::fmt;

use rowan::{GreenNode, TextRange};

pub use kind::{NixLanguage, SyntaxElement, SyntaxKind, SyntaxNode, SyntaxToken};
pub use line_index::{LineCol, LineIndex};
pub use parser::MAX_DEPTH;

/// A syntax error (or a check Nix makes while parsing): where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyntaxError {
    /// Byte range in the source the error points at.
    pub range: TextRange,
    /// A message for the user.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The result of parsing: a green tree (always complete) and the errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parse {
    /// The immutable, cheaply clonable tree.
    pub green: GreenNode,
    /// Syntax errors and parse-time check failures, in source order.
    pub errors: Vec<SyntaxError>,
}

impl Parse {
    /// A red (navigable) view of the tree.
    pub fn syntax(&self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.clone())
    }

    /// The typed root node.
    pub fn root(&self) -> ast::Root {
        use ast::AstNode;
        ast::Root::cast(self.syntax()).expect("the parser always builds a NODE_ROOT")
    }

    /// Syntax errors and parse-time check failures, in source order.
    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }

    /// Whether the input is accepted (no error at all).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// A compact, indented dump of the tree (for tests and `--debug` output).
    pub fn debug_tree(&self) -> String {
        debug_tree(&self.syntax())
    }
}

/// Parses Nix source text. Never fails: problems are in [`Parse::errors`].
pub fn parse(text: &str) -> Parse {
    let (green, mut errors) = parser::parse_text(text);
    errors.extend(validate::validate_green(&green));
    errors.sort_by_key(|e| (e.range.start(), e.range.end()));
    errors.dedup();
    Parse { green, errors }
}

/// Parses without the parse-time checks of [`validate`] (grammar errors only): the
/// same work rnix does, for callers that only need the tree.
pub fn parse_syntax_only(text: &str) -> Parse {
    let (green, errors) = parser::parse_text(text);
    Parse { green, errors }
}

/// The input is not UTF-8; Nix source must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8 at byte {offset}: Nix files must be UTF-8 encoded")]
pub struct InvalidUtf8 {
    /// Byte offset of the first invalid byte.
    pub offset: usize,
}

/// Parses raw bytes: invalid UTF-8 is an error (with the offset of the first bad byte).
pub fn parse_bytes(bytes: &[u8]) -> Result<Parse, InvalidUtf8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(parse(text)),
        Err(err) => Err(InvalidUtf8 {
            offset: err.valid_up_to(),
        }),
    }
}

/// Parses raw bytes the way Nix does, which reads bytes, not characters: invalid
/// UTF-8 inside strings and comments is accepted. Invalid sequences are read as
/// U+FFFD (so ranges refer to the repaired text), and the first one is returned so
/// callers can warn about it.
pub fn parse_bytes_lossy(bytes: &[u8]) -> (Parse, Option<InvalidUtf8>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (parse(text), None),
        Err(err) => {
            let text = String::from_utf8_lossy(bytes);
            let invalid = InvalidUtf8 {
                offset: err.valid_up_to(),
            };
            (parse(&text), Some(invalid))
        }
    }
}

/// Renders `node` as one line per node or token: `KIND@start..end "text"`.
pub fn debug_tree(node: &SyntaxNode) -> String {
    let mut out = String::new();
    let mut indent = 0usize;
    for event in node.preorder_with_tokens() {
        match event {
            rowan::WalkEvent::Enter(element) => {
                for _ in 0..indent {
                    out.push_str("  ");
                }
                match element {
                    rowan::NodeOrToken::Node(n) => {
                        out.push_str(&format!("{:?}@{:?}\n", n.kind(), n.text_range()));
                    }
                    rowan::NodeOrToken::Token(t) => {
                        out.push_str(&format!(
                            "{:?}@{:?} {:?}\n",
                            t.kind(),
                            t.text_range(),
                            t.text()
                        ));
                    }
                }
                indent += 1;
            }
            rowan::WalkEvent::Leave(_) => indent -= 1,
        }
    }
    out
}
