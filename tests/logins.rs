//! Logins that work anywhere: paste-back for SSH and containers, `redirectHost` and
//! `redirectPath`, the issuer check (RFC 9207), and `--all`.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

/// Where the provider sends the browser after the login, without following it: what a user
/// on another machine sees in the address bar (the page itself does not load).
fn redirect_of(login_url: &str) -> String {
    let r = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(login_url)
        .send()
        .unwrap();
    r.headers()["location"].to_str().unwrap().to_string()
}

/// `--paste` runs start no server; any port will do, nothing listens on it.
const PASTE: &[&str] = &["oauth2", "--paste", "--no-browser", "--port", "45999"];

#[test]
fn paste_a_full_address_and_the_login_completes_with_no_callback_server() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let mut run = project.oauth2_stdin(PASTE);
    let address = redirect_of(&run.login_url());
    assert!(
        address.starts_with("http://127.0.0.1:45999/callback?code="),
        "{address}"
    );
    // Nothing listens on that port: the browser would fail to load it.
    assert!(std::net::TcpStream::connect("127.0.0.1:45999").is_err());
    run.wait_for("Paste that address here");
    run.type_line(&address);
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(
        project.account("development")["accessToken"],
        stub.seen(|s| s.access_tokens[0].clone())
    );
    assert_eq!(
        stub.seen(|s| s.token_forms[0]["redirect_uri"].clone()),
        "http://127.0.0.1:45999/callback"
    );
}

#[test]
fn paste_a_bare_code() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let mut run = project.oauth2_stdin(PASTE);
    let code = query_param(&redirect_of(&run.login_url()), "code").unwrap();
    run.type_line(&format!("  {code}  "));
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(project.account("development")["accessToken"].is_string());
}

#[test]
fn a_pasted_address_from_another_login_is_refused_and_nothing_is_written() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let mut run = project.oauth2_stdin(PASTE);
    let address = redirect_of(&run.login_url());
    let state = query_param(&address, "state").unwrap();
    run.type_line(&address.replace(&state, "fake-state-of-another-login"));
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "the pasted address is not from this login (its state differs)",
    );
    assert_eq!(project.text(), before);
    assert_eq!(stub.seen(|s| s.token_forms.len()), 0, "the code was used");
}

#[test]
fn a_pasted_address_with_another_path_is_refused() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let mut run = project.oauth2_stdin(PASTE);
    let address = redirect_of(&run.login_url());
    run.type_line(&address.replace("/callback?", "/elsewhere?"));
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "the pasted address goes to /elsewhere, but this login's callback is /callback",
    );
}

#[test]
fn a_pasted_error_is_the_providers_refusal() {
    let stub = Stub::start(Behaviour {
        deny: Some(("access_denied".into(), "the user said no".into())),
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let mut run = project.oauth2_stdin(PASTE);
    let address = redirect_of(&run.login_url());
    run.type_line(&address);
    let done = run.finish(&stub);
    assert_eq!(done.code, 3);
    assert_has(&done.stderr, "access_denied: the user said no");
}

#[test]
fn a_localhost_redirect_is_sent_as_registered_and_served_on_ipv4_and_ipv6() {
    // Registered either as a whole redirectUrl, or as redirectHost and redirectPath.
    for by_url in [true, false] {
        for (address, family) in [("127.0.0.1", "IPv4"), ("[::1]", "IPv6")] {
            let stub = Stub::start(Behaviour::default());
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
                .to_string();
            let registered = format!("http://localhost:{port}/oauth/done");
            let mut cfg = config(&stub);
            let oauth2 = &mut cfg["authorizations"][0]["oauth2"];
            let mut args = vec!["oauth2", "--no-browser"];
            if by_url {
                oauth2["redirectUrl"] = json!(registered);
            } else {
                oauth2["redirectHost"] = json!("localhost");
                oauth2["redirectPath"] = json!("/oauth/done");
                // (Port 0 cannot be registered: refused before anything starts.)
                args.extend(["--port", &port]);
            }
            let project = Project::new(&cfg);
            let run = project.oauth2(&args);
            let login = run.login_url();
            assert_eq!(
                query_param(&login, "redirect_uri").as_deref(),
                Some(registered.as_str())
            );
            // The browser resolves localhost to one family or the other: both must work.
            let callback = redirect_of(&login).replacen("localhost", address, 1);
            if address == "[::1]"
                && std::net::TcpStream::connect(("::1", port.parse::<u16>().unwrap())).is_err()
            {
                eprintln!("no IPv6 loopback here; {family} skipped");
                continue;
            }
            let (status, page) = browse(&callback);
            assert_eq!(status, 200, "{family}: {page}");
            let done = run.finish(&stub);
            assert_eq!(done.code, 0, "{family}: {}", done.all());
            assert_eq!(
                stub.seen(|s| s.token_forms[0]["redirect_uri"].clone()),
                registered,
                "byte for byte at the exchange too"
            );
        }
    }
}

#[test]
fn an_issuer_that_differs_is_a_mix_up_and_the_code_is_not_used() {
    let stub = Stub::start(Behaviour {
        iss: Some("https://attacker.example".into()),
        ..Behaviour::default()
    });
    let project = Project::new(&config_with(
        &stub,
        "issuer",
        json!("https://provider.example"),
    ));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (_, page) = browse(&run.login_url());
    assert_has(&page, "Sign-in failed");
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "the callback came from issuer https://attacker.example, not https://provider.example: a possible mix-up attack (RFC 9207)",
    );
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        0,
        "the code reached the token endpoint"
    );
    assert_eq!(project.text(), before);
}

#[test]
fn a_matching_issuer_passes_and_a_missing_one_is_warned_about() {
    let stub = Stub::start(Behaviour {
        iss: Some("https://provider.example".into()),
        ..Behaviour::default()
    });
    let project = Project::new(&config_with(
        &stub,
        "issuer",
        json!("https://provider.example"),
    ));
    let done = login(&project, &stub, &[]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(!done.stderr.contains("could not be checked"));

    stub.behave(|b| b.iss = None);
    let done = login(&project, &stub, &["--reauth"]);
    assert_eq!(done.code, 0);
    assert_has(
        &done.stderr,
        "the provider sent no iss with its answer, so the issuer https://provider.example could not be checked",
    );
}

#[test]
fn all_refreshes_every_account_it_can_and_one_failure_costs_the_others_nothing() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(200),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    cfg["testAccounts"] = json!({
        "development": {"accessToken": "fake-old-dev", "refreshToken": stub.issue_refresh_token()},
        "compliance": {"accessToken": "fake-old-comp", "refreshToken": stub.issue_refresh_token()},
        "qa": {"accessToken": "fake-old-qa", "refreshToken": "fake-revoked-refresh-token"},
        "fresh": {}
    });
    let project = Project::new(&cfg);
    let started = std::time::Instant::now();
    let done = project.run(&stub, &["--all"]);
    let took = started.elapsed();
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stdout, "Test accounts of authorization \"oauth2\":");
    assert_has(&done.stdout, "  compliance: refreshed, expires ");
    assert_has(&done.stdout, "  development: refreshed, expires ");
    assert_has(
        &done.stdout,
        "  fresh: skipped, no refresh token; log in with: integration-cli oauth2 -t fresh",
    );
    assert_has(
        &done.stdout,
        "  qa: needs a login: the stored refresh token was refused (invalid_grant",
    );
    assert_has(&done.stdout, "run integration-cli oauth2 -t qa --reauth");
    assert_has(
        &done.stderr,
        "1 test account(s) could not be brought up to date",
    );
    let issued = stub.seen(|s| s.access_tokens.clone());
    for account in ["development", "compliance"] {
        let token = project.account(account)["accessToken"].clone();
        assert!(
            issued.iter().any(|t| token == t.as_str()),
            "{account}: {token}"
        );
    }
    assert_eq!(project.account("qa")["accessToken"], "fake-old-qa");
    assert!(
        stub.seen(|s| s.max_in_flight) >= 2,
        "the requests ran one by one"
    );
    eprintln!("--all took {took:?}");
}

#[test]
fn ctrl_c_during_all_saves_what_was_sent_and_starts_nothing_new() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(800),
        rotate_refresh_tokens: true,
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    let mut accounts = serde_json::Map::new();
    for i in 0..8 {
        accounts.insert(
            format!("account-{i}"),
            json!({"accessToken": "fake-old", "refreshToken": stub.issue_refresh_token()}),
        );
    }
    cfg["testAccounts"] = serde_json::Value::Object(accounts);
    let project = Project::new(&cfg);
    let run = project.oauth2(&["oauth2", "--all", "--no-browser"]);
    eventually("four requests in flight", || {
        stub.seen(|s| s.token_forms.len()) >= 4
    });
    run.interrupt();
    let done = run.finish(&stub);
    assert_eq!(done.code, 130, "{}", done.all());
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        4,
        "a new request started after Ctrl-C"
    );
    assert_eq!(
        done.stdout.matches(": refreshed").count(),
        4,
        "{}",
        done.stdout
    );
    assert_eq!(done.stdout.matches("not attempted (cancelled)").count(), 4);
    // Each rotated refresh token that came back was saved.
    let json = project.json();
    let saved = json["testAccounts"]
        .as_object()
        .unwrap()
        .values()
        .filter(|a| a["accessToken"] != "fake-old")
        .count();
    assert_eq!(saved, 4);
}

#[test]
fn metadata_that_promises_iss_is_held_to_it_without_configuration() {
    for (sent, passes) in [
        (Some("the stub"), true),
        (Some("https://attacker.example"), false),
        (None, false),
    ] {
        let stub = Stub::start(Behaviour::default());
        // The metadata names the issuer it is served for, as RFC 8414 §3.3 wants.
        let issuer = stub.url.clone();
        stub.behave(|b| {
            b.iss = sent.map(|s| {
                if s == "the stub" {
                    issuer.clone()
                } else {
                    s.to_string()
                }
            });
            b.metadata = Some(json!({
                "issuer": issuer,
                "authorization_response_iss_parameter_supported": true
            }));
        });
        let project = Project::new(&config(&stub));
        let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
        browse(&run.login_url());
        let done = run.finish(&stub);
        if passes {
            assert_eq!(done.code, 0, "{sent:?}: {}", done.all());
        } else {
            assert_eq!(done.code, 1, "{sent:?}: {}", done.all());
            assert_has(
                &done.stderr,
                &format!("not {}: a possible mix-up attack", stub.url),
            );
            assert_eq!(stub.seen(|s| s.token_forms.len()), 0);
        }
    }
}

#[test]
fn metadata_in_rfc_8414_path_form_is_found_and_metadata_for_another_issuer_ignored() {
    for (iss, passes) in [(Some("tenant"), true), (None, false)] {
        let stub = Stub::start(Behaviour::default());
        let tenant = format!("{}/tenant", stub.url);
        stub.behave(|b| {
            b.iss = iss.map(|_| tenant.clone());
            // At the root: metadata naming some other issuer, which must not be used.
            b.metadata = Some(json!({
                "issuer": "https://elsewhere.example",
                "authorization_response_iss_parameter_supported": true
            }));
            b.tenant_metadata = Some(json!({
                "issuer": tenant,
                "authorization_response_iss_parameter_supported": true
            }));
        });
        let project = Project::new(&config_with(
            &stub,
            "authorizationUrl",
            json!(format!("{tenant}/authorize")),
        ));
        let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0", "-v"]);
        browse(&run.login_url());
        let done = run.finish(&stub);
        assert_has(&done.stderr, "metadata ignored");
        if passes {
            assert_eq!(done.code, 0, "{}", done.all());
        } else {
            // The tenant's metadata promised iss: an answer without it is refused.
            assert_eq!(done.code, 1, "{}", done.all());
            assert_has(
                &done.stderr,
                &format!("not {tenant}: a possible mix-up attack"),
            );
        }
    }
}

#[test]
fn a_refusal_without_the_promised_iss_names_the_providers_error_first() {
    let stub = Stub::start(Behaviour {
        deny: Some(("access_denied".into(), "The user said no".into())),
        ..Behaviour::default()
    });
    let issuer = stub.url.clone();
    stub.behave(|b| {
        b.metadata = Some(json!({
            "issuer": issuer,
            "authorization_response_iss_parameter_supported": true
        }));
    });
    let project = Project::new(&config(&stub));
    let before = project.text();
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let (status, page) = browse(&run.login_url());
    assert_eq!(status, 400, "{page}");
    let done = run.finish(&stub);
    assert_eq!(done.code, 3, "{}", done.all());
    let error = done
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", done.stderr));
    assert_has(error, "access_denied: The user said no");
    assert_has(&done.stderr, "could not be checked");
    assert!(!done.stderr.contains("mix-up"), "{}", done.stderr);
    assert_eq!(project.text(), before);
}

#[test]
fn an_address_pasted_without_its_scheme_works_and_a_stray_word_is_refused() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let mut run = project.oauth2_stdin(PASTE);
    let address = redirect_of(&run.login_url());
    run.type_line(address.trim_start_matches("http://"));
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());

    let mut run = project.oauth2_stdin(&[
        "oauth2",
        "--paste",
        "--no-browser",
        "--port",
        "45999",
        "--reauth",
    ]);
    run.login_url();
    run.type_line("y");
    let done = run.finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "the pasted text is neither an address nor a code",
    );
}

#[test]
fn paste_without_a_terminal_never_runs_the_browser() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let (script, opened) = recording_browser(project.dir.path());
    let browser = script.to_str().unwrap();
    let mut run = project.oauth2_stdin_env(
        &["oauth2", "--paste", "--port", "45999"],
        &[("BROWSER", browser)],
    );
    let address = redirect_of(&run.login_url());
    run.wait_for("Paste that address here");
    run.type_line(&address);
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(
        !opened.exists(),
        "BROWSER ran for --paste without a terminal"
    );
}
