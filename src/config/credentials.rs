//! The client's credentials as sent: `${VAR}` references expanded from the environment
//! (only names that say they hold what the field holds), `UNITO_CLIENT_SECRET` first, and
//! values the platform encrypted refused rather than sent.

use super::OAuth2;
use crate::error::{EnvError, Result};
use crate::redact::printable;
use crate::secret::ClientSecret;

/// Overrides the file's `clientSecret`, as the platform's own CLI lets it.
pub const SECRET_ENV: &str = "UNITO_CLIENT_SECRET";
const ENCRYPTED_PREFIX: &str = "unito-secret-v1://";

/// What a field expanded from `${VAR}` holds, which decides the variables it may name: only
/// names that say they hold that. A cloned project's file must not be able to send
/// `${AWS_SECRET_ACCESS_KEY}` or `${GITHUB_TOKEN}` to a token URL of its choosing, nor put a
/// secret in `clientId`, which travels in the login URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    ClientId,
    Secret,
    /// A signing key (`jwt.privateKey`).
    PrivateKey,
}

/// The password grant's own variables: sent only as that grant's fields, so no field of the
/// file may name them (a `"${UNITO_PASSWORD}"` client id would print the password in the
/// login URL).
const NEVER: [&str; 2] = ["UNITO_PASSWORD", "UNITO_USERNAME"];

impl Holds {
    pub fn allows(self, var: &str) -> bool {
        if NEVER.contains(&var) {
            return false;
        }
        match self {
            Holds::ClientId => {
                (var.ends_with("_CLIENT_ID") || var.starts_with("UNITO_"))
                    && !var.ends_with("_SECRET")
            }
            Holds::Secret => var.ends_with("_SECRET") || var.starts_with("UNITO_"),
            Holds::PrivateKey => {
                var.ends_with("_PRIVATE_KEY")
                    || var.ends_with("_SECRET")
                    || var.starts_with("UNITO_")
            }
        }
    }

    /// The rule, for an error message.
    pub fn rule(self) -> &'static str {
        match self {
            Holds::ClientId => "*_CLIENT_ID or UNITO_* (and not *_SECRET)",
            Holds::Secret => "*_CLIENT_SECRET, *_SECRET or UNITO_*",
            Holds::PrivateKey => "*_PRIVATE_KEY, *_SECRET or UNITO_*",
        }
    }
}

/// Expands `${VAR}` references from the environment, so a secret need not sit in the file.
pub fn expand_env(
    value: &str,
    field: &str,
    holds: Holds,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some((start, var, end)) = next_reference(rest) {
        out.push_str(&rest[..start]);
        if !holds.allows(var) {
            return Err(EnvError::EnvVarNotAllowed {
                field: field.into(),
                var: printable(var),
                rule: holds.rule(),
            }
            .into());
        }
        let found = lookup(var).ok_or_else(|| EnvError::MissingEnvVar {
            field: field.into(),
            var: var.into(),
        })?;
        out.push_str(&found);
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names of the `${VAR}` references in `value`, as `expand_env` reads them.
pub fn env_names(value: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = value;
    while let Some((_, var, end)) = next_reference(rest) {
        names.push(var);
        rest = &rest[end..];
    }
    names
}

/// The first `${VAR}` in `text`: where it starts, the name, and where it ends.
fn next_reference(text: &str) -> Option<(usize, &str, usize)> {
    let start = text.find("${")?;
    let len = text[start + 2..].find('}')?;
    Some((start, &text[start + 2..start + 2 + len], start + 3 + len))
}

/// The client secret to send: `UNITO_CLIENT_SECRET` wins, then the file's value with `${VAR}`
/// expanded. An encrypted platform value is refused rather than sent to a provider.
pub fn resolve_client_secret(
    config: &OAuth2,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ClientSecret>> {
    if let Some(v) = lookup(SECRET_ENV).filter(|v| !v.is_empty()) {
        return Ok(Some(ClientSecret::new(v)));
    }
    let Some(raw) = &config.client_secret else {
        return Ok(None);
    };
    let field = format!("{}.clientSecret", config.at);
    let value = expand_env(raw.expose(), &field, Holds::Secret, lookup)?;
    if value.starts_with(ENCRYPTED_PREFIX) {
        return Err(EnvError::EncryptedSecret { field }.into());
    }
    Ok(Some(ClientSecret::new(value)))
}

pub fn resolve_client_id(
    config: &OAuth2,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let field = format!("{}.clientId", config.at);
    let value = expand_env(&config.client_id, &field, Holds::ClientId, lookup)?;
    if value.starts_with(ENCRYPTED_PREFIX) {
        return Err(EnvError::EncryptedSecret { field }.into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn expand_env_replaces_references_and_names_missing_ones() {
        let lookup = |k: &str| (k == "A_SECRET").then(|| "1".to_string());
        assert_eq!(
            expand_env("x${A_SECRET}y${A_SECRET}", "f", Holds::Secret, &lookup).unwrap(),
            "x1y1"
        );
        assert_eq!(
            expand_env("plain", "f", Holds::Secret, &lookup).unwrap(),
            "plain"
        );
        match expand_env("${B_SECRET}", "f", Holds::Secret, &lookup).unwrap_err() {
            crate::error::Error::Env(EnvError::MissingEnvVar { var, field }) => {
                assert_eq!((var.as_str(), field.as_str()), ("B_SECRET", "f"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn env_names_are_the_references_expand_env_reads() {
        assert_eq!(
            env_names("a${A_SECRET}b${B_SECRET}${unclosed"),
            ["A_SECRET", "B_SECRET"]
        );
        assert!(env_names("plain {template}").is_empty());
    }

    #[test]
    fn only_variables_named_for_what_the_field_holds_are_expanded() {
        let lookup = |_: &str| Some("value".to_string());
        for (holds, ok, refused) in [
            (
                Holds::Secret,
                &["GH_CLIENT_SECRET", "MY_SECRET", "UNITO_ANYTHING"][..],
                &[
                    "AWS_SECRET_ACCESS_KEY",
                    "GITHUB_TOKEN",
                    "HOME",
                    "GH_CLIENT_ID",
                    "UNITO_PASSWORD",
                    "UNITO_USERNAME",
                ][..],
            ),
            (
                Holds::ClientId,
                &["GH_CLIENT_ID", "UNITO_CLIENT_ID"][..],
                &[
                    "GH_CLIENT_SECRET",
                    "UNITO_CLIENT_SECRET",
                    "GITHUB_TOKEN",
                    "UNITO_PASSWORD",
                    "UNITO_USERNAME",
                ][..],
            ),
            (
                Holds::PrivateKey,
                &[
                    "SERVICE_PRIVATE_KEY",
                    "UNITO_PRIVATE_KEY",
                    "UNITO_CLIENT_SECRET",
                ][..],
                &["UNITO_PASSWORD", "UNITO_USERNAME", "GITHUB_TOKEN", "HOME"][..],
            ),
        ] {
            for var in ok {
                assert!(
                    expand_env(&format!("${{{var}}}"), "f", holds, &lookup).is_ok(),
                    "{var}"
                );
            }
            for var in refused {
                match expand_env(&format!("a${{{var}}}"), "f", holds, &lookup).unwrap_err() {
                    crate::error::Error::Env(EnvError::EnvVarNotAllowed { var: named, .. }) => {
                        assert_eq!(named, *var)
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    #[test]
    fn encrypted_secret_is_refused_with_its_field() {
        let root = json!({"authorizations": [{"name": "a", "oauth2": {"clientId": "id",
            "tokenUrl": "http://t", "clientSecret": "unito-secret-v1://abc"}}]});
        let config = Config::parse(Path::new("x"), root.as_object().unwrap());
        let all = config.oauth2().unwrap();
        let cfg: OAuth2 = (*all[0].1.as_ref().unwrap()).clone();
        let err = resolve_client_secret(&cfg, &|_| None).unwrap_err();
        assert!(err.to_string().contains("clientSecret"), "{err}");
        let from_env = resolve_client_secret(&cfg, &|k| (k == SECRET_ENV).then(|| "s".into()));
        assert_eq!(from_env.unwrap().unwrap().expose(), "s");
    }
}
