//! Byte offsets <-> line/column, with UTF-16 columns for LSP.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r` (what both Nix and LSP count as a line break).

use rowan::TextSize;

/// A zero-based line and column. `col` is in bytes or UTF-16 code units, depending on
/// which method produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    /// Zero-based line.
    pub line: u32,
    /// Zero-based column.
    pub col: u32,
}

/// Precomputed line starts of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    text: String,
    /// Byte offset where each line starts; `line_starts[0] == 0`.
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0u32];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i as u32 + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    line_starts.push(i as u32 + 1);
                }
                b'\r' => line_starts.push(i as u32 + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex {
            text: text.to_owned(),
            line_starts,
        }
    }

    /// Number of lines (a text without line breaks has one).
    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// Line and byte column of `offset` (clamped to the text).
    pub fn line_col(&self, offset: TextSize) -> LineCol {
        let offset = u32::from(offset).min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        LineCol {
            line: line as u32,
            col: offset - self.line_starts[line],
        }
    }

    /// Line and UTF-16 column of `offset` (what LSP positions use).
    pub fn line_col_utf16(&self, offset: TextSize) -> LineCol {
        let LineCol { line, col } = self.line_col(offset);
        let start = self.line_starts[line as usize] as usize;
        let mut end = start + col as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col16 = self.text[start..end].encode_utf16().count() as u32;
        LineCol { line, col: col16 }
    }

    /// Byte offset of a line and byte column (clamped to the line's end).
    pub fn offset(&self, pos: LineCol) -> TextSize {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return TextSize::of(self.text.as_str());
        };
        let line_end = self.line_end(pos.line as usize);
        TextSize::from((start + pos.col).min(line_end))
    }

    /// Byte offset of a line and UTF-16 column (clamped to the line's end).
    pub fn offset_utf16(&self, pos: LineCol) -> TextSize {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return TextSize::of(self.text.as_str());
        };
        let line_end = self.line_end(pos.line as usize) as usize;
        let mut units = 0u32;
        for (i, c) in self.text[start as usize..line_end].char_indices() {
            if units >= pos.col {
                return TextSize::from(start + i as u32);
            }
            units += c.len_utf16() as u32;
        }
        TextSize::from(line_end as u32)
    }

    /// End of a line's content (before its line break).
    fn line_end(&self, line: usize) -> u32 {
        let next = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len() as u32);
        let bytes = self.text.as_bytes();
        let mut end = next;
        if end > self.line_starts[line] && line + 1 < self.line_starts.len() {
            end -= 1; // the `\n` or lone `\r`
            if bytes[end as usize] == b'\n'
                && end > self.line_starts[line]
                && bytes[end as usize - 1] == b'\r'
            {
                end -= 1;
            }
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_across_line_endings() {
        let index = LineIndex::new("ab\ncd\r\nef\rg");
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.line_col(4.into()), LineCol { line: 1, col: 1 });
        assert_eq!(index.line_col(7.into()), LineCol { line: 2, col: 0 });
        assert_eq!(index.line_col(10.into()), LineCol { line: 3, col: 0 });
        assert_eq!(index.offset(LineCol { line: 2, col: 1 }), 8.into());
        // Past the end of a line clamps to before its line break.
        assert_eq!(index.offset(LineCol { line: 1, col: 9 }), 5.into());
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let text = "é😀x";
        let index = LineIndex::new(text);
        let x = TextSize::from(text.find('x').unwrap() as u32);
        assert_eq!(index.line_col(x), LineCol { line: 0, col: 6 });
        assert_eq!(index.line_col_utf16(x), LineCol { line: 0, col: 3 });
        assert_eq!(index.offset_utf16(LineCol { line: 0, col: 3 }), x);
    }
}
