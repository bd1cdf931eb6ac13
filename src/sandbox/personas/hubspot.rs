//! HubSpot: 30-minute access tokens; a form body with the client id and secret in it (a JSON
//! body or HTTP Basic is refused); a refresh token that never changes; refusals in its own
//! shape (`status`, `message`, `correlationId`), not RFC 6749's.

use std::time::Duration;

use axum::response::Response;
use serde_json::json;

use serde_json::{Map, Value};

use super::super::persona::{
    BodyRule, ClientAuthRule, Issued, Persona, Rotation, TokenRequest, json_response, standard,
};
use super::super::store::{Asked, Store};

pub struct HubSpot;

impl Persona for HubSpot {
    fn name(&self) -> &'static str {
        "hubspot"
    }

    fn reproduces(&self) -> &'static str {
        "30-minute tokens; form bodies only, with the client id and secret in the body (a JSON body or HTTP Basic is refused); refusals as `{\"status\": \"BAD_CLIENT_ID\", \"message\": …}` (`BAD_AUTH_CODE`, `BAD_REFRESH_TOKEN`, `BAD_REDIRECT_URI`); no `scope` in answers; a refresh token that never changes"
    }

    fn pkce_required(&self) -> bool {
        false
    }

    fn client_auth(&self) -> ClientAuthRule {
        ClientAuthRule::BodyOnly
    }

    fn body(&self) -> BodyRule {
        BodyRule::Form
    }

    fn rotation(&self) -> Rotation {
        Rotation::Kept
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        Some(Duration::from_secs(30 * 60))
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("CJSP", "na1-")
    }

    /// No `scope`, and `bearer` in lower case, as HubSpot answers.
    fn answer(&self, issued: &Issued, _: &Asked, _: &mut Store) -> Map<String, Value> {
        let mut fields = standard(issued, "");
        fields.insert("token_type".into(), "bearer".into());
        fields
    }

    fn error(&self, status: u16, error: &str, description: &str, req: &TokenRequest) -> Response {
        let code = match error {
            "invalid_client" => "BAD_CLIENT_ID",
            "invalid_grant" if req.get("grant_type") == "refresh_token" => "BAD_REFRESH_TOKEN",
            "invalid_grant" if description.contains("redirect_uri") => "BAD_REDIRECT_URI",
            "invalid_grant" => "BAD_AUTH_CODE",
            "invalid_request" => "BAD_REQUEST",
            _ => "UNKNOWN",
        };
        json_response(
            status,
            json!({"status": code, "message": description, "correlationId": "00000000-sandbox"}),
        )
    }
}
