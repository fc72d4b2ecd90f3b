//! Typed views over the syntax tree. Every accessor returns `Option`: the tree may be
//! incomplete where the source has errors.

use rowan::TextRange;

use super::kind::SyntaxKind::{self, *};
use super::kind::{SyntaxNode, SyntaxToken};
use super::strings;

/// A typed view of a syntax node of one (or several) kinds.
pub trait AstNode: Sized {
    /// Whether a node of `kind` can be viewed as `Self`.
    fn can_cast(kind: SyntaxKind) -> bool;
    /// Views `node` as `Self`, if its kind fits.
    fn cast(node: SyntaxNode) -> Option<Self>;
    /// The underlying node.
    fn syntax(&self) -> &SyntaxNode;
}

macro_rules! ast_node {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(SyntaxNode);

        impl AstNode for $name {
            fn can_cast(kind: SyntaxKind) -> bool {
                kind == $kind
            }
            fn cast(node: SyntaxNode) -> Option<Self> {
                (node.kind() == $kind).then(|| Self(node))
            }
            fn syntax(&self) -> &SyntaxNode {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

ast_node!(/// The whole file.
    Root, NODE_ROOT);
ast_node!(/// `f x`
    Apply, NODE_APPLY);
ast_node!(/// `assert c; body`
    Assert, NODE_ASSERT);
ast_node!(/// `{ ... }` or `rec { ... }`
    AttrSet, NODE_ATTR_SET);
ast_node!(/// A binary operator application (all but `?`).
    BinOp, NODE_BIN_OP);
ast_node!(/// `e ? a.b`
    HasAttr, NODE_HAS_ATTR);
ast_node!(/// A variable, or an attribute name written as an identifier (`or` included).
    Ident, NODE_IDENT);
ast_node!(/// `if c then a else b`
    IfElse, NODE_IF_ELSE);
ast_node!(/// `param: body`
    Lambda, NODE_LAMBDA);
ast_node!(/// `let { ...; body = e; }`
    LegacyLet, NODE_LEGACY_LET);
ast_node!(/// `let bindings in body`
    LetIn, NODE_LET_IN);
ast_node!(/// `[ a b c ]`
    List, NODE_LIST);
ast_node!(/// An integer, float or URI literal.
    Literal, NODE_LITERAL);
ast_node!(/// `(e)`
    Paren, NODE_PAREN);
ast_node!(/// A path literal: relative, absolute, `~/home`, `<search>`, possibly interpolated.
    Path, NODE_PATH);
ast_node!(/// `e.a.b` with an optional `or default`.
    Select, NODE_SELECT);
ast_node!(/// A `"string"` or an `''indented string''`.
    Str, NODE_STRING);
ast_node!(/// `-e` or `!e`
    UnaryOp, NODE_UNARY_OP);
ast_node!(/// `with e; body`
    With, NODE_WITH);
ast_node!(/// `__curPos`
    CurPos, NODE_CUR_POS);
ast_node!(/// `a.b."c".${d}`
    Attrpath, NODE_ATTRPATH);
ast_node!(/// `a.b = value;`
    AttrpathValue, NODE_ATTRPATH_VALUE);
ast_node!(/// `inherit a b;` or `inherit (from) a b;`
    Inherit, NODE_INHERIT);
ast_node!(/// The `(e)` of `inherit (e) ...;`
    InheritFrom, NODE_INHERIT_FROM);
ast_node!(/// `${e}` used as an attribute name.
    Dynamic, NODE_DYNAMIC);
ast_node!(/// `${e}` inside a string or path.
    Interpolation, NODE_INTERPOLATION);
ast_node!(/// The `x` of `x: body`.
    IdentParam, NODE_IDENT_PARAM);
ast_node!(/// `{ a, b ? d, ... }` with an optional `@` binding.
    Pattern, NODE_PATTERN);
ast_node!(/// One formal of a pattern: `name` or `name ? default`.
    PatEntry, NODE_PAT_ENTRY);
ast_node!(/// `x @` before or `@ x` after a pattern.
    PatBind, NODE_PAT_BIND);

macro_rules! ast_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[allow(missing_docs)]
                $variant($variant),
            )*
        }

        impl AstNode for $name {
            fn can_cast(kind: SyntaxKind) -> bool {
                $($variant::can_cast(kind))||*
            }
            fn cast(node: SyntaxNode) -> Option<Self> {
                let kind = node.kind();
                $(
                    if $variant::can_cast(kind) {
                        return Some($name::$variant($variant(node)));
                    }
                )*
                None
            }
            fn syntax(&self) -> &SyntaxNode {
                match self {
                    $($name::$variant(it) => it.syntax(),)*
                }
            }
        }

        $(
            impl From<$variant> for $name {
                fn from(node: $variant) -> $name {
                    $name::$variant(node)
                }
            }
        )*

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self.syntax(), f)
            }
        }
    };
}

ast_enum!(
    /// Any expression.
    Expr {
        Apply, Assert, AttrSet, BinOp, HasAttr, Ident, IfElse, Lambda, LegacyLet, LetIn,
        List, Literal, Paren, Path, Select, Str, UnaryOp, With, CurPos,
    }
);

ast_enum!(
    /// One attribute name in an attribute path or `inherit`.
    Attr { Ident, Str, Dynamic }
);

ast_enum!(
    /// A lambda's parameter.
    Param { IdentParam, Pattern }
);

ast_enum!(
    /// One binding of a set or `let`.
    Binding { AttrpathValue, Inherit }
);

// ---- helpers ----------------------------------------------------------------------

fn child<N: AstNode>(parent: &SyntaxNode) -> Option<N> {
    parent.children().find_map(N::cast)
}

fn children<N: AstNode>(parent: &SyntaxNode) -> impl Iterator<Item = N> {
    parent.children().filter_map(N::cast)
}

fn token(parent: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxToken> {
    parent
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == kind)
}

/// The first `N` child starting after the first token of kind `after`.
fn child_after<N: AstNode>(parent: &SyntaxNode, after: SyntaxKind) -> Option<N> {
    let start = token(parent, after)?.text_range().end();
    parent
        .children()
        .filter(|n| n.text_range().start() >= start)
        .find_map(N::cast)
}

/// The first `N` child ending before the first token of kind `before` (or anywhere if absent).
fn child_before<N: AstNode>(parent: &SyntaxNode, before: SyntaxKind) -> Option<N> {
    match token(parent, before) {
        Some(t) => {
            let end = t.text_range().start();
            parent
                .children()
                .take_while(|n| n.text_range().end() <= end)
                .find_map(N::cast)
        }
        None => child(parent),
    }
}

/// Bindings of a set, `let ... in` or legacy `let { }`.
pub trait HasBindings: AstNode {
    /// All bindings, in source order.
    fn bindings(&self) -> Box<dyn Iterator<Item = Binding>> {
        Box::new(self.syntax().children().filter_map(Binding::cast))
    }
    /// The `a.b = v;` bindings.
    fn attrpath_values(&self) -> Box<dyn Iterator<Item = AttrpathValue>> {
        Box::new(self.syntax().children().filter_map(AttrpathValue::cast))
    }
    /// The `inherit` bindings.
    fn inherits(&self) -> Box<dyn Iterator<Item = Inherit>> {
        Box::new(self.syntax().children().filter_map(Inherit::cast))
    }
}

impl HasBindings for AttrSet {}
impl HasBindings for LetIn {}
impl HasBindings for LegacyLet {}

// ---- nodes ------------------------------------------------------------------------

impl Root {
    /// The file's expression.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}

impl Apply {
    /// The function.
    pub fn lambda(&self) -> Option<Expr> {
        child(&self.0)
    }
    /// The argument.
    pub fn argument(&self) -> Option<Expr> {
        children(&self.0).nth(1)
    }
}

impl Assert {
    /// The `assert` keyword.
    pub fn assert_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_ASSERT)
    }
    /// The asserted condition.
    pub fn condition(&self) -> Option<Expr> {
        child_before(&self.0, TOKEN_SEMICOLON)
    }
    /// The expression after `;`.
    pub fn body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_SEMICOLON)
    }
}

impl AttrSet {
    /// Whether this is `rec { }`.
    pub fn is_rec(&self) -> bool {
        self.rec_token().is_some()
    }
    /// The `rec` keyword.
    pub fn rec_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_REC)
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `->`
    Implication,
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEq,
    /// `>`
    More,
    /// `>=`
    MoreOrEq,
    /// `//`
    Update,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `++`
    Concat,
}

impl BinaryOp {
    /// The operator for a token kind, if it is one.
    pub fn from_kind(kind: SyntaxKind) -> Option<BinaryOp> {
        Some(match kind {
            TOKEN_IMPLICATION => BinaryOp::Implication,
            TOKEN_OR_OR => BinaryOp::Or,
            TOKEN_AND_AND => BinaryOp::And,
            TOKEN_EQ => BinaryOp::Equal,
            TOKEN_NEQ => BinaryOp::NotEqual,
            TOKEN_LESS => BinaryOp::Less,
            TOKEN_LEQ => BinaryOp::LessOrEq,
            TOKEN_MORE => BinaryOp::More,
            TOKEN_GEQ => BinaryOp::MoreOrEq,
            TOKEN_UPDATE => BinaryOp::Update,
            TOKEN_ADD => BinaryOp::Add,
            TOKEN_SUB => BinaryOp::Sub,
            TOKEN_MUL => BinaryOp::Mul,
            TOKEN_DIV => BinaryOp::Div,
            TOKEN_CONCAT => BinaryOp::Concat,
            _ => return None,
        })
    }
}

impl BinOp {
    /// The operator token.
    pub fn operator_token(&self) -> Option<SyntaxToken> {
        self.0
            .children_with_tokens()
            .filter_map(|e| e.into_token())
            .find(|t| BinaryOp::from_kind(t.kind()).is_some())
    }
    /// The operator.
    pub fn operator(&self) -> Option<BinaryOp> {
        BinaryOp::from_kind(self.operator_token()?.kind())
    }
    /// The left operand.
    pub fn lhs(&self) -> Option<Expr> {
        let op = self.operator_token()?.text_range().start();
        self.0
            .children()
            .take_while(|n| n.text_range().end() <= op)
            .find_map(Expr::cast)
    }
    /// The right operand.
    pub fn rhs(&self) -> Option<Expr> {
        let op = self.operator_token()?.text_range().end();
        self.0
            .children()
            .filter(|n| n.text_range().start() >= op)
            .find_map(Expr::cast)
    }
}

impl HasAttr {
    /// The set being tested.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
    /// The attribute path after `?`.
    pub fn attrpath(&self) -> Option<Attrpath> {
        child(&self.0)
    }
}

impl Ident {
    /// The identifier token (`TOKEN_IDENT`, or `TOKEN_OR_KW` where `or` is a name).
    pub fn ident_token(&self) -> Option<SyntaxToken> {
        self.0
            .children_with_tokens()
            .filter_map(|e| e.into_token())
            .find(|t| matches!(t.kind(), TOKEN_IDENT | TOKEN_OR_KW))
    }
    /// The name as written.
    pub fn name(&self) -> String {
        self.ident_token()
            .map(|t| t.text().to_owned())
            .unwrap_or_default()
    }
}

impl IfElse {
    /// The condition.
    pub fn condition(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_IF)
            .filter(|e: &Expr| self.then_token().is_none_or(|t| end_before(e, &t)))
    }
    /// The `then` branch.
    pub fn body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_THEN)
            .filter(|e: &Expr| self.else_token().is_none_or(|t| end_before(e, &t)))
    }
    /// The `else` branch.
    pub fn else_body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_ELSE)
    }
    fn then_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_THEN)
    }
    fn else_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_ELSE)
    }
}

fn end_before(e: &impl AstNode, t: &SyntaxToken) -> bool {
    e.syntax().text_range().end() <= t.text_range().start()
}

impl Lambda {
    /// The parameter: `x` or a pattern.
    pub fn param(&self) -> Option<Param> {
        child(&self.0)
    }
    /// The body after `:`.
    pub fn body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_COLON)
    }
}

impl IdentParam {
    /// The parameter's name.
    pub fn ident(&self) -> Option<Ident> {
        child(&self.0)
    }
}

impl Pattern {
    /// The formals, in source order.
    pub fn pat_entries(&self) -> impl Iterator<Item = PatEntry> {
        children(&self.0)
    }
    /// The `...` token, if the pattern accepts extra attributes.
    pub fn ellipsis_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_ELLIPSIS)
    }
    /// Whether the pattern has `...`.
    pub fn has_ellipsis(&self) -> bool {
        self.ellipsis_token().is_some()
    }
    /// The `x @` / `@ x` binding, on either side.
    pub fn pat_bind(&self) -> Option<PatBind> {
        child(&self.0)
    }
}

impl PatEntry {
    /// The formal's name.
    pub fn ident(&self) -> Option<Ident> {
        child(&self.0)
    }
    /// The default after `?`.
    pub fn default(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_QUESTION)
    }
}

impl PatBind {
    /// The bound name.
    pub fn ident(&self) -> Option<Ident> {
        child(&self.0)
    }
}

impl LegacyLet {
    /// `let { ... }` evaluates to the `body` attribute of the recursive set.
    pub fn let_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_LET)
    }
}

impl LetIn {
    /// The `let` keyword.
    pub fn let_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_LET)
    }
    /// The `in` keyword.
    pub fn in_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_IN)
    }
    /// The expression after `in`.
    pub fn body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_IN)
    }
}

impl List {
    /// The elements.
    pub fn items(&self) -> impl Iterator<Item = Expr> {
        children(&self.0)
    }
}

/// What kind of literal a [`Literal`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiteralKind {
    /// `42`
    Int,
    /// `1.5`
    Float,
    /// `https://example.org`
    Uri,
}

impl Literal {
    /// The literal's token.
    pub fn token(&self) -> Option<SyntaxToken> {
        self.0.first_token()
    }
    /// Integer, float or URI.
    pub fn kind(&self) -> Option<LiteralKind> {
        Some(match self.token()?.kind() {
            TOKEN_INT => LiteralKind::Int,
            TOKEN_FLOAT => LiteralKind::Float,
            TOKEN_URI => LiteralKind::Uri,
            _ => return None,
        })
    }
    /// The integer's value; `None` when not an integer or out of `i64` range
    /// (the latter is also a syntax error, as in Nix).
    pub fn int_value(&self) -> Option<i64> {
        let t = self.token()?;
        (t.kind() == TOKEN_INT)
            .then(|| t.text().parse().ok())
            .flatten()
    }
    /// The float's value as Nix reads it (`strtod`).
    pub fn float_value(&self) -> Option<f64> {
        let t = self.token()?;
        (t.kind() == TOKEN_FLOAT)
            .then(|| strings::parse_float(t.text()))
            .flatten()
    }
}

impl Paren {
    /// The parenthesised expression.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}

/// Where a path literal is rooted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// `./a`, `a/b`, `../a`: relative to the file's directory.
    Relative,
    /// `/etc/nixos`
    Absolute,
    /// `~/x`
    Home,
    /// `<nixpkgs/lib>`
    Search,
}

/// One piece of a path: literal text as written, or an interpolation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathPart {
    /// Path text (no escapes exist in paths).
    Literal(String),
    /// `${e}`
    Interpolation(Interpolation),
}

impl Path {
    /// Relative, absolute, home or search path.
    pub fn kind(&self) -> Option<PathKind> {
        let first = self.0.first_token()?;
        Some(match first.kind() {
            TOKEN_PATH_HOME => PathKind::Home,
            TOKEN_PATH_SEARCH => PathKind::Search,
            TOKEN_PATH if first.text().starts_with('/') => PathKind::Absolute,
            TOKEN_PATH => PathKind::Relative,
            _ => return None,
        })
    }
    /// The pieces in order; adjacent literal pieces are merged. A search path is one
    /// literal with its angle brackets (`<nixpkgs>`); a home path starts with `~/`.
    pub fn parts(&self) -> Vec<PathPart> {
        let mut parts: Vec<PathPart> = Vec::new();
        for element in self.0.children_with_tokens() {
            match element {
                rowan::NodeOrToken::Token(t) => {
                    if matches!(
                        t.kind(),
                        TOKEN_PATH | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH | TOKEN_PATH_FRAGMENT
                    ) {
                        if let Some(PathPart::Literal(last)) = parts.last_mut() {
                            last.push_str(t.text());
                        } else {
                            parts.push(PathPart::Literal(t.text().to_owned()));
                        }
                    }
                }
                rowan::NodeOrToken::Node(n) => {
                    if let Some(i) = Interpolation::cast(n) {
                        parts.push(PathPart::Interpolation(i));
                    }
                }
            }
        }
        parts
    }
    /// For `<nixpkgs/lib>`, the text between the brackets.
    pub fn search_path(&self) -> Option<String> {
        let t = self.0.first_token()?;
        (t.kind() == TOKEN_PATH_SEARCH).then(|| {
            let text = t.text();
            text[1..text.len() - 1].to_owned()
        })
    }
}

impl Select {
    /// The expression selected from.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0).filter(|e: &Expr| {
            self.attrpath()
                .is_none_or(|p| e.syntax().text_range().end() <= p.syntax().text_range().start())
        })
    }
    /// The selected attribute path.
    pub fn attrpath(&self) -> Option<Attrpath> {
        child(&self.0)
    }
    /// The `or` keyword of a default.
    pub fn or_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_OR_KW)
    }
    /// The default after `or`.
    pub fn default_expr(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_OR_KW)
    }
}

/// One piece of a cooked string: literal text (escapes processed, indentation stripped)
/// or an interpolation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StrPart {
    /// Text, exactly as Nix sees it.
    Literal(String),
    /// `${e}`
    Interpolation(Interpolation),
}

impl Str {
    /// Whether this is an `''indented string''`.
    pub fn is_indented(&self) -> bool {
        self.0
            .first_token()
            .is_some_and(|t| t.kind() == TOKEN_IND_QUOTE_OPEN)
    }
    /// The interpolations, in order.
    pub fn interpolations(&self) -> impl Iterator<Item = Interpolation> {
        children(&self.0)
    }
    /// The string's value as Nix computes it: escapes processed, and for indented
    /// strings Nix's exact indentation stripping. Adjacent literals are merged and empty
    /// ones dropped, so `""` gives an empty `Vec`.
    pub fn normalized_parts(&self) -> Vec<StrPart> {
        if self.is_indented() {
            strings::cook_indented(self)
        } else {
            strings::cook_plain(self)
        }
    }
    /// If the string has no interpolation, its value.
    pub fn literal_value(&self) -> Option<String> {
        let parts = self.normalized_parts();
        match parts.as_slice() {
            [] => Some(String::new()),
            [StrPart::Literal(s)] => Some(s.clone()),
            _ => None,
        }
    }
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOpKind {
    /// `-e`
    Negate,
    /// `!e`
    Invert,
}

impl UnaryOp {
    /// The operator token.
    pub fn operator_token(&self) -> Option<SyntaxToken> {
        self.0
            .children_with_tokens()
            .filter_map(|e| e.into_token())
            .find(|t| matches!(t.kind(), TOKEN_SUB | TOKEN_INVERT))
    }
    /// The operator.
    pub fn operator(&self) -> Option<UnaryOpKind> {
        Some(match self.operator_token()?.kind() {
            TOKEN_SUB => UnaryOpKind::Negate,
            _ => UnaryOpKind::Invert,
        })
    }
    /// The operand.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}

impl With {
    /// The `with` keyword.
    pub fn with_token(&self) -> Option<SyntaxToken> {
        token(&self.0, TOKEN_WITH)
    }
    /// The set whose attributes come into scope.
    pub fn namespace(&self) -> Option<Expr> {
        child_before(&self.0, TOKEN_SEMICOLON)
    }
    /// The expression after `;`.
    pub fn body(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_SEMICOLON)
    }
}

impl CurPos {
    /// The `__curPos` token's range (what the position refers to).
    pub fn range(&self) -> TextRange {
        self.0.text_range()
    }
}

impl Attrpath {
    /// The attribute names, in order.
    pub fn attrs(&self) -> impl Iterator<Item = Attr> {
        children(&self.0)
    }
}

impl Attr {
    /// The name, if it is known without evaluation: an identifier, a string without
    /// interpolation, or `${"literal"}` (Nix treats all three as static names).
    pub fn static_name(&self) -> Option<String> {
        match self {
            Attr::Ident(i) => Some(i.name()),
            Attr::Str(s) => s.literal_value(),
            Attr::Dynamic(d) => d.expr().and_then(|e| strings::static_string(&e)),
        }
    }
}

impl AttrpathValue {
    /// The attribute path before `=`.
    pub fn attrpath(&self) -> Option<Attrpath> {
        child(&self.0)
    }
    /// The value after `=`.
    pub fn value(&self) -> Option<Expr> {
        child_after(&self.0, TOKEN_ASSIGN)
    }
}

impl Inherit {
    /// The `(e)` of `inherit (e) ...`.
    pub fn from(&self) -> Option<InheritFrom> {
        child(&self.0)
    }
    /// The inherited names.
    pub fn attrs(&self) -> impl Iterator<Item = Attr> {
        children(&self.0)
    }
}

impl InheritFrom {
    /// The expression inherited from.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}

impl Dynamic {
    /// The expression computing the name.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}

impl Interpolation {
    /// The interpolated expression.
    pub fn expr(&self) -> Option<Expr> {
        child(&self.0)
    }
}
