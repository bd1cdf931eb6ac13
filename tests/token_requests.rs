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

/// `at` is `secs` from some moment between `before` and now, as written down: to the
/// millisecond below.
#[track_caller]
fn assert_expires_in(at: SystemTime, before: SystemTime, secs: u64) {
    let low = before + Duration::from_secs(secs) - Duration::from_millis(1);
    let high = SystemTime::now() + Duration::from_secs(secs);
    assert!(
        low <= at && at <= high,
        "{} not {secs} s from now",
        clock::stamp(at)
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

    assert_eq!(project.run(&stub, &["--reauth"]).code, 0);
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        2,
        "--reauth asks anyway"
    );
    // An hour-long token with 30 s left is inside its 60 s margin: a run asks for a new one.
    let mut file = project.json();
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(30);
    file["testAccounts"]["development"]["expiresAt"] = json!(integration_cli::clock::rfc3339(soon));
    std::fs::write(&project.path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
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

/// What `oauth2` does with a stored client-credentials token, by the freshness rule: kept
/// while it has more than the 60 s margin left, requested again otherwise.
#[test]
fn a_stored_client_credentials_token_is_kept_only_while_fresh() {
    let in_secs = |secs: u64| clock::rfc3339(SystemTime::now() + Duration::from_secs(secs));
    for (stored, kept) in [
        (
            json!({"accessToken": "fake-cc-90s", "expiresAt": in_secs(90)}),
            true,
        ),
        (json!({"accessToken": "fake-cc-no-expiry"}), true),
        (
            json!({"accessToken": "fake-cc-30s", "expiresAt": in_secs(30)}),
            false,
        ),
        (
            json!({"accessToken": "fake-cc-expired", "expiresAt": "2001-01-01T00:00:00Z"}),
            false,
        ),
        (
            json!({"accessToken": "fake-cc-unreadable", "expiresAt": "soon"}),
            false,
        ),
        (
            json!({"accessToken": "", "expiresAt": in_secs(3600)}),
            false,
        ),
    ] {
        let stub = Stub::start(Behaviour::default());
        let mut cfg = cc_config(&stub, &[]);
        cfg["testAccounts"]["development"] = stored.clone();
        let project = Project::new(&cfg);
        let done = project.run(&stub, &[]);
        assert_eq!(done.code, 0, "{stored}: {}", done.all());
        let requests = stub.seen(|s| s.token_forms.len());
        if kept {
            assert_has(&done.stdout, "still valid");
            assert_eq!(requests, 0, "{stored}");
            assert_eq!(project.account("development"), stored);
        } else {
            assert_eq!(requests, 1, "{stored}");
            assert_ne!(
                project.account("development")["accessToken"],
                stored["accessToken"]
            );
        }
    }
}

// ---- client authentication and body styles ----

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

/// The shapes themselves are tested at the client (token_client.rs); here, that a refused
/// answer costs the file nothing and names the endpoint, whatever its shape.
#[test]
fn a_refused_answer_leaves_the_file_as_it_was_and_names_the_endpoint() {
    for (status, content_type, body, said) in [
        (
            200,
            "application/json",
            r#"{"token_type":"bearer"}"#,
            "no access_token in it",
        ),
        (
            200,
            "application/json",
            r#"{"error":"bad_verification_code"}"#,
            "bad_verification_code",
        ),
        (
            503,
            "text/plain",
            "upstream unavailable",
            "answered 503 (text/plain): upstream unavailable",
        ),
        (
            200,
            "text/html",
            "<html>Sign in</html>",
            "expected JSON or a form body",
        ),
    ] {
        let done = refused(status, content_type, body);
        assert_has(&done.stderr, said);
    }
}

/// Once, `oauth2` kept this account, `token` said a login was needed (exit 5), `status` said
/// a new one would be requested and `--all` requested one. One rule now: it is stale.
#[test]
fn an_empty_client_credentials_token_is_stale_for_every_command() {
    let in_an_hour = clock::rfc3339(SystemTime::now() + Duration::from_secs(3600));
    let stale = json!({"accessToken": "", "expiresAt": in_an_hour});
    let setup = || {
        let stub = Stub::start(Behaviour::default());
        let mut cfg = cc_config(&stub, &[]);
        cfg["testAccounts"] = json!({"development": stale.clone()});
        let project = Project::new(&cfg);
        (stub, project)
    };
    let (stub, project) = setup();
    let status = project.oauth2(&["status"]).finish(&stub);
    assert_has(&status.stdout, "oauth2 and token request a new one");
    for args in [
        vec!["oauth2", "--no-browser", "--port", "0"],
        vec!["token"],
        vec!["oauth2", "--all"],
    ] {
        let (stub, project) = setup();
        // `token` prints the token it was asked for: no leak check for that run.
        let done = project.oauth2(&args).wait();
        assert_eq!(done.code, 0, "{args:?}: {}", done.all());
        assert_eq!(stub.seen(|s| s.token_forms.len()), 1, "{args:?}");
        let token = project.account("development")["accessToken"].clone();
        assert_ne!(token, "");
        if args[0] == "token" {
            assert_eq!(done.stdout.trim(), token.as_str().unwrap());
        }
    }
}

/// The settings that reach the token client from the file and the command line (the
/// client's own behaviour with them is in token_client.rs): responseContentType, and
/// --token-timeout.
#[test]
fn the_files_response_type_and_the_token_timeout_reach_the_request() {
    let body = "access_token=fake-plain-access-0001&token_type=bearer&scope=read write";
    let stub = Stub::start(Behaviour {
        token_failure: Some((200, "text/plain".into(), body.into())),
        ..Behaviour::default()
    });
    stub.remember("fake-plain-access-0001");
    let form = json!("application/x-www-form-urlencoded");
    let project = Project::new(&cc_config(&stub, &[("responseContentType", form)]));
    let done = project.run(&stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(project.account("development")["scope"], "read write");

    let stub = Stub::start(Behaviour {
        token_delay: Duration::from_secs(3),
        ..Behaviour::default()
    });
    let project = Project::new(&cc_config(&stub, &[]));
    let done = project.run(&stub, &["--token-timeout", "1"]);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "no answer within 1 s");
}
