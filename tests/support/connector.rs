//! A connector as the platform's SDK runs one, for the development-loop tests: it reads
//! `X-Unito-Credentials` exactly as the SDK does (`JSON.parse(Buffer.from(value,
//! 'base64'))`: Node's lenient base64), answers 400 when that fails and 401 when the access
//! token is not valid at the sandbox's userinfo right now. And the sandbox itself, in this
//! process, so a test can read what it counted.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use integration_cli::sandbox::{self, Lifetimes, Sandbox};
use serde_json::{Value, json};

/// A server on its own thread and runtime, stopped when dropped.
pub struct Served<T> {
    pub url: String,
    pub inner: T,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<T> Drop for Served<T> {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let _ = self.thread.take().map(|t| t.join());
    }
}

impl<T> std::ops::Deref for Served<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// The plain sandbox, issuing access tokens that live `lifetime`, with rotating refresh
/// tokens whose reuse revokes the grant.
pub fn sandbox(lifetime: Duration) -> Served<Sandbox> {
    sandbox_with(sandbox::Options {
        lifetimes: Lifetimes {
            access_token: lifetime,
            ..Lifetimes::default()
        },
        ..sandbox::Options::default()
    })
}

/// The built-in persona of this name, without options, as `--persona NAME` gives it.
pub fn persona(name: &str) -> sandbox::ChosenPersona {
    let entry = sandbox::persona_entry(name).expect("a persona's name");
    entry.with(&[]).expect("no options")
}

/// The sandbox as `options` say, on a free port.
pub fn sandbox_with(options: sandbox::Options) -> Served<Sandbox> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let s = Sandbox::start_as(sandbox::Options { port: 0, ..options })
                .await
                .unwrap();
            tx.send(s).unwrap();
            let _ = stopped.await;
        });
    });
    let inner = rx.recv().unwrap();
    Served {
        url: inner.url.clone(),
        inner,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// What one request carried: credentials, `X-Unito-Secrets`, `X-Unito-Correlation-Id`.
pub type Received = (Value, Option<String>, Option<String>);

#[derive(Default)]
pub struct Seen {
    pub requests: AtomicU64,
    pub bad_headers: AtomicU64,
    pub refused: AtomicU64,
    /// Every access token that reached the connector.
    pub tokens: Mutex<HashSet<String>>,
    /// The last request's credentials object, secrets header and correlation id.
    pub last: Mutex<Option<Received>>,
    /// Answer the next request 401 whatever its token (as if the token were revoked).
    pub refuse_next: AtomicBool,
}

struct Shared {
    userinfo: String,
    seen: Arc<Seen>,
    http: reqwest::Client,
}

/// The connector, checking tokens against the sandbox at `sandbox_url`.
pub fn connector(sandbox_url: &str) -> Served<Arc<Seen>> {
    let seen = Arc::new(Seen::default());
    let shared = Arc::new(Shared {
        userinfo: format!("{sandbox_url}/userinfo"),
        seen: seen.clone(),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new()
                .route("/stream", get(stream))
                .route("/{*path}", any(me))
                .with_state(shared);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    Served {
        url: rx.recv().unwrap(),
        inner: seen,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// Node's `Buffer.from(value, 'base64')`: both alphabets, characters outside them skipped,
/// padding optional, decoding stopped at the first `=`.
pub fn node_base64(value: &str) -> Vec<u8> {
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in value.bytes().take_while(|c| *c != b'=') {
        let Some(v) = sextet(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The SDK's reading of the header, then the token checked at the sandbox.
async fn check(shared: &Shared, headers: &HeaderMap) -> Result<Value, Response> {
    shared.seen.requests.fetch_add(1, Ordering::SeqCst);
    let raw = headers
        .get("x-unito-credentials")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = String::from_utf8(node_base64(raw))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object);
    let Some(credentials) = parsed else {
        shared.seen.bad_headers.fetch_add(1, Ordering::SeqCst);
        return Err((StatusCode::BAD_REQUEST, "bad X-Unito-Credentials").into_response());
    };
    let token = credentials["accessToken"]
        .as_str()
        .unwrap_or("")
        .to_string();
    shared.seen.tokens.lock().unwrap().insert(token.clone());
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    *shared.seen.last.lock().unwrap() = Some((
        credentials.clone(),
        text("x-unito-secrets"),
        text("x-unito-correlation-id"),
    ));
    let valid = shared
        .http
        .get(&shared.userinfo)
        .bearer_auth(&token)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    if !valid || shared.seen.refuse_next.swap(false, Ordering::SeqCst) {
        shared.seen.refused.fetch_add(1, Ordering::SeqCst);
        return Err((StatusCode::UNAUTHORIZED, "credentials refused").into_response());
    }
    Ok(credentials)
}

/// Any path: who the credentials are for, and the body's length (a POST's body must arrive
/// whole, a retried one too).
async fn me(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match check(&shared, &headers).await {
        Ok(credentials) => (
            [("content-type", "application/json")],
            json!({"scope": credentials["scope"], "bodyBytes": body.len()}).to_string(),
        )
            .into_response(),
        Err(refused) => refused,
    }
}

/// The wait between two of `/stream`'s lines.
pub const STREAM_GAP: Duration = Duration::from_millis(150);

/// Five lines, `STREAM_GAP` apart: a client must get the first long before the last.
async fn stream(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refused) = check(&shared, &headers).await {
        return refused;
    }
    let lines = futures_util::stream::unfold(0, |i| async move {
        if i == 5 {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(STREAM_GAP).await;
        }
        Some((Ok::<_, Infallible>(format!("data: {i}\n\n")), i + 1))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(lines))
        .unwrap()
}

/// `watch` in this process with `opts`, on `clock` until it reaches its end, the sandbox's
/// client secret in the environment as `${SANDBOX_CLIENT_SECRET}` asks: what it said (the
/// command's stdout lines), and what went to the terminal (its warnings).
pub fn watch_virtually(
    opts: &integration_cli::flow::Options,
    clock: &integration_cli::clock::VirtualClock,
) -> (Vec<String>, Vec<String>) {
    use integration_cli::flow;
    let terminal = super::fakes::FakeTerminal::default();
    let deps = flow::Deps::system()
        .with_terminal(&terminal)
        .with_clock(clock)
        .with_env(|name: &str| {
            (name == "SANDBOX_CLIENT_SECRET").then(|| sandbox::CLIENT_SECRET.to_string())
        });
    let said = Mutex::new(Vec::new());
    let say = |line: &str| said.lock().unwrap().push(line.to_string());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::select! {
                stopped = flow::watch(opts, &deps, &say) => panic!("watch stopped: {stopped:?}"),
                _ = clock.ended() => {}
            }
        });
    let warned = terminal.said.lock().unwrap().clone();
    (said.into_inner().unwrap(), warned)
}
