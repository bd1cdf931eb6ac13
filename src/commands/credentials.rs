//! `integration-cli credentials`: the `X-Unito-Credentials` value the platform would send the
//! connector for a test account, or a captured one read back.

use std::io::Read;

use super::Global;
use super::args::Target;
use super::run::{block_on, write_stdout};
use crate::credentials::{self, HEADER};
use crate::error::{Result, RunError, UserError};
use crate::flow::{self, Deps, Options, When};
use crate::ui::{Console, Quiet, Terminal};

/// Print the X-Unito-Credentials header value for a test account
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the value the platform puts in the X-Unito-Credentials header when it \
        calls your connector: base64 of the JSON of the whole test account (every key it \
        holds, accessToken included).\n\n\
        A token that is stale is refreshed and saved first, as `token` does; when only a \
        browser login would help, nothing is printed and the exit code is 5. A test account \
        holding a value the platform encrypted (unito-secret-v1://…) is refused.\n\n\
        With --decode, reads a captured header value from stdin (hidden, at a terminal) and \
        shows the object with its credentials masked, or says exactly why the connector SDK \
        would answer 400. A value is masked when its name says it is a credential, and when \
        its shape does: a JWT, an Authorization header's value, a long opaque string, a URL's \
        password or a token in its path or query; --show-all shows every value as it is. A \
        value given as the argument works too, but sits in the process list, which other \
        users of this machine can read: pipe it instead.",
    after_help = "Examples:\n  \
        curl -H \"X-Unito-Credentials: $(integration-cli credentials)\" \\\n    \
        http://localhost:9200/me\n  \
        curl -H \"$(integration-cli credentials --header)\" http://localhost:9200/me\n  \
        # the object itself\n  \
        integration-cli credentials --json -t compliance\n  \
        # what a captured value holds\n  \
        printf '%s' \"$VALUE\" | integration-cli credentials --decode\n\n\
        Exit codes: 0 ok, 1 error (or a value the SDK would refuse, with --decode), 2 usage, \
        5 a browser login is needed (run integration-cli oauth2)."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// Print the whole header line: X-Unito-Credentials: <value>
    #[arg(long, conflicts_with_all = ["json", "decode"])]
    pub header: bool,

    /// Print the test account object itself, as JSON
    #[arg(long, conflicts_with = "decode")]
    pub json: bool,

    /// Read a header value from stdin (or `-`; a VALUE given here is seen by other local
    /// users) and show what it holds, credentials masked
    #[arg(long, value_name = "VALUE", num_args = 0..=1, default_missing_value = "-")]
    pub decode: Option<String>,

    /// With --decode: show every value as it is, nothing masked
    #[arg(long, requires = "decode")]
    pub show_all: bool,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        if let Some(value) = self.decode {
            // Masked as the file declares them, when there is a file to say.
            let file = self.target.file.path().ok();
            let secrets = file.map(|f| password_variables(&f)).unwrap_or_default();
            return decode(&value, &secrets, self.show_all);
        }
        // `-q` keeps the refresh-token warning off stderr too.
        let opts = Options {
            quiet: global.quiet,
            ..self.target.options()?
        };
        // stdout is the value: progress would be in the way of `$(…)`.
        let deps = Deps::system().with_terminal(Quiet::new(Console::new()));
        let fresh = block_on(&deps, flow::account(&opts, &deps, When::Stale))?;
        // The user asked for exactly this value, tokens and all.
        if self.json {
            return write_stdout(
                &serde_json::to_string_pretty(&fresh.fields).expect("a JSON object"),
            );
        }
        let value = credentials::encode(&opts.test_account, &fresh.fields)?;
        if self.header {
            write_stdout(&format!("{HEADER}: {value}"))
        } else {
            write_stdout(&value)
        }
    }
}

/// The password variables the project's authorizations declare, when there is a project
/// to read: their values are masked like tokens.
fn password_variables(config: &std::path::Path) -> Vec<String> {
    let Ok(project) = crate::project::Project::load(config) else {
        return Vec::new();
    };
    let Ok(all) = project.config().oauth2() else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|(_, o)| o.as_ref().ok())
        .flat_map(|o| o.variables.iter().filter(|v| o.is_secret(&v.name)))
        .map(|v| v.name.clone())
        .collect()
}

fn decode(value: &str, secrets: &[String], show_all: bool) -> Result<()> {
    let value = if value == "-" {
        read_value()?
    } else {
        Console::new().warn(
            "a value given as an argument sits in the process list, which other users of \
             this machine can read; pipe it instead: printf '%s' \"$VALUE\" | \
             integration-cli credentials --decode",
        );
        value.to_string()
    };
    let fields =
        credentials::decode(&value).map_err(|why| UserError::CredentialsUnreadable { why })?;
    let shown = match show_all {
        true => credentials::revealed(&serde_json::Value::Object(fields)),
        false => credentials::masked_also(&fields, secrets),
    };
    write_stdout(&serde_json::to_string_pretty(&shown).expect("a JSON object"))
}

/// The value from stdin: asked for without echo at a terminal (it is a credential), read
/// whole (bounded) from a pipe.
fn read_value() -> Result<String> {
    let console = Console::new();
    if console.interactive() {
        return console.hidden("X-Unito-Credentials value (not shown)");
    }
    let mut text = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| RunError::Terminal(format!("cannot read the value from stdin: {e}")))?;
    Ok(text)
}
