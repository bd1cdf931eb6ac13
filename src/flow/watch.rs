//! `integration-cli watch`: every test account that can be refreshed without a browser kept
//! fresh, for tools that read `.unito.json` themselves (the platform's `dev` and `test`).
//! Each is refreshed when it is due (`TestAccount::refresh_due`, twice the margin before
//! expiry), ahead of the moment `token` or those tools would find it stale, so they never
//! need a refresh of their own. The file is read afresh at each wake, so accounts and tokens
//! other runs write are seen.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::{Deps, Options, When, account};
use crate::clock;
use crate::config::GrantType;
use crate::error::{Result, exit};
use crate::project::Project;

/// How long to sleep when nothing is due sooner: the file may change meanwhile.
const IDLE: Duration = Duration::from_secs(30);
/// The first wait after a failure that may pass (a network error); doubled each time, to
/// `MOST_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MOST_BACKOFF: Duration = Duration::from_secs(300);

/// What is known of one test account between wakes.
#[derive(Default)]
struct Watched {
    /// Not before then, and the wait after the next failure.
    not_before: Option<SystemTime>,
    waits: Option<clock::Backoff>,
    /// The test account as it was when only a person could help (the provider refused its
    /// refresh token, or it lacks a value its templates need): left alone until it changes.
    stuck: Option<String>,
    /// Said that it cannot be kept fresh without a login.
    said_needs_login: bool,
}

/// Runs until cancelled (the caller's stop signal), saying one line per refresh, failure or
/// account that needs a login to `say` (the flow's own summaries go to the terminal).
pub async fn watch(opts: &Options, deps: &Deps<'_>, say: &dyn Fn(&str)) -> Result<()> {
    let mut watched: HashMap<String, Watched> = HashMap::new();
    let mut first = true;
    let mut unreadable = String::new();
    loop {
        let read = Project::load(&opts.config).and_then(|project| {
            let grant = super::chosen::Chosen::new(&project, opts, deps)?.grant();
            Ok((project, grant))
        });
        let (project, grant) = match read {
            Ok(read) => read,
            // At start, a file that cannot be used is the answer; later, a passing state
            // (an editor's save), so tried again.
            Err(e) if first => return Err(e),
            Err(e) => {
                if e.to_string() != unreadable {
                    say(&format!(
                        "{e}; trying again in {} s",
                        FIRST_BACKOFF.as_secs()
                    ));
                    unreadable = e.to_string();
                }
                deps.clock.sleep(FIRST_BACKOFF).await;
                continue;
            }
        };
        if first {
            for name in project.test_account_names() {
                let (line, unwatched) = planned(&project, grant, &name, opts, deps.clock.now());
                say(&format!("{} {line}", clock::rfc3339(deps.clock.now())));
                // Said once: the visit does not say it again.
                watched.entry(name).or_default().said_needs_login = unwatched;
            }
        }
        (first, unreadable) = (false, String::new());
        let mut wake = deps.clock.now() + IDLE;
        for name in project.test_account_names() {
            let state = watched.entry(name.clone()).or_default();
            let visit = Visit { opts, deps, say };
            if let Some(at) = visit.account(&project, grant, &name, state).await {
                wake = wake.min(at);
            }
        }
        deps.clock.sleep_until(wake).await;
    }
}

/// One wake's look at the test accounts.
struct Visit<'a> {
    opts: &'a Options,
    deps: &'a Deps<'a>,
    say: &'a dyn Fn(&str),
}

impl Visit<'_> {
    /// Refreshes one test account if it is due, and says when to look at it next.
    async fn account(
        &self,
        project: &Project,
        grant: GrantType,
        name: &str,
        state: &mut Watched,
    ) -> Option<SystemTime> {
        let account = project.account(name);
        if !grant.needs_no_person() && account.refresh_token().is_none() {
            if !state.said_needs_login && account.access_token().is_some() {
                self.say(&format!(
                    "{name}: no refresh token, so it cannot be kept fresh; log in with: {}",
                    self.opts.login_command_for(name, false)
                ));
                state.said_needs_login = true;
            }
            return None;
        }
        state.said_needs_login = false;
        let for_this = Options {
            test_account: name.to_string(),
            ..self.opts.clone()
        };
        // Said at most once a day (see `life`), whether or not a refresh is due.
        super::life::warn(project, &for_this, self.deps);
        let seen = account
            .fields()
            .map(|f| serde_json::Value::Object(f.clone()).to_string());
        if state.stuck.is_some() && state.stuck == seen {
            return None;
        }
        state.stuck = None;
        let now = self.deps.clock.now();
        let due = match (account.access_token(), account.expires_at()) {
            // No token yet (client credentials, or a refresh token alone), or an expiry that
            // cannot be read (`token` would count it expired): now.
            (None, _) | (Some(_), Some(Err(_))) => Some(now),
            (Some(_), _) => account.refresh_due(),
        };
        let half = self.keep_alive_half(project);
        let alive = half.map(|half| account.last_refresh_at().map_or(now, |last| last + half));
        let due = due.into_iter().chain(alive).min()?;
        let not_before = state.not_before.map_or(due, |at| at.max(due));
        if not_before > now {
            return Some(not_before);
        }
        let when = match half {
            Some(half) => When::KeepAlive(half),
            None => When::Due,
        };
        let refreshed = account_fresh(&for_this, self.deps, when).await;
        self.after(name, refreshed, state, seen)
    }

    /// Half the sliding window of the account's refresh token, under `--keep-alive`.
    fn keep_alive_half(&self, project: &Project) -> Option<Duration> {
        if !self.opts.keep_alive {
            return None;
        }
        super::life::sliding_window(project, self.opts, self.deps).map(|w| w / 2)
    }

    /// What a refresh's outcome means for the next look; after a refresh the file is read
    /// again at once, for the account's next due time.
    fn after(
        &self,
        name: &str,
        refreshed: Result<Option<(String, bool)>>,
        state: &mut Watched,
        seen: Option<String>,
    ) -> Option<SystemTime> {
        let now = self.deps.clock.now();
        match refreshed {
            // Already expired as it came: asked again only after a growing wait.
            Ok(Some((expires, true))) => {
                let at = state.back_off(now);
                self.say(&format!(
                    "{name}: refreshed, but the token came back already expired ({expires}); \
                     next try at {}",
                    clock::rfc3339(at)
                ));
                Some(at)
            }
            Ok(Some((expires, false))) => {
                state.not_before = None;
                state.waits = None;
                self.say(&format!("{name}: refreshed, {expires}"));
                Some(now)
            }
            // Another run refreshed it meanwhile.
            Ok(None) => {
                state.not_before = None;
                state.waits = None;
                Some(now + Duration::from_secs(1))
            }
            Err(e) if e.exit_code() == exit::NEEDS_LOGIN || e.exit_code() == exit::USAGE => {
                self.say(&format!(
                    "{name}: {e}; left alone until the file changes. {}",
                    e.hint().unwrap_or_default()
                ));
                state.stuck = seen;
                None
            }
            Err(e) => {
                let at = state.back_off(now);
                let wait = at.duration_since(now).unwrap_or_default();
                self.say(&format!(
                    "{name}: {e}; trying again in {} s",
                    wait.as_secs()
                ));
                Some(at)
            }
        }
    }

    /// One line, stamped with the time it is said.
    fn say(&self, line: &str) {
        (self.say)(&format!("{} {line}", clock::rfc3339(self.deps.clock.now())));
    }
}

impl Watched {
    /// The next try after another failure (or a token born expired): `FIRST_BACKOFF`,
    /// doubled each time to `MOST_BACKOFF`, each wait a little shorter or longer at random
    /// so that runs failing together do not come back together.
    fn back_off(&mut self, now: SystemTime) -> SystemTime {
        let waits = self
            .waits
            .get_or_insert(clock::Backoff::new(FIRST_BACKOFF, MOST_BACKOFF));
        let at = now + waits.wait();
        self.not_before = Some(at);
        at
    }
}

/// What the watch will do with a test account, said once at its start, and whether it is
/// left out for want of a refresh token.
fn planned(
    project: &Project,
    grant: GrantType,
    name: &str,
    opts: &Options,
    now: SystemTime,
) -> (String, bool) {
    let account = project.account(name);
    if !grant.needs_no_person() && account.refresh_token().is_none() {
        let line = format!(
            "{name}: no refresh token, so it cannot be kept fresh; log in with: {}",
            opts.login_command_for(name, false)
        );
        return (line, true);
    }
    let due = match (account.access_token(), account.expires_at()) {
        (None, _) | (Some(_), Some(Err(_))) => Some(now),
        (Some(_), _) => account.refresh_due(),
    };
    let line = match due {
        None => format!("{name}: watched; its token states no expiry, so it is not refreshed"),
        Some(at) if at <= now => format!("{name}: watched; refreshing now"),
        Some(at) => format!(
            "{name}: watched; next refresh at {} ({})",
            clock::rfc3339(at),
            clock::relative(at, now)
        ),
    };
    (line, false)
}

/// The test account refreshed if due: its new expiry in words, and whether the new token
/// was already stale as it came; `None` if nothing was done.
async fn account_fresh(
    opts: &Options,
    deps: &Deps<'_>,
    when: When<'_>,
) -> Result<Option<(String, bool)>> {
    let fresh = account(opts, deps, when).await?;
    if !fresh.refreshed {
        return Ok(None);
    }
    let account = crate::config::TestAccount::new(Some(&fresh.fields));
    let expires = account
        .expires_at()
        .and_then(|r| r.ok())
        .map_or("no expiry stated".into(), |at| {
            format!("expires {}", clock::rfc3339(at))
        });
    let stale = account.usable_token(Some(deps.clock.now())).is_err();
    Ok(Some((expires, stale)))
}
