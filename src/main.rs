//! integration-cli: parse the command line, build the real dependencies, run, and turn the
//! outcome into a message and an exit code.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use integration_cli::cli::{Cli, Command};
use integration_cli::error::{Error, Result, exit};
use integration_cli::redact::{json_safe, terminal_safe};
use integration_cli::secret::Secret;
use integration_cli::{browser, clock, demo, flow, init, sandbox, signals, status, tunnel, ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = match &cli.command {
        Command::Oauth2(a) => a.json,
        Command::Token(a) => a.json,
        Command::Status(a) => a.json,
        _ => false,
    };
    let code = match run(cli) {
        Ok(()) => exit::OK,
        Err(e) => {
            let paint = ui::Paint::for_stderr();
            ui::to_stderr(&format!(
                "{} {}",
                paint.error("error:"),
                terminal_safe(&e.to_string())
            ));
            if let Some(hint) = e.hint() {
                ui::to_stderr(&format!("{} {}", paint.hint("hint:"), terminal_safe(&hint)));
            }
            if json {
                // Scripts that asked for JSON get the failure in JSON too.
                let _ = write_stdout(
                    &serde_json::json!({"error": {
                        "message": e.to_string(),
                        "hint": e.hint(),
                        "exitCode": e.exit_code(),
                    }})
                    .to_string(),
                );
            }
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

/// `-v`: this crate's debug events on stderr. Other crates stay silent: their logs may carry
/// request bodies and headers, which is where the secrets are.
fn log_verbosely() {
    use tracing_subscriber::prelude::*;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| SafeStderr)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.target().starts_with("integration_cli") && *m.level() <= tracing::Level::DEBUG
        }));
    tracing_subscriber::registry().with(layer).init();
}

/// stderr for `-v` logs, with control characters escaped: a logged path or header value
/// came from outside and must not drive the terminal.
struct SafeStderr;

impl std::io::Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(terminal_safe(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn run(cli: Cli) -> Result<()> {
    if cli.verbose {
        log_verbosely();
    }
    let quiet = cli.quiet;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Terminal(format!("cannot start the async runtime: {e}")))?;
    match cli.command {
        Command::Oauth2(args) => {
            let env = |name: &str| std::env::var(name).ok();
            let tunnel = tunnel::Ngrok {
                authtoken: env("NGROK_AUTHTOKEN").map(Secret::new),
                server_addr: env("NGROK_SERVER_ADDR").filter(|a| !a.trim().is_empty()),
                connect_timeout: Duration::from_secs(args.tunnel_timeout),
            };
            let all = args.all;
            let opts = args.options(&env)?;
            let browser = browser::SystemBrowser {
                browser_env: env("BROWSER"),
            };
            let console = ui::Console::new();
            let (quieted, no_progress) = (
                ui::Quiet::new(&console),
                ui::Quiet::keeping_results(&console),
            );
            let terminal: &dyn ui::Terminal = match (quiet, opts.json) {
                (false, _) => &console,
                (true, false) => &quieted,
                (true, true) => &no_progress,
            };
            let critical = flow::Critical::default();
            let deps = flow::Deps {
                browser: &browser,
                clock: &clock::SystemClock,
                terminal,
                env: &env,
                critical: &critical,
                tunnel: &tunnel,
            };
            if all {
                runtime.block_on(cancellable(
                    flow::refresh_all(&opts, &deps),
                    &critical,
                    terminal,
                ))
            } else {
                runtime.block_on(cancellable(flow::oauth2(&opts, &deps), &critical, terminal))
            }
        }
        Command::Init(args) => {
            let console = ui::Console::new();
            let quieted = ui::Quiet::new(&console);
            init::run(&args.options(), if quiet { &quieted } else { &console })
        }
        Command::Status(args) => {
            let text = status::run(
                &args.config,
                args.authorization.as_deref(),
                &clock::SystemClock,
                &|name| std::env::var(name).ok(),
                args.json,
            )?;
            write_stdout(&text)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "integration-cli",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Sandbox(args) => runtime.block_on(serve_sandbox(args.port)),
        Command::Demo(args) => {
            // The sandbox has its own client secret: one meant for the user's provider must
            // not replace it.
            let env = |name: &str| {
                (name != "UNITO_CLIENT_SECRET")
                    .then(|| std::env::var(name).ok())
                    .flatten()
            };
            let headless = args.headless || (!args.browser && !demo::display_available());
            let opts = demo::DemoOptions {
                dir: args.dir,
                headless,
                force: args.force,
            };
            let system = browser::SystemBrowser {
                browser_env: env("BROWSER"),
            };
            let fallback = demo::BrowserOrHeadless(&system);
            let browser: &dyn browser::Browser = if headless {
                &demo::HeadlessApprover
            } else {
                &fallback
            };
            let terminal = ui::Console::new();
            let critical = flow::Critical::default();
            let deps = flow::Deps {
                browser,
                clock: &clock::SystemClock,
                terminal: &terminal,
                env: &env,
                critical: &critical,
                tunnel: &tunnel::Disabled,
            };
            runtime.block_on(cancellable(demo::run(&opts, &deps), &critical, &terminal))
        }
        Command::Token(args) => {
            let env = |name: &str| std::env::var(name).ok();
            let opts = args.target.options();
            let console = ui::Console::new();
            let terminal = ui::Quiet::new(&console);
            let critical = flow::Critical::default();
            let deps = flow::Deps {
                // Never used: this command does not log in.
                browser: &browser::SystemBrowser { browser_env: None },
                clock: &clock::SystemClock,
                terminal: &terminal,
                env: &env,
                critical: &critical,
                tunnel: &tunnel::Disabled,
            };
            let token =
                runtime.block_on(cancellable(flow::token(&opts, &deps), &critical, &terminal))?;
            // The one place a token is printed: the user asked for exactly this value.
            if args.json {
                write_stdout(&flow::token_json(&opts, &token)?)
            } else {
                write_stdout(token.expose())
            }
        }
    }
}

/// A line on stdout; a closed pipe is an error to report, not a panic. JSON keeps its
/// escapes; anything else has control characters shown, not sent.
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let text = if text.starts_with('{') {
        json_safe(text)
    } else {
        terminal_safe(text)
    };
    writeln!(std::io::stdout(), "{text}")
        .map_err(|e| Error::Terminal(format!("cannot write to stdout: {e}")))
}

/// `integration-cli sandbox`: serve until Ctrl-C.
async fn serve_sandbox(port: u16) -> Result<()> {
    let mut signals = signals::Signals::new()?;
    let server = sandbox::Sandbox::start(port).await?;
    write_stdout(&server.banner())?;
    signals.next().await;
    server.stop();
    Ok(())
}

/// Ctrl-C (and SIGTERM, SIGHUP) stops the flow wherever it waits: the callback server and
/// the file lock go with it, and a save is never cut in half (it has no await point, and it
/// renames). Inside a critical section the flow is let run until it leaves the section (or
/// ends), unless a second signal comes.
async fn cancellable<T>(
    flow: impl std::future::Future<Output = Result<T>>,
    critical: &flow::Critical,
    terminal: &dyn ui::Terminal,
) -> Result<T> {
    let mut signals = signals::Signals::new()?;
    tokio::pin!(flow);
    let first = tokio::select! {
        biased;
        stop = signals.next() => stop,
        result = &mut flow => return result,
    };
    if !critical.active() {
        return Err(first.error());
    }
    critical.request_stop();
    terminal.warn(&format!(
        "{}: finishing the token request already sent, so its tokens are not lost ({} again to stop now)",
        first.name(),
        first.again()
    ));
    tokio::select! {
        biased;
        second = signals.next() => Err(second.error()),
        // The flow's own "cancelled" means this signal stopped it.
        result = &mut flow => result.map_err(|e| match e {
            Error::Interrupted => first.error(),
            other => other,
        }),
        // Out of the critical part without finishing (say, a refused refresh token about to
        // fall back to a login): the first signal applies now.
        _ = critical.left() => Err(first.error()),
    }
}
