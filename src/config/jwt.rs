//! The `jwt` object inside `oauth2` (an integration-cli extension): how to sign the
//! assertions of the jwt-bearer grant (RFC 7523 §2.1) and of `private_key_jwt` client
//! authentication (RFC 7523 §2.2, OpenID Connect Core §9). Typed at load; the key itself is
//! read only when a request is signed (see `assertion`).

use std::fmt;

use serde_json::{Map, Value};

use crate::secret::SigningKey;

/// The signing algorithms offered: what providers that take assertions document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Es256,
    Hs256,
}

impl Algorithm {
    const ALL: [(&'static str, Algorithm); 3] = [
        ("RS256", Algorithm::Rs256),
        ("ES256", Algorithm::Es256),
        ("HS256", Algorithm::Hs256),
    ];

    pub fn parse(value: &str) -> Result<Algorithm, String> {
        Self::ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value.trim()))
            .map(|(_, a)| *a)
            .ok_or_else(|| format!("unknown algorithm {value:?} (use RS256, ES256 or HS256)"))
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .expect("listed")
            .0
    }
}

/// Where the signing key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// `privateKey`: PEM (or, for HS256, the shared secret), normally `${VAR}`; as written.
    Inline(SigningKey),
    /// `privateKeyFile`: a PEM file, relative to `.unito.json`.
    File(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Inline(_) => f.write_str("Inline(<redacted>)"),
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// The most an assertion may live: providers refuse long ones (Google: one hour).
pub const MOST_LIFETIME: u64 = 3600;
pub const DEFAULT_LIFETIME: u64 = 300;

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `iss` of a jwt-bearer assertion (a service account's email); default: the client id.
    pub issuer: Option<String>,
    /// `sub`: the user the token is for; default: the issuer.
    pub subject: Option<String>,
    /// `aud`; default: the token URL.
    pub audience: Option<String>,
    /// A `scope` claim, for providers that want the scopes inside the assertion (Google).
    pub scope: Option<String>,
    pub algorithm: Algorithm,
    /// The JWT header's `kid`.
    pub key_id: Option<String>,
    /// Seconds from `iat` to `exp`.
    pub lifetime: u64,
    pub key: KeySource,
}

/// Reads a `jwt` object; errors name the key within it.
pub fn parse(object: &Map<String, Value>) -> Result<JwtSettings, String> {
    let string = |key: &str| string_field(object, key);
    let algorithm = match string("algorithm")? {
        None => Algorithm::Rs256,
        Some(a) => Algorithm::parse(&a).map_err(|e| format!("jwt.algorithm: {e}"))?,
    };
    let lifetime = match object.get("lifetime") {
        None | Some(Value::Null) => DEFAULT_LIFETIME,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MOST_LIFETIME).contains(n))
            .ok_or_else(|| format!("jwt.lifetime must be seconds, 1 to {MOST_LIFETIME}"))?,
    };
    let key = key_source(object)?;
    let scope = scope(object)?;
    Ok(JwtSettings {
        issuer: string("issuer")?,
        subject: string("subject")?,
        audience: string("audience")?,
        scope,
        algorithm,
        key_id: string("keyId")?,
        lifetime,
        key,
    })
}

/// A string field of the `jwt` object; a blank one is as good as absent.
fn string_field(object: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("jwt.{key} must be a string")),
    }
}

/// The signing key: inline or in a file, exactly one of the two.
fn key_source(object: &Map<String, Value>) -> Result<KeySource, String> {
    match (
        string_field(object, "privateKey")?,
        string_field(object, "privateKeyFile")?,
    ) {
        (Some(inline), None) => Ok(KeySource::Inline(SigningKey::new(inline))),
        (None, Some(file)) => Ok(KeySource::File(file)),
        (Some(_), Some(_)) => Err("jwt: give privateKey or privateKeyFile, not both".into()),
        (None, None) => Err(
            "jwt needs the signing key: privateKeyFile (a PEM file beside .unito.json) or \
             privateKey (\"${MY_PRIVATE_KEY}\", from the environment)"
                .into(),
        ),
    }
}

/// The `scope` claim: a string, or an array of strings joined by spaces.
fn scope(object: &Map<String, Value>) -> Result<Option<String>, String> {
    match object.get("scope") {
        Some(Value::Array(items)) => Ok(Some(
            items
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or("jwt.scope must be a string or an array of strings")?
                .join(" "),
        )),
        _ => string_field(object, "scope"),
    }
}
