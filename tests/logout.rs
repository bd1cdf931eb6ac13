//! `integration-cli logout`: the binary against the sandbox's revocation endpoint (the
//! tokens revoked, then refused at userinfo and refresh, and removed from the file with
//! the user's own fields kept), and in process, where sockets are not the point, against
//! a token endpoint in memory: each provider's request shape, and which answers count as
//! a failure.

mod support;

use std::time::SystemTime;

use integration_cli::flow::{self, AtProvider, Logout};
use integration_cli::revoke::{Answered, Revocable, Revoker};
use integration_cli::secret::{AccessToken, RefreshToken};
use integration_cli::token::{BodyFormat, ClientAuth, Endpoint};
use serde_json::{Value, json};
use support::fakes::{FakeBrowser, FakeTerminal, FakeTransport, NoTunnel, answer, deps, options};
use support::*;

/// `logout ARGS` to its end; no secret the stub saw may be printed.
fn logout(project: &Project, stub: &Stub, args: &[&str]) -> Finished {
    let mut all = vec!["logout"];
    all.extend_from_slice(args);
    let done = project.oauth2(&all).wait();
    let secrets = stub.seen(|s| s.secrets.clone());
    assert_no_secrets(&done.stdout, &secrets);
    assert_no_secrets(&done.stderr, &secrets);
    done
}

/// A project logged in at the stub, its development account also holding a field of the
/// user's and a provider's extra (`id_token`).
fn logged_in() -> (Stub, Project, Value) {
    let stub = Stub::start(Behaviour {
        extra_fields: json!({"id_token": "fake-id-token", "user_id": "u-1"}),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] = json!({"apiBase": "https://api.example.test"});
    let project = Project::new(&cfg);
    let done = login(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    let account = project.account("development");
    assert!(account["refreshToken"].is_string(), "{account}");
    (stub, project, account)
}

fn userinfo(stub: &Stub, access: &str) -> u16 {
    http()
        .get(format!("{}/userinfo", stub.url))
        .bearer_auth(access)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn refresh(stub: &Stub, refresh: &str) -> u16 {
    http()
        .post(format!("{}/token", stub.url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn logout_revokes_at_the_provider_and_removes_the_tokens_but_not_the_users_fields() {
    // The stub's port is its own each time: log in first, then point at its endpoint.
    let (stub, project, account) = logged_in();
    let access = account["accessToken"].as_str().unwrap().to_string();
    let rt = account["refreshToken"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&stub, &access), 200);
    let revoke = format!("{}/revoke", stub.url);
    let done = logout(&project, &stub, &["--revocation-url", &revoke]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(
        &done.stdout,
        "the provider accepted the revocation of the refresh token",
    );
    assert!(!done.stdout.contains("revoked"), "{}", done.stdout);
    assert_eq!(
        project.account("development"),
        json!({"apiBase": "https://api.example.test"})
    );
    assert_eq!(userinfo(&stub, &access), 401, "a revoked grant's token");
    assert_eq!(refresh(&stub, &rt), 400, "a revoked grant's refresh token");
}

#[test]
fn the_file_s_revocation_url_is_used_and_json_says_what_was_done() {
    let (stub, project, _) = logged_in();
    let mut cfg = project.json();
    cfg["authorizations"][0]["oauth2"]["revocationUrl"] = json!(format!("{}/revoke", stub.url));
    std::fs::write(&project.path, cfg.to_string()).unwrap();
    let done = logout(&project, &stub, &["--json"]);
    assert_eq!(done.code, 0, "{}", done.all());
    let said: Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let one = &said["testAccounts"][0];
    assert_eq!(one["result"], "accepted", "{said}");
    assert_eq!(one["refreshToken"], "accepted");
    // The refresh token ended the grant: its access token was already gone.
    assert_eq!(one["grantStands"], false);
    let removed: Vec<&str> = (one["removed"].as_array().unwrap().iter())
        .map(|v| v.as_str().unwrap())
        .collect();
    for key in [
        "accessToken",
        "refreshToken",
        "expiresAt",
        "id_token",
        "user_id",
    ] {
        assert!(removed.contains(&key), "{key}: {removed:?}");
    }
    assert!(!removed.contains(&"apiBase"));
}

#[test]
fn a_refusal_keeps_the_tokens_and_exits_1_and_force_removes_them() {
    let (stub, project, account) = logged_in();
    let before = project.text();
    let nowhere = format!("{}/no-such-endpoint", stub.url);
    let done = logout(&project, &stub, &["--revocation-url", &nowhere]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "refused to revoke the token (404)");
    assert_has(
        &done.stderr,
        "with: integration-cli logout --force (the grant",
    );
    assert_eq!(project.text(), before, "the tokens are kept");
    // The hint's command is this run's: its authorization (and file and test account).
    let again = logout(
        &project,
        &stub,
        &["--revocation-url", &nowhere, "-a", "oauth2"],
    );
    assert_has(
        &again.stderr,
        "with: integration-cli logout -a oauth2 --force (the grant",
    );
    let env = [("UNITO_REVOCATION_URL", nowhere.as_str())];
    let forced = project.oauth2_env(&["logout", "--force"], &env).wait();
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert_has(&forced.stdout, "anyway (--force");
    assert_has(&forced.stdout, "The grant may still stand at the provider");
    assert!(project.account("development").get("accessToken").is_none());
    let access = account["accessToken"].as_str().unwrap();
    assert_eq!(userinfo(&stub, access), 200, "nothing was revoked");
}

#[test]
fn without_an_endpoint_the_tokens_go_and_the_message_says_the_grant_stands() {
    let (stub, project, _) = logged_in();
    let done = logout(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(&done.stdout, "The grant still stands at the provider");
    assert_has(&done.stdout, "revocationUrl");
    assert!(project.account("development").get("refreshToken").is_none());
    let again = logout(&project, &stub, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_has(&again.stdout, "holds no tokens: nothing was sent");
}

#[test]
fn several_authorizations_need_a_and_all_signs_out_every_account() {
    let (stub, project, _) = logged_in();
    let mut cfg = project.json();
    let mut second = authorization(&stub, "other");
    second["oauth2"]["revocationUrl"] = json!(format!("{}/revoke", stub.url));
    cfg["authorizations"].as_array_mut().unwrap().push(second);
    cfg["testAccounts"]["compliance"] = json!({"accessToken": "fake-compliance-access"});
    std::fs::write(&project.path, cfg.to_string()).unwrap();
    let done = logout(&project, &stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "pass --authorization NAME");
    // The stub does not know the compliance token: accepted all the same (RFC 7009 §2.2).
    let done = logout(&project, &stub, &["-a", "other", "--all", "--yes"]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(&done.stdout, "test account \"development\"");
    assert_has(&done.stdout, "test account \"compliance\"");
    for name in ["development", "compliance"] {
        assert!(project.account(name).get("accessToken").is_none(), "{name}");
    }
}

/// A token endpoint's client authentication, for the in-process tests.
fn endpoint() -> Endpoint {
    Endpoint {
        url: "https://provider.example.test/token".into(),
        client_id: "fake-client-id".into(),
        client_secret: Some(integration_cli::secret::ClientSecret::new(
            "fake-client-secret",
        )),
        auth: ClientAuth::Basic,
        format: BodyFormat::Form,
        response_type: None,
        token_path: None,
    }
}

fn revoke(transport: &FakeTransport, url: &str, token: &Revocable<'_>) -> Result<Answered, String> {
    let revoker = Revoker::new(Box::new(transport));
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(revoker.revoke(&endpoint(), url, token))
        .map_err(|e| format!("{e}\n{:?}", e.hint()))
}

#[test]
fn rfc7009_sends_the_token_its_hint_and_the_client_authentication_of_the_token_request() {
    let t = FakeTransport::answering(vec![Ok(answer(200, "application/json", ""))]);
    let rt = RefreshToken::new("fake-refresh-token-0001");
    let url = "https://provider.example.test/revoke";
    assert_eq!(
        revoke(&t, url, &Revocable::Refresh(&rt)),
        Ok(Answered::Accepted)
    );
    let form = t.form(0);
    assert!(form.contains(&("token".into(), "fake-refresh-token-0001".into())));
    assert!(form.contains(&("token_type_hint".into(), "refresh_token".into())));
    assert!(t.header(0, "authorization").unwrap().starts_with("Basic "));
}

#[test]
fn an_answer_for_a_token_already_gone_is_told_apart_from_a_refusal() {
    let at = AccessToken::new("fake-access-token-0001");
    let url = "https://provider.example.test/revoke";
    for (status, body) in [
        (
            400,
            r#"{"error":"invalid_token","error_description":"Token expired or revoked"}"#,
        ),
        (400, r#"{"error":"unsupported_token_type"}"#),
    ] {
        let t = FakeTransport::answering(vec![Ok(answer(status, "application/json", body))]);
        assert!(matches!(
            revoke(&t, url, &Revocable::Access(&at)),
            Ok(Answered::Gone(_))
        ));
    }
    // A refusal that quotes the token quotes it no more.
    let echo =
        r#"{"error":"invalid_client","error_description":"fake-access-token-0001 is not yours"}"#;
    let t = FakeTransport::answering(vec![Ok(answer(401, "application/json", echo))]);
    let e = revoke(&t, url, &Revocable::Access(&at)).unwrap_err();
    assert_has(&e, "refused to revoke the token (401): invalid_client");
    assert!(!e.contains("fake-access-token-0001"), "{e}");
}

#[test]
fn the_providers_own_endpoints_are_spoken_to_in_their_own_shapes() {
    let at = AccessToken::new("fake-access-token-0002");
    let rt = RefreshToken::new("fake-refresh/token+0002");
    let github = "https://api.github.com/applications/fake-client-id/grant";
    let t = FakeTransport::answering(vec![Ok(answer(204, "application/json", ""))]);
    assert_eq!(
        revoke(&t, github, &Revocable::Access(&at)),
        Ok(Answered::Accepted)
    );
    let sent = &t.sent.lock().unwrap()[0];
    assert_eq!(sent.method, reqwest::Method::DELETE);
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).unwrap(),
        json!({"access_token": "fake-access-token-0002"})
    );
    assert!(
        sent.headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    // Slack answers failures with HTTP 200.
    let slack = "https://slack.com/api/auth.revoke";
    let t = FakeTransport::answering(vec![Ok(answer(
        200,
        "application/json",
        r#"{"ok":false,"error":"ratelimited"}"#,
    ))]);
    let e = revoke(&t, slack, &Revocable::Access(&at)).unwrap_err();
    assert_has(&e, "ratelimited");
    assert_eq!(
        t.header(0, "authorization").unwrap(),
        "Bearer fake-access-token-0002"
    );
    // HubSpot's URL ends in the token, which no error may show.
    let hubspot = "https://api.hubapi.com/oauth/v1/refresh-tokens";
    let t = FakeTransport::answering(vec![Ok(answer(500, "text/plain", "oops"))]);
    let e = revoke(&t, hubspot, &Revocable::Refresh(&rt)).unwrap_err();
    assert_eq!(
        t.sent.lock().unwrap()[0].url,
        "https://api.hubapi.com/oauth/v1/refresh-tokens/fake-refresh%2Ftoken%2B0002"
    );
    assert!(!e.contains("0002"), "{e}");
}

/// In process: a refresh token accepted, then the access token's `invalid_token`, is a
/// whole sign-out; the file keeps the user's field.
#[test]
fn after_the_refresh_token_is_accepted_the_access_token_s_answer_is_no_failure() {
    let project = Project::new(&json!({
        "authorizations": [{"name": "a", "method": "oauth2", "oauth2": {
            "clientId": "fake-client-id", "clientSecret": "fake-client-secret",
            "tokenUrl": "https://provider.example.test/token",
            "revocationUrl": "https://provider.example.test/revoke"}}],
        "testAccounts": {"development": {"accessToken": "fake-at-3", "refreshToken": "fake-rt-3",
                                         "tokenType": "Bearer", "mine": 1}}
    }));
    let t = FakeTransport::answering(vec![
        Ok(answer(200, "application/json", "")),
        Ok(answer(
            400,
            "application/json",
            r#"{"error":"invalid_token"}"#,
        )),
    ]);
    let terminal = FakeTerminal::default();
    let browser = FakeBrowser { works: false };
    let deps = deps(&terminal, &browser, &NoTunnel, SystemTime::now()).with_transports(&t);
    let out = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow::logout(&options(&project), &Logout::default(), &deps))
        .unwrap();
    assert!(matches!(
        out.accounts[0].provider,
        AtProvider::Accepted { .. }
    ));
    assert_eq!(t.form(0)[0], ("token".into(), "fake-rt-3".into()));
    assert_eq!(
        t.form(1)[1],
        ("token_type_hint".into(), "access_token".into())
    );
    assert_eq!(project.account("development"), json!({"mine": 1}));
    let said = integration_cli::report::logout::text(&out);
    assert_has(
        &said,
        "accepted the revocation of the refresh token (the access token was already gone: invalid_token)",
    );
}

#[test]
fn the_sandbox_s_revocation_endpoint_authenticates_the_client_and_accepts_unknown_tokens() {
    let stub = Stub::start(Behaviour::default());
    let post = |secret: &str| {
        http()
            .post(format!("{}/revoke", stub.url))
            .basic_auth(CLIENT_ID, Some(secret))
            .form(&[
                ("token", "fake-unknown-token"),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .unwrap()
    };
    let wrong = post("fake-wrong-secret");
    assert_eq!(wrong.status().as_u16(), 401);
    assert_has(&wrong.text().unwrap(), "invalid_client");
    // RFC 7009 §2.2: an unknown token is answered as a revoked one is.
    assert_eq!(post(CLIENT_SECRET).status().as_u16(), 200);
}

/// At a terminal, compliance is signed out only when the user says so; `--yes` skips it.
#[test]
fn compliance_is_signed_out_at_a_terminal_only_when_confirmed() {
    let account = json!({"accessToken": "fake-at-4", "mine": true});
    let project = Project::new(&json!({
        "authorizations": [{"name": "a", "method": "oauth2", "oauth2": {
            "clientId": "fake-client-id", "tokenUrl": "https://provider.example.test/token"}}],
        "testAccounts": {"compliance": account}
    }));
    let opts = integration_cli::flow::Options {
        test_account: "compliance".into(),
        ..options(&project)
    };
    let run = |terminal: &FakeTerminal, how: &Logout| {
        let browser = FakeBrowser { works: false };
        let deps = deps(terminal, &browser, &NoTunnel, SystemTime::now());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(flow::logout(&opts, how, &deps))
            .map(|out| out.accounts.len())
            .map_err(|e| e.to_string())
    };
    let cancel = FakeTerminal {
        interactive: true,
        choice: 1,
        ..FakeTerminal::default()
    };
    let said = run(&cancel, &Logout::default()).unwrap_err();
    assert_has(&said, "nothing was signed out: test account \"compliance\"");
    assert_has(
        &cancel.prompts.lock().unwrap()[0].0,
        "which the platform needs to publish",
    );
    assert_eq!(project.account("compliance"), account);
    let yes = Logout {
        yes: true,
        ..Logout::default()
    };
    let asked = FakeTerminal {
        interactive: true,
        choice: 1,
        ..FakeTerminal::default()
    };
    assert_eq!(run(&asked, &yes), Ok(1));
    assert!(asked.prompts.lock().unwrap().is_empty());
    assert_eq!(project.account("compliance"), json!({"mine": true}));
}

/// `--all` goes on past a refusal: that account keeps its tokens, the others are signed
/// out, and the run ends in 1; `-v` logs the requests without a secret.
#[test]
fn all_goes_on_past_a_refusal_and_ends_in_1() {
    let (stub, project, _) = logged_in();
    let mut cfg = project.json();
    cfg["testAccounts"]["compliance"] = json!({"note": "mine"});
    std::fs::write(&project.path, cfg.to_string()).unwrap();
    let nowhere = format!("{}/no-such-endpoint", stub.url);
    let done = logout(
        &project,
        &stub,
        &["--all", "--revocation-url", &nowhere, "-v"],
    );
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stdout,
        "Kept the tokens of test account \"development\"",
    );
    assert_has(&done.stdout, "Test account \"compliance\" holds no tokens");
    assert_has(&done.stderr, "1 test account(s) could not be signed out");
    assert_has(&done.stderr, "revocation request");
    assert!(project.account("development")["accessToken"].is_string());
    assert_eq!(project.account("compliance"), json!({"note": "mine"}));
}
