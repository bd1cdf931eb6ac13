//! Which authorization to use: the one named, the only one, or the one the user picks.
//! An authorization whose settings cannot be read is reported when it is the one chosen.
//! And which test account: one the file has, one of the platform's two, or a new one only
//! when asked for, so a typo never starts a login for an account nobody wanted.

use std::path::Path;

use crate::config::{Config, OAuth2};
use crate::error::{ConfigError, Result, UserError};
use crate::project::Project;
use crate::ui::Terminal;

/// The platform's own test accounts: it makes them at the first login, so a file without
/// them is still theirs.
pub const PLATFORM_ACCOUNTS: [&str; 2] = ["development", "compliance"];

/// How a run may meet a test account the file does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewAccount {
    /// Not at all: only a login makes test accounts.
    Refused,
    /// By a login, once the user confirms it at a terminal (not when the name came from
    /// `UNITO_TEST_ACCOUNT`, which nobody typed just now).
    Confirmed { from_env: bool },
    /// By a login, as `--new` says.
    Wanted,
}

/// Whether the run may go on with test account `name` of `project`.
pub fn test_account(
    project: &Project,
    name: &str,
    new: NewAccount,
    terminal: &dyn Terminal,
) -> Result<()> {
    if PLATFORM_ACCOUNTS.contains(&name) || project.test_account(name).is_some() {
        return Ok(());
    }
    let known = project.test_account_names();
    let refused = || UserError::UnknownTestAccount {
        name: name.into(),
        path: project.path().into(),
        closest: closest(name, &known),
        known: known.clone(),
        login: new != NewAccount::Refused,
    };
    match new {
        NewAccount::Wanted => Ok(()),
        NewAccount::Confirmed { from_env: false } if terminal.interactive() => {
            let prompt = format!("{} Make it?", refused());
            let items = [
                format!("Make test account \"{name}\""),
                "Cancel".to_string(),
            ];
            match terminal.choose(&prompt, &items)? {
                0 => Ok(()),
                _ => Err(refused().into()),
            }
        }
        _ => Err(refused().into()),
    }
}

/// The name `name` was most likely meant to be, among those the file has and the platform's.
fn closest(name: &str, known: &[String]) -> Option<String> {
    let platform = PLATFORM_ACCOUNTS.iter().map(|n| n.to_string());
    let candidates = known.iter().cloned().chain(platform);
    candidates
        .map(|c| (strsim::jaro_winkler(name, &c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The chosen authorization's name and settings. `path` names the file in errors.
pub fn authorization(
    config: &Config,
    path: &Path,
    wanted: Option<&str>,
    terminal: &dyn Terminal,
) -> Result<(String, OAuth2)> {
    let all = config.authorizations()?;
    if let Some(wanted) = wanted {
        let found = all.iter().find(|a| a.name == wanted).ok_or_else(|| {
            ConfigError::AuthorizationNotFound {
                name: wanted.into(),
                available: all.iter().map(|a| a.name.clone()).collect(),
            }
        })?;
        let oauth2 = config
            .oauth2_of(found)
            .ok_or_else(|| ConfigError::NotOAuth2 {
                name: found.name.clone(),
                method: found.method.clone(),
            })??;
        return Ok((found.name.clone(), oauth2.clone()));
    }
    let mut candidates = config.oauth2()?;
    let chosen = match candidates.len() {
        0 => return Err(ConfigError::NoAuthorization { path: path.into() }.into()),
        1 => candidates.remove(0),
        _ if !terminal.interactive() => {
            return Err(ConfigError::AuthorizationAmbiguous {
                available: candidates.iter().map(|(a, _)| a.name.clone()).collect(),
            }
            .into());
        }
        _ => {
            let labels: Vec<String> = candidates
                .iter()
                .map(|(a, o)| {
                    let dev = if a.development { ", development" } else { "" };
                    match o {
                        Ok(o) => format!("{} ({}{dev})", a.name, o.grant.kind()),
                        Err(_) => format!("{} (its settings cannot be read{dev})", a.name),
                    }
                })
                .collect();
            let i = terminal.choose("Which authorization?", &labels)?;
            candidates.swap_remove(i)
        }
    };
    let (a, o) = chosen;
    Ok((a.name.clone(), o?.clone()))
}
