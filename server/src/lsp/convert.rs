//! Conversions between the analyzer's byte offsets and LSP's UTF-16 line/character positions.

use strata_analyzer::def::{TextRange, TextSize};
use tower_lsp::lsp_types::{Position, Range};

/// Line starts of one text, for converting positions both ways.
#[derive(Debug, Clone)]
pub struct PositionMap {
    line_starts: Vec<u32>,
    len: u32,
}

impl PositionMap {
    /// Indexes a text.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        PositionMap {
            line_starts,
            len: text.len() as u32,
        }
    }

    /// Byte offset of an LSP position; positions past a line's end clamp to it.
    pub fn offset(&self, text: &str, pos: Position) -> Option<TextSize> {
        let start = *self.line_starts.get(pos.line as usize)? as usize;
        let end = self
            .line_starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&e| e as usize);
        let line = &text[start..end];
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= pos.character || c == '\n' {
                return Some(TextSize::from((start + i) as u32));
            }
            units += c.len_utf16() as u32;
        }
        Some(TextSize::from(end as u32))
    }

    /// LSP position of a byte offset (clamped to the text).
    pub fn position(&self, text: &str, offset: TextSize) -> Position {
        let offset = u32::from(offset).min(self.len);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let character = text[start..end].encode_utf16().count() as u32;
        Position::new(line as u32, character)
    }

    /// LSP range of a byte range.
    pub fn range(&self, text: &str, range: TextRange) -> Range {
        Range::new(
            self.position(text, range.start()),
            self.position(text, range.end()),
        )
    }

    /// Byte range of an LSP range.
    pub fn text_range(&self, text: &str, range: Range) -> Option<TextRange> {
        let start = self.offset(text, range.start)?;
        let end = self.offset(text, range.end)?;
        (start <= end).then(|| TextRange::new(start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trip() {
        let text = "a = \"é😀\";\nb = 1;\n";
        let map = PositionMap::new(text);
        let after_emoji = text.find("\";").unwrap() as u32;
        let pos = map.position(text, TextSize::from(after_emoji));
        assert_eq!(pos, Position::new(0, 8));
        assert_eq!(map.offset(text, pos), Some(TextSize::from(after_emoji)));
        assert_eq!(map.position(text, TextSize::from(11)), Position::new(1, 0));
        assert_eq!(
            map.offset(text, Position::new(0, 99)),
            Some(TextSize::from(10))
        );
        assert_eq!(map.offset(text, Position::new(9, 0)), None);
    }
}
