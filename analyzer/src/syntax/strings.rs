//! Cooking string and number literals exactly as Nix 2.8 does: `unescapeStr` for
//! `"strings"` and `''\x` escapes, `stripIndentation` for indented strings (both in
//! Nix's `lexer.l` / `parser.y`), `strtod` ranges for floats.

use super::ast::{AstNode, Expr, Str, StrPart};
use super::kind::SyntaxKind::*;

/// Nix's `unescapeStr`: `\n`, `\r`, `\t`, `\x` -> `x`; raw `\r\n` and `\r` become `\n`.
pub fn unescape(raw: &str, out: &mut String) {
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            '\r' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
}

/// The value of an indented-string escape token (`''$`, `'''`, `''\x`).
pub fn ind_escape_value(raw: &str) -> String {
    match raw {
        "''$" => "$".to_owned(),
        "'''" => "''".to_owned(),
        _ => {
            let mut out = String::new();
            unescape(raw.get(2..).unwrap_or(""), &mut out);
            out
        }
    }
}

fn push_literal(parts: &mut Vec<StrPart>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(StrPart::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(StrPart::Literal(text.to_owned()));
    }
}

/// Cooks a `"string"`.
pub(crate) fn cook_plain(s: &Str) -> Vec<StrPart> {
    let mut parts = Vec::new();
    for element in s.syntax().children_with_tokens() {
        match element {
            rowan::NodeOrToken::Token(t) if t.kind() == TOKEN_STR_CONTENT => {
                let mut text = String::new();
                unescape(t.text(), &mut text);
                push_literal(&mut parts, &text);
            }
            rowan::NodeOrToken::Node(n) => {
                if let Some(i) = super::ast::Interpolation::cast(n) {
                    parts.push(StrPart::Interpolation(i));
                }
            }
            _ => {}
        }
    }
    parts
}

/// One raw piece of an indented string, as Nix's parser sees it.
enum IndPart {
    /// Text; `indented` is false for escapes, which end a line's leading whitespace.
    Text {
        text: String,
        indented: bool,
    },
    Interpolation(super::ast::Interpolation),
}

fn ind_parts(s: &Str) -> Vec<IndPart> {
    let mut parts = Vec::new();
    for element in s.syntax().children_with_tokens() {
        match element {
            rowan::NodeOrToken::Token(t) => match t.kind() {
                TOKEN_STR_CONTENT => parts.push(IndPart::Text {
                    text: t.text().to_owned(),
                    indented: true,
                }),
                TOKEN_STR_ESCAPE => parts.push(IndPart::Text {
                    text: ind_escape_value(t.text()),
                    indented: false,
                }),
                _ => {}
            },
            rowan::NodeOrToken::Node(n) => {
                if let Some(i) = super::ast::Interpolation::cast(n) {
                    parts.push(IndPart::Interpolation(i));
                }
            }
        }
    }
    parts
}

/// Cooks an `''indented string''` with Nix's `stripIndentation`.
pub(crate) fn cook_indented(s: &Str) -> Vec<StrPart> {
    let parts = ind_parts(s);
    if parts.is_empty() {
        return Vec::new();
    }

    // The minimum indentation over lines with content. Whitespace-only lines do not
    // count; an escape or interpolation ends a line's leading whitespace.
    let mut at_start_of_line = true;
    let mut min_indent = 1_000_000usize;
    let mut cur_indent = 0usize;
    for part in &parts {
        let text = match part {
            IndPart::Text {
                text,
                indented: true,
            } => text,
            _ => {
                if at_start_of_line {
                    at_start_of_line = false;
                    min_indent = min_indent.min(cur_indent);
                }
                continue;
            }
        };
        for b in text.bytes() {
            if at_start_of_line {
                if b == b' ' {
                    cur_indent += 1;
                } else if b == b'\n' {
                    cur_indent = 0;
                } else {
                    at_start_of_line = false;
                    min_indent = min_indent.min(cur_indent);
                }
            } else if b == b'\n' {
                at_start_of_line = true;
                cur_indent = 0;
            }
        }
    }

    // Strip that many spaces from each line.
    let mut out = Vec::new();
    at_start_of_line = true;
    let mut cur_dropped = 0usize;
    let count = parts.len();
    for (index, part) in parts.into_iter().enumerate() {
        match part {
            IndPart::Interpolation(i) => {
                at_start_of_line = false;
                cur_dropped = 0;
                out.push(StrPart::Interpolation(i));
            }
            IndPart::Text { text, .. } => {
                let mut s2 = String::with_capacity(text.len());
                for c in text.chars() {
                    if at_start_of_line {
                        if c == ' ' {
                            if cur_dropped >= min_indent {
                                s2.push(c);
                            }
                            cur_dropped += 1;
                        } else if c == '\n' {
                            cur_dropped = 0;
                            s2.push(c);
                        } else {
                            at_start_of_line = false;
                            cur_dropped = 0;
                            s2.push(c);
                        }
                    } else {
                        s2.push(c);
                        if c == '\n' {
                            at_start_of_line = true;
                        }
                    }
                }
                // The last piece: drop a final line made only of spaces.
                if index + 1 == count {
                    if let Some(p) = s2.rfind('\n') {
                        if s2[p + 1..].bytes().all(|b| b == b' ') {
                            s2.truncate(p + 1);
                        }
                    }
                }
                push_literal(&mut out, &s2);
            }
        }
    }
    out
}

/// The value of a float literal, as Nix's `strtod` reads it; `None` when out of
/// range (Nix reports "invalid float" for those).
pub fn parse_float(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    if value.is_infinite() {
        return None;
    }
    // strtod sets ERANGE on underflow too: a nonzero literal that reads as zero or
    // as a subnormal number.
    let nonzero = text
        .split(['e', 'E'])
        .next()
        .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
    if nonzero && (value == 0.0 || value.is_subnormal()) {
        return None;
    }
    Some(value)
}

/// If `expr` is what Nix's parser turns into a plain string constant, its value.
///
/// Nix decides whether an attribute name is static by the expression's node type
/// after parsing: `"a"`, `${"a"}`, `${("a")}`, `''a''`, `''${"a"}''` and even a URI
/// literal are constants; `"${"a"}"` and `''a''$''` (two pieces) are not.
pub fn static_string(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Paren(p) => static_string(&p.expr()?),
        Expr::Literal(l) => {
            let t = l.token()?;
            (t.kind() == TOKEN_URI).then(|| t.text().to_owned())
        }
        Expr::Str(s) if !s.is_indented() => {
            if s.interpolations().next().is_some() {
                None
            } else {
                s.literal_value()
            }
        }
        Expr::Str(s) => {
            let parts = ind_parts(s);
            match parts.as_slice() {
                [] => Some(String::new()),
                [IndPart::Text { .. }] => s.literal_value(),
                [IndPart::Interpolation(i)] => static_string(&i.expr()?),
                _ => None,
            }
        }
        _ => None,
    }
}
