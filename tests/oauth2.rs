//! Black-box tests of `integration-cli oauth2` against the stub provider in `support/stub.rs`.
//! Each test has its own project folder, stub and OS-chosen ports, so they run in parallel.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

#[test]
fn fresh_login_saves_tokens_pkce_and_state_checked() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let url = run.login_url();
    let state = query_param(&url, "state").unwrap();
    assert!(
        state.len() >= 22,
        "state carries at least 128 bits: {state}"
    );
    let redirect = query_param(&url, "redirect_uri").unwrap();
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    assert_eq!(query_param(&url, "scope").as_deref(), Some("read write"));
    assert_eq!(query_param(&url, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    let (status, page) = browse(&url);
    assert_eq!(status, 200);
    assert_has(&page, "You can close this tab");
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);

    let account = project.account("development");
    let (access, refresh) =
        stub.seen(|s| (s.access_tokens[0].clone(), s.refresh_tokens[0].clone()));
    assert_eq!(account["accessToken"], access);
    assert_eq!(account["refreshToken"], refresh);
    assert_eq!(account["tokenType"], "Bearer");
    assert_eq!(account["expiresIn"], 3600);
    assert_eq!(account["scope"], "read write");
    assert_eq!(account["id_token"], "fake-id-token-kept-as-extra-field");
    let expires_at = account["expiresAt"].as_str().unwrap();
    let at = humantime::parse_rfc3339(expires_at).unwrap();
    let left = at.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
        "{expires_at}"
    );

    // The exchange used the same redirect_uri and a verifier matching the challenge (checked
    // by the stub), and client_secret_basic by default.
    stub.seen(|s| {
        assert_eq!(s.token_forms[0]["redirect_uri"], redirect);
        assert!(
            s.token_auth_headers[0]
                .as_deref()
                .unwrap()
                .starts_with("Basic ")
        );
        assert!(!s.token_forms[0].contains_key("client_secret"));
    });
    assert!(
        done.stdout.contains("access token   fake… ("),
        "{}",
        done.stdout
    );
    assert_has(&done.stdout, "refresh token  saved");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&project.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn rerun_refreshes_without_a_browser_and_stores_the_rotated_refresh_token() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    let first = project.account("development");

    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        !done.stderr.contains("/authorize?"),
        "no login URL on refresh: {}",
        done.stderr
    );
    let second = project.account("development");
    stub.seen(|s| {
        assert_eq!(s.authorize_queries.len(), 1, "no second login");
        assert_eq!(s.token_forms[1]["grant_type"], "refresh_token");
        assert_eq!(
            s.token_forms[1]["refresh_token"],
            first["refreshToken"].as_str().unwrap()
        );
        assert_eq!(second["accessToken"], s.access_tokens[1]);
        assert_eq!(second["refreshToken"], s.refresh_tokens[1]);
    });
    assert_ne!(first["refreshToken"], second["refreshToken"]);
    assert_eq!(
        second["scope"], "read write",
        "scope kept when the refresh omits it"
    );
    assert_has(&done.stdout, "rotated, new one saved");
}

#[test]
fn refresh_keeps_the_old_refresh_token_when_none_is_returned() {
    let stub = Stub::start(Behaviour {
        rotate_refresh_tokens: false,
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    let first = project.account("development");
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let second = project.account("development");
    assert_eq!(second["refreshToken"], first["refreshToken"]);
    assert_ne!(second["accessToken"], first["accessToken"]);
    assert_has(&done.stdout, "kept (the provider sent no new one)");
}

#[test]
fn reauth_logs_in_again_even_with_a_refresh_token_stored() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    assert_eq!(login(&project, &stub, &["--reauth"]).code, 0);
    stub.seen(|s| {
        assert_eq!(s.authorize_queries.len(), 2);
        assert!(
            s.token_forms
                .iter()
                .all(|f| f["grant_type"] == "authorization_code")
        );
        assert_eq!(
            project.account("development")["accessToken"],
            s.access_tokens[1]
        );
    });
}

#[test]
fn wrong_state_and_noise_are_refused_and_the_real_callback_still_succeeds() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let url = run.login_url();
    let callback = query_param(&url, "redirect_uri").unwrap();
    let base = callback.trim_end_matches("/callback");

    let (status, page) = browse(&format!(
        "{callback}?code=fake-forged-code-1234&state=wrong"
    ));
    assert_eq!(status, 400);
    assert_has(&page, "does not belong to the login in progress");
    let (status, _) = browse(&format!("{callback}?code=fake-forged-code-1234"));
    assert_eq!(status, 400, "missing state is refused");
    let (status, _) = browse(&format!("{base}/favicon.ico"));
    assert_eq!(status, 404);
    let (status, body) = browse(&format!("{base}/health"));
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _) = browse(&format!("{callback}?error=access_denied&state=wrong"));
    assert_eq!(
        status, 400,
        "an error with someone else's state does not end the wait"
    );
    let (status, _) = browse(&format!("{callback}?error=access_denied"));
    assert_eq!(status, 400, "nor does an error with no state at all");

    let (status, page) = browse(&url);
    assert_eq!(status, 200, "{page}");
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        1,
        "the forged code never reached the token endpoint"
    );
}

#[test]
fn provider_error_is_shown_in_the_browser_and_the_terminal() {
    let stub = Stub::start(Behaviour {
        deny: Some((
            "access_denied".into(),
            "The user said no <b>thanks</b>\u{1b}[2J".into(),
        )),
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (status, page) = browse(&run.login_url());
    assert_eq!(status, 400, "a failure page is a 4xx");
    assert_has(&page, "access_denied");
    assert!(
        page.contains("The user said no &lt;b&gt;thanks&lt;/b&gt;"),
        "escaped: {page}"
    );
    let done = run.finish(&stub);
    assert_eq!(done.code, 3, "{}", done.stderr);
    assert_has(
        &done.stderr,
        "access_denied: The user said no <b>thanks</b>\\u{1b}[2J",
    );
    assert!(
        !done.stderr.contains('\u{1b}'),
        "no raw escape reaches the terminal"
    );
    assert_eq!(project.text(), before, "file untouched");
}

#[test]
fn token_endpoint_error_is_reported_as_the_provider_said_it() {
    let stub = Stub::start(Behaviour {
        token_failure: Some((
            400,
            "application/json".into(),
            json!({"error": "invalid_request", "error_description": "The code has expired", "error_uri": "https://provider.example/docs"}).to_string(),
        )),
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (_, page) = browse(&run.login_url());
    assert!(
        page.contains("Sign-in failed") && page.contains("The code has expired"),
        "{page}"
    );
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "answered 400 invalid_request: The code has expired (see https://provider.example/docs)",
    );
    assert!(
        done.stderr.contains(&format!("{}/token", stub.url)),
        "names the endpoint"
    );
    assert_eq!(project.text(), before);
}

#[test]
fn server_error_with_html_body_shows_status_and_snippet() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    let before = project.text();
    stub.behave(|b| {
        b.token_failure = Some((
            503,
            "text/html".into(),
            "<html><body>Service Unavailable</body></html>".into(),
        ))
    });
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "answered 503 (text/html)");
    assert_has(&done.stderr, "Service Unavailable");
    assert_eq!(
        project.text(),
        before,
        "a 5xx never triggers a login or a write"
    );
}

#[test]
fn wrong_client_authentication_method_gets_invalid_client_with_a_hint() {
    let stub = Stub::start(Behaviour {
        auth: Auth::Post,
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    browse(&run.login_url());
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "invalid_client: client authentication failed");
    assert_has(&done.stderr, "tokenEndpointAuthMethod");
}

#[test]
fn port_in_use_names_oauth2_port() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let done = project
        .oauth2_env(&["oauth2", "--no-browser"], &[("OAUTH2_PORT", &port)])
        .finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        &format!("port {port} on 127.0.0.1 is already in use"),
    );
    assert_has(&done.stderr, "OAUTH2_PORT");
    assert!(
        !done.stderr.contains("/authorize?"),
        "no URL before the port is bound"
    );
}

#[test]
fn oauth2_port_moves_the_callback() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let run = project.oauth2_env(
        &["oauth2", "--no-browser"],
        &[("OAUTH2_PORT", &port.to_string())],
    );
    let url = run.login_url();
    assert_eq!(
        query_param(&url, "redirect_uri").unwrap(),
        format!("http://127.0.0.1:{port}/callback")
    );
    browse(&url);
    assert_eq!(run.finish(&stub).code, 0);
}

#[test]
fn a_port_that_is_no_number_is_a_usage_error_naming_where_it_came_from() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let done = project
        .oauth2_env(&["oauth2", "--no-browser"], &[("OAUTH2_PORT", "90o2")])
        .finish(&stub);
    assert_eq!(done.code, 2, "a bad command line is exit 2");
    assert_has(
        &done.stderr,
        "\"90o2\" from OAUTH2_PORT is not a port number",
    );
    let done = project
        .oauth2(&["oauth2", "--no-browser", "--port", "abc"])
        .finish(&stub);
    assert_eq!(done.code, 2);
    assert_has(&done.stderr, "\"abc\" from --port is not a port number");
}

#[test]
fn malformed_file_is_reported_with_line_and_column_and_never_written() {
    let stub = Stub::start(Behaviour::default());
    let text = "{\n  \"name\": \"x\",\n  \"authorizations\": [,]\n}\n";
    let project = Project::with_text(text);
    let mtime = std::fs::metadata(&project.path)
        .unwrap()
        .modified()
        .unwrap();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "line 3, column 22");
    assert_has(&done.stderr, "did not change it");
    assert_eq!(project.text(), text);
    assert_eq!(
        std::fs::metadata(&project.path)
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
}

#[test]
fn missing_file_says_how_to_start() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::with_text("{}");
    std::fs::remove_file(&project.path).unwrap();
    let done = project.oauth2(&["oauth2"]).finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, ".unito.json not found");
    assert_has(&done.stderr, "hint: start one with: integration-cli init");
    assert!(!project.path.exists(), "nothing created");
}

#[test]
fn unknown_fields_key_order_and_formatting_survive_a_save() {
    let stub = Stub::start(Behaviour::default());
    let auth = serde_json::to_string(&authorization(&stub, "oauth2")).unwrap();
    let text = format!(
        "{{\n\t\"zeta\": 1.50,\n\t\"ui\": {{\"displayName\":\"My  Connector\" , \"logo\": \"x.png\"}},\n\t\"authorizations\": [{auth}],\n\t\"testAccounts\": {{\n\t\t\"compliance\": {{ \"keep\": [1,2,3] }},\n\t\t\"development\": {{ \"apiKey\": \"fake-unrelated\", \"accessToken\": \"old\" }}\n\t}},\n\t\"secrets\": {{}},\n\t\"alpha\": null\n}}\n"
    );
    let project = Project::with_text(&text);
    // (The stored token has no expiry and no refresh token: only --reauth replaces it.)
    assert_eq!(login(&project, &stub, &["--reauth"]).code, 0);
    let after = project.text();
    for kept in [
        "\t\"zeta\": 1.50,\n",
        "\"ui\": {\"displayName\":\"My  Connector\" , \"logo\": \"x.png\"}",
        &auth,
        "\"compliance\": { \"keep\": [1,2,3] }",
        "\t\"secrets\": {},\n\t\"alpha\": null\n}\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?} in:\n{after}");
    }
    let v: Value = serde_json::from_str(&after).unwrap();
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "zeta",
            "ui",
            "authorizations",
            "testAccounts",
            "secrets",
            "alpha"
        ]
    );
    let dev = v["testAccounts"]["development"].as_object().unwrap();
    assert_eq!(dev["apiKey"], "fake-unrelated");
    let dev_keys: Vec<_> = dev.keys().take(2).cloned().collect();
    assert_eq!(
        dev_keys,
        ["apiKey", "accessToken"],
        "existing keys keep their place"
    );
}

#[test]
fn several_authorizations_without_a_terminal_name_the_flag() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["authorizations"] = json!([
        authorization(&stub, "first"),
        authorization(&stub, "second")
    ]);
    let project = Project::new(&cfg);
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "--authorization");
    assert_has(&done.stderr, "first, second");

    assert_eq!(
        login(&project, &stub, &["--authorization", "second"]).code,
        0
    );
    let done = project
        .oauth2(&["oauth2", "--authorization", "third"])
        .finish(&stub);
    assert_has(&done.stderr, "no authorization named \"third\"");
}

#[test]
fn client_secret_comes_from_the_environment() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "clientSecret",
        json!("${FAKE_CONNECTOR_SECRET}"),
    ));

    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "FAKE_CONNECTOR_SECRET is not set");

    let run = project.oauth2_env(
        &["oauth2", "--no-browser", "--port", "0"],
        &[("FAKE_CONNECTOR_SECRET", CLIENT_SECRET)],
    );
    browse(&run.login_url());
    assert_eq!(run.finish(&stub).code, 0);

    let project = Project::new(&config_with(
        &stub,
        "clientSecret",
        json!("unito-secret-v1://fake-encrypted"),
    ));
    let done = project.run(&stub, &[]);
    assert_has(&done.stderr, "clientSecret is encrypted");
    let run = project.oauth2_env(
        &["oauth2", "--no-browser", "--port", "0"],
        &[("UNITO_CLIENT_SECRET", CLIENT_SECRET)],
    );
    browse(&run.login_url());
    assert_eq!(
        run.finish(&stub).code,
        0,
        "UNITO_CLIENT_SECRET wins over the file"
    );
}

#[test]
fn no_callback_within_the_timeout_exits_4() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let started = Instant::now();
    let done = project.run(&stub, &["--timeout", "1"]);
    assert_eq!(done.code, 4, "{}", done.stderr);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_has(&done.stderr, "no callback from the provider within 1 s");
    assert_eq!(project.text(), before);
}

#[test]
fn dead_refresh_token_without_a_person_says_to_reauth_and_keeps_the_file() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-old-access", "refreshToken": "fake-revoked-refresh-token"});
    let project = Project::new(&cfg);
    let before = project.text();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 5, "a login is needed");
    assert!(
        done.stderr
            .contains("refresh token was refused (invalid_grant"),
        "{}",
        done.stderr
    );
    assert_has(&done.stderr, "integration-cli oauth2 --reauth");
    assert_eq!(project.text(), before);
}

#[test]
fn dead_refresh_token_falls_back_to_a_browser_login_through_browser_env() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] = json!({"refreshToken": "fake-revoked-refresh-token"});
    let project = Project::new(&cfg);
    let (script, opened) = recording_browser(project.dir.path());
    let run = project.oauth2_env(
        &["oauth2", "--port", "0"],
        &[("BROWSER", script.to_str().unwrap())],
    );
    eventually("BROWSER to be run", || opened.exists());
    let url = std::fs::read_to_string(&opened).unwrap();
    assert_eq!(url, run.login_url(), "the URL opened is the URL printed");
    browse(&url);
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_has(&done.stderr, "logging in again");
    assert_eq!(
        project.account("development")["refreshToken"],
        stub.seen(|s| s.refresh_tokens[0].clone())
    );
}

#[test]
fn concurrent_refreshes_never_present_a_spent_refresh_token() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    stub.behave(|b| b.refresh_delay = Duration::from_millis(300));
    let a = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let b = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (a, b) = (a.finish(&stub), b.finish(&stub));
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    stub.seen(|s| {
        let presented: Vec<_> = s.token_forms[1..]
            .iter()
            .map(|f| f["refresh_token"].clone())
            .collect();
        assert_eq!(
            presented,
            s.refresh_tokens[..2],
            "each refresh used the then-current token"
        );
        assert_eq!(
            project.account("development")["refreshToken"],
            s.refresh_tokens[2]
        );
    });
}

#[test]
fn unreachable_token_endpoint_names_the_url() {
    let stub = Stub::start(Behaviour::default());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    let mut cfg = config(&stub);
    cfg["authorizations"][0]["oauth2"]["tokenUrl"] = json!(dead_url);
    cfg["testAccounts"]["development"] = json!({"refreshToken": stub.issue_refresh_token()});
    let project = Project::new(&cfg);
    let before = project.text();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        &format!("could not reach the token endpoint {dead_url}"),
    );
    assert_eq!(project.text(), before);
}

#[test]
fn the_password_grant_without_a_terminal_names_the_variables_to_set() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(&stub, "grantType", json!("password")));
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "UNITO_USERNAME");
    assert_has(&done.stderr, "UNITO_PASSWORD");
}

#[test]
fn help_documents_flags_environment_and_examples() {
    let out = std::process::Command::new(BIN)
        .args(["oauth2", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--reauth",
        "--test-account",
        "--no-browser",
        "--timeout",
        "--config",
        "config-path",
        "OAUTH2_PORT",
        "UNITO_CLIENT_SECRET",
        "Examples:",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
    let out = std::process::Command::new(BIN)
        .args(["oauth2", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn the_shipped_example_file_is_understood() {
    let stub = Stub::start(Behaviour::default());
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.unito.json.example"))
            .unwrap();
    let project = Project::with_text(&example);
    let done = project.run(&stub, &[]);
    assert!(
        done.stderr.contains("several authorizations")
            && done
                .stderr
                .contains("oauth2, oauth2-localhost, oauth2-service"),
        "{}",
        done.stderr
    );
    for (name, var) in [
        ("oauth2", "MY_CONNECTOR_CLIENT_SECRET"),
        ("oauth2-localhost", "MY_CONNECTOR_OTHER_SECRET"),
        ("oauth2-service", "MY_CONNECTOR_SERVICE_SECRET"),
    ] {
        let done = project
            .oauth2(&["oauth2", "--no-browser", "-a", name])
            .finish(&stub);
        assert_has(&done.stderr, &format!("{var} is not set"));
    }
    assert_eq!(project.text(), example);
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_exits_130_and_keeps_the_file() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    run.login_url();
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 130, "{}", done.stderr);
    assert_has(&done.stderr, "error: cancelled");
    assert_eq!(project.text(), before);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_refresh_lets_it_finish_so_the_rotated_token_is_saved() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    stub.behave(|b| b.refresh_delay = Duration::from_millis(1500));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    eventually("the refresh request to reach the provider", || {
        stub.seen(|s| s.token_forms.len()) == 2
    });
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_has(&done.stderr, "finishing the token request already sent");
    assert_eq!(
        project.account("development")["refreshToken"],
        stub.seen(|s| s.refresh_tokens[1].clone()),
        "the rotated refresh token was saved, not lost"
    );
}

/// One Ctrl-C delivered twice (the terminal's to the whole group, and a wrapper such as npx
/// or the npm launcher passing it on) is still one: the request already sent is awaited.
#[cfg(unix)]
#[test]
fn one_ctrl_c_delivered_twice_still_lets_the_refresh_finish() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    stub.behave(|b| b.refresh_delay = Duration::from_millis(1500));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    eventually("the refresh request to reach the provider", || {
        stub.seen(|s| s.token_forms.len()) == 2
    });
    run.interrupt();
    std::thread::sleep(Duration::from_millis(30));
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(
        project.account("development")["refreshToken"],
        stub.seen(|s| s.refresh_tokens[1].clone()),
        "the rotated refresh token was saved, not lost"
    );
}

#[test]
fn no_browser_never_runs_the_browser() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let (script, opened) = recording_browser(project.dir.path());
    let run = project.oauth2_env(
        &["oauth2", "--no-browser", "--port", "0"],
        &[("BROWSER", script.to_str().unwrap())],
    );
    browse(&run.login_url());
    assert_eq!(run.finish(&stub).code, 0);
    assert!(!opened.exists(), "BROWSER ran despite --no-browser");
}

#[test]
fn a_login_that_returns_no_refresh_token_drops_the_old_one() {
    let stub = Stub::start(Behaviour {
        refresh_token_on_login: false,
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    let old = "fake-refresh-token-of-an-earlier-grant";
    stub.remember(old);
    cfg["testAccounts"]["development"] =
        json!({"refreshToken": old, "scope": "old", "mine": "kept"});
    let project = Project::new(&cfg);
    let done = login(&project, &stub, &["--reauth"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let account = project.account("development");
    assert!(account.get("refreshToken").is_none(), "{account}");
    assert_eq!(account["scope"], "read write");
    assert_eq!(account["mine"], "kept");
    assert_has(&done.stdout, "refresh token  none (the provider sent none)");
}

#[test]
fn a_token_endpoint_that_redirects_is_not_followed() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "tokenUrl",
        json!(format!("{}/token-moved", stub.url)),
    ));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    browse(&run.login_url());
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "redirects (307) to /token; redirects are not followed",
    );
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        0,
        "the code went nowhere else"
    );
    assert_eq!(project.text(), before);
}

#[test]
fn a_redirect_url_port_that_contradicts_oauth2_port_is_a_clear_error() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "redirectUrl",
        json!("http://127.0.0.1:9002/callback"),
    ));
    let done = project
        .oauth2_env(&["oauth2", "--no-browser"], &[("OAUTH2_PORT", "9003")])
        .finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "fixes the callback port to 9002, but OAUTH2_PORT asks for 9003",
    );
}

#[test]
fn a_run_waits_for_another_run_holding_the_file_lock() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    let holder = project.hold_lock();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    run.wait_for("Waiting for another integration-cli run to finish with this file");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        1,
        "no refresh while the lock is held"
    );
    drop(holder);
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(stub.seen(|s| s.token_forms.len()), 2);
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_for_the_file_lock_exits_130() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    let before = project.text();
    let _holder = project.hold_lock();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    run.wait_for("Waiting for another integration-cli run to finish with this file");
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 130, "{}", done.stderr);
    assert_eq!(project.text(), before);
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1, "no refresh was sent");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_refresh_that_is_refused_stops_instead_of_logging_in() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(1000),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"refreshToken": "fake-refresh-token-unknown-to-the-provider"});
    let project = Project::new(&cfg);
    let before = project.text();
    let (script, opened) = recording_browser(project.dir.path());
    let run = project.oauth2_env(
        &["oauth2", "--port", "0"],
        &[("BROWSER", script.to_str().unwrap())],
    );
    eventually("the refresh request to reach the provider", || {
        stub.seen(|s| s.token_forms.len()) == 1
    });
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 130, "{}", done.stderr);
    assert!(!opened.exists(), "no browser login after Ctrl-C");
    assert_eq!(project.text(), before);
}

#[test]
fn a_port_fixed_by_redirect_url_gets_advice_about_redirect_url() {
    let stub = Stub::start(Behaviour::default());
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let project = Project::new(&config_with(
        &stub,
        "redirectUrl",
        json!(format!("http://127.0.0.1:{port}/cb")),
    ));
    let done = project.oauth2(&["oauth2", "--no-browser"]).finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        &format!("port {port} on 127.0.0.1 is already in use"),
    );
    assert_has(&done.stderr, "change redirectUrl");
    assert!(!done.stderr.contains("OAUTH2_PORT"), "{}", done.stderr);
}

#[test]
fn provider_values_in_the_summary_cannot_drive_the_terminal() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(&stub, "scopes", json!(["read\u{1b}[2J"])));
    let done = login(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_has(&done.stdout, "scope          read\\u{1b}[2J");
    assert!(!done.all().contains('\u{1b}'));
    assert_eq!(
        project.account("development")["scope"],
        "read\u{1b}[2J",
        "stored as sent"
    );
}

#[test]
fn an_unparseable_success_body_leaks_no_token_to_the_terminal_or_the_browser() {
    let (access, refresh) = (
        "fake-leaky-access-token-0001",
        "fake-leaky-refresh-token-0002",
    );
    let stub = Stub::start(Behaviour {
        token_failure: Some((
            200,
            "application/json".into(),
            format!(r#"{{"access_token":"{access}","refresh_token":"{refresh}",}}"#),
        )),
        ..Behaviour::default()
    });
    stub.remember(access);
    stub.remember(refresh);
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (_, page) = browse(&run.login_url());
    assert_has(&page, "Sign-in failed");
    assert!(!page.contains("fake-leaky"), "{page}");
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        r#"got application/json (96 bytes): {"access_token":"fake… (28 chars)","refresh_token":"fake… (29 chars)",}"#,
    );
}

#[test]
fn with_no_browser_to_open_the_run_says_at_once_how_to_log_in_from_elsewhere() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2_with(&["oauth2", "--port", "0"], &[], |cmd| {
        for var in ["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME"] {
            cmd.env_remove(var);
        }
    });
    let url = run.login_url();
    run.wait_for("forward it first (ssh -L ");
    let told = run.stderr_so_far();
    if !cfg!(any(target_os = "macos", windows)) {
        assert_has(
            &told,
            "No browser can be opened here (no BROWSER, no display): open the URL above in a \
             browser yourself.",
        );
    }
    assert_has(&told, "or run again with --paste");
    assert_eq!(
        told.matches("/authorize?").count(),
        1,
        "the URL once: {told}"
    );
    browse(&url);
    assert_eq!(run.finish(&stub).code, 0);
}

#[test]
fn a_mistyped_test_account_is_refused_with_the_names_the_file_has() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let done = project
        .oauth2(&["oauth2", "--port", "0", "-t", "developmnet"])
        .wait();
    assert_eq!(done.code, 2, "{}", done.all());
    assert_has(
        &done.stderr,
        "test account \"developmnet\" is not in .unito.json (it has: development, compliance)",
    );
    assert_has(&done.stderr, "did you mean \"development\"? add --new");
    assert!(!done.stderr.contains("/authorize?"), "no login started");
    assert_eq!(project.text(), before);

    let token = project.oauth2(&["token", "-t", "developmnet"]).wait();
    assert_eq!(token.code, 2, "{}", token.all());
    assert_has(&token.stderr, "did you mean \"development\"?");
    assert_has(&token.stderr, "integration-cli oauth2 -t developmnet --new");

    // From the environment, where nobody typed it just now: --new is needed all the same.
    let env = project
        .oauth2_env(&["oauth2", "--port", "0"], &[("UNITO_TEST_ACCOUNT", "qa")])
        .wait();
    assert_eq!(env.code, 2, "{}", env.all());
    assert_has(&env.stderr, "test account \"qa\" is not in");
}

#[test]
fn new_makes_a_test_account_the_file_lacks() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0", "-t", "qa", "--new"]);
    browse(&run.login_url());
    assert_eq!(run.finish(&stub).code, 0);
    assert_eq!(
        project.account("qa")["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
}
