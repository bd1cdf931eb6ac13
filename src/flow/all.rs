//! `oauth2 --all`: every test account that can be brought up to date without a browser,
//! with the chosen authorization. The requests run a few at a time, the whole run holds the
//! file lock, and each answer is saved as it comes, from the file as it is then, so one
//! account's failure never costs another its new tokens.

use futures_util::stream::{self, StreamExt};

use super::store::{self, Source};
use super::{Chosen, Ctx, Deps, Options};
use crate::config::Freshness;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::recovery::{self, Recovery};
use crate::secret::Secret;
use crate::token::{Grant, TokenResponse};

/// How many token requests `--all` has in flight at once.
const ALL_AT_ONCE: usize = 4;

/// What to do with one test account.
enum Plan {
    Request(Grant, Source),
    Skip(String),
    Fail(String),
}

pub async fn refresh_all(opts: &Options, deps: &Deps<'_>) -> Result<()> {
    let project = Project::load(&opts.config)?;
    let chosen = Chosen::new(&project, opts, deps)?;
    let ctx = chosen.ctx(opts, deps);
    let _lock = ctx.lock().await?;
    let project = Project::load(&opts.config)?;
    let plans = ctx.plans(&project);
    // Every answer must be savable before any request is sent.
    if let Some((account, _)) = plans.iter().find(|(_, p)| matches!(p, Plan::Request(..))) {
        project.check_save(account)?;
    }
    let _critical = deps.critical.enter();
    let (mut lines, mut failed, pending) = sort_out(plans);
    let (answered, answer_failures) = ctx.request_all(&project, pending).await;
    lines.extend(answered);
    failed += answer_failures;
    lines.sort();
    deps.terminal.result(&format!(
        "Test accounts of authorization \"{}\":\n  {}",
        ctx.authorization,
        lines.join("\n  ")
    ));
    if deps.critical.stop_requested() {
        return Err(Error::Interrupted);
    }
    if failed > 0 {
        return Err(Error::SomeAccountsFailed { failed });
    }
    Ok(())
}

/// The lines for accounts that need no request, how many of them failed, and the requests.
fn sort_out(plans: Vec<(String, Plan)>) -> (Vec<String>, usize, Vec<(String, Grant, Source)>) {
    let (mut lines, mut failed, mut pending) = (Vec::new(), 0, Vec::new());
    for (account, plan) in plans {
        match plan {
            Plan::Skip(why) => lines.push(format!("{account}: skipped, {why}")),
            Plan::Fail(why) => {
                failed += 1;
                lines.push(format!("{account}: error: {why}"));
            }
            Plan::Request(grant, source) => pending.push((account, grant, source)),
        }
    }
    (lines, failed, pending)
}

impl Ctx<'_> {
    fn plans(&self, project: &Project) -> Vec<(String, Plan)> {
        let set_aside = recovery::scan(project.real_path(), &*self.deps.env);
        project
            .test_account_names()
            .into_iter()
            .map(|account| {
                let plan = self.plan(project, &account, &set_aside);
                (account, plan)
            })
            .collect()
    }

    fn plan(&self, project: &Project, name: &str, set_aside: &[(String, Recovery)]) -> Plan {
        let account = project.account(name);
        let waiting = set_aside
            .iter()
            .find(|(a, r)| a == name && r.fits(account.fields()));
        if let Some((_, r)) = waiting {
            return Plan::Fail(format!(
                "tokens set aside in {} wait to be saved; run: {}",
                r.path.display(),
                self.opts.command_for(name, "--recover")
            ));
        }
        if let Err(e) = project.check_editable(name) {
            return Plan::Fail(e.to_string());
        }
        if self.config.grant.needs_no_person() {
            return match account.freshness(self.config.grant, self.deps.clock.now()) {
                Freshness::Fresh(_) => Plan::Skip("still valid".into()),
                _ => Plan::Request(
                    match self.unattended_grant() {
                        Ok(grant) => grant,
                        Err(e) => return Plan::Fail(e.to_string()),
                    },
                    Source::NewGrant,
                ),
            };
        }
        match account.refresh_token() {
            Some(rt) => Plan::Request(
                Grant::RefreshToken {
                    refresh_token: Secret::new(rt),
                },
                Source::Refresh,
            ),
            None => Plan::Skip(format!(
                "no refresh token; log in with: {}",
                self.opts.login_command_for(name, false)
            )),
        }
    }

    /// Sends the requests, a few at a time, and saves each answer as it comes: a line per
    /// account, and how many failed.
    async fn request_all(
        &self,
        before: &Project,
        pending: Vec<(String, Grant, Source)>,
    ) -> (Vec<String>, usize) {
        let mut answers = stream::iter(pending)
            .map(|(account, grant, source)| async move {
                // After a stop signal, requests already sent finish and are saved; no new
                // one starts.
                if self.deps.critical.stop_requested() {
                    return (account, source, Err(Error::Interrupted));
                }
                let params = match source {
                    Source::Refresh => &self.config.refresh_request_parameters,
                    Source::NewGrant => &self.config.token_request_parameters,
                };
                let answer = self.tokens.request(self.endpoint, &grant, params).await;
                (account, source, answer)
            })
            .buffer_unordered(ALL_AT_ONCE);
        let (mut lines, mut failed) = (Vec::new(), 0);
        while let Some((account, source, answer)) = answers.next().await {
            match self.saved(before, &account, source, answer) {
                Ok(line) => lines.push(line),
                Err(line) => {
                    failed += 1;
                    lines.push(line);
                }
            }
        }
        (lines, failed)
    }

    /// One answer saved, as the line that says so, or the line that says why not.
    fn saved(
        &self,
        before: &Project,
        account: &str,
        source: Source,
        answer: Result<TokenResponse>,
    ) -> std::result::Result<String, String> {
        let answer = answer.map_err(|e| match Project::load(&self.opts.config) {
            Ok(now) => store::keep_carried_refresh_token(self, &now, account, e),
            Err(_) => e,
        });
        let saved =
            answer.and_then(|t| store::save_into_current(self, before, account, &t, source));
        match saved {
            Ok((_, fields)) => {
                let expires = fields
                    .get(crate::config::field::EXPIRES_AT)
                    .and_then(|v| v.as_str())
                    .map_or(String::new(), |at| format!(", expires {at}"));
                let what = match source {
                    Source::Refresh => "refreshed",
                    Source::NewGrant => "new token",
                };
                Ok(format!("{account}: {what}{expires}"))
            }
            Err(Error::Interrupted) => Err(format!("{account}: not attempted (cancelled)")),
            Err(e) => {
                match super::refresh::refused(e, self.opts.login_command_for(account, true)) {
                    Ok(refused) => {
                        let retry = self.opts.login_command_for(account, true);
                        Err(format!("{account}: needs a login: {refused}; run {retry}"))
                    }
                    Err(e) => Err(format!("{account}: error: {e}")),
                }
            }
        }
    }
}
