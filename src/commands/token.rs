//! `integration-cli token`: the access token alone on stdout, for scripts.

use super::Global;
use super::args::Target;
use super::run::{block_on, write_stdout};
use crate::error::Result;
use crate::flow::{self, Deps, When};
use crate::ui::{Console, Quiet};

/// Print a test account's access token, refreshed first if it has expired
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the access token of a test account on stdout, and nothing else, \
        so that scripts can use it.\n\n\
        A token that has expired, or expires within its margin (60 seconds, or a quarter of \
        its lifetime when that is shorter), is first refreshed with the stored refresh token \
        (client_credentials authorizations request a new one) and saved. \
        No test account is refreshed again within 5 seconds of its last refresh (the time is \
        kept in the file as lastRefreshAt): a token that came back already expired is then \
        printed as it is, exit 0, with a warning on stderr, so a script in a loop cannot \
        storm the provider. \
        This never opens a browser: when only a login would help, nothing is printed on \
        stdout, the reason goes to stderr and the exit code is 5.",
    after_help = "Examples:\n  \
        curl -H \"Authorization: Bearer $(integration-cli token)\" \\\n    \
        https://api.example.com/me\n  \
        integration-cli token -t compliance -a github-dev\n  \
        # log in when no token can be had\n  \
        integration-cli token || integration-cli oauth2\n\n\
        Exit codes: 0 ok (the token is on stdout), 1 error, 2 usage, 5 a browser login is \
        needed (run integration-cli oauth2), 130 cancelled."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// Print {"accessToken", "tokenType", "expiresAt", "testAccount"} instead of the bare token
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let opts = flow::Options {
            quiet: global.quiet,
            ..self.target.options()?
        };
        // stdout is the token: progress would be in the way of `$(…)`.
        let deps = Deps::system().with_terminal(Quiet::new(Console::new()));
        let fresh = block_on(&deps, flow::account(&opts, &deps, When::Stale))?;
        if let Some(warning) = &fresh.scope_warning {
            deps.terminal.warn(warning);
        }
        // The one place a token is printed: the user asked for exactly this value.
        if self.json {
            write_stdout(&flow::token_json(&opts, &fresh))
        } else {
            write_stdout(fresh.token.expose())
        }
    }
}
