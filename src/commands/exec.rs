//! `integration-cli exec -- COMMAND`: a test runner or script run with fresh credentials.

use super::Global;
use super::args::Target;
use super::run::{block_on, runtime};
use crate::credentials;
use crate::error::{Error, Result};
use crate::exec::{ACCESS_TOKEN_VAR, CREDENTIALS_VAR};
use crate::flow::{self, Deps, When};
use crate::ui::{Console, Quiet};

/// Run a command with the test account's credentials in its environment
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Run a command with the test account's credentials in its environment: \
        UNITO_CREDENTIALS holds the X-Unito-Credentials header value (base64 of the JSON of \
        the whole test account) and UNITO_ACCESS_TOKEN the access token, both fresh when the \
        command starts (a stale token is refreshed and saved first, as `token` does, with its \
        5-second floor between refreshes).\n\n\
        The command's exit code is this command's. SIGTERM and SIGHUP are passed on to it, and \
        so is SIGINT sent to this process alone (Ctrl-C at a terminal reaches both already); \
        this process waits for the command to end.",
    after_help = "Examples:\n  \
        integration-cli exec -- npm test\n  \
        integration-cli exec -t compliance -- npm run test:integration\n  \
        integration-cli exec -- sh -c 'curl -H \"X-Unito-Credentials: $UNITO_CREDENTIALS\" http://localhost:9200/me'\n\n\
        Exit codes: the command's own (128 + N when signal N ended it); before it starts: 1 \
        error, 2 usage, 5 a browser login is needed (run integration-cli oauth2)."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

impl Args {
    pub fn exec(self, _: Global) -> Result<()> {
        let opts = self.target.options();
        let deps = Deps::system().with_terminal(Quiet::new(Console::new()));
        let fresh = block_on(&deps, flow::account(&opts, &deps, When::Stale))?;
        let value = credentials::encode(&opts.test_account, &fresh.fields)?;
        let env = [
            (CREDENTIALS_VAR, value.as_str()),
            (ACCESS_TOKEN_VAR, fresh.token.expose()),
        ];
        match runtime()?.block_on(crate::exec::run(&self.command, &env))? {
            0 => Ok(()),
            code => Err(Error::CommandExited { code }),
        }
    }
}
