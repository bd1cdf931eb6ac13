//! An authorization server's published metadata (RFC 8414, OpenID Connect Discovery), for
//! `init --issuer`: fetched from both well-known places, and used only when the issuer it
//! names is the very URL it was fetched for (RFC 8414 §3.3), so a document served for
//! another server, or under a lookalike address, never sets the endpoints a secret goes to.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::error::{ProviderError, Result};
use crate::redact::printable;

/// The most of a metadata document that is read.
const MAX_METADATA: usize = 1 << 20;
/// How long the whole search may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// What `init` takes from the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// As the document names it, which is the URL it was fetched for.
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub scopes_supported: Option<Vec<String>>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

/// How the client authenticates at the token endpoint, as the metadata allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: listed, or no list at all (the RFC's default).
    Basic,
    /// `client_secret_post`, where Basic is not listed.
    Post,
}

impl Metadata {
    /// The client authentication to write, or why none we can use is listed.
    pub fn client_auth(&self) -> std::result::Result<ClientAuth, String> {
        let Some(listed) = &self.token_endpoint_auth_methods_supported else {
            return Ok(ClientAuth::Basic);
        };
        let has = |m: &str| listed.iter().any(|l| l == m);
        if has("client_secret_basic") {
            return Ok(ClientAuth::Basic);
        }
        if has("client_secret_post") {
            return Ok(ClientAuth::Post);
        }
        let hint = match has("private_key_jwt") {
            true => {
                "; for private_key_jwt, add tokenEndpointAuthMethod and a jwt object to the \
                 file yourself (see the file format's jwt section)"
            }
            false => "",
        };
        Err(format!(
            "its token endpoint takes only {}, which integration-cli does not support \
             (client_secret_basic and client_secret_post are){hint}",
            listed.join(", ")
        ))
    }

    /// The scopes to suggest: `openid`, and `offline_access` for a refresh token, where the
    /// provider lists them.
    pub fn suggested_scopes(&self) -> String {
        let listed = self.scopes_supported.as_deref().unwrap_or_default();
        ["openid", "offline_access"]
            .into_iter()
            .filter(|s| listed.iter().any(|l| l == s))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the provider says it takes PKCE's S256, which every login sends.
    pub fn takes_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_deref()
            .is_some_and(|m| m.iter().any(|m| m == "S256"))
    }
}

/// Where an issuer's metadata is published: RFC 8414's place (the well-known part inserted
/// before the issuer's path), then OpenID Connect's (appended to it).
pub fn places(issuer: &Url) -> Vec<String> {
    let origin = issuer.origin().ascii_serialization();
    let path = issuer.path().trim_end_matches('/');
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ]
}

/// The issuer as given, then with or without its trailing slash: Auth0's issuers end in
/// `/` and Okta's do not, and a user may write either.
fn spellings(given: &str) -> Vec<String> {
    let other = match given.strip_suffix('/') {
        Some(bare) => bare.to_string(),
        None => format!("{given}/"),
    };
    vec![given.to_string(), other]
}

/// The metadata of `issuer`, checked.
pub async fn discover(issuer: &str) -> Result<Metadata> {
    let failed = |why: String| ProviderError::Metadata {
        issuer: printable(issuer),
        why,
    };
    let url = Url::parse(issuer.trim()).map_err(|e| failed(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(failed("not an http(s) URL with a host".into()).into());
    }
    if url.scheme() == "http" && !crate::loopback::is_loopback_url(url.as_str()) {
        return Err(failed("an issuer is https (http only on this machine)".into()).into());
    }
    let http = crate::http::client(url.as_str(), TIMEOUT)?;
    // Both spellings share their well-known places (`places` ignores a trailing slash):
    // each place is fetched once, and its document taken for either spelling.
    let spellings = spellings(issuer.trim());
    let search = async {
        let mut why = Vec::new();
        for place in places(&url) {
            let refusal = match fetch(&http, &place).await {
                Ok(doc) => {
                    let other = spellings.get(1).map(|s| parse(s, &doc));
                    match (parse(&spellings[0], &doc), other) {
                        (Ok(found), _) | (_, Some(Ok(found))) => return Ok(found),
                        (Err(as_given), _) => as_given,
                    }
                }
                Err(e) => e,
            };
            why.push(format!("{place}: {refusal}"));
        }
        Err(why.join("; "))
    };
    match tokio::time::timeout(TIMEOUT, search).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(why)) => Err(failed(why).into()),
        Err(_) => Err(failed(format!("no answer within {} s", TIMEOUT.as_secs())).into()),
    }
}

/// One place's document, as JSON: a redirect is not followed, since the metadata must be
/// the issuer's own.
async fn fetch(http: &reqwest::Client, place: &str) -> std::result::Result<Value, String> {
    let response = http
        .get(place)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("no answer ({})", e.without_url()))?;
    let status = response.status();
    if status.is_redirection() {
        return Err(format!("a redirect ({status}), not followed"));
    }
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let body = crate::http::read_capped(response, MAX_METADATA)
        .await
        .map_err(|_| format!("not read (more than {MAX_METADATA} bytes, or cut off)"))?;
    serde_json::from_slice(&body).map_err(|_| "not JSON".to_string())
}

/// A document fetched for `issuer`, if it is one for it: its `issuer` identical, its
/// endpoints URLs, and https ones for an https issuer.
pub fn parse(issuer: &str, doc: &Value) -> std::result::Result<Metadata, String> {
    let doc = doc.as_object().ok_or("not a JSON object")?;
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let named = text("issuer").ok_or("no issuer in it")?;
    if named != issuer {
        return Err(format!(
            "it names the issuer {}, not {} (RFC 8414 §3.3)",
            printable(&named),
            printable(issuer)
        ));
    }
    let https = issuer.starts_with("https://");
    let endpoint = |key: &str| -> std::result::Result<Option<String>, String> {
        let Some(value) = text(key) else {
            return Ok(None);
        };
        match Url::parse(&value) {
            Ok(u) if u.scheme() == "https" || (!https && u.scheme() == "http") => Ok(Some(value)),
            Ok(_) => Err(format!("its {key} is not https ({})", printable(&value))),
            Err(_) => Err(format!("its {key} is not a URL")),
        }
    };
    let list = |key: &str| {
        doc.get(key).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
    };
    Ok(Metadata {
        issuer: named,
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?.ok_or("no token_endpoint in it")?,
        revocation_endpoint: endpoint("revocation_endpoint")?,
        scopes_supported: list("scopes_supported"),
        token_endpoint_auth_methods_supported: list("token_endpoint_auth_methods_supported"),
        code_challenge_methods_supported: list("code_challenge_methods_supported"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "scopes_supported": ["openid", "email", "offline_access"],
            "code_challenge_methods_supported": ["S256"],
        })
    }

    #[test]
    fn both_well_known_places_with_the_path_inserted_for_rfc_8414() {
        let with_path = Url::parse("https://idp.example/realms/dev").unwrap();
        assert_eq!(
            places(&with_path),
            [
                "https://idp.example/.well-known/oauth-authorization-server/realms/dev",
                "https://idp.example/realms/dev/.well-known/openid-configuration",
            ]
        );
        let auth0 = Url::parse("https://acme.auth0.example/").unwrap();
        assert_eq!(
            places(&auth0)[1],
            "https://acme.auth0.example/.well-known/openid-configuration"
        );
        assert_eq!(
            spellings("https://a.example/"),
            ["https://a.example/", "https://a.example"]
        );
    }

    #[test]
    fn a_document_is_taken_only_for_the_issuer_it_names() {
        let found = parse("https://idp.example", &doc("https://idp.example")).unwrap();
        assert_eq!(found.token_endpoint, "https://idp.example/token");
        assert_eq!(found.suggested_scopes(), "openid offline_access");
        assert!(found.takes_s256());
        assert_eq!(found.client_auth(), Ok(ClientAuth::Basic));

        let other = parse("https://idp.example", &doc("https://evil.example")).unwrap_err();
        assert!(
            other.contains("names the issuer https://evil.example"),
            "{other}"
        );
        let slash = parse("https://idp.example/", &doc("https://idp.example")).unwrap_err();
        assert!(slash.contains("not https://idp.example/"), "{slash}");
    }

    #[test]
    fn http_endpoints_for_an_https_issuer_and_non_objects_are_refused() {
        let mut d = doc("https://idp.example");
        d["token_endpoint"] = json!("http://idp.example/token");
        let e = parse("https://idp.example", &d).unwrap_err();
        assert!(e.contains("token_endpoint is not https"), "{e}");
        assert!(parse("https://idp.example", &json!(["x"])).is_err());
        let mut d = doc("https://idp.example");
        d.as_object_mut().unwrap().remove("token_endpoint");
        assert!(
            parse("https://idp.example", &d)
                .unwrap_err()
                .contains("no token_endpoint")
        );
    }

    #[test]
    fn client_authentication_follows_the_list() {
        let with = |methods: Value| {
            let mut d = doc("https://idp.example");
            d["token_endpoint_auth_methods_supported"] = methods;
            parse("https://idp.example", &d).unwrap().client_auth()
        };
        assert_eq!(
            with(json!(["client_secret_post", "client_secret_basic"])),
            Ok(ClientAuth::Basic)
        );
        assert_eq!(with(json!(["client_secret_post"])), Ok(ClientAuth::Post));
        let none = with(json!(["none", "tls_client_auth"])).unwrap_err();
        assert!(none.contains("takes only none, tls_client_auth"), "{none}");
        let jwt = with(json!(["private_key_jwt"])).unwrap_err();
        assert!(jwt.contains("for private_key_jwt"), "{jwt}");
    }
}
