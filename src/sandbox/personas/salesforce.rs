//! Salesforce's web server flow: no `expires_in`; `instance_url`, `id`, `issued_at`
//! (milliseconds, as a string) and `signature`; a refresh token only for the `refresh_token`
//! (or `offline_access`) scope, never a new one on refresh; access tokens with a `!`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation};
use super::super::store::{Asked, Store};

pub struct Salesforce;

impl Persona for Salesforce {
    fn name(&self) -> &'static str {
        "salesforce"
    }

    fn reproduces(&self) -> &'static str {
        "no `expires_in`; `instance_url`, `id`, `issued_at` (milliseconds, as a string) and `signature`; a refresh token only for the `refresh_token` (or `offline_access`) scope; a refresh answer without a new `refresh_token`; client credentials"
    }

    fn client_credentials(&self) -> bool {
        true
    }

    fn offline(&self, asked: &Asked, _: bool) -> bool {
        asked.has_scope("refresh_token") || asked.has_scope("offline_access")
    }

    fn rotation(&self) -> Rotation {
        Rotation::Kept
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        None
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("00DSANDBOX000000!AQ", "5Aep861")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        let issued_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut fields = Map::new();
        fields.insert("access_token".into(), json!(issued.access));
        if let (Some(refresh), false) = (&issued.refresh, issued.refreshed) {
            fields.insert("refresh_token".into(), json!(refresh));
        }
        fields.insert("signature".into(), json!("c2FuZGJveC1zaWduYXR1cmU="));
        fields.insert("scope".into(), json!(asked.scope()));
        fields.insert(
            "instance_url".into(),
            json!("https://sandbox-dev-ed.my.salesforce.com"),
        );
        fields.insert(
            "id".into(),
            json!("https://login.salesforce.com/id/00DSANDBOX000000/005SANDBOX000000"),
        );
        fields.insert("token_type".into(), json!("Bearer"));
        fields.insert("issued_at".into(), json!(issued_at.to_string()));
        fields
    }
}
