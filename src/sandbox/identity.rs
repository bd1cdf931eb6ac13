//! Who the sandbox's users are, as providers say it: an `id_token` for a login that asked
//! for `openid` (from a persona with an issuer), and each provider's "who am I" endpoint at
//! its stand-in's path (`providers::Provider::who_am_i`), answering for the user who logged
//! in for the token presented. Each login is another user (see `Store::next_user`).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::store::{Asked, User};
use super::{CLIENT_ID, CLIENT_SECRET, Shared};
use crate::identity::Shape;

/// An `id_token` for `user`, signed with the client's secret (HS256, OpenID Connect Core
/// §10.1), from `issuer`, for the sandbox's client.
pub fn id_token(issuer: &str, user: &User, asked: &Asked) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut claims = json!({
        "iss": issuer,
        "sub": user.login,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 3600,
        "email": user.email,
        "email_verified": true,
        "name": user.name,
    });
    if !asked.get("nonce").is_empty() {
        claims["nonce"] = json!(asked.get("nonce"));
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
    )
    .expect("HS256 signs any claims")
}

/// The user the bearer token in `headers` was issued to, while it is valid, with the scope
/// its login asked for.
fn bearer_user(shared: &Shared, headers: &HeaderMap) -> Option<(User, String)> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let store = shared.store();
    let (grant, expiry) = store.access.get(token)?;
    if expiry.is_some_and(|at| at <= Instant::now()) {
        return None;
    }
    let scope = store
        .grants
        .get(grant)
        .map_or("", |a| a.scope())
        .to_string();
    Some((store.user(*grant), scope))
}

/// A stable number for a user, as GitHub's ids are.
fn number(user: &User) -> u64 {
    user.login.bytes().fold(1_000_003u64, |n, b| {
        n.wrapping_mul(31).wrapping_add(b.into())
    }) % 100_000_000
}

/// `user`, as an endpoint of `shape` writes them.
pub fn described(shape: Shape, user: &User, scope: &str) -> Value {
    match shape {
        Shape::Userinfo => json!({
            "sub": user.login, "name": user.name, "email": user.email, "scope": scope,
        }),
        Shape::GitHubUser => json!({
            "login": user.login, "id": number(user), "name": user.name, "email": user.email,
        }),
        Shape::SlackAuthTest => json!({
            "ok": true, "url": "https://sandbox.slack.com/", "team": "Sandbox",
            "user": user.login, "team_id": "T0SANDBOX",
            "user_id": format!("U0{}", user.login.to_ascii_uppercase()),
        }),
        Shape::GraphMe => json!({
            "id": format!("00000000-0000-0000-0000-{:012}", number(user)),
            "displayName": user.name, "mail": user.email, "userPrincipalName": user.email,
        }),
        Shape::AtlassianMe => json!({
            "account_id": format!("5b10a2844c20165700ede{}", number(user)),
            "email": user.email, "name": user.name,
        }),
    }
}

/// A provider's "who am I" endpoint (and the plain sandbox's userinfo).
pub async fn who_am_i(
    State((shared, shape)): State<(Arc<Shared>, Shape)>,
    headers: HeaderMap,
) -> Response {
    match bearer_user(&shared, &headers) {
        Some((user, scope)) => super::json_response(200, described(shape, &user, &scope)),
        // Slack's Web API refuses with a 200, as its token endpoint does.
        None if shape == Shape::SlackAuthTest => {
            super::json_response(200, json!({"ok": false, "error": "invalid_auth"}))
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "",
        )
            .into_response(),
    }
}
