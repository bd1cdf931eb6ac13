//! RFC 9207: which authorization server a login's answer must come from, and the check,
//! made before the code is used, so an answer from another server (a mix-up attack) never
//! reaches this authorization's token endpoint.

use std::time::Duration;

use url::Url;

use crate::error::{Error, ProviderError};
use crate::redact::printable;

/// The most of an authorization server's metadata document that is read.
const MAX_METADATA: usize = 1 << 20;
/// How long the search for metadata may take, all places together.
const SEARCH: Duration = Duration::from_secs(3);
/// How many places are tried at most (the root forms, then path forms).
const MOST_PLACES: usize = 8;

/// What a refusal says was sent, when nothing was.
const NONE_SENT: &str =
    "none (the answer carries no iss, though the server's metadata says it sends one)";

/// The issuer a login's answer must come from.
pub(super) struct Issuer {
    expected: String,
    /// The server's metadata says every answer carries `iss`: one without it is refused.
    promised: bool,
}

/// What the check concluded.
pub(super) enum Verdict {
    /// The answer's `iss` is the expected one, or there is nothing to check against.
    Checked,
    /// Nothing to check the answer against: why, for the user.
    Unchecked(String),
    /// Another issuer (`got`), or none where one was promised.
    Refused {
        expected: String,
        got: Option<String>,
    },
}

impl Verdict {
    /// For an answer that carries a code: a refusal is an error, and the code is not used.
    pub fn into_error(self) -> Option<Error> {
        match self {
            Verdict::Refused { expected, got } => Some(
                ProviderError::IssuerMismatch {
                    expected,
                    got: got.unwrap_or_else(|| NONE_SENT.into()),
                }
                .into(),
            ),
            _ => None,
        }
    }

    /// For a refusal from the provider (no code to protect): a note, if the issuer could not
    /// be checked.
    pub fn note(&self) -> Option<String> {
        match self {
            Verdict::Checked => None,
            Verdict::Unchecked(why) => Some(why.clone()),
            Verdict::Refused {
                expected,
                got: None,
            } => Some(format!(
                "the issuer could not be checked: the answer carries no iss, though the \
                 server's metadata says it sends one (expected {expected})"
            )),
            Verdict::Refused {
                expected,
                got: Some(got),
            } => Some(format!(
                "this refusal came from issuer {got}, not {expected}: another authorization \
                 server may have answered (RFC 9207)"
            )),
        }
    }
}

/// The configured `issuer`; or else the one the authorization server's metadata names, if
/// it promises to send `iss` (`authorization_response_iss_parameter_supported`). A server
/// without metadata only means no check.
pub(super) async fn expected(configured: Option<&str>, authorize: &Url) -> Option<Issuer> {
    if let Some(expected) = configured {
        return Some(Issuer {
            expected: expected.to_string(),
            promised: false,
        });
    }
    tokio::time::timeout(SEARCH, from_metadata(authorize))
        .await
        .ok()
        .flatten()
}

/// Where metadata may be, with the issuer each place implies (RFC 8414 §3.1, OpenID
/// Connect Discovery §4): at the origin's root, then, for each path the authorization
/// endpoint sits under (longest first), `/.well-known/oauth-authorization-server{path}` and
/// `{path}/.well-known/openid-configuration`.
fn places(authorize: &Url) -> Vec<(String, String)> {
    let origin = authorize.origin().ascii_serialization();
    let mut places = vec![
        (
            format!("{origin}/.well-known/oauth-authorization-server"),
            origin.clone(),
        ),
        (
            format!("{origin}/.well-known/openid-configuration"),
            origin.clone(),
        ),
    ];
    let segments: Vec<&str> = authorize
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    for end in (1..segments.len()).rev() {
        let path = format!("/{}", segments[..end].join("/"));
        let issuer = format!("{origin}{path}");
        places.push((
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            issuer.clone(),
        ));
        places.push((format!("{issuer}/.well-known/openid-configuration"), issuer));
    }
    places.truncate(MOST_PLACES);
    places
}

async fn from_metadata(authorize: &Url) -> Option<Issuer> {
    // A network setting that cannot be used for this host means no search (the token
    // request says why).
    let http = crate::http::client(&authorize.origin().ascii_serialization(), SEARCH).ok()?;
    for (place, implied) in places(authorize) {
        let Ok(r) = http.get(&place).send().await else {
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
        let issuer = meta["issuer"].as_str().unwrap_or_default();
        // RFC 8414 §3.3: metadata must name the issuer it was fetched for, or it is some
        // other server's (or an attacker's) and is not used.
        if issuer.trim_end_matches('/') != implied.trim_end_matches('/') {
            tracing::debug!(
                place = %crate::redact::display_url(&place),
                issuer = %printable(issuer),
                "metadata ignored: its issuer is not the one this place implies (RFC 8414 §3.3)"
            );
            continue;
        }
        let promised = meta["authorization_response_iss_parameter_supported"] == true;
        tracing::debug!(place = %crate::redact::display_url(&place), promised, "authorization server metadata");
        return promised.then(|| Issuer {
            expected: issuer.to_string(),
            promised: true,
        });
    }
    None
}

/// An answer from another issuer than the expected one is a mix-up; one without `iss` where
/// the server promised it is refused too, and one without where nothing was promised cannot
/// be checked.
pub(super) fn check(issuer: Option<Issuer>, iss: Option<&str>) -> Verdict {
    let Some(Issuer { expected, promised }) = issuer else {
        return Verdict::Checked;
    };
    match iss {
        Some(got) if got != expected => Verdict::Refused {
            expected: printable(&expected),
            got: Some(printable(got)),
        },
        Some(_) => Verdict::Checked,
        None if promised => Verdict::Refused {
            expected: printable(&expected),
            got: None,
        },
        None => Verdict::Unchecked(format!(
            "the provider sent no iss with its answer, so the issuer {} could not be checked",
            printable(&expected)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_at_the_root_then_under_each_path_of_the_endpoint() {
        let url = Url::parse("https://idp.example/realms/dev/protocol/auth").unwrap();
        let got = places(&url);
        assert_eq!(
            got[0],
            (
                "https://idp.example/.well-known/oauth-authorization-server".to_string(),
                "https://idp.example".to_string()
            )
        );
        assert!(got.contains(&(
            "https://idp.example/.well-known/oauth-authorization-server/realms/dev".to_string(),
            "https://idp.example/realms/dev".to_string()
        )));
        assert!(got.contains(&(
            "https://idp.example/realms/dev/.well-known/openid-configuration".to_string(),
            "https://idp.example/realms/dev".to_string()
        )));
        assert!(got.len() <= MOST_PLACES);
    }
}
