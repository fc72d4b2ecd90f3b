//! Derivations: the ATerm `.drv` format (byte-exact write and parse), `hashDerivationModulo`,
//! output and `.drv` path computation, and `nix show-derivation`-style JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use thiserror::Error;

use super::hash::{Hash, HashAlgo, HashError};
use super::path::{FileIngestionMethod, StoreDir, StorePath, StorePathError};

/// Why a derivation could not be parsed or hashed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DerivationError {
    /// The ATerm text is malformed.
    #[error("malformed derivation at byte {offset}: expected {expected}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
        /// What the parser wanted there.
        expected: &'static str,
    },
    /// A path in the derivation is not a valid store path.
    #[error(transparent)]
    Path(#[from] StorePathError),
    /// A fixed output's hash is invalid.
    #[error("fixed output '{output}': {source}")]
    Hash {
        /// The output name.
        output: String,
        /// The hash problem.
        source: HashError,
    },
    /// A fixed output's `hashAlgo` field is not `[r:]algo`.
    #[error("output '{output}' has an invalid hash algorithm '{algo}'")]
    BadHashAlgo {
        /// The output name.
        output: String,
        /// The offending field.
        algo: String,
    },
    /// `hashDerivationModulo` needs the hash of an input derivation nobody provided.
    #[error("no hash known for input derivation '{0}'")]
    MissingInput(String),
}

/// A fixed-output derivation's expected content hash (`outputHash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedOutputHash {
    /// Flat file or NAR.
    pub method: FileIngestionMethod,
    /// The expected hash.
    pub hash: Hash,
}

impl FixedOutputHash {
    /// The ATerm `hashAlgo` field: `sha256` or `r:sha256`.
    pub fn method_algo(&self) -> String {
        match self.method {
            FileIngestionMethod::Flat => self.hash.algo().to_string(),
            FileIngestionMethod::Recursive => format!("r:{}", self.hash.algo()),
        }
    }
}

/// One output of a derivation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DerivationOutput {
    /// The output path; `None` while it is being computed (written as `""`).
    pub path: Option<StorePath>,
    /// Set for fixed-output derivations.
    pub fixed: Option<FixedOutputHash>,
}

/// A store derivation, as in a `.drv` file. Maps are sorted as Nix writes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derivation {
    /// Output name -> output.
    pub outputs: BTreeMap<String, DerivationOutput>,
    /// Input derivation -> the outputs of it that are used.
    pub input_drvs: BTreeMap<StorePath, BTreeSet<String>>,
    /// Input sources (plain store paths).
    pub input_srcs: BTreeSet<StorePath>,
    /// `system`, e.g. `x86_64-linux`.
    pub platform: String,
    /// The builder program.
    pub builder: String,
    /// Builder arguments.
    pub args: Vec<String>,
    /// The build environment.
    pub env: BTreeMap<String, String>,
}

impl Derivation {
    /// The ATerm text, exactly as Nix writes `.drv` files.
    pub fn to_aterm(&self, store_dir: &StoreDir) -> String {
        self.unparse(store_dir, false, None)
    }

    /// Nix's `unparse`: with `mask_outputs`, output paths (and env vars named like outputs) are
    /// written empty; `actual_inputs` replaces the input derivation map (hash modulo).
    fn unparse(
        &self,
        store_dir: &StoreDir,
        mask_outputs: bool,
        actual_inputs: Option<&BTreeMap<String, BTreeSet<String>>>,
    ) -> String {
        let mut s = String::with_capacity(1024);
        s.push_str("Derive([");
        for (i, (name, out)) in self.outputs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            write_string(&mut s, name);
            s.push(',');
            match (&out.path, mask_outputs) {
                (Some(p), false) => write_string(&mut s, &store_dir.display(p)),
                _ => write_string(&mut s, ""),
            }
            s.push(',');
            match &out.fixed {
                Some(f) => {
                    write_string(&mut s, &f.method_algo());
                    s.push(',');
                    write_string(&mut s, &f.hash.to_base16());
                }
                None => s.push_str("\"\",\"\""),
            }
            s.push(')');
        }
        s.push_str("],[");
        let mut first = true;
        let mut write_input = |s: &mut String, path: &str, outs: &BTreeSet<String>| {
            if !first {
                s.push(',');
            }
            first = false;
            s.push('(');
            write_string(s, path);
            s.push_str(",[");
            write_list(s, outs.iter().map(String::as_str));
            s.push_str("])");
        };
        match actual_inputs {
            Some(inputs) => {
                for (k, outs) in inputs {
                    write_input(&mut s, k, outs);
                }
            }
            None => {
                for (p, outs) in &self.input_drvs {
                    write_input(&mut s, &store_dir.display(p), outs);
                }
            }
        }
        s.push_str("],[");
        let srcs: Vec<String> = self
            .input_srcs
            .iter()
            .map(|p| store_dir.display(p))
            .collect();
        write_list(&mut s, srcs.iter().map(String::as_str));
        s.push_str("],");
        write_string(&mut s, &self.platform);
        s.push(',');
        write_string(&mut s, &self.builder);
        s.push_str(",[");
        write_list(&mut s, self.args.iter().map(String::as_str));
        s.push_str("],[");
        for (i, (k, v)) in self.env.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            write_string(&mut s, k);
            s.push(',');
            let masked = mask_outputs && self.outputs.contains_key(k);
            write_string(&mut s, if masked { "" } else { v });
            s.push(')');
        }
        s.push_str("])");
        s
    }

    /// Parses `.drv` text whose paths are in `store_dir`.
    pub fn parse(store_dir: &StoreDir, text: &str) -> Result<Derivation, DerivationError> {
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
        };
        let mut drv = Derivation::default();
        p.expect("Derive([")?;
        let mut first = true;
        while !p.eat(b']') {
            if !first {
                p.expect(",")?;
            }
            first = false;
            p.expect("(")?;
            let name = p.string()?;
            p.expect(",")?;
            let path = p.string()?;
            p.expect(",")?;
            let algo = p.string()?;
            p.expect(",")?;
            let hash = p.string()?;
            p.expect(")")?;
            let path = if path.is_empty() {
                None
            } else {
                Some(store_dir.parse_path(&path)?)
            };
            let fixed = parse_fixed(&name, &algo, &hash)?;
            drv.outputs.insert(name, DerivationOutput { path, fixed });
        }
        p.expect(",[")?;
        let mut first = true;
        while !p.eat(b']') {
            if !first {
                p.expect(",")?;
            }
            first = false;
            p.expect("(")?;
            let path = store_dir.parse_path(&p.string()?)?;
            p.expect(",[")?;
            let outs = p.string_list()?;
            p.expect(")")?;
            drv.input_drvs.insert(path, outs.into_iter().collect());
        }
        p.expect(",[")?;
        for src in p.string_list()? {
            drv.input_srcs.insert(store_dir.parse_path(&src)?);
        }
        p.expect(",")?;
        drv.platform = p.string()?;
        p.expect(",")?;
        drv.builder = p.string()?;
        p.expect(",[")?;
        drv.args = p.string_list()?;
        p.expect(",[")?;
        let mut first = true;
        while !p.eat(b']') {
            if !first {
                p.expect(",")?;
            }
            first = false;
            p.expect("(")?;
            let k = p.string()?;
            p.expect(",")?;
            let v = p.string()?;
            p.expect(")")?;
            drv.env.insert(k, v);
        }
        p.expect(")")?;
        if p.pos != p.s.len() {
            return Err(p.error("end of input"));
        }
        Ok(drv)
    }

    /// Whether this is a fixed-output derivation: exactly one output, `out`, with a hash.
    pub fn is_fixed_output(&self) -> bool {
        self.outputs.len() == 1 && self.outputs.get("out").is_some_and(|o| o.fixed.is_some())
    }

    /// Nix's `hashDerivationModulo`. A fixed-output derivation hashes to its fixed content
    /// and output path only, so changing its builder does not change its dependents. Otherwise
    /// each input derivation path is replaced by its own modulo hash (from `input_hash`, in
    /// base16) before hashing the ATerm; `mask_outputs` blanks this derivation's output paths,
    /// which is how output paths are computed before they are known.
    pub fn hash_modulo(
        &self,
        store_dir: &StoreDir,
        drv_name: &str,
        mask_outputs: bool,
        input_hash: &mut dyn FnMut(&StorePath) -> Result<Hash, DerivationError>,
    ) -> Result<Hash, DerivationError> {
        if self.is_fixed_output() {
            let out = &self.outputs["out"];
            let fixed = out.fixed.expect("checked by is_fixed_output");
            let path = match &out.path {
                Some(p) => p.clone(),
                None => fixed_output_path(store_dir, &fixed, drv_name)?,
            };
            let s = format!(
                "fixed:out:{}:{}:{}",
                fixed.method_algo(),
                fixed.hash.to_base16(),
                store_dir.display(&path)
            );
            return Ok(Hash::sha256(s.as_bytes()));
        }
        let mut inputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, outs) in &self.input_drvs {
            let h = input_hash(path)?;
            inputs
                .entry(h.to_base16())
                .or_default()
                .extend(outs.iter().cloned());
        }
        let text = self.unparse(store_dir, mask_outputs, Some(&inputs));
        Ok(Hash::sha256(text.as_bytes()))
    }

    /// Computes and fills in every output path (and the env var of the same name), as
    /// `derivation` does at evaluation time. `input_hash` gives input derivations' modulo hashes.
    pub fn fill_output_paths(
        &mut self,
        store_dir: &StoreDir,
        drv_name: &str,
        input_hash: &mut dyn FnMut(&StorePath) -> Result<Hash, DerivationError>,
    ) -> Result<(), DerivationError> {
        let paths: BTreeMap<String, StorePath> = if self.is_fixed_output() {
            let fixed = self.outputs["out"].fixed.expect("fixed output");
            BTreeMap::from([(
                "out".to_owned(),
                fixed_output_path(store_dir, &fixed, drv_name)?,
            )])
        } else {
            let h = self.hash_modulo(store_dir, drv_name, true, input_hash)?;
            self.outputs
                .keys()
                .map(|o| Ok((o.clone(), store_dir.make_output_path(o, &h, drv_name)?)))
                .collect::<Result<_, StorePathError>>()?
        };
        for (name, path) in paths {
            self.env.insert(name.clone(), store_dir.display(&path));
            if let Some(out) = self.outputs.get_mut(&name) {
                out.path = Some(path);
            }
        }
        Ok(())
    }

    /// Every store path the `.drv` file refers to: input sources and input derivations.
    pub fn references(&self) -> BTreeSet<StorePath> {
        self.input_srcs
            .iter()
            .chain(self.input_drvs.keys())
            .cloned()
            .collect()
    }

    /// The `.drv` file's own store path: a text path named `<drv_name>.drv`.
    pub fn drv_path(
        &self,
        store_dir: &StoreDir,
        drv_name: &str,
    ) -> Result<StorePath, DerivationError> {
        let refs = self.references();
        Ok(store_dir.compute_text_path(
            &format!("{drv_name}.drv"),
            self.to_aterm(store_dir).as_bytes(),
            &refs,
        )?)
    }

    /// The object `nix show-derivation` prints under the `.drv` path's key.
    pub fn to_json(&self, store_dir: &StoreDir) -> DerivationJson {
        DerivationJson {
            outputs: self
                .outputs
                .iter()
                .map(|(k, o)| {
                    (
                        k.clone(),
                        OutputJson {
                            path: o.path.as_ref().map(|p| store_dir.display(p)),
                            hash_algo: o.fixed.map(|f| f.method_algo()),
                            hash: o.fixed.map(|f| f.hash.to_base16()),
                        },
                    )
                })
                .collect(),
            input_srcs: self
                .input_srcs
                .iter()
                .map(|p| store_dir.display(p))
                .collect(),
            input_drvs: self
                .input_drvs
                .iter()
                .map(|(p, o)| (store_dir.display(p), o.iter().cloned().collect()))
                .collect(),
            system: self.platform.clone(),
            builder: self.builder.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
        }
    }
}

/// The output path of a fixed-output derivation's `out`.
fn fixed_output_path(
    store_dir: &StoreDir,
    fixed: &FixedOutputHash,
    drv_name: &str,
) -> Result<StorePath, StorePathError> {
    store_dir.make_fixed_output_path(
        fixed.method,
        &fixed.hash,
        drv_name,
        std::iter::empty(),
        false,
    )
}

/// `nix show-derivation` JSON for one derivation (field order as Nix prints it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivationJson {
    /// Outputs by name.
    pub outputs: BTreeMap<String, OutputJson>,
    /// Input sources (absolute paths).
    pub input_srcs: Vec<String>,
    /// Input derivations (absolute paths) -> used outputs.
    pub input_drvs: BTreeMap<String, Vec<String>>,
    /// The platform.
    pub system: String,
    /// The builder.
    pub builder: String,
    /// Builder arguments.
    pub args: Vec<String>,
    /// Environment.
    pub env: BTreeMap<String, String>,
}

/// One output in [`DerivationJson`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputJson {
    /// Absolute output path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `[r:]algo` for fixed outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_algo: Option<String>,
    /// Base16 hash for fixed outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// Guesses the store directory of `.drv` text from its first output path (parent directory).
pub fn guess_store_dir(text: &str) -> Option<StoreDir> {
    let rest = text.strip_prefix("Derive([(\"")?;
    let after_name = &rest[rest.find("\",\"")? + 3..];
    let path = &after_name[..after_name.find('"')?];
    let (dir, _) = path.rsplit_once('/')?;
    StoreDir::new(dir).ok()
}

fn parse_fixed(
    output: &str,
    algo: &str,
    hash: &str,
) -> Result<Option<FixedOutputHash>, DerivationError> {
    if algo.is_empty() && hash.is_empty() {
        return Ok(None);
    }
    let (method, name) = match algo.strip_prefix("r:") {
        Some(a) => (FileIngestionMethod::Recursive, a),
        None => (FileIngestionMethod::Flat, algo),
    };
    let bad = || DerivationError::BadHashAlgo {
        output: output.to_owned(),
        algo: algo.to_owned(),
    };
    let algo: HashAlgo = name.parse().map_err(|_| bad())?;
    let hash = Hash::parse_bare(hash, algo).map_err(|source| DerivationError::Hash {
        output: output.to_owned(),
        source,
    })?;
    Ok(Some(FixedOutputHash { method, hash }))
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, item);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, expected: &'static str) -> DerivationError {
        DerivationError::Syntax {
            offset: self.pos,
            expected,
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, lit: &'static str) -> Result<(), DerivationError> {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.error(lit))
        }
    }

    fn string(&mut self) -> Result<String, DerivationError> {
        if !self.eat(b'"') {
            return Err(self.error("'\"'"));
        }
        let mut out = Vec::new();
        loop {
            match self.s.get(self.pos) {
                None => return Err(self.error("closing '\"'")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let c = *self
                        .s
                        .get(self.pos + 1)
                        .ok_or_else(|| self.error("escape"))?;
                    out.push(match c {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    });
                    self.pos += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        // The input is a &str and escapes only replace ASCII, so this cannot split a character.
        String::from_utf8(out).map_err(|_| self.error("UTF-8 text"))
    }

    /// A list body after its `[`, through the closing `]`.
    fn string_list(&mut self) -> Result<Vec<String>, DerivationError> {
        let mut items = Vec::new();
        while !self.eat(b']') {
            if !items.is_empty() {
                self.expect(",")?;
            }
            items.push(self.string()?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_round_trip(text: &str) {
        let dir = StoreDir::nix();
        let drv = Derivation::parse(&dir, text).unwrap();
        assert_eq!(drv.to_aterm(&dir), text);
    }

    #[test]
    fn escapes_round_trip() {
        check_round_trip(
            r#"Derive([("out","/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal","","")],[],[],"x86_64-linux","/bin/sh",["a\"b","c\\d","e\nf","g\rh","i\tj","ü",""],[("out","/nix/store/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal")])"#,
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        let dir = StoreDir::nix();
        let err = Derivation::parse(&dir, "Derive([(\"out\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed derivation at byte 14: expected ,"
        );
        assert!(Derivation::parse(&dir, "Derive([],[],[],\"s\",\"b\",[],[])x").is_err());
        assert!(Derivation::parse(&dir, "Derive([],[],[],\"s\",\"b\",[],[])").is_ok());
        assert!(Derivation::parse(&dir, "Derive([],[],[],\"s\",\"b\",[\"x],[])").is_err());
    }

    #[test]
    fn guesses_store_dir() {
        let t = r#"Derive([("out","/tmp/s/pwf438sikcmp3h7hgl8nhpibslpv7dch-minimal","","")],[],[],"x","b",[],[])"#;
        assert_eq!(guess_store_dir(t).unwrap().as_str(), "/tmp/s");
    }
}
