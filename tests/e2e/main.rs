//! End-to-end proof: the built binary against node-oidc-provider (a certified, third-party
//! authorization server) on loopback, with headless Chromium signing in on its pages.
//!
//! Each test starts its own server and its own browser, so tests run in parallel and a
//! failure never leaves state behind for another. When Node.js, the npm packages or
//! Chromium are missing the tests are reported as ignored with the reason, except under CI
//! (`CI=true`), where that is a failure: a suite that silently does not run proves nothing.

#[path = "../support/mod.rs"]
mod support;

mod peers;

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};

use peers::{Choice, Page, Prereqs, Server};
use support::{Finished, Project, assert_has, assert_no_secrets, http, query_param};

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let found = PREREQS.get_or_init(Prereqs::find);
    let skip = match found {
        Err(reason) if !peers::in_ci() => {
            println!("e2e: skipped, {reason}");
            true
        }
        _ => false,
    };
    let trials = TESTS
        .iter()
        .map(|&(name, test)| {
            Trial::test(name, move || match PREREQS.get().unwrap() {
                Err(reason) if peers::in_ci() => Err(Failed::from(format!(
                    "CI is set, so the e2e suite must run, but {reason}"
                ))),
                Err(reason) => Err(Failed::from(format!("the e2e suite cannot run: {reason}"))),
                Ok(_) => {
                    let _timer = Timer::start(name);
                    test();
                    Ok(())
                }
            })
            .with_ignored_flag(skip)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    print_durations();
    conclusion.exit_code()
}

/// Each test's name is its function's.
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        &[$((stringify!($test), $test as fn())),*]
    };
}

const TESTS: &[(&str, fn())] = tests![
    login_with_client_secret_basic,
    login_with_client_secret_post,
    login_records_who_the_id_token_names,
    server_refuses_the_wrong_client_auth_method,
    browser_shows_the_success_page,
    rerun_refreshes_without_a_browser_basic,
    rerun_refreshes_without_a_browser_post,
    reauth_logs_in_despite_a_valid_refresh_token,
    revoked_refresh_token_falls_back_to_a_login,
    expired_refresh_token_falls_back_to_a_login,
    revoked_refresh_token_without_browser_says_reauth,
    expired_refresh_token_without_browser_says_reauth,
    deny_on_consent_is_reported,
    oauth2_port_moves_the_callback,
    client_credentials_with_client_secret_basic,
    client_credentials_with_client_secret_post,
    token_command_refreshes_and_prints_a_working_token,
    issuer_checked_against_the_servers_iss,
    init_from_the_servers_metadata_then_log_in,
    login_through_tenant_templates_under_a_path_prefix,
    private_key_jwt_client_credentials,
    private_key_jwt_login_then_refresh,
    password_grant_against_authlib,
    jwt_bearer_grant_against_authlib,
    short_refresh_token_lifetime_is_warned_of_and_shown_by_status,
    logout_revokes_at_the_servers_endpoint_basic,
    logout_revokes_at_the_servers_endpoint_post,
];

static PREREQS: OnceLock<Result<Prereqs, String>> = OnceLock::new();

// ---- the tests ----

fn login_with_client_secret_basic() {
    login_saves_working_tokens(Client::Basic);
}

fn login_with_client_secret_post() {
    login_saves_working_tokens(Client::Post);
}

/// A fresh login: PKCE and state on the consent URL (the server refuses a login without
/// S256), tokens in the file, and the access token accepted by the server.
fn login_saves_working_tokens(client: Client) {
    let mut case = Case::new(client);
    let login = case.login(&[], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    let url = &login.url;
    assert_eq!(query_param(url, "client_id").as_deref(), Some(client.id()));
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(url, "code_challenge").map(|c| c.len()),
        Some(43)
    );
    assert!(query_param(url, "state").is_some_and(|s| s.len() >= 43));
    // The success above means something only because the server insists on S256.
    for (drop, plain) in [(true, false), (false, true)] {
        let to = case.authorize_redirect(url, drop, plain);
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request"),
            "the server took a login without S256 PKCE: sent to {to}"
        );
    }
    assert_has(
        &login.finished.stdout,
        "Saved tokens for test account \"development\"",
    );

    let account = case.assert_tokens_saved("development");
    let token = account["accessToken"].as_str().unwrap();
    case.assert_token_works(token);
    assert!(
        account["refreshToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&case.project.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// node-oidc-provider answers `openid` with an `id_token`: its claims (read, not verified)
/// become the test account's identity, and `status` shows who it is.
fn login_records_who_the_id_token_names() {
    let mut case = Case::new(Client::Basic);
    case.log_in();
    let account = case.project.account("development");
    assert!(account["id_token"].is_string(), "{account}");
    assert_eq!(account["identityIssuer"], json!(case.server.issuer));
    let sub = account["identitySubject"]
        .as_str()
        .expect("the id_token's sub")
        .to_string();
    let status = case.project.oauth2_env(&["status"], &[]).wait();
    assert_eq!(status.code, 0, "{}", status.all());
    assert_has(&status.stdout, "Who each test account is:");
    assert_has(&status.stdout, &format!("  development  {sub}  ("));
    assert_has(&status.stdout, "  compliance   not logged in");
    assert_no_secrets(&status.all(), &case.secrets);
}

/// The server is strict about client authentication, so the two tests above prove that each
/// method is really sent as configured: a client registered for client_secret_post that
/// sends Basic is refused, the provider's words reach the user, and nothing is written.
fn server_refuses_the_wrong_client_auth_method() {
    let mut case = Case::with(Client::Post, &[], |oauth2| {
        oauth2.remove("tokenEndpointAuthMethod");
    });
    let before = case.project.text();
    let login = case.login(&[], &[], Choice::Approve);
    assert_eq!(login.finished.code, 1, "{}", case.context(&login.finished));
    assert_has(&login.finished.stderr, "invalid_client");
    assert_has(
        &login.finished.stderr,
        "client e2e-post must authenticate with client_secret_post, not client_secret_basic",
    );
    assert_eq!(login.page.result, "fail");
    assert_eq!(login.page.heading, "Sign-in failed");
    assert_has(&login.page.text, "invalid_client");
    assert_eq!(case.project.text(), before);
}

/// What the user sees in the browser after the redirect is our page, saying which test
/// account got the tokens, and it shows no code or token.
fn browser_shows_the_success_page() {
    let mut case = Case::new(Client::Basic);
    let login = case.login(&["-t", "compliance"], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    let page = &login.page;
    let redirect_uri = query_param(&login.url, "redirect_uri").unwrap();
    assert!(
        page.callback_url.starts_with(&format!("{redirect_uri}?")),
        "{page:?}"
    );
    assert_eq!(page.result, "ok", "{page:?}");
    assert_eq!(page.heading, "Signed in");
    assert_has(
        &page.text,
        "integration-cli saved the tokens for test account \"compliance\".",
    );
    assert_has(&page.text, "You can close this tab");
    let code = query_param(&page.callback_url, "code").unwrap();
    assert!(!page.text.contains(&code));
    case.assert_tokens_saved("compliance");
    assert_eq!(case.project.account("development"), json!({}));
    assert_no_secrets(&page.text, &case.secrets);
}

fn rerun_refreshes_without_a_browser_basic() {
    rerun_refreshes_without_a_browser(Client::Basic);
}

fn rerun_refreshes_without_a_browser_post() {
    rerun_refreshes_without_a_browser(Client::Post);
}

/// A second run refreshes without a browser; the server rotates the refresh token, the new
/// one is stored, and it is the one that works next time.
fn rerun_refreshes_without_a_browser(client: Client) {
    let mut case = Case::new(client);
    case.log_in();
    let first = case.project.account("development");

    let run = case.run(&["oauth2", "--port", "0"], &[]);
    case.assert_ok(&run);
    assert_has(&run.stdout, "Refreshed");
    let second = case.assert_tokens_saved("development");
    assert_ne!(second["accessToken"], first["accessToken"]);
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    case.assert_token_works(second["accessToken"].as_str().unwrap());

    // oidc-provider revokes the whole grant when a spent refresh token is presented, so this
    // passes only if the rotated token was stored.
    let run = case.run(&["oauth2", "--no-browser", "--port", "0"], &[]);
    case.assert_ok(&run);
    let third = case.assert_tokens_saved("development");
    assert_ne!(third["refreshToken"], second["refreshToken"]);
    case.assert_token_works(third["accessToken"].as_str().unwrap());
}

/// A server whose refresh tokens live an hour (it does not say so in its answers): with
/// the figure given as `refreshTokenLifetime`, the login warns that the refresh token is
/// near its end, and `status --json` carries the figures.
fn short_refresh_token_lifetime_is_warned_of_and_shown_by_status() {
    let mut case = Case::with(Client::Basic, &[("REFRESH_TOKEN_TTL", "3600")], |oauth2| {
        oauth2.insert("refreshTokenLifetime".into(), json!(3600));
    });
    let login = case.login(&[], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    assert_has(
        &login.finished.stderr,
        "the refresh token of test account \"development\" expires in ",
    );
    assert_has(&login.finished.stderr, "your refreshTokenLifetime");
    assert!(
        !login
            .finished
            .stdout
            .contains("refresh token of test account")
    );
    let account = case.project.account("development");
    assert!(account["firstLoginAt"].is_string(), "{account}");

    let status = case.run(&["status", "--json"], &[]);
    case.assert_ok(&status);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    let life = &v["testAccounts"][0]["refreshTokenLife"];
    assert_eq!(life["lifetimeSeconds"], 3600, "{life}");
    assert!(life["secondsLeft"].as_u64().unwrap() <= 3600, "{life}");
    assert!(
        life["warning"].as_str().unwrap().contains("--reauth"),
        "{life}"
    );
}

/// `--reauth` goes to the browser even though the stored refresh token is good.
fn reauth_logs_in_despite_a_valid_refresh_token() {
    let mut case = Case::new(Client::Post);
    let first_login = case.login(&[], &[], Choice::Approve);
    case.assert_ok(&first_login.finished);
    let first = case.project.account("development");
    assert!(case.introspect(first["refreshToken"].as_str().unwrap())["active"] == true);

    let again = case.login(&["--reauth"], &[], Choice::Approve);
    case.assert_ok(&again.finished);
    assert_ne!(
        query_param(&again.url, "state"),
        query_param(&first_login.url, "state")
    );
    assert!(!again.finished.stdout.contains("Refreshed"));
    let second = case.assert_tokens_saved("development");
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    case.assert_token_works(second["accessToken"].as_str().unwrap());
}

fn revoked_refresh_token_falls_back_to_a_login() {
    dead_refresh_token_falls_back_to_a_login(Dead::Revoked);
}

fn expired_refresh_token_falls_back_to_a_login() {
    dead_refresh_token_falls_back_to_a_login(Dead::Expired);
}

fn revoked_refresh_token_without_browser_says_reauth() {
    dead_refresh_token_without_browser_says_reauth(Dead::Revoked);
}

fn expired_refresh_token_without_browser_says_reauth() {
    dead_refresh_token_without_browser_says_reauth(Dead::Expired);
}

fn logout_revokes_at_the_servers_endpoint_basic() {
    logout_revokes_at_the_servers_endpoint(Client::Basic);
}

fn logout_revokes_at_the_servers_endpoint_post() {
    logout_revokes_at_the_servers_endpoint(Client::Post);
}

/// `logout` at oidc-provider's RFC 7009 endpoint, the client authenticated as it is
/// registered (the server refuses any other way): the server then calls both tokens
/// inactive, and the file holds none of them.
fn logout_revokes_at_the_servers_endpoint(client: Client) {
    let mut case = Case::new(client);
    case.log_in();
    let account = case.project.account("development");
    let refresh = account["refreshToken"].as_str().unwrap().to_string();
    let access = account["accessToken"].as_str().unwrap().to_string();
    let url = format!("{}/token/revocation", case.server.issuer);
    let out = case.run(&["logout", "--revocation-url", &url, "--json"], &[]);
    case.assert_ok(&out);
    let said: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(said["testAccounts"][0]["result"], "accepted", "{said}");
    assert_eq!(
        said["testAccounts"][0]["refreshToken"], "accepted",
        "{said}"
    );
    let left = case.project.account("development");
    for key in [
        "accessToken",
        "refreshToken",
        "expiresAt",
        "tokenType",
        "scope",
    ] {
        assert!(left.get(key).is_none(), "{key} kept: {left}");
    }
    for token in [&refresh, &access] {
        assert_eq!(
            case.introspect(token)["active"],
            false,
            "a revoked token is active"
        );
    }
}

/// How a stored refresh token stopped working.
#[derive(Clone, Copy)]
enum Dead {
    /// Revoked at the server's revocation endpoint.
    Revoked,
    /// Past the lifetime the server gave it (two seconds here).
    Expired,
}

/// A case whose stored refresh token the server no longer accepts; returns that token.
fn case_with_dead_refresh_token(dead: Dead) -> (Case, String) {
    let env: &[(&str, &str)] = match dead {
        Dead::Revoked => &[],
        Dead::Expired => &[("REFRESH_TOKEN_TTL", "2")],
    };
    let mut case = Case::with(Client::Basic, env, |_| {});
    case.log_in();
    let refresh = case.project.account("development")["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    if let Dead::Revoked = dead {
        case.revoke(&refresh);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while case.introspect(&refresh)["active"] == true {
        assert!(Instant::now() < deadline, "the refresh token stayed active");
        std::thread::sleep(Duration::from_millis(250));
    }
    (case, refresh)
}

/// With a browser at hand the run says the refresh token was refused and logs in again;
/// only the test account changes.
fn dead_refresh_token_falls_back_to_a_login(dead: Dead) {
    let (mut case, refresh) = case_with_dead_refresh_token(dead);
    let login = case.login(&[], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    assert_has(
        &login.finished.stderr,
        "the stored refresh token was refused (invalid_grant",
    );
    assert_has(&login.finished.stderr, "logging in again");
    let account = case.assert_tokens_saved("development");
    assert_ne!(account["refreshToken"], refresh.as_str());
    case.assert_token_works(account["accessToken"].as_str().unwrap());
}

/// A run that may not open a browser and has no terminal: exit 5 (a login is needed), point
/// at `--reauth`, and leave the file exactly as it was.
fn dead_refresh_token_without_browser_says_reauth(dead: Dead) {
    let (mut case, _) = case_with_dead_refresh_token(dead);
    let before = case.project.text();
    let run = case.run(&["oauth2", "--no-browser", "--port", "0"], &[]);
    assert_eq!(run.code, 5, "{}", case.context(&run));
    assert_has(
        &run.stderr,
        "the stored refresh token was refused (invalid_grant",
    );
    assert_has(&run.stderr, "integration-cli oauth2 --reauth");
    assert_eq!(case.project.text(), before);
}

/// The user cancels on the consent page: the provider's `access_denied` and its
/// description are reported, exit code 3, and the file is untouched.
fn deny_on_consent_is_reported() {
    let mut case = Case::new(Client::Basic);
    let before = case.project.text();
    let login = case.login(&[], &[], Choice::Deny);
    assert_eq!(login.finished.code, 3, "{}", case.context(&login.finished));
    assert_has(&login.finished.stderr, "access_denied");
    assert_has(&login.finished.stderr, "End-User aborted interaction");
    assert_eq!(login.page.result, "fail");
    assert_eq!(login.page.heading, "Authorization refused");
    assert_has(&login.page.text, "access_denied");
    assert_eq!(case.project.text(), before);
}

/// `OAUTH2_PORT` moves the callback server, and the redirect_uri with it; the server takes
/// any loopback port for a native client, as RFC 8252 asks.
fn oauth2_port_moves_the_callback() {
    let port = free_port();
    let mut case = Case::new(Client::Post);
    let login = case.login_with(&["oauth2"], &[("OAUTH2_PORT", &port.to_string())]);
    case.assert_ok(&login.finished);
    let expected = format!("http://127.0.0.1:{port}/callback");
    assert_eq!(
        query_param(&login.url, "redirect_uri").as_deref(),
        Some(expected.as_str())
    );
    assert!(login.page.callback_url.starts_with(&expected));
    let account = case.assert_tokens_saved("development");
    case.assert_token_works(account["accessToken"].as_str().unwrap());
}

fn client_credentials_with_client_secret_basic() {
    client_credentials_from_the_server(Client::Basic);
}

fn client_credentials_with_client_secret_post() {
    client_credentials_from_the_server(Client::Post);
}

/// A client-credentials authorization: a token straight from the token endpoint, with no
/// browser, that the server says is active and ours; `token` prints it without asking again.
fn client_credentials_from_the_server(client: Client) {
    let mut case = Case::with(client, &[], |oauth2| {
        oauth2.insert("grantType".into(), json!("client_credentials"));
        oauth2.insert("scopes".into(), json!(["read", "write"]));
    });
    let run = case.run(&["oauth2"], &[]);
    case.assert_ok(&run);
    let account = case.project.account("development");
    let token = account["accessToken"].as_str().unwrap().to_string();
    assert!(account.get("refreshToken").is_none());
    assert_eq!(account["expiresIn"], 300);
    let seen = case.introspect(&token);
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], client.id());
    assert_eq!(seen["scope"], "read write");

    let printed = case.token(&[]);
    case.assert_ok(&printed);
    assert_eq!(printed.stdout, format!("{token}\n"), "reused while valid");

    let again = case.run(&["oauth2", "--reauth"], &[]);
    case.assert_ok(&again);
    let renewed = case.project.account("development")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(renewed, token);
    assert_eq!(case.introspect(&renewed)["active"], true);
}

/// The test-only RSA key beside the project's file, readable by its owner only.
fn key_beside(project: &Project) {
    let pem = include_str!("../fixtures/jwt/test-only-rsa.pem");
    let path = project.dir.path().join("key.pem");
    std::fs::write(&path, pem).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// An oidc-provider client registered for private_key_jwt (its public key in the server's
/// jwks): no secret, an assertion per request.
fn key_jwt_client(oauth2: &mut serde_json::Map<String, Value>) {
    oauth2.insert("clientId".into(), json!("e2e-keyjwt"));
    oauth2.remove("clientSecret");
    oauth2.insert("tokenEndpointAuthMethod".into(), json!("private_key_jwt"));
    oauth2.insert(
        "jwt".into(),
        json!({"privateKeyFile": "key.pem", "algorithm": "RS256"}),
    );
}

/// The userinfo endpoint answers for this token.
#[track_caller]
fn accepted(server: &Server, token: &str) {
    let me = http()
        .get(format!("{}/me", server.issuer))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(me.status(), 200, "{}", me.text().unwrap_or_default());
}

/// Client credentials from oidc-provider with the client proving itself by a signed
/// assertion: a token, then another with a fresh assertion (a reused `jti` is refused there).
fn private_key_jwt_client_credentials() {
    let mut case = Case::with(Client::Basic, &[], |oauth2| {
        key_jwt_client(oauth2);
        oauth2.insert("grantType".into(), json!("client_credentials"));
        oauth2.insert("scopes".into(), json!(["read"]));
    });
    key_beside(&case.project);
    let run = case.run(&["oauth2"], &[]);
    case.assert_ok(&run);
    let first = case.project.account("development")["accessToken"].clone();
    assert!(first.is_string());
    let again = case.run(&["oauth2", "--reauth"], &[]);
    case.assert_ok(&again);
    assert_ne!(case.project.account("development")["accessToken"], first);
    assert!(
        case.server.log().contains("grant.success"),
        "{}",
        case.server.log()
    );
}

/// A browser login whose code exchange, and then refresh, authenticate the client with
/// assertions; the refreshed token works at userinfo.
fn private_key_jwt_login_then_refresh() {
    let mut case = Case::with(Client::Basic, &[], key_jwt_client);
    key_beside(&case.project);
    case.log_in();
    let before = case.assert_tokens_saved("development");
    let mut file = case.project.json();
    // As if years had passed since the refresh (the floor between refreshes is past).
    file["testAccounts"]["development"]["expiresAt"] = json!("2020-01-01T00:00:00Z");
    file["testAccounts"]["development"]["lastRefreshAt"] = json!("2019-12-31T23:00:00Z");
    std::fs::write(&case.project.path, file.to_string()).unwrap();
    let printed = case.token(&[]);
    case.assert_ok(&printed);
    let after = case.project.account("development");
    assert_ne!(after["refreshToken"], before["refreshToken"], "rotated");
    accepted(&case.server, after["accessToken"].as_str().unwrap());
}

fn authlib_project(server: &Server, oauth2: Value) -> Project {
    let mut settings = json!({
        "clientId": "e2e-password",
        "clientSecret": "e2e-password-fake-secret",
        "tokenUrl": format!("{}/token", server.issuer),
        "scopes": ["read"],
    });
    settings
        .as_object_mut()
        .unwrap()
        .extend(oauth2.as_object().unwrap().clone());
    Project::new(&json!({
        "authorizations": [{"name": "authlib", "method": "oauth2", "oauth2": settings}],
        "testAccounts": {"development": {}}
    }))
}

/// Authlib's password grant: tokens for the test user, the rotating refresh token used on
/// the next run, a wrong password refused; the password never stored or shown.
fn password_grant_against_authlib() {
    let prereqs = PREREQS.get().unwrap().as_ref().unwrap();
    let server = Server::start_authlib(prereqs, &[]);
    let project = authlib_project(&server, json!({"grantType": "password"}));
    let password = "e2e-password-not-real";
    let creds = [("UNITO_USERNAME", "e2e-user"), ("UNITO_PASSWORD", password)];
    let done = project.oauth2_env(&["oauth2", "-v"], &creds).wait();
    assert_eq!(done.code, 0, "{}\n{}", done.all(), server.log());
    let first = project.account("development");
    assert!(first["refreshToken"].is_string(), "{first}");
    assert!(!project.text().contains(password));
    let mut secrets = vec![password.to_string(), "e2e-password-fake-secret".to_string()];
    for key in ["accessToken", "refreshToken"] {
        secrets.push(first[key].as_str().unwrap().to_string());
    }
    assert_no_secrets(&done.all(), &secrets);
    let again = project.oauth2(&["oauth2"]).wait();
    assert_eq!(again.code, 0, "{}\n{}", again.all(), server.log());
    assert_ne!(
        project.account("development")["refreshToken"],
        first["refreshToken"],
        "Authlib rotated it, and the new one was saved"
    );
    let wrong = [
        ("UNITO_USERNAME", "e2e-user"),
        ("UNITO_PASSWORD", "fake-wrong"),
    ];
    let refused = project.oauth2_env(&["oauth2", "--reauth"], &wrong).wait();
    assert_ne!(refused.code, 0);
    assert_has(&refused.stderr, "username");
    assert_no_secrets(&refused.all(), &["fake-wrong".to_string()]);
}

/// Authlib's RFC 7523 grant: a service's assertion for a token, and a new assertion (new
/// `jti`) for the next one.
fn jwt_bearer_grant_against_authlib() {
    let prereqs = PREREQS.get().unwrap().as_ref().unwrap();
    let server = Server::start_authlib(prereqs, &[]);
    let project = authlib_project(
        &server,
        json!({"grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "clientId": "e2e-service@example.test", "clientSecret": null,
            "jwt": {"subject": "e2e-user", "privateKeyFile": "key.pem", "keyId": "e2e-kid"}}),
    );
    key_beside(&project);
    let done = project.oauth2(&["oauth2"]).wait();
    assert_eq!(done.code, 0, "{}\n{}", done.all(), server.log());
    let first = project.account("development")["accessToken"].clone();
    assert!(first.is_string());
    let again = project.oauth2(&["oauth2", "--reauth"]).wait();
    assert_eq!(again.code, 0, "{}\n{}", again.all(), server.log());
    assert_ne!(project.account("development")["accessToken"], first);
}

/// A stored token past its expiry: `token` refreshes it (the server rotates the refresh
/// token), saves both, and prints an access token the server accepts.
fn token_command_refreshes_and_prints_a_working_token() {
    let mut case = Case::new(Client::Basic);
    case.log_in();
    // As if the hour had passed: the file says the token has expired.
    let mut file = case.project.json();
    file["testAccounts"]["development"]["expiresAt"] = serde_json::json!("2020-01-01T00:00:00Z");
    file["testAccounts"]["development"]["lastRefreshAt"] =
        serde_json::json!("2019-12-31T23:00:00Z");
    std::fs::write(
        &case.project.path,
        serde_json::to_string_pretty(&file).unwrap(),
    )
    .unwrap();
    let before = case.project.account("development");

    let printed = case.token(&[]);
    case.assert_ok(&printed);
    assert_eq!(printed.stderr, "");
    let after = case.assert_tokens_saved("development");
    assert_eq!(
        printed.stdout,
        format!("{}\n", after["accessToken"].as_str().unwrap())
    );
    assert_ne!(after["accessToken"], before["accessToken"]);
    assert_ne!(after["refreshToken"], before["refreshToken"]);
    case.assert_token_works(after["accessToken"].as_str().unwrap());
}

/// node-oidc-provider sends RFC 9207's `iss` with every authorization response: with the
/// right issuer configured the login passes (and nothing says it could not be checked); with
/// another, it is stopped as a mix-up before the code is used, and nothing is written.
fn issuer_checked_against_the_servers_iss() {
    let mut case = Case::new(Client::Basic);
    let issuer = case.server.issuer.clone();
    let mut cfg = case.project.json();
    cfg["authorizations"][0]["oauth2"]["issuer"] = json!(issuer);
    std::fs::write(
        &case.project.path,
        serde_json::to_string_pretty(&cfg).unwrap(),
    )
    .unwrap();
    case.original = cfg;
    let login = case.login(&[], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    assert!(query_param(&login.page.callback_url, "iss").is_some_and(|i| i == issuer));
    assert!(!login.finished.stderr.contains("could not be checked"));

    let mut cfg = case.project.json();
    cfg["authorizations"][0]["oauth2"]["issuer"] = json!("https://someone-else.example");
    std::fs::write(
        &case.project.path,
        serde_json::to_string_pretty(&cfg).unwrap(),
    )
    .unwrap();
    let before = case.project.text();
    let again = case.login(&["--reauth"], &[], Choice::Approve);
    assert_eq!(again.finished.code, 1, "{}", case.context(&again.finished));
    assert_has(
        &again.finished.stderr,
        &format!("the callback came from issuer {issuer}, not https://someone-else.example"),
    );
    assert_eq!(again.page.result, "fail");
    assert_eq!(case.project.text(), before);
}

/// `init --issuer`: the file written from the server's own discovery document (its
/// endpoints, and its issuer, checked at the login that follows), then a real login.
fn init_from_the_servers_metadata_then_log_in() {
    let mut case = Case::new(Client::Basic);
    let issuer = case.server.issuer.clone();
    let dir = case.project.dir.path().to_path_buf();
    let out = std::process::Command::new(support::BIN)
        .args([
            "init",
            "--force",
            "--issuer",
            &issuer,
            "--client-id",
            Client::Basic.id(),
        ])
        .args(["--connector", "e2e-connector", "--scopes", "openid read"])
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", dir.join(".config-home"))
        .env_remove("UNITO_CONFIG")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = case.project.json();
    let oauth2 = &cfg["authorizations"][0]["oauth2"];
    assert_eq!(oauth2["authorizationUrl"], format!("{issuer}/auth"));
    assert_eq!(oauth2["tokenUrl"], format!("{issuer}/token"));
    assert_eq!(oauth2["issuer"], issuer.as_str());
    assert_eq!(
        oauth2["revocationUrl"],
        format!("{issuer}/token/revocation")
    );
    case.original = cfg.clone();
    let secret = [("E2E_CONNECTOR_CLIENT_SECRET", Client::Basic.secret())];
    let login = case.login(&[], &secret, Choice::Approve);
    case.assert_ok(&login.finished);
    assert!(query_param(&login.page.callback_url, "iss").is_some_and(|i| i == issuer));
    case.assert_tokens_saved("development");
    // The revocation endpoint the metadata named, from the file alone.
    let refresh = case.project.account("development")["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let out = case.run(&["logout", "--json"], &secret);
    case.assert_ok(&out);
    let said: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(said["testAccounts"][0]["result"], "accepted", "{said}");
    assert_eq!(case.introspect(&refresh)["active"], false);
}

/// A per-tenant provider, as Zendesk or Okta are: the server holds one node-oidc-provider per
/// tenant under `/tenants/<name>` (its issuer carries that path), and the authorization's URLs
/// are the platform's templates, filled from the test account's `tenant`. `--var tenant=acme`
/// signs in on acme's pages, passes the RFC 9207 check against acme's issuer (found in the
/// metadata under its path), saves the value with the tokens; the next run refreshes at acme's
/// token endpoint from the stored value alone. Globex, a provider of its own on the same
/// server, knows none of acme's tokens.
fn login_through_tenant_templates_under_a_path_prefix() {
    let mut case = Case::with(Client::Basic, &[("TENANTS", "acme,globex")], |_| {});
    // Under TENANTS the server announces its origin; each tenant's issuer is beneath it.
    let origin = case.server.issuer.clone();
    let acme = format!("{origin}/tenants/acme");
    let globex = format!("{origin}/tenants/globex");

    // The server's side: a tenant's metadata names its own issuer and endpoints, under its
    // path; the root and an unknown tenant have nothing; the strict client-auth check holds.
    let meta = http()
        .get(format!("{acme}/.well-known/openid-configuration"))
        .send()
        .unwrap();
    assert_eq!(meta.status(), 200);
    let meta: Value = serde_json::from_str(&meta.text().unwrap()).unwrap();
    assert_eq!(meta["issuer"], acme.as_str());
    assert_eq!(meta["authorization_endpoint"], format!("{acme}/auth"));
    assert_eq!(meta["token_endpoint"], format!("{acme}/token"));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    for nowhere in ["", "/tenants/initech"] {
        let url = format!("{origin}{nowhere}/.well-known/openid-configuration");
        assert_eq!(http().get(&url).send().unwrap().status(), 404, "{url}");
    }
    let wrong = http()
        .post(format!("{acme}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", Client::Basic.id()),
            ("client_secret", Client::Basic.secret()),
        ])
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_has(
        &wrong.text().unwrap(),
        "client e2e-basic must authenticate with client_secret_basic, not client_secret_post",
    );

    // The project: templates in both URLs, the variable declared, the test account empty.
    let mut cfg = case.project.json();
    let authorization = &mut cfg["authorizations"][0];
    authorization["variables"] = json!({"tenant": {
        "type": "string", "label": "Tenant", "required": true, "pattern": "^[a-z]+$",
    }});
    authorization["oauth2"]["authorizationUrl"] =
        json!(format!("{origin}/tenants/{{+tenant}}/auth"));
    authorization["oauth2"]["tokenUrl"] = json!(format!("{origin}/tenants/{{+tenant}}/token"));
    assert!(authorization["oauth2"].get("issuer").is_none());
    std::fs::write(
        &case.project.path,
        serde_json::to_string_pretty(&cfg).unwrap(),
    )
    .unwrap();
    case.original = cfg;
    // The case's checks of a token (userinfo, introspection) go to acme from here on.
    case.server.issuer = acme.clone();

    let login = case.login(&["--var", "tenant=acme", "-v"], &[], Choice::Approve);
    case.assert_ok(&login.finished);
    assert!(
        login.url.starts_with(&format!("{acme}/auth?")),
        "the login went to {}",
        login.url
    );
    assert_has(&login.finished.all(), &format!("{acme}/auth?"));
    assert_eq!(
        query_param(&login.page.callback_url, "iss").as_deref(),
        Some(acme.as_str())
    );
    assert_has(
        &login.finished.stderr,
        &format!("{acme}/.well-known/openid-configuration"),
    );
    assert!(
        !login.finished.stderr.contains("could not be checked"),
        "{}",
        login.finished.stderr
    );
    assert_eq!(login.page.result, "ok", "{:?}", login.page);
    assert_no_secrets(&login.page.text, &case.secrets);
    let first = case.assert_tokens_saved("development");
    assert_eq!(first["tenant"], "acme", "{first}");
    let token = first["accessToken"].as_str().unwrap();
    case.assert_token_works(token);

    // Globex is another authorization server: acme's tokens mean nothing there.
    let me = http()
        .get(format!("{globex}/me"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(me.status(), 401, "globex took acme's access token");
    let globex_post = |path: &str, form: &[(&str, &str)]| -> Value {
        let r = http()
            .post(format!("{globex}/{path}"))
            .basic_auth(Client::Basic.id(), Some(Client::Basic.secret()))
            .form(form)
            .send()
            .unwrap();
        serde_json::from_str(&r.text().unwrap()).unwrap()
    };
    let seen = globex_post("token/introspection", &[("token", token)]);
    assert_eq!(seen["active"], false, "{seen}");
    let refused = globex_post(
        "token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refreshToken"].as_str().unwrap()),
        ],
    );
    assert_eq!(refused["error"], "invalid_grant", "{refused}");

    // No --var: the stored tenant fills the token URL, and the refresh needs no browser.
    let run = case.run(&["oauth2", "--port", "0"], &[]);
    case.assert_ok(&run);
    assert_has(&run.stdout, "Refreshed");
    let second = case.assert_tokens_saved("development");
    assert_eq!(second["tenant"], "acme", "{second}");
    assert_ne!(second["accessToken"], first["accessToken"]);
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    case.assert_token_works(second["accessToken"].as_str().unwrap());
    let log = case.server.log();
    assert_eq!(
        log.matches("[oidc] acme: grant.success").count(),
        2,
        "{log}"
    );
    assert!(!log.contains("globex: grant.success"), "{log}");
}

// ---- the harness ----

#[derive(Clone, Copy, Debug)]
enum Client {
    Basic,
    Post,
}

impl Client {
    fn id(self) -> &'static str {
        match self {
            Client::Basic => "e2e-basic",
            Client::Post => "e2e-post",
        }
    }

    /// Fakes, known to tests/e2e/server.mjs only.
    fn secret(self) -> &'static str {
        match self {
            Client::Basic => "e2e-basic-fake-secret",
            Client::Post => "e2e-post-fake-secret",
        }
    }
}

/// One test's world: its own server and project, and every secret seen so far, which no
/// output of the CLI may contain.
struct Case {
    prereqs: &'static Prereqs,
    server: Server,
    project: Project,
    client: Client,
    original: Value,
    secrets: Vec<String>,
    /// What the server gives an access token to live, in seconds.
    access_ttl: u64,
}

struct Login {
    /// The consent URL the CLI handed to its browser.
    url: String,
    page: Page,
    finished: Finished,
}

impl Case {
    fn new(client: Client) -> Case {
        Case::with(client, &[], |_| {})
    }

    /// `server_env` tunes the server; `edit` changes the authorization's `oauth2` object.
    fn with(
        client: Client,
        server_env: &[(&str, &str)],
        edit: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> Case {
        let prereqs = PREREQS.get().unwrap().as_ref().unwrap();
        let server = Server::start(prereqs, server_env);
        let mut oauth2 = json!({
            "clientId": client.id(),
            "clientSecret": client.secret(),
            "authorizationUrl": format!("{}/auth", server.issuer),
            "tokenUrl": format!("{}/token", server.issuer),
            "grantType": "authorization_code",
            "scopes": [{"name": "openid", "description": "Who you are"}, "read"],
        });
        if let Client::Post = client {
            oauth2["tokenEndpointAuthMethod"] = json!("client_secret_post");
        }
        edit(oauth2.as_object_mut().unwrap());
        let original = json!({
            "name": "e2e-connector",
            "integrationSettings": {"note": "not the CLI's business, kept as is"},
            "authorizations": [{
                "name": "oidc",
                "method": "oauth2",
                "development": true,
                "oauth2": oauth2,
            }],
            "testAccounts": {
                "development": {},
                "compliance": {},
            },
        });
        let access_ttl = server_env
            .iter()
            .find(|(k, _)| *k == "ACCESS_TOKEN_TTL")
            .map_or(300, |(_, v)| v.parse().unwrap());
        Case {
            access_ttl,
            prereqs,
            project: Project::new(&original),
            server,
            client,
            original,
            secrets: vec![
                Client::Basic.secret().to_string(),
                Client::Post.secret().to_string(),
            ],
        }
    }

    /// `oauth2 --port 0 EXTRA...`, signed in through Chromium.
    fn login(&mut self, extra: &[&str], env: &[(&str, &str)], choice: Choice) -> Login {
        let mut args = vec!["oauth2", "--port", "0"];
        args.extend_from_slice(extra);
        self.sign_in(&args, env, choice)
    }

    /// A plain, successful first login.
    fn log_in(&mut self) {
        let login = self.login(&[], &[], Choice::Approve);
        self.assert_ok(&login.finished);
    }

    fn login_with(&mut self, args: &[&str], env: &[(&str, &str)]) -> Login {
        self.sign_in(args, env, Choice::Approve)
    }

    /// `integration-cli token ARGS`: the token it prints is the one secret allowed out, and
    /// only on stdout.
    fn token(&mut self, args: &[&str]) -> Finished {
        let mut all = vec!["token"];
        all.extend_from_slice(args);
        let finished = self.project.oauth2_env(&all, &[]).wait();
        self.learn_tokens();
        assert_no_secrets(&finished.stderr, &self.secrets);
        let printed = finished.stdout.trim_end_matches('\n');
        let others: Vec<String> = self
            .secrets
            .iter()
            .filter(|s| *s != printed)
            .cloned()
            .collect();
        assert_no_secrets(&finished.stdout, &others);
        finished
    }

    /// Runs the CLI with a `BROWSER` that records the URL it is given, then hands exactly
    /// that URL to Chromium.
    fn sign_in(&mut self, args: &[&str], env: &[(&str, &str)], choice: Choice) -> Login {
        let (browser, opened) = self.browser();
        let mut env = env.to_vec();
        env.push(("BROWSER", browser.to_str().unwrap()));
        // Bounds the CLI's life should this test process be killed before its Drop runs.
        let mut args = args.to_vec();
        args.extend(["--timeout", "90"]);
        let mut run = self.project.oauth2_env(&args, &env);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !opened.exists() {
            let why = if run.has_exited() {
                "exited"
            } else if Instant::now() > deadline {
                "timed out"
            } else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            panic!(
                "the CLI never opened the browser ({why}); stderr:\n{}",
                run.stderr_so_far()
            );
        }
        let url = std::fs::read_to_string(&opened).unwrap();
        let page = peers::sign_in(self.prereqs, &url, choice);
        let finished = run.wait();
        if let Some(code) = query_param(&page.callback_url, "code") {
            self.secrets.push(code);
        }
        self.check_output(&finished);
        Login {
            url,
            page,
            finished,
        }
    }

    /// A run that must not need a browser: `BROWSER` is set, and must stay unused.
    fn run(&mut self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        let (browser, opened) = self.browser();
        let mut env = env.to_vec();
        env.push(("BROWSER", browser.to_str().unwrap()));
        let finished = self.project.oauth2_env(args, &env).wait();
        assert!(!opened.exists(), "the browser was opened");
        self.check_output(&finished);
        finished
    }

    fn browser(&self) -> (std::path::PathBuf, std::path::PathBuf) {
        let (browser, opened) = support::recording_browser(self.project.dir.path());
        let _ = std::fs::remove_file(&opened);
        (browser, opened)
    }

    /// Learns the tokens now in the file, then scans the run's output for every secret.
    fn check_output(&mut self, finished: &Finished) {
        self.learn_tokens();
        assert_no_secrets(&finished.all(), &self.secrets);
    }

    fn learn_tokens(&mut self) {
        if let Some(accounts) = self.project.json()["testAccounts"].as_object() {
            for account in accounts.values() {
                for key in ["accessToken", "refreshToken", "id_token"] {
                    if let Some(s) = account[key].as_str() {
                        self.secrets.push(s.to_string());
                    }
                }
            }
        }
    }

    fn context(&self, finished: &Finished) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- server\n{}",
            finished.code,
            finished.stdout,
            finished.stderr,
            self.server.log()
        )
    }

    #[track_caller]
    fn assert_ok(&self, finished: &Finished) {
        assert_eq!(finished.code, 0, "{}", self.context(finished));
    }

    /// The account holds a fresh set of tokens, and nothing else in the file changed.
    #[track_caller]
    fn assert_tokens_saved(&self, name: &str) -> Value {
        let now = self.project.json();
        let account = now["testAccounts"][name].clone();
        for key in ["accessToken", "refreshToken", "expiresAt"] {
            assert!(
                account[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key} missing in {name}"
            );
        }
        assert_eq!(account["tokenType"], "Bearer");
        assert_eq!(account["expiresIn"], self.access_ttl);
        assert!(
            account["scope"]
                .as_str()
                .is_some_and(|s| s.split(' ').any(|s| s == "read")),
            "scope: {}",
            account["scope"]
        );
        let mut rest = now.clone();
        rest["testAccounts"][name] = self.original["testAccounts"][name].clone();
        assert_eq!(rest, self.original, "something besides {name} changed");
        account
    }

    /// The server accepts the access token: userinfo answers for our user, and
    /// introspection says it is active and ours.
    #[track_caller]
    fn assert_token_works(&self, token: &str) {
        let me = http()
            .get(format!("{}/me", self.server.issuer))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(me.status(), 200, "userinfo refused the access token");
        let me: Value = serde_json::from_str(&me.text().unwrap()).unwrap();
        assert_eq!(me["sub"], "e2e-user");
        let seen = self.introspect(token);
        assert_eq!(seen["active"], true, "{seen}");
        assert_eq!(seen["client_id"], self.client.id());
    }

    /// Asks the server for `url` with the PKCE challenge dropped, or its method made
    /// `plain`, and returns where it redirects the browser.
    fn authorize_redirect(&self, url: &str, drop: bool, plain: bool) -> String {
        let mut url = url::Url::parse(url).unwrap();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| !(drop && k.starts_with("code_challenge")))
            .map(|(k, v)| match k.as_str() {
                "code_challenge_method" if plain => (k, "plain".into()),
                _ => (k, v),
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let no_redirects = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let r = no_redirects.get(url.clone()).send().unwrap();
        let location = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_else(|| panic!("the authorize request was not redirected ({})", r.status()));
        url.join(location).unwrap().to_string()
    }

    fn introspect(&self, token: &str) -> Value {
        let r = self.client_post("token/introspection", &[("token", token)]);
        serde_json::from_str(&r.text().unwrap()).unwrap()
    }

    fn revoke(&self, refresh_token: &str) {
        let r = self.client_post(
            "token/revocation",
            &[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
            ],
        );
        assert!(r.status().is_success(), "revocation: {}", r.status());
    }

    /// A POST authenticated the way this client is registered (the server is strict).
    fn client_post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::blocking::Response {
        let url = format!("{}/{path}", self.server.issuer);
        let mut form = form.to_vec();
        let request = match self.client {
            Client::Basic => http()
                .post(url)
                .basic_auth(self.client.id(), Some(self.client.secret())),
            Client::Post => {
                form.push(("client_id", self.client.id()));
                form.push(("client_secret", self.client.secret()));
                http().post(url)
            }
        };
        request.form(&form).send().unwrap()
    }
}

/// A port free now, for the test that must name one. It is taken below the range the OS
/// hands out for port 0, so a parallel test's server or CLI cannot be given it meanwhile.
fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let span = low.saturating_sub(1024).clamp(1, 8000);
    let start = std::process::id() as u16 % span;
    (0..span)
        .map(|i| low - 1 - (start + i) % span)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}

// ---- durations, for the closing note and CI logs ----

static DURATIONS: Mutex<Vec<(&'static str, Duration, bool)>> = Mutex::new(Vec::new());

struct Timer(&'static str, Instant);

impl Timer {
    fn start(name: &'static str) -> Timer {
        Timer(name, Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        DURATIONS.lock().unwrap_or_else(|e| e.into_inner()).push((
            self.0,
            self.1.elapsed(),
            !failed,
        ));
    }
}

fn print_durations() {
    let mut all = DURATIONS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if all.is_empty() {
        return;
    }
    all.sort_by_key(|&(name, ..)| name);
    println!("e2e durations:");
    for (name, took, ok) in all {
        let mark = if ok { "ok" } else { "FAILED" };
        println!("  {:>6.2} s  {mark:<6}  {name}", took.as_secs_f64());
    }
}
