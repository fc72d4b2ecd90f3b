//! Evaluation errors, shaped like Nix's: a message, a position and trace frames.

use std::fmt::Write;

use super::source::{line_col, line_text, Pos, ShowPos};

/// What kind of failure: `tryEval` only catches `Throw` and `Assert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Throw,
    Assert,
    Abort,
    Type,
    InfiniteRecursion,
    StackOverflow,
    Other,
}

/// One "while evaluating ..." frame of a trace.
#[derive(Clone, Debug)]
pub struct Frame {
    pub pos: Pos,
    pub msg: String,
}

/// An evaluation error.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{msg}")]
pub struct EvalError {
    pub kind: ErrorKind,
    pub msg: String,
    pub pos: Pos,
    pub trace: Vec<Frame>,
}

/// Boxed so `Result<Value>` stays small on the hot path.
pub type Result<T> = std::result::Result<T, Box<EvalError>>;

impl EvalError {
    pub fn new(kind: ErrorKind, msg: impl Into<String>, pos: Pos) -> Box<EvalError> {
        Box::new(EvalError {
            kind,
            msg: msg.into(),
            pos,
            trace: Vec::new(),
        })
    }
    pub fn catchable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throw | ErrorKind::Assert)
    }

    /// Renders the error as Nix does on stderr; frames only with `show_trace`.
    pub fn render(&self, show_trace: bool) -> String {
        let frames: Vec<&Frame> = if show_trace {
            self.trace.iter().rev().collect()
        } else {
            Vec::new()
        };
        let mut out = String::new();
        let mut lines = self.msg.lines();
        let first = lines.next().unwrap_or("");
        if frames.is_empty() {
            let _ = writeln!(out, "error: {first}");
        } else {
            out.push_str("error:\n");
            for f in frames {
                let _ = writeln!(out, "       … {}", f.msg);
                render_pos(&mut out, f.pos);
                out.push('\n');
            }
            let _ = writeln!(out, "       error: {first}");
        }
        for line in lines {
            let _ = writeln!(out, "       {line}");
        }
        if !self.pos.is_none() {
            out.push('\n');
            render_pos_indented(&mut out, self.pos, 7);
        }
        out
    }
}

fn render_pos(out: &mut String, pos: Pos) {
    render_pos_indented(out, pos, 9)
}

fn render_pos_indented(out: &mut String, pos: Pos, indent: usize) {
    if pos.is_none() {
        return;
    }
    let _ = writeln!(out, "{:indent$}at {}:", "", ShowPos(pos));
    if let Some((line, col)) = line_col(pos) {
        if let Some(text) = line_text(pos, line) {
            let _ = writeln!(out, "\n{:>13}| {}", line, text);
            let _ = writeln!(
                out,
                "{:>13}| {}^",
                "",
                " ".repeat(col.saturating_sub(1) as usize)
            );
        }
    }
}

/// Shorthand constructors used across the evaluator.
pub fn type_error(msg: impl Into<String>, pos: Pos) -> Box<EvalError> {
    EvalError::new(ErrorKind::Type, msg, pos)
}
pub fn other_error(msg: impl Into<String>, pos: Pos) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg, pos)
}
