//! `integration-cli oauth2`: log in, or refresh, and save the tokens into a test account.

use std::time::Duration;

use super::Global;
use super::args::{Target, parse_var};
use super::run::block_on;
use crate::error::{Result, UserError};
use crate::flow::{self, Deps, NewAccount, Options};
use crate::report;
use crate::secret::NgrokAuthtoken;
use crate::tunnel::Ngrok;
use crate::ui::{Console, Quiet};

/// Log in (or refresh) and save tokens into a test account
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Fill a test account with OAuth 2.0 tokens.\n\n\
        If the test account already holds a refresh token, the access token is refreshed without \
        a browser. Otherwise (or with --reauth) the browser is sent to the provider's consent \
        page, and the tokens are saved when the provider redirects back to \
        http://127.0.0.1:PORT/callback. Authorizations with grantType client_credentials or \
        urn:ietf:params:oauth:grant-type:jwt-bearer get their token straight from the token \
        endpoint; with grantType password, the username (--username or UNITO_USERNAME) and \
        password (UNITO_PASSWORD, or a hidden prompt) are sent instead of a browser login.",
    after_help = "Examples:\n  \
        # log in, or refresh if a refresh token is stored\n  \
        integration-cli oauth2\n  \
        # log in again, ignoring stored tokens\n  \
        integration-cli oauth2 --reauth\n  \
        # fill the compliance test account\n  \
        integration-cli oauth2 -t compliance\n  \
        # use the authorization named github-dev\n  \
        integration-cli oauth2 -a github-dev\n  \
        # receive the callback on port 8080\n  \
        OAUTH2_PORT=8080 integration-cli oauth2\n  \
        # receive it through a public ngrok tunnel\n  \
        integration-cli oauth2 --tunnel\n  \
        # print the login URL instead of opening it\n  \
        integration-cli oauth2 --no-browser\n  \
        # save tokens a failed save set aside\n  \
        integration-cli oauth2 --recover\n  \
        # fill a per-tenant authorization's variable\n  \
        integration-cli oauth2 --var subdomain=acme\n\n\
        Environment:\n  \
        OAUTH2_PORT           callback port when --port is not given (default 9002)\n  \
        UNITO_CLIENT_SECRET   client secret to use instead of the file's clientSecret\n  \
        UNITO_USERNAME        the username, for grantType password (as --username)\n  \
        UNITO_PASSWORD        the password, for grantType password (else a hidden prompt)\n  \
        BROWSER               program that opens the login URL (default: the desktop's browser)\n  \
        NGROK_AUTHTOKEN       ngrok authtoken, for --tunnel\n  \
        NGROK_DOMAIN          reserved ngrok domain, for --tunnel (as --tunnel-domain)\n\n\
        Exit codes: 0 ok, 1 error, 2 usage, 3 the provider refused (e.g. access_denied), \
        4 timed out waiting for the browser, 5 a browser login is needed (refresh token \
        refused with --no-browser and no terminal), 129 SIGHUP, 130 cancelled, 143 SIGTERM."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// Port of the loopback callback server; 0 picks a free one
    ///
    /// 0 suits providers that accept any loopback port. A loopback redirectUrl in the
    /// authorization fixes the port itself.
    ///
    /// [env: OAUTH2_PORT]
    /// [default: 9002]
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,

    /// Print the login URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,

    /// Seconds to wait for the browser to come back from the provider
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Log in again even if a refresh token is stored
    #[arg(long)]
    pub reauth: bool,

    /// Make the test account if the file does not have it yet (development and compliance
    /// need no --new)
    ///
    /// Without it, a name the file does not have is refused with the names it has (a
    /// mistyped -t must not start a login), or, at a terminal, made once you confirm.
    #[arg(long, conflicts_with = "all")]
    pub new: bool,

    /// Receive the callback through a public ngrok tunnel (needs NGROK_AUTHTOKEN)
    ///
    /// For providers that accept only an HTTPS redirect URL registered in advance. The
    /// redirect URL becomes https://<tunnel>/callback; register it with the provider. An
    /// authorization can ask for this itself with "tunnel": true.
    #[arg(long)]
    pub tunnel: bool,

    /// The ngrok domain reserved for the tunnel, so the registered redirect URL stays the same
    #[arg(long, value_name = "DOMAIN", env = "NGROK_DOMAIN")]
    pub tunnel_domain: Option<String>,

    /// Print the result as one JSON object (tokens masked); errors too, on stdout
    #[arg(long)]
    pub json: bool,

    /// Refresh (or request again) every test account that needs no browser, in parallel
    #[arg(long, conflicts_with_all = ["reauth", "paste", "tunnel", "json"])]
    pub all: bool,

    /// Start no callback server: paste the address the browser was sent to (or the code)
    ///
    /// For SSH sessions, containers and cloud IDEs, where the browser runs elsewhere and
    /// cannot reach this machine. Without a terminal, one line is read from stdin.
    #[arg(long, conflicts_with = "tunnel")]
    pub paste: bool,

    /// Put the tokens an earlier run could not save (a full disk, say) into the file
    ///
    /// When a save fails after the provider answered, the new tokens are written to a
    /// recovery file (mode 0600) in $XDG_STATE_HOME/integration-cli/recovery (or
    /// ~/.local/state/…), beside .unito.json, or in the temporary folder, and the error says
    /// where. At a terminal the next run offers to take them; this takes them without asking.
    #[arg(long, conflicts_with_all = ["all", "paste", "tunnel"])]
    pub recover: bool,

    /// The resource owner's username, for grantType password (or UNITO_USERNAME)
    ///
    /// The password comes from UNITO_PASSWORD or a hidden prompt, never from a flag, and is
    /// never stored.
    #[arg(long, value_name = "NAME", env = "UNITO_USERNAME")]
    pub username: Option<String>,

    /// A value for one of the authorization's variables (repeatable), such as a tenant's
    /// subdomain for a templated URL (`https://{+subdomain}.zendesk.com/...`)
    ///
    /// Checked as the variable's declaration says, and saved into the test account with the
    /// tokens. What the test account lacks is asked for at a terminal; without one, each
    /// missing value is named (exit 2). Changing a value the URLs use gets new tokens, as
    /// --reauth does: the stored ones belong to the old tenant.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var,
          conflicts_with = "all")]
    pub vars: Vec<(String, String)>,

    /// Seconds to wait for ngrok to open the tunnel
    #[arg(long, value_name = "SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tunnel_timeout: u64,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let env = |name: &str| std::env::var(name).ok();
        let (all, quiet) = (self.all, global.quiet);
        let tunnel = Ngrok {
            authtoken: env("NGROK_AUTHTOKEN").map(NgrokAuthtoken::new),
            server_addr: env("NGROK_SERVER_ADDR").filter(|a| !a.trim().is_empty()),
            connect_timeout: Duration::from_secs(self.tunnel_timeout),
        };
        let opts = Options {
            quiet,
            ..self.options(&env)?
        };
        let deps = Deps::system().with_tunnel(tunnel);
        let deps = match (quiet, opts.json) {
            (false, _) => deps,
            (true, false) => deps.with_terminal(Quiet::new(Console::new())),
            // `-q --json`: the JSON asked for is still printed.
            (true, true) => deps.with_terminal(Quiet::keeping_results(Console::new())),
        };
        if all {
            let outcome = block_on(&deps, flow::refresh_all(&opts, &deps))?;
            deps.terminal.result(&report::outcome::all(&outcome));
            outcome.verdict()
        } else {
            let outcome = block_on(&deps, flow::oauth2(&opts, &deps))?;
            let now = deps.clock.now();
            let said = report::outcome::render(&outcome, opts.json, now);
            deps.terminal.result(&said);
            Ok(())
        }
    }

    /// `OAUTH2_PORT` is read here, not by clap, so that an error can say which of the two
    /// gave a bad value.
    fn options(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Options> {
        let port = match (
            self.port,
            env("OAUTH2_PORT").filter(|v| !v.trim().is_empty()),
        ) {
            (Some(value), _) => Some((parse_port(&value, "--port")?, "--port")),
            (None, Some(value)) => Some((parse_port(&value, "OAUTH2_PORT")?, "OAUTH2_PORT")),
            (None, None) => None,
        };
        let target = self.target.options()?;
        let new_account = match self.new {
            true => NewAccount::Wanted,
            false => NewAccount::Confirmed {
                from_env: env("UNITO_TEST_ACCOUNT").as_deref() == Some(&target.test_account),
            },
        };
        Ok(Options {
            port,
            new_account,
            open_browser: !self.no_browser,
            callback_timeout: Duration::from_secs(self.timeout),
            reauth: self.reauth,
            tunnel: self.tunnel,
            tunnel_domain: self.tunnel_domain.filter(|d| !d.trim().is_empty()),
            json: self.json,
            paste: self.paste,
            recover: self.recover,
            username: crate::flow::UsernameSource::given(self.username),
            vars: self.vars,
            ..target
        })
    }
}

fn parse_port(value: &str, origin: &'static str) -> Result<u16> {
    value.trim().parse().map_err(|_| {
        UserError::InvalidPort {
            value: value.into(),
            origin,
        }
        .into()
    })
}
