//! Hash algorithms and Nix's textual hash forms (base16, base32, base64, SRI, `algo:hash`).

use std::fmt;
use std::str::FromStr;

use sha2::Digest;
use thiserror::Error;

use super::base32;

/// A hash algorithm Nix can name (`outputHashAlgo`, `narHash`, SRI prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgo {
    /// MD5 (16 bytes); only for old fixed-output derivations.
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes): what the store uses everywhere.
    Sha256,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl HashAlgo {
    /// Every algorithm, for iteration.
    pub const ALL: [HashAlgo; 4] = [
        HashAlgo::Md5,
        HashAlgo::Sha1,
        HashAlgo::Sha256,
        HashAlgo::Sha512,
    ];

    /// Nix's name for the algorithm (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn size(self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }

    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Hash {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgo {
    type Err = HashError;
    fn from_str(s: &str) -> Result<Self, HashError> {
        HashAlgo::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| HashError::UnknownAlgo(s.to_owned()))
    }
}

/// Why a hash string or digest was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HashError {
    /// The algorithm name is not one of md5, sha1, sha256, sha512.
    #[error("unknown hash algorithm '{0}' (expected md5, sha1, sha256 or sha512)")]
    UnknownAlgo(String),
    /// No algorithm was given in the string or by the caller.
    #[error("hash '{0}' does not say its algorithm: write it as 'sha256:...' or 'sha256-...'")]
    MissingAlgo(String),
    /// The string's length fits none of the encodings for the algorithm.
    #[error("hash '{hash}' has the wrong length for a {algo} hash")]
    BadLength {
        /// The offending text.
        hash: String,
        /// The algorithm it was read as.
        algo: HashAlgo,
    },
    /// A character invalid for the detected encoding.
    #[error("hash '{0}' is not valid base16, base32 or base64")]
    BadEncoding(String),
    /// The string names a different algorithm than the caller expected.
    #[error("hash '{hash}' should be a {expected} hash")]
    AlgoMismatch {
        /// The offending text.
        hash: String,
        /// What the caller asked for.
        expected: HashAlgo,
    },
}

/// A textual encoding of a hash's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashEncoding {
    /// Lowercase hexadecimal.
    Base16,
    /// Nix base32.
    Base32,
    /// Standard base64 with padding.
    Base64,
    /// `algo-base64` (Subresource Integrity).
    Sri,
}

/// A digest together with its algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash {
    algo: HashAlgo,
    bytes: [u8; 64],
}

impl Hash {
    /// Wraps a digest; fails if its length does not match the algorithm.
    pub fn from_digest(algo: HashAlgo, digest: &[u8]) -> Result<Hash, HashError> {
        if digest.len() != algo.size() {
            return Err(HashError::BadLength {
                hash: base16_encode(digest),
                algo,
            });
        }
        let mut bytes = [0u8; 64];
        bytes[..digest.len()].copy_from_slice(digest);
        Ok(Hash { algo, bytes })
    }

    /// SHA-256 of `data`.
    pub fn sha256(data: &[u8]) -> Hash {
        HashAlgo::Sha256.digest(data)
    }

    /// The algorithm.
    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    /// The raw digest bytes.
    pub fn digest(&self) -> &[u8] {
        &self.bytes[..self.algo.size()]
    }

    /// Lowercase hex of the digest, without the algorithm.
    pub fn to_base16(&self) -> String {
        base16_encode(self.digest())
    }

    /// Nix base32 of the digest, without the algorithm.
    pub fn to_base32(&self) -> String {
        base32::encode(self.digest())
    }

    /// Padded base64 of the digest, without the algorithm.
    pub fn to_base64(&self) -> String {
        base64_encode(self.digest())
    }

    /// `sha256-<base64>`.
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algo, self.to_base64())
    }

    /// The digest in `encoding`; SRI includes the algorithm, the others do not.
    pub fn encode(&self, encoding: HashEncoding) -> String {
        match encoding {
            HashEncoding::Base16 => self.to_base16(),
            HashEncoding::Base32 => self.to_base32(),
            HashEncoding::Base64 => self.to_base64(),
            HashEncoding::Sri => self.to_sri(),
        }
    }

    /// `algo:<encoding>` (Nix's `to_string(base, true)`), e.g. `sha256:1b8m...`.
    pub fn to_typed(&self, encoding: HashEncoding) -> String {
        match encoding {
            HashEncoding::Sri => self.to_sri(),
            other => format!("{}:{}", self.algo, self.encode(other)),
        }
    }

    /// Parses any form Nix accepts: `algo:hash`, SRI `algo-base64`, or a bare digest
    /// (base16, base32 or base64, told apart by length) when `algo` is given.
    pub fn parse(s: &str, algo: Option<HashAlgo>) -> Result<Hash, HashError> {
        let check = |found: HashAlgo| match algo {
            Some(expected) if expected != found => Err(HashError::AlgoMismatch {
                hash: s.to_owned(),
                expected,
            }),
            _ => Ok(found),
        };
        if let Some((name, rest)) = s.split_once(':') {
            let found = check(name.parse()?)?;
            return Hash::parse_bare(rest, found);
        }
        if let Some((name, rest)) = s.split_once('-') {
            if let Ok(found) = name.parse::<HashAlgo>() {
                let found = check(found)?;
                let digest = base64_decode(rest).ok_or_else(|| HashError::BadEncoding(s.into()))?;
                return Hash::from_digest(found, &digest).map_err(|_| HashError::BadLength {
                    hash: s.to_owned(),
                    algo: found,
                });
            }
        }
        match algo {
            Some(algo) => Hash::parse_bare(s, algo),
            None => Err(HashError::MissingAlgo(s.to_owned())),
        }
    }

    /// Parses a digest without algorithm prefix; the encoding is chosen by length, as Nix does.
    pub fn parse_bare(s: &str, algo: HashAlgo) -> Result<Hash, HashError> {
        let size = algo.size();
        let bad = || HashError::BadEncoding(s.to_owned());
        let digest = if s.len() == size * 2 {
            base16_decode(s).ok_or_else(bad)?
        } else if s.len() == base32::encoded_len(size) {
            base32::decode(s).map_err(|_| bad())?
        } else if s.len() == size.div_ceil(3) * 4 {
            base64_decode(s).ok_or_else(bad)?
        } else {
            return Err(HashError::BadLength {
                hash: s.to_owned(),
                algo,
            });
        };
        Hash::from_digest(algo, &digest)
    }
}

/// `algo:base32`, the form Nix stores in its database.
impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, self.to_base32())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({}:{})", self.algo, self.to_base16())
    }
}

impl FromStr for Hash {
    type Err = HashError;
    fn from_str(s: &str) -> Result<Self, HashError> {
        Hash::parse(s, None)
    }
}

/// An incremental hasher for any [`HashAlgo`]; also an `io::Write` sink.
#[derive(Clone)]
pub enum Hasher {
    /// MD5 state.
    Md5(md5::Md5),
    /// SHA-1 state.
    Sha1(sha1::Sha1),
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algo: HashAlgo) -> Hasher {
        match algo {
            HashAlgo::Md5 => Hasher::Md5(md5::Md5::new()),
            HashAlgo::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            HashAlgo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgo::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The final hash.
    pub fn finish(self) -> Hash {
        let (algo, digest): (HashAlgo, Vec<u8>) = match self {
            Hasher::Md5(h) => (HashAlgo::Md5, h.finalize().to_vec()),
            Hasher::Sha1(h) => (HashAlgo::Sha1, h.finalize().to_vec()),
            Hasher::Sha256(h) => (HashAlgo::Sha256, h.finalize().to_vec()),
            Hasher::Sha512(h) => (HashAlgo::Sha512, h.finalize().to_vec()),
        };
        Hash::from_digest(algo, &digest).expect("digest length matches its algorithm")
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn base16_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn base16_decode(s: &str) -> Option<Vec<u8>> {
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= n {
                s.push(B64[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (ci, chunk) in b.chunks(4).enumerate() {
        let last = ci + 1 == b.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut v = 0u32;
        for &c in &chunk[..4 - pad] {
            let d = B64.iter().position(|&x| x == c)? as u32;
            v = v << 6 | d;
        }
        v <<= 6 * pad as u32;
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_hash() {
        let h = Hash::sha256(b"");
        assert_eq!(
            h.to_base16(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            h.to_sri(),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            h.to_string(),
            "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
        );
        for enc in [
            HashEncoding::Base16,
            HashEncoding::Base32,
            HashEncoding::Sri,
        ] {
            assert_eq!(Hash::parse(&h.to_typed(enc), None), Ok(h));
            assert_eq!(Hash::parse(&h.encode(enc), Some(HashAlgo::Sha256)), Ok(h));
        }
        assert_eq!(Hash::parse(&h.to_base64(), Some(HashAlgo::Sha256)), Ok(h));
    }

    #[test]
    fn other_algorithms() {
        assert_eq!(
            HashAlgo::Md5.digest(b"abc").to_base16(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            HashAlgo::Sha1.digest(b"abc").to_base16(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let h512 = HashAlgo::Sha512.digest(b"abc");
        assert!(h512.to_base16().starts_with("ddaf35a193617aba"));
        assert_eq!(Hash::parse(&h512.to_sri(), None), Ok(h512));
        assert_eq!(
            Hash::parse(&h512.to_typed(HashEncoding::Base32), None),
            Ok(h512)
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Hash::parse("sha256:abc", None),
            Err(HashError::BadLength { .. })
        ));
        assert!(matches!(
            Hash::parse("sha3:abc", None),
            Err(HashError::UnknownAlgo(_))
        ));
        assert!(matches!(
            Hash::parse("abc", None),
            Err(HashError::MissingAlgo(_))
        ));
        let h = Hash::sha256(b"x");
        assert!(matches!(
            Hash::parse(&h.to_sri(), Some(HashAlgo::Sha1)),
            Err(HashError::AlgoMismatch { .. })
        ));
        let mut bad = h.to_base16();
        bad.replace_range(0..1, "g");
        assert!(matches!(
            Hash::parse_bare(&bad, HashAlgo::Sha256),
            Err(HashError::BadEncoding(_))
        ));
    }
}
