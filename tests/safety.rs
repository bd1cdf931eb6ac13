//! What docs/safety.md promises, each tried as an unlucky user or an attacker
//! would: a rotated refresh token is never lost (a save that cannot happen is refused before
//! anything is sent, SIGTERM waits for the answer, a failed save leaves a recovery file), no
//! secret is echoed in any encoding, bytes from outside never reach the terminal or a header
//! raw, reads are bounded, the callback server serves only its own address, and the file
//! keeps its owner, its links, its BOM and the provider's numbers.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A project whose development account holds a refresh token the stub will accept.
fn refreshable(stub: &Stub, cfg: Value) -> (Project, String) {
    let refresh = stub.issue_refresh_token();
    let mut cfg = cfg;
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-old-access-token", "refreshToken": refresh});
    (Project::new(&cfg), refresh)
}

fn token_requests(stub: &Stub) -> usize {
    stub.seen(|s| s.token_forms.len())
}

fn send_signal(run: &Run, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &run.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

// 1. A rotated refresh token is never lost.

#[test]
fn a_duplicate_key_in_the_test_account_is_refused_at_load_with_line_and_column() {
    let stub = Stub::start(Behaviour::default());
    let refresh = stub.issue_refresh_token();
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-first", "refreshToken": refresh});
    let text = serde_json::to_string_pretty(&cfg).unwrap().replace(
        r#""accessToken": "fake-first","#,
        "\"accessToken\": \"fake-first\",\n      \"accessToken\": \"fake-second\",",
    );
    let project = Project::with_text(&text);
    let line = text
        .lines()
        .position(|l| l.contains("fake-second"))
        .unwrap()
        + 1;
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "\"accessToken\" appears twice in a test account",
    );
    assert_has(&done.stderr, &format!("at line {line}, column"));
    assert_eq!(token_requests(&stub), 0, "nothing may be sent");
    assert_eq!(project.text(), text);
}

#[test]
fn a_read_only_file_is_refused_before_anything_is_sent_and_left_as_it_was() {
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let before = project.text();
    std::fs::set_permissions(&project.path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "it is read-only (mode 0444)");
    assert_has(&done.stderr, "nothing was sent to the provider");
    assert_eq!(token_requests(&stub), 0);
    assert_eq!(project.text(), before);
    let mode = std::fs::metadata(&project.path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444, "the file was replaced");
}

/// The folder must take the lock file and the temporary file a save writes first. As root
/// every folder is writable, so the CLI runs as nobody there (as the developer it stands
/// for).
#[test]
fn a_folder_that_cannot_be_written_is_refused_before_anything_is_sent() {
    let stub = Stub::start(Behaviour::default());
    let (project, refresh) = refreshable(&stub, config(&stub));
    let before = project.text();
    let dir = project.dir.path();
    let lock = dir.join(".unito.json.lock");
    let as_developer = |cmd: &mut Command| {
        if is_root() {
            cmd.uid(NOBODY).gid(NOBODY);
        }
    };
    let args = ["oauth2", "--no-browser", "--port", "0"];
    // First with no lock file yet, then with one left by an earlier run.
    for (lock_exists, why) in [
        (false, "the lock file"),
        (true, "no temporary file can be created in"),
    ] {
        if lock_exists {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::write(&lock, "").unwrap();
        }
        if is_root() {
            for path in [dir, project.path.as_path(), lock.as_path()] {
                let _ = std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY));
            }
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let done = project.oauth2_with(&args, &[], as_developer).finish(&stub);
        assert_eq!(done.code, 1, "{}", done.all());
        assert_has(&done.stderr, "tokens could not be saved into");
        assert_has(&done.stderr, why);
        assert_has(&done.stderr, "nothing was sent to the provider");
        assert_eq!(token_requests(&stub), 0, "nothing may be sent");
        assert_eq!(project.text(), before);
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(project.account("development")["refreshToken"], refresh);
}

#[test]
fn a_refresh_answer_without_a_usable_access_token_still_keeps_the_new_refresh_token() {
    for (what, body) in [
        (
            "no access_token",
            r#"{"refresh_token": "fake-new-rt-0123456789", "token_type": "Bearer"}"#,
        ),
        (
            "an access_token no header can carry",
            r#"{"access_token": "fake a b", "refresh_token": "fake-new-rt-0123456789"}"#,
        ),
    ] {
        let stub = Stub::start(Behaviour {
            token_failure: Some((200, "application/json".into(), body.into())),
            ..Behaviour::default()
        });
        let (project, _) = refreshable(&stub, config(&stub));
        let done = project.run(&stub, &[]);
        assert_eq!(done.code, 1, "{what}: {}", done.all());
        assert_has(&done.stderr, "the new refresh token it carried was saved");
        assert!(!done.all().contains("fake-new-rt-0123456789"), "{what}");
        let account = project.account("development");
        assert_eq!(account["refreshToken"], "fake-new-rt-0123456789", "{what}");
        assert_eq!(account["accessToken"], "fake-old-access-token", "{what}");
    }
}

#[test]
fn sigterm_during_a_refresh_waits_for_the_answer_and_saves_the_rotated_token() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(1500),
        ..Behaviour::default()
    });
    let (project, old) = refreshable(&stub, config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    eventually("the refresh request", || token_requests(&stub) == 1);
    send_signal(&run, "-TERM");
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(
        &done.stderr,
        "SIGTERM: finishing the token request already sent",
    );
    let rotated = project.account("development")["refreshToken"].clone();
    assert_ne!(rotated, old);
    stub.behave(|b| b.refresh_delay = Duration::ZERO);
    // The stub revokes the grant if the spent token comes back: only the saved one works.
    assert_eq!(project.run(&stub, &[]).code, 0);
}

/// A closed terminal sends SIGHUP and makes every write to it fail: the run must still
/// wait for the answer and save it, not die on its first message.
#[test]
fn sighup_during_a_refresh_with_the_terminal_gone_still_saves_the_rotated_token() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(1500),
        ..Behaviour::default()
    });
    let (project, old) = refreshable(&stub, config(&stub));
    let mut child = Command::new(BIN)
        .args(["oauth2", "--no-browser", "--port", "0"])
        .current_dir(project.dir.path())
        .env_remove("UNITO_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    eventually("the refresh request", || token_requests(&stub) == 1);
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_ne!(project.account("development")["refreshToken"], old);
    stub.behave(|b| b.refresh_delay = Duration::ZERO);
    assert_eq!(project.run(&stub, &[]).code, 0);
}

/// Two runs at once: the first fails to save and sets its tokens aside while the second
/// waits for the lock. The second must find them there, not present the spent token.
#[test]
fn a_run_waiting_for_the_lock_sees_tokens_the_run_before_it_set_aside() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(1000),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    cfg["notes"] = json!("n".repeat(100_000));
    let (project, _) = refreshable(&stub, cfg);
    let state = tempfile::tempdir().unwrap();
    let env = [("XDG_STATE_HOME", state.path().to_str().unwrap())];
    let args = ["oauth2", "--no-browser", "--port", "0"];
    let first = project.oauth2_with(&args, &env, limit_file_size);
    eventually("the first refresh request", || token_requests(&stub) == 1);
    let second = project.oauth2_env(&args, &env);
    second.wait_for("Waiting for another integration-cli run");
    let first = first.finish(&stub);
    assert_has(&first.stderr, "they were written to");
    let second = second.finish(&stub);
    assert_eq!(second.code, 1, "{}", second.all());
    assert_has(
        &second.stderr,
        "tokens from an earlier run that could not save them",
    );
    assert_eq!(
        token_requests(&stub),
        1,
        "the spent token was presented again"
    );
}

/// An editor saves the file half-done while `--all` waits for the provider: the answers
/// cannot be saved into it, so each account's tokens are set aside.
#[test]
fn a_file_broken_while_answers_are_awaited_leaves_every_accounts_tokens_aside() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(1000),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    for account in ["development", "compliance"] {
        cfg["testAccounts"][account] =
            json!({"accessToken": "fake-old", "refreshToken": stub.issue_refresh_token()});
    }
    let project = Project::new(&cfg);
    let text = project.text();
    let state = tempfile::tempdir().unwrap();
    let env = [("XDG_STATE_HOME", state.path().to_str().unwrap())];
    let run = project.oauth2_env(&["oauth2", "--all"], &env);
    eventually("both refresh requests", || token_requests(&stub) == 2);
    std::fs::write(&project.path, "{ \"half\": ").unwrap();
    let done = run.finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    let set_aside: Vec<_> = std::fs::read_dir(state.path().join("integration-cli/recovery"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(set_aside.len(), 2, "{}", done.all());
    let rotated = stub.seen(|s| s.refresh_tokens[2..].to_vec());
    for token in &rotated {
        assert!(set_aside.iter().any(|r| r.contains(token.as_str())));
    }
    std::fs::write(&project.path, &text).unwrap();
    for account in ["development", "compliance"] {
        let done = project
            .oauth2_env(&["oauth2", "--recover", "-t", account], &env)
            .finish(&stub);
        assert_eq!(done.code, 0, "{}", done.all());
    }
    assert_eq!(project.run(&stub, &["--all"]).code, 0);
}

#[test]
fn sigterm_and_sighup_while_waiting_for_the_browser_stop_with_143_and_129() {
    for (signal, code, name) in [("-TERM", 143, "SIGTERM"), ("-HUP", 129, "SIGHUP")] {
        let stub = Stub::start(Behaviour::default());
        let project = Project::new(&config(&stub));
        let before = project.text();
        let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
        run.login_url();
        send_signal(&run, signal);
        let done = run.finish(&stub);
        assert_eq!(done.code, code, "{}", done.all());
        assert_has(&done.stderr, &format!("stopped by {name}"));
        assert_eq!(project.text(), before);
    }
}

/// A small filesystem mounted over a folder for the test, unmounted when dropped.
struct Tmpfs {
    at: std::path::PathBuf,
}

impl Tmpfs {
    fn mount_over(at: &std::path::Path, size: &str) -> Result<Tmpfs, String> {
        if !is_root() {
            return Err("mounting a tmpfs needs root".into());
        }
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs { at: at.into() })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
    }
}

/// Writes into `path` until the filesystem is full.
fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![b'x'; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

/// After a save that failed once the provider had answered: the tokens wait in a recovery
/// file (0600, in the state directory), the next run without a terminal refuses to use
/// the file's spent token, `--recover` puts them in, and the rotated token then works.
fn the_tokens_of_a_failed_save_are_recovered(
    stub: &Stub,
    project: &Project,
    state: &std::path::Path,
    done: Finished,
) {
    let state_env = [("XDG_STATE_HOME", state.to_str().unwrap())];
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "the new tokens could not be saved into");
    assert_has(&done.stderr, "they were written to");
    assert_has(&done.stderr, "oauth2 --recover");
    let dir = state.join("integration-cli/recovery");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);
    assert_has(&done.stderr, &files[0].display().to_string());
    let rotated = stub.seen(|s| s.refresh_tokens.last().cloned().unwrap());
    assert_has(&std::fs::read_to_string(&files[0]).unwrap(), &rotated);

    let status = project.oauth2_env(&["status"], &state_env).finish(stub);
    assert_has(
        &status.stdout,
        &format!(
            "tokens a failed save set aside wait in {}",
            files[0].display()
        ),
    );

    let requests = token_requests(stub);
    let pending = project
        .oauth2_env(&["oauth2", "--no-browser", "--port", "0"], &state_env)
        .finish(stub);
    assert_eq!(pending.code, 1, "{}", pending.all());
    assert_has(
        &pending.stderr,
        "tokens from an earlier run that could not save them",
    );
    assert_eq!(
        token_requests(stub),
        requests,
        "the spent token must not be sent"
    );

    let recovered = project
        .oauth2_env(&["oauth2", "--recover"], &state_env)
        .finish(stub);
    assert_eq!(recovered.code, 0, "{}", recovered.all());
    assert_has(&recovered.stdout, "Saved the tokens set aside at");
    assert_eq!(
        project.account("development")["refreshToken"],
        rotated.as_str()
    );
    assert!(!files[0].exists(), "the recovery file is removed once used");
    assert_eq!(token_requests(stub), requests);

    let refreshed = project
        .oauth2_env(&["oauth2", "--no-browser", "--port", "0"], &state_env)
        .finish(stub);
    assert_eq!(refreshed.code, 0, "{}", refreshed.all());
}

#[test]
fn a_full_disk_after_the_answer_leaves_the_tokens_in_a_recovery_file() {
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let text = project.text();
    let tmpfs = match Tmpfs::mount_over(project.dir.path(), "256k") {
        Ok(t) => t,
        Err(why) => {
            eprintln!("skipped: a full disk is made with a small tmpfs, and {why}");
            return;
        }
    };
    std::fs::write(&project.path, &text).unwrap();
    let filler = project.dir.path().join("filler");
    fill(&filler);
    let state = tempfile::tempdir().unwrap();
    let done = project
        .oauth2_env(
            &["oauth2", "--no-browser", "--port", "0"],
            &[("XDG_STATE_HOME", state.path().to_str().unwrap())],
        )
        .finish(&stub);
    assert_has(&done.stderr, "No space left on device");
    assert_eq!(project.text(), text);
    std::fs::remove_file(&filler).unwrap();
    the_tokens_of_a_failed_save_are_recovered(&stub, &project, state.path(), done);
    drop(tmpfs);
}

/// A file-size limit (RLIMIT_FSIZE) of 32 KiB for the run: a padded project file's new copy
/// exceeds it, the small recovery file does not.
fn limit_file_size(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 32 * 1024,
                rlim_max: 32 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The same without root: a file-size limit that the project file's new copy exceeds.
#[test]
fn a_write_that_fails_mid_save_leaves_the_tokens_in_a_recovery_file() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["notes"] = json!("n".repeat(100_000));
    let (project, _) = refreshable(&stub, cfg);
    let text = project.text();
    let state = tempfile::tempdir().unwrap();
    let done = project
        .oauth2_with(
            &["oauth2", "--no-browser", "--port", "0"],
            &[("XDG_STATE_HOME", state.path().to_str().unwrap())],
            limit_file_size,
        )
        .finish(&stub);
    assert_has(&done.stderr, "File too large");
    assert_eq!(project.text(), text);
    the_tokens_of_a_failed_save_are_recovered(&stub, &project, state.path(), done);
}

#[test]
fn at_a_terminal_the_next_run_offers_the_set_aside_tokens() {
    use integration_cli::flow;
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let before = project.account("development");
    let state = tempfile::tempdir().unwrap();
    let recovered = json!({
        "accessToken": "fake-recovered-access",
        "refreshToken": stub.issue_refresh_token(),
    });
    let record = json!({
        "integrationCliRecovery": 1,
        "file": project.path.canonicalize().unwrap().to_string_lossy(),
        "testAccount": "development",
        "savedAt": "2026-12-01T10:00:00Z",
        "reason": "disk full",
        "account": recovered,
        "before": before,
    });
    let dir = state.path().join("integration-cli/recovery");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("recovery-1-1.json");
    std::fs::write(&file, record.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let terminal = fakes::FakeTerminal {
        interactive: true,
        choice: 0,
        ..Default::default()
    };
    let state_dir = state.path().to_string_lossy().into_owned();
    let env = move |k: &str| (k == "XDG_STATE_HOME").then(|| state_dir.clone());
    let opts = fakes::options(&project);
    let browser = fakes::FakeBrowser { works: false };
    let deps = fakes::deps(
        &terminal,
        &browser,
        &fakes::NoTunnel,
        std::time::SystemTime::now(),
    )
    .with_env(env);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::oauth2(&opts, &deps));
    assert!(result.is_ok(), "{result:?}");
    let prompts = terminal.prompts.lock().unwrap();
    assert_has(&prompts[0].0, "could not save");
    assert_eq!(project.account("development"), recovered);
    assert!(!file.exists());
    assert_eq!(token_requests(&stub), 0, "taking them needs no request");
}

// 2. No secret in any output, in any encoding.

#[test]
fn a_token_endpoint_that_echoes_the_basic_header_does_not_get_it_printed() {
    for (status, content_type, template) in [
        (
            401,
            "application/json",
            r#"{"error":"invalid_client","error_description":"bad credentials: {header}"}"#,
        ),
        (
            502,
            "text/html",
            "<html><body>upstream got {header}</body></html>",
        ),
        (200, "text/plain", "debug: {header} accepted"),
    ] {
        let stub = Stub::start(Behaviour {
            echo_authorization: Some((status, content_type.into(), template.into())),
            ..Behaviour::default()
        });
        let (project, _) = refreshable(&stub, config(&stub));
        let done = project.run(&stub, &[]);
        assert_eq!(done.code, 1, "{}", done.all());
        let header = stub.seen(|s| s.token_auth_headers[0].clone().unwrap());
        let encoded = header.strip_prefix("Basic ").unwrap();
        assert!(!done.all().contains(encoded), "{}", done.all());
        assert_has(&done.all(), "[redacted]");
    }
}

#[test]
fn credentials_in_a_token_url_are_refused_without_being_printed() {
    let stub = Stub::start(Behaviour::default());
    let url = stub
        .url
        .replace("http://", "http://fake-user:fake-pass-0123@");
    let cfg = config_with(&stub, "tokenUrl", json!(format!("{url}/token")));
    let (project, _) = refreshable(&stub, cfg);
    let done = project.run(&stub, &["-v"]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "tokenUrl holds credentials");
    for leaked in ["fake-pass-0123", "fake-user"] {
        assert!(!done.all().contains(leaked), "{}", done.all());
    }
    assert_eq!(token_requests(&stub), 0);
}

#[test]
fn a_token_url_that_does_not_parse_is_refused_without_its_credentials() {
    let stub = Stub::start(Behaviour::default());
    for url in [
        "http://fake-user:fake-pass-0123@127.0.0.1:99999/token",
        "http://fake-user:fake-pass-0123@bad host/token?api_key=fake-key-0123",
    ] {
        let (project, _) = refreshable(&stub, config_with(&stub, "tokenUrl", json!(url)));
        let done = project.run(&stub, &["-v"]);
        assert_eq!(done.code, 1, "{}", done.all());
        assert_has(&done.stderr, "tokenUrl redacted@");
        assert_has(&done.stderr, "is not a URL");
        for leaked in ["fake-pass", "fake-user", "fake-key"] {
            assert!(!done.all().contains(leaked), "{}", done.all());
        }
    }
    assert_eq!(token_requests(&stub), 0);
}

#[test]
fn a_key_in_a_token_urls_query_is_never_printed() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let stub = Stub::start(Behaviour::default());
    let url = format!("http://127.0.0.1:{port}/token?api_key=fake-api-key-0123456789");
    let (project, _) = refreshable(&stub, config_with(&stub, "tokenUrl", json!(url)));
    let done = project.run(&stub, &["-v"]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "could not reach the token endpoint");
    assert_has(&done.stderr, "api_key=redacted");
    assert!(!done.all().contains("fake-api-key"), "{}", done.all());
}

#[test]
fn a_variable_not_named_for_client_credentials_is_not_expanded() {
    let stub = Stub::start(Behaviour::default());
    let cfg = config_with(&stub, "clientSecret", json!("${AWS_SECRET_ACCESS_KEY}"));
    let (project, _) = refreshable(&stub, cfg);
    let done = project
        .oauth2_env(
            &["oauth2", "--no-browser", "--port", "0"],
            &[("AWS_SECRET_ACCESS_KEY", "fake-aws-secret-0123456789")],
        )
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "${AWS_SECRET_ACCESS_KEY}, which integration-cli does not expand there",
    );
    assert_has(
        &done.stderr,
        "only variables named *_CLIENT_SECRET, *_SECRET or UNITO_* are",
    );
    assert!(!done.all().contains("fake-aws-secret"));
    assert_eq!(token_requests(&stub), 0, "nothing may be sent");

    // A secret in clientId would travel in the login URL: only client-id names there.
    let cfg = config_with(&stub, "clientId", json!("${OTHER_CLIENT_SECRET}"));
    let project = Project::new(&cfg);
    let done = project
        .oauth2_env(
            &["oauth2", "--no-browser", "--port", "0"],
            &[("OTHER_CLIENT_SECRET", "fake-other-secret-0123456789")],
        )
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "only variables named *_CLIENT_ID or UNITO_* (and not *_SECRET) are",
    );
    assert!(!done.all().contains("fake-other-secret"));
}

// 3. Bytes from outside never reach the terminal or an HTTP header raw.

#[test]
fn an_access_token_with_control_characters_is_refused_and_nothing_is_saved() {
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let before = project.text();
    stub.behave(|b| {
        b.token_failure = Some((
            200,
            "application/json".into(),
            r#"{"access_token":"fake\r\nX-Injected: 1\u001b]52;c;ZXZpbA==\u0007","token_type":"Bearer"}"#
                .into(),
        ))
    });
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "its access_token cannot be a bearer token (RFC 6750)",
    );
    assert_has(&done.stderr, "a control character");
    assert!(!done.all().contains('\u{1b}') && !done.all().contains("X-Injected"));
    assert_eq!(project.text(), before);
}

#[test]
fn token_never_prints_a_stored_token_that_could_inject_a_header() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] = json!({"accessToken": "fake-token\r\nX-Injected: 1"});
    let project = Project::new(&cfg);
    let done = project.oauth2(&["token"]).finish(&stub);
    assert_eq!(done.code, 5, "{}", done.all());
    assert_eq!(done.stdout, "");
    assert_has(&done.stderr, "cannot be a bearer token");
    assert!(!done.stderr.contains('\r'));
}

#[test]
fn names_from_a_cloned_file_cannot_drive_the_terminal() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    let evil = "evil\u{1b}]52;c;ZXZpbA==\u{7}\u{9b}2J\u{202e}";
    cfg["authorizations"][0]["name"] = json!(evil);
    cfg["authorizations"][0]["oauth2"]["grantType"] = json!("client_credentials");
    cfg["testAccounts"] = json!({"development": {}, format!("acct-{evil}"): {}});
    let project = Project::new(&cfg);
    for args in [
        vec!["oauth2", "--no-browser", "--port", "0", "--reauth"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["oauth2", "-v", "--json", "--reauth"],
    ] {
        let done = project.oauth2(&args).finish(&stub);
        assert_eq!(done.code, 0, "{args:?}: {}", done.all());
        for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(
                !done.all().contains(raw),
                "{args:?} printed {raw:?}: {}",
                done.all()
            );
        }
    }
}

// 4. Bounded reads.

#[test]
fn a_pasted_line_without_end_stops_the_login_at_once() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let started = Instant::now();
    let done = project
        .oauth2_with(&["oauth2", "--paste", "--port", "45678"], &[], |cmd| {
            cmd.stdin(std::fs::File::open("/dev/zero").unwrap());
        })
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "a pasted line is longer than 64 KiB");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(project.text(), before);
}

#[test]
fn a_project_file_that_is_a_device_a_fifo_or_huge_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    for (path, why) in [
        (
            "/dev/zero".to_string(),
            "it is a device, not a regular file",
        ),
        (
            fifo.display().to_string(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (huge.display().to_string(), "it is larger than 64 MiB"),
    ] {
        let started = Instant::now();
        let out = Command::new(BIN)
            .args(["token", "--config", &path])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{path}: {stderr}");
        assert_has(&stderr, why);
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }
}

#[test]
fn an_oversized_metadata_document_is_not_believed() {
    // Promises iss from another issuer, behind 2 MiB of padding: read whole, it would make
    // the login fail as a mix-up; capped, it is ignored.
    let metadata = json!({
        "padding": "p".repeat(2 << 20),
        "issuer": "https://wrong-issuer.example",
        "authorization_response_iss_parameter_supported": true,
    });
    let stub = Stub::start(Behaviour {
        metadata_text: Some(metadata.to_string()),
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let done = login(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
}

// 5. The callback server serves only its own address.

/// One raw request to the callback server, and the whole answer.
fn raw_request(port: u16, request: &str) -> String {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer
}

fn callback_port(login_url: &str) -> u16 {
    url::Url::parse(&query_param(login_url, "redirect_uri").unwrap())
        .unwrap()
        .port()
        .unwrap()
}

#[test]
fn a_request_for_another_host_name_gets_421_even_with_the_right_state() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let login_url = run.login_url();
    let port = callback_port(&login_url);
    let state = query_param(&login_url, "state").unwrap();
    // A page on rebind.example, whose name now resolves to 127.0.0.1.
    let answer = raw_request(
        port,
        &format!(
            "GET /callback?code=fake-forged-code&state={state} HTTP/1.1\r\nHost: rebind.example:{port}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
    let health = raw_request(
        port,
        &format!("GET /health HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let (status, page) = browse(&login_url);
    assert_eq!(status, 200, "{page}");
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
}

#[test]
fn idle_connections_past_the_cap_make_room_for_the_real_callback() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let login_url = run.login_url();
    let port = callback_port(&login_url);
    let idle: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let closed = idle
        .iter()
        .filter(|c| {
            c.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let mut reader: &TcpStream = c;
            matches!(reader.read(&mut [0u8; 1]), Ok(0))
        })
        .count();
    assert!(
        closed >= 30,
        "only {closed} of 100 idle connections were closed"
    );
    // Connections that asked for something are answered and closed: none is kept alive to
    // hold a place.
    for _ in 0..100 {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        conn.write_all(
            format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut answer = Vec::new();
        let read = conn.read_to_end(&mut answer);
        assert!(read.is_ok(), "a kept-alive connection: {read:?}");
        assert!(answer.starts_with(b"HTTP/1.1 200"));
    }
    let (status, page) = browse(&login_url);
    assert_eq!(status, 200, "{page}");
    assert_eq!(run.finish(&stub).code, 0);
}

// 6. The file keeps its owner and its links.

#[test]
fn a_file_owned_by_someone_else_keeps_its_owner_and_so_does_the_lock() {
    if !is_root() {
        eprintln!("skipped: changing a file's owner needs root");
        return;
    }
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    for path in [project.dir.path(), project.path.as_path()] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    // `sudo integration-cli oauth2` in the developer's project.
    assert_eq!(project.run(&stub, &[]).code, 0);
    let lock = project.dir.path().join(".unito.json.lock");
    for path in [&project.path, &lock] {
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (NOBODY, NOBODY),
            "{}",
            path.display()
        );
    }
    // The developer's own next run.
    let done = project
        .oauth2_with(&["oauth2", "--no-browser", "--port", "0"], &[], |cmd| {
            cmd.uid(NOBODY).gid(NOBODY);
        })
        .finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
}

#[test]
fn a_planted_lock_link_is_not_followed() {
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("planted");
    std::os::unix::fs::symlink(&target, project.dir.path().join(".unito.json.lock")).unwrap();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "it is a symbolic link");
    assert!(!target.exists(), "the link was followed");
    assert_eq!(token_requests(&stub), 0);
}

#[test]
fn a_file_that_starts_with_a_bom_is_read_and_keeps_it() {
    let stub = Stub::start(Behaviour::default());
    let (project, _) = refreshable(&stub, config(&stub));
    let text = format!("\u{feff}{}", project.text());
    std::fs::write(&project.path, &text).unwrap();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    let after = project.text();
    assert!(after.starts_with('\u{feff}'), "the BOM was dropped");
    let v: Value = serde_json::from_str(after.trim_start_matches('\u{feff}')).unwrap();
    assert_ne!(
        v["testAccounts"]["development"]["accessToken"],
        "fake-old-access-token"
    );
}

// 7. Numbers as the provider sent them.

#[test]
fn numbers_the_provider_sent_are_stored_as_it_wrote_them() {
    let stub = Stub::start(Behaviour {
        extra_fields: serde_json::from_str(
            r#"{"created_at": 100000000000000000000, "ratio": 1.50, "big": -12345678901234567890123}"#,
        )
        .unwrap(),
        ..Behaviour::default()
    });
    let (project, _) = refreshable(&stub, config(&stub));
    assert_eq!(project.run(&stub, &[]).code, 0);
    let text = project.text();
    for kept in [
        r#""created_at": 100000000000000000000"#,
        r#""ratio": 1.50"#,
        r#""big": -12345678901234567890123"#,
    ] {
        assert_has(&text, kept);
    }
    // An issue time that far ahead is no issue time: the expiry counts from now.
    assert!(project.account("development")["expiresAt"].is_string());
}

#[test]
fn an_absurd_expires_in_is_kept_as_sent_and_means_no_known_expiry() {
    let twenty_years = 20 * 365 * 24 * 3600;
    let stub = Stub::start(Behaviour {
        expires_in: json!(twenty_years),
        ..Behaviour::default()
    });
    let (project, _) = refreshable(&stub, config(&stub));
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(&done.stderr, "beyond any sensible lifetime (over 10 years)");
    assert_has(&done.stdout, "expires        unknown");
    let account = project.account("development");
    assert_eq!(account["expiresIn"], twenty_years);
    assert!(account.get("expiresAt").is_none(), "{account}");
}
