//! Signed assertions as an authorization server checks them (RFC 7523 §3): the signature
//! against the key the sandbox was given (`--jwt-public-key`), the audience (its token URL
//! or its issuer), `iss` and `sub`, the expiry, an `iat` not in the future, a lifetime of at
//! most an hour, and a `jti` never seen before.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

/// The most an assertion may live, from `iat` to `exp`.
const MOST_LIFETIME: u64 = 3600;
/// How far ahead of this server's clock an `iat` may be: two machines' clocks differ a
/// little, and servers allow for that, not for an assertion made to be used years later.
const CLOCK_SKEW: u64 = 60;

/// What the sandbox verifies assertions with.
pub struct Verifier {
    /// A PEM public key (RS256, ES256), or the shared secret itself (HS256).
    pub key: String,
    /// The sandbox's address, its issuer: an accepted audience beside the token URL.
    pub issuer: String,
}

impl Verifier {
    /// The key and the one algorithm it verifies: a PEM public key, RSA or EC, else the
    /// shared secret of HS256.
    fn key(&self) -> Result<(DecodingKey, Algorithm), String> {
        let text = self.key.trim();
        if !text.starts_with("-----BEGIN") {
            return Ok((DecodingKey::from_secret(text.as_bytes()), Algorithm::HS256));
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(text.as_bytes()) {
            return Ok((key, Algorithm::RS256));
        }
        DecodingKey::from_ec_pem(text.as_bytes())
            .map(|key| (key, Algorithm::ES256))
            .map_err(|_| "the sandbox's key is neither an RSA nor an EC public key".into())
    }

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
        // The key decides the algorithm, never the token: an HS256 token "signed" with the
        // public key's PEM text as its secret must not pass.
        let (key, alg) = self.key()?;
        if header.alg != alg {
            return Err(format!(
                "the assertion is signed with {:?}; the registered key is for {alg:?}",
                header.alg
            ));
        }
        let mut rules = Validation::new(alg);
        rules.set_audience(&audiences);
        rules.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        rules.leeway = 5;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &rules)
            .map_err(|e| undecodable(&e, &audiences))?
            .claims;
        times(&claims)?;
        names(&claims)?;
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

/// Why jsonwebtoken refused the assertion, said for the client's developer.
fn undecodable(e: &jsonwebtoken::errors::Error, audiences: &[String]) -> String {
    match e.kind() {
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
    }
}

/// `iss` and `sub` present and not blank: jsonwebtoken requires them but takes any value.
fn names(claims: &Map<String, Value>) -> Result<(), String> {
    for claim in ["iss", "sub"] {
        let named = claims.get(claim).and_then(Value::as_str);
        if named.is_none_or(|v| v.trim().is_empty()) {
            return Err(format!(
                "the assertion's {claim} is not a name (RFC 7523 §3)"
            ));
        }
    }
    Ok(())
}

/// `iat` no later than now (give or take the skew), `exp` at most an hour after it and at
/// most an hour from now: what jsonwebtoken does not check.
fn times(claims: &Map<String, Value>) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let seconds = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_f64)
            .filter(|t| *t >= 0.0)
            .map(|t| t as u64)
            .ok_or(format!("the assertion's {k} is not a time in seconds"))
    };
    let (iat, exp) = (seconds("iat")?, seconds("exp")?);
    if iat > now + CLOCK_SKEW {
        return Err(format!(
            "the assertion's iat is {} s in the future (more than {CLOCK_SKEW} s ahead of this \
             server's clock)",
            iat - now
        ));
    }
    if exp.saturating_sub(iat) > MOST_LIFETIME || exp > now + MOST_LIFETIME + CLOCK_SKEW {
        return Err("the assertion lives longer than an hour".into());
    }
    Ok(())
}
