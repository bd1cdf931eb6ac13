//! The token endpoint (code exchange, refresh, client credentials) and userinfo. The
//! sandbox checks and remembers; the persona decides how the client must authenticate,
//! which bodies it reads, what a refresh does to the refresh token, and how answers and
//! refusals look.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::persona::{BodyRule, ClientAuthRule, Issued, Persona, Rotation, TokenRequest};
use super::store::{Asked, Store};
use super::{CLIENT_ID, CLIENT_SECRET, PASSWORD, Shared, USERNAME, pairs};
use crate::secret::constant_time_eq;

pub async fn token(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let persona = &*shared.persona;
    shared.store().stats.token_requests += 1;
    let tenant = match super::tenant(&shared, uri.path()) {
        Some(Err(answer)) => return answer,
        Some(Ok(tenant)) => Some(tenant),
        None => None,
    };
    let req = read(uri.path(), &headers, &body);
    let refuse = |status: u16, error: &str, description: &str| {
        persona.error(status, error, description, &req)
    };
    if let Some(expected) = wrong_body(persona.body(), req.json) {
        return refuse(400, "invalid_request", expected);
    }
    let mut store = shared.store();
    if let Err(why) = client_ok(&shared, persona.client_auth(), &req, &mut store) {
        return refuse(401, "invalid_client", &why);
    }
    match grant(&shared, &mut store, &req, tenant) {
        Ok((issued, asked)) => {
            let mut fields = persona.answer(&issued, &asked, &mut store);
            if let Some(issuer) = persona.id_token_issuer(&shared.url)
                && asked.has_scope("openid")
                && issued.grant != 0
                && !fields.contains_key("id_token")
            {
                let user = store.user(issued.grant);
                let id_token = super::identity::id_token(&issuer, &user, &asked);
                fields.insert("id_token".into(), json!(id_token));
            }
            let skewed = skewed(&shared, &mut fields);
            let mut answer = persona.respond(fields, &req);
            if let Some(date) = skewed {
                answer.headers_mut().insert(header::DATE, date);
            }
            answer
        }
        Err((status, error, description)) => refuse(status, error, &description),
    }
}

/// The tokens the request's grant earns, or the refusal; grants the persona's provider
/// does not offer are unsupported.
fn grant(
    shared: &Shared,
    store: &mut Store,
    req: &TokenRequest,
    tenant: Option<String>,
) -> Result<(Issued, Asked), Refused> {
    let persona = &*shared.persona;
    match req.get("grant_type") {
        "password" if persona.provider().is_none() => password(persona, store, req),
        crate::token::JWT_BEARER => match &shared.verifier {
            Some(verifier) => jwt_bearer(persona, store, verifier, req),
            None => Err((
                400,
                "unsupported_grant_type",
                "start the sandbox with --jwt-public-key to accept assertions".into(),
            )),
        },
        "authorization_code" => exchange_code(persona, store, req, tenant.as_deref()),
        "refresh_token" => refresh(persona, store, req.get("refresh_token"), tenant.as_deref()),
        "client_credentials" if persona.client_credentials() => {
            client_credentials(persona, store, req.get("scope"), tenant)
        }
        other => Err((
            400,
            "unsupported_grant_type",
            format!("grant_type {other:?} is not supported by the sandbox"),
        )),
    }
}

/// What the persona's provider expects instead of the body it got, if it refuses it.
fn wrong_body(rule: BodyRule, json: bool) -> Option<&'static str> {
    match (rule, json) {
        (BodyRule::Form, true) => Some("expected a form body (application/x-www-form-urlencoded)"),
        (BodyRule::Json, false) => Some("expected a JSON body (application/json)"),
        _ => None,
    }
}

/// `created_at` from a clock that is behind, and the `Date` header from the same clock
/// when the persona's provider says so (see `Skew`).
fn skewed(
    shared: &Shared,
    fields: &mut serde_json::Map<String, Value>,
) -> Option<axum::http::HeaderValue> {
    let skew = shared.skew?;
    let then = std::time::SystemTime::now().checked_sub(skew.behind)?;
    let secs = then.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    fields.insert("created_at".into(), json!(secs));
    skew.date_too
        .then(|| axum::http::HeaderValue::from_str(&httpdate::fmt_http_date(then)).ok())
        .flatten()
}

/// A refusal: status, error, description.
type Refused = (u16, &'static str, String);

/// The body as fields (JSON or a form, by its content type), and the client's credentials.
pub(super) fn read(path: &str, headers: &HeaderMap, body: &str) -> TokenRequest {
    let header_text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let json =
        header_text(header::CONTENT_TYPE).is_some_and(|ct| ct.starts_with("application/json"));
    let fields = if json {
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => HashMap::new(),
        }
    } else {
        pairs(body)
    };
    let basic = header_text(header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .map(|pair| {
            let (id, secret) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (decode(id), decode(secret))
        });
    TokenRequest {
        fields,
        json,
        basic,
        accepts_json: header_text(header::ACCEPT).is_some_and(|a| a.contains("application/json")),
        path: path.to_string(),
    }
}

/// The client, as the persona's provider wants it to authenticate: never by two methods at
/// once (RFC 6749 §2.3); a signed client assertion (RFC 7523 §2.2) when the sandbox has a
/// key to check it with.
pub(super) fn client_ok(
    shared: &Shared,
    rule: ClientAuthRule,
    req: &TokenRequest,
    store: &mut Store,
) -> Result<(), String> {
    let failed = || Err("client authentication failed".to_string());
    if !req.get("client_assertion").is_empty() {
        if req.basic.is_some() || req.fields.contains_key("client_secret") {
            return failed();
        }
        let Some(verifier) = &shared.verifier else {
            return Err("start the sandbox with --jwt-public-key to accept assertions".into());
        };
        if req.get("client_assertion_type")
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        {
            return Err("client_assertion_type must be …:client-assertion-type:jwt-bearer".into());
        }
        let claims =
            verifier.verify(req.get("client_assertion"), &req.path, &mut store.seen_jti)?;
        let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
        if claim("iss") != CLIENT_ID || claim("sub") != CLIENT_ID {
            return Err(format!(
                "the client assertion's iss and sub must be {CLIENT_ID}"
            ));
        }
        return Ok(());
    }
    // RFC 7523 §3.1: the jwt-bearer grant needs no client authentication; the
    // assertion speaks for itself.
    let anonymous = req.basic.is_none() && !req.fields.contains_key("client_secret");
    if anonymous && req.get("grant_type") == crate::token::JWT_BEARER {
        return Ok(());
    }
    if client_secret_ok(rule, req) {
        Ok(())
    } else {
        failed()
    }
}

fn client_secret_ok(rule: ClientAuthRule, req: &TokenRequest) -> bool {
    use ClientAuthRule::{BasicOnly, BasicWithId, BodyOnly};
    let in_body = req.fields.contains_key("client_secret");
    let (id, secret) = match (&req.basic, rule) {
        (Some(_), _) if in_body => return false,
        (Some(_), BodyOnly) | (None, BasicOnly | BasicWithId) => return false,
        (Some((id, _)), BasicWithId) if req.fields.get("client_id") != Some(id) => return false,
        (Some((id, secret)), _) => (id.as_str(), secret.as_str()),
        (None, _) => (req.get("client_id"), req.get("client_secret")),
    };
    id == CLIENT_ID && constant_time_eq(secret.as_bytes(), CLIENT_SECRET.as_bytes())
}

/// New tokens for `grant`: an access token, and `refresh` beside it.
fn issue(
    persona: &dyn Persona,
    store: &mut Store,
    (grant, asked): (u64, &Asked),
    refresh: Option<String>,
    (refreshed, user): (bool, bool),
) -> Issued {
    let lifetime = persona.lifetime(store.lifetimes.access_token);
    let access = store.mint_access(grant, persona.prefixes(asked, user).0, lifetime);
    Issued {
        grant,
        access,
        refresh,
        expires_in: lifetime.map(|d| d.as_secs()),
        refreshed,
        user,
    }
}

/// A code for tokens, checked as a strict server checks it: single use (a replay revokes
/// what it gave), unexpired, the same redirect URI, and the PKCE verifier.
fn exchange_code(
    persona: &dyn Persona,
    store: &mut Store,
    req: &TokenRequest,
    tenant: Option<&str>,
) -> Result<(Issued, Asked), Refused> {
    let invalid = |description: &str| Err((400, "invalid_grant", description.to_string()));
    let presented = req.get("code");
    if let Some(grant) = store.spent_codes.get(presented).copied() {
        store.revoke(grant);
        return invalid("code already used; its tokens are revoked");
    }
    let Some(code) = store.codes.remove(presented) else {
        return invalid("unknown code");
    };
    store.spent_codes.insert(presented.to_string(), code.grant);
    if code.issued.elapsed() > store.lifetimes.code {
        return invalid("code expired");
    }
    if req.get("redirect_uri") != code.redirect_uri {
        return invalid("redirect_uri does not match the authorization request");
    }
    if !code.challenge.is_empty() {
        // RFC 7636 §4.1: 43 to 128 characters.
        let verifier = req.get("code_verifier");
        if !(43..=128).contains(&verifier.len()) {
            return invalid("code_verifier must be 43 to 128 characters");
        }
        let verifier = oauth2::PkceCodeVerifier::new(verifier.to_string());
        let computed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        if !constant_time_eq(computed.as_str().as_bytes(), code.challenge.as_bytes()) {
            return invalid("PKCE verification failed");
        }
    }
    let asked = store.grants.get(&code.grant).cloned().unwrap_or_default();
    if asked.tenant.as_deref() != tenant {
        return invalid("this code was issued by another tenant");
    }
    let refresh = code
        .offline
        .then(|| store.mint_refresh(code.grant, persona.prefixes(&asked, false).1));
    let issued = issue(
        persona,
        store,
        (code.grant, &asked),
        refresh,
        (false, false),
    );
    Ok((issued, asked))
}

/// A refresh, with what the persona's provider does to the refresh token; presenting a
/// spent one, where the provider rotates strictly, revokes the whole grant.
fn refresh(
    persona: &dyn Persona,
    store: &mut Store,
    presented: &str,
    tenant: Option<&str>,
) -> Result<(Issued, Asked), Refused> {
    if let Some(grant) = store.spent_refresh.get(presented).copied() {
        store.stats.reused_refresh_tokens += 1;
        store.revoke(grant);
        return Err((
            400,
            "invalid_grant",
            "refresh token already used; the grant is revoked".into(),
        ));
    }
    let Some(grant) = store.refresh.get(presented).copied() else {
        return Err((
            400,
            "invalid_grant",
            "unknown or revoked refresh token".into(),
        ));
    };
    let asked = store.grants.get(&grant).cloned().unwrap_or_default();
    if asked.tenant.as_deref() != tenant {
        return Err((
            400,
            "invalid_grant",
            "this refresh token was issued by another tenant".into(),
        ));
    }
    let user = store.user_refresh.contains(presented);
    let prefix = persona.prefixes(&asked, user).1;
    let refresh = match persona.rotation() {
        Rotation::Revoking => {
            store.refresh.remove(presented);
            store.spent_refresh.insert(presented.to_string(), grant);
            store.mint_refresh(grant, prefix)
        }
        Rotation::Lenient => store.mint_refresh(grant, prefix),
        Rotation::Kept => presented.to_string(),
    };
    if user {
        store.user_refresh.insert(refresh.clone());
    }
    if persona.refresh_revokes_access() {
        store.access.retain(|_, (g, _)| *g != grant);
    }
    store.stats.refreshes += 1;
    let issued = issue(persona, store, (grant, &asked), Some(refresh), (true, user));
    Ok((issued, asked))
}

/// The sandbox user's own password (RFC 6749 §4.3): a grant with a refresh token, as a
/// login gives.
fn password(
    persona: &dyn Persona,
    store: &mut Store,
    req: &TokenRequest,
) -> Result<(Issued, Asked), Refused> {
    let right = req.get("username") == USERNAME
        && constant_time_eq(req.get("password").as_bytes(), PASSWORD.as_bytes());
    if !right {
        return Err((400, "invalid_grant", "wrong username or password".into()));
    }
    let asked = Asked {
        params: [("scope".to_string(), req.get("scope").to_string())].into(),
        tenant: None,
    };
    let grant = store.new_grant(asked.clone());
    let refresh = Some(store.mint_refresh(grant, persona.prefixes(&asked, false).1));
    let issued = issue(persona, store, (grant, &asked), refresh, (false, false));
    Ok((issued, asked))
}

/// A token for a signed assertion (RFC 7523 §2.1): no refresh token, as servers do.
fn jwt_bearer(
    persona: &dyn Persona,
    store: &mut Store,
    verifier: &super::assertion::Verifier,
    req: &TokenRequest,
) -> Result<(Issued, Asked), Refused> {
    let claims = verifier
        .verify(req.get("assertion"), &req.path, &mut store.seen_jti)
        .map_err(|why| (400, "invalid_grant", why))?;
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or(req.get("scope"))
        .to_string();
    let asked = Asked {
        params: [("scope".to_string(), scope)].into(),
        tenant: None,
    };
    let grant = store.new_grant(asked.clone());
    let issued = issue(persona, store, (grant, &asked), None, (false, false));
    Ok((issued, asked))
}

fn client_credentials(
    persona: &dyn Persona,
    store: &mut Store,
    scope: &str,
    tenant: Option<String>,
) -> Result<(Issued, Asked), Refused> {
    if let Some(known) = persona.scopes()
        && let Some(unknown) = scope.split_whitespace().find(|s| !known.contains(s))
    {
        return Err((400, "invalid_scope", format!("unknown scope {unknown}")));
    }
    let asked = Asked {
        params: [("scope".to_string(), scope.to_string())].into(),
        tenant,
    };
    let issued = issue(persona, store, (0, &asked), None, (false, false));
    Ok((issued, asked))
}

pub async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let store = shared.store();
    match store.access.get(token) {
        Some((grant, expiry)) if expiry.is_none_or(|at| at > Instant::now()) => {
            let scope = store.grants.get(grant).map_or("", |a| a.scope());
            let user = store.user(*grant);
            let who = super::identity::described(crate::identity::Shape::Userinfo, &user, scope);
            super::persona::json_response(200, who)
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A provider that wants HTTP Basic and the client's id in the body beside it.
    struct IdBesideBasic;

    impl Persona for IdBesideBasic {
        fn name(&self) -> &'static str {
            "id-beside-basic"
        }

        fn reproduces(&self) -> &'static str {
            "Basic, and client_id in the body"
        }

        fn client_credentials(&self) -> bool {
            true
        }

        fn client_auth(&self) -> ClientAuthRule {
            ClientAuthRule::BasicWithId
        }
    }

    /// A client credentials request with `body` (a form) and, when given, Basic for
    /// `CLIENT_ID` and `secret`: the status and the `error` answered.
    async fn ask(body: &str, secret: Option<&str>) -> (StatusCode, Option<String>) {
        let shared = Arc::new(Shared {
            url: "http://127.0.0.1:1".into(),
            store: Mutex::new(Store::default()),
            persona: Box::new(IdBesideBasic),
            verifier: None,
            skew: None,
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        if let Some(secret) = secret {
            let pair = STANDARD.encode(format!("{CLIENT_ID}:{secret}"));
            headers.insert(
                header::AUTHORIZATION,
                format!("Basic {pair}").parse().unwrap(),
            );
        }
        let uri: Uri = "/token".parse().unwrap();
        let answer = token(State(shared), uri, headers, body.to_string()).await;
        let status = answer.status();
        let bytes = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        let error = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
        (status, error)
    }

    #[tokio::test]
    async fn basic_with_id_wants_the_clients_id_beside_basic_and_never_the_secret() {
        let grant = "grant_type=client_credentials&scope=read";
        let with_id = format!("{grant}&client_id={CLIENT_ID}");
        let (status, error) = ask(&with_id, Some(CLIENT_SECRET)).await;
        assert_eq!((status, error), (StatusCode::OK, None));
        let refused = Some("invalid_client".to_string());
        for (body, secret) in [
            (grant.to_string(), Some(CLIENT_SECRET)),
            (
                format!("{grant}&client_id=someone-else"),
                Some(CLIENT_SECRET),
            ),
            (format!("{grant}&client_id="), Some(CLIENT_SECRET)),
            (
                format!("{with_id}&client_secret={CLIENT_SECRET}"),
                Some(CLIENT_SECRET),
            ),
            (format!("{with_id}&client_secret={CLIENT_SECRET}"), None),
            (with_id.clone(), Some("not-the-secret")),
        ] {
            let answer = ask(&body, secret).await;
            assert_eq!(
                answer,
                (StatusCode::UNAUTHORIZED, refused.clone()),
                "{body}"
            );
        }
    }
}
