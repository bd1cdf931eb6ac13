//! The CLI against each provider the sandbox stands in for, through the binary only:
//! `sandbox --persona P` → `init --preset P` → `oauth2` (a login, approved on the consent
//! page over plain HTTP) → `oauth2` again (a refresh, or the token kept) → `token`, with the
//! file checked after each step. Then, per persona, the mistake developers make and the
//! message it gets.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::*;

const SECRET: &str = "sandbox-secret-not-a-real-secret";

/// `integration-cli sandbox --persona NAME` on a free port; stopped when dropped.
struct Stand {
    child: Child,
    url: String,
    authorize: String,
    token: String,
    /// The tenants a per-tenant persona serves (its URLs are templates).
    tenants: Vec<String>,
}

impl Stand {
    fn start(persona: &str, options: &[&str]) -> Stand {
        let mut args = vec!["sandbox", "--persona", persona, "--port", "0"];
        for option in options {
            args.extend(["--persona-option", option]);
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Built before the banner is read, so a failure below still stops the sandbox.
        let mut stand = Stand {
            child,
            url: String::new(),
            authorize: String::new(),
            token: String::new(),
            tenants: Vec::new(),
        };
        let field = |line: &str, label: &str| {
            line.trim()
                .strip_prefix(label)
                .map(|rest| rest.trim().to_string())
        };
        // The banner, read on a thread so a sandbox that never prints fails the test in 20 s
        // rather than hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while let Ok(line) =
            rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            if let Some(url) = field(&line, "Sandbox OAuth 2.0 server at") {
                stand.url = url;
            } else if let Some(url) = field(&line, "authorization URL") {
                stand.authorize = url;
            } else if let Some(url) = field(&line, "token URL") {
                stand.token = url;
            } else if let Some(names) = field(&line, "tenants:") {
                stand.tenants = names.split(", ").map(str::to_string).collect();
            } else if line.starts_with("Ctrl-C") {
                break;
            }
        }
        assert!(
            stand.url.starts_with("http://127.0.0.1:") && !stand.token.is_empty(),
            "the {persona} sandbox did not say where it serves"
        );
        // A template with a default (Microsoft's tenant) is any value to the stand-in:
        // requests sent straight to it use the default, as a first login would.
        let defaults = integration_cli::providers::find(persona).map_or(&[][..], |p| p.variables);
        for v in defaults {
            if let Some(value) = v.default {
                let name = format!("{{+{}}}", v.name);
                stand.authorize = stand.authorize.replace(&name, value);
                stand.token = stand.token.replace(&name, value);
            }
        }
        stand
    }

    /// Plays the user: opens the login URL and, when the sandbox shows its consent page,
    /// presses `decision`; the redirect is followed to the CLI's callback, whose page (or
    /// the sandbox's own error page) comes back.
    fn consent(&self, login_url: &str, decision: &str) -> (u16, String) {
        let page = http().get(login_url).send().unwrap();
        let (status, text) = (page.status().as_u16(), page.text().unwrap());
        let Some(id) = text
            .split("name=\"consent\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            return (status, text);
        };
        let answer = http()
            .post(format!("{}/authorize/decision", self.url))
            .form(&[("consent", id), ("decision", decision)])
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connector project made by `init --preset persona` against the stand-in, with the
/// registered callback port (for presets that fix one) moved to a free port.
struct Connector {
    project: Project,
    secret_env: String,
    /// `--port 0` when the authorization does not fix its callback port.
    port_args: Vec<&'static str>,
    /// The port a fixed redirectUrl names, held for as long as the connector lives.
    callback: Option<HeldPort>,
}

/// A port from the OS, bound but not listening, for a redirectUrl that must name one: the
/// OS gives it to no other socket (no parallel test's `bind(0)`, no outgoing connection)
/// while it is held, yet the CLI, binding it with SO_REUSEADDR as every listener here does,
/// takes it over. Dropping the probe listener instead left a window for others to get it.
struct HeldPort {
    port: u16,
    _socket: tokio::net::TcpSocket,
}

impl HeldPort {
    fn take() -> HeldPort {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
        HeldPort {
            port: socket.local_addr().unwrap().port(),
            _socket: socket,
        }
    }
}

fn connector(stand: &Stand, preset: &str, edit: fn(&mut Value)) -> Connector {
    let dir = tempfile::tempdir().unwrap();
    // A per-tenant preset's first variable names the tenant: one the stand-in serves.
    let tenant: Vec<String> = match (
        stand.tenants.first(),
        integration_cli::providers::find(preset).and_then(|p| p.variables.first()),
    ) {
        (Some(tenant), Some(v)) => vec!["--var".into(), format!("{}={tenant}", v.name)],
        _ => Vec::new(),
    };
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["init", "--preset", preset, "--client-id", "sandbox-client"])
        .args(["--authorization-url", &stand.authorize])
        .args(["--token-url", &stand.token])
        .args(&tenant)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init --preset {preset}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join(".unito.json");
    let project = Project { dir, path };
    let mut file = project.json();
    let oauth2 = &mut file["authorizations"][0]["oauth2"];
    // The sandbox takes any loopback redirect, so a preset's tunnel is not needed.
    oauth2.as_object_mut().unwrap().remove("tunnel");
    let mut port_args = vec!["--port", "0"];
    let mut callback = None;
    if let Some(fixed) = oauth2["redirectUrl"].as_str() {
        let held = HeldPort::take();
        oauth2["redirectUrl"] = json!(fixed.replace(":9002", &format!(":{}", held.port)));
        port_args.clear();
        callback = Some(held);
    }
    edit(oauth2);
    std::fs::write(&project.path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    let name = file["authorizations"][0]["name"].as_str().unwrap();
    Connector {
        project,
        secret_env: format!("{}_CLIENT_SECRET", name.to_ascii_uppercase()),
        port_args,
        callback,
    }
}

impl Connector {
    fn run(&self, args: &[&str], secret: &str) -> Run {
        let mut all = args.to_vec();
        if args[0] == "oauth2" {
            all.push("--no-browser");
            all.extend(&self.port_args);
        }
        self.project
            .oauth2_env(&all, &[(self.secret_env.as_str(), secret)])
    }

    fn account(&self) -> Value {
        self.project.account("development")
    }

    /// Everything in the file a log must never show.
    fn secrets(&self) -> Vec<String> {
        let account = self.account();
        let mut secrets = vec![SECRET.to_string()];
        for key in ["accessToken", "refreshToken", "id_token"] {
            if let Some(s) = account[key].as_str() {
                secrets.push(s.to_string());
            }
        }
        if let Some(s) = account["authed_user"]["access_token"].as_str() {
            secrets.push(s.to_string());
        }
        secrets
    }

    /// `oauth2 EXTRA...`, approved on the consent page; the run's end, checked for leaks.
    fn login(&self, stand: &Stand, extra: &[&str], secret: &str) -> (u16, String, Finished) {
        let mut args = vec!["oauth2"];
        args.extend_from_slice(extra);
        let run = self.run(&args, secret);
        let (status, page) = stand.consent(&run.login_url_at(&stand.url), "approve");
        let finished = run.wait();
        assert_no_secrets(&finished.all(), &self.secrets());
        (status, page, finished)
    }
}

/// What the second `oauth2` run does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Again {
    /// A refresh; `rotates`: a new refresh token comes with it.
    Refreshed { rotates: bool },
    /// No refresh token, no stated expiry: the token is kept.
    Kept,
}

struct Row {
    persona: &'static str,
    options: &'static [&'static str],
    /// To the authorization `init` wrote, before the login.
    edit: fn(&mut Value),
    /// Fields a connector needs, which must land in the test account as they came.
    fields: &'static [&'static str],
    token_type: &'static str,
    /// The access token's lifetime as the provider states it (`None`: not stated).
    expires_in: Option<u64>,
    again: Again,
}

fn as_is(_: &mut Value) {}

const ROWS: &[Row] = &[
    Row {
        persona: "sandbox",
        options: &[],
        edit: as_is,
        fields: &[],
        token_type: "Bearer",
        expires_in: Some(3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "github",
        options: &[],
        edit: as_is,
        fields: &["scope"],
        token_type: "Bearer",
        expires_in: None,
        again: Again::Kept,
    },
    Row {
        persona: "github",
        options: &["expiring"],
        edit: as_is,
        fields: &["refresh_token_expires_in"],
        token_type: "Bearer",
        expires_in: Some(8 * 3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "google",
        options: &[],
        edit: as_is,
        fields: &["id_token"],
        token_type: "Bearer",
        expires_in: Some(3599),
        again: Again::Refreshed { rotates: false },
    },
    Row {
        persona: "microsoft",
        options: &[],
        edit: as_is,
        fields: &["ext_expires_in"],
        token_type: "Bearer",
        expires_in: Some(3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "microsoft",
        options: &[],
        // The v1 endpoint, which states lifetimes as strings.
        edit: |o| {
            let url = o["tokenUrl"]
                .as_str()
                .unwrap()
                .replace("/v2.0/token", "/token");
            o["tokenUrl"] = json!(url);
        },
        fields: &["ext_expires_in"],
        token_type: "Bearer",
        expires_in: Some(3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "slack",
        options: &[],
        edit: as_is,
        fields: &["team", "authed_user", "bot_user_id", "app_id"],
        // Slack's "bot" says whose token it is; it is sent as a Bearer token.
        token_type: "Bearer",
        expires_in: None,
        again: Again::Kept,
    },
    Row {
        persona: "slack",
        options: &["rotation"],
        edit: as_is,
        fields: &["team", "authed_user"],
        // Slack's "bot" says whose token it is; it is sent as a Bearer token.
        token_type: "Bearer",
        expires_in: Some(12 * 3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "salesforce",
        options: &[],
        edit: as_is,
        fields: &["instance_url", "id", "issued_at", "signature"],
        token_type: "Bearer",
        expires_in: None,
        again: Again::Refreshed { rotates: false },
    },
    Row {
        persona: "atlassian",
        options: &[],
        edit: as_is,
        fields: &["scope"],
        token_type: "Bearer",
        expires_in: Some(3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "hubspot",
        options: &[],
        edit: as_is,
        fields: &[],
        token_type: "Bearer",
        expires_in: Some(1800),
        again: Again::Refreshed { rotates: false },
    },
    Row {
        persona: "dropbox",
        options: &[],
        edit: as_is,
        fields: &["account_id", "uid"],
        token_type: "Bearer",
        expires_in: Some(4 * 3600),
        again: Again::Refreshed { rotates: false },
    },
    Row {
        persona: "notion",
        options: &[],
        edit: as_is,
        fields: &["workspace_id", "workspace_name", "bot_id", "owner"],
        token_type: "Bearer",
        expires_in: None,
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "notion",
        options: &["legacy"],
        edit: as_is,
        fields: &["workspace_id", "bot_id", "owner"],
        token_type: "Bearer",
        expires_in: None,
        again: Again::Kept,
    },
    Row {
        persona: "x",
        options: &[],
        edit: as_is,
        fields: &["scope"],
        token_type: "Bearer",
        expires_in: Some(2 * 3600),
        again: Again::Refreshed { rotates: true },
    },
    Row {
        persona: "zendesk",
        options: &[],
        edit: as_is,
        fields: &["scope", "subdomain"],
        token_type: "Bearer",
        expires_in: Some(30 * 60),
        again: Again::Refreshed { rotates: true },
    },
];

#[test]
fn every_persona_logs_in_refreshes_or_keeps_and_hands_out_its_token() {
    side_by_side(
        ROWS,
        |row| format!("{} {:?}", row.persona, row.options),
        walk,
    );
}

/// Runs `check` for every row at once (each has its own sandbox and project on free ports)
/// and reports every row that failed, not only the first.
fn side_by_side<T: Sync>(rows: &[T], name: fn(&T) -> String, check: fn(&T)) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = rows
            .iter()
            .map(|row| scope.spawn(move || check(row)))
            .collect();
        runs.into_iter()
            .zip(rows)
            .filter_map(|(run, row)| {
                run.join().err().map(|panic| {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}: {why}", name(row))
                })
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn walk(row: &Row) {
    let stand = Stand::start(row.persona, row.options);
    let c = connector(&stand, row.persona, row.edit);
    let before = c.project.json();

    // 1. The login.
    let (status, page, login) = c.login(&stand, &[], SECRET);
    assert_eq!(login.code, 0, "{}", login.all());
    assert_eq!(status, 200, "{page}");
    assert_has(&page, "Signed in");
    assert_has(
        &login.stdout,
        "Saved tokens for test account \"development\"",
    );
    let first = c.account();
    assert!(first["accessToken"].is_string(), "{first}");
    assert_eq!(first["tokenType"], row.token_type, "{first}");
    let offline = row.again != Again::Kept;
    assert_eq!(first["refreshToken"].is_string(), offline, "{first}");
    match row.expires_in {
        Some(secs) => {
            assert_eq!(first["expiresIn"], secs, "{first}");
            assert!(first["expiresAt"].is_string(), "{first}");
        }
        None => assert!(first.get("expiresAt").is_none(), "{first}"),
    }
    for field in row.fields {
        assert!(first.get(*field).is_some(), "{field} missing: {first}");
    }
    // Who logged in, from the id_token or the provider's who-am-I endpoint.
    let vouches = ["google", "github", "microsoft", "slack", "atlassian"];
    if vouches.contains(&row.persona) {
        assert!(first["identityIssuer"].is_string(), "no identity: {first}");
        assert!(first["identitySubject"].is_string(), "no subject: {first}");
    }
    // Only the test account changed, and what it held before (a tenant's value) it holds.
    let mut after = c.project.json();
    for (key, value) in before["testAccounts"]["development"].as_object().unwrap() {
        assert_eq!(&after["testAccounts"]["development"][key], value, "{key}");
    }
    after["testAccounts"]["development"] = before["testAccounts"]["development"].clone();
    assert_eq!(after, before);

    // 2. Again: a refresh, or the token kept.
    let again = c.run(&["oauth2"], SECRET).wait();
    assert_eq!(again.code, 0, "{}", again.all());
    assert_no_secrets(&again.all(), &c.secrets());
    let second = c.account();
    match row.again {
        Again::Refreshed { rotates } => {
            assert_has(&again.stdout, "Refreshed");
            assert_ne!(second["accessToken"], first["accessToken"]);
            assert_eq!(second["refreshToken"] != first["refreshToken"], rotates);
            assert!(second["refreshToken"].is_string(), "{second}");
        }
        Again::Kept => {
            assert_has(&again.all(), "still valid");
            assert_eq!(second, first);
        }
    }
    for field in row.fields {
        // Still there (a refresh may bring new values: Salesforce's issued_at, signature).
        assert!(second.get(*field).is_some(), "{field} lost: {second}");
    }

    // 3. The token, for a script.
    let token = c.run(&["token"], SECRET).wait();
    assert_eq!(token.code, 0, "{}", token.all());
    assert_eq!(token.stdout.trim(), second["accessToken"].as_str().unwrap());
    assert_no_secrets(&token.stderr, &c.secrets());

    // 4. Signed out: at the provider's own revocation endpoint when it has one.
    let secrets = c.secrets();
    let out = c.run(&["logout"], SECRET).wait();
    assert_eq!(out.code, 0, "{}", out.all());
    assert_no_secrets(&out.all(), &secrets);
    let signed_out = c.account();
    for key in ["accessToken", "refreshToken", "expiresAt", "tokenType"] {
        assert!(signed_out.get(key).is_none(), "{key} kept: {signed_out}");
    }
    let access = second["accessToken"].as_str().unwrap();
    let userinfo = quiet_http()
        .get(format!("{}/userinfo", stand.url))
        .bearer_auth(access)
        .send()
        .unwrap()
        .status()
        .as_u16();
    let revokes = integration_cli::providers::SIGN_OUT
        .iter()
        .any(|s| s.key == row.persona && s.revocation_url.is_some());
    if revokes {
        assert_has(&out.stdout, "the provider accepted the revocation of the");
        assert_eq!(
            userinfo, 401,
            "{}: the token outlived its grant",
            row.persona
        );
    } else {
        assert_has(&out.stdout, "The grant still stands at the provider");
    }
}

/// A mistake a developer makes with one provider, and what the CLI must say about it.
struct Mistake {
    persona: &'static str,
    what: &'static str,
    edit: fn(&mut Value),
    secret: &'static str,
    /// The login's exit code; 0 for a login that works but gets no refresh token.
    code: i32,
    says: &'static [&'static str],
    /// What the hint names (the provider's way), when the mistake is refused.
    hint: Option<&'static str>,
}

fn scopes(o: &mut Value, names: &[&str]) {
    o["scopes"] = json!(names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>());
}

fn drop_key(o: &mut Value, key: &str) {
    o.as_object_mut().unwrap().remove(key);
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        persona: "atlassian",
        what: "no prompt=consent",
        edit: |o| {
            o["authorizationParameters"]
                .as_object_mut()
                .unwrap()
                .remove("prompt");
        },
        secret: SECRET,
        code: 3,
        says: &["provider refused the authorization: invalid_request: prompt=consent is required"],
        hint: None,
    },
    Mistake {
        persona: "google",
        what: "no access_type=offline",
        edit: |o| drop_key(o, "authorizationParameters"),
        secret: SECRET,
        code: 0,
        says: &["refresh token  none", "access_type=offline"],
        hint: None,
    },
    Mistake {
        persona: "microsoft",
        what: "no offline_access scope",
        edit: |o| scopes(o, &["User.Read"]),
        secret: SECRET,
        code: 0,
        says: &["refresh token  none", "offline_access scope"],
        hint: None,
    },
    Mistake {
        persona: "atlassian",
        what: "no offline_access scope",
        edit: |o| scopes(o, &["read:jira-work"]),
        secret: SECRET,
        code: 0,
        says: &["refresh token  none", "offline_access scope"],
        hint: None,
    },
    Mistake {
        persona: "atlassian",
        what: "no audience",
        edit: |o| {
            o["authorizationParameters"]
                .as_object_mut()
                .unwrap()
                .remove("audience");
        },
        secret: SECRET,
        code: 3,
        says: &["provider refused the authorization: invalid_request: audience is required"],
        hint: None,
    },
    Mistake {
        persona: "salesforce",
        what: "no refresh_token scope",
        edit: |o| scopes(o, &["api"]),
        secret: SECRET,
        code: 0,
        says: &[
            "refresh token  none",
            "refresh_token (or offline_access) scope",
        ],
        hint: None,
    },
    Mistake {
        persona: "dropbox",
        what: "no token_access_type=offline",
        edit: |o| drop_key(o, "authorizationParameters"),
        secret: SECRET,
        code: 0,
        says: &["refresh token  none", "token_access_type=offline"],
        hint: None,
    },
    Mistake {
        persona: "x",
        what: "no offline.access scope",
        edit: |o| scopes(o, &["tweet.read", "users.read"]),
        secret: SECRET,
        code: 0,
        says: &["refresh token  none", "offline.access scope"],
        hint: None,
    },
    Mistake {
        persona: "x",
        what: "the client secret in the body",
        edit: |o| o["tokenEndpointAuthMethod"] = json!("client_secret_post"),
        secret: SECRET,
        code: 1,
        says: &["answered 401 unauthorized_client: Missing valid authorization header"],
        hint: Some("X wants a confidential client"),
    },
    Mistake {
        persona: "hubspot",
        what: "HTTP Basic",
        edit: |o| drop_key(o, "tokenEndpointAuthMethod"),
        secret: SECRET,
        code: 1,
        says: &["answered 401 BAD_CLIENT_ID: client authentication failed"],
        hint: Some("tokenEndpointAuthMethod client_secret_post"),
    },
    Mistake {
        persona: "hubspot",
        what: "a JSON body",
        edit: |o| o["requestContentType"] = json!("application/json"),
        secret: SECRET,
        code: 1,
        says: &["answered 400 BAD_REQUEST: expected a form body"],
        hint: Some("no requestContentType application/json"),
    },
    Mistake {
        persona: "notion",
        what: "a form body",
        edit: |o| drop_key(o, "requestContentType"),
        secret: SECRET,
        code: 1,
        says: &["answered 400 invalid_request: expected a JSON body"],
        hint: Some("requestContentType application/json"),
    },
    Mistake {
        persona: "github",
        what: "a wrong client secret",
        edit: as_is,
        secret: "fake-wrong-secret",
        code: 1,
        says: &["answered 200 incorrect_client_credentials"],
        hint: Some("incorrect_client_credentials is a wrong client id or secret"),
    },
    Mistake {
        persona: "slack",
        what: "a wrong client secret",
        edit: as_is,
        secret: "fake-wrong-secret",
        code: 1,
        says: &["answered 200 bad_client_secret"],
        hint: Some("bad_client_secret and invalid_client_id name the app"),
    },
];

#[test]
fn each_providers_usual_mistake_gets_a_message_that_names_it() {
    side_by_side(MISTAKES, |m| format!("{} ({})", m.persona, m.what), make);
}

fn make(m: &Mistake) {
    let stand = Stand::start(m.persona, &[]);
    let c = connector(&stand, m.persona, m.edit);
    let (status, page, login) = c.login(&stand, &[], m.secret);
    assert_eq!(login.code, m.code, "{}\n{page}", login.all());
    for says in m.says {
        assert_has(&login.all(), says);
    }
    if let Some(hint) = m.hint {
        let line = login
            .stderr
            .lines()
            .find(|l| l.starts_with("hint:"))
            .unwrap_or("");
        assert_has(line, hint);
    }
    if m.code != 0 {
        // The browser is told too, with a status that says it failed.
        assert_eq!(status, 400, "{page}");
        assert_has(&page, "data-result=\"fail\"");
    }
    let account = c.account();
    assert_eq!(account["accessToken"].is_string(), m.code == 0, "{account}");
    assert!(account.get("refreshToken").is_none(), "{account}");
}

// ---- each persona's rules, spoken to over HTTP as any client would ----

const REDIRECT: &str = "http://127.0.0.1:45999/callback";
const VERIFIER: &str = "fake-verifier-0123456789-0123456789-0123456789";

fn quiet_http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Where the stand-in sends the browser back to after a login with `params` (beyond the
/// client, redirect URI, state and PKCE), approved: its query.
fn back_from(stand: &Stand, params: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    use base64::Engine;
    use sha2::Digest;
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER));
    let mut url = url::Url::parse(&stand.authorize).unwrap();
    url.query_pairs_mut()
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "sandbox-client"),
            ("redirect_uri", REDIRECT),
            ("state", "fake-state-1234"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .extend_pairs(params);
    let page = quiet_http().get(url).send().unwrap();
    let location = |r: &reqwest::blocking::Response| {
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with(REDIRECT), "{to}");
        url::Url::parse(&to)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    };
    if page.status().is_redirection() {
        return location(&page);
    }
    let text = page.text().unwrap();
    let id = text
        .split("name=\"consent\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no consent form: {text}"));
    let decided = quiet_http()
        .post(format!("{}/authorize/decision", stand.url))
        .form(&[("consent", id), ("decision", "approve")])
        .send()
        .unwrap();
    location(&decided)
}

fn code(stand: &Stand, params: &[(&str, &str)]) -> String {
    let back = back_from(stand, params);
    back.get("code")
        .unwrap_or_else(|| panic!("no code: {back:?}"))
        .clone()
}

/// How a token request is sent.
#[derive(Clone, Copy)]
enum Send {
    /// HTTP Basic and a form, as RFC 6749 prefers.
    Basic,
    /// The client id and secret in a form body.
    Body,
    /// HTTP Basic and a JSON body.
    Json,
}

/// A token request to `url`: (status, content type, the body as fields).
fn post(url: &str, send: Send, fields: &[(&str, &str)], accept_json: bool) -> (u16, String, Value) {
    let mut fields: Vec<(&str, &str)> = fields.to_vec();
    let mut request = quiet_http().post(url);
    request = match send {
        Send::Basic => request
            .basic_auth("sandbox-client", Some(SECRET))
            .form(&fields),
        Send::Body => {
            fields.extend([("client_id", "sandbox-client"), ("client_secret", SECRET)]);
            request.form(&fields)
        }
        Send::Json => {
            let map: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            request
                .basic_auth("sandbox-client", Some(SECRET))
                .header("content-type", "application/json")
                .body(Value::Object(map).to_string())
        }
    };
    if accept_json {
        request = request.header("accept", "application/json");
    }
    let r = request.send().unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let text = r.text().unwrap();
    let body = if content_type.starts_with("application/json") {
        serde_json::from_str(&text).unwrap()
    } else {
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), json!(v)))
            .collect();
        Value::Object(pairs)
    };
    (status, content_type, body)
}

fn exchange(stand: &Stand, code: &str, send: Send) -> (u16, String, Value) {
    post(
        &stand.token,
        send,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
        ],
        false,
    )
}

fn refresh_with(stand: &Stand, refresh_token: &str, send: Send) -> (u16, String, Value) {
    post(
        &stand.token,
        send,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        false,
    )
}

fn field<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}: {body}"))
}

#[test]
fn github_answers_in_a_form_unless_asked_for_json_and_refuses_with_a_200() {
    let stand = Stand::start("github", &[]);
    let (status, content_type, body) = exchange(
        &stand,
        &code(&stand, &[("scope", "repo read:user")]),
        Send::Basic,
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-www-form-urlencoded")
    );
    assert!(field(&body, "access_token").starts_with("gho_"), "{body}");
    assert_eq!(body["scope"], "repo,read:user");
    assert!(body.get("refresh_token").is_none() && body.get("expires_in").is_none());

    let c = code(&stand, &[]);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("code_verifier", VERIFIER),
        ("redirect_uri", REDIRECT),
    ];
    let (status, content_type, _) = post(&stand.token, Send::Basic, &fields, true);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));

    let (status, _, body) = exchange(&stand, "fake-spent-code", Send::Basic);
    assert_eq!(
        (status, field(&body, "error")),
        (200, "bad_verification_code")
    );

    let expiring = Stand::start("github", &["expiring"]);
    let (_, _, body) = exchange(&expiring, &code(&expiring, &[]), Send::Basic);
    assert_eq!(body["expires_in"], "28800");
    assert_eq!(body["refresh_token_expires_in"], "15897600");
    assert!(field(&body, "refresh_token").starts_with("ghr_"));
}

#[test]
fn google_gives_a_refresh_token_offline_and_on_a_later_consent_only_when_prompted() {
    let stand = Stand::start("google", &[]);
    let (_, _, online) = exchange(
        &stand,
        &code(&stand, &[("scope", "openid email")]),
        Send::Body,
    );
    assert!(online.get("refresh_token").is_none(), "{online}");
    assert!(field(&online, "id_token").starts_with("eyJ"));
    assert_eq!(
        online["scope"],
        "openid https://www.googleapis.com/auth/userinfo.email"
    );
    // The user has consented before: access_type=offline alone is not enough any more.
    let offline = [("scope", "openid"), ("access_type", "offline")];
    let (_, _, again) = exchange(&stand, &code(&stand, &offline), Send::Body);
    assert!(again.get("refresh_token").is_none(), "{again}");
    let prompted = [
        ("scope", "openid"),
        ("access_type", "offline"),
        ("prompt", "consent"),
    ];
    let (_, _, body) = exchange(&stand, &code(&stand, &prompted), Send::Body);
    let refresh = field(&body, "refresh_token").to_string();
    let (status, _, refreshed) = refresh_with(&stand, &refresh, Send::Body);
    assert_eq!(status, 200);
    assert!(refreshed.get("refresh_token").is_none(), "{refreshed}");
    assert_ne!(refreshed["access_token"], body["access_token"]);
    let (status, _, refused) = refresh_with(&stand, "1//fake-revoked", Send::Body);
    assert_eq!((status, field(&refused, "error")), (400, "invalid_grant"));
    assert_eq!(
        refused["error_description"],
        "Token has been expired or revoked."
    );
}

#[test]
fn microsoft_rotates_leniently_and_writes_lifetimes_as_strings_on_v1() {
    let stand = Stand::start("microsoft", &[]);
    let (_, _, none) = exchange(
        &stand,
        &code(&stand, &[("scope", "User.Read")]),
        Send::Basic,
    );
    assert!(none.get("refresh_token").is_none(), "{none}");
    assert_eq!(none["expires_in"], 3600);
    assert_eq!(none["ext_expires_in"], 3600);
    let (_, _, body) = exchange(
        &stand,
        &code(&stand, &[("scope", "offline_access User.Read")]),
        Send::Basic,
    );
    assert_eq!(body["scope"], "https://graph.microsoft.com/User.Read");
    let first = field(&body, "refresh_token").to_string();
    let (_, _, rotated) = refresh_with(&stand, &first, Send::Basic);
    assert_ne!(field(&rotated, "refresh_token"), first);
    // The old one still works.
    let (status, _, _) = refresh_with(&stand, &first, Send::Basic);
    assert_eq!(status, 200);

    let v1 = stand.token.replace("/v2.0/token", "/token");
    let c = code(&stand, &[("scope", "offline_access User.Read")]);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("code_verifier", VERIFIER),
        ("redirect_uri", REDIRECT),
    ];
    let (status, _, body) = post(&v1, Send::Basic, &fields, false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["expires_in"], &body["ext_expires_in"]),
        (&json!("3600"), &json!("3600"))
    );

    let (status, _, refused) = refresh_with(&stand, "0.AXoA-fake", Send::Basic);
    assert_eq!(status, 400);
    assert!(
        field(&refused, "error_description").starts_with("AADSTS70000:"),
        "{refused}"
    );
}

#[test]
fn slack_puts_a_user_only_install_under_authed_user_and_refuses_with_ok_false() {
    let stand = Stand::start("slack", &[]);
    let (_, _, bot) = exchange(
        &stand,
        &code(
            &stand,
            &[("scope", "chat:write"), ("user_scope", "search:read")],
        ),
        Send::Body,
    );
    assert_eq!(
        (&bot["ok"], &bot["token_type"]),
        (&json!(true), &json!("bot"))
    );
    assert!(field(&bot, "access_token").starts_with("xoxb-"));
    assert!(
        bot["authed_user"]["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxp-")
    );
    assert!(bot.get("expires_in").is_none() && bot.get("refresh_token").is_none());

    let (_, _, user) = exchange(
        &stand,
        &code(&stand, &[("user_scope", "search:read")]),
        Send::Body,
    );
    assert!(user.get("access_token").is_none(), "{user}");
    assert_eq!(user["authed_user"]["token_type"], "user");
    assert!(
        user["authed_user"]["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxp-")
    );

    let (status, _, refused) = exchange(&stand, "fake-spent-code", Send::Body);
    assert_eq!(
        (status, &refused),
        (200, &json!({"ok": false, "error": "invalid_code"}))
    );

    let rotating = Stand::start("slack", &["rotation"]);
    let (_, _, body) = exchange(
        &rotating,
        &code(&rotating, &[("scope", "chat:write")]),
        Send::Body,
    );
    assert_eq!(body["expires_in"], 43200);
    assert!(field(&body, "refresh_token").starts_with("xoxe-1-"));
}

#[test]
fn salesforce_states_no_lifetime_and_keeps_its_refresh_token() {
    let stand = Stand::start("salesforce", &[]);
    let (_, _, body) = exchange(
        &stand,
        &code(&stand, &[("scope", "api refresh_token")]),
        Send::Body,
    );
    assert!(body.get("expires_in").is_none(), "{body}");
    let issued_at = field(&body, "issued_at");
    assert!(
        issued_at.len() == 13 && issued_at.bytes().all(|b| b.is_ascii_digit()),
        "{issued_at}"
    );
    for key in ["instance_url", "id", "signature"] {
        field(&body, key);
    }
    let (status, _, refreshed) = refresh_with(&stand, field(&body, "refresh_token"), Send::Body);
    assert_eq!(status, 200);
    assert!(refreshed.get("refresh_token").is_none(), "{refreshed}");
}

#[test]
fn atlassian_requires_audience_and_consent_and_revokes_a_reused_refresh_token() {
    let stand = Stand::start("atlassian", &[]);
    let back = back_from(
        &stand,
        &[("scope", "offline_access"), ("prompt", "consent")],
    );
    assert_eq!(back["error"], "invalid_request");
    assert_has(&back["error_description"], "audience");
    assert_eq!(back["state"], "fake-state-1234");
    let back = back_from(
        &stand,
        &[
            ("scope", "offline_access"),
            ("audience", "api.atlassian.com"),
        ],
    );
    assert_has(&back["error_description"], "prompt=consent");

    let asked = [
        ("scope", "read:jira-work offline_access"),
        ("audience", "api.atlassian.com"),
        ("prompt", "consent"),
    ];
    let (_, _, body) = exchange(&stand, &code(&stand, &asked), Send::Body);
    let first = field(&body, "refresh_token").to_string();
    let (_, _, rotated) = refresh_with(&stand, &first, Send::Body);
    let second = field(&rotated, "refresh_token").to_string();
    let (status, _, _) = refresh_with(&stand, &first, Send::Body);
    assert_eq!(status, 400);
    // The reuse revoked the whole grant, the new refresh token with it.
    let (status, _, _) = refresh_with(&stand, &second, Send::Body);
    assert_eq!(status, 400);
}

#[test]
fn hubspot_wants_its_client_in_a_form_body_and_keeps_its_refresh_token() {
    let stand = Stand::start("hubspot", &[]);
    let (status, _, refused) = exchange(&stand, &code(&stand, &[]), Send::Basic);
    assert_eq!((status, field(&refused, "status")), (401, "BAD_CLIENT_ID"));
    let (status, _, refused) = exchange(&stand, &code(&stand, &[]), Send::Json);
    assert_eq!((status, field(&refused, "status")), (400, "BAD_REQUEST"));
    let (_, _, body) = exchange(&stand, &code(&stand, &[]), Send::Body);
    assert_eq!(body["expires_in"], 1800);
    let refresh = field(&body, "refresh_token").to_string();
    let (_, _, refreshed) = refresh_with(&stand, &refresh, Send::Body);
    assert_eq!(field(&refreshed, "refresh_token"), refresh);
}

#[test]
fn dropbox_gives_a_refresh_token_only_for_offline_access_type() {
    let stand = Stand::start("dropbox", &[]);
    let (_, _, online) = exchange(&stand, &code(&stand, &[]), Send::Basic);
    assert!(online.get("refresh_token").is_none(), "{online}");
    assert_eq!(online["expires_in"], 14400);
    let (_, _, body) = exchange(
        &stand,
        &code(&stand, &[("token_access_type", "offline")]),
        Send::Basic,
    );
    assert_eq!(
        (field(&body, "account_id"), field(&body, "uid")),
        ("dbid:AAsandboxaccount", "12345678")
    );
    let (_, _, refreshed) = refresh_with(&stand, field(&body, "refresh_token"), Send::Basic);
    assert!(refreshed.get("refresh_token").is_none(), "{refreshed}");
}

#[test]
fn notion_takes_http_basic_and_json_only_and_legacy_integrations_get_no_refresh_token() {
    let stand = Stand::start("notion", &[]);
    let (status, _, _) = exchange(&stand, &code(&stand, &[]), Send::Basic);
    assert_eq!(status, 400);
    let (status, _, _) = exchange(&stand, &code(&stand, &[]), Send::Body);
    assert_eq!(status, 400);
    let (_, _, body) = exchange(&stand, &code(&stand, &[("owner", "user")]), Send::Json);
    for key in ["workspace_id", "bot_id"] {
        field(&body, key);
    }
    assert_eq!(body["owner"]["type"], "user");
    assert!(body.get("expires_in").is_none(), "{body}");
    let first = field(&body, "refresh_token").to_string();
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first.as_str()),
    ];
    let (_, _, rotated) = post(&stand.token, Send::Json, &fields, false);
    assert_ne!(field(&rotated, "refresh_token"), first);

    let legacy = Stand::start("notion", &["legacy"]);
    let (_, _, body) = exchange(&legacy, &code(&legacy, &[]), Send::Json);
    assert!(
        body.get("refresh_token").is_none() && body.get("expires_in").is_none(),
        "{body}"
    );
}

#[test]
fn x_requires_pkce_and_http_basic() {
    let stand = Stand::start("x", &[]);
    let mut url = url::Url::parse(&stand.authorize).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("state", "fake-state-1234"),
    ]);
    let r = quiet_http().get(url).send().unwrap();
    assert_has(
        r.headers()["location"].to_str().unwrap(),
        "error=invalid_request",
    );
    let (status, _, refused) = exchange(
        &stand,
        &code(&stand, &[("scope", "offline.access")]),
        Send::Body,
    );
    assert_eq!(
        (status, field(&refused, "error")),
        (401, "unauthorized_client")
    );
    let (_, _, body) = exchange(
        &stand,
        &code(&stand, &[("scope", "tweet.read offline.access")]),
        Send::Basic,
    );
    assert_eq!(body["expires_in"], 7200);
    field(&body, "refresh_token");
}

// ---- what the CLI does with what the personas expose ----

#[test]
fn a_slack_user_install_is_saved_from_authed_user_and_the_summary_says_so() {
    let stand = Stand::start("slack", &[]);
    let c = connector(&stand, "slack", |o| {
        o["scopes"] = json!([]);
        o["authorizationParameters"] = json!({"user_scope": "search:read"});
    });
    let (_, _, login) = c.login(&stand, &["--json"], SECRET);
    assert_eq!(login.code, 0, "{}", login.all());
    let account = c.account();
    assert!(
        field(&account, "accessToken").starts_with("xoxp-"),
        "{account}"
    );
    assert_eq!(account["tokenType"], "Bearer");
    // One copy of the token: lifted out of authed_user, whose other fields stay.
    assert_eq!(account["authed_user"], json!({"id": "U0SANDBOX"}));
    let summary: Value = serde_json::from_str(&login.stdout).unwrap();
    assert_eq!(summary["tokenFrom"], "authed_user", "{summary}");

    // A bot and user install: the bot token unless the authorization asks for the other.
    let both = |o: &mut Value| {
        o["authorizationParameters"] = json!({"user_scope": "search:read"});
    };
    let c = connector(&stand, "slack", both);
    let (_, _, login) = c.login(&stand, &[], SECRET);
    assert_eq!(login.code, 0, "{}", login.all());
    assert!(field(&c.account(), "accessToken").starts_with("xoxb-"));
    assert!(!login.stdout.contains("authed_user"), "{}", login.stdout);

    let c = connector(&stand, "slack", |o| {
        o["authorizationParameters"] = json!({"user_scope": "search:read"});
        o["tokenResponsePath"] = json!("authed_user");
    });
    let (_, _, login) = c.login(&stand, &[], SECRET);
    assert_eq!(login.code, 0, "{}", login.all());
    assert!(field(&c.account(), "accessToken").starts_with("xoxp-"));
    assert_has(&login.stdout, "(the one under authed_user in the answer)");
}

#[test]
fn a_new_login_saves_its_grants_refresh_token_and_a_refresh_rotates_it() {
    let stand = Stand::start("sandbox", &[]);
    let c = connector(&stand, "sandbox", as_is);
    let (_, _, first) = c.login(&stand, &["--json"], SECRET);
    let first: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(first["refreshToken"], "saved", "{first}");
    let again = c.run(&["oauth2", "--json"], SECRET).wait();
    let again: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again["refreshToken"], "rotated", "{again}");
    let (_, _, reauth) = c.login(&stand, &["--reauth", "--json"], SECRET);
    let reauth: Value = serde_json::from_str(&reauth.stdout).unwrap();
    assert_eq!(reauth["refreshToken"], "saved", "{reauth}");
}

#[test]
fn google_without_prompt_consent_gives_no_refresh_token_on_a_new_login_and_the_cli_says_why() {
    let stand = Stand::start("google", &[]);
    let c = connector(&stand, "google", |o| {
        o["authorizationParameters"] = json!({"access_type": "offline"});
    });
    let (_, _, first) = c.login(&stand, &[], SECRET);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(c.account()["refreshToken"].is_string());
    let (_, _, second) = c.login(&stand, &["--reauth", "--json"], SECRET);
    assert_eq!(second.code, 0, "{}", second.all());
    let summary: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_has(field(&summary, "refreshTokenHint"), "prompt=consent");
    // The new grant's answer stands on its own: the first grant's refresh token is not
    // passed off as this one's.
    assert!(c.account().get("refreshToken").is_none(), "{}", c.account());
}

#[test]
fn the_providers_page_lists_every_preset() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/providers.md")).unwrap();
    for p in integration_cli::providers::PROVIDERS
        .iter()
        .filter(|p| p.key != "sandbox")
    {
        assert_has(&readme, &format!("\n| `{}` | ", p.key));
    }
}

/// A preset whose redirectUrl fixes the callback port: the port the connector names stays
/// out of everyone else's reach until the CLI binds it, and the CLI can.
#[test]
fn a_fixed_callback_port_is_held_until_the_cli_takes_it_over() {
    let stand = Stand::start("microsoft", &[]);
    let c = connector(&stand, "microsoft", as_is);
    let port = c.callback.as_ref().expect("microsoft fixes its port").port;
    assert_has(
        c.project.json()["authorizations"][0]["oauth2"]["redirectUrl"]
            .as_str()
            .unwrap(),
        &format!("localhost:{port}/"),
    );
    // A socket that does not share the port (as the OS's own picks never do) is refused it.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    assert!(
        other.bind(([127, 0, 0, 1], port).into()).is_err(),
        "port {port} was free for anyone to take before the CLI bound it"
    );
    drop(other);
    for _ in 0..2 {
        let (_, _, login) = c.login(&stand, &["--reauth"], SECRET);
        assert_eq!(login.code, 0, "{}", login.all());
    }
}

#[test]
fn an_unknown_persona_or_option_is_refused_naming_what_there_is() {
    for (args, says) in [
        (
            vec!["--persona", "gitlab"],
            "possible values: sandbox, github, google",
        ),
        (
            vec!["--persona", "slack", "--persona-option", "expiring"],
            "the slack persona takes rotation (got \"expiring\")",
        ),
        (
            vec!["--persona", "google", "--persona-option", "x"],
            "the google persona takes no options",
        ),
    ] {
        for (command, rest) in [
            ("sandbox", ["--port", "0"]),
            ("demo", ["--headless", "--force"]),
        ] {
            let out = Command::new(BIN)
                .arg(command)
                .args(&args)
                .args(rest)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {args:?}: {stderr}");
            assert_has(&stderr, says);
        }
    }
}

#[test]
fn the_demo_runs_against_every_persona() {
    let dir = tempfile::tempdir().unwrap();
    let here = Project {
        path: dir.path().join(".unito.json"),
        dir,
    };
    for name in integration_cli::sandbox::PERSONAS {
        let folder = here.dir.path().join(name);
        let folder = folder.to_str().unwrap();
        let args = ["demo", "--headless", "--persona", name, "--dir", folder];
        let done = here.oauth2_env(&args, &[]).wait();
        assert_eq!(done.code, 0, "{name}: {}", done.all());
        if name != "sandbox" {
            assert_has(&done.all(), &format!("behaving as {name}"));
        }
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{folder}/.unito.json")).unwrap(),
        )
        .unwrap();
        assert!(
            file["testAccounts"]["development"]["accessToken"].is_string(),
            "{name}"
        );
        assert_eq!(file["authorizations"][0]["name"], name);
    }
}

/// Every persona that gives a refresh token, and how its provider refuses a dead one: the
/// CLI must know each as "log in again" (exit 5 without a browser), not as a broken setup.
#[test]
fn a_dead_refresh_token_is_known_as_one_whatever_the_provider_calls_it() {
    const REFRESHING: &[(&str, &[&str], &str)] = &[
        ("sandbox", &[], "invalid_grant"),
        ("github", &["expiring"], "bad_refresh_token"),
        ("google", &[], "Token has been expired or revoked."),
        ("microsoft", &[], "AADSTS70000"),
        ("slack", &["rotation"], "invalid_refresh_token"),
        ("salesforce", &[], "invalid_grant"),
        ("atlassian", &[], "invalid_grant"),
        ("hubspot", &[], "BAD_REFRESH_TOKEN"),
        ("dropbox", &[], "invalid_grant"),
        ("notion", &[], "invalid_grant"),
        ("x", &[], "invalid_grant"),
    ];
    side_by_side(
        REFRESHING,
        |(p, o, _)| format!("{p} {o:?}"),
        |(persona, options, says)| {
            let stand = Stand::start(persona, options);
            let c = connector(&stand, persona, as_is);
            let (_, _, login) = c.login(&stand, &[], SECRET);
            assert_eq!(login.code, 0, "{}", login.all());
            let mut file = c.project.json();
            let account = &mut file["testAccounts"]["development"];
            account["refreshToken"] = json!("fake-dead-refresh-token-0123456789");
            account["expiresAt"] = json!("2020-01-01T00:00:00Z");
            account["lastRefreshAt"] = json!("2019-12-31T23:00:00Z");
            std::fs::write(
                &c.project.path,
                serde_json::to_string_pretty(&file).unwrap(),
            )
            .unwrap();
            let token = c.run(&["token"], SECRET).wait();
            assert_eq!(token.code, 5, "{}", token.all());
            assert_has(&token.stderr, says);
            assert_has(
                &token.stderr,
                "log in again with: integration-cli oauth2 --reauth",
            );
        },
    );
}

/// Slack with token rotation, a bot and a user token, and the authorization asking for the
/// user's: the login saves the user token from authed_user; a refresh, which Slack answers
/// at the top level, is read from there, again and again.
#[test]
fn a_slack_user_token_chosen_by_token_response_path_refreshes_with_rotation() {
    let stand = Stand::start("slack", &["rotation"]);
    let c = connector(&stand, "slack", |o| {
        o["authorizationParameters"] = json!({"user_scope": "search:read"});
        o["tokenResponsePath"] = json!("authed_user");
    });
    let (_, _, login) = c.login(&stand, &[], SECRET);
    assert_eq!(login.code, 0, "{}", login.all());
    let mut seen = vec![field(&c.account(), "refreshToken").to_string()];
    assert!(field(&c.account(), "accessToken").starts_with("xoxp-"));
    for _ in 0..2 {
        let again = c.run(&["oauth2"], SECRET).wait();
        assert_eq!(again.code, 0, "{}", again.all());
        let account = c.account();
        assert!(
            field(&account, "accessToken").starts_with("xoxp-"),
            "{account}"
        );
        let refresh = field(&account, "refreshToken").to_string();
        assert!(!seen.contains(&refresh), "the refresh token did not rotate");
        seen.push(refresh);
    }
}

#[test]
fn the_providers_page_personas_table_is_the_personas_own_words() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/providers.md")).unwrap();
    let table = integration_cli::sandbox::personas_table();
    assert!(
        readme.contains(&table),
        "docs/providers.md's personas table differs from the personas; paste this:\n\n{table}"
    );
    for entry in integration_cli::sandbox::PERSONA_LIST.iter() {
        for option in entry.options {
            assert_has(&readme, &format!("--persona-option {option}"));
        }
    }
}
