//! GitHub (OAuth apps, and GitHub Apps with expiring user tokens): form-encoded answers
//! unless `Accept: application/json`; errors in an HTTP 200 with an `error` field; scopes
//! joined by commas; no expiry and no refresh token, unless expiring user tokens are on:
//! then 8-hour tokens with a `refresh_token` and `refresh_token_expires_in`.

use std::time::Duration;

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::persona::{
    Issued, Persona, Rotation, TokenRequest, form_response, json_response,
};
use super::super::store::{Asked, Store};

pub struct GitHub {
    /// `--persona-option expiring`: a GitHub App with "expire user authorization tokens".
    pub expiring: bool,
}

impl Persona for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn reproduces(&self) -> &'static str {
        "form-encoded token answers unless `Accept: application/json`; errors in an HTTP 200 with an `error` field (`incorrect_client_credentials`, `bad_verification_code`, `bad_refresh_token`); scopes joined by commas; no expiry and no refresh token, or with `--persona-option expiring` (a GitHub App) 8 h `ghu_` tokens with a rotating `refresh_token` and `refresh_token_expires_in`, a refresh ending the old access token"
    }

    fn pkce_required(&self) -> bool {
        false
    }

    fn offline(&self, _: &Asked, _: bool) -> bool {
        self.expiring
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    fn refresh_revokes_access(&self) -> bool {
        true
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        self.expiring.then(|| Duration::from_secs(8 * 3600))
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        if self.expiring {
            ("ghu_", "ghr_")
        } else {
            ("gho_", "")
        }
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("access_token".into(), json!(issued.access));
        fields.insert("token_type".into(), json!("bearer"));
        // GitHub joins the scopes it granted with commas.
        let scope: Vec<&str> = asked.scope().split_whitespace().collect();
        fields.insert("scope".into(), json!(scope.join(",")));
        if let (Some(refresh), Some(secs)) = (&issued.refresh, issued.expires_in) {
            fields.insert("expires_in".into(), json!(secs));
            fields.insert("refresh_token".into(), json!(refresh));
            fields.insert("refresh_token_expires_in".into(), json!(15_897_600));
        }
        fields
    }

    fn respond(&self, fields: Map<String, Value>, req: &TokenRequest) -> Response {
        if req.accepts_json {
            json_response(200, Value::Object(fields))
        } else {
            form_response(200, &fields)
        }
    }

    /// GitHub answers its refusals with a 200, and its own error names.
    fn error(&self, _: u16, error: &str, description: &str, req: &TokenRequest) -> Response {
        let error = match error {
            "invalid_client" => "incorrect_client_credentials",
            "invalid_grant" if req.get("grant_type") == "refresh_token" => "bad_refresh_token",
            "invalid_grant" if description.contains("redirect_uri") => "redirect_uri_mismatch",
            "invalid_grant" => "bad_verification_code",
            other => other,
        };
        let mut fields = Map::new();
        fields.insert("error".into(), json!(error));
        fields.insert("error_description".into(), json!(description));
        self.respond(fields, req)
    }
}
