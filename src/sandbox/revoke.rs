//! The revocation endpoint: RFC 7009 for the plain sandbox and the providers that follow it
//! (Google), and the providers' own shapes at their paths (GitHub's grant DELETE, Slack's
//! `auth.revoke`, Dropbox's token revoke, HubSpot's refresh-token DELETE). A revoked token's
//! whole grant ends, so userinfo and a refresh refuse its tokens afterwards.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::persona::json_response;
use super::store::Store;
use super::token::{client_ok, read};
use crate::revoke::Style;

pub async fn revoke(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_string();
    let req = read(&path, &headers, &body);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let mut store = shared.store();
    store.stats.revocations += 1;
    if let Some(token) = path.split("/oauth/v1/refresh-tokens/").nth(1) {
        return hubspot(&mut store, &method, token);
    }
    match Style::of(&format!("http://sandbox{path}")) {
        Style::GitHub => {
            let rule = shared.persona.client_auth();
            if method != Method::DELETE || client_ok(&shared, rule, &req, &mut store).is_err() {
                return json_response(401, json!({"message": "Requires authentication"}));
            }
            match end_grant(&mut store, req.get("access_token")) {
                true => StatusCode::NO_CONTENT.into_response(),
                false => json_response(404, json!({"message": "Not Found"})),
            }
        }
        Style::Slack => match end_grant(&mut store, &bearer) {
            true => json_response(200, json!({"ok": true, "revoked": true})),
            false => json_response(200, json!({"ok": false, "error": "invalid_auth"})),
        },
        Style::Dropbox => match end_grant(&mut store, &bearer) {
            true => json_response(200, json!(null)),
            false => json_response(
                401,
                json!({"error_summary": "invalid_access_token/",
                       "error": {".tag": "invalid_access_token"}}),
            ),
        },
        Style::HubSpot | Style::Rfc7009 => {
            let rule = shared.persona.client_auth();
            if let Err(why) = client_ok(&shared, rule, &req, &mut store) {
                let refusal = json!({"error": "invalid_client", "error_description": why});
                return json_response(401, refusal);
            }
            rfc7009(&mut store, req.get("token"))
        }
    }
}

/// RFC 7009 §2.2: 200 whether or not the token was known; a refresh token ends its grant,
/// an access token only itself.
fn rfc7009(store: &mut Store, token: &str) -> Response {
    if token.is_empty() {
        let refusal = json!({"error": "invalid_request", "error_description": "token is missing"});
        return json_response(400, refusal);
    }
    if let Some(grant) = store.refresh.get(token).copied() {
        store.revoke(grant);
        store.stats.revoked += 1;
    } else if store.access.remove(token).is_some() {
        store.stats.revoked += 1;
    }
    StatusCode::OK.into_response()
}

fn hubspot(store: &mut Store, method: &Method, token: &str) -> Response {
    let grant = store.refresh.get(token).copied();
    match (method == Method::DELETE, grant) {
        (true, Some(grant)) => {
            store.revoke(grant);
            store.stats.revoked += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => json_response(404, json!({"status": "error", "message": "not found"})),
    }
}

/// Ends the grant `token` (an access or a refresh token) belongs to; false when unknown.
fn end_grant(store: &mut Store, token: &str) -> bool {
    let grant = (store.access.get(token).map(|(g, _)| *g)).or(store.refresh.get(token).copied());
    match grant {
        Some(grant) => {
            store.revoke(grant);
            store.stats.revoked += 1;
            true
        }
        None => false,
    }
}
