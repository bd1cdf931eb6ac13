//! `oauth2 --all`: every test account that can be brought up to date without a browser,
//! with the chosen authorization. The requests run a few at a time, the whole run holds the
//! file lock, and each answer is saved as it comes, from the file as it is then, so one
//! account's failure never costs another its new tokens.

use futures_util::stream::{self, StreamExt};

use super::chosen::{self, Target};
use super::outcome::{AllOutcome, Each};
use super::store::{self, Source};
use super::{Chosen, Ctx, Deps, Options};
use crate::config::Freshness;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::recovery::{self, Recovery};
use crate::secret::RefreshToken;
use crate::token::{Grant, TokenResponse};

/// How many token requests `--all` has in flight at once.
const ALL_AT_ONCE: usize = 4;

/// One test account's request: the authorization filled for it, and what to send.
struct Job<'d> {
    opts: Options,
    target: Target<'d>,
    source: Source,
    /// The refresh token to present (for a refresh).
    refresh_token: Option<RefreshToken>,
}

/// What to do with one test account: a request, or what it comes to without one.
enum Plan<'d> {
    Request(Box<Job<'d>>),
    Done(Each),
}

pub async fn refresh_all(opts: &Options, deps: &Deps<'_>) -> Result<AllOutcome> {
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
    let (mut accounts, jobs) = sort_out(plans);
    accounts.extend(request_all(&chosen, &project, jobs, deps).await);
    warn_of_lifetimes(&accounts, opts, deps);
    Ok(AllOutcome {
        authorization: chosen.name().to_string(),
        accounts,
        interrupted: deps.critical.stop_requested(),
    })
}

/// A refresh token near its end is warned of for each account, as a run for one would,
/// from the file as the requests left it.
fn warn_of_lifetimes(accounts: &[(String, Each)], opts: &Options, deps: &Deps<'_>) {
    let Ok(project) = Project::load(&opts.config) else {
        return;
    };
    for (name, _) in accounts {
        let for_account = Options {
            test_account: name.clone(),
            ..opts.clone()
        };
        super::life::warn(&project, &for_account, deps);
    }
}

/// What comes of the accounts that need no request, and the requests.
fn sort_out(plans: Vec<(String, Plan<'_>)>) -> (Vec<(String, Each)>, Vec<Job<'_>>) {
    let (mut done, mut jobs) = (Vec::new(), Vec::new());
    for (account, plan) in plans {
        match plan {
            Plan::Done(each) => done.push((account, each)),
            Plan::Request(job) => jobs.push(*job),
        }
    }
    (done, jobs)
}

fn plans<'d>(
    chosen: &Chosen,
    project: &Project,
    opts: &Options,
    deps: &'d Deps<'_>,
) -> Vec<(String, Plan<'d>)> {
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

fn plan<'d>(
    chosen: &Chosen,
    project: &Project,
    opts: Options,
    deps: &'d Deps<'_>,
    set_aside: &[(String, Recovery)],
) -> Plan<'d> {
    let name = opts.test_account.as_str();
    let account = project.account(name);
    let waiting = set_aside
        .iter()
        .find(|(a, r)| a == name && r.fits(account.fields()));
    if let Some((_, r)) = waiting {
        return Plan::Done(Each::Failed(format!(
            "tokens set aside in {} wait to be saved; run: {}",
            r.path.display(),
            opts.command_for(name, "--recover")
        )));
    }
    if let Err(e) = project.check_editable(name) {
        return Plan::Done(Each::Failed(e.to_string()));
    }
    let (source, refresh_token) = if chosen.grant().needs_no_person() {
        match account.freshness(chosen.grant(), deps.clock.now()) {
            Freshness::Fresh(_) => return Plan::Done(Each::Skipped("still valid".into())),
            _ => (Source::NewGrant, None),
        }
    } else {
        match account.refresh_token() {
            Some(rt) => (Source::Refresh, Some(RefreshToken::new(rt))),
            None => {
                return Plan::Done(Each::Skipped(format!(
                    "no refresh token; log in with: {}",
                    opts.login_command_for(name, false)
                )));
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
        Err(e) => Plan::Done(Each::Failed(match e.hint() {
            Some(hint) => format!("{e}; {hint}"),
            None => e.to_string(),
        })),
    }
}

/// Sends the requests, a few at a time, and saves each answer as it comes.
async fn request_all(
    chosen: &Chosen,
    before: &Project,
    jobs: Vec<Job<'_>>,
    deps: &Deps<'_>,
) -> Vec<(String, Each)> {
    let mut answers = stream::iter(jobs.iter())
        .map(|job| async move {
            let ctx = chosen.ctx(&job.target, &job.opts, deps);
            // After a stop signal, requests already sent finish and are saved; no new
            // one starts.
            if deps.critical.stop_requested() {
                let each = ctx.saved(before, job.source, Err(Error::Interrupted));
                return (job.opts.test_account.clone(), each);
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
            let each = ctx.saved(before, job.source, answer);
            (job.opts.test_account.clone(), each)
        })
        .buffer_unordered(ALL_AT_ONCE);
    let mut done = Vec::new();
    while let Some(each) = answers.next().await {
        done.push(each);
    }
    done
}

impl Ctx<'_> {
    /// One answer saved, or why not.
    fn saved(&self, before: &Project, source: Source, answer: Result<TokenResponse>) -> Each {
        let account = self.opts.test_account.as_str();
        let answer = answer.map_err(|e| match Project::load(&self.opts.config) {
            Ok(now) => store::keep_carried_refresh_token(self, &now, account, e),
            Err(_) => e,
        });
        let saved =
            answer.and_then(|t| store::save_into_current(self, before, account, &t, source));
        match saved {
            Ok((outcome, _)) => Each::Saved {
                refreshed: source == Source::Refresh,
                expires_at: outcome.tokens.expires_at,
            },
            Err(Error::Interrupted) => Each::NotAttempted,
            Err(e) => {
                let retry = self.opts.login_command(true);
                match super::refresh::refused(e, retry.clone()) {
                    Ok(refused) => Each::NeedsLogin {
                        refused: refused.to_string(),
                        retry,
                    },
                    Err(e) => Each::Failed(e.to_string()),
                }
            }
        }
    }
}
