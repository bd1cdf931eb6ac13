//! Scope drift: the file asks for scopes the test account's grant does not hold. A refresh
//! cannot widen a grant, so `oauth2` logs in again, and `token` and `status` say so; a grant
//! with no person (client credentials) asks for the file's scopes at its next request.

use serde_json::{Map, Value};

use super::{Ctx, Options};
use crate::config::TestAccount;
use crate::project::Project;
use crate::scopes::{self, Drift};

/// The drift of a test account's `fields` from `scopes`, read by the rules of the
/// provider behind `urls`.
pub fn of_account<'a>(
    scopes: &[String],
    urls: impl IntoIterator<Item = &'a str>,
    fields: Option<&Map<String, Value>>,
) -> Option<Drift> {
    let account = TestAccount::new(fields);
    let requested = fields
        .and_then(|f| f.get(scopes::REQUESTED))
        .and_then(Value::as_str);
    let rules = crate::providers::scope_rules_for(urls);
    scopes::drift(scopes, account.scope(), requested, rules)
}

/// `a, b and c`, for a sentence.
pub fn listed(scopes: &[String]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| crate::redact::printable(s)).collect();
    match scopes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => scopes.join(""),
    }
}

impl Ctx<'_> {
    /// The file's scopes by the provider's rules, for this run's authorization.
    pub(super) fn drift(&self, fields: Option<&Map<String, Value>>) -> Option<Drift> {
        let urls = [
            self.config.authorization_url.as_ref(),
            Some(&self.config.token_url),
        ];
        let urls = urls.into_iter().flatten().map(|u| u.as_str());
        of_account(&self.config.scopes, urls, fields)
    }

    /// Whether `oauth2` must log in again for scopes the file added since the last login,
    /// said when so.
    pub(super) fn needs_new_scopes(&self, account: TestAccount<'_>) -> bool {
        let Some(drift) = self.drift(account.fields()).filter(|d| !d.new.is_empty()) else {
            return false;
        };
        self.deps.terminal.say(&format!(
            "The file asks for {} {}, which test account \"{}\" was not granted; a refresh \
             cannot add scopes, so logging in again (as --reauth does).",
            plural(drift.new.len()),
            listed(&drift.new),
            self.opts.test_account
        ));
        true
    }

    /// After a new grant: the scopes it asked for and was not given, said.
    pub(super) fn warn_refused_scopes(&self, fields: Option<&Map<String, Value>>) {
        let Some(drift) = self.drift(fields).filter(|d| !d.refused.is_empty()) else {
            return;
        };
        self.deps.terminal.warn(&format!(
            "the provider granted fewer scopes than asked: {} {} left out (unticked at \
             consent, or not allowed for this client); the connector's calls that need them \
             will be refused ({} asks again)",
            listed(&drift.refused),
            if drift.refused.len() == 1 {
                "was"
            } else {
                "were"
            },
            self.opts.login_command(true)
        ));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "scope" } else { "scopes" }
}

/// For `token`: the scopes the file (as read for the token) added since the test account's
/// login, with the command that gets them, when the authorization is known without asking
/// (named, or the file's only one) and a person's login is what gets them.
pub fn token_warning(project: &Project, opts: &Options) -> Option<String> {
    let all = project.config().oauth2().ok()?;
    let mut chosen = all.iter().filter(|(a, _)| {
        opts.authorization
            .as_deref()
            .is_none_or(|name| a.name == name)
    });
    let (_, o) = chosen.next()?;
    let o = o.as_ref().ok().filter(|_| chosen.next().is_none())?;
    if o.grant.kind().needs_no_person() {
        return None;
    }
    let urls = [o.authorization_url.as_ref(), Some(&o.token_url)];
    let urls = urls.into_iter().flatten().map(|u| u.as_written());
    let drift = of_account(&o.scopes, urls, project.test_account(&opts.test_account))?;
    (!drift.new.is_empty()).then(|| {
        format!(
            "test account \"{}\" was not granted {} {} that the file asks for; a refresh \
             cannot add scopes: log in again with {}",
            opts.test_account,
            plural(drift.new.len()),
            listed(&drift.new),
            opts.login_command(false)
        )
    })
}
