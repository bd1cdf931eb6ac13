//! `integration-cli init`: a first `.unito.json`, from a provider preset or your own URLs.

use std::path::PathBuf;

use super::Global;
use crate::error::Result;
use crate::init::{self, InitOptions, PRESETS, PresetChoice};
use crate::report;
use crate::ui::{Console, Quiet, Terminal};

/// Start a .unito.json, from a provider preset or your own URLs
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Write a first .unito.json: one authorization, from a preset with the \
        provider's real endpoints, from the provider's published metadata (--issuer), or \
        from URLs you give, and empty development and compliance test accounts.\n\n\
        What flags do not say is asked when there is a terminal; without one, the client id \
        (and the URLs, without a preset) must be given. The client secret is never written: \
        the file reads it from an environment variable at run time. An existing file is left \
        alone unless --force. A .gitignore beside the file gets .unito.json, its lock and \
        recovery files (and a jwt-bearer key file); in a git repository with none there, \
        one is made.",
    after_help = after_help()
)]
pub struct Args {
    /// The file to write
    #[arg(
        long,
        value_name = "PATH",
        default_value = ".unito.json",
        env = "UNITO_CONFIG"
    )]
    pub config: PathBuf,

    /// Provider preset
    #[arg(long, value_name = "NAME", value_parser = preset_names())]
    pub preset: Option<PresetChoice>,

    /// The connector's name: lower-case letters, digits, - and _ (default: the folder's name,
    /// made so)
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

    /// authorization_code (default), client_credentials, password or
    /// urn:ietf:params:oauth:grant-type:jwt-bearer (which writes a "jwt" object to fill in)
    #[arg(long, value_name = "GRANT")]
    pub grant_type: Option<String>,

    /// Space-separated scopes (default: the preset's; from --issuer, openid and
    /// offline_access where the provider lists them)
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,

    /// Read the endpoints from the provider's published metadata (RFC 8414 or OpenID
    /// Connect Discovery) at this issuer URL
    ///
    /// Its issuer must be this very URL (a trailing slash aside); the file gets its
    /// authorization and token endpoints, the issuer (checked at each login, RFC 9207), the
    /// client authentication it lists and its revocation endpoint (revocationUrl, read only
    /// by integration-cli). Flags given beside it win. GitHub's, Slack's, Google's and
    /// Microsoft's issuers get their preset instead, as their metadata is missing or
    /// misleads (Microsoft's tenant is taken from the URL).
    #[arg(long, value_name = "URL", conflicts_with = "preset")]
    pub issuer: Option<String>,

    /// A value for one of the preset's variables (repeatable), written into the development
    /// test account: `--var subdomain=acme` for zendesk
    ///
    /// Checked as the variable's declaration says. What is not given here, the first login
    /// asks for (or takes from oauth2 --var).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = super::args::parse_var)]
    pub vars: Vec<(String, String)>,

    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

/// The presets, from the one list of them, and examples.
fn after_help() -> String {
    let presets: Vec<&str> = PRESETS.iter().map(|p| p.key).collect();
    format!(
        "Presets: {}, custom.\n\n\
         Examples:\n  \
         # answer the questions\n  \
         integration-cli init\n  \
         # GitHub, secret from $GITHUB_CLIENT_SECRET\n  \
         integration-cli init --preset github --client-id Iv1.abc\n  \
         # a customer's Zendesk at acme.zendesk.com (its URLs are templates)\n  \
         integration-cli init --preset zendesk --client-id my-app \\\n    \
         --var subdomain=acme\n  \
         # a provider that publishes its metadata\n  \
         integration-cli init --issuer https://login.example.com --client-id my-id\n  \
         # a provider without a preset\n  \
         integration-cli init --preset custom --client-id my-id \\\n    \
         --authorization-url https://p.example/oauth/authorize \\\n    \
         --token-url https://p.example/oauth/token",
        presets.join(", ")
    )
}

/// The presets `--preset` takes, from the one list of them, and `custom`; a name not among
/// them is refused as clap refuses any value it was not offered.
fn preset_names() -> impl clap::builder::TypedValueParser<Value = PresetChoice> {
    use clap::builder::TypedValueParser;
    let names: Vec<&'static str> = PRESETS.iter().map(|p| p.key).chain(["custom"]).collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|key| PresetChoice::named(&key).expect("a listed preset"))
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let opts = InitOptions {
            config: self.config,
            preset: self.preset,
            connector: self.connector,
            name: self.name,
            client_id: self.client_id,
            client_secret_env: self.client_secret_env,
            authorization_url: self.authorization_url,
            token_url: self.token_url,
            grant_type: self
                .grant_type
                .as_deref()
                .map(init::grant_type)
                .transpose()?,
            scopes: self.scopes,
            issuer: self.issuer,
            vars: self.vars,
            force: self.force,
            approvals: crate::approvals::Store::for_user(&|k| std::env::var(k).ok()),
        };
        let term: Box<dyn Terminal> = if global.quiet {
            Box::new(Quiet::new(Console::new()))
        } else {
            Box::new(Console::new())
        };
        // The metadata is the only thing init fetches: a runtime only for that.
        let discover =
            |issuer: &str| super::run::runtime()?.block_on(crate::metadata::discover(issuer));
        let (written, next) = init::run(&opts, &*term, &discover)?;
        for line in report::init::written(&written) {
            term.result(&line);
        }
        for note in &written.notes {
            term.warn(note);
        }
        written.gitignore?;
        // The approval's words come after what was written, as the user reads it.
        for line in report::init::next(&next.approve(&opts, &*term)) {
            term.result(&line);
        }
        Ok(())
    }
}
