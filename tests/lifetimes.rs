//! Refresh-token lifetimes: what `status` says of each test account's refresh token (what
//! the provider stated, or a rule), and the warnings `oauth2` and `token` give before it dies.

mod support;

use std::time::{Duration, SystemTime};

use integration_cli::clock::rfc3339;
use serde_json::{Value, json};
use support::*;

const DAY: u64 = 24 * 3600;

fn from_now(secs: i64) -> String {
    let now = SystemTime::now();
    let d = Duration::from_secs(secs.unsigned_abs());
    rfc3339(if secs >= 0 { now + d } else { now - d })
}

/// `development` with a refresh token the provider said lives 90 days, a day from its end;
/// `compliance` refreshed 10 days ago, under a 90-day sliding lifetime the user sets.
fn project(stub: &Stub) -> Project {
    let mut cfg = config(stub);
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-life-access", "refreshToken": "fake-life-refresh",
        "expiresAt": "2999-01-01T00:00:00Z",
        "refreshTokenExpiresIn": 90 * DAY, "refreshTokenExpiresAt": from_now(DAY as i64),
        "firstLoginAt": from_now(-89 * DAY as i64), "lastRefreshAt": from_now(-3600),
    });
    cfg["testAccounts"]["compliance"] = json!({
        "accessToken": "fake-life-access-2", "refreshToken": "fake-life-refresh-2",
        "expiresAt": "2999-01-01T00:00:00Z", "lastRefreshAt": from_now(-10 * DAY as i64),
    });
    Project::new(&cfg)
}

const SLIDING_90_DAYS: [(&str, &str); 2] = [
    ("UNITO_REFRESH_TOKEN_LIFETIME", "7776000"),
    ("UNITO_REFRESH_TOKEN_SLIDING", "1"),
];

#[test]
fn status_says_how_long_each_refresh_token_has_left_and_when_it_was_last_used() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&stub);
    let text = project
        .oauth2_env(&["status"], &SLIDING_90_DAYS)
        .finish(&stub);
    assert_eq!(text.code, 0, "{}", text.all());
    assert_has(&text.stdout, "  refresh token: expires ");
    assert_has(&text.stdout, "; stated by the provider), last used ");
    assert_has(
        &text.stdout,
        "  warning: the refresh token of test account \"development\" expires in ",
    );
    // The command as the other commands write it: no -t for development.
    assert_has(
        &text.stdout,
        "log in again: integration-cli oauth2 --reauth",
    );
    // With -a given, the suggested command names it too.
    let named = project
        .oauth2_env(&["status", "-a", "oauth2"], &SLIDING_90_DAYS)
        .finish(&stub);
    assert_has(
        &named.stdout,
        "log in again: integration-cli oauth2 -a oauth2 --reauth",
    );
    assert_has(&text.stdout, "; your refreshTokenLifetime), last used 20");
    assert!(
        !text.stdout.contains("test account \"compliance\" expires"),
        "{}",
        text.stdout
    );

    let json = project
        .oauth2_env(&["status", "--json"], &SLIDING_90_DAYS)
        .wait();
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let dev = &v["testAccounts"][0]["refreshTokenLife"];
    assert!(dev["secondsLeft"].as_u64().unwrap() <= DAY, "{dev}");
    assert_eq!(dev["lifetimeSeconds"], 90 * DAY);
    assert_eq!(dev["source"], "stated by the provider");
    assert!(dev["warning"].as_str().unwrap().contains("--reauth"));
    let compliance = &v["testAccounts"][1]["refreshTokenLife"];
    assert_eq!(compliance["sliding"], true);
    assert_eq!(compliance["warning"], Value::Null);
    // Without the override nothing is known of compliance's, and status says so.
    let plain = project.oauth2(&["status", "--json"]).wait();
    let v: Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(
        v["testAccounts"][1]["refreshTokenLife"]["expiresAt"],
        Value::Null
    );
}

#[test]
fn token_and_oauth2_warn_on_stderr_before_the_refresh_token_dies_and_not_under_quiet() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&stub);
    let warning = "warning: the refresh token of test account \"development\" expires in ";
    let token = project.oauth2(&["token"]).finish(&stub);
    assert_eq!(token.code, 0, "{}", token.all());
    assert_eq!(token.stdout.trim(), "fake-life-access");
    assert_has(&token.stderr, warning);
    assert_has(&token.stderr, "log in again: integration-cli oauth2 --");
    assert_eq!(
        token.stderr.matches("refresh token of").count(),
        1,
        "{}",
        token.stderr
    );

    let quiet = project.oauth2(&["token", "-q"]).finish(&stub);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert!(
        !quiet.stderr.contains("refresh token of"),
        "{}",
        quiet.stderr
    );

    // --all warns for each account as a run for it would: development only.
    // (The stub knows none of these fake refresh tokens: the refreshes fail, exit 1.)
    let all = project.oauth2(&["oauth2", "--all"]).finish(&stub);
    assert_eq!(all.stderr.matches(warning).count(), 1, "{}", all.stderr);
    assert!(
        !all.stderr.contains("\"compliance\" expires"),
        "{}",
        all.stderr
    );
    let quiet_all = project.oauth2(&["oauth2", "--all", "-q"]).finish(&stub);
    assert!(
        !quiet_all.stderr.contains("refresh token of"),
        "{}",
        quiet_all.stderr
    );

    // credentials and exec share the path, and -q too.
    for quiet_run in [vec!["credentials", "-q"], vec!["exec", "-q", "--", "true"]] {
        let done = project.oauth2(&quiet_run).finish(&stub);
        assert_eq!(done.code, 0, "{}", done.all());
        assert!(
            !done.stderr.contains("refresh token of"),
            "{quiet_run:?}: {}",
            done.stderr
        );
    }

    let json = project.oauth2(&["token", "--json", "-q"]).finish(&stub);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v["refreshTokenWarning"]
            .as_str()
            .unwrap()
            .contains("--reauth"),
        "{v}"
    );
    // The other account, far from its end: nothing said, no field.
    let other = project
        .oauth2(&["token", "--json", "-t", "compliance"])
        .finish(&stub);
    assert!(
        !other.stderr.contains("refresh token of"),
        "{}",
        other.stderr
    );
    let v: Value = serde_json::from_str(&other.stdout).unwrap();
    assert!(v.get("refreshTokenWarning").is_none(), "{v}");
}

#[test]
fn oauth2_saves_the_lifetime_a_refresh_states_keeps_the_first_login_and_warns() {
    let stub = Stub::start(Behaviour {
        extra_fields: json!({"refresh_token_expires_in": DAY}),
        ..Behaviour::default()
    });
    let project = Project::new(&config(&stub));
    let first = login(&project, &stub, &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    let warning = "warning: the refresh token of test account \"development\" expires in ";
    assert_has(&first.stderr, warning);
    let first_login = project.account("development")["firstLoginAt"].clone();
    assert!(first_login.is_string(), "{first_login}");
    let oauth2 = project.oauth2(&["oauth2", "--json"]).finish(&stub);
    assert_eq!(oauth2.code, 0, "{}", oauth2.all());
    let account = project.account("development");
    assert_eq!(account["refreshTokenExpiresIn"], DAY);
    assert!(account["refreshTokenExpiresAt"].is_string());
    assert_eq!(account["firstLoginAt"], first_login);
    assert_has(&oauth2.stderr, warning);
    let v: Value = serde_json::from_str(&oauth2.stdout).unwrap();
    assert!(v["refreshTokenWarning"].is_string(), "{v}");
}

/// `watch` on a virtual clock, in this process: a sliding 10-day refresh token kept alive by
/// `--keep-alive`, and warned of once a day without it.
mod on_virtual_time {
    use super::*;
    use integration_cli::clock::VirtualClock;
    use integration_cli::flow;
    use support::connector;

    const SECRET_VAR: &str = "SANDBOX_CLIENT_SECRET";
    const SECRET: &str = "sandbox-secret-not-a-real-secret";

    /// Logged in through the binary to a sandbox whose access tokens live a year, under
    /// an authorization that says its refresh tokens die after 10 days unused.
    fn logged_in() -> (
        connector::Served<integration_cli::sandbox::Sandbox>,
        Project,
    ) {
        let sandbox = connector::sandbox(Duration::from_secs(365 * DAY));
        let mut authorization = sandbox.authorization("sandbox");
        authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
        authorization["oauth2"]["refreshTokenLifetime"] = json!(10 * DAY);
        authorization["oauth2"]["refreshTokenSliding"] = json!(true);
        let project = Project::new(&json!({
            "name": "fake-connector",
            "authorizations": [authorization],
            "testAccounts": {"development": {}}
        }));
        let args = ["oauth2", "--no-browser", "--port", "0"];
        let login = project.oauth2_env(&args, &[(SECRET_VAR, SECRET)]);
        approve_at_sandbox(&sandbox.url, &login.login_url_at(&sandbox.url));
        let finished = login.wait();
        assert_eq!(finished.code, 0, "{}", finished.all());
        (sandbox, project)
    }

    /// Twelve days of `watch` from now; what it said and what it warned of.
    fn watch(project: &Project, keep_alive: bool) -> (Vec<String>, Vec<String>) {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        let start = integration_cli::clock::from_epoch(now.as_secs());
        let clock = VirtualClock::new(start, start + Duration::from_secs(12 * DAY));
        let opts = flow::Options {
            config: project.path.clone(),
            open_browser: false,
            keep_alive,
            ..flow::Options::default()
        };
        connector::watch_virtually(&opts, &clock)
    }

    fn refreshes(said: &[String]) -> usize {
        said.iter()
            .filter(|l| l.contains("development: refreshed"))
            .count()
    }

    fn warnings(warned: &[String]) -> Vec<&String> {
        warned
            .iter()
            .filter(|l| l.contains("refresh token of test account"))
            .collect()
    }

    #[test]
    fn keep_alive_refreshes_a_sliding_refresh_token_halfway_through_its_window() {
        let (_sandbox, project) = logged_in();
        let (said, warned) = watch(&project, true);
        // Day 5 and day 10 of twelve: never within two days of its end.
        assert_eq!(refreshes(&said), 2, "{said:#?}");
        assert_eq!(warnings(&warned), Vec::<&String>::new());
    }

    #[test]
    fn without_keep_alive_the_watch_warns_once_a_day_from_two_days_before_the_end() {
        let (_sandbox, project) = logged_in();
        let (said, warned) = watch(&project, false);
        assert_eq!(refreshes(&said), 0, "{said:#?}");
        let warned = warnings(&warned);
        // Days 8, 9 (expires in…), 10 and 11 (expired…, log in again).
        assert_eq!(warned.len(), 4, "{warned:#?}");
        assert!(warned[0].contains("expires in 1day 23h"), "{}", warned[0]);
        assert!(
            warned[0].contains("a refresh renews it: integration-cli oauth2"),
            "{}",
            warned[0]
        );
        assert!(warned[3].contains("expired 1day ago"), "{}", warned[3]);
        assert!(
            warned[3].contains("log in again: integration-cli oauth2"),
            "{}",
            warned[3]
        );
    }
}

#[test]
fn a_classic_github_token_is_counted_from_its_login_toward_a_year_unused() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config_with(
        &stub,
        "authorizationUrl",
        json!(format!("{}/github.com/login/oauth/authorize", stub.url)),
    );
    // No refresh token and no expiry, as a classic OAuth app's token.
    cfg["testAccounts"]["development"] = json!({
        "accessToken": "fake-classic-access", "firstLoginAt": from_now(-300 * DAY as i64),
    });
    cfg["testAccounts"]["compliance"] = json!({
        "accessToken": "fake-classic-access-2", "firstLoginAt": from_now(-10 * DAY as i64),
    });
    let project = Project::new(&cfg);
    let warning = "warning: the access token of test account \"development\" can be revoked from ";

    let status = project.oauth2(&["status"]).wait();
    assert_eq!(status.code, 0, "{}", status.all());
    assert_has(
        &status.stdout,
        "  access token: revoked after 365 days unused (provider rule: GitHub",
    );
    assert_has(&status.stdout, &format!("  {warning}"));
    assert_eq!(
        status.stdout.matches(warning).count(),
        1,
        "{}",
        status.stdout
    );

    let json = project.oauth2(&["status", "--json"]).wait();
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let dev = &v["testAccounts"][0]["accessTokenLife"];
    assert_eq!(dev["unusedWindowSeconds"], 365 * DAY, "{dev}");
    assert!(
        dev["warning"].as_str().unwrap().contains("--reauth"),
        "{dev}"
    );
    assert_eq!(
        v["testAccounts"][1]["accessTokenLife"]["warning"],
        Value::Null
    );

    let token = project.oauth2(&["token", "--json"]).finish(&stub);
    assert_eq!(token.code, 0, "{}", token.all());
    assert_has(&token.stderr, warning);
    let v: Value = serde_json::from_str(&token.stdout).unwrap();
    assert_eq!(v["accessToken"], "fake-classic-access");
    assert!(
        v["accessTokenWarning"]
            .as_str()
            .unwrap()
            .contains("log in again"),
        "{v}"
    );
    assert!(v.get("refreshTokenWarning").is_none(), "{v}");
}
