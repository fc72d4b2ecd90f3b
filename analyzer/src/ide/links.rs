//! Document links: relative/absolute path literals, URLs in strings and comments, and
//! flake references (`github:owner/repo/ref`, `gitlab:…`, `sourcehut:…`, `git+https://…`).

use crate::db::{self, Db, SourceFile};
use crate::ide::{TextRange, TextSize};
use crate::syntax::SyntaxKind;

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// A file by absolute path (a directory means its `default.nix`; the server checks).
    File(String),
    /// A web address.
    Url(String),
}

/// One link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The linked text.
    pub range: TextRange,
    /// The target.
    pub target: LinkTarget,
    /// Shown on hover.
    pub tooltip: Option<String>,
}

/// Links of a file.
pub fn document_links(db: &dyn Db, file: SourceFile) -> Vec<Link> {
    use SyntaxKind::*;
    let root = db::parse(db, file).syntax();
    let mut out = Vec::new();
    for t in root
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        match t.kind() {
            TOKEN_PATH => {
                // Interpolated paths have fragments after this token: skip those.
                let whole = t.parent().is_some_and(|p| p.text_range() == t.text_range());
                if whole {
                    if let Some(path) = db::resolve_path(file.path(db), t.text()) {
                        out.push(Link {
                            range: t.text_range(),
                            target: LinkTarget::File(path),
                            tooltip: None,
                        });
                    }
                }
            }
            TOKEN_URI => out.push(Link {
                range: t.text_range(),
                target: LinkTarget::Url(t.text().to_string()),
                tooltip: None,
            }),
            TOKEN_STR_CONTENT | TOKEN_COMMENT => scan_text(
                t.text(),
                t.text_range().start(),
                t.kind() == TOKEN_STR_CONTENT,
                &mut out,
            ),
            _ => {}
        }
    }
    out
}

/// Finds URLs (and, in strings, flake references) inside a piece of text.
fn scan_text(text: &str, base: TextSize, is_string: bool, out: &mut Vec<Link>) {
    let is_url_char = |c: char| {
        !c.is_whitespace()
            && !matches!(
                c,
                '"' | '\'' | '<' | '>' | '`' | ')' | '(' | '$' | '{' | '}'
            )
    };
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let scheme = [
            "https://",
            "http://",
            "github:",
            "gitlab:",
            "sourcehut:",
            "git+https://",
        ]
        .into_iter()
        .find(|s| {
            rest.starts_with(s)
                && (i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '+'))
        });
        let Some(scheme) = scheme else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let len = rest.find(|c: char| !is_url_char(c)).unwrap_or(rest.len());
        let word = rest[..len].trim_end_matches(['.', ',', ';', ':']);
        let target = match scheme {
            "https://" | "http://" => Some(word.to_string()),
            _ if !is_string => None,
            "git+https://" => Some(word.trim_start_matches("git+").to_string()),
            _ => flake_url(word),
        };
        if let Some(url) = target {
            let start = base + TextSize::from(i as u32);
            out.push(Link {
                range: TextRange::at(start, TextSize::of(word)),
                tooltip: (url != word).then(|| url.clone()),
                target: LinkTarget::Url(url),
            });
        }
        i += len.max(1);
    }
}

/// The web page of a `github:`/`gitlab:`/`sourcehut:` flake reference.
fn flake_url(reference: &str) -> Option<String> {
    let (scheme, rest) = reference.split_once(':')?;
    let rest = rest.split('?').next()?;
    let mut parts = rest.splitn(3, '/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let repo = parts.next().filter(|s| !s.is_empty())?;
    let git_ref = parts.next();
    let host = match scheme {
        "github" => "https://github.com",
        "gitlab" => "https://gitlab.com",
        "sourcehut" => "https://git.sr.ht",
        _ => return None,
    };
    Some(match git_ref {
        Some(r) => format!("{host}/{owner}/{repo}/tree/{r}"),
        None => format!("{host}/{owner}/{repo}"),
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::ide::fixture::Fixture;

    #[test]
    fn paths_urls_and_flake_refs() {
        let f = Fixture::new(
            "//- /w/flake.nix\n# see https://nixos.org/manual.\n{ inputs.nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.05\"; x = ./mod.nix; y = \"git+https://example.org/r.git\"; }\n",
        );
        let shown: Vec<String> = super::document_links(&f.db, f.files[0])
            .into_iter()
            .map(|l| format!("{} -> {:?}", f.text_of(l.range), l.target))
            .collect();
        expect![[r#"
            https://nixos.org/manual -> Url("https://nixos.org/manual")
            github:NixOS/nixpkgs/nixos-24.05 -> Url("https://github.com/NixOS/nixpkgs/tree/nixos-24.05")
            ./mod.nix -> File("/w/mod.nix")
            git+https://example.org/r.git -> Url("https://example.org/r.git")"#]]
        .assert_eq(&shown.join("\n"));
    }
}
