//! `integration-cli exec`: a command run with the test account's credentials in its
//! environment, its exit code passed on, and the stop signals this process gets passed to
//! it (it decides how to stop; this process waits for it). The signals are listened for by
//! the caller from before the refresh, so one that came meanwhile is never lost.

use std::process::Stdio;

use crate::error::{Error, Result, RunError, UserError};
use crate::signals::{Signals, Stop};

/// The variables the command gets: the `X-Unito-Credentials` value and the bare token.
pub const CREDENTIALS_VAR: &str = "UNITO_CREDENTIALS";
pub const ACCESS_TOKEN_VAR: &str = "UNITO_ACCESS_TOKEN";

/// Runs `command` (program and arguments) with `env` added, and returns the code to exit
/// with: its own, or 128 plus the signal that ended it, as a shell reports it. A stop signal
/// `signals` already holds means the command never starts.
pub async fn run(command: &[String], env: &[(&str, &str)], mut signals: Signals) -> Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| UserError::InvalidInput {
            message: "no command to run: put it after --, as in integration-cli exec -- npm test"
                .into(),
        })?;
    if let Some(stop) = signals.received() {
        return Err(stop.error());
    }
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| RunError::CommandNotStarted {
            program: crate::redact::printable(program),
            detail: e.to_string(),
        })?;
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|e| Error::Internal(format!("waiting for the command: {e}")))?;
                return Ok(code_of(status));
            }
            stop = signals.next() => {
                if let Some(pid) = child.id() {
                    forward(stop, pid);
                }
            }
        }
    }
}

/// Passes a stop signal on to the command. Ctrl-C at a terminal reaches every process of
/// the foreground group, the command included: sending it a second SIGINT would read as a
/// second Ctrl-C (many tools stop at once on that), so it is passed on only when it came
/// from elsewhere (`kill -INT` from another shell, a supervisor), as its siginfo says.
#[cfg(unix)]
fn forward(stop: Stop, pid: u32) {
    let signal = match stop {
        Stop::Interrupt if from_the_terminal() => return,
        Stop::Interrupt => libc::SIGINT,
        Stop::Terminate => libc::SIGTERM,
        Stop::Hangup => libc::SIGHUP,
    };
    // SAFETY: kill(2) with a pid we spawned and have not reaped, and a valid signal.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

#[cfg(not(unix))]
fn forward(_: Stop, _: u32) {}

/// Whether the last SIGINT was a terminal's Ctrl-C. Where its sender cannot be told: whether
/// this process runs in the terminal's foreground group, where Ctrl-C reaches every member.
#[cfg(unix)]
fn from_the_terminal() -> bool {
    use crate::signals::{Origin, interrupt_origin};
    match interrupt_origin() {
        Some(origin) => origin == Origin::Terminal,
        // SAFETY: plain queries on stdin's descriptor and this process.
        None => unsafe {
            let foreground = libc::tcgetpgrp(libc::STDIN_FILENO);
            foreground > 0 && foreground == libc::getpgrp()
        },
    }
}

#[cfg(unix)]
fn code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

#[cfg(not(unix))]
fn code_of(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}
