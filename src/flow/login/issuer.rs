//! RFC 9207: which authorization server a login's answer must come from, and the check,
//! made before the code is used, so an answer from another server (a mix-up attack) never
//! reaches this authorization's token endpoint.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::redact::printable;

/// The most of an authorization server's metadata document that is read.
const MAX_METADATA: usize = 1 << 20;

/// The issuer a login's answer must come from.
pub(super) struct Issuer {
    expected: String,
    /// The server's metadata says every answer carries `iss`: one without it is refused.
    promised: bool,
}

/// The configured `issuer`; or else the one the authorization server's metadata names, if
/// it promises to send `iss` (`authorization_response_iss_parameter_supported`). The
/// metadata is looked for at the authorization URL's origin, briefly: a server without it
/// only means no check.
pub(super) async fn expected(configured: Option<&str>, authorize: &Url) -> Option<Issuer> {
    if let Some(expected) = configured {
        return Some(Issuer {
            expected: expected.to_string(),
            promised: false,
        });
    }
    let origin = authorize.origin().ascii_serialization();
    let http = crate::http::client(&origin, Duration::from_secs(3));
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let Ok(r) = http.get(format!("{origin}{path}")).send().await else {
            continue;
        };
        if !r.status().is_success() {
            continue;
        }
        // Metadata is a few KiB; a server that sends more is not to be believed.
        let Some(meta) = crate::http::read_capped(r, MAX_METADATA)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            continue;
        };
        let promised = meta["authorization_response_iss_parameter_supported"] == true;
        tracing::debug!(%path, promised, "authorization server metadata");
        if let (true, Some(issuer)) = (promised, meta["issuer"].as_str()) {
            return Some(Issuer {
                expected: issuer.to_string(),
                promised: true,
            });
        }
        return None;
    }
    None
}

/// An answer from another issuer than the expected one is a mix-up, error or code alike.
/// `warn` hears of an answer that could not be checked.
pub(super) fn check(issuer: Option<Issuer>, iss: Option<&str>, warn: impl Fn(&str)) -> Result<()> {
    let Some(Issuer { expected, promised }) = issuer else {
        return Ok(());
    };
    match iss {
        Some(got) if got != expected => Err(Error::IssuerMismatch {
            expected: printable(&expected),
            got: printable(got),
        }),
        Some(_) => Ok(()),
        None if promised => Err(Error::IssuerMismatch {
            expected: printable(&expected),
            got: "none (the answer carries no iss, though the server's metadata says it sends one)"
                .into(),
        }),
        None => {
            warn(&format!(
                "the provider sent no iss with its answer, so the issuer {} could not be checked",
                printable(&expected)
            ));
            Ok(())
        }
    }
}
