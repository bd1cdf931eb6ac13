//! Microsoft identity platform: a refresh token only for the `offline_access` scope; a new
//! refresh token on every refresh (the old one keeps working); `expires_in` and
//! `ext_expires_in` as numbers on the v2.0 endpoint and as strings on the v1 one; `AADSTS`
//! codes in `error_description`, with `error_codes`, `trace_id` and `correlation_id`.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation, TokenRequest, json_response, standard};
use super::super::store::{Asked, Store};

pub struct Microsoft;

/// The v1 token endpoint, served beside the v2.0 one.
pub const V1_TOKEN_PATH: &str = "/login.microsoftonline.com/common/oauth2/token";

impl Persona for Microsoft {
    fn name(&self) -> &'static str {
        "microsoft"
    }

    fn reproduces(&self) -> &'static str {
        "a refresh token only for `offline_access`; a new refresh token on each refresh, the old one still working; `expires_in` and `ext_expires_in` as numbers (v2.0) or strings (the v1 endpoint, `/common/oauth2/token`, a stand-in for string lifetimes: it needs no `resource` and sends no `expires_on`); `AADSTS` codes in `error_description`; client credentials"
    }

    fn token_paths(&self) -> Vec<String> {
        let v2 = super::super::stand_in("", self.provider().expect("in providers").token_url);
        vec![v2, V1_TOKEN_PATH.to_string()]
    }

    fn client_credentials(&self) -> bool {
        true
    }

    fn offline(&self, asked: &Asked, _: bool) -> bool {
        asked.has_scope("offline_access")
    }

    fn rotation(&self) -> Rotation {
        Rotation::Lenient
    }

    /// Its `id_token`s, from the sandbox's own tenant, for a login that asked for `openid`.
    fn id_token_issuer(&self, _: &str) -> Option<String> {
        Some("https://login.microsoftonline.com/00000000-0000-0000-0000-00000000000a/v2.0".into())
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("eyJ0eXAiOiJKV1Qi.", "0.AXoA")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        // offline_access is granted, not echoed; Graph scopes come back as URLs.
        let scope: Vec<String> = asked
            .scope()
            .split_whitespace()
            .filter(|s| *s != "offline_access")
            .map(|s| match s {
                "openid" | "profile" | "email" => s.to_string(),
                s if s.contains("://") => s.to_string(),
                s => format!("https://graph.microsoft.com/{s}"),
            })
            .collect();
        let mut fields = standard(issued, &scope.join(" "));
        if let Some(secs) = issued.expires_in {
            fields.insert("ext_expires_in".into(), json!(secs));
        }
        fields
    }

    fn respond(&self, mut fields: Map<String, Value>, req: &TokenRequest) -> Response {
        // The v1 endpoint writes its numbers as strings.
        if req.path == V1_TOKEN_PATH {
            for key in ["expires_in", "ext_expires_in"] {
                if let Some(v) = fields.get_mut(key) {
                    *v = json!(v.to_string());
                }
            }
        }
        json_response(200, Value::Object(fields))
    }

    fn error(&self, status: u16, error: &str, description: &str, _: &TokenRequest) -> Response {
        let (code, words) = match error {
            "invalid_client" => (7_000_215, "Invalid client secret provided."),
            "invalid_grant" => (
                70_000,
                "The provided value for the 'code' or 'refresh_token' parameter is not valid.",
            ),
            _ => (90_014, description),
        };
        json_response(
            status,
            json!({
                "error": error,
                "error_description": format!("AADSTS{code}: {words} ({description}) Trace ID: 00000000-sandbox Correlation ID: 00000000-sandbox Timestamp: 2026-01-01 00:00:00Z"),
                "error_codes": [code],
                "trace_id": "00000000-sandbox",
                "correlation_id": "00000000-sandbox",
            }),
        )
    }
}
