//! Runs a child process in its own process group, streaming its output line by line and
//! killing the whole group when the job is cancelled (so builders die with it).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{CancelToken, EngineError};

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The child's stdout.
    Out,
    /// The child's stderr.
    Err,
}

/// How long a cancelled child gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// Runs `cmd`, calling `on_line` for every output line; returns its exit status, or
/// `Cancelled` once the token fired and the group was killed.
pub fn run(
    mut cmd: Command,
    cancel: &CancelToken,
    mut on_line: impl FnMut(Stream, &str),
) -> Result<ExitStatus, EngineError> {
    let program = format!("{:?}", cmd.get_program());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| EngineError::Tool {
        context: format!("cannot run {program}"),
        message: e.to_string(),
    })?;
    let pgid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel::<(Stream, String)>();
    let readers: Vec<_> = [
        (
            Stream::Out,
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
        (
            Stream::Err,
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
    ]
    .into_iter()
    .filter_map(|(stream, pipe)| {
        let pipe = pipe?;
        let tx = tx.clone();
        Some(std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        let line = line.trim_end_matches(['\n', '\r']).to_string();
                        if tx.send((stream, line)).is_err() {
                            break;
                        }
                    }
                }
            }
        }))
    })
    .collect();
    drop(tx);

    let mut killed_at: Option<Instant> = None;
    let mut hard_killed = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok((stream, line)) => on_line(stream, &line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if cancel.is_cancelled() {
            match killed_at {
                None => {
                    // SAFETY: signalling a process group we created; no memory involved.
                    unsafe { libc::kill(-pgid, libc::SIGTERM) };
                    killed_at = Some(Instant::now());
                }
                Some(t) if !hard_killed && t.elapsed() > GRACE => {
                    // SAFETY: as above.
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                    hard_killed = true;
                }
                _ => {}
            }
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| EngineError::Tool {
        context: format!("cannot wait for {program}"),
        message: e.to_string(),
    })?;
    if killed_at.is_some() {
        return Err(EngineError::Cancelled);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_both_pipes() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let mut lines = Vec::new();
        let status = run(cmd, &CancelToken::new(), |s, l| {
            lines.push((s, l.to_string()))
        })
        .unwrap();
        assert_eq!(status.code(), Some(3));
        lines.sort_by_key(|(s, _)| *s == Stream::Err);
        assert_eq!(
            lines,
            vec![(Stream::Out, "out".into()), (Stream::Err, "err".into())]
        );
    }

    #[test]
    fn cancel_kills_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let mut cmd = Command::new("/bin/sh");
        // The grandchild would write the marker if it outlived the cancel.
        cmd.arg("-c").arg(format!(
            "(/bin/sleep 2; echo x > {}) & echo started; wait",
            marker.display()
        ));
        let token = CancelToken::new();
        let t2 = token.clone();
        let err = run(cmd, &token, |_, l| {
            if l == "started" {
                t2.cancel();
            }
        })
        .unwrap_err();
        assert!(matches!(err, EngineError::Cancelled));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists());
    }
}
