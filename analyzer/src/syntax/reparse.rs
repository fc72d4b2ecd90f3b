//! Incremental reparsing: after a small edit, build the new tree from the old one instead of
//! parsing the whole file again (rust-analyzer's two levels, adapted to Nix's lexer).
//!
//! 1. An edit inside one token whose new text lexes, in its surroundings, as one token of the
//!    same kind (an identifier, a number, whitespace, a comment) swaps that token in the
//!    green tree.
//! 2. Otherwise the smallest enclosing balanced node (`{ }`, `[ ]`, `( )`) whose new text
//!    parses alone as exactly that node, without errors, is parsed again and swapped in.
//! 3. Otherwise nothing is reused: the caller parses the whole file.
//!
//! Either way the result is the tree a full parse of the new text gives, node for node
//! (`tests/reparse.rs` checks that on random edits of the corpus). Only trees without
//! grammar errors are reused: error recovery depends on context a fragment does not see.

use rowan::{GreenNode, GreenToken, NodeOrToken, TextRange, TextSize};

use super::kind::SyntaxKind::{self, *};
use super::kind::SyntaxNode;
use super::lexer;
use super::parser;

/// One change of a text: the bytes of `delete` (a range of the old text) become `insert`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextEdit {
    /// The replaced range, in the old text.
    pub delete: TextRange,
    /// The new text of that range.
    pub insert: String,
}

impl TextEdit {
    /// The smallest single edit turning `old` into `new` (common prefix and suffix kept).
    pub fn diff(old: &str, new: &str) -> TextEdit {
        let (o, n) = (old.as_bytes(), new.as_bytes());
        let mut prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
        while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let max_suffix = o.len().min(n.len()) - prefix;
        let mut suffix = o
            .iter()
            .rev()
            .zip(n.iter().rev())
            .take(max_suffix)
            .take_while(|(a, b)| a == b)
            .count();
        while !old.is_char_boundary(o.len() - suffix) || !new.is_char_boundary(n.len() - suffix) {
            suffix -= 1;
        }
        TextEdit {
            delete: TextRange::new(
                TextSize::from(prefix as u32),
                TextSize::from((o.len() - suffix) as u32),
            ),
            insert: new[prefix..n.len() - suffix].to_string(),
        }
    }

    /// Applies the edit to `text`.
    pub fn apply(&self, text: &str) -> String {
        let (s, e) = (
            usize::from(self.delete.start()),
            usize::from(self.delete.end()),
        );
        let mut out = String::with_capacity(text.len() - (e - s) + self.insert.len());
        out.push_str(&text[..s]);
        out.push_str(&self.insert);
        out.push_str(&text[e..]);
        out
    }
}

/// How a tree was obtained (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// One token was swapped.
    Token,
    /// One balanced node was parsed again.
    Node,
}

/// The new green tree after `edit`, when `old` (the grammar-error-free tree of the old text)
/// can be reused; `new_text` is the edited text. `None` means: parse the whole file.
pub fn reparse(old: &GreenNode, edit: &TextEdit, new_text: &str) -> Option<(GreenNode, Reuse)> {
    let root = SyntaxNode::new_root(old.clone());
    let old_len = root.text_range().end();
    if edit.delete.end() > old_len
        || u32::from(old_len) as i64 - i64::from(u32::from(edit.delete.len()))
            + edit.insert.len() as i64
            != new_text.len() as i64
    {
        return None;
    }
    if let Some(green) = reparse_token(&root, edit) {
        return Some((green, Reuse::Token));
    }
    reparse_node(&root, edit, new_text).map(|g| (g, Reuse::Node))
}

/// Token kinds whose lexing does not depend on, or change, the lexer's mode stack (no
/// strings, braces, paths or interpolation), so lexing them out of context is exact.
fn is_plain(kind: SyntaxKind) -> bool {
    !matches!(
        kind,
        TOKEN_ERROR
            | TOKEN_URI
            | TOKEN_PATH
            | TOKEN_PATH_HOME
            | TOKEN_PATH_SEARCH
            | TOKEN_PATH_FRAGMENT
            | TOKEN_QUOTE
            | TOKEN_IND_QUOTE_OPEN
            | TOKEN_IND_QUOTE_CLOSE
            | TOKEN_STR_CONTENT
            | TOKEN_STR_ESCAPE
            | TOKEN_DOLLAR_CURLY
            | TOKEN_L_BRACE
            | TOKEN_R_BRACE
            | TOKEN_OR_KW
    ) && kind.is_token()
}

/// One-character tokens no identifier, number, comment or whitespace can grow into or out
/// of, whatever mode the lexer is in around them: lexing may stop at them.
fn is_delimiter(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_L_BRACE
            | TOKEN_R_BRACE
            | TOKEN_L_PAREN
            | TOKEN_R_PAREN
            | TOKEN_L_BRACK
            | TOKEN_R_BRACK
            | TOKEN_SEMICOLON
            | TOKEN_COMMA
            | TOKEN_QUOTE
            | TOKEN_DOLLAR_CURLY
    )
}

/// Kinds a token swap may change the text of.
fn is_swappable(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_IDENT | TOKEN_INT | TOKEN_FLOAT | TOKEN_WHITESPACE | TOKEN_COMMENT
    )
}

/// Identifier texts the parser treats specially (`__curPos` node, `or` keyword/name).
fn is_special_ident(text: &str) -> bool {
    matches!(text, "__curPos" | "or")
}

fn reparse_token(root: &SyntaxNode, edit: &TextEdit) -> Option<GreenNode> {
    let at = root.token_at_offset(edit.delete.start());
    let candidates = [at.clone().left_biased(), at.right_biased()];
    let token = candidates
        .into_iter()
        .flatten()
        .find(|t| t.text_range().contains_range(edit.delete) && is_swappable(t.kind()))?;
    let range = token.text_range();
    let text = token.text();
    let (s, e) = (
        usize::from(edit.delete.start() - range.start()),
        usize::from(edit.delete.end() - range.start()),
    );
    let new_text = format!("{}{}{}", &text[..s], edit.insert, &text[e..]);
    if new_text.is_empty()
        || token.kind() == TOKEN_IDENT && (is_special_ident(text) || is_special_ident(&new_text))
    {
        return None;
    }
    // Lex the new token between its neighbours: the previous token (it may absorb the new
    // text, like a `#` comment swallowing a removed newline) and the following tokens up to
    // whitespace (after which lexing restarts the same way, whatever came before).
    let prev = token.prev_token();
    let mut expected: Vec<(SyntaxKind, usize)> = Vec::new();
    let mut window = String::new();
    // Only a comment can grow into whitespace after it; any token can grow into a word.
    let prev = prev.filter(|p| token.kind() != TOKEN_WHITESPACE || p.kind() == TOKEN_COMMENT);
    if let Some(p) = prev.filter(|p| !is_delimiter(p.kind())) {
        if !is_plain(p.kind()) {
            return None;
        }
        window.push_str(p.text());
        expected.push((p.kind(), p.text().len()));
    }
    window.push_str(&new_text);
    expected.push((token.kind(), new_text.len()));
    if token.kind() != TOKEN_WHITESPACE {
        let mut next = token.next_token();
        while let Some(n) = next {
            if is_delimiter(n.kind()) {
                break;
            }
            if !is_plain(n.kind()) {
                return None;
            }
            window.push_str(n.text());
            expected.push((n.kind(), n.text().len()));
            if n.kind() == TOKEN_WHITESPACE {
                break;
            }
            next = n.next_token();
        }
    }
    if !lexes_as(&window, &expected) {
        return None;
    }
    Some(token.replace_with(GreenToken::new(token.kind().into(), &new_text)))
}

/// Whether `text` lexes, without errors, into exactly `expected` (kind, length) tokens.
fn lexes_as(text: &str, expected: &[(SyntaxKind, usize)]) -> bool {
    let lexed = lexer::lex(text);
    lexed.errors.is_empty()
        && lexed.tokens.len() == expected.len()
        && lexed
            .tokens
            .iter()
            .zip(expected)
            .all(|(t, &(kind, len))| t.kind == kind && t.len as usize == len)
}

/// Node kinds with their own delimiters that parse the same alone as in context.
fn is_balanced(kind: SyntaxKind) -> bool {
    matches!(kind, NODE_ATTR_SET | NODE_LIST | NODE_PAREN)
}

/// The parser nests at most about this many times per tree level (expression, operator,
/// select): a fragment deeper than the limit allows in context is left to a full parse.
const PARSER_DEPTH_PER_LEVEL: usize = 3;

fn reparse_node(root: &SyntaxNode, edit: &TextEdit, new_text: &str) -> Option<GreenNode> {
    let delta = edit.insert.len() as i64 - i64::from(u32::from(edit.delete.len()));
    let covering = match root.covering_element(edit.delete) {
        NodeOrToken::Node(n) => n,
        NodeOrToken::Token(t) => t.parent()?,
    };
    // A fragment as large as the file costs as much as parsing the file.
    let max_len = TextSize::from(u32::from(root.text_range().len()) / 2);
    for node in covering.ancestors() {
        let range = node.text_range();
        if range.len() > max_len {
            return None;
        }
        if !is_balanced(node.kind()) {
            continue;
        }
        // The edit must leave the delimiters alone.
        let first = node.first_token()?;
        let last = node.last_token()?;
        if edit.delete.start() < first.text_range().end()
            || edit.delete.end() > last.text_range().start()
        {
            continue;
        }
        let start = usize::from(range.start());
        let end = (i64::from(u32::from(range.end())) + delta) as usize;
        let fragment = new_text.get(start..end)?;
        let (green, errors) = parser::parse_text(fragment);
        if !errors.is_empty() {
            continue;
        }
        let mut children = green.children();
        let (Some(NodeOrToken::Node(only)), None) = (children.next(), children.next()) else {
            continue;
        };
        if only.kind() != node.kind().into() {
            continue;
        }
        let depth = node.ancestors().count() + max_depth(only);
        if depth * PARSER_DEPTH_PER_LEVEL >= parser::MAX_DEPTH as usize {
            return None;
        }
        return Some(node.replace_with(only.to_owned()));
    }
    None
}

/// The number of node levels in a green subtree (iterative: trees can be deep).
fn max_depth(node: &rowan::GreenNodeData) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(node, 1usize)];
    while let Some((n, d)) = stack.pop() {
        deepest = deepest.max(d);
        for child in n.children() {
            if let NodeOrToken::Node(c) = child {
                stack.push((c, d + 1));
            }
        }
    }
    deepest
}
