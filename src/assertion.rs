//! Signed assertions (RFC 7523): the jwt-bearer grant's, and the client's own for
//! `private_key_jwt`. The key is read when a run starts, from the environment (`${VAR}`)
//! or a file in `.unito.json`'s folder that only its owner can read (elsewhere only when the
//! user allows it: a cloned file must not pick a key of theirs to sign for its token URL);
//! every assertion gets a fresh `jti` and `iat`, since servers refuse a `jti` they have seen.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::config::jwt::{Algorithm, JwtSettings, KeySource};
use crate::config::{Holds, expand_env};
use crate::error::{ConfigError, Error, Result};
use crate::secret::{Assertion, SigningKey};

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
    /// `config` is the `.unito.json` the key file is relative to; `outside` lets that file
    /// lie outside the project's folder (the user said so).
    pub fn load(
        settings: &JwtSettings,
        at: &str,
        config: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
        outside: bool,
    ) -> Result<Signer> {
        let pem = key_text(settings, at, config, lookup, outside)?;
        let key =
            encoding_key(settings.algorithm, &pem).map_err(|message| ConfigError::Invalid {
                path: config.into(),
                message: format!("{at}.jwt: {message}"),
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

    /// Whether the grant's assertion carries the scopes, so the request need not.
    pub fn claims_scope(&self) -> bool {
        self.settings.scope.is_some()
    }

    /// A new assertion for the token endpoint at `token_url`, issued `now`.
    pub fn sign(&self, whose: For<'_>, token_url: &str, now: SystemTime) -> Result<Assertion> {
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
            .map(Assertion::new)
            .map_err(|e| Error::Internal(format!("cannot sign the assertion: {e}")))
    }
}

/// The key as the settings give it, inline (`${VAR}` expanded) or in a file; a shared
/// secret (HS256) as it is, a PEM with its line breaks.
fn key_text(
    settings: &JwtSettings,
    at: &str,
    config: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    outside: bool,
) -> Result<SigningKey> {
    let hs256 = settings.algorithm == Algorithm::Hs256;
    Ok(match &settings.key {
        KeySource::Inline(raw) => {
            let value = expand_env(
                raw.expose(),
                &format!("{at}.jwt.privateKey"),
                Holds::PrivateKey,
                lookup,
            )?;
            // A PEM put in an environment variable often has its line breaks as `\n`;
            // a shared secret is used as it is.
            SigningKey::new(if hs256 {
                value
            } else {
                value.replace("\\n", "\n")
            })
        }
        // A shared secret's file ends with a line break an editor added, not part of it.
        KeySource::File(name) if hs256 => {
            let text = read_key_file(config, name, outside)?;
            SigningKey::new(text.expose().trim_end_matches(['\r', '\n']).to_string())
        }
        KeySource::File(name) => read_key_file(config, name, outside)?,
    })
}

/// The key ready to sign with `algorithm`, or why it is not one (for `{at}.jwt: …`).
fn encoding_key(
    algorithm: Algorithm,
    pem: &SigningKey,
) -> std::result::Result<EncodingKey, String> {
    let bytes = pem.expose().as_bytes();
    match algorithm {
        Algorithm::Rs256 => EncodingKey::from_rsa_pem(bytes),
        Algorithm::Es256 => EncodingKey::from_ec_pem(bytes),
        Algorithm::Hs256 => Ok(EncodingKey::from_secret(bytes)),
    }
    .map_err(|e| {
        format!(
            "the key is not a {} private key in PEM{}: {e}",
            algorithm.name(),
            if algorithm == Algorithm::Es256 {
                " (PKCS#8: -----BEGIN PRIVATE KEY-----)"
            } else {
                ""
            }
        )
    })
}

/// Past this, a file is no key (a 4096-bit RSA key in PEM is about 3 KiB).
const MOST_KEY_BYTES: u64 = 64 * 1024;

/// The key file: a regular file of a key's size that only its owner can read, inside the
/// project's folder unless `outside` (the user's say, never the file's). Opened without
/// blocking (a FIFO would wait for a writer, deaf to signals), and every check is made on
/// the file as opened, so a link swapped in meanwhile cannot pass one file's checks and give
/// another's bytes.
fn read_key_file(config: &Path, name: &str, outside: bool) -> Result<SigningKey> {
    let folder = config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = folder.join(name);
    let unreadable = |detail: String| ConfigError::KeyFile {
        path: path.clone(),
        detail,
        fix: None,
    };
    let file = open_without_blocking(&path).map_err(|e| unreadable(e.to_string()))?;
    let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable(format!(
            "it is {}, not a regular file",
            crate::project::kind_of(&meta)
        ))
        .into());
    }
    if !outside {
        inside(&path, folder, &meta)?;
    }
    only_the_owner_reads(&path, &meta)?;
    let too_large = || unreadable("it is too large to be a key".into());
    if meta.len() > MOST_KEY_BYTES {
        return Err(too_large().into());
    }
    let mut text = String::new();
    file.take(MOST_KEY_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    if text.len() as u64 > MOST_KEY_BYTES {
        return Err(too_large().into());
    }
    Ok(SigningKey::new(text))
}

fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOCTTY: a terminal named as the key must not become this process's own.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// That the file opened is the one at `path` with every link resolved, and that this lies in
/// `folder`: the resolved path is checked, then the file there compared with the one opened
/// (device and inode), so a path that pointed elsewhere when it was opened is caught.
fn inside(path: &Path, folder: &Path, opened: &Metadata) -> Result<()> {
    let changed = |detail: String| ConfigError::KeyFile {
        path: path.into(),
        detail,
        fix: None,
    };
    let folder = fs::canonicalize(folder).map_err(|e| changed(e.to_string()))?;
    let real = fs::canonicalize(path).map_err(|e| changed(e.to_string()))?;
    if !real.starts_with(&folder) {
        return Err(ConfigError::KeyOutsideProject {
            path: path.into(),
            real,
            folder,
        }
        .into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let there = fs::symlink_metadata(&real).map_err(|e| changed(e.to_string()))?;
        if (there.dev(), there.ino()) != (opened.dev(), opened.ino()) {
            return Err(changed(
                "it was replaced while it was opened (a link that changed?)".into(),
            )
            .into());
        }
    }
    #[cfg(not(unix))]
    let _ = opened;
    Ok(())
}

/// A signing key is a password: refused when its group or others may read it.
fn only_the_owner_reads(path: &Path, meta: &Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ConfigError::KeyFile {
                path: path.into(),
                detail: format!("others may read it (mode {:o})", mode & 0o777),
                fix: Some(format!("chmod 600 {}", path.display())),
            }
            .into());
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_swapped_for_one_inside_after_it_was_opened_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (project, elsewhere) = (dir.path().join("project"), dir.path().join("elsewhere"));
        fs::create_dir_all(&project).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("key.pem"), "fake-outside-key").unwrap();
        fs::write(project.join("real.pem"), "fake-inside-key").unwrap();
        let link = project.join("key.pem");
        std::os::unix::fs::symlink(elsewhere.join("key.pem"), &link).unwrap();
        let opened = open_without_blocking(&link).unwrap().metadata().unwrap();
        // Between the open and the check, the link is made to point inside.
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(project.join("real.pem"), &link).unwrap();
        let refused = inside(&link, &project, &opened).unwrap_err();
        assert!(refused.to_string().contains("replaced"), "{refused}");
        // The file now there, opened anew, passes.
        let now = open_without_blocking(&link).unwrap().metadata().unwrap();
        inside(&link, &project, &now).unwrap();
    }
}
