//! Which authorization to use: the one named, the only one, or the one the user picks.

use crate::error::{Error, Result};
use crate::project::{OAuth2Config, Project};
use crate::ui::Terminal;

pub fn authorization(
    project: &Project,
    wanted: Option<&str>,
    terminal: &dyn Terminal,
) -> Result<(String, OAuth2Config)> {
    let all = project.authorizations()?;
    let names: Vec<String> = all.iter().map(|a| a.name.clone()).collect();
    if let Some(wanted) = wanted {
        let found = all.into_iter().find(|a| a.name == wanted).ok_or_else(|| {
            Error::AuthorizationNotFound {
                name: wanted.into(),
                available: names,
            }
        })?;
        let config = found.oauth2.ok_or_else(|| Error::NotOAuth2 {
            name: found.name.clone(),
            method: found.method.clone(),
        })?;
        return Ok((found.name, config));
    }
    let mut candidates: Vec<_> = all
        .into_iter()
        .filter_map(|a| a.oauth2.clone().map(|c| (a, c)))
        .collect();
    match candidates.len() {
        0 => Err(Error::NoAuthorization {
            path: project.path().into(),
        }),
        1 => {
            let (a, c) = candidates.remove(0);
            Ok((a.name, c))
        }
        _ => {
            let labels: Vec<String> = candidates
                .iter()
                .map(|(a, c)| {
                    let dev = if a.development { ", development" } else { "" };
                    format!("{} ({}{dev})", a.name, c.grant_type)
                })
                .collect();
            if !terminal.interactive() {
                return Err(Error::AuthorizationAmbiguous {
                    available: candidates.iter().map(|(a, _)| a.name.clone()).collect(),
                });
            }
            let i = terminal.choose("Which authorization?", &labels)?;
            let (a, c) = candidates.swap_remove(i);
            Ok((a.name, c))
        }
    }
}
