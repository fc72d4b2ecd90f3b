//! The language server: tower-lsp over stdio, holding the analyzer database.
//!
//! One keystroke: `didChange` applies the edits to the document text under the state lock
//! and sets the file's salsa input (which cancels queries still running on older snapshots),
//! then queues the file for diagnostics. Requests clone the database (a snapshot), run the
//! pure `ide` function on a blocking thread and convert its plain result to lsp-types.

pub mod apply;
mod convert;
mod dispatch;
mod flake;
mod handlers;
mod options;
mod server;
pub mod settings;
mod transport;

use std::process::ExitCode;

/// Stack size of the threads that run analysis: deeply nested input recurses deeply.
pub(crate) const ANALYSIS_STACK_BYTES: usize = 512 << 20;

/// Runs the server on stdin/stdout until the client sends `exit`.
pub fn run_stdio(paths: apply::Paths) -> anyhow::Result<ExitCode> {
    // One worker: the async side only moves messages (analysis runs on threads of its own),
    // and each further thread kept allocator pages of its own (about 0.5 MiB).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_stack_size(ANALYSIS_STACK_BYTES)
        .enable_all()
        .build()?;
    let state = server::State::new();
    let direct_state = state.clone();
    let ending = runtime.block_on(transport::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        |input, output| {
            let paths = paths.clone();
            let (service, socket) = tower_lsp::LspService::build(move |client| {
                server::StrataServer::new(client, paths, state)
            })
            .custom_method(
                "window/workDoneProgress/cancel",
                server::StrataServer::cancel_progress,
            )
            .finish();
            tokio::spawn(tower_lsp::Server::new(input, output, socket).serve(service))
        },
        move |method, id, body| server::intercept(&direct_state, method, id, body),
    ));
    // Blocking analysis threads may still be unwinding from cancellation; don't wait.
    runtime.shutdown_background();
    Ok(match ending {
        transport::Ending::Clean => ExitCode::SUCCESS,
        transport::Ending::Abrupt => ExitCode::FAILURE,
    })
}
