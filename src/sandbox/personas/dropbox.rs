//! Dropbox: a refresh token only with `token_access_type=offline`; short-lived (4-hour)
//! access tokens; `account_id` and `uid` in the answer; a refresh answer without a new
//! refresh token.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::super::persona::{Issued, Persona, Rotation, standard};
use super::super::store::{Asked, Store};

pub struct Dropbox;

impl Persona for Dropbox {
    fn name(&self) -> &'static str {
        "dropbox"
    }

    fn reproduces(&self) -> &'static str {
        "a refresh token only with `token_access_type=offline`; 4-hour tokens; `account_id`, `uid`; refresh answers with only `access_token`, `token_type` and `expires_in`"
    }

    fn offline(&self, asked: &Asked, _: bool) -> bool {
        asked.get("token_access_type") == "offline"
    }

    fn rotation(&self) -> Rotation {
        Rotation::Kept
    }

    fn lifetime(&self, _: Duration) -> Option<Duration> {
        Some(Duration::from_secs(4 * 3600))
    }

    fn prefixes(&self, _: &Asked, _: bool) -> (&'static str, &'static str) {
        ("sl.", "")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        let mut fields = standard(issued, asked.scope());
        fields.insert("token_type".into(), json!("bearer"));
        if issued.refreshed {
            // A refresh answers the access token and its lifetime, nothing more.
            fields.remove("refresh_token");
            fields.remove("scope");
            return fields;
        }
        fields.insert("account_id".into(), json!("dbid:AAsandboxaccount"));
        fields.insert("uid".into(), json!("12345678"));
        fields
    }
}
