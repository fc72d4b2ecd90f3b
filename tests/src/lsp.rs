//! A stdio client for `strata lsp` shared by the end-to-end LSP tests.
//!
//! Every message the server sends is kept in arrival order until a test consumes it
//! (`response`, `wait_for`), so a test can send a request, watch the notifications it
//! causes, and collect the response afterwards. Server-to-client requests are answered
//! the moment they arrive: by the test's responder when it returns `Some`, else by
//! defaults (`workspace/configuration` gets [`Client::config`], everything else `null`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a wait lasts before the test fails: only reached when the server hangs, so
/// no test depends on timing.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// Answers a server-to-client request (`method`, `params`); `None` leaves it to the defaults.
pub type Responder = Box<dyn FnMut(&str, &Value) -> Option<Value> + Send>;

/// A running `strata lsp` and the JSON-RPC state of the session.
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Messages received and not yet consumed, oldest first.
    pending: VecDeque<Value>,
    /// Every notification received, oldest first.
    notifications: Vec<Value>,
    /// Every server-to-client request received, oldest first.
    server_requests: Vec<Value>,
    responder: Option<Responder>,
    /// What `workspace/configuration` answers for each item.
    pub config: Value,
}

impl Client {
    /// Spawns `strata lsp` with stderr discarded (set `STRATA_TEST_STDERR` to see it).
    pub fn spawn() -> Client {
        Self::spawn_with(|_| {})
    }

    /// Spawns `strata lsp` after `setup` adjusted the command (environment, stderr, folder).
    pub fn spawn_with(setup: impl FnOnce(&mut Command)) -> Client {
        let mut cmd = Command::new(crate::strata_bin());
        cmd.arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("STRATA_TEST_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        setup(&mut cmd);
        let mut child = cmd.spawn().expect("spawn strata lsp");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 1,
            pending: VecDeque::new(),
            notifications: Vec::new(),
            server_requests: Vec::new(),
            responder: None,
            config: Value::Null,
        }
    }

    /// Answers server-to-client requests with `f` first (return `None` for the defaults).
    pub fn set_responder(&mut self, f: impl FnMut(&str, &Value) -> Option<Value> + Send + 'static) {
        self.responder = Some(Box::new(f));
    }

    /// Sends `initialize` (with `capabilities` and `initializationOptions`) and
    /// `initialized`; returns the initialize result.
    pub fn initialize(
        &mut self,
        root: Option<&Path>,
        capabilities: Value,
        options: Value,
    ) -> Value {
        let root_uri = root.map(file_uri);
        let result = self.request(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": capabilities,
                   "initializationOptions": options}),
        );
        self.notify("initialized", json!({}));
        result
    }

    /// Writes one frame with `body` as is (tests send malformed input this way).
    pub fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open until exit");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write header");
        stdin.write_all(body).expect("write body");
        stdin.flush().expect("flush");
    }

    fn send(&mut self, mut msg: Value) {
        if msg.get("params") == Some(&Value::Null) {
            msg.as_object_mut().expect("object").remove("params");
        }
        self.send_raw(msg.to_string().as_bytes());
    }

    /// Sends a notification (`params: null` is left out).
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request without waiting; returns its id for [`response`](Self::response).
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and returns its result; fails the test on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        match self.request_result(method, params) {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    /// Sends a request and returns its result or its error object.
    pub fn request_result(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        let resp = self.response(id);
        match resp.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(resp["result"].clone()),
        }
    }

    /// Waits for the whole response message to request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        self.wait_for(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// Takes the oldest message (notification, server request or response) matching
    /// `pred`, waiting up to [`TIMEOUT`]; fails the test if none comes.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        match self.try_wait_for(&pred, TIMEOUT) {
            Some(m) => m,
            None => panic!("no matching message from the server within {TIMEOUT:?}"),
        }
    }

    /// Takes the oldest message matching `pred`, waiting at most `timeout`.
    pub fn try_wait_for(
        &mut self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let msg = self.recv(left)?;
            if pred(&msg) {
                return Some(msg);
            }
            self.pending.push_back(msg);
        }
    }

    /// Takes the oldest notification `method` whose params match `pred`.
    pub fn notification(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let msg =
            self.wait_for(|m| m["method"] == method && m.get("id").is_none() && pred(&m["params"]));
        msg["params"].clone()
    }

    /// Takes the oldest `publishDiagnostics` for `uri` whose list satisfies `pred`.
    pub fn diagnostics_where(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let params = self.notification("textDocument/publishDiagnostics", |p| {
            p["uri"] == uri && pred(p["diagnostics"].as_array().map_or(&[], |v| v))
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Drains what the server sent so far (without waiting) into the pending queue.
    pub fn poll(&mut self) {
        while let Some(msg) = self.recv(Duration::ZERO) {
            self.pending.push_back(msg);
        }
    }

    /// Every notification received so far, oldest first (consumed ones included).
    pub fn notifications(&mut self) -> &[Value] {
        self.poll();
        &self.notifications
    }

    /// Every server-to-client request received so far, oldest first.
    pub fn server_requests(&mut self) -> &[Value] {
        self.poll();
        &self.server_requests
    }

    /// Receives one message, answering it first if it is a server request.
    fn recv(&mut self, timeout: Duration) -> Option<Value> {
        let msg = if timeout.is_zero() {
            self.incoming.try_recv().ok()?
        } else {
            self.incoming.recv_timeout(timeout).ok()?
        };
        match (msg.get("method"), msg.get("id")) {
            (Some(_), Some(id)) => {
                let result = self.answer(&msg);
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
                self.server_requests.push(msg.clone());
            }
            (Some(_), None) => self.notifications.push(msg.clone()),
            _ => {}
        }
        Some(msg)
    }

    fn answer(&mut self, msg: &Value) -> Value {
        let method = msg["method"].as_str().unwrap_or_default();
        if let Some(r) = self.responder.as_mut() {
            if let Some(v) = r(method, &msg["params"]) {
                return v;
            }
        }
        match method {
            "workspace/configuration" => {
                let n = msg["params"]["items"].as_array().map_or(1, Vec::len);
                Value::Array(vec![self.config.clone(); n])
            }
            _ => Value::Null,
        }
    }

    /// `shutdown`, `exit`, closes stdin and checks the server exits with status 0.
    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                assert!(status.success(), "exit status {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit after `exit`");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Reads one `Content-Length` framed JSON message; `None` at end of stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The `file://` URI of a path.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Line and UTF-16 column of the first `needle` in `text`, plus `skip` characters, as an
/// LSP position.
pub fn position_of(text: &str, needle: &str, skip: u32) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    let line = text[..at].matches('\n').count();
    let col = text[..at]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count() as u32;
    json!({"line": line, "character": col + skip})
}
