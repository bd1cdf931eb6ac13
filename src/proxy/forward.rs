//! One request through the proxy: the credentials set, the body passed on (held, up to
//! 1 MiB, so a request the connector refused can be sent again with new credentials), the
//! answer streamed back as it comes.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, BodyStream, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Body as _, Frame, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::uri::PathAndQuery;
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;

use super::keeper::{Keeper, Need, Snapshot, Unavailable};
use super::log::Log;
use super::upstream::Upstream;

pub type Body = BoxBody<Bytes, hyper::Error>;

/// The most of a request body held for a retry; a larger one is streamed, and not retried.
const HELD: usize = 1 << 20;

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

pub struct Forwarder {
    /// The connector, at its pinned addresses.
    upstream: Arc<Upstream>,
    /// Its `host:port`, for the `Host` header.
    authority: HeaderValue,
    /// How long the connector may take to send its answer's head (never its whole body:
    /// a stream or server-sent events take as long as they take).
    answer_within: Duration,
    keeper: Keeper,
    log: Log,
    /// The proxy's own host names (DNS rebinding: see `host`).
    hosts: Arc<[String]>,
    /// Correlation ids: this run's random prefix and a count.
    correlation: (String, AtomicU64),
}

impl Forwarder {
    pub fn new(
        upstream: Arc<Upstream>,
        answer_within: Duration,
        keeper: Keeper,
        log: Log,
        hosts: Arc<[String]>,
    ) -> Forwarder {
        let prefix = oauth2::CsrfToken::new_random_len(12).secret().clone();
        Forwarder {
            authority: HeaderValue::from_str(&upstream.authority).expect("checked by proxy::to"),
            upstream,
            answer_within,
            keeper,
            log,
            hosts,
            correlation: (prefix, AtomicU64::new(0)),
        }
    }

    /// Answers one request of a client connection whose connector connection is `link`.
    pub async fn handle(
        &self,
        link: &Link,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, Infallible> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let (response, refreshed) = self.respond(link, request).await;
        self.log.request(
            &method,
            &path,
            response.status(),
            started.elapsed(),
            refreshed,
        );
        Ok(response)
    }

    async fn respond(&self, link: &Link, request: Request<Incoming>) -> (Response<Body>, bool) {
        if let Some(refused) = self.not_to_forward(&request) {
            return (refused, false);
        }
        let (mut head, body) = request.into_parts();
        let (held, body) = match hold(body, &head.headers).await {
            Ok(Held::Whole(bytes)) => (Some(bytes.clone()), whole(bytes)),
            Ok(Held::Streaming(body)) => (None, body),
            Err(_) => {
                let status = StatusCode::BAD_REQUEST;
                return (text(status, "the request body could not be read"), false);
            }
        };
        // Once the body is in: a slow upload does not go out with credentials that went
        // stale meanwhile.
        let (snapshot, mut refreshed) = match self.fresh().await {
            Ok(fresh) => fresh,
            Err(why) => return (refusal(&why), false),
        };
        self.correlate(&mut head.headers);
        let first = self.send(link, &head, body, &snapshot).await;
        let Some(bytes) =
            held.filter(|_| matches!(&first, Ok(r) if r.status() == StatusCode::UNAUTHORIZED))
        else {
            return (self.answer(first), refreshed);
        };
        // The connector refused these credentials: new ones (or those another request or
        // run got meanwhile), and the request once more.
        match self.keeper.ask(Need::Replacing(snapshot.generation)).await {
            Ok(answer) if answer.snapshot.generation > snapshot.generation => {
                refreshed |= answer.refreshed;
                // Its connection is free for the retry once this answer is let go.
                drop(first);
                let again = self.send(link, &head, whole(bytes), &answer.snapshot).await;
                (self.answer(again), refreshed)
            }
            // Nothing newer to try (a 401 just after one that refreshed): the connector's
            // own answer.
            Ok(_) => (self.answer(first), refreshed),
            Err(why) => (refusal(&why), refreshed),
        }
    }

    /// The answer to a request that must not reach the connector: one addressed to another
    /// host name (DNS rebinding), or one a web page sent.
    fn not_to_forward(&self, request: &Request<Incoming>) -> Option<Response<Body>> {
        if !crate::host::head_addressed_to(&self.hosts, request.headers(), request.uri()) {
            return Some(text(
                StatusCode::MISDIRECTED_REQUEST,
                "not this proxy's host name",
            ));
        }
        if from_a_web_page(request.headers()) {
            let status = StatusCode::FORBIDDEN;
            let why = "a web page on another site may not call the connector with credentials";
            return Some(text(status, why));
        }
        None
    }

    /// Credentials that are not stale, and whether new tokens were requested for them.
    async fn fresh(&self) -> Result<(Arc<Snapshot>, bool), Unavailable> {
        let snapshot = self.keeper.current();
        if !snapshot.stale(self.keeper.clock().now()) {
            return Ok((snapshot, false));
        }
        let answer = self.keeper.ask(Need::Fresh).await?;
        Ok((answer.snapshot, answer.refreshed))
    }

    /// One id for the request, kept on its retry: the client's own when it sent one.
    fn correlate(&self, headers: &mut HeaderMap) {
        if !headers.contains_key(CORRELATION) {
            let (prefix, count) = &self.correlation;
            let id = format!("{prefix}-{:x}", count.fetch_add(1, Ordering::Relaxed));
            let id = HeaderValue::from_str(&id).expect("base64url");
            headers.insert(CORRELATION, id);
        }
    }

    async fn send(
        &self,
        link: &Link,
        head: &hyper::http::request::Parts,
        body: Body,
        snapshot: &Snapshot,
    ) -> Result<Response<Incoming>, Failure> {
        let mut request = Request::new(body);
        *request.method_mut() = head.method.clone();
        *request.uri_mut() = self.target(&head.uri);
        *request.version_mut() = Version::HTTP_11;
        let headers = request.headers_mut();
        *headers = head.headers.clone();
        strip_hop_by_hop(headers);
        headers.insert(header::HOST, self.authority.clone());
        headers.insert(CREDENTIALS, snapshot.credentials.clone());
        // The proxy owns both headers: a client's own never reaches the connector.
        match &snapshot.secrets {
            Some(secrets) => headers.insert(SECRETS, secrets.clone()),
            None => headers.remove(SECRETS),
        };
        let answered = tokio::time::timeout(self.answer_within, self.exchange(link, request));
        match answered.await {
            Ok(answered) => answered.map_err(Failure::Unreachable),
            // The connection, busy with a request never answered, is not kept.
            Err(_) => Err(Failure::Silent),
        }
    }

    /// Sends the request, and gives the link its connection back once the answer's head
    /// has come.
    async fn exchange(
        &self,
        link: &Link,
        request: Request<Body>,
    ) -> Result<Response<Incoming>, String> {
        let (mut sender, reused) = self.connection(link).await?;
        let answered = match sender.try_send_request(request).await {
            Ok(response) => Ok(response),
            Err(mut e) => match e.take_message() {
                // The connector closed a kept-alive connection as the request went out,
                // before any of it was sent: once more, on a new connection.
                Some(request) if reused => {
                    sender = self.connect().await?;
                    sender.send_request(request).await
                }
                _ => Err(e.into_error()),
            },
        };
        *link.lock() = Some(sender);
        answered.map_err(|e| describe(&e))
    }

    /// The link's connection when it is still open (and whether it was), or a new one.
    async fn connection(&self, link: &Link) -> Result<(SendRequest<Body>, bool), String> {
        let kept = link.lock().take();
        if let Some(mut sender) = kept
            && sender.ready().await.is_ok()
        {
            return Ok((sender, true));
        }
        Ok((self.connect().await?, false))
    }

    async fn connect(&self) -> Result<SendRequest<Body>, String> {
        let (stream, _) = self.upstream.connect().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| describe(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// The request's path and query on the connector (after its base path, if any), in
    /// the origin form a request line carries.
    fn target(&self, uri: &Uri) -> Uri {
        let asked = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let base = &self.upstream.base;
        let path = if base.is_empty() {
            asked
        } else {
            PathAndQuery::try_from(format!("{base}{asked}")).unwrap_or(asked)
        };
        Uri::from(path)
    }

    /// The connector's answer as it comes (its body streamed), or why there is none.
    fn answer(&self, answered: Result<Response<Incoming>, Failure>) -> Response<Body> {
        let at = &self.upstream.url;
        match answered {
            Ok(response) => {
                let (mut head, body) = response.into_parts();
                strip_hop_by_hop(&mut head.headers);
                Response::from_parts(head, body.boxed())
            }
            Err(Failure::Unreachable(e)) => json(
                StatusCode::BAD_GATEWAY,
                serde_json::json!({
                    "error": format!("the connector at {at} did not answer: {e}"),
                    "hint": "start the connector, or point --to at where it listens",
                }),
            ),
            Err(Failure::Silent) => json(
                StatusCode::GATEWAY_TIMEOUT,
                serde_json::json!({
                    "error": format!(
                        "the connector at {at} sent no answer within {} s (the proxy's \
                         --upstream-timeout)",
                        self.answer_within.as_secs_f64()
                    ),
                    "hint": "the connector may be stuck on this request; if it is only slow \
                        to start answering, give it longer with --upstream-timeout SECS",
                }),
            ),
        }
    }
}

/// Why the connector's answer did not come.
enum Failure {
    /// No connection, or it broke: said in a line.
    Unreachable(String),
    /// No answer's head within `answer_within`.
    Silent,
}

/// The connector connection of one client connection. A client's requests on a kept-alive
/// connection come one after the other, so each gets its own connection to the connector,
/// opened at its first request and kept while both stay open: no pool to share. (The lock
/// is never waited on: only the connection's one request at a time takes it.)
#[derive(Default)]
pub struct Link(Mutex<Option<SendRequest<Body>>>);

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SendRequest<Body>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The platform's headers (see `credentials`), as the `http` crate names them.
const CREDENTIALS: HeaderName = HeaderName::from_static("x-unito-credentials");
const SECRETS: HeaderName = HeaderName::from_static("x-unito-secrets");
const CORRELATION: HeaderName = HeaderName::from_static("x-unito-correlation-id");

/// The error and its causes, in one line.
fn describe(e: &hyper::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// A request a browser sent for a page of another site (a form, an image, a `fetch`):
/// with the credentials the proxy adds, it would act on the test account. Tools (curl,
/// Postman) send no `Origin`; a page served from this machine (a debugger) is let through.
fn from_a_web_page(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    !crate::loopback::is_loopback_url(origin)
}

/// Leaves every header but the connection's own (and those its `Connection` names).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
}

enum Held {
    Whole(Bytes),
    Streaming(Body),
}

/// The body, whole when it fits in `HELD`; otherwise what was read, then the rest, streamed.
async fn hold(mut body: Incoming, headers: &HeaderMap) -> Result<Held, hyper::Error> {
    if body.is_end_stream() {
        return Ok(Held::Whole(Bytes::new()));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > HELD) {
        return Ok(Held::Streaming(body.boxed()));
    }
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        read.extend_from_slice(&data);
        if read.len() > HELD {
            let first = futures_util::stream::once(async move { Ok(Frame::data(read.freeze())) });
            let both = futures_util::StreamExt::chain(first, BodyStream::new(body));
            return Ok(Held::Streaming(BodyExt::boxed(StreamBody::new(both))));
        }
    }
    Ok(Held::Whole(read.freeze()))
}

fn whole(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

fn text(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(whole(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(whole(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// No credentials for this request: 401 when only a login will help, with what to run.
fn refusal(why: &Unavailable) -> Response<Body> {
    json(
        why.status,
        serde_json::json!({"error": why.message, "hint": why.hint}),
    )
}
