//! Asking for what the flags did not say: at a terminal a prompt (checked as typed, asked
//! again when wrong), without one a note of the missing flag.

use crate::error::{Result, UserError};
use crate::ui::Terminal;

/// Prompts for what flags did not give, or notes the flag as missing when nobody can answer.
pub(super) struct Asker<'a> {
    pub term: &'a dyn Terminal,
    pub missing: Vec<&'static str>,
}

/// An http(s) URL, or a template of one (`https://{+subdomain}.zendesk.com/...`).
pub(super) fn url_check(v: &str) -> std::result::Result<(), String> {
    crate::config::check_url_field("the URL", v).map_err(|why| match why.contains("template") {
        true => why,
        false => format!("{v:?} is not an http(s) URL"),
    })
}

impl Asker<'_> {
    /// The flags nobody could be asked for, named together; `no_preset` suggests one.
    pub fn none_missing(&self, no_preset: bool) -> Result<()> {
        match self.missing.is_empty() {
            true => Ok(()),
            false => Err(UserError::InitMissing {
                flags: self.missing.join(", "),
                no_preset,
            }
            .into()),
        }
    }

    /// `value`, checked as it is typed: a person is asked again (keeping every earlier
    /// answer); a flag that fails the check is a usage error.
    pub fn checked(
        &mut self,
        given: &Option<String>,
        flag: &'static str,
        prompt: &str,
        default: Option<&str>,
        check: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        loop {
            let v = self.value(given, flag, prompt, default)?;
            if v.is_empty() && self.missing.contains(&flag) {
                return Ok(v);
            }
            match check(&v) {
                Ok(()) => return Ok(v),
                Err(message) if given.is_none() && self.term.interactive() => {
                    self.term.warn(&message);
                }
                Err(message) => return Err(UserError::InvalidInput { message }.into()),
            }
        }
    }

    pub fn value(
        &mut self,
        given: &Option<String>,
        flag: &'static str,
        prompt: &str,
        default: Option<&str>,
    ) -> Result<String> {
        if let Some(v) = given {
            return Ok(v.trim().to_string());
        }
        if self.term.interactive() {
            return self.term.input(prompt, default);
        }
        match default {
            Some(d) => Ok(d.to_string()),
            None => {
                self.missing.push(flag);
                Ok(String::new())
            }
        }
    }
}
