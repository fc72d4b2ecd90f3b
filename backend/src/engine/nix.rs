//! The `Nix` engine: drives the installed Nix command line and reads its machine-readable
//! log (`--log-format internal-json`) for real progress.
//!
//! Flags are the ones Nix 2.8 (Debian) and current Nix both accept: `nix build --json
//! --no-link --log-format internal-json`, `--extra-experimental-features`, `-f FILE ATTR`,
//! `--dry-run`, `--max-jobs`; `nix path-info --json --recursive` (whose JSON changed from an
//! array to an object in 2.19; both are read); `nix-store --realise --add-root`. The
//! version (`nix --version`, read lazily) turns a Nix older than 2.4, which has none of
//! these, into a clear "too old" error.
//!
//! GC roots: a new generation link is created with `nix-store --realise OUT --add-root
//! P-N-link`, which makes the link atomically and registers it as an indirect root in
//! `/nix/var/nix/gcroots/auto`, exactly as `nix-env --set` does; so generations outside
//! `/nix/var/nix/profiles` survive `nix-store --gc` too.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::nix_log::{NixLog, NixMessage};
use super::process::{self, Stream};
use super::{
    BuildOptions, ClosurePath, Engine, EngineError, Event, Installable, Job, Location, Plan,
};

/// A Nix version (`nix --version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NixVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl NixVersion {
    /// Parses `nix (Nix) 2.8.0` (also `2.24.9pre…`, `nix (Determinate Nix 3.0) 2.26.3`).
    pub fn parse(s: &str) -> Option<Self> {
        let v = s.split_whitespace().last()?;
        let mut it = v
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        Some(NixVersion {
            major: it.next()?.parse().ok()?,
            minor: it.next()?.parse().ok()?,
            patch: it.next().and_then(|p| p.parse().ok()).unwrap_or(0),
        })
    }

    /// `nix path-info --json` prints an object keyed by path (2.19 and later) rather than
    /// an array of objects.
    pub fn path_info_is_object(&self) -> bool {
        (self.major, self.minor) >= (2, 19)
    }
}

impl std::fmt::Display for NixVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The engine that drives an installed Nix.
#[derive(Debug, Clone)]
pub struct Nix {
    program: PathBuf,
    version: std::sync::Arc<std::sync::OnceLock<Option<NixVersion>>>,
}

impl Nix {
    /// Finds `nix` on `PATH`. The version is read lazily (`nix --version` costs as much as
    /// a no-op build's evaluation start-up, so the hot path of an unchanged apply skips it).
    pub fn detect() -> Result<Self, EngineError> {
        let program = find_in_path("nix").ok_or_else(|| {
            EngineError::Unavailable(
                "the Nix engine needs `nix` on PATH; install Nix or use `--engine native`".into(),
            )
        })?;
        Ok(Nix {
            program,
            version: Default::default(),
        })
    }

    /// The installed version (`None` when `nix --version` cannot be read).
    pub fn version(&self) -> Option<NixVersion> {
        *self.version.get_or_init(|| {
            let out = Command::new(&self.program).arg("--version").output().ok()?;
            NixVersion::parse(&String::from_utf8_lossy(&out.stdout))
        })
    }

    /// Explains a failure caused by a Nix without `nix build` and flakes (before 2.4).
    fn too_old(&self) -> Option<EngineError> {
        let v = self.version()?;
        ((v.major, v.minor) < (2, 4)).then(|| {
            EngineError::Unavailable(format!(
                "Nix {v} is too old for the Nix engine: 2.4 or later is needed"
            ))
        })
    }

    fn nix(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(["--extra-experimental-features", "nix-command flakes"]);
        cmd
    }

    /// The installable as `nix build` arguments, after checking the flake or file exists.
    fn installable_args(&self, inst: &Installable) -> Result<Vec<String>, EngineError> {
        match inst {
            Installable::Flake { flake_ref, .. } => {
                let reference = match inst.local_flake_dir() {
                    Some(dir) => {
                        if !dir.is_dir() {
                            return Err(EngineError::NotFound(format!(
                                "no flake at `{flake_ref}`: the folder `{}` does not exist",
                                dir.display()
                            )));
                        }
                        if !dir.join("flake.nix").is_file() {
                            return Err(EngineError::NotFound(format!(
                                "no flake at `{flake_ref}`: `{}` has no flake.nix",
                                dir.display()
                            )));
                        }
                        if flake_ref.starts_with("path:") {
                            flake_ref.clone()
                        } else {
                            dir.to_string_lossy().into_owned()
                        }
                    }
                    None => flake_ref.clone(),
                };
                Ok(vec![format!("{reference}#{}", inst.build_attr())])
            }
            Installable::File { file, .. } => {
                if !file.exists() {
                    return Err(EngineError::NotFound(format!(
                        "`{}` does not exist",
                        file.display()
                    )));
                }
                Ok(vec![
                    "-f".into(),
                    file.to_string_lossy().into_owned(),
                    inst.build_attr(),
                ])
            }
        }
    }

    /// Runs a `nix` command with the JSON log, forwarding events and keeping build logs.
    fn run_logged(
        &self,
        mut cmd: Command,
        job: &Job,
    ) -> Result<(std::process::ExitStatus, String, NixLog), EngineError> {
        cmd.args(["--log-format", "internal-json"]);
        let _ = std::fs::create_dir_all(&job.log_dir);
        let mut log = NixLog::default();
        let mut files: HashMap<String, File> = HashMap::new();
        let mut stdout = String::new();
        let status = process::run(cmd, job.cancel, |stream, line| match stream {
            Stream::Out => {
                stdout.push_str(line);
                stdout.push('\n');
            }
            Stream::Err => log.feed(line, &mut |event| {
                match &event {
                    Event::BuildStarted { drv, .. } => {
                        if let Ok(f) = File::create(build_log_path(&job.log_dir, drv)) {
                            files.insert(drv.clone(), f);
                        }
                    }
                    Event::LogLine { drv, line, .. } => {
                        if let Some(f) = files.get_mut(drv) {
                            let _ = writeln!(f, "{line}");
                        }
                    }
                    Event::BuildFinished { drv, .. } => {
                        files.remove(drv);
                    }
                    _ => {}
                }
                job.emit(event)
            }),
        })?;
        Ok((status, stdout, log))
    }

    /// Turns a failed Nix run into the error the user needs.
    fn failure(&self, inst: Option<&Installable>, log: &NixLog, job: &Job) -> EngineError {
        if log.messages.is_empty() {
            if let Some(e) = self.too_old() {
                return e;
            }
        }
        let errors: Vec<&NixMessage> = log.errors().collect();
        let main = errors
            .iter()
            .find(|m| !m.text.contains("dependencies of derivation"))
            .or(errors.first());
        let text = |m: &NixMessage| {
            let t = m.text.strip_prefix("error:").unwrap_or(&m.text).trim();
            match inst {
                Some(i) => map_source_paths(i, t),
                None => t.to_string(),
            }
        };
        if let Some(drv) = log.failed.first() {
            let message = errors
                .iter()
                .find(|m| m.text.contains(drv.as_str()) && m.text.contains("builder for"))
                .or(main)
                .map(|m| text(m))
                .unwrap_or_else(|| "the builder failed".into());
            let log_file = build_log_path(&job.log_dir, drv);
            return EngineError::Build {
                drv: Some(drv.clone()),
                message,
                log_tail: log.tail(drv),
                log_file: log_file.exists().then_some(log_file),
            };
        }
        if let Some(m) = main {
            let location = m.location.as_ref().map(|l| Location {
                file: inst
                    .map(|i| map_source_path(i, &l.file))
                    .unwrap_or_else(|| l.file.clone()),
                line: l.line,
                column: l.column,
            });
            return EngineError::Eval {
                message: text(m),
                location,
            };
        }
        EngineError::Tool {
            context: "nix failed".into(),
            message: log.plain.join("\n"),
        }
    }
}

/// `<log_dir>/<hash>-<name>.drv.log`: the full log of one derivation's build.
pub fn build_log_path(log_dir: &Path, drv: &str) -> PathBuf {
    let base = drv.rsplit('/').next().unwrap_or(drv);
    log_dir.join(format!("{base}.log"))
}

/// The root a flake's store copy (`/nix/store/HASH-source`) corresponds to: the git
/// repository holding the flake folder, or the folder itself.
fn source_root(inst: &Installable) -> Option<PathBuf> {
    let dir = inst.local_flake_dir()?;
    let mut cur = Some(dir.as_path());
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    Some(dir)
}

/// Maps `/nix/store/HASH-source/rel` back to the user's file.
fn map_source_path(inst: &Installable, file: &Path) -> PathBuf {
    let s = file.to_string_lossy();
    if let (Some(root), Some(rest)) = (source_root(inst), strip_source_prefix(&s)) {
        let mapped = root.join(rest);
        if mapped.exists() {
            return mapped;
        }
        if let Some(dir) = inst.local_flake_dir() {
            let mapped = dir.join(rest);
            if mapped.exists() {
                return mapped;
            }
        }
    }
    file.to_path_buf()
}

fn strip_source_prefix(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("/nix/store/")?;
    let (hash_name, rel) = rest.split_once('/')?;
    hash_name.ends_with("-source").then_some(rel)
}

/// Replaces every store source path in a message with the user's path.
fn map_source_paths(inst: &Installable, text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            let (path, suffix) = match trimmed.find(':') {
                Some(i) => trimmed.split_at(i),
                None => (trimmed, ""),
            };
            if strip_source_prefix(path).is_some() {
                let mapped = map_source_path(inst, Path::new(path));
                format!("{}{suffix}{}", mapped.display(), &word[trimmed.len()..])
            } else {
                word.to_string()
            }
        })
        .collect()
}

/// The first executable `name` in `PATH`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Output paths from `nix build --json` (`[{"outputs":{"out":…}}]` or `[{"path":…}]`).
fn parse_build_json(stdout: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for item in items {
            if let Some(outputs) = item["outputs"].as_object() {
                // `out` first: it is the top level of a configuration.
                let mut names: Vec<&String> = outputs.keys().collect();
                names.sort_by_key(|n| (n.as_str() != "out", n.to_string()));
                for n in names {
                    if let Some(p) = outputs[n].as_str() {
                        out.push(PathBuf::from(p));
                    }
                }
            } else if let Some(p) = item["path"].as_str() {
                out.push(PathBuf::from(p));
            }
        }
    }
    out
}

/// What `--dry-run` says will be built and fetched.
fn parse_dry_run(messages: &[NixMessage]) -> (Vec<String>, Vec<String>) {
    let (mut build, mut fetch) = (Vec::new(), Vec::new());
    // Nix prints the header and each path as separate messages; read them as one text.
    let mut target: Option<&mut Vec<String>> = None;
    for m in messages {
        for line in m.text.lines() {
            if line.contains("will be built") {
                target = Some(&mut build);
            } else if line.contains("will be fetched") {
                target = Some(&mut fetch);
            } else if let Some(p) = line.strip_prefix("  ").filter(|l| l.starts_with('/')) {
                if let Some(t) = target.as_deref_mut() {
                    t.push(p.trim().to_string());
                }
            } else {
                target = None;
            }
        }
    }
    (build, fetch)
}

/// Closure paths from `nix path-info --json --recursive`: an object keyed by path (Nix
/// 2.19 and later, see [`NixVersion::path_info_is_object`]) or an array of objects
/// (before). The JSON's own shape decides, so a patched Nix is read right too.
fn parse_path_info(stdout: &str) -> Vec<ClosurePath> {
    let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) else {
        return Vec::new();
    };
    let entry = |path: &str, info: &Value| ClosurePath {
        path: PathBuf::from(path),
        nar_size: info["narSize"].as_u64().unwrap_or(0),
    };
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| Some(entry(i["path"].as_str()?, i)))
            .collect(),
        Value::Object(map) => map.iter().map(|(p, i)| entry(p, i)).collect(),
        _ => Vec::new(),
    }
}

impl Engine for Nix {
    fn name(&self) -> &'static str {
        "nix"
    }

    fn plan(&self, installable: &Installable, job: &Job) -> Result<Plan, EngineError> {
        let mut cmd = self.nix();
        cmd.args(["build", "--dry-run", "--json", "--no-link"]);
        cmd.args(self.installable_args(installable)?);
        let (status, stdout, log) = self.run_logged(cmd, job)?;
        if !status.success() {
            return Err(self.failure(Some(installable), &log, job));
        }
        let (to_build, to_fetch) = parse_dry_run(&log.messages);
        Ok(Plan {
            outputs: parse_build_json(&stdout),
            to_build,
            to_fetch,
        })
    }

    fn build(
        &self,
        installable: &Installable,
        opts: &BuildOptions,
        job: &Job,
    ) -> Result<Vec<PathBuf>, EngineError> {
        job.check_cancelled()?;
        let mut cmd = self.nix();
        cmd.args(["build", "--json", "--no-link"]);
        if let Some(j) = opts.jobs {
            cmd.args(["--max-jobs", &j.to_string()]);
        }
        if opts.keep_going {
            cmd.arg("--keep-going");
        }
        if opts.keep_failed {
            cmd.arg("--keep-failed");
        }
        cmd.args(self.installable_args(installable)?);
        let (status, stdout, log) = self.run_logged(cmd, job)?;
        if !status.success() {
            return Err(self.failure(Some(installable), &log, job));
        }
        let outputs = parse_build_json(&stdout);
        if outputs.is_empty() {
            return Err(EngineError::Tool {
                context: format!("nix build {installable}"),
                message: format!("no output paths in `{}`", stdout.trim()),
            });
        }
        Ok(outputs)
    }

    fn realise(&self, paths: &[PathBuf], job: &Job) -> Result<(), EngineError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut cmd = self.nix();
        cmd.args(["build", "--no-link"]).args(paths);
        let (status, _, log) = self.run_logged(cmd, job)?;
        if !status.success() {
            return Err(self.failure(None, &log, job));
        }
        Ok(())
    }

    fn is_valid(&self, path: &Path) -> bool {
        Command::new("nix-store")
            .arg("--check-validity")
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn add_root(&self, link: &Path, target: &Path) -> std::io::Result<()> {
        let out = Command::new("nix-store")
            .arg("--realise")
            .arg(target)
            .arg("--add-root")
            .arg(link)
            .output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(
                super::nix_log::strip_ansi(String::from_utf8_lossy(&out.stderr).trim())
                    .trim_start_matches("error: ")
                    .to_string(),
            ))
        }
    }

    fn closure(&self, path: &Path) -> Result<Vec<ClosurePath>, EngineError> {
        let out = self
            .nix()
            .args(["path-info", "--json", "--recursive"])
            .arg(path)
            .output()
            .map_err(|e| EngineError::Tool {
                context: "cannot run `nix path-info`".into(),
                message: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(EngineError::Tool {
                context: format!("nix path-info {}", path.display()),
                message: super::nix_log::strip_ansi(String::from_utf8_lossy(&out.stderr).trim()),
            });
        }
        Ok(parse_path_info(&String::from_utf8_lossy(&out.stdout)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = NixVersion::parse("nix (Nix) 2.8.0\n").unwrap();
        assert_eq!(v.to_string(), "2.8.0");
        assert!(!v.path_info_is_object());
        let v = NixVersion::parse("nix (Nix) 2.24.9pre20241025_dirty").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 24, 9));
        assert!(v.path_info_is_object());
        assert!(NixVersion::parse("nonsense").is_none());
    }

    #[test]
    fn build_json() {
        let out = parse_build_json(
            r#"[{"drvPath":"/nix/store/a.drv","outputs":{"dev":"/nix/store/d","out":"/nix/store/o"}},{"path":"/nix/store/p"}]"#,
        );
        assert_eq!(
            out,
            vec![
                PathBuf::from("/nix/store/o"),
                PathBuf::from("/nix/store/d"),
                PathBuf::from("/nix/store/p")
            ]
        );
    }

    #[test]
    fn path_info_both_shapes() {
        let a = parse_path_info(r#"[{"path":"/nix/store/x-a-1","narSize":10}]"#);
        let b = parse_path_info(r#"{"/nix/store/x-a-1":{"narSize":10}}"#);
        assert_eq!(a, b);
        assert_eq!(a[0].nar_size, 10);
    }

    #[test]
    fn dry_run_messages() {
        let msg = |t: &str| NixMessage {
            level: 0,
            text: t.into(),
            location: None,
        };
        let (b, f) = parse_dry_run(&[
            msg("these 2 derivations will be built:"),
            msg("  /nix/store/a-x.drv"),
            msg("  /nix/store/b-y.drv"),
            msg("this path will be fetched (0.01 MiB download, 0.02 MiB unpacked):"),
            msg("  /nix/store/c-z"),
            msg("warning: something"),
        ]);
        assert_eq!(b, vec!["/nix/store/a-x.drv", "/nix/store/b-y.drv"]);
        assert_eq!(f, vec!["/nix/store/c-z"]);
    }

    #[test]
    fn source_paths_map_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flake.nix"), "{}").unwrap();
        let inst = Installable::parse(
            &format!("{}#homeConfigurations.x", dir.path().display()),
            None,
        )
        .unwrap();
        let text = map_source_paths(
            &inst,
            "undefined variable 'x'\n at /nix/store/bizwdgb02wqcv4c4pr2dfci3jmz4kxdm-source/flake.nix:6:13:",
        );
        assert_eq!(
            text,
            format!(
                "undefined variable 'x'\n at {}/flake.nix:6:13:",
                dir.path().display()
            )
        );
    }
}
