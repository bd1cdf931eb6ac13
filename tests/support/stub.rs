//! The provider the tests log in to, and how they make it misbehave. It is the sandbox
//! itself (`integration_cli::sandbox`), as a persona of these tests' own whose rules a test
//! sets (how the client authenticates, form or JSON bodies, rotation, the answer's shape),
//! behind a layer that records every request (`Seen`) and, when a `Behaviour` says so,
//! answers some itself: a scripted failure, a delay, a denial, metadata, a redirect. The
//! layer approves every login at once, as a user who clicks Approve. It runs on its own
//! thread and runtime and stops when dropped.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use integration_cli::sandbox::{
    self, Asked, BodyRule, ClientAuthRule, Issued, Persona, Rotation, Sandbox, Store, TokenRequest,
};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Auth {
    Basic,
    Post,
    /// Basic, plus `client_id` (never the secret) in the body.
    Both,
}

#[derive(Clone, Debug)]
pub struct Behaviour {
    pub auth: Auth,
    pub rotate_refresh_tokens: bool,
    /// The authorization endpoint answers with this `error` (and description) instead of a code.
    pub deny: Option<(String, String)>,
    /// The next token request gets exactly this status, content type and body (a failure,
    /// or a success shaped as some provider shapes it).
    pub token_failure: Option<(u16, String, String)>,
    pub refresh_delay: Duration,
    /// Before answering any token request.
    pub token_delay: Duration,
    /// `null` leaves `expires_in` out.
    pub expires_in: Value,
    /// `null` leaves `token_type` out.
    pub token_type: Value,
    /// Merged into every token response (`instance_url`, `created_at`, ...).
    pub extra_fields: Value,
    /// Whether the code exchange returns a refresh token (a refresh always may rotate).
    pub refresh_token_on_login: bool,
    /// Token requests must be JSON (and a form body is refused), as some providers document.
    pub json_requests: bool,
    /// Answer form-encoded whatever the Accept header says, as GitHub's classic apps do.
    pub form_responses: bool,
    /// RFC 9207's `iss`, added to the authorization response when set.
    pub iss: Option<String>,
    /// Served at /.well-known/oauth-authorization-server when set.
    pub metadata: Option<Value>,
    /// Served there instead, as is (a document of any size or shape).
    pub metadata_text: Option<String>,
    /// Served at /.well-known/oauth-authorization-server/tenant (RFC 8414's path form, for
    /// the issuer `<stub>/tenant`, whose authorization endpoint is /tenant/authorize).
    pub tenant_metadata: Option<Value>,
    /// The token endpoint answers this status and content type, with a body that quotes the
    /// request's Authorization header (`{header}` in the template), as careless servers do.
    pub echo_authorization: Option<(u16, String, String)>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            auth: Auth::Basic,
            rotate_refresh_tokens: true,
            deny: None,
            token_failure: None,
            refresh_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
            expires_in: json!(3600),
            token_type: json!("Bearer"),
            extra_fields: json!({}),
            refresh_token_on_login: true,
            json_requests: false,
            form_responses: false,
            iss: None,
            metadata: None,
            metadata_text: None,
            tenant_metadata: None,
            echo_authorization: None,
        }
    }
}

/// The sandbox's one client.
pub const CLIENT_ID: &str = sandbox::CLIENT_ID;
pub const CLIENT_SECRET: &str = sandbox::CLIENT_SECRET;

#[derive(Default)]
pub struct Seen {
    pub authorize_queries: Vec<HashMap<String, String>>,
    /// Each token request's body fields, whether it came as a form or as JSON.
    pub token_forms: Vec<HashMap<String, String>>,
    pub token_auth_headers: Vec<Option<String>>,
    pub token_content_types: Vec<Option<String>>,
    pub token_accepts: Vec<Option<String>>,
    /// Every code, token and verifier that crossed the wire: none may ever be printed.
    pub secrets: Vec<String>,
    pub access_tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
    /// The most token requests ever in progress at once.
    pub max_in_flight: usize,
}

struct Inner {
    behaviour: Behaviour,
    in_flight: usize,
    seen: Seen,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Stub {
    pub url: String,
    inner: Shared,
    own: Arc<Own>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The sandbox behind the hook: its own routes (which check the host name) and that name.
#[derive(Default)]
struct Own {
    routes: OnceLock<Router>,
    host: OnceLock<String>,
}

impl Own {
    /// The request answered by the sandbox's own routes, unrecorded, addressed to it by
    /// name (a test may have sent it to another, through the stub as its HTTP proxy).
    async fn pass(&self, mut request: Request) -> Response {
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        *request.uri_mut() = target.parse().unwrap();
        let host = self.host.get().expect("the sandbox is serving");
        let host = header::HeaderValue::from_str(host).unwrap();
        request.headers_mut().insert(header::HOST, host);
        let routes = self.routes.get().expect("the sandbox is serving").clone();
        let service = hyper_util::service::TowerToHyperService::new(routes);
        match hyper::service::Service::call(&service, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

impl Stub {
    pub fn start(behaviour: Behaviour) -> Stub {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour,
            in_flight: 0,
            seen: Seen {
                secrets: vec![CLIENT_SECRET.to_string()],
                ..Seen::default()
            },
        }));
        let own = Arc::new(Own::default());
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let hook = Hook {
            inner: inner.clone(),
            own: own.clone(),
        };
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let options = sandbox::Options {
                    port: 0,
                    ..sandbox::Options::default()
                };
                let rules = Box::new(Rules(hook.inner.clone()));
                let own = hook.own.clone();
                let sandbox = Sandbox::start_custom(options, rules, |routes| {
                    let _ = hook.own.routes.set(routes);
                    Router::new().fallback(move |request: Request| hook.clone().answer(request))
                })
                .await
                .unwrap();
                let _ = own
                    .host
                    .set(sandbox.url.trim_start_matches("http://").into());
                url_tx.send(sandbox.url.clone()).unwrap();
                let _ = stop_rx.await;
                drop(sandbox);
            });
        });
        Stub {
            url: url_rx.recv().unwrap(),
            inner,
            own,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&lock(&self.inner).seen)
    }

    pub fn behave(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut lock(&self.inner).behaviour)
    }

    /// A value a test put somewhere the CLI reads (a seeded file, an injected response):
    /// the leak check must look for it too.
    pub fn remember(&self, secret: &str) {
        lock(&self.inner).seen.secrets.push(secret.into());
    }

    /// A refresh token the stub will accept, as if issued by an earlier login: the
    /// sandbox's user signs in with the password grant, unrecorded.
    pub fn issue_refresh_token(&self) -> String {
        let behaviour = lock(&self.inner).behaviour.clone();
        let request = password_request(&behaviour);
        let answer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async { fields_of(self.own.pass(request).await).await.1 });
        let token = answer["refresh_token"].clone();
        let mut inner = lock(&self.inner);
        inner.seen.secrets.push(token.clone());
        inner.seen.refresh_tokens.push(token.clone());
        token
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The sandbox user's password grant, with the client authenticated and the body written
/// as the current rules want.
fn password_request(behaviour: &Behaviour) -> Request {
    let fields = [
        ("grant_type", "password"),
        ("username", sandbox::USERNAME),
        ("password", sandbox::PASSWORD),
    ];
    let mut fields: Vec<(&str, &str)> = fields.to_vec();
    let mut request = axum::http::Request::post("/token");
    match behaviour.auth {
        Auth::Post => fields.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]),
        Auth::Basic | Auth::Both => {
            let pair = STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {pair}"));
        }
    }
    let (content_type, body) = match behaviour.json_requests {
        true => {
            let object: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            ("application/json", Value::Object(object).to_string())
        }
        false => (
            "application/x-www-form-urlencoded",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish(),
        ),
    };
    request
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

/// The rules a test sets, as a persona: the sandbox checks and issues by them.
struct Rules(Shared);

impl Rules {
    fn behaviour(&self) -> Behaviour {
        lock(&self.0).behaviour.clone()
    }
}

impl Persona for Rules {
    fn name(&self) -> &'static str {
        "stub"
    }

    fn reproduces(&self) -> &'static str {
        "whatever provider a test describes"
    }

    fn provider(&self) -> Option<&'static integration_cli::providers::Provider> {
        None
    }

    /// The tests' redirect URIs are a tunnel's and a relay's too.
    fn redirect_registered(&self, uri: &str) -> bool {
        url::Url::parse(uri).is_ok()
    }

    fn pkce_required(&self) -> bool {
        true
    }

    fn client_credentials(&self) -> bool {
        true
    }

    fn offline(&self, _asked: &Asked, _again: bool) -> bool {
        self.behaviour().refresh_token_on_login
    }

    fn client_auth(&self) -> ClientAuthRule {
        match self.behaviour().auth {
            Auth::Basic => ClientAuthRule::BasicOnly,
            Auth::Post => ClientAuthRule::BodyOnly,
            Auth::Both => ClientAuthRule::BasicWithId,
        }
    }

    fn body(&self) -> BodyRule {
        match self.behaviour().json_requests {
            true => BodyRule::Json,
            false => BodyRule::Form,
        }
    }

    /// Tokens that say what they are, as the tests' own made-up values do.
    fn prefixes(&self, _asked: &Asked, _user: bool) -> (&'static str, &'static str) {
        ("fake-access-", "fake-refresh-")
    }

    fn rotation(&self) -> Rotation {
        match self.behaviour().rotate_refresh_tokens {
            true => Rotation::Revoking,
            false => Rotation::Kept,
        }
    }

    /// The answer shaped as the test says: its `token_type` and `expires_in` (or neither),
    /// extra fields, an `id_token` to keep; the scope on a login's answer only, and no
    /// refresh token from a refresh that keeps the old one.
    fn answer(&self, issued: &Issued, asked: &Asked, _store: &mut Store) -> Map<String, Value> {
        let behaviour = self.behaviour();
        let mut fields = Map::new();
        fields.insert("access_token".into(), json!(issued.access));
        fields.insert(
            "id_token".into(),
            json!("fake-id-token-kept-as-extra-field"),
        );
        for (key, value) in [
            ("token_type", behaviour.token_type),
            ("expires_in", behaviour.expires_in),
        ] {
            if !value.is_null() {
                fields.insert(key.into(), value);
            }
        }
        if let Value::Object(extra) = behaviour.extra_fields {
            fields.extend(extra);
        }
        // Grant 0 is client credentials, whose answer has a scope only when one was asked.
        let scoped = issued.grant != 0 || !asked.scope().is_empty();
        if scoped && !issued.refreshed {
            fields.insert("scope".into(), json!(asked.scope()));
        }
        let kept = issued.refreshed && !behaviour.rotate_refresh_tokens;
        if let Some(refresh) = issued.refresh.as_ref().filter(|_| !kept) {
            fields.insert("refresh_token".into(), json!(refresh));
        }
        fields
    }

    fn respond(&self, fields: Map<String, Value>, _req: &TokenRequest) -> Response {
        match self.behaviour().form_responses {
            true => sandbox::form_response(200, &fields),
            false => sandbox::json_response(200, Value::Object(fields)),
        }
    }
}

/// In front of the sandbox's routes: records, then answers as the `Behaviour` says or
/// hands the request on.
#[derive(Clone)]
struct Hook {
    inner: Shared,
    own: Arc<Own>,
}

impl Hook {
    async fn answer(self, request: Request) -> Response {
        let get = request.method() == Method::GET;
        match (get, request.uri().path()) {
            (true, "/authorize" | "/tenant/authorize") => self.authorize(request).await,
            (false, "/token") => self.token(request).await,
            (true, "/.well-known/oauth-authorization-server") => {
                let behaviour = lock(&self.inner).behaviour.clone();
                match (behaviour.metadata_text, behaviour.metadata) {
                    (Some(text), _) => (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        text,
                    )
                        .into_response(),
                    (None, Some(m)) => sandbox::json_response(200, m),
                    (None, None) => StatusCode::NOT_FOUND.into_response(),
                }
            }
            (true, "/.well-known/oauth-authorization-server/tenant") => {
                match lock(&self.inner).behaviour.tenant_metadata.clone() {
                    Some(m) => sandbox::json_response(200, m),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
            (false, "/token-moved") => Redirect::temporary("/token").into_response(),
            _ => self.own.pass(request).await,
        }
    }

    /// The sandbox's authorization endpoint, its consent approved at once (or the denial
    /// the test scripted, once the request passed the sandbox's checks), with `iss` added.
    async fn authorize(&self, request: Request) -> Response {
        let raw = request.uri().query().unwrap_or("").to_string();
        let query: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        let behaviour = {
            let mut inner = lock(&self.inner);
            inner.seen.authorize_queries.push(query.clone());
            inner.behaviour.clone()
        };
        let to_sandbox = axum::http::Request::get(format!("/authorize?{raw}"));
        let consent = self.own.pass(to_sandbox.body(Body::empty()).unwrap()).await;
        if consent.status() != StatusCode::OK {
            return consent;
        }
        let page = to_bytes(consent.into_body(), usize::MAX).await.unwrap();
        let page = String::from_utf8_lossy(&page);
        let id = page
            .split(r#"name="consent" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the consent page names its consent");
        let mut target = match behaviour.deny {
            Some((error, description)) => {
                let mut target = url::Url::parse(&query["redirect_uri"]).unwrap();
                target
                    .query_pairs_mut()
                    .append_pair("error", &error)
                    .append_pair("error_description", &description)
                    .append_pair("state", query.get("state").map_or("", String::as_str));
                target
            }
            None => self.approve(id).await,
        };
        if let Some(iss) = &behaviour.iss {
            target.query_pairs_mut().append_pair("iss", iss);
        }
        Redirect::to(target.as_str()).into_response()
    }

    /// Approve on the consent page: where the sandbox sends the browser, with its code.
    async fn approve(&self, consent: &str) -> url::Url {
        let decision = axum::http::Request::post("/authorize/decision")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("consent={consent}&decision=approve")))
            .unwrap();
        let answer = self.own.pass(decision).await;
        let location = answer.headers()[header::LOCATION].to_str().unwrap();
        let target = url::Url::parse(location).unwrap();
        if let Some((_, code)) = target.query_pairs().find(|(k, _)| k == "code") {
            lock(&self.inner).seen.secrets.push(code.into_owned());
        }
        target
    }

    /// The sandbox's token endpoint, after the request is recorded, unless the test
    /// scripted the answer; a delay first when the test set one.
    async fn token(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
        let delay = match self.record(&parts.headers, &body) {
            ControlFlow::Continue(delay) => delay,
            ControlFlow::Break(scripted) => return scripted,
        };
        tokio::time::sleep(delay).await;
        let answer = self
            .own
            .pass(Request::from_parts(parts, Body::from(body)))
            .await;
        let (parts, fields, body) = fields_of(answer).await;
        let mut inner = lock(&self.inner);
        inner.in_flight -= 1;
        if parts.status == StatusCode::OK {
            let seen = &mut inner.seen;
            if let Some(token) = fields.get("access_token") {
                seen.secrets.push(token.clone());
                seen.access_tokens.push(token.clone());
            }
            if let Some(token) = fields.get("refresh_token") {
                seen.secrets.push(token.clone());
                seen.refresh_tokens.push(token.clone());
            }
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// What a token request showed, kept in `Seen`; then the test's scripted answer, if it
    /// has one, or how long to wait before handing the request on.
    fn record(&self, headers: &HeaderMap, body: &Bytes) -> ControlFlow<Response, Duration> {
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let basic = header_text(header::AUTHORIZATION);
        let content_type = header_text(header::CONTENT_TYPE);
        let form = body_fields(content_type.as_deref(), body);
        let mut inner = lock(&self.inner);
        inner.seen.token_forms.push(form.clone());
        inner.seen.token_auth_headers.push(basic.clone());
        inner.seen.token_content_types.push(content_type);
        inner.seen.token_accepts.push(header_text(header::ACCEPT));
        inner
            .seen
            .secrets
            .extend(credentials(&form, basic.as_deref()));
        if let Some((status, ct, template)) = inner.behaviour.echo_authorization.clone() {
            let header = basic.unwrap_or_default();
            return ControlFlow::Break(scripted(status, ct, template.replace("{header}", &header)));
        }
        if let Some((status, ct, body)) = inner.behaviour.token_failure.take() {
            return ControlFlow::Break(scripted(status, ct, body));
        }
        let mut delay = inner.behaviour.token_delay;
        if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
            delay += inner.behaviour.refresh_delay;
        }
        inner.in_flight += 1;
        inner.seen.max_in_flight = inner.seen.max_in_flight.max(inner.in_flight);
        ControlFlow::Continue(delay)
    }
}

fn scripted(status: u16, content_type: String, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

/// Whatever credential arrives is a secret, whether the sandbox issued it or not.
fn credentials(form: &HashMap<String, String>, basic: Option<&str>) -> Vec<String> {
    let mut found: Vec<String> = ["code_verifier", "code", "refresh_token", "client_secret"]
        .iter()
        .filter_map(|key| form.get(*key).filter(|v| !v.is_empty()).cloned())
        .collect();
    if let Some(encoded) = basic.and_then(|h| h.strip_prefix("Basic ")) {
        found.push(encoded.to_string());
        let decoded = STANDARD.decode(encoded).ok();
        found.extend(decoded.and_then(|d| String::from_utf8(d).ok()));
    }
    found
}

/// A body's fields as strings, a JSON object's or a form's by its content type.
fn body_fields(content_type: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    if !content_type.is_some_and(|ct| ct.starts_with("application/json")) {
        return url::form_urlencoded::parse(body).into_owned().collect();
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return HashMap::new();
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// An answer taken apart: its head, its body's fields, and the body to send on.
async fn fields_of(
    answer: Response,
) -> (axum::http::response::Parts, HashMap<String, String>, Bytes) {
    let (parts, body) = answer.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let content_type = parts.headers.get(header::CONTENT_TYPE);
    let fields = body_fields(content_type.and_then(|v| v.to_str().ok()), &body);
    (parts, fields, body)
}
