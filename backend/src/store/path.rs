//! Store paths (`/nix/store/<hash>-<name>`), the store directory, and how Nix computes paths.
//!
//! The store directory string (e.g. `/nix/store`) enters every path hash, so [`StoreDir`] is the
//! *logical* directory. Where the files physically live is the local store's business.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::base32;
use super::hash::{Hash, HashAlgo};

/// Length of the hash part of a store path's base name (20 bytes in base32).
pub const HASH_PART_LEN: usize = 32;

/// Longest name Nix accepts after `<hash>-`.
pub const MAX_NAME_LEN: usize = 211;

/// Why a store path or name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorePathError {
    /// The path is not directly inside the store directory.
    #[error("path '{path}' is not in the store {store_dir}")]
    NotInStore {
        /// The offending path.
        path: String,
        /// The store directory.
        store_dir: String,
    },
    /// Missing `-` after the hash, or too short.
    #[error("'{0}' is not a store path base name (<32-char hash>-<name>)")]
    BadBaseName(String),
    /// The hash part contains a character outside Nix's base32 alphabet.
    #[error("store path '{0}' has an invalid hash part")]
    BadHashPart(String),
    /// The name is empty.
    #[error("store path name is empty")]
    EmptyName,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("store path name '{0}' is longer than 211 characters")]
    NameTooLong(String),
    /// The name contains a character outside `[A-Za-z0-9+-._?=]`.
    #[error("store path name '{name}' contains the forbidden character {ch:?}")]
    BadNameChar {
        /// The offending name.
        name: String,
        /// The first forbidden character.
        ch: char,
    },
    /// The store directory is not an absolute, normalised path.
    #[error("store directory '{0}' must be an absolute path without trailing '/', '.' or '..'")]
    BadStoreDir(String),
}

/// Checks a store path name: 1..=211 characters from `[A-Za-z0-9+-._?=]`.
pub fn validate_name(name: &str) -> Result<(), StorePathError> {
    if name.is_empty() {
        return Err(StorePathError::EmptyName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(StorePathError::NameTooLong(name.to_owned()));
    }
    if let Some(ch) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "+-._?=".contains(c)))
    {
        return Err(StorePathError::BadNameChar {
            name: name.to_owned(),
            ch,
        });
    }
    Ok(())
}

/// A validated store path, without its store directory: `<hash part>-<name>`.
///
/// Ordered by base name, which is the order Nix uses for sets of paths.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorePath {
    base_name: String,
}

impl StorePath {
    /// Parses a base name `<32 base32 chars>-<name>`.
    pub fn from_base_name(s: &str) -> Result<StorePath, StorePathError> {
        let b = s.as_bytes();
        if b.len() < HASH_PART_LEN + 2 || b[HASH_PART_LEN] != b'-' {
            return Err(StorePathError::BadBaseName(s.to_owned()));
        }
        if !b[..HASH_PART_LEN]
            .iter()
            .all(|&c| base32::is_base32_char(c))
        {
            return Err(StorePathError::BadHashPart(s.to_owned()));
        }
        validate_name(&s[HASH_PART_LEN + 1..])?;
        Ok(StorePath {
            base_name: s.to_owned(),
        })
    }

    /// Builds a path from a 20-byte digest and a name.
    pub fn from_digest(digest: &[u8; 20], name: &str) -> Result<StorePath, StorePathError> {
        validate_name(name)?;
        Ok(StorePath {
            base_name: format!("{}-{}", base32::encode(digest), name),
        })
    }

    /// The 32-character hash part.
    pub fn hash_part(&self) -> &str {
        &self.base_name[..HASH_PART_LEN]
    }

    /// The name after the hash.
    pub fn name(&self) -> &str {
        &self.base_name[HASH_PART_LEN + 1..]
    }

    /// `<hash>-<name>`.
    pub fn base_name(&self) -> &str {
        &self.base_name
    }

    /// Whether this is a derivation (`.drv`) path.
    pub fn is_derivation(&self) -> bool {
        self.name().ends_with(".drv")
    }
}

/// The base name `<hash>-<name>`; use [`StoreDir::display`] for the absolute path.
impl fmt::Display for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_name)
    }
}

impl fmt::Debug for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorePath({})", self.base_name)
    }
}

impl FromStr for StorePath {
    type Err = StorePathError;
    fn from_str(s: &str) -> Result<Self, StorePathError> {
        StorePath::from_base_name(s)
    }
}

/// How a path's contents are hashed for a content-addressed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileIngestionMethod {
    /// The hash of a single regular file's bytes (`outputHashMode = "flat"`).
    Flat,
    /// The hash of the NAR serialisation (`outputHashMode = "recursive"`).
    Recursive,
}

/// The logical store directory that enters path hashes, e.g. `/nix/store`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreDir(String);

impl Default for StoreDir {
    fn default() -> Self {
        StoreDir::nix()
    }
}

impl fmt::Debug for StoreDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreDir({})", self.0)
    }
}

impl fmt::Display for StoreDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StoreDir {
    /// `/nix/store`.
    pub fn nix() -> StoreDir {
        StoreDir("/nix/store".to_owned())
    }

    /// Validates an absolute directory path; one trailing `/` is dropped.
    pub fn new(dir: &str) -> Result<StoreDir, StorePathError> {
        let trimmed = if dir.len() > 1 {
            dir.strip_suffix('/').unwrap_or(dir)
        } else {
            dir
        };
        let bad = !trimmed.starts_with('/')
            || trimmed == "/"
            || trimmed
                .split('/')
                .skip(1)
                .any(|c| c.is_empty() || c == "." || c == "..");
        if bad {
            return Err(StorePathError::BadStoreDir(dir.to_owned()));
        }
        Ok(StoreDir(trimmed.to_owned()))
    }

    /// The directory as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute path of `path` in this store.
    pub fn display(&self, path: &StorePath) -> String {
        format!("{}/{}", self.0, path.base_name)
    }

    /// Parses an absolute path that must be exactly `<store dir>/<hash>-<name>`.
    pub fn parse_path(&self, s: &str) -> Result<StorePath, StorePathError> {
        let not_in_store = || StorePathError::NotInStore {
            path: s.to_owned(),
            store_dir: self.0.clone(),
        };
        let rest = s
            .strip_prefix(self.0.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(not_in_store)?;
        if rest.contains('/') {
            return Err(not_in_store());
        }
        StorePath::from_base_name(rest)
    }

    /// Parses a path inside the store, possibly below a store path (`/nix/store/x-y/bin/z`),
    /// returning the store path and the remainder (empty or starting with `/`).
    pub fn parse_path_prefix<'a>(
        &self,
        s: &'a str,
    ) -> Result<(StorePath, &'a str), StorePathError> {
        let rest = s
            .strip_prefix(self.0.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| StorePathError::NotInStore {
                path: s.to_owned(),
                store_dir: self.0.clone(),
            })?;
        let end = rest.find('/').unwrap_or(rest.len());
        Ok((StorePath::from_base_name(&rest[..end])?, &rest[end..]))
    }

    /// Nix's `makeStorePath`: the path for a fingerprint `type:sha256:<hex>:<store dir>:<name>`.
    pub fn make_store_path(
        &self,
        path_type: &str,
        hash: &Hash,
        name: &str,
    ) -> Result<StorePath, StorePathError> {
        validate_name(name)?;
        let fingerprint = format!(
            "{}:{}:{}:{}:{}",
            path_type,
            hash.algo(),
            hash.to_base16(),
            self.0,
            name
        );
        let digest = Hash::sha256(fingerprint.as_bytes());
        StorePath::from_digest(&compress_hash(digest.digest()), name)
    }

    /// The path type string with references: `<kind>:<ref1>:<ref2>...[:self]`.
    fn make_type<'a>(
        &self,
        kind: &str,
        references: impl IntoIterator<Item = &'a StorePath>,
        self_reference: bool,
    ) -> String {
        let mut t = kind.to_owned();
        // Sets are iterated in order; Nix sorts by the full path, which is the same order.
        let sorted: BTreeSet<&StorePath> = references.into_iter().collect();
        for r in sorted {
            t.push(':');
            t.push_str(&self.display(r));
        }
        if self_reference {
            t.push_str(":self");
        }
        t
    }

    /// A text path (`builtins.toFile`, `.drv` files) for contents with this SHA-256.
    pub fn make_text_path<'a>(
        &self,
        name: &str,
        content_hash: &Hash,
        references: impl IntoIterator<Item = &'a StorePath>,
    ) -> Result<StorePath, StorePathError> {
        let t = self.make_type("text", references, false);
        self.make_store_path(&t, content_hash, name)
    }

    /// [`make_text_path`](Self::make_text_path) for the contents themselves.
    pub fn compute_text_path<'a>(
        &self,
        name: &str,
        contents: &[u8],
        references: impl IntoIterator<Item = &'a StorePath>,
    ) -> Result<StorePath, StorePathError> {
        self.make_text_path(name, &Hash::sha256(contents), references)
    }

    /// A content-addressed path (`nix-store --add-fixed`, fixed-output derivations,
    /// `builtins.path`). Recursive SHA-256 gives a "source" path, which may have references;
    /// anything else goes through the `fixed:out:` indirection and has none.
    pub fn make_fixed_output_path<'a>(
        &self,
        method: FileIngestionMethod,
        hash: &Hash,
        name: &str,
        references: impl IntoIterator<Item = &'a StorePath>,
        self_reference: bool,
    ) -> Result<StorePath, StorePathError> {
        if method == FileIngestionMethod::Recursive && hash.algo() == HashAlgo::Sha256 {
            let t = self.make_type("source", references, self_reference);
            self.make_store_path(&t, hash, name)
        } else {
            let inner = format!(
                "fixed:out:{}{}:{}:",
                if method == FileIngestionMethod::Recursive {
                    "r:"
                } else {
                    ""
                },
                hash.algo(),
                hash.to_base16()
            );
            self.make_store_path("output:out", &Hash::sha256(inner.as_bytes()), name)
        }
    }

    /// The path `nix-store --add` gives a tree with this NAR SHA-256 (no references).
    pub fn make_source_path(
        &self,
        nar_hash: &Hash,
        name: &str,
    ) -> Result<StorePath, StorePathError> {
        self.make_fixed_output_path(
            FileIngestionMethod::Recursive,
            nar_hash,
            name,
            std::iter::empty(),
            false,
        )
    }

    /// The path of output `output` of a derivation named `drv_name` whose
    /// `hashDerivationModulo` is `drv_hash`: `<drv_name>` for `out`, else `<drv_name>-<output>`.
    pub fn make_output_path(
        &self,
        output: &str,
        drv_hash: &Hash,
        drv_name: &str,
    ) -> Result<StorePath, StorePathError> {
        let name = if output == "out" {
            drv_name.to_owned()
        } else {
            format!("{drv_name}-{output}")
        };
        self.make_store_path(&format!("output:{output}"), drv_hash, &name)
    }
}

/// XOR-folds a digest into 20 bytes, as Nix does for store path hashes.
pub fn compress_hash(digest: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, b) in digest.iter().enumerate() {
        out[i % 20] ^= b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let dir = StoreDir::nix();
        let p = dir
            .parse_path("/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal")
            .unwrap();
        assert_eq!(p.hash_part(), "pwf438sikcmp3h7hgl8nhpibslpv7dch");
        assert_eq!(p.name(), "minimal");
        assert_eq!(
            dir.display(&p),
            "/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal"
        );
        let (q, rest) = dir
            .parse_path_prefix("/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal/bin/x")
            .unwrap();
        assert_eq!((q, rest), (p, "/bin/x"));
    }

    #[test]
    fn rejects_bad_paths() {
        let dir = StoreDir::nix();
        let e = |s: &str| dir.parse_path(s).unwrap_err().to_string();
        assert_eq!(
            e("/tmp/pwf438sikcmp3h7hgl8nhpibslpv7dch-x"),
            "path '/tmp/pwf438sikcmp3h7hgl8nhpibslpv7dch-x' is not in the store /nix/store"
        );
        assert_eq!(
            e("/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dce-x"),
            "store path 'pwf438sikcmp3h7hgl8nhpibslpv7dce-x' has an invalid hash part"
        );
        assert_eq!(
            e("/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-a b"),
            "store path name 'a b' contains the forbidden character ' '"
        );
        assert!(dir.parse_path("/nix/store/short-x").is_err());
        assert!(dir
            .parse_path("/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-")
            .is_err());
        let long = "a".repeat(212);
        assert!(matches!(
            validate_name(&long),
            Err(StorePathError::NameTooLong(_))
        ));
        assert!(validate_name(&long[..211]).is_ok());
        assert!(StoreDir::new("relative").is_err());
        assert!(StoreDir::new("/a/../b").is_err());
        assert_eq!(StoreDir::new("/a/b/").unwrap().as_str(), "/a/b");
    }

    #[test]
    fn text_path_of_tofile() {
        // `builtins.toFile "hello.txt" "hello\n"` with Nix 2.8 under /nix/store.
        let dir = StoreDir::nix();
        let p = dir
            .compute_text_path("hello.txt", b"hello\n", std::iter::empty())
            .unwrap();
        assert_eq!(p.name(), "hello.txt");
        let other = StoreDir::new("/tmp/store").unwrap();
        let q = other
            .compute_text_path("hello.txt", b"hello\n", std::iter::empty())
            .unwrap();
        assert_ne!(p, q, "the store directory enters the hash");
    }
}
