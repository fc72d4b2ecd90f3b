//! `SyntaxKind`: every token and node kind of the Nix syntax tree, and the rowan glue.
//!
//! Token kinds start with `TOKEN_`, node kinds with `NODE_` (the rnix convention, so
//! a token `TOKEN_IDENT` and the expression node `NODE_IDENT` never get confused).

/// The kind of a token or node in the syntax tree.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum SyntaxKind {
    // Trivia.
    /// Spaces, tabs, newlines.
    TOKEN_WHITESPACE = 0,
    /// `# ...` or `/* ... */`.
    TOKEN_COMMENT,
    /// Bytes the lexer could not make sense of (a stray character, an unterminated comment).
    TOKEN_ERROR,

    // Atoms.
    /// An identifier (`foo`, `__curPos`, `a-b'`).
    TOKEN_IDENT,
    /// An integer literal.
    TOKEN_INT,
    /// A float literal (`1.5`, `.5`, `1.`, `1e3`).
    TOKEN_FLOAT,
    /// A URI literal (`https://nixos.org`).
    TOKEN_URI,
    /// The first piece of a relative or absolute path (`./a/b`, `/etc`, `a/`).
    TOKEN_PATH,
    /// The first piece of a home path (`~/x`).
    TOKEN_PATH_HOME,
    /// A search path (`<nixpkgs>`).
    TOKEN_PATH_SEARCH,
    /// A piece of a path after an interpolation (`.nix` in `./${a}.nix`).
    TOKEN_PATH_FRAGMENT,

    // Strings.
    /// `"`, opening or closing a string.
    TOKEN_QUOTE,
    /// `''` opening an indented string, with the spaces and newline Nix eats after it.
    TOKEN_IND_QUOTE_OPEN,
    /// `''` closing an indented string.
    TOKEN_IND_QUOTE_CLOSE,
    /// Literal string text as written (escapes of `"` strings included, unprocessed).
    TOKEN_STR_CONTENT,
    /// An indented-string escape: `''$`, `'''` or `''\x`.
    TOKEN_STR_ESCAPE,
    /// `${`, starting an interpolation or a dynamic attribute.
    TOKEN_DOLLAR_CURLY,

    // Keywords.
    /// `if`
    TOKEN_IF,
    /// `then`
    TOKEN_THEN,
    /// `else`
    TOKEN_ELSE,
    /// `assert`
    TOKEN_ASSERT,
    /// `with`
    TOKEN_WITH,
    /// `let`
    TOKEN_LET,
    /// `in`
    TOKEN_IN,
    /// `rec`
    TOKEN_REC,
    /// `inherit`
    TOKEN_INHERIT,
    /// `or` (a keyword after a select, an identifier almost everywhere else)
    TOKEN_OR_KW,

    // Punctuation and operators.
    /// `...`
    TOKEN_ELLIPSIS,
    /// `==`
    TOKEN_EQ,
    /// `!=`
    TOKEN_NEQ,
    /// `<=`
    TOKEN_LEQ,
    /// `>=`
    TOKEN_GEQ,
    /// `<`
    TOKEN_LESS,
    /// `>`
    TOKEN_MORE,
    /// `&&`
    TOKEN_AND_AND,
    /// `||`
    TOKEN_OR_OR,
    /// `->`
    TOKEN_IMPLICATION,
    /// `//`
    TOKEN_UPDATE,
    /// `++`
    TOKEN_CONCAT,
    /// `+`
    TOKEN_ADD,
    /// `-`
    TOKEN_SUB,
    /// `*`
    TOKEN_MUL,
    /// `/`
    TOKEN_DIV,
    /// `!`
    TOKEN_INVERT,
    /// `?`
    TOKEN_QUESTION,
    /// `@`
    TOKEN_AT,
    /// `:`
    TOKEN_COLON,
    /// `;`
    TOKEN_SEMICOLON,
    /// `,`
    TOKEN_COMMA,
    /// `.`
    TOKEN_DOT,
    /// `=`
    TOKEN_ASSIGN,
    /// `(`
    TOKEN_L_PAREN,
    /// `)`
    TOKEN_R_PAREN,
    /// `[`
    TOKEN_L_BRACK,
    /// `]`
    TOKEN_R_BRACK,
    /// `{`
    TOKEN_L_BRACE,
    /// `}`
    TOKEN_R_BRACE,

    // Nodes.
    /// The whole file.
    NODE_ROOT,
    /// Tokens the parser skipped while recovering from an error.
    NODE_ERROR,
    /// `f x`
    NODE_APPLY,
    /// `assert c; e`
    NODE_ASSERT,
    /// `{ ... }` or `rec { ... }`
    NODE_ATTR_SET,
    /// `a + b` and every other binary operator except `?`.
    NODE_BIN_OP,
    /// `e ? a.b`
    NODE_HAS_ATTR,
    /// A variable reference or a plain attribute name (wraps `TOKEN_IDENT` or `TOKEN_OR_KW`).
    NODE_IDENT,
    /// `if c then a else b`
    NODE_IF_ELSE,
    /// `x: e`, `{ a, b ? 1, ... } @ args: e`
    NODE_LAMBDA,
    /// `let { ...; body = e; }`
    NODE_LEGACY_LET,
    /// `let ... in e`
    NODE_LET_IN,
    /// `[ a b ]`
    NODE_LIST,
    /// An integer, float or URI literal.
    NODE_LITERAL,
    /// `(e)`
    NODE_PAREN,
    /// A path literal, possibly interpolated.
    NODE_PATH,
    /// `e.a.b` or `e.a.b or d`
    NODE_SELECT,
    /// `"..."` or `''...''`
    NODE_STRING,
    /// `-e` or `!e`
    NODE_UNARY_OP,
    /// `with e; body`
    NODE_WITH,
    /// `__curPos`
    NODE_CUR_POS,
    /// `a.b."c".${d}`
    NODE_ATTRPATH,
    /// `a.b = e;`
    NODE_ATTRPATH_VALUE,
    /// `inherit a b;` or `inherit (e) a b;`
    NODE_INHERIT,
    /// The `(e)` of `inherit (e) a;`
    NODE_INHERIT_FROM,
    /// `${e}` as an attribute name.
    NODE_DYNAMIC,
    /// `${e}` inside a string or a path.
    NODE_INTERPOLATION,
    /// The `x` of `x: e`.
    NODE_IDENT_PARAM,
    /// `{ a, b ? 1, ... }` with an optional `@` binding.
    NODE_PATTERN,
    /// One formal of a pattern: `b ? 1`.
    NODE_PAT_ENTRY,
    /// The `args @` or `@ args` of a pattern.
    NODE_PAT_BIND,

    #[doc(hidden)]
    __LAST,
}

use SyntaxKind::*;

impl SyntaxKind {
    /// Whitespace and comments: kept in the tree, skipped by the parser.
    pub fn is_trivia(self) -> bool {
        matches!(self, TOKEN_WHITESPACE | TOKEN_COMMENT)
    }

    /// Keywords (`or` included).
    pub fn is_keyword(self) -> bool {
        (TOKEN_IF as u16..=TOKEN_OR_KW as u16).contains(&(self as u16))
    }

    /// Whether this is a token (leaf) kind rather than a node kind.
    pub fn is_token(self) -> bool {
        (self as u16) < NODE_ROOT as u16
    }
}

impl From<SyntaxKind> for rowan::SyntaxKind {
    fn from(kind: SyntaxKind) -> Self {
        rowan::SyntaxKind(kind as u16)
    }
}

/// The rowan language tag for Nix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NixLanguage {}

impl rowan::Language for NixLanguage {
    type Kind = SyntaxKind;

    fn kind_from_raw(raw: rowan::SyntaxKind) -> SyntaxKind {
        assert!(raw.0 < __LAST as u16, "invalid syntax kind {}", raw.0);
        // SAFETY: SyntaxKind is repr(u16) with contiguous discriminants below __LAST.
        unsafe { std::mem::transmute::<u16, SyntaxKind>(raw.0) }
    }

    fn kind_to_raw(kind: SyntaxKind) -> rowan::SyntaxKind {
        kind.into()
    }
}

/// A node of the Nix syntax tree.
pub type SyntaxNode = rowan::SyntaxNode<NixLanguage>;
/// A token (leaf) of the Nix syntax tree.
pub type SyntaxToken = rowan::SyntaxToken<NixLanguage>;
/// A node or a token.
pub type SyntaxElement = rowan::SyntaxElement<NixLanguage>;
/// Children of a node, nodes and tokens.
pub type SyntaxElementChildren = rowan::SyntaxElementChildren<NixLanguage>;
/// Child nodes of a node.
pub type SyntaxNodeChildren = rowan::SyntaxNodeChildren<NixLanguage>;
