//! `integration-cli sandbox`: the built-in OAuth 2.0 server, until a stop signal.

use super::Global;
use super::run::{runtime, write_stdout};
use crate::error::{Result, UserError};
use crate::sandbox::{DEFAULT_PORT, Lifetimes, Options, PersonaEntry, Sandbox, Skew};
use crate::signals::Signals;

/// Run a local OAuth 2.0 server to develop against, offline
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Run a small OAuth 2.0 authorization server on 127.0.0.1, for developing \
        and testing without a provider account or a network.\n\n\
        It has a consent page with Approve and Deny, a token endpoint (authorization code with \
        PKCE S256, refresh with rotation, client credentials, the password grant for user \
        sandbox-user with password sandbox-password-not-real, and with --jwt-public-key the \
        jwt-bearer grant and private_key_jwt client authentication) and a userinfo endpoint, and it \
        checks what a real server checks: the client secret, PKCE, the redirect URI, single-use \
        codes. It prints an authorization to paste into .unito.json. Ctrl-C stops it.\n\n\
        With --persona it behaves as that provider does, from the provider's public \
        documentation: its endpoints' paths (behind the sandbox's address), what it requires \
        to issue a refresh token, how the client must authenticate, the shape of its answers \
        and of its refusals. `init --preset NAME` with the URLs it prints makes a matching \
        authorization. docs/providers.md says what each one reproduces.",
    after_help = "Examples:\n  \
        # serve on http://127.0.0.1:9010\n  \
        integration-cli sandbox\n  \
        # serve on a free port\n  \
        integration-cli sandbox --port 0\n  \
        # answer as Google does\n  \
        integration-cli sandbox --persona google\n  \
        # tokens that expire in 5 s\n  \
        integration-cli sandbox --token-lifetime 5\n  \
        # tokens that come back already expired\n  \
        integration-cli sandbox --stale-created-at 7200\n  \
        # accept assertions signed with its key\n  \
        integration-cli sandbox --jwt-public-key key.pub.pem\n  \
        # a GitHub App with expiring user tokens\n  \
        integration-cli sandbox --persona github --persona-option expiring\n\n\
        Persona options: github: expiring; slack: rotation; notion: legacy"
)]
pub struct Args {
    /// Port on 127.0.0.1; 0 picks a free one
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Behave as this provider does
    #[arg(long, value_name = "NAME", default_value = "sandbox", value_parser = super::args::persona())]
    pub persona: &'static PersonaEntry,

    /// A variant of the persona (repeatable): github expiring, slack rotation, notion legacy
    #[arg(long = "persona-option", value_name = "OPTION")]
    pub persona_options: Vec<String>,

    /// How long access tokens live, in seconds (to watch expiry and refresh happen)
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_lifetime: u64,

    /// Accept signed assertions (jwt-bearer grant, private_key_jwt) verified with this key
    ///
    /// A PEM public key (RS256, ES256), or a file holding the shared secret for HS256.
    #[arg(long, value_name = "FILE")]
    pub jwt_public_key: Option<std::path::PathBuf>,

    /// Answer as a provider whose clock runs SECS behind: `created_at` and the `Date`
    /// header from that clock (a client that reads one against the other is not misled)
    #[arg(long, value_name = "SECS", conflicts_with = "stale_created_at")]
    pub clock_behind: Option<u64>,

    /// Answer with a `created_at` SECS in the past and a right `Date` header: tokens that
    /// come back already expired (to see that clients do not refresh them in a loop)
    #[arg(long, value_name = "SECS")]
    pub stale_created_at: Option<u64>,
}

impl Args {
    pub fn exec(self, _: Global) -> Result<()> {
        let persona = super::args::persona_with(self.persona, &self.persona_options)?;
        let jwt_key = match &self.jwt_public_key {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|e| UserError::InvalidInput {
                        message: format!("--jwt-public-key {}: {e}", path.display()),
                    })?,
                )
            }
            None => None,
        };
        runtime()?.block_on(async {
            let mut signals = Signals::new()?;
            let server = Sandbox::start_as(Options {
                port: self.port,
                lifetimes: Lifetimes {
                    access_token: std::time::Duration::from_secs(self.token_lifetime),
                    ..Lifetimes::default()
                },
                persona,
                jwt_key,
                skew: match (self.clock_behind, self.stale_created_at) {
                    (Some(secs), _) => Some(Skew {
                        behind: std::time::Duration::from_secs(secs),
                        date_too: true,
                    }),
                    (None, Some(secs)) => Some(Skew {
                        behind: std::time::Duration::from_secs(secs),
                        date_too: false,
                    }),
                    (None, None) => None,
                },
            })
            .await?;
            write_stdout(&server.banner())?;
            signals.next().await;
            server.stop();
            Ok(())
        })
    }
}
