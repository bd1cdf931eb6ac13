//! Zendesk: an address of each customer's own (`{subdomain}.zendesk.com`), so the stand-in
//! is reached only under a subdomain it knows; any other gets what Zendesk sends for an
//! account that does not exist, a redirect to its help-center-closed page. A JSON token
//! request with the client's id and secret in it; refresh tokens with every grant, rotated
//! on each refresh; a grant's tokens good only at the subdomain that issued them.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::persona::{BodyRule, ClientAuthRule, Persona, Rotation};

/// The subdomains the stand-in serves.
pub const TENANTS: [&str; 2] = ["acme", "globex"];

pub struct Zendesk;

impl Persona for Zendesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }

    fn reproduces(&self) -> &'static str {
        "a customer's own subdomain (the stand-in knows `acme` and `globex`, at `/{subdomain}.zendesk.com/…`); any other answered with a 301 to Zendesk's help-center-closed page, as Zendesk answers an account that does not exist; a JSON token body with the client's id and secret in it; 30-minute tokens; a refresh token with every grant, rotated on each refresh; a grant's tokens refused at another subdomain"
    }

    fn tenants(&self) -> &'static [&'static str] {
        &TENANTS
    }

    fn unknown_tenant(&self, tenant: &str) -> Response {
        let closed = format!(
            "https://www.zendesk.com/app/help-center-closed/?domain={}",
            url::form_urlencoded::byte_serialize(format!("{tenant}.zendesk.com").as_bytes())
                .collect::<String>()
        );
        (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, closed)],
            "",
        )
            .into_response()
    }

    fn client_auth(&self) -> ClientAuthRule {
        ClientAuthRule::BodyOnly
    }

    fn body(&self) -> BodyRule {
        BodyRule::Json
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }

    fn client_credentials(&self) -> bool {
        true
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        Some(Duration::from_secs(30 * 60))
    }
}
