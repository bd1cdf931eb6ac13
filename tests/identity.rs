//! Who each test account is and which scopes it holds, through the binary against the
//! sandbox (whose every login is another user): the identity an `id_token` or a provider's
//! "who am I" endpoint vouches for, `status` showing it, the warning when `development`
//! and `compliance` are one user, and the scopes a file gains after the login.

mod support;

use std::time::Duration;

use integration_cli::sandbox::{self, Sandbox};
use serde_json::{Value, json};
use support::connector::{self, Served};
use support::*;

const SECRET: &str = "sandbox-secret-not-a-real-secret";

/// A project whose one authorization is `sandbox`'s own, with `edit` made to its `oauth2`.
fn project(sandbox: &Sandbox, name: &str, edit: impl Fn(&mut Value)) -> Project {
    let mut authorization = sandbox.authorization(name);
    edit(&mut authorization["oauth2"]);
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "testAccounts": {"development": {}, "compliance": {}}
    }))
}

fn scopes(names: &[&str]) -> Value {
    json!(names)
}

/// `oauth2 -t account`, approved at the sandbox's consent page.
fn log_in(project: &Project, sandbox: &Sandbox, account: &str) -> Finished {
    let login = project.oauth2(&["oauth2", "-t", account, "--no-browser", "--port", "0"]);
    approve_at_sandbox(&sandbox.url, &login.login_url_at(&sandbox.url));
    let finished = login.wait();
    assert_eq!(finished.code, 0, "{}", finished.all());
    finished
}

fn plain() -> Served<Sandbox> {
    connector::sandbox(Duration::from_secs(3600))
}

#[test]
fn each_login_is_another_user_and_status_says_who_each_account_is() {
    let sandbox = plain();
    let project = project(&sandbox, "sandbox", |o| {
        o["scopes"] = scopes(&["openid", "email", "read"])
    });
    let first = log_in(&project, &sandbox, "development");
    let second = log_in(&project, &sandbox, "compliance");
    assert!(!second.stderr.contains("same user"), "{}", second.all());
    let id_token = project.account("development")["id_token"].clone();
    assert_no_secrets(&first.all(), &[id_token.as_str().unwrap().to_string()]);
    let dev = project.account("development");
    assert_eq!(dev["identityIssuer"], json!(sandbox.url));
    assert_eq!(dev["identitySubject"], "sandbox-user");
    assert_eq!(
        project.account("compliance")["identityEmail"],
        "ada@example.com"
    );

    let status = project.oauth2(&["status"]).wait();
    assert_eq!(status.code, 0, "{}", status.all());
    let host = sandbox.url.trim_start_matches("http://");
    assert!(
        status.stdout.starts_with(&format!(
            "Who each test account is:\n  development  sandbox-user@example.test  ({host})\n  \
             compliance   ada@example.com  ({host})\n\nTest account \"development\""
        )),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("warning"), "{}", status.stdout);
    let json: Value =
        serde_json::from_str(&project.oauth2(&["status", "--json"]).wait().stdout).unwrap();
    assert_eq!(
        json["testAccounts"][1]["identity"]["email"],
        "ada@example.com"
    );
    assert_eq!(json["sameUser"], Value::Null);
}

/// One browser session, two logins: the provider vouches for the same user twice.
#[test]
fn the_same_user_for_development_and_compliance_is_warned_at_the_login_and_in_status() {
    let sandbox = plain();
    let project = project(&sandbox, "sandbox", |o| {
        o["scopes"] = scopes(&["openid", "read"]);
        o["authorizationParameters"] = json!({"login_hint": "ada@example.com"});
    });
    let first = log_in(&project, &sandbox, "development");
    assert!(!first.stderr.contains("same user"), "{}", first.all());
    let second = log_in(&project, &sandbox, "compliance");
    assert_has(
        &second.stderr,
        "test accounts \"development\" and \"compliance\" are the same user (ada@example.com)",
    );
    assert_has(
        &second.stderr,
        "integration-cli oauth2 -t compliance --reauth",
    );
    let status = project.oauth2(&["status"]).wait();
    assert_has(
        &status.stdout,
        "  warning: test accounts \"development\" and \"compliance\" are the same user",
    );
    let json: Value =
        serde_json::from_str(&project.oauth2(&["status", "--json"]).wait().stdout).unwrap();
    assert_eq!(json["sameUser"]["identity"], "ada@example.com");
}

/// GitHub sends no id_token: its `/user` says who logged in.
#[test]
fn github_says_who_logged_in_at_its_user_endpoint() {
    let sandbox = connector::sandbox_with(sandbox::Options {
        persona: connector::persona("github"),
        ..sandbox::Options::default()
    });
    let project = project(&sandbox, "github", |_| {});
    let run = project.oauth2_env(
        &["oauth2", "--no-browser", "--port", "0"],
        &[("GITHUB_CLIENT_SECRET", SECRET)],
    );
    approve_at_sandbox(&sandbox.url, &run.login_url_at(&sandbox.url));
    let login = run.wait();
    assert_eq!(login.code, 0, "{}", login.all());
    let account = project.account("development");
    assert_eq!(account["identityName"], "sandbox-user", "{account}");
    assert!(account["identitySubject"].is_string(), "{account}");
    assert_eq!(
        account["identityIssuer"],
        json!(format!("{}/api.github.com/user", sandbox.url))
    );
    let status = project.oauth2(&["status"]).wait();
    assert_has(
        &status.stdout,
        "  development  sandbox-user@example.test  (GitHub)",
    );
    assert_has(&status.stdout, "  compliance   not logged in");
}

/// The connector grew a scope after the login: `token` and `status` say so, and `oauth2`
/// logs in again rather than refresh, once; the login after it is refreshed as usual.
#[test]
fn a_scope_added_to_the_file_after_the_login_takes_a_new_login_once() {
    let sandbox = plain();
    let project = project(&sandbox, "sandbox", |o| o["scopes"] = scopes(&["read"]));
    log_in(&project, &sandbox, "development");
    assert_eq!(project.account("development")["requestedScope"], "read");
    let mut file = project.json();
    file["authorizations"][0]["oauth2"]["scopes"] = scopes(&["read", "write"]);
    std::fs::write(&project.path, file.to_string()).unwrap();

    let token = project.oauth2(&["token"]).wait();
    assert_eq!(token.code, 0, "{}", token.all());
    assert_has(
        &token.stderr,
        "test account \"development\" was not granted scope write that the file asks for; a \
         refresh cannot add scopes: log in again with integration-cli oauth2",
    );
    let status = project.oauth2(&["status"]).wait();
    assert_has(
        &status.stdout,
        "    not granted: write (added to the file since the login",
    );

    let again = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    again.wait_for("a refresh cannot add scopes, so logging in again");
    approve_at_sandbox(&sandbox.url, &again.login_url_at(&sandbox.url));
    let again = again.wait();
    assert_eq!(again.code, 0, "{}", again.all());
    assert_has(
        &again.stderr,
        "The file asks for scope write, which test account \"development\" was not granted",
    );
    assert_eq!(project.account("development")["scope"], "read write");

    let refreshed = project
        .oauth2(&["oauth2", "--no-browser", "--port", "0"])
        .wait();
    assert_eq!(refreshed.code, 0, "{}", refreshed.all());
    assert_has(&refreshed.stdout, "Refreshed");
    let token = project.oauth2(&["token"]).wait();
    assert!(!token.stderr.contains("not granted"), "{}", token.all());
}

/// A scope the login asked for and did not get (a box unticked at consent) is warned at the
/// login, and never starts another: asking again would only get the same answer.
#[test]
fn a_scope_refused_at_the_login_is_warned_there_and_starts_no_login() {
    let sandbox = plain();
    let project = project(&sandbox, "sandbox", |o| {
        o["scopes"] = scopes(&["read", "write"])
    });
    let login = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let page = http().get(login.login_url_at(&sandbox.url)).send().unwrap();
    let page = page.text().unwrap();
    let consent = page.split("name=\"consent\" value=\"").nth(1).unwrap();
    let consent = consent.split('"').next().unwrap();
    let ticked = [
        ("consent", consent),
        ("decision", "approve"),
        ("scope", "read"),
    ];
    let done = http()
        .post(format!("{}/authorize/decision", sandbox.url))
        .form(&ticked)
        .send()
        .unwrap();
    assert_eq!(done.status(), 200);
    let login = login.wait();
    assert_eq!(login.code, 0, "{}", login.all());
    assert_has(
        &login.stderr,
        "the provider granted fewer scopes than asked: write was left out",
    );
    assert_eq!(project.account("development")["scope"], "read");

    let status = project.oauth2(&["status"]).wait();
    assert_has(
        &status.stdout,
        "    asked for at the login but not granted: write (oauth2 --reauth asks again)",
    );
    let token = project.oauth2(&["token"]).wait();
    assert!(!token.stderr.contains("not granted"), "{}", token.all());
    let again = project
        .oauth2(&["oauth2", "--no-browser", "--port", "0"])
        .wait();
    assert_eq!(again.code, 0, "{}", again.all());
    assert_has(&again.stdout, "Refreshed");
}
