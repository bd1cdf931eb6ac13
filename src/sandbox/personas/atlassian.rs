//! Atlassian (Jira, Confluence) 3LO: `audience=api.atlassian.com` and `prompt=consent` are
//! required; a refresh token only for the `offline_access` scope; refresh tokens rotate,
//! and presenting a spent one revokes the grant.

use super::super::persona::{Persona, Refusal, Rotation};
use super::super::store::Asked;

pub struct Atlassian;

impl Persona for Atlassian {
    fn name(&self) -> &'static str {
        "atlassian"
    }

    fn reproduces(&self) -> &'static str {
        "`audience=api.atlassian.com` and `prompt=consent` required (refused back to the callback otherwise); `offline_access` for a refresh token; rotating refresh tokens, a reused one revoking the grant (stricter than Atlassian, which documents a short reuse interval)"
    }

    fn authorize(&self, asked: &Asked) -> Result<(), Refusal> {
        if asked.get("audience") != "api.atlassian.com" {
            return Err(Refusal {
                error: "invalid_request",
                description: "audience is required: send audience=api.atlassian.com".into(),
            });
        }
        if asked.get("prompt") != "consent" {
            return Err(Refusal {
                error: "invalid_request",
                description: "prompt=consent is required".into(),
            });
        }
        Ok(())
    }

    fn pkce_required(&self) -> bool {
        false
    }

    fn offline(&self, asked: &Asked, _: bool) -> bool {
        asked.has_scope("offline_access")
    }

    fn rotation(&self) -> Rotation {
        Rotation::Revoking
    }
}
