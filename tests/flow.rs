//! The flow driven through its traits: a fake terminal (interactive or not), a fake browser
//! and a fixed clock, against the stub provider or, where the socket is not the point, a
//! token endpoint in memory. What the binary tests cannot reach: prompts, exact expiry
//! arithmetic, a browser that fails to open, the exact request a refresh sends.

mod support;

use std::time::{Duration, SystemTime};

use integration_cli::clock;
use integration_cli::error::{Error, NetworkError};
use integration_cli::flow::{self, Options, UsernameSource};
use integration_cli::transport::{Answer, Failure};
use serde_json::json;
use support::fakes::*;
use support::*;

#[test]
fn an_interactive_run_asks_which_authorization_and_the_clock_sets_the_expiry() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    let mut second = authorization(&stub, "second");
    second["development"] = json!(false);
    cfg["authorizations"] = json!([authorization(&stub, "first"), second]);
    let project = Project::new(&cfg);
    let terminal = FakeTerminal {
        interactive: true,
        choice: 1,
        ..FakeTerminal::default()
    };
    let now = clock::from_epoch(1_900_000_000);
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: true },
        now,
    )
    .unwrap();

    let prompts = terminal.prompts.lock().unwrap();
    assert_eq!(prompts[0].0, "Which authorization?");
    assert_eq!(
        prompts[0].1,
        [
            "first (authorization_code, development)",
            "second (authorization_code)"
        ]
    );
    let account = project.account("development");
    assert_eq!(account["expiresAt"], "2030-03-17T18:46:40Z");
    assert_eq!(
        account["expiresAt"],
        clock::rfc3339(now + Duration::from_secs(3600))
    );
    let results = terminal.results.lock().unwrap().join("\n");
    assert_has(&results, "authorization \"second\"");
    assert_has(&results, "(in 1h)");
}

#[test]
fn a_browser_that_cannot_open_is_a_warning_and_the_printed_url_still_works() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let terminal = FakeTerminal {
        drive: true,
        ..FakeTerminal::default()
    };
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: false },
        SystemTime::now(),
    )
    .unwrap();
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(
        &said,
        "warning: no display: open the URL above in a browser yourself.",
    );
    assert_has(&said, "forward it first (ssh -L ");
    assert_eq!(said.matches("/authorize?").count(), 1, "{said}");
    assert_eq!(
        project.account("development")["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
}

#[test]
fn an_interactive_run_logs_in_again_when_the_refresh_token_is_dead_even_without_a_browser() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"refreshToken": "fake-dead-refresh-token", "note": "kept"});
    let project = Project::new(&cfg);
    let terminal = FakeTerminal {
        interactive: true,
        drive: true,
        ..FakeTerminal::default()
    };
    let mut opts = options(&project);
    opts.open_browser = false;
    run(
        &opts,
        &terminal,
        &FakeBrowser { works: false },
        SystemTime::now(),
    )
    .unwrap();
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(
        &said,
        "the stored refresh token was refused (invalid_grant: unknown or revoked refresh token); logging in again.",
    );
    let account = project.account("development");
    assert_eq!(account["note"], "kept");
    assert_eq!(
        account["refreshToken"],
        stub.seen(|s| s.refresh_tokens[0].clone())
    );
}

#[test]
fn a_client_credentials_token_is_requested_once_and_reused_until_it_nears_expiry() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["authorizations"][0]["oauth2"]["grantType"] = json!("client_credentials");
    let now = SystemTime::now();
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-cc-token",
        "expiresAt": clock::rfc3339(now + Duration::from_secs(3600)),
    });
    let project = Project::new(&cfg);
    let terminal = FakeTerminal::default();
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: false },
        now,
    )
    .unwrap();
    assert!(terminal.results.lock().unwrap()[0].contains("still valid"));
    assert_eq!(stub.seen(|s| s.token_forms.len()), 0);

    // 30 s before expiry is inside the 60 s margin: a new token is requested.
    let later = now + Duration::from_secs(3600 - 30);
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: false },
        later,
    )
    .unwrap();
    let form = stub.seen(|s| s.token_forms.clone());
    assert_eq!(form.len(), 1);
    assert_eq!(form[0]["grant_type"], "client_credentials");
    assert_eq!(form[0]["scope"], "read write");
    let account = project.account("development");
    assert_eq!(
        account["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
    assert_eq!(
        account["expiresAt"],
        clock::stamp(later + Duration::from_secs(3600))
    );
}

#[test]
fn at_a_terminal_a_pasted_address_completes_the_login_when_the_callback_cannot_come() {
    // The browser is elsewhere: it never reaches the callback server, the user pastes.
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let terminal = FakeTerminal {
        interactive: true,
        paste_back: true,
        ..FakeTerminal::default()
    };
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: false },
        SystemTime::now(),
    )
    .unwrap();
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(&said, "Or paste the URL your browser was sent to");
    assert_eq!(
        project.account("development")["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
}

#[test]
fn at_a_terminal_the_real_callback_still_wins_when_nothing_is_pasted() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let terminal = FakeTerminal {
        interactive: true,
        ..FakeTerminal::default()
    };
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: true },
        SystemTime::now(),
    )
    .unwrap();
    assert!(project.account("development")["accessToken"].is_string());
}

#[test]
fn at_a_terminal_a_wrong_paste_is_warned_about_and_the_next_one_taken() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let terminal = FakeTerminal {
        interactive: true,
        paste_back: true,
        paste_wrong_first: true,
        ..FakeTerminal::default()
    };
    run(
        &options(&project),
        &terminal,
        &FakeBrowser { works: false },
        SystemTime::now(),
    )
    .unwrap();
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(
        &said,
        "warning: the pasted address is not from this login (its state differs); paste again",
    );
    assert!(project.account("development")["accessToken"].is_string());
}

const IDP: &str = "https://idp.example.test";

/// A file whose one authorization's endpoints no socket reaches, and whose development
/// account holds an access token that expired a minute before `now`.
fn expired(now: SystemTime) -> Project {
    let mut cfg = json!({
        "name": "fake-connector",
        "authorizations": [{
            "name": "oauth2",
            "method": "oauth2",
            "development": true,
            "oauth2": {
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "authorizationUrl": format!("{IDP}/authorize"),
                "tokenUrl": format!("{IDP}/token"),
                "grantType": "authorization_code",
            }
        }],
        "testAccounts": {}
    });
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-stale-access",
        "refreshToken": "fake-refresh-1",
        "expiresAt": clock::rfc3339(now - Duration::from_secs(60)),
        "note": "kept",
    });
    Project::new(&cfg)
}

/// `token` for the development account, its token endpoint answered by `endpoint`.
fn token_over(
    opts: &Options,
    endpoint: &FakeTransport,
    terminal: &FakeTerminal,
    now: SystemTime,
) -> Result<String, Error> {
    let browser = FakeBrowser { works: false };
    let deps = deps(terminal, &browser, &NoTunnel, now).with_transports(endpoint);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::token(opts, &deps))
        .map(|t| t.expose().to_string())
}

#[test]
fn an_expired_token_is_refreshed_over_the_transport_with_the_refresh_token_and_saved() {
    let now = clock::from_epoch(1_900_000_000);
    let project = expired(now);
    let endpoint = FakeTransport::answering(vec![Ok(answer(
        200,
        "application/json",
        r#"{"access_token":"fake-fresh-access","refresh_token":"fake-refresh-2","expires_in":3600,"token_type":"Bearer"}"#,
    ))]);
    let opts = options(&project);
    let token = token_over(&opts, &endpoint, &FakeTerminal::default(), now).unwrap();
    assert_eq!(token, "fake-fresh-access");

    let made_for = endpoint.made_for.lock().unwrap().clone();
    assert_eq!(made_for, [(format!("{IDP}/token"), opts.token_timeout)]);
    let sent = endpoint.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, reqwest::Method::POST);
    assert_eq!(sent[0].url, format!("{IDP}/token"));
    drop(sent);
    let form = endpoint.form(0);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (&**k, &**v)).collect();
    assert_eq!(
        fields,
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "fake-refresh-1")
        ]
    );
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(
        endpoint.header(0, "authorization"),
        Some(format!("Basic {basic}"))
    );
    assert_eq!(
        endpoint.header(0, "content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        endpoint.header(0, "accept").as_deref(),
        Some("application/json")
    );

    let account = project.account("development");
    assert_eq!(account["accessToken"], "fake-fresh-access");
    assert_eq!(account["refreshToken"], "fake-refresh-2");
    assert_eq!(
        account["expiresAt"],
        clock::rfc3339(now + Duration::from_secs(3600))
    );
    assert_eq!(account["note"], "kept");
}

#[test]
fn a_refused_refresh_over_the_transport_is_a_refused_refresh_token_and_keeps_the_file() {
    let now = clock::from_epoch(1_900_000_000);
    let project = expired(now);
    let before = project.text();
    let endpoint = FakeTransport::answering(vec![Ok(answer(
        400,
        "application/json",
        r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
    ))]);
    let opts = options(&project);
    let e = token_over(&opts, &endpoint, &FakeTerminal::default(), now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the stored refresh token was refused (invalid_grant: refresh token revoked)"
    );
    assert_eq!(
        e.hint(),
        Some(format!("log in again with: {}", opts.login_command(true)))
    );
    assert_eq!(e.exit_code(), 5);
    assert_eq!(endpoint.sent.lock().unwrap().len(), 1);
    assert_eq!(project.text(), before);
}

#[test]
fn a_transport_failure_is_said_as_the_transport_said_it_and_a_body_too_large_in_our_words() {
    let now = clock::from_epoch(1_900_000_000);
    let project = expired(now);
    let before = project.text();
    let unreachable = NetworkError::Unreachable {
        url: format!("{IDP}/token"),
        detail: "connection refused".into(),
    };
    let huge = answer(200, "application/json", &" ".repeat((1 << 20) + 1));
    let endpoint = FakeTransport::answering(vec![
        Err(Failure::Unanswered(unreachable.into())),
        Ok::<Answer, Failure>(huge),
    ]);
    let opts = options(&project);
    let e = token_over(&opts, &endpoint, &FakeTerminal::default(), now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "could not reach the token endpoint https://idp.example.test/token: connection refused"
    );
    assert_eq!(
        e.hint().as_deref(),
        Some("check the tokenUrl and your network connection, then run again.")
    );
    assert_eq!(e.exit_code(), 1);
    let e = token_over(&opts, &endpoint, &FakeTerminal::default(), now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the token endpoint https://idp.example.test/token sent an unusable response: the body \
         is larger than 1048576 bytes"
    );
    assert_eq!(endpoint.sent.lock().unwrap().len(), 2);
    assert_eq!(project.text(), before);
}

#[test]
fn a_login_whose_transport_is_not_ready_stops_before_any_browser_opens() {
    let project = expired(SystemTime::now());
    let endpoint = FakeTransport::default();
    *endpoint.not_ready.lock().unwrap() = Some(
        NetworkError::ProxySetting {
            variable: "HTTPS_PROXY".into(),
            value: "ftp://proxy".into(),
            detail: "unsupported scheme".into(),
        }
        .into(),
    );
    let mut opts = options(&project);
    opts.reauth = true;
    // Were the check late, the wait for the callback would end the run, soon.
    opts.callback_timeout = Duration::from_secs(1);
    let terminal = FakeTerminal::default();
    let browser = Opened::default();
    let deps = deps(&terminal, &browser, &NoTunnel, SystemTime::now()).with_transports(&endpoint);
    let run = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::oauth2(&opts, &deps));
    let Err(e) = run else {
        panic!("a transport that is not ready stops the login");
    };
    assert_eq!(
        e.to_string(),
        "the proxy in HTTPS_PROXY cannot be used (ftp://proxy): unsupported scheme; nothing was sent"
    );
    assert!(browser.0.lock().unwrap().is_empty());
    assert!(terminal.login_url.lock().unwrap().is_none());
    let said = terminal.said.lock().unwrap().join("\n");
    assert!(!said.contains("/authorize"), "{said}");
    assert!(endpoint.sent.lock().unwrap().is_empty());
}

/// A browser that only notes what it was asked to open.
#[derive(Default)]
struct Opened(std::sync::Mutex<Vec<String>>);
impl integration_cli::browser::Browser for Opened {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.into());
        Ok(())
    }
}

#[test]
fn a_test_account_the_file_lacks_is_made_only_once_confirmed_at_a_terminal() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let mut opts = options(&project);
    opts.test_account = "qa".into();
    let refusing = FakeTerminal {
        interactive: true,
        choice: 1,
        ..FakeTerminal::default()
    };
    let browser = FakeBrowser { works: true };
    let refused = run(&opts, &refusing, &browser, SystemTime::now()).unwrap_err();
    let refused = refused.to_string();
    assert_has(&refused, "test account \"qa\" is not in ");
    assert_has(&refused, ".unito.json (it has: development, compliance)");
    let asked = refusing.prompts.lock().unwrap().clone();
    assert_eq!(asked[0].1, ["Make test account \"qa\"", "Cancel"]);
    assert!(project.json()["testAccounts"].get("qa").is_none());
    assert!(stub.seen(|s| s.token_forms.is_empty()), "nothing was sent");

    let confirming = FakeTerminal {
        interactive: true,
        choice: 0,
        ..FakeTerminal::default()
    };
    run(&opts, &confirming, &browser, SystemTime::now()).unwrap();
    assert_eq!(
        project.account("qa")["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
}

/// A file whose one authorization is a password grant at `authorize`'s provider, with no
/// socket behind it.
fn password_project(authorize: &str) -> Project {
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [{
            "name": "oauth2",
            "method": "oauth2",
            "oauth2": {
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "authorizationUrl": authorize,
                "tokenUrl": format!("{IDP}/token"),
                "grantType": "password",
                "scopes": ["openid", "read"],
            }
        }],
        "testAccounts": {"development": {}, "compliance": {}}
    }))
}

/// `oauth2 -t account` with the password grant, its requests answered by `endpoint`.
fn password_login(project: &Project, account: &str, endpoint: &FakeTransport) -> FakeTerminal {
    let terminal = FakeTerminal::default();
    let mut opts = options(project);
    opts.test_account = account.into();
    opts.username = UsernameSource::Given("fake-user".into());
    let browser = FakeBrowser { works: false };
    let deps = deps(&terminal, &browser, &NoTunnel, SystemTime::now())
        .with_env(|k| (k == "UNITO_PASSWORD").then(|| "fake-password".to_string()))
        .with_transports(endpoint);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::oauth2(&opts, &deps))
        .unwrap();
    drop(deps);
    terminal
}

#[test]
fn the_password_grant_asks_at_a_terminal_for_a_username_not_given_and_sends_it() {
    let project = password_project(&format!("{IDP}/authorize"));
    let body = json!({"access_token": "fake-access-typed", "expires_in": 3600});
    let endpoint =
        FakeTransport::answering(vec![Ok(answer(200, "application/json", &body.to_string()))]);
    let terminal = FakeTerminal {
        interactive: true,
        ..FakeTerminal::default()
    };
    terminal
        .answers
        .lock()
        .unwrap()
        .push_back("fake-typed-user".into());
    let mut opts = options(&project);
    opts.username = UsernameSource::Asked;
    let browser = FakeBrowser { works: false };
    let deps = deps(&terminal, &browser, &NoTunnel, SystemTime::now())
        .with_env(|k| (k == "UNITO_PASSWORD").then(|| "fake-password".to_string()))
        .with_transports(&endpoint);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::oauth2(&opts, &deps))
        .unwrap();
    drop(deps);
    let prompts = terminal.prompts.lock().unwrap().clone();
    assert_eq!(prompts, vec![("Username".to_string(), Vec::new())]);
    let form = endpoint.form(0);
    assert!(
        form.contains(&("username".into(), "fake-typed-user".into())),
        "{form:?}"
    );
}

/// A token answer with an id_token whose claims name `sub` (unsigned: only read).
fn with_id_token(sub: &str) -> Answer {
    use base64::Engine;
    let claims = json!({"iss": IDP, "sub": sub, "email": format!("{sub}@example.com")});
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let id_token = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    let body = json!({"access_token": format!("fake-access-{sub}"), "expires_in": 3600,
        "scope": "openid read", "id_token": id_token});
    answer(200, "application/json", &body.to_string())
}

#[test]
fn the_id_tokens_claims_are_the_accounts_identity_and_one_user_twice_is_warned() {
    let project = password_project(&format!("{IDP}/authorize"));
    let endpoint = FakeTransport::answering(vec![Ok(with_id_token("ada"))]);
    let first = password_login(&project, "development", &endpoint);
    let dev = project.account("development");
    assert_eq!(dev["identityIssuer"], IDP);
    assert_eq!(dev["identitySubject"], "ada");
    assert_eq!(dev["identityEmail"], "ada@example.com");
    assert_eq!(dev["requestedScope"], "openid read");
    // No "who am I" was asked: the id_token said it.
    assert_eq!(endpoint.sent.lock().unwrap().len(), 1);
    assert!(!first.said.lock().unwrap().join("\n").contains("same user"));

    let endpoint = FakeTransport::answering(vec![Ok(with_id_token("ada"))]);
    let second = password_login(&project, "compliance", &endpoint);
    let said = second.said.lock().unwrap().join("\n");
    assert_has(
        &said,
        "warning: test accounts \"development\" and \"compliance\" are the same user \
         (ada@example.com)",
    );
}

/// GitHub's answer carries no id_token: its `/user` is asked, with the new access token,
/// and what it says is saved; the token never shows in the request's Debug.
#[test]
fn without_an_id_token_the_providers_who_am_i_endpoint_is_asked() {
    let project = password_project("https://github.com/login/oauth/authorize");
    let token = answer(
        200,
        "application/json",
        r#"{"access_token":"fake-gho-access","token_type":"bearer","scope":"openid,read"}"#,
    );
    let user = answer(
        200,
        "application/json",
        r#"{"login":"octocat","id":583231,"email":null}"#,
    );
    let endpoint = FakeTransport::answering(vec![Ok(token), Ok(user)]);
    password_login(&project, "development", &endpoint);
    let sent = endpoint.sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].method, reqwest::Method::GET);
    assert_eq!(sent[1].url, "https://api.github.com/user");
    let bearer = &sent[1].headers["authorization"];
    assert_eq!(bearer, "Bearer fake-gho-access");
    assert!(bearer.is_sensitive());
    assert!(!format!("{:?}", sent[1]).contains("fake-gho-access"));
    let account = project.account("development");
    assert_eq!(account["identityName"], "octocat");
    assert_eq!(account["identitySubject"], "583231");
    assert_eq!(account["identityIssuer"], "https://api.github.com/user");
}
