//! The revocation endpoint client: RFC 7009 (`token`, `token_type_hint`, the client
//! authenticated as at the token endpoint) and the providers' own endpoints (GitHub's grant
//! DELETE, Slack's `auth.revoke`, Dropbox's `/2/auth/token/revoke`, HubSpot's refresh-token
//! DELETE), told apart by the URL's path. It sends over the `Transport` its caller hands it
//! and never touches the file.

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::error::{Error, ProviderError, Result};
use crate::redact::{Redactor, display_url, mask_token_like, snippet};
use crate::secret::{AccessToken, RefreshToken};
use crate::token::{Endpoint, client_authentication};
use crate::transport::{Answer, Failure, Request, Transport};

/// Answers to a revocation are short; anything longer is not read.
const MAX_BODY: usize = 64 * 1024;

/// Which kind of endpoint a revocation URL is: the providers' own are known by their paths,
/// so a sandbox persona serving the same path is spoken to the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// RFC 7009 (Google, node-oidc-provider, the sandbox).
    Rfc7009,
    /// `DELETE /applications/{client_id}/grant`, Basic client auth: ends the whole grant.
    GitHub,
    /// `auth.revoke`, the token itself as the Bearer credential.
    Slack,
    /// `/2/auth/token/revoke`, the access token as the Bearer credential; its refresh token
    /// goes with it.
    Dropbox,
    /// `DELETE /oauth/v1/refresh-tokens/{token}`: the refresh token ends the grant.
    HubSpot,
}

impl Style {
    pub fn of(url: &str) -> Style {
        let path = url::Url::parse(url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        if path.contains("/applications/") && path.ends_with("/grant") {
            Style::GitHub
        } else if path.ends_with("/auth.revoke") {
            Style::Slack
        } else if path.ends_with("/2/auth/token/revoke") {
            Style::Dropbox
        } else if path.ends_with("/oauth/v1/refresh-tokens") {
            Style::HubSpot
        } else {
            Style::Rfc7009
        }
    }

    /// Whether this endpoint takes `kind`: a provider's own takes the one token that ends
    /// the grant; RFC 7009 takes both, the refresh token first.
    pub fn takes(self, kind: Kind) -> bool {
        match self {
            Style::Rfc7009 => true,
            Style::GitHub | Style::Slack | Style::Dropbox => kind == Kind::Access,
            Style::HubSpot => kind == Kind::Refresh,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Refresh,
    Access,
}

impl Kind {
    /// RFC 7009 §2.1's `token_type_hint`.
    pub fn hint(self) -> &'static str {
        match self {
            Kind::Refresh => "refresh_token",
            Kind::Access => "access_token",
        }
    }
}

/// A token to revoke, still a secret type until it is sent.
pub enum Revocable<'a> {
    Refresh(&'a RefreshToken),
    Access(&'a AccessToken),
}

impl Revocable<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            Revocable::Refresh(_) => Kind::Refresh,
            Revocable::Access(_) => Kind::Access,
        }
    }

    fn expose(&self) -> &str {
        match self {
            Revocable::Refresh(t) => t.expose(),
            Revocable::Access(t) => t.expose(),
        }
    }
}

/// What the endpoint said to a token it answered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// 2xx: the request was accepted (RFC 7009 §2.2: not a proof the token existed).
    Accepted,
    /// The token is unknown or already unusable there (`invalid_token`,
    /// `unsupported_token_type`, a 400 or 404 for a token already gone), in its words.
    Gone(String),
}

/// Sends revocation requests over the transport its caller chose.
pub struct Revoker<'a> {
    transport: Box<dyn Transport + 'a>,
}

impl<'a> Revoker<'a> {
    pub fn new(transport: Box<dyn Transport + 'a>) -> Self {
        Revoker { transport }
    }

    /// Revokes `token` at `url`: what the endpoint answered, or why it refused, with every
    /// credential we sent (the token among them) taken out of its words.
    pub async fn revoke(
        &self,
        endpoint: &Endpoint,
        url: &str,
        token: &Revocable<'_>,
    ) -> Result<Answered> {
        self.transport.ready()?;
        let style = Style::of(url);
        let mut redactor = Redactor::default();
        redactor.add(token.expose());
        let request = request(style, endpoint, url, token, &mut redactor)?;
        // HubSpot's URL ends in the token: shown as the file writes it.
        let shown = display_url(url);
        tracing::debug!(url = %shown, style = ?style, token = token.kind().hint(), "revocation request");
        let answer =
            self.transport
                .send(request, MAX_BODY)
                .await
                .map_err(|failure| match failure {
                    Failure::Unanswered(e) => relayed(e, &redactor),
                    Failure::TooLarge => refused(&shown, 0, "an answer too large to read".into()),
                })?;
        tracing::debug!(status = answer.status, "revocation answer");
        read(style, &shown, &answer, &redactor)
    }
}

/// A network failure's words, with anything we sent taken out (a URL may end in a token).
fn relayed(e: Error, redactor: &Redactor) -> Error {
    Error::Relayed {
        message: redactor.redact(&e.to_string()),
        hint: e.hint().map(|h| redactor.redact(&h)),
        code: e.exit_code(),
    }
}

fn refused(shown: &str, status: u16, said: String) -> Error {
    ProviderError::Revocation {
        url: shown.to_string(),
        status,
        said,
        // The flow puts the run's own command here (`flow::logout`).
        retry: "integration-cli logout --force".into(),
    }
    .into()
}

/// The request each style wants.
fn request(
    style: Style,
    endpoint: &Endpoint,
    url: &str,
    token: &Revocable<'_>,
    redactor: &mut Redactor,
) -> Result<Request> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let secret = token.expose();
    let (method, url, body) = match style {
        Style::Rfc7009 => {
            let (mut fields, basic) = client_authentication(endpoint, redactor)?;
            fields.insert(0, ("token", secret.to_string()));
            fields.insert(1, ("token_type_hint", token.kind().hint().to_string()));
            if let Some(basic) = basic {
                headers.insert(AUTHORIZATION, basic);
            }
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            (
                Method::POST,
                url.to_string(),
                crate::transport::form_body(&fields),
            )
        }
        Style::GitHub => {
            // GitHub wants the client's Basic credentials whatever the token request does.
            let basic = Endpoint {
                auth: crate::config::ClientAuth::Basic,
                ..endpoint.clone()
            };
            if let (_, Some(value)) = client_authentication(&basic, redactor)? {
                headers.insert(AUTHORIZATION, value);
            }
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let body = json!({ "access_token": secret }).to_string();
            (Method::DELETE, url.to_string(), body)
        }
        Style::Slack | Style::Dropbox => {
            headers.insert(AUTHORIZATION, bearer(secret)?);
            (Method::POST, url.to_string(), String::new())
        }
        Style::HubSpot => {
            let path = url.trim_end_matches('/');
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            (Method::DELETE, format!("{path}/{encoded}"), String::new())
        }
    };
    Ok(Request {
        method,
        url,
        headers,
        body: body.into_bytes(),
    })
}

fn bearer(token: &str) -> Result<HeaderValue> {
    crate::transport::bearer(token).ok_or_else(|| {
        Error::Internal("the token cannot be sent in a header (it holds control characters)".into())
    })
}

/// What the answer means, in each style's terms.
fn read(style: Style, shown: &str, answer: &Answer, redactor: &Redactor) -> Result<Answered> {
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .map(|s| redactor.redact(s))
    };
    let status = answer.status;
    if style == Style::Slack && status == 200 {
        // Slack answers failures with HTTP 200 and `ok: false`.
        let ok = json
            .as_ref()
            .and_then(|j| j.get("ok"))
            .and_then(Value::as_bool);
        return match (ok, field("error")) {
            (Some(true), _) => Ok(Answered::Accepted),
            (_, Some(e)) if ["invalid_auth", "token_revoked", "not_authed"].contains(&&*e) => {
                Ok(Answered::Gone(e))
            }
            (_, error) => Err(refused(
                shown,
                status,
                error.unwrap_or_else(|| body(answer, redactor)),
            )),
        };
    }
    if (200..300).contains(&status) {
        return Ok(Answered::Accepted);
    }
    let error = field("error");
    let said = match (&error, field("error_description")) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.clone(),
        (None, _) => body(answer, redactor),
    };
    let gone = match error.as_deref() {
        Some("invalid_token" | "unsupported_token_type") => true,
        Some(_) => false,
        // A token already gone: GitHub's and HubSpot's 404, Dropbox's 401 (its `error` is
        // an object, not a code).
        None => matches!(
            (style, status),
            (Style::GitHub | Style::HubSpot, 404) | (Style::Dropbox, 401)
        ),
    };
    if gone {
        return Ok(Answered::Gone(said));
    }
    Err(refused(shown, status, said))
}

fn body(answer: &Answer, redactor: &Redactor) -> String {
    snippet(&answer.body, |b| mask_token_like(&redactor.redact(b)))
}
