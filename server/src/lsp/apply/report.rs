//! What the user is told when a job ends: the `window/showMessage` text, the command's
//! result or error object, and the diagnostic of an evaluation error.

use serde_json::{json, Value};
use strata_backend::engine::{ApplyOutcome, EngineError, Location};
use strata_backend::profile::Profile;
use tower_lsp::jsonrpc::{Error, ErrorCode};
use tower_lsp::lsp_types::*;

/// How many log lines a failure message shows.
const TAIL_LINES: usize = 10;

/// The message after a successful apply: generation and closure diff summary.
pub fn applied_message(outcome: &ApplyOutcome, profile: &Profile) -> String {
    let generation = outcome.generation.unwrap_or_default();
    let change = match (&outcome.diff, outcome.previous) {
        (_, Some(prev)) if prev == generation => "unchanged".to_string(),
        (Some(diff), _) => diff.summary(),
        (None, None) => format!("new profile {}", profile.path().display()),
        (None, Some(_)) => "switched".to_string(),
    };
    format!("generation {generation}: {change}")
}

/// The result object of `strata.apply`.
pub fn applied_result(outcome: &ApplyOutcome, profile: &Profile, message: &str) -> Value {
    json!({
        "generation": outcome.generation,
        "previous": outcome.previous,
        "profile": profile.path(),
        "output": outcome.output,
        "summary": message,
        "diff": outcome.diff,
    })
}

/// The message after a failed job: the failing step, the error and the last log lines.
pub fn failure_message(what: &str, err: &EngineError) -> String {
    if matches!(err, EngineError::Cancelled) {
        return format!("{what} cancelled; the profile was not changed");
    }
    let mut text = format!("{what} failed at the {} step: {err}", err.step());
    let tail = err.log_tail();
    if !tail.is_empty() {
        text.push_str("\nlast log lines:");
        for line in &tail[tail.len().saturating_sub(TAIL_LINES)..] {
            text.push_str("\n  ");
            text.push_str(line);
        }
    }
    text
}

/// The JSON-RPC error a failed command answers with (cancelled: `RequestCancelled`).
pub fn failure_error(message: String, err: &EngineError) -> Error {
    let code = match err {
        EngineError::Cancelled => ErrorCode::RequestCancelled,
        _ => ErrorCode::ServerError(i64::from(err.exit_code())),
    };
    Error {
        code,
        message: message.into(),
        data: Some(json!({"step": err.step(), "logTail": err.log_tail()})),
    }
}

/// An evaluation error with a position, as a diagnostic on that file and line.
pub fn eval_diagnostic(err: &EngineError) -> Option<(Url, Diagnostic)> {
    let EngineError::Eval {
        message,
        location: Some(loc),
    } = err
    else {
        return None;
    };
    let uri = Url::from_file_path(&loc.file).ok()?;
    Some((
        uri,
        Diagnostic {
            range: line_range(loc),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String("eval-error".into())),
            source: Some("strata apply".into()),
            message: message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
            ..Default::default()
        },
    ))
}

/// From the error's column (or the line's first non-blank) to the end of its line.
fn line_range(loc: &Location) -> Range {
    let line = loc.line.saturating_sub(1);
    let text = std::fs::read_to_string(&loc.file).unwrap_or_default();
    let line_text = text.lines().nth(line as usize).unwrap_or("");
    let len = line_text.encode_utf16().count() as u32;
    let indent = line_text
        .chars()
        .take_while(|c| c.is_whitespace())
        .map(char::len_utf16)
        .sum::<usize>() as u32;
    // Nix counts columns in bytes; good enough for the ASCII prefix of a line.
    let start = if loc.column > 0 {
        (loc.column - 1).min(len)
    } else {
        indent
    };
    Range::new(
        Position::new(line, start),
        Position::new(line, len.max(start)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_name_the_step_and_the_last_lines() {
        let err = EngineError::Build {
            drv: Some("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-1.0.drv".into()),
            message: "builder failed".into(),
            log_tail: (1..=12).map(|i| format!("line {i}")).collect(),
            log_file: None,
        };
        let text = failure_message("Apply of .#x", &err);
        assert!(
            text.starts_with("Apply of .#x failed at the build step: build of hello-1.0 failed"),
            "{text}"
        );
        assert!(
            text.contains("\n  line 12") && !text.contains("line 2\n"),
            "{text}"
        );
        assert_eq!(
            failure_message("Apply of .#x", &EngineError::Cancelled),
            "Apply of .#x cancelled; the profile was not changed"
        );
    }

    #[test]
    fn eval_errors_become_a_diagnostic_on_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("home.nix");
        std::fs::write(&file, "{\n  files = oops;\n}\n").unwrap();
        let err = EngineError::Eval {
            message: "undefined variable 'oops'".into(),
            location: Some(Location {
                file: file.clone(),
                line: 2,
                column: 11,
            }),
        };
        let (uri, d) = eval_diagnostic(&err).unwrap();
        assert_eq!(uri, Url::from_file_path(&file).unwrap());
        assert_eq!(
            d.range,
            Range::new(Position::new(1, 10), Position::new(1, 15))
        );
        let no_pos = EngineError::Eval {
            message: "x".into(),
            location: None,
        };
        assert!(eval_diagnostic(&no_pos).is_none());
    }
}
