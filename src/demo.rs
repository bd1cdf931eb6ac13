//! `integration-cli demo`: the whole story on one machine, no account, no network. The
//! sandbox runs in this process; a throw-away `.unito.json` points at it; then the real
//! `oauth2` flow runs (a login, then a refresh) and `token` reads the result, through exactly
//! the code paths a real provider gets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::error::{Error, NetworkError, Result, UserError};
use crate::flow::{self, Deps, Options};
use crate::report;
use crate::sandbox::{self, Sandbox};
use crate::secret::AccessToken;

pub struct DemoOptions {
    /// Where to write `.unito.json` (never removed); a new temporary folder otherwise.
    pub dir: Option<PathBuf>,
    /// Keep the temporary folder afterwards, for a look at the file.
    pub keep: bool,
    /// Approve on the consent page over plain HTTP instead of opening a browser.
    pub headless: bool,
    /// Overwrite a `.unito.json` already in `dir`.
    pub force: bool,
    /// The sandbox's persona (the plain one, or a provider's stand-in) and its options.
    pub persona: sandbox::ChosenPersona,
}

/// Plays the user on the sandbox's consent page with plain HTTP: fetch the page, press
/// Approve, follow the redirect to the callback. It runs beside the flow on its runtime.
pub struct HeadlessApprover;

impl Browser for HeadlessApprover {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        let url = url.to_string();
        let handle = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
        handle.spawn(async move {
            if let Err(why) = approve(&url).await {
                give_up(&url, &why).await;
            }
        });
        Ok(())
    }
}

/// The demo's browser when there is a display: the real one, or, if it cannot be opened,
/// the headless approver, so the demo never sits waiting for a window that will not come.
pub struct BrowserOrHeadless<B>(pub B);

impl<B: Browser> Browser for BrowserOrHeadless<B> {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        self.0.open(url).or_else(|why| {
            crate::ui::to_stderr(&format!(
                "{why}; approving without a browser instead (as --headless does)."
            ));
            HeadlessApprover.open(url)
        })
    }
}

/// Ends the waiting login with an error callback (it carries the login's own state, so the
/// flow takes it) instead of leaving it to time out.
async fn give_up(authorize_url: &str, why: &str) {
    let Ok(url) = url::Url::parse(authorize_url) else {
        return;
    };
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let (Some(redirect), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return;
    };
    let Ok(mut callback) = url::Url::parse(redirect) else {
        return;
    };
    callback
        .query_pairs_mut()
        .append_pair("error", "temporarily_unavailable")
        .append_pair(
            "error_description",
            &format!("the demo could not approve by itself: {why}"),
        )
        .append_pair("state", state);
    if let Ok(http) = crate::http::client(callback.as_str(), Duration::from_secs(10)) {
        let _ = http.get(callback).send().await;
    }
}

async fn approve(url: &str) -> std::result::Result<(), String> {
    // reqwest's errors quote their URL, and these URLs carry the state and, on the last
    // request, the code: the text must not, since it ends up on the terminal.
    let quiet = |e: reqwest::Error| e.without_url().to_string();
    let http = crate::http::client(url, Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let page = http
        .get(url)
        .send()
        .await
        .map_err(quiet)?
        .text()
        .await
        .map_err(quiet)?;
    let consent = page
        .split("name=\"consent\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no consent form on the page")?;
    let base = url::Url::parse(url).map_err(|e| e.to_string())?;
    let decided = http
        .post(
            base.join("/authorize/decision")
                .map_err(|e| e.to_string())?,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("consent={consent}&decision=approve"))
        .send()
        .await
        .map_err(quiet)?;
    let callback = decided
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or("the sandbox did not redirect")?
        .to_string();
    http.get(callback).send().await.map_err(quiet)?;
    Ok(())
}

/// Whether this machine can show a browser: on Linux and the BSDs, only with a display.
pub fn display_available() -> bool {
    crate::browser::desktop(&|name| std::env::var(name).ok())
}

pub async fn run(opts: &DemoOptions, deps: &Deps<'_>) -> Result<()> {
    let term = &*deps.terminal;
    let sandbox = start_sandbox(opts, term).await?;

    // Removed when the demo ends, whichever way, unless kept.
    let (config, _folder) = write_project(opts, &sandbox)?;
    term.say(&format!("Wrote {} for it.", config.display()));

    let vars = tenant(&sandbox, term);
    let options = Options {
        config: config.clone(),
        port: Some((0, "--port")),
        vars,
        // Headless, the approval takes milliseconds; a person gets the usual five minutes.
        callback_timeout: Duration::from_secs(if opts.headless { 60 } else { 300 }),
        ..Options::default()
    };

    term.say(&format!(
        "\nStep 1 of 3: log in (authorization code with PKCE).{}",
        if opts.headless {
            " Approving on the consent page by itself (--headless)."
        } else {
            " Press Approve in the browser."
        }
    ));
    let done = flow::oauth2(&options, deps).await?;
    term.result(&report::outcome::text(&done, deps.clock.now()));
    // From here on the value is the test account's own.
    let options = Options {
        vars: Vec::new(),
        ..options
    };

    term.say(
        "\nStep 2 of 3: run it again, no browser: the stored refresh token gets a new access token \
         (a token that came without one is kept while it is valid).",
    );
    let done = flow::oauth2(&options, deps).await?;
    term.result(&report::outcome::text(&done, deps.clock.now()));

    term.say("\nStep 3 of 3: `integration-cli token` hands the access token to a script; the sandbox's userinfo accepts it:");
    let token = flow::token(&options, deps).await?;
    let who = userinfo(&sandbox.url, &token).await?;
    term.result(&format!("  userinfo says: {who}"));

    term.result(&closing(opts, &config, &command_name()));
    Ok(())
}

/// What to look at next, in a command that runs here (the binary may not be on `PATH`
/// after `cargo run`).
fn closing(opts: &DemoOptions, config: &Path, bin: &str) -> String {
    let look = match opts.dir.is_some() || opts.keep {
        true => format!(
            "Look at {} (the development test account), or run:\n  {bin} status --config {}",
            config.display(),
            crate::redact::printable(&config.to_string_lossy())
        ),
        false => {
            "Its temporary folder is removed (--keep keeps it, for a look at the file).".into()
        }
    };
    format!(
        "\nDone. {look}\nThe sandbox stopped with the demo; `{bin} sandbox` serves one for as long \
         as you like, and `{bin} init` starts a .unito.json for a real provider."
    )
}

/// `integration-cli` when a program of that name is on `PATH`, else this binary's path.
fn command_name() -> String {
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("integration-cli").is_file())
    });
    let exe = std::env::current_exe().ok().filter(|_| !on_path);
    let Some(exe) = exe else {
        return "integration-cli".into();
    };
    let here = std::env::current_dir().ok();
    let shown = match here.as_deref().and_then(|h| exe.strip_prefix(h).ok()) {
        Some(inside) => Path::new(".").join(inside),
        None => exe,
    };
    crate::redact::printable(&shown.to_string_lossy())
}

/// The sandbox on a free port, as the persona asked for, said to the user.
async fn start_sandbox(opts: &DemoOptions, term: &dyn crate::ui::Terminal) -> Result<Sandbox> {
    let sandbox = Sandbox::start_as(sandbox::Options {
        port: 0,
        persona: opts.persona.clone(),
        ..sandbox::Options::default()
    })
    .await?;
    let behaving = match sandbox.provider() {
        None => String::new(),
        Some(_) => format!(", behaving as {}", sandbox.persona()),
    };
    term.say(&format!(
        "The sandbox OAuth 2.0 server is running at {}{behaving}.",
        sandbox.url
    ));
    Ok(sandbox)
}

/// A per-tenant stand-in's URLs are templates: the first login is told which tenant, as
/// `--var subdomain=acme` tells it, and the value is saved with the tokens.
fn tenant(sandbox: &Sandbox, term: &dyn crate::ui::Terminal) -> Vec<(String, String)> {
    let vars = sandbox.tenant_values();
    if let Some((name, value)) = vars.first() {
        term.say(&format!(
            "Its URLs are templates filled from the test account: the first login is given \
             {name}={value}, as --var {name}={value} would."
        ));
    }
    vars
}

/// The demo's `.unito.json`, pointing at `sandbox`, in `--dir` or a new temporary folder,
/// with the folder's guard when it is to be removed at the end (not `--keep`).
fn write_project(
    opts: &DemoOptions,
    sandbox: &Sandbox,
) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    let (dir, guard) = match &opts.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            (dir.clone(), None)
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("integration-cli-demo-")
                .tempdir()
                .map_err(|e| Error::io("create", Path::new("a temporary folder"), e))?;
            match opts.keep {
                true => (temp.keep(), None),
                false => (temp.path().to_path_buf(), Some(temp)),
            }
        }
    };
    let config = dir.join(".unito.json");
    if config.exists() && !opts.force {
        return Err(UserError::DemoWouldOverwrite { path: config }.into());
    }
    let file = json!({
        "name": "demo-connector",
        "authorizations": [sandbox.authorization(sandbox.persona())],
        "testAccounts": {"development": {}, "compliance": {}}
    });
    let text = serde_json::to_string_pretty(&file).expect("JSON") + "\n";
    crate::project::write_atomic(&config, &text).map_err(|e| Error::io("write", &config, e))?;
    Ok((config, guard))
}

async fn userinfo(base: &str, token: &AccessToken) -> Result<String> {
    let url = format!("{base}/userinfo");
    let failed = |detail: String| NetworkError::Unreachable {
        url: url.clone(),
        detail,
    };
    let response = crate::http::client(&url, Duration::from_secs(30))?
        .get(&url)
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("answered {}", response.status())).into());
    }
    response
        .text()
        .await
        .map_err(|e| failed(e.to_string()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_approval_says_why_without_quoting_the_url_it_carried() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let why = rt
            .block_on(approve(
                "http://127.0.0.1:1/authorize?state=fake-state-0001&code=fake-code-0001",
            ))
            .unwrap_err();
        assert!(!why.contains("fake-"), "{why}");
        assert!(why.contains("error sending request"), "{why}");
    }
}
