//! New tokens without a browser: a refresh with the stored refresh token, or a new
//! client-credentials token. Each runs under the file lock with the file as read inside it,
//! so two runs never present the same rotating refresh token, and each request, once sent,
//! is let finish and its answer saved whatever signal comes.

use super::outcome::{Happened, Outcome};
use super::store::{self, Source};
use super::{Ctx, UsernameSource};
use crate::config::{Freshness, TestAccount};
use crate::error::{Error, ProviderError, Result, UserError};
use crate::project::Project;
use crate::secret::{AccessToken, Password, RefreshToken};
use crate::token::Grant;

/// Where the password grant's password comes from when no one is asked.
pub const PASSWORD_ENV: &str = "UNITO_PASSWORD";

impl Ctx<'_> {
    /// `oauth2` for an authorization-code grant: a refresh when a refresh token is stored
    /// (unless `--reauth`), else a login; a refused refresh token falls back to a login when
    /// a person can do it.
    pub(super) async fn refresh_or_login(&self, project: &Project) -> Result<Outcome> {
        let account = project.account(&self.opts.test_account);
        // Scopes the file added since the login: only a new login gets them.
        let reauth = self.opts.reauth || self.needs_new_scopes(account);
        let opts = self.opts;
        // Nothing to refresh with, and nothing to refresh: a provider that issues no refresh
        // token (GitHub's OAuth apps) gave a token that is still good. A login would only
        // replace it with another like it.
        if account.refresh_token().is_none()
            && !reauth
            && let Freshness::Fresh(_) =
                account.freshness(self.config.grant.kind(), self.deps.clock.now())
        {
            return Ok(self.kept(project));
        }
        if account.refresh_token().is_some() && !reauth {
            match self.refresh(When::Always).await {
                Ok(Done::Refreshed(outcome)) => return Ok(*outcome),
                Ok(Done::Unneeded) => return self.kept_as_held(),
                Ok(Done::NothingToRefreshWith) => {}
                // invalid_grant means the refresh token is dead; anything else (network,
                // 5xx) says nothing about it and must not send the user through a login.
                Err(e) => match refused(e, opts.login_command(true)) {
                    Ok(refused) => self.before_login_again(refused)?,
                    Err(e) => return Err(e),
                },
            }
        }
        let outcome = match self.grant {
            crate::config::Grant::Password(who) => self.password(who).await?,
            _ => self.login().await?,
        };
        self.after_login().await;
        Ok(outcome)
    }

    /// The password grant (RFC 6749 §4.3): the username and password, asked for at a
    /// terminal when the environment does not hold them, sent once and never kept.
    async fn password(&self, who: &UsernameSource) -> Result<Outcome> {
        let (env, terminal) = (&*self.deps.env, &*self.deps.terminal);
        let missing = |what: &str| UserError::PasswordMissing { what: what.into() };
        let username = match who {
            UsernameSource::Given(name) => name.clone(),
            UsernameSource::Asked if terminal.interactive() => terminal.input("Username", None)?,
            UsernameSource::Asked => {
                return Err(missing("a username (--username or UNITO_USERNAME)").into());
            }
        };
        let password = match env(PASSWORD_ENV).filter(|p| !p.is_empty()) {
            Some(p) => Password::new(p),
            None if terminal.interactive() => {
                Password::new(terminal.hidden(&format!("Password for {username}"))?)
            }
            None => {
                return Err(missing("a password (UNITO_PASSWORD, or a terminal to ask on)").into());
            }
        };
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        project.check_save(&self.opts.test_account)?;
        let saying = format!(
            "Requesting tokens for test account \"{}\" with the password of {}…",
            self.opts.test_account,
            crate::redact::printable(&username)
        );
        let grant = Grant::Password {
            username,
            password,
            scope: self.config.scope(),
        };
        self.request_new(&project, &grant, &saying).await
    }

    /// Whether the password grant can have its username and password without a question
    /// nobody is there to answer.
    fn password_at_hand(&self, who: &UsernameSource) -> bool {
        let asked = self.deps.terminal.interactive();
        let password = (self.deps.env)(PASSWORD_ENV).is_some_and(|p| !p.is_empty());
        asked || (matches!(who, UsernameSource::Given(_)) && password)
    }

    /// Sends a grant that replaces whatever the account held, under the lock the caller
    /// holds, and saves the answer whatever signal comes once it is sent.
    async fn request_new(&self, project: &Project, grant: &Grant, saying: &str) -> Result<Outcome> {
        self.deps.terminal.say(saying);
        let _critical = self.deps.critical.enter();
        let response = self
            .tokens
            .request(self.endpoint, grant, &self.config.token_request_parameters)
            .await?;
        store::save_locked(self, project, &response, Source::NewGrant)
    }

    /// A refused refresh token: log in again, unless a stop was asked for or nobody can.
    fn before_login_again(&self, refused: Error) -> Result<()> {
        if self.deps.critical.stop_requested() {
            self.deps.terminal.warn(&refused.to_string());
            return Err(Error::Interrupted);
        }
        let can_log_in = match self.grant {
            crate::config::Grant::Password(who) => self.password_at_hand(who),
            _ => self.opts.open_browser || self.deps.terminal.interactive(),
        };
        if !can_log_in {
            return Err(refused);
        }
        self.deps
            .terminal
            .warn(&format!("{refused}; logging in again."));
        Ok(())
    }

    /// Refreshes with the refresh token as it is *inside* the lock: a concurrent run may have
    /// rotated it, and presenting the spent one can revoke the grant. `when` is judged on the
    /// file as read there too, so a token another run made fresh meanwhile is left alone.
    pub(super) async fn refresh(&self, when: When<'_>) -> Result<Done> {
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        let account = project.account(&self.opts.test_account);
        if !when.holds(account, self.deps.clock.now()) {
            self.hold(project);
            return Ok(Done::Unneeded);
        }
        let Some(refresh_token) = account.refresh_token() else {
            self.hold(project);
            return Ok(Done::NothingToRefreshWith);
        };
        self.refuse_if_set_aside(&project)?;
        project.check_save(&self.opts.test_account)?;
        self.deps.terminal.say(&format!(
            "Refreshing the access token of test account \"{}\" (authorization \"{}\")…",
            self.opts.test_account, self.authorization
        ));
        let grant = Grant::RefreshToken {
            refresh_token: RefreshToken::new(refresh_token),
        };
        let _critical = self.deps.critical.enter();
        let response = self
            .tokens
            .request(
                self.endpoint,
                &grant,
                &self.config.refresh_request_parameters,
            )
            .await
            .map_err(|e| {
                store::keep_carried_refresh_token(self, &project, &self.opts.test_account, e)
            })?;
        let outcome = store::save_locked(self, &project, &response, Source::Refresh)?;
        Ok(Done::Refreshed(Box::new(outcome)))
    }

    /// A token with no person involved (client credentials, a jwt-bearer assertion): the
    /// stored one while `when` does not hold (`oauth2` keeps a fresh one unless
    /// `--reauth`), else a new one.
    pub(super) async fn unattended(&self, when: When<'_>) -> Result<Done> {
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        let account = project.account(&self.opts.test_account);
        let now = self.deps.clock.now();
        if !when.holds(account, now) {
            self.hold(project);
            return Ok(Done::Unneeded);
        }
        self.refuse_if_set_aside(&project)?;
        project.check_save(&self.opts.test_account)?;
        let grant = self.unattended_grant()?;
        let how = match grant {
            Grant::JwtBearer { .. } => "with a signed assertion (jwt-bearer)",
            _ => "with the client's credentials",
        };
        let saying = format!(
            "Requesting a token for test account \"{}\" {how}…",
            self.opts.test_account
        );
        let outcome = self.request_new(&project, &grant, &saying).await?;
        Ok(Done::Refreshed(Box::new(outcome)))
    }

    /// The request of a grant with no person: client credentials, or a new assertion.
    pub(super) fn unattended_grant(&self) -> Result<Grant> {
        let scope = self.config.scope();
        let crate::config::Grant::JwtBearer(signer) = self.grant else {
            return Ok(Grant::ClientCredentials { scope });
        };
        // Providers that want the scopes inside the assertion (Google) get them there only.
        let scope = scope.filter(|_| !signer.claims_scope());
        let assertion = signer.sign(
            crate::assertion::For::Grant {
                client_id: &self.endpoint.client_id,
            },
            &self.endpoint.url,
            std::time::SystemTime::now(),
        )?;
        Ok(Grant::JwtBearer { assertion, scope })
    }

    /// A fresh token, kept: nothing was requested.
    pub(super) fn kept(&self, project: &Project) -> Outcome {
        let name = &self.opts.test_account;
        let fields = project.test_account(name).cloned().unwrap_or_default();
        let grant = self.config.grant.kind();
        store::outcome(self, project, name, &fields, Happened::Kept { grant })
    }

    /// `kept`, of the file as the step that judged the token read it under the lock.
    pub(super) fn kept_as_held(&self) -> Result<Outcome> {
        match &*self.held.borrow() {
            Some(project) => Ok(self.kept(project)),
            None => Ok(self.kept(&Project::load(&self.opts.config)?)),
        }
    }
}

/// How providers say a refresh token is dead: RFC 6749's `invalid_grant`, GitHub's
/// `bad_refresh_token`, Slack's `invalid_refresh_token`, HubSpot's `BAD_REFRESH_TOKEN`.
const REFUSED_REFRESH: [&str; 3] = [
    "invalid_grant",
    "bad_refresh_token",
    "invalid_refresh_token",
];

/// The refused-refresh-token error a login (`retry`) would fix, or the error as it was.
pub(super) fn refused(e: Error, retry: String) -> std::result::Result<Error, Error> {
    match e {
        Error::Provider(ProviderError::TokenEndpoint {
            error, description, ..
        }) if REFUSED_REFRESH
            .iter()
            .any(|r| error.eq_ignore_ascii_case(r)) =>
        {
            Ok(ProviderError::RefreshRejected {
                error,
                description,
                retry,
            }
            .into())
        }
        other => Err(other),
    }
}

/// When new tokens are wanted, judged on the file as read under the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When<'a> {
    /// Whatever is stored (`oauth2`'s refresh, `--reauth`).
    Always,
    /// When the stored token is not fresh (`token`, `credentials`, `exec`, the proxy).
    Stale,
    /// As `Stale`, even inside the floor after the last refresh: `oauth2`, which a person
    /// runs, asks for a new token rather than hand out a stale one.
    Asked,
    /// When the stored token is within `TestAccount::refresh_due` of its expiry (`watch`,
    /// the proxy's timer): ahead of the others, so they never need a refresh of their own.
    Due,
    /// When the stored token is still this one, which its user refused (a connector's 401).
    /// A different one was written by another run, and is used instead.
    Replacing(&'a AccessToken),
    /// As `Due`, or once this long has passed since the last refresh (`watch
    /// --keep-alive`: half a sliding refresh token's window).
    KeepAlive(std::time::Duration),
}

impl When<'_> {
    pub(super) fn holds(self, account: TestAccount<'_>, now: std::time::SystemTime) -> bool {
        let fresh = account.usable_token(Some(now)).is_ok();
        // Inside the floor after the last refresh a token that came back stale is used as
        // it is (see `REFRESH_FLOOR`); only `oauth2`, asked by a person, asks again, and
        // the proxy's replacement of a refused token, which has a guard of its own.
        if matches!(self, When::Stale | When::Due | When::KeepAlive(_)) && account.within_floor(now)
        {
            return false;
        }
        match self {
            When::Always => true,
            When::Stale | When::Asked => !fresh,
            When::Due => !fresh || account.refresh_due().is_some_and(|due| due <= now),
            When::KeepAlive(half) => {
                When::Due.holds(account, now)
                    || account
                        .last_refresh_at()
                        .is_none_or(|last| last + half <= now)
            }
            When::Replacing(refused) => {
                !fresh
                    || account
                        .access_token()
                        .is_none_or(|stored| refused.is(stored))
            }
        }
    }
}

/// What a refresh did.
#[derive(Debug)]
pub enum Done {
    /// New tokens, saved.
    Refreshed(Box<Outcome>),
    /// Nothing: the stored token serves (`When` did not hold).
    Unneeded,
    /// Nothing: there is no refresh token.
    NothingToRefreshWith,
}
