//! Byte ranges of the members of a JSON document, keyed by their path of object keys.
//!
//! serde_json reports positions only for syntax errors; the lock reader also needs them for
//! semantic errors ("node `x` does not exist", at the string that names it) and the editor
//! needs the range of each node for goto definition. The document is validated by serde_json
//! first, so this scanner may stop at the first surprise instead of reporting it.

use std::collections::HashMap;
use std::ops::Range;

/// Where one object member (or array element) sits in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpan {
    /// The quoted key (for array elements: the element itself).
    pub key: Range<usize>,
    /// The value, from its first to one past its last byte.
    pub value: Range<usize>,
}

/// Spans of every member, keyed by the path from the document root (array elements use their
/// index as the path element).
#[derive(Debug, Default, Clone)]
pub struct JsonSpans {
    members: HashMap<Vec<String>, MemberSpan>,
}

impl JsonSpans {
    /// Indexes `text`, which should already be valid JSON; on invalid input the index is
    /// partial rather than an error.
    pub fn index(text: &str) -> JsonSpans {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            path: Vec::new(),
            out: HashMap::new(),
        };
        let _ = scanner.value();
        JsonSpans {
            members: scanner.out,
        }
    }

    /// The span of the member at `path`, e.g. `["nodes", "nixpkgs", "locked"]`.
    pub fn get<S: AsRef<str>>(&self, path: &[S]) -> Option<&MemberSpan> {
        let key: Vec<String> = path.iter().map(|s| s.as_ref().to_owned()).collect();
        self.members.get(&key)
    }

    /// The value range at `path`, or of its closest indexed ancestor, or the empty range at 0.
    pub fn value_or_ancestor<S: AsRef<str>>(&self, path: &[S]) -> Range<usize> {
        let mut len = path.len();
        while len > 0 {
            if let Some(span) = self.get(&path[..len]) {
                return span.value.clone();
            }
            len -= 1;
        }
        0..0
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    path: Vec<String>,
    out: HashMap<Vec<String>, MemberSpan>,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Scans one value and returns its range; `None` when the text is not valid JSON.
    fn value(&mut self) -> Option<Range<usize>> {
        self.skip_ws();
        let start = self.pos;
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(start..self.pos);
                }
                loop {
                    self.skip_ws();
                    let key_range = self.string()?;
                    let key = self.decode(key_range.clone())?;
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.path.push(key);
                    let value = self.value();
                    let path = self.path.clone();
                    self.path.pop();
                    let value = value?;
                    self.out.insert(
                        path,
                        MemberSpan {
                            key: key_range,
                            value,
                        },
                    );
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(start..self.pos);
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(start..self.pos);
                }
                let mut index = 0usize;
                loop {
                    self.path.push(index.to_string());
                    let value = self.value();
                    let path = self.path.clone();
                    self.path.pop();
                    let value = value?;
                    self.out.insert(
                        path,
                        MemberSpan {
                            key: value.clone(),
                            value,
                        },
                    );
                    index += 1;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(start..self.pos);
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string(),
            _ => {
                // Numbers and the literals true/false/null: everything up to a delimiter.
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                (self.pos > start).then_some(start..self.pos)
            }
        }
    }

    /// Scans a string literal, returning its range including the quotes.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Some(start..self.pos);
                }
                _ => self.pos += 1,
            }
        }
    }

    fn decode(&self, range: Range<usize>) -> Option<String> {
        let raw = self.text.get(range)?;
        if raw.contains('\\') {
            serde_json::from_str(raw).ok()
        } else {
            Some(raw[1..raw.len() - 1].to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_members_and_array_elements() {
        let text = r#"{ "a": { "b\"c": [1, "x"] }, "d": true }"#;
        let spans = JsonSpans::index(text);
        let m = spans.get(&["a", "b\"c"]).unwrap();
        assert_eq!(&text[m.key.clone()], r#""b\"c""#);
        assert_eq!(&text[m.value.clone()], r#"[1, "x"]"#);
        let el = spans.get(&["a", "b\"c", "1"]).unwrap();
        assert_eq!(&text[el.value.clone()], r#""x""#);
        assert_eq!(&text[spans.get(&["d"]).unwrap().value.clone()], "true");
        assert_eq!(
            &text[spans.value_or_ancestor(&["a", "nope"])],
            r#"{ "b\"c": [1, "x"] }"#
        );
    }

    #[test]
    fn truncated_text_gives_a_partial_index() {
        let spans = JsonSpans::index(r#"{ "a": 1, "b": { "c": "#);
        assert!(spans.get(&["a"]).is_some());
        assert!(spans.get(&["b", "c"]).is_none());
    }
}
