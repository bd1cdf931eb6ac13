//! What the user can type: one file per command, each holding its clap arguments and an
//! `exec` that turns them into options and calls the operations. Nothing below this layer
//! knows about clap. Arguments several commands share (the file, the authorization, the
//! test account) are declared once, in `args.rs`.

mod args;
mod completions;
mod credentials;
mod demo;
mod exec;
mod init;
mod logout;
mod man;
mod oauth2;
mod proxy;
mod reference;
mod run;
mod sandbox;
mod status;
mod token;
mod watch;

use clap::{Parser, Subcommand};

use crate::error::Result;

pub use reference::{REGENERATE, reference_markdown};

#[derive(Debug, Parser)]
#[command(
    name = "integration-cli",
    version,
    about = "Get real OAuth 2.0 tokens for a connector's test accounts, and keep them fresh",
    long_about = "Get real OAuth 2.0 tokens for a connector's test accounts, and keep them fresh.\n\n\
        Reads the authorizations in your project's .unito.json and gets tokens by the grant \
        each names: a login on the provider's consent page (authorization code with PKCE, the \
        callback on the loopback address), client credentials, the password grant, or a \
        signed assertion (jwt-bearer). It writes them into a test account, touching nothing \
        else in the file, and refreshes them when they expire.",
    after_help = "Examples:\n  \
        # a whole login, refresh and token run against a built-in sandbox\n  \
        integration-cli demo\n  \
        # start a .unito.json for a provider\n  \
        integration-cli init --preset github --client-id Iv1.abc\n  \
        # log in, or refresh if a refresh token is stored\n  \
        integration-cli oauth2\n  \
        # print the access token, refreshed if needed\n  \
        integration-cli token\n  \
        # run the connector's tests with fresh credentials in the environment\n  \
        integration-cli exec -- npm test\n  \
        # put credentials on every request to the connector running locally\n  \
        integration-cli proxy --to http://localhost:9200\n  \
        # keep every test account fresh for tools that read the file\n  \
        integration-cli watch\n  \
        # what each test account holds, and what the next run would do\n  \
        integration-cli status\n  \
        # every flag of a command\n  \
        integration-cli help oauth2\n\n\
        Exit codes: 0 ok, 1 error, 2 usage, 3 the provider refused (e.g. access_denied), \
        4 timed out waiting for the browser, 5 a browser login is needed, 129 SIGHUP, \
        130 cancelled (Ctrl-C), 143 SIGTERM.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log each step (HTTP requests, callbacks, file writes) to stderr; values that could be
    /// secrets are never logged
    #[arg(
        long,
        short = 'v',
        global = true,
        conflicts_with = "quiet",
        help_heading = "Global options"
    )]
    pub verbose: bool,

    /// Print nothing but errors (and what a command exists to print, such as the token)
    #[arg(long, short = 'q', global = true, help_heading = "Global options")]
    pub quiet: bool,

    /// Also trust the CA certificates in this PEM file (a company network's TLS inspection)
    ///
    /// Beside the bundled roots, the operating system's store and SSL_CERT_FILE. Read when
    /// a command first makes a request (status, and a credentials that needs no refresh,
    /// make none): a file that is not a regular PEM file of at most 8 MiB stops it then,
    /// before anything is sent. The proxy variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
    /// NO_PROXY) are checked at the same moment: one that names no usable proxy is an
    /// error, never a direct connection.
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        env = "UNITO_CA_FILE",
        help_heading = "Global options"
    )]
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Oauth2(oauth2::Args),
    Token(token::Args),
    Credentials(credentials::Args),
    Exec(exec::Args),
    Proxy(proxy::Args),
    Watch(watch::Args),
    Sandbox(sandbox::Args),
    Demo(demo::Args),
    Init(init::Args),
    Status(status::Args),
    Logout(logout::Args),
    Completions(completions::Args),
    Man(man::Args),
}

/// What every command may be told besides its own arguments.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    pub quiet: bool,
}

impl Cli {
    /// Whether a failure should be reported on stdout as JSON too.
    pub fn wants_json(&self) -> bool {
        match &self.command {
            Command::Oauth2(a) => a.json,
            Command::Token(a) => a.json,
            Command::Status(a) => a.json,
            Command::Credentials(a) => a.json,
            Command::Logout(a) => a.json,
            _ => false,
        }
    }

    pub fn exec(self) -> Result<()> {
        if self.verbose {
            run::log_verbosely();
        }
        crate::http::trust(self.ca_file.as_deref());
        let global = Global { quiet: self.quiet };
        match self.command {
            Command::Oauth2(args) => args.exec(global),
            Command::Token(args) => args.exec(global),
            Command::Credentials(args) => args.exec(global),
            Command::Exec(args) => args.exec(global),
            Command::Proxy(args) => args.exec(global),
            Command::Watch(args) => args.exec(global),
            Command::Sandbox(args) => args.exec(global),
            Command::Demo(args) => args.exec(global),
            Command::Init(args) => args.exec(global),
            Command::Status(args) => args.exec(global),
            Command::Logout(args) => args.exec(global),
            Command::Completions(args) => args.exec(global),
            Command::Man(args) => args.exec(global),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Each command's examples, line by line: `Examples:` to the next blank line.
    fn examples(cmd: &clap::Command) -> Vec<String> {
        let after = cmd
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        after
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// An example is copied into a shell: on an 80-column terminal none may wrap, so a
    /// long one is broken with `\` and what it does is a `#` line above it.
    #[test]
    fn every_example_fits_on_an_80_column_line() {
        let cli = super::Cli::command();
        let commands = std::iter::once(&cli).chain(cli.get_subcommands());
        for cmd in commands {
            let lines = examples(cmd);
            assert!(!lines.is_empty(), "{} has no examples", cmd.get_name());
            for line in lines {
                assert!(line.len() <= 78, "{}: {line:?}", cmd.get_name());
            }
        }
    }

    #[test]
    fn the_top_level_help_names_every_grant_and_the_main_commands() {
        let cli = super::Cli::command();
        let about = cli.get_long_about().unwrap().to_string();
        for grant in [
            "authorization code",
            "client credentials",
            "password",
            "jwt-bearer",
        ] {
            assert!(about.contains(grant), "{grant}: {about}");
        }
        let shown = examples(&cli).join("\n");
        for command in [
            "demo", "init", "oauth2", "token", "exec", "proxy", "watch", "status",
        ] {
            assert!(
                shown.contains(&format!("integration-cli {command}")),
                "{command}: {shown}"
            );
        }
    }
}
