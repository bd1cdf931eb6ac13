//! The suite's two outside parties: node-oidc-provider as the authorization server and
//! headless Chromium (driven by playwright-core) as the user. Each process is owned by a
//! guard that stops it by its own process id when the test ends, pass or fail.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the suite needs from the machine, found once.
pub struct Prereqs {
    dir: PathBuf,
    chromium: PathBuf,
    /// A Python with Authlib and Flask (the virtualenv scripts/test.sh makes).
    python: PathBuf,
}

/// How the suite treats a missing peer: under CI it is a failure, elsewhere a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.to_lowercase().as_str(), "" | "false" | "0"))
}

impl Prereqs {
    /// Err is the reason the suite cannot run, with what to do about it.
    pub fn find() -> Result<Prereqs, String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
        let version = Command::new("node")
            .arg("--version")
            .output()
            .map_err(|e| format!("Node.js is not installed (`node --version`: {e})"))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        let numbers: Vec<u32> = version
            .trim_start_matches('v')
            .split('.')
            .filter_map(|n| n.parse().ok())
            .collect();
        if numbers.len() < 2 || (numbers[0], numbers[1]) < (20, 19) {
            return Err(format!(
                "oidc-provider needs Node.js 20.19 or later, found {version:?}"
            ));
        }
        for package in ["oidc-provider", "playwright-core"] {
            if !dir
                .join("node_modules")
                .join(package)
                .join("package.json")
                .is_file()
            {
                return Err(format!(
                    "npm package {package} is not installed: run `npm ci` in tests/e2e \
                     (scripts/test.sh does)"
                ));
            }
        }
        let chromium = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
        if !chromium.is_file() {
            return Err(format!(
                "Chromium is not at {} (set CHROMIUM, or install Debian's: apt-get install -y \
                 --no-install-recommends chromium; scripts/test.sh does when run as root)",
                chromium.display()
            ));
        }
        let python = std::env::var_os("E2E_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-venv/bin/python")
            });
        let imports = Command::new(&python)
            .args(["-c", "import authlib, flask"])
            .output();
        if !imports.is_ok_and(|o| o.status.success()) {
            return Err(format!(
                "no Python with Authlib and Flask at {} (scripts/test.sh makes that virtualenv \
                 from tests/e2e/requirements.txt; or set E2E_PYTHON)",
                python.display()
            ));
        }
        Ok(Prereqs {
            dir,
            chromium,
            python,
        })
    }
}

/// A child process stopped when dropped: SIGTERM first so it can tidy up (Playwright closes
/// its browser), SIGKILL if it has not gone within five seconds. Its stdin stays open while
/// this lives: our node scripts exit when it closes, which also covers this test process
/// being killed outright, when no Drop runs.
struct Owned(Child);

impl Owned {
    fn wait_until(&mut self, deadline: Instant) -> Option<std::process::ExitStatus> {
        loop {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            if self
                .wait_until(Instant::now() + Duration::from_secs(5))
                .is_none()
            {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }
}

/// Collects a pipe in the background so the child never blocks on a full pipe.
fn collect(pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    })
}

/// node-oidc-provider on 127.0.0.1, on a port the OS picked.
pub struct Server {
    /// Held only to stop the server when the test ends.
    _process: Owned,
    pub issuer: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `env` sets the server's knobs (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL).
    pub fn start(prereqs: &Prereqs, env: &[(&str, &str)]) -> Server {
        Server::spawn(prereqs, Command::new("node").arg("server.mjs"), env)
    }

    /// Authlib's password and JWT bearer grants (tests/e2e/authlib_server.py), assertions
    /// verified with the test-only RSA key.
    pub fn start_authlib(prereqs: &Prereqs, env: &[(&str, &str)]) -> Server {
        let key = prereqs.dir.join("../fixtures/jwt/test-only-rsa.pub.pem");
        let mut command = Command::new(&prereqs.python);
        command.arg("authlib_server.py").env("JWT_PUBLIC_KEY", key);
        Server::spawn(prereqs, &mut command, env)
    }

    fn spawn(prereqs: &Prereqs, command: &mut Command, env: &[(&str, &str)]) -> Server {
        let mut child = command
            .current_dir(&prereqs.dir)
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let _ = collect(child.stderr.take().unwrap(), log.clone());
        let stdout = child.stdout.take().unwrap();
        let mut process = Owned(child);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    let _ = tx.send(issuer.to_string());
                }
            }
        });
        let issuer = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(issuer) => issuer,
            Err(_) => {
                let status = process.wait_until(Instant::now());
                panic!(
                    "the server did not start ({status:?}); its stderr:\n{}",
                    log.lock().unwrap()
                );
            }
        };
        Server {
            _process: process,
            issuer,
            log,
        }
    }

    /// The server's own account of each grant, for a failing test's message.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("[oidc]") || l.starts_with("[authlib]"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Choice {
    Approve,
    Deny,
}

/// What Chromium showed at the CLI's callback.
#[derive(Debug)]
pub struct Page {
    pub callback_url: String,
    /// `data-result` of the CLI's page: "ok" or "fail".
    pub result: String,
    pub heading: String,
    pub text: String,
}

/// Signs in on the consent URL in a fresh headless Chromium and makes `choice`; returns once
/// the browser shows the CLI's final page.
pub fn sign_in(prereqs: &Prereqs, url: &str, choice: Choice) -> Page {
    let profile = tempfile::tempdir().unwrap();
    let action = match choice {
        Choice::Approve => "approve",
        Choice::Deny => "deny",
    };
    let mut child = Command::new("node")
        .arg("drive.mjs")
        .args([action, url])
        .arg(profile.path())
        .current_dir(&prereqs.dir)
        .env("CHROMIUM", &prereqs.chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let reader = collect(child.stdout.take().unwrap(), out.clone());
    let _ = collect(child.stderr.take().unwrap(), err.clone());
    let mut driver = Owned(child);
    let status = driver.wait_until(Instant::now() + Duration::from_secs(60));
    if status.is_some() {
        // Chromium does not share this pipe, so it closes with the driver.
        let _ = reader.join();
    }
    let text = out.lock().unwrap().clone();
    let line = text
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_default();
    let failed = || {
        format!(
            "the browser driver failed ({status:?}):\n{}",
            err.lock().unwrap()
        )
    };
    assert!(status.is_some_and(|s| s.success()), "{}", failed());
    let v: Value = serde_json::from_str(line.trim()).unwrap_or_else(|_| panic!("{}", failed()));
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Page {
        callback_url: field("callbackUrl"),
        result: field("result"),
        heading: field("heading"),
        text: field("text"),
    }
}
