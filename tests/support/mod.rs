//! Runs the real binary in a temporary connector project, plays the browser with plain HTTP,
//! and checks every run's output for leaked secrets.

#![allow(dead_code, unused_imports)]

pub mod connector;
pub mod fakes;
pub mod stub;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use stub::{Auth, Behaviour, CLIENT_ID, CLIENT_SECRET, Stub};

pub const BIN: &str = env!("CARGO_BIN_EXE_integration-cli");

/// A connector project in a temporary folder, removed when dropped.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Project {
    pub fn with_text(text: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".unito.json");
        std::fs::write(&path, text).unwrap();
        Project { dir, path }
    }

    pub fn new(config: &Value) -> Project {
        Project::with_text(&serde_json::to_string_pretty(config).unwrap())
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text()).unwrap()
    }

    pub fn account(&self, name: &str) -> Value {
        self.json()["testAccounts"][name].clone()
    }

    pub fn oauth2(&self, args: &[&str]) -> Run {
        Run::start(self.dir.path(), args, &[])
    }

    pub fn oauth2_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::start(self.dir.path(), args, env)
    }

    /// A run whose stdin the test writes to (`Run::type_line`), as a script would.
    pub fn oauth2_stdin(&self, args: &[&str]) -> Run {
        Run::start_with_stdin(self.dir.path(), args, &[], true)
    }

    /// As `oauth2_stdin`, with these variables set.
    pub fn oauth2_stdin_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::start_with_stdin(self.dir.path(), args, env, true)
    }

    /// A run whose command the test shapes first (another user, limits, a stdin file).
    pub fn oauth2_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        shape: impl FnOnce(&mut Command),
    ) -> Run {
        Run::start_shaped(self.dir.path(), args, env, false, shape)
    }

    /// Takes the lock another integration-cli run would hold; released when dropped.
    pub fn hold_lock(&self) -> std::fs::File {
        let path = self
            .path
            .canonicalize()
            .unwrap()
            .with_file_name(".unito.json.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap();
        file.lock().unwrap();
        file
    }

    /// `oauth2 --no-browser --port 0 EXTRA...` run to its end: for runs that need no browser.
    pub fn run(&self, stub: &Stub, extra: &[&str]) -> Finished {
        let mut args = vec!["oauth2", "--no-browser", "--port", "0"];
        args.extend_from_slice(extra);
        self.oauth2(&args).finish(stub)
    }
}

/// `oauth2 --no-browser --port 0 EXTRA...` with the browser played by plain HTTP; the stub
/// approves at once, so the page must say the tokens were saved.
pub fn login(project: &Project, stub: &Stub, extra: &[&str]) -> Finished {
    let mut args = vec!["oauth2", "--no-browser", "--port", "0"];
    args.extend_from_slice(extra);
    let run = project.oauth2(&args);
    let (status, page) = browse(&run.login_url());
    assert_eq!(status, 200, "{page}");
    assert_has(&page, "Signed in");
    run.finish(stub)
}

/// One authorization-code authorization pointing at the stub.
pub fn authorization(stub: &Stub, name: &str) -> Value {
    json!({
        "name": name,
        "method": "oauth2",
        "development": true,
        "oauth2": {
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "authorizationUrl": format!("{}/authorize", stub.url),
            "tokenUrl": format!("{}/token", stub.url),
            "grantType": "authorization_code",
            "scopes": [{"name": "read", "description": "Read"}, "write"],
            "authorizationParameters": {"prompt": "consent"}
        }
    })
}

/// `config(stub)` with one key of the authorization's `oauth2` object set.
pub fn config_with(stub: &Stub, key: &str, value: Value) -> Value {
    let mut cfg = config(stub);
    cfg["authorizations"][0]["oauth2"][key] = value;
    cfg
}

pub fn config(stub: &Stub) -> Value {
    json!({
        "name": "fake-connector",
        "authorizations": [authorization(stub, "oauth2")],
        "testAccounts": {"development": {}, "compliance": {}}
    })
}

pub struct Run {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Run {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::start_with_stdin(dir, args, env, false)
    }

    fn start_with_stdin(dir: &Path, args: &[&str], env: &[(&str, &str)], piped: bool) -> Run {
        Run::start_shaped(dir, args, env, piped, |_| {})
    }

    fn start_shaped(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        piped: bool,
        shape: impl FnOnce(&mut Command),
    ) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir)
            .args(args)
            .stdin(if piped { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in [
            "OAUTH2_PORT",
            "BROWSER",
            "UNITO_CLIENT_SECRET",
            "UNITO_CONFIG",
            "UNITO_AUTHORIZATION",
            "UNITO_TEST_ACCOUNT",
            "NGROK_AUTHTOKEN",
            "NGROK_DOMAIN",
            "NGROK_SERVER_ADDR",
            "NO_COLOR",
            "CLICOLOR_FORCE",
            "UNITO_USERNAME",
            "UNITO_PASSWORD",
            "UNITO_CA_FILE",
            "SSL_CERT_FILE",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        shape(&mut cmd);
        let mut child = cmd.spawn().expect("the binary starts");
        let stdin = child.stdin.take();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = channel();
        let mut out_pipe = child.stdout.take().unwrap();
        let err_pipe = child.stderr.take().unwrap();
        let out_buf = stdout.clone();
        let err_buf = stderr.clone();
        let readers = vec![
            // Line by line, so a test can watch stdout while the run goes on.
            std::thread::spawn(move || {
                let mut out = BufReader::new(&mut out_pipe);
                let mut line = String::new();
                while out.read_line(&mut line).is_ok_and(|n| n > 0) {
                    out_buf.lock().unwrap().push_str(&line);
                    line.clear();
                }
            }),
            std::thread::spawn(move || {
                for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                    err_buf.lock().unwrap().push_str(&line);
                    err_buf.lock().unwrap().push('\n');
                    let _ = tx.send(line);
                }
            }),
        ];
        Run {
            child,
            stdin,
            lines,
            stdout,
            stderr,
            readers,
        }
    }

    /// Writes one line to the run's stdin (see `Project::oauth2_stdin`).
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self
            .stdin
            .as_mut()
            .expect("a run started with oauth2_stdin");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The login URL the CLI prints for the user to open.
    pub fn login_url(&self) -> String {
        self.wait_for_line(|l| l.trim_start().starts_with("http") && l.contains("/authorize?"))
            .trim()
            .to_string()
    }

    /// The login URL the CLI prints, for an authorization endpoint at any path under `base`.
    pub fn login_url_at(&self, base: &str) -> String {
        self.wait_for_line(|l| l.trim_start().starts_with(base) && l.contains("client_id="))
            .trim()
            .to_string()
    }

    /// The address a `proxy` run serves at, from the line it starts with.
    pub fn proxy_url(&self) -> String {
        self.line_containing("Proxying http://")
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .expect("the proxy's address")
            .to_string()
    }

    /// The first line of stderr (bounded wait) that contains `text`.
    pub fn line_containing(&self, text: &str) -> String {
        self.wait_for_line(|l| l.contains(text))
    }

    /// Waits (bounded) for a line of stderr that contains `text`.
    pub fn wait_for(&self, text: &str) {
        self.wait_for_line(|l| l.contains(text));
    }

    fn wait_for_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "the expected line never came; stderr so far:\n{}",
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// Waits for the exit (bounded), then checks that no secret the stub handed out or
    /// received appears anywhere in the output.
    pub fn finish(self, stub: &Stub) -> Finished {
        let finished = self.wait();
        assert_no_secrets(&finished.all(), &stub.seen(|s| s.secrets.clone()));
        finished
    }

    /// Whether the CLI has already exited (its output is still collected by `wait`).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout_so_far(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits for the exit (bounded) and collects the output; the caller checks for secrets.
    pub fn wait(mut self) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the CLI did not exit; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        Finished {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // A failing test must not leave the CLI (and its port) behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn assert_no_secrets(output: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "a secret leaked into the output: {s}\n--- output ---\n{output}"
        );
    }
}

/// A `BROWSER` program that records the URL it was given into the returned file.
pub fn recording_browser(dir: &Path) -> (PathBuf, PathBuf) {
    let opened = dir.join("opened-url");
    let script = dir.join("fake-browser");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{0}.part' && mv '{0}.part' '{0}'\n",
            opened.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, opened)
}

/// Polls `cond` for up to 20 s.
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Plays a browser that resolves each `(host, address)` pair as given: a relay with a
/// public-looking name, served on loopback.
pub fn browse_resolving(url: &str, hosts: &[(&str, std::net::SocketAddr)]) -> (u16, String) {
    let mut client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30));
    for (host, addr) in hosts {
        client = client.resolve(host, *addr);
    }
    let r = client.build().unwrap().get(url).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// A relay, as a platform runs one: takes the provider's redirect, reads from `state` where
/// this login listens (`<nonce>.<base64url URL>`) and sends the browser on there with the
/// same query. Serves until dropped; `rewrite` may tamper with the state it passes on.
pub struct Relay {
    pub addr: std::net::SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    pub fn start(rewrite: fn(&str) -> String) -> Relay {
        use base64::Engine;
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stopping.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                let mut line = String::new();
                BufReader::new(conn.try_clone().unwrap())
                    .read_line(&mut line)
                    .unwrap();
                let target = line.split_whitespace().nth(1).unwrap_or("/");
                let url = url::Url::parse(&format!("http://relay{target}")).unwrap();
                let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                let state = pairs
                    .iter()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let back = state.split_once('.').and_then(|(_, b)| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(b)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                });
                let reply = match back {
                    Some(back) => {
                        for (k, v) in pairs.iter_mut() {
                            if k == "state" {
                                *v = rewrite(v);
                            }
                        }
                        let mut to = url::Url::parse(&back).unwrap();
                        to.query_pairs_mut().extend_pairs(&pairs);
                        format!(
                            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                    }
                    None => {
                        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .into()
                    }
                };
                let _ = conn.write_all(reply.as_bytes());
            }
        });
        Relay { addr, stop }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Plays the user at the sandbox at `sandbox_url`: opens `login_url` and approves on the
/// consent page; the redirect is followed to the CLI's callback.
pub fn approve_at_sandbox(sandbox_url: &str, login_url: &str) {
    let page = http().get(login_url).send().unwrap().text().unwrap();
    let consent = page
        .split("name=\"consent\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no consent form at {login_url}: {page}"));
    let done = http()
        .post(format!("{sandbox_url}/authorize/decision"))
        .form(&[("consent", consent), ("decision", "approve")])
        .send()
        .unwrap();
    assert_eq!(done.status(), 200);
}

/// Plays the browser: follows the provider's redirect to the callback and returns the page.
pub fn browse(url: &str) -> (u16, String) {
    let r = http().get(url).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

pub fn query_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `assert!(text.contains(needle))` that shows the whole text when it fails.
#[track_caller]
pub fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
}
