//! X (Twitter) OAuth 2.0: PKCE required; a confidential client authenticates with HTTP
//! Basic only; a refresh token only for the `offline.access` scope; refresh tokens rotate
//! (reuse revokes); 2-hour access tokens.

use std::time::Duration;

use axum::response::Response;
use serde_json::json;

use super::super::persona::{ClientAuthRule, Persona, Rotation, TokenRequest, json_response};
use super::super::store::Asked;

pub struct X;

impl Persona for X {
    fn name(&self) -> &'static str {
        "x"
    }

    fn reproduces(&self) -> &'static str {
        "PKCE required; a confidential client authenticates with HTTP Basic only (`unauthorized_client` otherwise); `offline.access` for a refresh token; rotating refresh tokens, reuse revoking; 2-hour tokens"
    }

    fn pkce_required(&self) -> bool {
        true
    }

    fn offline(&self, asked: &Asked, _: bool) -> bool {
        asked.has_scope("offline.access")
    }

    fn client_auth(&self) -> ClientAuthRule {
        ClientAuthRule::BasicOnly
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        Some(Duration::from_secs(2 * 3600))
    }

    fn error(&self, status: u16, error: &str, description: &str, _: &TokenRequest) -> Response {
        let (error, description) = match error {
            "invalid_client" => ("unauthorized_client", "Missing valid authorization header"),
            other => (other, description),
        };
        json_response(
            status,
            json!({"error": error, "error_description": description}),
        )
    }
}
