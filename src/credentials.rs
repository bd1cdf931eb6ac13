//! The `X-Unito-Credentials` header: how the platform hands a test account to the connector.
//! Its value is base64 (standard alphabet, padded) of the UTF-8 JSON of the whole test
//! account object; the connector SDK reads it back with
//! `JSON.parse(Buffer.from(value, 'base64'))` and answers 400 when that fails.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::error::{EnvError, Result};
use crate::redact::printable;
use crate::secret::mask;

pub const HEADER: &str = "X-Unito-Credentials";
pub const SECRETS_HEADER: &str = "X-Unito-Secrets";
pub const CORRELATION_HEADER: &str = "X-Unito-Correlation-Id";

/// Values the platform encrypted for itself start so; they mean nothing to a connector
/// running here.
const ENCRYPTED_PREFIX: &str = "unito-secret-v1://";

/// The header value for a test account's fields: every key, as stored.
pub fn encode(test_account: &str, fields: &Map<String, Value>) -> Result<String> {
    if let Some(path) = encrypted(fields) {
        return Err(EnvError::EncryptedCredential {
            test_account: test_account.to_string(),
            field: path,
        }
        .into());
    }
    let json = serde_json::to_string(fields).expect("a JSON object serializes");
    Ok(STANDARD.encode(json))
}

/// The file's top-level `secrets` as an `X-Unito-Secrets` value: the plain ones, and the
/// names of those left out because the platform encrypted them.
pub fn encode_secrets(secrets: &Map<String, Value>) -> (Option<String>, Vec<String>) {
    let (mut plain, mut left_out) = (Map::new(), Vec::new());
    for (name, value) in secrets {
        if encrypted_in(value).is_some() {
            left_out.push(name.clone());
        } else {
            plain.insert(name.clone(), value.clone());
        }
    }
    let value = (!plain.is_empty())
        .then(|| STANDARD.encode(serde_json::to_string(&Value::Object(plain)).expect("JSON")));
    (value, left_out)
}

/// Where the first platform-encrypted value sits (`apiKey`, `authed_user.token`,
/// `keys[1]`).
fn encrypted(fields: &Map<String, Value>) -> Option<String> {
    fields
        .iter()
        .find_map(|(key, value)| encrypted_in(value).map(|rest| format!("{key}{rest}")))
}

/// The path below `value` to a platform-encrypted value in it (empty: `value` itself).
fn encrypted_in(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.starts_with(ENCRYPTED_PREFIX) => Some(String::new()),
        Value::Object(inner) => encrypted(inner).map(|rest| format!(".{rest}")),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| encrypted_in(v).map(|rest| format!("[{i}]{rest}"))),
        _ => None,
    }
}

/// A captured header value read as the SDK reads it: the object, or exactly why the SDK
/// would answer 400. A pasted `X-Unito-Credentials: …` line is taken too.
pub fn decode(raw: &str) -> std::result::Result<Map<String, Value>, String> {
    let value = raw.trim();
    let value = value
        .split_once(':')
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case(HEADER))
        .map_or(value, |(_, rest)| rest.trim());
    if value.is_empty() {
        return Err("it is empty".into());
    }
    let bytes = STANDARD.decode(value).map_err(|e| {
        let url_safe = URL_SAFE
            .decode(value)
            .or_else(|_| URL_SAFE_NO_PAD.decode(value));
        let also = if url_safe.is_ok() {
            " (it is base64url; the platform sends the standard alphabet, with + and /)"
        } else {
            ""
        };
        format!(
            "it is not base64 (standard alphabet, with padding): {}{also}",
            not_base64(value, e)
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is base64, but what it holds is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        )
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "it holds JSON, but {} rather than an object",
            kind(&other)
        )),
        Err(e) => Err(format!("it is base64 of text that is not JSON: {e}")),
    }
}

/// What is wrong with a would-be base64 value, in words.
fn not_base64(value: &str, e: base64::DecodeError) -> String {
    use base64::DecodeError::*;
    match e {
        InvalidByte(at, _) => {
            let c = value[at..].chars().next().unwrap_or(' ');
            format!(
                "character {} at position {} is not in its alphabet",
                printable(&format!("{c:?}")),
                at + 1
            )
        }
        InvalidLength(len) => {
            format!(
                "its length, {len} characters, cannot be (it is padded with = to a multiple of 4)"
            )
        }
        InvalidLastSymbol(at, _) => format!(
            "its last character, at position {}, does not end it cleanly",
            at + 1
        ),
        InvalidPadding => "its = padding is wrong".into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The object to show a person: every value whose name says it is a credential masked as
/// `secret::mask` masks a token, at any depth (inside arrays too), and every other value
/// whose shape says so (see `by_shape`); the rest as it is.
pub fn masked(fields: &Map<String, Value>) -> Value {
    masked_also(fields, &[])
}

/// `masked`, with the top-level values under `secrets` (an authorization's password
/// variables) masked by their length alone: a person's password says too much in four
/// characters.
pub fn masked_also(fields: &Map<String, Value>, secrets: &[String]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(key, value)| {
                let shown = match value {
                    Value::String(s) if secrets.contains(key) => {
                        Value::String(format!("… ({} chars)", s.chars().count()))
                    }
                    _ if secrets.contains(key) => shown(value, Under::Secret),
                    _ => shown(value, Under::name(key)),
                };
                (printable(key), shown)
            })
            .collect(),
    )
}

/// Every value as it is, for `--show-all`: only made printable (control characters
/// escaped), so a captured value cannot drive the terminal.
pub fn revealed(value: &Value) -> Value {
    match value {
        Value::Object(inner) => Value::Object(
            inner
                .iter()
                .map(|(k, v)| (printable(k), revealed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(revealed).collect()),
        Value::String(s) => Value::String(printable(s)),
        other => other.clone(),
    }
}

/// Words in a key that say its text is likely a credential, beyond `secret_name`'s: what
/// captured values hold under `authorization`, `jwt`, `bearer`, `pass`, `pwd`, `refresh`.
/// A date or a number under them (`refreshedAt`, `refresh_expires_in`) is shown.
const SUSPECT_WORDS: [&str; 6] = ["authorization", "jwt", "bearer", "pass", "pwd", "refresh"];

/// What the name a value sits under says of it.
#[derive(Clone, Copy)]
enum Under {
    /// A credential, whatever its type.
    Secret,
    /// Text that is likely a credential, unless it is a date.
    Suspect,
    /// Only the value's shape can tell.
    Plain,
}

impl Under {
    fn name(key: &str) -> Under {
        let lower = key.to_ascii_lowercase();
        if crate::redact::secret_name(key) {
            Under::Secret
        } else if SUSPECT_WORDS.iter().any(|w| lower.contains(w)) {
            Under::Suspect
        } else {
            Under::Plain
        }
    }
}

/// A value as shown: masked whole when it sits under a credential's name (whatever its
/// type), its parts looked into otherwise.
fn shown(value: &Value, under: Under) -> Value {
    match (value, under) {
        (Value::Object(inner), _) => masked(inner),
        (Value::Array(items), _) => Value::Array(items.iter().map(|v| shown(v, under)).collect()),
        (Value::String(s), Under::Secret) => Value::String(mask(s)),
        (Value::String(s), Under::Suspect) if !timestamp(s) => Value::String(mask(s)),
        (Value::String(s), _) => Value::String(by_shape(s)),
        (Value::Null | Value::Bool(_), _) => value.clone(),
        (other, Under::Secret) => Value::String(mask(&other.to_string())),
        (other, _) => other.clone(),
    }
}

/// Text under a name that says nothing, masked when its shape says it is a credential: a
/// JWT, an `Authorization` header's value, a long opaque string; in a URL, its password, and
/// each part (user, path segment, query or fragment value) that is one or sits under a
/// credential's name (`?access_token=…`).
fn by_shape(text: &str) -> String {
    if credential_shaped(text) {
        return mask(text);
    }
    match url_parts(text) {
        Some(parts) => printable(&parts),
        None => printable(text),
    }
}

/// A JWT (`eyJ…` in three or five base64url parts), a scheme and its credentials
/// (`Bearer …`, `Basic …`), or 16 or more characters of a token's alphabet mixing at least
/// two of lower case, upper case and digits (not a date).
fn credential_shaped(text: &str) -> bool {
    let base64url = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = text.split('.').collect();
    if text.starts_with("eyJ") && matches!(parts.len(), 3 | 5) && parts.iter().all(|p| base64url(p))
    {
        return true;
    }
    if let Some((scheme, rest)) = text.split_once(' ') {
        let schemes = [
            "bearer",
            "basic",
            "token",
            "dpop",
            "mac",
            "digest",
            "negotiate",
        ];
        return schemes.contains(&scheme.to_ascii_lowercase().as_str()) && !rest.trim().is_empty();
    }
    let alphabet = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
    let classes = [
        text.bytes().any(|b| b.is_ascii_lowercase()),
        text.bytes().any(|b| b.is_ascii_uppercase()),
        text.bytes().any(|b| b.is_ascii_digit()),
    ];
    text.len() >= 16 && alphabet && classes.iter().filter(|c| **c).count() >= 2 && !timestamp(text)
}

/// `2026-01-31`, `2026-01-31T10:00:00.5+01:00` and the like: never a credential.
fn timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && b[10..]
            .iter()
            .all(|c| c.is_ascii_digit() || b"T:.Z+- ".contains(c))
}

/// A URL (`scheme://…`) with its credentials masked in place, or `None` for other text.
/// Cut by hand rather than through `url::Url`, so what is shown is what was sent.
fn url_parts(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(cut);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => format!("{}@{host}", masked_userinfo(userinfo)),
        None => authority.to_string(),
    };
    let (before_fragment, fragment) = after
        .split_once('#')
        .map_or((after, None), |(a, f)| (a, Some(f)));
    let (path, query) = before_fragment
        .split_once('?')
        .map_or((before_fragment, None), |(p, q)| (p, Some(q)));
    let path: Vec<String> = path
        .split('/')
        .map(|segment| match credential_shaped(segment) {
            true => mask(segment),
            false => segment.to_string(),
        })
        .collect();
    let mut out = format!("{scheme}://{authority}{}", path.join("/"));
    if let Some(query) = query {
        out = format!("{out}?{}", masked_pairs(query));
    }
    if let Some(fragment) = fragment {
        out = format!("{out}#{}", masked_pairs(fragment));
    }
    Some(out)
}

/// `user:password`: the password masked; the user too when it is a token
/// (`https://TOKEN@host`).
fn masked_userinfo(userinfo: &str) -> String {
    let (user, password) = userinfo
        .split_once(':')
        .map_or((userinfo, None), |(u, p)| (u, Some(p)));
    let user = match credential_shaped(user) || (password.is_none() && user.len() >= 16) {
        true => mask(user),
        false => user.to_string(),
    };
    match password {
        Some(p) => format!("{user}:{}", mask(p)),
        None => user,
    }
}

/// `a=1&access_token=…`: each value masked that sits under a credential's name or has a
/// credential's shape.
fn masked_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value))
                if !matches!(Under::name(key), Under::Plain) || credential_shaped(value) =>
            {
                format!("{key}={}", mask(value))
            }
            Some(_) => pair.to_string(),
            None if credential_shaped(pair) => mask(pair),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arrays_are_looked_into_for_tokens_and_encrypted_values() {
        let fields = object(
            json!({"accounts": [{"accessToken": "fake-access-in-array"}],
            "pin": 123456, "apiKeys": ["fake-key-1"], "scopes": ["read", "write"]}),
        );
        let shown = masked(&fields).to_string();
        for secret in ["fake-access-in-array", "123456", "fake-key-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"read\""), "{shown}");
        let sealed = object(json!({"keys": ["plain", {"token": "unito-secret-v1://x"}]}));
        match encode("development", &sealed) {
            Err(crate::error::Error::Env(EnvError::EncryptedCredential { field, .. })) => {
                assert_eq!(field, "keys[1].token")
            }
            other => panic!("{other:?}"),
        }
        let (value, left_out) = encode_secrets(&object(
            json!({"list": ["unito-secret-v1://y"], "plain": "fake-plain"}),
        ));
        assert_eq!(left_out, ["list"]);
        assert!(value.is_some());
    }

    #[test]
    fn a_test_account_round_trips_through_the_header_as_the_sdk_reads_it() {
        let fields = object(json!({"accessToken": "fake-access-é", "expiresIn": 3600,
            "instance_url": "https://x.example", "nested": {"a": [1, 2]}}));
        let value = encode("development", &fields).unwrap();
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        );
        assert_eq!(decode(&value).unwrap(), fields);
        assert_eq!(decode(&format!("{HEADER}: {value}")).unwrap(), fields);
    }

    #[test]
    fn an_encrypted_value_is_refused_and_named() {
        let fields = object(json!({"accessToken": "fake-a",
            "authed_user": {"token": "unito-secret-v1://abc"}}));
        let e = encode("development", &fields).unwrap_err();
        assert!(e.to_string().contains("authed_user.token"), "{e}");
    }

    #[test]
    fn each_reason_the_sdk_would_refuse_is_said() {
        let b64 = |s: &[u8]| STANDARD.encode(s);
        for (value, says) in [
            (String::new(), "it is empty".to_string()),
            ("not base64!".into(), "not base64".into()),
            (
                URL_SAFE_NO_PAD.encode("{\"a\":\"??>\"}"),
                "it is base64url".into(),
            ),
            (b64(&[0xff, 0xfe]), "not UTF-8 text (byte 0 is not)".into()),
            (b64(b"{nope"), "not JSON".into()),
            (b64(b"[1]"), "an array rather than an object".into()),
        ] {
            let why = decode(&value).unwrap_err();
            assert!(why.contains(&says), "{value:?}: {why}");
        }
    }

    #[test]
    fn credentials_are_masked_at_any_depth_and_the_rest_shown() {
        let shown = masked(&object(json!({
            "accessToken": "fake-access-token-123456",
            "instance_url": "https://x.example",
            "expiresIn": 3600,
            "authed_user": {"access_token": "fake-user-token-123456", "id": "U1"},
            "apiKey": "fake-api-key-123456"
        })));
        let text = shown.to_string();
        assert!(!text.contains("fake-access-token-123456"), "{text}");
        assert!(!text.contains("fake-user-token-123456"), "{text}");
        assert!(!text.contains("fake-api-key-123456"), "{text}");
        assert_eq!(shown["instance_url"], "https://x.example");
        assert_eq!(shown["authed_user"]["id"], "U1");
        assert_eq!(shown["expiresIn"], 3600);
    }

    #[test]
    fn declared_password_variables_are_masked_whatever_their_names() {
        let fields = object(json!({"accessToken": "fake-access-token-123456",
            "tenantPhrase": "fake-declared-password", "subdomain": "acme"}));
        let shown = masked_also(&fields, &["tenantPhrase".to_string()]).to_string();
        assert!(!shown.contains("fake-d"), "{shown}");
        assert!(
            shown.contains("\"tenantPhrase\":\"… (22 chars)\""),
            "not even its start: {shown}"
        );
        assert!(shown.contains("\"acme\""), "{shown}");
    }

    #[test]
    fn credentials_are_masked_by_their_shape_whatever_their_names() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.ZmFrZS1zaWduYXR1cmU";
        let shown = masked(&object(json!({
            "authorization": "Bearer fake-bearer-value",
            "jwt": "fake-jwt-name",
            "bearer": "fake-bearer-name",
            "pass": "fake-pass-name",
            "pwd": "fake-pwd-name",
            "refresh": "fake-refresh-name",
            "id_tok": jwt,
            "opaque": "FakeOpaque9x8y7z6w5v",
            "header": "Basic ZmFrZTpmYWtl",
            "instance_url": "https://fake-user:fake-url-password@x.example/cb?state=s1&access_token=fake-url-token#code=fake-fragment-code",
            "hook": "https://hooks.example/services/T01/FakeHookPath0123456789",
            "gitUrl": "https://FakeGitToken0123456789@git.example/repo.git",
        })));
        let text = shown.to_string();
        for secret in [
            "fake-bearer-value",
            "fake-jwt-name",
            "fake-bearer-name",
            "fake-pass-name",
            "fake-pwd-name",
            "fake-refresh-name",
            "ZmFrZS1zaWduYXR1cmU",
            "FakeOpaque9x8y7z6w5v",
            "ZmFrZTpmYWtl",
            "fake-url-password",
            "fake-url-token",
            "fake-fragment-code",
            "FakeHookPath0123456789",
            "FakeGitToken0123456789",
        ] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
        // What tells the endpoint apart stays.
        let url = shown["instance_url"].as_str().unwrap();
        assert!(url.starts_with("https://fake-user:"), "{url}");
        assert!(
            url.contains("@x.example/cb?state=s1&access_token="),
            "{url}"
        );
        assert!(
            shown["hook"]
                .as_str()
                .unwrap()
                .starts_with("https://hooks.example/services/T01/")
        );
    }

    #[test]
    fn what_only_looks_long_is_shown() {
        let fields = object(json!({
            "expiresAt": "2026-01-31T10:00:00.000Z",
            "refreshedAt": "2026-01-31T10:00:00+01:00",
            "refresh_expires_in": 3600,
            "instance_url": "https://acme.my.salesforce.example",
            "scope": "read write offline_access",
            "email": "fake-person@example.com",
            "redirect": "http://127.0.0.1:9002/callback?state=abc",
            "team": "acme-corporation-europe",
            "userId": "U01ABCDEF",
        }));
        assert_eq!(
            masked(&Map::from_iter(fields.clone())),
            Value::Object(fields)
        );
    }

    #[test]
    fn show_all_shows_everything_but_control_characters() {
        let fields = object(json!({"accessToken": "fake-access-token-123456",
            "nested": [{"jwt": "fake\u{1b}[2Jjwt"}]}));
        let shown = revealed(&Value::Object(fields));
        assert_eq!(shown["accessToken"], "fake-access-token-123456");
        assert_eq!(shown["nested"][0]["jwt"], "fake\\u{1b}[2Jjwt");
    }

    #[test]
    fn plain_secrets_travel_and_encrypted_ones_are_named() {
        let (value, left_out) = encode_secrets(&object(json!({
            "webhookKey": "fake-plain", "signingKey": "unito-secret-v1://xyz"})));
        assert_eq!(left_out, ["signingKey"]);
        let sent = decode(&value.unwrap()).unwrap();
        assert_eq!(sent, object(json!({"webhookKey": "fake-plain"})));
    }
}
