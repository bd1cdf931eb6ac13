//! The terminal: prompts when someone is there to answer, a spinner while we wait, and plain
//! lines otherwise. Progress goes to stderr; stdout carries only the result, so scripts can
//! capture it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};

pub trait Terminal {
    /// Whether a person can answer prompts (stdin and stderr are terminals).
    fn interactive(&self) -> bool;
    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize>;
    /// A line of text, `default` when the user just presses Enter.
    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String>;
    /// A progress line, on stderr.
    fn say(&self, message: &str);
    fn warn(&self, message: &str);
    /// The result of the run, on stdout.
    fn result(&self, message: &str);
    /// Shown until the returned guard is dropped.
    fn waiting(&self, message: &str) -> Box<dyn Waiting>;
}

pub trait Waiting {}

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
        let choice = dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
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
            Err(e) => Err(Error::Terminal(format!("prompt failed: {e}"))),
        }
    }

    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        let mut input = dialoguer::Input::<String>::new().with_prompt(prompt);
        if let Some(d) = default {
            input = input.default(d.to_string());
        }
        let answer = input.interact_text();
        let _ = dialoguer::console::Term::stderr().show_cursor();
        match answer {
            Ok(a) => Ok(a.trim().to_string()),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Err(Error::Interrupted)
            }
            Err(e) => Err(Error::Terminal(format!("prompt failed: {e}"))),
        }
    }

    fn say(&self, message: &str) {
        eprintln!("{message}");
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    fn result(&self, message: &str) {
        println!("{message}");
    }

    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        if !self.stderr_is_terminal {
            eprintln!("{message}");
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

struct Plain;
impl Waiting for Plain {}

struct Spinner(ProgressBar);
impl Waiting for Spinner {}
impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// For commands whose stdout is a value a script captures (`token`): progress and results
/// are dropped, so the value is all there is; warnings, prompts and errors still reach stderr.
pub struct Quiet<'a>(pub &'a dyn Terminal);

impl Terminal for Quiet<'_> {
    fn interactive(&self) -> bool {
        self.0.interactive()
    }

    fn choose(&self, prompt: &str, items: &[String]) -> Result<usize> {
        self.0.choose(prompt, items)
    }

    fn input(&self, prompt: &str, default: Option<&str>) -> Result<String> {
        self.0.input(prompt, default)
    }

    fn say(&self, _message: &str) {}

    fn warn(&self, message: &str) {
        self.0.warn(message);
    }

    fn result(&self, _message: &str) {}

    fn waiting(&self, message: &str) -> Box<dyn Waiting> {
        self.0.waiting(message)
    }
}
