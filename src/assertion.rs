//! Signed assertions (RFC 7523): the jwt-bearer grant's, and the client's own for
//! `private_key_jwt`. The key is read when a run starts, from the environment (`${VAR}`)
//! or a file beside `.unito.json` that only its owner can read; every assertion gets a
//! fresh `jti` and `iat`, since servers refuse a `jti` they have seen.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::config::jwt::{Algorithm, JwtSettings, KeySource};
use crate::config::{Holds, expand_env};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A key ready to sign, with the settings' claims.
pub struct Signer {
    key: EncodingKey,
    header: Header,
    settings: JwtSettings,
}

/// The key never shows; the settings say which one it is.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Whose assertion: the grant's (`iss` and `sub` from the settings) or the client's own
/// (`iss` = `sub` = the client id).
pub enum For<'a> {
    Grant { client_id: &'a str },
    Client { client_id: &'a str },
}

impl Signer {
    /// Reads the key the settings name. `at` names the authorization in errors;
    /// `config` is the `.unito.json` the key file is relative to.
    pub fn load(
        settings: &JwtSettings,
        at: &str,
        config: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Signer> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: config.into(),
            message: format!("{at}.jwt: {message}"),
        };
        let hs256 = settings.algorithm == Algorithm::Hs256;
        let pem = match &settings.key {
            KeySource::Inline(raw) => {
                let value = expand_env(
                    raw.expose(),
                    &format!("{at}.jwt.privateKey"),
                    Holds::PrivateKey,
                    lookup,
                )?;
                // A PEM put in an environment variable often has its line breaks as `\n`;
                // a shared secret is used as it is.
                Secret::new(if hs256 {
                    value
                } else {
                    value.replace("\\n", "\n")
                })
            }
            // A shared secret's file ends with a line break an editor added, not part of it.
            KeySource::File(name) if hs256 => {
                let text = read_key_file(config, name)?;
                Secret::new(text.expose().trim_end_matches(['\r', '\n']).to_string())
            }
            KeySource::File(name) => read_key_file(config, name)?,
        };
        let bytes = pem.expose().as_bytes();
        let key = match settings.algorithm {
            Algorithm::Rs256 => EncodingKey::from_rsa_pem(bytes),
            Algorithm::Es256 => EncodingKey::from_ec_pem(bytes),
            Algorithm::Hs256 => Ok(EncodingKey::from_secret(bytes)),
        }
        .map_err(|e| {
            invalid(format!(
                "the key is not a {} private key in PEM{}: {e}",
                settings.algorithm.name(),
                if settings.algorithm == Algorithm::Es256 {
                    " (PKCS#8: -----BEGIN PRIVATE KEY-----)"
                } else {
                    ""
                }
            ))
        })?;
        let mut header = Header::new(match settings.algorithm {
            Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::Es256 => jsonwebtoken::Algorithm::ES256,
            Algorithm::Hs256 => jsonwebtoken::Algorithm::HS256,
        });
        header.kid = settings.key_id.clone();
        Ok(Signer {
            key,
            header,
            settings: settings.clone(),
        })
    }

    /// A new assertion for the token endpoint at `token_url`, issued `now`.
    pub fn sign(&self, whose: For<'_>, token_url: &str, now: SystemTime) -> Result<Secret> {
        let s = &self.settings;
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (iss, sub) = match whose {
            For::Grant { client_id } => {
                let iss = s.issuer.as_deref().unwrap_or(client_id);
                (iss, s.subject.as_deref().unwrap_or(iss))
            }
            For::Client { client_id } => (client_id, client_id),
        };
        let mut claims: Map<String, Value> = json!({
            "iss": iss,
            "sub": sub,
            "aud": s.audience.as_deref().unwrap_or(token_url),
            "iat": iat,
            "exp": iat + s.lifetime,
            "jti": oauth2::CsrfToken::new_random_len(24).secret(),
        })
        .as_object()
        .cloned()
        .expect("an object");
        if let (For::Grant { .. }, Some(scope)) = (&whose, &s.scope) {
            claims.insert("scope".into(), scope.clone().into());
        }
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| Error::Internal(format!("cannot sign the assertion: {e}")))
    }
}

/// The key file, refused when others may read it: a signing key is a password.
fn read_key_file(config: &Path, name: &str) -> Result<Secret> {
    let dir = config.parent().filter(|d| !d.as_os_str().is_empty());
    let path = dir.map_or_else(|| Path::new(name).to_path_buf(), |d| d.join(name));
    let unreadable = |detail: String| Error::KeyFile {
        path: path.clone(),
        detail,
        fix: None,
    };
    let meta = std::fs::metadata(&path).map_err(|e| unreadable(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::KeyFile {
                path: path.clone(),
                detail: format!(
                    "others may read it (mode {:o})",
                    meta.permissions().mode() & 0o777
                ),
                fix: Some(format!("chmod 600 {}", path.display())),
            });
        }
    }
    if meta.len() > 64 * 1024 {
        return Err(unreadable("it is too large to be a key".into()));
    }
    std::fs::read_to_string(&path)
        .map(Secret::new)
        .map_err(|e| unreadable(e.to_string()))
}
