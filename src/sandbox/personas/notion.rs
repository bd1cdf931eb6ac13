//! Notion's public connections: HTTP Basic and a JSON body only (a form body is refused);
//! `workspace_id`, `workspace_name`, `bot_id`, `owner` in the answer; a refresh token, with a
//! new one on each refresh, and no expiry; with `legacy`, as older integrations were: neither
//! an expiry nor a refresh token.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::super::persona::{BodyRule, ClientAuthRule, Issued, Persona, Rotation};
use super::super::store::{Asked, Store};

pub struct Notion {
    /// `--persona-option legacy`: an integration from before Notion issued refresh tokens.
    pub legacy: bool,
}

impl Persona for Notion {
    fn name(&self) -> &'static str {
        "notion"
    }

    fn reproduces(&self) -> &'static str {
        "HTTP Basic and a JSON body only (a form body is refused); `workspace_id`, `workspace_name`, `bot_id`, `owner`; a rotating refresh token and no expiry, or with `--persona-option legacy` (an older integration) neither, which the CLI keeps as is on the next run"
    }

    fn pkce_required(&self) -> bool {
        false
    }

    fn offline(&self, _: &Asked, _: bool) -> bool {
        !self.legacy
    }

    fn client_auth(&self) -> ClientAuthRule {
        ClientAuthRule::BasicOnly
    }

    fn body(&self) -> BodyRule {
        BodyRule::Json
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        None
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("ntn_", "nrt_")
    }

    fn answer(&self, issued: &Issued, _: &Asked, _: &mut Store) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("access_token".into(), json!(issued.access));
        fields.insert("token_type".into(), json!("bearer"));
        if let Some(refresh) = &issued.refresh {
            fields.insert("refresh_token".into(), json!(refresh));
        }
        fields.insert(
            "bot_id".into(),
            json!("00000000-0000-4000-8000-0000000000b0"),
        );
        fields.insert("workspace_name".into(), json!("Sandbox workspace"));
        fields.insert("workspace_icon".into(), Value::Null);
        fields.insert(
            "workspace_id".into(),
            json!("00000000-0000-4000-8000-000000000001"),
        );
        fields.insert(
            "owner".into(),
            json!({"type": "user", "user": {"object": "user", "id": "00000000-0000-4000-8000-0000000000a1"}}),
        );
        fields.insert("duplicated_template_id".into(), Value::Null);
        fields.insert("request_id".into(), json!("00000000-sandbox"));
        fields
    }
}
