//! `hashString`, `hashFile`, `convertHash`, and the hash encodings they need.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{b, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::Value;

pub const BUILTINS: &[Builtin] = &[
    b("__hashString", 2, hash_string),
    b("__hashFile", 2, hash_file),
    b("__convertHash", 1, convert_hash),
];

/// Hash algorithms Nix knows (without blake3).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Algo {
    pub fn parse(name: &str) -> Option<Algo> {
        Some(match name {
            "md5" => Algo::Md5,
            "sha1" => Algo::Sha1,
            "sha256" => Algo::Sha256,
            "sha512" => Algo::Sha512,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
    pub fn size(self) -> usize {
        match self {
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
            Algo::Sha256 => 32,
            Algo::Sha512 => 64,
        }
    }
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algo::Md5 => Md5::digest(data).to_vec(),
            Algo::Sha1 => Sha1::digest(data).to_vec(),
            Algo::Sha256 => Sha256::digest(data).to_vec(),
            Algo::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

fn parse_algo(name: &str, pos: Pos) -> Result<Algo> {
    Algo::parse(name).ok_or_else(|| {
        other_error(
            format!(
                "unknown hash algorithm '{name}', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'\nTry 'nix-instantiate --help' for more information."
            ),
            pos,
        )
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const NIX32: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Nix's base32 (little-endian bit order, its own alphabet).
pub fn nix32(bytes: &[u8]) -> String {
    let len = (bytes.len() * 8).div_ceil(5);
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        let mut c = (bytes[i] as u16) >> j;
        if i + 1 < bytes.len() {
            c |= (bytes[i + 1] as u16) << (8 - j);
        }
        out.push(NIX32[(c & 0x1f) as usize] as char);
    }
    out
}

fn nix32_decode(s: &str, size: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; size];
    let chars = s.as_bytes();
    for (n, &ch) in chars.iter().rev().enumerate() {
        let digit = NIX32.iter().position(|&c| c == ch)? as u16;
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        out[i] |= (digit << j) as u8;
        let carry = digit >> (8 - j);
        if i + 1 < size {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return None;
        }
    }
    Some(out)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= n {
                out.push(B64[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let d = B64.iter().position(|&x| x == c)? as u32;
        buf = buf << 6 | d;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

fn decode_any(text: &str, algo: Algo) -> Option<Vec<u8>> {
    let size = algo.size();
    if text.len() == size * 2 {
        let mut out = Vec::with_capacity(size);
        for i in 0..size {
            out.push(u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?);
        }
        return Some(out);
    }
    if text.len() == (size * 8).div_ceil(5) {
        return nix32_decode(text, size);
    }
    let d = base64_decode(text)?;
    (d.len() == size).then_some(d)
}

/// Parses `sha256-…` (SRI), `sha256:…`, or a bare hash with a known algorithm.
pub fn parse_hash(text: &str, algo: Option<Algo>) -> std::result::Result<(Algo, Vec<u8>), String> {
    let (algo, rest, sri) = if let Some((a, r)) = text.split_once(':') {
        (
            Algo::parse(a).ok_or_else(|| format!("unknown hash algorithm '{a}'"))?,
            r,
            false,
        )
    } else if let Some((a, r)) = text
        .split_once('-')
        .filter(|(a, _)| Algo::parse(a).is_some())
    {
        (Algo::parse(a).expect("filtered"), r, true)
    } else if let Some(a) = algo {
        (a, text, false)
    } else {
        return Err(format!(
            "hash '{text}' does not include a type, nor is the type otherwise known from context"
        ));
    };
    let bytes = if sri {
        base64_decode(rest).filter(|d| d.len() == algo.size())
    } else {
        decode_any(rest, algo)
    };
    bytes
        .map(|b| (algo, b))
        .ok_or_else(|| format!("invalid {} hash '{text}'", algo.name()))
}

fn hash_string(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let algo = m.expect_string(&a[0], pos)?;
    let algo = parse_algo(&algo.s, pos)?;
    let st = m.expect_string(&a[1], pos)?;
    Ok(s(hex(&algo.digest(st.s.as_bytes()))))
}

fn hash_file(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let algo = m.expect_string(&a[0], pos)?;
    let algo = parse_algo(&algo.s, pos)?;
    let (path, _) = m.coerce_to_path(&a[1], pos)?;
    let data = std::fs::read(&path)
        .map_err(|e| other_error(format!("opening file '{path}': {e}"), pos))?;
    Ok(s(hex(&algo.digest(&data))))
}

fn convert_hash(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let args = m.expect_attrs(&a[0], pos)?;
    let hash = m.get_attr(&args, "hash", pos)?;
    let hash = m.expect_string(&hash, pos)?;
    let algo = match args.get("hashAlgo") {
        Some(v) => {
            let v = m.expect_string(&v.clone(), pos)?;
            Some(parse_algo(&v.s, pos)?)
        }
        None => None,
    };
    let fmt = m.get_attr(&args, "toHashFormat", pos)?;
    let fmt = m.expect_string(&fmt, pos)?;
    let (algo, bytes) = parse_hash(&hash.s, algo).map_err(|e| other_error(e, pos))?;
    let out = match fmt.s.as_str() {
        "base16" => hex(&bytes),
        "nix32" | "base32" => nix32(&bytes),
        "base64" => base64(&bytes),
        "sri" => format!("{}-{}", algo.name(), base64(&bytes)),
        other => {
            return Err(other_error(
                format!(
                    "unknown hash format '{other}', expect 'base16', 'base32', 'base64', or 'sri'"
                ),
                pos,
            ))
        }
    };
    Ok(s(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix32_round_trips() {
        let d = Algo::Sha256.digest(b"hello");
        let e = nix32(&d);
        assert_eq!(e.len(), 52);
        assert_eq!(nix32_decode(&e, 32).unwrap(), d);
        assert_eq!(base64_decode(&base64(&d)).unwrap(), d);
    }
}
