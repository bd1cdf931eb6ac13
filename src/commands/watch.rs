//! `integration-cli watch`: keep every test account fresh in the file, for tools that read
//! it themselves.

use std::time::Duration;

use super::Global;
use super::args::{AuthorizationArg, FileArg, TrustArg};
use super::run::block_on;
use crate::error::{Error, Result, RunError};
use crate::flow::{self, Deps, Options};
use crate::ui::{Console, Quiet};

/// Keep every test account's token fresh in .unito.json until stopped
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Keep the tokens in .unito.json fresh, for tools that read the file \
        themselves (the platform's dev and test commands): every test account that can be \
        refreshed without a browser (a refresh token, or client credentials) is refreshed \
        ahead of its expiry, at twice the margin the other commands use (60 s, or a quarter \
        of a short token's lifetime), so `token` and those tools never need a refresh of \
        their own. Each refresh runs under the file lock and is saved as oauth2 saves it.\n\n\
        One line per refresh on stdout. Network errors, and new tokens that come back \
        already expired, are tried again with backoff (5 s doubling to 5 minutes, jittered; \
        never within 5 s of the last refresh); an \
        account whose refresh token is refused is said once and left alone until the file \
        changes (an oauth2 --reauth in another terminal); an account with no refresh token \
        is said once. Runs until Ctrl-C or SIGTERM (a refresh in flight is let finish).",
    after_help = "Examples:\n  \
        # every test account, with the only authorization\n  \
        integration-cli watch\n  \
        # with this authorization's token endpoint\n  \
        integration-cli watch -a hubspot-dev\n\n\
        Test accounts do not record which authorization filled them: with several \
        authorizations, name the one whose tokens they hold (-a).\n\n\
        Exit codes: 0 once stopped; 1 error (a file that cannot be read), 2 usage."
)]
pub struct Args {
    #[command(flatten)]
    pub file: FileArg,

    #[command(flatten)]
    pub authorization: AuthorizationArg,

    /// Seconds to wait for the token endpoint to answer
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_timeout: u64,

    #[command(flatten)]
    pub trust: TrustArg,

    /// Refresh each test account whose refresh token dies when unused (Microsoft's 90 days,
    /// Atlassian's, a sliding refreshTokenLifetime) once half its window has passed, so it
    /// never lapses while the watch runs
    #[arg(long)]
    pub keep_alive: bool,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let opts = Options {
            config: self.file.path()?,
            authorization: self.authorization.authorization,
            token_timeout: Duration::from_secs(self.token_timeout),
            open_browser: false,
            allow_key_outside: self.trust.allow_key_outside,
            allow_env: self.trust.allow_env,
            quiet: global.quiet,
            keep_alive: self.keep_alive,
            ..Options::default()
        };
        // The flow's summaries would say each refresh at length: one line each instead.
        let deps = Deps::system().with_terminal(Quiet::new(Console::new()));
        if !global.quiet {
            crate::ui::to_stderr(&format!(
                "Keeping the test accounts in {} fresh; Ctrl-C to stop.",
                opts.config.display()
            ));
        }
        let say = |line: &str| crate::ui::to_stdout(line);
        match block_on(&deps, flow::watch(&opts, &deps, &say)) {
            // Stopping is how a watch ends.
            Err(Error::Interrupted | Error::Run(RunError::Stopped { .. })) => Ok(()),
            other => other,
        }
    }
}
