//! Turns an engine's [`Event`] stream into `$/progress` reports and `window/logMessage`
//! lines for one job.

use strata_backend::engine::Event;
use tower_lsp::lsp_types::notification::Progress;
use tower_lsp::lsp_types::request::WorkDoneProgressCreate;
use tower_lsp::lsp_types::*;
use tower_lsp::Client;

/// Reports one job's progress to the client under one token.
pub struct Reporter {
    client: Client,
    token: NumberOrString,
    /// Whether the client accepted the token (no `$/progress` otherwise).
    enabled: bool,
    /// Builds planned and done, for "building N of M" and the percentage.
    expected: u64,
    done: u64,
    /// Percentages only go up, as the protocol asks.
    percentage: u32,
}

impl Reporter {
    /// Creates the token with `window/workDoneProgress/create` (unless the client gave it
    /// as the request's `workDoneToken`) and sends `begin`.
    pub async fn begin(
        client: Client,
        token: NumberOrString,
        create: bool,
        title: String,
    ) -> Reporter {
        let mut enabled = true;
        if create {
            let created = client
                .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                    token: token.clone(),
                })
                .await;
            if let Err(e) = created {
                tracing::info!("the client refused a progress token ({e}); no $/progress");
                enabled = false;
            }
        }
        let reporter = Reporter {
            client,
            token,
            enabled,
            expected: 0,
            done: 0,
            percentage: 0,
        };
        reporter
            .send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title,
                cancellable: Some(true),
                message: Some("starting".into()),
                percentage: Some(0),
            }))
            .await;
        reporter
    }

    async fn send(&self, value: WorkDoneProgress) {
        if self.enabled {
            self.client
                .send_notification::<Progress>(ProgressParams {
                    token: self.token.clone(),
                    value: ProgressParamsValue::WorkDone(value),
                })
                .await;
        }
    }

    async fn report(&mut self, message: String) {
        if let Some(p) = (self.done * 100).checked_div(self.expected) {
            self.percentage = self.percentage.max(p.min(99) as u32);
        }
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(true),
            message: Some(message),
            percentage: Some(self.percentage),
        }))
        .await;
    }

    async fn log(&self, line: String) {
        self.client.log_message(MessageType::LOG, line).await;
    }

    /// "building 2 of 5" (the one starting now counts).
    fn building(&self) -> String {
        let n = self.done + 1;
        format!("building {n} of {}", self.expected.max(n))
    }

    /// Handles one event of the job.
    pub async fn event(&mut self, event: Event) {
        match event {
            Event::EvaluationStarted { installable } => {
                self.report(format!("evaluating {installable}")).await
            }
            Event::Planned { builds, .. } => self.expected = self.expected.max(builds),
            Event::Progress { done, expected, .. } => {
                self.done = done;
                self.expected = expected.max(done);
            }
            Event::BuildStarted { name, .. } => {
                let msg = format!("{}: {name}", self.building());
                self.report(msg).await
            }
            Event::BuildFinished {
                name, ok: false, ..
            } => self.log(format!("{name}> build failed")).await,
            Event::BuildFinished { .. } | Event::Built { .. } => {}
            Event::LogLine { name, line, .. } => self.log(format!("{name}> {line}")).await,
            Event::Copy { name, .. } => self.report(format!("copying {name}")).await,
            Event::Message { text } => self.log(text).await,
            Event::Switched { to, .. } => {
                self.done = self.expected;
                self.report(format!("switching to generation {to}")).await
            }
            Event::ActivationStep { step } => self.report(format!("activating: {step}")).await,
            Event::ActivationLog { line } => self.log(format!("activate> {line}")).await,
            Event::Done { .. } | Event::Failed { .. } => {}
        }
    }

    /// Sends `end` with the job's outcome.
    pub async fn end(self, message: String) {
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(message),
        }))
        .await;
    }
}
