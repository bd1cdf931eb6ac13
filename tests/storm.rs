//! Tokens that come back already expired (a provider's skewed clock, a stale
//! `created_at`): no command asks for new ones again and again. A floor between refreshes
//! of one test account, kept in the file for runs in other processes, and backoff in the
//! long-running ones; `expires_in: 0` read as no lifetime stated.

mod support;

use std::time::{Duration, Instant};

use integration_cli::sandbox::{self, Lifetimes, Sandbox, Skew};
use serde_json::json;
use support::connector::{self, Served};
use support::*;

const SECRET_VAR: &str = "SANDBOX_CLIENT_SECRET";
const SECRET: &str = "sandbox-secret-not-a-real-secret";

/// The plain sandbox, answering with `created_at` two hours old (and with `date_too`, a
/// `Date` header from the same clock).
fn skewed(date_too: bool) -> Served<Sandbox> {
    connector::sandbox_with(sandbox::Options {
        skew: Some(Skew {
            behind: Duration::from_secs(2 * 3600),
            date_too,
        }),
        ..sandbox::Options::default()
    })
}

/// A client-credentials project against `sandbox`: no browser, a token per request.
fn project(sandbox: &Sandbox) -> Project {
    let mut authorization = sandbox.authorization("sandbox");
    authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
    authorization["oauth2"]["grantType"] = json!("client_credentials");
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "testAccounts": {"development": {}, "compliance": {}}
    }))
}

fn run(project: &Project, args: &[&str]) -> Run {
    project.oauth2_env(args, &[(SECRET_VAR, SECRET)])
}

/// The most requests a floor of `REFRESH_FLOOR` allows in `elapsed` after the first.
fn at_most(elapsed: Duration) -> u64 {
    1 + elapsed.as_secs() / integration_cli::config::REFRESH_FLOOR.as_secs() + 1
}

/// `token` called in a loop by a script: the first token came back expired, and is handed
/// out as it is (exit 0, a warning naming the cause) inside the floor, not asked for again.
#[test]
fn a_script_calling_token_in_a_loop_does_not_storm_the_provider() {
    let sandbox = skewed(false);
    let project = project(&sandbox);
    let first = run(&project, &["oauth2"]).wait();
    assert_eq!(first.code, 0, "{}", first.all());
    assert_has(
        &first.stderr,
        "the provider's token came back already expired",
    );
    assert_has(&first.stderr, "its created_at");
    let started = Instant::now();
    for runs in 0..10 {
        // `token` and `exec` by turns: the same rule for each.
        let token = if runs % 2 == 0 {
            run(&project, &["token"]).wait()
        } else {
            run(
                &project,
                &[
                    "exec",
                    "--",
                    "sh",
                    "-c",
                    "printf %s \"$UNITO_ACCESS_TOKEN\"",
                ],
            )
            .wait()
        };
        assert_eq!(token.code, 0, "{}", token.all());
        assert!(!token.stdout.trim().is_empty());
        if started.elapsed() < Duration::from_secs(4) {
            assert_has(&token.stderr, "it is used as it is");
        }
    }
    let requests = sandbox.stats().token_requests;
    assert!(
        requests <= at_most(started.elapsed()),
        "{requests} token requests for 10 runs in {:?}",
        started.elapsed()
    );
    assert!(project.account("development")["lastRefreshAt"].is_string());
}

/// An idle `watch`, and a proxy a client calls all the while, with a token that comes back
/// expired: a handful of requests, where there were hundreds a second.
#[test]
fn watch_and_a_busy_proxy_wait_for_the_floor_and_back_off() {
    let sandbox = skewed(false);
    let app = connector::connector(&sandbox.url);
    let project = project(&sandbox);
    assert_eq!(run(&project, &["oauth2"]).wait().code, 0);
    let before = sandbox.stats().token_requests;
    let started = Instant::now();
    let watch = run(&project, &["watch"]);
    // Long enough for dozens of requests, were there neither floor nor backoff.
    std::thread::sleep(Duration::from_millis(750));
    watch.interrupt();
    let watched = watch.wait();
    assert_eq!(watched.code, 0, "{}", watched.all());
    let proxy = run(
        &project,
        &["proxy", "--to", &app.url, "--listen", "127.0.0.1:0"],
    );
    // A client calling all the while: each request finds the token stale.
    let url = proxy.proxy_url();
    let client = reqwest::blocking::Client::new();
    let calling = Instant::now();
    let mut answered = 0;
    while calling.elapsed() < Duration::from_millis(750) {
        if client.get(format!("{url}/me")).send().is_ok() {
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(answered > 10, "{answered} answers");
    proxy.interrupt();
    let proxied = proxy.wait();
    assert_eq!(proxied.code, 0, "{}", proxied.all());
    let requests = sandbox.stats().token_requests - before;
    assert!(
        requests <= at_most(started.elapsed()),
        "{requests} token requests in {:?}:\n{}\n{}",
        started.elapsed(),
        watched.all(),
        proxied.all()
    );
}

/// A provider whose clock is behind sends `created_at` and `Date` from the same clock:
/// read against each other, the token is as fresh as it is, and the skew is said.
#[test]
fn a_provider_clock_behind_is_read_against_its_date_header() {
    let sandbox = skewed(true);
    let project = project(&sandbox);
    let first = run(&project, &["oauth2"]).wait();
    assert_eq!(first.code, 0, "{}", first.all());
    assert_has(
        &first.stderr,
        "this machine's clock is 2h ahead of the provider's",
    );
    assert!(
        !first.stderr.contains("came back already expired"),
        "{}",
        first.stderr
    );
    let token = run(&project, &["token"]).wait();
    assert_eq!(token.code, 0, "{}", token.all());
    assert_eq!(sandbox.stats().token_requests, 1, "the token was fresh");
}

/// `expires_in: 0` says no lifetime (Mailchimp's tokens never expire), not "expired".
#[test]
fn expires_in_zero_is_no_lifetime_stated() {
    let sandbox = connector::sandbox_with(sandbox::Options {
        lifetimes: Lifetimes {
            access_token: Duration::ZERO,
            ..Lifetimes::default()
        },
        ..sandbox::Options::default()
    });
    let project = project(&sandbox);
    assert_eq!(run(&project, &["oauth2"]).wait().code, 0);
    let account = project.account("development");
    assert_eq!(account["expiresIn"], 0);
    assert!(account.get("expiresAt").is_none(), "{account}");
    for _ in 0..3 {
        let token = run(&project, &["token"]).wait();
        assert_eq!(token.code, 0, "{}", token.all());
    }
    assert_eq!(sandbox.stats().token_requests, 1);
}
