//! Differential test against the installed Nix: a few hundred random trees (odd names,
//! executables, symlinks, empty files and folders, deep nesting) must get the same NAR hash as
//! `nix-hash --type sha256 --base32` and the same store path as `nix-store --add` under the
//! same store directory.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use strata_tests::strata_bin;

/// xorshift64*: deterministic, so a failure can be replayed with `STRATA_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const NAME_CHARS: &[&str] = &[
    "a", "b", "z", "A", "Z", "0", "9", " ", ".", "_", "-", "+", "=", "@", "~", "é", "ß", "→", "#",
];

fn name(rng: &mut Rng) -> String {
    loop {
        let len = 1 + rng.below(12);
        let s: String = (0..len)
            .map(|_| NAME_CHARS[rng.below(NAME_CHARS.len() as u64) as usize])
            .collect();
        if s != "." && s != ".." {
            return s;
        }
    }
}

fn file(rng: &mut Rng, at: &Path) {
    let size = match rng.below(10) {
        0..=2 => 0,
        3..=7 => rng.below(200),
        8 => rng.below(5000),
        _ => rng.below(40_000),
    };
    let bytes: Vec<u8> = (0..size.div_ceil(8))
        .flat_map(|_| rng.next().to_le_bytes())
        .take(size as usize)
        .collect();
    fs::write(at, bytes).unwrap();
    let mode = if rng.chance(30) { 0o755 } else { 0o644 };
    fs::set_permissions(at, fs::Permissions::from_mode(mode)).unwrap();
}

fn symlink(rng: &mut Rng, at: &Path) {
    let target = match rng.below(5) {
        0 => "../somewhere".to_owned(),
        1 => "/nix/store/00000000000000000000000000000000-x".to_owned(),
        2 => "dangling/target".to_owned(),
        3 => ".".to_owned(),
        _ => name(rng),
    };
    std::os::unix::fs::symlink(target, at).unwrap();
}

fn dir(rng: &mut Rng, at: &Path, depth: u32) {
    fs::create_dir(at).unwrap();
    if depth > 0 && rng.chance(5) {
        // A deep chain.
        let mut p = at.to_owned();
        for i in 0..(10 + rng.below(20)) {
            p = p.join(format!("d{i}"));
            fs::create_dir(&p).unwrap();
        }
        file(rng, &p.join("leaf"));
        return;
    }
    let entries = if depth > 4 { 0 } else { rng.below(7) };
    let mut used = std::collections::HashSet::new();
    for _ in 0..entries {
        let n = name(rng);
        if !used.insert(n.clone()) {
            continue;
        }
        let p = at.join(&n);
        match rng.below(10) {
            0..=4 => file(rng, &p),
            5..=7 => dir(rng, &p, depth + 1),
            _ => symlink(rng, &p),
        }
    }
}

fn make_trees(root: &Path, count: usize, seed: u64) -> Vec<PathBuf> {
    let mut rng = Rng(seed);
    fs::create_dir_all(root).unwrap();
    (0..count)
        .map(|i| {
            let p = root.join(format!("t{i}"));
            match rng.below(10) {
                0..=6 => dir(&mut rng, &p, 0),
                7..=8 => file(&mut rng, &p),
                _ => symlink(&mut rng, &p),
            }
            p
        })
        .collect()
}

fn nix(cmd: &str) -> Command {
    let mut c = Command::new(cmd);
    c.env("NIX_REMOTE", "local").env(
        "NIX_CONFIG",
        "substituters =\nsandbox = false\nbuild-users-group =",
    );
    c
}

fn lines(out: std::process::Output, what: &str) -> Vec<String> {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn make_deletable(p: &Path) {
    if let Ok(m) = p.symlink_metadata() {
        if m.is_dir() {
            fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
            for e in fs::read_dir(p).unwrap() {
                make_deletable(&e.unwrap().path());
            }
        }
    }
}

#[test]
fn random_trees_match_nix() {
    let seed = std::env::var("STRATA_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_ef01u64);
    eprintln!("seed {seed} (set STRATA_TEST_SEED to replay)");
    // Thousands of small files: a memory file system keeps creating and deleting them cheap.
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let base = fs::canonicalize(tmp.path()).unwrap();
    let trees = make_trees(&base.join("trees"), 200, seed);
    let args: Vec<&Path> = trees.iter().map(PathBuf::as_path).collect();

    let ours = lines(
        Command::new(strata_bin())
            .args(["hash", "nar", "--base32"])
            .args(&args)
            .output()
            .unwrap(),
        "strata hash nar",
    );
    let theirs = lines(
        nix("nix-hash")
            .args(["--type", "sha256", "--base32"])
            .args(&args)
            .output()
            .unwrap(),
        "nix-hash",
    );
    assert_eq!(ours.len(), trees.len());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "NAR hash of {} (seed {seed})", trees[i].display());
    }

    // Same logical store directory for both: Nix first, then the directory is emptied
    // and Strata fills it.
    let store = base.join("store");
    let state = base.join("nix-state");
    let theirs = lines(
        nix("nix-store")
            .env("NIX_STORE_DIR", &store)
            .env("NIX_STATE_DIR", &state)
            .env("NIX_LOG_DIR", state.join("log"))
            .arg("--add")
            .args(&args)
            .output()
            .unwrap(),
        "nix-store --add",
    );
    make_deletable(&store);
    fs::remove_dir_all(&store).unwrap();
    let ours = lines(
        Command::new(strata_bin())
            .arg("--store-dir")
            .arg(&store)
            .args(["store", "add"])
            .args(&args)
            .output()
            .unwrap(),
        "strata store add",
    );
    assert_eq!(ours.len(), trees.len());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "store path of {} (seed {seed})", trees[i].display());
    }
    let verify = Command::new(strata_bin())
        .arg("--store-dir")
        .arg(&store)
        .args(["store", "verify"])
        .output()
        .unwrap();
    assert!(verify.status.success());
    make_deletable(&store);
}
