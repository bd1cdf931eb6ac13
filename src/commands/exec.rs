//! `integration-cli exec -- COMMAND`: a test runner or script run with fresh credentials.

use super::Global;
use super::args::Target;
use super::run::{cancellable, runtime};
use crate::credentials;
use crate::error::{Result, RunError};
use crate::exec::{ACCESS_TOKEN_VAR, CREDENTIALS_VAR};
use crate::flow::{self, Deps, Options, When};
use crate::signals::Signals;
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
        so is a SIGINT that did not come from the terminal (`kill -INT` from another shell, a \
        supervisor): a terminal's Ctrl-C reaches both already, and is not sent twice. This \
        process waits for the command to end.\n\n\
        A stop signal that comes while a stale token is being refreshed means the command never \
        starts: the token request already sent is let finish and saved, and this exits with \
        128 + N (143 SIGTERM, 129 SIGHUP, 130 SIGINT).",
    after_help = "Examples:\n  \
        integration-cli exec -- npm test\n  \
        integration-cli exec -t compliance -- npm run test:integration\n  \
        integration-cli exec -- sh -c \\\n    \
        'curl -H \"X-Unito-Credentials: $UNITO_CREDENTIALS\" localhost:9200/me'\n\n\
        Exit codes: the command's own (128 + N when signal N ended it); before it starts: 1 \
        error, 2 usage, 5 a browser login is needed (run integration-cli oauth2), 129, 130, \
        143 a stop signal."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        // `-q` keeps the refresh-token warning off stderr too.
        let opts = Options {
            quiet: global.quiet,
            ..self.target.options()?
        };
        let deps = Deps::system().with_terminal(Quiet::new(Console::new()));
        let code = runtime()?.block_on(async {
            // One listener from before the refresh to the command's end: a stop signal that
            // came while a token request was let finish keeps the command from starting.
            let mut signals = Signals::new()?;
            let stale = flow::account(&opts, &deps, When::Stale);
            let fresh = cancellable(stale, &deps, &mut signals).await?;
            if let Some(stop) = signals.received() {
                deps.terminal.warn(&format!(
                    "{}: the tokens are saved; the command was not started",
                    stop.name()
                ));
            }
            let value = credentials::encode(&opts.test_account, &fresh.fields)?;
            let env = [
                (CREDENTIALS_VAR, value.as_str()),
                (ACCESS_TOKEN_VAR, fresh.token.expose()),
            ];
            crate::exec::run(&self.command, &env, signals).await
        })?;
        match code {
            0 => Ok(()),
            code => Err(RunError::CommandExited { code }.into()),
        }
    }
}
