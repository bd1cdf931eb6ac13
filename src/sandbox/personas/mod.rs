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
mod zendesk;

pub use atlassian::Atlassian;
pub use dropbox::Dropbox;
pub use github::GitHub;
pub use google::Google;
pub use hubspot::HubSpot;
pub use microsoft::Microsoft;
pub use notion::Notion;
pub use salesforce::Salesforce;
pub use sandbox::Sandbox;
pub use slack::Slack;
pub use x::X;
pub use zendesk::Zendesk;

use super::persona::Persona;

/// Whether an option was given.
type Has<'a> = &'a dyn Fn(&str) -> bool;

/// One persona: its name, the options it takes, and how to make it with the options given.
pub struct Entry {
    pub name: &'static str,
    pub options: &'static [&'static str],
    make: fn(Has<'_>) -> Box<dyn Persona>,
}

/// Every persona, the plain sandbox first: the one list `--persona`, its options, the help
/// and docs/providers.md's table are checked against.
pub static ALL: [Entry; 12] = [
    Entry {
        name: "sandbox",
        options: &[],
        make: |_| Box::new(Sandbox),
    },
    Entry {
        name: "github",
        options: &["expiring"],
        make: |has| {
            Box::new(GitHub {
                expiring: has("expiring"),
            })
        },
    },
    Entry {
        name: "google",
        options: &[],
        make: |_| Box::new(Google),
    },
    Entry {
        name: "microsoft",
        options: &[],
        make: |_| Box::new(Microsoft),
    },
    Entry {
        name: "slack",
        options: &["rotation"],
        make: |has| {
            Box::new(Slack {
                rotation: has("rotation"),
            })
        },
    },
    Entry {
        name: "salesforce",
        options: &[],
        make: |_| Box::new(Salesforce),
    },
    Entry {
        name: "atlassian",
        options: &[],
        make: |_| Box::new(Atlassian),
    },
    Entry {
        name: "hubspot",
        options: &[],
        make: |_| Box::new(HubSpot),
    },
    Entry {
        name: "dropbox",
        options: &[],
        make: |_| Box::new(Dropbox),
    },
    Entry {
        name: "notion",
        options: &["legacy"],
        make: |has| {
            Box::new(Notion {
                legacy: has("legacy"),
            })
        },
    },
    Entry {
        name: "x",
        options: &[],
        make: |_| Box::new(X),
    },
    Entry {
        name: "zendesk",
        options: &[],
        make: |_| Box::new(Zendesk),
    },
];

/// Every persona's name, as `--persona` takes them.
pub const NAMES: [&str; 12] = {
    let mut names = [""; 12];
    let mut i = 0;
    while i < ALL.len() {
        names[i] = ALL[i].name;
        i += 1;
    }
    names
};

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The entry of the persona named, as `--persona` takes it (its value parser allows only
/// these names, so the commands never meet `None`).
pub fn find(name: &str) -> Option<&'static Entry> {
    ALL.iter().find(|e| e.name == name)
}

impl Entry {
    /// This persona with the options given (`--persona-option`): each is checked, so a
    /// typo is an error rather than the plain persona.
    pub fn with(&'static self, options: &[String]) -> Result<Chosen, String> {
        let mut taken = Vec::new();
        for given in options {
            match self.options.iter().find(|o| **o == given.as_str()) {
                Some(known) => taken.push(*known),
                None if self.options.is_empty() => {
                    return Err(format!(
                        "the {} persona takes no options (got {given:?})",
                        self.name
                    ));
                }
                None => {
                    return Err(format!(
                        "the {} persona takes {} (got {given:?})",
                        self.name,
                        self.options.join(", ")
                    ));
                }
            }
        }
        Ok(Chosen {
            entry: self,
            options: taken,
        })
    }
}

/// A persona and its options, checked: what `--persona` and `--persona-option` become at
/// the command line, so the sandbox starts one without reading a name again.
#[derive(Debug, Clone)]
pub struct Chosen {
    entry: &'static Entry,
    options: Vec<&'static str>,
}

impl Chosen {
    /// The plain sandbox, no options.
    pub fn plain() -> Chosen {
        Chosen {
            entry: &ALL[0],
            options: Vec::new(),
        }
    }

    /// Its name, as `--persona` takes it.
    pub fn name(&self) -> &'static str {
        self.entry.name
    }

    /// The persona itself. Its `make` may ask only for options its entry declares (the
    /// ones `with` checks against): one it misspells would never be on.
    pub fn make(&self) -> Box<dyn Persona> {
        (self.entry.make)(&|o| {
            debug_assert!(
                self.entry.options.contains(&o),
                "the {} persona declares no option {o:?}",
                self.entry.name
            );
            self.options.contains(&o)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::persona::Issued;
    use super::super::store::{Asked, Store};
    use super::*;

    /// Each persona is made with each option it declares (and asks for no other: `make`
    /// checks), and refuses one it does not declare in words that name what it takes.
    #[test]
    fn each_persona_takes_the_options_it_declares_and_refuses_others() {
        for entry in ALL.iter() {
            for option in entry.options {
                let chosen = entry.with(&[option.to_string()]).unwrap();
                assert_eq!(chosen.make().name(), entry.name);
            }
            let refused = entry.with(&["fake-option".to_string()]).unwrap_err();
            assert!(refused.contains(entry.name), "{refused}");
            assert!(refused.contains("(got \"fake-option\")"), "{refused}");
        }
    }

    /// The scope rules kept with each provider read its persona's answer to a login with
    /// the provider's preset scopes as granting them all (or make no claim): a wrong
    /// "missing scope" would start a login on every run.
    #[test]
    fn each_personas_answer_grants_its_presets_scopes_by_its_providers_rules() {
        for entry in ALL.iter() {
            let persona = entry.with(&[]).unwrap().make();
            let Some(provider) = persona.provider() else {
                continue;
            };
            let scopes: Vec<String> = provider.scopes.iter().map(|s| s.to_string()).collect();
            let asked = Asked {
                params: [("scope".to_string(), scopes.join(" "))].into(),
                tenant: None,
            };
            let issued = Issued {
                grant: 1,
                access: "fake-access".into(),
                refresh: None,
                expires_in: Some(60),
                refreshed: false,
                user: false,
            };
            let answer = persona.answer(&issued, &asked, &mut Store::default());
            let granted = answer.get("scope").and_then(|s| s.as_str());
            let missing = crate::scopes::missing(&scopes, granted, provider.scope_rules());
            assert!(
                missing.as_ref().is_none_or(Vec::is_empty),
                "{}: {missing:?} from {granted:?}",
                entry.name
            );
        }
    }
}
