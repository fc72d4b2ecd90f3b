//! The evaluated option source: home-manager's option tree evaluated with our own
//! evaluator (`lib.evalModules` on a real nixpkgs lib, `options.nix` beside this file), read
//! into the same [`Schema`] the static extractor produces, and merged into the static one
//! ([`merge`]): evaluation fills what static extraction could not resolve.
//!
//! `pkgs` is a stub (see `options.nix`): a fake `stdenv`, `pkgs.formats` and the four
//! nixpkgs files home-manager imports through `pkgs.path`. Option declarations evaluate
//! against it; a default or example that needs a real package fails alone and is left out
//! (counted in [`EvalStats::failed_fields`]). NixOS trees are not evaluated (their modules
//! need a real package set); they keep the static schema.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use strata_analyzer::options::{
    Declaration, OptionDecl, OptionPath, OptionType, Schema, Segment, TextRange, TypeShape,
};

use crate::eval::builtins::json::value_to_json;
use crate::eval::value::{Attrs, Context, Shared};
use crate::eval::{AutoArg, Evaluator, Settings, Value};

/// The program that lists the options (evaluated with `hm`, `nixpkgsLib` and `stubs`).
const PROGRAM: &str = include_str!("options.nix");

/// The stand-ins for the nixpkgs files home-manager imports through `pkgs.path`, by their
/// path under it. Shared with the ground-truth script, which evaluates the same tree with Nix.
const STUBS: &[(&str, &str)] = &[
    (
        "nixos/modules/misc/assertions.nix",
        include_str!("../../../scripts/options-ground-truth/stub-nixpkgs/nixos/modules/misc/assertions.nix"),
    ),
    (
        "nixos/modules/misc/meta.nix",
        include_str!("../../../scripts/options-ground-truth/stub-nixpkgs/nixos/modules/misc/meta.nix"),
    ),
    (
        "lib/services/lib.nix",
        include_str!("../../../scripts/options-ground-truth/stub-nixpkgs/lib/services/lib.nix"),
    ),
    (
        "nixos/modules/system/service/systemd/service.nix",
        include_str!("../../../scripts/options-ground-truth/stub-nixpkgs/nixos/modules/system/service/systemd/service.nix"),
    ),
];

/// Bumped whenever the program, the stubs or the reading of its output change (part of
/// the cache key of evaluated schemas).
pub const EVAL_VERSION: u32 = 1;

/// Why an evaluated schema could not be produced (the static one is used instead).
#[derive(Debug, thiserror::Error)]
pub enum EvalSourceError {
    /// `lib/default.nix` is missing under the given nixpkgs lib directory.
    #[error("no nixpkgs lib at {0} (lib/default.nix missing)")]
    NoLib(PathBuf),
    /// The stub package set could not be written.
    #[error("writing the stub package set to {path}: {source}")]
    Stubs {
        /// The stub directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The option tree itself did not evaluate.
    #[error("evaluating the option tree failed: {0}")]
    Eval(String),
    /// The evaluator thread panicked or could not be started.
    #[error("the evaluator thread failed: {0}")]
    Thread(String),
}

/// What an evaluation produced, for the log and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// Options listed by the module system (shims included).
    pub listed: usize,
    /// Invisible rename/removal shims left out (the static schema has them with targets).
    pub shims: usize,
    /// Fields (default, example, description, type, ...) whose evaluation failed, mostly
    /// defaults that need a real package.
    pub failed_fields: usize,
}

/// Writes the stub package set under `dir` (idempotent) and returns its root.
pub fn write_stubs(dir: &Path) -> Result<PathBuf, EvalSourceError> {
    let root = dir.join(format!("eval-stubs-v{EVAL_VERSION}"));
    let err = |source| EvalSourceError::Stubs {
        path: root.clone(),
        source,
    };
    for (rel, text) in STUBS {
        let file = root.join(rel);
        if std::fs::read_to_string(&file).is_ok_and(|t| t == *text) {
            continue;
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        std::fs::write(&file, text).map_err(err)?;
    }
    Ok(root)
}

/// Evaluates the option tree of the home-manager tree at `root` with the nixpkgs lib
/// directory `nixpkgs_lib` (the `lib/` folder of a nixpkgs tree), the stubs written under
/// `work_dir`. Runs on its own thread with a large stack (the evaluator recurses natively).
pub fn evaluate_home_manager(
    root: &Path,
    nixpkgs_lib: &Path,
    work_dir: &Path,
) -> Result<(Schema, EvalStats), EvalSourceError> {
    if !nixpkgs_lib.join("default.nix").is_file() {
        return Err(EvalSourceError::NoLib(nixpkgs_lib.to_owned()));
    }
    let stubs = write_stubs(work_dir)?;
    let root = root.to_owned();
    let lib = nixpkgs_lib.to_owned();
    let handle = std::thread::Builder::new()
        .name("options-eval".into())
        .stack_size(1 << 30)
        .spawn(move || evaluate_on_this_thread(&root, &lib, &stubs))
        .map_err(|e| EvalSourceError::Thread(e.to_string()))?;
    handle
        .join()
        .map_err(|_| EvalSourceError::Thread("panicked".into()))?
}

fn evaluate_on_this_thread(
    root: &Path,
    lib: &Path,
    stubs: &Path,
) -> Result<(Schema, EvalStats), EvalSourceError> {
    let root_str = root.to_string_lossy().trim_end_matches('/').to_owned();
    let mut ev = Evaluator::new(Settings::default());
    let eval_err = |e: Box<crate::eval::EvalError>| EvalSourceError::Eval(e.render(false));
    let f = ev.eval_text(PROGRAM, &root_str).map_err(eval_err)?;
    let args = ev
        .auto_args(&[
            ("hm".into(), AutoArg::Str(root_str.clone())),
            (
                "nixpkgsLib".into(),
                AutoArg::Str(lib.to_string_lossy().into_owned()),
            ),
            (
                "stubs".into(),
                AutoArg::Str(stubs.to_string_lossy().into_owned()),
            ),
        ])
        .map_err(eval_err)?;
    let list = ev.auto_call(&f, &args).map_err(eval_err)?;
    let Value::List(items) = list else {
        return Err(EvalSourceError::Eval(format!(
            "the option list is {}",
            list.show_type()
        )));
    };
    let mut stats = EvalStats {
        listed: items.len(),
        ..EvalStats::default()
    };
    let mut reader = Reader {
        ev: &mut ev,
        root: &root_str,
        texts: HashMap::new(),
        failed: 0,
    };
    let mut options = Vec::with_capacity(items.len());
    for item in items.iter() {
        let Ok(Value::Attrs(rec)) = reader.ev.machine.force(item) else {
            reader.failed += 1;
            continue;
        };
        match reader.option(&rec) {
            Some(Read::Option(o)) => options.push(*o),
            Some(Read::Shim) => stats.shims += 1,
            None => {}
        }
    }
    stats.failed_fields = reader.failed;
    Ok((Schema::new(root_str, options, Vec::new()), stats))
}

enum Read {
    Option(Box<OptionDecl>),
    Shim,
}

/// Reads option records field by field, so one failing field costs only itself.
struct Reader<'a> {
    ev: &'a mut Evaluator,
    root: &'a str,
    /// File texts, for turning line/column positions into byte ranges.
    texts: HashMap<String, Option<String>>,
    failed: usize,
}

impl Reader<'_> {
    /// The field as JSON; `None` (and counted) when its evaluation fails.
    fn field(&mut self, rec: &Shared<Attrs>, name: &str) -> Option<Json> {
        let v = rec.get(name)?.clone();
        let mut out = String::new();
        let mut ctx = Context::new();
        let pos = crate::eval::source::Pos::NONE;
        match value_to_json(&mut self.ev.machine, &v, &mut out, &mut ctx, false, pos) {
            Ok(()) => serde_json::from_str(&out).ok(),
            Err(e) => {
                tracing::debug!("options: field {name}: {}", e.render(false));
                self.failed += 1;
                None
            }
        }
    }

    fn string(&mut self, rec: &Shared<Attrs>, name: &str) -> Option<String> {
        match self.field(rec, name)? {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn option(&mut self, rec: &Shared<Attrs>) -> Option<Read> {
        let loc = self.field(rec, "loc")?;
        let path = OptionPath(
            loc.as_array()?
                .iter()
                .map(|s| s.as_str().map(Segment::parse))
                .collect::<Option<Vec<_>>>()?,
        );
        let visible = self.field(rec, "visible");
        let hidden = visible.as_ref().is_some_and(|v| *v == Json::Bool(false));
        let description = self.string(rec, "description");
        // lib's rename/removal modules declare invisible options: aliases described
        // "Alias of ...", removals with no description.
        if hidden
            && description
                .as_deref()
                .is_none_or(|d| d.starts_with("Alias of"))
        {
            return Some(Read::Shim);
        }
        let ty = match (self.string(rec, "type"), self.field(rec, "shape")) {
            (Some(description), shape) => OptionType {
                description,
                shape: shape.as_ref().map(shape_from).unwrap_or(TypeShape::Any),
            },
            _ => OptionType::unknown(),
        };
        let flag = |v: Option<Json>| v.and_then(|v| v.as_bool()).unwrap_or(false);
        let read_only = flag(self.field(rec, "readOnly"));
        let internal = flag(self.field(rec, "internal"));
        let declaration = self
            .field(rec, "declarations")
            .and_then(|d| d.as_array()?.first().cloned())
            .and_then(|d| self.declaration(&d));
        Some(Read::Option(Box::new(OptionDecl {
            path,
            ty,
            default: self.string(rec, "default"),
            example: self.string(rec, "example"),
            description,
            read_only,
            hidden,
            internal,
            declaration,
        })))
    }

    /// `{ file, line, column }` as a declaration relative to the root, ranging over the
    /// attribute name there (line 0: the file only).
    fn declaration(&mut self, pos: &Json) -> Option<Declaration> {
        let file = pos.get("file")?.as_str()?;
        let mut abs = file.to_owned();
        if Path::new(&abs).is_dir() {
            abs.push_str("/default.nix");
        }
        let rel = abs
            .strip_prefix(self.root)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(&abs)
            .to_owned();
        let line = pos.get("line").and_then(Json::as_u64).unwrap_or(0) as usize;
        let column = pos.get("column").and_then(Json::as_u64).unwrap_or(0) as usize;
        let text = self
            .texts
            .entry(abs.clone())
            .or_insert_with(|| std::fs::read_to_string(&abs).ok());
        let range = match text {
            Some(text) if line > 0 && column > 0 => name_range_at(text, line, column),
            _ => None,
        }
        .unwrap_or_default();
        Some(Declaration { file: rel, range })
    }
}

/// The range of the attribute name starting at a 1-based line and (byte) column.
fn name_range_at(text: &str, line: usize, column: usize) -> Option<TextRange> {
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let start = line_start + column - 1;
    let rest = text.get(start..)?;
    let len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map(|i| i + 2).unwrap_or(0)
    } else {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-' | '.')))
            .unwrap_or(rest.len())
    };
    Some(TextRange::at(
        u32::try_from(start).ok()?.into(),
        u32::try_from(len).ok()?.into(),
    ))
}

/// The checkable shape of a type from `{ name, nested, values? }` (see `options.nix`).
fn shape_from(j: &Json) -> TypeShape {
    let name = j.get("name").and_then(Json::as_str).unwrap_or("");
    let nested = |k: &str| {
        j.get("nested")
            .and_then(|n| n.get(k))
            .map(shape_from)
            .unwrap_or(TypeShape::Any)
    };
    let elem = || Box::new(nested("elemType"));
    match name {
        "bool" | "boolByOr" => TypeShape::Bool,
        "float" => TypeShape::Float,
        "int" | "intBetween" => TypeShape::Int,
        n if n.starts_with("number") => TypeShape::Number,
        n if n.contains("Int") => TypeShape::Int,
        "str" | "nonEmptyStr" | "strMatching" | "separatedString" | "singleLineStr" => {
            TypeShape::Str
        }
        "path" | "pathInStore" | "pathWith" => TypeShape::Path,
        "package" | "shellPackage" => TypeShape::Package,
        "listOf" | "nonEmptyListOf" => TypeShape::List(elem()),
        "attrsOf" | "lazyAttrsOf" => TypeShape::AttrsOf(elem()),
        "nullOr" => TypeShape::NullOr(elem()),
        "unique" | "uniq" => nested("elemType"),
        "submodule" => TypeShape::Submodule,
        "attrs" => TypeShape::Attrs,
        "functionTo" => TypeShape::Function,
        "enum" => TypeShape::Enum(
            j.get("values")
                .and_then(Json::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "either" => {
            let mut members = Vec::new();
            for side in [nested("left"), nested("right")] {
                match side {
                    TypeShape::OneOf(v) => members.extend(v),
                    s => members.push(s),
                }
            }
            TypeShape::OneOf(members)
        }
        "coercedTo" => TypeShape::OneOf(vec![nested("finalType"), nested("coercedType")]),
        _ => TypeShape::Any,
    }
}

/// What [`merge`] took from the evaluated schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Options only evaluation found (added).
    pub added: usize,
    /// Options whose type static extraction left unresolved, now typed.
    pub types: usize,
    /// Defaults, examples, descriptions and declarations filled in.
    pub fields: usize,
}

/// The static schema with what evaluation adds: options static extraction missed, and
/// for options both know, the type (when static extraction could not resolve it), default,
/// example, description and declaration where the static one has none. Static data wins
/// otherwise: it points at the exact source text and keeps the renames' targets.
pub fn merge(static_schema: &Schema, evaluated: &Schema) -> (Schema, MergeStats) {
    let mut stats = MergeStats::default();
    let mut options = static_schema.options.clone();
    let mut added = Vec::new();
    let unknown = OptionType::unknown();
    for e in &evaluated.options {
        let Ok(i) = options.binary_search_by(|o| o.path.cmp(&e.path)) else {
            // Shims are listed under their old path in the static schema: not options.
            if !static_schema.shims.iter().any(|s| s.from == e.path) {
                added.push(e.clone());
            }
            continue;
        };
        let o = &mut options[i];
        if o.ty == unknown && e.ty != unknown {
            o.ty = e.ty.clone();
            stats.types += 1;
        }
        for (mine, theirs) in [
            (&mut o.default, &e.default),
            (&mut o.example, &e.example),
            (&mut o.description, &e.description),
        ] {
            if mine.is_none() && theirs.is_some() {
                mine.clone_from(theirs);
                stats.fields += 1;
            }
        }
        if o.declaration.is_none() && e.declaration.is_some() {
            o.declaration.clone_from(&e.declaration);
            stats.fields += 1;
        }
    }
    stats.added = added.len();
    options.extend(added);
    let schema = Schema::new(
        static_schema.root.clone(),
        options,
        static_schema.shims.clone(),
    );
    (schema, stats)
}

#[cfg(test)]
mod tests;
