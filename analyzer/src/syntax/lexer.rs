//! The hand-written lexer: Nix's flex scanner (`src/libexpr/lexer.l`) rebuilt as a
//! state machine that keeps every byte.
//!
//! Nix lexes with longest-match semantics and a stack of start conditions (inside a
//! string, an indented string, a path); we follow both exactly, because what is a
//! path, a float, a URI or an identifier decides what the parser accepts (`x:x` is a
//! URI, `8.x` is the float `8.` applied to `x`, `a/b` is a path). Unlike flex we never
//! stop: bytes no rule matches become `TOKEN_ERROR`, so the tree stays lossless.

use rowan::{TextRange, TextSize};

use super::kind::SyntaxKind::{self, *};

/// One token: its kind and where it sits in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The token's kind.
    pub kind: SyntaxKind,
    /// Byte offset of its first byte.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

impl Token {
    /// The token's byte range.
    pub fn range(&self) -> TextRange {
        TextRange::at(TextSize::from(self.start), TextSize::from(self.len))
    }
}

/// The lexer's output: every byte of the input is in exactly one token.
#[derive(Debug, Default)]
pub struct Lexed {
    /// Tokens in order, covering the input.
    pub tokens: Vec<Token>,
    /// Errors Nix raises while lexing (a path with a trailing slash, an unterminated comment).
    pub errors: Vec<(TextRange, String)>,
}

/// Splits `text` into tokens.
pub fn lex(text: &str) -> Lexed {
    lex_into(text, Vec::new())
}

/// Like [`lex`], but fills `tokens` (cleared first), so a caller lexing many files
/// reuses one allocation.
pub(crate) fn lex_into(text: &str, mut tokens: Vec<Token>) -> Lexed {
    tokens.clear();
    tokens.reserve(text.len() / 3);
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        stack: vec![State::Initial],
        no_path_until: 0,
        out: Lexed {
            tokens,
            errors: Vec::new(),
        },
    };
    lexer.run();
    lexer.out
}

/// Flex start conditions (`PATH_START` is folded into the rules that would enter it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The bottom of the stack: a stray `}` here pops nothing.
    Initial,
    /// Expression context inside `{`, `${`.
    Default,
    /// Inside `"..."`.
    Str,
    /// Inside `''...''`.
    IndStr,
    /// Just after a path piece not ending in `/`: the path may go on.
    InPath,
    /// Just after a path piece ending in `/`: the path must go on.
    InPathSlash,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<State>,
    /// Tokens starting before this offset cannot be paths or URIs: it ends a run of
    /// path characters followed by neither `/` nor `:` (see `pathless`).
    no_path_until: usize,
    out: Lexed,
}

// Character classes, as in lexer.l. The `*_rule` functions define them; the scanning
// loops read them from a table built at compile time (one load per byte).

const PATH_CHAR: u8 = 1;
const ID_START: u8 = 2;
const ID_CHAR: u8 = 4;
const URI_SCHEME_CHAR: u8 = 8;
const URI_CHAR: u8 = 16;

static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut class = 0;
        if path_char_rule(b) {
            class |= PATH_CHAR;
        }
        if id_start_rule(b) {
            class |= ID_START;
        }
        if id_char_rule(b) {
            class |= ID_CHAR;
        }
        if uri_scheme_char_rule(b) {
            class |= URI_SCHEME_CHAR;
        }
        if uri_char_rule(b) {
            class |= URI_CHAR;
        }
        table[i] = class;
        i += 1;
    }
    table
}

fn is_path_char(b: u8) -> bool {
    CLASSES[b as usize] & PATH_CHAR != 0
}

fn is_id_start(b: u8) -> bool {
    CLASSES[b as usize] & ID_START != 0
}

fn is_id_char(b: u8) -> bool {
    CLASSES[b as usize] & ID_CHAR != 0
}

fn is_uri_scheme_char(b: u8) -> bool {
    CLASSES[b as usize] & URI_SCHEME_CHAR != 0
}

fn is_uri_char(b: u8) -> bool {
    CLASSES[b as usize] & URI_CHAR != 0
}

const fn path_char_rule(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+')
}

const fn id_start_rule(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

const fn id_char_rule(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'-')
}

const fn uri_scheme_char_rule(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

const fn uri_char_rule(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'%' | b'/'
                | b'?'
                | b':'
                | b'@'
                | b'&'
                | b'='
                | b'+'
                | b'$'
                | b','
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
        )
}

/// Length of the UTF-8 character starting with byte `b` (1 for stray continuation bytes).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn keyword(ident: &[u8]) -> Option<SyntaxKind> {
    Some(match ident {
        b"if" => TOKEN_IF,
        b"then" => TOKEN_THEN,
        b"else" => TOKEN_ELSE,
        b"assert" => TOKEN_ASSERT,
        b"with" => TOKEN_WITH,
        b"let" => TOKEN_LET,
        b"in" => TOKEN_IN,
        b"rec" => TOKEN_REC,
        b"inherit" => TOKEN_INHERIT,
        b"or" => TOKEN_OR_KW,
        _ => return None,
    })
}

impl<'a> Lexer<'a> {
    fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn has(&self, i: usize) -> bool {
        i < self.bytes.len()
    }

    fn state(&self) -> State {
        *self.stack.last().unwrap_or(&State::Initial)
    }

    fn set_state(&mut self, state: State) {
        if let Some(top) = self.stack.last_mut() {
            *top = state;
        }
    }

    fn push(&mut self, kind: SyntaxKind, len: usize) {
        debug_assert!(len > 0);
        // Never split a UTF-8 character: widen to the next char boundary.
        let mut end = self.pos + len;
        while end < self.bytes.len() && !self.text.is_char_boundary(end) {
            end += 1;
        }
        self.out.tokens.push(Token {
            kind,
            start: self.pos as u32,
            len: (end - self.pos) as u32,
        });
        self.pos = end;
    }

    fn error(&mut self, range: TextRange, msg: impl Into<String>) {
        self.out.errors.push((range, msg.into()));
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            match self.state() {
                State::Initial | State::Default => self.lex_default(),
                State::Str => self.lex_string(),
                State::IndStr => self.lex_ind_string(),
                State::InPath | State::InPathSlash => self.lex_in_path(),
            }
        }
        if self.state() == State::InPathSlash {
            self.trailing_slash_error();
        }
    }

    fn trailing_slash_error(&mut self) {
        let range = self
            .out
            .tokens
            .last()
            .map(|t| t.range())
            .unwrap_or_default();
        self.error(range, "path has a trailing slash");
    }

    /// `{PATH_CHAR}*` from `i`.
    fn path_chars(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && is_path_char(self.bytes[i]) {
            i += 1;
        }
        i
    }

    /// `{PATH}` = `{PATH_CHAR}*(\/{PATH_CHAR}+)+\/?` at `i`: returns the end, if it matches.
    fn match_path(&self, i: usize) -> Option<usize> {
        let mut j = self.path_chars(i);
        let mut segments = 0;
        while self.at(j) == b'/' && is_path_char(self.at(j + 1)) {
            j = self.path_chars(j + 1);
            segments += 1;
        }
        if segments == 0 {
            return None;
        }
        if self.at(j) == b'/' {
            j += 1;
        }
        Some(j)
    }

    fn lex_default(&mut self) {
        let i = self.pos;
        let b = self.bytes[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                let mut j = i + 1;
                while matches!(self.at(j), b' ' | b'\t' | b'\r' | b'\n') {
                    j += 1;
                }
                self.push(TOKEN_WHITESPACE, j - i);
                return;
            }
            b'#' => {
                let mut j = i + 1;
                while self.has(j) && !matches!(self.bytes[j], b'\r' | b'\n') {
                    j += 1;
                }
                self.push(TOKEN_COMMENT, j - i);
                return;
            }
            b'/' if self.at(i + 1) == b'*' => {
                match memfind(&self.bytes[i + 2..], b"*/") {
                    Some(k) => self.push(TOKEN_COMMENT, k + 4),
                    None => {
                        let len = self.bytes.len() - i;
                        let range = TextRange::at((i as u32).into(), (len as u32).into());
                        self.error(range, "unterminated comment: `/*` has no closing `*/`");
                        self.push(TOKEN_ERROR, len);
                    }
                }
                return;
            }
            b'"' => {
                self.stack.push(State::Str);
                self.push(TOKEN_QUOTE, 1);
                return;
            }
            // Characters no longer rule can start with: no need to try them all.
            b';' | b',' | b'(' | b')' | b'[' | b']' | b'@' | b'?' | b':' => {
                let kind = match b {
                    b';' => TOKEN_SEMICOLON,
                    b',' => TOKEN_COMMA,
                    b'(' => TOKEN_L_PAREN,
                    b')' => TOKEN_R_PAREN,
                    b'[' => TOKEN_L_BRACK,
                    b']' => TOKEN_R_BRACK,
                    b'@' => TOKEN_AT,
                    b'?' => TOKEN_QUESTION,
                    _ => TOKEN_COLON,
                };
                self.push(kind, 1);
                return;
            }
            b'=' if self.at(i + 1) != b'=' => {
                self.push(TOKEN_ASSIGN, 1);
                return;
            }
            b'\'' if self.at(i + 1) == b'\'' => {
                let mut j = i + 2;
                while self.at(j) == b' ' {
                    j += 1;
                }
                let len = if self.at(j) == b'\n' { j + 1 - i } else { 2 };
                self.stack.push(State::IndStr);
                self.push(TOKEN_IND_QUOTE_OPEN, len);
                return;
            }
            b'$' if self.at(i + 1) == b'{' => {
                self.stack.push(State::Default);
                self.push(TOKEN_DOLLAR_CURLY, 2);
                return;
            }
            b'{' => {
                self.stack.push(State::Default);
                self.push(TOKEN_L_BRACE, 1);
                return;
            }
            b'}' => {
                if self.state() != State::Initial {
                    self.stack.pop();
                }
                self.push(TOKEN_R_BRACE, 1);
                return;
            }
            _ => {}
        }

        if let Some(len) = self.plain_ident(i) {
            let kind = keyword(&self.bytes[i..i + len]).unwrap_or(TOKEN_IDENT);
            self.push(kind, len);
            return;
        }

        // `{PATH_SEG}\$\{` and `{HPATH_START}\$\{`: the segment up to the slash starts
        // an interpolated path; nothing else can match as long at the same place.
        let pathless = self.pathless(i);
        if !pathless && (is_path_char(b) || b == b'/') {
            let k = self.path_chars(i);
            if self.at(k) == b'/' && self.at(k + 1) == b'$' && self.at(k + 2) == b'{' {
                return self.finish_path_start(TOKEN_PATH, k + 1 - i);
            }
        }
        if b == b'~' && self.at(i + 1) == b'/' && self.at(i + 2) == b'$' && self.at(i + 3) == b'{' {
            return self.finish_path_start(TOKEN_PATH_HOME, 2);
        }

        // Rules that compete by longest match. Ties go to the earlier rule in lexer.l:
        // keywords, `...`, two-char operators, ID, INT, FLOAT, path-with-`${`, PATH,
        // HPATH, SPATH, URI, then single characters.
        let mut best_len = 0usize;
        let mut best_kind = TOKEN_ERROR;
        let mut then_state: Option<State> = None;
        let mut consider = |len: usize, kind: SyntaxKind, state: Option<State>| {
            if len > best_len {
                best_len = len;
                best_kind = kind;
                then_state = state;
            }
        };

        let two = [b, self.at(i + 1)];
        let op2 = match &two {
            b"==" => Some(TOKEN_EQ),
            b"!=" => Some(TOKEN_NEQ),
            b"<=" => Some(TOKEN_LEQ),
            b">=" => Some(TOKEN_GEQ),
            b"&&" => Some(TOKEN_AND_AND),
            b"||" => Some(TOKEN_OR_OR),
            b"->" => Some(TOKEN_IMPLICATION),
            b"//" => Some(TOKEN_UPDATE),
            b"++" => Some(TOKEN_CONCAT),
            _ => None,
        };
        if b == b'.' && self.at(i + 1) == b'.' && self.at(i + 2) == b'.' {
            consider(3, TOKEN_ELLIPSIS, None);
        }
        if let Some(kind) = op2 {
            consider(2, kind, None);
        }
        if is_id_start(b) {
            let mut j = i + 1;
            while is_id_char(self.at(j)) {
                j += 1;
            }
            let kind = keyword(&self.bytes[i..j]).unwrap_or(TOKEN_IDENT);
            consider(j - i, kind, None);
        }
        if b.is_ascii_digit() {
            let mut j = i + 1;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
            consider(j - i, TOKEN_INT, None);
        }
        if b.is_ascii_digit() || b == b'.' {
            if let Some(j) = self.match_float(i) {
                consider(j - i, TOKEN_FLOAT, None);
            }
        }
        if !pathless && (is_path_char(b) || b == b'/') {
            if let Some(j) = self.match_path(i) {
                let state = if self.bytes[j - 1] == b'/' {
                    State::InPathSlash
                } else {
                    State::InPath
                };
                consider(j - i, TOKEN_PATH, Some(state));
            }
        }
        if b == b'~' && self.at(i + 1) == b'/' {
            let mut j = i + 1;
            let mut segments = 0;
            while self.at(j) == b'/' && is_path_char(self.at(j + 1)) {
                j = self.path_chars(j + 1);
                segments += 1;
            }
            if segments > 0 {
                if self.at(j) == b'/' {
                    j += 1;
                }
                let state = if self.bytes[j - 1] == b'/' {
                    State::InPathSlash
                } else {
                    State::InPath
                };
                consider(j - i, TOKEN_PATH_HOME, Some(state));
            }
        }
        if b == b'<' && is_path_char(self.at(i + 1)) {
            let mut j = self.path_chars(i + 1);
            while self.at(j) == b'/' && is_path_char(self.at(j + 1)) {
                j = self.path_chars(j + 1);
            }
            if self.at(j) == b'>' {
                consider(j + 1 - i, TOKEN_PATH_SEARCH, None);
            }
        }
        if !pathless && b.is_ascii_alphabetic() {
            let mut j = i + 1;
            while is_uri_scheme_char(self.at(j)) {
                j += 1;
            }
            if self.at(j) == b':' && is_uri_char(self.at(j + 1)) {
                j += 1;
                while is_uri_char(self.at(j)) {
                    j += 1;
                }
                consider(j - i, TOKEN_URI, None);
            }
        }
        let single = match b {
            b':' => TOKEN_COLON,
            b';' => TOKEN_SEMICOLON,
            b',' => TOKEN_COMMA,
            b'.' => TOKEN_DOT,
            b'=' => TOKEN_ASSIGN,
            b'(' => TOKEN_L_PAREN,
            b')' => TOKEN_R_PAREN,
            b'[' => TOKEN_L_BRACK,
            b']' => TOKEN_R_BRACK,
            b'@' => TOKEN_AT,
            b'?' => TOKEN_QUESTION,
            b'!' => TOKEN_INVERT,
            b'+' => TOKEN_ADD,
            b'-' => TOKEN_SUB,
            b'*' => TOKEN_MUL,
            b'/' => TOKEN_DIV,
            b'<' => TOKEN_LESS,
            b'>' => TOKEN_MORE,
            _ => TOKEN_ERROR,
        };
        consider(char_len(b), single, None);

        if let Some(state) = then_state {
            self.stack.push(state);
        }
        self.push(best_kind, best_len);
    }

    /// The length of the identifier (or keyword) at `i` when no longer rule can match
    /// there, so the path and URI rules need not be tried: the common case. A path or
    /// URI could only be longer if the identifier is followed by a character that
    /// continues one (`.`, `+`, `/`, `:`): the other identifier characters are consumed
    /// already, and a `'` or `_` inside the identifier stops the URI scheme and path
    /// rules before any `:` or `/` they would need. Even then, [`Self::pathless`] often
    /// rules both out (`lib.strings.concatMap`).
    fn plain_ident(&mut self, i: usize) -> Option<usize> {
        if !is_id_start(self.bytes[i]) {
            return None;
        }
        let mut j = i + 1;
        while is_id_char(self.at(j)) {
            j += 1;
        }
        let plain = !matches!(self.at(j), b'.' | b'+' | b'/' | b':') || self.pathless(i);
        plain.then_some(j - i)
    }

    /// Whether no path, interpolated path start or URI can start at `i`. Each of them
    /// needs a run of path characters from `i` followed by `/` (paths) or a run of URI
    /// scheme characters, which are path characters too, followed by `:` (URIs). When
    /// the run of path characters at `i` ends in neither, no suffix of that run can
    /// start one either, so the answer is remembered up to the run's end: select chains
    /// like `a.b.c.d` are then read in one pass, not once per identifier.
    fn pathless(&mut self, i: usize) -> bool {
        if i < self.no_path_until {
            return true;
        }
        if !is_path_char(self.bytes[i]) {
            return false;
        }
        let k = self.path_chars(i);
        if matches!(self.at(k), b'/' | b':') {
            return false;
        }
        self.no_path_until = k;
        true
    }

    /// Emits the first piece of an interpolated path (`./` of `./${x}`, `~/` of `~/${x}`).
    fn finish_path_start(&mut self, kind: SyntaxKind, len: usize) {
        self.stack.push(State::InPathSlash);
        self.push(kind, len);
    }

    /// `{FLOAT}` = `(([1-9][0-9]*\.[0-9]*)|(0?\.[0-9]+))([Ee][+-]?[0-9]+)?` at `i`.
    fn match_float(&self, i: usize) -> Option<usize> {
        let b = self.at(i);
        let mut j;
        if (b'1'..=b'9').contains(&b) {
            j = i + 1;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
            if self.at(j) != b'.' {
                return None;
            }
            j += 1;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
        } else {
            j = i;
            if b == b'0' {
                j += 1;
            }
            if self.at(j) != b'.' || !self.at(j + 1).is_ascii_digit() {
                return None;
            }
            j += 1;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
        }
        if matches!(self.at(j), b'e' | b'E') {
            let mut k = j + 1;
            if matches!(self.at(k), b'+' | b'-') {
                k += 1;
            }
            if self.at(k).is_ascii_digit() {
                while self.at(k).is_ascii_digit() {
                    k += 1;
                }
                j = k;
            }
        }
        Some(j)
    }

    fn lex_string(&mut self) {
        let i = self.pos;
        match self.bytes[i] {
            b'"' => {
                self.stack.pop();
                self.push(TOKEN_QUOTE, 1);
                return;
            }
            b'$' if self.at(i + 1) == b'{' => {
                self.stack.push(State::Default);
                self.push(TOKEN_DOLLAR_CURLY, 2);
                return;
            }
            _ => {}
        }
        let mut j = i;
        while j < self.bytes.len() {
            match self.bytes[j] {
                b'"' => break,
                b'\\' => j += if self.has(j + 1) { 2 } else { 1 },
                // `\$[^\{\"\\]` is one unit: `$${` is `$$` then a literal `{`.
                b'$' => match self.at(j + 1) {
                    b'{' => break,
                    b'\\' if self.has(j + 2) => j += 3,
                    b'"' | b'\\' => j += 1,
                    _ if self.has(j + 1) => j += 2,
                    _ => j += 1,
                },
                _ => j += 1,
            }
        }
        self.push(TOKEN_STR_CONTENT, j.min(self.bytes.len()) - i);
    }

    fn lex_ind_string(&mut self) {
        let i = self.pos;
        if self.bytes[i] == b'\'' && self.at(i + 1) == b'\'' {
            match self.at(i + 2) {
                b'$' | b'\'' => self.push(TOKEN_STR_ESCAPE, 3),
                b'\\' if self.has(i + 3) => self.push(TOKEN_STR_ESCAPE, 4),
                _ => {
                    self.stack.pop();
                    self.push(TOKEN_IND_QUOTE_CLOSE, 2);
                }
            }
            return;
        }
        if self.bytes[i] == b'$' && self.at(i + 1) == b'{' {
            self.stack.push(State::Default);
            self.push(TOKEN_DOLLAR_CURLY, 2);
            return;
        }
        // `([^\$\']|\$[^\{\']|\'[^\'\$])+`, or a lone `$` / `'`.
        let mut j = i;
        while j < self.bytes.len() {
            match self.bytes[j] {
                b'$' => {
                    if matches!(self.at(j + 1), b'{' | b'\'') || !self.has(j + 1) {
                        break;
                    }
                    j += 2;
                }
                b'\'' => {
                    if matches!(self.at(j + 1), b'\'' | b'$') || !self.has(j + 1) {
                        break;
                    }
                    j += 2;
                }
                _ => j += 1,
            }
        }
        let len = if j == i {
            1
        } else {
            j.min(self.bytes.len()) - i
        };
        self.push(TOKEN_STR_CONTENT, len);
    }

    fn lex_in_path(&mut self) {
        let i = self.pos;
        if self.bytes[i] == b'$' && self.at(i + 1) == b'{' {
            self.set_state(State::InPath);
            self.stack.push(State::Default);
            self.push(TOKEN_DOLLAR_CURLY, 2);
            return;
        }
        // `{PATH}|{PATH_SEG}|{PATH_CHAR}+`, longest.
        let k = self.path_chars(i);
        let end = match self.match_path(i) {
            Some(j) => Some(j),
            None if self.at(k) == b'/' => Some(k + 1),
            None if k > i => Some(k),
            None => None,
        };
        match end {
            Some(j) => {
                let state = if self.bytes[j - 1] == b'/' {
                    State::InPathSlash
                } else {
                    State::InPath
                };
                self.set_state(state);
                self.push(TOKEN_PATH_FRAGMENT, j - i);
            }
            None => {
                if self.state() == State::InPathSlash {
                    self.trailing_slash_error();
                }
                // The path ended; this byte is lexed again in the enclosing state.
                self.stack.pop();
            }
        }
    }
}

fn memfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;

    fn check(input: &str, expect: Expect) {
        let lexed = lex(input);
        let mut out = String::new();
        for t in &lexed.tokens {
            let text = &input[t.start as usize..(t.start + t.len) as usize];
            out.push_str(&format!("{:?} {:?}\n", t.kind, text));
        }
        for (range, msg) in &lexed.errors {
            out.push_str(&format!("error {range:?}: {msg}\n"));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn uri_beats_lambda_without_space() {
        check(
            "x:x",
            expect![[r#"
                TOKEN_URI "x:x"
            "#]],
        );
    }

    #[test]
    fn float_with_trailing_dot_then_ident() {
        check(
            "8.x",
            expect![[r#"
                TOKEN_FLOAT "8."
                TOKEN_IDENT "x"
            "#]],
        );
    }

    #[test]
    fn floats_in_all_forms() {
        check(
            "1.5 .5 0.5 1. 1e3 1.5E-3 01.5",
            expect![[r#"
                TOKEN_FLOAT "1.5"
                TOKEN_WHITESPACE " "
                TOKEN_FLOAT ".5"
                TOKEN_WHITESPACE " "
                TOKEN_FLOAT "0.5"
                TOKEN_WHITESPACE " "
                TOKEN_FLOAT "1."
                TOKEN_WHITESPACE " "
                TOKEN_INT "1"
                TOKEN_IDENT "e3"
                TOKEN_WHITESPACE " "
                TOKEN_FLOAT "1.5E-3"
                TOKEN_WHITESPACE " "
                TOKEN_INT "01"
                TOKEN_FLOAT ".5"
            "#]],
        );
    }

    #[test]
    fn paths_and_interpolation() {
        check(
            "./a/${b}.nix ~/x <nixpkgs/lib> a/b//c",
            expect![[r#"
                TOKEN_PATH "./a/"
                TOKEN_DOLLAR_CURLY "${"
                TOKEN_IDENT "b"
                TOKEN_R_BRACE "}"
                TOKEN_PATH_FRAGMENT ".nix"
                TOKEN_WHITESPACE " "
                TOKEN_PATH_HOME "~/x"
                TOKEN_WHITESPACE " "
                TOKEN_PATH_SEARCH "<nixpkgs/lib>"
                TOKEN_WHITESPACE " "
                TOKEN_PATH "a/b/"
                TOKEN_PATH_FRAGMENT "/c"
            "#]],
        );
    }

    #[test]
    fn path_trailing_slash_is_an_error() {
        check(
            "a/b/ ",
            expect![[r#"
                TOKEN_PATH "a/b/"
                TOKEN_WHITESPACE " "
                error 0..4: path has a trailing slash
            "#]],
        );
    }

    #[test]
    fn strings_keep_escapes_and_dollars() {
        check(
            r#""a\"$$b${c}$""#,
            expect![[r#"
                TOKEN_QUOTE "\""
                TOKEN_STR_CONTENT "a\\\"$$b"
                TOKEN_DOLLAR_CURLY "${"
                TOKEN_IDENT "c"
                TOKEN_R_BRACE "}"
                TOKEN_STR_CONTENT "$"
                TOKEN_QUOTE "\""
            "#]],
        );
    }

    #[test]
    fn indented_string_escapes() {
        check(
            "''  \n  a''$'''''\\n$'x' ''",
            expect![[r#"
                TOKEN_IND_QUOTE_OPEN "''  \n"
                TOKEN_STR_CONTENT "  a"
                TOKEN_STR_ESCAPE "''$"
                TOKEN_STR_ESCAPE "'''"
                TOKEN_STR_ESCAPE "''\\n"
                TOKEN_STR_CONTENT "$"
                TOKEN_STR_CONTENT "'x' "
                TOKEN_IND_QUOTE_CLOSE "''"
            "#]],
        );
    }

    #[test]
    fn comments_and_operators() {
        check(
            "a//b /**/ # c\n->",
            expect![[r##"
                TOKEN_IDENT "a"
                TOKEN_UPDATE "//"
                TOKEN_IDENT "b"
                TOKEN_WHITESPACE " "
                TOKEN_COMMENT "/**/"
                TOKEN_WHITESPACE " "
                TOKEN_COMMENT "# c"
                TOKEN_WHITESPACE "\n"
                TOKEN_IMPLICATION "->"
            "##]],
        );
    }

    #[test]
    fn non_ascii_is_one_error_token_per_char() {
        check(
            "1 é",
            expect![[r#"
                TOKEN_INT "1"
                TOKEN_WHITESPACE " "
                TOKEN_ERROR "é"
            "#]],
        );
    }
}
