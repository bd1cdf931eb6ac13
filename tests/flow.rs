//! The flow driven through its traits: a fake terminal (interactive or not), a fake browser
//! and a fixed clock, against the stub provider. What the binary tests cannot reach: prompts,
//! exact expiry arithmetic, a browser that fails to open.

mod support;

use std::time::{Duration, SystemTime};

use integration_cli::clock;
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
    assert_has(&said, "warning: no display; open the URL above yourself.");
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
        clock::rfc3339(later + Duration::from_secs(3600))
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
