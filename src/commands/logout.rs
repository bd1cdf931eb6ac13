//! `integration-cli logout`: revoke a test account's tokens at the provider and remove
//! them from the file, as `gh auth logout` does.

use super::Global;
use super::args::Target;
use super::run::block_on;
use crate::error::{Result, RunError};
use crate::flow::{self, Deps, Logout};
use crate::report;
use crate::ui::{Console, Quiet};

/// Revoke a test account's tokens at the provider and remove them from the file
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Sign a test account out: revoke its refresh token, then its access token, \
        at the provider's revocation endpoint (RFC 7009, with the client authenticated as at \
        the token endpoint, or the provider's own: GitHub, Slack, Dropbox, HubSpot), then \
        remove from the test account everything a token answer and integration-cli put \
        there (tokens, expiry, scope, token type, id_token, the provider's identity and \
        lifetime fields, lastRefreshAt). The authorization's variables and your own fields \
        stay. The endpoint is the authorization's revocationUrl (an integration-cli \
        extension), --revocation-url, or the one known for the provider. A provider with \
        none: the tokens are removed here and the grant still stands there.\n\n\
        When the provider refuses, the tokens are kept and the exit code is 1; --force \
        removes them anyway. At a terminal, signing out compliance (the platform needs it \
        to publish) or --all asks first; --yes does not ask.",
    after_help = "Examples:\n  \
        integration-cli logout\n  \
        integration-cli logout -a github-dev -t compliance --yes\n  \
        # every test account, what was done as JSON\n  \
        integration-cli logout --all --yes --json\n  \
        # remove the tokens even if the provider cannot be reached\n  \
        integration-cli logout --force\n\n\
        Exit codes: 0 signed out (or nothing to sign out), 1 error (the provider refused: \
        the tokens were kept), 2 usage, 130 cancelled.",
    mut_arg("test_account", |a| a.help("The test account to sign out (development, compliance, or one the file has)")),
    mut_arg("authorization", |a| a.help("Which authorization the tokens are from, by name: needed when the file has several (asked at a terminal)"))
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// Sign out every test account of the file
    #[arg(long, conflicts_with = "test_account")]
    pub all: bool,

    /// The revocation endpoint, in place of the authorization's revocationUrl
    ///
    /// An integration-cli extension: a user who also publishes with the platform's tools
    /// can keep it out of .unito.json. Templates ({+subdomain}) are filled from the test
    /// account as for tokenUrl.
    #[arg(long, value_name = "URL", env = "UNITO_REVOCATION_URL")]
    pub revocation_url: Option<String>,

    /// Remove the tokens from the file even when the provider did not revoke them
    #[arg(long)]
    pub force: bool,

    /// Do not ask before signing out compliance or every test account
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print what was done as JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let how = Logout {
            all: self.all,
            revocation_url: self.revocation_url,
            force: self.force,
            yes: self.yes,
        };
        let opts = self.target.options()?;
        let deps = Deps::system();
        let deps = match (global.quiet, self.json) {
            (false, _) => deps,
            (true, false) => deps.with_terminal(Quiet::new(Console::new())),
            (true, true) => deps.with_terminal(Quiet::keeping_results(Console::new())),
        };
        let out = block_on(&deps, flow::logout(&opts, &how, &deps))?;
        deps.terminal
            .result(&report::logout::render(&out, self.json));
        match out.failed() {
            0 => Ok(()),
            failed => Err(RunError::SomeSignOutsFailed { failed }.into()),
        }
    }
}
