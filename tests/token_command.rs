//! Black-box tests of `integration-cli token`: stdout carries the access token and nothing
//! else, refreshed or requested again first when it has expired, and exit 5 when only a
//! browser login would help.

mod support;

use std::time::{Duration, SystemTime};

use integration_cli::clock;
use serde_json::{Value, json};
use support::*;

/// Runs `integration-cli token ARGS` to its end. The printed token is the one value allowed
/// out, and only on stdout: stderr may hold no secret at all.
fn token(project: &Project, stub: &Stub, args: &[&str]) -> Finished {
    let mut all = vec!["token"];
    all.extend_from_slice(args);
    let done = project.oauth2(&all).wait();
    let secrets = stub.seen(|s| s.secrets.clone());
    assert_no_secrets(&done.stderr, &secrets);
    let printed = done.stdout.trim_end_matches('\n');
    let others: Vec<String> = secrets.into_iter().filter(|s| s != printed).collect();
    assert_no_secrets(&done.stdout, &others);
    done
}

fn in_secs(secs: i64) -> String {
    let now = SystemTime::now();
    clock::rfc3339(if secs >= 0 {
        now + Duration::from_secs(secs as u64)
    } else {
        now - Duration::from_secs(secs.unsigned_abs())
    })
}

/// A project whose development account holds `account`.
fn project_with(stub: &Stub, grant: &str, account: Value) -> Project {
    let mut cfg = config_with(stub, "grantType", json!(grant));
    cfg["testAccounts"]["development"] = account;
    Project::new(&cfg)
}

#[test]
fn a_valid_token_is_printed_alone_with_no_request() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-valid-access-0001", "refreshToken": "fake-unused-refresh", "expiresAt": in_secs(3600)}),
    );
    let before = project.text();
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(done.stdout, "fake-valid-access-0001\n");
    assert_eq!(done.stderr, "");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 0);
    assert_eq!(project.text(), before);
}

#[test]
fn a_token_without_a_stated_expiry_is_printed_as_is() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-forever-access-0001"}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(done.stdout, "fake-forever-access-0001\n");
}

#[test]
fn an_expired_token_is_refreshed_saved_and_printed() {
    let stub = Stub::start(Behaviour::default());
    let refresh = stub.issue_refresh_token();
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-stale-access", "refreshToken": refresh, "expiresAt": in_secs(-10), "apiBase": "kept"}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    let fresh = stub.seen(|s| s.access_tokens[0].clone());
    assert_eq!(done.stdout, format!("{fresh}\n"));
    assert_eq!(done.stderr, "");
    let account = project.account("development");
    assert_eq!(account["accessToken"], fresh.as_str());
    assert_eq!(account["apiBase"], "kept");
    assert_ne!(
        account["refreshToken"],
        refresh.as_str(),
        "the rotated one is saved"
    );
    assert_eq!(
        stub.seen(|s| s.token_forms[0]["grant_type"].clone()),
        "refresh_token"
    );
}

#[test]
fn a_token_with_90_seconds_left_is_printed_as_is() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-90s-access-0001", "refreshToken": "fake-unused", "expiresAt": in_secs(90)}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.stdout, "fake-90s-access-0001\n");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 0);
}

#[test]
fn a_valid_token_needs_no_choice_among_several_authorizations() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["authorizations"] = json!([
        authorization(&stub, "first"),
        authorization(&stub, "second")
    ]);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-shared-access-0001", "expiresAt": in_secs(3600)});
    let project = Project::new(&cfg);
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(done.stdout, "fake-shared-access-0001\n");
}

#[test]
fn an_unreadable_expires_at_is_refreshed_and_written_properly() {
    let stub = Stub::start(Behaviour::default());
    let refresh = stub.issue_refresh_token();
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-unknown-age", "refreshToken": refresh, "expiresAt": "tomorrow"}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    let at = project.account("development")["expiresAt"].clone();
    assert!(clock::parse_rfc3339(at.as_str().unwrap()).is_some(), "{at}");
}

#[test]
fn an_unreadable_expires_at_with_no_refresh_token_says_so() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-unknown-age", "expiresAt": 1999999999}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 5);
    assert_has(
        &done.stderr,
        "its expiresAt 1999999999 is not an RFC 3339 time such as 2026-01-31T12:00:00Z, and there is no refresh token",
    );
}

#[test]
fn hints_repeat_the_file_authorization_and_account_the_user_named() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["compliance"] = json!({"accessToken": "fake-stale", "refreshToken": "fake-revoked", "expiresAt": in_secs(-1)});
    let project = Project::new(&cfg);
    std::fs::rename(&project.path, project.dir.path().join("my conf.json")).unwrap();
    let done = token(
        &project,
        &stub,
        &[
            "--config",
            "my conf.json",
            "-a",
            "oauth2",
            "-t",
            "compliance",
        ],
    );
    assert_eq!(done.code, 5, "{}", done.all());
    assert_has(
        &done.stderr,
        "hint: log in again with: integration-cli oauth2 --config 'my conf.json' -a oauth2 -t compliance --reauth\n",
    );
}

#[test]
fn a_token_within_60_seconds_of_expiry_is_refreshed() {
    let stub = Stub::start(Behaviour::default());
    let refresh = stub.issue_refresh_token();
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-nearly-stale", "refreshToken": refresh, "expiresAt": in_secs(30)}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_ne!(done.stdout, "fake-nearly-stale\n");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1);
}

#[test]
fn two_at_once_refresh_once_and_print_the_same_token() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(500),
        ..Behaviour::default()
    });
    let refresh = stub.issue_refresh_token();
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-stale", "refreshToken": refresh, "expiresAt": in_secs(-1)}),
    );
    let (a, b) = (project.oauth2(&["token"]), project.oauth2(&["token"]));
    let (a, b) = (a.wait(), b.wait());
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.all(), b.all());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        1,
        "the second run found the token fresh inside the lock"
    );
}

#[test]
fn client_credentials_are_requested_when_missing_then_reused() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(&stub, "client_credentials", json!({}));
    let first = token(&project, &stub, &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        first.stdout,
        format!("{}\n", stub.seen(|s| s.access_tokens[0].clone()))
    );
    let second = token(&project, &stub, &[]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1);
}

#[test]
fn an_expired_client_credentials_token_is_requested_again() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "client_credentials",
        json!({"accessToken": "fake-old-cc", "expiresAt": in_secs(-5)}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(
        done.stdout,
        format!("{}\n", stub.seen(|s| s.access_tokens[0].clone()))
    );
}

#[test]
fn no_token_at_all_exits_5_and_says_to_log_in() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(&stub, "authorization_code", json!({}));
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 5);
    assert_eq!(done.stdout, "");
    assert_has(
        &done.stderr,
        "test account \"development\" has no usable access token: none is stored",
    );
    assert_has(
        &done.stderr,
        "hint: log in first with: integration-cli oauth2\n",
    );
}

#[test]
fn an_expired_token_without_a_refresh_token_exits_5_naming_the_account() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["compliance"] =
        json!({"accessToken": "fake-stale", "expiresAt": in_secs(-60)});
    let project = Project::new(&cfg);
    let done = token(&project, &stub, &["-t", "compliance"]);
    assert_eq!(done.code, 5);
    assert_eq!(done.stdout, "");
    assert_has(&done.stderr, "it expired at ");
    assert_has(&done.stderr, ", and there is no refresh token");
    assert_has(
        &done.stderr,
        "hint: log in first with: integration-cli oauth2 -t compliance\n",
    );
}

#[test]
fn a_refused_refresh_token_exits_5_and_keeps_the_file() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-stale", "refreshToken": "fake-revoked-refresh", "expiresAt": in_secs(-1)}),
    );
    let before = project.text();
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 5);
    assert_eq!(done.stdout, "");
    assert_has(
        &done.stderr,
        "the stored refresh token was refused (invalid_grant",
    );
    assert_has(&done.stderr, "integration-cli oauth2 --reauth");
    assert_eq!(project.text(), before);
}

#[test]
fn other_failures_exit_1_with_nothing_on_stdout() {
    let stub = Stub::start(Behaviour {
        token_failure: Some((503, "text/plain".into(), "down for maintenance".into())),
        ..Behaviour::default()
    });
    let refresh = stub.issue_refresh_token();
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-stale", "refreshToken": refresh, "expiresAt": in_secs(-1)}),
    );
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "");
    assert_has(&done.stderr, "503");
}

#[test]
fn the_token_drops_into_a_shell_substitution() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-shell-access-0001", "expiresAt": in_secs(3600)}),
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'Authorization: Bearer %s|' \"$('{BIN}' token)\""
        ))
        .current_dir(project.dir.path())
        .env_remove("UNITO_TEST_ACCOUNT")
        .env_remove("UNITO_CONFIG")
        .env_remove("UNITO_AUTHORIZATION")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Authorization: Bearer fake-shell-access-0001|"
    );
}

#[test]
fn help_shows_the_script_use_and_exit_codes() {
    let out = std::process::Command::new(BIN)
        .args(["token", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert_has(&help, "$(integration-cli token)");
    assert_has(&help, "5 a browser login is needed");
    assert_has(&help, "--test-account");
    assert_has(&help, "[default: 30]");
    let top = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert_has(
        &String::from_utf8_lossy(&top.stdout),
        "integration-cli token",
    );
}

/// How many times a run of `token --json` opens `.unito.json` to read it, as `strace` sees
/// it; `None` where strace cannot run here (outside CI only: CI installs it).
fn reads_of_the_file(project: &Project) -> Option<usize> {
    let trace = project.dir.path().join("openat.trace");
    let ran = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=openat", "-o"])
        .arg(&trace)
        .arg(BIN)
        .args(["token", "--json"])
        .current_dir(project.dir.path())
        .env_remove("UNITO_CONFIG")
        .output();
    match ran {
        Ok(out) if out.status.success() => {}
        // A machine that forbids tracing (a locked-down container).
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("ptrace") => {
            eprintln!("strace may not trace here: the read count is not checked");
            return None;
        }
        Ok(out) => panic!(
            "token --json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") => {
            panic!("strace is not installed, and CI is set (scripts/test.sh installs it)")
        }
        Err(_) => {
            eprintln!("strace is not installed: the read count is not checked");
            return None;
        }
    }
    let trace = std::fs::read_to_string(&trace).unwrap();
    let name = format!("{}\"", project.path.display());
    Some(
        trace
            .lines()
            .filter(|l| l.contains(&name) && l.contains("O_RDONLY"))
            .count(),
    )
}

/// One read per decision: a fresh token is printed from one read of the file; a refresh
/// reads it, then again under the lock before it writes, and prints what it saved without
/// reading it back.
#[test]
fn token_json_reads_the_file_once_and_a_refresh_twice() {
    let stub = Stub::start(Behaviour::default());
    let fresh = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-valid-access-0001", "refreshToken": "fake-unused-refresh", "expiresAt": in_secs(3600)}),
    );
    let Some(reads) = reads_of_the_file(&fresh) else {
        return;
    };
    assert_eq!(reads, 1, "a fresh token");
    let refresh = stub.issue_refresh_token();
    let stale = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-stale-access", "refreshToken": refresh, "expiresAt": in_secs(-10)}),
    );
    assert_eq!(reads_of_the_file(&stale), Some(2), "a refresh");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1);
    assert_ne!(
        stale.account("development")["accessToken"],
        "fake-stale-access"
    );
}

#[test]
fn with_nothing_stored_and_the_secret_unset_the_next_step_named_is_the_login() {
    let stub = Stub::start(Behaviour::default());
    let cfg = config_with(&stub, "clientSecret", json!("${FAKE_UNSET_SECRET}"));
    let project = Project::new(&cfg);
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 5, "{}", done.all());
    assert_has(&done.stderr, "and there is no refresh token");
    assert_has(&done.stderr, "integration-cli oauth2");
    assert!(
        !done.stderr.contains("FAKE_UNSET_SECRET"),
        "{}",
        done.stderr
    );

    // With a refresh token stored, the secret is what stands in the way.
    let mut cfg = cfg;
    cfg["testAccounts"]["development"] = json!({"refreshToken": "fake-refresh-token"});
    let project = Project::new(&cfg);
    let done = token(&project, &stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "FAKE_UNSET_SECRET");
}

/// `token` run in `dir`, with the project file left for it to find.
fn token_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("token")
        .args(args)
        .current_dir(dir)
        .env_remove("UNITO_CONFIG")
        .env_remove("UNITO_TEST_ACCOUNT")
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap()
}

#[test]
fn from_a_subfolder_the_file_at_the_repository_root_is_found_and_no_further() {
    let stub = Stub::start(Behaviour::default());
    let project = project_with(
        &stub,
        "authorization_code",
        json!({"accessToken": "fake-found-from-below", "expiresAt": in_secs(3600)}),
    );
    let root = project.dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    let deep = root.join("src").join("deep");
    std::fs::create_dir_all(&deep).unwrap();
    let out = token_in(&deep, &["-v"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "fake-found-from-below\n"
    );
    assert_has(
        &String::from_utf8_lossy(&out.stderr),
        "project file path=../../.unito.json",
    );

    // A repository inside it is a boundary: the file above that is not read.
    std::fs::create_dir(deep.join(".git")).unwrap();
    let out = token_in(&deep, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_has(&stderr, ".unito.json not found");
    assert!(!stderr.contains("../.unito.json"), "{stderr}");
}

#[test]
fn not_found_from_a_subfolder_names_every_path_tried() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let sub = repo.path().join("src");
    std::fs::create_dir(&sub).unwrap();
    let out = token_in(&sub, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_has(
        &String::from_utf8_lossy(&out.stderr),
        "(looked for .unito.json, ../.unito.json)",
    );
}
