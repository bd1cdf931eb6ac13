//! Which authorization to use: the one named, the only one, or the one the user picks.

use std::path::Path;

use crate::config::{Config, OAuth2};
use crate::error::{Error, Result};
use crate::ui::Terminal;

/// The chosen authorization's name and settings. `path` names the file in errors.
pub fn authorization(
    config: &Config,
    path: &Path,
    wanted: Option<&str>,
    terminal: &dyn Terminal,
) -> Result<(String, OAuth2)> {
    if let Some(wanted) = wanted {
        let found = config
            .authorizations
            .iter()
            .find(|a| a.name == wanted)
            .ok_or_else(|| Error::AuthorizationNotFound {
                name: wanted.into(),
                available: config
                    .authorizations
                    .iter()
                    .map(|a| a.name.clone())
                    .collect(),
            })?;
        let oauth2 = found.oauth2.clone().ok_or_else(|| Error::NotOAuth2 {
            name: found.name.clone(),
            method: found.method.clone(),
        })?;
        return Ok((found.name.clone(), oauth2));
    }
    let candidates: Vec<_> = config.oauth2().collect();
    match candidates.as_slice() {
        [] => Err(Error::NoAuthorization { path: path.into() }),
        [(a, o)] => Ok((a.name.clone(), (*o).clone())),
        _ if !terminal.interactive() => Err(Error::AuthorizationAmbiguous {
            available: candidates.iter().map(|(a, _)| a.name.clone()).collect(),
        }),
        _ => {
            let labels: Vec<String> = candidates
                .iter()
                .map(|(a, o)| {
                    let dev = if a.development { ", development" } else { "" };
                    format!("{} ({}{dev})", a.name, o.grant)
                })
                .collect();
            let (a, o) = candidates[terminal.choose("Which authorization?", &labels)?];
            Ok((a.name.clone(), o.clone()))
        }
    }
}
