//! The `X-Unito-Credentials` header: how the platform hands a test account to the connector.
//! Its value is base64 (standard alphabet, padded) of the UTF-8 JSON of the whole test
//! account object; the connector SDK reads it back with
//! `JSON.parse(Buffer.from(value, 'base64'))` and answers 400 when that fails.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
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
        return Err(Error::EncryptedCredential {
            test_account: test_account.to_string(),
            field: path,
        });
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
/// `Secret::masked` masks a token, at any depth (inside arrays too); the rest as it is.
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
                    _ => shown(
                        value,
                        crate::redact::secret_name(key) || secrets.contains(key),
                    ),
                };
                (printable(key), shown)
            })
            .collect(),
    )
}

/// A value as shown: masked whole when it sits under a credential's name (whatever its
/// type), its parts looked into otherwise.
fn shown(value: &Value, secret: bool) -> Value {
    match value {
        Value::Object(inner) => masked(inner),
        Value::Array(items) => Value::Array(items.iter().map(|v| shown(v, secret)).collect()),
        Value::String(s) if secret => Value::String(mask(s)),
        Value::Null | Value::Bool(_) => value.clone(),
        other if secret => Value::String(mask(&other.to_string())),
        Value::String(s) => Value::String(printable(s)),
        other => other.clone(),
    }
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
            Err(Error::EncryptedCredential { field, .. }) => assert_eq!(field, "keys[1].token"),
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
    fn plain_secrets_travel_and_encrypted_ones_are_named() {
        let (value, left_out) = encode_secrets(&object(json!({
            "webhookKey": "fake-plain", "signingKey": "unito-secret-v1://xyz"})));
        assert_eq!(left_out, ["signingKey"]);
        let sent = decode(&value.unwrap()).unwrap();
        assert_eq!(sent, object(json!({"webhookKey": "fake-plain"})));
    }
}
