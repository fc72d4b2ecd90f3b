//! Where option schemas come from, found without configuration, and their on-disk cache.
//!
//! Sources, in order: the settings `strata.options.homeManager` / `strata.options.nixos`;
//! the workspace flake's locked `home-manager` and `nixpkgs` inputs (the store path of a
//! locked input follows from its `narHash`: a recursive SHA-256 fixed-output path named
//! `source`), used when that path exists; the `home-manager` and `nixpkgs` entries of
//! `NIX_PATH`. The extracted schema is cached on disk, keyed by the store path (immutable)
//! or by a hash of the tree's `.nix` files, so a second start only reads one file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use strata_analyzer::options::{
    extract, Declaration, ExtractConfig, OptionDecl, OptionPath, OptionShim, OptionType, Schema,
    ShimKind, SourceTree, TextRange, TypeShape,
};

use crate::flake::lock::LockFile;
use crate::options_eval;
use crate::store::{Hash, HashAlgo, StoreDir};

/// Which module system a source tree declares options for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaKind {
    /// home-manager (`modules/modules.nix`).
    HomeManager,
    /// NixOS (`nixos/modules/module-list.nix` of a nixpkgs tree).
    Nixos,
}

impl SchemaKind {
    /// For log lines and cache names.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::HomeManager => "home-manager",
            SchemaKind::Nixos => "nixos",
        }
    }

    fn config(self, root: &str) -> ExtractConfig {
        match self {
            SchemaKind::HomeManager => ExtractConfig::home_manager(root),
            SchemaKind::Nixos => ExtractConfig::nixos(root),
        }
    }

    /// Whether `root` looks like a tree of this kind.
    fn fits(self, root: &Path) -> bool {
        match self {
            SchemaKind::HomeManager => root.join("modules/modules.nix").is_file(),
            SchemaKind::Nixos => root.join("nixos/modules/module-list.nix").is_file(),
        }
    }
}

/// A source tree to take a schema from, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSource {
    /// home-manager or NixOS.
    pub kind: SchemaKind,
    /// The tree's root directory.
    pub root: PathBuf,
    /// Where it was found, for the log: `setting strata.options.homeManager`, …
    pub origin: String,
}

/// Whether schemas are also evaluated (`strata.options.evaluate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EvalMode {
    /// Evaluate home-manager's option tree when a nixpkgs lib is found, and merge the result
    /// into the static schema; static only otherwise, or when evaluation fails.
    #[default]
    Auto,
    /// Static extraction only.
    Off,
}

/// The user's explicit choices (`strata.options.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSettings {
    /// `strata.options.homeManager`: a home-manager tree.
    pub home_manager: Option<PathBuf>,
    /// `strata.options.nixos`: a nixpkgs tree.
    pub nixos: Option<PathBuf>,
    /// `strata.options.evaluate`: `"auto"` (default) or `"off"`.
    pub evaluate: EvalMode,
}

/// The store path a locked input with this `narHash` was fetched to.
pub fn locked_source_path(nar_hash: &str, store_dir: &StoreDir) -> Option<PathBuf> {
    let hash = Hash::parse(nar_hash, Some(HashAlgo::Sha256)).ok()?;
    let path = store_dir.make_source_path(&hash, "source").ok()?;
    Some(PathBuf::from(store_dir.display(&path)))
}

/// Finds the option sources of a workspace: at most one per kind, settings first, then
/// the flake lock, then `NIX_PATH`.
pub fn discover(
    workspace: &Path,
    settings: &SourceSettings,
    nix_path: Option<&str>,
    store_dir: &StoreDir,
) -> Vec<OptionSource> {
    let mut found: Vec<OptionSource> = Vec::new();
    let mut add = |s: OptionSource| {
        if !found.iter().any(|f| f.kind == s.kind) && s.kind.fits(&s.root) {
            found.push(s);
        }
    };
    for (kind, path, key) in [
        (
            SchemaKind::HomeManager,
            &settings.home_manager,
            "homeManager",
        ),
        (SchemaKind::Nixos, &settings.nixos, "nixos"),
    ] {
        if let Some(p) = path {
            let root = if p.is_relative() {
                workspace.join(p)
            } else {
                p.clone()
            };
            add(OptionSource {
                kind,
                root,
                origin: format!("setting strata.options.{key}"),
            });
        }
    }
    if let Ok(text) = std::fs::read_to_string(workspace.join("flake.lock")) {
        if let Ok(lock) = LockFile::parse(&text) {
            for s in lock_sources(&lock, store_dir) {
                add(s);
            }
        }
    }
    for (name, kind) in [
        ("home-manager", SchemaKind::HomeManager),
        ("nixpkgs", SchemaKind::Nixos),
    ] {
        if let Some(root) = nix_path.and_then(|np| nix_path_entry(np, name)) {
            add(OptionSource {
                kind,
                root,
                origin: format!("NIX_PATH entry <{name}>"),
            });
        }
    }
    found
}

/// The locked `home-manager` / `nixpkgs` inputs of the root flake that are in the store.
fn lock_sources(lock: &LockFile, store_dir: &StoreDir) -> Vec<OptionSource> {
    let mut out = Vec::new();
    for name in lock.root_node().inputs.keys() {
        let Ok(key) = lock.resolve(std::slice::from_ref(name)) else {
            continue;
        };
        let Some(node) = lock.node(key) else { continue };
        let Some(locked) = &node.locked else { continue };
        let repo = locked
            .repo()
            .or(node.original.as_ref().and_then(|o| o.repo()));
        let kind = match (name.as_str(), repo) {
            ("home-manager", _) | (_, Some("home-manager")) => SchemaKind::HomeManager,
            ("nixpkgs", _) | (_, Some("nixpkgs")) => SchemaKind::Nixos,
            _ => continue,
        };
        let Some(nar_hash) = locked.nar_hash() else {
            continue;
        };
        let Some(root) = locked_source_path(nar_hash, store_dir) else {
            continue;
        };
        if root.is_dir() {
            out.push(OptionSource {
                kind,
                origin: format!("flake.lock input `{name}` ({nar_hash})"),
                root,
            });
        }
    }
    out
}

/// The nixpkgs `lib/` directory to evaluate option trees with, and where it was found:
/// the `lib/` of the `strata.options.nixos` tree, of the flake's locked `nixpkgs` input (when
/// in the store), or of `NIX_PATH`'s `<nixpkgs>`. Any tree with `lib/default.nix` counts, so
/// a nixpkgs.lib checkout serves too.
pub fn find_nixpkgs_lib(
    workspace: &Path,
    settings: &SourceSettings,
    nix_path: Option<&str>,
    store_dir: &StoreDir,
) -> Option<(PathBuf, String)> {
    let mut candidates: Vec<(PathBuf, String)> = Vec::new();
    if let Some(p) = &settings.nixos {
        let root = if p.is_relative() {
            workspace.join(p)
        } else {
            p.clone()
        };
        candidates.push((root, "setting strata.options.nixos".into()));
    }
    if let Ok(text) = std::fs::read_to_string(workspace.join("flake.lock")) {
        if let Ok(lock) = LockFile::parse(&text) {
            for name in lock.root_node().inputs.keys() {
                let Ok(key) = lock.resolve(std::slice::from_ref(name)) else {
                    continue;
                };
                let Some(locked) = lock.node(key).and_then(|n| n.locked.as_ref()) else {
                    continue;
                };
                if name != "nixpkgs" && locked.repo() != Some("nixpkgs") {
                    continue;
                }
                if let Some(root) = locked
                    .nar_hash()
                    .and_then(|h| locked_source_path(h, store_dir))
                {
                    candidates.push((root, format!("flake.lock input `{name}`")));
                }
            }
        }
    }
    if let Some(root) = nix_path.and_then(|np| nix_path_entry(np, "nixpkgs")) {
        candidates.push((root, "NIX_PATH entry <nixpkgs>".into()));
    }
    candidates
        .into_iter()
        .map(|(root, origin)| (root.join("lib"), origin))
        .find(|(lib, _)| lib.join("default.nix").is_file() && lib.join("modules.nix").is_file())
}

/// `name=path` in a `NIX_PATH`, or a plain entry containing `name`.
fn nix_path_entry(nix_path: &str, name: &str) -> Option<PathBuf> {
    for entry in nix_path.split(':').filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((n, p)) if n == name => return Some(PathBuf::from(p)),
            Some(_) => {}
            None => {
                let p = Path::new(entry).join(name);
                if p.is_dir() {
                    return Some(p);
                }
            }
        }
    }
    None
}

/// Reads the real file system for the extractor.
pub struct FsSource;

impl SourceTree for FsSource {
    fn read_file(&self, path: &str) -> Option<Arc<str>> {
        std::fs::read_to_string(path).ok().map(Arc::from)
    }
    fn read_dir(&self, path: &str) -> Option<Vec<(String, bool)>> {
        let rd = std::fs::read_dir(path).ok()?;
        Some(
            rd.filter_map(Result::ok)
                .map(|e| {
                    let dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    (e.file_name().to_string_lossy().into_owned(), dir)
                })
                .collect(),
        )
    }
}

/// How a schema was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaOrigin {
    /// Read from the on-disk cache.
    Cache,
    /// Extracted now (and written to the cache, when there is one).
    Extracted,
    /// Extracted and evaluated now, merged (and written to the cache, when there is one).
    Evaluated,
}

/// Errors of the schema cache (extraction itself cannot fail).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache file could not be read or written.
    #[error("option schema cache {path}: {source}")]
    Io {
        /// The cache file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The cache file is not a schema this version wrote.
    #[error("option schema cache {0}: unreadable, will be rebuilt")]
    Format(PathBuf),
}

/// Bumped whenever the extractor's output changes, so old caches are not reused.
const CACHE_VERSION: u32 = 1;

/// The cache key of a tree: its store path's base name when in the store (immutable), else
/// a SHA-256 over its `.nix` files' paths and contents.
pub fn cache_key(root: &Path, store_dir: &StoreDir) -> String {
    let s = root.to_string_lossy();
    if let Ok((sp, rest)) = store_dir.parse_path_prefix(&s) {
        if rest.is_empty() {
            return sp.base_name().to_owned();
        }
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "nix"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(
            f.strip_prefix(root)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.update([0]);
        if let Ok(bytes) = std::fs::read(&f) {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
    }
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The schema of a source: from the cache in `cache_dir` when present, else extracted
/// (and cached). Cache problems are logged and fall back to extraction.
pub fn load_schema(
    source: &OptionSource,
    cache_dir: Option<&Path>,
    store_dir: &StoreDir,
) -> (Schema, SchemaOrigin) {
    let started = Instant::now();
    let root = source.root.to_string_lossy().into_owned();
    let cache_file = cache_dir.map(|d| {
        d.join(format!(
            "options-v{CACHE_VERSION}-{}-{}.json",
            source.kind.name(),
            cache_key(&source.root, store_dir)
        ))
    });
    if let Some(schema) = from_cache(cache_file.as_deref(), source, "option schema", started) {
        return (schema, SchemaOrigin::Cache);
    }
    let (schema, stats) = extract(&FsSource, &source.kind.config(&root));
    tracing::info!(
        kind = source.kind.name(),
        options = schema.options.len(),
        shims = schema.shims.len(),
        files = stats.files,
        unknown = stats.unknown,
        ms = started.elapsed().as_millis() as u64,
        "option schema extracted from {}",
        source.root.display()
    );
    if let Some(file) = &cache_file {
        if let Err(e) = write_cache(file, &schema) {
            tracing::warn!("{e}");
        }
    }
    (schema, SchemaOrigin::Extracted)
}

/// The cached schema in `file`, if any (a broken cache is logged and ignored).
fn from_cache(
    file: Option<&Path>,
    source: &OptionSource,
    what: &str,
    started: Instant,
) -> Option<Schema> {
    let file = file?;
    match read_cache(file) {
        Ok(Some(mut schema)) => {
            schema.root = source.root.to_string_lossy().into_owned();
            tracing::info!(
                kind = source.kind.name(),
                options = schema.options.len(),
                ms = started.elapsed().as_millis() as u64,
                "{what} loaded from cache {}",
                file.display()
            );
            Some(schema)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

/// The schema of a source with the evaluated option tree merged in (home-manager trees,
/// with the nixpkgs lib directory `nixpkgs_lib`), from the cache keyed by both trees when
/// present. Falls back to the static schema ([`load_schema`]) for NixOS trees, without a
/// lib, or when evaluation fails (logged); a failed evaluation is not cached.
pub fn load_schema_evaluated(
    source: &OptionSource,
    nixpkgs_lib: Option<&Path>,
    cache_dir: Option<&Path>,
    store_dir: &StoreDir,
) -> (Schema, SchemaOrigin) {
    let Some(lib) = nixpkgs_lib.filter(|_| source.kind == SchemaKind::HomeManager) else {
        return load_schema(source, cache_dir, store_dir);
    };
    let started = Instant::now();
    let cache_file = cache_dir.map(|d| {
        d.join(format!(
            "options-v{CACHE_VERSION}-{}-evaluated-v{}-{}-{}.json",
            source.kind.name(),
            options_eval::EVAL_VERSION,
            cache_key(&source.root, store_dir),
            cache_key(lib, store_dir)
        ))
    });
    if let Some(schema) = from_cache(
        cache_file.as_deref(),
        source,
        "evaluated option schema",
        started,
    ) {
        return (schema, SchemaOrigin::Cache);
    }
    let (static_schema, static_origin) = load_schema(source, cache_dir, store_dir);
    let work_dir = cache_dir
        .map(Path::to_owned)
        .unwrap_or_else(|| std::env::temp_dir().join("strata-options"));
    let eval_started = Instant::now();
    match options_eval::evaluate_home_manager(&source.root, lib, &work_dir) {
        Ok((evaluated, eval_stats)) => {
            let (schema, merge_stats) = options_eval::merge(&static_schema, &evaluated);
            tracing::info!(
                kind = source.kind.name(),
                evaluated = evaluated.options.len(),
                added = merge_stats.added,
                typed = merge_stats.types,
                filled = merge_stats.fields,
                failed_fields = eval_stats.failed_fields,
                eval_ms = eval_started.elapsed().as_millis() as u64,
                "option tree of {} evaluated with {} and merged into the static schema",
                source.root.display(),
                lib.display()
            );
            if let Some(file) = &cache_file {
                if let Err(e) = write_cache(file, &schema) {
                    tracing::warn!("{e}");
                }
            }
            (schema, SchemaOrigin::Evaluated)
        }
        Err(e) => {
            tracing::warn!(
                "options: {e}; using the static schema of {}",
                source.root.display()
            );
            (static_schema, static_origin)
        }
    }
}

fn read_cache(file: &Path) -> Result<Option<Schema>, CacheError> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CacheError::Io {
                path: file.to_owned(),
                source,
            })
        }
    };
    let json: Json =
        serde_json::from_str(&text).map_err(|_| CacheError::Format(file.to_owned()))?;
    schema_from_json(&json)
        .map(Some)
        .ok_or_else(|| CacheError::Format(file.to_owned()))
}

fn write_cache(file: &Path, schema: &Schema) -> Result<(), CacheError> {
    let io = |source| CacheError::Io {
        path: file.to_owned(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Written aside and renamed, so a concurrent reader never sees half a file.
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, schema_to_json(schema).to_string()).map_err(io)?;
    std::fs::rename(&tmp, file).map_err(io)
}

// ---- the cache format: plain JSON of the schema's data -------------------------------

fn range_json(r: TextRange) -> Json {
    json!([u32::from(r.start()), u32::from(r.end())])
}

fn decl_json(d: &Option<Declaration>) -> Json {
    match d {
        Some(d) => json!({ "file": d.file, "range": range_json(d.range) }),
        None => Json::Null,
    }
}

fn shape_json(s: &TypeShape) -> Json {
    match s {
        TypeShape::Bool => json!("bool"),
        TypeShape::Int => json!("int"),
        TypeShape::Float => json!("float"),
        TypeShape::Number => json!("number"),
        TypeShape::Str => json!("str"),
        TypeShape::Path => json!("path"),
        TypeShape::Package => json!("package"),
        TypeShape::Submodule => json!("submodule"),
        TypeShape::Attrs => json!("attrs"),
        TypeShape::Function => json!("function"),
        TypeShape::Any => json!("any"),
        TypeShape::List(t) => json!({ "list": shape_json(t) }),
        TypeShape::AttrsOf(t) => json!({ "attrsOf": shape_json(t) }),
        TypeShape::NullOr(t) => json!({ "nullOr": shape_json(t) }),
        TypeShape::Enum(v) => json!({ "enum": v }),
        TypeShape::OneOf(v) => json!({ "oneOf": v.iter().map(shape_json).collect::<Vec<_>>() }),
    }
}

fn schema_to_json(schema: &Schema) -> Json {
    let options: Vec<Json> = schema
        .options
        .iter()
        .map(|o| {
            json!({
                "path": o.path.to_string(),
                "type": o.ty.description,
                "shape": shape_json(&o.ty.shape),
                "default": o.default,
                "example": o.example,
                "description": o.description,
                "readOnly": o.read_only,
                "hidden": o.hidden,
                "internal": o.internal,
                "declaration": decl_json(&o.declaration),
            })
        })
        .collect();
    let shims: Vec<Json> = schema
        .shims
        .iter()
        .map(|s| {
            let kind = match &s.kind {
                ShimKind::Renamed { to } => json!({ "renamed": to.to_string() }),
                ShimKind::Removed { message } => json!({ "removed": message }),
                ShimKind::Changed { to } => {
                    json!({ "changed": to.iter().map(|p| p.to_string()).collect::<Vec<_>>() })
                }
            };
            json!({ "from": s.from.to_string(), "kind": kind, "declaration": decl_json(&s.declaration) })
        })
        .collect();
    json!({ "version": CACHE_VERSION, "options": options, "shims": shims })
}

fn range_from(j: &Json) -> Option<TextRange> {
    let a = j.as_array()?;
    Some(TextRange::new(
        (a.first()?.as_u64()? as u32).into(),
        (a.get(1)?.as_u64()? as u32).into(),
    ))
}

fn decl_from(j: &Json) -> Option<Declaration> {
    Some(Declaration {
        file: j.get("file")?.as_str()?.to_owned(),
        range: range_from(j.get("range")?)?,
    })
}

fn shape_from(j: &Json) -> Option<TypeShape> {
    if let Some(s) = j.as_str() {
        return Some(match s {
            "bool" => TypeShape::Bool,
            "int" => TypeShape::Int,
            "float" => TypeShape::Float,
            "number" => TypeShape::Number,
            "str" => TypeShape::Str,
            "path" => TypeShape::Path,
            "package" => TypeShape::Package,
            "submodule" => TypeShape::Submodule,
            "attrs" => TypeShape::Attrs,
            "function" => TypeShape::Function,
            _ => TypeShape::Any,
        });
    }
    let (k, v) = j.as_object()?.iter().next()?;
    Some(match k.as_str() {
        "list" => TypeShape::List(Box::new(shape_from(v)?)),
        "attrsOf" => TypeShape::AttrsOf(Box::new(shape_from(v)?)),
        "nullOr" => TypeShape::NullOr(Box::new(shape_from(v)?)),
        "enum" => TypeShape::Enum(
            v.as_array()?
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
        ),
        "oneOf" => TypeShape::OneOf(v.as_array()?.iter().filter_map(shape_from).collect()),
        _ => TypeShape::Any,
    })
}

fn opt_str(j: &Json, k: &str) -> Option<String> {
    j.get(k)?.as_str().map(str::to_owned)
}

fn schema_from_json(j: &Json) -> Option<Schema> {
    if j.get("version")?.as_u64()? != u64::from(CACHE_VERSION) {
        return None;
    }
    let mut options = Vec::new();
    for o in j.get("options")?.as_array()? {
        options.push(OptionDecl {
            path: OptionPath::parse(o.get("path")?.as_str()?),
            ty: OptionType {
                description: opt_str(o, "type")?,
                shape: shape_from(o.get("shape")?)?,
            },
            default: opt_str(o, "default"),
            example: opt_str(o, "example"),
            description: opt_str(o, "description"),
            read_only: o.get("readOnly")?.as_bool()?,
            hidden: o.get("hidden")?.as_bool()?,
            internal: o.get("internal")?.as_bool()?,
            declaration: o.get("declaration").and_then(decl_from),
        });
    }
    let mut shims = Vec::new();
    for s in j.get("shims")?.as_array()? {
        let (k, v) = s.get("kind")?.as_object()?.iter().next()?;
        let kind = match k.as_str() {
            "renamed" => ShimKind::Renamed {
                to: OptionPath::parse(v.as_str()?),
            },
            "removed" => ShimKind::Removed {
                message: v.as_str()?.to_owned(),
            },
            _ => ShimKind::Changed {
                to: v
                    .as_array()?
                    .iter()
                    .filter_map(|p| p.as_str().map(OptionPath::parse))
                    .collect(),
            },
        };
        shims.push(OptionShim {
            from: OptionPath::parse(s.get("from")?.as_str()?),
            kind,
            declaration: s.get("declaration").and_then(decl_from),
        });
    }
    Some(Schema::new(String::new(), options, shims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> PathBuf {
        match std::env::var_os("STRATA_SHARED") {
            Some(p) => PathBuf::from(p),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        }
    }

    #[test]
    fn locked_source_path_is_what_nix_computes() {
        // `nix-store --print-fixed-path --recursive sha256 <hash> source` for the nixpkgs
        // input locked by the corpus's home-manager flake: where Nix fetches that input.
        let nar_hash = "sha256-WvvHR4kSQLAbtouMC/ruZ5UpLwlUcY3K4FAllMN+yGk=";
        let ours = locked_source_path(nar_hash, &StoreDir::nix()).unwrap();
        let out = std::process::Command::new("nix-store")
            .env("NIX_REMOTE", "local")
            .args(["--print-fixed-path", "--recursive", "sha256"])
            .arg(Hash::parse(nar_hash, None).unwrap().to_base32())
            .arg("source")
            .output()
            .expect("nix-store (Nix 2.8) must be installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            ours.to_string_lossy(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }

    #[test]
    fn discovery_order_settings_lock_nix_path() {
        let ws = tempfile::tempdir().unwrap();
        let hm = shared().join("corpus/home-manager");
        let store = tempfile::tempdir().unwrap();
        let store_dir = StoreDir::new(&store.path().to_string_lossy()).unwrap();
        // NIX_PATH only.
        let np = format!("nixpkgs=/nonexistent:home-manager={}", hm.display());
        let found = discover(ws.path(), &SourceSettings::default(), Some(&np), &store_dir);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SchemaKind::HomeManager);
        assert_eq!(found[0].origin, "NIX_PATH entry <home-manager>");

        // A flake lock whose home-manager input is "in the store" wins over NIX_PATH.
        let nar_hash = "sha256-WvvHR4kSQLAbtouMC/ruZ5UpLwlUcY3K4FAllMN+yGk=";
        let in_store = locked_source_path(nar_hash, &store_dir).unwrap();
        std::fs::create_dir_all(in_store.join("modules")).unwrap();
        std::fs::write(in_store.join("modules/modules.nix"), "{ ... }: [ ]").unwrap();
        let lock = format!(
            r#"{{"nodes":{{"home-manager":{{"locked":{{"lastModified":1,"narHash":"{nar_hash}","owner":"nix-community","repo":"home-manager","rev":"ec1a8fdf74ed3f276148ee106299a2ba0e65d51f","type":"github"}},"original":{{"owner":"nix-community","repo":"home-manager","type":"github"}}}},"root":{{"inputs":{{"home-manager":"home-manager"}}}}}},"root":"root","version":7}}"#
        );
        std::fs::write(ws.path().join("flake.lock"), lock).unwrap();
        let found = discover(ws.path(), &SourceSettings::default(), Some(&np), &store_dir);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].root, in_store);
        assert!(
            found[0]
                .origin
                .starts_with("flake.lock input `home-manager`"),
            "{}",
            found[0].origin
        );

        // An explicit setting wins over both.
        let settings = SourceSettings {
            home_manager: Some(hm.clone()),
            ..SourceSettings::default()
        };
        let found = discover(ws.path(), &settings, Some(&np), &store_dir);
        assert_eq!(found[0].root, hm);
        assert_eq!(found[0].origin, "setting strata.options.homeManager");
    }

    #[test]
    fn nixpkgs_lib_for_evaluation_from_settings_then_nix_path() {
        let ws = tempfile::tempdir().unwrap();
        let store_dir = StoreDir::nix();
        let np_root = shared().join("corpus/nixpkgs-lib");
        let none = find_nixpkgs_lib(ws.path(), &SourceSettings::default(), None, &store_dir);
        assert_eq!(none, None);
        let np = format!("nixpkgs={}", np_root.display());
        let (lib, origin) =
            find_nixpkgs_lib(ws.path(), &SourceSettings::default(), Some(&np), &store_dir).unwrap();
        assert_eq!(lib, np_root.join("lib"));
        assert_eq!(origin, "NIX_PATH entry <nixpkgs>");
        // The setting wins; a tree without lib/default.nix is passed over.
        let settings = SourceSettings {
            nixos: Some(shared().join("corpus")),
            ..SourceSettings::default()
        };
        let (_, origin) = find_nixpkgs_lib(ws.path(), &settings, Some(&np), &store_dir).unwrap();
        assert_eq!(origin, "NIX_PATH entry <nixpkgs>");
        let settings = SourceSettings {
            nixos: Some(np_root.clone()),
            ..SourceSettings::default()
        };
        let (lib, origin) = find_nixpkgs_lib(ws.path(), &settings, None, &store_dir).unwrap();
        assert_eq!(lib, np_root.join("lib"));
        assert_eq!(origin, "setting strata.options.nixos");
    }

    #[test]
    fn cache_round_trip_equals_extraction() {
        let hm = std::fs::canonicalize(shared().join("corpus/home-manager")).unwrap();
        let source = OptionSource {
            kind: SchemaKind::HomeManager,
            root: hm,
            origin: "test".into(),
        };
        let cache = tempfile::tempdir().unwrap();
        let store = StoreDir::nix();
        let (first, o1) = load_schema(&source, Some(cache.path()), &store);
        let (second, o2) = load_schema(&source, Some(cache.path()), &store);
        assert_eq!((o1, o2), (SchemaOrigin::Extracted, SchemaOrigin::Cache));
        assert!(first.options.len() > 5000);
        assert_eq!(first.options.len(), second.options.len());
        for (a, b) in first.options.iter().zip(&second.options) {
            assert_eq!(a, b);
        }
        for (a, b) in first.shims.iter().zip(&second.shims) {
            assert_eq!(a, b);
        }
        assert_eq!(first.shims.len(), second.shims.len());
        assert_eq!(first.root, second.root);
    }
}
