//! The salsa database: inputs (file texts and paths, workspace settings) and the tracked
//! queries every feature reads (parse, lowering, scopes, name resolution, liveness,
//! diagnostics). Setting an input cancels queries running on older snapshots.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rowan::GreenNode;

use crate::def::liveness::Liveness;
use crate::def::scope::{ModuleScopes, NameResolution};
use crate::def::{lower, Module, ModuleSourceMap, TextRange};
use crate::options::Schema;
use crate::settings::Settings;
use crate::syntax::ast::AstNode;
use crate::syntax::{self, LineIndex, SyntaxNode};

/// One Nix file: its absolute path (with `/` separators) and its current text.
#[salsa::input(debug)]
pub struct SourceFile {
    /// Absolute path; relative path literals resolve against its directory.
    #[returns(ref)]
    pub path: String,
    /// The full text.
    #[returns(ref)]
    pub text: String,
    /// The previous text's tree and the edit since, set by [`RootDatabase::set_file`]:
    /// `parse` reuses the tree when it can (the result is the same either way).
    #[returns(ref)]
    pub parse_hint: Option<ParseHint>,
}

/// What [`parse`] may start from: the tree of the file's previous text and the edit that
/// turned that text into the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseHint {
    /// The previous parse.
    pub old: ParsedFile,
    /// The previous text to the current one, as one edit.
    pub edit: syntax::reparse::TextEdit,
}

/// A `flake.lock` as the server read it from disk: its text (for position conversions) and
/// what it says, as plain data (the analyzer does no IO and does not parse lock files).
#[salsa::input(debug)]
pub struct FlakeLockFile {
    /// Absolute path of the `flake.lock`.
    #[returns(ref)]
    pub path: String,
    /// Its text (empty when missing).
    #[returns(ref)]
    pub text: String,
    /// What it pins, or why it cannot be read.
    #[returns(ref)]
    pub state: crate::flake::LockState,
}

/// Workspace-wide inputs: known files by path and the user's settings.
#[salsa::input(debug)]
pub struct Workspace {
    /// Every file the server loaded (open documents and files they import), by path.
    /// Keys are shared strings: the map is cloned for every file added, and cloning a
    /// thousand `String` keys each time made opening a workspace quadratic in allocations.
    #[returns(ref)]
    pub files: BTreeMap<Arc<str>, SourceFile>,
    /// The `flake.lock` of each flake directory the server looked at, by directory.
    #[returns(ref)]
    pub flake_locks: BTreeMap<String, FlakeLockFile>,
    /// The `strata` settings section.
    #[returns(ref)]
    pub settings: Settings,
}

/// Option schemas of the workspace's module trees (home-manager, NixOS), set by the
/// server from their sources; configuration modules are checked against them.
#[salsa::input(debug)]
pub struct OptionSchemas {
    /// The schemas, in the server's order of preference.
    #[returns(ref)]
    pub schemas: Vec<Arc<Schema>>,
}

/// The database trait every query takes.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The workspace input of this database.
    fn workspace(&self) -> Workspace;
    /// The option schemas input of this database.
    fn option_schemas(&self) -> OptionSchemas;
}

/// The concrete database: cheap to clone (a clone is a snapshot for one request).
#[salsa::db]
#[derive(Clone)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
    workspace: Option<Workspace>,
    option_schemas: Option<OptionSchemas>,
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

#[salsa::db]
impl Db for RootDatabase {
    fn workspace(&self) -> Workspace {
        self.workspace
            .expect("RootDatabase::new sets the workspace")
    }
    fn option_schemas(&self) -> OptionSchemas {
        self.option_schemas
            .expect("RootDatabase::new sets the option schemas")
    }
}

impl Default for RootDatabase {
    fn default() -> Self {
        Self::with_storage(salsa::Storage::default())
    }
}

/// Names of the queries that executed, recorded by a database made with [`RootDatabase::with_event_log`].
pub type EventLog = Arc<Mutex<Vec<String>>>;

impl RootDatabase {
    /// An empty database with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A database that records each query execution as `query(Id(n))` (for tests).
    pub fn with_event_log() -> (Self, EventLog) {
        let log = EventLog::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                sink.lock().unwrap().push(format!("{database_key:?}"));
            }
        })));
        (Self::with_storage(storage), log)
    }

    fn with_storage(storage: salsa::Storage<Self>) -> Self {
        let mut db = RootDatabase {
            storage,
            workspace: None,
            option_schemas: None,
        };
        db.workspace = Some(Workspace::new(
            &db,
            BTreeMap::new(),
            BTreeMap::new(),
            Settings::default(),
        ));
        db.option_schemas = Some(OptionSchemas::new(&db, Vec::new()));
        db
    }

    /// Adds a file, or updates its text when the path is known.
    pub fn set_file(&mut self, path: &str, text: String) -> SourceFile {
        use salsa::Setter;
        let ws = self.workspace();
        if let Some(file) = ws.files(self).get(path).copied() {
            if file.text(self) != &text {
                let edit = syntax::reparse::TextEdit::diff(file.text(self), &text);
                // A small edit: the old tree is usually memoized already (diagnostics ran on
                // the previous text), else it is itself reparsed from the hint before it. A
                // large one (a reload) would not reuse it, so it is not worth parsing.
                let small = usize::from(edit.delete.len()) + edit.insert.len() <= text.len() / 2;
                let hint = small.then(|| ParseHint {
                    old: parse(self, file).clone(),
                    edit,
                });
                file.set_text(self).to(text);
                if hint.is_some() || file.parse_hint(self).is_some() {
                    file.set_parse_hint(self).to(hint);
                }
            }
            return file;
        }
        let file = SourceFile::new(self, path.to_string(), text, None);
        let mut files = ws.files(self).clone();
        files.insert(path.into(), file);
        ws.set_files(self).to(files);
        file
    }

    /// The file at a path, if loaded.
    pub fn file(&self, path: &str) -> Option<SourceFile> {
        self.workspace().files(self).get(path).copied()
    }

    /// Sets what the `flake.lock` in directory `dir` says (only when it changed, so an
    /// unchanged lock keeps every memo).
    pub fn set_flake_lock(
        &mut self,
        dir: &str,
        path: String,
        text: String,
        state: crate::flake::LockState,
    ) -> FlakeLockFile {
        use salsa::Setter;
        let ws = self.workspace();
        if let Some(lock) = ws.flake_locks(self).get(dir).copied() {
            if lock.text(self) != &text {
                lock.set_text(self).to(text);
            }
            if lock.state(self) != &state {
                lock.set_state(self).to(state);
            }
            return lock;
        }
        let lock = FlakeLockFile::new(self, path, text, state);
        let mut locks = ws.flake_locks(self).clone();
        locks.insert(dir.to_string(), lock);
        ws.set_flake_locks(self).to(locks);
        lock
    }

    /// The lock of flake directory `dir`, if the server has read it.
    pub fn flake_lock(&self, dir: &str) -> Option<FlakeLockFile> {
        self.workspace().flake_locks(self).get(dir).copied()
    }

    /// Replaces the option schemas (only when they differ).
    pub fn set_option_schemas(&mut self, schemas: Vec<Arc<Schema>>) {
        use salsa::Setter;
        let input = self.option_schemas();
        if input.schemas(self) != &schemas {
            input.set_schemas(self).to(schemas);
        }
    }

    /// Replaces the settings (only when they differ, so equal settings keep every memo).
    pub fn set_settings(&mut self, settings: Settings) {
        use salsa::Setter;
        let ws = self.workspace();
        if ws.settings(self) != &settings {
            ws.set_settings(self).to(settings);
        }
    }
}

/// A parsed file: the green tree (thread-safe, cheap to clone) and its grammar errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    green: GreenNode,
    errors: Arc<[(TextRange, String)]>,
}

impl ParsedFile {
    /// The root syntax node (a fresh red tree over the shared green one).
    pub fn syntax(&self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.clone())
    }
    /// The green tree.
    pub fn green(&self) -> &GreenNode {
        &self.green
    }
    /// Grammar errors only; [`syntax_errors`] adds Nix's parse-time checks.
    pub fn errors(&self) -> &[(TextRange, String)] {
        &self.errors
    }
}

/// Parses a file: reuses the previous tree when the edit allows ([`syntax::reparse`]),
/// else parses the whole text. Nix's parse-time checks are in [`syntax_errors`], so
/// features that only need the tree never wait for them.
///
/// Only the 128 most recently used files keep it between revisions (salsa LRU); the
/// rest are rebuilt on demand, and the dependency edges stay, so nothing downstream re-runs.
#[salsa::tracked(returns(ref), lru = 128)]
pub fn parse(db: &dyn Db, file: SourceFile) -> ParsedFile {
    let text = file.text(db);
    if let Some(hint) = file.parse_hint(db) {
        if hint.old.errors.is_empty() {
            if let Some((green, how)) = syntax::reparse::reparse(&hint.old.green, &hint.edit, text)
            {
                tracing::trace!(?how, "reparsed incrementally");
                return ParsedFile {
                    green,
                    errors: Arc::new([]),
                };
            }
        }
    }
    let parse = syntax::parse_syntax_only(text);
    let errors: Vec<(TextRange, String)> = parse
        .errors()
        .iter()
        .map(|e| (e.range, e.message.to_string()))
        .collect();
    ParsedFile {
        green: parse.green,
        errors: errors.into(),
    }
}

/// Every syntax error of a file: grammar errors and the checks Nix makes while parsing
/// (duplicate attributes, undefined variables, ...), in source order, as `syntax::parse` gives them.
#[salsa::tracked(returns(ref))]
pub fn syntax_errors(db: &dyn Db, file: SourceFile) -> Arc<[(TextRange, String)]> {
    let parsed = parse(db, file);
    let mut errors: Vec<syntax::SyntaxError> = parsed
        .errors()
        .iter()
        .map(|(range, message)| syntax::SyntaxError {
            range: *range,
            message: message.clone(),
        })
        .collect();
    errors.extend(syntax::validate::validate_green(parsed.green()));
    errors.sort_by_key(|e| (e.range.start(), e.range.end()));
    errors.dedup();
    errors.into_iter().map(|e| (e.range, e.message)).collect()
}

/// What a `flake.nix` declares (inputs, outputs, …), read from its syntax tree.
#[salsa::tracked(returns(clone))]
pub fn flake_model(db: &dyn Db, file: SourceFile) -> Arc<crate::flake::FlakeModel> {
    use crate::syntax::ast::AstNode;
    let root = parse(db, file).syntax();
    let model = crate::syntax::ast::Root::cast(root)
        .map(|r| crate::flake::FlakeModel::from_root(&r))
        .unwrap_or_default();
    Arc::new(model)
}

/// The lock beside a `flake.nix` (by its directory), or `None` when the server has not read one.
pub fn flake_lock_of(db: &dyn Db, file: SourceFile) -> Option<FlakeLockFile> {
    let path = file.path(db);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    db.workspace().flake_locks(db).get(dir).copied()
}

/// Line starts of a file, for position conversions.
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn Db, file: SourceFile) -> Arc<LineIndex> {
    Arc::new(LineIndex::new(file.text(db)))
}

/// Files at least this long are lowered binding by binding (see [`module_with_source_map`]).
/// Below it, lowering the whole file takes a few milliseconds at most, and keeping each
/// value's fragment beside the module would double the memory of the lowered code (nixpkgs'
/// `lib/modules.nix`, 78 KB, was the language server's largest memo at 64 KiB).
pub const LOWER_BY_BINDING_MIN_BYTES: usize = 256 * 1024;

/// The lowered module together with its source map. In files of at least
/// [`LOWER_BY_BINDING_MIN_BYTES`], binding values come from [`lower_binding`], so an edit
/// inside one binding re-lowers only that value.
///
/// Only the 128 most recently used files keep it between revisions (salsa LRU); the
/// rest are rebuilt on demand, and the dependency edges stay, so nothing downstream re-runs.
#[salsa::tracked(returns(ref), lru = 128)]
pub fn module_with_source_map(
    db: &dyn Db,
    file: SourceFile,
) -> (Arc<Module>, Arc<ModuleSourceMap>) {
    let root = parse(db, file).syntax();
    let (module, source_map) = if file.text(db).len() >= LOWER_BY_BINDING_MIN_BYTES {
        lower_by_binding(db, &root)
    } else {
        lower::lower(&root)
    };
    (Arc::new(module), Arc::new(source_map))
}

/// Lowers a file with each binding value taken from (or added to) the [`lower_binding`] memos.
fn lower_by_binding(db: &dyn Db, root: &SyntaxNode) -> (Module, ModuleSourceMap) {
    let fragments =
        |green: &GreenNode| lower_binding(db, BindingValue::new(db, BindingKey(green.clone())));
    lower::lower_with(root, &fragments)
}

/// A binding's value as a syntax tree (interned: equal text, equal key, in any file).
#[salsa::interned(debug)]
pub struct BindingValue<'db> {
    /// The value's green node.
    #[returns(ref)]
    pub node: BindingKey,
}

/// A green node compared by content, but hashed by its kind, length and first few tokens
/// only (hashing the whole subtree of every binding after every edit cost more than
/// lowering it), and compared by address first (an edit keeps untouched subtrees).
#[derive(Debug, Clone, Eq)]
pub struct BindingKey(pub GreenNode);

impl PartialEq for BindingKey {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq::<rowan::GreenNodeData>(&*self.0, &*other.0) || self.0 == other.0
    }
}

impl std::hash::Hash for BindingKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        use rowan::NodeOrToken;
        /// Enough to tell apart the values of a package set (`callPackage ./path { }`).
        const TOKENS: usize = 12;
        self.0.kind().hash(state);
        self.0.text_len().hash(state);
        // The first tokens in source order.
        let mut stack = vec![self.0.children()];
        let mut seen = 0;
        while let Some(children) = stack.last_mut() {
            match children.next() {
                None => {
                    stack.pop();
                }
                Some(NodeOrToken::Node(n)) => stack.push(n.children()),
                Some(NodeOrToken::Token(t)) => {
                    t.kind().hash(state);
                    t.text().hash(state);
                    seen += 1;
                    if seen == TOKENS {
                        break;
                    }
                }
            }
        }
    }
}

/// One binding's value lowered on its own (position-independent, so it survives edits
/// elsewhere in the file that move it).
#[salsa::tracked(returns(clone))]
pub fn lower_binding<'db>(db: &'db dyn Db, value: BindingValue<'db>) -> Arc<lower::Fragment> {
    Arc::new(lower::lower_fragment(&value.node(db).0))
}

/// The lowered module; unchanged by edits to whitespace and comments (backdated).
#[salsa::tracked(returns(clone))]
pub fn module(db: &dyn Db, file: SourceFile) -> Arc<Module> {
    module_with_source_map(db, file).0.clone()
}

/// The module's map back to source ranges (kept for the 128 most recently used files).
#[salsa::tracked(returns(clone), lru = 128)]
pub fn source_map(db: &dyn Db, file: SourceFile) -> Arc<ModuleSourceMap> {
    module_with_source_map(db, file).1.clone()
}

/// The scope tree of a module (kept for the 128 most recently used files; others rebuild
/// it from their module, which stays, when a request needs it).
#[salsa::tracked(returns(clone), lru = 128)]
pub fn scopes(db: &dyn Db, file: SourceFile) -> Arc<ModuleScopes> {
    Arc::new(ModuleScopes::new(&module(db, file)))
}

/// What every variable use refers to (kept for the 128 most recently used files).
#[salsa::tracked(returns(clone), lru = 128)]
pub fn name_resolution(db: &dyn Db, file: SourceFile) -> Arc<NameResolution> {
    Arc::new(NameResolution::new(&module(db, file), &scopes(db, file)))
}

/// Unused definitions, `with`s and `rec`s.
#[salsa::tracked(returns(clone))]
pub fn liveness(db: &dyn Db, file: SourceFile) -> Arc<Liveness> {
    Arc::new(Liveness::new(&module(db, file), &name_resolution(db, file)))
}

/// Every diagnostic of a file after applying the settings.
#[salsa::tracked(returns(clone))]
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Arc<Vec<crate::diagnostics::Diagnostic>> {
    Arc::new(crate::ide::diagnostics::compute(db, file))
}

/// The option schema that applies to a file: `None` unless it is a configuration module
/// and one of the schemas knows what it sets.
#[salsa::tracked(returns(clone))]
pub fn option_schema(db: &dyn Db, file: SourceFile) -> Option<Arc<Schema>> {
    let schemas = db.option_schemas().schemas(db);
    if schemas.is_empty() {
        return None;
    }
    let root = crate::syntax::ast::Root::cast(parse(db, file).syntax())?;
    if !crate::ide::options::is_config_module(&root, file.path(db)) {
        return None;
    }
    let refs: Vec<&Schema> = schemas.iter().map(|s| &**s).collect();
    let i = crate::ide::options::pick_schema(&root, &refs)?;
    Some(schemas[i].clone())
}

/// Option diagnostics of a configuration module (with their quick fixes).
#[salsa::tracked(returns(clone))]
pub fn option_diagnostics(
    db: &dyn Db,
    file: SourceFile,
) -> Arc<Vec<crate::ide::options::diagnostics::OptionDiagnostic>> {
    let Some(schema) = option_schema(db, file) else {
        return Arc::new(Vec::new());
    };
    let Some(root) = crate::syntax::ast::Root::cast(parse(db, file).syntax()) else {
        return Arc::new(Vec::new());
    };
    Arc::new(crate::ide::options::diagnostics::option_diagnostics(
        &root, &schema,
    ))
}

/// Paths of the files a file imports with `import ./relative/path` (resolved, not checked).
#[salsa::tracked(returns(clone))]
pub fn imported_paths(db: &dyn Db, file: SourceFile) -> Arc<Vec<String>> {
    use crate::def::{Expr, Literal};
    let module = module(db, file);
    let mut out = Vec::new();
    for (_, e) in module.exprs.iter() {
        if let Expr::Apply(f, arg) = e {
            if let (Expr::Reference(name), Expr::Literal(Literal::Path(p))) =
                (&module.exprs[*f], &module.exprs[*arg])
            {
                if &**name == "import" {
                    if let Some(target) = resolve_path(file.path(db), p) {
                        out.push(target);
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Arc::new(out)
}

/// Resolves a relative or absolute path literal against the file that contains it.
pub fn resolve_path(file_path: &str, literal: &str) -> Option<String> {
    let joined = if literal.starts_with('/') {
        literal.to_string()
    } else if literal.starts_with("./") || literal.starts_with("../") {
        let dir = file_path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{literal}")
    } else {
        return None;
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The loaded file a path literal points to (a directory means its `default.nix`).
pub fn file_for_path(db: &dyn Db, from: SourceFile, literal: &str) -> Option<SourceFile> {
    let target = resolve_path(from.path(db), literal)?;
    let files = db.workspace().files(db);
    files
        .get(target.as_str())
        .or_else(|| files.get(format!("{target}/default.nix").as_str()))
        .copied()
}

#[cfg(test)]
mod tests {
    use salsa::plumbing::AsId;

    use super::*;

    fn run_all(db: &RootDatabase, files: &[SourceFile]) {
        for f in files {
            diagnostics(db, *f);
        }
    }

    fn take(log: &EventLog) -> Vec<String> {
        let mut v = std::mem::take(&mut *log.lock().unwrap());
        v.sort();
        v
    }

    /// `query(Id(n))` as the event log spells it.
    fn key(query: &str, file: SourceFile) -> String {
        format!("{query}({:?})", file.as_id())
    }

    #[test]
    fn editing_one_file_never_recomputes_another() {
        let (mut db, log) = RootDatabase::with_event_log();
        let a = db.set_file("/w/a.nix", "let x = 1; in x".into());
        let b = db.set_file("/w/b.nix", "{ y }: y".into());
        run_all(&db, &[a, b]);
        let first = take(&log);
        assert!(first.contains(&key("parse", b)) && first.contains(&key("parse", a)));
        db.set_file("/w/a.nix", "let x = 2; in x + 1".into());
        run_all(&db, &[a, b]);
        let mut expected: Vec<String> = [
            "diagnostics",
            "liveness",
            "module",
            "module_with_source_map",
            "name_resolution",
            "parse",
            "scopes",
            "source_map",
        ]
        .iter()
        .map(|q| key(q, a))
        .collect();
        expected.sort();
        let executed: Vec<String> = take(&log)
            .into_iter()
            .filter(|e| !e.starts_with("lower_binding(") && !e.starts_with("syntax_errors("))
            .collect();
        assert_eq!(executed, expected);
    }

    /// The names of the bindings' values lowered since the log was last taken.
    fn lowered_values(log: &EventLog) -> usize {
        take(log)
            .iter()
            .filter(|e| e.starts_with("lower_binding("))
            .count()
    }

    #[test]
    fn editing_one_binding_of_a_big_set_relowers_only_that_binding() {
        let (mut db, log) = RootDatabase::with_event_log();
        let bindings: String = (0..16000).map(|i| format!("  p{i} = f {i};\n")).collect();
        let text = format!("{{ f }}:\n{{\n{bindings}}}\n");
        assert!(text.len() >= LOWER_BY_BINDING_MIN_BYTES);
        let a = db.set_file("/w/a.nix", text.clone());
        run_all(&db, &[a]);
        assert_eq!(lowered_values(&log), 16000);
        // Typing in one value (which moves every binding after it).
        let edited = text.replace("p7 = f 7;", "p7 = f 70000;");
        db.set_file("/w/a.nix", edited.clone());
        let diags = diagnostics(&db, a);
        assert_eq!(lowered_values(&log), 1);
        // A new undefined name in that value is found; the module equals a full lowering.
        db.set_file("/w/a.nix", edited.replace("p7 = f 70000;", "p7 = g 70000;"));
        let after = diagnostics(&db, a);
        assert_eq!(lowered_values(&log), 1);
        assert_eq!(diags.len() + 1, after.len(), "{after:?}");
        let (module, source_map) = module_with_source_map(&db, a);
        let (full_module, full_map) = lower::lower(&parse(&db, a).syntax());
        assert_eq!(**module, full_module);
        assert_eq!(**source_map, full_map);
    }

    #[test]
    fn small_files_are_lowered_whole() {
        let (mut db, log) = RootDatabase::with_event_log();
        let bindings: String = (0..20).map(|i| format!("  p{i} = f {i};\n")).collect();
        let a = db.set_file("/w/a.nix", format!("{{ f }}:\n{{\n{bindings}}}\n"));
        run_all(&db, &[a]);
        assert_eq!(lowered_values(&log), 0);
        assert_eq!(
            module(&db, a).exprs.len(),
            lower::lower(&parse(&db, a).syntax()).0.exprs.len()
        );
    }

    #[test]
    fn lowering_by_binding_equals_lowering_the_whole_file_on_the_corpus() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|d| d.join("shared/corpus/nixpkgs-lib/lib"))
            .find(|d| d.is_dir())
            .expect("../shared/corpus beside the checkout");
        let mut db = RootDatabase::new();
        let mut checked = 0;
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "nix") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let file = db.set_file(&path.to_string_lossy(), text);
            let (module, source_map) = lower_by_binding(&db, &parse(&db, file).syntax());
            let (full_module, full_map) = lower::lower(&parse(&db, file).syntax());
            assert_eq!(module, full_module, "{path:?}");
            assert_eq!(source_map, full_map, "{path:?}");
            checked += 1;
        }
        assert!(checked > 20, "{checked} files");
    }

    #[test]
    fn parse_reuses_the_previous_tree_and_equals_a_full_parse() {
        let mut db = RootDatabase::new();
        let text = "{ a = foo bar; b = [ 1 2 ]; c = x: { inherit x; }; }";
        let a = db.set_file("/w/a.nix", text.into());
        parse(&db, a);
        for next in [
            "{ a = fooo bar; b = [ 1 2 ]; c = x: { inherit x; }; }",
            "{ a = fooo bar; b = [ 1 (2) ]; c = x: { inherit x; }; }",
            "{ a = fooo bar; b = [ 1 (2) ]; c = x: { inherit x y; }; }",
            "{ a = fooo bar; b = [ 1 (2) ]; c = x: { inherit x y; }; a = 1; }",
            "{ a = fooo bar; b = [ 1 (2) ; c = x: { inherit x y; }; a = 1; }",
            "{ a = fooo bar; b = [ 1 (2) ]; c = x: { inherit x y; }; a = 1; }",
        ] {
            db.set_file("/w/a.nix", next.into());
            let full = syntax::parse(next);
            assert!(parse(&db, a).green() == &full.green, "{next}");
            let errors: Vec<(TextRange, String)> = full
                .errors()
                .iter()
                .map(|e| (e.range, e.message.clone()))
                .collect();
            assert_eq!(&syntax_errors(&db, a)[..], &errors[..], "{next}");
        }
    }

    #[test]
    fn whitespace_edit_stops_at_lowering() {
        let (mut db, log) = RootDatabase::with_event_log();
        let a = db.set_file("/w/a.nix", "let x = \"a b\"; in x".into());
        let b = db.set_file("/w/b.nix", "let y = 1; in y".into());
        run_all(&db, &[a, b]);
        take(&log);
        // Whitespace between tokens: the module is equal, so analyses after it are reused.
        db.set_file("/w/a.nix", "let  x = \"a b\";\n in x".into());
        run_all(&db, &[a, b]);
        let executed = take(&log);
        assert!(
            executed.contains(&key("module_with_source_map", a)),
            "{executed:?}"
        );
        assert!(!executed.contains(&key("scopes", a)), "{executed:?}");
        assert!(
            !executed.contains(&key("name_resolution", a)),
            "{executed:?}"
        );
        // Whitespace inside a string changes a.nix's module, never b.nix's analysis.
        db.set_file("/w/a.nix", "let  x = \"a  b\";\n in x".into());
        run_all(&db, &[a, b]);
        let executed = take(&log);
        assert!(
            executed.contains(&key("name_resolution", a)),
            "{executed:?}"
        );
        assert!(
            !executed.contains(&key("name_resolution", b)),
            "{executed:?}"
        );
        assert!(
            !executed
                .iter()
                .any(|e| e.ends_with(&format!("({:?})", b.as_id()))),
            "{executed:?}"
        );
    }

    #[test]
    fn settings_change_only_recomputes_diagnostics() {
        let (mut db, log) = RootDatabase::with_event_log();
        let a = db.set_file("/w/a.nix", "let x = 1; in 2".into());
        assert_eq!(diagnostics(&db, a).len(), 1);
        take(&log);
        let mut settings = Settings::default();
        settings.diagnostics.ignored.push("unused-binding".into());
        db.set_settings(settings);
        assert!(diagnostics(&db, a).is_empty());
        assert_eq!(take(&log), vec![key("diagnostics", a)]);
    }

    #[test]
    fn per_file_memos_of_files_not_used_recently_are_dropped_and_rebuilt_on_demand() {
        use salsa::Database as _;
        let (mut db, log) = RootDatabase::with_event_log();
        let files: Vec<SourceFile> = (0..130)
            .map(|i| db.set_file(&format!("/w/f{i}.nix"), format!("let x{i} = {i}; in x{i}")))
            .collect();
        run_all(&db, &files);
        // The first files were used longest ago: beyond the LRU's 128, their trees go.
        db.trigger_lru_eviction();
        take(&log);
        let first = files[0];
        parse(&db, first);
        assert_eq!(take(&log), vec![key("parse", first)]);
        // The source map went the same way and is rebuilt; the module it came with stays.
        source_map(&db, first);
        let mut expected = vec![
            key("module_with_source_map", first),
            key("source_map", first),
        ];
        expected.sort();
        assert_eq!(take(&log), expected);
        // Scopes and name resolution are rebuilt from the module, which stayed.
        name_resolution(&db, first);
        let mut expected = vec![key("name_resolution", first), key("scopes", first)];
        expected.sort();
        assert_eq!(take(&log), expected);
        // Dropping them keeps what was computed from them: nothing downstream re-runs.
        run_all(&db, &files);
        assert_eq!(take(&log), Vec::<String>::new());
        // A recently used file kept its tree.
        parse(&db, files[129]);
        assert_eq!(take(&log), Vec::<String>::new());
    }

    #[test]
    fn resolves_relative_paths() {
        assert_eq!(
            resolve_path("/w/a/b.nix", "./c.nix").as_deref(),
            Some("/w/a/c.nix")
        );
        assert_eq!(resolve_path("/w/a/b.nix", "../../x").as_deref(), Some("/x"));
        assert_eq!(
            resolve_path("/w/a/b.nix", "/etc/nixos/").as_deref(),
            Some("/etc/nixos")
        );
        assert_eq!(resolve_path("/w/a/b.nix", "<nixpkgs>"), None);
    }
}
