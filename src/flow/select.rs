//! Which authorization to use: the one named, the only one, or the one the user picks.
//! An authorization whose settings cannot be read is reported when it is the one chosen.

use std::path::Path;

use crate::config::{Config, OAuth2};
use crate::error::{ConfigError, Result};
use crate::ui::Terminal;

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
