//! The stdio framing in front of tower-lsp. tower-lsp stops reading after one frame that
//! is not JSON, and never returns while client handles live; this layer answers malformed
//! frames itself (JSON-RPC parse error, id null), ends the session on `exit` or EOF, and
//! hands the requests the server answers directly (large results) to it instead.

use std::borrow::Cow;

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

fn parse_error() -> Vec<u8> {
    frame(br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: the frame is not JSON"},"id":null}"#)
}

/// Runs the server behind the filtering layer until `exit` or end of input. `direct` is
/// offered every request first (method, id, frame body); what it answers skips tower-lsp.
pub async fn serve<I, O, F, D>(stdin: I, stdout: O, serve_lsp: F, direct: D) -> Ending
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(tokio::io::DuplexStream, tokio::io::DuplexStream) -> tokio::task::JoinHandle<()>,
    D: Fn(&str, &Value, &[u8]) -> Option<DirectAnswer>,
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

    let mut reader = BufReader::new(stdin);
    let mut shutdown_seen = false;
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
        if let (Some(m), Some(id)) = (method, &envelope.id) {
            if let Some(answer) = direct(m, id, &body) {
                let tx = out_tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(frame(&answer.await));
                });
                continue;
            }
        }
        if method == Some("shutdown") {
            shutdown_seen = true;
        }
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
