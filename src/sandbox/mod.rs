//! A small OAuth 2.0 authorization server on loopback, so a connector developer can try the
//! whole flow with no provider account and no network: `integration-cli sandbox` serves it,
//! `integration-cli demo` runs the real `oauth2` flow against it, and the tests' stub is it
//! too, with a persona and a layer of its own (`Sandbox::start_custom`).
//!
//! It checks what a real server checks: the client and its secret, a loopback redirect URI
//! (any port, RFC 8252 §7.3) that must match at the exchange, PKCE S256, single-use codes
//! that expire, rotating refresh tokens (presenting a spent one revokes the grant), and
//! bearer tokens at userinfo. With a persona (`--persona google`, …) it behaves at its
//! authorization and token endpoints as that provider does (see `persona`). State lives in
//! memory.

mod assertion;
mod consent;
mod identity;
mod persona;
mod personas;
mod revoke;
mod store;
mod token;

pub use persona::{
    BodyRule, ClientAuthRule, Issued, Persona, Refusal, Rotation, TokenRequest, form_response,
    json_response, standard,
};
pub use personas::{
    ALL as PERSONA_LIST, Chosen as ChosenPersona, Entry as PersonaEntry, NAMES as PERSONAS,
    find as persona_entry,
};
pub use store::{Asked, Lifetimes, Stats, Store, User};

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, NetworkError, Result};
use crate::html::escape;
use crate::server::{self, Limits};

/// The sandbox's one client. Not secret: it only opens this sandbox.
/// The sandbox's connections (see `server`): kept alive, as a provider's are; room for
/// every test and tool that talks to it at once; 30 s for a request's head.
const LIMITS: Limits = Limits {
    most: 256,
    header_timeout: std::time::Duration::from_secs(30),
    keep_alive: true,
};

pub const CLIENT_ID: &str = crate::providers::SANDBOX_CLIENT_ID;
pub const CLIENT_SECRET: &str = crate::providers::SANDBOX_CLIENT_SECRET;
/// The sandbox user's name and password, for the password grant.
pub const USERNAME: &str = "sandbox-user";
pub const PASSWORD: &str = "sandbox-password-not-real";
/// The default port of `integration-cli sandbox`.
pub const DEFAULT_PORT: u16 = 9010;
/// The scopes the plain sandbox knows (a persona takes its provider's).
const SCOPES: [&str; 6] = [
    "read",
    "write",
    "profile",
    "offline_access",
    "openid",
    "email",
];

/// How to start one.
pub struct Options {
    pub port: u16,
    pub lifetimes: Lifetimes,
    /// The plain sandbox or a provider's stand-in, its options checked.
    pub persona: ChosenPersona,
    /// What assertions (jwt-bearer, private_key_jwt) are verified with: a PEM public key,
    /// or an HS256 shared secret. Without it, neither is accepted.
    pub jwt_key: Option<String>,
    /// Token answers with a `created_at` this far in the past (see `Skew`).
    pub skew: Option<Skew>,
}

/// A provider whose tokens look older than they are: `created_at` `behind` the real time,
/// and with `date_too` a `Date` header from the same clock (its clock is behind: a client
/// reading `created_at` against `Date` gets the truth); without it the `Date` header is
/// right and `created_at` alone is stale, so its tokens come back already expired.
#[derive(Debug, Clone, Copy)]
pub struct Skew {
    pub behind: std::time::Duration,
    pub date_too: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: DEFAULT_PORT,
            lifetimes: Lifetimes::default(),
            persona: ChosenPersona::plain(),
            jwt_key: None,
            skew: None,
        }
    }
}

/// What the handlers share.
pub(crate) struct Shared {
    /// Where it serves (its `id_token`s' issuer, for the plain sandbox).
    url: String,
    store: Mutex<Store>,
    persona: Box<dyn Persona>,
    verifier: Option<assertion::Verifier>,
    skew: Option<Skew>,
}

impl Shared {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running sandbox; stops when dropped or on `stop`.
pub struct Sandbox {
    pub url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// The plain sandbox on 127.0.0.1:`port` (0 picks one), on the current runtime.
    pub async fn start(port: u16) -> Result<Sandbox> {
        Sandbox::start_with(port, Lifetimes::default()).await
    }

    pub async fn start_with(port: u16, lifetimes: Lifetimes) -> Result<Sandbox> {
        Sandbox::start_as(Options {
            port,
            lifetimes,
            ..Options::default()
        })
        .await
    }

    pub async fn start_as(options: Options) -> Result<Sandbox> {
        let persona = options.persona.make();
        Sandbox::start_custom(options, persona, |routes| routes).await
    }

    /// A sandbox that behaves as a persona of the caller's own (a provider no built-in
    /// persona covers, described in code), with its routes handed to `wrap` before they are
    /// served: a layer there sees every request first and may answer some itself (to log
    /// them, or to reproduce a failing provider in a test). The routes given to `wrap`
    /// check the host name themselves, so a wrapper that hands them requests under other
    /// names (as a proxy in front of them would) says so by rewriting `Host`.
    /// `options.persona` is not read.
    pub async fn start_custom(
        options: Options,
        persona: Box<dyn Persona>,
        wrap: impl FnOnce(Router) -> Router,
    ) -> Result<Sandbox> {
        let port = options.port;
        let listener =
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AddrInUse => NetworkError::SandboxPortInUse { port }.into(),
                    _ => Error::io("listen on", format!("127.0.0.1:{port}").as_ref(), source),
                })?;
        let addr = listener.local_addr().map_err(|source| {
            Error::io("listen on", format!("127.0.0.1:{port}").as_ref(), source)
        })?;
        let url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            url: url.clone(),
            store: Mutex::new(Store {
                lifetimes: options.lifetimes,
                ..Store::default()
            }),
            persona,
            verifier: options.jwt_key.map(|key| assertion::Verifier {
                key,
                issuer: url.clone(),
            }),
            skew: options.skew,
        });
        // DNS rebinding: a page on some other name that resolves to 127.0.0.1 must not drive
        // the sandbox, so only our own host names are served.
        let hosts: Arc<[String]> = Arc::from(vec![
            format!("127.0.0.1:{}", addr.port()),
            format!("localhost:{}", addr.port()),
        ]);
        let app =
            routes(&shared, &url).layer(axum::middleware::from_fn_with_state(hosts, only_our_host));
        let app = wrap(app);
        let (stop, stopping) = watch::channel(false);
        let service = hyper_util::service::TowerToHyperService::new(app);
        let task = tokio::spawn(server::serve(listener, service, LIMITS, stopping));
        Ok(Sandbox {
            url,
            shared,
            stop,
            task,
        })
    }

    /// Serves until `stop` is called or the sandbox is dropped.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    pub fn persona(&self) -> &str {
        self.shared.persona.name()
    }

    /// The provider its persona stands in for; `None` for the plain sandbox.
    pub fn provider(&self) -> Option<&'static crate::providers::Provider> {
        self.shared.persona.provider()
    }

    /// What it has counted so far (refreshes, spent refresh tokens presented again).
    pub fn stats(&self) -> Stats {
        self.shared.store().stats
    }

    /// Where a provider's endpoint is served here: its host name, then its path, so the
    /// stand-in is told apart from the real thing at a glance (and by `providers::for_url`).
    fn stand_in(&self, real: &str) -> String {
        stand_in(&self.url, real)
    }

    /// The authorization and token URLs here.
    pub fn endpoints(&self) -> (String, String) {
        match self.shared.persona.provider() {
            Some(p) => (
                self.stand_in(p.authorization_url),
                self.stand_in(p.token_url),
            ),
            None => (
                format!("{}/authorize", self.url),
                format!("{}/token", self.url),
            ),
        }
    }

    /// What `integration-cli sandbox` prints: where it is, its client, and an authorization
    /// to paste.
    pub fn banner(&self) -> String {
        let url = &self.url;
        let (authorize, token) = self.endpoints();
        let authorization = serde_json::to_string_pretty(&self.authorization(self.persona()))
            .expect("JSON")
            .replace('\n', "\n  ");
        let tenants = self.shared.persona.tenants();
        let tenants = match tenants.is_empty() {
            true => String::new(),
            false => format!("\n  tenants: {}", tenants.join(", ")),
        };
        let persona = match self.shared.persona.provider() {
            Some(p) => format!(
                "\nPersona: {} ({})\n  {}{tenants}\n",
                self.persona(),
                p.title,
                self.shared.persona.reproduces()
            ),
            None => String::new(),
        };
        format!(
            "Sandbox OAuth 2.0 server at {url}\n{persona}\n  \
             authorization URL  {authorize}\n  \
             token URL          {token}\n  \
             userinfo           {url}/userinfo\n  \
             client id          {CLIENT_ID}\n  \
             client secret      {CLIENT_SECRET}   (a fixed, public value: it opens only this sandbox)\n\n\
             An authorization for .unito.json:\n\n  {authorization}\n\n\
             Ctrl-C to stop."
        )
    }

    /// An authorization for `.unito.json` that uses this sandbox: for a persona, its
    /// provider's preset (scopes, parameters, settings) with the stand-in's URLs.
    pub fn authorization(&self, name: &str) -> Value {
        let (authorize, token) = self.endpoints();
        let mut oauth2 = json!({
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "authorizationUrl": authorize,
            "tokenUrl": token,
            "grantType": "authorization_code",
            "scopes": [
                {"name": "read", "description": "Read your sandbox items"},
                {"name": "profile", "description": "Who you are"}
            ]
        });
        if let Some(p) = self.shared.persona.provider() {
            oauth2["scopes"] = json!(
                p.scopes
                    .iter()
                    .map(|s| json!({"name": s}))
                    .collect::<Vec<_>>()
            );
            let extras = p.oauth2_settings(crate::providers::Login::StandIn);
            oauth2.as_object_mut().expect("an object").extend(extras);
        }
        let mut authorization = json!({
            "name": name,
            "method": "oauth2",
            "development": true,
        });
        if let Some(variables) = self
            .shared
            .persona
            .provider()
            .and_then(|p| p.variables_json())
        {
            authorization["variables"] = variables;
        }
        authorization["oauth2"] = oauth2;
        authorization
    }

    /// Values a test account needs for this stand-in's templates: its first tenant, under
    /// the name its provider's URLs use. Empty for a persona with no tenants.
    pub fn tenant_values(&self) -> Vec<(String, String)> {
        let persona = &self.shared.persona;
        match (persona.tenants().first(), persona.provider()) {
            (Some(tenant), Some(p)) => p
                .variables
                .first()
                .map(|v| vec![(v.name.to_string(), tenant.to_string())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
    }
}

/// docs/providers.md's personas table, from the personas' own words and their providers' links:
/// one source, checked by a test.
pub fn personas_table() -> String {
    let mut table =
        String::from("| persona | what it reproduces | documentation |\n| --- | --- | --- |\n");
    // The plain sandbox stands in for no provider: it has no row.
    for entry in PERSONA_LIST.iter() {
        let persona = entry.with(&[]).expect("no options").make();
        if let Some(p) = persona.provider() {
            let docs = format!("[{}]({})", p.title, p.docs);
            table += &format!("| `{}` | {} | {docs} |\n", entry.name, persona.reproduces());
        }
    }
    table
}

/// `http://127.0.0.1:9010` + `https://accounts.google.com/o/oauth2/v2/auth` →
/// `http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth`.
pub fn stand_in(base: &str, real: &str) -> String {
    let path = real.split_once("://").map_or(real, |(_, rest)| rest);
    format!("{base}/{path}")
}

/// The endpoints, at the persona's provider's paths (or the plain sandbox's), with consent,
/// userinfo and metadata beside them.
fn routes(shared: &Arc<Shared>, url: &str) -> Router {
    let persona = &shared.persona;
    let authorize = persona.provider().map_or("/authorize".to_string(), |p| {
        stand_in("", p.authorization_url)
    });
    let mut app = Router::new()
        .route(&route_of(&authorize), get(consent::authorize))
        .route("/authorize/decision", post(consent::decision))
        .route("/userinfo", get(token::userinfo));
    for path in persona.token_paths() {
        app = app.route(&route_of(&path), post(token::token));
    }
    for path in revocation_paths(persona.provider().map(|p| p.key)) {
        let route = route_of(&path);
        app = app.route(&route, post(revoke::revoke).delete(revoke::revoke));
        if path.ends_with("/oauth/v1/refresh-tokens") {
            app = app.route(&format!("{route}/{{token}}"), delete(revoke::revoke));
        }
    }
    if let Some((real, shape)) = persona.provider().and_then(|p| p.who_am_i()) {
        let who = Router::new()
            .route(&route_of(&stand_in("", real)), get(identity::who_am_i))
            .with_state((shared.clone(), shape));
        app = app.merge(who);
    }
    // The providers publish no RFC 8414 metadata at these endpoints' hosts (some publish
    // OpenID's elsewhere): only the plain sandbox serves it.
    if persona.provider().is_none() {
        let metadata = metadata(url, &authorize, "/token", REVOKE);
        app = app.route(
            "/.well-known/oauth-authorization-server",
            get(move || async move { json_response(200, metadata) }),
        );
    }
    app.with_state(shared.clone())
}

/// A stand-in path as a route: a templated segment (`{+subdomain}.zendesk.com`) becomes a
/// capture, which `tenant` reads.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.contains("{+") {
            true => "{tenant}",
            false => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The tenant a request's path names, for a per-tenant persona: `Some(Ok(name))` for one
/// the stand-in serves, `Some(Err(answer))` (the provider's own) for any other, `None` for
/// a persona that has none.
pub(crate) fn tenant(shared: &Shared, path: &str) -> Option<std::result::Result<String, Response>> {
    let persona = &shared.persona;
    if persona.tenants().is_empty() {
        return None;
    }
    let templated = stand_in("", persona.provider()?.authorization_url);
    let shape = templated
        .trim_start_matches('/')
        .split('/')
        .next()?
        .to_string();
    let (before, rest) = shape.split_once("{+")?;
    let after = rest.split_once('}')?.1;
    let segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let name = segment
        .strip_prefix(before)
        .and_then(|s| s.strip_suffix(after))
        .unwrap_or(segment);
    Some(match persona.tenants().contains(&name) {
        true => Ok(name.to_string()),
        false => Err(persona.unknown_tenant(name)),
    })
}

async fn only_our_host(
    axum::extract::State(hosts): axum::extract::State<Arc<[String]>>,
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

/// The plain sandbox's RFC 7009 endpoint.
const REVOKE: &str = "/revoke";

/// Where the persona's provider revokes (see `providers::SIGN_OUT`), or the plain
/// sandbox's RFC 7009 endpoint.
fn revocation_paths(provider: Option<&str>) -> Vec<String> {
    let Some(key) = provider else {
        return vec![REVOKE.to_string()];
    };
    crate::providers::SIGN_OUT
        .iter()
        .filter(|s| s.key == key)
        .filter_map(|s| s.revocation_url)
        .map(|u| stand_in("", u))
        .collect()
}

fn metadata(url: &str, authorize: &str, token: &str, revoke: &str) -> Value {
    json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}{authorize}"),
        "token_endpoint": format!("{url}{token}"),
        "revocation_endpoint": format!("{url}{revoke}"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": format!("{url}/userinfo"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": SCOPES,
    })
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

fn pairs(raw: &str) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}
