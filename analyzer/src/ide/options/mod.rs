//! Editor features for configuration modules (`home.nix`, `configuration.nix`) against an
//! option [`Schema`]: completion, hover, goto declaration and diagnostics. Each feature is
//! a pure function over a parse, the schema and an offset; this file holds what they
//! share: where a module's configuration is and which option path each binding sets.

pub mod completion;
pub mod diagnostics;
pub mod goto;
pub mod hover;

#[cfg(test)]
mod fixture;

use rowan::TextRange;

use crate::syntax::ast::{self, AstNode, HasBindings};

/// One `a.b.c = value;` (or `inherit`) in configuration position.
#[derive(Debug, Clone)]
pub struct ConfigBinding {
    /// The full option path it sets (list elements of submodule lists as `*`).
    pub path: Vec<String>,
    /// Index in `path` of this binding's first attribute (earlier ones come from
    /// enclosing sets).
    pub first: usize,
    /// The ranges of this binding's own attribute names.
    pub segments: Vec<TextRange>,
    /// The whole binding.
    pub range: TextRange,
    /// The value, if written.
    pub value: Option<ast::Expr>,
}

/// A set in configuration position and the option path it stands for.
#[derive(Debug, Clone)]
pub struct ConfigSet {
    /// The set's range (braces included).
    pub range: TextRange,
    /// The option path of its bindings' parent.
    pub prefix: Vec<String>,
}

/// Where a module file sets options.
#[derive(Debug, Clone, Default)]
pub struct ConfigModule {
    /// Bindings in configuration position, outer before inner.
    pub bindings: Vec<ConfigBinding>,
    /// Sets in configuration position.
    pub sets: Vec<ConfigSet>,
}

impl ConfigModule {
    /// Finds the configuration of a module file: the returned set of the module function
    /// (or the file's set), its `config = { … }` when it declares `options`/`config`,
    /// inline modules of `imports`, through `let`, `with` and the `mkIf`/`mkMerge`/
    /// `mkDefault`/`mkForce`/`mkOverride` wrappers.
    pub fn of(root: &ast::Root) -> ConfigModule {
        let mut m = ConfigModule::default();
        if let Some(e) = root.expr() {
            m.module(&e);
        }
        m
    }

    fn module(&mut self, e: &ast::Expr) {
        match e {
            ast::Expr::Paren(p) => {
                if let Some(e) = p.expr() {
                    self.module(&e);
                }
            }
            ast::Expr::Lambda(l) => match l.body() {
                Some(b) => self.module(&b),
                // `{ progr }` while typing reads as a pattern without a body.
                None => self.incomplete_set(l, &[]),
            },
            ast::Expr::LetIn(l) => {
                if let Some(b) = l.body() {
                    self.module(&b);
                }
            }
            ast::Expr::With(w) => {
                if let Some(b) = w.body() {
                    self.module(&b);
                }
            }
            ast::Expr::Assert(a) => {
                if let Some(b) = a.body() {
                    self.module(&b);
                }
            }
            ast::Expr::AttrSet(s) => self.module_set(s),
            ast::Expr::Apply(_) => {
                // `lib.mkMerge [ … ]` / `lib.mkIf c { … }` as a whole module.
                if let Some((name, args)) = wrapper(e) {
                    for a in module_wrapper_args(&name, args) {
                        self.module(&a);
                    }
                }
            }
            _ => {}
        }
    }

    fn module_set(&mut self, s: &ast::AttrSet) {
        let explicit = s
            .attrpath_values()
            .any(|b| first_name(&b).is_some_and(|n| n == "config" || n == "options"));
        if !explicit {
            self.sets.push(ConfigSet {
                range: s.syntax().text_range(),
                prefix: Vec::new(),
            });
        }
        for b in s.attrpath_values() {
            let Some(name) = first_name(&b) else { continue };
            match name.as_str() {
                "imports" => {
                    if let Some(ast::Expr::List(l)) = b.value().map(strip_parens) {
                        for item in l.items() {
                            let item = strip_parens(item);
                            if matches!(item, ast::Expr::AttrSet(_) | ast::Expr::Lambda(_)) {
                                self.module(&item);
                            }
                        }
                    }
                }
                "options" | "_file" | "key" | "disabledModules" | "freeformType" => {}
                "config" if explicit => {
                    // `config = { … }` or `config.a.b = …`
                    let names = static_names(&b);
                    match names {
                        Some(names) if names.len() == 1 => {
                            if let Some(v) = b.value() {
                                self.value(&v, &[]);
                            }
                        }
                        Some(_) => self.binding(&b, &[], 1),
                        None => {}
                    }
                }
                _ if explicit => {}
                _ => self.binding(&b, &[], 0),
            }
        }
        if !explicit {
            for inh in s.inherits() {
                self.inherit(&inh, &[]);
            }
        }
    }

    /// Records a binding of a configuration set whose own path starts at `skip`.
    fn binding(&mut self, b: &ast::AttrpathValue, prefix: &[String], skip: usize) {
        let Some(attrpath) = b.attrpath() else { return };
        let mut path = prefix.to_vec();
        let mut segments = Vec::new();
        for attr in attrpath.attrs().skip(skip) {
            let Some(name) = attr.static_name() else {
                return;
            };
            path.push(name);
            segments.push(attr.syntax().text_range());
        }
        if segments.is_empty() {
            return;
        }
        let value = b.value();
        self.bindings.push(ConfigBinding {
            path: path.clone(),
            first: prefix.len(),
            segments,
            range: b.syntax().text_range(),
            value: value.clone(),
        });
        if let Some(v) = value {
            self.value(&v, &path);
        }
    }

    fn inherit(&mut self, inh: &ast::Inherit, prefix: &[String]) {
        for attr in inh.attrs() {
            let Some(name) = attr.static_name() else {
                continue;
            };
            let mut path = prefix.to_vec();
            path.push(name);
            self.bindings.push(ConfigBinding {
                path,
                first: prefix.len(),
                segments: vec![attr.syntax().text_range()],
                range: attr.syntax().text_range(),
                value: None,
            });
        }
    }

    fn set(&mut self, s: &ast::AttrSet, prefix: &[String]) {
        self.sets.push(ConfigSet {
            range: s.syntax().text_range(),
            prefix: prefix.to_vec(),
        });
        for b in s.attrpath_values() {
            self.binding(&b, prefix, 0);
        }
        for inh in s.inherits() {
            self.inherit(&inh, prefix);
        }
    }

    /// A set being typed that the parser read as a lambda pattern (`{ sign }`).
    fn incomplete_set(&mut self, l: &ast::Lambda, prefix: &[String]) {
        if let Some(ast::Param::Pattern(p)) = l.param() {
            self.sets.push(ConfigSet {
                range: p.syntax().text_range(),
                prefix: prefix.to_vec(),
            });
        }
    }

    /// A value at `path`: nested sets continue the path, wrappers are looked through, and
    /// the sets of a list are elements of a submodule list (`*`).
    fn value(&mut self, v: &ast::Expr, path: &[String]) {
        match v {
            ast::Expr::Paren(p) => {
                if let Some(e) = p.expr() {
                    self.value(&e, path);
                }
            }
            ast::Expr::AttrSet(s) => self.set(s, path),
            ast::Expr::Lambda(l) if l.body().is_none() => self.incomplete_set(l, path),
            ast::Expr::List(l) => {
                let mut elem = path.to_vec();
                elem.push("*".into());
                for item in l.items() {
                    match strip_parens(item) {
                        ast::Expr::AttrSet(s) => self.set(&s, &elem),
                        ast::Expr::Lambda(l) if l.body().is_none() => {
                            self.incomplete_set(&l, &elem)
                        }
                        _ => {}
                    }
                }
            }
            ast::Expr::Apply(_) => {
                if let Some((name, args)) = wrapper(v) {
                    for a in module_wrapper_args(&name, args) {
                        self.value(&a, path);
                    }
                }
            }
            _ => {}
        }
    }

    /// The innermost configuration set containing `offset` (strictly inside its braces).
    pub fn set_at(&self, offset: rowan::TextSize) -> Option<&ConfigSet> {
        self.sets
            .iter()
            .filter(|s| s.range.start() < offset && offset < s.range.end())
            .min_by_key(|s| s.range.len())
    }

    /// The innermost binding whose range contains `offset`.
    pub fn binding_at(&self, offset: rowan::TextSize) -> Option<&ConfigBinding> {
        self.bindings
            .iter()
            .filter(|b| b.range.contains_inclusive(offset))
            .min_by_key(|b| b.range.len())
    }

    /// The binding segment under `offset` and the option path up to it.
    pub fn path_at(&self, offset: rowan::TextSize) -> Option<(Vec<String>, TextRange)> {
        let b = self
            .bindings
            .iter()
            .filter(|b| b.segments.iter().any(|r| r.contains_inclusive(offset)))
            .min_by_key(|b| b.range.len())?;
        let i = b
            .segments
            .iter()
            .position(|r| r.contains_inclusive(offset))?;
        Some((b.path[..b.first + i + 1].to_vec(), b.segments[i]))
    }
}

/// Names the module system treats as options although a source tree may not declare
/// them itself (home-manager takes them from nixpkgs' `assertions.nix`/`meta.nix`).
pub(crate) const BUILTIN_ROOTS: &[&str] = &["_module", "assertions", "warnings", "meta"];

/// Whether a path is below one of [`BUILTIN_ROOTS`].
pub(crate) fn is_builtin(path: &[String]) -> bool {
    path.first()
        .is_some_and(|n| BUILTIN_ROOTS.contains(&n.as_str()))
}

fn first_name(b: &ast::AttrpathValue) -> Option<String> {
    b.attrpath()?.attrs().next()?.static_name()
}

fn static_names(b: &ast::AttrpathValue) -> Option<Vec<String>> {
    b.attrpath()?.attrs().map(|a| a.static_name()).collect()
}

fn strip_parens(mut e: ast::Expr) -> ast::Expr {
    while let ast::Expr::Paren(p) = &e {
        match p.expr() {
            Some(inner) => e = inner,
            None => break,
        }
    }
    e
}

/// `f a b c` as the function's last attribute name (`lib.mkIf` → `mkIf`) and arguments.
fn wrapper(e: &ast::Expr) -> Option<(String, Vec<ast::Expr>)> {
    let mut args = Vec::new();
    let mut f = e.clone();
    while let ast::Expr::Apply(a) = &f {
        args.push(a.argument()?);
        f = strip_parens(a.lambda()?);
    }
    args.reverse();
    let name = match &f {
        ast::Expr::Ident(i) => i.name(),
        ast::Expr::Select(s) => s.attrpath()?.attrs().last()?.static_name()?,
        _ => return None,
    };
    Some((name, args))
}

/// The arguments of a configuration wrapper that carry configuration.
fn module_wrapper_args(name: &str, args: Vec<ast::Expr>) -> Vec<ast::Expr> {
    match (name, args.as_slice()) {
        ("mkMerge", [ast::Expr::List(l)]) => l.items().map(strip_parens).collect(),
        (
            "mkIf"
            | "mkDefault"
            | "mkForce"
            | "mkOverride"
            | "mkBefore"
            | "mkAfter"
            | "mkOrder"
            | "mkOptionDefault"
            | "mkVMOverride"
            | "mkImageMediaOverride",
            [.., last],
        ) => vec![strip_parens(last.clone())],
        _ => Vec::new(),
    }
}

/// A value with the configuration wrappers (`mkIf`, `mkForce`, `mkMerge`, …) looked
/// through: the values they carry, or the value itself.
pub(crate) fn unwrap_value(e: &ast::Expr) -> Vec<ast::Expr> {
    let e = strip_parens(e.clone());
    if let Some((name, args)) = wrapper(&e) {
        let inner = module_wrapper_args(&name, args);
        if !inner.is_empty() {
            return inner.iter().flat_map(unwrap_value).collect();
        }
    }
    vec![e]
}

/// Levenshtein distance, for "did you mean".
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest name to `name` among `candidates`, if close enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    let lower = name.to_lowercase();
    candidates
        .map(|c| {
            let d = edit_distance(&lower, &c.to_lowercase());
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Whether a file is a configuration module the option features apply to: a function
/// taking module arguments (`{ config, lib, pkgs, ... }:`), or a file named like one
/// (`home.nix`, `configuration.nix`) whose value is a set or a function. Flakes and
/// package expressions are left alone.
pub fn is_config_module(root: &ast::Root, file_name: &str) -> bool {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base == "flake.nix" {
        return false;
    }
    let mut e = match root.expr() {
        Some(e) => strip_parens(e),
        None => return false,
    };
    if let ast::Expr::Lambda(l) = &e {
        if let Some(ast::Param::Pattern(p)) = l.param() {
            let module_args = p.pat_entries().any(|entry| {
                entry.ident().is_some_and(|i| {
                    matches!(
                        i.name().as_str(),
                        "config" | "lib" | "options" | "modulesPath" | "osConfig"
                    )
                })
            });
            if module_args && p.has_ellipsis() {
                return true;
            }
        }
        match l.body() {
            Some(b) => e = strip_parens(b),
            None => return false,
        }
    }
    matches!(
        base,
        "home.nix" | "configuration.nix" | "hardware-configuration.nix"
    ) && matches!(
        e,
        ast::Expr::AttrSet(_) | ast::Expr::LetIn(_) | ast::Expr::With(_)
    )
}

/// Which of several schemas (home-manager, NixOS) fits a module best: the one that
/// declares most of the top-level names it sets. `None` when it sets nothing known.
pub fn pick_schema(root: &ast::Root, schemas: &[&crate::options::Schema]) -> Option<usize> {
    let module = ConfigModule::of(root);
    let mut roots: Vec<&str> = module
        .bindings
        .iter()
        .filter(|b| b.first == 0)
        .map(|b| b.path[0].as_str())
        .filter(|n| !BUILTIN_ROOTS.contains(n))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    if schemas.len() == 1 {
        return Some(0);
    }
    schemas
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let known = roots
                .iter()
                .filter(|r| !s.children(&[r.to_string()]).is_empty())
                .count();
            (known, std::cmp::Reverse(i), i)
        })
        .filter(|(known, _, _)| *known > 0)
        .max()
        .map(|(_, _, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str, name: &str) -> bool {
        is_config_module(&crate::syntax::parse(src).root(), name)
    }

    #[test]
    fn which_files_are_configuration_modules() {
        assert!(module("{ config, lib, pkgs, ... }: { }", "/x/git.nix"));
        assert!(module(
            "{ pkgs, ... }: { home.packages = [ ]; }",
            "/x/home.nix"
        ));
        assert!(module("{ programs.git.enable = true; }", "/x/home.nix"));
        assert!(!module("{ programs.git.enable = true; }", "/x/other.nix"));
        assert!(!module(
            "{ stdenv, fetchurl }: stdenv.mkDerivation { }",
            "/x/default.nix"
        ));
        assert!(!module(
            "{ inputs = { }; outputs = { ... }: { }; }",
            "/x/flake.nix"
        ));
        assert!(!module("{ lib, ... }: { }", "/x/flake.nix"));
    }

    #[test]
    fn picks_the_schema_that_knows_the_names() {
        let hm = super::fixture::fixture_schema();
        let nixos = crate::options::Schema::new(
            "/nixpkgs".into(),
            vec![crate::options::OptionDecl {
                path: crate::options::OptionPath::parse("boot.loader.timeout"),
                ty: crate::options::OptionType::unknown(),
                default: None,
                example: None,
                description: None,
                read_only: false,
                hidden: false,
                internal: false,
                declaration: None,
            }],
            Vec::new(),
        );
        let pick = |src: &str| pick_schema(&crate::syntax::parse(src).root(), &[&hm, &nixos]);
        assert_eq!(
            pick("{ programs.git.enable = true; home.username = \"a\"; }"),
            Some(0)
        );
        assert_eq!(pick("{ ... }: { boot.loader.timeout = 3; }"), Some(1));
        assert_eq!(pick("{ ... }: { nothing.known = 1; }"), None);
    }
}
