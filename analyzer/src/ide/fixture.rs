//! Test fixtures: Nix text with a `$0` cursor, optionally several files (`//- /path.nix`).

use crate::db::{RootDatabase, SourceFile};
use crate::ide::{FilePos, TextSize};

/// Files and the cursor parsed from a fixture.
pub struct Fixture {
    pub db: RootDatabase,
    pub files: Vec<SourceFile>,
    pub cursor: Option<FilePos>,
}

impl Fixture {
    /// Parses a fixture; files without a `//- /path` header are `/default.nix`.
    pub fn new(text: &str) -> Self {
        let mut db = RootDatabase::new();
        let mut chunks: Vec<(String, String)> = Vec::new();
        for line in text.split_inclusive('\n') {
            if let Some(path) = line.strip_prefix("//- ") {
                chunks.push((path.trim().to_string(), String::new()));
            } else {
                if chunks.is_empty() {
                    chunks.push(("/default.nix".into(), String::new()));
                }
                chunks.last_mut().unwrap().1.push_str(line);
            }
        }
        let mut files = Vec::new();
        let mut cursor = None;
        for (path, mut content) in chunks {
            let at = content.find("$0");
            if let Some(at) = at {
                content.replace_range(at..at + 2, "");
            }
            let file = db.set_file(&path, content);
            if let Some(at) = at {
                cursor = Some(FilePos {
                    file,
                    offset: TextSize::from(at as u32),
                });
            }
            files.push(file);
        }
        Fixture { db, files, cursor }
    }

    /// The cursor position (panics when the fixture has none).
    pub fn pos(&self) -> FilePos {
        self.cursor.expect("fixture has no $0")
    }

    /// The text of a range in the cursor's file (or the first file).
    pub fn text_of(&self, range: rowan::TextRange) -> String {
        let file = self.cursor.map_or(self.files[0], |c| c.file);
        file.text(&self.db)[range].to_string()
    }

    /// Renders ranges by wrapping them in `<` `>` inside the first file's text.
    pub fn mark(&self, file: SourceFile, ranges: &[rowan::TextRange]) -> String {
        let mut text = file.text(&self.db).clone();
        let mut sorted = ranges.to_vec();
        sorted.sort_by_key(|r| std::cmp::Reverse(r.start()));
        for r in sorted {
            text.insert(usize::from(r.end()), '>');
            text.insert(usize::from(r.start()), '<');
        }
        text
    }
}
