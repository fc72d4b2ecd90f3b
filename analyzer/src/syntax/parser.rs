//! The grammar: a recursive-descent parser with Pratt-style operator precedence that
//! follows Nix's `parser.y` production by production, building a lossless rowan tree.
//!
//! Where the grammar matters for what is accepted, it mirrors `parser.y` exactly:
//! lambdas, `assert`, `with`, `let ... in` and `if` only appear where an `expr` is
//! expected (so `1 + x: x` is an error), application arguments and list items are
//! `expr_select`s, comparisons are non-associative, `!` binds looser than `+`, and
//! `a or` (a select-less `or`) is an application of `a` to the variable `or`.

use rowan::{GreenNode, TextRange, TextSize};

use std::cell::Cell;

use super::green::{BuilderScratch, Checkpoint, TreeBuilder};
use super::kind::SyntaxKind::{self, *};
use super::lexer::{lex_into, Token};
use super::SyntaxError;

/// How deep expressions may nest before the parser gives up on the rest of the input.
/// Deep enough for any real file; shallow enough for a 2 MiB thread stack in debug builds.
pub const MAX_DEPTH: u32 = 1000;

/// Allocations one parse leaves behind for the next on the same thread: the token
/// list, the lookahead index and the tree builder's stacks.
#[derive(Default)]
struct Scratch {
    tokens: Vec<Token>,
    significant: Vec<u32>,
    builder: BuilderScratch,
}

/// Token buffers longer than this are freed after a parse instead of kept.
const MAX_KEPT_TOKENS: usize = 1 << 16;

thread_local! {
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

/// Parses `text` into a green tree and the syntax errors found on the way.
pub(crate) fn parse_text(text: &str) -> (GreenNode, Vec<SyntaxError>) {
    // `take` leaves an empty scratch behind, so a nested parse on this thread (none
    // today) would simply allocate its own.
    let scratch = SCRATCH.with(Cell::take);
    let lexed = lex_into(text, scratch.tokens);
    let mut significant = scratch.significant;
    significant.clear();
    significant.reserve(lexed.tokens.len());
    significant.extend(
        (0..lexed.tokens.len() as u32).filter(|&i| !lexed.tokens[i as usize].kind.is_trivia()),
    );
    let builder = TreeBuilder::with_scratch(lexed.tokens.len(), scratch.builder);
    let mut p = Parser {
        text,
        tokens: lexed.tokens,
        significant,
        sig_pos: 0,
        pos: 0,
        builder,
        errors: lexed
            .errors
            .into_iter()
            .map(|(range, message)| SyntaxError { range, message })
            .collect(),
        depth: 0,
        gave_up: false,
    };
    p.root();
    let (green, builder) = p.builder.finish_with_scratch(NODE_ROOT);
    SCRATCH.with(|cell| {
        cell.set(Scratch {
            tokens: keep(p.tokens),
            significant: keep(p.significant),
            builder,
        })
    });
    (green, p.errors)
}

/// `buffer`, unless it grew too large to keep around.
fn keep<T>(buffer: Vec<T>) -> Vec<T> {
    if buffer.capacity() <= MAX_KEPT_TOKENS {
        buffer
    } else {
        Vec::new()
    }
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    /// Indices of the non-trivia tokens, so lookahead is O(1).
    significant: Vec<u32>,
    /// Index into `significant` of the next non-trivia token.
    sig_pos: usize,
    /// Index of the next token not yet in the tree (possibly trivia).
    pos: usize,
    builder: TreeBuilder,
    errors: Vec<SyntaxError>,
    depth: u32,
    /// Set once the nesting limit is hit: the rest of the input is one error node,
    /// and further "expected ..." errors would only be noise.
    gave_up: bool,
}

/// Binding power of a binary operator: (level, associativity), levels from `parser.y`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Assoc {
    Left,
    Right,
    None,
}

fn infix_level(kind: SyntaxKind) -> Option<(u8, Assoc)> {
    Some(match kind {
        TOKEN_IMPLICATION => (1, Assoc::Right),
        TOKEN_OR_OR => (2, Assoc::Left),
        TOKEN_AND_AND => (3, Assoc::Left),
        TOKEN_EQ | TOKEN_NEQ => (4, Assoc::None),
        TOKEN_LESS | TOKEN_MORE | TOKEN_LEQ | TOKEN_GEQ => (5, Assoc::None),
        TOKEN_UPDATE => (6, Assoc::Right),
        // 7 is `!`.
        TOKEN_ADD | TOKEN_SUB => (8, Assoc::Left),
        TOKEN_MUL | TOKEN_DIV => (9, Assoc::Left),
        TOKEN_CONCAT => (10, Assoc::Right),
        // `%nonassoc` in parser.y, but its right side is an attrpath, so `a ? b ? c`
        // never conflicts and chains to the left.
        TOKEN_QUESTION => (11, Assoc::Left),
        // 12 is unary `-`.
        _ => return None,
    })
}

/// Operand of `!`: everything binding tighter than `!` (level 7).
const NOT_OPERAND: u8 = 8;
/// Operand of unary `-`: nothing but an application.
const NEGATE_OPERAND: u8 = 13;

/// A human name for a token kind, for error messages.
pub(crate) fn describe(kind: SyntaxKind) -> &'static str {
    match kind {
        TOKEN_WHITESPACE => "whitespace",
        TOKEN_COMMENT => "a comment",
        TOKEN_ERROR => "an unexpected character",
        TOKEN_IDENT => "an identifier",
        TOKEN_INT => "an integer",
        TOKEN_FLOAT => "a float",
        TOKEN_URI => "a URI",
        TOKEN_PATH | TOKEN_PATH_FRAGMENT => "a path",
        TOKEN_PATH_HOME => "a home path",
        TOKEN_PATH_SEARCH => "a search path",
        TOKEN_QUOTE => "`\"`",
        TOKEN_IND_QUOTE_OPEN | TOKEN_IND_QUOTE_CLOSE => "`''`",
        TOKEN_STR_CONTENT | TOKEN_STR_ESCAPE => "string content",
        TOKEN_DOLLAR_CURLY => "`${`",
        TOKEN_IF => "`if`",
        TOKEN_THEN => "`then`",
        TOKEN_ELSE => "`else`",
        TOKEN_ASSERT => "`assert`",
        TOKEN_WITH => "`with`",
        TOKEN_LET => "`let`",
        TOKEN_IN => "`in`",
        TOKEN_REC => "`rec`",
        TOKEN_INHERIT => "`inherit`",
        TOKEN_OR_KW => "`or`",
        TOKEN_ELLIPSIS => "`...`",
        TOKEN_EQ => "`==`",
        TOKEN_NEQ => "`!=`",
        TOKEN_LEQ => "`<=`",
        TOKEN_GEQ => "`>=`",
        TOKEN_LESS => "`<`",
        TOKEN_MORE => "`>`",
        TOKEN_AND_AND => "`&&`",
        TOKEN_OR_OR => "`||`",
        TOKEN_IMPLICATION => "`->`",
        TOKEN_UPDATE => "`//`",
        TOKEN_CONCAT => "`++`",
        TOKEN_ADD => "`+`",
        TOKEN_SUB => "`-`",
        TOKEN_MUL => "`*`",
        TOKEN_DIV => "`/`",
        TOKEN_INVERT => "`!`",
        TOKEN_QUESTION => "`?`",
        TOKEN_AT => "`@`",
        TOKEN_COLON => "`:`",
        TOKEN_SEMICOLON => "`;`",
        TOKEN_COMMA => "`,`",
        TOKEN_DOT => "`.`",
        TOKEN_ASSIGN => "`=`",
        TOKEN_L_PAREN => "`(`",
        TOKEN_R_PAREN => "`)`",
        TOKEN_L_BRACK => "`[`",
        TOKEN_R_BRACK => "`]`",
        TOKEN_L_BRACE => "`{`",
        TOKEN_R_BRACE => "`}`",
        _ => "a syntax node",
    }
}

/// Stand-in kind for "no more tokens".
const EOF: SyntaxKind = SyntaxKind::__LAST;

/// Tokens that close an enclosing construct: recovery stops before them.
fn is_recovery(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_SEMICOLON
            | TOKEN_R_BRACE
            | TOKEN_R_PAREN
            | TOKEN_R_BRACK
            | TOKEN_IN
            | TOKEN_THEN
            | TOKEN_ELSE
            | TOKEN_COMMA
            | EOF
    )
}

impl<'t> Parser<'t> {
    // ---- token access -------------------------------------------------------------

    /// Index of the `n`th non-trivia token from `pos`.
    fn nth_index(&self, n: usize) -> Option<usize> {
        self.significant.get(self.sig_pos + n).map(|&i| i as usize)
    }

    fn nth(&self, n: usize) -> SyntaxKind {
        self.nth_index(n).map_or(EOF, |i| self.tokens[i].kind)
    }

    fn peek(&self) -> SyntaxKind {
        self.nth(0)
    }

    /// The very next token, trivia included (paths end at the first trivia).
    fn peek_raw(&self) -> SyntaxKind {
        self.tokens.get(self.pos).map_or(EOF, |t| t.kind)
    }

    fn token_text(&self, index: usize) -> &'t str {
        let t = self.tokens[index];
        &self.text[t.start as usize..(t.start + t.len) as usize]
    }

    fn peek_text(&self) -> &'t str {
        self.nth_index(0).map_or("", |i| self.token_text(i))
    }

    fn peek_range(&self) -> TextRange {
        match self.nth_index(0) {
            Some(i) => self.tokens[i].range(),
            None => TextRange::empty(TextSize::of(self.text)),
        }
    }

    // ---- tree building ------------------------------------------------------------

    fn eat_trivia(&mut self) {
        while let Some(t) = self.tokens.get(self.pos) {
            if !t.kind.is_trivia() {
                break;
            }
            self.bump_raw();
        }
    }

    fn bump_raw(&mut self) {
        let t = self.tokens[self.pos];
        if !t.kind.is_trivia() {
            self.sig_pos += 1;
        }
        let text = &self.text[t.start as usize..(t.start + t.len) as usize];
        self.builder.token(t.kind, text);
        self.pos += 1;
    }

    /// Adds the next non-trivia token (and the trivia before it) to the current node.
    fn bump(&mut self) {
        self.eat_trivia();
        if self.pos < self.tokens.len() {
            self.bump_raw();
        }
    }

    /// Adds the next token as `kind` (e.g. `or` used as an identifier stays `TOKEN_OR_KW`).
    fn start_node(&mut self, kind: SyntaxKind) {
        self.eat_trivia();
        self.builder.start_node(kind);
    }

    fn finish_node(&mut self) {
        self.builder.finish_node();
    }

    fn checkpoint(&mut self) -> Checkpoint {
        self.eat_trivia();
        self.builder.checkpoint()
    }

    fn start_node_at(&mut self, cp: Checkpoint, kind: SyntaxKind) {
        self.builder.start_node_at(cp, kind);
    }

    fn error_at(&mut self, range: TextRange, message: impl Into<String>) {
        if self.gave_up {
            return;
        }
        self.errors.push(SyntaxError {
            range,
            message: message.into(),
        });
    }

    /// "expected X, found Y" at the next token.
    fn error_expected(&mut self, what: &str) {
        let found = self.peek();
        let message = if found == EOF {
            format!("expected {what}, found end of file")
        } else {
            format!("expected {what}, found {}", self.describe_next())
        };
        let range = self.peek_range();
        self.error_at(range, message);
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            TOKEN_ERROR => format!("unexpected character `{}`", self.peek_text()),
            TOKEN_IDENT => format!("identifier `{}`", self.peek_text()),
            kind => describe(kind).to_string(),
        }
    }

    fn at(&self, kind: SyntaxKind) -> bool {
        self.peek() == kind
    }

    fn eat(&mut self, kind: SyntaxKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: SyntaxKind) -> bool {
        if self.eat(kind) {
            true
        } else {
            self.error_expected(describe(kind));
            false
        }
    }

    /// Wraps the next token in an error node (used when it fits nowhere).
    fn bump_error(&mut self) {
        self.start_node(NODE_ERROR);
        self.bump();
        self.finish_node();
    }

    /// Guards recursion: returns false (after swallowing the rest of the input) when
    /// nesting exceeds [`MAX_DEPTH`], so 100,000 nested parentheses cannot overflow the stack.
    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth <= MAX_DEPTH {
            return true;
        }
        if !self.gave_up {
            let range = self.peek_range();
            self.error_at(
                range,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            );
            self.gave_up = true;
            self.start_node(NODE_ERROR);
            while self.pos < self.tokens.len() {
                self.bump_raw();
            }
            self.finish_node();
        }
        false
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- grammar ------------------------------------------------------------------

    fn root(&mut self) {
        self.builder.start_node(NODE_ROOT);
        if self.at(EOF) {
            self.error_expected("an expression");
        } else {
            self.expr();
        }
        if !self.at(EOF) {
            self.error_at(
                self.peek_range(),
                format!("unexpected {} after the expression", self.describe_next()),
            );
            self.start_node(NODE_ERROR);
            while self.peek() != EOF {
                self.bump();
            }
            self.finish_node();
        }
        self.eat_trivia();
        self.builder.finish_node();
    }

    /// `expr` / `expr_function`: lambdas, `assert`, `with`, `let ... in`, `if`, operators.
    fn expr(&mut self) {
        if !self.enter() {
            return;
        }
        match self.peek() {
            TOKEN_IDENT if self.nth(1) == TOKEN_COLON => {
                self.start_node(NODE_LAMBDA);
                self.start_node(NODE_IDENT_PARAM);
                self.ident();
                self.finish_node();
                self.bump(); // `:`
                self.expr();
                self.finish_node();
            }
            TOKEN_IDENT if self.nth(1) == TOKEN_AT => self.pattern_lambda(),
            TOKEN_L_BRACE if self.is_pattern() => self.pattern_lambda(),
            TOKEN_ASSERT => self.keyword_expr(NODE_ASSERT),
            TOKEN_WITH => self.keyword_expr(NODE_WITH),
            TOKEN_LET if self.nth(1) != TOKEN_L_BRACE => {
                self.start_node(NODE_LET_IN);
                self.bump();
                self.bindings(true);
                if self.expect(TOKEN_IN) || !is_recovery(self.peek()) {
                    self.expr();
                }
                self.finish_node();
            }
            TOKEN_IF => {
                self.start_node(NODE_IF_ELSE);
                self.bump();
                self.expr();
                self.expect(TOKEN_THEN);
                self.expr();
                self.expect(TOKEN_ELSE);
                self.expr();
                self.finish_node();
            }
            _ => self.op(0),
        }
        self.leave();
    }

    /// `assert c; body` and `with e; body`.
    fn keyword_expr(&mut self, kind: SyntaxKind) {
        self.start_node(kind);
        self.bump();
        self.expr();
        self.expect(TOKEN_SEMICOLON);
        self.expr();
        self.finish_node();
    }

    /// At `{`: is this a lambda pattern rather than an attribute set?
    fn is_pattern(&self) -> bool {
        match self.nth(1) {
            TOKEN_R_BRACE => matches!(self.nth(2), TOKEN_COLON | TOKEN_AT),
            TOKEN_ELLIPSIS => true,
            TOKEN_IDENT => matches!(self.nth(2), TOKEN_COMMA | TOKEN_QUESTION | TOKEN_R_BRACE),
            _ => false,
        }
    }

    fn ident(&mut self) {
        self.start_node(NODE_IDENT);
        self.bump();
        self.finish_node();
    }

    /// `{ formals } : e`, `{ formals } @ x : e`, `x @ { formals } : e`.
    fn pattern_lambda(&mut self) {
        self.start_node(NODE_LAMBDA);
        self.start_node(NODE_PATTERN);
        let mut bound = false;
        if self.at(TOKEN_IDENT) {
            self.start_node(NODE_PAT_BIND);
            self.ident();
            self.bump(); // `@`
            self.finish_node();
            bound = true;
        }
        self.expect(TOKEN_L_BRACE);
        loop {
            match self.peek() {
                TOKEN_IDENT => {
                    self.start_node(NODE_PAT_ENTRY);
                    self.ident();
                    if self.eat(TOKEN_QUESTION) {
                        self.expr();
                    }
                    self.finish_node();
                    match self.peek() {
                        TOKEN_COMMA => self.bump(),
                        TOKEN_R_BRACE => break,
                        _ => {
                            self.error_expected("`,` or `}`");
                            self.recover_in_pattern();
                            if !self.eat(TOKEN_COMMA) {
                                break;
                            }
                        }
                    }
                }
                TOKEN_ELLIPSIS => {
                    self.bump();
                    break;
                }
                TOKEN_R_BRACE => break,
                _ => {
                    self.error_expected("a formal argument, `...` or `}`");
                    self.recover_in_pattern();
                    if !self.eat(TOKEN_COMMA) {
                        break;
                    }
                }
            }
        }
        if self.expect(TOKEN_R_BRACE) && !bound && self.at(TOKEN_AT) {
            self.start_node(NODE_PAT_BIND);
            self.bump();
            if self.at(TOKEN_IDENT) {
                self.ident();
            } else {
                self.error_expected("an identifier");
            }
            self.finish_node();
        }
        self.finish_node(); // pattern
        if self.expect(TOKEN_COLON) || !is_recovery(self.peek()) {
            self.expr();
        }
        self.finish_node();
    }

    /// Skips to the next `,`, `}` or `:` inside a pattern.
    fn recover_in_pattern(&mut self) {
        if matches!(self.peek(), TOKEN_COMMA | TOKEN_R_BRACE | TOKEN_COLON | EOF) {
            return;
        }
        self.start_node(NODE_ERROR);
        while !matches!(self.peek(), TOKEN_COMMA | TOKEN_R_BRACE | TOKEN_COLON | EOF) {
            self.skip_balanced();
        }
        self.finish_node();
    }

    /// Bumps one token (always: recovery must make progress); for an opening bracket,
    /// everything up to its partner.
    fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                EOF => return,
                TOKEN_L_BRACE | TOKEN_DOLLAR_CURLY | TOKEN_L_PAREN | TOKEN_L_BRACK => depth += 1,
                TOKEN_R_BRACE | TOKEN_R_PAREN | TOKEN_R_BRACK => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
            if depth == 0 {
                return;
            }
        }
    }

    /// `expr_op`: prefix and binary operators by precedence climbing.
    fn op(&mut self, min_level: u8) {
        if !self.enter() {
            return;
        }
        let cp = self.checkpoint();
        match self.peek() {
            TOKEN_INVERT => {
                self.start_node(NODE_UNARY_OP);
                self.bump();
                self.op(NOT_OPERAND);
                self.finish_node();
            }
            TOKEN_SUB => {
                self.start_node(NODE_UNARY_OP);
                self.bump();
                self.op(NEGATE_OPERAND);
                self.finish_node();
            }
            _ => self.app(),
        }
        // The level of the non-associative operator that built the left side, if any.
        let mut nonassoc_level = None;
        while let Some((level, assoc)) = infix_level(self.peek()) {
            if level < min_level {
                break;
            }
            if nonassoc_level == Some(level) {
                let op = describe(self.peek());
                self.error_at(
                    self.peek_range(),
                    format!("{op} is not associative: add parentheses"),
                );
            }
            if self.at(TOKEN_QUESTION) {
                self.start_node_at(cp, NODE_HAS_ATTR);
                self.bump();
                self.attrpath();
            } else {
                self.start_node_at(cp, NODE_BIN_OP);
                self.bump();
                let next = if assoc == Assoc::Right {
                    level
                } else {
                    level + 1
                };
                self.op(next);
            }
            self.finish_node();
            nonassoc_level = (assoc == Assoc::None).then_some(level);
        }
        self.leave();
    }

    /// Can the next token start an `expr_select` (an argument, a list item)?
    fn at_simple_start(&self) -> bool {
        match self.peek() {
            TOKEN_IDENT | TOKEN_INT | TOKEN_FLOAT | TOKEN_URI | TOKEN_PATH | TOKEN_PATH_HOME
            | TOKEN_PATH_SEARCH | TOKEN_QUOTE | TOKEN_IND_QUOTE_OPEN | TOKEN_L_PAREN
            | TOKEN_L_BRACK | TOKEN_L_BRACE | TOKEN_REC => true,
            TOKEN_LET => self.nth(1) == TOKEN_L_BRACE,
            _ => false,
        }
    }

    /// `expr_app`: `f a b`.
    fn app(&mut self) {
        let cp = self.checkpoint();
        self.select();
        while self.at_simple_start() && !self.gave_up {
            self.start_node_at(cp, NODE_APPLY);
            self.select();
            self.finish_node();
        }
    }

    /// `expr_select`: `e.a.b`, `e.a.b or d`, and `e or` (an application of `e` to `or`).
    fn select(&mut self) {
        if !self.enter() {
            return;
        }
        let cp = self.checkpoint();
        self.simple();
        match self.peek() {
            TOKEN_DOT => {
                self.start_node_at(cp, NODE_SELECT);
                self.bump();
                self.attrpath();
                if self.eat(TOKEN_OR_KW) {
                    self.select();
                }
                self.finish_node();
            }
            TOKEN_OR_KW => {
                self.start_node_at(cp, NODE_APPLY);
                self.ident();
                self.finish_node();
            }
            _ => {}
        }
        self.leave();
    }

    /// `expr_simple`: atoms and bracketed forms.
    fn simple(&mut self) {
        match self.peek() {
            TOKEN_IDENT => {
                let kind = if self.peek_text() == "__curPos" {
                    NODE_CUR_POS
                } else {
                    NODE_IDENT
                };
                self.start_node(kind);
                self.bump();
                self.finish_node();
            }
            TOKEN_INT | TOKEN_FLOAT | TOKEN_URI => {
                self.start_node(NODE_LITERAL);
                self.bump();
                self.finish_node();
            }
            TOKEN_QUOTE => self.string(),
            TOKEN_IND_QUOTE_OPEN => self.ind_string(),
            TOKEN_PATH | TOKEN_PATH_HOME => self.path(),
            TOKEN_PATH_SEARCH => {
                self.start_node(NODE_PATH);
                self.bump();
                self.finish_node();
            }
            TOKEN_L_PAREN => {
                self.start_node(NODE_PAREN);
                self.bump();
                self.expr();
                self.expect(TOKEN_R_PAREN);
                self.finish_node();
            }
            TOKEN_LET if self.nth(1) == TOKEN_L_BRACE => {
                self.start_node(NODE_LEGACY_LET);
                self.bump();
                self.bump();
                self.bindings(false);
                self.expect(TOKEN_R_BRACE);
                self.finish_node();
            }
            TOKEN_REC => {
                self.start_node(NODE_ATTR_SET);
                self.bump();
                if self.expect(TOKEN_L_BRACE) {
                    self.bindings(false);
                    self.expect(TOKEN_R_BRACE);
                }
                self.finish_node();
            }
            TOKEN_L_BRACE => {
                self.start_node(NODE_ATTR_SET);
                self.bump();
                self.bindings(false);
                self.expect(TOKEN_R_BRACE);
                self.finish_node();
            }
            TOKEN_L_BRACK => self.list(),
            kind => {
                self.error_expected("an expression");
                if !is_recovery(kind) && !matches!(kind, TOKEN_R_BRACE) {
                    self.bump_error();
                }
            }
        }
    }

    fn list(&mut self) {
        self.start_node(NODE_LIST);
        self.bump();
        loop {
            if self.at_simple_start() {
                self.select();
                if self.gave_up {
                    break;
                }
                continue;
            }
            match self.peek() {
                TOKEN_R_BRACK => {
                    self.bump();
                    break;
                }
                kind if is_recovery(kind) => {
                    self.error_expected("`]`");
                    break;
                }
                _ => {
                    self.error_expected("a list element or `]`");
                    self.bump_error();
                }
            }
        }
        self.finish_node();
    }

    /// `"..."`: content tokens and interpolations up to the closing quote.
    fn string(&mut self) {
        self.start_node(NODE_STRING);
        self.bump();
        loop {
            match self.peek_raw() {
                TOKEN_STR_CONTENT => self.bump_raw(),
                TOKEN_DOLLAR_CURLY => self.interpolation(NODE_INTERPOLATION),
                TOKEN_QUOTE => {
                    self.bump_raw();
                    break;
                }
                EOF => {
                    self.error_at(
                        TextRange::empty(TextSize::of(self.text)),
                        "unterminated string: expected `\"`, found end of file",
                    );
                    break;
                }
                _ => {
                    // Only reachable after a broken interpolation left tokens behind.
                    self.error_expected("`\"`");
                    self.bump_error();
                }
            }
        }
        self.finish_node();
    }

    /// `''...''`.
    fn ind_string(&mut self) {
        self.start_node(NODE_STRING);
        self.bump();
        loop {
            match self.peek_raw() {
                TOKEN_STR_CONTENT | TOKEN_STR_ESCAPE => self.bump_raw(),
                TOKEN_DOLLAR_CURLY => self.interpolation(NODE_INTERPOLATION),
                TOKEN_IND_QUOTE_CLOSE => {
                    self.bump_raw();
                    break;
                }
                EOF => {
                    self.error_at(
                        TextRange::empty(TextSize::of(self.text)),
                        "unterminated indented string: expected `''`, found end of file",
                    );
                    break;
                }
                _ => {
                    self.error_expected("`''`");
                    self.bump_error();
                }
            }
        }
        self.finish_node();
    }

    /// `${ e }` (an interpolation or a dynamic attribute name).
    fn interpolation(&mut self, kind: SyntaxKind) {
        self.start_node(kind);
        self.bump(); // `${`
        self.expr();
        if !self.eat(TOKEN_R_BRACE) {
            self.error_expected("`}`");
            if !self.at(EOF) {
                self.start_node(NODE_ERROR);
                while !matches!(self.peek(), TOKEN_R_BRACE | EOF) {
                    self.skip_balanced();
                }
                self.finish_node();
                self.eat(TOKEN_R_BRACE);
            }
        }
        self.finish_node();
    }

    /// A path: its first piece, then adjacent fragments and interpolations.
    fn path(&mut self) {
        self.start_node(NODE_PATH);
        self.bump();
        let mut interpolated = false;
        loop {
            match self.peek_raw() {
                TOKEN_PATH_FRAGMENT => {
                    // Nix's grammar only allows a piece between the path's start and
                    // its first interpolation (`a/b//c` is an error, `./a/${b}//c` not).
                    let followed = self.tokens.get(self.pos + 1).map(|t| t.kind);
                    if !interpolated && followed != Some(TOKEN_DOLLAR_CURLY) {
                        let range = self.tokens[self.pos].range();
                        let text = self.token_text(self.pos);
                        self.error_at(
                            range,
                            format!("unexpected path segment `{text}`: a path cannot contain `//`"),
                        );
                    }
                    self.bump_raw();
                }
                TOKEN_DOLLAR_CURLY => {
                    interpolated = true;
                    self.interpolation(NODE_INTERPOLATION);
                }
                _ => break,
            }
        }
        self.finish_node();
    }

    /// `attrpath`: `a.b."c".${d}`.
    fn attrpath(&mut self) {
        self.start_node(NODE_ATTRPATH);
        self.attr();
        while self.eat(TOKEN_DOT) {
            self.attr();
        }
        self.finish_node();
    }

    /// One attribute name: identifier (or `or`), `"string"`, or `${dynamic}`.
    fn attr(&mut self) {
        match self.peek() {
            TOKEN_IDENT | TOKEN_OR_KW => self.ident(),
            TOKEN_QUOTE => self.string(),
            TOKEN_DOLLAR_CURLY => self.interpolation(NODE_DYNAMIC),
            _ => self.error_expected("an attribute name"),
        }
    }

    /// `binds`: the inside of `{ }`, `let { }` or `let ... in`.
    fn bindings(&mut self, in_let: bool) {
        loop {
            match self.peek() {
                TOKEN_IDENT | TOKEN_OR_KW | TOKEN_QUOTE | TOKEN_DOLLAR_CURLY => {
                    self.start_node(NODE_ATTRPATH_VALUE);
                    self.attrpath();
                    if self.expect(TOKEN_ASSIGN) {
                        self.expr();
                        self.expect(TOKEN_SEMICOLON);
                    } else {
                        self.recover_binding();
                    }
                    self.finish_node();
                }
                TOKEN_INHERIT => self.inherit(),
                TOKEN_R_BRACE | EOF => break,
                TOKEN_IN if in_let => break,
                _ => {
                    self.error_expected(if in_let {
                        "a binding or `in`"
                    } else {
                        "a binding or `}`"
                    });
                    self.start_node(NODE_ERROR);
                    self.recover_garbage_binding();
                    self.finish_node();
                }
            }
            if self.gave_up {
                break;
            }
        }
    }

    /// Skips to just after the next `;`, or to the `}`/`in` that ends the bindings.
    fn recover_binding(&mut self) {
        loop {
            match self.peek() {
                TOKEN_SEMICOLON => {
                    self.bump();
                    return;
                }
                TOKEN_R_BRACE | TOKEN_IN | EOF => return,
                _ => self.skip_balanced(),
            }
        }
    }

    /// Skips what cannot start a binding (at least one token): up to a `;` (eaten), a
    /// token that starts a binding, or the `}`/`in` that ends the bindings.
    fn recover_garbage_binding(&mut self) {
        let mut first = true;
        loop {
            match self.peek() {
                TOKEN_SEMICOLON => {
                    self.bump();
                    return;
                }
                TOKEN_R_BRACE | TOKEN_IN | EOF if !first => return,
                TOKEN_IDENT | TOKEN_OR_KW | TOKEN_QUOTE | TOKEN_DOLLAR_CURLY | TOKEN_INHERIT
                    if !first =>
                {
                    return
                }
                EOF => return,
                _ => self.skip_balanced(),
            }
            first = false;
        }
    }

    /// `inherit a b;` and `inherit (e) a b;`.
    fn inherit(&mut self) {
        self.start_node(NODE_INHERIT);
        self.bump();
        if self.at(TOKEN_L_PAREN) {
            self.start_node(NODE_INHERIT_FROM);
            self.bump();
            self.expr();
            self.expect(TOKEN_R_PAREN);
            self.finish_node();
        }
        while matches!(
            self.peek(),
            TOKEN_IDENT | TOKEN_OR_KW | TOKEN_QUOTE | TOKEN_DOLLAR_CURLY
        ) {
            self.attr();
        }
        if !self.expect(TOKEN_SEMICOLON) {
            self.recover_binding();
        }
        self.finish_node();
    }
}
