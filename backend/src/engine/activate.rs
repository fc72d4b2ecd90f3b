//! Activation of a generation: `bin/switch-to-configuration switch` (NixOS convention) or
//! `activate` (home-manager convention), optionally through an elevation command.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{self, Stream};
use super::{EngineError, Event, Job};
use crate::profile::Generation;

/// How many activation log lines are shown with a failure.
const TAIL_LINES: usize = 20;

/// How activation runs.
#[derive(Debug, Clone, Default)]
pub struct ActivationOptions {
    /// A command prefix such as `["sudo"]` (empty: the user's privileges); `None` picks
    /// the default: `sudo` for `switch-to-configuration` unless already root.
    pub elevate: Option<Vec<String>>,
    /// Extra environment for the script (e.g. `STRATA_STATE_DIR`).
    pub env: Vec<(String, String)>,
    /// Skip activation entirely (only switch the profile).
    pub skip: bool,
}

/// The command that activates a built configuration, if it has one.
pub fn activation_command(out: &Path) -> Option<Vec<String>> {
    let stc = out.join("bin/switch-to-configuration");
    if stc.exists() {
        return Some(vec![stc.to_string_lossy().into_owned(), "switch".into()]);
    }
    let activate = out.join("activate");
    if activate.exists() {
        return Some(vec![activate.to_string_lossy().into_owned()]);
    }
    None
}

/// The elevation an activation needs by default: `sudo` for a system one when not root.
pub fn default_elevation(system_profile: bool) -> Vec<String> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if system_profile && !root {
        vec!["sudo".into()]
    } else {
        Vec::new()
    }
}

/// A step the script announced: home-manager prints `Activating NAME`, NixOS prints
/// `setting up /etc...` style lines ending in `...`.
fn announced_step(line: &str) -> Option<String> {
    let l = line.trim();
    if let Some(rest) = l.strip_prefix("Activating ") {
        return Some(rest.trim().to_string());
    }
    l.strip_suffix("...").map(|s| s.trim().to_string())
}

/// Runs the activation of `generation`; on failure reports the last announced step and
/// the last log lines. The full log goes to `<log_dir>/activation-<N>-<name>.log`.
pub fn activate(
    generation: &Generation,
    opts: &ActivationOptions,
    job: &Job,
) -> Result<(), EngineError> {
    if opts.skip {
        return Ok(());
    }
    let target = &generation.target;
    let Some(argv) = activation_command(target) else {
        job.emit(Event::ActivationStep {
            step: format!(
                "{} has no activation script; nothing to activate",
                target.display()
            ),
        });
        return Ok(());
    };
    let system = argv.len() == 2 && argv[1] == "switch";
    let elevate = opts
        .elevate
        .clone()
        .unwrap_or_else(|| default_elevation(system));
    let full: Vec<&String> = elevate.iter().chain(argv.iter()).collect();
    job.emit(Event::ActivationStep {
        step: full
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    });
    let mut cmd = Command::new(full[0]);
    cmd.args(&full[1..]);
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    let log_path = log_file(job, generation);
    let mut log = std::fs::File::create(&log_path).ok();
    let mut tail = VecDeque::new();
    let mut step = None;
    let status = process::run(cmd, job.cancel, |_stream: Stream, line| {
        if let Some(f) = log.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.to_string());
        if let Some(s) = announced_step(line) {
            job.emit(Event::ActivationStep { step: s.clone() });
            step = Some(s);
        }
        job.emit(Event::ActivationLog {
            line: line.to_string(),
        });
    });
    let status = match status {
        Ok(s) => s,
        Err(EngineError::Cancelled) => {
            return Err(EngineError::Activation {
                generation: generation.number,
                step,
                message: "cancelled".into(),
                log_tail: tail.into(),
                restored: None,
            })
        }
        Err(e) => return Err(e),
    };
    if status.success() {
        return Ok(());
    }
    Err(EngineError::Activation {
        generation: generation.number,
        step,
        message: format!(
            "`{}` exited with {} (full log: {})",
            argv.join(" "),
            status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("code {c}")),
            log_path.display()
        ),
        log_tail: tail.into(),
        restored: None,
    })
}

fn log_file(job: &Job, generation: &Generation) -> PathBuf {
    let _ = std::fs::create_dir_all(&job.log_dir);
    let name = super::store_path_name(&generation.target.to_string_lossy()).to_string();
    job.log_dir
        .join(format!("activation-{}-{name}.log", generation.number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_recognised() {
        assert_eq!(
            announced_step("Activating linkFiles"),
            Some("linkFiles".into())
        );
        assert_eq!(
            announced_step("setting up /etc..."),
            Some("setting up /etc".into())
        );
        assert_eq!(announced_step("linked .profile"), None);
    }
}
