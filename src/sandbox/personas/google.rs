//! Google: a refresh token only with `access_type=offline`, and on a later consent only
//! with `prompt=consent` too; an `id_token` for `openid`; scopes answered as URLs; refresh
//! answers without a new refresh token; `invalid_grant` "Token has been expired or revoked."

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation, TokenRequest, json_response, standard};
use super::super::store::{Asked, Store};

pub struct Google;

/// Google answers the short scope names with the URLs they stand for.
fn as_url(scope: &str) -> String {
    match scope {
        "openid" => "openid".into(),
        "email" | "profile" => format!("https://www.googleapis.com/auth/userinfo.{scope}"),
        s if s.starts_with("https://") => s.into(),
        s => format!("https://www.googleapis.com/auth/{s}"),
    }
}

impl Persona for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn reproduces(&self) -> &'static str {
        "a refresh token only with `access_type=offline`, and once the user has consented only with `prompt=consent` too; an `id_token` for `openid`; scopes answered as URLs; refresh answers without a new refresh token; a dead refresh token refused with `invalid_grant` \"Token has been expired or revoked.\""
    }

    fn offline(&self, asked: &Asked, again: bool) -> bool {
        asked.get("access_type") == "offline" && (!again || asked.get("prompt") == "consent")
    }

    fn rotation(&self) -> Rotation {
        Rotation::Kept
    }

    fn lifetime(&self, default: Duration) -> Option<Duration> {
        Some(default.saturating_sub(Duration::from_secs(1)))
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("ya29.", "1//")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        let scope: Vec<String> = asked.scope().split_whitespace().map(as_url).collect();
        let mut fields = standard(issued, &scope.join(" "));
        if issued.refreshed {
            fields.remove("refresh_token");
        }
        fields
    }

    /// Its `id_token`s, for a login that asked for `openid`.
    fn id_token_issuer(&self, _: &str) -> Option<String> {
        Some("https://accounts.google.com".into())
    }

    fn error(&self, status: u16, error: &str, description: &str, req: &TokenRequest) -> Response {
        let (error, description) = match error {
            "invalid_grant" if req.get("grant_type") == "refresh_token" => {
                (error, "Token has been expired or revoked.")
            }
            "invalid_grant" if description.contains("redirect_uri") => {
                ("redirect_uri_mismatch", "Bad Request")
            }
            "invalid_grant" => (error, "Bad Request"),
            _ => (error, description),
        };
        json_response(
            status,
            json!({"error": error, "error_description": description}),
        )
    }
}
