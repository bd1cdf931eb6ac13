//! The password grant, the jwt-bearer grant and private_key_jwt client authentication,
//! through the binary against the sandbox (which checks assertions as a server does), and
//! the sandbox's own checks over HTTP: expired, wrong audience, wrong key, reused `jti`,
//! wrong password.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use integration_cli::sandbox::{self, CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME};
use serde_json::{Value, json};
use support::connector::{self, Served};
use support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// A sandbox that verifies assertions with the test RSA key (or `public`).
fn sandbox_with_key(public: &str) -> Served<sandbox::Sandbox> {
    connector::sandbox_with(sandbox::Options {
        jwt_key: Some(fixture(public)),
        ..sandbox::Options::default()
    })
}

/// A project with the sandbox's authorization changed by `oauth2` (merged in).
fn project(sandbox: &sandbox::Sandbox, oauth2: Value) -> Project {
    let mut authorization = sandbox.authorization("sandbox");
    let settings = authorization["oauth2"].as_object_mut().unwrap();
    for (k, v) in oauth2.as_object().unwrap() {
        if v.is_null() {
            settings.remove(k);
        } else {
            settings.insert(k.clone(), v.clone());
        }
    }
    Project::new(&json!({
        "authorizations": [authorization],
        "testAccounts": {"development": {}}
    }))
}

/// Puts a key beside the project's file, with `mode`.
fn key_file(project: &Project, fixture_name: &str, mode: u32) {
    let path = project.dir.path().join("key.pem");
    std::fs::write(&path, fixture(fixture_name)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The token aged past its expiry, as if years had passed since its refresh.
fn expire(project: &Project) {
    let mut file = project.json();
    let account = &mut file["testAccounts"]["development"];
    account["expiresAt"] = json!("2020-01-01T00:00:00Z");
    account["lastRefreshAt"] = json!("2019-12-31T23:00:00Z");
    std::fs::write(&project.path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
}

#[test]
fn the_password_grant_saves_tokens_refreshes_them_and_never_shows_the_password() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox, json!({"grantType": "password"}));
    let creds = [("UNITO_USERNAME", USERNAME), ("UNITO_PASSWORD", PASSWORD)];
    let first = project.oauth2_env(&["oauth2", "-v"], &creds).wait();
    assert_eq!(first.code, 0, "{}", first.all());
    let account = project.account("development");
    let (access, refresh) = (
        account["accessToken"].clone(),
        account["refreshToken"].clone(),
    );
    assert!(access.is_string() && refresh.is_string(), "{account}");
    assert!(
        !project.text().contains(PASSWORD),
        "the password is never stored"
    );
    assert!(!project.text().contains(USERNAME), "nor the username");
    assert_no_secrets(&first.all(), &[PASSWORD.to_string()]);

    // The next run refreshes with the stored refresh token: no password needed.
    let again = project.oauth2(&["oauth2"]).wait();
    assert_eq!(again.code, 0, "{}", again.all());
    assert_ne!(project.account("development")["accessToken"], access);
    expire(&project);
    let token = project.oauth2(&["token"]).wait();
    assert_eq!(token.code, 0, "{}", token.all());

    // --reauth asks for the password again: without a terminal, the variables.
    let user_only = [("UNITO_USERNAME", USERNAME)];
    let reauth = project
        .oauth2_env(&["oauth2", "--reauth"], &user_only)
        .wait();
    assert_ne!(reauth.code, 0);
    assert_has(&reauth.stderr, "UNITO_PASSWORD");
    let reauth = project.oauth2_env(&["oauth2", "--reauth"], &[]).wait();
    assert_has(&reauth.stderr, "UNITO_USERNAME");

    // A wrong password: the provider's refusal, not the password; the tokens stay.
    let kept = project.account("development")["refreshToken"].clone();
    let wrong = [
        ("UNITO_USERNAME", USERNAME),
        ("UNITO_PASSWORD", "fake-wrong-pass"),
    ];
    let refused = project
        .oauth2_env(&["oauth2", "--reauth", "-v"], &wrong)
        .wait();
    assert_ne!(refused.code, 0);
    assert_has(&refused.stderr, "wrong username or password");
    assert_no_secrets(&refused.all(), &["fake-wrong-pass".to_string()]);
    assert_eq!(project.account("development")["refreshToken"], kept);

    // The stored refresh token spent elsewhere: refused, and with no password to hand and
    // nobody to ask, the run says a login is needed (exit 5) rather than trying one.
    let spent = http()
        .post(format!("{}/token", sandbox.url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", kept.as_str().unwrap()),
        ])
        .send()
        .unwrap();
    assert_eq!(spent.status(), 200);
    let refused = project.oauth2_env(&["oauth2"], &user_only).wait();
    assert_eq!(refused.code, 5, "{}", refused.all());
    assert!(
        !refused.stderr.contains("logging in again"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_jwt_bearer_grant_signs_a_fresh_assertion_for_each_token() {
    for (algorithm, private, public) in [
        ("RS256", "test-only-rsa.pem", "test-only-rsa.pub.pem"),
        ("ES256", "test-only-ec.pem", "test-only-ec.pub.pem"),
    ] {
        let sandbox = sandbox_with_key(public);
        let project = project(
            &sandbox,
            json!({"grantType": JWT_BEARER, "clientSecret": null, "jwt": {
                "issuer": "fake-service@example.test", "subject": "fake-user@example.test",
                "algorithm": algorithm, "keyId": "fake-kid", "privateKeyFile": "key.pem",
                "scope": ["read"]}}),
        );
        key_file(&project, private, 0o600);
        let done = project.oauth2(&["oauth2"]).wait();
        assert_eq!(done.code, 0, "{algorithm}: {}", done.all());
        let first = project.account("development")["accessToken"].clone();
        assert!(first.is_string());
        // Fresh: kept. Stale: a new assertion (a new jti, accepted), a new token.
        let kept = project.oauth2(&["oauth2"]).wait();
        assert_has(&kept.stdout, "still valid");
        expire(&project);
        let token = project.oauth2(&["token"]).wait();
        assert_eq!(token.code, 0, "{}", token.all());
        assert_ne!(project.account("development")["accessToken"], first);
        let reauth = project.oauth2(&["oauth2", "--reauth"]).wait();
        assert_eq!(reauth.code, 0, "{}", reauth.all());
    }
}

#[test]
fn an_hs256_shared_secret_from_a_file_is_used_without_its_last_line_break() {
    let secret = "fake-hs256-shared-secret-at-least-32-bytes";
    let sandbox = connector::sandbox_with(sandbox::Options {
        jwt_key: Some(secret.into()),
        ..sandbox::Options::default()
    });
    let project = project(
        &sandbox,
        json!({"grantType": JWT_BEARER, "clientSecret": null,
            "jwt": {"algorithm": "HS256", "privateKeyFile": "shared.secret"}}),
    );
    let path = project.dir.path().join("shared.secret");
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let done = project.oauth2(&["oauth2"]).wait();
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(!done.all().contains(secret));
}

#[test]
fn a_signing_key_others_can_read_a_wrong_key_or_audience_are_refused_clearly() {
    let sandbox = sandbox_with_key("test-only-rsa.pub.pem");
    let jwt = |extra: Value| {
        let mut jwt = json!({"privateKeyFile": "key.pem", "algorithm": "RS256"});
        jwt.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"grantType": JWT_BEARER, "clientSecret": null, "jwt": jwt})
    };
    let project = project(&sandbox, jwt(json!({})));
    key_file(&project, "test-only-rsa.pem", 0o644);
    let open = project.oauth2(&["oauth2"]).wait();
    assert_ne!(open.code, 0);
    assert_has(&open.stderr, "others may read it");
    assert_has(&open.stderr, "chmod 600");

    key_file(&project, "test-only-other-rsa.pem", 0o600);
    let wrong_key = project.oauth2(&["oauth2"]).wait();
    assert_ne!(wrong_key.code, 0);
    assert_has(&wrong_key.stderr, "does not verify");

    let elsewhere = project_with(
        &sandbox,
        jwt(json!({"audience": "https://elsewhere.example"})),
    );
    key_file(&elsewhere, "test-only-rsa.pem", 0o600);
    let wrong_audience = elsewhere.oauth2(&["oauth2"]).wait();
    assert_ne!(wrong_audience.code, 0);
    assert_has(&wrong_audience.stderr, "audience");

    // The key from the environment, under a name that says it holds one; not any name.
    let pem = fixture("test-only-rsa.pem");
    let from_env = project_with(
        &sandbox,
        jwt(json!({"privateKeyFile": null,
        "privateKey": "${FAKE_SERVICE_PRIVATE_KEY}"})),
    );
    let done = from_env
        .oauth2_env(&["oauth2"], &[("FAKE_SERVICE_PRIVATE_KEY", &pem)])
        .wait();
    assert_eq!(done.code, 0, "{}", done.all());
    let other_name = project_with(
        &sandbox,
        jwt(json!({"privateKeyFile": null,
        "privateKey": "${GITHUB_TOKEN}"})),
    );
    let refused = other_name
        .oauth2_env(&["oauth2"], &[("GITHUB_TOKEN", "fake-gh-token")])
        .wait();
    assert_ne!(refused.code, 0);
    assert_has(&refused.stderr, "_PRIVATE_KEY");

    // No jwt object at all: the file says what is missing.
    let bare = project_with(&sandbox, json!({"grantType": JWT_BEARER}));
    let done = bare.oauth2(&["oauth2"]).wait();
    assert_ne!(done.code, 0);
    assert_has(&done.stderr, "\"jwt\" object");
}

fn project_with(sandbox: &sandbox::Sandbox, oauth2: Value) -> Project {
    project(sandbox, oauth2)
}

#[test]
fn private_key_jwt_authenticates_the_client_without_a_secret() {
    let sandbox = sandbox_with_key("test-only-rsa.pub.pem");
    // Client credentials, the client proving itself with an assertion.
    let project = project(
        &sandbox,
        json!({"grantType": "client_credentials", "clientSecret": null,
            "tokenEndpointAuthMethod": "private_key_jwt",
            "jwt": {"privateKeyFile": "key.pem", "algorithm": "RS256"}}),
    );
    key_file(&project, "test-only-rsa.pem", 0o600);
    let done = project.oauth2(&["oauth2", "-v"]).wait();
    assert_eq!(done.code, 0, "{}", done.all());
    // A JWT's header, base64url: `{"typ":` or `{"alg":`.
    for start in ["eyJ0eXAi", "eyJhbGci"] {
        assert!(
            !done.all().contains(start),
            "no assertion in the output: {}",
            done.all()
        );
    }
    for _ in 0..2 {
        expire(&project);
        let token = project.oauth2(&["token"]).wait();
        assert_eq!(token.code, 0, "a new jti each time: {}", token.all());
    }
    // The password grant too, and its refresh.
    let password = project_with(
        &sandbox,
        json!({"grantType": "password", "clientSecret": null,
            "tokenEndpointAuthMethod": "private_key_jwt",
            "jwt": {"privateKeyFile": "key.pem", "algorithm": "RS256"}}),
    );
    key_file(&password, "test-only-rsa.pem", 0o600);
    let creds = [("UNITO_USERNAME", USERNAME), ("UNITO_PASSWORD", PASSWORD)];
    let done = password.oauth2_env(&["oauth2"], &creds).wait();
    assert_eq!(done.code, 0, "{}", done.all());
    let refreshed = password.oauth2(&["oauth2"]).wait();
    assert_eq!(refreshed.code, 0, "{}", refreshed.all());
    // The wrong key: the client is refused.
    key_file(&password, "test-only-other-rsa.pem", 0o600);
    let refused = password.oauth2(&["oauth2"]).wait();
    assert_ne!(refused.code, 0);
    assert_has(&refused.stderr, "invalid_client");
}

/// An assertion made by hand, to try what the CLI never sends.
fn assertion(key: &str, claims: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(fixture(key).as_bytes()).unwrap();
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_sandbox_refuses_expired_misaddressed_mis_signed_and_replayed_assertions() {
    let sandbox = sandbox_with_key("test-only-rsa.pub.pem");
    let token_url = format!("{}/token", sandbox.url);
    let claims = |aud: &str, iat: u64, exp: u64, jti: &str| {
        json!({"iss": "fake-iss", "sub": "fake-sub", "aud": aud, "iat": iat, "exp": exp,
            "jti": jti})
    };
    let send = |assertion: &str| {
        let r = http()
            .post(&token_url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().unwrap())
    };
    let t = now();
    let good = assertion(
        "test-only-rsa.pem",
        claims(&token_url, t, t + 60, "fake-jti-1"),
    );
    assert_eq!(send(&good).0, 200);
    for (why, assertion_text, says) in [
        ("replayed", good.clone(), "used before"),
        (
            "expired",
            assertion(
                "test-only-rsa.pem",
                claims(&token_url, t - 600, t - 300, "fake-jti-2"),
            ),
            "expired",
        ),
        (
            "another audience",
            assertion(
                "test-only-rsa.pem",
                claims("https://elsewhere.example/token", t, t + 60, "fake-jti-3"),
            ),
            "audience",
        ),
        (
            "another key",
            assertion(
                "test-only-other-rsa.pem",
                claims(&token_url, t, t + 60, "fake-jti-4"),
            ),
            "does not verify",
        ),
        (
            // The public key's PEM text as an HMAC secret: the key says RS256, not the token.
            "HS256 with the public key as its secret",
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &claims(&token_url, t, t + 60, "fake-jti-7"),
                &jsonwebtoken::EncodingKey::from_secret(
                    fixture("test-only-rsa.pub.pem").as_bytes(),
                ),
            )
            .unwrap(),
            "registered key is for RS256",
        ),
        (
            "too long-lived",
            assertion(
                "test-only-rsa.pem",
                claims(&token_url, t, t + 7200, "fake-jti-5"),
            ),
            "longer than an hour",
        ),
    ] {
        let (status, body) = send(&assertion_text);
        assert_eq!(status, 400, "{why}: {body}");
        assert_has(&body, "invalid_grant");
        assert_has(&body, says);
    }
    // The issuer is an audience too.
    let to_issuer = assertion(
        "test-only-rsa.pem",
        claims(&sandbox.url, t, t + 60, "fake-jti-6"),
    );
    assert_eq!(send(&to_issuer).0, 200);
    // The password grant: the right user and password only.
    for (password, status) in [("fake-wrong-pass", 400), (PASSWORD, 200)] {
        let r = http()
            .post(&token_url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", USERNAME),
                ("password", password),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
    }
}

#[test]
fn the_sandbox_refuses_assertions_from_the_future_too_long_lived_or_without_iss_and_sub() {
    let sandbox = sandbox_with_key("test-only-rsa.pub.pem");
    let token_url = format!("{}/token", sandbox.url);
    let send = |claims: Value| {
        let r = http()
            .post(&token_url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", JWT_BEARER),
                ("assertion", &assertion("test-only-rsa.pem", claims)),
            ])
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().unwrap())
    };
    let t = now();
    let ten_years = 10 * 365 * 24 * 3600;
    let claims = |iat: u64, exp: u64, jti: &str| {
        json!({"iss": "fake-iss", "sub": "fake-sub", "aud": token_url, "iat": iat, "exp": exp,
            "jti": jti})
    };
    // A clock a few seconds ahead is a clock, not a forgery.
    assert_eq!(send(claims(t + 10, t + 70, "fake-jti-skew")).0, 200);
    let without = |claim: &str, value: Value, jti: &str| {
        let mut c = claims(t, t + 60, jti);
        c[claim] = value;
        c
    };
    for (why, claims, says) in [
        (
            "iat ten years ahead",
            claims(t + ten_years, t + ten_years + 60, "fake-jti-a"),
            "iat is",
        ),
        (
            "iat ten minutes ahead",
            claims(t + 600, t + 660, "fake-jti-b"),
            "in the future",
        ),
        (
            "exp a day after an iat in the past",
            claims(t - 60, t + 86_400, "fake-jti-c"),
            "longer than an hour",
        ),
        (
            "an empty iss",
            without("iss", json!(""), "fake-jti-d"),
            "iss",
        ),
        (
            "a numeric sub",
            without("sub", json!(42), "fake-jti-e"),
            "sub",
        ),
        (
            "an iat that is no time",
            without("iat", json!("yesterday"), "fake-jti-f"),
            "iat",
        ),
    ] {
        let (status, body) = send(claims);
        assert_eq!(status, 400, "{why}: {body}");
        assert_has(&body, "invalid_grant");
        assert_has(&body, says);
    }
}

/// Every grant type the file may name is described in the guide's `oauth2` section as the
/// code does it, and nothing in the README or the guide is still called unsupported.
#[test]
fn the_guide_describes_every_grant_type() {
    use integration_cli::config::GrantType;
    let read = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let readme = read("docs/guide.md");
    let start = readme.find("## `integration-cli oauth2`").unwrap();
    let end = start
        + readme[start..]
            .find("\n## ")
            .unwrap_or(readme.len() - start);
    let section = &readme[start..end];
    for name in ["client_credentials", "password", JWT_BEARER] {
        assert!(GrantType::parse(name).is_ok(), "{name} is a grant type");
        assert_has(section, &format!("**`grantType: {name}`**"));
    }
    for page in ["README.md", "docs/guide.md"] {
        assert!(
            !read(page).to_lowercase().contains("not supported yet"),
            "{page} still calls something not supported yet"
        );
    }
}
