//! The proxy's one line per request, on stdout: method, path (never the query, which may
//! carry a key), status, milliseconds, and "refreshed" when the request waited for new
//! tokens. Never a header value. Lines gather in a buffer that a writer thread writes out
//! every few milliseconds.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hyper::{Method, StatusCode};

use crate::redact::{json_safe, terminal_safe};

#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
    json: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer when lines come into an empty buffer.
    ready: Condvar,
}

#[derive(Default)]
struct Pending {
    text: String,
    /// Lines left out because stdout did not keep up (the buffer was full).
    dropped: u64,
}

/// How long the writer lets lines gather after the first: a person sees a line at once,
/// and a busy proxy pays one write per batch, not per request.
const EVERY: Duration = Duration::from_millis(25);

/// The most text held for a stdout that does not keep up (a paused pager); past it, lines
/// are counted, not kept, so memory stays bounded.
const MOST: usize = 1 << 20;

impl Log {
    /// Starts the writer thread; `--json` writes JSON lines.
    pub fn start(json: bool) -> Log {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            ready: Condvar::new(),
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("request log".into())
            .spawn(move || write_out(&writer, json))
            .expect("a thread for the request log");
        Log { shared, json }
    }

    /// Writes the lines not yet written, before the proxy exits.
    pub fn finish(&self) {
        let _ = write_pending(&self.shared, self.json);
    }

    fn push(&self, line: &str) {
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let was_empty = pending.text.is_empty() && pending.dropped == 0;
        if pending.text.len() + line.len() < MOST {
            pending.text.push_str(line);
            pending.text.push('\n');
        } else {
            pending.dropped += 1;
        }
        drop(pending);
        if was_empty {
            self.shared.ready.notify_one();
        }
    }

    pub fn request(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        took: Duration,
        refreshed: bool,
    ) {
        let ms = took.as_secs_f64() * 1000.0;
        let line = if self.json {
            json_line(&serde_json::json!({
                "method": method.as_str(),
                "path": path,
                "status": status.as_u16(),
                "ms": (ms * 10.0).round() / 10.0,
                "refreshed": refreshed,
            }))
        } else {
            let path: String = path.chars().take(200).collect();
            format!(
                "{} {} {} {ms:.1} ms{}",
                method,
                terminal_safe(&path),
                status.as_u16(),
                if refreshed { " refreshed" } else { "" }
            )
        };
        self.push(&line);
    }

    /// A line about the proxy itself (a refresh ahead of expiry, a refusal).
    pub fn event(&self, what: &str, detail: &str) {
        let line = if self.json {
            json_line(&serde_json::json!({"event": what, "detail": detail}))
        } else {
            terminal_safe(&format!("-- {what}: {detail}"))
        };
        self.push(&line);
    }
}

/// One JSON line, the bidi and C1 controls of a path or a message written as `\uXXXX`
/// (the same string to a JSON reader), as the text lines show them escaped.
fn json_line(value: &serde_json::Value) -> String {
    json_safe(&value.to_string())
}

/// The writer thread: waits for lines, lets more gather, writes them in one go.
fn write_out(shared: &Shared, json: bool) {
    loop {
        {
            let pending = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            let _unused = shared
                .ready
                .wait_while(pending, |p| p.text.is_empty() && p.dropped == 0)
                .unwrap_or_else(|e| e.into_inner());
        }
        std::thread::sleep(EVERY);
        if write_pending(shared, json).is_err() {
            // stdout is gone (a closed pipe): keep serving, stop logging.
            return;
        }
    }
}

/// Writes what has gathered. stdout is locked before the lines are taken, so batches go
/// out in order whoever writes them.
fn write_pending(shared: &Shared, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let Pending { mut text, dropped } =
        std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
    {
        if dropped > 0 {
            let detail = format!("{dropped} request lines left out: stdout did not keep up");
            text.push_str(&if json {
                serde_json::json!({"event": "log behind", "detail": detail}).to_string()
            } else {
                format!("-- log behind: {detail}")
            });
            text.push('\n');
        }
    }
    if text.is_empty() {
        return Ok(());
    }
    out.write_all(text.as_bytes())?;
    out.flush()
}
