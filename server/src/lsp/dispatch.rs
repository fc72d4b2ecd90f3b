//! Running analysis off the async runtime: on a database snapshot, with panics caught and
//! cancellation (by a newer edit or by `$/cancelRequest`) turned into an error answer.

use std::panic::AssertUnwindSafe;

use salsa::{CancellationToken, Database};
use strata_analyzer::db::RootDatabase;
use tower_lsp::jsonrpc::{Error, ErrorCode};

/// LSP's "content modified": the answer was computed for text that has since changed.
const CONTENT_MODIFIED: i64 = -32801;
/// LSP's "request cancelled".
const REQUEST_CANCELLED: i64 = -32800;

/// Cancels the snapshot's queries if the request future is dropped before it finishes
/// (tower-lsp drops it on `$/cancelRequest`).
struct CancelOnDrop(Option<CancellationToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

/// Runs `f` on `snapshot` in a blocking thread; a panic or cancellation becomes an error.
pub async fn on_snapshot<T, F>(what: &'static str, snapshot: RootDatabase, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&RootDatabase) -> T + Send + 'static,
{
    let mut guard = CancelOnDrop(Some(snapshot.cancellation_token()));
    let joined = tokio::task::spawn_blocking(move || run_caught(what, &snapshot, f)).await;
    guard.0 = None;
    match joined {
        Ok(result) => result,
        Err(err) => Err(internal(format!("{what} failed: {err}"))),
    }
}

/// Runs `f` catching salsa cancellation and panics (synchronously, for the blocking pool).
pub fn run_caught<T>(
    what: &'static str,
    db: &RootDatabase,
    f: impl FnOnce(&RootDatabase) -> T,
) -> Result<T, Error> {
    // Unwind safety: the snapshot is dropped after a panic or cancellation, never reused.
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        salsa::Cancelled::catch(AssertUnwindSafe(|| f(db)))
    }));
    match caught {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(cancelled)) => {
            tracing::debug!("{what} cancelled: {cancelled}");
            let code = match cancelled {
                salsa::Cancelled::Local => REQUEST_CANCELLED,
                _ => CONTENT_MODIFIED,
            };
            Err(Error {
                code: ErrorCode::ServerError(code),
                message: format!("{what} cancelled: {cancelled}").into(),
                data: None,
            })
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("{what} panicked: {msg}");
            Err(internal(format!("{what} panicked: {msg}")))
        }
    }
}

fn internal(message: String) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_internal_error() {
        let db = RootDatabase::new();
        let err = run_caught("test", &db, |_| -> u32 { panic!("boom") }).unwrap_err();
        assert_eq!(err.code, ErrorCode::InternalError);
        assert!(err.message.contains("boom"), "{}", err.message);
        assert_eq!(run_caught("test", &db, |_| 7).unwrap(), 7);
    }

    #[test]
    fn dropped_request_cancels_its_snapshot() {
        let mut db = RootDatabase::new();
        let file = db.set_file("/t/a.nix", "let a = 1; in a".into());
        let snapshot = db.clone();
        drop(CancelOnDrop(Some(snapshot.cancellation_token())));
        let err = run_caught("test", &snapshot, |db| {
            strata_analyzer::db::diagnostics(db, file).len()
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerError(REQUEST_CANCELLED));
    }

    #[test]
    fn edit_cancels_stale_snapshot() {
        let mut db = RootDatabase::new();
        let file = db.set_file("/t/a.nix", "let a = 1; in a".into());
        let snapshot = db.clone();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            run_caught("test", &snapshot, |db| loop {
                // Each query call checks for a pending write and unwinds if there is one.
                strata_analyzer::db::diagnostics(db, file);
                let _ = started_tx.send(());
            })
        });
        started_rx.recv().unwrap();
        // Blocks until the snapshot has unwound, then applies the edit.
        db.set_file("/t/a.nix", "let b = 1; in b".into());
        let err = worker.join().unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerError(CONTENT_MODIFIED));
    }
}
