//! Reference scanning: which of a set of candidate store paths a tree mentions.
//!
//! Like Nix, this searches the tree's NAR serialisation (file contents, names and symlink
//! targets) for the 32-character hash parts of the candidates.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::Path;

use super::base32;
use super::nar::{self, NarWriteError};
use super::path::{StorePath, HASH_PART_LEN};

/// An `io::Write` sink that records which candidate hash parts appear in what is written.
pub struct RefScanner {
    candidates: HashMap<[u8; HASH_PART_LEN], usize>,
    found: Vec<bool>,
    /// The last `HASH_PART_LEN - 1` bytes of the previous chunk, for matches across chunks.
    tail: Vec<u8>,
}

impl RefScanner {
    /// A scanner looking for the hash parts of `candidates` (in order; see [`found`](Self::found)).
    pub fn new<'a>(candidates: impl IntoIterator<Item = &'a str>) -> RefScanner {
        let mut map = HashMap::new();
        for (i, h) in candidates.into_iter().enumerate() {
            if let Ok(key) = <[u8; HASH_PART_LEN]>::try_from(h.as_bytes()) {
                map.insert(key, i);
            }
        }
        RefScanner {
            found: vec![false; map.len().max(map.values().max().map_or(0, |m| m + 1))],
            candidates: map,
            tail: Vec::with_capacity(2 * HASH_PART_LEN),
        }
    }

    /// Indexes (into the candidates given to [`new`](Self::new)) of the hash parts seen.
    pub fn found(&self) -> impl Iterator<Item = usize> + '_ {
        self.found
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| i)
    }

    fn search(&mut self, data: &[u8]) {
        let n = HASH_PART_LEN;
        let mut i = 0;
        while i + n <= data.len() {
            // Check from the window's end: a non-base32 byte at j rules out every window
            // containing it, so jump past it (the Boyer-Moore-like skip Nix also uses).
            let mut j = n;
            let mut bad = None;
            while j > 0 {
                j -= 1;
                if !base32::is_base32_char(data[i + j]) {
                    bad = Some(j);
                    break;
                }
            }
            match bad {
                Some(j) => i += j + 1,
                None => {
                    let key: [u8; HASH_PART_LEN] = data[i..i + n].try_into().expect("window");
                    if let Some(&idx) = self.candidates.get(&key) {
                        self.found[idx] = true;
                    }
                    i += 1;
                }
            }
        }
    }
}

impl Write for RefScanner {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.candidates.is_empty() {
            return Ok(buf.len());
        }
        let n = HASH_PART_LEN;
        // Windows straddling the previous chunk and this one.
        let head = &buf[..buf.len().min(n - 1)];
        let mut joint = std::mem::take(&mut self.tail);
        joint.extend_from_slice(head);
        self.search(&joint);
        self.search(buf);
        // Keep the last n-1 bytes of everything seen so far.
        if buf.len() >= n - 1 {
            joint.clear();
            joint.extend_from_slice(&buf[buf.len() - (n - 1)..]);
        } else {
            let keep = joint.len().min(n - 1);
            joint.drain(..joint.len() - keep);
        }
        self.tail = joint;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The candidates whose hash part occurs anywhere in the tree at `path`.
pub fn scan_references(
    path: &Path,
    candidates: &BTreeSet<StorePath>,
) -> Result<BTreeSet<StorePath>, NarWriteError> {
    let list: Vec<&StorePath> = candidates.iter().collect();
    let mut scanner = RefScanner::new(list.iter().map(|p| p.hash_part()));
    nar::dump_path(path, &mut scanner)?;
    Ok(scanner.found().map(|i| list[i].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "pwf438sikcmp3h7hgl8nhpibslpv7dch";
    const B: &str = "3x9i4swfamnl0vrqb3cxv4sr5wg8jkdn";

    fn scan_chunks(chunks: &[&[u8]]) -> Vec<usize> {
        let mut s = RefScanner::new([A, B]);
        for c in chunks {
            s.write_all(c).unwrap();
        }
        s.found().collect()
    }

    #[test]
    fn finds_hashes_in_and_across_chunks() {
        let text = format!("x /nix/store/{B}-foo y");
        assert_eq!(scan_chunks(&[text.as_bytes()]), vec![1]);
        let whole = format!("..{A}..");
        for cut in 0..whole.len() {
            let (l, r) = whole.as_bytes().split_at(cut);
            assert_eq!(scan_chunks(&[l, r]), vec![0], "cut at {cut}");
        }
        // Byte-at-a-time writes still match.
        let bytes: Vec<&[u8]> = whole.as_bytes().chunks(1).collect();
        assert_eq!(scan_chunks(&bytes), vec![0]);
        assert!(scan_chunks(&[&A.as_bytes()[1..]]).is_empty());
        let both = format!("{A}{B}");
        assert_eq!(scan_chunks(&[both.as_bytes()]), vec![0, 1]);
    }
}
