//! The static extractor: walks a module tree from its module list and records every
//! declared option (at every depth, submodule elements as `<name>` / `*`) and every
//! renamed/removed option, using the forgiving interpreter of [`super::eval`].

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use super::eval::{
    Attrs, Entry, Evaluator, FileId, Pos, SourceTree, SubOptions, ThunkId, Type, Value,
};
use super::prims;
use super::schema::{
    Declaration, OptionDecl, OptionPath, OptionShim, OptionType, Schema, Segment, ShimKind,
    TypeShape,
};

/// Which tree to extract and how its modules are entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractConfig {
    /// Absolute root of the source tree; declaration files are reported relative to it.
    pub root: String,
    /// Files whose value is the module list (or a function `{ pkgs, lib, ... }` returning it).
    pub module_lists: Vec<String>,
    /// Attributes added to `lib`, each the value of a file of the tree called with `{ lib }`
    /// (home-manager's `lib.hm`).
    pub lib_extensions: Vec<(String, String)>,
    /// `<name>` search path entries (`nixpkgs` → a nixpkgs tree).
    pub search_path: Vec<(String, String)>,
}

impl ExtractConfig {
    /// A home-manager checkout or store path: `modules/modules.nix` with `lib.hm`.
    pub fn home_manager(root: &str) -> ExtractConfig {
        let root = root.trim_end_matches('/').to_owned();
        ExtractConfig {
            module_lists: vec![format!("{root}/modules/modules.nix")],
            lib_extensions: vec![("hm".into(), format!("{root}/modules/lib/default.nix"))],
            search_path: Vec::new(),
            root,
        }
    }

    /// A nixpkgs tree: `nixos/modules/module-list.nix`.
    pub fn nixos(root: &str) -> ExtractConfig {
        let root = root.trim_end_matches('/').to_owned();
        ExtractConfig {
            module_lists: vec![format!("{root}/nixos/modules/module-list.nix")],
            lib_extensions: Vec::new(),
            search_path: vec![("nixpkgs".into(), root.clone())],
            root,
        }
    }
}

/// Counters that say how complete an extraction was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Module files evaluated.
    pub files: usize,
    /// Modules or option trees whose value could not be known.
    pub unknown: usize,
}

/// Extracts the option schema of a source tree. Reads files only through `source`.
pub fn extract(source: &dyn SourceTree, config: &ExtractConfig) -> (Schema, ExtractStats) {
    let mut ev = Evaluator::new(source);
    for (k, v) in &config.search_path {
        ev.search_path.insert(k.clone(), v.clone());
    }
    let lib = extended_lib(&mut ev, config);
    let pkgs = pkgs_stub(&mut ev, lib, config);
    let mut x = Extractor {
        ev,
        lib,
        pkgs,
        root: config.root.clone(),
        options: BTreeMap::new(),
        shims: Vec::new(),
        seen: HashSet::new(),
        stats: ExtractStats::default(),
    };
    let args = x.module_args(None);
    for list_file in &config.module_lists {
        let t = x.ev.import_thunk(list_file);
        let list = match x.ev.force(t) {
            Value::Lambda(_) | Value::Prim(_) => {
                let f = x.ev.force(t);
                let call_args =
                    x.ev.make_attrs(vec![("pkgs", Value::Unknown), ("lib", Value::Unknown)]);
                // Re-made with the real thunks (make_attrs copies values, and these must stay lazy).
                let call_args = match call_args {
                    Value::Attrs(a) => {
                        let mut a = (*a).clone();
                        a.entries.insert(
                            Rc::from("pkgs"),
                            Entry {
                                value: x.pkgs,
                                pos: None,
                            },
                        );
                        a.entries.insert(
                            Rc::from("lib"),
                            Entry {
                                value: x.lib,
                                pos: None,
                            },
                        );
                        Value::Attrs(Rc::new(a))
                    }
                    v => v,
                };
                x.ev.apply_value(f, call_args)
            }
            v => v,
        };
        match list {
            Value::List(items) => {
                for &m in items.iter() {
                    x.module(m, &[], args, None, 0);
                }
            }
            _ => x.stats.unknown += 1,
        }
    }
    x.stats.files = x.ev.files.len();
    let Extractor {
        options,
        shims,
        stats,
        ..
    } = x;
    let schema = Schema::new(config.root.clone(), options.into_values().collect(), shims);
    (schema, stats)
}

/// `lib` plus the tree's extensions (`lib.hm`), each evaluated lazily from source.
fn extended_lib(ev: &mut Evaluator<'_>, config: &ExtractConfig) -> ThunkId {
    if config.lib_extensions.is_empty() {
        return ev.lib;
    }
    let base = match ev.force(ev.lib) {
        Value::Attrs(a) => (*a).clone(),
        _ => Attrs::default(),
    };
    let me = ev.value_thunk(Value::Unknown);
    let mut lib = base;
    for (name, path) in &config.lib_extensions {
        let f = ev.import_thunk(path);
        let arg = Attrs {
            entries: [(
                Rc::from("lib"),
                Entry {
                    value: me,
                    pos: None,
                },
            )]
            .into_iter()
            .collect(),
            ..Attrs::default()
        };
        let arg = ev.value_thunk(Value::Attrs(Rc::new(arg)));
        let v = ev.apply_thunk(f, arg);
        lib.entries.insert(
            Rc::from(name.as_str()),
            Entry {
                value: v,
                pos: None,
            },
        );
    }
    ev.set_thunk(me, Value::Attrs(Rc::new(lib)));
    me
}

/// A package set that knows nothing but `lib`, `formats` and (if known) `path`.
fn pkgs_stub(ev: &mut Evaluator<'_>, lib: ThunkId, config: &ExtractConfig) -> ThunkId {
    let mut a = Attrs {
        open: true,
        ..Attrs::default()
    };
    a.entries.insert(
        Rc::from("lib"),
        Entry {
            value: lib,
            pos: None,
        },
    );
    let formats = prims::formats_set(ev);
    let formats = ev.value_thunk(formats);
    a.entries.insert(
        Rc::from("formats"),
        Entry {
            value: formats,
            pos: None,
        },
    );
    if let Some((_, nixpkgs)) = config.search_path.iter().find(|(k, _)| k == "nixpkgs") {
        let p = ev.value_thunk(Value::Path(Rc::from(nixpkgs.as_str())));
        a.entries.insert(
            Rc::from("path"),
            Entry {
                value: p,
                pos: None,
            },
        );
    }
    ev.value_thunk(Value::Attrs(Rc::new(a)))
}

struct Extractor<'s> {
    ev: Evaluator<'s>,
    lib: ThunkId,
    pkgs: ThunkId,
    root: String,
    options: BTreeMap<OptionPath, OptionDecl>,
    shims: Vec<OptionShim>,
    seen: HashSet<(String, Vec<Segment>)>,
    stats: ExtractStats,
}

/// Sub-options deeper than this are not followed (recursive types end here at the latest).
const MAX_PATH: usize = 24;

impl Extractor<'_> {
    /// The arguments of a submodule's modules: `name` is the element's placeholder
    /// (`<name>`), as in the manual.
    fn submodule_args(&mut self, special: Option<ThunkId>, last: Option<&Segment>) -> ThunkId {
        let args = self.module_args(special);
        let Value::Attrs(a) = self.ev.force(args) else {
            return args;
        };
        let mut a = (*a).clone();
        if let Some(seg) = last {
            if !a.entries.contains_key("name") {
                let name = self.ev.value_thunk(Value::Str(Rc::from(seg.to_string())));
                a.entries.insert(
                    Rc::from("name"),
                    Entry {
                        value: name,
                        pos: None,
                    },
                );
            }
        }
        self.ev.value_thunk(Value::Attrs(Rc::new(a)))
    }

    /// The arguments a module function receives.
    fn module_args(&mut self, special: Option<ThunkId>) -> ThunkId {
        let mut a = Attrs {
            open: true,
            ..Attrs::default()
        };
        if let Some(s) = special {
            if let Value::Attrs(s) = self.ev.force(s) {
                for (k, e) in s.entries.iter() {
                    a.entries.insert(k.clone(), *e);
                }
            }
        }
        let open = Value::Attrs(Rc::new(Attrs {
            open: true,
            ..Attrs::default()
        }));
        for name in ["config", "options"] {
            let t = self.ev.value_thunk(open.clone());
            a.entries.entry(Rc::from(name)).or_insert(Entry {
                value: t,
                pos: None,
            });
        }
        a.entries.entry(Rc::from("lib")).or_insert(Entry {
            value: self.lib,
            pos: None,
        });
        a.entries.entry(Rc::from("pkgs")).or_insert(Entry {
            value: self.pkgs,
            pos: None,
        });
        let modules_path = self
            .ev
            .value_thunk(Value::Path(Rc::from(format!("{}/modules", self.root))));
        a.entries.entry(Rc::from("modulesPath")).or_insert(Entry {
            value: modules_path,
            pos: None,
        });
        self.ev.value_thunk(Value::Attrs(Rc::new(a)))
    }

    /// Collects one module: a path, a function, a set, or a rename shim.
    fn module(
        &mut self,
        t: ThunkId,
        prefix: &[Segment],
        args: ThunkId,
        file: Option<FileId>,
        depth: u32,
    ) {
        if depth > 64 {
            return;
        }
        match self.ev.force(t) {
            Value::Path(p) | Value::Str(p) if p.starts_with('/') => {
                let Some(resolved) = self.ev.resolve_file(&p) else {
                    return;
                };
                if !self.seen.insert((resolved.clone(), prefix.to_vec())) {
                    return;
                }
                let imported = self.ev.import_thunk(&p);
                let fid = self.ev.file_id(&resolved);
                if fid.is_none() {
                    self.stats.unknown += 1;
                    return;
                }
                self.module(imported, prefix, args, fid, depth + 1);
            }
            f @ (Value::Lambda(_) | Value::Prim(_)) => {
                let v = self.ev.apply(f, args, None);
                let vt = self.ev.value_thunk(v);
                self.module(vt, prefix, args, file, depth + 1);
            }
            Value::Attrs(a) => self.module_body(&a, prefix, args, file, depth),
            _ => self.stats.unknown += 1,
        }
    }

    fn module_body(
        &mut self,
        a: &Attrs,
        prefix: &[Segment],
        args: ThunkId,
        file: Option<FileId>,
        depth: u32,
    ) {
        if let Some(shim) = a.entries.get("__strataShim") {
            self.shim(shim.value, prefix, a.pos.or(None));
            return;
        }
        if let Some(imports) = a.entries.get("imports") {
            let items = self
                .ev
                .force_list(imports.value)
                .map(|l| (*l).clone())
                .unwrap_or_default();
            for m in items {
                self.module(m, prefix, args, file, depth + 1);
            }
        }
        if let Some(options) = a.entries.get("options") {
            let mut path = prefix.to_vec();
            self.options_tree(options.value, &mut path, options.pos, false, 0);
        }
    }

    fn shim(&mut self, t: ThunkId, prefix: &[Segment], pos: Option<Pos>) {
        let Some(s) = self.ev.force_attrs(t) else {
            return;
        };
        let get = |k: &str| s.entries.get(k).map(|e| e.value);
        let kind = get("kind").and_then(|k| self.ev.force_str(k));
        let Some(from) = get("from").and_then(|f| self.str_path(f)) else {
            self.stats.unknown += 1;
            return;
        };
        let mut full = prefix.to_vec();
        full.extend(from.into_iter().map(Segment::Name));
        let kind = match kind.as_deref() {
            Some("renamed") => match get("to").and_then(|t| self.str_path(t)) {
                Some(to) => ShimKind::Renamed {
                    to: OptionPath(
                        prefix
                            .iter()
                            .cloned()
                            .chain(to.into_iter().map(Segment::Name))
                            .collect(),
                    ),
                },
                None => return,
            },
            Some("removed") => ShimKind::Removed {
                message: get("to")
                    .and_then(|m| self.ev.force_str(m))
                    .map(|m| m.trim().to_string())
                    .unwrap_or_default(),
            },
            Some("changed") => {
                let tos = get("to")
                    .and_then(|t| self.ev.force_list(t))
                    .map(|l| (*l).clone())
                    .unwrap_or_default();
                let to = tos
                    .into_iter()
                    .filter_map(|t| self.str_path(t))
                    .map(|p| {
                        OptionPath(
                            prefix
                                .iter()
                                .cloned()
                                .chain(p.into_iter().map(Segment::Name))
                                .collect(),
                        )
                    })
                    .collect();
                ShimKind::Changed { to }
            }
            _ => return,
        };
        let declaration = pos.and_then(|p| self.declaration(p));
        self.shims.push(OptionShim {
            from: OptionPath(full),
            kind,
            declaration,
        });
    }

    fn str_path(&mut self, t: ThunkId) -> Option<Vec<String>> {
        match self.ev.force(t) {
            Value::List(items) => items
                .iter()
                .map(|&i| self.ev.force_str(i).map(|s| s.to_string()))
                .collect(),
            Value::Str(s) => Some(s.split('.').map(str::to_owned).collect()),
            _ => None,
        }
    }

    fn declaration(&self, pos: Pos) -> Option<Declaration> {
        let file = &self.ev.files.get(pos.file as usize)?.path;
        let rel = file
            .strip_prefix(&self.root)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(file);
        Some(Declaration {
            file: rel.to_owned(),
            range: pos.range,
        })
    }

    /// Walks an `options` tree: nested sets of options.
    fn options_tree(
        &mut self,
        t: ThunkId,
        path: &mut Vec<Segment>,
        pos: Option<Pos>,
        hidden: bool,
        depth: u32,
    ) {
        if depth > 64 || path.len() > MAX_PATH {
            return;
        }
        let Value::Attrs(a) = self.ev.force(t) else {
            self.stats.unknown += 1;
            return;
        };
        let ty = a
            .entries
            .get("_type")
            .and_then(|e| self.ev.force_str(e.value));
        match ty.as_deref() {
            Some("option") => self.option(&a, path, pos, hidden),
            Some("if") | Some("override") => {
                if let Some(c) = a.entries.get("content") {
                    self.options_tree(c.value, path, pos, hidden, depth + 1);
                }
            }
            Some("merge") => {
                let items = a
                    .entries
                    .get("contents")
                    .and_then(|c| self.ev.force_list(c.value))
                    .map(|l| (*l).clone())
                    .unwrap_or_default();
                for c in items {
                    self.options_tree(c, path, pos, hidden, depth + 1);
                }
            }
            _ => {
                for (name, e) in a.entries.iter() {
                    path.push(Segment::Name(name.to_string()));
                    self.options_tree(e.value, path, e.pos.or(pos), hidden, depth + 1);
                    path.pop();
                }
            }
        }
    }

    /// Records one `mkOption` result and follows its type's sub-options.
    fn option(&mut self, a: &Attrs, path: &[Segment], name_pos: Option<Pos>, hidden: bool) {
        let get = |k: &str| a.entries.get(k).map(|e| e.value);
        let ty = get("type").map(|t| self.ev.force(t));
        let ty = match ty {
            Some(Value::Type(t)) => Some(t),
            _ => None,
        };
        let option_type = ty
            .as_ref()
            .map_or_else(OptionType::unknown, |t| OptionType {
                description: t.description.to_string(),
                shape: t.shape.clone(),
            });
        let visible = get("visible").map(|v| self.ev.force(v));
        let invisible = matches!(visible, Some(Value::Bool(false)));
        let shallow = matches!(&visible, Some(Value::Str(s)) if &**s == "shallow");
        let flag = |this: &mut Self, k: &str| {
            matches!(get(k).map(|v| this.ev.force(v)), Some(Value::Bool(true)))
        };
        let read_only = flag(self, "readOnly");
        let internal = flag(self, "internal");
        let description = get("description").and_then(|d| self.doc_text(d));
        let default = match get("defaultText") {
            Some(d) => self.doc_text(d),
            None => get("default").and_then(|d| self.source_text(d)),
        };
        let example = get("example").and_then(|d| self.doc_or_source(d));
        // Prefer the attribute name in the declaring file; else the `mkOption` call.
        let pos = name_pos.or(a.pos);
        let declaration = pos.and_then(|p| self.declaration(p));
        let key = OptionPath(path.to_vec());
        match self.options.get_mut(&key) {
            Some(existing) => {
                // Another declaration of the same option (e.g. extending a submodule):
                // fill in what the first one lacked.
                if existing.ty.shape == TypeShape::Any && option_type.shape != TypeShape::Any {
                    existing.ty = option_type;
                }
                existing.description = existing.description.take().or(description);
                existing.default = existing.default.take().or(default);
                existing.example = existing.example.take().or(example);
            }
            None => {
                self.options.insert(
                    key,
                    OptionDecl {
                        path: OptionPath(path.to_vec()),
                        ty: option_type,
                        default,
                        example,
                        description,
                        read_only,
                        hidden: hidden || invisible,
                        internal,
                        declaration,
                    },
                );
            }
        }
        // Like the manual: no sub-options below hidden or `visible = "shallow"` options.
        if !invisible && !shallow {
            if let Some(t) = ty {
                self.type_options(&t, path.to_vec(), hidden, 0);
            }
        }
    }

    /// Sub-options a type declares below `prefix`.
    fn type_options(&mut self, t: &Rc<Type>, mut prefix: Vec<Segment>, hidden: bool, depth: u32) {
        if depth > 16 || prefix.len() > MAX_PATH {
            return;
        }
        match &t.sub {
            SubOptions::None => {}
            SubOptions::Elem(e, seg) => {
                if let Some(seg) = seg {
                    prefix.push(seg.clone());
                }
                let e = e.clone();
                self.type_options(&e, prefix, hidden, depth + 1);
            }
            SubOptions::Modules {
                modules,
                special_args,
            } => {
                let args = self.submodule_args(*special_args, prefix.last());
                for &m in modules.clone().iter() {
                    self.module(m, &prefix, args, None, 0);
                }
            }
            SubOptions::Custom(f) => {
                let items: Vec<ThunkId> = prefix
                    .iter()
                    .map(|s| self.ev.value_thunk(Value::Str(Rc::from(s.to_string()))))
                    .collect();
                let arg = self.ev.value_thunk(Value::List(Rc::new(items)));
                let fv = self.ev.force(*f);
                match self.ev.apply(fv, arg, None) {
                    Value::SubOptions(t2, segs) => {
                        self.type_options(&t2, (*segs).clone(), hidden, depth + 1)
                    }
                    v @ Value::Attrs(_) => {
                        let vt = self.ev.value_thunk(v);
                        self.options_tree(vt, &mut prefix, None, hidden, 0);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Text of a `description`/`defaultText`: a string, `literalMD`/`literalExpression`.
    fn doc_text(&mut self, t: ThunkId) -> Option<String> {
        match self.ev.force(t) {
            Value::Str(s) => Some(s.to_string()),
            Value::Attrs(a) => {
                let text = a.entries.get("text")?.value;
                self.ev.force_str(text).map(|s| s.to_string())
            }
            _ => None,
        }
    }

    /// An example: `literalExpression` text, else the Nix source it was written as.
    fn doc_or_source(&mut self, t: ThunkId) -> Option<String> {
        if let Some(pos) = self.ev.origin(t) {
            let is_literal = self
                .ev
                .text_at(pos)
                .is_some_and(|s| s.starts_with("literal") || s.contains("literalExpression"));
            if !is_literal {
                return self.ev.text_at(pos).map(str::to_owned);
            }
        }
        match self.ev.force(t) {
            Value::Attrs(a) if a.entries.contains_key("_type") => self.doc_text(t),
            v => simple_source(&v),
        }
    }

    /// A default as the Nix source it was written as (without evaluating it).
    fn source_text(&mut self, t: ThunkId) -> Option<String> {
        if let Some(pos) = self.ev.origin(t) {
            return self.ev.text_at(pos).map(str::to_owned);
        }
        let v = self.ev.force(t);
        simple_source(&v)
    }
}

fn simple_source(v: &Value) -> Option<String> {
    Some(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Null => "null".into(),
        Value::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        _ => return None,
    })
}
