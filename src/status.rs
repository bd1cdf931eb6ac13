//! `integration-cli status`: what each test account holds, and what the next `oauth2` and
//! `token` runs would do with it under each authorization, without touching the file or the
//! network. Test accounts belong to the file, not to an authorization, so each is shown once.

use std::path::Path;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::clock::{self, Clock};
use crate::config::{Freshness, GrantType, OAuth2, TestAccount, Values};
use crate::error::{ConfigError, Result};
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
            let seen = Seen {
                project: &project,
                name: account,
                clock,
                env,
            };
            let mut described = seen.describe(&authorizations);
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
fn chosen(project: &Project, only: Option<&str>) -> Result<Vec<(String, Typed)>> {
    let mut authorizations: Vec<(String, Typed)> = project
        .config()
        .oauth2()?
        .into_iter()
        .map(|(a, o)| (a.name.clone(), o.cloned().map_err(|e| e.to_string())))
        .collect();
    if let Some(name) = only {
        let available: Vec<String> = authorizations.iter().map(|(n, _)| n.clone()).collect();
        authorizations.retain(|(n, _)| n == name);
        if authorizations.is_empty() {
            return Err(ConfigError::AuthorizationNotFound {
                name: name.into(),
                available,
            }
            .into());
        }
    }
    if authorizations.is_empty() {
        return Err(ConfigError::NoAuthorization {
            path: project.path().into(),
        }
        .into());
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
    if let Some(vars) = a["variables"].as_object().filter(|v| !v.is_empty()) {
        let shown: Vec<String> = vars
            .iter()
            .map(|(name, value)| match value.as_str() {
                Some(v) => format!("{} {v}", printable(name)),
                None => format!("{} (none)", printable(name)),
            })
            .collect();
        out.push_str(&format!("  variables: {}\n", shown.join(", ")));
    }
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

/// An authorization's settings, or why they cannot be read.
type Typed = std::result::Result<OAuth2, String>;

/// One test account, as the file holds it now.
struct Seen<'a> {
    project: &'a Project,
    name: &'a str,
    clock: &'a dyn Clock,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Seen<'_> {
    fn describe(&self, authorizations: &[(String, Typed)]) -> Value {
        let account = self.project.account(self.name);
        let now = self.clock.now();
        let at = account.expires_at().and_then(|at| at.ok());
        let next: Vec<Value> = authorizations
            .iter()
            .map(|(authorization, typed)| match typed {
                Ok(o) => self.next(authorization, o, &account, now),
                Err(why) => json!({
                    "authorization": authorization,
                    "grantType": null,
                    "action": format!("not usable: {why}"),
                }),
            })
            .collect();
        json!({
            "testAccount": self.name,
            "accessToken": account.access_token().map(secret::mask),
            "expiresAt": at.map(clock::rfc3339),
            "expiresIn": at.map(|at| clock::relative(at, now)),
            "expired": at.is_some_and(|at| at <= now),
            "scope": account.scope(),
            "refreshToken": account.refresh_token().is_some(),
            "variables": self.variables(authorizations),
            "next": next,
        })
    }

    /// What the next runs would do with this account under `o`: ask for what it lacks
    /// first, refuse what its templates cannot take, or the usual.
    fn next(
        &self,
        authorization: &str,
        o: &OAuth2,
        account: &TestAccount,
        now: SystemTime,
    ) -> Value {
        let lacking = o.lacking(account.fields());
        let names: Vec<String> = lacking.iter().map(crate::config::Lack::described).collect();
        let action = if !lacking.is_empty() {
            format!(
                "oauth2 first asks for {} (or takes --var); token cannot help until then",
                names.join(", ")
            )
        } else if let Err(why) = self.expands(o) {
            format!("not usable for this account: {why}")
        } else {
            next_action(account, o.grant, now).to_string()
        };
        json!({
            "authorization": authorization,
            "grantType": o.grant.name(),
            "action": action,
            "missingVariables": lacking.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
        })
    }

    /// Whether `o`'s templates take this account's values (with the declared defaults), as
    /// the next request would. The client's id and secret are read only when a template
    /// uses them.
    fn expands(&self, o: &OAuth2) -> std::result::Result<(), String> {
        if !o.is_templated() {
            return Ok(());
        }
        let mut fields = self
            .project
            .test_account(self.name)
            .cloned()
            .unwrap_or_default();
        let defaults = o.defaults_for(&fields);
        fields.extend(defaults);
        let client_id = match o.uses("clientId") {
            true => crate::config::resolve_client_id(o, self.env).map_err(|e| e.to_string())?,
            false => String::new(),
        };
        let secret = match o.uses("clientSecret") {
            true => crate::config::resolve_client_secret(o, self.env).map_err(|e| e.to_string())?,
            false => None,
        };
        o.expanded(&Values {
            test_account: self.name,
            fields: &fields,
            client_id: &client_id,
            client_secret: secret.as_ref(),
        })
        .map(|_| ())
        .map_err(|refusal| refusal.to_string())
    }

    /// The values the described authorizations' templates and variables use, as shown
    /// (password variables masked); `null` for one the account lacks.
    fn variables(&self, authorizations: &[(String, Typed)]) -> Value {
        let account = self.project.test_account(self.name);
        let mut shown = Map::new();
        for (_, typed) in authorizations {
            let Ok(o) = typed else { continue };
            for (name, value) in crate::flow::variables_shown(o, account) {
                shown
                    .entry(name)
                    .or_insert(value.map_or(Value::Null, Value::String));
            }
        }
        Value::Object(shown)
    }
}

/// What the next `oauth2` and `token` runs would do, by the freshness rule they share.
fn next_action(account: &TestAccount, grant: GrantType, now: SystemTime) -> &'static str {
    let freshness = account.freshness(grant, now);
    let refresh_token = account.refresh_token().is_some();
    use GrantType::{AuthorizationCode, ClientCredentials, JwtBearer, Password};
    // Every grant and state named, so a new grant cannot fall through to a guess.
    match (grant, freshness, refresh_token) {
        (ClientCredentials | JwtBearer, Freshness::Fresh(_), _) => {
            "oauth2 keeps it; token prints it"
        }
        (
            ClientCredentials | JwtBearer,
            Freshness::Refreshable(_) | Freshness::NeedsLogin(_),
            _,
        ) => "oauth2 and token request a new one",
        (Password, Freshness::Fresh(_), false) => {
            "oauth2 keeps it (--reauth asks for the password); token prints it"
        }
        (Password, Freshness::NeedsLogin(_), _) => {
            "oauth2 asks for the password (or UNITO_PASSWORD); token cannot help"
        }
        (Password, Freshness::Fresh(_), true) => "oauth2 refreshes it; token prints it as is",
        (Password, Freshness::Refreshable(_), _) => "oauth2 and token refresh it (no password)",
        (AuthorizationCode, Freshness::Fresh(_), true) => {
            "oauth2 refreshes it; token prints it as is"
        }
        (AuthorizationCode, Freshness::Fresh(_), false) => {
            "oauth2 keeps it (--reauth logs in again); token prints it"
        }
        (AuthorizationCode, Freshness::Refreshable(_), _) => {
            "oauth2 and token refresh it (no browser)"
        }
        (AuthorizationCode, Freshness::NeedsLogin(_), _) => {
            "oauth2 logs in (browser); token cannot help"
        }
    }
}
