//! Slack's oauth.v2.access: failures as an HTTP 200 `{"ok": false, "error": …}`; a bot token
//! at the top level (`token_type: bot`); for a login that asked only for `user_scope`, no
//! top-level token, and the user token under `authed_user`; no expiry unless token rotation
//! is on, then `expires_in` and a `refresh_token`.

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation, TokenRequest, json_response};
use super::super::store::{Asked, Store};

pub struct Slack {
    /// `--persona-option rotation`: the app has token rotation turned on.
    pub rotation: bool,
}

impl Persona for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn reproduces(&self) -> &'static str {
        "oauth.v2.access: failures as HTTP 200 {\"ok\": false}; a bot token (token_type bot) at the top; with only user_scope, the user token under authed_user; with `rotation`, expires_in and refresh_token"
    }

    fn pkce_required(&self) -> bool {
        false
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

    fn prefixes(&self) -> (&'static str, &'static str) {
        ("xoxb-", "xoxe-1-")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, store: &mut Store) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("ok".into(), json!(true));
        fields.insert("app_id".into(), json!("A0SANDBOX"));
        let token = |access: &str, kind: &str, scope: &str| {
            let mut t = Map::new();
            t.insert("access_token".into(), json!(access));
            t.insert("token_type".into(), json!(kind));
            t.insert("scope".into(), json!(scope));
            if let (Some(refresh), Some(secs)) = (&issued.refresh, issued.expires_in) {
                t.insert("refresh_token".into(), json!(refresh));
                t.insert("expires_in".into(), json!(secs));
            }
            t
        };
        let (bot_scope, user_scope) = (asked.scope(), asked.get("user_scope"));
        // A login with only user scopes holds a user token, which Slack prefixes xoxp-.
        let access = if bot_scope.is_empty() {
            store.rename_access(&issued.access, "xoxp-")
        } else {
            issued.access.clone()
        };
        let mut authed_user = Map::new();
        authed_user.insert("id".into(), json!("U0SANDBOX"));
        if issued.refreshed || !bot_scope.is_empty() {
            // A refresh answers the token it refreshed at the top level.
            let kind = if bot_scope.is_empty() { "user" } else { "bot" };
            let scope = if bot_scope.is_empty() {
                user_scope
            } else {
                bot_scope
            };
            fields.extend(token(&access, kind, scope));
            if !issued.refreshed {
                fields.insert("bot_user_id".into(), json!("U0SANDBOXBOT"));
            }
            if !issued.refreshed && !user_scope.is_empty() {
                let user = store.mint_access(issued.grant, "xoxp-");
                authed_user.extend(token(&user, "user", user_scope));
                authed_user.remove("refresh_token");
            }
        } else {
            authed_user.extend(token(&access, "user", user_scope));
        }
        fields.insert("authed_user".into(), Value::Object(authed_user));
        fields.insert("team".into(), json!({"id": "T0SANDBOX", "name": "Sandbox"}));
        fields.insert("enterprise".into(), Value::Null);
        fields.insert("is_enterprise_install".into(), json!(false));
        fields
    }

    fn error(&self, _: u16, error: &str, _: &str, _: &TokenRequest) -> Response {
        let error = match error {
            "invalid_client" => "bad_client_secret",
            "invalid_grant" => "invalid_code",
            other => other,
        };
        json_response(200, json!({"ok": false, "error": error}))
    }
}
