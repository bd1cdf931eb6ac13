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
        "token_access_type=offline needed for a refresh token; short-lived (4 h) tokens; account_id, uid"
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

    fn prefixes(&self) -> (&'static str, &'static str) {
        ("sl.", "")
    }

    fn answer(&self, issued: &Issued, asked: &Asked, _: &mut Store) -> Map<String, Value> {
        let mut fields = standard(issued, asked.scope());
        fields.insert("token_type".into(), json!("bearer"));
        if issued.refreshed {
            fields.remove("refresh_token");
        }
        fields.insert("account_id".into(), json!("dbid:AAsandboxaccount"));
        fields.insert("uid".into(), json!("12345678"));
        fields
    }
}
