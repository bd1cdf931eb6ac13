//! A hand-written OAuth 2.0 provider for fault injection: it checks what a strict server
//! checks (client authentication method, PKCE S256, redirect_uri, single-use codes, spent
//! refresh tokens) and can be told to misbehave. It runs on its own thread and runtime and
//! stops when dropped.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

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

pub const CLIENT_ID: &str = "fake-client-id";
pub const CLIENT_SECRET: &str = "fake-client-secret-do-not-use-0123456789";

struct PendingCode {
    challenge: String,
    redirect_uri: String,
    scope: String,
}

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
    codes: HashMap<String, PendingCode>,
    live_refresh: HashSet<String>,
    spent_refresh: HashSet<String>,
    counter: u64,
    in_flight: usize,
    seen: Seen,
}

pub struct Stub {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stub {
    pub fn start(behaviour: Behaviour) -> Stub {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour,
            codes: HashMap::new(),
            live_refresh: HashSet::new(),
            spent_refresh: HashSet::new(),
            counter: 0,
            in_flight: 0,
            seen: Seen {
                secrets: vec![CLIENT_SECRET.to_string()],
                ..Seen::default()
            },
        }));
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route(
                "/.well-known/oauth-authorization-server",
                get(|State(inner): State<Arc<Mutex<Inner>>>| async move {
                    let behaviour = inner.lock().unwrap().behaviour.clone();
                    match (behaviour.metadata_text, behaviour.metadata) {
                        (Some(text), _) => (
                            StatusCode::OK,
                            [(header::CONTENT_TYPE, "application/json")],
                            text,
                        )
                            .into_response(),
                        (None, Some(m)) => json_response(200, m),
                        (None, None) => StatusCode::NOT_FOUND.into_response(),
                    }
                }),
            )
            .route("/tenant/authorize", get(authorize))
            .route(
                "/.well-known/oauth-authorization-server/tenant",
                get(|State(inner): State<Arc<Mutex<Inner>>>| async move {
                    match inner.lock().unwrap().behaviour.tenant_metadata.clone() {
                        Some(m) => json_response(200, m),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }),
            )
            .route(
                "/token-moved",
                post(|| async { Redirect::temporary("/token").into_response() }),
            )
            .with_state(inner.clone());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Stub {
            url: format!("http://{addr}"),
            inner,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.inner.lock().unwrap().seen)
    }

    pub fn behave(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.inner.lock().unwrap().behaviour)
    }

    /// A value a test put somewhere the CLI reads (a seeded file, an injected response):
    /// the leak check must look for it too.
    pub fn remember(&self, secret: &str) {
        self.inner.lock().unwrap().seen.secrets.push(secret.into());
    }

    /// Makes a refresh token the stub will accept, as if issued by an earlier login.
    pub fn issue_refresh_token(&self) -> String {
        let mut inner = self.inner.lock().unwrap();
        let token = inner.mint("refresh");
        inner.live_refresh.insert(token.clone());
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

impl Inner {
    fn mint(&mut self, kind: &str) -> String {
        self.counter += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let value = format!(
            "fake-{kind}-{}-{nanos:09}-{}",
            self.counter,
            std::process::id()
        );
        self.seen.secrets.push(value.clone());
        value
    }
}

fn query_map(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn authorize(State(inner): State<Arc<Mutex<Inner>>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw);
    let mut inner = inner.lock().unwrap();
    inner.seen.authorize_queries.push(q.clone());
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").len() != 43
        || get("state").is_empty()
        || get("redirect_uri").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "stub: bad authorization request").into_response();
    }
    let redirect_uri = get("redirect_uri");
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    if let Some((error, description)) = inner.behaviour.deny.clone() {
        target
            .query_pairs_mut()
            .append_pair("error", &error)
            .append_pair("error_description", &description)
            .append_pair("state", &get("state"));
    } else {
        let code = inner.mint("code");
        inner.codes.insert(
            code.clone(),
            PendingCode {
                challenge: get("code_challenge"),
                redirect_uri: redirect_uri.clone(),
                scope: get("scope"),
            },
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &get("state"));
    }
    if let Some(iss) = &inner.behaviour.iss {
        target.query_pairs_mut().append_pair("iss", iss);
    }
    Redirect::to(target.as_str()).into_response()
}

/// A JSON object's fields as strings; `None` when the body is not one.
fn json_fields(body: &str) -> Option<HashMap<String, String>> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    Some(
        map.into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
    )
}

async fn token(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let basic = header_text(header::AUTHORIZATION);
    let content_type = header_text(header::CONTENT_TYPE);
    let is_json = content_type
        .as_deref()
        .is_some_and(|ct| ct.starts_with("application/json"));
    let form: HashMap<String, String> = if is_json {
        json_fields(&body).unwrap_or_default()
    } else {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    };
    let (delay, form_responses) = {
        let mut inner = inner.lock().unwrap();
        inner.seen.token_forms.push(form.clone());
        inner.seen.token_auth_headers.push(basic.clone());
        inner.seen.token_content_types.push(content_type.clone());
        inner.seen.token_accepts.push(header_text(header::ACCEPT));
        // Whatever credential arrives is a secret, whether the stub issued it or not.
        for key in ["code_verifier", "code", "refresh_token", "client_secret"] {
            if let Some(v) = form.get(key).filter(|v| !v.is_empty()) {
                inner.seen.secrets.push(v.clone());
            }
        }
        if let Some(encoded) = basic.as_deref().and_then(|h| h.strip_prefix("Basic ")) {
            inner.seen.secrets.push(encoded.to_string());
            if let Some(decoded) = STANDARD
                .decode(encoded)
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
            {
                inner.seen.secrets.push(decoded);
            }
        }
        if let Some((status, ct, template)) = inner.behaviour.echo_authorization.clone() {
            let header = basic.clone().unwrap_or_default();
            return (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, ct)],
                template.replace("{header}", &header),
            )
                .into_response();
        }
        if let Some((status, ct, body)) = inner.behaviour.token_failure.take() {
            return (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, ct)],
                body,
            )
                .into_response();
        }
        if is_json != inner.behaviour.json_requests || (is_json && json_fields(&body).is_none()) {
            let wanted = if inner.behaviour.json_requests {
                "a JSON body"
            } else {
                "a form body"
            };
            return json_response(
                400,
                json!({"error": "invalid_request", "error_description": format!("expected {wanted}")}),
            );
        }
        if !client_authenticated(inner.behaviour.auth, basic.as_deref(), &form) {
            return json_response(
                401,
                json!({"error": "invalid_client", "error_description": "client authentication failed"}),
            );
        }
        let mut delay = inner.behaviour.token_delay;
        if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
            delay += inner.behaviour.refresh_delay;
        }
        (delay, inner.behaviour.form_responses)
    };
    // Outside the lock, so concurrent requests really overlap.
    {
        let mut inner = inner.lock().unwrap();
        inner.in_flight += 1;
        inner.seen.max_in_flight = inner.seen.max_in_flight.max(inner.in_flight);
    }
    tokio::time::sleep(delay).await;
    let mut inner = inner.lock().unwrap();
    inner.in_flight -= 1;
    let answer = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(pending) = inner.codes.remove(&code) else {
                return json_response(
                    400,
                    json!({"error": "invalid_grant", "error_description": "unknown or used code"}),
                );
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed != pending.challenge {
                return json_response(
                    400,
                    json!({"error": "invalid_grant", "error_description": "PKCE verification failed"}),
                );
            }
            if form.get("redirect_uri") != Some(&pending.redirect_uri) {
                return json_response(
                    400,
                    json!({"error": "invalid_grant", "error_description": "redirect_uri mismatch"}),
                );
            }
            let with_refresh = inner.behaviour.refresh_token_on_login;
            issue(&mut inner, Some(pending.scope), with_refresh)
        }
        Some("refresh_token") => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            if inner.spent_refresh.contains(&presented) {
                // What strict servers do on reuse: the whole grant dies.
                inner.live_refresh.clear();
                return json_response(
                    400,
                    json!({"error": "invalid_grant", "error_description": "refresh token reused; grant revoked"}),
                );
            }
            if !inner.live_refresh.contains(&presented) {
                return json_response(
                    400,
                    json!({"error": "invalid_grant", "error_description": "refresh token is invalid or expired"}),
                );
            }
            let rotate = inner.behaviour.rotate_refresh_tokens;
            if rotate {
                inner.live_refresh.remove(&presented);
                inner.spent_refresh.insert(presented);
            }
            issue(&mut inner, None, rotate)
        }
        Some("client_credentials") => issue(&mut inner, form.get("scope").cloned(), false),
        _ => return json_response(400, json!({"error": "unsupported_grant_type"})),
    };
    if !form_responses {
        return json_response(200, answer);
    }
    let Value::Object(fields) = answer else {
        unreachable!("issue() answers an object")
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        }))
        .finish();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        body,
    )
        .into_response()
}

fn client_authenticated(auth: Auth, basic: Option<&str>, form: &HashMap<String, String>) -> bool {
    match auth {
        Auth::Both => {
            form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && client_authenticated(Auth::Basic, basic, form)
        }
        Auth::Basic => {
            let Some(encoded) = basic.and_then(|h| h.strip_prefix("Basic ")) else {
                return false;
            };
            let Ok(decoded) = STANDARD.decode(encoded) else {
                return false;
            };
            let decoded = String::from_utf8(decoded).unwrap_or_default();
            let expected = format!(
                "{}:{}",
                url::form_urlencoded::byte_serialize(CLIENT_ID.as_bytes()).collect::<String>(),
                url::form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>()
            );
            decoded == expected && !form.contains_key("client_secret")
        }
        Auth::Post => {
            basic.is_none()
                && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
    }
}

/// A fresh set of tokens, as a JSON object.
fn issue(inner: &mut Inner, scope: Option<String>, with_refresh: bool) -> Value {
    let access = inner.mint("access");
    inner.seen.access_tokens.push(access.clone());
    let mut body = json!({
        "access_token": access,
        "id_token": "fake-id-token-kept-as-extra-field",
    });
    for (key, value) in [
        ("token_type", &inner.behaviour.token_type),
        ("expires_in", &inner.behaviour.expires_in),
    ] {
        if !value.is_null() {
            body[key] = value.clone();
        }
    }
    if let Value::Object(extra) = &inner.behaviour.extra_fields {
        for (key, value) in extra {
            body[key.as_str()] = value.clone();
        }
    }
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    if with_refresh {
        let refresh = inner.mint("refresh");
        inner.live_refresh.insert(refresh.clone());
        inner.seen.refresh_tokens.push(refresh.clone());
        body["refresh_token"] = json!(refresh);
    }
    body
}
