//! What the CLI prints, for people and for scripts: `--json` shapes, colour (and NO_COLOR),
//! `-v` logs without secrets, `-q` silence, `status`, shell completions.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::*;

fn parse(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn oauth2_json_reports_login_then_refresh_with_tokens_masked() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let done = login(&project, &stub, &["--json"]);
    assert_eq!(done.code, 0);
    let v = parse(&done.stdout);
    let access = stub.seen(|s| s.access_tokens[0].clone());
    assert_eq!(
        v,
        json!({
            "action": "login",
            "authorization": "oauth2",
            "testAccount": "development",
            "file": ".unito.json",
            "accessToken": format!("{}… ({} chars)", &access[..4], access.len()),
            "tokenType": "Bearer",
            "expiresAt": project.account("development")["expiresAt"],
            "scope": "read write",
            "refreshToken": "saved",
        })
    );
    let again = project.run(&stub, &["--json"]);
    let v = parse(&again.stdout);
    assert_eq!(v["action"], "refresh");
    assert_eq!(v["refreshToken"], "rotated");
}

#[test]
fn client_credentials_json_says_kept_when_nothing_was_requested() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "grantType",
        json!("client_credentials"),
    ));
    assert_eq!(
        parse(&project.run(&stub, &["--json"]).stdout)["action"],
        "client_credentials"
    );
    let kept = parse(&project.run(&stub, &["--json"]).stdout);
    assert_eq!(kept["action"], "kept");
    assert_eq!(kept["refreshToken"], Value::Null);
}

#[test]
fn errors_come_as_json_too_when_json_was_asked_for() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-old", "refreshToken": "fake-revoked-refresh"});
    let project = Project::new(&cfg);
    let done = project.run(&stub, &["--json"]);
    assert_eq!(done.code, 5);
    let v = parse(&done.stdout);
    assert_eq!(v["error"]["exitCode"], 5);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the stored refresh token was refused (invalid_grant")
    );
    assert_eq!(
        v["error"]["hint"],
        "log in again with: integration-cli oauth2 --reauth"
    );
}

#[test]
fn token_json_carries_the_token_and_its_expiry() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-json-access-0001", "tokenType": "Bearer", "expiresAt": "2999-01-01T00:00:00Z"
    });
    let project = Project::new(&cfg);
    let done = project.oauth2(&["token", "--json"]).wait();
    assert_eq!(
        parse(&done.stdout),
        json!({
            "accessToken": "fake-json-access-0001",
            "tokenType": "Bearer",
            "expiresAt": "2999-01-01T00:00:00Z",
            "testAccount": "development",
        })
    );
}

#[test]
fn status_shows_each_account_once_masked_with_what_runs_next() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    let mut service = authorization(&stub, "service");
    service["oauth2"]["grantType"] = json!("client_credentials");
    cfg["authorizations"] = json!([authorization(&stub, "oauth2"), service]);
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-status-access-0001", "refreshToken": "fake-status-refresh",
        "expiresAt": "2999-01-01T00:00:00Z", "scope": "read"
    });
    let project = Project::new(&cfg);
    let text = project.oauth2(&["status"]).finish(&stub);
    assert_eq!(text.code, 0, "{}", text.all());
    assert_eq!(
        text.stdout.matches("fake… (23 chars)").count(),
        1,
        "{}",
        text.stdout
    );
    assert_has(
        &text.stdout,
        "Test account \"development\": token fake… (23 chars), expires 2999-01-01T00:00:00Z",
    );
    assert_has(
        &text.stdout,
        "  with \"oauth2\" (authorization_code): oauth2 refreshes it; token prints it as is",
    );
    assert_has(
        &text.stdout,
        "  with \"service\" (client_credentials): oauth2 keeps it; token prints it",
    );
    assert_has(&text.stdout, "Test account \"compliance\": no access token");
    assert!(!text.stdout.contains("fake-status"), "{}", text.stdout);

    let v = parse(&project.oauth2(&["status", "--json"]).wait().stdout);
    let rows = &v["testAccounts"];
    assert_eq!(rows[0]["testAccount"], "development");
    assert_eq!(rows[0]["accessToken"], "fake… (23 chars)");
    assert_eq!(rows[0]["refreshToken"], true);
    assert_eq!(rows[0]["expired"], false);
    assert_eq!(rows[0]["next"][1]["authorization"], "service");
    assert_eq!(rows[1]["testAccount"], "compliance");
    assert_eq!(rows[1]["accessToken"], Value::Null);
    let only = parse(
        &project
            .oauth2(&["status", "--json", "-a", "service"])
            .wait()
            .stdout,
    );
    assert_eq!(only["testAccounts"][0]["next"].as_array().unwrap().len(), 1);
}

#[test]
fn colour_only_when_forced_and_never_with_no_color() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    std::fs::write(&project.path, "{ broken").unwrap();
    let forced = project
        .oauth2_env(&["oauth2"], &[("CLICOLOR_FORCE", "1")])
        .wait();
    assert_has(&forced.stderr, "\u{1b}[1m\u{1b}[31merror:\u{1b}[0m");
    assert_has(&forced.stderr, "\u{1b}[36mhint:\u{1b}[0m");
    let no_color = project
        .oauth2_env(&["oauth2"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        .wait();
    assert!(!no_color.all().contains('\u{1b}'), "{}", no_color.all());
    assert_has(&no_color.stderr, "error: ");
    // Not a terminal, nothing forced: plain.
    let plain = project.oauth2(&["oauth2"]).wait();
    assert!(!plain.all().contains('\u{1b}'));
}

#[test]
fn the_success_line_is_green_when_colour_is_on() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2_env(
        &["oauth2", "--no-browser", "--port", "0"],
        &[("CLICOLOR_FORCE", "1")],
    );
    browse(&run.login_url());
    let done = run.finish(&stub);
    assert_has(
        &done.stdout,
        "\u{1b}[1m\u{1b}[32mSaved tokens for test account",
    );
}

#[test]
fn verbose_logs_each_step_without_a_secret() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let done = login(&project, &stub, &["-v"]);
    assert_eq!(done.code, 0);
    let log = &done.stderr;
    assert_has(
        log,
        "login prepared (state and PKCE verifier kept in memory only)",
    );
    assert_has(
        log,
        "request to the callback server method=GET path=\"/callback\"",
    );
    assert_has(
        log,
        &format!(
            "token request url={}/token grant=\"authorization_code\" client_auth=Basic",
            stub.url
        ),
    );
    assert_has(
        log,
        "token response status=200 content_type=application/json",
    );
    assert_has(log, "saved (temporary file, fsync, rename)");
    // `login` (through `finish`) has scanned every line for every secret the stub saw.
}

#[test]
fn quiet_prints_nothing_on_success_but_still_the_json_asked_for() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let done = login(&project, &stub, &[]);
    assert_eq!(done.code, 0);
    // Quiet still shows what the user must act on: the login URL.
    let run = project.oauth2(&["-q", "oauth2", "--no-browser", "--port", "0", "--reauth"]);
    browse(&run.login_url());
    let relogin = run.finish(&stub);
    assert_eq!((relogin.code, relogin.stdout.as_str()), (0, ""));
    let quiet = project.run(&stub, &["-q"]);
    assert_eq!(
        (quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()),
        (0, "", "")
    );
    let json = project.run(&stub, &["-q", "--json"]);
    assert_eq!(json.stderr, "");
    assert_eq!(parse(&json.stdout)["action"], "refresh");
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for command in ["oauth2", "token", "sandbox", "demo", "init", "status"] {
            assert_has(&script, command);
        }
        assert_has(&script, "tunnel-domain");
    }
}

/// One authorization whose settings cannot be read stops only what uses it: `token` with a
/// fresh token, `status` (which says why), and `oauth2 -a` on another all still work.
#[test]
fn a_broken_authorization_stops_only_what_uses_it() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    let mut broken = authorization(&stub, "weird");
    broken["oauth2"]["grantType"] = json!("implicit");
    cfg["authorizations"].as_array_mut().unwrap().push(broken);
    cfg["testAccounts"]["development"] = json!({"accessToken": "fake-fresh-token-0001"});
    stub.remember("fake-fresh-token-0001");
    let project = Project::new(&cfg);
    let token = project.oauth2(&["token"]).wait();
    assert_eq!(token.code, 0, "{}", token.all());
    let status = project.oauth2(&["status"]).finish(&stub);
    assert_eq!(status.code, 0, "{}", status.all());
    assert_has(&status.stdout, "with \"weird\" (?): not usable:");
    assert_has(&status.stdout, "unknown grant type \"implicit\"");
    let chosen = project.oauth2(&["oauth2", "-a", "weird"]).finish(&stub);
    assert_eq!(chosen.code, 1);
    assert_has(
        &chosen.stderr,
        "oauth2.grantType: unknown grant type \"implicit\"",
    );
    let other = login(&project, &stub, &["-a", "oauth2", "--reauth"]);
    assert_eq!(other.code, 0, "{}", other.all());
}
