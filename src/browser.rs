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
    /// The value of `BROWSER`: a program, optionally with arguments (quoted as for a shell),
    /// given the URL last.
    pub browser_env: Option<String>,
    /// Whether there is a desktop to open a browser on. Without one the system's opener
    /// fails after a while, or starts a text browser that takes over the terminal.
    pub desktop: bool,
}

impl SystemBrowser {
    /// As the environment says: `BROWSER`, and a desktop on macOS and Windows always, on
    /// other systems when a display (X11, Wayland) or WSL's bridge to Windows is there.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> SystemBrowser {
        SystemBrowser {
            browser_env: env("BROWSER"),
            desktop: desktop(env),
        }
    }
}

/// Whether a browser could be shown here, as `from_env` says.
pub fn desktop(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    cfg!(any(target_os = "macos", windows))
        || ["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME"]
            .iter()
            .any(|name| set(name))
}

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        match self.browser_env.as_deref().map(str::trim) {
            Some(cmd) if !cmd.is_empty() => {
                // Split as a shell would: BROWSER="open -a 'Google Chrome'".
                let words = shell_words::split(cmd)
                    .map_err(|e| format!("BROWSER={cmd} is not a command line: {e}"))?;
                let Some((program, args)) = words.split_first() else {
                    return Err(format!("BROWSER={cmd} names no program"));
                };
                Command::new(program)
                    .args(args)
                    .arg(url)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map(drop)
                    .map_err(|e| format!("BROWSER={cmd} could not be started ({e})"))
            }
            _ if !self.desktop => {
                Err("No browser can be opened here (no BROWSER, no display)".into())
            }
            // The opener's error quotes the URL and a debug form of its exit status: neither
            // helps, and the URL is on the screen already.
            _ => open::that_detached(url).map_err(|e| {
                tracing::debug!(kind = ?e.kind(), "the system's opener failed");
                "No browser could be opened here (the system's opener failed)".into()
            }),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn browser_arguments_are_split_as_a_shell_splits_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let script = dir.path().join("fake browser");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s|' \"$@\" > '{0}.part' && mv '{0}.part' '{0}'\n",
                seen.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let browser = SystemBrowser {
            browser_env: Some(format!("'{}' -a 'Google Chrome'", script.display())),
            desktop: false,
        };
        browser.open("http://127.0.0.1:9/authorize?x=1").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !seen.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the browser never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap(),
            "-a|Google Chrome|http://127.0.0.1:9/authorize?x=1|"
        );
        let unbalanced = SystemBrowser {
            browser_env: Some("open -a 'Google".into()),
            desktop: true,
        };
        assert!(
            unbalanced
                .open("http://x")
                .unwrap_err()
                .contains("not a command line")
        );
    }
}
