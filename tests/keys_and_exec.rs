//! Hardening of the signing key and of `exec`, through the binary: a key file is a regular
//! file of a key's size inside the project's folder (elsewhere only when the user allows
//! it), and `exec` starts no command after a stop signal and passes on a SIGINT sent from
//! another shell even at a terminal.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use integration_cli::sandbox;
use serde_json::json;
use support::connector::{self, Served};
use support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// The sandbox, verifying assertions with the test RSA key.
fn sandbox() -> Served<sandbox::Sandbox> {
    connector::sandbox_with(sandbox::Options {
        jwt_key: Some(fixture("test-only-rsa.pub.pem")),
        ..sandbox::Options::default()
    })
}

/// A project whose one authorization gets jwt-bearer tokens from the sandbox, signed with
/// the key `key_file` names.
fn project(sandbox: &sandbox::Sandbox, key_file: &str) -> Project {
    let mut authorization = sandbox.authorization("sandbox");
    let settings = authorization["oauth2"].as_object_mut().unwrap();
    settings.remove("clientSecret");
    settings.insert("grantType".into(), json!(JWT_BEARER));
    settings.insert(
        "jwt".into(),
        json!({"privateKeyFile": key_file, "algorithm": "RS256"}),
    );
    Project::new(&json!({
        "authorizations": [authorization],
        "testAccounts": {"development": {}}
    }))
}

/// The test key at `path`, readable by its owner only.
fn write_key(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, fixture("test-only-rsa.pem")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn got_a_token(project: &Project) -> bool {
    project.account("development")["accessToken"].is_string()
}

#[test]
fn a_key_file_outside_the_project_is_used_only_when_the_user_allows_it() {
    let sandbox = sandbox();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("victim").join("key.pem");
    write_key(&outside);
    let parent_name = elsewhere.path().file_name().unwrap().to_str().unwrap();

    // Climbing out, an absolute path, and a link inside that leads out: all refused, named.
    let climbing = format!("../{parent_name}/victim/key.pem");
    for (how, named) in [
        ("climbing out", climbing.as_str()),
        ("an absolute path", outside.to_str().unwrap()),
        ("a link leading out", "key.pem"),
    ] {
        let p = project(&sandbox, named);
        if how == "a link leading out" {
            std::os::unix::fs::symlink(&outside, p.dir.path().join("key.pem")).unwrap();
        } else {
            // `../<tempdir>/…` climbs from the project's own temporary folder.
            let from = p.dir.path().join(named);
            assert!(from.exists(), "{how}: {}", from.display());
        }
        // Set to nothing is off.
        let refused = p
            .oauth2_env(&["oauth2"], &[("UNITO_ALLOW_KEY_OUTSIDE", "")])
            .wait();
        assert_eq!(refused.code, 1, "{how}: {}", refused.all());
        assert_has(&refused.stderr, "outside the project's folder");
        assert_has(&refused.stderr, named);
        assert_has(&refused.stderr, "--allow-key-outside");
        assert_has(&refused.stderr, "UNITO_ALLOW_KEY_OUTSIDE=1");
        assert!(!got_a_token(&p), "{how}: nothing was signed");

        // The user's say: the flag, or the variable (for every command that signs).
        let allowed = p.oauth2(&["oauth2", "--allow-key-outside"]).wait();
        assert_eq!(allowed.code, 0, "{how}: {}", allowed.all());
        assert!(got_a_token(&p));
        let mut file = p.json();
        file["testAccounts"]["development"] = json!({});
        std::fs::write(&p.path, file.to_string()).unwrap();
        let by_env = p
            .oauth2_env(&["token"], &[("UNITO_ALLOW_KEY_OUTSIDE", "1")])
            .wait();
        assert_eq!(by_env.code, 0, "{how}: {}", by_env.all());
    }

    // A link that stays inside the project is the project's own key.
    let linked = project(&sandbox, "key.pem");
    write_key(&linked.dir.path().join("keys").join("real.pem"));
    std::os::unix::fs::symlink("keys/real.pem", linked.dir.path().join("key.pem")).unwrap();
    let done = linked.oauth2(&["oauth2"]).wait();
    assert_eq!(done.code, 0, "{}", done.all());
}

#[test]
fn a_fifo_or_standard_input_as_the_key_is_refused_at_once_and_a_huge_file_unread() {
    let sandbox = sandbox();
    let fifo = project(&sandbox, "key.pem");
    let path = fifo.dir.path().join("key.pem");
    let made = Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    // Nobody ever writes to it: reading would wait for ever.
    let refused = fifo.oauth2(&["oauth2"]).wait();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert_has(&refused.stderr, "a FIFO (named pipe), not a regular file");

    // Standard input, allowed outside: a pipe that stays open and says nothing.
    let stdin = project(&sandbox, "/dev/stdin");
    let refused = stdin
        .oauth2_stdin(&["oauth2", "--allow-key-outside"])
        .wait();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert_has(&refused.stderr, "not a regular file");

    let huge = project(&sandbox, "key.pem");
    let path = huge.dir.path().join("key.pem");
    std::fs::write(&path, "A".repeat(1 << 20)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let refused = huge.oauth2(&["oauth2"]).wait();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert_has(&refused.stderr, "too large to be a key");
}

/// A token endpoint that tells the test when a request came and answers only when told:
/// a refresh as slow as the test wants.
struct SlowTokenEndpoint {
    url: String,
    arrived: Receiver<()>,
    release: Sender<()>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowTokenEndpoint {
    fn start() -> SlowTokenEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let (arrived_tx, arrived) = channel();
        let (release, released) = channel::<()>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                read_request(&conn);
                let _ = arrived_tx.send(());
                // Bounded, so a failing test cannot leave this thread behind.
                if released.recv_timeout(Duration::from_secs(30)).is_err() {
                    continue;
                }
                let body = json!({"access_token": "fake-slow-access-token",
                    "token_type": "Bearer", "expires_in": 3600})
                .to_string();
                let _ = write!(
                    &conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        SlowTokenEndpoint {
            url,
            arrived,
            release,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SlowTokenEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.release.send(());
        let _ = self.thread.take().map(|t| t.join());
    }
}

/// Headers, then as many bytes as Content-Length says.
fn read_request(conn: &std::net::TcpStream) {
    let mut reader = BufReader::new(conn);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
}

/// A client-credentials authorization at `token_url`, its test account empty.
fn client_credentials_project(token_url: &str) -> Project {
    Project::new(&json!({
        "authorizations": [{
            "name": "slow",
            "method": "oauth2",
            "development": true,
            "oauth2": {
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "tokenUrl": token_url,
                "grantType": "client_credentials"
            }
        }],
        "testAccounts": {"development": {}}
    }))
}

fn lock_is_free(project: &Project) -> bool {
    let lock = project.dir.path().join(".unito.json.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
        .unwrap();
    file.try_lock().is_ok()
}

#[test]
fn exec_starts_no_command_after_a_stop_signal_during_the_refresh() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129), ("-INT", 130)] {
        let endpoint = SlowTokenEndpoint::start();
        let project = client_credentials_project(&endpoint.url);
        let marker = project.dir.path().join("started");
        let script = format!("touch '{}'", marker.display());
        let run = project.oauth2(&["exec", "--", "sh", "-c", &script]);
        endpoint
            .arrived
            .recv_timeout(Duration::from_secs(20))
            .expect("the token request");
        let sent = Command::new("kill")
            .args([signal, &run.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        // The signal is in before the answer: the run says it finishes the request first.
        run.wait_for("finishing the token request");
        endpoint.release.send(()).unwrap();
        let done = run.wait();
        assert_eq!(done.code, code, "{signal}: {}", done.all());
        assert!(!marker.exists(), "{signal}: the command was started");
        assert_has(&done.stderr, "the command was not started");
        assert_eq!(
            project.account("development")["accessToken"],
            "fake-slow-access-token",
            "{signal}: the answer is saved"
        );
        assert!(lock_is_free(&project), "{signal}: the lock is released");
    }
}

/// A project whose test account holds a token valid for years: `exec` needs no network.
fn fresh_project() -> Project {
    let project = client_credentials_project("http://127.0.0.1:9/token");
    let mut file = project.json();
    file["testAccounts"]["development"] = json!({
        "accessToken": "fake-fresh-access-token",
        "expiresAt": "2099-01-01T00:00:00Z"
    });
    std::fs::write(&project.path, file.to_string()).unwrap();
    project
}

/// `exec` at a real pseudo-terminal, in its foreground, running a command that counts the
/// SIGINTs it gets (each delivery: perl's handlers are not merged as a shell's traps are)
/// and ends on SIGTERM with 40 + that count.
fn exec_at_a_terminal(project: &Project) -> (rexpect::session::PtySession, PathBuf) {
    let dir = project.dir.path();
    let (ready, count) = (dir.join("ready"), dir.join("count"));
    let script = r#"
        my $n = 0;
        $SIG{INT} = sub {
            $n++;
            open(my $f, ">", "count.part") or die; print $f $n; close $f;
            rename("count.part", "count") or die;
        };
        $SIG{TERM} = sub { exit(40 + $n) };
        open(my $r, ">", "ready") or die; close $r;
        sleep 1 while 1;
    "#;
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(["exec", "--", "perl", "-e", script])
        .env("NO_COLOR", "1")
        .env("TERM", "dumb");
    for var in ["UNITO_CONFIG", "UNITO_TEST_ACCOUNT", "UNITO_AUTHORIZATION"] {
        cmd.env_remove(var);
    }
    let session = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    eventually("the command to start", || ready.exists());
    (session, count)
}

fn sigints_counted(count: &Path) -> Option<String> {
    std::fs::read_to_string(count)
        .ok()
        .map(|c| c.trim().to_string())
}

/// Sends SIGTERM to `exec` (passed on: the command ends with 40 + its SIGINT count) and
/// returns the exit code.
fn stop_and_wait(session: &mut rexpect::session::PtySession) -> i32 {
    let pid = session.process().child_pid.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let _ = session.exp_eof();
    match session.process().wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    }
}

#[test]
fn exec_at_a_terminal_passes_on_a_sigint_sent_from_another_shell() {
    let project = fresh_project();
    let (mut session, count) = exec_at_a_terminal(&project);
    let pid = session.process().child_pid.to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    eventually("the command to get the SIGINT", || {
        sigints_counted(&count).as_deref() == Some("1")
    });
    assert_eq!(stop_and_wait(&mut session), 41);
}

#[test]
fn exec_at_a_terminal_leaves_ctrl_c_to_the_command_and_keeps_waiting() {
    let project = fresh_project();
    let (mut session, count) = exec_at_a_terminal(&project);
    session.send_control('c').unwrap();
    eventually("the command to get the Ctrl-C", || {
        sigints_counted(&count).is_some()
    });
    // Once: exec did not send it a second time (which reads as "stop now" to many tools),
    // nor stop on it; the command still runs, and its end is exec's.
    assert_eq!(stop_and_wait(&mut session), 41);
}
