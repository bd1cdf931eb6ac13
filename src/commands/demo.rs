//! `integration-cli demo`: a whole login, refresh and token run against the built-in sandbox.

use std::path::PathBuf;

use super::Global;
use super::run::block_on;
use crate::browser::SystemBrowser;
use crate::demo::{self, BrowserOrHeadless, DemoOptions, HeadlessApprover};
use crate::error::Result;
use crate::flow::Deps;
use crate::sandbox::PersonaEntry;

/// Watch a whole login, refresh and token run against a built-in sandbox
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Start the sandbox server in this process, write a throw-away .unito.json \
        pointing at it (in a temporary folder, or --dir), and run the real oauth2 flow \
        against it: a login, a refresh, then token. Needs no account and no network.\n\n\
        With a display the consent page opens in your browser; with --headless (the default \
        when there is no display) the demo presses Approve itself over plain HTTP.\n\n\
        With --persona the sandbox behaves as that provider does (see `integration-cli \
        sandbox --help`), and the demo uses that provider's preset.",
    after_help = "Examples:\n  \
        # run it (in the browser when there is a display)\n  \
        integration-cli demo\n  \
        # approve by itself\n  \
        integration-cli demo --headless\n  \
        # keep the demo's .unito.json in ./demo\n  \
        integration-cli demo --dir ./demo\n  \
        # keep its temporary folder, for a look\n  \
        integration-cli demo --keep\n  \
        # the same run against a Slack stand-in\n  \
        integration-cli demo --persona slack"
)]
pub struct Args {
    /// Folder for the demo's .unito.json, kept afterwards (default: a new temporary folder,
    /// removed at the end)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Keep the temporary folder afterwards, for a look at the file
    #[arg(long, conflicts_with = "dir")]
    pub keep: bool,

    /// Approve on the consent page without a browser (default when there is no display)
    #[arg(long, conflicts_with = "browser")]
    pub headless: bool,

    /// Open the consent page in the browser even without a detected display
    #[arg(long)]
    pub browser: bool,

    /// Replace a .unito.json already in --dir
    #[arg(long)]
    pub force: bool,

    /// Run against the sandbox behaving as this provider does
    #[arg(long, value_name = "NAME", default_value = "sandbox", value_parser = super::args::persona())]
    pub persona: &'static PersonaEntry,

    /// A variant of the persona (repeatable): github expiring, slack rotation, notion legacy
    #[arg(long = "persona-option", value_name = "OPTION")]
    pub persona_options: Vec<String>,
}

impl Args {
    pub fn exec(self, _: Global) -> Result<()> {
        // The sandbox has its own client secret: one meant for the user's provider must not
        // replace it.
        let env = |name: &str| {
            (name != crate::config::SECRET_ENV)
                .then(|| std::env::var(name).ok())
                .flatten()
        };
        let persona = super::args::persona_with(self.persona, &self.persona_options)?;
        let headless = self.headless || (!self.browser && !demo::display_available());
        let opts = DemoOptions {
            dir: self.dir,
            keep: self.keep,
            headless,
            force: self.force,
            persona,
        };
        let deps = Deps::system().with_env(env);
        let deps = if headless {
            deps.with_browser(HeadlessApprover)
        } else {
            // `--browser` is tried even where no display is seen.
            deps.with_browser(BrowserOrHeadless(SystemBrowser {
                browser_env: env("BROWSER"),
                desktop: true,
            }))
        };
        block_on(&deps, demo::run(&opts, &deps))
    }
}
