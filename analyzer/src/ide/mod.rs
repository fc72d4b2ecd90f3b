//! Editor features, one file each, returning plain structs (no lsp-types).
//!
//! Each feature is a pure function over the database: it asks for `parse`, `module`,
//! `source_map` and `name_resolution` and combines them.

pub mod code_actions;
pub mod completion;
pub mod diagnostics;
pub mod folding;
pub mod goto_definition;
pub mod highlight;
pub mod hover;
pub mod inlay_hints;
pub mod links;
pub mod references;
pub mod rename;
pub mod selection_range;
pub mod semantic_tokens;
pub mod symbols;

#[cfg(test)]
mod fixture;

pub use rowan::{TextRange, TextSize};

use crate::db::{self, Db, SourceFile};
use crate::def::scope::ResolveResult;
use crate::def::{ExprId, NameId};
use crate::syntax::{SyntaxKind, SyntaxNode, SyntaxToken};

/// A position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePos {
    /// The file.
    pub file: SourceFile,
    /// Byte offset into its text.
    pub offset: TextSize,
}

/// Which file a navigation target is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavFile {
    /// The file the request was made in.
    Same,
    /// Another file, by absolute path (may not be loaded).
    Path(String),
}

/// Where a navigation lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavTarget {
    /// The file.
    pub file: NavFile,
    /// The range to select (`None`: the file's start).
    pub range: Option<TextRange>,
}

/// A replacement of a range by new text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    /// The range replaced.
    pub range: TextRange,
    /// The replacement.
    pub new_text: String,
}

/// The token at an offset, preferring names and other meaningful tokens over trivia and
/// punctuation when the offset is between two tokens.
pub fn token_at(root: &SyntaxNode, offset: TextSize) -> Option<SyntaxToken> {
    if offset > root.text_range().end() {
        return None;
    }
    let rank = |t: &SyntaxToken| match t.kind() {
        SyntaxKind::TOKEN_IDENT | SyntaxKind::TOKEN_OR_KW => 3,
        SyntaxKind::TOKEN_PATH
        | SyntaxKind::TOKEN_STR_CONTENT
        | SyntaxKind::TOKEN_URI
        | SyntaxKind::TOKEN_PATH_SEARCH
        | SyntaxKind::TOKEN_PATH_HOME => 2,
        k if k.is_trivia() => 0,
        _ => 1,
    };
    root.token_at_offset(offset).max_by_key(rank)
}

/// What the name under the cursor is: a definition site, a variable use, or both (`inherit x;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAt {
    /// The range of the name as written.
    pub range: TextRange,
    /// The name's text.
    pub text: String,
    /// The name defined here, if this is a definition site.
    pub definition: Option<NameId>,
    /// The variable use here and what it resolves to (`None`: undefined).
    pub reference: Option<(ExprId, Option<ResolveResult>)>,
}

/// Finds the defined or used name under the cursor.
pub fn name_at(db: &dyn Db, pos: FilePos) -> Option<NameAt> {
    let root = db::parse(db, pos.file).syntax();
    let token = token_at(&root, pos.offset)?;
    let source_map = db::source_map(db, pos.file);
    let module = db::module(db, pos.file);
    // The name node: an identifier's NODE_IDENT, or the string of a `"quoted" = …` key.
    let mut node = token.parent()?;
    if node.kind() != SyntaxKind::NODE_IDENT {
        node = node
            .ancestors()
            .find(|n| n.kind() == SyntaxKind::NODE_STRING)
            .filter(|n| {
                n.parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::NODE_ATTRPATH)
            })?;
    }
    let range = node.text_range();
    let definition = source_map.name_for_range(range);
    let reference = source_map.expr_for_range(range).and_then(|e| {
        matches!(module.exprs[e], crate::def::Expr::Reference(_))
            .then(|| (e, db::name_resolution(db, pos.file).get(e).cloned()))
    });
    if definition.is_none() && reference.is_none() {
        return None;
    }
    let text = match (definition, &reference) {
        (Some(n), _) => module.names[n].text.to_string(),
        (None, Some((e, _))) => match &module.exprs[*e] {
            crate::def::Expr::Reference(t) => t.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    Some(NameAt {
        range,
        text,
        definition,
        reference,
    })
}

/// Whether `text` can be written as a bare Nix identifier.
pub fn is_valid_ident(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        && !matches!(
            text,
            "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit" | "or"
        )
}
