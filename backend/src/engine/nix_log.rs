//! Reads Nix's machine-readable log (`--log-format internal-json`: `@nix {...}` lines on
//! stderr) and turns it into engine [`Event`]s, keeping the last lines of every build.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::{store_path_name, Event, Location};

/// How many log lines of a derivation are kept for error reports.
pub const TAIL_LINES: usize = 25;

// Activity and result types from Nix's logging.hh (stable since Nix 2.3).
const ACT_COPY_PATH: u64 = 100;
const ACT_BUILDS: u64 = 104;
const ACT_BUILD: u64 = 105;
const ACT_COPY_PATHS: u64 = 103;
const ACT_SUBSTITUTE: u64 = 108;
const RES_BUILD_LOG_LINE: u64 = 101;
const RES_PROGRESS: u64 = 105;
const RES_POST_BUILD_LOG_LINE: u64 = 107;

/// A message Nix printed (`msg` action), without colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixMessage {
    /// Nix's verbosity level (0 = error).
    pub level: u64,
    /// The text with ANSI colours removed.
    pub text: String,
    /// The source position Nix attached, if any.
    pub location: Option<Location>,
}

#[derive(Debug)]
enum Activity {
    Build { drv: String },
    Builds,
    CopyPaths,
    Other,
}

/// State of one Nix invocation's log.
#[derive(Debug, Default)]
pub struct NixLog {
    activities: HashMap<u64, Activity>,
    tails: HashMap<String, VecDeque<String>>,
    builds: [u64; 4],
    downloads_expected: u64,
    planned: (u64, u64),
    failed_seen: u64,
    /// Every message, in order.
    pub messages: Vec<NixMessage>,
    /// Derivations whose build failed, in order.
    pub failed: Vec<String>,
    /// Lines on stderr that were not `@nix` records (old Nix, or a wrapper's output).
    pub plain: Vec<String>,
}

impl NixLog {
    /// Feeds one stderr line; calls `emit` for every event it carries.
    pub fn feed(&mut self, line: &str, emit: &mut dyn FnMut(Event)) {
        let Some(json) = line.strip_prefix("@nix ") else {
            let text = strip_ansi(line);
            if !text.trim().is_empty() {
                self.plain.push(text);
            }
            return;
        };
        let Ok(v) = serde_json::from_str::<Value>(json) else {
            return;
        };
        let id = v["id"].as_u64().unwrap_or(0);
        match v["action"].as_str() {
            Some("start") => self.start(id, &v, emit),
            Some("stop") => self.stop(id, emit),
            Some("result") => self.result(id, &v, emit),
            Some("msg") => self.msg(&v, emit),
            _ => {}
        }
    }

    fn start(&mut self, id: u64, v: &Value, emit: &mut dyn FnMut(Event)) {
        let fields = v["fields"].as_array();
        let field = |i: usize| {
            fields
                .and_then(|f| f.get(i))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        let activity = match v["type"].as_u64().unwrap_or(0) {
            ACT_BUILD => {
                let drv = field(0);
                emit(Event::BuildStarted {
                    name: drv_name(&drv),
                    drv: drv.clone(),
                });
                self.tails.insert(drv.clone(), VecDeque::new());
                Activity::Build { drv }
            }
            ACT_BUILDS => Activity::Builds,
            ACT_COPY_PATHS => Activity::CopyPaths,
            ACT_SUBSTITUTE | ACT_COPY_PATH => {
                let path = field(0);
                if !path.is_empty() {
                    emit(Event::Copy {
                        name: store_path_name(&path).to_string(),
                        path,
                    });
                }
                Activity::Other
            }
            _ => Activity::Other,
        };
        self.activities.insert(id, activity);
    }

    fn stop(&mut self, id: u64, emit: &mut dyn FnMut(Event)) {
        if let Some(Activity::Build { drv }) = self.activities.remove(&id) {
            // Nix counts a failure in the builds' progress just before the build stops.
            let ok = self.builds[3] <= self.failed_seen;
            if !ok {
                self.failed_seen += 1;
                if !self.failed.contains(&drv) {
                    self.failed.push(drv.clone());
                }
            }
            emit(Event::BuildFinished {
                name: drv_name(&drv),
                drv,
                ok,
            });
        }
    }

    fn result(&mut self, id: u64, v: &Value, emit: &mut dyn FnMut(Event)) {
        let fields = v["fields"].as_array().cloned().unwrap_or_default();
        match (v["type"].as_u64().unwrap_or(0), self.activities.get(&id)) {
            (RES_BUILD_LOG_LINE | RES_POST_BUILD_LOG_LINE, Some(Activity::Build { drv })) => {
                let line = strip_ansi(fields.first().and_then(|x| x.as_str()).unwrap_or(""));
                let drv = drv.clone();
                let tail = self.tails.entry(drv.clone()).or_default();
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
                emit(Event::LogLine {
                    name: drv_name(&drv),
                    drv,
                    line,
                });
            }
            (RES_PROGRESS, Some(Activity::Builds)) => {
                let n = |i: usize| fields.get(i).and_then(|x| x.as_u64()).unwrap_or(0);
                let new = [n(0), n(1), n(2), n(3)];
                if new != self.builds {
                    self.builds = new;
                    self.plan_changed(emit);
                    emit(Event::Progress {
                        done: new[0],
                        expected: new[1],
                        running: new[2],
                        failed: new[3],
                    });
                }
            }
            (RES_PROGRESS, Some(Activity::CopyPaths)) => {
                let expected = fields.get(1).and_then(|x| x.as_u64()).unwrap_or(0);
                if expected != self.downloads_expected {
                    self.downloads_expected = expected;
                    self.plan_changed(emit);
                }
            }
            _ => {}
        }
    }

    fn plan_changed(&mut self, emit: &mut dyn FnMut(Event)) {
        let plan = (self.builds[1], self.downloads_expected);
        if plan != self.planned {
            self.planned = plan;
            emit(Event::Planned {
                builds: plan.0,
                downloads: plan.1,
            });
        }
    }

    fn msg(&mut self, v: &Value, emit: &mut dyn FnMut(Event)) {
        let level = v["level"].as_u64().unwrap_or(0);
        let text = strip_ansi(v["msg"].as_str().unwrap_or(""));
        let location = match (v["file"].as_str(), v["line"].as_u64()) {
            (Some(file), Some(line)) => Some(Location {
                file: file.into(),
                line: line as u32,
                column: v["column"].as_u64().unwrap_or(0) as u32,
            }),
            _ => location_in_text(&text),
        };
        if let Some(drv) = failed_builder(&text) {
            if !self.failed.contains(&drv) {
                self.failed.push(drv);
            }
        }
        if level == 1 || text.starts_with("warning:") {
            emit(Event::Message { text: text.clone() });
        }
        self.messages.push(NixMessage {
            level,
            text,
            location,
        });
    }

    /// The last lines a derivation's builder printed.
    pub fn tail(&self, drv: &str) -> Vec<String> {
        self.tails
            .get(drv)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The error messages (texts starting with `error:`), in order.
    pub fn errors(&self) -> impl Iterator<Item = &NixMessage> {
        self.messages
            .iter()
            .filter(|m| m.text.starts_with("error:"))
    }
}

/// `name-version` of a `.drv` path (`/nix/store/HASH-hello-1.0.drv` → `hello-1.0`).
pub fn drv_name(drv: &str) -> String {
    let name = store_path_name(drv);
    name.strip_suffix(".drv").unwrap_or(name).to_string()
}

/// The derivation named in "builder for '/nix/store/…drv' failed …".
fn failed_builder(text: &str) -> Option<String> {
    let rest = text.split_once("builder for '")?.1;
    let (drv, after) = rest.split_once('\'')?;
    after
        .trim_start()
        .starts_with("failed")
        .then(|| drv.to_string())
}

/// Finds `at FILE:LINE:COL` in an error text (Nix prints it for traces).
pub fn location_in_text(text: &str) -> Option<Location> {
    for part in text.split(" at ").skip(1) {
        let candidate = part.split_whitespace().next()?.trim_end_matches(':');
        let mut it = candidate.rsplitn(3, ':');
        let (col, line, file) = (it.next()?, it.next()?, it.next()?);
        if let (Ok(line), Ok(column)) = (line.parse(), col.parse()) {
            if file.starts_with('/') {
                return Some(Location {
                    file: file.into(),
                    line,
                    column,
                });
            }
        }
    }
    None
}

/// Removes ANSI escape sequences (Nix colours its messages even in JSON).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    /// A failing build as Nix 2.8 logs it (trimmed from a real run).
    const FAILING: &str = r#"@nix {"action":"start","id":9,"level":4,"text":"copying '/tmp/f'","type":0}
@nix {"action":"stop","id":9}
@nix {"action":"start","id":2,"level":0,"text":"","type":104}
@nix {"action":"start","id":3,"level":0,"text":"","type":103}
@nix {"action":"result","fields":[0,1,0,0],"id":2,"type":105}
@nix {"action":"start","fields":["/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv","",1,1],"id":5,"level":3,"text":"building","type":105}
@nix {"action":"result","fields":[0,1,1,0],"id":2,"type":105}
@nix {"action":"result","fields":["about to \u001b[31mfail\u001b[0m"],"id":5,"type":101}
@nix {"action":"result","fields":["more"],"id":5,"type":101}
@nix {"action":"result","fields":[0,1,0,1],"id":2,"type":105}
@nix {"action":"stop","id":5}
@nix {"action":"stop","id":3}
@nix {"action":"stop","id":2}
@nix {"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\u001b[31;1merror:\u001b[0m \u001b[35;1m\u001b[0mbuilder for '\u001b[35;1m/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv\u001b[0m' failed with exit code 3\u001b[0m"}"#;

    #[test]
    fn failing_build_events() {
        let mut log = NixLog::default();
        let mut events = Vec::new();
        for line in FAILING.lines() {
            log.feed(line, &mut |e| events.push(format!("{e:?}")));
        }
        expect![[r#"
            Planned { builds: 1, downloads: 0 }
            Progress { done: 0, expected: 1, running: 0, failed: 0 }
            BuildStarted { drv: "/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv", name: "bad-1.0" }
            Progress { done: 0, expected: 1, running: 1, failed: 0 }
            LogLine { drv: "/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv", name: "bad-1.0", line: "about to fail" }
            LogLine { drv: "/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv", name: "bad-1.0", line: "more" }
            Progress { done: 0, expected: 1, running: 0, failed: 1 }
            BuildFinished { drv: "/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv", name: "bad-1.0", ok: false }
        "#]]
        .assert_eq(&(events.join("\n") + "\n"));
        assert_eq!(
            log.failed,
            vec!["/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv"]
        );
        assert_eq!(
            log.tail("/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv"),
            vec!["about to fail", "more"]
        );
        let err: Vec<_> = log.errors().map(|m| m.text.as_str()).collect();
        expect![[r#"["error: builder for '/nix/store/7csxshx1sycib6j7hrwlg2w4fyj37hf8-bad-1.0.drv' failed with exit code 3"]"#]]
            .assert_eq(&format!("{err:?}"));
    }

    #[test]
    fn evaluation_error_location() {
        let mut log = NixLog::default();
        log.feed(r#"@nix {"action":"msg","column":13,"file":"/nix/store/bizwdgb02wqcv4c4pr2dfci3jmz4kxdm-source/flake.nix","level":0,"line":6,"msg":"\u001b[31;1merror:\u001b[0m undefined variable 'x'"}"#, &mut |_| {});
        let m = log.errors().next().unwrap();
        assert_eq!(m.text, "error: undefined variable 'x'");
        let loc = m.location.as_ref().unwrap();
        assert_eq!(
            (loc.file.to_str().unwrap(), loc.line, loc.column),
            (
                "/nix/store/bizwdgb02wqcv4c4pr2dfci3jmz4kxdm-source/flake.nix",
                6,
                13
            )
        );
        let loc = location_in_text(
            "error: cannot add\n\n       at /nix/store/abc-source/home.nix:3:5:\n   3| x",
        )
        .unwrap();
        assert_eq!((loc.line, loc.column), (3, 5));
        assert_eq!(loc.file.to_str().unwrap(), "/nix/store/abc-source/home.nix");
    }

    #[test]
    fn ignores_garbage() {
        let mut log = NixLog::default();
        let mut n = 0;
        log.feed("@nix {not json", &mut |_| n += 1);
        log.feed("plain text", &mut |_| n += 1);
        log.feed(
            r#"@nix {"action":"result","fields":["x"],"id":77,"type":101}"#,
            &mut |_| n += 1,
        );
        assert_eq!(n, 0);
        assert_eq!(log.plain, vec!["plain text"]);
    }
}
