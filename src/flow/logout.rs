//! `integration-cli logout`: revoke a test account's tokens at the provider (the refresh
//! token first, since it ends the grant), then remove from the account what token answers
//! and our bookkeeping put there, under the lock, in one write. Knows nothing of the
//! command line; returns what was done as `SignedOut` for `report::logout` to word.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::chosen::{self, Chosen, Target};
use super::{Deps, Options, select};
use crate::config::{OAuth2, field};
use crate::error::{ConfigError, Error, Result, UserError};
use crate::project::Project;
use crate::providers;
use crate::revoke::{Answered, Kind, Revocable, Revoker, Style};
use crate::secret::{AccessToken, RefreshToken};

/// What `logout` was asked, beside the file, authorization and test account of `Options`.
#[derive(Debug, Clone, Default)]
pub struct Logout {
    /// Every test account of the file, not only `Options::test_account`.
    pub all: bool,
    /// `--revocation-url` or `UNITO_REVOCATION_URL`, in place of the file's `revocationUrl`.
    pub revocation_url: Option<String>,
    /// Remove the tokens even when the provider did not revoke them.
    pub force: bool,
    /// Sign out `compliance` or every account without asking.
    pub yes: bool,
}

/// What `logout` did, for `report::logout`. Holds no secret.
#[derive(Debug)]
pub struct SignedOut {
    pub authorization: String,
    /// The file, as the user named it.
    pub file: PathBuf,
    pub accounts: Vec<AccountOut>,
}

#[derive(Debug)]
pub struct AccountOut {
    pub test_account: String,
    pub provider: AtProvider,
    /// The fields removed from the test account, in the file's order.
    pub removed: Vec<String>,
}

/// What became of the grant at the provider.
#[derive(Debug)]
pub enum AtProvider {
    /// The account held no tokens: nothing was sent.
    NothingHeld,
    /// Each token sent was accepted (RFC 7009 §2.2: not proof that it existed), or, after
    /// the first, was already gone.
    Accepted {
        url: String,
        answers: Vec<(Kind, Answered)>,
    },
    /// No revocation endpoint is known: the grant still stands; `manage` is where its
    /// user removes it, when we know.
    NoEndpoint { manage: Option<String> },
    /// The provider did not revoke them; removed anyway (`--force`).
    Forced {
        url: String,
        why: String,
        manage: Option<String>,
    },
    /// The provider did not revoke them, and they were kept (`--all` goes on to the next).
    Refused(Error),
    /// The provider's part was done, but the file could not be edited: the tokens are still
    /// in it (`--all` goes on to the next).
    NotRemoved(Error),
}

/// Why one account's sign-out stopped: before anything was revoked, or after.
enum Failure {
    Before(Error),
    After(Error),
}

impl SignedOut {
    /// How many accounts kept their tokens because the provider refused.
    pub fn failed(&self) -> usize {
        let refused = |a: &&AccountOut| {
            matches!(
                a.provider,
                AtProvider::Refused(_) | AtProvider::NotRemoved(_)
            )
        };
        self.accounts.iter().filter(refused).count()
    }
}

/// Signs the chosen test account (or every one, `--all`) out.
pub async fn logout(opts: &Options, how: &Logout, deps: &Deps<'_>) -> Result<SignedOut> {
    let project = Project::load(&opts.config)?;
    let names = match how.all {
        true => project.test_account_names(),
        false => {
            let refused = super::NewAccount::Refused;
            select::test_account(&project, &opts.test_account, refused, &*deps.terminal)?;
            vec![opts.test_account.clone()]
        }
    };
    confirm(how, &names, deps)?;
    let (name, config) = Chosen::select(&project, opts, deps)?;
    let (config, manage) = with_revocation(config, how, opts)?;
    let chosen = Chosen::resolve((name, config), deps)?;
    let mut accounts = Vec::new();
    for test_account in names {
        let opts = Options {
            test_account,
            ..opts.clone()
        };
        let one = one(&chosen, &opts, how, manage.clone(), deps).await;
        let provider = match one {
            Ok(out) => {
                accounts.push(out);
                continue;
            }
            Err(Failure::Before(e)) if how.all => AtProvider::Refused(e),
            Err(Failure::After(e)) if how.all => AtProvider::NotRemoved(e),
            Err(Failure::Before(e) | Failure::After(e)) => return Err(e),
        };
        accounts.push(AccountOut {
            test_account: opts.test_account,
            provider,
            removed: Vec::new(),
        });
    }
    Ok(SignedOut {
        authorization: chosen.name().to_string(),
        file: opts.config.clone(),
        accounts,
    })
}

/// At a terminal, `compliance` (the platform needs it to publish) and `--all` are signed
/// out only when the user says so; `--yes` and scripts are not asked.
fn confirm(how: &Logout, names: &[String], deps: &Deps<'_>) -> Result<()> {
    let asks = how.all || names.iter().any(|n| n == "compliance");
    if how.yes || !asks || !deps.terminal.interactive() {
        return Ok(());
    }
    let what = match how.all {
        true => format!("every test account ({})", names.join(", ")),
        false => "test account \"compliance\", which the platform needs to publish,".into(),
    };
    let items = ["Sign out".to_string(), "Cancel".to_string()];
    match deps.terminal.choose(&format!("Sign out {what}?"), &items)? {
        0 => Ok(()),
        _ => Err(UserError::SignOutDeclined {
            what: crate::redact::printable(what.trim_end_matches(',')),
        }
        .into()),
    }
}

/// The authorization with the revocation URL to use: the flag's, the file's, or the
/// provider's we know of; and where its user removes a grant by hand.
fn with_revocation(
    config: OAuth2,
    how: &Logout,
    opts: &Options,
) -> Result<(OAuth2, Option<String>)> {
    let token_url = config.token_url.as_written().to_string();
    let known = providers::sign_out_for(&token_url);
    let manage = known.map(|(_, s)| s.manage.to_string());
    let given = how.revocation_url.clone().filter(|u| !u.trim().is_empty());
    let preset = known
        .and_then(|(_, s)| s.revocation_url)
        .map(|u| providers::beside(&token_url, u));
    let url = match given {
        Some(url) => Some(url),
        None if config.revocation_url.is_some() => return Ok((config, manage)),
        None => preset,
    };
    let Some(url) = url else {
        return Ok((config, manage));
    };
    let at = config.at.clone();
    let config = config
        .with_revocation_url(&url)
        .map_err(|message| ConfigError::Invalid {
            path: opts.config.clone(),
            message: format!("{at}: {message}"),
        })?;
    Ok((config, manage))
}

/// One test account: its tokens revoked (or why not), then removed from the file.
async fn one(
    chosen: &Chosen,
    opts: &Options,
    how: &Logout,
    manage: Option<String>,
    deps: &Deps<'_>,
) -> std::result::Result<AccountOut, Failure> {
    let project = Project::load(&opts.config).map_err(Failure::Before)?;
    let name = &opts.test_account;
    let held = project.account(name);
    let refresh = held.refresh_token().map(RefreshToken::new);
    let access = held.access_token().map(AccessToken::new);
    let provider = if refresh.is_none() && access.is_none() {
        AtProvider::NothingHeld
    } else {
        let target = chosen
            .target(&project, opts, deps, false)
            .map_err(Failure::Before)?;
        let tokens = [refresh.as_ref().map(Revocable::Refresh)]
            .into_iter()
            .chain([access.as_ref().map(Revocable::Access)])
            .flatten()
            .collect::<Vec<_>>();
        match at_provider(chosen, &target, &project, opts, deps, &tokens).await {
            Ok(Some((url, answers))) => AtProvider::Accepted { url, answers },
            Ok(None) => AtProvider::NoEndpoint { manage },
            Err((url, e)) if how.force => AtProvider::Forced {
                url,
                why: e.to_string(),
                manage,
            },
            Err((_, e)) => return Err(Failure::Before(e)),
        }
    };
    let removed = remove(chosen, opts, deps).await.map_err(Failure::After)?;
    Ok(AccountOut {
        test_account: name.clone(),
        provider,
        removed,
    })
}

type Revoked = Option<(String, Vec<(Kind, Answered)>)>;

/// Revokes `tokens` (refresh first) at the account's revocation endpoint: `None` when
/// there is none. Once the first is accepted the grant is over, so a later token already
/// gone is no failure; before that, anything but acceptance is one.
async fn at_provider(
    chosen: &Chosen,
    target: &Target<'_>,
    project: &Project,
    opts: &Options,
    deps: &Deps<'_>,
    tokens: &[Revocable<'_>],
) -> std::result::Result<Revoked, (String, Error)> {
    let Some(url) = target.config().revocation_url.as_ref() else {
        return Ok(None);
    };
    let (url, shown) = (url.as_str(), crate::redact::display_url(url.as_str()));
    let fail = |e: Error| (shown.clone(), with_retry(e, opts));
    chosen
        .approve_revocation(target, project, opts, deps)
        .map_err(fail)?;
    let revoker = Revoker::new(deps.transports.for_endpoint(url, opts.token_timeout));
    let style = Style::of(url);
    let mut answers: Vec<(Kind, Answered)> = Vec::new();
    for token in tokens.iter().filter(|t| style.takes(t.kind())) {
        let answer = revoker.revoke(target.endpoint(), url, token).await;
        let first = answers.is_empty();
        match answer {
            Ok(Answered::Gone(said)) if first => {
                // Already gone, but nothing ended the grant yet: not proof it is over.
                let refused = crate::error::ProviderError::Revocation {
                    url: shown.clone(),
                    status: 0,
                    said,
                    retry: String::new(),
                };
                return Err(fail(refused.into()));
            }
            Ok(answered) => answers.push((token.kind(), answered)),
            Err(e) if first => return Err(fail(e)),
            Err(e) => answers.push((token.kind(), Answered::Gone(e.to_string()))),
        }
    }
    Ok(Some((shown, answers)))
}

/// A refusal's hint names the `logout --force` that fits this run: its file, authorization
/// and test account.
fn with_retry(mut e: Error, opts: &Options) -> Error {
    if let Error::Provider(crate::error::ProviderError::Revocation { retry, .. }) = &mut e {
        let command = opts.command_for(&opts.test_account, "--force");
        *retry = command.replacen("integration-cli oauth2", "integration-cli logout", 1);
    }
    e
}

/// Takes out of the test account what token answers and our bookkeeping put there, under
/// the lock, from the file as it is now; the variables and the user's own fields stay.
async fn remove(chosen: &Chosen, opts: &Options, deps: &Deps<'_>) -> Result<Vec<String>> {
    let _lock = chosen::lock(opts, deps).await?;
    let project = Project::load(&opts.config)?;
    let name = &opts.test_account;
    let Some(fields) = project.test_account(name) else {
        return Ok(Vec::new());
    };
    let (kept, removed) = cleared(fields, chosen.config());
    if !removed.is_empty() {
        project.save_test_account(name, &kept)?;
    }
    Ok(removed)
}

/// `fields` without the tokens and what came with them, and the names taken out. A
/// declared variable, or a name a template uses, is the user's whatever it is called.
pub fn cleared(fields: &Map<String, Value>, config: &OAuth2) -> (Map<String, Value>, Vec<String>) {
    let users = |k: &str| config.variables.get(k).is_some() || config.uses(k);
    // What a login recorded goes with it.
    let ours = |k: &str| field::FROM_PROVIDERS.contains(&k) || super::recorded(k);
    let mut kept = Map::new();
    let mut removed = Vec::new();
    for (key, value) in fields {
        if field::ALL.contains(&key.as_str()) || ours(key) && !users(key) {
            removed.push(key.clone());
        } else {
            kept.insert(key.clone(), value.clone());
        }
    }
    (kept, removed)
}
