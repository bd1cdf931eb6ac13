//! A small OAuth 2.0 authorization server on loopback, so a connector developer can try the
//! whole flow with no provider account and no network: `integration-cli sandbox` serves it,
//! `integration-cli demo` runs the real `oauth2` flow against it.
//!
//! It checks what a real server checks: the client and its secret (Basic or in the body),
//! a loopback redirect URI (any port, RFC 8252 §7.3) that must match at the exchange, PKCE
//! S256, single-use codes that expire, rotating refresh tokens (presenting a spent one
//! revokes the grant), and bearer tokens at userinfo. State lives in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauth2::CsrfToken;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::html::escape;
use crate::secret::constant_time_eq;

/// The sandbox's one client. Not secret: it only opens this sandbox.
pub const CLIENT_ID: &str = "sandbox-client";
pub const CLIENT_SECRET: &str = "sandbox-secret-not-a-real-secret";
/// The default port of `integration-cli sandbox`.
pub const DEFAULT_PORT: u16 = 9010;

/// How long codes and access tokens live; settable so their expiry can be tested.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub code: Duration,
    pub access_token: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: Duration::from_secs(60),
            access_token: Duration::from_secs(3600),
        }
    }
}
const SCOPES: [&str; 4] = ["read", "write", "profile", "offline_access"];

struct PendingConsent {
    redirect_uri: String,
    state: String,
    challenge: String,
    scope: String,
    created: Instant,
}

struct Code {
    redirect_uri: String,
    challenge: String,
    scope: String,
    issued: Instant,
    grant: u64,
}

#[derive(Default)]
struct Store {
    consents: HashMap<String, PendingConsent>,
    codes: HashMap<String, Code>,
    /// Codes already exchanged, with their grant: a replay revokes it (RFC 6749 §4.1.2).
    spent_codes: HashMap<String, u64>,
    /// refresh token -> (grant, scope)
    refresh: HashMap<String, (u64, String)>,
    /// spent refresh token -> grant
    spent_refresh: HashMap<String, u64>,
    /// access token -> (grant or 0 for client credentials, scope, expiry)
    access: HashMap<String, (u64, String, Instant)>,
    next_grant: u64,
    lifetimes: Lifetimes,
}

impl Store {
    fn revoke(&mut self, grant: u64) {
        self.refresh.retain(|_, (g, _)| *g != grant);
        self.access.retain(|_, (g, _, _)| *g != grant);
    }

    fn issue(&mut self, grant: u64, scope: &str, with_refresh: bool) -> Value {
        let access = random();
        let ttl = self.lifetimes.access_token;
        self.access.insert(
            access.clone(),
            (grant, scope.to_string(), Instant::now() + ttl),
        );
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "scope": scope,
        });
        if with_refresh {
            let refresh = random();
            self.refresh
                .insert(refresh.clone(), (grant, scope.to_string()));
            body["refresh_token"] = json!(refresh);
        }
        body
    }
}

fn random() -> String {
    CsrfToken::new_random_len(32).secret().clone()
}

/// A running sandbox; stops when dropped or on `stop`.
pub struct Sandbox {
    pub url: String,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Binds 127.0.0.1:`port` (0 picks one) and serves on the current runtime.
    pub async fn start(port: u16) -> Result<Sandbox> {
        Sandbox::start_with(port, Lifetimes::default()).await
    }

    pub async fn start_with(port: u16, lifetimes: Lifetimes) -> Result<Sandbox> {
        let listener =
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AddrInUse => Error::SandboxPortInUse { port },
                    _ => Error::io("listen on", format!("127.0.0.1:{port}").as_ref(), source),
                })?;
        let addr = listener.local_addr().map_err(|source| {
            Error::io("listen on", format!("127.0.0.1:{port}").as_ref(), source)
        })?;
        let url = format!("http://{addr}");
        let store = Arc::new(Mutex::new(Store {
            lifetimes,
            ..Store::default()
        }));
        // DNS rebinding: a page on some other name that resolves to 127.0.0.1 must not drive
        // the sandbox, so only our own host names are served.
        let hosts: Arc<[String]> = Arc::from(vec![
            format!("127.0.0.1:{}", addr.port()),
            format!("localhost:{}", addr.port()),
        ]);
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/authorize/decision", post(decision))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route(
                "/.well-known/oauth-authorization-server",
                get({
                    let url = url.clone();
                    move || async move { json_response(200, metadata(&url)) }
                }),
            )
            .with_state(store)
            .layer(axum::middleware::from_fn_with_state(hosts, only_our_host));
        let (stop, mut stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|s| *s).await;
                })
                .await;
        });
        Ok(Sandbox { url, stop, task })
    }

    /// Serves until `stop` is called or the sandbox is dropped.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// What `integration-cli sandbox` prints: where it is, its client, and an authorization
    /// to paste.
    pub fn banner(&self) -> String {
        let url = &self.url;
        let authorization = serde_json::to_string_pretty(&self.authorization("sandbox"))
            .expect("JSON")
            .replace('\n', "\n  ");
        format!(
            "Sandbox OAuth 2.0 server at {url}\n\n  \
             authorization URL  {url}/authorize\n  \
             token URL          {url}/token\n  \
             userinfo           {url}/userinfo\n  \
             client id          {CLIENT_ID}\n  \
             client secret      {CLIENT_SECRET}   (a fixed, public value: it opens only this sandbox)\n\n\
             An authorization for .unito.json:\n\n  {authorization}\n\n\
             Ctrl-C to stop."
        )
    }

    /// An authorization for `.unito.json` that uses this sandbox.
    pub fn authorization(&self, name: &str) -> Value {
        json!({
            "name": name,
            "method": "oauth2",
            "development": true,
            "oauth2": {
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "authorizationUrl": format!("{}/authorize", self.url),
                "tokenUrl": format!("{}/token", self.url),
                "grantType": "authorization_code",
                "scopes": [
                    {"name": "read", "description": "Read your sandbox items"},
                    {"name": "profile", "description": "Who you are"}
                ]
            }
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
    }
}

async fn only_our_host(
    State(hosts): State<Arc<[String]>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !crate::host::addressed_to(&hosts, &request) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "not this sandbox's host name",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "frame-ancestors 'none'; default-src 'none'; style-src 'unsafe-inline'",
        ),
    );
    response
}

fn metadata(url: &str) -> Value {
    json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "userinfo_endpoint": format!("{url}/userinfo"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": SCOPES,
    })
}

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn pairs(raw: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// A page for errors the user must see here, because the redirect URI cannot be trusted.
fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Sandbox error</title><h1>Sandbox: request refused</h1><p id=\"error\">{}</p>",
            escape(message)
        )),
    )
        .into_response()
}

/// RFC 8252 §7.3: an `http` loopback address, any port.
fn loopback_redirect(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
            && u.port().is_some()
    })
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut target = match url::Url::parse(uri) {
        Ok(t) => t,
        Err(_) => return error_page("the redirect_uri is not a URL"),
    };
    target.query_pairs_mut().extend_pairs(params);
    Redirect::to(target.as_str()).into_response()
}

async fn authorize(State(store): State<Arc<Mutex<Store>>>, RawQuery(raw): RawQuery) -> Response {
    let q = pairs(&raw.unwrap_or_default());
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != CLIENT_ID {
        return error_page(&format!("unknown client_id \"{}\"", get("client_id")));
    }
    let redirect_uri = get("redirect_uri");
    if !loopback_redirect(redirect_uri) {
        return error_page(
            "redirect_uri must be a loopback address with a port, such as http://127.0.0.1:9002/callback",
        );
    }
    let state = get("state");
    let fail = |error: &str, description: &str| {
        redirect_with(
            redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state),
            ],
        )
    };
    if get("response_type") != "code" {
        return fail("unsupported_response_type", "only response_type=code");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").len() != 43 {
        return fail("invalid_request", "PKCE with S256 is required");
    }
    let scope = get("scope");
    if let Some(unknown) = scope.split_whitespace().find(|s| !SCOPES.contains(s)) {
        return fail("invalid_scope", &format!("unknown scope {unknown}"));
    }
    let id = random();
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    store
        .consents
        .retain(|_, c| c.created.elapsed() < Duration::from_secs(600));
    store.consents.insert(
        id.clone(),
        PendingConsent {
            redirect_uri: redirect_uri.to_string(),
            state: state.to_string(),
            challenge: get("code_challenge").to_string(),
            scope: scope.to_string(),
            created: Instant::now(),
        },
    );
    let scopes: String = scope
        .split_whitespace()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox consent</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}}</style></head>
<body><h1>integration-cli sandbox</h1>
<p><strong>{client}</strong> asks to access your sandbox account (<code>sandbox-user</code>).</p>
<ul>{scopes}</ul>
<form method="post" action="/authorize/decision">
<input type="hidden" name="consent" value="{id}">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>"#,
        client = escape(CLIENT_ID),
    ))
    .into_response()
}

async fn decision(State(store): State<Arc<Mutex<Store>>>, body: String) -> Response {
    let form = pairs(&body);
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let Some(consent) = form.get("consent").and_then(|id| store.consents.remove(id)) else {
        return error_page(
            "this consent page has expired or was already answered; start the login again",
        );
    };
    let state = consent.state.as_str();
    if form.get("decision").map(String::as_str) != Some("approve") {
        return redirect_with(
            &consent.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied access in the sandbox"),
                ("state", state),
            ],
        );
    }
    let code = random();
    store.next_grant += 1;
    let grant = store.next_grant;
    store.codes.insert(
        code.clone(),
        Code {
            redirect_uri: consent.redirect_uri.clone(),
            challenge: consent.challenge.clone(),
            scope: consent.scope.clone(),
            issued: Instant::now(),
            grant,
        },
    );
    redirect_with(&consent.redirect_uri, &[("code", &code), ("state", state)])
}

/// The client, from HTTP Basic (form-urlencoded id and secret) or from the body.
fn client_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match &basic {
        Some(pair) => {
            let (id, secret) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if form.contains_key("client_secret") {
                return false; // two methods at once
            }
            (decode(id), decode(secret))
        }
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    id == CLIENT_ID && constant_time_eq(secret.as_bytes(), CLIENT_SECRET.as_bytes())
}

async fn token(
    State(store): State<Arc<Mutex<Store>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = pairs(&body);
    if !client_ok(&headers, &form) {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    match get("grant_type") {
        "authorization_code" => exchange_code(&mut store, &form),
        "refresh_token" => refresh(&mut store, get("refresh_token")),
        "client_credentials" => {
            let scope = get("scope");
            if let Some(unknown) = scope.split_whitespace().find(|s| !SCOPES.contains(s)) {
                return oauth_error(400, "invalid_scope", &format!("unknown scope {unknown}"));
            }
            json_response(200, store.issue(0, scope, false))
        }
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant_type {other:?} is not supported by the sandbox"),
        ),
    }
}

/// A code for tokens, checked as a strict server checks it: single use (a replay revokes
/// what it gave), unexpired, the same redirect URI, and the PKCE verifier.
fn exchange_code(store: &mut Store, form: &HashMap<String, String>) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let presented = get("code");
    if let Some(grant) = store.spent_codes.get(presented).copied() {
        store.revoke(grant);
        return oauth_error(
            400,
            "invalid_grant",
            "code already used; its tokens are revoked",
        );
    }
    let Some(code) = store.codes.remove(presented) else {
        return oauth_error(400, "invalid_grant", "unknown code");
    };
    store.spent_codes.insert(presented.to_string(), code.grant);
    if code.issued.elapsed() > store.lifetimes.code {
        return oauth_error(400, "invalid_grant", "code expired");
    }
    if get("redirect_uri") != code.redirect_uri {
        return oauth_error(
            400,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    // RFC 7636 §4.1: 43 to 128 characters.
    if !(43..=128).contains(&get("code_verifier").len()) {
        return oauth_error(
            400,
            "invalid_grant",
            "code_verifier must be 43 to 128 characters",
        );
    }
    let verifier = oauth2::PkceCodeVerifier::new(get("code_verifier").to_string());
    let computed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    if !constant_time_eq(computed.as_str().as_bytes(), code.challenge.as_bytes()) {
        return oauth_error(400, "invalid_grant", "PKCE verification failed");
    }
    json_response(200, store.issue(code.grant, &code.scope, true))
}

/// A refresh with rotation: the presented token is spent, and presenting it again revokes
/// the whole grant.
fn refresh(store: &mut Store, presented: &str) -> Response {
    if let Some(grant) = store.spent_refresh.get(presented).copied() {
        store.revoke(grant);
        return oauth_error(
            400,
            "invalid_grant",
            "refresh token already used; the grant is revoked",
        );
    }
    let Some((grant, scope)) = store.refresh.remove(presented) else {
        return oauth_error(400, "invalid_grant", "unknown or revoked refresh token");
    };
    store.spent_refresh.insert(presented.to_string(), grant);
    json_response(200, store.issue(grant, &scope, true))
}

async fn userinfo(State(store): State<Arc<Mutex<Store>>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let store = store.lock().unwrap_or_else(|e| e.into_inner());
    match store.access.get(token) {
        Some((_, scope, expiry)) if *expiry > Instant::now() => json_response(
            200,
            json!({
                "sub": "sandbox-user",
                "name": "Sandbox User",
                "email": "sandbox-user@example.test",
                "scope": scope,
            }),
        ),
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "",
        )
            .into_response(),
    }
}
