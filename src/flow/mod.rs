//! The operations behind `oauth2` and `token`: pick the authorization, then refresh what can
//! be refreshed, request what needs no person, or log in. Nothing here knows the command line;
//! the browser, the clock, the terminal, the environment, the tunnel and the transport to the
//! token endpoints come in through `Deps`, so tests drive every step with fakes.

mod all;
mod chosen;
mod critical;
mod drift;
mod identity;
mod life;
mod login;
mod logout;
mod outcome;
mod recover;
mod refresh;
mod select;
mod store;
mod variables;
mod watch;

pub use all::refresh_all;
pub use critical::{Critical, CriticalSection};
pub use drift::{
    listed as scopes_listed, of_account as scope_drift, token_warning as scope_warning,
};
pub use identity::{same_user_warning, same_user_words};
pub use login::{DEFAULT_PORT, relay_state};
pub use logout::{AccountOut, AtProvider, Logout, SignedOut, logout};
pub use outcome::{Action, AllOutcome, Each, Happened, Outcome, RefreshFate, Saved, Tokens};
pub use refresh::When;
pub use select::NewAccount;
pub use variables::{Gathering, shown as variables_shown};
pub use watch::watch;

use std::path::PathBuf;
use std::time::Duration;

use chosen::{Chosen, Ctx};
use refresh::Done;
use serde_json::{Map, Value};

use crate::browser::{Browser, SystemBrowser};
use crate::clock::{Clock, SystemClock};
use crate::config::field;
use crate::error::{Error, ProviderError, Result};
use crate::project::Project;
use crate::secret::AccessToken;
use crate::transport::{Networks, Transports};
use crate::tunnel::{Disabled, Tunnel};
use crate::ui::{self, Terminal};

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
    /// `-q`: warnings of what is coming (a refresh token near its end) are not shown.
    pub quiet: bool,
    /// `watch --keep-alive`: refresh a sliding refresh token halfway through its window.
    pub keep_alive: bool,
    /// `--paste`: no callback server; the redirect's address (or the code) is pasted.
    pub paste: bool,
    /// `--recover`: put tokens an earlier run set aside into the file.
    pub recover: bool,
    /// `--username` or `UNITO_USERNAME`, for the password grant (whose run carries it).
    pub username: UsernameSource,
    /// `--var NAME=VALUE`: values for the authorization's variables and templates.
    pub vars: Vec<(String, String)>,
    /// `--allow-key-outside` or `UNITO_ALLOW_KEY_OUTSIDE`: `jwt.privateKeyFile` may lie
    /// outside the project's folder.
    pub allow_key_outside: bool,
    /// `--allow-env NAME`: variables the file may send to its hosts this run, unasked.
    pub allow_env: Vec<String>,
    /// Whether a login may make `test_account` when the file lacks it (`--new`).
    pub new_account: NewAccount,
}

/// Where the password grant's username comes from, settled once where the run starts
/// (`--username` or `UNITO_USERNAME`); the run's password grant carries it
/// (`config::Grant::Password`), so the step that sends it matches on this, not on options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameSource {
    /// Given for the run: sent as it is.
    Given(String),
    /// Not given: asked at a terminal, and without one the run is refused.
    Asked,
}

impl UsernameSource {
    /// The username given, if any; a blank one (a variable set to nothing) is none.
    pub fn given(name: Option<String>) -> UsernameSource {
        match name.filter(|u| !u.trim().is_empty()) {
            Some(name) => UsernameSource::Given(name),
            None => UsernameSource::Asked,
        }
    }
}

/// What a user who types nothing but the command gets.
impl Default for Options {
    fn default() -> Self {
        Options {
            config: PathBuf::from(".unito.json"),
            authorization: None,
            test_account: "development".into(),
            port: None,
            open_browser: true,
            callback_timeout: Duration::from_secs(300),
            token_timeout: Duration::from_secs(30),
            reauth: false,
            tunnel: false,
            tunnel_domain: None,
            json: false,
            quiet: false,
            keep_alive: false,
            paste: false,
            recover: false,
            username: UsernameSource::Asked,
            vars: Vec::new(),
            allow_key_outside: false,
            allow_env: Vec::new(),
            new_account: NewAccount::Confirmed { from_env: false },
        }
    }
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

/// An environment lookup: the real one, or a test's.
pub type Env<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// The outside world, as the flow sees it.
pub struct Deps<'a> {
    pub browser: Box<dyn Browser + 'a>,
    pub clock: Box<dyn Clock + 'a>,
    pub terminal: Box<dyn Terminal + 'a>,
    pub env: Env<'a>,
    /// Tells whoever handles stop signals that stopping now would lose tokens.
    pub critical: Critical,
    pub tunnel: Box<dyn Tunnel + 'a>,
    /// Makes the transport each token endpoint's requests go over.
    pub transports: Box<dyn Transports + 'a>,
}

impl Deps<'static> {
    /// The real world: the browser `BROWSER` names (or the desktop's), the system clock, this
    /// terminal, the process environment, the network, and no tunnel (see `with_tunnel`).
    pub fn system() -> Deps<'static> {
        let env = |name: &str| std::env::var(name).ok();
        Deps {
            browser: Box::new(SystemBrowser::from_env(&env)),
            clock: Box::new(SystemClock),
            terminal: Box::new(ui::Console::new()),
            env: Box::new(env),
            critical: Critical::default(),
            tunnel: Box::new(Disabled),
            transports: Box::new(Networks),
        }
    }
}

impl<'a> Deps<'a> {
    pub fn with_browser(self, browser: impl Browser + 'a) -> Self {
        Deps {
            browser: Box::new(browser),
            ..self
        }
    }

    pub fn with_terminal(self, terminal: impl Terminal + 'a) -> Self {
        Deps {
            terminal: Box::new(terminal),
            ..self
        }
    }

    pub fn with_env(self, env: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Deps {
            env: Box::new(env),
            ..self
        }
    }

    /// Another clock: a test's virtual one, which jumps to the end of each sleep.
    pub fn with_clock(self, clock: impl Clock + 'a) -> Self {
        Deps {
            clock: Box::new(clock),
            ..self
        }
    }

    pub fn with_tunnel(self, tunnel: impl Tunnel + 'a) -> Self {
        Deps {
            tunnel: Box::new(tunnel),
            ..self
        }
    }

    /// Another way to the token endpoints: a test's, which answers without a socket.
    pub fn with_transports(self, transports: impl Transports + 'a) -> Self {
        Deps {
            transports: Box::new(transports),
            ..self
        }
    }
}

/// `integration-cli oauth2`: fill the test account with tokens, by whichever way the grant
/// and the stored tokens allow, and with what its authorization's templates need.
pub async fn oauth2(opts: &Options, deps: &Deps<'_>) -> Result<Outcome> {
    let project = Project::load(&opts.config)?;
    select::test_account(
        &project,
        &opts.test_account,
        opts.new_account,
        &*deps.terminal,
    )?;
    let chosen = Chosen::new(&project, opts, deps)?;
    let target = chosen.target(&project, opts, deps, true)?;
    let opts = &elsewhere(opts, &target, deps);
    let ctx = chosen.ctx(&target, opts, deps);
    if let Some(recovered) = ctx.recovered().await?
        && !opts.reauth
    {
        ctx.save_answers().await?;
        return Ok(recovered);
    }
    let outcome = if ctx.config.grant.kind().needs_no_person() {
        let when = if opts.reauth {
            When::Always
        } else {
            When::Asked
        };
        match ctx.unattended(when).await? {
            Done::Refreshed(outcome) => *outcome,
            _ => ctx.kept_as_held()?,
        }
    } else {
        ctx.refresh_or_login(&project).await?
    };
    ctx.save_answers().await?;
    let mut outcome = outcome;
    if let Ok(project) = Project::load(&opts.config) {
        outcome.tokens.refresh_warning = life::warn(&project, opts, deps);
    }
    Ok(outcome)
}

/// A `--var` that moves the templates to another tenant: the stored tokens are the old
/// one's, and are neither refreshed there nor kept, as with `--reauth`.
fn elsewhere(opts: &Options, target: &chosen::Target<'_>, deps: &Deps<'_>) -> Options {
    let changed = target.changed();
    if changed.is_empty() || opts.reauth {
        return opts.clone();
    }
    deps.terminal.say(&format!(
        "{} changed, so the stored tokens belong elsewhere: getting new ones (as --reauth does).",
        changed.join(", ")
    ));
    Options {
        reauth: true,
        ..opts.clone()
    }
}

/// The access token of the test account, fresh enough to use now: refreshed (or, for
/// client credentials, requested again) and saved first when it is not fresh (see
/// `config::Freshness`). Never opens a browser; when only a login would help, says so.
pub async fn token(opts: &Options, deps: &Deps<'_>) -> Result<AccessToken> {
    Ok(account(opts, deps, When::Stale).await?.token)
}

/// A test account whose access token can be used now, as the file holds it.
// No `Debug`: its fields and secrets hold tokens as they are.
pub struct Fresh {
    pub token: AccessToken,
    /// Every field of the test account (the connector gets them all).
    pub fields: Map<String, Value>,
    /// The file's top-level `secrets` (the connector gets the plain ones too).
    pub secrets: Map<String, Value>,
    /// Whether new tokens were requested (and saved) to get here.
    pub refreshed: bool,
    /// When the floor after the last refresh ends (see `TestAccount::floor_ends`): the
    /// bookkeeping it is read from is not in `fields`.
    pub floor_ends: Option<std::time::SystemTime>,
    /// The refresh token, or a long-lived access token, is near its end.
    pub refresh_warning: Option<crate::lifetime::Warning>,
    /// Scopes the file added since the account's login, which only a login gets, said.
    pub scope_warning: Option<String>,
}

/// The test account, with new tokens first when `when` holds: `token`, `credentials` and
/// `exec` want a fresh token, the proxy a new one when the connector refused the one it
/// sent, `watch` one ahead of its expiry. Never opens a browser; when only a login would
/// help, says so (exit 5).
pub async fn account(opts: &Options, deps: &Deps<'_>, when: When<'_>) -> Result<Fresh> {
    let project = Project::load(&opts.config)?;
    let (name, terminal) = (&opts.test_account, &*deps.terminal);
    select::test_account(&project, name, NewAccount::Refused, terminal)?;
    // Test accounts are the file's, not an authorization's: a usable token needs no choice,
    // and a script with several authorizations gets it without `-a`.
    if !when.holds(project.account(&opts.test_account), deps.clock.now()) {
        stale_inside_floor(&project, opts, deps);
        return as_stored(&project, opts, deps, false);
    }
    let selected = Chosen::select(&project, opts, deps)?;
    let by_a_person = !selected.1.grant.kind().needs_no_person();
    let chosen = match Chosen::resolve(selected, deps) {
        // A client secret that is not set hides the real next step when nothing could be
        // refreshed anyway: a login, which asks for the secret itself.
        Err(e) if by_a_person => return Err(login_first(&project, opts, deps, &when).unwrap_or(e)),
        chosen => chosen?,
    };
    let target = chosen.target(&project, opts, deps, false)?;
    let ctx = chosen.ctx(&target, opts, deps);
    // Tokens an earlier run set aside are newer than the file's refresh token, which may
    // be spent: presenting it could get the whole grant revoked.
    ctx.recovered().await?;
    let done = if ctx.config.grant.kind().needs_no_person() {
        ctx.unattended(when).await?
    } else {
        ctx.refresh(when)
            .await
            .map_err(|e| refresh::refused(e, opts.login_command(true)).unwrap_or_else(|e| e))?
    };
    // The file as the refresh found it under the lock, or as it saved it.
    let project = match ctx.held.take() {
        Some(held) => held,
        None => Project::load(&opts.config)?,
    };
    let now = deps.clock.now();
    if matches!(done, Done::NothingToRefreshWith)
        && !matches!(when, When::Replacing(_))
        && project
            .account(&opts.test_account)
            .usable_token(Some(now))
            .is_ok()
    {
        // Due for an early refresh, with nothing to refresh with: the token still serves.
        return as_stored(&project, opts, deps, false);
    }
    if matches!(done, Done::NothingToRefreshWith) {
        return Err(nothing_to_refresh_with(&project, opts, deps));
    }
    // Whatever was just saved, even a token the provider gives less than the margin to live.
    as_stored(&project, opts, deps, matches!(done, Done::Refreshed(_)))
}

/// Only a login can help: the token cannot be used, and there is no refresh token.
fn nothing_to_refresh_with(project: &Project, opts: &Options, deps: &Deps<'_>) -> Error {
    let why = match project
        .account(&opts.test_account)
        .usable_token(Some(deps.clock.now()))
    {
        Err(why) => why,
        Ok(_) => "the connector refused it".into(),
    };
    needs_login(opts, format!("{why}, and there is no refresh token"))
}

/// The error a run with every setting in place would end with, when it is sure to be "log
/// in": no refresh token stored or set aside, and no stored token that still serves.
fn login_first(project: &Project, opts: &Options, deps: &Deps<'_>, when: &When) -> Option<Error> {
    let account = project.account(&opts.test_account);
    let serves = account.usable_token(Some(deps.clock.now())).is_ok();
    let set_aside =
        !crate::recovery::find(project.real_path(), &opts.test_account, &*deps.env).is_empty();
    let replacing = matches!(when, When::Replacing(_));
    (account.refresh_token().is_none() && !set_aside && !opts.recover && (replacing || !serves))
        .then(|| nothing_to_refresh_with(project, opts, deps))
}

/// A stale token handed out as it is, because the last refresh was moments ago: said, on
/// stderr, so a script in a loop learns why its token is not renewed.
fn stale_inside_floor(project: &Project, opts: &Options, deps: &Deps<'_>) {
    let account = project.account(&opts.test_account);
    let now = deps.clock.now();
    if account.usable_token(Some(now)).is_ok() || !account.within_floor(now) {
        return;
    }
    let (Some(last), Some(end)) = (account.last_refresh_at(), account.floor_ends()) else {
        return;
    };
    let expires = match account.expires_at() {
        Some(Ok(at)) => format!("it expires {}", crate::clock::rfc3339(at)),
        _ => "its expiry cannot be read".into(),
    };
    deps.terminal.warn(&format!(
        "the token of test account \"{}\" is stale ({expires}), but it was refreshed {}: it \
         is used as it is, and not refreshed again before {} (a provider whose tokens come \
         back expired is not asked again and again)",
        opts.test_account,
        crate::clock::relative(last, now),
        crate::clock::rfc3339(end)
    ));
}

fn as_stored(project: &Project, opts: &Options, deps: &Deps<'_>, refreshed: bool) -> Result<Fresh> {
    let account = project.account(&opts.test_account);
    let token = account
        .usable_token(None)
        .map_err(|why| needs_login(opts, why))?;
    let mut fields = account.fields().cloned().unwrap_or_default();
    // What we recorded is not the connector's business.
    fields.retain(|key, _| !recorded(key));
    Ok(Fresh {
        token,
        fields,
        secrets: project.secrets().cloned().unwrap_or_default(),
        refreshed,
        floor_ends: account.floor_ends(),
        refresh_warning: life::warn(project, opts, deps),
        scope_warning: drift::token_warning(project, opts),
    })
}

/// What integration-cli records in a test account beside the tokens: the last refresh's
/// time, the refresh token's lifetime, who the user is, the scopes the login asked for.
/// One list, so what the connector is never sent and what a logout removes stay the same.
pub(crate) fn recorded(key: &str) -> bool {
    field::BOOKKEEPING.contains(&key)
        || crate::lifetime::field::ALL.contains(&key)
        || crate::identity::field::ALL.contains(&key)
        || key == crate::scopes::REQUESTED
}

fn needs_login(opts: &Options, reason: String) -> Error {
    ProviderError::NeedsLogin {
        test_account: opts.test_account.clone(),
        reason,
        retry: opts.login_command(false),
    }
    .into()
}

/// `token --json`: the token (asked for, so in full) with what a script needs beside it,
/// from the test account as it was read for the token (the file is not read again).
pub fn token_json(opts: &Options, fresh: &Fresh) -> String {
    let value = |k: &str| fresh.fields.get(k).cloned();
    let mut json = serde_json::json!({
        "accessToken": fresh.token.expose(),
        "tokenType": value(field::TOKEN_TYPE).unwrap_or_else(|| "Bearer".into()),
        "expiresAt": value(field::EXPIRES_AT),
        "testAccount": opts.test_account,
    });
    if let Some(warning) = &fresh.refresh_warning {
        json[warning.json_key()] = warning.text().into();
    }
    json.to_string()
}
