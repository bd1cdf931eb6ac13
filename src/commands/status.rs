//! `integration-cli status`: what each test account holds, and what would happen next.

use super::Global;
use super::args::{AuthorizationArg, FileArg};
use super::run::write_stdout;
use crate::clock::SystemClock;
use crate::error::Result;
use crate::report;

/// Show each test account's tokens (masked) and what the next run would do
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show, for each OAuth 2.0 authorization, what every test account holds: \
        its access token (masked), when it expires, its scopes, whether a refresh token is \
        stored, and what the next oauth2 and token runs would do with it. Reads the file \
        only: no network, no changes.",
    after_help = "Examples:\n  \
        integration-cli status\n  \
        integration-cli status --json | jq '.testAccounts[0].next'",
    mut_arg("config", |a| a.help("The project file (.unito.json) to read")),
    mut_arg("authorization", |a| a.help("Only this authorization"))
)]
pub struct Args {
    #[command(flatten)]
    pub file: FileArg,

    #[command(flatten)]
    pub authorization: AuthorizationArg,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn exec(self, _: Global) -> Result<()> {
        let status = crate::status::run(
            &self.file.path()?,
            self.authorization.authorization.as_deref(),
            &SystemClock,
            &|name| std::env::var(name).ok(),
        )?;
        write_stdout(&if self.json {
            report::status::json(&status)
        } else {
            report::status::text(&status)
        })
    }
}
