//! The stdio framing in front of tower-lsp. tower-lsp stops reading after one frame that
//! is not JSON, and never returns while client handles live; this layer answers malformed
//! frames itself (JSON-RPC parse error, id null), ends the session on `exit` or EOF, and
//! hands the requests the server answers directly (large results) to it instead.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Largest frame accepted (a bigger Content-Length is treated as malformed).
const MAX_FRAME_BYTES: usize = 256 << 20;

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`.
    Clean,
    /// `exit` without `shutdown`, or stdin closed.
    Abrupt,
}

/// Reads one `Content-Length` frame; `Ok(None)` at end of input, `Err(())` for a bad header.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Option<Result<Vec<u8>, ()>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !saw_header {
                continue;
            }
            break;
        }
        saw_header = true;
        if let Some((key, value)) = line.split_once(':') {
            if key.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length.filter(|l| *l <= MAX_FRAME_BYTES) else {
        return Some(Err(()));
    };
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return None;
    }
    Some(Ok(body))
}

/// A request's answer computed beside tower-lsp: the response's JSON bytes.
pub type DirectAnswer = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + Send>>;

/// What the layer reads of each incoming message (the rest is checked to be JSON, not kept:
/// a `didOpen` carries the whole file).
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<Value>,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// `$/cancelRequest`'s params.
#[derive(serde::Deserialize)]
struct CancelRequest {
    params: CancelParams,
}

#[derive(serde::Deserialize)]
struct CancelParams {
    id: Value,
}

/// The answer to a request cancelled by the client (LSP's `RequestCancelled`).
fn request_cancelled(id: &Value) -> Vec<u8> {
    let reply = serde_json::json!({"jsonrpc": "2.0",
        "error": {"code": -32800, "message": "request cancelled by the client"}, "id": id});
    frame(reply.to_string().as_bytes())
}

fn parse_error() -> Vec<u8> {
    frame(br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: the frame is not JSON"},"id":null}"#)
}

/// Runs the server behind the filtering layer until `exit` or end of input. `direct` is
/// offered every message first (method, id or `None` for a notification, frame body), in
/// the order they came; the requests it answers skip tower-lsp.
pub async fn serve<I, O, F, D>(stdin: I, stdout: O, serve_lsp: F, direct: D) -> Ending
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(tokio::io::DuplexStream, tokio::io::DuplexStream) -> tokio::task::JoinHandle<()>,
    D: Fn(&str, Option<&Value>, &[u8]) -> Option<DirectAnswer>,
{
    let (mut to_lsp, lsp_in) = tokio::io::duplex(1 << 20);
    let (lsp_out, from_lsp) = tokio::io::duplex(1 << 20);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();

    // Everything written to stdout goes through one writer, frame by frame.
    let writer = tokio::spawn(async move {
        let mut stdout = stdout;
        while let Some(bytes) = out_rx.recv().await {
            if stdout.write_all(&bytes).await.is_err() || stdout.flush().await.is_err() {
                return;
            }
        }
    });
    let forward_tx = out_tx.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(from_lsp);
        while let Some(Ok(body)) = read_frame(&mut reader).await {
            if forward_tx.send(frame(&body)).is_err() {
                return;
            }
        }
    });
    let server = serve_lsp(lsp_in, lsp_out);

    // Requests answered directly and still running, by id (JSON text), for `$/cancelRequest`.
    let running: Arc<Mutex<HashMap<String, tokio::task::AbortHandle>>> = Arc::default();
    let mut reader = BufReader::new(stdin);
    let (mut initialize_seen, mut shutdown_seen) = (false, false);
    let ending = loop {
        let Some(next) = read_frame(&mut reader).await else {
            break Ending::Abrupt;
        };
        let Ok(body) = next else {
            let _ = out_tx.send(parse_error());
            continue;
        };
        let envelope = match serde_json::from_slice::<Envelope>(&body) {
            Ok(envelope) => envelope,
            // Valid JSON that is not a message object: tower-lsp answers it.
            Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() => Envelope {
                method: None,
                id: None,
            },
            Err(_) => {
                tracing::warn!("answered a frame that is not JSON with a parse error");
                let _ = out_tx.send(parse_error());
                continue;
            }
        };
        let method = envelope.method.as_deref();
        // Before `initialize` and after `shutdown` tower-lsp answers everything with the
        // errors LSP prescribes (and drops notifications).
        let live = initialize_seen && !shutdown_seen;
        let answer = method
            .filter(|_| live)
            .and_then(|m| direct(m, envelope.id.as_ref(), &body));
        if let (Some(answer), Some(id)) = (answer, &envelope.id) {
            let key = id.to_string();
            let (tx, running_now) = (out_tx.clone(), running.clone());
            // Locked until the handle is stored, so the task cannot finish before.
            let mut tasks = running.lock().unwrap();
            let task = tokio::spawn(async move {
                let bytes = answer.await;
                running_now.lock().unwrap().remove(&key);
                let _ = tx.send(frame(&bytes));
            });
            tasks.insert(id.to_string(), task.abort_handle());
            continue;
        }
        if method == Some("$/cancelRequest") {
            let cancelled = serde_json::from_slice::<CancelRequest>(&body).ok();
            let id = cancelled.map(|c| c.params.id);
            let handle = id
                .as_ref()
                .and_then(|id| running.lock().unwrap().remove(&id.to_string()));
            if let (Some(id), Some(handle)) = (id, handle) {
                // Dropping the answer drops its snapshot's guard, which cancels its queries.
                handle.abort();
                let _ = out_tx.send(request_cancelled(&id));
                continue;
            }
        }
        initialize_seen |= method == Some("initialize");
        shutdown_seen |= method == Some("shutdown");
        if to_lsp.write_all(&frame(&body)).await.is_err() {
            break Ending::Abrupt;
        }
        if method == Some("exit") {
            break if shutdown_seen {
                Ending::Clean
            } else {
                Ending::Abrupt
            };
        }
    };
    // Let responses already produced reach the client, then stop.
    drop(to_lsp);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), server).await;
    drop(out_tx);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), writer).await;
    ending
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(to: &mut tokio::io::DuplexStream, body: &str) {
        to.write_all(&frame(body.as_bytes())).await.unwrap();
    }

    #[tokio::test]
    async fn direct_requests_skip_tower_lsp_and_can_be_cancelled() {
        let (mut client, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, from_server) = tokio::io::duplex(1 << 16);
        let forwarded = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = forwarded.clone();
        let inner = move |input: tokio::io::DuplexStream, _output| {
            tokio::spawn(async move {
                let mut reader = BufReader::new(input);
                while let Some(Ok(body)) = read_frame(&mut reader).await {
                    seen.lock().unwrap().push(String::from_utf8(body).unwrap());
                }
            })
        };
        let direct = |method: &str, _id: Option<&Value>, _body: &[u8]| -> Option<DirectAnswer> {
            match method {
                "fast" => Some(Box::pin(async { br#"{"answer":1}"#.to_vec() })),
                "slow" => Some(Box::pin(std::future::pending())),
                _ => None,
            }
        };
        let session = tokio::spawn(serve(server_in, server_out, inner, direct));
        // Before `initialize` nothing is answered beside tower-lsp.
        send(&mut client, r#"{"jsonrpc":"2.0","id":0,"method":"fast"}"#).await;
        send(
            &mut client,
            r#"{"jsonrpc":"2.0","id":9,"method":"initialize"}"#,
        )
        .await;
        send(&mut client, r#"{"jsonrpc":"2.0","id":1,"method":"fast"}"#).await;
        send(&mut client, r#"{"jsonrpc":"2.0","id":"s","method":"slow"}"#).await;
        send(&mut client, r#"{"jsonrpc":"2.0","id":3,"method":"other"}"#).await;
        send(
            &mut client,
            r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"s"}}"#,
        )
        .await;
        let mut reader = BufReader::new(from_server);
        let mut answers = Vec::new();
        for _ in 0..2 {
            let body = read_frame(&mut reader).await.unwrap().unwrap();
            answers.push(serde_json::from_slice::<Value>(&body).unwrap());
        }
        answers.sort_by_key(|a| a.to_string());
        assert_eq!(answers[0]["answer"], 1);
        assert_eq!(answers[1]["id"], "s");
        assert_eq!(answers[1]["error"]["code"], -32800);
        // Nor after `shutdown`.
        send(
            &mut client,
            r#"{"jsonrpc":"2.0","id":10,"method":"shutdown"}"#,
        )
        .await;
        send(&mut client, r#"{"jsonrpc":"2.0","id":11,"method":"fast"}"#).await;
        send(&mut client, r#"{"jsonrpc":"2.0","method":"exit"}"#).await;
        assert_eq!(session.await.unwrap(), Ending::Clean);
        let forwarded = forwarded.lock().unwrap();
        let methods: Vec<Value> = forwarded
            .iter()
            .map(|b| serde_json::from_str::<Value>(b).unwrap()["method"].clone())
            .collect();
        assert_eq!(
            methods,
            ["fast", "initialize", "other", "shutdown", "fast", "exit"]
        );
    }
}
