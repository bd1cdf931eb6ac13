//! A persona makes the sandbox behave at its authorization and token endpoints as one real
//! provider does, from that provider's public documentation: where it serves, what it
//! requires, how it wants the client to authenticate, what it answers and how it refuses.
//! The sandbox does the rest (consent, codes, PKCE, grants, rotation) for all of them. A
//! persona need not be built in: `Sandbox::start_custom` takes one of the caller's own.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::store::{Asked, Store};
use crate::providers::Provider;

/// A token request as the sandbox received it.
pub struct TokenRequest {
    pub fields: HashMap<String, String>,
    /// The body was JSON (else a form).
    pub json: bool,
    /// HTTP Basic credentials, decoded.
    pub basic: Option<(String, String)>,
    /// `Accept: application/json` was sent.
    pub accepts_json: bool,
    /// The path the request came to (Microsoft's v1 and v2 endpoints answer differently).
    pub path: String,
}

impl TokenRequest {
    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).map(String::as_str).unwrap_or("")
    }
}

/// Tokens the sandbox issued for one request, before the persona shapes the answer.
pub struct Issued {
    pub grant: u64,
    pub access: String,
    pub refresh: Option<String>,
    /// The lifetime the answer states (`None`: the provider states none).
    pub expires_in: Option<u64>,
    /// An answer to a refresh (else to a code exchange or client credentials).
    pub refreshed: bool,
    /// The refresh token presented was a user token's (Slack issues a bot's and a user's).
    pub user: bool,
}

/// How the client may authenticate at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthRule {
    /// HTTP Basic or the body, not both (RFC 6749 §2.3).
    Either,
    /// HTTP Basic only (Notion, X's confidential clients).
    BasicOnly,
    /// `client_id` and `client_secret` in the body only (HubSpot).
    BodyOnly,
    /// HTTP Basic, and the same `client_id` in the body beside it, never the secret: what
    /// a client sending both (`ClientAuth::Both`) is for.
    BasicWithId,
}

/// Which bodies the token endpoint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRule {
    Form,
    Json,
    Either,
}

/// What a refresh does to the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// A new one each time; presenting a spent one revokes the grant (RFC 9700 §4.14).
    Revoking,
    /// A new one each time; the old one still works (Microsoft).
    Lenient,
    /// The same one, for ever (HubSpot, Google, Dropbox, Salesforce).
    Kept,
}

/// The refusal a persona sends back to the browser at the authorization endpoint.
pub struct Refusal {
    pub error: &'static str,
    pub description: String,
}

pub trait Persona: Send + Sync {
    /// The name `--persona` takes, which is also its provider's key in `providers`.
    fn name(&self) -> &'static str;

    /// What it reproduces, in a line, for docs/providers.md's table.
    fn reproduces(&self) -> &'static str;

    /// Its provider's endpoints and preset (`None` for the plain sandbox).
    fn provider(&self) -> Option<&'static Provider> {
        crate::providers::find(self.name())
    }

    /// For a provider at an address of each customer's own: the tenants the stand-in
    /// serves, under the name its provider's URL templates take (`acme` for
    /// `{+subdomain}.zendesk.com`). Empty for the rest.
    fn tenants(&self) -> &'static [&'static str] {
        &[]
    }

    /// What the provider answers for a tenant it does not know.
    fn unknown_tenant(&self, tenant: &str) -> Response {
        let _ = tenant;
        (StatusCode::NOT_FOUND, "no such tenant").into_response()
    }

    /// What an authorization request must carry beyond the sandbox's own checks.
    fn authorize(&self, asked: &Asked) -> Result<(), Refusal> {
        let _ = asked;
        Ok(())
    }

    /// The scopes it knows: any other is refused at the authorization endpoint and for
    /// client credentials. `None` takes any (a provider's stand-in: the scopes are the
    /// provider's to judge).
    fn scopes(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Whether `uri` is a redirect URI the client registered: by default any `http`
    /// loopback address with a port (RFC 8252 §7.3), as a native app registers. Any other
    /// is refused with a page, never redirected to.
    fn redirect_registered(&self, uri: &str) -> bool {
        url::Url::parse(uri).is_ok_and(|u| {
            u.scheme() == "http"
                && u.host_str()
                    .is_some_and(|h| crate::loopback::LoopbackHost::from_name(h).is_some())
                && u.port().is_some()
        })
    }

    /// Whether PKCE is required (else checked when sent): most providers take it and few
    /// insist on it.
    fn pkce_required(&self) -> bool {
        false
    }

    /// Where its token endpoint is served: its provider's path (Microsoft adds v1's).
    fn token_paths(&self) -> Vec<String> {
        self.provider().map_or(vec!["/token".to_string()], |p| {
            vec![super::stand_in("", p.token_url)]
        })
    }

    /// Whether it grants client credentials (few of these providers do, at this endpoint).
    fn client_credentials(&self) -> bool {
        false
    }

    /// Whether a refresh ends the access tokens issued before it (GitHub's).
    fn refresh_revokes_access(&self) -> bool {
        false
    }

    /// Whether the code a login gets is worth a refresh token. `again`: the user consented
    /// to this client before.
    fn offline(&self, asked: &Asked, again: bool) -> bool {
        let _ = (asked, again);
        true
    }

    /// The `iss` of the `id_token` it issues to a login that asked for `openid`, when it
    /// issues one: by default the plain sandbox's and a caller's own persona's, at the
    /// sandbox's address (`sandbox`); a provider's stand-in, as its provider does.
    fn id_token_issuer(&self, sandbox: &str) -> Option<String> {
        self.provider().is_none().then(|| sandbox.to_string())
    }

    fn client_auth(&self) -> ClientAuthRule {
        ClientAuthRule::Either
    }

    fn body(&self) -> BodyRule {
        BodyRule::Either
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    /// The lifetime its answers state, from the sandbox's default; `None` states none.
    fn lifetime(&self, default: Duration) -> Option<Duration> {
        Some(default)
    }

    /// Prefixes the provider's tokens carry, for a realistic look: (access, refresh), for a
    /// login that asked `asked`, and for a user's token (`user`) where the provider issues
    /// two kinds.
    fn prefixes(&self, asked: &Asked, user: bool) -> (&'static str, &'static str) {
        let _ = (asked, user);
        ("", "")
    }

    /// The answer's fields for tokens issued. `store` mints any further token an answer
    /// carries (Slack's user token beside its bot token).
    fn answer(&self, issued: &Issued, asked: &Asked, store: &mut Store) -> Map<String, Value> {
        let _ = store;
        standard(issued, asked.scope())
    }

    /// The answer as sent: JSON, unless the provider answers otherwise.
    fn respond(&self, fields: Map<String, Value>, req: &TokenRequest) -> Response {
        let _ = req;
        json_response(200, Value::Object(fields))
    }

    /// A refusal at the token endpoint, as the provider writes one (RFC 6749 §5.2 by default).
    fn error(&self, status: u16, error: &str, description: &str, req: &TokenRequest) -> Response {
        let _ = req;
        json_response(
            status,
            json!({"error": error, "error_description": description}),
        )
    }
}

/// The fields of a standard answer (RFC 6749 §5.1).
pub fn standard(issued: &Issued, scope: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("access_token".into(), json!(issued.access));
    fields.insert("token_type".into(), json!("Bearer"));
    if let Some(secs) = issued.expires_in {
        fields.insert("expires_in".into(), json!(secs));
    }
    if !scope.is_empty() {
        fields.insert("scope".into(), json!(scope));
    }
    if let Some(refresh) = &issued.refresh {
        fields.insert("refresh_token".into(), json!(refresh));
    }
    fields
}

pub fn json_response(status: u16, body: Value) -> Response {
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

/// A form-encoded answer (GitHub's default).
pub fn form_response(status: u16, fields: &Map<String, Value>) -> Response {
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
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        body,
    )
        .into_response()
}
