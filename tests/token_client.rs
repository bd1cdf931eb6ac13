//! The token endpoint client on its own, against the stub: every client authentication and
//! body style (each accepted by a stub that wants exactly it, and refused by one that wants
//! another), token responses shaped as real providers shape them, and what is refused. The
//! binary-level tests in token_requests.rs keep what is about the file and the run.

mod support;

use std::sync::Arc;
use std::time::Duration;

use integration_cli::assertion::Signer;
use integration_cli::error::{Error, ProviderError};
use integration_cli::secret::{ClientSecret, RefreshToken};
use integration_cli::token::{BodyFormat, ClientAuth, Endpoint, Grant, TokenClient, TokenResponse};
use integration_cli::transport::Network;
use serde_json::{Value, json};
use support::*;

fn endpoint(stub: &Stub, auth: ClientAuth<Arc<Signer>>, format: BodyFormat) -> Endpoint {
    Endpoint {
        url: format!("{}/token", stub.url),
        client_id: CLIENT_ID.into(),
        client_secret: Some(ClientSecret::new(CLIENT_SECRET)),
        auth,
        format,
        response_type: None,
        token_path: None,
    }
}

fn client_credentials() -> Grant {
    Grant::ClientCredentials {
        scope: Some("read write".into()),
    }
}

fn request(
    endpoint: &Endpoint,
    grant: &Grant,
    extra: &[(String, String)],
    timeout: Duration,
) -> Result<TokenResponse, Error> {
    let client = TokenClient::new(Box::new(Network::new(&endpoint.url, timeout)));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.request(endpoint, grant, extra))
}

/// A client-credentials request to a stub with the default behaviour but `answer` as its
/// next token response.
fn answered(status: u16, content_type: &str, body: &str) -> Result<TokenResponse, Error> {
    let stub = Stub::start(Behaviour {
        token_failure: Some((status, content_type.into(), body.into())),
        ..Behaviour::default()
    });
    let endpoint = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    request(
        &endpoint,
        &client_credentials(),
        &[],
        Duration::from_secs(10),
    )
}

#[test]
fn every_client_authentication_and_body_style_is_sent_as_the_provider_wants_it() {
    use BodyFormat::{Form, Json};
    use ClientAuth::{Basic, Both, Post};
    let styles = [
        (Basic, Form, Auth::Basic, false),
        (Post, Form, Auth::Post, false),
        (Both, Form, Auth::Both, false),
        (Post, Json, Auth::Post, true),
        (Basic, Json, Auth::Basic, true),
        (Both, Json, Auth::Both, true),
    ];
    for (i, (auth, format, wants, json_body)) in styles.iter().cloned().enumerate() {
        let stub = Stub::start(Behaviour {
            auth: wants,
            json_requests: json_body,
            ..Behaviour::default()
        });
        let ep = endpoint(&stub, auth.clone(), format);
        let t = request(&ep, &client_credentials(), &[], Duration::from_secs(10));
        assert!(t.is_ok(), "{auth:?}/{format:?}: {:?}", t.err());
        stub.seen(|s| {
            let basic = s.token_auth_headers[0].as_deref();
            let body = &s.token_forms[0];
            let post = matches!(auth, Post);
            assert_eq!(basic.is_some(), !post, "{auth:?}");
            assert_eq!(body.contains_key("client_secret"), post, "{auth:?}");
            let basic_only = matches!(auth, Basic);
            assert_eq!(body.contains_key("client_id"), !basic_only, "{auth:?}");
            assert_eq!(body["grant_type"], "client_credentials");
            assert_eq!(body["scope"], "read write");
            let json_sent = s.token_content_types[0].as_deref() == Some("application/json");
            assert_eq!(json_sent, json_body, "{format:?}");
            assert_eq!(s.token_accepts[0].as_deref(), Some("application/json"));
        });
        // A provider that wants another style refuses this one: the style really changed.
        let (_, _, other_wants, other_json) = styles[(i + 1) % styles.len()];
        let strict = Stub::start(Behaviour {
            auth: other_wants,
            json_requests: other_json,
            ..Behaviour::default()
        });
        let refused = request(
            &endpoint(&strict, auth.clone(), format),
            &client_credentials(),
            &[],
            Duration::from_secs(10),
        );
        assert!(
            matches!(&refused, Err(Error::Provider(ProviderError::TokenEndpoint { error, .. }))
                if error == "invalid_client" || error == "invalid_request"),
            "{auth:?}/{format:?} against {other_wants:?}: {refused:?}"
        );
    }
}

#[test]
fn a_public_client_sends_its_id_in_the_body_whatever_the_setting() {
    let stub = Stub::start(Behaviour::default());
    let mut ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    ep.client_secret = None;
    let _ = request(&ep, &client_credentials(), &[], Duration::from_secs(10));
    stub.seen(|s| {
        assert!(s.token_auth_headers[0].is_none());
        assert_eq!(s.token_forms[0]["client_id"], CLIENT_ID);
    });
}

#[test]
fn extra_parameters_are_sent_but_never_replace_a_standard_field() {
    let stub = Stub::start(Behaviour::default());
    let ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    let extra = [
        ("audience".to_string(), "fake-audience".to_string()),
        ("grant_type".to_string(), "password".to_string()),
    ];
    request(&ep, &client_credentials(), &extra, Duration::from_secs(10)).unwrap();
    stub.seen(|s| {
        assert_eq!(s.token_forms[0]["audience"], "fake-audience");
        assert_eq!(s.token_forms[0]["grant_type"], "client_credentials");
    });
}

/// What a response must come to.
enum Expect {
    Token {
        access_token: &'static str,
        expires_in: Option<u64>,
        token_type: Option<&'static str>,
        refresh_token: bool,
        extra: &'static [&'static str],
        warning: Option<&'static str>,
    },
    Refused(&'static [&'static str]),
}

#[test]
fn responses_shaped_as_providers_shape_them_are_read_or_refused_in_their_words() {
    let token = |access_token, expires_in, token_type| Expect::Token {
        access_token,
        expires_in,
        token_type,
        refresh_token: false,
        extra: &[],
        warning: None,
    };
    let rows: Vec<(&str, u16, &str, String, Expect)> = vec![
        ("a standard JSON answer", 200, "application/json",
            json!({"access_token": "fake-a", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "fake-r"}).to_string(),
            Expect::Token { access_token: "fake-a", expires_in: Some(3600), token_type: Some("Bearer"), refresh_token: true, extra: &[], warning: None }),
        ("GitHub's form answer", 200, "application/x-www-form-urlencoded",
            "access_token=fake-gh&scope=repo%2Cuser&token_type=bearer".into(),
            token("fake-gh", None, Some("bearer"))),
        ("a form labelled JSON", 200, "application/json",
            "access_token=fake-mislabelled&token_type=bearer".into(),
            token("fake-mislabelled", None, Some("bearer"))),
        ("expires_in as a string", 200, "application/json",
            json!({"access_token": "fake-a", "expires_in": "3600"}).to_string(),
            token("fake-a", Some(3600), None)),
        ("expires_in as a decimal string", 200, "application/json",
            json!({"access_token": "fake-a", "expires_in": "3600.0"}).to_string(),
            token("fake-a", Some(3600), None)),
        ("an unreadable expires_in", 200, "application/json",
            json!({"access_token": "fake-a", "expires_in": "soon"}).to_string(),
            Expect::Token { access_token: "fake-a", expires_in: None, token_type: None, refresh_token: false, extra: &[],
                warning: Some("expires_in \"soon\" is not a number of seconds") }),
        ("a twenty-year expires_in", 200, "application/json",
            json!({"access_token": "fake-a", "expires_in": 630_720_000}).to_string(),
            Expect::Token { access_token: "fake-a", expires_in: None, token_type: None, refresh_token: false, extra: &[],
                warning: Some("beyond any sensible lifetime") }),
        ("Salesforce's and Doorkeeper's extra fields", 200, "application/json",
            json!({"access_token": "fake-a", "instance_url": "https://x.example", "created_at": 1_700_000_000, "id_token": "fake-id"}).to_string(),
            Expect::Token { access_token: "fake-a", expires_in: None, token_type: None, refresh_token: false,
                extra: &["instance_url", "created_at", "id_token"], warning: None }),
        ("a 200 without an access_token", 200, "application/json",
            json!({"token_type": "bearer", "scope": "read"}).to_string(),
            Expect::Refused(&["no access_token in it (fields: token_type, scope)"])),
        ("an error in a 200 (GitHub, Slack)", 200, "application/json",
            json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}).to_string(),
            Expect::Refused(&["answered 200 bad_verification_code: The code passed is incorrect or expired."])),
        ("an RFC 6749 error", 400, "application/json",
            json!({"error": "invalid_grant", "error_description": "code expired"}).to_string(),
            Expect::Refused(&["answered 400 invalid_grant: code expired"])),
        ("HubSpot's refusal: status and message", 400, "application/json",
            json!({"status": "BAD_AUTH_CODE", "message": "missing or invalid auth code", "correlationId": "fake-1"}).to_string(),
            Expect::Refused(&["answered 400 BAD_AUTH_CODE: missing or invalid auth code"])),
        ("a 200 with a status field is an answer, not a refusal", 200, "application/json",
            json!({"access_token": "fake-a", "status": "active"}).to_string(),
            Expect::Token { access_token: "fake-a", expires_in: None, token_type: None, refresh_token: false,
                extra: &["status"], warning: None }),
        ("a login page at the wrong URL", 200, "text/html; charset=utf-8",
            "<html><head><title>Sign in</title></head><body data-t=\"fakeTok3nThatLooksReal0123456789abcdef\">".into(),
            Expect::Refused(&["expected JSON or a form body, got text/html; charset=utf-8", "<title>Sign in</title>", "fake… (38 chars)"])),
        ("a 5xx", 503, "text/plain", "upstream unavailable".into(),
            Expect::Refused(&["answered 503 (text/plain): upstream unavailable"])),
        ("Slack's failure in a 200", 200, "application/json",
            json!({"ok": false, "error": "invalid_code"}).to_string(),
            Expect::Refused(&["answered 200 invalid_code"])),
        ("Slack's user-token install: the token under authed_user", 200, "application/json",
            json!({"ok": true, "app_id": "A1", "team": {"id": "T1"},
                "authed_user": {"id": "U1", "scope": "search:read", "access_token": "fake-xoxp-user", "token_type": "user"}}).to_string(),
            Expect::Token { access_token: "fake-xoxp-user", expires_in: None, token_type: Some("user"), refresh_token: false,
                extra: &["authed_user", "team", "app_id"], warning: None }),
        ("an access token that would inject a header", 200, "application/json",
            json!({"access_token": "fake\r\nX-Injected: 1"}).to_string(),
            Expect::Refused(&["its access_token cannot be a bearer token (RFC 6750): it holds a control character"])),
    ];
    for (what, status, content_type, body, expect) in rows {
        let answer = answered(status, content_type, &body);
        match (expect, answer) {
            (
                Expect::Token {
                    access_token,
                    expires_in,
                    token_type,
                    refresh_token,
                    extra,
                    warning,
                },
                Ok(t),
            ) => {
                assert_eq!(t.access_token.expose(), access_token, "{what}");
                assert_eq!(t.expires_in, expires_in, "{what}");
                assert_eq!(t.token_type.as_deref(), token_type, "{what}");
                assert_eq!(t.refresh_token.is_some(), refresh_token, "{what}");
                for key in extra {
                    assert!(t.extra.contains_key(*key), "{what}: {key}");
                }
                match warning {
                    Some(w) => assert!(
                        t.warnings.iter().any(|x| x.contains(w)),
                        "{what}: {:?}",
                        t.warnings
                    ),
                    None => assert!(t.warnings.is_empty(), "{what}: {:?}", t.warnings),
                }
            }
            (Expect::Refused(said), Err(e)) => {
                let text = e.to_string();
                for s in said {
                    assert!(text.contains(s), "{what}: expected {s:?} in {text}");
                }
                assert!(!text.contains("fakeTok3nThatLooksReal"), "{what}: {text}");
            }
            (Expect::Token { .. }, Err(e)) => panic!("{what}: refused: {e}"),
            (Expect::Refused(_), Ok(t)) => panic!("{what}: accepted: {t:?}"),
        }
    }
}

#[test]
fn the_configured_response_type_decides_how_an_ambiguous_body_is_read() {
    // A form body with a raw space is not recognisable as a form on its own; the setting is
    // what makes it readable, as the request without it shows.
    let body =
        "access_token=fake-plain-access-0001&token_type=bearer&scope=read write&expires_in=60";
    for response_type in [Some("application/x-www-form-urlencoded"), None] {
        let stub = Stub::start(Behaviour {
            token_failure: Some((200, "text/plain".into(), body.into())),
            ..Behaviour::default()
        });
        let mut ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
        ep.response_type = response_type.map(str::to_string);
        let answer = request(&ep, &client_credentials(), &[], Duration::from_secs(10));
        match response_type {
            Some(_) => {
                let t = answer.unwrap();
                assert_eq!(t.scope.as_deref(), Some("read write"));
                assert_eq!(t.expires_in, Some(60));
            }
            None => assert!(
                answer
                    .unwrap_err()
                    .to_string()
                    .contains("expected JSON or a form body, got text/plain")
            ),
        }
    }
}

#[test]
fn what_was_sent_is_redacted_from_whatever_the_provider_echoes() {
    let assertion = "fake-assertion-value-0001";
    let stub = Stub::start(Behaviour {
        token_failure: Some((
            400,
            "text/plain".into(),
            format!(
                "bad request: assertion={assertion} secret={CLIENT_SECRET} refresh=fake-refresh-sent-0001"
            ),
        )),
        ..Behaviour::default()
    });
    let ep = endpoint(&stub, ClientAuth::Post, BodyFormat::Form);
    let grant = Grant::RefreshToken {
        refresh_token: RefreshToken::new("fake-refresh-sent-0001"),
    };
    let extra = [("assertion".to_string(), assertion.to_string())];
    let e = request(&ep, &grant, &extra, Duration::from_secs(10)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.ends_with("bad request: assertion=[redacted] secret=[redacted] refresh=[redacted]"),
        "{text}"
    );
}

#[test]
fn a_redirect_is_reported_and_not_followed() {
    let stub = Stub::start(Behaviour::default());
    let mut ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    ep.url = format!("{}/token-moved", stub.url);
    let e = request(&ep, &client_credentials(), &[], Duration::from_secs(10)).unwrap_err();
    assert!(
        e.to_string().contains("it redirects (307) to /token"),
        "{e}"
    );
    assert_eq!(
        stub.seen(|s| s.token_forms.len()),
        0,
        "the redirect was followed"
    );
}

#[test]
fn a_token_endpoint_that_takes_too_long_times_out_naming_its_url() {
    let stub = Stub::start(Behaviour {
        token_delay: Duration::from_secs(3),
        ..Behaviour::default()
    });
    let ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    // Without the timeout the stub's answer would come after 3 s and the request succeed.
    let e = request(&ep, &client_credentials(), &[], Duration::from_secs(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "could not reach the token endpoint {}/token: no answer within 1 s",
            stub.url
        )
    );
}

#[test]
fn json_bodies_carry_every_field_as_a_string() {
    let stub = Stub::start(Behaviour {
        auth: Auth::Post,
        json_requests: true,
        ..Behaviour::default()
    });
    let ep = endpoint(&stub, ClientAuth::Post, BodyFormat::Json);
    let extra = [("resource".to_string(), "https://api.example".to_string())];
    request(&ep, &client_credentials(), &extra, Duration::from_secs(10)).unwrap();
    stub.seen(|s| {
        let body: Value = json!(s.token_forms[0]);
        assert_eq!(body["resource"], "https://api.example");
        assert_eq!(body["client_secret"], CLIENT_SECRET);
    });
}

#[test]
fn token_response_path_takes_the_tokens_from_where_it_says() {
    let answer = json!({
        "ok": true, "access_token": "fake-xoxb-bot", "token_type": "bot", "scope": "chat:write",
        "authed_user": {"id": "U1", "scope": "search:read", "access_token": "fake-xoxp-user",
            "token_type": "user", "refresh_token": "fake-xoxe-user", "expires_in": 43200},
    });
    for (path, token, kind, refresh) in [
        (None, "fake-xoxb-bot", "bot", false),
        (Some("authed_user"), "fake-xoxp-user", "user", true),
    ] {
        let stub = Stub::start(Behaviour {
            token_failure: Some((200, "application/json".into(), answer.to_string())),
            ..Behaviour::default()
        });
        let mut ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
        ep.token_path = path.map(str::to_string);
        let t = request(&ep, &client_credentials(), &[], Duration::from_secs(10)).unwrap();
        assert_eq!(t.access_token.expose(), token);
        assert_eq!(t.token_type.as_deref(), Some(kind));
        assert_eq!(t.refresh_token.is_some(), refresh);
        assert_eq!(t.taken_from.as_deref(), path);
    }
    let stub = Stub::start(Behaviour {
        token_failure: Some((200, "application/json".into(), answer.to_string())),
        ..Behaviour::default()
    });
    let mut ep = endpoint(&stub, ClientAuth::Basic, BodyFormat::Form);
    ep.token_path = Some("authed_bot".into());
    let e = request(&ep, &client_credentials(), &[], Duration::from_secs(10)).unwrap_err();
    assert!(
        e.to_string().contains("it has no object \"authed_bot\""),
        "{e}"
    );
}
