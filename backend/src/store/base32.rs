//! Nix's base32: a 32-letter alphabet without `e o u t`, digits read from the last byte first.
//!
//! This is not RFC 4648 base32: Nix emits the most significant 5-bit group first while walking
//! the bytes from the end, so an encoded hash sorts differently from its bytes.

use thiserror::Error;

/// The 32 characters Nix uses, in digit order.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Why a string is not valid Nix base32.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base32Error {
    /// A character outside [`ALPHABET`].
    #[error("invalid character {0:?} in base32 string")]
    InvalidChar(char),
    /// The string encodes bits beyond the decoded length.
    #[error("base32 string {0:?} has non-zero padding bits")]
    NonZeroPadding(String),
}

/// Length of the base32 encoding of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n * 8 - 1) / 5 + 1
    }
}

/// Number of bytes a base32 string of `len` characters decodes to.
pub const fn decoded_len(len: usize) -> usize {
    len * 5 / 8
}

/// Whether `c` is a character of Nix's base32 alphabet.
pub fn is_base32_char(c: u8) -> bool {
    digit_of(c).is_some()
}

fn digit_of(c: u8) -> Option<u8> {
    // The alphabet is ASCII and sorted, so a binary search is exact.
    ALPHABET.binary_search(&c).ok().map(|i| i as u8)
}

/// Encodes bytes as Nix base32.
pub fn encode(bytes: &[u8]) -> String {
    let len = encoded_len(bytes.len());
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        let lo = bytes[i] as u16 >> j;
        let hi = if i + 1 < bytes.len() {
            (bytes[i + 1] as u16) << (8 - j)
        } else {
            0
        };
        out.push(ALPHABET[((lo | hi) & 0x1f) as usize] as char);
    }
    out
}

/// Decodes a Nix base32 string into `decoded_len(s.len())` bytes.
pub fn decode(s: &str) -> Result<Vec<u8>, Base32Error> {
    let size = decoded_len(s.len());
    let mut out = vec![0u8; size];
    for (n, c) in s.bytes().rev().enumerate() {
        let digit = digit_of(c).ok_or(Base32Error::InvalidChar(c as char))? as u16;
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        if i < size {
            out[i] |= (digit << j) as u8;
        } else if digit << j != 0 {
            return Err(Base32Error::NonZeroPadding(s.to_owned()));
        }
        let carry = digit >> (8 - j);
        if i + 1 < size {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return Err(Base32Error::NonZeroPadding(s.to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sha256_of_empty_string() {
        let digest = [
            0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
            0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
            0x78, 0x52, 0xb8, 0x55,
        ];
        let s = encode(&digest);
        assert_eq!(s, "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
        assert_eq!(decode(&s).unwrap(), digest);
    }

    #[test]
    fn round_trips_every_length() {
        for n in 0..70usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let s = encode(&bytes);
            assert_eq!(s.len(), encoded_len(n));
            assert_eq!(decode(&s).unwrap(), bytes, "length {n}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("e"), Err(Base32Error::InvalidChar('e')));
        // 2 characters carry 10 bits but decode to 1 byte: the top bits must be zero.
        assert!(matches!(decode("zz"), Err(Base32Error::NonZeroPadding(_))));
        assert_eq!(decode("03").unwrap(), vec![3]);
    }
}
