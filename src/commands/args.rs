//! Arguments several commands share, declared once: the project file, the authorization,
//! the test account.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::{ConfigError, Result, UserError};
use crate::flow::Options;
use crate::sandbox::{ChosenPersona, PERSONAS, PersonaEntry};

/// The project file.
#[derive(Debug, Args)]
pub struct FileArg {
    /// The project file (.unito.json) to read and update [default: .unito.json here, or in
    /// a folder above up to the repository's root or the home folder]
    #[arg(
        long,
        visible_alias = "config-path",
        value_name = "PATH",
        env = "UNITO_CONFIG"
    )]
    pub config: Option<PathBuf>,
}

impl FileArg {
    /// The file named, or the one found from here (see `discover`); none found is the
    /// error that names where the search looked.
    pub fn path(&self) -> Result<PathBuf> {
        if let Some(given) = self.config.as_ref().filter(|p| !p.as_os_str().is_empty()) {
            return Ok(given.clone());
        }
        let found = crate::discover::here();
        if !found.exists {
            return Err(ConfigError::NotFound {
                path: found.path,
                tried: found.tried,
            }
            .into());
        }
        tracing::debug!(path = %found.path.display(), "project file");
        Ok(found.path)
    }
}

/// Which authorization of the file.
#[derive(Debug, Args)]
pub struct AuthorizationArg {
    /// Which authorization, by name: needed only to log in or refresh when the file has
    /// several (asked at a terminal)
    #[arg(long, short = 'a', value_name = "NAME", env = "UNITO_AUTHORIZATION")]
    pub authorization: Option<String>,
}

/// What a file may do only with the user's say, never its own: read a key kept outside the
/// project, send environment variables to its hosts unasked.
#[derive(Debug, Args)]
pub struct TrustArg {
    /// Let jwt.privateKeyFile name a key outside the project's folder (or UNITO_ALLOW_KEY_OUTSIDE=1)
    ///
    /// A key file is read only from the folder of .unito.json (and below), links resolved:
    /// a file you cloned must not have one of your own keys sign for a token URL of its
    /// choosing. Give this when you trust the file with a key kept elsewhere.
    #[arg(long, env = "UNITO_ALLOW_KEY_OUTSIDE", value_parser = yes_or_no)]
    pub allow_key_outside: bool,

    /// Let the file send this environment variable to its token URL's host for this run,
    /// without asking (repeat it, or separate names with commas; UNITO_ALLOW_ENV too).
    ///
    /// The first time a file sends a variable (`${NAME}` in clientId, clientSecret or
    /// jwt.privateKey) to a host, integration-cli asks at a terminal and keeps the answer
    /// in your configuration folder; without a terminal, only this approves it. Files that
    /// `init` writes are approved as it writes them, and a token URL on this machine needs
    /// no approval.
    #[arg(long = "allow-env", value_name = "NAME", value_delimiter = ',')]
    pub allow_env: Vec<String>,
}

/// A switch from the environment: `1`, `true`, `yes`, `on` or their opposites; empty (a
/// variable set to nothing) is off. Anything else is refused rather than guessed.
fn yes_or_no(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "n" | "off" => Ok(false),
        _ => Err("use 1 or 0 (true or false)".into()),
    }
}

/// Which file, authorization and test account a command works on, and how long the token
/// endpoint may take.
#[derive(Debug, Args)]
pub struct Target {
    #[command(flatten)]
    pub file: FileArg,

    #[command(flatten)]
    pub authorization: AuthorizationArg,

    /// The test account to use (development, compliance, or one the file has; oauth2 --new makes others)
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

    #[command(flatten)]
    pub trust: TrustArg,
}

/// `--var NAME=VALUE`: a value for one of the authorization's variables.
pub fn parse_var(given: &str) -> Result<(String, String), String> {
    match given.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "{given:?} is not NAME=VALUE (such as --var subdomain=acme)"
        )),
    }
}

/// `--persona NAME`: one of the personas, a name not among them refused as clap refuses any
/// value it was not offered (naming the ones there are).
pub fn persona() -> impl clap::builder::TypedValueParser<Value = &'static PersonaEntry> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(PERSONAS)
        .map(|name| crate::sandbox::persona_entry(&name).expect("a listed persona"))
}

/// The persona with its `--persona-option`s, each checked against the options it takes.
pub fn persona_with(entry: &'static PersonaEntry, options: &[String]) -> Result<ChosenPersona> {
    entry
        .with(options)
        .map_err(|message| UserError::InvalidInput { message }.into())
}

impl Target {
    /// Options for a run on this target that opens no browser; the rest are the defaults.
    pub fn options(self) -> Result<Options> {
        Ok(Options {
            config: self.file.path()?,
            authorization: self.authorization.authorization,
            test_account: self.test_account,
            token_timeout: Duration::from_secs(self.token_timeout),
            allow_env: self.trust.allow_env,
            open_browser: false,
            allow_key_outside: self.trust.allow_key_outside,
            ..Options::default()
        })
    }
}
