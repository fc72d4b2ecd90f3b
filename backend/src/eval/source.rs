//! Source files known to the evaluator, and positions into them.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// A position: file id and byte offset; `Pos::NONE` when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub file: u32,
    pub offset: u32,
}

impl Pos {
    pub const NONE: Pos = Pos {
        file: u32::MAX,
        offset: 0,
    };
    pub fn is_none(self) -> bool {
        self.file == u32::MAX
    }
}

/// Where a file's text came from: a real path or a string such as `-E`.
#[derive(Clone)]
pub enum Origin {
    File(Rc<str>),
    String,
}

struct SourceFile {
    origin: Origin,
    text: Rc<str>,
    line_starts: Vec<u32>,
}

thread_local! {
    static FILES: RefCell<Vec<SourceFile>> = const { RefCell::new(Vec::new()) };
}

/// Registers a source text and returns its file id.
pub fn add_file(origin: Origin, text: Rc<str>) -> u32 {
    let mut line_starts = vec![0u32];
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            line_starts.push(i as u32 + 1);
        }
    }
    FILES.with(|f| {
        let mut f = f.borrow_mut();
        f.push(SourceFile {
            origin,
            text,
            line_starts,
        });
        (f.len() - 1) as u32
    })
}

/// Line and column (1-based; column counts bytes like Nix does).
pub fn line_col(pos: Pos) -> Option<(u32, u32)> {
    if pos.is_none() {
        return None;
    }
    FILES.with(|f| {
        let f = f.borrow();
        let file = f.get(pos.file as usize)?;
        let line = match file.line_starts.binary_search(&pos.offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let col = pos.offset - file.line_starts[line] + 1;
        Some((line as u32 + 1, col))
    })
}

/// The file path of a position, when it is a real file.
pub fn file_path(pos: Pos) -> Option<Rc<str>> {
    if pos.is_none() {
        return None;
    }
    FILES.with(|f| match &f.borrow().get(pos.file as usize)?.origin {
        Origin::File(p) => Some(p.clone()),
        Origin::String => None,
    })
}

/// The text of line `line` (1-based) of the file holding `pos`.
pub fn line_text(pos: Pos, line: u32) -> Option<String> {
    FILES.with(|f| {
        let f = f.borrow();
        let file = f.get(pos.file as usize)?;
        let start = *file.line_starts.get(line as usize - 1)? as usize;
        let end = file
            .line_starts
            .get(line as usize)
            .map(|e| *e as usize - 1)
            .unwrap_or(file.text.len());
        Some(file.text.get(start..end)?.to_string())
    })
}

/// Displays a position as Nix does: `/path/file.nix:3:5` or `«string»:1:2`.
pub struct ShowPos(pub Pos);

impl fmt::Display for ShowPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((line, col)) = line_col(self.0) else {
            return write!(f, "«none»");
        };
        match file_path(self.0) {
            Some(p) => write!(f, "{p}:{line}:{col}"),
            None => write!(f, "«string»:{line}:{col}"),
        }
    }
}
