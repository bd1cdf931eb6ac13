//! The warning before a test account's refresh token dies (or its only, long-lived access
//! token can be revoked unused), for `oauth2`, `token`, `watch` and the proxy: worded by
//! `lifetime`, shown as a warning (not under `-q`) at most once a day per test account and
//! file, so a long-running command repeats it daily, not hourly.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{Deps, Options};
use crate::lifetime::{self, Rule, Warning};
use crate::project::Project;

/// The least time between two warnings for one test account in one process.
const AGAIN_AFTER: Duration = Duration::from_secs(24 * 3600);

/// When each (file, test account) was last warned of, in this process.
static WARNED: Mutex<Vec<(String, SystemTime)>> = Mutex::new(Vec::new());

/// The warning for `opts`'s test account as `project` holds it, if one is due; shown
/// unless `-q` or it was shown in the last day.
pub(super) fn warn(project: &Project, opts: &Options, deps: &Deps<'_>) -> Option<Warning> {
    let name = &opts.test_account;
    let fields = project.test_account(name);
    let only = opts.authorization.as_deref();
    let now = deps.clock.now();
    let login = opts.command_for(name, "--reauth");
    let warning = match lifetime::left(fields, rule_in(project, only, &*deps.env).as_ref()) {
        Some(left) => Warning::Refresh(lifetime::warning(
            name,
            &left,
            now,
            &opts.command_for(name, ""),
            &login,
        )?),
        None => {
            let unused = lifetime::unused::unused(fields, &url_in(project, only)?)?;
            Warning::Access(lifetime::unused::warning(name, &unused, now, &login)?)
        }
    };
    if !opts.quiet && first_today(&format!("{}\0{name}", project.path().display()), now) {
        deps.terminal.warn(warning.text());
    }
    Some(warning)
}

/// The authorization URL (else the token URL) of the authorization named, or of the first.
fn url_in(project: &Project, only: Option<&str>) -> Option<String> {
    let all = project.config().oauth2().ok()?;
    let (_, o) = all
        .into_iter()
        .find(|(a, o)| o.is_ok() && only.is_none_or(|n| a.name == n))?;
    let o = o.ok()?;
    Some(o.provider_url().as_written().to_string())
}

/// The inactivity window of a refresh token the rule says a refresh renews.
pub(super) fn sliding_window(
    project: &Project,
    opts: &Options,
    deps: &Deps<'_>,
) -> Option<Duration> {
    match rule_in(project, opts.authorization.as_deref(), &*deps.env)?.figure {
        lifetime::rules::Figure::Lasts { idle, .. } => idle,
        _ => None,
    }
}

/// The rule of the authorization named, or of the first one that has a rule.
fn rule_in(
    project: &Project,
    only: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Rule> {
    let all = project.config().oauth2().ok()?;
    all.into_iter()
        .filter(|(a, _)| only.is_none_or(|n| a.name == n))
        .filter_map(|(_, o)| o.ok())
        .find_map(|o| Rule::of(o, env))
}

/// Whether `key` was not warned of in the last day (and is now).
fn first_today(key: &str, now: SystemTime) -> bool {
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    match warned.iter_mut().find(|(k, _)| k == key) {
        Some((_, last)) if now.duration_since(*last).is_ok_and(|d| d < AGAIN_AFTER) => false,
        Some((_, last)) => {
            *last = now;
            true
        }
        None => {
            warned.push((key.to_string(), now));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch;

    #[test]
    fn a_warning_is_repeated_a_day_later_not_sooner() {
        let key = "a_warning_is_repeated_a_day_later_not_sooner";
        assert!(first_today(key, from_epoch(1_000)));
        assert!(!first_today(key, from_epoch(1_000 + 23 * 3600)));
        assert!(first_today(key, from_epoch(1_000 + 24 * 3600)));
        assert!(!first_today(key, from_epoch(1_000 + 25 * 3600)));
        assert!(first_today("another account", from_epoch(1_000)));
    }
}
