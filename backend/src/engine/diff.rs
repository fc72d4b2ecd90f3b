//! The difference between two closures, like `nvd diff`: packages added, removed and
//! changed version (from the `name-version` in store path names), and the size change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::store_path_name;

/// One path of a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosurePath {
    /// The store path.
    pub path: PathBuf,
    /// Its NAR size in bytes.
    pub nar_size: u64,
}

/// A package whose versions differ between the two closures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    /// The package name.
    pub name: String,
    /// Versions in the old closure.
    pub old: Vec<String>,
    /// Versions in the new closure.
    pub new: Vec<String>,
}

/// A package only one side has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// Its versions (empty string for paths without a version).
    pub versions: Vec<String>,
}

/// What changed between two closures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosureDiff {
    /// Packages whose versions changed.
    pub changed: Vec<VersionChange>,
    /// Packages only in the new closure.
    pub added: Vec<Package>,
    /// Packages only in the old closure.
    pub removed: Vec<Package>,
    /// Paths in the old closure.
    pub old_paths: usize,
    /// Paths in the new closure.
    pub new_paths: usize,
    /// Total NAR size of the old closure.
    pub old_size: u64,
    /// Total NAR size of the new closure.
    pub new_size: u64,
}

/// Splits `name-version` the way Nix's `parseDrvName` does: the version starts at the
/// first `-` followed by a non-letter.
pub fn parse_name_version(name: &str) -> (&str, &str) {
    let bytes = name.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'-' && i + 1 < bytes.len() && !bytes[i + 1].is_ascii_alphabetic() {
            return (&name[..i], &name[i + 1..]);
        }
    }
    (name, "")
}

fn packages(closure: &[ClosurePath]) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in closure {
        let name = store_path_name(&p.path.to_string_lossy()).to_string();
        if name.ends_with(".drv") {
            continue;
        }
        let (n, v) = parse_name_version(&name);
        map.entry(n.to_string()).or_default().insert(v.to_string());
    }
    map
}

impl ClosureDiff {
    /// Compares two closures.
    pub fn new(old: &[ClosurePath], new: &[ClosurePath]) -> Self {
        let (a, b) = (packages(old), packages(new));
        let mut diff = ClosureDiff {
            changed: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            old_paths: old.len(),
            new_paths: new.len(),
            old_size: old.iter().map(|p| p.nar_size).sum(),
            new_size: new.iter().map(|p| p.nar_size).sum(),
        };
        for (name, versions) in &a {
            match b.get(name) {
                None => diff.removed.push(Package {
                    name: name.clone(),
                    versions: versions.iter().cloned().collect(),
                }),
                Some(nv) if nv != versions => diff.changed.push(VersionChange {
                    name: name.clone(),
                    old: versions.iter().cloned().collect(),
                    new: nv.iter().cloned().collect(),
                }),
                Some(_) => {}
            }
        }
        for (name, versions) in &b {
            if !a.contains_key(name) {
                diff.added.push(Package {
                    name: name.clone(),
                    versions: versions.iter().cloned().collect(),
                });
            }
        }
        diff
    }

    /// Whether no package was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }

    /// One line: "1 package changed (greeting 1.0 → 1.1), 1 added (extra 2.0), +1.2 KiB".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let plural = |n: usize| if n == 1 { "package" } else { "packages" };
        if !self.changed.is_empty() {
            let list: Vec<String> = self
                .changed
                .iter()
                .map(|c| format!("{} {} → {}", c.name, versions(&c.old), versions(&c.new)))
                .collect();
            parts.push(format!(
                "{} {} changed ({})",
                self.changed.len(),
                plural(self.changed.len()),
                list.join(", ")
            ));
        }
        for (what, pkgs) in [("added", &self.added), ("removed", &self.removed)] {
            if !pkgs.is_empty() {
                let list: Vec<String> = pkgs.iter().map(package).collect();
                parts.push(format!(
                    "{} {} {what} ({})",
                    pkgs.len(),
                    plural(pkgs.len()),
                    list.join(", ")
                ));
            }
        }
        if parts.is_empty() {
            parts.push("no package changes".into());
        }
        parts.push(signed_size(self.new_size as i128 - self.old_size as i128));
        parts.join(", ")
    }
}

fn versions(v: &[String]) -> String {
    let shown: Vec<&str> = v
        .iter()
        .map(|s| if s.is_empty() { "∅" } else { s.as_str() })
        .collect();
    shown.join(", ")
}

fn package(p: &Package) -> String {
    let v = versions(&p.versions);
    if v == "∅" {
        p.name.clone()
    } else {
        format!("{} {v}", p.name)
    }
}

/// Bytes as `12.3 KiB`.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

fn signed_size(delta: i128) -> String {
    let sign = if delta < 0 { "-" } else { "+" };
    format!("{sign}{}", human_size(delta.unsigned_abs() as u64))
}

impl fmt::Display for ClosureDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.changed.is_empty() {
            writeln!(f, "Version changes:")?;
            for c in &self.changed {
                writeln!(
                    f,
                    "  [C] {}: {} → {}",
                    c.name,
                    versions(&c.old),
                    versions(&c.new)
                )?;
            }
        }
        if !self.added.is_empty() {
            writeln!(f, "Added packages:")?;
            for p in &self.added {
                writeln!(f, "  [A] {}", package(p))?;
            }
        }
        if !self.removed.is_empty() {
            writeln!(f, "Removed packages:")?;
            for p in &self.removed {
                writeln!(f, "  [R] {}", package(p))?;
            }
        }
        if self.is_empty() {
            writeln!(f, "No version or package changes.")?;
        }
        write!(
            f,
            "Closure: {} → {} paths, {} → {} ({})",
            self.old_paths,
            self.new_paths,
            human_size(self.old_size),
            human_size(self.new_size),
            signed_size(self.new_size as i128 - self.old_size as i128)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn closure(paths: &[(&str, u64)]) -> Vec<ClosurePath> {
        paths
            .iter()
            .map(|(p, s)| ClosurePath {
                path: PathBuf::from(format!("/nix/store/{:032}-{p}", 0)),
                nar_size: *s,
            })
            .collect()
    }

    #[test]
    fn name_version() {
        let cases: Vec<_> = [
            "hello-2.12.1",
            "firefox-128.0",
            "home-manager-generation",
            "nixos-system-demo-24.05pre-git",
            "python3.11-requests-2.31.0",
            "etc",
            "gtk+3-3.24",
        ]
        .iter()
        .map(|n| parse_name_version(n))
        .collect();
        expect![[r#"[("hello", "2.12.1"), ("firefox", "128.0"), ("home-manager-generation", ""), ("nixos-system-demo", "24.05pre-git"), ("python3.11-requests", "2.31.0"), ("etc", ""), ("gtk+3", "3.24")]"#]]
        .assert_eq(&format!("{cases:?}"));
    }

    #[test]
    fn diff_of_two_closures() {
        let old = closure(&[
            ("greeting-1.0", 1000),
            ("motd-2.0", 500),
            ("gone-1", 10),
            ("home", 100),
        ]);
        let new = closure(&[
            ("greeting-1.1", 1200),
            ("motd-2.0", 500),
            ("extra-0.3", 2048),
            ("home", 100),
        ]);
        let d = ClosureDiff::new(&old, &new);
        expect!["1 package changed (greeting 1.0 → 1.1), 1 package added (extra 0.3), 1 package removed (gone 1), +2.2 KiB"]
            .assert_eq(&d.summary());
        expect![[r#"
            Version changes:
              [C] greeting: 1.0 → 1.1
            Added packages:
              [A] extra 0.3
            Removed packages:
              [R] gone 1
            Closure: 4 → 4 paths, 1.6 KiB → 3.8 KiB (+2.2 KiB)"#]]
        .assert_eq(&d.to_string());
        let same = ClosureDiff::new(&old, &old);
        assert!(same.is_empty());
        expect!["no package changes, +0 B"].assert_eq(&same.summary());
    }
}
