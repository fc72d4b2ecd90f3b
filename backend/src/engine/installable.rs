//! What to build: `FLAKEDIR#ATTR` or `FILE -A ATTR`, and what kind of configuration it is.

use std::fmt;
use std::path::{Path, PathBuf};

/// A thing the user asks to build or apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installable {
    /// `FLAKEREF#ATTR`: a flake (a local folder or any flake reference) and an attribute path.
    Flake {
        /// The part before `#` (`.` when empty).
        flake_ref: String,
        /// The attribute path after `#`, as written.
        attr: String,
    },
    /// `FILE -A ATTR`: a Nix file and an attribute path in it (empty: the file's value).
    File {
        /// The Nix file.
        file: PathBuf,
        /// The attribute path (`-A`), empty for the whole file.
        attr: String,
    },
}

/// What kind of configuration an installable names; decides what gets built,
/// how it is activated and which profile it goes to by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallableKind {
    /// `nixosConfigurations.<host>`: builds `config.system.build.toplevel`.
    NixosSystem {
        /// The host name.
        host: String,
    },
    /// `homeConfigurations.<name>`: builds `activationPackage`.
    Home {
        /// The configuration name.
        name: String,
    },
    /// Anything else: built as is.
    Other,
}

/// Why an installable could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallableError {
    /// Nothing after the `#`.
    #[error("`{0}` names no attribute after `#`: write e.g. `{1}#nixosConfigurations.HOST` or `{1}#homeConfigurations.NAME`")]
    MissingAttr(String, String),
    /// Neither a flake reference with `#` nor a file.
    #[error("`{0}` is not an installable: write `FLAKEDIR#ATTR` (e.g. `.#homeConfigurations.NAME`) or `FILE -A ATTR`")]
    Unrecognised(String),
    /// `-A` given together with a flake reference.
    #[error("`-A` goes with a file (`FILE -A ATTR`), not with the flake reference `{0}`")]
    AttrWithFlake(String),
    /// An attribute path with an unterminated quote.
    #[error("attribute path `{0}` has an unterminated quote")]
    BadAttrPath(String),
}

impl Installable {
    /// Parses the command line form: `spec` alone (`FLAKEDIR#ATTR`, or a file), or
    /// `spec` with the `-A` attribute path (`FILE -A ATTR`).
    pub fn parse(spec: &str, file_attr: Option<&str>) -> Result<Self, InstallableError> {
        if let Some(attr) = file_attr {
            if spec.contains('#') {
                return Err(InstallableError::AttrWithFlake(spec.to_string()));
            }
            split_attr_path(attr)?;
            return Ok(Installable::File {
                file: PathBuf::from(spec),
                attr: attr.to_string(),
            });
        }
        if let Some((flake_ref, attr)) = spec.split_once('#') {
            let flake_ref = if flake_ref.is_empty() { "." } else { flake_ref };
            if attr.is_empty() {
                return Err(InstallableError::MissingAttr(
                    spec.to_string(),
                    flake_ref.to_string(),
                ));
            }
            split_attr_path(attr)?;
            return Ok(Installable::Flake {
                flake_ref: flake_ref.to_string(),
                attr: attr.to_string(),
            });
        }
        if spec.ends_with(".nix") || Path::new(spec).is_file() {
            return Ok(Installable::File {
                file: PathBuf::from(spec),
                attr: String::new(),
            });
        }
        Err(InstallableError::Unrecognised(spec.to_string()))
    }

    /// The attribute path as written.
    pub fn attr(&self) -> &str {
        match self {
            Installable::Flake { attr, .. } | Installable::File { attr, .. } => attr,
        }
    }

    /// The kind of configuration, from the attribute path's shape.
    pub fn kind(&self) -> InstallableKind {
        let segments = split_attr_path(self.attr()).unwrap_or_default();
        match segments.as_slice() {
            [top, host, rest @ ..]
                if top == "nixosConfigurations"
                    && (rest.is_empty() || rest == ["config", "system", "build", "toplevel"]) =>
            {
                InstallableKind::NixosSystem { host: host.clone() }
            }
            [top, name, rest @ ..]
                if top == "homeConfigurations"
                    && (rest.is_empty() || rest == ["activationPackage"]) =>
            {
                InstallableKind::Home { name: name.clone() }
            }
            _ => InstallableKind::Other,
        }
    }

    /// The attribute path that is actually built: a configuration's top level.
    pub fn build_attr(&self) -> String {
        let attr = self.attr();
        let bare = split_attr_path(attr).map(|s| s.len() == 2).unwrap_or(false);
        match self.kind() {
            InstallableKind::NixosSystem { .. } if bare => {
                format!("{attr}.config.system.build.toplevel")
            }
            InstallableKind::Home { .. } if bare => format!("{attr}.activationPackage"),
            _ => attr.to_string(),
        }
    }

    /// The local folder of a path flake (`.`, `./dir`, `/abs`, `path:/abs`), made absolute.
    pub fn local_flake_dir(&self) -> Option<PathBuf> {
        let Installable::Flake { flake_ref, .. } = self else {
            return None;
        };
        let path = if let Some(rest) = flake_ref.strip_prefix("path:") {
            rest.split('?').next().unwrap_or(rest)
        } else if flake_ref.contains(':') {
            return None;
        } else {
            flake_ref.as_str()
        };
        let p = Path::new(path);
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(p)
        })
    }
}

impl fmt::Display for Installable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Installable::Flake { flake_ref, attr } => write!(f, "{flake_ref}#{attr}"),
            Installable::File { file, attr } if attr.is_empty() => write!(f, "{}", file.display()),
            Installable::File { file, attr } => write!(f, "{} -A {attr}", file.display()),
        }
    }
}

/// Splits `a."b.c".d` into `["a", "b.c", "d"]`.
pub fn split_attr_path(attr: &str) -> Result<Vec<String>, InstallableError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in attr.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(InstallableError::BadAttrPath(attr.to_string()));
    }
    if !attr.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(spec: &str, attr: Option<&str>, expect: Expect) {
        let actual = match Installable::parse(spec, attr) {
            Ok(i) => format!("{i} | {:?} | builds {}", i.kind(), i.build_attr()),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn flake_configurations() {
        check(
            ".#nixosConfigurations.host",
            None,
            expect![[
                r#".#nixosConfigurations.host | NixosSystem { host: "host" } | builds nixosConfigurations.host.config.system.build.toplevel"#
            ]],
        );
        check(
            "/etc/nixos#homeConfigurations.alice",
            None,
            expect![[
                r#"/etc/nixos#homeConfigurations.alice | Home { name: "alice" } | builds homeConfigurations.alice.activationPackage"#
            ]],
        );
        check(
            "#homeConfigurations.\"alice@box\".activationPackage",
            None,
            expect![[
                r#".#homeConfigurations."alice@box".activationPackage | Home { name: "alice@box" } | builds homeConfigurations."alice@box".activationPackage"#
            ]],
        );
        check(
            "github:o/r#nixosConfigurations.a.config.system.build.vm",
            None,
            expect!["github:o/r#nixosConfigurations.a.config.system.build.vm | Other | builds nixosConfigurations.a.config.system.build.vm"],
        );
        check(
            ".#packages.x86_64-linux.hello",
            None,
            expect![".#packages.x86_64-linux.hello | Other | builds packages.x86_64-linux.hello"],
        );
    }

    #[test]
    fn files() {
        check(
            "default.nix",
            Some("hello"),
            expect!["default.nix -A hello | Other | builds hello"],
        );
        check("sys.nix", None, expect!["sys.nix | Other | builds "]);
        check(
            "./c.nix",
            Some("nixosConfigurations.x"),
            expect![[
                r#"./c.nix -A nixosConfigurations.x | NixosSystem { host: "x" } | builds nixosConfigurations.x.config.system.build.toplevel"#
            ]],
        );
    }

    #[test]
    fn errors() {
        check(
            "./dir#",
            None,
            expect!["error: `./dir#` names no attribute after `#`: write e.g. `./dir#nixosConfigurations.HOST` or `./dir#homeConfigurations.NAME`"],
        );
        check(
            "nonsense",
            None,
            expect!["error: `nonsense` is not an installable: write `FLAKEDIR#ATTR` (e.g. `.#homeConfigurations.NAME`) or `FILE -A ATTR`"],
        );
        check(
            ".#a",
            Some("b"),
            expect![
                "error: `-A` goes with a file (`FILE -A ATTR`), not with the flake reference `.#a`"
            ],
        );
        check(
            ".#a.\"b",
            None,
            expect![[r#"error: attribute path `a."b` has an unterminated quote"#]],
        );
    }

    #[test]
    fn local_flake_dirs() {
        let i = Installable::parse("/etc/nixos#x", None).unwrap();
        assert_eq!(i.local_flake_dir(), Some(PathBuf::from("/etc/nixos")));
        let i = Installable::parse("path:/a/b?rev=1#x", None).unwrap();
        assert_eq!(i.local_flake_dir(), Some(PathBuf::from("/a/b")));
        let i = Installable::parse("github:a/b#x", None).unwrap();
        assert_eq!(i.local_flake_dir(), None);
        let i = Installable::parse(".#x", None).unwrap();
        assert_eq!(
            i.local_flake_dir(),
            Some(std::env::current_dir().unwrap().join("."))
        );
    }
}
