//! Signed assertions as an authorization server checks them (RFC 7523 §3): the signature
//! against the key the sandbox was given (`--jwt-public-key`), the audience (its token URL
//! or its issuer), the expiry, a lifetime of at most an hour, and a `jti` never seen before.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

/// The most an assertion may live, from `iat` to `exp`.
const MOST_LIFETIME: u64 = 3600;

/// What the sandbox verifies assertions with.
pub struct Verifier {
    /// A PEM public key (RS256, ES256), or the shared secret itself (HS256).
    pub key: String,
    /// The sandbox's address, its issuer: an accepted audience beside the token URL.
    pub issuer: String,
}

impl Verifier {
    /// The assertion's claims when it is good; why not otherwise. `path` is the token
    /// endpoint's; `seen` holds the `jti`s already used.
    pub fn verify(
        &self,
        token: &str,
        path: &str,
        seen: &mut HashSet<String>,
    ) -> Result<Map<String, Value>, String> {
        let audiences = [format!("{}{path}", self.issuer), self.issuer.clone()];
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| format!("the assertion is not a JWT: {e}"))?;
        let pem = self.key.as_bytes();
        let key = match header.alg {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
            Algorithm::HS256 => Ok(DecodingKey::from_secret(pem)),
            other => return Err(format!("algorithm {other:?} is not accepted")),
        }
        .map_err(|_| format!("the sandbox's key is not a {:?} key", header.alg))?;
        let mut rules = Validation::new(header.alg);
        rules.set_audience(&audiences);
        rules.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        rules.leeway = 5;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &rules)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "the assertion has expired".to_string(),
                ErrorKind::InvalidAudience => format!(
                    "the assertion's audience is not this server (use {})",
                    audiences.join(" or ")
                ),
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    "the assertion's signature does not verify with the registered key".into()
                }
                ErrorKind::MissingRequiredClaim(claim) => {
                    format!("the assertion has no {claim} claim")
                }
                _ => format!("the assertion cannot be read: {e}"),
            })?
            .claims;
        let number = |k: &str| claims.get(k).and_then(Value::as_u64).unwrap_or(0);
        if number("exp").saturating_sub(number("iat")) > MOST_LIFETIME {
            return Err("the assertion lives longer than an hour".into());
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .ok_or("the assertion has no jti claim")?;
        if !seen.insert(jti.to_string()) {
            return Err("the assertion's jti was used before (a replay)".into());
        }
        Ok(claims)
    }
}
