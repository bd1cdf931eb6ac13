//! integration-cli: parse the command line, run the command, and turn the outcome into a
//! message and an exit code.

use std::process::ExitCode;

use clap::Parser;

use integration_cli::commands::Cli;
use integration_cli::error::{Error, RunError};
use integration_cli::redact::{json_safe, terminal_safe};
use integration_cli::ui::{Paint, to_stderr, to_stdout};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.wants_json();
    match cli.exec() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, json),
    }
}

/// The error and what to do about it on stderr; for scripts that asked for JSON, the same
/// on stdout as `{"error": {message, hint, exitCode}}`.
fn report(e: &Error, json: bool) -> ExitCode {
    // `exec`'s command said what it had to say; its exit code is passed on as it is.
    if let Error::Run(RunError::CommandExited { code }) = e {
        return ExitCode::from(*code as u8);
    }
    let paint = Paint::for_stderr();
    to_stderr(&format!(
        "{} {}",
        paint.error("error:"),
        terminal_safe(&e.to_string())
    ));
    if let Some(hint) = e.hint() {
        to_stderr(&format!("{} {}", paint.hint("hint:"), terminal_safe(&hint)));
    }
    if json {
        let failure = serde_json::json!({"error": {
            "message": e.to_string(),
            "hint": e.hint(),
            "exitCode": e.exit_code(),
        }});
        to_stdout(&json_safe(&failure.to_string()));
    }
    ExitCode::from(e.exit_code() as u8)
}
