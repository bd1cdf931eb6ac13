//! The token endpoint's one HTTP exchange behind a small trait, so the flow can be driven
//! with an answer written in a test where the socket is not the point. The real one,
//! `Network`, wraps the client `http` builds; what goes wrong on the way is said here, in
//! this program's words, whichever transport carried the request.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::error::{Error, NetworkError, Result};
use crate::http::Proxied;
use crate::redact::display_url;

/// A request ready to go: nothing is added to it but the user agent.
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    /// Its `Authorization` header, when there is one, is marked sensitive.
    pub headers: HeaderMap,
    /// Codes, verifiers and secrets: never logged.
    pub body: Vec<u8>,
}

/// Without the body and the header values, which carry credentials, and with the URL's
/// origin alone: a path may carry one too (HubSpot's revocation URL ends in the token).
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match reqwest::Url::parse(&self.url) {
            Ok(u) => format!("{}/…", u.origin().ascii_serialization()),
            Err(_) => "(not a URL)".to_string(),
        };
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// `Bearer TOKEN`, marked sensitive; `None` for a token no header can hold (control
/// characters).
pub fn bearer(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Fields as an `application/x-www-form-urlencoded` body.
pub fn form_body<'a>(fields: impl IntoIterator<Item = &'a (&'a str, String)>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.into_iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

/// What the endpoint answered. A redirect's body is not read (redirects are never
/// followed, and what one says is in its `Location`), so it is empty.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    /// The whole body, never more than the limit asked for.
    pub body: Vec<u8>,
}

/// Why there is no answer to read.
#[derive(Debug)]
pub enum Failure {
    /// No answer from the endpoint (unreachable, untrusted, refused by a proxy, or a
    /// network setting that cannot be used), already said in this program's words.
    Unanswered(Error),
    /// The body passed the limit; the rest was not read.
    TooLarge,
}

/// An answer on its way. The flow runs on one thread, so it need not be `Send`.
pub type Sending<'a> = Pin<Box<dyn Future<Output = std::result::Result<Answer, Failure>> + 'a>>;

pub trait Transport {
    /// Whether requests can be sent at all (the network settings read and usable), checked
    /// before anything else happens: a login asks before the browser opens.
    fn ready(&self) -> Result<()> {
        Ok(())
    }

    /// Sends `request` and reads its answer, the body refused past `limit` bytes.
    fn send(&self, request: Request, limit: usize) -> Sending<'_>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn ready(&self) -> Result<()> {
        (**self).ready()
    }
    fn send(&self, request: Request, limit: usize) -> Sending<'_> {
        (**self).send(request, limit)
    }
}

/// What makes the transport for each token endpoint: `Networks` for the real world, a
/// test's own otherwise. What it makes may borrow from it (a test's records what was sent).
pub trait Transports {
    /// The transport for the endpoint at `url` (a proxy may apply to it), each request
    /// bounded by `timeout`.
    fn for_endpoint(&self, url: &str, timeout: Duration) -> Box<dyn Transport + '_>;
}

impl<T: Transports + ?Sized> Transports for &T {
    fn for_endpoint(&self, url: &str, timeout: Duration) -> Box<dyn Transport + '_> {
        (**self).for_endpoint(url, timeout)
    }
}

/// The real world's: a `Network` for each endpoint.
pub struct Networks;

impl Transports for Networks {
    fn for_endpoint(&self, url: &str, timeout: Duration) -> Box<dyn Transport + '_> {
        Box::new(Network::new(url, timeout))
    }
}

/// Requests over the network, through the client `http::client_via` builds.
pub struct Network {
    url: String,
    timeout: Duration,
    /// Built at the first request, so the network settings (`--ca-file`, the proxy
    /// variables) are checked only by a command that makes one.
    http: OnceLock<(reqwest::Client, Option<Proxied>)>,
}

impl Network {
    /// `url`: the endpoint, to decide whether a proxy may be used.
    pub fn new(url: &str, timeout: Duration) -> Self {
        Network {
            url: url.to_string(),
            timeout,
            http: OnceLock::new(),
        }
    }

    /// The HTTP client, built now if it was not: an error when a network setting cannot be
    /// used, before anything is sent.
    fn client(&self) -> Result<&(reqwest::Client, Option<Proxied>)> {
        if let Some(built) = self.http.get() {
            return Ok(built);
        }
        let built = crate::http::client_via(&self.url, self.timeout)?;
        Ok(self.http.get_or_init(|| built))
    }

    async fn exchange(
        &self,
        request: Request,
        limit: usize,
    ) -> std::result::Result<Answer, Failure> {
        let (http, proxy) = self.client().map_err(Failure::Unanswered)?;
        let shown = display_url(&request.url);
        let network = |e: reqwest::Error| {
            Failure::Unanswered(network_error(e, &shown, proxy.as_ref(), self.timeout))
        };
        let response = http
            .request(request.method, &request.url)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map_err(network)?;
        if let Some(p) = proxy.as_ref().filter(|p| p.answers_for(&request.url))
            && response.status().as_u16() == 407
        {
            // A proxy that sees the request whole answers 407 itself; the endpoint behind
            // it has not seen the request.
            let refused = refused_by(p, &shown, "407 Proxy Authentication Required".into());
            return Err(Failure::Unanswered(refused));
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if response.status().is_redirection() {
            return Ok(Answer {
                status,
                headers,
                body: Vec::new(),
            });
        }
        let body = crate::http::read_capped(response, limit)
            .await
            .map_err(|e| match e {
                crate::http::ReadError::TooLarge => Failure::TooLarge,
                crate::http::ReadError::Failed(e) => network(e),
            })?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

impl Transport for Network {
    fn ready(&self) -> Result<()> {
        self.client().map(|_| ())
    }

    fn send(&self, request: Request, limit: usize) -> Sending<'_> {
        Box::pin(self.exchange(request, limit))
    }
}

/// A request that got no answer, said with the proxy it went through: the proxy's own
/// refusal to open a tunnel (a 407 to CONNECT among them) is the proxy's, not the
/// endpoint's.
fn network_error(
    e: reqwest::Error,
    shown: &str,
    proxy: Option<&Proxied>,
    timeout: Duration,
) -> Error {
    // Without the URL: reqwest quotes it whole, query and credentials included.
    let e = e.without_url();
    let mut detail = describe_reqwest(&e, timeout);
    if let Some(p) = proxy {
        // hyper-util's words for a CONNECT refused (its error type is not public).
        if detail.contains("proxy authorization required") {
            return refused_by(
                p,
                shown,
                "407 Proxy Authentication Required, to CONNECT".into(),
            );
        }
        if detail.contains("tunnel error: unsuccessful") {
            return refused_by(
                p,
                shown,
                "it would not open a tunnel (CONNECT) to the host".into(),
            );
        }
        detail = format!(
            "{detail} (through the proxy {}, from {})",
            p.shown, p.variable
        );
    }
    if crate::http::untrusted_certificate(&e) {
        if let Some(note) = crate::http::passed_over() {
            detail = format!("{detail}; {note}");
        }
        NetworkError::Untrusted {
            url: shown.into(),
            detail,
        }
        .into()
    } else {
        NetworkError::Unreachable {
            url: shown.into(),
            detail,
        }
        .into()
    }
}

fn refused_by(p: &Proxied, shown: &str, detail: String) -> Error {
    NetworkError::ProxyRefused {
        proxy: p.shown.clone(),
        variable: p.variable.clone(),
        url: shown.into(),
        wants_credentials: detail.starts_with("407"),
        detail,
    }
    .into()
}

/// The innermost cause is the useful one ("connection refused"), the outer ones repeat the URL.
fn describe_reqwest(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut detail = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        let msg = c.to_string();
        if !msg.contains("error sending request") && !detail.contains(&msg) {
            if !detail.is_empty() {
                detail.push_str(": ");
            }
            detail.push_str(&msg);
        }
        cause = c.source();
    }
    if detail.is_empty() {
        "request failed".into()
    } else {
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requests_debug_shows_no_credential_from_its_path_headers_or_body() {
        let mut headers = HeaderMap::new();
        let bearer = reqwest::header::HeaderValue::from_static("Bearer fake-at-in-header");
        headers.insert(reqwest::header::AUTHORIZATION, bearer);
        let request = Request {
            method: reqwest::Method::DELETE,
            url: "https://api.hubapi.com/oauth/v1/refresh-tokens/fake-rt-in-path?k=v".into(),
            headers,
            body: b"client_secret=fake-secret-in-body".to_vec(),
        };
        let shown = format!("{request:?}");
        for secret in [
            "fake-rt-in-path",
            "fake-at-in-header",
            "fake-secret-in-body",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("https://api.hubapi.com/…"), "{shown}");
    }
}
