//! The `LanguageServer` implementation: document store, settings flow, diagnostics queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use salsa::Database as _;
use serde_json::Value;
use strata_analyzer::db::{RootDatabase, SourceFile};
use tokio::sync::{mpsc, Notify};
use tower_lsp::jsonrpc::{Error, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use super::apply::{self, settings::ApplySettings, Jobs};
use super::convert::PositionMap;
use super::dispatch;
use super::handlers;
use super::settings::ServerSettings;

/// During a burst of edits (two changes closer than this), diagnostics wait this long for
/// typing to pause, so fast typing publishes once; a lone edit is analysed right away.
const DIAGNOSTICS_DEBOUNCE: Duration = Duration::from_millis(15);
/// Documents whose diagnostics one snapshot computes before the parse LRU gets to drop
/// trees (at most the LRU's capacity, 128).
const DIAGNOSTICS_CHUNK: usize = 64;
/// Files imported by open documents are loaded from disk up to this size.
const MAX_IMPORTED_FILE_BYTES: u64 = 8 << 20;

/// An open document.
#[derive(Clone)]
pub struct Document {
    /// Its salsa input.
    pub file: SourceFile,
    /// The client's version of the text.
    pub version: i32,
    /// Line starts of the current text.
    pub map: Arc<PositionMap>,
}

/// Everything a request needs about one document, taken together with the snapshot.
#[derive(Clone)]
pub struct DocContext {
    /// The document's URI.
    pub uri: Url,
    /// Its salsa input.
    pub file: SourceFile,
    /// Line starts matching the snapshot's text.
    pub map: Arc<PositionMap>,
}

/// State shared by all handlers; held briefly (never across an await).
pub struct State {
    /// The master database; requests work on clones of it.
    pub db: RootDatabase,
    /// Open documents by URI.
    pub docs: HashMap<Url, Document>,
    /// Current settings.
    pub settings: ServerSettings,
    /// Whether the client answers `workspace/configuration`.
    pub pull_configuration: bool,
    /// Whether the client lets us register file watchers (for `flake.lock`).
    pub watch_registration: bool,
    /// Last semantic tokens sent per document (for delta requests).
    pub last_tokens: HashMap<Url, (String, Vec<SemanticToken>)>,
    /// Workspace folders (option sources are found from them).
    pub roots: Vec<std::path::PathBuf>,
    next_result_id: u64,
}

impl State {
    /// The state of a server that has not been initialized yet.
    pub fn new() -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            db: RootDatabase::new(),
            docs: HashMap::new(),
            settings: ServerSettings::default(),
            pull_configuration: false,
            watch_registration: false,
            last_tokens: HashMap::new(),
            roots: Vec::new(),
            next_result_id: 0,
        }))
    }

    /// A new result id for semantic tokens.
    pub fn next_result_id(&mut self) -> String {
        self.next_result_id += 1;
        self.next_result_id.to_string()
    }
}

/// The server.
pub struct StrataServer {
    client: Client,
    state: Arc<Mutex<State>>,
    queue: Arc<DiagnosticsQueue>,
    /// Apply, build and rollback jobs started from the editor.
    jobs: Arc<Jobs>,
}

/// Documents whose diagnostics need recomputing, most recently changed last.
#[derive(Default)]
struct DiagnosticsQueue {
    pending: Mutex<Vec<Url>>,
    /// When the last two pushes happened (to tell a burst from a lone edit).
    pushes: Mutex<(Option<Instant>, Option<Instant>)>,
    wake: Notify,
}

impl DiagnosticsQueue {
    fn push(&self, uri: Url) {
        let mut pending = self.pending.lock().unwrap();
        pending.retain(|u| u != &uri);
        pending.push(uri);
        drop(pending);
        let mut pushes = self.pushes.lock().unwrap();
        *pushes = (pushes.1, Some(Instant::now()));
        drop(pushes);
        self.wake.notify_one();
    }

    /// How long to wait before analysing: nothing after a lone edit; during a burst,
    /// until [`DIAGNOSTICS_DEBOUNCE`] has passed since the last edit.
    fn pause(&self) -> Option<Duration> {
        let (before, last) = *self.pushes.lock().unwrap();
        pause_after(before, last, Instant::now())
    }
    fn take(&self) -> Vec<Url> {
        let mut v = std::mem::take(&mut *self.pending.lock().unwrap());
        // The document being typed in goes first.
        v.reverse();
        v
    }
}

impl StrataServer {
    /// Creates the server (tower-lsp calls this with the client handle) around `state`,
    /// which [`intercept`] shares.
    pub fn new(client: Client, paths: apply::Paths, state: Arc<Mutex<State>>) -> Self {
        StrataServer {
            client,
            state,
            queue: Arc::new(DiagnosticsQueue::default()),
            jobs: Arc::new(Jobs::new(paths)),
        }
    }

    /// `window/workDoneProgress/cancel`: stops the job that owns the token.
    pub async fn cancel_progress(&self, params: WorkDoneProgressCancelParams) {
        self.jobs.cancel(&params.token);
    }

    fn apply_settings_now(&self) -> ApplySettings {
        ApplySettings::from_raw(&self.state.lock().unwrap().settings.raw)
    }

    /// Republishes files whose apply diagnostics changed: open ones through the
    /// diagnostics queue (merged with the analysis), others directly.
    async fn republish_apply_diagnostics(&self) {
        for uri in self.jobs.take_dirty() {
            let open = self.state.lock().unwrap().docs.contains_key(&uri);
            if open {
                self.queue.push(uri);
            } else {
                let diags = self.jobs.diagnostics_for(&uri);
                self.client.publish_diagnostics(uri, diags, None).await;
            }
        }
    }

    /// A snapshot of the database plus the document's context; errors if it is not open.
    pub fn snapshot(&self, uri: &Url) -> Result<(RootDatabase, DocContext)> {
        snapshot_of(&self.state, uri)
    }

    /// Runs a feature on a snapshot for one document.
    async fn with_doc<T, F>(&self, what: &'static str, uri: &Url, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&RootDatabase, &DocContext) -> Result<T> + Send + 'static,
    {
        let (db, ctx) = self.snapshot(uri)?;
        dispatch::on_snapshot(what, db, move |db| f(db, &ctx)).await?
    }

    fn apply_settings(&self, settings: ServerSettings) {
        tracing::debug!("settings: {}", settings.raw);
        let mut state = self.state.lock().unwrap();
        state.db.set_settings(settings.analyzer.clone());
        state.settings = settings;
        let uris: Vec<Url> = state.docs.keys().cloned().collect();
        drop(state);
        for uri in uris {
            self.queue.push(uri);
        }
    }

    /// Finds the option sources again and loads their schemas (off the async threads),
    /// then rechecks the open documents.
    async fn reload_option_schemas(&self) {
        let (roots, raw) = {
            let state = self.state.lock().unwrap();
            (state.roots.clone(), state.settings.raw.clone())
        };
        let loaded = tokio::task::spawn_blocking(move || super::options::load(&roots, &raw)).await;
        let Ok(schemas) = loaded else {
            tracing::warn!("options: loading the option schemas failed");
            return;
        };
        let mut state = self.state.lock().unwrap();
        state.db.set_option_schemas(schemas);
        let uris: Vec<Url> = state.docs.keys().cloned().collect();
        drop(state);
        for uri in uris {
            self.queue.push(uri);
        }
    }

    async fn pull_configuration(&self) {
        let items = vec![ConfigurationItem {
            scope_uri: None,
            section: Some("strata".into()),
        }];
        match self.client.configuration(items).await {
            Ok(values) => {
                if let Some(s) = values.first().and_then(ServerSettings::from_any) {
                    self.apply_settings(s);
                }
            }
            Err(err) => tracing::warn!("workspace/configuration failed: {err}"),
        }
    }

    fn spawn_diagnostics_worker(&self) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Publish>();
        let client = self.client.clone();
        tokio::spawn(async move {
            while let Some((uri, version, diags)) = rx.recv().await {
                client.publish_diagnostics(uri, diags, version).await;
            }
        });
        let state = self.state.clone();
        let queue = self.queue.clone();
        let jobs = self.jobs.clone();
        let thread = match AnalysisThread::spawn() {
            Ok(thread) => thread,
            Err(err) => {
                tracing::error!("cannot start the diagnostics thread: {err}");
                return;
            }
        };
        tokio::spawn(async move {
            loop {
                queue.wake.notified().await;
                // Edits cancel an analysis in progress, so without a pause each keystroke
                // of fast typing would start (and abandon) one: wait while a burst lasts.
                while let Some(pause) = queue.pause() {
                    tokio::time::sleep(pause).await;
                }
                let batch = queue.take();
                if batch.is_empty() {
                    continue;
                }
                // In chunks: salsa drops the syntax trees beyond the parse LRU only between
                // revisions, so one pass over a thousand opened files would otherwise hold
                // all their trees at once (the peak memory of opening a workspace).
                let chunks: Vec<Vec<Url>> = batch
                    .chunks(DIAGNOSTICS_CHUNK)
                    .map(<[Url]>::to_vec)
                    .collect();
                let many = chunks.len() > 1;
                for (i, chunk) in chunks.iter().enumerate() {
                    let done =
                        diagnostics_chunk(&thread, &state, &queue, &jobs, &tx, chunk.clone()).await;
                    if !done {
                        for rest in &chunks[i + 1..] {
                            for uri in rest {
                                queue.push(uri.clone());
                            }
                        }
                        break;
                    }
                    if many {
                        // Waits for running requests to finish or unwind, like an edit
                        // does; only large batches (opening many files) get here.
                        state.lock().unwrap().db.trigger_lru_eviction();
                    }
                }
            }
        });
    }

    /// Reads `DIR/flake.lock` into the database, republishes its own findings and requeues
    /// the open documents of that directory (their hovers and diagnostics depend on it).
    async fn reload_flake_lock(&self, dir: &str) {
        // Read and set before the first await, so requests that follow this notification see
        // the new lock; hashing path inputs comes after, off the async threads.
        let (path, text, lock) = super::flake::read_lock(dir);
        let check_paths = super::flake::has_path_inputs(&lock);
        self.set_flake_lock(dir, path.clone(), text.clone(), lock)
            .await;
        if check_paths {
            let (d, t) = (dir.to_string(), text.clone());
            if let Ok(checked) =
                tokio::task::spawn_blocking(move || super::flake::with_path_checks(&d, &t)).await
            {
                self.set_flake_lock(dir, path, text, checked).await;
            }
        }
    }

    async fn set_flake_lock(
        &self,
        dir: &str,
        path: String,
        text: String,
        lock: strata_analyzer::flake::LockState,
    ) {
        let (published, requeue) = {
            let mut state = self.state.lock().unwrap();
            let lock = state.db.set_flake_lock(dir, path, text, lock);
            let published = super::flake::lock_diagnostics(&state.db, lock);
            let prefix = format!("{}/", dir.trim_end_matches('/'));
            let requeue: Vec<Url> = state
                .docs
                .keys()
                .filter(|u| uri_to_path(u).starts_with(&prefix))
                .cloned()
                .collect();
            (published, requeue)
        };
        for uri in requeue {
            self.queue.push(uri);
        }
        if let Some((uri, diags)) = published {
            self.client.publish_diagnostics(uri, diags, None).await;
        }
    }
}

/// Applies a document notification to the state at once, in the order the client sent it:
/// the stdio layer calls this before it hands the message on, because it answers some
/// requests itself ([`intercept`]) and those must see every edit sent before them.
/// tower-lsp's handlers then only react (diagnostics, flake locks). Malformed params
/// change nothing here; tower-lsp reports them.
pub fn apply_document_notification(state: &Mutex<State>, method: &str, body: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Notification<P> {
        params: P,
    }
    fn params<P: serde::de::DeserializeOwned>(body: &[u8]) -> Option<P> {
        serde_json::from_slice::<Notification<P>>(body)
            .ok()
            .map(|n| n.params)
    }
    match method {
        "textDocument/didOpen" => {
            if let Some(p) = params::<DidOpenTextDocumentParams>(body) {
                let doc = p.text_document;
                open_document(state, doc.uri, doc.version, doc.text);
            }
        }
        "textDocument/didChange" => {
            if let Some(p) = params::<DidChangeTextDocumentParams>(body) {
                change_document(state, p);
            }
        }
        "textDocument/didClose" => {
            if let Some(p) = params::<DidCloseTextDocumentParams>(body) {
                state.lock().unwrap().docs.remove(&p.text_document.uri);
            }
        }
        _ => {}
    }
}

/// Sets an opened document's text.
fn open_document(state: &Mutex<State>, uri: Url, version: i32, text: String) {
    let path = uri_to_path(&uri);
    let map = Arc::new(PositionMap::new(&text));
    let mut state = state.lock().unwrap();
    let file = state.db.set_file(&path, text);
    state.docs.insert(uri, Document { file, version, map });
}

/// Applies a didChange's edits to an open document's text.
fn change_document(state: &Mutex<State>, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let mut state = state.lock().unwrap();
    let Some(doc) = state.docs.get(&uri).cloned() else {
        tracing::warn!("didChange for {uri}, which is not open");
        return;
    };
    let mut text = doc.file.text(&state.db).clone();
    let mut map = doc.map.clone();
    for change in params.content_changes {
        match change.range {
            Some(range) => match map.text_range(&text, range) {
                Some(r) => {
                    text.replace_range(usize::from(r.start())..usize::from(r.end()), &change.text);
                }
                None => {
                    tracing::warn!("didChange range {range:?} is outside {uri}");
                    continue;
                }
            },
            None => text = change.text,
        }
        map = Arc::new(PositionMap::new(&text));
    }
    let path = uri_to_path(&uri);
    let file = state.db.set_file(&path, text);
    let version = params.text_document.version;
    state.docs.insert(uri, Document { file, version, map });
}

/// A snapshot of the database plus the document's context; errors if it is not open.
fn snapshot_of(state: &Mutex<State>, uri: &Url) -> Result<(RootDatabase, DocContext)> {
    let state = state.lock().unwrap();
    let doc = state.docs.get(uri).ok_or_else(|| {
        Error::invalid_params(format!(
            "{uri} is not open (send textDocument/didOpen first)"
        ))
    })?;
    let ctx = DocContext {
        uri: uri.clone(),
        file: doc.file,
        map: doc.map.clone(),
    };
    Ok((state.db.clone(), ctx))
}

/// Runs a feature on a snapshot for one document (what [`StrataServer::with_doc`] does).
async fn on_doc<T, F>(state: &Mutex<State>, what: &'static str, uri: &Url, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&RootDatabase, &DocContext) -> Result<T> + Send + 'static,
{
    let (db, ctx) = snapshot_of(state, uri)?;
    dispatch::on_snapshot(what, db, move |db| f(db, &ctx)).await?
}

async fn document_symbol(
    state: &Mutex<State>,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let uri = &params.text_document.uri;
    on_doc(state, "documentSymbol", uri, handlers::document_symbols).await
}

async fn completion(
    state: &Mutex<State>,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let pos = params.text_document_position;
    on_doc(
        state,
        "completion",
        &pos.text_document.uri,
        move |db, ctx| handlers::completion(db, ctx, pos.position),
    )
    .await
}

async fn hover(state: &Mutex<State>, params: HoverParams) -> Result<Option<Hover>> {
    let pos = params.text_document_position_params;
    on_doc(state, "hover", &pos.text_document.uri, move |db, ctx| {
        handlers::hover(db, ctx, pos.position)
    })
    .await
}

async fn goto_definition(
    state: &Mutex<State>,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let pos = params.text_document_position_params;
    on_doc(
        state,
        "definition",
        &pos.text_document.uri,
        move |db, ctx| handlers::goto_definition(db, ctx, pos.position),
    )
    .await
}

async fn references(
    state: &Mutex<State>,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    let pos = params.text_document_position;
    let include_decl = params.context.include_declaration;
    on_doc(
        state,
        "references",
        &pos.text_document.uri,
        move |db, ctx| handlers::references(db, ctx, pos.position, include_decl),
    )
    .await
}

/// The `params` of a JSON-RPC request.
#[derive(serde::Deserialize)]
struct RequestParams<P> {
    params: P,
}

/// A JSON-RPC response, serialized field by field like tower-lsp's.
#[derive(serde::Serialize)]
struct Reply<'a, T> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Error>,
    id: &'a Value,
}

/// Offered every message by the stdio layer, in arrival order, between `initialize` and
/// `shutdown`. Document notifications (`id` is `None`) are applied at once and handed on
/// ([`apply_document_notification`]). The requests that are frequent or whose results can
/// be large are answered here, serialized straight to JSON bytes; for everything else
/// `None`: tower-lsp answers it.
///
/// tower-lsp first turns every result into a `serde_json::Value` tree, with a map of a few
/// hundred bytes for each position: the symbols of a 4,700-line file took 5 MiB at once
/// for 0.5 MB of JSON, the largest part of the server's peak memory in the `requests`
/// benchmark. The stdio layer honours `$/cancelRequest` for these (and an edit cancels
/// them, as it does every request on an older snapshot).
pub fn intercept(
    state: &Arc<Mutex<State>>,
    method: &str,
    id: Option<&Value>,
    body: &[u8],
) -> Option<super::transport::DirectAnswer> {
    let Some(id) = id else {
        apply_document_notification(state, method, body);
        return None;
    };
    let state = state.clone();
    Some(match method {
        "textDocument/documentSymbol" => reply(id, body, move |p| async move {
            document_symbol(&state, p).await
        }),
        "textDocument/completion" => {
            reply(
                id,
                body,
                move |p| async move { completion(&state, p).await },
            )
        }
        "textDocument/hover" => reply(id, body, move |p| async move { hover(&state, p).await }),
        "textDocument/definition" => reply(id, body, move |p| async move {
            goto_definition(&state, p).await
        }),
        "textDocument/references" => {
            reply(
                id,
                body,
                move |p| async move { references(&state, p).await },
            )
        }
        _ => return None,
    })
}

/// The response to request `id` (frame `body`): `answer` applied to its params.
fn reply<P, R, Fut>(
    id: &Value,
    body: &[u8],
    answer: impl FnOnce(P) -> Fut + Send + 'static,
) -> super::transport::DirectAnswer
where
    P: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize,
    Fut: std::future::Future<Output = Result<R>> + Send + 'static,
{
    let parsed = serde_json::from_slice::<RequestParams<P>>(body);
    let id = id.clone();
    Box::pin(async move {
        let answer = match parsed {
            Ok(request) => answer(request.params).await,
            Err(err) => Err(Error::invalid_params(err.to_string())),
        };
        let (result, error) = match answer {
            Ok(result) => (Some(result), None),
            Err(err) => (None, Some(err)),
        };
        let reply = Reply {
            jsonrpc: "2.0",
            result,
            error,
            id: &id,
        };
        serde_json::to_vec(&reply).unwrap_or_else(|err| {
            tracing::error!("answer to request {id} not serializable: {err}");
            let failed = Reply::<()> {
                jsonrpc: "2.0",
                result: None,
                error: Some(Error::internal_error()),
                id: &id,
            };
            serde_json::to_vec(&failed).unwrap_or_default()
        })
    })
}

/// [`DiagnosticsQueue::pause`] at time `now`, given the times of the last two pushes.
fn pause_after(before: Option<Instant>, last: Option<Instant>, now: Instant) -> Option<Duration> {
    let last = last?;
    let burst = before.is_some_and(|b| last.duration_since(b) < DIAGNOSTICS_DEBOUNCE);
    let quiet = now.saturating_duration_since(last);
    (burst && quiet < DIAGNOSTICS_DEBOUNCE).then(|| DIAGNOSTICS_DEBOUNCE - quiet)
}

/// A diagnostics publish: document, version, diagnostics.
type Publish = (Url, Option<i32>, Vec<Diagnostic>);

/// Computes and sends the diagnostics of some open documents on one snapshot, then loads
/// the files they import. Returns false when an edit cancelled the snapshot (the unfinished
/// documents are queued again).
async fn diagnostics_chunk(
    thread: &AnalysisThread,
    state: &Arc<Mutex<State>>,
    queue: &Arc<DiagnosticsQueue>,
    jobs: &Arc<Jobs>,
    tx: &mpsc::UnboundedSender<Publish>,
    batch: Vec<Url>,
) -> bool {
    let (db, work) = {
        let state = state.lock().unwrap();
        let work: Vec<(Url, Document)> = batch
            .into_iter()
            .filter_map(|u| state.docs.get(&u).cloned().map(|d| (u, d)))
            .collect();
        (state.db.clone(), work)
    };
    let tx = tx.clone();
    let jobs = jobs.clone();
    let outcome = thread
        .run(move || {
            let mut imports = Vec::new();
            for (i, (uri, doc)) in work.iter().enumerate() {
                let result = dispatch::run_caught("diagnostics", &db, |db| {
                    let diags = handlers::diagnostics(db, uri, doc);
                    let imported = strata_analyzer::db::imported_paths(db, doc.file);
                    let unknown: Vec<String> = imported
                        .iter()
                        .filter(|p| db.file(p).is_none())
                        .cloned()
                        .collect();
                    (diags, unknown)
                });
                match result {
                    Ok((mut diags, unknown)) => {
                        diags.extend(jobs.diagnostics_for(uri));
                        let _ = tx.send((uri.clone(), Some(doc.version), diags));
                        imports.extend(unknown);
                    }
                    // Cancelled by an edit: hand the rest back to the queue.
                    Err(_) => return (work[i..].to_vec(), imports),
                }
            }
            (Vec::new(), imports)
        })
        .await;
    match outcome {
        Some((requeue, imports)) => {
            let done = requeue.is_empty();
            for (uri, _) in requeue {
                queue.push(uri);
            }
            load_imports(state, imports);
            done
        }
        None => false,
    }
}

/// The one long-lived thread that computes diagnostics. Most memos (lowered modules, scopes,
/// diagnostics of every open file) are built there, so they share one allocator heap:
/// mimalloc keeps partly used pages per thread, and spreading the same work over the tokio
/// blocking pool (a dozen threads or more while a workspace opens) nearly doubled the
/// resident size of the same data.
struct AnalysisThread {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl AnalysisThread {
    fn spawn() -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("strata-diagnostics".into())
            .stack_size(super::ANALYSIS_STACK_BYTES)
            .spawn(move || {
                for job in queue {
                    // Jobs catch their own panics; this keeps the thread alive regardless.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })?;
        Ok(AnalysisThread { jobs })
    }

    /// Runs `f` on the thread; `None` if it panicked.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }
}

/// Reads files that open documents import and adds them to the database (IO stays here).
fn load_imports(state: &Mutex<State>, paths: Vec<String>) {
    let mut loaded = Vec::new();
    for path in paths {
        let p = std::path::Path::new(&path);
        let p = if p.is_dir() {
            p.join("default.nix")
        } else {
            p.to_path_buf()
        };
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() && m.len() <= MAX_IMPORTED_FILE_BYTES => {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    loaded.push((p.to_string_lossy().into_owned(), text));
                }
            }
            _ => {}
        }
    }
    if loaded.is_empty() {
        return;
    }
    let mut state = state.lock().unwrap();
    for (path, text) in loaded {
        if state.db.file(&path).is_none() {
            state.db.set_file(&path, text);
        }
    }
}

/// The path the analyzer uses for a URI: the file path, or the URI itself for other schemes.
pub fn uri_to_path(uri: &Url) -> String {
    match uri.to_file_path() {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(()) => uri.to_string(),
    }
}

/// The URI of an analyzer path.
pub fn path_to_uri(path: &str) -> Option<Url> {
    Url::from_file_path(path)
        .ok()
        .or_else(|| Url::parse(path).ok())
}

#[tower_lsp::async_trait]
impl LanguageServer for StrataServer {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        {
            let mut state = self.state.lock().unwrap();
            #[allow(deprecated)]
            let root_uri = params.root_uri.clone();
            state.roots = match &params.workspace_folders {
                Some(folders) if !folders.is_empty() => folders
                    .iter()
                    .map(|f| std::path::PathBuf::from(uri_to_path(&f.uri)))
                    .collect(),
                _ => root_uri
                    .iter()
                    .map(|u| std::path::PathBuf::from(uri_to_path(u)))
                    .collect(),
            };
            state.pull_configuration = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.configuration)
                .unwrap_or(false);
            state.watch_registration = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|w| w.dynamic_registration)
                .unwrap_or(false);
        }
        if let Some(s) = params
            .initialization_options
            .as_ref()
            .and_then(ServerSettings::from_any)
        {
            self.apply_settings(s);
        }
        self.spawn_diagnostics_worker();
        Ok(InitializeResult {
            capabilities: handlers::capabilities(),
            server_info: Some(ServerInfo {
                name: "strata".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let watch = self.state.lock().unwrap().watch_registration;
        if watch {
            let registration = super::flake::watcher_registration();
            if let Err(err) = self.client.register_capability(vec![registration]).await {
                tracing::warn!("registering the flake.lock watcher failed: {err}");
            }
        }
        let pull = self.state.lock().unwrap().pull_configuration;
        if pull {
            self.pull_configuration().await;
        }
        self.reload_option_schemas().await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    // The stdio layer has applied didOpen/didChange/didClose already
    // ([`apply_document_notification`]); these handlers react to them.
    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri;
        let path = uri_to_path(&uri);
        self.queue.push(uri);
        if let Some(dir) = super::flake::flake_dir_of(&path) {
            let known = self.state.lock().unwrap().db.flake_lock(dir).is_some();
            if !known {
                self.reload_flake_lock(dir).await;
            }
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            let path = uri_to_path(&change.uri);
            if let Some(dir) = path.strip_suffix("/flake.lock") {
                self.reload_flake_lock(dir).await;
            }
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let open = self.state.lock().unwrap().docs.contains_key(&uri);
        if open {
            self.queue.push(uri);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let before = self.state.lock().unwrap().settings.raw["options"].clone();
        match ServerSettings::from_any(&params.settings) {
            Some(s) if params.settings != Value::Null => self.apply_settings(s),
            _ => self.pull_configuration().await,
        }
        let after = self.state.lock().unwrap().settings.raw["options"].clone();
        if before != after {
            self.reload_option_schemas().await;
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        completion(&self.state, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        hover(&self.state, params).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        goto_definition(&self.state, params).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        references(&self.state, params).await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.with_doc(
            "prepareRename",
            &params.text_document.uri,
            move |db, ctx| handlers::prepare_rename(db, ctx, params.position),
        )
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let pos = params.text_document_position;
        let new_name = params.new_name;
        self.with_doc("rename", &pos.text_document.uri, move |db, ctx| {
            handlers::rename(db, ctx, pos.position, &new_name)
        })
        .await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let pos = params.text_document_position_params;
        self.with_doc(
            "documentHighlight",
            &pos.text_document.uri,
            move |db, ctx| handlers::document_highlight(db, ctx, pos.position),
        )
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        document_symbol(&self.state, params).await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        let db = self.state.lock().unwrap().db.clone();
        dispatch::on_snapshot("workspaceSymbol", db, move |db| {
            handlers::workspace_symbols(db, &params.query)
        })
        .await?
    }

    async fn selection_range(
        &self,
        params: SelectionRangeParams,
    ) -> Result<Option<Vec<SelectionRange>>> {
        let positions = params.positions;
        self.with_doc(
            "selectionRange",
            &params.text_document.uri,
            move |db, ctx| handlers::selection_ranges(db, ctx, &positions),
        )
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.with_doc("foldingRange", &params.text_document.uri, move |db, ctx| {
            handlers::folding_ranges(db, ctx)
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let uri = params.text_document.uri;
        let data = self
            .with_doc("semanticTokens", &uri, move |db, ctx| {
                handlers::semantic_tokens(db, ctx, None)
            })
            .await?;
        let mut state = self.state.lock().unwrap();
        let id = state.next_result_id();
        state.last_tokens.insert(uri, (id.clone(), data.clone()));
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: Some(id),
            data,
        })))
    }

    async fn semantic_tokens_full_delta(
        &self,
        params: SemanticTokensDeltaParams,
    ) -> Result<Option<SemanticTokensFullDeltaResult>> {
        let uri = params.text_document.uri;
        let data = self
            .with_doc("semanticTokens", &uri, move |db, ctx| {
                handlers::semantic_tokens(db, ctx, None)
            })
            .await?;
        let mut state = self.state.lock().unwrap();
        let id = state.next_result_id();
        let previous = state.last_tokens.insert(uri, (id.clone(), data.clone()));
        Ok(Some(match previous {
            Some((prev_id, prev)) if prev_id == params.previous_result_id => {
                SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta {
                    result_id: Some(id),
                    edits: handlers::tokens_delta(&prev, &data),
                })
            }
            _ => SemanticTokensFullDeltaResult::Tokens(SemanticTokens {
                result_id: Some(id),
                data,
            }),
        }))
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let range = params.range;
        let data = self
            .with_doc(
                "semanticTokens",
                &params.text_document.uri,
                move |db, ctx| handlers::semantic_tokens(db, ctx, Some(range)),
            )
            .await?;
        Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens {
            result_id: None,
            data,
        })))
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        self.with_doc("documentLink", &params.text_document.uri, move |db, ctx| {
            handlers::document_links(db, ctx)
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let range = params.range;
        let locked_revisions = self.state.lock().unwrap().settings.raw["inlayHints"]
            ["lockedRevisions"]
            .as_bool()
            .unwrap_or(true);
        self.with_doc("inlayHint", &params.text_document.uri, move |db, ctx| {
            handlers::inlay_hints(db, ctx, range, locked_revisions)
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let range = params.range;
        let uri = params.text_document.uri;
        let settings = self.apply_settings_now();
        let for_configs = settings.clone();
        let (fixes, found) = self
            .with_doc("codeAction", &uri, move |db, ctx| {
                let fixes = handlers::code_actions(db, ctx, range)?;
                Ok((fixes, apply::configurations_of(db, ctx, &for_configs)))
            })
            .await?;
        let mut actions = fixes.unwrap_or_default();
        if settings.enable {
            let state_dir = self.jobs.state_dir();
            actions.extend(apply::code_actions(&found, range, &settings, state_dir));
        }
        Ok(Some(actions))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let settings = self.apply_settings_now();
        if !settings.enable {
            return Ok(Some(Vec::new()));
        }
        let for_configs = settings.clone();
        let found = self
            .with_doc("codeLens", &params.text_document.uri, move |db, ctx| {
                Ok(apply::configurations_of(db, ctx, &for_configs))
            })
            .await?;
        let lenses = apply::code_lenses(&found, &settings, self.jobs.state_dir());
        Ok(Some(lenses))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let settings = self.apply_settings_now();
        let result = self.jobs.execute(&self.client, &settings, params).await;
        self.republish_apply_diagnostics().await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_edit_is_analysed_at_once_and_a_burst_waits_for_a_pause() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // The first edit, and an edit long after the previous one: no wait.
        assert_eq!(pause_after(None, Some(t0), t0), None);
        assert_eq!(
            pause_after(Some(t0), Some(t0 + ms(200)), t0 + ms(200)),
            None
        );
        // Two edits 5 ms apart: wait until 15 ms have passed since the last one.
        let last = t0 + ms(5);
        assert_eq!(pause_after(Some(t0), Some(last), last), Some(ms(15)));
        assert_eq!(
            pause_after(Some(t0), Some(last), last + ms(10)),
            Some(ms(5))
        );
        assert_eq!(pause_after(Some(t0), Some(last), last + ms(15)), None);
        // Nothing pushed yet.
        assert_eq!(pause_after(None, None, t0), None);
    }

    /// What [`intercept`] replies, parsed back.
    fn direct(state: &Arc<Mutex<State>>, request: Value) -> Option<Value> {
        let body = serde_json::to_vec(&request).unwrap();
        let method = request["method"].as_str().unwrap();
        let answer = intercept(state, method, Some(&request["id"]), &body)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Some(serde_json::from_slice(&runtime.block_on(answer)).unwrap())
    }

    #[test]
    fn document_symbols_are_answered_directly_as_json_rpc() {
        let state = State::new();
        let uri = Url::parse("file:///t/a.nix").unwrap();
        {
            let mut s = state.lock().unwrap();
            let text = "{ a = 1; b = { c = 2; }; }".to_string();
            let map = Arc::new(PositionMap::new(&text));
            let file = s.db.set_file("/t/a.nix", text);
            let doc = Document {
                file,
                version: 1,
                map,
            };
            s.docs.insert(uri.clone(), doc);
        }
        let request = |id: Value, uri: &str| {
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
                "params": {"textDocument": {"uri": uri}}})
        };
        let reply = direct(&state, request(7.into(), uri.as_str())).unwrap();
        assert_eq!(reply["jsonrpc"], "2.0");
        assert_eq!(reply["id"], 7);
        assert!(reply.get("error").is_none(), "{reply}");
        let names: Vec<&str> = reply["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(reply["result"][1]["children"][0]["name"], "c");
        assert_eq!(
            reply["result"][0]["range"],
            serde_json::json!({"start": {"line": 0, "character": 2}, "end": {"line": 0, "character": 8}})
        );

        // A file never opened, and params that are not documentSymbol's: errors, same id.
        let reply = direct(&state, request("x".into(), "file:///t/never.nix")).unwrap();
        assert_eq!(reply["id"], "x");
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
        assert!(reply.get("result").is_none());
        let bad = serde_json::json!({"jsonrpc": "2.0", "id": 3,
            "method": "textDocument/documentSymbol", "params": {"uri": 1}});
        assert_eq!(direct(&state, bad).unwrap()["error"]["code"], -32602);

        // Everything else is left to tower-lsp.
        let rename = serde_json::json!({"jsonrpc": "2.0", "id": 4, "method": "textDocument/rename",
            "params": {}});
        assert!(direct(&state, rename).is_none());
        // The other direct requests answer with the same handlers as through tower-lsp.
        let at = |method: &str| {
            let mut request = serde_json::json!({"jsonrpc": "2.0", "id": 5, "method": method,
                "params": {"textDocument": {"uri": uri.as_str()},
                    "position": {"line": 0, "character": 16}}});
            if method == "textDocument/references" {
                request["params"]["context"] = serde_json::json!({"includeDeclaration": true});
            }
            request
        };
        let completion = direct(&state, at("textDocument/completion")).unwrap();
        assert_eq!(completion["id"], 5);
        assert!(completion.get("result").is_some(), "{completion}");
        let hover = direct(&state, at("textDocument/hover")).unwrap();
        assert_eq!(hover["id"], 5);
        assert!(hover.get("result").is_some(), "{hover}");
        let references = direct(&state, at("textDocument/references")).unwrap();
        assert_eq!(references["result"][0]["range"]["start"]["character"], 15);
        let definition = direct(&state, at("textDocument/definition")).unwrap();
        assert!(definition.get("result").is_some(), "{definition}");
    }
}
