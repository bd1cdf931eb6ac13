//! What the user can type: clap definitions and help text, and their translation into each
//! command's options. Nothing here does the work.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "integration-cli",
    version,
    about = "Get real OAuth 2.0 tokens for a connector's test accounts, and keep them fresh",
    long_about = "Get real OAuth 2.0 tokens for a connector's test accounts, and keep them fresh.\n\n\
        Reads the authorizations in your project's .unito.json, logs in through the provider's \
        consent page (authorization code + PKCE, callback on the loopback address) and writes the tokens into \
        a test account, touching nothing else in the file.",
    after_help = "Examples:\n  \
        integration-cli oauth2                 log in, or refresh if a refresh token is stored\n  \
        integration-cli oauth2 --reauth        log in again\n  \
        integration-cli token                  print the access token, refreshed if needed\n  \
        integration-cli help oauth2            every flag of the oauth2 command\n\n\
        Exit codes: 0 ok, 1 error, 2 usage, 3 the provider refused (e.g. access_denied), \
        4 timed out waiting for the browser, 5 a browser login is needed, 130 cancelled.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log each step (HTTP requests, callbacks, file writes) to stderr; values that could be
    /// secrets are never logged
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print nothing but errors (and what a command exists to print, such as the token)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in (or refresh) and save tokens into a test account
    #[command(
        long_about = "Fill a test account with OAuth 2.0 tokens.\n\n\
            If the test account already holds a refresh token, the access token is refreshed without \
            a browser. Otherwise (or with --reauth) the browser is sent to the provider's consent \
            page, and the tokens are saved when the provider redirects back to \
            http://127.0.0.1:PORT/callback. Authorizations with grantType client_credentials get \
            their token straight from the token endpoint.",
        after_help = "Examples:\n  \
            integration-cli oauth2                        log in, or refresh if a refresh token is stored\n  \
            integration-cli oauth2 --reauth               log in again, ignoring stored tokens\n  \
            integration-cli oauth2 -t compliance          fill the compliance test account\n  \
            integration-cli oauth2 -a github-dev          use the authorization named github-dev\n  \
            OAUTH2_PORT=8080 integration-cli oauth2       receive the callback on port 8080\n  \
            integration-cli oauth2 --tunnel               receive it through a public ngrok tunnel\n  \
            integration-cli oauth2 --no-browser           print the login URL instead of opening it\n  \
            integration-cli oauth2 --recover              save tokens a failed save set aside\n\n\
            Environment:\n  \
            OAUTH2_PORT           callback port when --port is not given (default 9002)\n  \
            UNITO_CLIENT_SECRET   client secret to use instead of the file's clientSecret\n  \
            BROWSER               program that opens the login URL (default: the desktop's browser)\n  \
            NGROK_AUTHTOKEN       ngrok authtoken, for --tunnel\n  \
            NGROK_DOMAIN          reserved ngrok domain, for --tunnel (as --tunnel-domain)\n\n\
            Exit codes: 0 ok, 1 error, 2 usage, 3 the provider refused (e.g. access_denied), \
            4 timed out waiting for the browser, 5 a browser login is needed (refresh token \
            refused with --no-browser and no terminal), 130 cancelled."
    )]
    Oauth2(Oauth2Args),

    /// Print a test account's access token, refreshed first if it has expired
    #[command(
        long_about = "Print the access token of a test account on stdout, and nothing else, \
            so that scripts can use it.\n\n\
            A token that has expired, or expires within 60 seconds, is first refreshed with the \
            stored refresh token (client_credentials authorizations request a new one) and saved. \
            This never opens a browser: when only a login would help, nothing is printed on \
            stdout, the reason goes to stderr and the exit code is 5.",
        after_help = "Examples:\n  \
            curl -H \"Authorization: Bearer $(integration-cli token)\" https://api.example.com/me\n  \
            integration-cli token -t compliance -a github-dev\n  \
            integration-cli token || integration-cli oauth2     log in when no token can be had\n\n\
            Exit codes: 0 ok (the token is on stdout), 1 error, 2 usage, 5 a browser login is \
            needed (run integration-cli oauth2), 130 cancelled."
    )]
    Token(TokenArgs),

    /// Run a local OAuth 2.0 server to develop against, offline
    #[command(
        long_about = "Run a small OAuth 2.0 authorization server on 127.0.0.1, for developing \
            and testing without a provider account or a network.\n\n\
            It has a consent page with Approve and Deny, a token endpoint (authorization code with \
            PKCE S256, refresh with rotation, client credentials) and a userinfo endpoint, and it \
            checks what a real server checks: the client secret, PKCE, the redirect URI, single-use \
            codes. It prints an authorization to paste into .unito.json. Ctrl-C stops it.",
        after_help = "Examples:\n  \
            integration-cli sandbox                 serve on http://127.0.0.1:9010\n  \
            integration-cli sandbox --port 0        serve on a free port"
    )]
    Sandbox(SandboxArgs),

    /// Watch a whole login, refresh and token run against a built-in sandbox
    #[command(
        long_about = "Start the sandbox server in this process, write a throw-away .unito.json \
            pointing at it (in a temporary folder, or --dir), and run the real oauth2 flow \
            against it: a login, a refresh, then token. Needs no account and no network.\n\n\
            With a display the consent page opens in your browser; with --headless (the default \
            when there is no display) the demo presses Approve itself over plain HTTP.",
        after_help = "Examples:\n  \
            integration-cli demo                    run it (in the browser when there is a display)\n  \
            integration-cli demo --headless         approve by itself\n  \
            integration-cli demo --dir ./demo       keep the demo's .unito.json in ./demo"
    )]
    Demo(DemoArgs),

    /// Start a .unito.json, from a provider preset or your own URLs
    #[command(
        long_about = "Write a first .unito.json: one authorization, from a preset with the \
            provider's real endpoints or from URLs you give, and empty development and \
            compliance test accounts.\n\n\
            What flags do not say is asked when there is a terminal; without one, the client id \
            (and the URLs, without a preset) must be given. The client secret is never written: \
            the file reads it from an environment variable at run time. An existing file is left \
            alone unless --force. When a .gitignore sits beside the file, .unito.json is added \
            to it.",
        after_help = "Presets: github, google, microsoft, atlassian, slack, salesforce, sandbox, custom.\n\n\
            Examples:\n  \
            integration-cli init                                         answer the questions\n  \
            integration-cli init --preset github --client-id Iv1.abc     GitHub, secret from $GITHUB_CLIENT_SECRET\n  \
            integration-cli init --preset custom --client-id my-id \\\n    \
            --authorization-url https://p.example/oauth/authorize --token-url https://p.example/oauth/token"
    )]
    Init(InitArgs),

    /// Show each test account's tokens (masked) and what the next run would do
    #[command(
        long_about = "Show, for each OAuth 2.0 authorization, what every test account holds: \
            its access token (masked), when it expires, its scopes, whether a refresh token is \
            stored, and what the next oauth2 and token runs would do with it. Reads the file \
            only: no network, no changes.",
        after_help = "Examples:\n  \
            integration-cli status\n  \
            integration-cli status --json | jq '.authorizations[0].testAccounts'"
    )]
    Status(StatusArgs),

    /// Print a shell completion script
    #[command(after_help = "Examples:\n  \
            integration-cli completions bash > ~/.local/share/bash-completion/completions/integration-cli\n  \
            integration-cli completions zsh > \"${fpath[1]}/_integration-cli\"\n  \
            integration-cli completions fish > ~/.config/fish/completions/integration-cli.fish")]
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The project file to read
    #[arg(
        long,
        visible_alias = "config-path",
        value_name = "PATH",
        default_value = ".unito.json",
        env = "UNITO_CONFIG"
    )]
    pub config: PathBuf,

    /// Only this authorization
    #[arg(long, short = 'a', value_name = "NAME", env = "UNITO_AUTHORIZATION")]
    pub authorization: Option<String>,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The file to write
    #[arg(
        long,
        value_name = "PATH",
        default_value = ".unito.json",
        env = "UNITO_CONFIG"
    )]
    pub config: PathBuf,

    /// Provider preset
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(
        ["github", "google", "microsoft", "atlassian", "slack", "salesforce", "sandbox", "custom"]
    ))]
    pub preset: Option<String>,

    /// The connector's name (default: the folder's name)
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,

    /// The authorization's name (default: the preset's, or oauth2)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The OAuth client id
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Environment variable that will hold the client secret (default: NAME_CLIENT_SECRET)
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,

    /// The provider's authorization endpoint (default: the preset's)
    #[arg(long, value_name = "URL")]
    pub authorization_url: Option<String>,

    /// The provider's token endpoint (default: the preset's)
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,

    /// authorization_code (default) or client_credentials
    #[arg(long, value_name = "GRANT")]
    pub grant_type: Option<String>,

    /// Space-separated scopes (default: the preset's)
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,

    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1; 0 picks a free one
    #[arg(long, value_name = "PORT", default_value_t = crate::sandbox::DEFAULT_PORT)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's .unito.json (default: a new temporary folder, kept)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Approve on the consent page without a browser (default when there is no display)
    #[arg(long, conflicts_with = "browser")]
    pub headless: bool,

    /// Open the consent page in the browser even without a detected display
    #[arg(long)]
    pub browser: bool,

    /// Replace a .unito.json already in --dir
    #[arg(long)]
    pub force: bool,
}

/// Which file, authorization and test account a command works on.
#[derive(Debug, Args)]
pub struct Target {
    /// The project file to read and update
    #[arg(
        long,
        visible_alias = "config-path",
        value_name = "PATH",
        default_value = ".unito.json",
        env = "UNITO_CONFIG"
    )]
    pub config: PathBuf,

    /// Which authorization to use; asked interactively when there are several
    #[arg(long, short = 'a', value_name = "NAME", env = "UNITO_AUTHORIZATION")]
    pub authorization: Option<String>,

    /// The test account to use (development, compliance, or any name)
    #[arg(
        long,
        short = 't',
        value_name = "NAME",
        default_value = "development",
        env = "UNITO_TEST_ACCOUNT"
    )]
    pub test_account: String,

    /// Seconds to wait for the token endpoint to answer
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_timeout: u64,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub target: Target,

    /// Print {"accessToken", "tokenType", "expiresAt", "testAccount"} instead of the bare token
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Oauth2Args {
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

    /// Seconds to wait for ngrok to open the tunnel
    #[arg(long, value_name = "SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tunnel_timeout: u64,
}

impl Target {
    /// Options for a run that never opens a browser or a callback server.
    pub fn options(self) -> crate::flow::Options {
        crate::flow::Options {
            config: self.config,
            authorization: self.authorization,
            test_account: self.test_account,
            port: None,
            open_browser: false,
            callback_timeout: Duration::from_secs(300),
            token_timeout: Duration::from_secs(self.token_timeout),
            reauth: false,
            tunnel: false,
            tunnel_domain: None,
            json: false,
            paste: false,
            recover: false,
        }
    }
}

impl Oauth2Args {
    /// `OAUTH2_PORT` is read here, not by clap, so that an error can say which of the two
    /// gave a bad value.
    pub fn options(
        self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> crate::error::Result<crate::flow::Options> {
        let port = match (
            self.port,
            env("OAUTH2_PORT").filter(|v| !v.trim().is_empty()),
        ) {
            (Some(value), _) => Some((parse_port(&value, "--port")?, "--port")),
            (None, Some(value)) => Some((parse_port(&value, "OAUTH2_PORT")?, "OAUTH2_PORT")),
            (None, None) => None,
        };
        Ok(crate::flow::Options {
            port,
            open_browser: !self.no_browser,
            callback_timeout: Duration::from_secs(self.timeout),
            reauth: self.reauth,
            tunnel: self.tunnel,
            tunnel_domain: self.tunnel_domain.filter(|d| !d.trim().is_empty()),
            json: self.json,
            paste: self.paste,
            recover: self.recover,
            ..self.target.options()
        })
    }
}

fn parse_port(value: &str, origin: &'static str) -> crate::error::Result<u16> {
    value
        .trim()
        .parse()
        .map_err(|_| crate::error::Error::InvalidPort {
            value: value.into(),
            origin,
        })
}

impl InitArgs {
    pub fn options(self) -> crate::init::InitOptions {
        crate::init::InitOptions {
            config: self.config,
            preset: self.preset,
            connector: self.connector,
            name: self.name,
            client_id: self.client_id,
            client_secret_env: self.client_secret_env,
            authorization_url: self.authorization_url,
            token_url: self.token_url,
            grant_type: self.grant_type,
            scopes: self.scopes,
            force: self.force,
        }
    }
}
