//! Apply from the editor (issue 9): `workspace/executeCommand` for `strata.apply`,
//! `strata.build`, `strata.rollback` and `strata.generations`, with the code actions and
//! lenses that call them.
//!
//! A job runs the engine on its own thread (evaluation and builds never touch the async
//! threads, so completion and hover stay responsive); its events come back through a
//! channel and become `$/progress` and `window/logMessage` (`progress.rs`). One job runs at
//! a time: a second Apply is refused while one runs. `window/workDoneProgress/cancel`
//! fires the job's [`CancelToken`]; the engine stops between steps or kills the builder,
//! and the profile only changes by one atomic rename after a complete build.

mod actions;
mod progress;
mod report;
pub mod settings;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Value};
use strata_analyzer::db::RootDatabase;
use strata_backend::engine::{
    self, ActivationOptions, ApplyRequest, BuildOptions, CancelToken, EngineChoice, EngineError,
    Event, Installable, InstallableKind, Job,
};
use strata_backend::profile::Profile;
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::Client;

pub use actions::{code_actions, code_lenses, Found};
use progress::Reporter;
use settings::ApplySettings;

use super::server::DocContext;

/// The commands this module executes (advertised in `executeCommandProvider`).
pub const COMMANDS: [&str; 4] = [
    "strata.apply",
    "strata.build",
    "strata.rollback",
    "strata.generations",
];

/// Where jobs keep their state: the state folder (logs, default profile) and the native
/// engine's store.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `--state-dir` / `STRATA_STATE_DIR` / `$XDG_STATE_HOME/strata`.
    pub state_dir: PathBuf,
    /// `--store-dir` / `STRATA_STORE_DIR` (native engine), if given.
    pub store_dir: Option<PathBuf>,
}

/// The job running now.
struct Running {
    token: NumberOrString,
    what: String,
    cancel: CancelToken,
}

/// The one job slot, and the diagnostics of the last evaluation error.
pub struct Jobs {
    paths: Paths,
    running: Mutex<Option<Running>>,
    next_token: AtomicU64,
    /// Evaluation errors of the last job, by file, until an evaluation succeeds.
    diagnostics: Mutex<HashMap<Url, Vec<Diagnostic>>>,
    /// Files whose apply diagnostics changed and must be republished.
    dirty: Mutex<Vec<Url>>,
}

/// A claimed slot; dropping it lets the next job start.
struct Slot<'a> {
    jobs: &'a Jobs,
    token: NumberOrString,
    /// Whether the token is ours (to create) rather than the client's `workDoneToken`.
    create_token: bool,
    cancel: CancelToken,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.jobs.running.lock().unwrap() = None;
    }
}

/// The one object argument of every command.
#[derive(Debug, Default, Deserialize)]
struct Args {
    installable: Option<String>,
    profile: Option<PathBuf>,
    engine: Option<String>,
    to: Option<u64>,
}

impl Jobs {
    /// No job running, no diagnostics.
    pub fn new(paths: Paths) -> Self {
        Jobs {
            paths,
            running: Mutex::new(None),
            next_token: AtomicU64::new(1),
            diagnostics: Mutex::new(HashMap::new()),
            dirty: Mutex::new(Vec::new()),
        }
    }

    /// The state folder.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.paths.state_dir
    }

    /// `window/workDoneProgress/cancel`: cancels the running job if the token is its.
    pub fn cancel(&self, token: &NumberOrString) {
        let running = self.running.lock().unwrap();
        match &*running {
            Some(r) if r.token == *token => {
                tracing::info!("cancelling {}", r.what);
                r.cancel.cancel();
            }
            _ => tracing::debug!("cancel for unknown progress token {token:?}"),
        }
    }

    /// The evaluation-error diagnostics recorded for `uri`.
    pub fn diagnostics_for(&self, uri: &Url) -> Vec<Diagnostic> {
        let map = self.diagnostics.lock().unwrap();
        map.get(uri).cloned().unwrap_or_default()
    }

    /// Files whose apply diagnostics changed since the last call.
    pub fn take_dirty(&self) -> Vec<Url> {
        std::mem::take(&mut *self.dirty.lock().unwrap())
    }

    /// Takes the job slot, under the client's `workDoneToken` when it sent one.
    fn claim(&self, what: String, client_token: Option<NumberOrString>) -> Result<Slot<'_>> {
        let mut running = self.running.lock().unwrap();
        if let Some(r) = &*running {
            return Err(Error {
                code: ErrorCode::ServerError(-32001),
                message: format!(
                    "{} is still running: wait for it to finish or cancel it before starting {what}",
                    r.what
                )
                .into(),
                data: None,
            });
        }
        let create_token = client_token.is_none();
        let token = client_token.unwrap_or_else(|| {
            let n = self.next_token.fetch_add(1, Ordering::SeqCst);
            NumberOrString::String(format!("strata-job-{n}"))
        });
        let cancel = CancelToken::new();
        *running = Some(Running {
            token: token.clone(),
            what,
            cancel: cancel.clone(),
        });
        Ok(Slot {
            jobs: self,
            token,
            create_token,
            cancel,
        })
    }

    /// Runs one command; errors are JSON-RPC errors with a message for the user.
    pub async fn execute(
        &self,
        client: &Client,
        settings: &ApplySettings,
        params: ExecuteCommandParams,
    ) -> Result<Option<Value>> {
        if !settings.enable {
            return Err(user_error(
                "Apply from the editor is off (setting strata.apply.enable = false)".into(),
            ));
        }
        let args = parse_args(&params)?;
        let token = params.work_done_progress_params.work_done_token.clone();
        let result = match params.command.as_str() {
            "strata.apply" => self.apply(client, settings, args, token).await?,
            "strata.build" => self.build(client, settings, args, token).await?,
            "strata.rollback" => self.rollback(client, settings, args, token).await?,
            "strata.generations" => self.generations(settings, args).await?,
            other => {
                return Err(Error::invalid_params(format!(
                    "unknown command {other}; this server runs {}",
                    COMMANDS.join(", ")
                )))
            }
        };
        Ok(Some(result))
    }

    async fn apply(
        &self,
        client: &Client,
        settings: &ApplySettings,
        args: Args,
        token: Option<NumberOrString>,
    ) -> Result<Value> {
        let (spec, installable) = required_installable(&args, "strata.apply")?;
        let kind = installable.kind();
        let profile = settings.profile_for(args.profile.clone(), Some(&kind), self.state_dir());
        let what = format!("Apply of {spec}");
        let slot = self.claim(what.clone(), token)?;
        if settings.needs_confirmation(&profile, &kind) {
            confirm(client, &profile, &spec).await?;
        }
        let request = ApplyRequest {
            installable,
            profile: profile.clone(),
            build: BuildOptions::default(),
            activation: self.activation(),
            dry_run: false,
        };
        let title = format!("Applying {}", short(&spec));
        let open = self.opener(&args, settings);
        let result = self
            .run(client, &slot, title, move |job| {
                open()?.apply(&request, job)
            })
            .await;
        self.record_evaluation(&result);
        match result {
            Ok(outcome) => {
                let message = report::applied_message(&outcome, &profile);
                client.show_message(MessageType::INFO, &message).await;
                Ok(report::applied_result(&outcome, &profile, &message))
            }
            Err(e) => Err(self.fail(client, &what, &e).await),
        }
    }

    async fn build(
        &self,
        client: &Client,
        settings: &ApplySettings,
        args: Args,
        token: Option<NumberOrString>,
    ) -> Result<Value> {
        let (spec, installable) = required_installable(&args, "strata.build")?;
        let what = format!("Build of {spec}");
        let slot = self.claim(what.clone(), token)?;
        let title = format!("Building {}", short(&spec));
        let open = self.opener(&args, settings);
        let result = self
            .run(client, &slot, title, move |job| {
                let outputs = open()?.build(&installable, &BuildOptions::default(), job)?;
                job.emit(Event::Done { generation: None });
                Ok(outputs)
            })
            .await;
        self.record_evaluation(&result);
        match result {
            Ok(outputs) => {
                let shown: Vec<String> = outputs.iter().map(|p| p.display().to_string()).collect();
                let message = format!("built {spec}: {}", shown.join(" "));
                client.show_message(MessageType::INFO, &message).await;
                Ok(json!({ "outputs": outputs, "summary": message }))
            }
            Err(e) => Err(self.fail(client, &what, &e).await),
        }
    }

    async fn rollback(
        &self,
        client: &Client,
        settings: &ApplySettings,
        args: Args,
        token: Option<NumberOrString>,
    ) -> Result<Value> {
        let kind = optional_kind(&args)?;
        let profile = settings.profile_for(args.profile.clone(), kind.as_ref(), self.state_dir());
        let what = format!("Rollback of {}", profile.path().display());
        let slot = self.claim(what.clone(), token)?;
        if settings.needs_confirmation(&profile, kind.as_ref().unwrap_or(&InstallableKind::Other)) {
            confirm(client, &profile, "an earlier generation").await?;
        }
        let opts = self.activation();
        let (p, to) = (profile.clone(), args.to);
        let open = self.opener(&args, settings);
        let title = format!("Rolling back {}", profile.path().display());
        let result = self
            .run(client, &slot, title, move |job| {
                open()?.rollback(&p, to, &opts, job)
            })
            .await;
        match result {
            Ok(s) => {
                let message = match s.from {
                    Some(from) => format!("rolled back from generation {from} to {}", s.to),
                    None => format!("generation {} is current", s.to),
                };
                client.show_message(MessageType::INFO, &message).await;
                Ok(json!({
                    "generation": s.to, "previous": s.from,
                    "profile": profile.path(), "summary": message,
                }))
            }
            Err(e) => Err(self.fail(client, &what, &e).await),
        }
    }

    async fn generations(&self, settings: &ApplySettings, args: Args) -> Result<Value> {
        let kind = optional_kind(&args)?;
        let profile = settings.profile_for(args.profile.clone(), kind.as_ref(), self.state_dir());
        let listed = tokio::task::spawn_blocking(move || generations_json(&profile))
            .await
            .map_err(|e| user_error(e.to_string()))?;
        listed.map_err(|e| user_error(e.to_string()))
    }

    /// Runs `work` on its own thread under the slot's progress token and cancel token,
    /// relaying its events to the client until it finishes.
    async fn run<T: Send + 'static>(
        &self,
        client: &Client,
        slot: &Slot<'_>,
        title: String,
        work: impl FnOnce(&Job) -> std::result::Result<T, EngineError> + Send + 'static,
    ) -> std::result::Result<T, EngineError> {
        let mut reporter =
            Reporter::begin(client.clone(), slot.token.clone(), slot.create_token, title).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let cancel = slot.cancel.clone();
        let log_dir = self.paths.state_dir.join("logs");
        let spawned = std::thread::Builder::new()
            .name("strata-job".into())
            .stack_size(super::ANALYSIS_STACK_BYTES)
            .spawn(move || {
                let sink = move |e: Event| {
                    let _ = tx.send(e);
                };
                let job = Job {
                    sink: &sink,
                    cancel: &cancel,
                    log_dir,
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&job)));
                let _ = done_tx.send(result);
            });
        if let Err(e) = spawned {
            reporter.end(format!("could not start: {e}")).await;
            return Err(tool_error("starting the job", e.to_string()));
        }
        // The sender lives as long as the job: the stream ends when the job ends.
        while let Some(event) = rx.recv().await {
            reporter.event(event).await;
        }
        let result = match done_rx.await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(tool_error(
                "the job",
                "it panicked (see the server log)".into(),
            )),
            Err(_) => Err(tool_error("the job", "it ended without a result".into())),
        };
        let end = match &result {
            Ok(_) => "done".to_string(),
            Err(EngineError::Cancelled) => "cancelled".to_string(),
            Err(e) => format!("failed at the {} step", e.step()),
        };
        reporter.end(end).await;
        result
    }

    /// Shows the failure and turns it into the command's error.
    async fn fail(&self, client: &Client, what: &str, err: &EngineError) -> Error {
        let message = report::failure_message(what, err);
        let typ = match err {
            EngineError::Cancelled => MessageType::WARNING,
            _ => MessageType::ERROR,
        };
        client.show_message(typ, &message).await;
        report::failure_error(message, err)
    }

    /// Keeps an evaluation error's diagnostic until an evaluation succeeds.
    fn record_evaluation<T>(&self, result: &std::result::Result<T, EngineError>) {
        let fresh = match result {
            Ok(_) | Err(EngineError::Build { .. }) | Err(EngineError::Activation { .. }) => None,
            Err(e) => match report::eval_diagnostic(e) {
                Some(d) => Some(d),
                None => return,
            },
        };
        let mut map = self.diagnostics.lock().unwrap();
        let mut dirty: Vec<Url> = map.drain().map(|(u, _)| u).collect();
        if let Some((uri, diag)) = fresh {
            dirty.push(uri.clone());
            map.insert(uri, vec![diag]);
        }
        self.dirty.lock().unwrap().extend(dirty);
    }

    /// Opens the engine of the command's `engine` argument, else the setting.
    fn opener(
        &self,
        args: &Args,
        settings: &ApplySettings,
    ) -> impl FnOnce() -> std::result::Result<Box<dyn engine::Engine>, EngineError> + Send {
        let choice: Option<EngineChoice> = match &args.engine {
            Some(e) => settings::engine(&json!(e)),
            None => settings.engine,
        };
        let store_dir = self.paths.store_dir.clone();
        move || engine::open(choice, store_dir.as_deref())
    }

    /// Activation as the CLI does it: `STRATA_ELEVATE` when set, the state folder passed on.
    fn activation(&self) -> ActivationOptions {
        ActivationOptions {
            elevate: std::env::var("STRATA_ELEVATE")
                .ok()
                .map(|e| e.split_whitespace().map(String::from).collect()),
            env: vec![(
                "STRATA_STATE_DIR".into(),
                self.paths.state_dir.to_string_lossy().into_owned(),
            )],
            skip: false,
        }
    }
}

/// The configurations a document defines: each entry of `nixosConfigurations` and
/// `homeConfigurations` of a `flake.nix`, or the whole file when the settings name it as a
/// standalone configuration.
pub fn configurations_of(
    db: &RootDatabase,
    ctx: &DocContext,
    settings: &ApplySettings,
) -> Vec<Found> {
    let path = PathBuf::from(super::server::uri_to_path(&ctx.uri));
    let text = ctx.file.text(db);
    let mut found = Vec::new();
    if let (Some("flake.nix"), Some(dir)) =
        (path.file_name().and_then(|n| n.to_str()), path.parent())
    {
        for config in strata_analyzer::ide::configurations::configurations(db, ctx.file) {
            let range = ctx.map.range(text, config.range);
            let focus = ctx.map.range(text, config.focus_range);
            found.push(Found::in_flake(dir, &config, range, focus));
        }
    }
    for (file, spec) in &settings.configuration_files {
        if *file != path {
            continue;
        }
        match Installable::parse(spec, None) {
            Ok(installable) => {
                let whole = ctx.map.range(
                    text,
                    strata_analyzer::ide::TextRange::up_to(strata_analyzer::ide::TextSize::of(
                        text.as_str(),
                    )),
                );
                found.push(Found {
                    installable: spec.clone(),
                    kind: installable.kind(),
                    range: whole,
                    focus: Range::new(whole.start, whole.start),
                });
            }
            Err(e) => tracing::warn!("strata.apply.configurationFiles: {spec}: {e}"),
        }
    }
    found
}

fn parse_args(params: &ExecuteCommandParams) -> Result<Args> {
    match params.arguments.first() {
        None | Some(Value::Null) => Ok(Args::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            Error::invalid_params(format!(
                "{}: the argument must be an object like {{ \"installable\": \"DIR#attr\" }}: {e}",
                params.command
            ))
        }),
    }
}

fn required_installable(args: &Args, command: &str) -> Result<(String, Installable)> {
    let Some(spec) = args.installable.clone() else {
        return Err(Error::invalid_params(format!(
            "{command} needs {{ \"installable\": \"DIR#nixosConfigurations.HOST\" }}"
        )));
    };
    let installable =
        Installable::parse(&spec, None).map_err(|e| Error::invalid_params(e.to_string()))?;
    Ok((spec, installable))
}

fn optional_kind(args: &Args) -> Result<Option<InstallableKind>> {
    match &args.installable {
        Some(spec) => Installable::parse(spec, None)
            .map(|i| Some(i.kind()))
            .map_err(|e| Error::invalid_params(e.to_string())),
        None => Ok(None),
    }
}

/// Asks before switching a system profile; anything but "Apply" stops the job.
async fn confirm(client: &Client, profile: &Profile, target: &str) -> Result<()> {
    let item = |t: &str| MessageActionItem {
        title: t.into(),
        properties: Default::default(),
    };
    let answer = client
        .show_message_request(
            MessageType::WARNING,
            format!(
                "Switch the system profile {} to {target}?",
                profile.path().display()
            ),
            Some(vec![item("Apply"), item("Cancel")]),
        )
        .await;
    match answer {
        Ok(Some(choice)) if choice.title == "Apply" => Ok(()),
        _ => Err(Error {
            code: ErrorCode::RequestCancelled,
            message: format!(
                "not confirmed: the system profile {} was not changed",
                profile.path().display()
            )
            .into(),
            data: None,
        }),
    }
}

/// `{ profile, current, generations: [{ number, generation, date, created, current, path }] }`
/// (newest last), a shape both editor clients read.
fn generations_json(profile: &Profile) -> std::result::Result<Value, EngineError> {
    let gens = profile.generations()?;
    let current = gens.iter().find(|g| g.current).map(|g| g.number);
    let list: Vec<Value> = gens
        .iter()
        .map(|g| {
            json!({
                "number": g.number, "generation": g.number, "date": g.date(),
                "created": g.created, "current": g.current, "path": g.target,
            })
        })
        .collect();
    Ok(json!({ "profile": profile.path(), "current": current, "generations": list }))
}

/// `nixosConfigurations.demo` rather than the whole `/long/dir#…`.
fn short(spec: &str) -> &str {
    spec.rsplit_once('#').map_or(spec, |(_, attr)| attr)
}

fn user_error(message: String) -> Error {
    Error {
        code: ErrorCode::InvalidRequest,
        message: message.into(),
        data: None,
    }
}

fn tool_error(context: &str, message: String) -> EngineError {
    EngineError::Tool {
        context: context.into(),
        message,
    }
}
