//! How a command runs an operation: on a one-thread runtime, stoppable by Ctrl-C, SIGTERM
//! and SIGHUP except where stopping would lose tokens, with `-v` logs and stdout written
//! safely.

use std::future::Future;

use crate::error::{Error, Result, RunError};
use crate::flow::Deps;
use crate::redact::{json_safe, terminal_safe};
use crate::signals::Signals;

/// Runs `op` to its end on a one-thread runtime (the flow needs no more), stoppable as
/// `cancellable` says.
pub fn block_on<T>(deps: &Deps<'_>, op: impl Future<Output = Result<T>>) -> Result<T> {
    runtime()?.block_on(async { cancellable(op, deps, &mut Signals::new()?).await })
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// A stop signal stops the operation wherever it waits: the callback server and the file
/// lock go with it, and a save is never cut in half (it has no await point, and it renames).
/// Inside a critical section the operation is let run until it leaves the section (or
/// ends), unless a second signal comes. A caller that goes on to more (exec's command)
/// passes its own `signals` and finds there the signal that came while the operation was
/// let finish.
pub async fn cancellable<T>(
    op: impl Future<Output = Result<T>>,
    deps: &Deps<'_>,
    signals: &mut Signals,
) -> Result<T> {
    let (critical, terminal) = (&deps.critical, &*deps.terminal);
    tokio::pin!(op);
    let first = tokio::select! {
        biased;
        stop = signals.next() => stop,
        result = &mut op => return result,
    };
    if !critical.active() {
        return Err(first.error());
    }
    critical.request_stop();
    terminal.warn(&format!(
        "{}: finishing the token request already sent, so its tokens are not lost ({} again to stop now)",
        first.name(),
        first.again()
    ));
    tokio::select! {
        biased;
        second = signals.next() => Err(second.error()),
        // The operation's own "cancelled" means this signal stopped it.
        result = &mut op => result.map_err(|e| match e {
            Error::Interrupted => first.error(),
            other => other,
        }),
        // Out of the critical part without finishing (say, a refused refresh token about to
        // fall back to a login): the first signal applies now.
        _ = critical.left() => Err(first.error()),
    }
}

/// A line on stdout; a closed pipe is an error to report, not a panic. JSON keeps its
/// escapes; anything else has control characters shown, not sent.
pub fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let text = if text.starts_with('{') {
        json_safe(text)
    } else {
        terminal_safe(text)
    };
    writeln!(std::io::stdout(), "{text}")
        .map_err(|e| RunError::Output(format!("cannot write to stdout: {e}")).into())
}

/// `-v`: this crate's debug events on stderr. Other crates stay silent: their logs may carry
/// request bodies and headers, which is where the secrets are.
pub fn log_verbosely() {
    use tracing_subscriber::prelude::*;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| SafeStderr)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.target().starts_with("integration_cli") && *m.level() <= tracing::Level::DEBUG
        }));
    tracing_subscriber::registry().with(layer).init();
}

/// stderr for `-v` logs, with control characters escaped: a logged path or header value
/// came from outside and must not drive the terminal.
struct SafeStderr;

impl std::io::Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(terminal_safe(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
