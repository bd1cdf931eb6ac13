//! The `oauth2` command as a sequence of small steps: pick the authorization, then refresh
//! what can be refreshed, or log in. No I/O of its own beyond the token client: the browser,
//! the clock and the terminal come in through `Deps`, so tests can drive every step.

mod login;
pub use login::DEFAULT_PORT;
mod recover;
mod select;
mod store;
use store::Source;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crate::browser::Browser;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::project::{self, OAuth2Config, Project};
use crate::secret::Secret;
use crate::token::{BodyFormat, ClientAuth, Endpoint, Grant, TokenClient};
use crate::ui::Terminal;

/// Everything the user chose, already validated.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub authorization: Option<String>,
    pub test_account: String,
    /// The callback port the user chose and where (`--port` or `OAUTH2_PORT`); `None` means
    /// the redirect URL's or the default.
    pub port: Option<(u16, &'static str)>,
    pub open_browser: bool,
    pub callback_timeout: Duration,
    pub token_timeout: Duration,
    pub reauth: bool,
    /// Log in through a tunnel (`--tunnel`); an authorization's `"tunnel": true` asks too.
    pub tunnel: bool,
    /// `--tunnel-domain` or `NGROK_DOMAIN`; else the authorization's `tunnelDomain`.
    pub tunnel_domain: Option<String>,
    /// `--json`: the result on stdout as one JSON object instead of text.
    pub json: bool,
    /// `--paste`: no callback server; the redirect's address (or the code) is pasted.
    pub paste: bool,
    /// `--recover`: put tokens an earlier run set aside into the file.
    pub recover: bool,
}

impl Options {
    /// The `oauth2` command that logs this test account in, as the user would type it: the
    /// hint after an error must not send them to another account or file.
    pub fn login_command(&self, reauth: bool) -> String {
        self.login_command_for(&self.test_account, reauth)
    }

    /// `login_command`, for another test account of the same file and authorization.
    pub fn login_command_for(&self, test_account: &str, reauth: bool) -> String {
        self.command_for(test_account, if reauth { "--reauth" } else { "" })
    }

    /// The `oauth2` command for `test_account` of this file and authorization, ending in
    /// `flag` (`--reauth`, `--recover`, or nothing).
    pub fn command_for(&self, test_account: &str, flag: &str) -> String {
        let quote = |v: &str| {
            if !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
            {
                v.to_string()
            } else {
                format!("'{}'", v.replace('\'', r"'\''"))
            }
        };
        let mut command = String::from("integration-cli oauth2");
        if self.config != std::path::Path::new(".unito.json") {
            command += &format!(" --config {}", quote(&self.config.to_string_lossy()));
        }
        if let Some(a) = &self.authorization {
            command += &format!(" -a {}", quote(a));
        }
        if test_account != "development" {
            command += &format!(" -t {}", quote(test_account));
        }
        if !flag.is_empty() {
            command += " ";
            command += flag;
        }
        crate::redact::printable(&command)
    }
}

/// The outside world, as the flow sees it.
pub struct Deps<'a> {
    pub browser: &'a dyn Browser,
    pub clock: &'a dyn Clock,
    pub terminal: &'a dyn Terminal,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Tells whoever handles Ctrl-C that stopping now would lose tokens.
    pub critical: &'a Critical,
    pub tunnel: &'a dyn crate::tunnel::Tunnel,
}

/// Marks the steps that must finish once started, even on Ctrl-C: a token request already
/// sent may have spent a single-use code or rotated the refresh token, and only saving its
/// answer keeps the test account usable.
#[derive(Debug, Default)]
pub struct Critical {
    depth: AtomicUsize,
    left: tokio::sync::Notify,
    stop: AtomicBool,
}

impl Critical {
    pub fn enter(&self) -> CriticalSection<'_> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        CriticalSection(self)
    }

    pub fn active(&self) -> bool {
        self.depth.load(Ordering::SeqCst) > 0
    }

    /// Ctrl-C came while a section was open: the flow must not start anything new.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Resolves once no critical section is open: where a cancelled run may stop after all.
    pub async fn left(&self) {
        loop {
            let notified = self.left.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.active() {
                return;
            }
            notified.await;
        }
    }
}

pub struct CriticalSection<'a>(&'a Critical);

impl Drop for CriticalSection<'_> {
    fn drop(&mut self) {
        if self.0.depth.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.left.notify_waiters();
        }
    }
}

/// A client-credentials token this close to expiry is treated as expired: it could lapse
/// between now and its first use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub async fn oauth2(opts: &Options, deps: &Deps<'_>) -> Result<()> {
    let project = Project::load(&opts.config)?;
    let chosen = Chosen::new(&project, opts, deps)?;
    let config = &chosen.config;
    let ctx = chosen.ctx(opts, deps);
    if ctx.recovered().await? && !opts.reauth {
        return Ok(());
    }
    match config.grant_type.as_str() {
        "authorization_code" => {}
        "client_credentials" => return ctx.client_credentials().await,
        other => {
            return Err(Error::UnsupportedGrant {
                grant: other.to_string(),
            });
        }
    }

    if project.refresh_token(&opts.test_account).is_some() && !opts.reauth {
        match ctx.refresh(false).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // invalid_grant means the refresh token is dead; anything else (network, 5xx)
            // says nothing about it and must not send the user through a login.
            Err(Error::TokenEndpoint {
                error, description, ..
            }) if error == "invalid_grant" => {
                let refused = Error::RefreshRejected {
                    error,
                    description,
                    retry: opts.login_command(true),
                };
                if deps.critical.stop_requested() {
                    deps.terminal.warn(&refused.to_string());
                    return Err(Error::Interrupted);
                }
                if !opts.open_browser && !deps.terminal.interactive() {
                    return Err(refused);
                }
                deps.terminal.warn(&format!("{refused}; logging in again."));
            }
            Err(e) => return Err(e),
        }
    }
    ctx.login().await
}

/// The access token of the test account, fresh enough to use now: refreshed (or, for
/// client credentials, requested again) and saved first when it has expired or is within
/// `EXPIRY_MARGIN` of it. Never opens a browser; when only a login would help, says so.
pub async fn token(opts: &Options, deps: &Deps<'_>) -> Result<Secret> {
    let project = Project::load(&opts.config)?;
    // Test accounts are the file's, not an authorization's: a usable token needs no choice,
    // and a script with several authorizations gets it without `-a`.
    let stale = match stored_token(&project, &opts.test_account, deps.clock) {
        Stored::Usable(token) => return Ok(token),
        Stored::Stale(why) => why,
    };
    let chosen = Chosen::new(&project, opts, deps)?;
    let config = &chosen.config;
    let ctx = chosen.ctx(opts, deps);
    // Tokens an earlier run set aside are newer than the file's refresh token, which may
    // be spent: presenting it could get the whole grant revoked.
    ctx.recovered().await?;
    let needs_login = |reason: String| Error::NeedsLogin {
        test_account: opts.test_account.clone(),
        reason,
        retry: opts.login_command(false),
    };
    match config.grant_type.as_str() {
        "client_credentials" => ctx.client_credentials().await?,
        "authorization_code" => match ctx.refresh(true).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(needs_login(format!(
                    "{stale}, and there is no refresh token"
                )));
            }
            Err(Error::TokenEndpoint {
                error, description, ..
            }) if error == "invalid_grant" => {
                return Err(Error::RefreshRejected {
                    error,
                    description,
                    retry: opts.login_command(true),
                });
            }
            Err(e) => return Err(e),
        },
        other => {
            return Err(Error::UnsupportedGrant {
                grant: other.to_string(),
            });
        }
    }
    // Whatever was just saved, even a token the provider gives less than the margin to live.
    let project = Project::load(&opts.config)?;
    match stored_token_at(&project, &opts.test_account, None) {
        Stored::Usable(token) => Ok(token),
        Stored::Stale(why) => Err(needs_login(why)),
    }
}

/// How many token requests `--all` has in flight at once.
const ALL_AT_ONCE: usize = 4;

/// `oauth2 --all`: every test account that can be brought up to date without a browser,
/// with the chosen authorization. The token requests run in parallel (a few at a time), the
/// whole run holds the file lock, and each answer is saved as it comes, from the file as it
/// is then, so one account's failure never costs another its new tokens.
pub async fn refresh_all(opts: &Options, deps: &Deps<'_>) -> Result<()> {
    use futures_util::stream::{self, StreamExt};

    let project = Project::load(&opts.config)?;
    let chosen = Chosen::new(&project, opts, deps)?;
    let (name, config) = (&chosen.name, &chosen.config);
    let ctx = chosen.ctx(opts, deps);
    let _lock = ctx.lock().await?;
    let project = Project::load(&opts.config)?;

    enum Plan {
        Request(Grant, Source),
        Skip(String),
        Fail(String),
    }
    let set_aside = crate::recovery::scan(project.real_path(), deps.env);
    let cc = config.grant_type == "client_credentials";
    if !cc && config.grant_type != "authorization_code" {
        return Err(Error::UnsupportedGrant {
            grant: config.grant_type.clone(),
        });
    }
    let plans: Vec<(String, Plan)> = project
        .test_account_names()
        .into_iter()
        .map(|account| {
            let current = project.test_account(&account);
            let waiting = set_aside
                .iter()
                .find(|(a, r)| *a == account && r.fits(current));
            let plan = if let Some((_, r)) = waiting {
                Plan::Fail(format!(
                    "tokens set aside in {} wait to be saved; run: {}",
                    r.path.display(),
                    opts.command_for(&account, "--recover")
                ))
            } else if let Err(e) = project.check_editable(&account) {
                Plan::Fail(e.to_string())
            } else if cc {
                match stored_token(&project, &account, deps.clock) {
                    Stored::Usable(_)
                        if project
                            .test_account(&account)
                            .is_some_and(|a| a.contains_key("expiresAt")) =>
                    {
                        Plan::Skip("still valid".into())
                    }
                    _ => Plan::Request(
                        Grant::ClientCredentials {
                            scope: (!config.scopes.is_empty()).then(|| config.scopes.join(" ")),
                        },
                        Source::NewGrant,
                    ),
                }
            } else {
                match project.refresh_token(&account) {
                    Some(rt) => Plan::Request(
                        Grant::RefreshToken {
                            refresh_token: Secret::new(rt.to_string()),
                        },
                        Source::Refresh,
                    ),
                    None => Plan::Skip(format!(
                        "no refresh token; log in with: {}",
                        opts.login_command_for(&account, false)
                    )),
                }
            };
            (account, plan)
        })
        .collect();

    // Every answer must be savable before any request is sent.
    if let Some((account, _)) = plans.iter().find(|(_, p)| matches!(p, Plan::Request(..))) {
        project.check_save(account)?;
    }
    let _critical = deps.critical.enter();
    let mut failed = 0;
    let mut lines = Vec::new();
    let mut pending = Vec::new();
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
    let params = |source: Source| match source {
        Source::Refresh => &config.refresh_request_parameters,
        Source::NewGrant => &config.token_request_parameters,
    };
    let mut answers = stream::iter(pending)
        .map(|(account, grant, source)| {
            let ctx = &ctx;
            async move {
                // After a Ctrl-C, requests already sent finish and are saved; no new one starts.
                if ctx.deps.critical.stop_requested() {
                    return (account, source, Err(Error::Interrupted));
                }
                let answer = ctx
                    .tokens
                    .request(ctx.endpoint, &grant, params(source))
                    .await;
                (account, source, answer)
            }
        })
        .buffer_unordered(ALL_AT_ONCE);
    while let Some((account, source, answer)) = answers.next().await {
        let outcome = match answer {
            Ok(response) => store::save_into_current(&ctx, &project, &account, &response, source)
                .map(|(_, saved)| {
                    let expires = saved
                        .get("expiresAt")
                        .and_then(|v| v.as_str())
                        .map_or(String::new(), |at| format!(", expires {at}"));
                    format!(
                        "{account}: {}{expires}",
                        if source == Source::Refresh {
                            "refreshed"
                        } else {
                            "new token"
                        }
                    )
                }),
            Err(e) => Err(e),
        };
        lines.push(match outcome {
            Ok(line) => line,
            Err(Error::TokenEndpoint {
                error, description, ..
            }) if error == "invalid_grant" => {
                failed += 1;
                let retry = opts.login_command_for(&account, true);
                let refused = Error::RefreshRejected {
                    error,
                    description,
                    retry: retry.clone(),
                };
                format!("{account}: needs a login: {refused}; run {retry}")
            }
            Err(Error::Interrupted) => {
                failed += 1;
                format!("{account}: not attempted (cancelled)")
            }
            Err(e) => {
                failed += 1;
                format!("{account}: error: {e}")
            }
        });
    }
    lines.sort();
    deps.terminal.result(&format!(
        "Test accounts of authorization \"{name}\":\n  {}",
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

/// `token --json`: the token (asked for, so in full) with what a script needs beside it.
pub fn token_json(opts: &Options, token: &Secret) -> Result<String> {
    let project = Project::load(&opts.config)?;
    let account = project.test_account(&opts.test_account);
    let field = |k: &str| account.and_then(|a| a.get(k)).cloned();
    Ok(serde_json::json!({
        "accessToken": token.expose(),
        "tokenType": field("tokenType").unwrap_or_else(|| "Bearer".into()),
        "expiresAt": field("expiresAt"),
        "testAccount": opts.test_account,
    })
    .to_string())
}

/// What the test account holds, as far as using it now goes.
pub enum Stored {
    Usable(Secret),
    /// Why not, in words for an error message.
    Stale(String),
}

/// The stored access token, unless it has expired or is within `EXPIRY_MARGIN` of it. A
/// token without an `expiresAt` is taken as valid: the provider did not say otherwise. One
/// whose `expiresAt` cannot be read is treated as stale, so a refresh writes a good one.
pub fn stored_token(project: &Project, test_account: &str, clock: &dyn Clock) -> Stored {
    stored_token_at(project, test_account, Some(clock.now()))
}

/// `stored_token`, with expiry checked against `now` when given. A token that could not go
/// in an Authorization header as is (a cloned file can hold anything) is never usable:
/// `token` prints it for `$(…)`, where a control character could inject a header.
fn stored_token_at(project: &Project, test_account: &str, now: Option<SystemTime>) -> Stored {
    let Some(account) = project.test_account(test_account) else {
        return Stored::Stale("none is stored".into());
    };
    let Some(token) = account
        .get("accessToken")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
    else {
        return Stored::Stale("none is stored".into());
    };
    if !crate::redact::is_header_safe(token) {
        return Stored::Stale(format!(
            "the stored one cannot be a bearer token: {}",
            crate::redact::header_unsafe_reason(token)
        ));
    }
    if let Some(kind) = account
        .get("tokenType")
        .and_then(|t| t.as_str())
        .filter(|t| !crate::redact::is_header_safe(t))
    {
        return Stored::Stale(format!(
            "its tokenType cannot go in an Authorization header: {}",
            crate::redact::header_unsafe_reason(kind)
        ));
    }
    let Some(now) = now else {
        return Stored::Usable(Secret::new(token.to_string()));
    };
    match account.get("expiresAt") {
        None => Stored::Usable(Secret::new(token.to_string())),
        Some(raw) => match raw.as_str().and_then(crate::clock::parse_rfc3339) {
            None => Stored::Stale(format!(
                "its expiresAt {} is not an RFC 3339 time such as 2026-01-31T12:00:00Z",
                crate::redact::printable(&raw.to_string())
            )),
            Some(at) if at <= now + EXPIRY_MARGIN => Stored::Stale(format!(
                "it {} at {}",
                if at > now { "expires" } else { "expired" },
                crate::clock::rfc3339(at)
            )),
            Some(_) => Stored::Usable(Secret::new(token.to_string())),
        },
    }
}

/// The authorization a run works with, ready to talk to its token endpoint.
struct Chosen {
    name: String,
    config: OAuth2Config,
    endpoint: Endpoint,
    tokens: TokenClient,
}

impl Chosen {
    fn new(project: &Project, opts: &Options, deps: &Deps<'_>) -> Result<Chosen> {
        let (name, config) =
            select::authorization(project, opts.authorization.as_deref(), deps.terminal)?;
        let endpoint = endpoint(&config, &opts.config, deps)?;
        let tokens = TokenClient::new(opts.token_timeout, &endpoint.url);
        Ok(Chosen {
            name,
            config,
            endpoint,
            tokens,
        })
    }

    fn ctx<'a>(&'a self, opts: &'a Options, deps: &'a Deps<'a>) -> Ctx<'a> {
        Ctx {
            opts,
            deps,
            authorization: &self.name,
            config: &self.config,
            endpoint: &self.endpoint,
            tokens: &self.tokens,
        }
    }
}

/// The pieces every step needs, borrowed for the length of one run.
struct Ctx<'a> {
    opts: &'a Options,
    deps: &'a Deps<'a>,
    authorization: &'a str,
    config: &'a OAuth2Config,
    endpoint: &'a Endpoint,
    tokens: &'a TokenClient,
}

impl Ctx<'_> {
    /// Refreshes under the file lock, with the refresh token as it is *inside* the lock: a
    /// concurrent run may have rotated it, and presenting the spent one can revoke the grant.
    /// With `only_if_stale`, a token another run made fresh meanwhile is left alone.
    /// `Ok(false)`: there was no refresh token after all.
    async fn refresh(&self, only_if_stale: bool) -> Result<bool> {
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        if only_if_stale
            && let Stored::Usable(_) =
                stored_token(&project, &self.opts.test_account, self.deps.clock)
        {
            return Ok(true);
        }
        let Some(refresh_token) = project.refresh_token(&self.opts.test_account) else {
            return Ok(false);
        };
        self.refuse_if_set_aside(&project)?;
        project.check_save(&self.opts.test_account)?;
        self.deps.terminal.say(&format!(
            "Refreshing the access token of test account \"{}\" (authorization \"{}\")…",
            self.opts.test_account, self.authorization
        ));
        let grant = Grant::RefreshToken {
            refresh_token: Secret::new(refresh_token),
        };
        let _critical = self.deps.critical.enter();
        let response = self
            .tokens
            .request(
                self.endpoint,
                &grant,
                &self.config.refresh_request_parameters,
            )
            .await?;
        store::save_locked(self, &project, &response, store::Source::Refresh)?;
        Ok(true)
    }

    async fn client_credentials(&self) -> Result<()> {
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        if !self.opts.reauth
            && let Some(at) = project
                .test_account(&self.opts.test_account)
                .filter(|a| a.get("accessToken").and_then(|v| v.as_str()).is_some())
                .and_then(|a| a.get("expiresAt"))
                .and_then(|v| v.as_str())
                .and_then(crate::clock::parse_rfc3339)
            && at > self.deps.clock.now() + EXPIRY_MARGIN
        {
            if self.opts.json {
                let account = project
                    .test_account(&self.opts.test_account)
                    .cloned()
                    .unwrap_or_default();
                self.deps.terminal.result(&store::summary_json(
                    "kept",
                    self,
                    &project,
                    &self.opts.test_account,
                    &account,
                    None,
                ));
                return Ok(());
            }
            self.deps.terminal.result(&format!(
                "The client-credentials token of test account \"{}\" is still valid (expires {}); nothing to do. Use --reauth to request a new one.",
                self.opts.test_account,
                crate::clock::rfc3339(at)
            ));
            return Ok(());
        }
        self.refuse_if_set_aside(&project)?;
        project.check_save(&self.opts.test_account)?;
        self.deps.terminal.say(&format!(
            "Requesting a client-credentials token for test account \"{}\"…",
            self.opts.test_account
        ));
        // Once sent, the request is let finish and its answer saved, whatever signal comes.
        let _critical = self.deps.critical.enter();
        let scope = (!self.config.scopes.is_empty()).then(|| self.config.scopes.join(" "));
        let response = self
            .tokens
            .request(
                self.endpoint,
                &Grant::ClientCredentials { scope },
                &self.config.token_request_parameters,
            )
            .await?;
        store::save_locked(self, &project, &response, store::Source::NewGrant)?;
        Ok(())
    }

    fn invalid(&self, message: String) -> Error {
        config_error(&self.opts.config, self.config, message)
    }

    async fn lock(&self) -> Result<project::FileLock> {
        project::lock(&self.opts.config, || {
            self.deps
                .terminal
                .say("Waiting for another integration-cli run to finish with this file…")
        })
        .await
    }
}

/// A mistake in this authorization's part of the file.
fn config_error(path: &std::path::Path, config: &OAuth2Config, message: String) -> Error {
    Error::ConfigInvalid {
        path: path.into(),
        message: format!("{}: {message}", config.origin),
    }
}

fn endpoint(config: &OAuth2Config, path: &std::path::Path, deps: &Deps<'_>) -> Result<Endpoint> {
    let invalid = |message| config_error(path, config, message);
    let format = BodyFormat::parse(config.request_content_type.as_deref()).map_err(invalid)?;
    Ok(Endpoint {
        url: config.token_url.clone(),
        client_id: project::resolve_client_id(config, deps.env)?,
        client_secret: project::resolve_client_secret(config, deps.env)?,
        auth: ClientAuth::parse(config.token_endpoint_auth_method.as_deref(), format)
            .map_err(invalid)?,
        format,
        response_type: config.response_content_type.clone(),
    })
}
