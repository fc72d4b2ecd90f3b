//! The option schema as plain data: what a module tree declares, rendered the way the
//! NixOS manual shows it. The server fills it (from a static extraction or a cache) and
//! the IDE features read it.

use std::collections::BTreeMap;
use std::fmt;

use rowan::TextRange;

/// One segment of an option path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// A literal attribute name.
    Name(String),
    /// Any attribute name: the element of an `attrsOf (submodule …)` (`<name>`).
    AnyName,
    /// Any list element: the element of a `listOf (submodule …)` (`*`).
    AnyIndex,
}

impl Segment {
    /// Reads one segment as the manual prints it (`<name>` and `*` are the placeholders).
    pub fn parse(s: &str) -> Segment {
        match s {
            "*" => Segment::AnyIndex,
            _ if s.starts_with('<') && s.ends_with('>') && s.len() > 2 => Segment::AnyName,
            _ => Segment::Name(s.to_owned()),
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Name(n) if is_plain_name(n) => f.write_str(n),
            Segment::Name(n) => write!(f, "\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\"")),
            Segment::AnyName => f.write_str("<name>"),
            Segment::AnyIndex => f.write_str("*"),
        }
    }
}

/// Whether `n` can be written as a bare Nix identifier in an attribute path.
pub fn is_plain_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
}

/// A full option path such as `programs.git.includes.*.path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionPath(pub Vec<Segment>);

impl OptionPath {
    /// Parses a dotted path as the manual prints it (no quoting support beyond `"a.b"`).
    pub fn parse(s: &str) -> OptionPath {
        let mut segs = Vec::new();
        let mut cur = String::new();
        // A quoted segment is always a literal name (`"*"` is not the list wildcard).
        let mut was_quoted = false;
        let mut quoted = false;
        let mut chars = s.chars();
        let finish = |cur: &mut String, was_quoted: &mut bool, segs: &mut Vec<Segment>| {
            let text = std::mem::take(cur);
            segs.push(if std::mem::take(was_quoted) {
                Segment::Name(text)
            } else {
                Segment::parse(&text)
            });
        };
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    quoted = !quoted;
                    was_quoted = true;
                }
                '\\' if quoted => cur.extend(chars.next()),
                '.' if !quoted => finish(&mut cur, &mut was_quoted, &mut segs),
                c => cur.push(c),
            }
        }
        if !cur.is_empty() || was_quoted || !segs.is_empty() {
            finish(&mut cur, &mut was_quoted, &mut segs);
        }
        OptionPath(segs)
    }

    /// Whether a concrete path (names only) is an instance of this declared path.
    pub fn matches(&self, concrete: &[String]) -> bool {
        self.0.len() == concrete.len()
            && self.0.iter().zip(concrete).all(|(s, c)| match s {
                Segment::Name(n) => n == c,
                Segment::AnyName | Segment::AnyIndex => true,
            })
    }
}

impl fmt::Display for OptionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// The shape of an option type, enough to check literals and to offer values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeShape {
    /// `bool`
    Bool,
    /// `int` and its ranges
    Int,
    /// `float`
    Float,
    /// `number`: int or float
    Number,
    /// `str`, `lines`, `separatedString`, …
    Str,
    /// `path`
    Path,
    /// `package`: a derivation (also accepts a path-like string in practice)
    Package,
    /// `listOf t`
    List(Box<TypeShape>),
    /// `attrsOf t`, `lazyAttrsOf t`
    AttrsOf(Box<TypeShape>),
    /// `submodule` (an attribute set of declared sub-options)
    Submodule,
    /// `attrs`
    Attrs,
    /// `nullOr t`
    NullOr(Box<TypeShape>),
    /// `enum [ … ]` with the values as Nix source (`"a"`, `1`, `true`)
    Enum(Vec<String>),
    /// `either a b` / `oneOf [ … ]`
    OneOf(Vec<TypeShape>),
    /// `functionTo t`
    Function,
    /// Anything else (`anything`, `unspecified`, formats, custom types): no checks.
    Any,
}

/// The type of an option: the manual's rendering and a checkable shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionType {
    /// As the NixOS manual prints it: `list of string`, `one of "a", "b"`.
    pub description: String,
    /// What literals it accepts.
    pub shape: TypeShape,
}

impl OptionType {
    /// A type nothing is known about.
    pub fn unknown() -> OptionType {
        OptionType {
            description: "unspecified value".into(),
            shape: TypeShape::Any,
        }
    }
}

/// Where an option (or rename) is declared: a file of the source tree and a byte range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Declaration {
    /// The file, relative to the source root (`modules/programs/git.nix`).
    pub file: String,
    /// Byte range in that file (the attribute name or the `mkOption` call).
    pub range: TextRange,
}

/// One declared option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDecl {
    /// Full path, with `<name>` / `*` for submodule elements.
    pub path: OptionPath,
    /// Its type.
    pub ty: OptionType,
    /// The default as Nix source (`defaultText` when given).
    pub default: Option<String>,
    /// An example as Nix source (or Markdown for `literalMD`).
    pub example: Option<String>,
    /// Markdown description.
    pub description: Option<String>,
    /// `readOnly = true`
    pub read_only: bool,
    /// `visible = false` or below a hidden option: not offered in completion.
    pub hidden: bool,
    /// `internal = true`
    pub internal: bool,
    /// Where it is declared (first declaration).
    pub declaration: Option<Declaration>,
}

/// What happened to an option that no longer exists under its old path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShimKind {
    /// `mkRenamedOptionModule` / `mkAliasOptionModule`: use `to` instead.
    Renamed {
        /// The new path.
        to: OptionPath,
    },
    /// `mkRemovedOptionModule`: gone, with the module author's explanation.
    Removed {
        /// Replacement instructions.
        message: String,
    },
    /// `mkChangedOptionModule` / `mkMergedOptionModule`: replaced by other options.
    Changed {
        /// The options that replace it.
        to: Vec<OptionPath>,
    },
}

/// A renamed, removed or changed option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionShim {
    /// The old path.
    pub from: OptionPath,
    /// What became of it.
    pub kind: ShimKind,
    /// Where the shim is declared.
    pub declaration: Option<Declaration>,
}

/// Every option of one source tree, indexed for lookups by (concrete) path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Declared options, sorted by path.
    pub options: Vec<OptionDecl>,
    /// Renamed/removed options.
    pub shims: Vec<OptionShim>,
    /// The source root the declarations' files are relative to.
    pub root: String,
    tree: Node,
}

/// A prefix-tree node: children by segment, and the option declared exactly here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    children: BTreeMap<Segment, Node>,
    option: Option<usize>,
    shim: Option<usize>,
}

/// What a concrete path resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// A declared option.
    Option(&'a OptionDecl),
    /// A renamed/removed option.
    Shim(&'a OptionShim),
    /// A prefix of declared options (an attribute set of options).
    Prefix,
    /// Below an option whose value is free-form (e.g. `settings` of type `attrsOf anything`).
    InsideValue(&'a OptionDecl),
    /// Nothing is declared there.
    Unknown,
}

/// A candidate for the next segment after a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child<'a> {
    /// The segment's name.
    pub name: String,
    /// The option declared exactly there, if the child is an option rather than a prefix.
    pub option: Option<&'a OptionDecl>,
}

impl Schema {
    /// Builds the schema (and its index) from declarations and shims. Later duplicates of
    /// a path are dropped.
    pub fn new(root: String, mut options: Vec<OptionDecl>, mut shims: Vec<OptionShim>) -> Schema {
        options.sort_by(|a, b| a.path.cmp(&b.path));
        options.dedup_by(|b, a| a.path == b.path);
        shims.sort_by(|a, b| a.from.cmp(&b.from));
        shims.dedup_by(|b, a| a.from == b.from);
        let mut tree = Node::default();
        for (i, o) in options.iter().enumerate() {
            let node = o
                .path
                .0
                .iter()
                .fold(&mut tree, |n, s| n.children.entry(s.clone()).or_default());
            node.option = Some(i);
        }
        for (i, s) in shims.iter().enumerate() {
            let node = s
                .from
                .0
                .iter()
                .fold(&mut tree, |n, s| n.children.entry(s.clone()).or_default());
            node.shim = Some(i);
        }
        Schema {
            options,
            shims,
            root,
            tree,
        }
    }

    /// The node for a concrete path: literal names first, then the `<name>`/`*` wildcards.
    fn node(&self, concrete: &[String]) -> Option<&Node> {
        fn go<'n>(n: &'n Node, rest: &[String]) -> Option<&'n Node> {
            let Some((first, rest)) = rest.split_first() else {
                return Some(n);
            };
            if let Some(c) = n.children.get(&Segment::Name(first.clone())) {
                if let Some(found) = go(c, rest) {
                    return Some(found);
                }
            }
            for wild in [Segment::AnyName, Segment::AnyIndex] {
                if let Some(c) = n.children.get(&wild) {
                    if let Some(found) = go(c, rest) {
                        return Some(found);
                    }
                }
            }
            None
        }
        go(&self.tree, concrete)
    }

    /// What a concrete path (attribute names as written in a configuration) refers to.
    pub fn lookup(&self, concrete: &[String]) -> Lookup<'_> {
        if let Some(n) = self.node(concrete) {
            if let Some(i) = n.option {
                return Lookup::Option(&self.options[i]);
            }
            if let Some(i) = n.shim {
                return Lookup::Shim(&self.shims[i]);
            }
            return Lookup::Prefix;
        }
        // A value inside an option (`settings.foo.bar`), or below a renamed prefix.
        for len in (1..concrete.len()).rev() {
            if let Some(n) = self.node(&concrete[..len]) {
                if let Some(i) = n.option {
                    let o = &self.options[i];
                    // An `attrsOf submodule` is handled by the wildcard child; being here
                    // means the value has no declared sub-options at this depth.
                    return Lookup::InsideValue(o);
                }
                if let Some(i) = n.shim {
                    return Lookup::Shim(&self.shims[i]);
                }
                return Lookup::Unknown;
            }
        }
        Lookup::Unknown
    }

    /// The option declared at a concrete path, if any.
    pub fn option(&self, concrete: &[String]) -> Option<&OptionDecl> {
        match self.lookup(concrete) {
            Lookup::Option(o) => Some(o),
            _ => None,
        }
    }

    /// Names that may follow a concrete prefix (wildcards are not listed), hidden options
    /// left out.
    pub fn children(&self, prefix: &[String]) -> Vec<Child<'_>> {
        let Some(n) = self.node(prefix) else {
            return Vec::new();
        };
        n.children
            .iter()
            .filter_map(|(seg, child)| {
                let Segment::Name(name) = seg else {
                    return None;
                };
                let option = child.option.map(|i| &self.options[i]);
                if option.is_some_and(|o| o.hidden || o.internal) {
                    return None;
                }
                if option.is_none() && child.shim.is_some() && child.children.is_empty() {
                    return None;
                }
                Some(Child {
                    name: name.clone(),
                    option,
                })
            })
            .collect()
    }

    /// Every concrete-name path in the schema, for "did you mean" suggestions among the
    /// siblings of `prefix`.
    pub fn sibling_names(&self, prefix: &[String]) -> Vec<String> {
        self.children(prefix).into_iter().map(|c| c.name).collect()
    }

    /// The option declared at exactly this (declared) path.
    pub fn declared(&self, path: &OptionPath) -> Option<&OptionDecl> {
        self.options
            .binary_search_by(|o| o.path.cmp(path))
            .ok()
            .map(|i| &self.options[i])
    }
}
