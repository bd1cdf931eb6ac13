//! `oauth2 --all`: every test account that can be brought up to date without a browser,
//! with the chosen authorization. The requests run a few at a time, the whole run holds the
//! file lock, and each answer is saved as it comes, from the file as it is then, so one
//! account's failure never costs another its new tokens.

use futures_util::stream::{self, StreamExt};

use super::chosen::{self, Target};
use super::store::{self, Source};
use super::{Chosen, Ctx, Deps, Options};
use crate::config::Freshness;
use crate::error::{Error, Result, RunError};
use crate::project::Project;
use crate::recovery::{self, Recovery};
use crate::secret::RefreshToken;
use crate::token::{Grant, TokenResponse};

/// How many token requests `--all` has in flight at once.
const ALL_AT_ONCE: usize = 4;

/// One test account's request: the authorization filled for it, and what to send.
struct Job {
    opts: Options,
    target: Target,
    source: Source,
    /// The refresh token to present (for a refresh).
    refresh_token: Option<RefreshToken>,
}

/// What to do with one test account.
enum Plan {
    Request(Box<Job>),
    Skip(String),
    Fail(String),
}

pub async fn refresh_all(opts: &Options, deps: &Deps<'_>) -> Result<()> {
    let project = Project::load(&opts.config)?;
    let chosen = Chosen::new(&project, opts, deps)?;
    let _lock = chosen::lock(opts, deps).await?;
    let project = Project::load(&opts.config)?;
    let plans = plans(&chosen, &project, opts, deps);
    // Every answer must be savable before any request is sent.
    if let Some(job) = plans.iter().find_map(|(_, p)| match p {
        Plan::Request(job) => Some(job),
        _ => None,
    }) {
        project.check_save(&job.opts.test_account)?;
    }
    let _critical = deps.critical.enter();
    let (mut lines, mut failed, jobs) = sort_out(plans);
    let (answered, answer_failures) = request_all(&chosen, &project, jobs, deps).await;
    lines.extend(answered);
    failed += answer_failures;
    lines.sort();
    deps.terminal.result(&format!(
        "Test accounts of authorization \"{}\":\n  {}",
        chosen.name(),
        lines.join("\n  ")
    ));
    if deps.critical.stop_requested() {
        return Err(Error::Interrupted);
    }
    if failed > 0 {
        return Err(RunError::SomeAccountsFailed { failed }.into());
    }
    Ok(())
}

/// The lines for accounts that need no request, how many of them failed, and the requests.
fn sort_out(plans: Vec<(String, Plan)>) -> (Vec<String>, usize, Vec<Job>) {
    let (mut lines, mut failed, mut jobs) = (Vec::new(), 0, Vec::new());
    for (account, plan) in plans {
        match plan {
            Plan::Skip(why) => lines.push(format!("{account}: skipped, {why}")),
            Plan::Fail(why) => {
                failed += 1;
                lines.push(format!("{account}: error: {why}"));
            }
            Plan::Request(job) => jobs.push(*job),
        }
    }
    (lines, failed, jobs)
}

fn plans(
    chosen: &Chosen,
    project: &Project,
    opts: &Options,
    deps: &Deps<'_>,
) -> Vec<(String, Plan)> {
    let set_aside = recovery::scan(project.real_path(), &*deps.env);
    project
        .test_account_names()
        .into_iter()
        .map(|account| {
            let for_account = Options {
                test_account: account.clone(),
                ..opts.clone()
            };
            let plan = plan(chosen, project, for_account, deps, &set_aside);
            (account, plan)
        })
        .collect()
}

fn plan(
    chosen: &Chosen,
    project: &Project,
    opts: Options,
    deps: &Deps<'_>,
    set_aside: &[(String, Recovery)],
) -> Plan {
    let name = opts.test_account.as_str();
    let account = project.account(name);
    let waiting = set_aside
        .iter()
        .find(|(a, r)| a == name && r.fits(account.fields()));
    if let Some((_, r)) = waiting {
        return Plan::Fail(format!(
            "tokens set aside in {} wait to be saved; run: {}",
            r.path.display(),
            opts.command_for(name, "--recover")
        ));
    }
    if let Err(e) = project.check_editable(name) {
        return Plan::Fail(e.to_string());
    }
    let (source, refresh_token) = if chosen.grant().needs_no_person() {
        match account.freshness(chosen.grant(), deps.clock.now()) {
            Freshness::Fresh(_) => return Plan::Skip("still valid".into()),
            _ => (Source::NewGrant, None),
        }
    } else {
        match account.refresh_token() {
            Some(rt) => (Source::Refresh, Some(RefreshToken::new(rt))),
            None => {
                return Plan::Skip(format!(
                    "no refresh token; log in with: {}",
                    opts.login_command_for(name, false)
                ));
            }
        }
    };
    match chosen.target(project, &opts, deps, false) {
        Ok(target) => Plan::Request(Box::new(Job {
            opts,
            target,
            source,
            refresh_token,
        })),
        Err(e) => Plan::Fail(match e.hint() {
            Some(hint) => format!("{e}; {hint}"),
            None => e.to_string(),
        }),
    }
}

/// Sends the requests, a few at a time, and saves each answer as it comes: a line per
/// account, and how many failed.
async fn request_all(
    chosen: &Chosen,
    before: &Project,
    jobs: Vec<Job>,
    deps: &Deps<'_>,
) -> (Vec<String>, usize) {
    let mut answers = stream::iter(jobs.iter())
        .map(|job| async move {
            let ctx = chosen.ctx(&job.target, &job.opts, deps);
            // After a stop signal, requests already sent finish and are saved; no new
            // one starts.
            if deps.critical.stop_requested() {
                return ctx.saved(before, job.source, Err(Error::Interrupted));
            }
            let answer = match (&job.refresh_token, job.source) {
                (Some(rt), _) => {
                    let grant = Grant::RefreshToken {
                        refresh_token: rt.clone(),
                    };
                    let params = &ctx.config.refresh_request_parameters;
                    ctx.tokens.request(ctx.endpoint, &grant, params).await
                }
                (None, _) => match ctx.unattended_grant() {
                    Ok(grant) => {
                        let params = &ctx.config.token_request_parameters;
                        ctx.tokens.request(ctx.endpoint, &grant, params).await
                    }
                    Err(e) => Err(e),
                },
            };
            ctx.saved(before, job.source, answer)
        })
        .buffer_unordered(ALL_AT_ONCE);
    let (mut lines, mut failed) = (Vec::new(), 0);
    while let Some(line) = answers.next().await {
        match line {
            Ok(line) => lines.push(line),
            Err(line) => {
                failed += 1;
                lines.push(line);
            }
        }
    }
    (lines, failed)
}

impl Ctx<'_> {
    /// One answer saved, as the line that says so, or the line that says why not.
    fn saved(
        &self,
        before: &Project,
        source: Source,
        answer: Result<TokenResponse>,
    ) -> std::result::Result<String, String> {
        let account = self.opts.test_account.as_str();
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
                let retry = self.opts.login_command(true);
                match super::refresh::refused(e, retry.clone()) {
                    Ok(refused) => Err(format!("{account}: needs a login: {refused}; run {retry}")),
                    Err(e) => Err(format!("{account}: error: {e}")),
                }
            }
        }
    }
}
