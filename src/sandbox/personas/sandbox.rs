//! The plain sandbox: a standards-faithful server (RFC 6749, 7636, 9700), strict where the
//! standards allow: PKCE S256, rotating refresh tokens whose reuse revokes the grant.

use super::super::persona::{BodyRule, Persona};

pub struct Sandbox;

impl Persona for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn reproduces(&self) -> &'static str {
        "a standards-faithful server: PKCE S256 required, rotating refresh tokens (reuse revokes the grant), client credentials, RFC 8414 metadata"
    }

    fn provider(&self) -> Option<&'static crate::providers::Provider> {
        None
    }

    fn scopes(&self) -> Option<&'static [&'static str]> {
        Some(&super::super::SCOPES)
    }

    fn body(&self) -> BodyRule {
        BodyRule::Form
    }

    fn pkce_required(&self) -> bool {
        true
    }

    fn client_credentials(&self) -> bool {
        true
    }
}
