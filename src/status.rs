//! `integration-cli status`: what each test account holds, and what the next `oauth2` and
//! `token` runs would do with it under each authorization, without touching the file or the
//! network. Test accounts belong to the file, not to an authorization, so each is shown once.

use std::path::Path;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::clock::{self, Clock};
use crate::config::{Freshness, GrantType, TestAccount};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::recovery::Recovery;
use crate::redact::printable;
use crate::secret;

pub fn run(
    config: &Path,
    only: Option<&str>,
    clock: &dyn Clock,
    env: &dyn Fn(&str) -> Option<String>,
    as_json: bool,
) -> Result<String> {
    let project = Project::load(config)?;
    let authorizations = chosen(&project, only)?;
    let set_aside = crate::recovery::scan(project.real_path(), env);
    let accounts: Vec<Value> = project
        .test_account_names()
        .iter()
        .map(|account| {
            let mut described = describe(&project, account, &authorizations, clock);
            described["setAside"] = set_aside_json(&project, account, &set_aside);
            described
        })
        .collect();
    if as_json {
        return Ok(serde_json::to_string_pretty(&json!({
            "file": config.display().to_string(),
            "testAccounts": accounts,
        }))
        .expect("JSON"));
    }
    Ok(accounts
        .iter()
        .map(text)
        .collect::<String>()
        .trim_end()
        .to_string())
}

/// The OAuth 2.0 authorizations to describe: all, or the one named; with their grant type,
/// or why their settings cannot be read.
fn chosen(project: &Project, only: Option<&str>) -> Result<Vec<(String, Grant)>> {
    let mut authorizations: Vec<(String, Grant)> = project
        .config()
        .oauth2()?
        .into_iter()
        .map(|(a, o)| {
            (
                a.name.clone(),
                o.map(|o| o.grant).map_err(|e| e.to_string()),
            )
        })
        .collect();
    if let Some(name) = only {
        let available: Vec<String> = authorizations.iter().map(|(n, _)| n.clone()).collect();
        authorizations.retain(|(n, _)| n == name);
        if authorizations.is_empty() {
            return Err(Error::AuthorizationNotFound {
                name: name.into(),
                available,
            });
        }
    }
    if authorizations.is_empty() {
        return Err(Error::NoAuthorization {
            path: project.path().into(),
        });
    }
    Ok(authorizations)
}

/// Tokens a failed save set aside for this account, if any; stale ones (the account changed
/// since, so the file's tokens are newer) said so.
fn set_aside_json(project: &Project, account: &str, set_aside: &[(String, Recovery)]) -> Value {
    let found = set_aside.iter().find(|(a, _)| a == account);
    found
        .map(|(_, r)| {
            json!({
                "path": r.path.display().to_string(),
                "savedAt": r.saved_at,
                "usable": r.fits(project.test_account(account)),
            })
        })
        .into()
}

/// One account, described for a person.
fn text(a: &Value) -> String {
    let mut out = format!(
        "Test account \"{}\": {}{}\n",
        printable(a["testAccount"].as_str().unwrap_or_default()),
        token_text(a),
        if a["refreshToken"] == true {
            ", refresh token stored"
        } else {
            ""
        }
    );
    if let Some(path) = a["setAside"]["path"].as_str() {
        out.push_str(&if a["setAside"]["usable"] == true {
            format!(
                "  tokens a failed save set aside wait in {path}: take them with oauth2 --recover\n"
            )
        } else {
            format!(
                "  {path} holds tokens older than the file's (set aside by a failed save): delete it\n"
            )
        });
    }
    for next in a["next"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  with \"{}\" ({}): {}\n",
            printable(next["authorization"].as_str().unwrap_or_default()),
            next["grantType"].as_str().unwrap_or("?"),
            printable(next["action"].as_str().unwrap_or_default())
        ));
    }
    out
}

fn token_text(a: &Value) -> String {
    let Some(masked) = a["accessToken"].as_str() else {
        return "no access token".into();
    };
    let mut t = format!("token {masked}");
    match a["expiresAt"].as_str() {
        Some(at) => t.push_str(&format!(
            ", {} {at} ({})",
            if a["expired"] == true {
                "expired"
            } else {
                "expires"
            },
            a["expiresIn"].as_str().unwrap_or_default()
        )),
        None => t.push_str(", no expiry stated"),
    }
    if let Some(scope) = a["scope"].as_str() {
        t.push_str(&format!(", scope {}", printable(scope)));
    }
    t
}

/// An authorization's grant type, or why its settings cannot be read.
type Grant = std::result::Result<GrantType, String>;

fn describe(
    project: &Project,
    name: &str,
    authorizations: &[(String, Grant)],
    clock: &dyn Clock,
) -> Value {
    let account = project.account(name);
    let now = clock.now();
    let at = account.expires_at().and_then(|at| at.ok());
    let next: Vec<Value> = authorizations
        .iter()
        .map(|(authorization, grant)| match grant {
            Ok(grant) => json!({
                "authorization": authorization,
                "grantType": grant.name(),
                "action": next_action(&account, *grant, now),
            }),
            Err(why) => json!({
                "authorization": authorization,
                "grantType": null,
                "action": format!("not usable: {why}"),
            }),
        })
        .collect();
    json!({
        "testAccount": name,
        "accessToken": account.access_token().map(secret::mask),
        "expiresAt": at.map(clock::rfc3339),
        "expiresIn": at.map(|at| clock::relative(at, now)),
        "expired": at.is_some_and(|at| at <= now),
        "scope": account.scope(),
        "refreshToken": account.refresh_token().is_some(),
        "next": next,
    })
}

/// What the next `oauth2` and `token` runs would do, by the freshness rule they share.
fn next_action(account: &TestAccount, grant: GrantType, now: SystemTime) -> &'static str {
    let freshness = account.freshness(grant, now);
    let refresh_token = account.refresh_token().is_some();
    if grant.needs_no_person() {
        return match freshness {
            Freshness::Fresh(_) => "oauth2 keeps it; token prints it",
            _ => "oauth2 and token request a new one",
        };
    }
    match (grant, freshness, refresh_token) {
        (GrantType::Password, Freshness::Fresh(_), false) => {
            "oauth2 keeps it (--reauth asks for the password); token prints it"
        }
        (GrantType::Password, Freshness::NeedsLogin(_), _) => {
            "oauth2 asks for the password (or UNITO_PASSWORD); token cannot help"
        }
        (GrantType::Password, Freshness::Fresh(_), true) => {
            "oauth2 refreshes it; token prints it as is"
        }
        (GrantType::Password, Freshness::Refreshable(_), _) => {
            "oauth2 and token refresh it (no password)"
        }
        (GrantType::AuthorizationCode, Freshness::Fresh(_), true) => {
            "oauth2 refreshes it; token prints it as is"
        }
        (GrantType::AuthorizationCode, Freshness::Fresh(_), false) => {
            "oauth2 keeps it (--reauth logs in again); token prints it"
        }
        (GrantType::AuthorizationCode, Freshness::Refreshable(_), _) => {
            "oauth2 and token refresh it (no browser)"
        }
        (GrantType::AuthorizationCode, Freshness::NeedsLogin(_), _) => {
            "oauth2 logs in (browser); token cannot help"
        }
        _ => "not supported by this version",
    }
}
