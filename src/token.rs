//! The token endpoint client: code exchange and refresh (and client credentials), with the
//! client authentication and body format the authorization asks for. Responses are parsed
//! tolerantly (the `oauth2` crate's standard response rejects what real providers send, such
//! as a string `expires_in` or a form-encoded body) and every field is kept.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use serde_json::{Map, Value};

use crate::assertion::Signer;
use crate::config::GrantType;
pub use crate::config::{BodyFormat, ClientAuth, JWT_BEARER};
use crate::error::{Error, ProviderError, Result};
use crate::providers;
use crate::redact::{
    Redactor, display_url, form_encode, header_unsafe_reason, is_header_safe, mask_token_like,
    printable, snippet,
};
use crate::secret::{
    AccessToken, Assertion, AuthorizationCode, ClientSecret, Password, PkceVerifier, RefreshToken,
};
use crate::transport::{Answer, Failure, Request, Transport};

/// Bodies beyond this are not token responses; reading them whole would only cost memory.
const MAX_BODY: usize = 1 << 20;

/// How to reach and authenticate to one token endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    /// With the signer that makes the client's `client_assertion` for `private_key_jwt`.
    pub auth: ClientAuth<Arc<Signer>>,
    pub format: BodyFormat,
    /// What the provider is documented to answer with (`responseContentType`); used only when
    /// the response itself does not say (no or a generic content type).
    pub response_type: Option<String>,
    /// Where in the answer the tokens are (`tokenResponsePath`, an integration-cli
    /// extension): Slack puts a user token under `authed_user`.
    pub token_path: Option<String>,
}

#[derive(Debug)]
pub enum Grant {
    AuthorizationCode {
        code: AuthorizationCode,
        verifier: PkceVerifier,
        redirect_uri: String,
    },
    RefreshToken {
        refresh_token: RefreshToken,
    },
    ClientCredentials {
        scope: Option<String>,
    },
    /// RFC 6749 §4.3: the resource owner's own username and password.
    Password {
        username: String,
        password: Password,
        scope: Option<String>,
    },
    /// RFC 7523 §2.1: a signed assertion in place of a user's consent.
    JwtBearer {
        assertion: Assertion,
        scope: Option<String>,
    },
}

/// The `client_assertion_type` of RFC 7523 §2.2.
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A token response as the provider sent it, with the standard fields picked out.
pub struct TokenResponse {
    pub access_token: AccessToken,
    pub token_type: Option<String>,
    pub refresh_token: Option<RefreshToken>,
    /// The lifetime in seconds, when the provider stated a sensible one.
    pub expires_in: Option<u64>,
    /// `expires_in` as sent when it could not be used (unreadable, or absurdly long): stored
    /// as it came, with no expiry computed from it.
    pub expires_in_as_sent: Option<Value>,
    /// Some servers (Doorkeeper) say when the token was issued; better than our clock.
    pub created_at: Option<u64>,
    pub scope: Option<String>,
    /// Every other field, as it came (`id_token`, `instance_url`, ...).
    pub extra: Map<String, Value>,
    /// What in the response could not be used, for the user to hear about.
    pub warnings: Vec<String>,
    /// The nested object the tokens were taken from (Slack's `authed_user`), if not the top.
    pub taken_from: Option<String>,
    /// The answer's `Date` header: the provider's clock, against which its `created_at` is
    /// read (this machine's may be off).
    pub date: Option<std::time::SystemTime>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("extra_fields", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Sends token requests over the transport its caller chose, and reads their answers.
pub struct TokenClient<'a> {
    transport: Box<dyn Transport + 'a>,
}

impl<'a> TokenClient<'a> {
    pub fn new(transport: Box<dyn Transport + 'a>) -> Self {
        TokenClient { transport }
    }

    /// An error when a network setting cannot be used, before anything is sent. A login
    /// calls it before the browser opens.
    pub fn ready(&self) -> Result<()> {
        self.transport.ready()
    }

    /// Sends one token request and reads its answer: tokens, or the provider's own error
    /// with everything we sent redacted from it.
    pub async fn request(
        &self,
        endpoint: &Endpoint,
        grant: &Grant,
        extra: &[(String, String)],
    ) -> Result<TokenResponse> {
        let prepared = Prepared::new(endpoint, grant, extra)?;
        self.ready()?;
        let shown = display_url(&endpoint.url);
        prepared.log(&shown, grant, endpoint);
        let answer = self
            .transport
            .send(prepared.http_request(endpoint), MAX_BODY)
            .await
            .map_err(|failure| match failure {
                Failure::Unanswered(e) => e,
                Failure::TooLarge => ProviderError::TokenResponse {
                    url: shown.clone(),
                    message: format!("the body is larger than {MAX_BODY} bytes"),
                    refresh_token: None,
                }
                .into(),
            })?;
        if (300..400).contains(&answer.status) {
            return Err(redirected(&shown, &answer, &prepared.redactor));
        }
        let content_type = content_type(&answer.headers, endpoint);
        let bytes = &answer.body;
        tracing::debug!(status = answer.status, content_type = %content_type, bytes = bytes.len(), "token response");
        let mut tokens = interpret_at(
            &shown,
            answer.status,
            &content_type,
            bytes,
            &prepared.redactor,
            endpoint.token_path.as_deref(),
        )?;
        tokens.date = date(&answer.headers);
        Ok(tokens)
    }
}

/// The answer's `Date` header, when it has a readable one.
fn date(headers: &HeaderMap) -> Option<std::time::SystemTime> {
    headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
}

/// private_key_jwt: the client proves itself with a signed assertion, never a secret.
fn add_assertion(
    signer: &Signer,
    endpoint: &Endpoint,
    body: &mut Vec<(&str, String)>,
    redactor: &mut Redactor,
) -> Result<()> {
    let assertion = signer.sign(
        crate::assertion::For::Client {
            client_id: &endpoint.client_id,
        },
        &endpoint.url,
        std::time::SystemTime::now(),
    )?;
    redactor.add(assertion.expose());
    body.push(("client_id", endpoint.client_id.clone()));
    body.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.into()));
    body.push(("client_assertion", assertion.expose().into()));
    Ok(())
}

/// The client id and secret where the authorization says (basic, post or both); returns
/// the HTTP Basic credentials when they go in the header.
fn add_client_secret(
    endpoint: &Endpoint,
    body: &mut Vec<(&str, String)>,
    redactor: &mut Redactor,
) -> Option<(String, String)> {
    let secret = endpoint.client_secret.as_ref();
    // A public client (no secret) identifies itself in the body whatever the setting.
    let use_basic = !matches!(endpoint.auth, ClientAuth::Post) && secret.is_some();
    if !use_basic || matches!(endpoint.auth, ClientAuth::Both) {
        body.push(("client_id", endpoint.client_id.clone()));
    }
    let secret = secret?;
    redactor.add(secret.expose());
    if use_basic {
        redactor.add_basic(&endpoint.client_id, secret.expose());
        Some((
            form_encode(&endpoint.client_id),
            form_encode(secret.expose()),
        ))
    } else {
        body.push(("client_secret", secret.expose().into()));
        None
    }
}

/// A token request's fields, how the client authenticates, and what must never be echoed.
struct Prepared<'a> {
    body: Vec<(&'a str, String)>,
    /// The client's HTTP Basic credentials, form-encoded as RFC 6749 §2.3.1 says, as a
    /// header marked sensitive.
    basic: Option<HeaderValue>,
    redactor: Redactor,
}

impl<'a> Prepared<'a> {
    fn new(
        endpoint: &Endpoint,
        grant: &Grant,
        extra: &'a [(String, String)],
    ) -> Result<Prepared<'a>> {
        let mut redactor = Redactor::default();
        let mut body = grant.fields(&mut redactor);
        let (auth, basic) = client_authentication(endpoint, &mut redactor)?;
        body.extend(auth);
        add_extra(&mut body, &mut redactor, extra);
        Ok(Prepared {
            body,
            basic,
            redactor,
        })
    }

    /// Logs the request by names and shapes only: values here are codes, verifiers and
    /// secrets (and a query string could hold any of them).
    fn log(&self, shown: &str, grant: &Grant, endpoint: &Endpoint) {
        tracing::debug!(
            url = %shown,
            grant = grant.name(),
            client_auth = %endpoint.auth.label(),
            body = ?endpoint.format,
            fields = ?self.body.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            "token request"
        );
    }

    /// The request as it goes: a POST of the body in the endpoint's format, the client's
    /// HTTP Basic credentials (when it uses them) in a header marked sensitive.
    fn http_request(&self, endpoint: &Endpoint) -> Request {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(basic) = &self.basic {
            headers.insert(AUTHORIZATION, basic.clone());
        }
        let (content_type, body) = match endpoint.format {
            BodyFormat::Form => (
                "application/x-www-form-urlencoded",
                crate::transport::form_body(&self.body),
            ),
            BodyFormat::Json => {
                let map: Map<String, Value> = self
                    .body
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                    .collect();
                ("application/json", Value::Object(map).to_string())
            }
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Request {
            method: reqwest::Method::POST,
            url: endpoint.url.clone(),
            headers,
            body: body.into_bytes(),
        }
    }
}

/// `Basic base64(id:secret)`, as reqwest's `basic_auth` writes it, marked sensitive.
fn basic_header((id, secret): &(String, String)) -> Option<HeaderValue> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A request body's fields, in order.
pub(crate) type BodyFields = Vec<(&'static str, String)>;

/// The client's authentication exactly as a token request makes it, for the provider's
/// other endpoints (revocation, RFC 7009 §2.1): the body fields (`client_id`, a secret or
/// an assertion) and the `Authorization` header, every credential added to `redactor`.
pub(crate) fn client_authentication(
    endpoint: &Endpoint,
    redactor: &mut Redactor,
) -> Result<(BodyFields, Option<HeaderValue>)> {
    let mut body = Vec::new();
    let basic = match &endpoint.auth {
        ClientAuth::PrivateKeyJwt(signer) => {
            add_assertion(signer, endpoint, &mut body, redactor)?;
            None
        }
        _ => add_client_secret(endpoint, &mut body, redactor),
    };
    Ok((body, basic.as_ref().and_then(basic_header)))
}

/// Extra parameters may be credentials too (an assertion, an API key): never echo them.
fn add_extra<'a>(
    body: &mut Vec<(&'a str, String)>,
    redactor: &mut Redactor,
    extra: &'a [(String, String)],
) {
    for (key, value) in extra {
        redactor.add(value);
        if !body.iter().any(|(k, _)| k == key) {
            body.push((key.as_str(), value.clone()));
        }
    }
}

impl Grant {
    fn name(&self) -> &'static str {
        match self {
            Grant::AuthorizationCode { .. } => GrantType::AuthorizationCode.name(),
            // Not a grant a file can choose: how any of them is renewed.
            Grant::RefreshToken { .. } => "refresh_token",
            Grant::ClientCredentials { .. } => GrantType::ClientCredentials.name(),
            Grant::Password { .. } => GrantType::Password.name(),
            Grant::JwtBearer { .. } => GrantType::JwtBearer.name(),
        }
    }

    /// The grant's own fields; its credentials also go to `redactor`.
    fn fields(&self, redactor: &mut Redactor) -> Vec<(&'static str, String)> {
        let mut body = vec![("grant_type", self.name().to_string())];
        match self {
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => {
                body.push(("code", code.expose().into()));
                body.push(("redirect_uri", redirect_uri.clone()));
                body.push(("code_verifier", verifier.expose().into()));
                redactor.add(code.expose());
                redactor.add(verifier.expose());
            }
            Grant::RefreshToken { refresh_token } => {
                body.push(("refresh_token", refresh_token.expose().into()));
                redactor.add(refresh_token.expose());
            }
            Grant::ClientCredentials { scope } => {
                if let Some(scope) = scope {
                    body.push(("scope", scope.clone()));
                }
            }
            Grant::Password {
                username,
                password,
                scope,
            } => {
                body.push(("username", username.clone()));
                body.push(("password", password.expose().into()));
                redactor.add(password.expose());
                if let Some(scope) = scope {
                    body.push(("scope", scope.clone()));
                }
            }
            Grant::JwtBearer { assertion, scope } => {
                body.push(("assertion", assertion.expose().into()));
                redactor.add(assertion.expose());
                if let Some(scope) = scope {
                    body.push(("scope", scope.clone()));
                }
            }
        }
        body
    }
}

/// A token endpoint must answer itself: a redirected POST would carry the code, the
/// verifier and perhaps the client secret to wherever `Location` points.
fn redirected(shown: &str, answer: &Answer, redactor: &Redactor) -> Error {
    let status = answer.status;
    let location = answer
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map_or_else(
            || "nowhere".to_string(),
            |l| display_url(&redactor.redact(l)),
        );
    ProviderError::TokenResponse {
        url: shown.into(),
        message: format!(
            "it redirects ({status}) to {location}; redirects are not followed, since the request \
             carries the code and the client's credentials: set tokenUrl to the final address"
        ),
        refresh_token: None,
    }
    .into()
}

/// The response's content type, or what the authorization says to expect when the response
/// does not say (no or a generic type).
fn content_type(headers: &HeaderMap, endpoint: &Endpoint) -> String {
    match headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(ct)
            if !ct.starts_with("text/plain") && !ct.starts_with("application/octet-stream") =>
        {
            ct.to_string()
        }
        sent => endpoint
            .response_type
            .clone()
            .or(sent.map(str::to_string))
            .unwrap_or_else(|| "no content type".into()),
    }
}

/// Turns a raw HTTP answer into tokens or the provider's own error, in the provider's words.
/// `url` is the endpoint as it may be shown (see `display_url`).
#[cfg(test)]
pub fn interpret(
    url: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
    redactor: &Redactor,
) -> Result<TokenResponse> {
    interpret_at(url, status, content_type, body, redactor, None)
}

/// Turns a raw HTTP answer into tokens or the provider's own error, in the provider's words,
/// with the tokens taken from the object at `nested` when given (or, when the answer has
/// none at the top, from where a provider nests them: see `providers::NESTED_TOKENS`). `url` is
/// the endpoint as it may be shown (see `display_url`).
pub fn interpret_at(
    url: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
    redactor: &Redactor,
    nested: Option<&str>,
) -> Result<TokenResponse> {
    let fields = parse_body(content_type, body);
    if let Some(fields) = &fields
        && let Some(error) = provider_error(url, status, fields, redactor)
    {
        return Err(error);
    }
    if !(200..300).contains(&status) {
        // An error page says what went wrong; show its start, with what we sent redacted.
        return Err(ProviderError::TokenHttp {
            url: url.into(),
            status,
            content_type: content_type.into(),
            snippet: snippet(body, |s| redactor.redact(s)),
        }
        .into());
    }
    // A refused answer may still carry a new refresh token, the old one spent: the caller
    // keeps it, or the grant is lost.
    let carried = fields
        .as_ref()
        .and_then(|f| carried_refresh_token(f, nested));
    let unusable = |message: String| ProviderError::TokenResponse {
        url: url.into(),
        message,
        refresh_token: carried.clone(),
    };
    let Some(fields) = fields else {
        // Often a login page at the wrong URL; its start says so. But a success body may
        // hold fresh tokens in a shape we cannot parse, so token-like words are masked too.
        return Err(unusable(format!(
            "expected JSON or a form body, got {content_type} ({} bytes): {}",
            body.len(),
            snippet(body, |s| mask_token_like(&redactor.redact(s)))
        ))
        .into());
    };
    read_tokens(fields, nested, redactor).map_err(|message| unusable(message).into())
}

/// The tokens of a successful, parsed answer, or why it cannot be used (the message of a
/// `TokenResponse` error, which the caller completes).
fn read_tokens(
    mut fields: Map<String, Value>,
    nested: Option<&str>,
    redactor: &Redactor,
) -> std::result::Result<TokenResponse, String> {
    let taken_from = lift_nested(&mut fields, nested)?;
    let access_token = access_token(&mut fields, redactor)?;
    let token_type = fields.shift_remove("token_type").as_ref().and_then(text);
    if let Some(t) = token_type.as_deref().filter(|t| !is_header_safe(t)) {
        return Err(format!(
            "its token_type cannot go in an Authorization header: {}; nothing was saved",
            header_unsafe_reason(t)
        ));
    }
    let expiry = Expiry::read(&mut fields);
    let created_at = fields.get("created_at").and_then(seconds);
    let refresh_token = match fields.shift_remove("refresh_token") {
        Some(Value::String(s)) if !s.is_empty() => Some(RefreshToken::new(s)),
        _ => None,
    };
    let scope = fields.shift_remove("scope").and_then(scope_text);
    Ok(TokenResponse {
        access_token,
        token_type,
        refresh_token,
        expires_in: expiry.seconds,
        expires_in_as_sent: expiry.as_sent,
        created_at,
        scope,
        extra: fields,
        warnings: expiry.warning.into_iter().collect(),
        taken_from,
        date: None,
    })
}

/// A `scope` as one space-separated string; some providers send it as an array.
fn scope_text(scope: Value) -> Option<String> {
    match scope {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        v => text(&v),
    }
}

/// The refresh token an answer holds, at the top or where its tokens are nested.
fn carried_refresh_token(
    fields: &Map<String, Value>,
    nested: Option<&str>,
) -> Option<RefreshToken> {
    let at = |v: Option<&Value>| {
        v.and_then(|v| v.get("refresh_token"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(RefreshToken::new)
    };
    at(Some(&Value::Object(fields.clone()))).or_else(|| match nested {
        Some(path) => at(fields.get(path)),
        None => providers::NESTED_TOKENS
            .iter()
            .find_map(|path| at(fields.get(*path))),
    })
}

/// The token fields answered under a nested object (Slack's `authed_user`) made the
/// answer's own, replacing the top level's (a bot token's), and taken out of it so the
/// account holds one copy; the rest is kept as it came. A configured path whose object is
/// there but holds no token is passed over when the top level has one: Slack answers a
/// refresh at the top, with `authed_user` holding only the user's id.
/// Returns where the tokens came from.
fn lift_nested(
    fields: &mut Map<String, Value>,
    configured: Option<&str>,
) -> std::result::Result<Option<String>, String> {
    const TOKEN_FIELDS: [&str; 5] = [
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
    ];
    let has_token = |v: Option<&Value>| {
        v.and_then(|v| v.get("access_token"))
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty())
    };
    let path = match configured {
        Some(path)
            if fields.get(path).is_some_and(Value::is_object)
                && !has_token(fields.get(path))
                && fields.contains_key("access_token") =>
        {
            return Ok(None);
        }
        Some(path) => path,
        None if fields.contains_key("access_token") => return Ok(None),
        None => match providers::NESTED_TOKENS
            .iter()
            .find(|path| has_token(fields.get(**path)))
        {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let Some(Value::Object(nested)) = fields.get(path).cloned() else {
        return Err(format!(
            "it has no object \"{}\" (tokenResponsePath) to take the tokens from",
            printable(path)
        ));
    };
    if !has_token(fields.get(path)) {
        return Err(format!(
            "its \"{}\" (tokenResponsePath) holds no access_token",
            printable(path)
        ));
    }
    let mut rest = nested;
    for key in TOKEN_FIELDS {
        fields.shift_remove(key);
        if let Some(v) = rest.shift_remove(key) {
            fields.insert(key.to_string(), v);
        }
    }
    fields.insert(path.to_string(), Value::Object(rest));
    Ok(Some(path.to_string()))
}

/// An `error` field, whatever the status: the provider's words, with what we sent taken out.
/// A refusal in HubSpot's shape (`status` and `message`, no `error`) is read the same way.
fn provider_error(
    url: &str,
    status: u16,
    fields: &Map<String, Value>,
    redactor: &Redactor,
) -> Option<Error> {
    let provider_text = |v: &Value| text(v).map(|t| printable(&redactor.redact(&t)));
    let (error_key, description_key) = match fields.get("status") {
        Some(Value::String(_)) if status >= 400 && !fields.contains_key("error") => {
            ("status", "message")
        }
        _ => ("error", "error_description"),
    };
    let error = fields
        .get(error_key)
        .and_then(provider_text)
        .filter(|e| !e.trim().is_empty())?;
    Some(
        ProviderError::TokenEndpoint {
            url: url.into(),
            status,
            error,
            description: fields.get(description_key).and_then(provider_text),
            uri: fields.get("error_uri").and_then(provider_text),
        }
        .into(),
    )
}

/// The access token, which must be usable as a bearer token in a header and printable as
/// is (`token` prints it for `$(…)`); otherwise why not, without quoting it.
fn access_token(
    fields: &mut Map<String, Value>,
    redactor: &Redactor,
) -> std::result::Result<AccessToken, String> {
    match fields.shift_remove("access_token") {
        Some(Value::String(s)) if !s.is_empty() => {
            if is_header_safe(&s) {
                Ok(AccessToken::new(s))
            } else {
                Err(format!(
                    "its access_token cannot be a bearer token (RFC 6750): {}; nothing was saved",
                    header_unsafe_reason(&s)
                ))
            }
        }
        _ => {
            // Names only when they look like names: a body parsed as a form by mistake has
            // its whole text as one "name", and that text may hold a token.
            let names: Vec<_> = fields
                .keys()
                .filter(|k| {
                    k.len() <= 40
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                })
                .map(|k| printable(&mask_token_like(&redactor.redact(k))))
                .collect();
            Err(format!(
                "no access_token in it (fields: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
        }
    }
}

/// The longest lifetime taken at its word: beyond it, a provider's `expires_in` is a bug or
/// a "never" spelled as a number, and computing an expiry from it would be a lie.
const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// What the provider said about the token's lifetime.
struct Expiry {
    seconds: Option<u64>,
    /// Sent but not usable: stored as it came.
    as_sent: Option<Value>,
    warning: Option<String>,
}

impl Expiry {
    /// `expires_in` (or its old alias `expires`, which then stays in the account as sent).
    fn read(fields: &mut Map<String, Value>) -> Expiry {
        let raw = fields
            .shift_remove("expires_in")
            .or_else(|| fields.get("expires").cloned())
            .filter(|v| !v.is_null());
        let Some(raw) = raw else {
            return Expiry {
                seconds: None,
                as_sent: None,
                warning: None,
            };
        };
        let shown = printable(&raw.to_string());
        let warning = match seconds(&raw) {
            // "No lifetime stated", as providers that send it mean it (Mailchimp), not
            // "already expired": kept as sent, with no expiry.
            Some(0) => {
                return Expiry {
                    seconds: None,
                    as_sent: Some(raw),
                    warning: None,
                };
            }
            Some(secs) if secs <= MAX_LIFETIME_SECS => {
                return Expiry {
                    seconds: Some(secs),
                    as_sent: None,
                    warning: None,
                };
            }
            Some(_) => format!(
                "the provider's expires_in {shown} is beyond any sensible lifetime (over 10 years), \
                 so the token is taken as having no known expiry"
            ),
            None => format!(
                "the provider's expires_in {shown} is not a number of seconds, so no expiry was stored"
            ),
        };
        Expiry {
            seconds: None,
            as_sent: Some(raw),
            warning: Some(warning),
        }
    }
}

/// JSON when it is JSON, form-encoded when it is that (GitHub's default); `None` otherwise.
fn parse_body(content_type: &str, body: &[u8]) -> Option<Map<String, Value>> {
    let trimmed = body.trim_ascii();
    if content_type.contains("json") || trimmed.starts_with(b"{") {
        if let Ok(Value::Object(map)) = serde_json::from_slice(body) {
            return Some(map);
        }
        if trimmed.starts_with(b"{") {
            return None;
        }
        // Said JSON, sent a form (a provider's content type, or a configured one, can be wrong).
    }
    // A form has at least one `name=value`; text without one is not a form, whatever the
    // content type says.
    let has_pair = trimmed.contains(&b'=');
    let looks_like_form = (content_type.contains("x-www-form-urlencoded") && has_pair)
        || (!trimmed.is_empty()
            && !trimmed.starts_with(b"<")
            && std::str::from_utf8(trimmed).is_ok_and(|s| {
                s.trim().split('&').all(|pair| pair.contains('='))
                    && !s.contains(char::is_whitespace)
            }));
    if !looks_like_form {
        return None;
    }
    let map: Map<String, Value> = url::form_urlencoded::parse(trimmed)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (!map.is_empty()).then_some(map)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f.round() as u64)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bodies as providers and proxies send them, around a secret we sent.
    fn bodies(secret: String) -> impl Strategy<Value = String> {
        let s = secret;
        prop_oneof![
            "\\PC{0,300}".prop_map({
                let s = s.clone();
                move |noise| format!("{noise}{s}{noise}")
            }),
            "\\PC{0,100}".prop_map({
                let s = s.clone();
                move |d| format!(r#"{{"error":"invalid_grant","error_description":"{d} {s}"}}"#)
            }),
            "\\PC{0,100}".prop_map({
                let s = s.clone();
                move |d| format!("error=bad&error_description={d}+{}", form_encode(&s))
            }),
            "\\PC{0,100}".prop_map({
                let s = s.clone();
                move |d| format!(r#"{{"access_token":{d:?},"refresh_token":"{s}","#)
            }),
            "\\PC{0,100}".prop_map({
                let s = s.clone();
                move |d| format!("<html><body>{d} {s}</body></html>")
            }),
            // The HTTP Basic header, echoed back by a careless server.
            "\\PC{0,100}".prop_map(move |d| format!("{d} Basic {}", basic_header(&s))),
        ]
    }

    const ECHO_ID: &str = "fake client/id";

    fn basic_header(secret: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_encode(ECHO_ID),
            form_encode(secret)
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Whatever comes back, parsing never panics and no error text carries a secret we
        /// sent, raw, form-encoded or inside the HTTP Basic header.
        #[test]
        fn any_token_response_is_interpreted_without_echoing_a_sent_secret(
            (secret, body) in "[A-Za-z0-9+/=_.~-]{12,48}".prop_flat_map(|s| (Just(s.clone()), bodies(s))),
            status in prop_oneof![Just(200u16), Just(201), Just(400), Just(401), Just(500), Just(503), 100u16..600],
            content_type in prop_oneof![
                Just("application/json".to_string()),
                Just("application/x-www-form-urlencoded".to_string()),
                Just("text/html; charset=utf-8".to_string()),
                Just("text/plain".to_string()),
                "\\PC{0,40}",
            ],
        ) {
            let mut redactor = Redactor::new(&[secret.as_str()]);
            redactor.add_basic(ECHO_ID, &secret);
            if let Err(e) = interpret("http://t", status, &content_type, body.as_bytes(), &redactor) {
                let text = format!("{e} {}", e.hint().unwrap_or_default());
                prop_assert!(!text.contains(&secret), "{}", text);
                prop_assert!(!text.contains(&form_encode(&secret)), "{}", text);
                prop_assert!(!text.contains(&basic_header(&secret)), "{}", text);
            }
        }
    }

    fn ok(ct: &str, body: &str) -> TokenResponse {
        interpret("http://t", 200, ct, body.as_bytes(), &Redactor::default()).unwrap()
    }

    #[test]
    fn tolerant_json_fields() {
        let r = ok(
            "application/json",
            r#"{"access_token":"a","expires_in":"3600","token_type":"bearer","created_at":1700000000,"instance_url":"https://x"}"#,
        );
        assert_eq!(r.expires_in, Some(3600));
        assert_eq!(r.created_at, Some(1_700_000_000));
        assert_eq!(r.token_type.as_deref(), Some("bearer"));
        assert!(r.refresh_token.is_none());
        assert_eq!(r.extra["instance_url"], "https://x");
    }

    #[test]
    fn form_encoded_body_is_accepted() {
        let r = ok(
            "application/x-www-form-urlencoded; charset=utf-8",
            "access_token=gho_abc&scope=repo%2Cuser&token_type=bearer",
        );
        assert_eq!(r.access_token.expose(), "gho_abc");
        assert_eq!(r.scope.as_deref(), Some("repo,user"));
    }

    #[test]
    fn error_in_a_200_body_is_an_error() {
        let e = interpret(
            "http://t",
            200,
            "application/json",
            br#"{"ok":false,"error":"invalid_code"}"#,
            &Redactor::default(),
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::Provider(ProviderError::TokenEndpoint { ref error, .. }) if error == "invalid_code")
        );
    }

    #[test]
    fn missing_access_token_is_named() {
        let e = interpret(
            "http://t",
            200,
            "application/json",
            br#"{"token_type":"bearer"}"#,
            &Redactor::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no access_token"), "{e}");
    }

    #[test]
    fn rfc6749_error_keeps_the_providers_words() {
        let e = interpret(
            "http://t",
            400,
            "application/json",
            br#"{"error":"invalid_grant","error_description":"code expired"}"#,
            &Redactor::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token endpoint http://t answered 400 invalid_grant: code expired"
        );
        assert!(
            matches!(e, Error::Provider(ProviderError::TokenEndpoint { status: 400, ref error, .. }) if error == "invalid_grant")
        );
    }

    #[test]
    fn html_error_page_shows_status_and_redacted_snippet() {
        let secret = ClientSecret::new("s3cr3t value/+");
        let e = interpret(
            "http://t",
            502,
            "text/html",
            b"<html>\n bad gateway s3cr3t value/+ s3cr3t+value%2F%2B </html>",
            &Redactor::new(&[secret.expose()]),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("502") && msg.contains("text/html") && msg.contains("bad gateway"),
            "{msg}"
        );
        assert!(!msg.contains("s3cr3t"), "{msg}");
    }

    #[test]
    fn an_unparseable_success_body_is_shown_with_tokens_masked() {
        let body = br#"{"access_token":"fresh2token4abcdef","refresh_token":"Zm9vYmFyYmF6cXV4cXV1eHh4eHl5eXo","code":"s3cr3t-known",}"#;
        let known = AuthorizationCode::new("s3cr3t-known");
        let e = interpret(
            "http://t",
            200,
            "application/json",
            body,
            &Redactor::new(&[known.expose()]),
        )
        .unwrap_err();
        let msg = e.to_string();
        for leaked in [
            "fresh2token4abcdef",
            "Zm9vYmFyYmF6cXV4cXV1eHh4eHl5eXo",
            "s3cr3t",
        ] {
            assert!(!msg.contains(leaked), "{msg}");
        }
        assert!(
            msg.contains("application/json")
                && msg.contains("bytes")
                && msg.contains(r#"{"access_token":"fres… (18 chars)","refresh_token":"Zm9v…"#),
            "{msg}"
        );
    }

    #[test]
    fn an_html_success_page_is_shown_readably() {
        let body = b"<!DOCTYPE html>\n<html><head><title>Sign in to Example</title></head>";
        let e = interpret(
            "http://t",
            200,
            "text/html; charset=utf-8",
            body,
            &Redactor::default(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("text/html") && msg.contains("<title>Sign in to Example</title>"),
            "{msg}"
        );
    }

    #[test]
    fn token_like_words_are_masked_whatever_their_alphabet_and_markup_is_kept() {
        let m = crate::secret::mask;
        for (text, masked) in [
            (
                "gho_16C7e42F292c6912E7710c838347Ae178B4a",
                m("gho_16C7e42F292c6912E7710c838347Ae178B4a"),
            ),
            (
                "access_token=Zm9v%2BYmFy%2FYmF6cXV4%3D%3D&scope=a b",
                format!(
                    "access_token={}&scope=a b",
                    m("Zm9v%2BYmFy%2FYmF6cXV4%3D%3D")
                ),
            ),
            (
                r#"{"t":"ab12\/cd34\/ef56"}"#,
                format!(r#"{{"t":"{}"}}"#, m(r"ab12\/cd34\/ef56")),
            ),
            (
                "abcdefghijklmnopqrstuvwxyzABCDE",
                m("abcdefghijklmnopqrstuvwxyzABCDE"),
            ),
            ("123456789012345678901234", m("123456789012345678901234")),
            ("abc123XYZ789def", m("abc123XYZ789def")),
            ("tok:en!with*odd~chars", m("tok:en!with*odd~chars")),
            (
                "<title>Sign in to Example</title>",
                "<title>Sign in to Example</title>".into(),
            ),
            ("short a1b2c3 words", "short a1b2c3 words".into()),
        ] {
            assert_eq!(mask_token_like(text), masked, "{text}");
        }
    }

    #[test]
    fn a_secret_across_the_snippet_cut_is_still_redacted() {
        let secret = ClientSecret::new("fake-client-secret-straddling");
        let body = format!("{}{}", "x ".repeat(95), secret.expose());
        let e = interpret(
            "http://t",
            400,
            "text/plain",
            body.as_bytes(),
            &Redactor::new(&[secret.expose()]),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("fake-client"), "{e}");
        let e = interpret(
            "http://t",
            200,
            "text/plain",
            body.as_bytes(),
            &Redactor::default(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("fake-client-se"), "{e}");
    }

    #[test]
    fn only_the_first_200_bytes_are_shown() {
        let body = format!("<p>{}</p><p>TAIL</p>", "word ".repeat(60));
        let e = interpret(
            "http://t",
            502,
            "text/html",
            body.as_bytes(),
            &Redactor::default(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("<p>word word") && !msg.contains("TAIL"),
            "{msg}"
        );
    }

    /// Found by the fuzz property: text labelled as a form, with no `name=value` in it, was
    /// parsed as one field named after the whole text, and that name was then printed.
    #[test]
    fn text_labelled_as_a_form_is_not_quoted_as_field_names() {
        let secret = ClientSecret::new("fake-known-secret-0001");
        let body = b"<html><body> fake-known-secret-0001 fresh0token0here0000 </body></html>";
        let e = interpret(
            "http://t",
            200,
            "application/x-www-form-urlencoded",
            body,
            &Redactor::new(&[secret.expose()]),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            !msg.contains("fake-known-secret") && !msg.contains("fresh0token0here"),
            "{msg}"
        );
        assert!(msg.contains("expected JSON or a form body"), "{msg}");
    }

    #[test]
    fn a_form_body_under_a_json_content_type_is_still_read() {
        let r = ok(
            "application/json",
            "access_token=fake-form-token&token_type=bearer",
        );
        assert_eq!(r.access_token.expose(), "fake-form-token");
    }

    #[test]
    fn an_empty_error_field_is_no_error() {
        let r = ok("application/json", r#"{"access_token":"a","error":""}"#);
        assert_eq!(r.access_token.expose(), "a");
    }

    #[test]
    fn expires_in_zero_is_no_lifetime_stated_and_kept_as_sent() {
        let r = interpret(
            "https://t",
            200,
            "application/json",
            br#"{"access_token":"a","expires_in":0}"#,
            &Redactor::default(),
        )
        .unwrap();
        assert_eq!(r.expires_in, None);
        assert_eq!(r.expires_in_as_sent, Some(serde_json::json!(0)));
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn expires_in_as_a_decimal_string_is_read_and_garbage_is_reported() {
        assert_eq!(
            ok(
                "application/json",
                r#"{"access_token":"a","expires_in":"3600.0"}"#
            )
            .expires_in,
            Some(3600)
        );
        let r = ok(
            "application/json",
            r#"{"access_token":"a","expires_in":"soon"}"#,
        );
        assert_eq!(r.expires_in, None);
        assert!(
            r.warnings[0].contains("expires_in \"soon\" is not a number of seconds"),
            "{:?}",
            r.warnings
        );
        assert!(
            ok("application/json", r#"{"access_token":"a"}"#)
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn a_form_body_with_a_trailing_newline_parses() {
        let r = ok("text/plain", "access_token=abc&token_type=bearer\n");
        assert_eq!(r.access_token.expose(), "abc");
    }

    #[test]
    fn terminal_escapes_in_provider_text_are_neutralised() {
        let e = interpret(
            "http://t",
            400,
            "application/json",
            b"{\"error\":\"bad\",\"error_description\":\"x\\u001b[31my\"}",
            &Redactor::default(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            !msg.contains('\u{1b}') && msg.contains("x\\u{1b}[31my"),
            "{msg}"
        );
    }

    #[test]
    fn a_request_carries_its_basic_credentials_marked_sensitive_and_its_debug_shows_none() {
        let endpoint = Endpoint {
            url: "https://idp.example.test/token?key=fake-query-key".into(),
            client_id: "fake-id".into(),
            client_secret: Some(ClientSecret::new("fake-secret-0001")),
            auth: ClientAuth::Basic,
            format: BodyFormat::Form,
            response_type: None,
            token_path: None,
        };
        let grant = Grant::RefreshToken {
            refresh_token: RefreshToken::new("fake-refresh-0001"),
        };
        let request = Prepared::new(&endpoint, &grant, &[])
            .unwrap()
            .http_request(&endpoint);
        let basic = &request.headers[AUTHORIZATION];
        assert!(basic.is_sensitive());
        // What reqwest's `basic_auth("fake-id", Some("fake-secret-0001"))` sends.
        assert_eq!(basic, "Basic ZmFrZS1pZDpmYWtlLXNlY3JldC0wMDAx");
        assert_eq!(
            request.body,
            b"grant_type=refresh_token&refresh_token=fake-refresh-0001"
        );
        let shown = format!("{request:?}");
        for secret in [
            "ZmFrZS1pZDpm",
            "fake-secret",
            "fake-refresh",
            "fake-query-key",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn debug_of_a_response_shows_no_token() {
        let r = ok(
            "application/json",
            r#"{"access_token":"very-secret-token","refresh_token":"rt-secret","id_token":"idt"}"#,
        );
        let d = format!("{r:?}");
        assert!(
            !d.contains("very-secret") && !d.contains("rt-secret") && !d.contains("idt\""),
            "{d}"
        );
    }
}
