//! Black-box tests of the token request itself: the client-credentials grant, every client
//! authentication and body style a provider may ask for, and token responses shaped the way
//! real providers shape them. Each runs against a stub that behaves exactly that way, and
//! refuses any other style.

mod support;

use std::time::{Duration, SystemTime};

use integration_cli::clock;
use serde_json::{Value, json};
use support::*;

/// A client-credentials authorization against the stub, with `key` set in its `oauth2`.
fn cc_config(stub: &Stub, settings: &[(&str, Value)]) -> Value {
    let mut cfg = config_with(stub, "grantType", json!("client_credentials"));
    for (key, value) in settings {
        cfg["authorizations"][0]["oauth2"][*key] = value.clone();
    }
    cfg
}

/// One client-credentials run against a stub that behaves as told.
fn cc_run(behaviour: Behaviour, settings: &[(&str, Value)]) -> (Stub, Project, Finished) {
    let stub = Stub::start(behaviour);
    let project = Project::new(&cc_config(&stub, settings));
    let done = project.run(&stub, &[]);
    (stub, project, done)
}

fn expiry(account: &Value) -> SystemTime {
    clock::parse_rfc3339(account["expiresAt"].as_str().expect("an expiresAt")).unwrap()
}

/// `at` is `secs` from some moment between `before` and now (one-second resolution).
#[track_caller]
fn assert_expires_in(at: SystemTime, before: SystemTime, secs: u64) {
    let low = before + Duration::from_secs(secs) - Duration::from_secs(1);
    let high = SystemTime::now() + Duration::from_secs(secs) + Duration::from_secs(1);
    assert!(
        low <= at && at <= high,
        "{} not {secs} s from now",
        clock::rfc3339(at)
    );
}

// ---- client credentials ----

#[test]
fn client_credentials_gets_a_token_with_no_browser_and_no_callback_server() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&cc_config(&stub, &[]));
    // Were a callback server started, this port being taken would fail the run.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let (browser, opened) = recording_browser(project.dir.path());
    let before = SystemTime::now();
    let done = project
        .oauth2_env(
            &["oauth2", "--port", &port],
            &[("BROWSER", browser.to_str().unwrap())],
        )
        .finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(!opened.exists(), "a browser was opened");
    assert_has(
        &done.stdout,
        "Saved tokens for test account \"development\"",
    );
    stub.seen(|s| {
        assert_eq!(s.token_forms.len(), 1);
        let form = &s.token_forms[0];
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["scope"], "read write", "scopes are space-joined");
        assert!(!form.contains_key("client_secret"));
        assert!(
            s.token_auth_headers[0]
                .as_deref()
                .unwrap()
                .starts_with("Basic ")
        );
    });
    let account = project.account("development");
    assert_eq!(
        account["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
    assert!(account.get("refreshToken").is_none());
    assert_eq!(account["tokenType"], "Bearer");
    assert_eq!(account["expiresIn"], 3600);
    assert_expires_in(expiry(&account), before, 3600);
}

#[test]
fn client_credentials_token_is_reused_while_valid_and_requested_again_near_expiry() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&cc_config(&stub, &[]));
    assert_eq!(project.run(&stub, &[]).code, 0);
    let first = project.account("development");

    let again = project.run(&stub, &[]);
    assert_eq!(again.code, 0);
    assert_has(&again.stdout, "still valid");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1, "no second request");
    assert_eq!(project.account("development"), first);

    // A token with 30 s left is inside the 60 s margin: every run asks for a new one.
    stub.behave(|b| b.expires_in = json!(30));
    assert_eq!(project.run(&stub, &["--reauth"]).code, 0);
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        2,
        "--reauth asks anyway"
    );
    assert_eq!(project.run(&stub, &[]).code, 0);
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        3,
        "expiring soon: asked again"
    );
    assert_eq!(
        project.account("development")["accessToken"],
        stub.seen(|s| s.access_tokens[2].clone())
    );
}

#[test]
fn client_credentials_token_with_90_seconds_left_is_kept() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = cc_config(&stub, &[]);
    let at = clock::rfc3339(SystemTime::now() + Duration::from_secs(90));
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-cc-token-90s", "expiresAt": at});
    let project = Project::new(&cfg);
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(&done.stdout, "still valid");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 0);
}

#[test]
fn client_credentials_token_past_its_expiry_is_requested_again() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = cc_config(&stub, &[]);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-expired-cc-token", "expiresAt": "2001-01-01T00:00:00Z"});
    let project = Project::new(&cfg);
    assert_eq!(project.run(&stub, &[]).code, 0);
    assert_eq!(stub.seen(|s| s.token_forms.len()), 1);
    assert_ne!(
        project.account("development")["accessToken"],
        "fake-expired-cc-token"
    );
}

// ---- client authentication and body styles ----

#[test]
fn client_secret_post_puts_the_credentials_in_the_form() {
    let (stub, _, done) = cc_run(
        Behaviour {
            auth: Auth::Post,
            ..Behaviour::default()
        },
        &[("tokenEndpointAuthMethod", json!("client_secret_post"))],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    stub.seen(|s| {
        assert!(s.token_auth_headers[0].is_none());
        assert_eq!(s.token_forms[0]["client_id"], CLIENT_ID);
        assert_eq!(s.token_forms[0]["client_secret"], CLIENT_SECRET);
    });
}

#[test]
fn both_sends_basic_and_the_client_id_in_the_body_but_not_the_secret_twice() {
    let (stub, _, done) = cc_run(
        Behaviour {
            auth: Auth::Both,
            ..Behaviour::default()
        },
        &[("tokenEndpointAuthMethod", json!("both"))],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    stub.seen(|s| {
        assert!(
            s.token_auth_headers[0]
                .as_deref()
                .unwrap()
                .starts_with("Basic ")
        );
        assert_eq!(s.token_forms[0]["client_id"], CLIENT_ID);
        assert!(!s.token_forms[0].contains_key("client_secret"));
    });
}

#[test]
fn a_json_request_body_carries_the_credentials_grant_and_scope() {
    let (stub, project, done) = cc_run(
        Behaviour {
            auth: Auth::Post,
            json_requests: true,
            ..Behaviour::default()
        },
        &[("requestContentType", json!("application/json"))],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    stub.seen(|s| {
        assert_eq!(
            s.token_content_types[0].as_deref(),
            Some("application/json")
        );
        assert!(s.token_auth_headers[0].is_none());
        let body = &s.token_forms[0];
        assert_eq!(body["client_id"], CLIENT_ID);
        assert_eq!(body["client_secret"], CLIENT_SECRET);
        assert_eq!(body["grant_type"], "client_credentials");
        assert_eq!(body["scope"], "read write");
    });
    assert!(project.account("development")["accessToken"].is_string());
}

#[test]
fn a_json_request_body_with_basic_auth_when_asked() {
    let (stub, _, done) = cc_run(
        Behaviour {
            json_requests: true,
            ..Behaviour::default()
        },
        &[
            ("requestContentType", json!("application/json")),
            ("tokenEndpointAuthMethod", json!("client_secret_basic")),
        ],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    stub.seen(|s| {
        assert!(
            s.token_auth_headers[0]
                .as_deref()
                .unwrap()
                .starts_with("Basic ")
        );
        assert!(!s.token_forms[0].contains_key("client_secret"));
    });
}

#[test]
fn a_json_body_where_a_form_is_expected_is_the_providers_error() {
    // The stub is strict both ways, so the tests above prove the format really changes.
    let (_, project, done) = cc_run(
        Behaviour::default(),
        &[("requestContentType", json!("application/json"))],
    );
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "invalid_request: expected a form body");
    assert_eq!(project.account("development"), json!({}));
}

#[test]
fn login_and_refresh_with_a_json_body() {
    let stub = Stub::start(Behaviour {
        auth: Auth::Post,
        json_requests: true,
        ..Behaviour::default()
    });
    let project = Project::new(&config_with(
        &stub,
        "requestContentType",
        json!("application/json"),
    ));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    assert_eq!(project.run(&stub, &[]).code, 0, "the refresh");
    stub.seen(|s| {
        let (exchange, refresh) = (&s.token_forms[0], &s.token_forms[1]);
        assert_eq!(exchange["grant_type"], "authorization_code");
        assert!(exchange.contains_key("code_verifier") && exchange.contains_key("redirect_uri"));
        assert_eq!(refresh["grant_type"], "refresh_token");
        assert_eq!(refresh["client_secret"], CLIENT_SECRET);
        assert!(
            s.token_content_types
                .iter()
                .all(|ct| ct.as_deref() == Some("application/json"))
        );
    });
}

#[test]
fn login_and_refresh_with_both() {
    let stub = Stub::start(Behaviour {
        auth: Auth::Both,
        ..Behaviour::default()
    });
    let project = Project::new(&config_with(
        &stub,
        "tokenEndpointAuthMethod",
        json!("both"),
    ));
    assert_eq!(login(&project, &stub, &[]).code, 0);
    assert_eq!(project.run(&stub, &[]).code, 0, "the refresh");
    assert_eq!(stub.seen(|s| s.token_forms.len()), 2);
}

#[test]
fn token_and_refresh_request_parameters_go_to_their_own_requests() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    let oauth2 = &mut cfg["authorizations"][0]["oauth2"];
    oauth2["tokenRequestParameters"] =
        json!({"audience": "https://api.example.test", "grant_type": "password"});
    oauth2["refreshRequestParameters"] = json!({"resource": "https://files.example.test"});
    let project = Project::new(&cfg);
    assert_eq!(login(&project, &stub, &[]).code, 0);
    assert_eq!(project.run(&stub, &[]).code, 0);
    stub.seen(|s| {
        let (exchange, refresh) = (&s.token_forms[0], &s.token_forms[1]);
        assert_eq!(exchange["audience"], "https://api.example.test");
        assert_eq!(
            exchange["grant_type"], "authorization_code",
            "a parameter never replaces a standard field"
        );
        assert!(!exchange.contains_key("resource"));
        assert_eq!(refresh["resource"], "https://files.example.test");
        assert!(!refresh.contains_key("audience"));
    });
}

#[test]
fn client_credentials_sends_the_token_request_parameters() {
    let (stub, _, done) = cc_run(
        Behaviour::default(),
        &[("tokenRequestParameters", json!({"audience": "fake-api"}))],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(
        stub.seen(|s| s.token_forms[0]["audience"].clone()),
        "fake-api"
    );
}

// ---- responses as providers send them ----

#[test]
fn a_form_encoded_response_like_githubs_is_parsed_and_json_was_asked_for() {
    let (stub, project, done) = cc_run(
        Behaviour {
            form_responses: true,
            token_type: json!("bearer"),
            expires_in: Value::Null,
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(
        stub.seen(|s| s.token_accepts[0].clone()).as_deref(),
        Some("application/json")
    );
    let account = project.account("development");
    assert_eq!(
        account["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
    assert_eq!(account["tokenType"], "Bearer");
    assert_eq!(account["scope"], "read write");
    assert!(account.get("expiresAt").is_none());
}

#[test]
fn response_content_type_decides_how_an_ambiguous_body_is_read() {
    // A form body with a raw space is not recognisable as a form on its own; the setting is
    // what makes it readable, as the run without it shows.
    let body =
        "access_token=fake-plain-access-0001&token_type=bearer&scope=read write&expires_in=60";
    let run = |settings: &[(&str, Value)]| {
        let stub = Stub::start(Behaviour {
            token_failure: Some((200, "text/plain".into(), body.into())),
            ..Behaviour::default()
        });
        stub.remember("fake-plain-access-0001");
        let project = Project::new(&cc_config(&stub, settings));
        let done = project.run(&stub, &[]);
        (done, project.account("development"))
    };
    let (done, account) = run(&[(
        "responseContentType",
        json!("application/x-www-form-urlencoded"),
    )]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(account["accessToken"], "fake-plain-access-0001");
    assert_eq!(account["scope"], "read write");
    assert_eq!(account["expiresIn"], 60);

    let (done, account) = run(&[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "expected JSON or a form body, got text/plain");
    assert_eq!(account, json!({}));
}

#[test]
fn expires_in_as_a_numeric_string_sets_the_expiry() {
    let before = SystemTime::now();
    let (_, project, done) = cc_run(
        Behaviour {
            expires_in: json!("7200"),
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    let account = project.account("development");
    assert_eq!(account["expiresIn"], 7200);
    assert_expires_in(expiry(&account), before, 7200);
}

#[test]
fn an_unreadable_expires_in_is_reported_and_no_expiry_stored() {
    let (_, project, done) = cc_run(
        Behaviour {
            expires_in: json!("soon"),
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(
        &done.stderr,
        "warning: the provider's expires_in \"soon\" is not a number of seconds, so no expiry was stored",
    );
    assert!(project.account("development").get("expiresAt").is_none());
}

#[test]
fn no_expires_in_means_no_expiry_is_stored() {
    let (_, project, done) = cc_run(
        Behaviour {
            expires_in: Value::Null,
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(&done.stdout, "not stated by the provider");
    let account = project.account("development");
    assert!(account.get("expiresAt").is_none() && account.get("expiresIn").is_none());
}

#[test]
fn token_type_missing_or_in_any_case_is_stored_as_bearer() {
    for sent in [Value::Null, json!("bearer"), json!("BEARER")] {
        let (_, project, done) = cc_run(
            Behaviour {
                token_type: sent.clone(),
                ..Behaviour::default()
            },
            &[],
        );
        assert_eq!(done.code, 0, "{sent}: {}", done.all());
        assert_eq!(
            project.account("development")["tokenType"],
            "Bearer",
            "{sent}"
        );
    }
}

#[test]
fn created_at_is_taken_as_the_issue_time() {
    let (_, project, done) = cc_run(
        Behaviour {
            expires_in: json!(7200),
            extra_fields: json!({"created_at": 2_000_000_000u64}),
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    let account = project.account("development");
    assert_eq!(
        account["expiresAt"],
        clock::rfc3339(clock::from_epoch(2_000_000_000 + 7200))
    );
    assert_eq!(account["created_at"], 2_000_000_000u64);
}

#[test]
fn extra_fields_are_kept_and_no_refresh_token_is_fine() {
    let (_, project, done) = cc_run(
        Behaviour {
            extra_fields: json!({"instance_url": "https://fake.my.example.test", "signature": "fake-sig"}),
            ..Behaviour::default()
        },
        &[],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    let account = project.account("development");
    assert_eq!(account["instance_url"], "https://fake.my.example.test");
    assert_eq!(account["signature"], "fake-sig");
    assert_eq!(account["id_token"], "fake-id-token-kept-as-extra-field");
    assert!(account.get("refreshToken").is_none());
}

// ---- responses that are refused ----

/// A client-credentials run whose token request gets exactly this answer; it must fail
/// with exit 1 and leave the file as it was.
fn refused(status: u16, content_type: &str, body: &str) -> Finished {
    let stub = Stub::start(Behaviour {
        token_failure: Some((status, content_type.into(), body.into())),
        ..Behaviour::default()
    });
    let project = Project::new(&cc_config(&stub, &[]));
    let before = project.text();
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_eq!(project.text(), before, "the file was written");
    assert_has(&done.stderr, &format!("{}/token", stub.url));
    done
}

#[test]
fn a_200_without_an_access_token_is_refused_naming_what_came() {
    let done = refused(
        200,
        "application/json",
        r#"{"token_type":"bearer","scope":"read"}"#,
    );
    assert_has(
        &done.stderr,
        "no access_token in it (fields: token_type, scope)",
    );
}

#[test]
fn an_error_field_in_a_200_body_is_the_providers_error() {
    let done = refused(
        200,
        "application/json",
        r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#,
    );
    assert_has(
        &done.stderr,
        "bad_verification_code: The code passed is incorrect or expired.",
    );
}

#[test]
fn a_body_neither_json_nor_form_shows_its_type_and_start_with_tokens_masked() {
    let token = "fakeTok3nThatLooksReal0123456789abcdef";
    let done = refused(
        200,
        "text/html; charset=utf-8",
        &format!("<html><head><title>Sign in</title></head><body data-t=\"{token}\">"),
    );
    assert_has(&done.stderr, "got text/html; charset=utf-8");
    assert_has(&done.stderr, "<html><head><title>Sign in</title></head>");
    assert!(!done.stderr.contains(token), "{}", done.stderr);
    assert_has(&done.stderr, "fake… (38 chars)");
}

#[test]
fn request_parameters_echoed_in_an_error_page_are_redacted() {
    let stub = Stub::start(Behaviour {
        token_failure: Some((
            400,
            "text/plain".into(),
            "bad request: assertion=fake-assertion-value-0001 was not accepted".into(),
        )),
        ..Behaviour::default()
    });
    stub.remember("fake-assertion-value-0001");
    let project = Project::new(&cc_config(
        &stub,
        &[(
            "tokenRequestParameters",
            json!({"assertion": "fake-assertion-value-0001"}),
        )],
    ));
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "assertion=[redacted] was not accepted");
}

#[test]
fn a_5xx_is_reported_with_its_status() {
    let done = refused(503, "text/plain", "upstream unavailable");
    assert_has(
        &done.stderr,
        "/token answered 503 (text/plain): upstream unavailable",
    );
}

#[test]
fn a_200_with_a_form_body_under_a_json_content_type_is_still_read() {
    let stub = Stub::start(Behaviour {
        token_failure: Some((
            200,
            "application/json".into(),
            "access_token=fake-mislabelled-0001&token_type=bearer".into(),
        )),
        ..Behaviour::default()
    });
    stub.remember("fake-mislabelled-0001");
    let project = Project::new(&cc_config(&stub, &[]));
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(
        project.account("development")["accessToken"],
        "fake-mislabelled-0001"
    );
}

#[test]
fn a_token_request_that_takes_too_long_times_out_naming_the_url() {
    let stub = Stub::start(Behaviour {
        token_delay: Duration::from_secs(3),
        ..Behaviour::default()
    });
    let project = Project::new(&cc_config(&stub, &[]));
    let before = project.text();
    // Without the timeout the stub's answer would come after 3 s and the run would pass.
    let done = project.run(&stub, &["--token-timeout", "1"]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        &format!(
            "could not reach the token endpoint {}/token: no answer within 1 s",
            stub.url
        ),
    );
    assert_eq!(project.text(), before);
}
