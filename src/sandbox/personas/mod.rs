//! One file per provider the sandbox can stand in for, each from that provider's public
//! documentation (linked in `providers`), and the plain sandbox; `named` picks one.

mod atlassian;
mod dropbox;
mod github;
mod google;
mod hubspot;
mod microsoft;
mod notion;
mod salesforce;
mod sandbox;
mod slack;
mod x;

pub use atlassian::Atlassian;
pub use dropbox::Dropbox;
pub use github::GitHub;
pub use google::Google;
pub use hubspot::HubSpot;
pub use microsoft::{Microsoft, V1_TOKEN_PATH as MICROSOFT_V1_TOKEN_PATH};
pub use notion::Notion;
pub use salesforce::Salesforce;
pub use sandbox::Sandbox;
pub use slack::Slack;
pub use x::X;

use super::persona::Persona;

/// The persona named, with its options (`--persona-option`); every name and option is
/// checked, so a typo is an error rather than the plain sandbox.
pub fn named(name: &str, options: &[String]) -> Result<Box<dyn Persona>, String> {
    let known = |allowed: &[&str]| -> Result<(), String> {
        match options.iter().find(|o| !allowed.contains(&o.as_str())) {
            None => Ok(()),
            Some(o) if allowed.is_empty() => {
                Err(format!("the {name} persona takes no options (got {o:?})"))
            }
            Some(o) => Err(format!(
                "the {name} persona takes {} (got {o:?})",
                allowed.join(", ")
            )),
        }
    };
    let has = |o: &str| options.iter().any(|x| x == o);
    let persona: Box<dyn Persona> = match name {
        "sandbox" => {
            known(&[])?;
            Box::new(Sandbox)
        }
        "github" => {
            known(&["expiring"])?;
            Box::new(GitHub {
                expiring: has("expiring"),
            })
        }
        "google" => known(&[]).map(|_| Box::new(Google) as Box<dyn Persona>)?,
        "microsoft" => known(&[]).map(|_| Box::new(Microsoft) as Box<dyn Persona>)?,
        "slack" => {
            known(&["rotation"])?;
            Box::new(Slack {
                rotation: has("rotation"),
            })
        }
        "salesforce" => known(&[]).map(|_| Box::new(Salesforce) as Box<dyn Persona>)?,
        "atlassian" => known(&[]).map(|_| Box::new(Atlassian) as Box<dyn Persona>)?,
        "hubspot" => known(&[]).map(|_| Box::new(HubSpot) as Box<dyn Persona>)?,
        "dropbox" => known(&[]).map(|_| Box::new(Dropbox) as Box<dyn Persona>)?,
        "notion" => {
            known(&["legacy"])?;
            Box::new(Notion {
                legacy: has("legacy"),
            })
        }
        "x" => known(&[]).map(|_| Box::new(X) as Box<dyn Persona>)?,
        other => {
            return Err(format!(
                "no persona named {other:?} (use one of: {})",
                NAMES.join(", ")
            ));
        }
    };
    Ok(persona)
}

/// Every persona's name, the plain sandbox first.
pub const NAMES: [&str; 11] = [
    "sandbox",
    "github",
    "google",
    "microsoft",
    "slack",
    "salesforce",
    "atlassian",
    "hubspot",
    "dropbox",
    "notion",
    "x",
];
