//! The one-shot loopback server the provider redirects the browser to. It binds 127.0.0.1
//! only, answers exactly one callback that carries our `state`, and lets noise (favicon
//! requests, stale tabs, forged links) through without ending the wait.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::error::{Error, NetworkError, Result};
use crate::html::escape;
use crate::loopback::LoopbackHost;
use crate::redact::printable;
use crate::secret::{AuthorizationCode, LoginState};
use crate::server::{self, Limits};

const TEMPLATE: &str = include_str!("../templates/page.html");
/// How long the browser's request may wait for the token exchange before it gets a page.
const REPLY_WAIT: Duration = Duration::from_secs(120);

/// Binds before anything else happens, so a port in use is reported before a browser opens.
/// With `localhost`, IPv4 is required and IPv6 is added when the machine has it; the second
/// uses the port the first got, so port 0 works too.
/// `from_redirect_url` only shapes the advice in an error.
pub async fn bind(
    loopback: LoopbackHost,
    port: u16,
    from_redirect_url: bool,
) -> Result<Vec<TcpListener>> {
    let mut addresses = loopback.addresses().into_iter();
    let first = addresses
        .next()
        .expect("every loopback name has an address");
    let second = addresses.next();
    let listener = bind_one(first, port, from_redirect_url).await?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let mut listeners = vec![listener];
    if let Some(second) = second {
        match bind_one(second, port, from_redirect_url).await {
            Ok(l) => listeners.push(l),
            // No IPv6 on this machine: browsers will not resolve localhost to it either.
            Err(Error::Network(NetworkError::Bind { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(listeners)
}

async fn bind_one(
    (ip, host): (IpAddr, &'static str),
    port: u16,
    from_redirect_url: bool,
) -> Result<TcpListener> {
    TcpListener::bind((ip, port))
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => NetworkError::PortInUse {
                port,
                host,
                from_redirect_url,
            }
            .into(),
            _ => NetworkError::Bind {
                port,
                host,
                from_redirect_url,
                source,
            }
            .into(),
        })
}

/// What the provider sent back.
#[derive(Debug)]
pub enum Callback {
    Code {
        code: AuthorizationCode,
    },
    Denied {
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },
}

/// A callback, and the way to tell the waiting browser how it all ended.
pub struct Arrival {
    pub callback: Callback,
    /// RFC 9207's `iss`, when the provider sent one.
    pub iss: Option<String>,
    pub reply: oneshot::Sender<Page>,
}

/// A callback query that carries this login's `state`.
#[derive(Debug)]
pub struct Accepted {
    pub callback: Callback,
    pub iss: Option<String>,
}

#[derive(Debug, PartialEq)]
pub enum Refused {
    /// Not this login's `state` (or none): ignored, the login goes on waiting.
    WrongState,
    /// Malformed: a repeated parameter, or neither a code nor an error.
    Malformed(String),
}

/// The checks every callback passes, whether it reaches the server or is pasted: the state
/// (compared in constant time, an error callback included, so no page can end the login),
/// then a code or an error.
pub fn accept(query: &str, state: &LoginState) -> std::result::Result<Accepted, Refused> {
    let params = Params::parse(query).map_err(Refused::Malformed)?;
    let ours = params.state.as_ref().is_some_and(|s| s == state);
    if !ours {
        return Err(Refused::WrongState);
    }
    let callback = if let Some(error) = params.error {
        Callback::Denied {
            error,
            description: params.error_description,
            uri: params.error_uri,
        }
    } else if let Some(code) = params.code {
        Callback::Code { code }
    } else {
        return Err(Refused::Malformed(
            "The callback carries neither a code nor an error.".into(),
        ));
    };
    Ok(Accepted {
        callback,
        iss: params.iss,
    })
}

#[derive(Debug, Clone)]
pub enum Page {
    Success { message: String },
    Failure { heading: String, message: String },
}

impl Page {
    fn render(&self) -> String {
        let (kind, heading, message, next) = match self {
            Page::Success { message } => (
                "ok",
                "Signed in",
                message.as_str(),
                "You can close this tab and return to the terminal.",
            ),
            Page::Failure { heading, message } => (
                "fail",
                heading.as_str(),
                message.as_str(),
                "Return to the terminal for details.",
            ),
        };
        TEMPLATE
            .replace("{{kind}}", kind)
            .replace("{{title}}", &escape(heading))
            .replace("{{heading}}", &escape(heading))
            .replace("{{message}}", &escape(message))
            .replace("{{next}}", &escape(next))
    }
}

/// Dropping it stops every listener at once (the `JoinSet` aborts its tasks).
pub struct Server {
    arrivals: mpsc::Receiver<Arrival>,
    stopping: watch::Sender<bool>,
    servers: JoinSet<()>,
}

/// After the last page is handed to the connection, how long to let it drain. Browsers keep
/// speculative connections open that would otherwise hold the exit back.
const DRAIN: Duration = Duration::from_millis(500);

/// Each listener's connections (see `server`): a browser sends a request's head at once,
/// and a local process that holds a connection half-sent is dropped after 5 s. Each
/// connection serves one request, then closes: one kept alive between requests could not
/// be told from a slow one, and would hold a place under the cap for nothing.
const LIMITS: Limits = Limits {
    most: 64,
    header_timeout: Duration::from_secs(5),
    keep_alive: false,
};

struct Shared {
    path: String,
    state: LoginState,
    /// `Host` values this server answers to (lower case): its loopback names with its port,
    /// and the tunnel's host when tunnelling. Anything else is another site's name pointed
    /// at loopback (DNS rebinding), answered 421.
    hosts: Vec<String>,
    arrivals: mpsc::Sender<Arrival>,
    done: AtomicBool,
}

/// Serves the callback on `listeners`. `tunnel`: the tunnel's public URL, whose host the
/// forwarded requests carry.
pub fn serve(
    listeners: Vec<TcpListener>,
    path: String,
    state: LoginState,
    tunnel: Option<&str>,
) -> Server {
    let (tx, rx) = mpsc::channel(1);
    let mut hosts: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .flat_map(|a| {
            let port = a.port();
            LoopbackHost::ALL.map(|h| format!("{}:{port}", h.name()))
        })
        .collect();
    if let Some(url) = tunnel.and_then(|t| url::Url::parse(t).ok())
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_ascii_lowercase());
        if let Some(port) = url.port_or_known_default() {
            hosts.push(format!("{}:{port}", host.to_ascii_lowercase()));
        }
    }
    let shared = Arc::new(Shared {
        path,
        state,
        hosts,
        arrivals: tx,
        done: AtomicBool::new(false),
    });
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback(handle)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            only_our_host,
        ))
        .with_state(shared);
    let (stopping, _) = watch::channel(false);
    let mut servers = JoinSet::new();
    let service = hyper_util::service::TowerToHyperService::new(app);
    for listener in listeners {
        let served = server::serve(listener, service.clone(), LIMITS, stopping.subscribe());
        servers.spawn(served);
    }
    Server {
        arrivals: rx,
        stopping,
        servers,
    }
}

impl Server {
    pub async fn next(&mut self) -> Option<Arrival> {
        self.arrivals.recv().await
    }

    /// Lets the last page reach the browser, then stops; never hangs on a kept-alive socket.
    pub async fn shutdown(mut self) {
        self.stopping.send_replace(true);
        let all_done = async { while self.servers.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(DRAIN, all_done).await;
    }
}

/// Answers only requests addressed to this server by name: a page on another site whose
/// name resolves to 127.0.0.1 (DNS rebinding) gets 421, whatever its path.
async fn only_our_host(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match crate::host::addressed_to(&shared.hosts, &request) {
        true => next.run(request).await,
        false => {
            tracing::debug!("request refused: not addressed to this server's host");
            page(
                StatusCode::MISDIRECTED_REQUEST,
                Page::Failure {
                    heading: "Wrong address".into(),
                    message: "This server answers only at its own loopback address.".into(),
                },
            )
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    // The path only: the query holds the code and the state.
    tracing::debug!(%method, path = uri.path(), "request to the callback server");
    if method != Method::GET || uri.path() != shared.path {
        return page(
            StatusCode::NOT_FOUND,
            Page::Failure {
                heading: "Not found".into(),
                message: "This address is not the OAuth callback.".into(),
            },
        );
    }
    let Accepted { callback, iss } = match accept(uri.query().unwrap_or(""), &shared.state) {
        Ok(a) => a,
        Err(Refused::WrongState) => {
            tracing::debug!("callback refused: its state is not this login's");
            return state_mismatch();
        }
        Err(Refused::Malformed(message)) => return bad_request(message),
    };

    if shared.done.swap(true, Ordering::SeqCst) {
        return page(
            StatusCode::CONFLICT,
            Page::Failure {
                heading: "Already done".into(),
                message: "This login has already been completed.".into(),
            },
        );
    }
    hand_over(&shared, callback, iss).await
}

/// Hands the callback to the login and shows the page it answers with, or the fallback
/// when the login is gone or does not answer in time.
async fn hand_over(shared: &Shared, callback: Callback, iss: Option<String>) -> Response {
    let fallback = fallback_page(&callback);
    let (reply_tx, reply_rx) = oneshot::channel();
    if shared
        .arrivals
        .send(Arrival {
            callback,
            iss,
            reply: reply_tx,
        })
        .await
        .is_err()
    {
        return page(StatusCode::SERVICE_UNAVAILABLE, fallback);
    }
    let last = match tokio::time::timeout(REPLY_WAIT, reply_rx).await {
        Ok(Ok(p)) => p,
        _ => fallback,
    };
    // A failure is a 4xx, so that a browser, a proxy or a script reading the status sees it.
    let status = match last {
        Page::Success { .. } => StatusCode::OK,
        Page::Failure { .. } => StatusCode::BAD_REQUEST,
    };
    page(status, last)
}

/// The page for a callback the login gave no page for: the provider's refusal, or that
/// the tokens were not saved.
fn fallback_page(callback: &Callback) -> Page {
    match callback {
        Callback::Denied {
            error, description, ..
        } => Page::Failure {
            heading: "Authorization refused".into(),
            message: match description {
                Some(d) => format!("The provider said: {error}: {d}"),
                None => format!("The provider said: {error}"),
            },
        },
        Callback::Code { .. } => Page::Failure {
            heading: "Something went wrong".into(),
            message: "integration-cli stopped before saving the tokens.".into(),
        },
    }
}

fn state_mismatch() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        Page::Failure {
            heading: "Not this login".into(),
            message:
                "This link does not belong to the login in progress (its state does not match), \
                      so it was ignored. integration-cli is still waiting for the right one."
                    .into(),
        },
    )
}

fn bad_request(message: String) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        Page::Failure {
            heading: "Unexpected callback".into(),
            message,
        },
    )
}

fn page(status: StatusCode, page: Page) -> Response {
    let mut response = (status, page.render()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Lets the browser's connection end with this page, so shutdown need not wait for it.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    // The callback URL holds the code: never let the page pass it on.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

#[derive(Default)]
struct Params {
    code: Option<AuthorizationCode>,
    state: Option<LoginState>,
    error: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
    iss: Option<String>,
}

impl Params {
    /// A repeated parameter is refused: which copy a server would believe is ambiguous.
    fn parse(query: &str) -> std::result::Result<Params, String> {
        let mut p = Params::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.into_owned();
            let slot_taken = match key.as_ref() {
                "code" => p.code.replace(AuthorizationCode::new(value)).is_some(),
                "state" => p.state.replace(LoginState::new(value)).is_some(),
                "error" => p.error.replace(printable(&value)).is_some(),
                "error_description" => p.error_description.replace(printable(&value)).is_some(),
                "error_uri" => p.error_uri.replace(printable(&value)).is_some(),
                "iss" => p.iss.replace(value).is_some(),
                _ => false,
            };
            if slot_taken {
                return Err(format!("The callback repeats the parameter \"{key}\"."));
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Bounded: a fixed number of cases, so CI time is fixed too. Failures are kept in
        // proptest-regressions/ and replayed first on every later run.
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Any query, around a real code and state: parsing never panics, an error never
        /// repeats a code or state, and a page never carries markup from the query.
        #[test]
        fn any_callback_query_is_parsed_or_refused_without_echoing_secrets(
            before in "\\PC{0,200}",
            after in "[a-z_=&%0-9A-F<>\"']{0,200}",
            code in "[A-Za-z0-9_-]{16,43}",
            state in "[A-Za-z0-9_-]{16,43}",
        ) {
            let query = format!("{before}&code={code}&state={state}&{after}");
            match Params::parse(&query) {
                Ok(p) => {
                    for text in [p.error, p.error_description, p.error_uri].into_iter().flatten() {
                        let html = Page::Failure { heading: "x".into(), message: text }.render();
                        prop_assert!(!html.contains("<script"));
                    }
                }
                Err(message) => {
                    prop_assert!(!message.contains(&code) && !message.contains(&state));
                }
            }
        }
    }

    #[test]
    fn provider_text_is_escaped_in_pages() {
        let html = Page::Failure {
            heading: "x".into(),
            message: "<script>alert(1)</script>".into(),
        }
        .render();
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;"));
    }

    /// A local process that holds a request's head half-sent is dropped after the header
    /// timeout, and the real callback still comes through. On tokio's paused clock: the
    /// timeout passes at once, where the binary would take its 5 s.
    #[tokio::test(start_paused = true)]
    async fn a_half_sent_request_is_dropped_after_the_header_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpStream;
        let listeners = bind(LoopbackHost::V4, 0, false).await.unwrap();
        let port = listeners[0].local_addr().unwrap().port();
        let state = "fake-state-0123456789abcdef";
        let mut server = serve(listeners, "/callback".into(), LoginState::new(state), None);

        let started = tokio::time::Instant::now();
        let mut half = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let head = format!("GET /callback?state={state} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        half.write_all(head.as_bytes()).await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(15), half.read_to_end(&mut rest));
        closed.await.expect("dropped within 15 s").unwrap();
        let waited = started.elapsed();
        let timeout = LIMITS.header_timeout;
        assert!(
            waited >= timeout && waited < timeout + Duration::from_secs(1),
            "{waited:?}"
        );

        let mut real = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!(
            "GET /callback?code=fake-code&state={state} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        );
        real.write_all(request.as_bytes()).await.unwrap();
        let arrival = server.next().await.expect("the callback");
        assert!(matches!(arrival.callback, Callback::Code { .. }));
        let page = Page::Success {
            message: "fake".into(),
        };
        arrival.reply.send(page).unwrap();
        let mut answer = String::new();
        real.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::parse("code=a&code=b&state=s").is_err());
        let p = Params::parse("code=a%2Bb&state=s&iss=x").unwrap();
        assert_eq!(p.code.unwrap().expose(), "a+b");
    }
}
