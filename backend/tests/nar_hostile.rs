//! Hostile NARs: each gives a clear error and leaves nothing behind, inside or outside the target.

use std::fs;
use std::path::Path;

use strata_backend::store::nar::{self, NarUnpackError, SymlinkPolicy, UnpackOptions};

/// Builds NAR bytes token by token.
#[derive(Default)]
struct Nar(Vec<u8>);

impl Nar {
    fn new() -> Nar {
        Nar::default().t("nix-archive-1")
    }
    fn b(mut self, bytes: &[u8]) -> Nar {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.0.extend_from_slice(bytes);
        let pad = (8 - bytes.len() % 8) % 8;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }
    fn t(self, s: &str) -> Nar {
        self.b(s.as_bytes())
    }
    fn ts(self, ts: &[&str]) -> Nar {
        ts.iter().fold(self, |n, t| n.t(t))
    }
    fn file(self, contents: &str) -> Nar {
        self.ts(&["(", "type", "regular", "contents"])
            .t(contents)
            .t(")")
    }
    fn symlink(self, target: &str) -> Nar {
        self.ts(&["(", "type", "symlink", "target", target, ")"])
    }
    fn entry(self, name: &[u8], node: impl FnOnce(Nar) -> Nar) -> Nar {
        node(self.ts(&["entry", "(", "name"]).b(name).t("node")).t(")")
    }
    fn dir(self) -> Nar {
        self.ts(&["(", "type", "directory"])
    }
    fn end(self) -> Nar {
        self.t(")")
    }
}

/// Unpacks into `<tmp>/box/out` and checks that `<tmp>` holds nothing else afterwards
/// (and, on error, not even the target).
fn unpack_in_box(bytes: &[u8], policy: SymlinkPolicy) -> Result<(), NarUnpackError> {
    let tmp = tempfile::tempdir().unwrap();
    let boxed = tmp.path().join("box");
    fs::create_dir(&boxed).unwrap();
    let target = boxed.join("out");
    let opts = UnpackOptions {
        symlinks: policy,
        ..UnpackOptions::default()
    };
    let r = nar::unpack(bytes, &target, &opts);
    let top: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, vec!["box"], "nothing written beside the box");
    let inside: Vec<_> = fs::read_dir(&boxed)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    if r.is_ok() {
        assert_eq!(inside, vec!["out"]);
    } else {
        assert!(
            inside.is_empty(),
            "a failed unpack removes its partial tree: {inside:?}"
        );
    }
    r
}

fn err(bytes: &[u8]) -> String {
    unpack_in_box(bytes, SymlinkPolicy::Any)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_valid_tree_unpacks() {
    let n = Nar::new()
        .dir()
        .entry(b"a", |n| n.file("x"))
        .entry(b"b", |n| n.symlink("/etc/passwd"))
        .entry(b"c", |n| n.dir().entry(b"d", |n| n.file("")).end())
        .end();
    unpack_in_box(&n.0, SymlinkPolicy::Any).unwrap();
}

#[test]
fn path_traversal_names() {
    for (name, why) in [
        (&b".."[..], "a relative directory reference"),
        (b".", "a relative directory reference"),
        (b"../../etc", "contains '/'"),
        (b"a/b", "contains '/'"),
        (b"/abs", "contains '/'"),
        (b"", "empty"),
        (b"a\0b", "contains NUL"),
    ] {
        let n = Nar::new().dir().entry(name, |n| n.file("evil")).end();
        let e = err(&n.0);
        assert!(e.contains(why), "{name:?}: {e}");
    }
}

#[test]
fn duplicates_and_unsorted_entries() {
    let dup = Nar::new()
        .dir()
        .entry(b"a", |n| n.symlink("/tmp"))
        .entry(b"a", |n| n.dir().entry(b"x", |n| n.file("evil")).end())
        .end();
    assert_eq!(
        err(&dup.0),
        "NAR entries in  are not strictly sorted: \"a\" after \"a\""
    );
    let unsorted = Nar::new()
        .dir()
        .entry(b"b", |n| n.file(""))
        .entry(b"a", |n| n.file(""))
        .end();
    assert!(err(&unsorted.0).contains("not strictly sorted: \"a\" after \"b\""));
}

#[test]
fn symlink_escapes() {
    let escapes = [
        (&b"up"[..], "../../outside"),
        (b"abs", "/etc"),
        (b"sneaky", "sub/../.."),
    ];
    for (name, target) in escapes {
        let n = Nar::new().dir().entry(name, |n| n.symlink(target)).end();
        let e = unpack_in_box(&n.0, SymlinkPolicy::WithinRoot).unwrap_err();
        assert!(
            matches!(e, NarUnpackError::SymlinkEscape { .. }),
            "{target}: {e}"
        );
        // Nix's policy keeps the link but never writes through it.
        unpack_in_box(&n.0, SymlinkPolicy::Any).unwrap();
    }
    let fine = Nar::new()
        .dir()
        .entry(b"d", |n| n.dir().entry(b"l", |n| n.symlink("../f")).end())
        .entry(b"f", |n| n.file("x"))
        .end();
    unpack_in_box(&fine.0, SymlinkPolicy::WithinRoot).unwrap();
    let root_link = Nar::new().symlink("anything");
    assert!(unpack_in_box(&root_link.0, SymlinkPolicy::WithinRoot).is_err());
}

#[test]
fn huge_lengths_are_refused_before_allocation() {
    let mut n = Nar::new().dir().ts(&["entry", "(", "name"]);
    n.0.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(err(&n.0).contains("a name of 18446744073709551615 bytes exceeds the limit of 255"));
    let long_name = vec![b'a'; 256];
    let n = Nar::new().dir().entry(&long_name, |n| n.file("")).end();
    assert!(err(&n.0).contains("exceeds the limit of 255"));
    let mut n = Nar::new();
    n.0.extend_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(err(&n.0).contains("a token of 1099511627776 bytes exceeds the limit of 64"));
    // A header claiming a terabyte is not read as one.
    assert!(err(&(1u64 << 40).to_le_bytes()).contains("not a NAR"));
}

#[test]
fn truncated_streams() {
    let full = Nar::new()
        .dir()
        .entry(b"a", |n| n.file("some contents here"))
        .entry(b"b", |n| n.dir().entry(b"c", |n| n.file("x")).end())
        .end();
    unpack_in_box(&full.0, SymlinkPolicy::Any).unwrap();
    for cut in [1, 8, 20, 40, 100, 150, full.0.len() - 1] {
        let e = err(&full.0[..cut]);
        assert!(
            e.contains("truncated") || e.contains("not a NAR"),
            "cut at {cut}: {e}"
        );
    }
    let mut extra = full.0.clone();
    extra.push(0);
    assert_eq!(err(&extra), "trailing data after the end of the NAR");
}

#[test]
fn malformed_structure() {
    assert_eq!(
        err(b"garbage!"),
        "not a NAR: missing the nix-archive-1 header"
    );
    let bad_type = Nar::new().ts(&["(", "type", "fifo", ")"]);
    assert!(err(&bad_type.0).contains("expected regular, symlink or directory, found \"fifo\""));
    let mut bad_pad = Nar::new().dir().entry(b"a", |n| n.file("x")).end();
    // The padding after the one content byte.
    let pos = bad_pad
        .0
        .windows(8)
        .position(|w| w == b"x\0\0\0\0\0\0\0")
        .unwrap();
    bad_pad.0[pos + 3] = 1;
    assert!(err(&bad_pad.0).contains("non-zero padding"));
    let mut deep = Nar::new();
    for _ in 0..100_000 {
        deep = deep.dir().ts(&["entry", "(", "name", "d", "node"]);
    }
    let tmp = tempfile::tempdir().unwrap();
    let opts = UnpackOptions {
        max_depth: 40,
        ..UnpackOptions::default()
    };
    let e = nar::unpack(&deep.0[..], &tmp.path().join("out"), &opts).unwrap_err();
    assert_eq!(e.to_string(), "NAR nests directories deeper than 40 levels");
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn target_must_be_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Nar::new().file("x");
    let e = nar::unpack(&n.0[..], tmp.path(), &UnpackOptions::default()).unwrap_err();
    assert!(matches!(e, NarUnpackError::TargetExists(_)));
    assert!(Path::new(tmp.path()).is_dir());
}
