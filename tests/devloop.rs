//! The development loop, through the binary, against the sandbox and a connector that reads
//! credentials as the platform's SDK does: `credentials`, `exec`, `proxy` and `watch`. What
//! needs a process (signals, sockets, files) runs the binary with tokens of a second or two;
//! what is about time (refresh windows, backoff) runs the loop in this process on a virtual
//! clock, through hours of token lifetimes in milliseconds.

mod support;

use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use integration_cli::clock::{self, Clock, VirtualClock};
use integration_cli::flow;
use serde_json::{Value, json};
use support::connector::{self, node_base64};
use support::*;

const SECRET_VAR: &str = "SANDBOX_CLIENT_SECRET";
const SECRET: &str = "sandbox-secret-not-a-real-secret";

/// A project whose one authorization is the sandbox at `url`, its secret from the
/// environment, with `secrets` at the top as the platform's file has them.
fn project(sandbox: &integration_cli::sandbox::Sandbox) -> Project {
    let mut authorization = sandbox.authorization("sandbox");
    authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "secrets": {"webhookKey": "fake-plain-secret", "signingKey": "unito-secret-v1://fake"},
        "testAccounts": {"development": {}, "compliance": {}}
    }))
}

fn run(project: &Project, args: &[&str]) -> Run {
    project.oauth2_env(args, &[(SECRET_VAR, SECRET)])
}

/// `oauth2` for `account`, the consent page approved over plain HTTP.
fn log_in(project: &Project, sandbox_url: &str, extra: &[&str]) {
    let mut args = vec!["oauth2", "--no-browser", "--port", "0"];
    args.extend_from_slice(extra);
    let login = run(project, &args);
    approve_at_sandbox(sandbox_url, &login.login_url_at(sandbox_url));
    let finished = login.wait();
    assert_eq!(finished.code, 0, "{}", finished.all());
}

/// Every token and secret the file holds now.
fn secrets_in(project: &Project) -> Vec<String> {
    let account = project.account("development");
    let mut all = vec![SECRET.to_string(), "fake-plain-secret".to_string()];
    for key in ["accessToken", "refreshToken"] {
        if let Some(t) = account[key].as_str() {
            all.push(t.to_string());
        }
    }
    all
}

/// The token aged past its expiry, as if years had passed since its refresh (a token
/// stale moments after a refresh is not refreshed again: see tests/storm.rs).
fn expire(project: &Project) {
    let mut file = project.json();
    let account = &mut file["testAccounts"]["development"];
    account["expiresAt"] = json!("2020-01-01T00:00:00Z");
    account["lastRefreshAt"] = json!("2019-12-31T23:00:00Z");
    std::fs::write(&project.path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
}

/// The test account as the connector is sent it: without our bookkeeping (when the last
/// refresh was, what the login asked for, who the user is).
fn sent(mut account: Value) -> Value {
    let fields = account.as_object_mut().unwrap();
    for key in [
        "lastRefreshAt",
        "firstLoginAt",
        "refreshTokenExpiresIn",
        "refreshTokenExpiresAt",
        "requestedScope",
        "identityIssuer",
        "identitySubject",
        "identityName",
        "identityEmail",
    ] {
        fields.shift_remove(key);
    }
    account
}

#[test]
fn credentials_print_what_the_sdk_reads_and_decode_reads_it_back() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    assert!(project.account("development")["requestedScope"].is_string());
    let account = sent(project.account("development"));

    let value = run(&project, &["credentials"]).wait();
    assert_eq!(value.code, 0, "{}", value.all());
    let value = value.stdout.trim().to_string();
    let read: Value = serde_json::from_slice(&node_base64(&value)).unwrap();
    assert_eq!(read, account, "the SDK reads the whole test account");

    let header = run(&project, &["credentials", "--header"]).wait();
    assert_eq!(
        header.stdout.trim(),
        format!("X-Unito-Credentials: {value}")
    );
    let object = run(&project, &["credentials", "--json"]).wait();
    assert_eq!(
        serde_json::from_str::<Value>(&object.stdout).unwrap(),
        account
    );

    let decoded = run(&project, &["credentials", "--decode", &value]).wait();
    assert_eq!(decoded.code, 0, "{}", decoded.all());
    let shown: Value = serde_json::from_str(&decoded.stdout).unwrap();
    assert_eq!(
        shown.as_object().unwrap().keys().collect::<Vec<_>>(),
        account.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    assert_eq!(shown["scope"], account["scope"]);
    assert_no_secrets(&decoded.all(), &secrets_in(&project));

    for (bad, why) in [
        ("not base64!", "not base64"),
        ("W10=", "an array rather than an object"),
        ("e25vcGU=", "not JSON"),
    ] {
        let refused = run(&project, &["credentials", "--decode", bad]).wait();
        assert_eq!(refused.code, 1, "{bad}");
        assert_has(&refused.stderr, why);
        assert_has(&refused.stderr, "would answer 400");
    }
}

#[test]
fn credentials_refresh_a_stale_token_and_refuse_an_encrypted_value() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let before = project.account("development")["accessToken"].clone();
    expire(&project);
    let value = run(&project, &["credentials"]).wait();
    assert_eq!(value.code, 0, "{}", value.all());
    let read: Value = serde_json::from_slice(&node_base64(value.stdout.trim())).unwrap();
    assert_ne!(read["accessToken"], before, "refreshed first");
    assert_eq!(read, sent(project.account("development")));

    let mut file = project.json();
    file["testAccounts"]["development"]["apiKey"] = json!("unito-secret-v1://fake");
    std::fs::write(&project.path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    let refused = run(&project, &["credentials"]).wait();
    assert_eq!(refused.code, 1);
    assert_eq!(refused.stdout, "");
    assert_has(&refused.stderr, "apiKey: unito-secret-v1://");
}

#[test]
fn exec_gives_the_command_fresh_credentials_and_passes_on_its_exit_code_and_signals() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    expire(&project);
    let out = project.dir.path().join("seen");
    let script = format!(
        "printf '%s\\n%s' \"$UNITO_CREDENTIALS\" \"$UNITO_ACCESS_TOKEN\" > '{}'; exit 7",
        out.display()
    );
    let done = run(&project, &["exec", "--", "sh", "-c", &script]).wait();
    assert_eq!(done.code, 7, "{}", done.all());
    assert_eq!(done.stderr, "", "exec adds nothing of its own");
    let seen = std::fs::read_to_string(&out).unwrap();
    let (credentials, token) = seen.split_once('\n').unwrap();
    let account = sent(project.account("development"));
    assert_eq!(
        token,
        account["accessToken"].as_str().unwrap(),
        "refreshed first"
    );
    let read: Value = serde_json::from_slice(&node_base64(credentials)).unwrap();
    assert_eq!(read, account);

    for (signal, code) in [("-TERM", 42), ("-INT", 43), ("-HUP", 44)] {
        let ready = project.dir.path().join(format!("ready{code}"));
        let script = format!(
            "trap 'exit {code}' TERM INT HUP; touch '{}'; while :; do sleep 0.05; done",
            ready.display()
        );
        let child = run(&project, &["exec", "--", "sh", "-c", &script]);
        eventually("the command to start", || ready.exists());
        let status = std::process::Command::new("kill")
            .args([signal, &child.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let done = child.wait();
        assert_eq!(done.code, code, "{signal}: {}", done.all());
    }

    let missing = run(&project, &["exec", "--", "no-such-command-here"]).wait();
    assert_eq!(missing.code, 1);
    assert_has(&missing.stderr, "could not run no-such-command-here");
}

/// The proxy, started by the binary on a free port: its address, from its first line.
fn proxy(project: &Project, to: &str, extra: &[&str]) -> (Run, String) {
    let mut args = vec!["proxy", "--to", to, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let proxy = run(project, &args);
    let url = proxy.proxy_url();
    (proxy, url)
}

/// 8 clients, keep-alive, for 4 s against a sandbox issuing 2-second tokens with rotating
/// refresh tokens: every request succeeds; refreshes happen once per window (one refresh
/// shared by all the clients), and no refresh token is ever presented twice.
#[test]
fn the_proxy_keeps_eight_clients_going_through_several_refreshes() {
    let sandbox = connector::sandbox(Duration::from_secs(2));
    let app = connector::connector(&sandbox.url);
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let before = sandbox.stats().refreshes;
    let (proxy, url) = proxy(&project, &app.url, &[]);
    let started = Instant::now();
    let until = started + Duration::from_secs(4);
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let url = &url;
                scope.spawn(move || {
                    let client = http();
                    let (mut ok, mut failures) = (0, Vec::new());
                    while Instant::now() < until {
                        match client.get(format!("{url}/me")).send() {
                            Ok(r) if r.status() == 200 => ok += 1,
                            Ok(r) => failures.push(format!(
                                "{}: {}",
                                r.status(),
                                r.text().unwrap_or_default()
                            )),
                            Err(e) => failures.push(e.to_string()),
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    (ok, failures)
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let ok: usize = results.iter().map(|(n, _)| n).sum();
    let failures: Vec<&String> = results.iter().flat_map(|(_, f)| f).collect();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    assert!(ok >= 150, "only {ok} requests in {elapsed:?}");
    assert_eq!(app.refused.load(Ordering::SeqCst), 0);

    let stats = sandbox.stats();
    let refreshes = stats.refreshes - before;
    assert_eq!(
        stats.reused_refresh_tokens, 0,
        "a refresh token was presented twice"
    );
    // 2-second tokens, their expiry written to the millisecond, refreshed 1 s ahead (twice
    // the quarter-life margin, and the floor of half a lifetime): one refresh a second, a
    // little more with the refresh's own time. Clients that each refreshed on their own
    // would make hundreds.
    let windows = elapsed.as_secs_f64();
    assert!(
        refreshes as f64 >= windows / 1.5 - 1.0 && refreshes as f64 <= windows + 1.0,
        "{refreshes} refreshes in {elapsed:?}"
    );
    let tokens_seen = app.tokens.lock().unwrap().len() as u64;
    assert!(
        tokens_seen <= refreshes + 1,
        "{tokens_seen} tokens for {refreshes} refreshes"
    );

    proxy.interrupt();
    let done = proxy.wait();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let lines: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| l.starts_with("GET /me 200"))
        .collect();
    assert_eq!(lines.len(), ok, "one line per request");
    let mut never = secrets_in(&project);
    never.extend(app.tokens.lock().unwrap().iter().cloned());
    assert_no_secrets(&done.all(), &never);
    assert!(
        !done.all().contains("eyJ"),
        "no credentials header value in the output"
    );
}

#[test]
fn the_proxy_sets_the_platforms_headers_and_streams_answers_as_they_come() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let app = connector::connector(&sandbox.url);
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let (proxy, url) = proxy(&project, &app.url, &[]);
    assert_has(
        &proxy.line_containing("X-Unito-Secrets leaves out"),
        "signingKey",
    );

    // Whatever the client sent as credentials is replaced; its correlation id is kept.
    let r = http()
        .get(format!("{url}/me?page=2"))
        .header("X-Unito-Credentials", "fake-client-value")
        .header("X-Unito-Correlation-Id", "fake-correlation-1")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let (credentials, secrets, correlation) = app.last.lock().unwrap().clone().unwrap();
    assert_eq!(credentials, sent(project.account("development")));
    let secrets: Value = serde_json::from_slice(&node_base64(&secrets.unwrap())).unwrap();
    assert_eq!(secrets, json!({"webhookKey": "fake-plain-secret"}));
    assert_eq!(correlation.as_deref(), Some("fake-correlation-1"));
    http().get(format!("{url}/me")).send().unwrap();
    let (_, _, correlation) = app.last.lock().unwrap().clone().unwrap();
    assert!(correlation.is_some_and(|c| c.len() >= 16), "one is added");

    // A page of another site (a form, an image, a fetch) may not use the credentials; a
    // page served from this machine (a local debugger) may.
    let seen = app.requests.load(Ordering::SeqCst);
    for (name, value) in [
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = http()
            .post(format!("{url}/items"))
            .header(name, value)
            .send()
            .unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
    }
    assert_eq!(app.requests.load(Ordering::SeqCst), seen, "none reached it");
    let r = http()
        .get(format!("{url}/me"))
        .header("Origin", "http://localhost:5173")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // Server-sent events: the first arrives long before the last is sent.
    let started = Instant::now();
    let mut stream = http().get(format!("{url}/stream")).send().unwrap();
    let mut first = [0u8; 9];
    stream.read_exact(&mut first).unwrap();
    let first_at = started.elapsed();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    let all_at = started.elapsed();
    assert_eq!(&first, b"data: 0\n\n");
    assert_has(&rest, "data: 4");
    assert!(all_at >= 4 * connector::STREAM_GAP, "{all_at:?}");
    assert!(
        first_at + 3 * connector::STREAM_GAP < all_at,
        "{first_at:?} of {all_at:?}"
    );

    // Another host name (a DNS rebinding) is turned away.
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let (status, _) = browse_resolving(
        &format!("http://rebound.example:{}/me", addr.port()),
        &[("rebound.example", addr)],
    );
    assert_eq!(status, 421);

    proxy.interrupt();
    let done = proxy.wait();
    assert_has(&done.stdout, "GET /me 200");
    assert!(!done.stdout.contains("page=2"), "no query in the log");
    assert_no_secrets(&done.all(), &secrets_in(&project));
}

#[test]
fn a_request_the_connector_refuses_is_sent_once_more_with_new_credentials() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let app = connector::connector(&sandbox.url);
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let before = project.account("development")["accessToken"].clone();
    let (proxy, url) = proxy(&project, &app.url, &["--json"]);
    app.refuse_next.store(true, Ordering::SeqCst);
    let body = "x".repeat(10_000);
    let r = http()
        .post(format!("{url}/items"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(answer["bodyBytes"], 10_000, "the body, sent again whole");
    assert_eq!(app.refused.load(Ordering::SeqCst), 1);
    assert_ne!(
        project.account("development")["accessToken"],
        before,
        "refreshed and saved"
    );
    // Refused again just after: the new token is not the problem (a missing scope, say),
    // so the connector's own 401 is passed on rather than a refresh per request.
    let after = project.account("development")["accessToken"].clone();
    app.refuse_next.store(true, Ordering::SeqCst);
    let r = http()
        .post(format!("{url}/items"))
        .body("y")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.refused.load(Ordering::SeqCst), 2);
    assert_eq!(project.account("development")["accessToken"], after);
    proxy.interrupt();
    let done = proxy.wait();
    let line: Value = serde_json::from_str(done.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/items");
    assert_eq!(line["status"], 200);
    assert_eq!(line["refreshed"], true);
}

#[test]
fn a_refused_refresh_token_gets_the_client_a_401_saying_what_to_run_and_the_proxy_goes_on() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let app = connector::connector(&sandbox.url);
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let (proxy, url) = proxy(&project, &app.url, &[]);
    // The grant is revoked at the provider: its refresh token presented a second time.
    let spent = project.account("development")["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..2 {
        http()
            .post(format!("{}/token", sandbox.url))
            .basic_auth("sandbox-client", Some(SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", spent.as_str()),
            ])
            .send()
            .unwrap();
    }
    for _ in 0..2 {
        let r = http().get(format!("{url}/me")).send().unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
        assert_has(body["hint"].as_str().unwrap(), "integration-cli oauth2");
    }
    // Logged in again in another terminal: picked up without a restart.
    log_in(&project, &sandbox.url, &["--reauth"]);
    let r = http().get(format!("{url}/me")).send().unwrap();
    assert_eq!(r.status(), 200);
    proxy.interrupt();
    assert_eq!(proxy.wait().code, 0);
}

#[test]
fn the_proxy_listens_on_loopback_only_and_speaks_http_to_the_connector() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox);
    for (args, says) in [
        (
            vec!["--to", "http://127.0.0.1:9200", "--listen", "0.0.0.0:9201"],
            "not a loopback address",
        ),
        (vec!["--to", "https://127.0.0.1:9200"], "plain HTTP"),
        (vec!["--to", "http://127.0.0.1:9200?x=1"], "without a query"),
        (vec!["--to", "http://192.0.2.1:9200"], "on this machine"),
    ] {
        let mut all = vec!["proxy"];
        all.extend(args);
        let done = run(&project, &all).wait();
        assert_eq!(done.code, 2, "{}", done.stderr);
        assert_has(&done.stderr, says);
    }
    // No tokens yet: only a login can help, before anything listens.
    let done = run(
        &project,
        &[
            "proxy",
            "--to",
            "http://127.0.0.1:9200",
            "--listen",
            "127.0.0.1:0",
        ],
    )
    .wait();
    assert_eq!(done.code, 5, "{}", done.stderr);
}

/// `watch`, the binary, with 2-second tokens: for 4 s, `token` always finds a fresh token
/// and never refreshes on its own; watch refreshes each a second ahead of its expiry, half
/// a second before `token` would find it stale (the timing itself is tested on virtual time
/// below).
#[test]
fn watch_keeps_tokens_fresh_so_token_never_refreshes_itself() {
    let sandbox = connector::sandbox(Duration::from_secs(2));
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let watch = run(&project, &["watch"]);
    let until = Instant::now() + Duration::from_secs(4);
    let mut tokens = std::collections::HashSet::new();
    while Instant::now() < until {
        let token = run(&project, &["token", "-v"]).wait();
        assert_eq!(token.code, 0, "{}", token.all());
        assert!(
            !token.stderr.contains("token request"),
            "token refreshed itself:\n{}",
            token.stderr
        );
        tokens.insert(token.stdout.trim().to_string());
        // Under the half second in which each token would be stale were watch late.
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        tokens.len() >= 3,
        "watch refreshed only {} times",
        tokens.len()
    );
    assert_eq!(sandbox.stats().reused_refresh_tokens, 0);
    watch.interrupt();
    let done = watch.wait();
    assert_eq!(done.code, 0, "{}", done.all());
    let refreshed = done
        .stdout
        .lines()
        .filter(|l| l.contains("development: refreshed"))
        .count();
    assert!(refreshed >= 2, "{}", done.stdout);
    assert_no_secrets(&done.all(), &secrets_in(&project));
}

/// The watch loop in this process on `clock` until it reaches its end, with the
/// file's secret from the environment as `run` gives it; what it said, line by line.
fn watch_virtually(project: &Project, clock: &VirtualClock) -> Vec<String> {
    let opts = flow::Options {
        config: project.path.clone(),
        open_browser: false,
        token_timeout: Duration::from_secs(10),
        ..flow::Options::default()
    };
    connector::watch_virtually(&opts, clock).0
}

/// A virtual clock from this second to `span` later.
fn from_now(span: Duration) -> VirtualClock {
    let start = clock::from_epoch(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    VirtualClock::new(start, start + span)
}

/// Six hours of one-hour tokens: `watch` refreshes each about two minutes ahead of its
/// expiry (twice the 60-s margin), so at every wake `token` would have found it fresh; one
/// refresh per lifetime, and no refresh token presented twice.
#[test]
fn watch_on_virtual_time_refreshes_once_per_lifetime_and_never_lets_a_token_go_stale() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let project = project(&sandbox);
    log_in(&project, &sandbox.url, &[]);
    let before = sandbox.stats().refreshes;
    let stale_at = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (path, seen) = (project.path.clone(), stale_at.clone());
    let clock = from_now(Duration::from_secs(6 * 3600)).on_sleep(move |_, to| {
        // The file as it stands through this sleep, a moment before the wake.
        let file = integration_cli::project::Project::load(&path).unwrap();
        let just_before = to - Duration::from_millis(1);
        if file
            .account("development")
            .usable_token(Some(just_before))
            .is_err()
        {
            seen.lock().unwrap().push(clock::rfc3339(just_before));
        }
    });
    let said = watch_virtually(&project, &clock);

    assert_eq!(*stale_at.lock().unwrap(), Vec::<String>::new(), "{said:#?}");
    let refreshed: Vec<_> = said
        .iter()
        .filter(|l| l.contains("development: refreshed"))
        .collect();
    // 6 h of 1-h tokens refreshed 2 min early: one each 58 min, 6 in all.
    assert_eq!(refreshed.len(), 6, "{said:#?}");
    assert_eq!(sandbox.stats().refreshes - before, 6);
    assert_eq!(sandbox.stats().reused_refresh_tokens, 0);
    let account = project.account("development");
    let expires = clock::parse_rfc3339(account["expiresAt"].as_str().unwrap()).unwrap();
    assert!(expires > clock.now(), "{account}");
}

/// A token endpoint that cannot be reached: `watch` tries again after 5 s, doubling to 5
/// minutes (each wait within a fifth of that), and says so each time; an hour of it is
/// run in this process without waiting.
#[test]
fn watch_on_virtual_time_backs_off_from_an_unreachable_token_endpoint_doubling_to_five_minutes() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let token_url = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let mut authorization = sandbox.authorization("sandbox");
    authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
    authorization["oauth2"]["tokenUrl"] = json!(token_url);
    let project = Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "testAccounts": {"development": {
            "accessToken": "fake-access-token-expired",
            "refreshToken": "fake-refresh-token-0001",
            "expiresAt": "2020-01-01T00:00:00Z"
        }}
    }));
    let clock = from_now(Duration::from_secs(3600));
    let said = watch_virtually(&project, &clock);

    let waits: Vec<u64> = said
        .iter()
        .filter_map(|l| l.split("trying again in ").nth(1))
        .map(|rest| rest.trim_end_matches(" s").parse().unwrap())
        .collect();
    let wanted = [5u64, 10, 20, 40, 80, 160, 300, 300, 300];
    assert!(waits.len() >= wanted.len(), "{said:#?}");
    for (wait, want) in waits.iter().zip(wanted) {
        let (low, high) = (want * 4 / 5, want * 6 / 5 + 1);
        assert!((low..=high).contains(wait), "{waits:?} against {wanted:?}");
    }
    assert!(waits.iter().all(|w| *w <= 361), "{waits:?}");
    assert_eq!(
        project.account("development")["refreshToken"],
        "fake-refresh-token-0001"
    );
}

/// At its start, `watch` lists each test account: when it refreshes next, or why it cannot.
#[test]
fn watch_starts_by_listing_each_account_and_its_next_refresh() {
    let sandbox = connector::sandbox(Duration::from_secs(3600));
    let mut authorization = sandbox.authorization("sandbox");
    authorization["oauth2"]["clientSecret"] = json!(format!("${{{SECRET_VAR}}}"));
    let clock = from_now(Duration::from_secs(60));
    let expires = clock.now() + Duration::from_secs(3600);
    let project = Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [authorization],
        "testAccounts": {
            "development": {
                "accessToken": "fake-access-token-fresh",
                "refreshToken": "fake-refresh-token-0001",
                "expiresAt": clock::rfc3339(expires)
            },
            "compliance": {}
        }
    }));
    let said = watch_virtually(&project, &clock);

    assert!(
        said[0].ends_with(&format!(
            "development: watched; next refresh at {} (in 58m)",
            clock::rfc3339(expires - Duration::from_secs(120))
        )),
        "{said:#?}"
    );
    assert_has(
        &said[1],
        "compliance: no refresh token, so it cannot be kept fresh; log in with: integration-cli oauth2",
    );
    assert!(said[1].ends_with("-t compliance"), "{said:#?}");
    let compliance = said.iter().filter(|l| l.contains("compliance:")).count();
    assert_eq!(compliance, 1, "said once: {said:#?}");
}
