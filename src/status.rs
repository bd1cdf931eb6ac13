//! `integration-cli status`: what each test account holds, and what the next `oauth2` and
//! `token` runs would do with it under each authorization, without touching the file or the
//! network. Test accounts belong to the file, not to an authorization, so each is shown once.
//! This finds it out; `report::status` says it, as text or JSON.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

use crate::clock::Clock;
use crate::config::{Freshness, GrantType, OAuth2, Refusal, TestAccount, Values};
use crate::error::{ConfigError, Error, Result};
use crate::identity::Identity;
use crate::project::Project;
use crate::recovery::Recovery;
use crate::scopes::Drift;
use crate::secret::AccessToken;

/// What `status` found, as of `now`.
pub struct Status {
    pub file: PathBuf,
    /// The authorization `-a` named, if one: the commands `status` suggests name it too.
    pub authorization: Option<String>,
    pub now: SystemTime,
    pub accounts: Vec<AccountStatus>,
    /// `development` and `compliance` are this one user.
    pub same_user: Option<Identity>,
}

/// One test account as the file holds it, and what the next runs would do with it.
pub struct AccountStatus {
    pub name: String,
    pub access_token: Option<AccessToken>,
    pub expires_at: Option<SystemTime>,
    pub scope: Option<String>,
    pub has_refresh_token: bool,
    /// The values the authorizations' templates and variables use, as shown (password
    /// variables masked); `None` for one the account lacks.
    pub variables: Vec<(String, Option<String>)>,
    /// One per authorization described.
    pub next: Vec<NextRun>,
    /// Tokens a failed save set aside for this account.
    pub set_aside: Option<SetAside>,
    /// How long its refresh token has left (`None`: it has none), and its last use.
    pub refresh_life: Option<crate::lifetime::Left>,
    pub last_refresh_at: Option<SystemTime>,
    /// For an access token that never expires and has no refresh token: when its provider
    /// can revoke it unused, counted from the login.
    pub access_life: Option<crate::lifetime::unused::Unused>,
    /// Who the provider said the user was at the login.
    pub identity: Option<Identity>,
}

pub struct SetAside {
    pub path: PathBuf,
    pub saved_at: String,
    /// Still meant for the account as the file holds it (else older than the file's).
    pub usable: bool,
}

/// What the next runs would do with an account under one authorization.
pub struct NextRun {
    pub authorization: String,
    pub next: Next,
    /// The authorization's scopes the grant lacks (a person's grants only).
    pub scopes: Option<Drift>,
}

pub enum Next {
    /// The authorization's settings cannot be read (the same error for every account).
    Unreadable(Rc<Error>),
    /// Usable under `grant`, but `oauth2` first asks for these values.
    Lacking {
        grant: GrantType,
        lacking: Vec<crate::config::Lack>,
    },
    /// The account's values do not fit the authorization's templates.
    WontExpand { grant: GrantType, why: Unfit },
    /// The usual, by the freshness rule `oauth2` and `token` share.
    Usual {
        grant: GrantType,
        token: TokenState,
        has_refresh_token: bool,
    },
}

/// Why an account's values cannot fill an authorization's templates.
pub enum Unfit {
    /// A value a template refuses.
    Refused(Refusal),
    /// The client's id or secret, which a template uses, cannot be had.
    Credentials(Error),
}

impl std::fmt::Display for Unfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unfit::Refused(refusal) => refusal.fmt(f),
            Unfit::Credentials(e) => e.fmt(f),
        }
    }
}

/// The stored token, by the one freshness rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Fresh,
    Refreshable,
    NeedsLogin,
}

pub fn run(
    config: &Path,
    only: Option<&str>,
    clock: &dyn Clock,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Status> {
    let project = Project::load(config)?;
    let authorizations = chosen(&project, only)?;
    let set_aside = crate::recovery::scan(project.real_path(), env);
    let now = clock.now();
    let accounts = project
        .test_account_names()
        .iter()
        .map(|name| {
            let seen = Seen {
                project: &project,
                name,
                env,
            };
            let mut status = seen.describe(&authorizations, now);
            status.set_aside = set_aside_for(&project, name, &set_aside);
            status.refresh_life = refresh_life(&project, name, &authorizations, env);
            status.access_life = access_life(&project, name, &authorizations);
            status
        })
        .collect();
    let identity = |name: &str| Identity::of(project.test_account(name)?);
    let same_user = match (identity("development"), identity("compliance")) {
        (Some(a), Some(b)) if a.same_as(&b) => Some(a),
        _ => None,
    };
    Ok(Status {
        file: config.to_path_buf(),
        authorization: only.map(str::to_string),
        now,
        accounts,
        same_user,
    })
}

/// The OAuth 2.0 authorizations to describe: all, or the one named; with their grant type,
/// or why their settings cannot be read.
fn chosen<'a>(project: &'a Project, only: Option<&str>) -> Result<Vec<(String, Typed<'a>)>> {
    let mut authorizations: Vec<(String, Typed)> = project
        .config()
        .oauth2()?
        .into_iter()
        .map(|(a, o)| (a.name.clone(), o.map_err(Rc::new)))
        .collect();
    if let Some(name) = only {
        let available: Vec<String> = authorizations.iter().map(|(n, _)| n.clone()).collect();
        authorizations.retain(|(n, _)| n == name);
        if authorizations.is_empty() {
            return Err(ConfigError::AuthorizationNotFound {
                name: name.into(),
                available,
            }
            .into());
        }
    }
    if authorizations.is_empty() {
        return Err(ConfigError::NoAuthorization {
            path: project.path().into(),
        }
        .into());
    }
    Ok(authorizations)
}

/// Tokens a failed save set aside for this account, if any, and whether they are still
/// meant for it (the account changed since: the file's tokens are newer).
fn set_aside_for(
    project: &Project,
    account: &str,
    set_aside: &[(String, Recovery)],
) -> Option<SetAside> {
    let (_, r) = set_aside.iter().find(|(a, _)| a == account)?;
    Some(SetAside {
        path: r.path.clone(),
        saved_at: r.saved_at.clone(),
        usable: r.fits(project.test_account(account)),
    })
}

/// What is known of the account's refresh token, by the first described authorization
/// that has a rule for it (an override, or its provider's), else by what the provider said.
fn refresh_life(
    project: &Project,
    account: &str,
    authorizations: &[(String, Typed)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<crate::lifetime::Left> {
    let rule = authorizations
        .iter()
        .filter_map(|(_, typed)| typed.as_ref().ok())
        .find_map(|o| crate::lifetime::Rule::of(o, env));
    crate::lifetime::left(project.test_account(account), rule.as_ref())
}

/// When the account's only token, long-lived, can be revoked unused, by the first described
/// authorization's provider rule.
fn access_life(
    project: &Project,
    account: &str,
    authorizations: &[(String, Typed)],
) -> Option<crate::lifetime::unused::Unused> {
    let o = authorizations.iter().find_map(|(_, t)| t.as_ref().ok())?;
    crate::lifetime::unused::unused(project.test_account(account), o.provider_url().as_written())
}

/// The scopes of `o` the account's grant lacks, when a person's login is what gets them
/// (a grant with no person asks for the file's scopes at its next request).
fn drift(o: &OAuth2, account: &TestAccount) -> Option<Drift> {
    if o.grant.kind().needs_no_person() {
        return None;
    }
    let urls = [o.authorization_url.as_ref(), Some(&o.token_url)];
    let urls = urls.into_iter().flatten().map(|u| u.as_written());
    crate::flow::scope_drift(&o.scopes, urls, account.fields())
}

/// An authorization's settings, or why they cannot be read.
type Typed<'a> = std::result::Result<&'a OAuth2, Rc<Error>>;

/// One test account, as the file holds it now.
struct Seen<'a> {
    project: &'a Project,
    name: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Seen<'_> {
    fn describe(&self, authorizations: &[(String, Typed)], now: SystemTime) -> AccountStatus {
        let account = self.project.account(self.name);
        let next = authorizations
            .iter()
            .map(|(authorization, typed)| NextRun {
                authorization: authorization.clone(),
                next: match typed {
                    Ok(o) => self.next(o, &account, now),
                    Err(why) => Next::Unreadable(why.clone()),
                },
                scopes: typed.as_ref().ok().and_then(|o| drift(o, &account)),
            })
            .collect();
        AccountStatus {
            name: self.name.to_string(),
            access_token: account.access_token().map(AccessToken::new),
            expires_at: account.expires_at().and_then(|at| at.ok()),
            scope: account.scope().map(str::to_string),
            has_refresh_token: account.refresh_token().is_some(),
            variables: self.variables(authorizations),
            next,
            set_aside: None,
            refresh_life: None,
            last_refresh_at: account.last_refresh_at(),
            access_life: None,
            identity: account.fields().and_then(Identity::of),
        }
    }

    /// What the next runs would do with this account under `o`: ask for what it lacks
    /// first, refuse what its templates cannot take, or the usual.
    fn next(&self, o: &OAuth2, account: &TestAccount, now: SystemTime) -> Next {
        let grant = o.grant.kind();
        let lacking = o.lacking(account.fields());
        if !lacking.is_empty() {
            return Next::Lacking { grant, lacking };
        }
        if let Err(why) = self.expands(o) {
            return Next::WontExpand { grant, why };
        }
        let token = match account.freshness(grant, now) {
            Freshness::Fresh(_) => TokenState::Fresh,
            Freshness::Refreshable(_) => TokenState::Refreshable,
            Freshness::NeedsLogin(_) => TokenState::NeedsLogin,
        };
        Next::Usual {
            grant,
            token,
            has_refresh_token: account.refresh_token().is_some(),
        }
    }

    /// Whether `o`'s templates take this account's values (with the declared defaults), as
    /// the next request would. The client's id and secret are read only when a template
    /// uses them.
    fn expands(&self, o: &OAuth2) -> std::result::Result<(), Unfit> {
        if !o.is_templated() {
            return Ok(());
        }
        let mut fields = self
            .project
            .test_account(self.name)
            .cloned()
            .unwrap_or_default();
        let defaults = o.defaults_for(&fields);
        fields.extend(defaults);
        let client_id = match o.uses("clientId") {
            true => crate::config::resolve_client_id(o, self.env).map_err(Unfit::Credentials)?,
            false => String::new(),
        };
        let secret = match o.uses("clientSecret") {
            true => {
                crate::config::resolve_client_secret(o, self.env).map_err(Unfit::Credentials)?
            }
            false => None,
        };
        o.expanded(&Values {
            test_account: self.name,
            fields: &fields,
            client_id: &client_id,
            client_secret: secret.as_ref(),
        })
        .map(|_| ())
        .map_err(Unfit::Refused)
    }

    /// The values the described authorizations' templates and variables use, each once.
    fn variables(&self, authorizations: &[(String, Typed)]) -> Vec<(String, Option<String>)> {
        let account = self.project.test_account(self.name);
        let mut shown: Vec<(String, Option<String>)> = Vec::new();
        for (_, typed) in authorizations {
            let Ok(o) = typed else { continue };
            for (name, value) in crate::flow::variables_shown(o, account) {
                if !shown.iter().any(|(n, _)| *n == name) {
                    shown.push((name, value));
                }
            }
        }
        shown
    }
}
