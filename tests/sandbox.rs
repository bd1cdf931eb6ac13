//! The built-in sandbox server, spoken to over HTTP as any client would: it must refuse what a
//! real authorization server refuses. And `integration-cli sandbox` / `demo` through the
//! binary.

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use integration_cli::sandbox::{CLIENT_ID, CLIENT_SECRET, Lifetimes, Sandbox};
use serde_json::Value;
use sha2::Digest;
use support::*;

/// The sandbox on its own thread and runtime, stopped when dropped.
struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start() -> Running {
        Running::start_with(Lifetimes::default())
    }

    fn start_with(lifetimes: Lifetimes) -> Running {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let sandbox = Sandbox::start_with(0, lifetimes).await.unwrap();
                url_tx.send(sandbox.url.clone()).unwrap();
                let _ = stopped.await;
            });
        });
        Running {
            url: url_rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let _ = self.thread.take().map(|t| t.join());
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

const REDIRECT: &str = "http://127.0.0.1:45999/callback";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// The consent page for a login, as a browser gets it.
fn consent_page(s: &Running, query: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut url = url::Url::parse(&format!("{}/authorize", s.url)).unwrap();
    url.query_pairs_mut().extend_pairs(query);
    client().get(url).send().unwrap()
}

fn login_query<'a>(verifier: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    let _ = verifier;
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "read"),
        ("state", "fake-state-1234"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Approves (or denies) on the consent page; returns the query the browser is sent back with.
fn decide(s: &Running, page: &str, decision: &str) -> HashMap<String, String> {
    let consent = page
        .split("name=\"consent\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a consent form");
    let r = client()
        .post(format!("{}/authorize/decision", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("consent={consent}&decision={decision}"))
        .send()
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A code for `verifier`, through the consent page.
fn code_for(s: &Running, verifier: &str) -> String {
    let challenge = challenge(verifier);
    let page = consent_page(s, &login_query(verifier, &challenge));
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert_has(&page, "id=\"approve\"");
    assert_has(&page, "id=\"deny\"");
    let back = decide(s, &page, "approve");
    assert_eq!(back["state"], "fake-state-1234");
    back["code"].clone()
}

fn token(s: &Running, form: &[(&str, &str)]) -> (u16, Value) {
    let r = client()
        .post(format!("{}/token", s.url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.text().unwrap()).unwrap())
}

fn exchange(s: &Running, code: &str, verifier: &str, redirect: &str) -> (u16, Value) {
    token(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect),
        ],
    )
}

fn userinfo(s: &Running, access: &str) -> u16 {
    client()
        .get(format!("{}/userinfo", s.url))
        .bearer_auth(access)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

const VERIFIER: &str = "fake-verifier-0123456789-0123456789-0123456789";

#[test]
fn a_login_refresh_and_userinfo_work_and_refresh_tokens_rotate() {
    let s = Running::start();
    let code = code_for(&s, VERIFIER);
    let (status, tokens) = exchange(&s, &code, VERIFIER, REDIRECT);
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&s, access), 200);
    assert_eq!(tokens["expires_in"], 3600);

    let first = tokens["refresh_token"].as_str().unwrap().to_string();
    let (status, renewed) = token(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &first)],
    );
    assert_eq!(status, 200, "{renewed}");
    let second = renewed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    // A spent refresh token comes back: refused, and the whole grant is revoked.
    let (status, refused) = token(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &first)],
    );
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = token(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &second)],
    );
    assert_eq!(status, 400);
    assert_eq!(userinfo(&s, renewed["access_token"].as_str().unwrap()), 401);
}

#[test]
fn an_expired_code_and_an_expired_access_token_are_refused() {
    let s = Running::start_with(Lifetimes {
        code: Duration::ZERO,
        access_token: Duration::ZERO,
    });
    let code = code_for(&s, VERIFIER);
    let (status, body) = exchange(&s, &code, VERIFIER, REDIRECT);
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("code expired"))
    );

    let s = Running::start_with(Lifetimes {
        code: Duration::from_secs(60),
        access_token: Duration::ZERO,
    });
    let code = code_for(&s, VERIFIER);
    let (status, tokens) = exchange(&s, &code, VERIFIER, REDIRECT);
    assert_eq!(status, 200);
    assert_eq!(userinfo(&s, tokens["access_token"].as_str().unwrap()), 401);
}

#[test]
fn a_verifier_outside_43_to_128_characters_is_refused() {
    let s = Running::start();
    let short = "fake-short-verifier";
    let code = code_for(&s, short);
    let (status, body) = exchange(&s, &code, short, REDIRECT);
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "code_verifier must be 43 to 128 characters"
    );
}

#[test]
fn another_host_name_is_refused_and_the_consent_page_cannot_be_framed() {
    let s = Running::start();
    let rebound = client()
        .get(format!("{}/.well-known/oauth-authorization-server", s.url))
        .header("host", "evil.example")
        .send()
        .unwrap();
    assert_eq!(rebound.status(), 421);
    let challenge = challenge(VERIFIER);
    let page = consent_page(&s, &login_query(VERIFIER, &challenge));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[test]
fn a_wrong_pkce_verifier_is_refused() {
    let s = Running::start();
    let code = code_for(&s, VERIFIER);
    let (status, body) = exchange(
        &s,
        &code,
        "fake-other-verifier-0123456789-0123456789-01",
        REDIRECT,
    );
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "PKCE verification failed");
}

#[test]
fn a_code_used_twice_is_refused_and_its_tokens_revoked() {
    let s = Running::start();
    let code = code_for(&s, VERIFIER);
    let (status, tokens) = exchange(&s, &code, VERIFIER, REDIRECT);
    assert_eq!(status, 200);
    let (status, body) = exchange(&s, &code, VERIFIER, REDIRECT);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&s, tokens["access_token"].as_str().unwrap()), 401);
}

#[test]
fn a_different_redirect_uri_at_the_exchange_is_refused() {
    let s = Running::start();
    let code = code_for(&s, VERIFIER);
    let (status, body) = exchange(&s, &code, VERIFIER, "http://127.0.0.1:45999/other");
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "redirect_uri does not match the authorization request"
    );
}

#[test]
fn a_non_loopback_redirect_uri_gets_an_error_page_not_a_redirect() {
    let s = Running::start();
    let challenge = challenge(VERIFIER);
    let mut query = login_query(VERIFIER, &challenge);
    query[2] = ("redirect_uri", "https://attacker.example/cb");
    let r = consent_page(&s, &query);
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert_has(
        &r.text().unwrap(),
        "redirect_uri must be a loopback address",
    );
}

#[test]
fn a_login_asking_a_scope_the_plain_sandbox_does_not_know_is_sent_back_with_invalid_scope() {
    let s = Running::start();
    let challenge = challenge(VERIFIER);
    let mut query = login_query(VERIFIER, &challenge);
    query[3] = ("scope", "read admin");
    let r = consent_page(&s, &query);
    assert!(r.status().is_redirection());
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(
        query_param(location, "error_description").as_deref(),
        Some("unknown scope admin")
    );
}

#[test]
fn a_login_without_pkce_is_sent_back_with_invalid_request() {
    let s = Running::start();
    let r = consent_page(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "fake-state"),
        ],
    );
    assert!(r.status().is_redirection());
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query_param(location, "state").as_deref(),
        Some("fake-state")
    );
}

#[test]
fn deny_sends_access_denied_back() {
    let s = Running::start();
    let challenge = challenge(VERIFIER);
    let page = consent_page(&s, &login_query(VERIFIER, &challenge))
        .text()
        .unwrap();
    let back = decide(&s, &page, "deny");
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "fake-state-1234");
    assert!(!back.contains_key("code"));
}

#[test]
fn client_authentication_is_checked_both_ways() {
    let s = Running::start();
    let cc = [("grant_type", "client_credentials"), ("scope", "read")];
    let wrong = client()
        .post(format!("{}/token", s.url))
        .basic_auth(CLIENT_ID, Some("fake-wrong-secret"))
        .form(&cc)
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let post = client()
        .post(format!("{}/token", s.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .unwrap();
    assert_eq!(post.status(), 200);
    let twice = client()
        .post(format!("{}/token", s.url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .unwrap();
    assert_eq!(twice.status(), 401, "two authentication methods at once");
    let (status, body) = token(&s, &cc);
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none());
    assert_eq!(userinfo(&s, body["access_token"].as_str().unwrap()), 200);
}

// ---- through the binary ----

#[test]
fn the_sandbox_command_prints_what_to_paste_and_serves() {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("Sandbox OAuth 2.0 server at ")
        .expect("the address first")
        .to_string();
    let meta: Value = serde_json::from_str(
        &client()
            .get(format!("{url}/.well-known/oauth-authorization-server"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(meta["token_endpoint"], format!("{url}/token"));
    assert_eq!(meta["revocation_endpoint"], format!("{url}/revoke"));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter()
            .any(|l| l.contains(&format!("\"tokenUrl\": \"{url}/token\""))),
        "{rest:?}"
    );
}

#[test]
fn the_demo_logs_in_refreshes_and_reads_the_token_with_no_browser() {
    // The README's command as is, with no display, a client secret meant for another
    // provider, and proxies that lead nowhere: none of it may matter.
    let tmp = tempfile::tempdir().unwrap();
    let demo = |extra: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("demo").args(extra);
        cmd
    };
    let in_tmp = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("integration-cli-demo-")
            })
            .map(|e| e.path())
    };
    let mut cmd = demo(&[]);
    cmd.env("TMPDIR", tmp.path())
        .env("UNITO_CLIENT_SECRET", "fake-secret-for-another-provider")
        .env_remove("BROWSER")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    for proxy in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(proxy, "http://127.0.0.1:1");
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(in_tmp(), None, "the demo's temporary folder is removed");
    assert_has(
        &String::from_utf8_lossy(&out.stdout),
        "Its temporary folder is removed (--keep keeps it",
    );

    // With --keep, it stays for a look, and the advice is a command that runs.
    let out = demo(&["--keep"])
        .current_dir(tmp.path())
        .env("TMPDIR", tmp.path())
        .env("PATH", "/nonexistent-bin")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let demo_dir = in_tmp().expect("the demo's folder, kept");
    assert_has(
        &String::from_utf8_lossy(&out.stdout),
        &format!(
            "{BIN} status --config {}",
            demo_dir.join(".unito.json").display()
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(demo_dir.join(".unito.json"), dir.path().join(".unito.json")).unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_has(&stdout, "Saved tokens for test account \"development\"");
    assert_has(&stdout, "refresh token  rotated, new one saved");
    assert_has(&stdout, r#"userinfo says: {"sub":"sandbox-user""#);
    assert_has(&stderr, "Approving on the consent page by itself");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(".unito.json")).unwrap())
            .unwrap();
    let account = &file["testAccounts"]["development"];
    assert!(account["accessToken"].is_string() && account["refreshToken"].is_string());
    let all = format!("{stdout}{stderr}");
    for key in ["accessToken", "refreshToken"] {
        assert!(
            !all.contains(account[key].as_str().unwrap()),
            "{key} leaked"
        );
    }

    // A second demo in the same folder keeps the first one's file.
    let again = Command::new(BIN)
        .args(["demo", "--headless", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_has(&String::from_utf8_lossy(&again.stderr), "already exists");
}
