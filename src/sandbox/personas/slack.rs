//! Slack's oauth.v2.access: failures as an HTTP 200 `{"ok": false, "error": …}`; a bot token
//! at the top level (`token_type: bot`); for a login that asked only for `user_scope`, no
//! top-level token, and the user token under `authed_user`; scopes joined by commas; no
//! expiry unless token rotation is on, then `expires_in` and a `refresh_token` for each
//! token, a refresh answering the token it refreshed at the top level.

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation, TokenRequest, json_response};
use super::super::store::{Asked, Store};

pub struct Slack {
    /// `--persona-option rotation`: the app has token rotation turned on.
    pub rotation: bool,
}

/// One token object as Slack writes it.
fn token(
    access: &str,
    kind: &str,
    scope: &str,
    refresh: Option<&str>,
    expires_in: Option<u64>,
) -> Map<String, Value> {
    let mut t = Map::new();
    t.insert("access_token".into(), json!(access));
    t.insert("token_type".into(), json!(kind));
    t.insert("scope".into(), json!(commas(scope)));
    if let (Some(refresh), Some(secs)) = (refresh, expires_in) {
        t.insert("refresh_token".into(), json!(refresh));
        t.insert("expires_in".into(), json!(secs));
    }
    t
}

/// The token the store issued, as Slack writes it.
fn issued_token(issued: &Issued, kind: &str, scope: &str) -> Map<String, Value> {
    token(
        &issued.access,
        kind,
        scope,
        issued.refresh.as_deref(),
        issued.expires_in,
    )
}

/// The user token of an install that asked for both scopes: minted beside the bot token
/// the store issued, with its own refresh token when the bot's has one.
fn user_token_beside_bot(
    issued: &Issued,
    user_scope: &str,
    store: &mut Store,
) -> Map<String, Value> {
    let lifetime = issued.expires_in.map(Duration::from_secs);
    let access = store.mint_access(issued.grant, "xoxp-", lifetime);
    let user_refresh = issued.refresh.as_ref().map(|_| {
        let r = store.mint_refresh(issued.grant, "xoxe-1-");
        store.user_refresh.insert(r.clone());
        r
    });
    token(
        &access,
        "user",
        user_scope,
        user_refresh.as_deref(),
        issued.expires_in,
    )
}

/// Slack lists scopes with commas, whichever way they were asked for.
fn commas(scope: &str) -> String {
    scope
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

impl Persona for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn reproduces(&self) -> &'static str {
        "`oauth.v2.access`: failures as HTTP 200 `{\"ok\": false, \"error\": …}` (`bad_client_secret`, `invalid_code`, `invalid_refresh_token`); a bot token at the top level (`token_type: bot`); with only `user_scope`, no top-level token and the user token (`xoxp-`) under `authed_user`; scopes joined by commas; no expiry, or with `--persona-option rotation` 12 h tokens, each with a rotating refresh token"
    }

    fn offline(&self, _: &Asked, _: bool) -> bool {
        self.rotation
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        self.rotation.then(|| Duration::from_secs(12 * 3600))
    }

    fn prefixes(&self, asked: &Asked, user: bool) -> (&'static str, &'static str) {
        if user || asked.scope().is_empty() {
            ("xoxp-", "xoxe-1-")
        } else {
            ("xoxb-", "xoxe-1-")
        }
    }

    fn answer(&self, issued: &Issued, asked: &Asked, store: &mut Store) -> Map<String, Value> {
        let (bot_scope, user_scope) = (asked.scope(), asked.get("user_scope"));
        let mut fields = Map::new();
        fields.insert("ok".into(), json!(true));
        fields.insert("app_id".into(), json!("A0SANDBOX"));
        let mut authed_user = Map::new();
        authed_user.insert("id".into(), json!("U0SANDBOX"));
        if issued.refreshed {
            // A refresh answers the token it refreshed, at the top level.
            let (kind, scope) = if issued.user {
                ("user", user_scope)
            } else {
                ("bot", bot_scope)
            };
            fields.extend(issued_token(issued, kind, scope));
        } else if bot_scope.is_empty() {
            if let Some(r) = &issued.refresh {
                store.user_refresh.insert(r.clone());
            }
            authed_user.extend(issued_token(issued, "user", user_scope));
        } else {
            fields.extend(issued_token(issued, "bot", bot_scope));
            fields.insert("bot_user_id".into(), json!("U0SANDBOXBOT"));
            if !user_scope.is_empty() {
                authed_user.extend(user_token_beside_bot(issued, user_scope, store));
            }
        }
        fields.insert("authed_user".into(), Value::Object(authed_user));
        fields.insert("team".into(), json!({"id": "T0SANDBOX", "name": "Sandbox"}));
        fields.insert("enterprise".into(), Value::Null);
        fields.insert("is_enterprise_install".into(), json!(false));
        fields
    }

    fn error(&self, _: u16, error: &str, _: &str, req: &TokenRequest) -> Response {
        let error = match error {
            "invalid_client" => "bad_client_secret",
            "invalid_grant" if req.get("grant_type") == "refresh_token" => "invalid_refresh_token",
            "invalid_grant" => "invalid_code",
            other => other,
        };
        json_response(200, json!({"ok": false, "error": error}))
    }
}
