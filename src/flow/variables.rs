//! The values a test account must hold for its authorization's templates and variables,
//! gathered before anything is sent: from the file, `--var`, the declared defaults, or a
//! person at the terminal (only `oauth2` asks). Each is checked against its declaration;
//! what is new is saved with the tokens.

use serde_json::{Map, Value};

use crate::config::variables::{Kind, RESERVED, Variable};
use crate::config::{Lack, OAuth2};
use crate::error::{Error, Result, UserError};
use crate::redact::printable;
use crate::ui::Terminal;

/// What was gathered for one test account. No `Debug`: answers may be passwords.
#[derive(Default)]
pub struct Filled {
    /// Values to write into the test account with the tokens: answers, `--var`s, defaults.
    pub answers: Map<String, Value>,
    /// Values the templates use that `--var` changed: the stored tokens belong to the old
    /// tenant, and must not be sent to the new one.
    pub changed: Vec<String>,
}

/// How one run may gather values.
pub struct Gathering<'a> {
    /// `--var NAME=VALUE`, as given.
    pub given: &'a [(String, String)],
    /// Someone may be asked (`oauth2` at a terminal).
    pub ask: bool,
    pub terminal: &'a dyn Terminal,
    pub test_account: &'a str,
    pub authorization: &'a str,
    /// The `oauth2` command for this test account ending in the given flags: the fix.
    pub command: &'a dyn Fn(&str) -> String,
    /// Said before the first question: answers are saved with the tokens, so a file that
    /// cannot take them is reported before anyone types.
    pub before_asking: &'a dyn Fn() -> Result<()>,
}

impl Gathering<'_> {
    pub fn fill(&self, config: &OAuth2, stored: Option<&Map<String, Value>>) -> Result<Filled> {
        let empty = Map::new();
        let stored = stored.unwrap_or(&empty);
        let used = config.template_names();
        let mut filled = self.given(config, stored, &used)?;
        let mut fields = stored.clone();
        fields.extend(filled.answers.clone());
        let asking = self.ask && self.terminal.interactive();
        let mut asked = false;
        for var in config.variables.iter() {
            let wanted = var.required || used.contains(&var.name);
            if !(asking && wanted && var.lacks_in(&fields)) {
                continue;
            }
            if !std::mem::replace(&mut asked, true) {
                (self.before_asking)()?;
            }
            let answer = self.ask_for(var)?;
            fields.insert(var.name.clone(), answer.clone());
            filled.answers.insert(var.name.clone(), answer);
        }
        for (name, default) in config.defaults_for(&fields) {
            fields.insert(name.clone(), default.clone());
            filled.answers.insert(name, default);
        }
        let lacking = config.lacking(Some(&fields));
        match lacking.is_empty() {
            true => Ok(filled),
            false => Err(self.missing(&lacking)),
        }
    }

    /// `--var`s, each checked against its declaration.
    pub fn given(
        &self,
        config: &OAuth2,
        stored: &Map<String, Value>,
        used: &[String],
    ) -> Result<Filled> {
        let mut filled = Filled::default();
        for (name, raw) in self.given {
            let declared = config.variables.get(name);
            if RESERVED.contains(&name.as_str())
                || matches!(name.as_str(), "clientId" | "clientSecret")
            {
                return Err(UserError::InvalidInput {
                    message: format!(
                        "--var {}: that name is not a variable (integration-cli or the \
                         authorization fills it)",
                        printable(name)
                    ),
                }
                .into());
            }
            let value = match declared {
                Some(var) => var.check(raw).map_err(|why| UserError::InvalidInput {
                    message: format!(
                        "--var {}: {} {why}",
                        printable(name),
                        printable(var.label())
                    ),
                })?,
                None if used.contains(name) => Value::String(raw.clone()),
                None => return Err(self.unknown(config, name, used)),
            };
            // Compared as the templates fill them in: a stored "443" is the port 443.
            let text = crate::config::variables::as_text;
            let old = stored.get(name).and_then(text);
            if used.contains(name) && old.is_some_and(|old| Some(old) != text(&value)) {
                filled.changed.push(name.clone());
            }
            filled.answers.insert(name.clone(), value);
        }
        Ok(filled)
    }

    fn unknown(&self, config: &OAuth2, name: &str, used: &[String]) -> Error {
        let mut known: Vec<String> = config.variables.iter().map(|v| v.name.clone()).collect();
        for name in used {
            if !known.contains(name) {
                known.push(name.clone());
            }
        }
        let known = match known.is_empty() {
            true => "it has none".to_string(),
            false => format!("it has {}", known.join(", ")),
        };
        UserError::InvalidInput {
            message: format!(
                "--var {}: authorization \"{}\" declares no variable of that name and its \
                 templates use none ({known})",
                printable(name),
                printable(self.authorization)
            ),
        }
        .into()
    }

    /// One variable, asked until the answer fits its declaration.
    fn ask_for(&self, var: &Variable) -> Result<Value> {
        let term = self.terminal;
        if let Some(help) = &var.help {
            term.needed(&format!("{}: {help}", var.label()));
        }
        let mut prompt = var.label().to_string();
        match (var.kind, &var.placeholder) {
            (Kind::Boolean, _) => prompt.push_str(" (yes/no)"),
            (Kind::Password, _) => {}
            (_, Some(example)) => prompt.push_str(&format!(" (e.g. {example})")),
            (_, None) => {}
        }
        let default = var
            .default
            .as_ref()
            .and_then(crate::config::variables::as_text)
            .filter(|_| !var.is_secret());
        loop {
            let answer = match var.kind {
                Kind::Password => term.hidden(&prompt)?,
                _ => term.input(&prompt, default.as_deref())?,
            };
            match var.check(&answer) {
                Ok(value) => return Ok(value),
                Err(why) => term.warn(&format!("{} {why}; try again.", var.label())),
            }
        }
    }

    fn missing(&self, lacking: &[Lack]) -> Error {
        let names: Vec<String> = lacking.iter().map(Lack::described).collect();
        let flags: Vec<String> = lacking
            .iter()
            .map(|l| format!("--var {}=VALUE", l.name))
            .collect();
        let edit: Vec<String> = lacking
            .iter()
            .map(|l| format!("\"{}\": \"...\"", l.name))
            .collect();
        UserError::VariablesMissing {
            test_account: self.test_account.to_string(),
            authorization: self.authorization.to_string(),
            missing: names,
            fix: (self.command)(&flags.join(" ")),
            edit: format!(
                "{} to testAccounts.{} in the file",
                edit.join(", "),
                printable(self.test_account)
            ),
        }
        .into()
    }
}

/// The values a template of `config` may show: every declared variable and every name a
/// template uses, with what the test account holds (password variables masked).
pub fn shown(
    config: &OAuth2,
    account: Option<&Map<String, Value>>,
) -> Vec<(String, Option<String>)> {
    let mut names: Vec<String> = config.variables.iter().map(|v| v.name.clone()).collect();
    for name in config.template_names() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            // A person's password is masked by its length alone: even four characters of
            // it say too much.
            let value = account
                .and_then(|a| a.get(&name))
                .and_then(crate::config::variables::as_text)
                .map(|v| match config.is_secret(&name) {
                    true => format!("… ({} chars)", v.chars().count()),
                    false => printable(&v),
                });
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;
    use std::cell::RefCell;
    use std::path::Path;

    /// A terminal that answers from a script and remembers what it was asked.
    #[derive(Default)]
    struct Scripted {
        answers: RefCell<Vec<&'static str>>,
        asked: RefCell<Vec<String>>,
        warned: RefCell<Vec<String>>,
    }

    impl Terminal for Scripted {
        fn interactive(&self) -> bool {
            true
        }
        fn choose(&self, _: &str, _: &[String]) -> Result<usize> {
            Ok(0)
        }
        fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
            self.asked
                .borrow_mut()
                .push(format!("{prompt} [{}]", default.unwrap_or("")));
            let answer = self.answers.borrow_mut().remove(0);
            Ok(if answer.is_empty() {
                default.unwrap_or("").to_string()
            } else {
                answer.into()
            })
        }
        fn hidden(&self, prompt: &str) -> Result<String> {
            self.asked.borrow_mut().push(format!("{prompt} (hidden)"));
            Ok(self.answers.borrow_mut().remove(0).into())
        }
        fn say(&self, _: &str) {}
        fn warn(&self, message: &str) {
            self.warned.borrow_mut().push(message.into());
        }
        fn result(&self, _: &str) {}
        fn waiting(&self, _: &str) -> Box<dyn crate::ui::Waiting> {
            unimplemented!()
        }
    }

    fn okta() -> OAuth2 {
        let root = json!({"authorizations": [{"name": "okta",
            "variables": {
                "domain": {"label": "Okta domain", "required": true, "pattern": "^[a-z0-9.-]+$",
                    "placeholder": "dev-1.okta.com"},
                "authorizationServerId": {"label": "Server id", "defaultValue": "default"},
                "hint": {"label": "Login hint"},
                "pin": {"type": "password", "label": "PIN", "required": true}
            },
            "oauth2": {"clientId": "i",
                "tokenUrl": "https://{+domain}/oauth2/{+authorizationServerId}/v1/token",
                "authorizationUrl": "https://{+domain}/oauth2/{+authorizationServerId}/v1/authorize",
                "authorizationParameters": {"login_hint": "{+hint}"}}}]});
        let config = Config::parse(Path::new("x"), root.as_object().unwrap());
        (*config.oauth2().unwrap()[0].1.as_ref().unwrap()).clone()
    }

    fn gathering<'a>(
        term: &'a Scripted,
        given: &'a [(String, String)],
        ask: bool,
    ) -> Gathering<'a> {
        Gathering {
            given,
            ask,
            terminal: term,
            test_account: "development",
            authorization: "okta",
            command: &|flags| format!("integration-cli oauth2 {flags}"),
            before_asking: &|| Ok(()),
        }
    }

    #[test]
    fn at_a_terminal_each_lacking_value_is_asked_in_order_until_it_fits() {
        let term = Scripted {
            answers: RefCell::new(vec!["Not A Host!", "dev-1.okta.com", "", "", "fake-pin"]),
            ..Scripted::default()
        };
        let filled = gathering(&term, &[], true).fill(&okta(), None).unwrap();
        assert_eq!(
            *term.asked.borrow(),
            [
                "Okta domain (e.g. dev-1.okta.com) []",
                "Okta domain (e.g. dev-1.okta.com) []",
                "Server id [default]",
                "Login hint []",
                "PIN (hidden)",
            ]
        );
        assert!(term.warned.borrow()[0].contains("does not match the pattern"));
        assert_eq!(
            Value::Object(filled.answers),
            json!({"domain": "dev-1.okta.com", "authorizationServerId": "default",
                "hint": "", "pin": "fake-pin"})
        );
    }

    #[test]
    fn without_asking_defaults_fill_in_and_each_missing_value_is_named() {
        let term = Scripted::default();
        let Err(e) = gathering(&term, &[], false).fill(&okta(), None) else {
            panic!("filled without the required values");
        };
        match &e {
            Error::User(UserError::VariablesMissing { missing, fix, .. }) => {
                assert_eq!(missing, &["domain (Okta domain)", "pin (PIN)"]);
                assert_eq!(
                    fix,
                    "integration-cli oauth2 --var domain=VALUE --var pin=VALUE"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(term.asked.borrow().is_empty(), "nobody is asked");
        let stored = json!({"domain": "dev-1.okta.com", "pin": "fake-pin", "hint": ""});
        let filled = gathering(&term, &[], false)
            .fill(&okta(), stored.as_object())
            .unwrap();
        // The default is saved; an optional value left empty stays empty.
        assert_eq!(
            Value::Object(filled.answers),
            json!({"authorizationServerId": "default"})
        );
    }

    #[test]
    fn a_var_that_changes_what_the_urls_use_is_told_apart() {
        let term = Scripted::default();
        let stored = json!({"domain": "dev-1.okta.com", "pin": "fake-pin"});
        let given = [
            ("domain".to_string(), "dev-2.okta.com".to_string()),
            ("pin".to_string(), "fake-other-pin".to_string()),
        ];
        let filled = gathering(&term, &given, false)
            .fill(&okta(), stored.as_object())
            .unwrap();
        assert_eq!(filled.changed, ["domain"], "the PIN is in no template");
        let same = [("domain".to_string(), "dev-1.okta.com".to_string())];
        let filled = gathering(&term, &same, false)
            .fill(&okta(), stored.as_object())
            .unwrap();
        assert!(filled.changed.is_empty());
    }
}
