//! Flake references as fetcher attributes (`{ type = "github"; owner = …; }`), parsed from the
//! URL syntax of `inputs.<name>.url` and rendered back the way Nix 2.8 prints them.
//!
//! `flake.lock` stores `original` and `locked` in attribute form; `flake.nix` usually writes a
//! URL. Comparing the two (lock drift) needs the URL turned into attributes exactly as Nix does.

use std::collections::BTreeMap;
use std::fmt;

/// One fetcher attribute value: Nix allows only strings, unsigned integers and booleans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttrValue {
    /// A string such as an owner, a URL or a hash.
    Str(String),
    /// An integer such as `lastModified` or `revCount`.
    Int(u64),
    /// A flag such as `submodules`.
    Bool(bool),
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Str(s) => f.write_str(s),
            AttrValue::Int(n) => write!(f, "{n}"),
            AttrValue::Bool(b) => f.write_str(if *b { "1" } else { "0" }),
        }
    }
}

/// The fetcher types Nix knows, from `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// `github:owner/repo`.
    GitHub,
    /// `gitlab:owner/repo`.
    GitLab,
    /// `sourcehut:~owner/repo`.
    SourceHut,
    /// `git+https://…`, `git+file://…`.
    Git,
    /// `hg+https://…`.
    Mercurial,
    /// `path:/abs/dir`.
    Path,
    /// An archive fetched by URL.
    Tarball,
    /// A single file fetched by URL.
    File,
    /// A flake registry name (`nixpkgs`), only ever in `original`.
    Indirect,
}

impl SourceKind {
    /// The `type` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::GitHub => "github",
            SourceKind::GitLab => "gitlab",
            SourceKind::SourceHut => "sourcehut",
            SourceKind::Git => "git",
            SourceKind::Mercurial => "mercurial",
            SourceKind::Path => "path",
            SourceKind::Tarball => "tarball",
            SourceKind::File => "file",
            SourceKind::Indirect => "indirect",
        }
    }

    /// Parses a `type` attribute's value.
    pub fn from_type(s: &str) -> Option<SourceKind> {
        Some(match s {
            "github" => SourceKind::GitHub,
            "gitlab" => SourceKind::GitLab,
            "sourcehut" => SourceKind::SourceHut,
            "git" => SourceKind::Git,
            "mercurial" => SourceKind::Mercurial,
            "path" => SourceKind::Path,
            "tarball" => SourceKind::Tarball,
            "file" => SourceKind::File,
            "indirect" => SourceKind::Indirect,
            _ => return None,
        })
    }

    /// The attributes without which a reference of this kind means nothing.
    pub fn required_attrs(self) -> &'static [&'static str] {
        match self {
            SourceKind::GitHub | SourceKind::GitLab | SourceKind::SourceHut => &["owner", "repo"],
            SourceKind::Git | SourceKind::Mercurial | SourceKind::Tarball | SourceKind::File => {
                &["url"]
            }
            SourceKind::Path => &["path"],
            SourceKind::Indirect => &["id"],
        }
    }

    /// Whether this kind is a git forge fetched as an archive (github, gitlab, sourcehut).
    pub fn is_forge(self) -> bool {
        matches!(
            self,
            SourceKind::GitHub | SourceKind::GitLab | SourceKind::SourceHut
        )
    }
}

/// A flake reference in attribute form; `type` is one of the attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FlakeRef {
    /// All attributes, sorted by name as Nix writes them.
    pub attrs: BTreeMap<String, AttrValue>,
}

/// Why a flake reference URL could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlakeRefError {
    /// The scheme names no fetcher Nix has.
    #[error("unsupported flake reference scheme `{0}`")]
    UnsupportedScheme(String),
    /// A forge URL without `owner/repo`.
    #[error("`{0}` needs the form `{1}:OWNER/REPO[/REF-OR-REV]`")]
    BadForgePath(String, &'static str),
    /// Something else about the URL's shape.
    #[error("`{url}` is not a valid flake reference: {why}")]
    Invalid {
        /// The URL as written.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl FlakeRef {
    /// Builds a reference from attribute pairs.
    pub fn from_attrs<I, K>(attrs: I) -> FlakeRef
    where
        I: IntoIterator<Item = (K, AttrValue)>,
        K: Into<String>,
    {
        FlakeRef {
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }

    /// The `type` attribute, as written.
    pub fn type_name(&self) -> Option<&str> {
        self.str_attr("type")
    }

    /// The `type` attribute, when Nix knows it.
    pub fn kind(&self) -> Option<SourceKind> {
        self.type_name().and_then(SourceKind::from_type)
    }

    /// A string attribute.
    pub fn str_attr(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(AttrValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// An integer attribute.
    pub fn int_attr(&self, name: &str) -> Option<u64> {
        match self.attrs.get(name) {
            Some(AttrValue::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A boolean attribute.
    pub fn bool_attr(&self, name: &str) -> Option<bool> {
        match self.attrs.get(name) {
            Some(AttrValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// `owner` of a forge reference.
    pub fn owner(&self) -> Option<&str> {
        self.str_attr("owner")
    }
    /// `repo` of a forge reference.
    pub fn repo(&self) -> Option<&str> {
        self.str_attr("repo")
    }
    /// `ref`: a branch or tag name.
    pub fn git_ref(&self) -> Option<&str> {
        self.str_attr("ref")
    }
    /// `rev`: a commit hash.
    pub fn rev(&self) -> Option<&str> {
        self.str_attr("rev")
    }
    /// `dir`: the flake's subdirectory inside the source tree.
    pub fn dir(&self) -> Option<&str> {
        self.str_attr("dir")
    }
    /// `url` of git, mercurial, tarball and file references.
    pub fn url(&self) -> Option<&str> {
        self.str_attr("url")
    }
    /// `path` of a path reference.
    pub fn path(&self) -> Option<&str> {
        self.str_attr("path")
    }
    /// `narHash`: the SRI SHA-256 of the fetched tree's NAR serialisation.
    pub fn nar_hash(&self) -> Option<&str> {
        self.str_attr("narHash")
    }
    /// `lastModified`: Unix time of the commit (or mtime, for paths).
    pub fn last_modified(&self) -> Option<u64> {
        self.int_attr("lastModified")
    }
    /// `revCount`: commits reachable from `rev` (git, mercurial).
    pub fn rev_count(&self) -> Option<u64> {
        self.int_attr("revCount")
    }

    /// Whether the reference pins one exact source, by the rules of Nix's fetchers: a commit for
    /// git-like kinds, a NAR hash for paths, archives and files.
    pub fn is_locked(&self) -> bool {
        match self.kind() {
            Some(k) if k.is_forge() => self.rev().is_some(),
            Some(SourceKind::Git | SourceKind::Mercurial) => self.rev().is_some(),
            Some(SourceKind::Path | SourceKind::Tarball | SourceKind::File) => {
                self.nar_hash().is_some()
            }
            Some(SourceKind::Indirect) | None => false,
            Some(_) => false,
        }
    }

    /// Parses the URL form of a flake reference (`github:NixOS/nixpkgs/nixos-unstable`,
    /// `git+file:///src?ref=main`, `path:/dir`, `nixpkgs`, `https://…/x.tar.gz`), producing
    /// the attributes Nix would record as the lock's `original`.
    pub fn parse_url(url: &str) -> Result<FlakeRef, FlakeRefError> {
        let invalid = |why| FlakeRefError::Invalid {
            url: url.to_owned(),
            why,
        };
        let without_fragment = url.split_once('#').map_or(url, |(u, _)| u);
        let (base, query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, decode_query(q)),
            None => (without_fragment, Vec::new()),
        };
        if base.is_empty() {
            return Err(invalid("it is empty"));
        }

        let mut attrs: BTreeMap<String, AttrValue> = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            attrs.insert(k.to_owned(), AttrValue::Str(v.to_owned()));
        };

        // Paths without a scheme, and flake registry ids.
        let scheme = scheme_of(base);
        let Some(scheme) = scheme else {
            if base.starts_with('/') || base.starts_with('.') {
                put("type", "path");
                put("path", base);
                let mut r = FlakeRef { attrs };
                r.add_path_query(&query);
                r.add_dir(&query);
                return Ok(r);
            }
            return indirect(base, &query, url);
        };
        let rest = &base[scheme.len() + 1..];

        match scheme {
            "flake" => indirect(rest, &query, url),
            "github" | "gitlab" | "sourcehut" => {
                let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
                if segments.len() < 2 {
                    return Err(FlakeRefError::BadForgePath(
                        url.to_owned(),
                        match scheme {
                            "github" => "github",
                            "gitlab" => "gitlab",
                            _ => "sourcehut",
                        },
                    ));
                }
                put("type", scheme);
                put("owner", segments[0]);
                put("repo", segments[1]);
                if segments.len() > 2 {
                    let third = segments[2..].join("/");
                    if segments.len() == 3 && is_commit_hash(&third) {
                        put("rev", &third);
                    } else {
                        put("ref", &third);
                    }
                }
                for (k, v) in &query {
                    match k.as_str() {
                        "rev" | "ref" | "host" => put(k, v),
                        _ => {}
                    }
                }
                let mut r = FlakeRef { attrs };
                r.add_dir(&query);
                Ok(r)
            }
            "path" => {
                put("type", "path");
                put("path", rest);
                let mut r = FlakeRef { attrs };
                r.add_path_query(&query);
                r.add_dir(&query);
                Ok(r)
            }
            _ => {
                let (kind, inner_scheme) = if let Some(inner) = scheme.strip_prefix("git+") {
                    (SourceKind::Git, inner)
                } else if scheme == "git" {
                    (SourceKind::Git, "git")
                } else if let Some(inner) = scheme.strip_prefix("hg+") {
                    (SourceKind::Mercurial, inner)
                } else if let Some(inner) = scheme.strip_prefix("tarball+") {
                    (SourceKind::Tarball, inner)
                } else if let Some(inner) = scheme.strip_prefix("file+") {
                    (SourceKind::File, inner)
                } else if matches!(scheme, "http" | "https" | "file") {
                    if has_archive_extension(rest) {
                        (SourceKind::Tarball, scheme)
                    } else {
                        (SourceKind::File, scheme)
                    }
                } else {
                    return Err(FlakeRefError::UnsupportedScheme(scheme.to_owned()));
                };
                if !matches!(inner_scheme, "http" | "https" | "ssh" | "file" | "git") {
                    return Err(FlakeRefError::UnsupportedScheme(scheme.to_owned()));
                }
                put("type", kind.as_str());
                let mut kept: Vec<(String, String)> = Vec::new();
                for (k, v) in &query {
                    match (kind, k.as_str()) {
                        (SourceKind::Git | SourceKind::Mercurial, "rev" | "ref") => put(k, v),
                        (SourceKind::Git, "shallow" | "submodules") => {}
                        (SourceKind::Tarball | SourceKind::File, "narHash") => put(k, v),
                        (_, "dir") => {}
                        _ => kept.push((k.clone(), v.clone())),
                    }
                }
                let mut inner_url = format!("{inner_scheme}:{rest}");
                if !kept.is_empty() {
                    inner_url.push('?');
                    inner_url.push_str(&encode_query(kept.iter().map(|(k, v)| (k, v))));
                }
                put("url", &inner_url);
                let mut r = FlakeRef { attrs };
                if kind == SourceKind::Git {
                    for (k, v) in &query {
                        if k == "shallow" || k == "submodules" {
                            r.attrs.insert(k.clone(), AttrValue::Bool(v == "1"));
                        }
                    }
                }
                r.add_dir(&query);
                Ok(r)
            }
        }
    }

    fn add_dir(&mut self, query: &[(String, String)]) {
        if let Some((_, dir)) = query.iter().find(|(k, _)| k == "dir") {
            if !dir.is_empty() {
                self.attrs
                    .insert("dir".to_owned(), AttrValue::Str(dir.clone()));
            }
        }
    }

    fn add_path_query(&mut self, query: &[(String, String)]) {
        for (k, v) in query {
            match k.as_str() {
                "rev" | "narHash" => {
                    self.attrs.insert(k.clone(), AttrValue::Str(v.clone()));
                }
                "revCount" | "lastModified" => {
                    if let Ok(n) = v.parse() {
                        self.attrs.insert(k.clone(), AttrValue::Int(n));
                    }
                }
                _ => {}
            }
        }
    }

    /// Renders the reference as a URL, the way Nix 2.8 prints it (`nix flake metadata`'s
    /// input tree): `github:NixOS/nixpkgs/<rev>`, `git+file:///src?ref=main&rev=<rev>`,
    /// `path:/dir?lastModified=…&narHash=…`.
    pub fn to_url(&self) -> String {
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        if let Some(dir) = self.dir() {
            query.insert("dir".to_owned(), dir.to_owned());
        }
        let base = match self.kind() {
            Some(k) if k.is_forge() => {
                let mut path = format!(
                    "{}/{}",
                    self.owner().unwrap_or_default(),
                    self.repo().unwrap_or_default()
                );
                // Nix never prints both; the commit is the more exact of the two.
                if let Some(rev) = self.rev() {
                    path.push('/');
                    path.push_str(rev);
                } else if let Some(r) = self.git_ref() {
                    path.push('/');
                    path.push_str(r);
                }
                if let Some(host) = self.str_attr("host") {
                    query.insert("host".to_owned(), host.to_owned());
                }
                format!("{}:{path}", k.as_str())
            }
            Some(kind @ (SourceKind::Git | SourceKind::Mercurial)) => {
                let url = self.url().unwrap_or_default();
                let (url, existing) = split_query(url);
                query.extend(existing);
                if let Some(rev) = self.rev() {
                    query.insert("rev".to_owned(), rev.to_owned());
                }
                if let Some(r) = self.git_ref() {
                    query.insert("ref".to_owned(), r.to_owned());
                }
                if kind == SourceKind::Git && self.bool_attr("shallow") == Some(true) {
                    query.insert("shallow".to_owned(), "1".to_owned());
                }
                let prefix = if kind == SourceKind::Git { "git" } else { "hg" };
                if kind == SourceKind::Git && url.starts_with("git:") {
                    url.to_owned()
                } else {
                    format!("{prefix}+{url}")
                }
            }
            Some(SourceKind::Path) => {
                for (k, v) in &self.attrs {
                    if !matches!(k.as_str(), "type" | "path" | "dir") {
                        query.insert(k.clone(), v.to_string());
                    }
                }
                format!("path:{}", self.path().unwrap_or_default())
            }
            Some(kind @ (SourceKind::Tarball | SourceKind::File)) => {
                let url = self.url().unwrap_or_default();
                let (url, existing) = split_query(url);
                query.extend(existing);
                if let Some(h) = self.nar_hash() {
                    query.insert("narHash".to_owned(), h.to_owned());
                }
                // Prefix only when the bare URL would be read as the other kind.
                let ambiguous = match kind {
                    SourceKind::Tarball => !has_archive_extension(url),
                    _ => has_archive_extension(url),
                };
                if ambiguous {
                    format!("{}+{url}", kind.as_str())
                } else {
                    url.to_owned()
                }
            }
            Some(SourceKind::Indirect) => {
                let mut s = format!("flake:{}", self.str_attr("id").unwrap_or_default());
                if let Some(r) = self.git_ref() {
                    s.push('/');
                    s.push_str(r);
                }
                if let Some(rev) = self.rev() {
                    s.push('/');
                    s.push_str(rev);
                }
                s
            }
            _ => {
                // Unknown kind: show the attributes rather than invent a URL.
                for (k, v) in &self.attrs {
                    if k != "type" {
                        query.insert(k.clone(), v.to_string());
                    }
                }
                format!("{}:", self.type_name().unwrap_or("unknown"))
            }
        };
        if query.is_empty() {
            base
        } else {
            format!("{base}?{}", encode_query(query.iter()))
        }
    }
}

fn indirect(path: &str, query: &[(String, String)], url: &str) -> Result<FlakeRef, FlakeRefError> {
    let segments: Vec<&str> = path.split('/').collect();
    let id = segments[0];
    let valid_id = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_id || segments.len() > 3 {
        return Err(FlakeRefError::Invalid {
            url: url.to_owned(),
            why: "it is neither a URL nor a flake registry name",
        });
    }
    let mut r = FlakeRef::from_attrs([
        ("type", AttrValue::Str("indirect".into())),
        ("id", AttrValue::Str(id.into())),
    ]);
    match segments.len() {
        2 if is_commit_hash(segments[1]) => {
            r.attrs
                .insert("rev".into(), AttrValue::Str(segments[1].into()));
        }
        2 => {
            r.attrs
                .insert("ref".into(), AttrValue::Str(segments[1].into()));
        }
        3 => {
            r.attrs
                .insert("ref".into(), AttrValue::Str(segments[1].into()));
            r.attrs
                .insert("rev".into(), AttrValue::Str(segments[2].into()));
        }
        _ => {}
    }
    r.add_dir(query);
    Ok(r)
}

/// The URL scheme (`github`, `git+https`), if `s` starts with one.
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_archive_extension(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    [
        ".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst",
    ]
    .iter()
    .any(|ext| path.ends_with(ext))
}

fn split_query(url: &str) -> (&str, Vec<(String, String)>) {
    match url.split_once('?') {
        Some((u, q)) => (u, decode_query(q)),
        None => (url, Vec::new()),
    }
}

fn decode_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Nix 2.8's `percentEncode`: unreserved and sub-delimiter characters stay, the rest become
/// lowercase `%xx`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn encode_query<'a, I, K, V>(pairs: I) -> String
where
    I: Iterator<Item = (K, V)>,
    K: AsRef<str> + 'a,
    V: AsRef<str> + 'a,
{
    pairs
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode(k.as_ref()),
                percent_encode(v.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check_parse(url: &str, expect: Expect) {
        let rendered = match FlakeRef::parse_url(url) {
            Ok(r) => r
                .attrs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&rendered);
    }

    #[test]
    fn parses_forge_urls() {
        check_parse(
            "github:NixOS/nixpkgs/nixos-unstable",
            expect!["owner=NixOS ref=nixos-unstable repo=nixpkgs type=github"],
        );
        check_parse(
            "github:NixOS/nixpkgs/5ed481943351e9fd354aeb557679624224de38d5",
            expect![
                "owner=NixOS repo=nixpkgs rev=5ed481943351e9fd354aeb557679624224de38d5 type=github"
            ],
        );
        check_parse(
            "github:NixOS/nixpkgs?dir=lib&ref=release/23.11",
            expect!["dir=lib owner=NixOS ref=release/23.11 repo=nixpkgs type=github"],
        );
        check_parse(
            "gitlab:foo/bar/feature/x",
            expect!["owner=foo ref=feature/x repo=bar type=gitlab"],
        );
        check_parse(
            "sourcehut:~sircmpwn/hare",
            expect!["owner=~sircmpwn repo=hare type=sourcehut"],
        );
        check_parse(
            "github:NixOS",
            expect!["error: `github:NixOS` needs the form `github:OWNER/REPO[/REF-OR-REV]`"],
        );
    }

    #[test]
    fn parses_git_path_tarball_file_and_indirect() {
        check_parse(
            "git+file:///tmp/flkgen/gitdep?ref=main",
            expect!["ref=main type=git url=file:///tmp/flkgen/gitdep"],
        );
        check_parse(
            "git+https://example.org/r.git?ref=v1&submodules=1&foo=bar",
            expect!["ref=v1 submodules=1 type=git url=https://example.org/r.git?foo=bar"],
        );
        check_parse(
            "hg+https://hg.example.org/r",
            expect!["type=mercurial url=https://hg.example.org/r"],
        );
        check_parse(
            "path:/tmp/flkgen/data",
            expect!["path=/tmp/flkgen/data type=path"],
        );
        check_parse("./sub", expect!["path=./sub type=path"]);
        check_parse(
            "https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz",
            expect!["type=tarball url=https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz"],
        );
        check_parse(
            "https://example.org/flake.nix",
            expect!["type=file url=https://example.org/flake.nix"],
        );
        check_parse(
            "tarball+https://example.org/src",
            expect!["type=tarball url=https://example.org/src"],
        );
        check_parse("nixpkgs", expect!["id=nixpkgs type=indirect"]);
        check_parse(
            "flake:nixpkgs/nixos-23.05",
            expect!["id=nixpkgs ref=nixos-23.05 type=indirect"],
        );
        check_parse(
            "svn+https://x",
            expect!["error: unsupported flake reference scheme `svn+https`"],
        );
        check_parse(
            "not a ref",
            expect!["error: `not a ref` is not a valid flake reference: it is neither a URL nor a flake registry name"],
        );
    }

    #[test]
    fn renders_urls_like_nix_2_8() {
        let path = FlakeRef::from_attrs([
            ("type", AttrValue::Str("path".into())),
            ("path", AttrValue::Str("/tmp/flkgen/data".into())),
            ("lastModified", AttrValue::Int(1704067200)),
            (
                "narHash",
                AttrValue::Str("sha256-i9jJgC+rnkiRG+QQ31i/KRlnOwbAnAZM/cvj73cukwU=".into()),
            ),
        ]);
        expect!["path:/tmp/flkgen/data?lastModified=1704067200&narHash=sha256-i9jJgC+rnkiRG+QQ31i%2fKRlnOwbAnAZM%2fcvj73cukwU="]
            .assert_eq(&path.to_url());
        let git = FlakeRef::from_attrs([
            ("type", AttrValue::Str("git".into())),
            ("url", AttrValue::Str("file:///tmp/flkgen/gitdep".into())),
            ("ref", AttrValue::Str("main".into())),
            (
                "rev",
                AttrValue::Str("c32b0a96c9860e4d07c3aa72fad331f040fe5569".into()),
            ),
            ("revCount", AttrValue::Int(1)),
        ]);
        expect![
            "git+file:///tmp/flkgen/gitdep?ref=main&rev=c32b0a96c9860e4d07c3aa72fad331f040fe5569"
        ]
        .assert_eq(&git.to_url());
        let gh = FlakeRef::parse_url("github:NixOS/nixpkgs/nixos-unstable?dir=lib").unwrap();
        expect!["github:NixOS/nixpkgs/nixos-unstable?dir=lib"].assert_eq(&gh.to_url());
        for url in [
            "https://example.org/flake.nix",
            "https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz",
            "tarball+https://example.org/src",
            "git+https://example.org/r.git?ref=v1",
            "flake:nixpkgs/nixos-23.05",
            "hg+https://hg.example.org/r",
        ] {
            assert_eq!(FlakeRef::parse_url(url).unwrap().to_url(), url);
        }
    }

    #[test]
    fn locked_means_pinned_by_rev_or_nar_hash() {
        let gh =
            FlakeRef::parse_url("github:a/b/0123456789012345678901234567890123456789").unwrap();
        assert!(gh.is_locked());
        assert!(!FlakeRef::parse_url("github:a/b/main").unwrap().is_locked());
        assert!(!FlakeRef::parse_url("path:/x").unwrap().is_locked());
        assert!(FlakeRef::parse_url("path:/x?narHash=sha256-x")
            .unwrap()
            .is_locked());
        assert!(!FlakeRef::parse_url("nixpkgs").unwrap().is_locked());
    }
}
