//! The terminal: prompts when someone is there to answer, a spinner while we wait, and plain
//! lines otherwise. Progress goes to stderr; stdout carries only the result, so scripts can
//! capture it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result, RunError};
use crate::redact::{json_safe, terminal_safe};

mod paint;
mod paste;

pub use paint::Paint;
pub use paste::{MAX_PASTE, PasteLines, Pasted, read_lines};

pub trait Terminal {
    /// Whether a person can answer prompts (stdin and stderr are terminals).
    fn interactive(&self) -> bool;
    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize>;
    /// A line of text, `default` when the user just presses Enter.
    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String>;
    /// A line typed without echo (a password).
    fn hidden(&self, prompt: &str) -> Result<String> {
        let _ = prompt;
        Err(RunError::Terminal("no terminal to ask on".into()).into())
    }
    /// A progress line, on stderr.
    fn say(&self, message: &str);
    /// A line the user needs to act on (the login URL, the redirect URL to register): on
    /// stderr like progress, but shown even with `-q`.
    fn needed(&self, message: &str) {
        self.say(message);
    }
    fn warn(&self, message: &str);
    /// The result of the run, on stdout.
    fn result(&self, message: &str);
    /// Shown until the returned guard is dropped.
    fn waiting(&self, message: &str) -> Box<dyn Waiting>;
    /// Lines the user pastes while a login waits (paste-back): read when someone is at the
    /// terminal, or from stdin whatever it is when `forced` (`--paste`). `None`: no reading.
    fn paste_lines(&self, forced: bool) -> Option<PasteLines> {
        let _ = forced;
        None
    }
}

pub trait Waiting {}

/// A borrowed terminal is one too: tests hand the flow `&fake` and read it afterwards.
impl<T: Terminal + ?Sized> Terminal for &T {
    fn interactive(&self) -> bool {
        (**self).interactive()
    }
    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize> {
        (**self).choose(prompt, items)
    }
    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        (**self).input(prompt, default)
    }
    fn hidden(&self, prompt: &str) -> Result<String> {
        (**self).hidden(prompt)
    }
    fn say(&self, message: &str) {
        (**self).say(message)
    }
    fn needed(&self, message: &str) {
        (**self).needed(message)
    }
    fn warn(&self, message: &str) {
        (**self).warn(message)
    }
    fn result(&self, message: &str) {
        (**self).result(message)
    }
    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        (**self).waiting(message)
    }
    fn paste_lines(&self, forced: bool) -> Option<PasteLines> {
        (**self).paste_lines(forced)
    }
}

pub struct Console {
    interactive: bool,
    stderr_is_terminal: bool,
}

impl Console {
    pub fn new() -> Self {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        Console {
            interactive: std::io::stdin().is_terminal() && stderr_is_terminal,
            stderr_is_terminal,
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Terminal for Console {
    fn interactive(&self) -> bool {
        self.interactive
    }

    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize> {
        let items: Vec<String> = items.iter().map(|i| terminal_safe(i)).collect();
        let choice = dialoguer::Select::new()
            .with_prompt(terminal_safe(prompt))
            .items(&items)
            .default(0)
            .interact_opt();
        // The prompt hides the cursor; Ctrl-C (a key in raw mode, not a signal) or Esc must
        // not leave the user's terminal without one.
        let _ = dialoguer::console::Term::stderr().show_cursor();
        match choice {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Err(Error::Interrupted),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Err(Error::Interrupted)
            }
            Err(e) => Err(RunError::Terminal(format!("prompt failed: {e}")).into()),
        }
    }

    fn hidden(&self, prompt: &str) -> Result<String> {
        let answer = dialoguer::Password::new()
            .with_prompt(terminal_safe(prompt))
            .interact();
        let _ = dialoguer::console::Term::stderr().show_cursor();
        match answer {
            Ok(a) => Ok(a),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Err(Error::Interrupted)
            }
            Err(_) => Err(RunError::Terminal("the prompt failed".into()).into()),
        }
    }

    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        let mut input = dialoguer::Input::<String>::new().with_prompt(terminal_safe(prompt));
        if let Some(d) = default {
            input = input.default(terminal_safe(d));
        }
        let answer = input.interact_text();
        let _ = dialoguer::console::Term::stderr().show_cursor();
        match answer {
            Ok(a) => Ok(a.trim().to_string()),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Err(Error::Interrupted)
            }
            Err(e) => Err(RunError::Terminal(format!("prompt failed: {e}")).into()),
        }
    }

    fn say(&self, message: &str) {
        to_stderr(&terminal_safe(message));
    }

    fn warn(&self, message: &str) {
        to_stderr(&format!(
            "{} {}",
            Paint::for_stderr().warning("warning:"),
            terminal_safe(message)
        ));
    }

    fn result(&self, message: &str) {
        if message.starts_with('{') {
            to_stdout(&json_safe(message));
            return;
        }
        // The first line says what happened; the rest are details.
        let message = terminal_safe(message);
        let (first, rest) = message.split_once('\n').unwrap_or((&message, ""));
        let first = Paint::for_stdout().success(first);
        if rest.is_empty() {
            to_stdout(&first);
        } else {
            to_stdout(&format!("{first}\n{rest}"));
        }
    }

    fn paste_lines(&self, forced: bool) -> Option<PasteLines> {
        if !forced && !self.interactive {
            return None;
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        // A thread of its own, not the runtime's blocking pool: a read that never ends (the
        // callback came first) must not keep the process from exiting.
        std::thread::spawn(move || {
            read_lines(std::io::stdin().lock(), |line| tx.send(line).is_ok())
        });
        Some(rx)
    }

    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        let message = terminal_safe(message);
        if !self.stderr_is_terminal {
            to_stderr(&message);
            return Box::new(Plain);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Box::new(Spinner(bar))
    }
}

/// A line on stderr. A closed terminal (SIGHUP) or pipe makes writes fail: that must never
/// stop a run, least of all one finishing a token request so its answer is saved.
pub fn to_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A line on stdout, written as `to_stderr` writes.
pub fn to_stdout(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

struct Plain;
impl Waiting for Plain {}

struct Spinner(ProgressBar);
impl Waiting for Spinner {}
impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Progress dropped: for `-q`, and for commands whose stdout is a value a script captures
/// (`token`). Warnings, prompts, errors and what the user must act on still reach stderr;
/// results only when `keep_results` (the JSON asked for with `-q --json`).
pub struct Quiet<T> {
    inner: T,
    keep_results: bool,
}

impl<T: Terminal> Quiet<T> {
    pub fn new(inner: T) -> Quiet<T> {
        Quiet {
            inner,
            keep_results: false,
        }
    }

    pub fn keeping_results(inner: T) -> Quiet<T> {
        Quiet {
            inner,
            keep_results: true,
        }
    }
}

impl<T: Terminal> Terminal for Quiet<T> {
    fn interactive(&self) -> bool {
        self.inner.interactive()
    }

    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize> {
        self.inner.choose(prompt, items)
    }

    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        self.inner.input(prompt, default)
    }

    fn hidden(&self, prompt: &str) -> Result<String> {
        self.inner.hidden(prompt)
    }

    fn say(&self, _message: &str) {}

    fn needed(&self, message: &str) {
        self.inner.needed(message);
    }

    fn warn(&self, message: &str) {
        self.inner.warn(message);
    }

    fn result(&self, message: &str) {
        if self.keep_results {
            self.inner.result(message);
        }
    }

    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        self.inner.waiting(message)
    }

    fn paste_lines(&self, forced: bool) -> Option<PasteLines> {
        self.inner.paste_lines(forced)
    }
}
