//! Opening the consent page. `BROWSER` wins when set (as gh and git do), because the `open`
//! crate ignores it; otherwise the desktop's default browser.

use std::process::{Command, Stdio};

pub trait Browser {
    /// Err carries a human sentence; failing to open is never fatal, the URL is printed anyway.
    fn open(&self, url: &str) -> Result<(), String>;
}

impl<T: Browser + ?Sized> Browser for &T {
    fn open(&self, url: &str) -> Result<(), String> {
        (**self).open(url)
    }
}

pub struct SystemBrowser {
    /// The value of `BROWSER`: a program, optionally with arguments, given the URL last.
    pub browser_env: Option<String>,
}

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        match self.browser_env.as_deref().map(str::trim) {
            Some(cmd) if !cmd.is_empty() => {
                let mut words = cmd.split_whitespace();
                let program = words.next().unwrap_or(cmd);
                Command::new(program)
                    .args(words)
                    .arg(url)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map(drop)
                    .map_err(|e| format!("could not run BROWSER={cmd}: {e}"))
            }
            _ => open::that_detached(url).map_err(|e| format!("could not open a browser: {e}")),
        }
    }
}
