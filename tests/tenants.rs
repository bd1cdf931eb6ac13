//! Per-tenant providers through the binary: a file as the platform's CLI takes it, with
//! Zendesk's templated URLs and an authorization's `variables`, against the sandbox's
//! `zendesk` persona (served only under the subdomains it knows, its tokens good only at
//! the subdomain that issued them): login, refresh, client credentials, `--all`, `token`
//! and the proxy, values missing or wrong, and the prompts at a real pseudo-terminal.

mod support;

use std::process::Command;

use integration_cli::sandbox::{self, Sandbox};
use serde_json::{Value, json};
use support::connector::{self, Served};
use support::*;

const SECRET_VAR: &str = "ZENDESK_CLIENT_SECRET";
const SECRET: &str = "sandbox-secret-not-a-real-secret";

fn zendesk() -> Served<Sandbox> {
    connector::sandbox_with(sandbox::Options {
        persona: connector::persona("zendesk"),
        ..sandbox::Options::default()
    })
}

/// The authorization the sandbox prints for `.unito.json`, its secret from the environment.
fn authorization(sandbox: &Sandbox) -> Value {
    let mut authorization = sandbox.authorization("zendesk");
    authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
    authorization
}

fn project_with(authorization: Value, development: Value) -> Project {
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "testAccounts": {"development": development, "compliance": {}}
    }))
}

fn project(sandbox: &Sandbox, development: Value) -> Project {
    project_with(authorization(sandbox), development)
}

fn run(project: &Project, args: &[&str]) -> Run {
    project.oauth2_env(args, &[(SECRET_VAR, SECRET)])
}

/// `oauth2 --no-browser --port 0 EXTRA...`, approved: the login URL and the run's end.
fn log_in(project: &Project, sandbox_url: &str, extra: &[&str]) -> (String, Finished) {
    let mut args = vec!["oauth2", "--no-browser", "--port", "0"];
    args.extend_from_slice(extra);
    let login = run(project, &args);
    let url = login.login_url_at(sandbox_url);
    approve_at_sandbox(sandbox_url, &url);
    (url, login.wait())
}

/// Every secret the file holds now, and the client's.
fn secrets_in(project: &Project) -> Vec<String> {
    let mut all = vec![SECRET.to_string()];
    for account in ["development", "compliance"] {
        for key in ["accessToken", "refreshToken"] {
            if let Some(t) = project.account(account)[key].as_str() {
                all.push(t.to_string());
            }
        }
    }
    all
}

/// The proxy on a free port in front of `to`: its run and address.
fn proxy(project: &Project, to: &str) -> (Run, String) {
    let proxy = run(project, &["proxy", "--to", to, "--listen", "127.0.0.1:0"]);
    let url = proxy.proxy_url();
    (proxy, url)
}

/// A Zendesk file the platform's CLI accepts: logged in at the account's subdomain, the
/// value kept, refreshed there, and handed to the connector beside the token.
#[test]
fn a_platform_zendesk_file_logs_in_refreshes_and_feeds_the_proxy() {
    let sandbox = zendesk();
    let app = connector::connector(&sandbox.url);
    let mut authorization = authorization(&sandbox);
    // A declared default fills a template without a question, and is saved.
    authorization["variables"]["locale"] = json!({"type": "string", "defaultValue": "en-US"});
    authorization["oauth2"]["authorizationParameters"] = json!({"locale": "{+locale}"});
    let project = project_with(authorization, json!({"subdomain": "acme"}));
    let before: Value = project.json();

    let (url, login) = log_in(&project, &sandbox.url, &[]);
    assert_eq!(login.code, 0, "{}", login.all());
    assert!(
        url.starts_with(&format!(
            "{}/acme.zendesk.com/oauth/authorizations/new?",
            sandbox.url
        )),
        "{url}"
    );
    assert_eq!(query_param(&url, "locale").as_deref(), Some("en-US"));
    let first = project.account("development");
    assert_eq!(first["subdomain"], "acme");
    assert_eq!(first["locale"], "en-US");
    assert!(first["refreshToken"].is_string(), "{first}");
    assert_eq!(
        project.json()["authorizations"],
        before["authorizations"],
        "only the test account is written"
    );

    let again = run(&project, &["oauth2", "--no-browser"]).wait();
    assert_eq!(again.code, 0, "{}", again.all());
    assert_has(&again.stdout, "Refreshed tokens");
    let second = project.account("development");
    assert_ne!(
        second["refreshToken"], first["refreshToken"],
        "Zendesk rotates"
    );
    assert_eq!(second["subdomain"], "acme");
    assert_eq!(sandbox.stats().refreshes, 1);

    let token = run(&project, &["token"]).wait();
    assert_eq!(token.stdout.trim(), second["accessToken"].as_str().unwrap());

    let (proxy, proxied) = proxy(&project, &app.url);
    let answer = http().get(format!("{proxied}/me")).send().unwrap();
    assert_eq!(answer.status(), 200);
    let (credentials, _, _) = app.last.lock().unwrap().clone().unwrap();
    assert_eq!(credentials["subdomain"], "acme");
    assert_eq!(credentials["accessToken"], second["accessToken"]);
    proxy.interrupt();
    let stopped = proxy.wait();
    for out in [&login, &again, &stopped] {
        assert_no_secrets(&out.all(), &secrets_in(&project));
    }
    assert_eq!(sandbox.stats().reused_refresh_tokens, 0);
}

/// Without a terminal, a value the account lacks is named with both fixes, and nothing is
/// sent or written; `--var` is checked as the variable is declared.
#[test]
fn a_missing_subdomain_is_named_with_its_fix_and_nothing_is_sent() {
    let sandbox = zendesk();
    let project = project(&sandbox, json!({}));
    let before = project.text();
    let out = run(&project, &["oauth2", "--no-browser", "--port", "0"]).wait();
    assert_eq!(out.code, 2, "{}", out.all());
    assert_has(
        &out.stderr,
        "test account \"development\" has no value for subdomain (Zendesk subdomain)",
    );
    assert_has(&out.stderr, "integration-cli oauth2 --var subdomain=VALUE");
    assert_has(
        &out.stderr,
        "\"subdomain\": \"...\" to testAccounts.development",
    );
    assert!(!out.stderr.contains("Open this URL"), "{}", out.stderr);

    for (var, says) in [
        ("subdomain=acme.zendesk.com", "does not match the pattern"),
        ("subdomian=acme", "declares no variable of that name"),
        ("accessToken=x", "not a variable"),
    ] {
        let bad = run(
            &project,
            &["oauth2", "--no-browser", "--port", "0", "--var", var],
        )
        .wait();
        assert_eq!(bad.code, 2, "{var}: {}", bad.all());
        assert_has(&bad.stderr, says);
    }
    let unparsed = run(&project, &["oauth2", "--var", "subdomain"]).wait();
    assert_eq!(unparsed.code, 2);
    assert_has(&unparsed.stderr, "is not NAME=VALUE");
    assert_eq!(project.text(), before, "nothing written");
    assert_eq!(sandbox.stats().token_requests, 0, "nothing sent");
}

/// `token`, `credentials`, `exec`, `watch` and the proxy never ask: a stale token whose
/// refresh needs a value the account lacks is an error that names `oauth2 --var`.
#[test]
fn commands_that_never_ask_point_at_oauth2_var() {
    let sandbox = zendesk();
    let app = connector::connector(&sandbox.url);
    let project = project(
        &sandbox,
        json!({"accessToken": "fake-stale-access", "refreshToken": "fake-refresh-token",
            "expiresAt": "2020-01-01T00:00:00Z"}),
    );
    for args in [
        &["token"][..],
        &["credentials"][..],
        &["exec", "--", "true"][..],
    ] {
        let out = run(&project, args).wait();
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert_has(&out.stderr, "integration-cli oauth2 --var subdomain=VALUE");
    }
    let watch = run(&project, &["watch"]);
    eventually("watch to say why it leaves the account alone", || {
        watch
            .stdout_so_far()
            .contains("left alone until the file changes")
    });
    watch.interrupt();
    let watched = watch.wait();
    assert_eq!(watched.code, 0, "{}", watched.all());
    assert_has(&watched.stdout, "--var subdomain=VALUE");

    // The proxy needs the credentials before it serves: it says so at once.
    let proxied = run(
        &project,
        &["proxy", "--to", &app.url, "--listen", "127.0.0.1:0"],
    )
    .wait();
    assert_eq!(proxied.code, 2, "{}", proxied.all());
    assert_has(
        &proxied.stderr,
        "integration-cli oauth2 --var subdomain=VALUE",
    );
    assert_eq!(sandbox.stats().token_requests, 0, "nothing sent");
}

/// An authorization whose token URL is `http://{+host}/…` for client credentials.
fn by_host(sandbox: &Sandbox) -> Value {
    let mut authorization = authorization(sandbox);
    authorization["variables"]["host"] =
        json!({"type": "string", "label": "Zendesk host", "required": true});
    let oauth2 = &mut authorization["oauth2"];
    oauth2["grantType"] = json!("client_credentials");
    oauth2["tokenUrl"] = json!("http://{+host}/{+subdomain}.zendesk.com/oauth/tokens");
    authorization
}

/// A host template on loopback (`*.localhost` names do not resolve everywhere): the whole
/// host, port included, comes from the account.
#[test]
fn a_host_template_on_loopback_gets_and_renews_client_credentials() {
    let sandbox = zendesk();
    let host = sandbox.url.trim_start_matches("http://").to_string();
    let project = project_with(
        by_host(&sandbox),
        json!({"subdomain": "acme", "host": host}),
    );
    let first = run(&project, &["-v", "oauth2"]).wait();
    assert_eq!(first.code, 0, "{}", first.all());
    assert_has(
        &first.stderr,
        &format!("url=http://{host}/acme.zendesk.com/oauth/tokens"),
    );
    let account = project.account("development");
    assert!(account["accessToken"].is_string(), "{account}");
    assert_eq!(account["host"], host.as_str());
    let mut file = project.json();
    file["testAccounts"]["development"]["expiresAt"] = json!("2020-01-01T00:00:00Z");
    file["testAccounts"]["development"]["lastRefreshAt"] = json!("2019-12-31T23:00:00Z");
    std::fs::write(&project.path, file.to_string()).unwrap();
    let token = run(&project, &["token"]).wait();
    assert_eq!(token.code, 0, "{}", token.all());
    assert_ne!(
        token.stdout.trim(),
        account["accessToken"].as_str().unwrap()
    );
    assert_eq!(sandbox.stats().token_requests, 2);
    assert_no_secrets(
        &format!("{}{}", first.all(), token.stderr),
        &secrets_in(&project),
    );
}

/// A value may fill in a host, never move it: `evil.example/` sends nothing anywhere, and a
/// whole URL is refused with the part to give.
#[test]
fn a_value_that_would_move_the_host_sends_nothing() {
    let sandbox = zendesk();
    let host = sandbox.url.trim_start_matches("http://").to_string();
    for (value, says) in [
        (
            "evil.example/".to_string(),
            "would change the host of tokenUrl".to_string(),
        ),
        (
            format!("{}/", sandbox.url),
            format!(
                "is a whole URL ({}/), but tokenUrl puts it inside the host: give only \"{host}\"",
                sandbox.url
            ),
        ),
    ] {
        let project = project_with(
            by_host(&sandbox),
            json!({"subdomain": "acme", "host": value}),
        );
        let before = project.text();
        let out = run(&project, &["oauth2"]).wait();
        assert_eq!(out.code, 2, "{value}: {}", out.all());
        assert_has(&out.stderr, &says);
        assert_has(&out.stderr, "testAccounts.development.host");
        assert_has(&out.stderr, "integration-cli oauth2 --var host=VALUE");
        assert_eq!(project.text(), before);
    }
    assert_eq!(sandbox.stats().token_requests, 0);
}

/// A subdomain Zendesk does not know is redirected to its help-center-closed page: the
/// redirect is not followed, and the hint says what Zendesk means by it.
#[test]
fn an_unknown_subdomain_is_told_as_zendesk_tells_it() {
    let sandbox = zendesk();
    let host = sandbox.url.trim_start_matches("http://").to_string();
    let project = project_with(
        by_host(&sandbox),
        json!({"subdomain": "nosuch", "host": host}),
    );
    let out = run(&project, &["oauth2"]).wait();
    assert_eq!(out.code, 1, "{}", out.all());
    assert_has(
        &out.stderr,
        "redirects (301) to https://www.zendesk.com/app/help-center-closed/",
    );
    assert_has(&out.stderr, "check the test account's subdomain");
    assert_no_secrets(&out.all(), &[SECRET.to_string()]);
    // The login page is refused the same way, before any consent.
    let page = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/nosuch.zendesk.com/oauth/authorizations/new",
            sandbox.url
        ))
        .send()
        .unwrap();
    assert_eq!(page.status(), 301);
}

/// `--var` moving the account to another subdomain: the old tenant's tokens are not sent
/// to the new one (its sandbox would refuse them); a new login there, and `--reauth` keeps
/// what was given.
#[test]
fn a_new_subdomain_gets_new_tokens_there_and_reauth_keeps_the_values() {
    let sandbox = zendesk();
    let project = project(&sandbox, json!({}));
    let (_, first) = log_in(&project, &sandbox.url, &["--var", "subdomain=acme"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let at_acme = project.account("development");
    assert_eq!(at_acme["subdomain"], "acme");

    let requests = sandbox.stats().token_requests;
    let (url, moved) = log_in(&project, &sandbox.url, &["--var", "subdomain=globex"]);
    assert_eq!(moved.code, 0, "{}", moved.all());
    assert_has(&moved.stderr, "subdomain changed");
    assert_eq!(
        sandbox.stats().token_requests,
        requests + 1,
        "one request, the code exchange at globex: acme's refresh token was not tried there"
    );
    assert!(url.contains("/globex.zendesk.com/"), "{url}");
    let at_globex = project.account("development");
    assert_eq!(at_globex["subdomain"], "globex");
    assert_ne!(at_globex["refreshToken"], at_acme["refreshToken"]);

    let refreshed = run(&project, &["oauth2", "--no-browser"]).wait();
    assert_eq!(refreshed.code, 0, "{}", refreshed.all());
    let (_, reauth) = log_in(&project, &sandbox.url, &["--reauth"]);
    assert_eq!(reauth.code, 0, "{}", reauth.all());
    assert_eq!(project.account("development")["subdomain"], "globex");
    assert_eq!(sandbox.stats().reused_refresh_tokens, 0);
}

/// `--all`: each test account refreshed at its own subdomain (the sandbox refuses a grant's
/// refresh token anywhere else).
#[test]
fn all_refreshes_each_account_at_its_own_subdomain() {
    let sandbox = zendesk();
    let project = project(&sandbox, json!({"subdomain": "acme"}));
    let (_, dev) = log_in(&project, &sandbox.url, &[]);
    assert_eq!(dev.code, 0, "{}", dev.all());
    let (_, compliance) = log_in(
        &project,
        &sandbox.url,
        &["-t", "compliance", "--var", "subdomain=globex"],
    );
    assert_eq!(compliance.code, 0, "{}", compliance.all());
    let all = run(&project, &["oauth2", "--all"]).wait();
    assert_eq!(all.code, 0, "{}", all.all());
    assert_has(&all.stdout, "compliance: refreshed");
    assert_has(&all.stdout, "development: refreshed");
    assert_eq!(project.account("compliance")["subdomain"], "globex");
    assert_eq!(sandbox.stats().refreshes, 2);
}

#[test]
fn status_shows_the_values_masks_passwords_and_names_what_the_login_will_ask() {
    let sandbox = zendesk();
    let mut authorization = authorization(&sandbox);
    authorization["variables"]["agentPassword"] =
        json!({"type": "password", "label": "Agent password"});
    let project = project_with(
        authorization,
        json!({"agentPassword": "fake-status-password"}),
    );
    let text = run(&project, &["status"]).wait();
    assert_eq!(text.code, 0, "{}", text.all());
    assert_has(
        &text.stdout,
        "variables: subdomain (none), agentPassword … (20 chars)",
    );
    assert_has(
        &text.stdout,
        "oauth2 first asks for subdomain (Zendesk subdomain)",
    );
    let json = run(&project, &["status", "--json"]).wait();
    let status: Value = serde_json::from_str(&json.stdout).unwrap();
    let dev = &status["testAccounts"][0];
    assert_eq!(dev["variables"]["subdomain"], Value::Null);
    assert_eq!(dev["next"][0]["missingVariables"], json!(["subdomain"]));
    let decoded = run(
        &project,
        &[
            "credentials",
            "--decode",
            &integration_cli::credentials::encode(
                "development",
                project.account("development").as_object().unwrap(),
            )
            .unwrap(),
        ],
    )
    .wait();
    assert_eq!(decoded.code, 0, "{}", decoded.all());
    for out in [&text, &json, &decoded] {
        assert!(!out.all().contains("fake-status-password"), "{}", out.all());
    }
}

/// At a terminal, `oauth2` asks for what the account lacks: with the label, help and
/// placeholder; a wrong answer is asked again with the reason; a password is read hidden
/// and never shown. Driven through a real pseudo-terminal.
#[test]
fn prompts_at_a_terminal_check_answers_and_hide_the_password() {
    let sandbox = zendesk();
    let mut authorization = authorization(&sandbox);
    authorization["variables"]["agentPassword"] =
        json!({"type": "password", "label": "Agent password", "required": true});
    authorization["oauth2"]["tokenRequestParameters"] =
        json!({"agent_password": "{+agentPassword}"});
    let project = project_with(authorization, json!({}));
    let password = "fake-hidden-agent-password";
    let mut cmd = Command::new(BIN);
    cmd.current_dir(project.dir.path())
        .args(["oauth2", "--no-browser", "--port", "0"])
        .env(SECRET_VAR, SECRET)
        .env("NO_COLOR", "1")
        .env("TERM", "dumb");
    for var in [
        "UNITO_CONFIG",
        "UNITO_TEST_ACCOUNT",
        "OAUTH2_PORT",
        "BROWSER",
    ] {
        cmd.env_remove(var);
    }
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    let mut seen = String::new();
    seen += &p.exp_string("The part before .zendesk.com").unwrap();
    seen += &p.exp_string("Zendesk subdomain (e.g. acme)").unwrap();
    p.send_line("Acme!").unwrap();
    seen += &p.exp_string("does not match the pattern").unwrap();
    seen += &p.exp_string("Zendesk subdomain (e.g. acme)").unwrap();
    p.send_line("acme").unwrap();
    seen += &p.exp_string("Agent password").unwrap();
    p.send_line(password).unwrap();
    let (before, url) = p
        .exp_regex(
            r"http://127\.0\.0\.1:[0-9]+/acme\.zendesk\.com/oauth/authorizations/new\?[^\s]+",
        )
        .unwrap();
    seen += &before;
    approve_at_sandbox(&sandbox.url, &url);
    seen += &p.exp_string("Saved tokens").unwrap();
    seen += &p.exp_eof().unwrap();
    match p.process().wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 0, "{seen}"),
        other => panic!("{other:?}: {seen}"),
    }
    assert!(!seen.contains(password), "the password was shown:\n{seen}");
    let account = project.account("development");
    assert_eq!(account["subdomain"], "acme");
    assert_eq!(
        account["agentPassword"], password,
        "saved for the connector"
    );
    assert!(account["accessToken"].is_string());
}
