//! Renders an engine's event stream on stderr: `indicatif` progress on a terminal,
//! plain lines otherwise (logs, CI, tests). Results go to stdout, progress never does.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_backend::engine::{Event, EventSink};

/// An [`EventSink`] that draws progress for a person.
pub struct Renderer {
    bar: Option<ProgressBar>,
    running: Mutex<Vec<String>>,
    /// Latest (done, expected) build counts, for plain lines.
    counts: Mutex<(u64, u64)>,
}

impl Renderer {
    /// A progress bar when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Renderer {
            bar,
            running: Mutex::new(Vec::new()),
            counts: Mutex::new((0, 0)),
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn set_running(&self, f: impl FnOnce(&mut Vec<String>)) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        f(&mut running);
        if let Some(bar) = &self.bar {
            if running.is_empty() {
                bar.set_message("");
            } else {
                bar.set_message(format!("building {}", running.join(", ")));
            }
        }
    }

    /// Clears the bar (call before printing results).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl EventSink for Renderer {
    fn emit(&self, event: Event) {
        match event {
            Event::EvaluationStarted { installable } => match &self.bar {
                Some(bar) => bar.set_message(format!("evaluating {installable}")),
                None => eprintln!("evaluating {installable}"),
            },
            // Nix revises the plan while it finds outputs that already exist; the bar
            // follows it, plain lines show it with each build instead.
            Event::Planned { builds, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(builds);
                }
            }
            Event::Progress { done, expected, .. } => {
                if let Ok(mut c) = self.counts.lock() {
                    *c = (done, expected);
                }
                if let Some(bar) = &self.bar {
                    bar.set_length(expected);
                    bar.set_position(done);
                }
            }
            Event::BuildStarted { name, .. } => {
                if self.bar.is_none() {
                    let (done, expected) = self.counts.lock().map(|c| *c).unwrap_or_default();
                    eprintln!("building {name} [{}/{}]", done + 1, expected.max(done + 1));
                }
                self.set_running(|r| r.push(name));
            }
            Event::BuildFinished { name, ok, .. } => {
                if !ok {
                    self.line(format!("failed to build {name}"));
                }
                self.set_running(|r| r.retain(|n| *n != name));
            }
            Event::LogLine { name, line, .. } => self.line(format!("{name}> {line}")),
            Event::Copy { name, .. } => self.line(format!("copying {name}")),
            Event::Message { text } => self.line(text),
            Event::Built { .. } => {}
            Event::Switched { profile, from, to } => self.line(match from {
                Some(f) => format!(
                    "switching profile {} from generation {f} to {to}",
                    profile.display()
                ),
                None => format!("created profile {} at generation {to}", profile.display()),
            }),
            Event::ActivationStep { step } => match &self.bar {
                Some(bar) => bar.set_message(format!("activating: {step}")),
                None => eprintln!("activating: {step}"),
            },
            // Announced steps were just shown as steps.
            Event::ActivationLog { line } if line.starts_with("Activating ") => {}
            Event::ActivationLog { line } => self.line(format!("activate> {line}")),
            Event::Done { .. } | Event::Failed { .. } => self.finish(),
        }
    }
}
