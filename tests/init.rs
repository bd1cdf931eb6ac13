//! `integration-cli init`: presets with real endpoints, flags when nobody can be asked,
//! prompts when someone can, never an overwrite without --force, never a secret in the file.

mod support;

use std::process::Command;

use integration_cli::config::GrantType;
use integration_cli::init::{InitOptions, PresetChoice, run};
use serde_json::{Value, json};
use support::fakes::FakeTerminal;
use support::*;

fn init(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("init")
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".config-home"))
        .env_remove("UNITO_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn written(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(".unito.json")).unwrap()).unwrap()
}

#[test]
fn each_preset_writes_its_providers_real_endpoints_and_a_secret_reference() {
    for (preset, auth_url, token_url) in [
        (
            "github",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
        ),
        (
            "google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
        ),
        (
            "microsoft",
            "https://login.microsoftonline.com/{+tenant}/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/{+tenant}/oauth2/v2.0/token",
        ),
        (
            "atlassian",
            "https://auth.atlassian.com/authorize",
            "https://auth.atlassian.com/oauth/token",
        ),
        (
            "slack",
            "https://slack.com/oauth/v2/authorize",
            "https://slack.com/api/oauth.v2.access",
        ),
        (
            "salesforce",
            "https://login.salesforce.com/services/oauth2/authorize",
            "https://login.salesforce.com/services/oauth2/token",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = init(
            dir.path(),
            &["--preset", preset, "--client-id", "fake-client-id"],
        );
        assert_eq!(code, 0, "{preset}: {stdout}{stderr}");
        let file = written(dir.path());
        let oauth2 = &file["authorizations"][0]["oauth2"];
        assert_eq!(oauth2["authorizationUrl"], auth_url, "{preset}");
        assert_eq!(oauth2["tokenUrl"], token_url, "{preset}");
        assert_eq!(oauth2["clientId"], "fake-client-id");
        let env = format!("{}_CLIENT_SECRET", preset.to_uppercase());
        assert_eq!(oauth2["clientSecret"], format!("${{{env}}}"), "{preset}");
        assert_has(&stdout, &format!("export {env}=<your secret>"));
        assert_eq!(file["authorizations"][0]["name"], preset);
        assert_eq!(
            file["testAccounts"],
            json!({"development": {}, "compliance": {}})
        );
    }
}

#[test]
fn provider_quirks_come_with_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &["--preset", "google", "--client-id", "x"]);
    let oauth2 = written(dir.path())["authorizations"][0]["oauth2"].clone();
    assert_eq!(
        oauth2["authorizationParameters"],
        json!({"access_type": "offline", "prompt": "consent"})
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, stdout, _) = init(dir.path(), &["--preset", "slack", "--client-id", "x"]);
    assert_eq!(
        written(dir.path())["authorizations"][0]["oauth2"]["tunnel"],
        true
    );
    assert_has(&stdout, "Slack accepts only HTTPS redirect URLs");
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &["--preset", "microsoft", "--client-id", "x"]);
    assert_eq!(
        written(dir.path())["authorizations"][0]["oauth2"]["redirectUrl"],
        "http://localhost:9002/callback"
    );
}

#[test]
fn the_written_file_is_one_oauth2_understands() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(
        dir.path(),
        &[
            "--preset",
            "custom",
            "--connector",
            "fake-crm",
            "--client-id",
            "fake-client-id",
            "--authorization-url",
            "https://p.example/auth",
            "--token-url",
            "https://p.example/token",
            "--scopes",
            "read write",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let file = written(dir.path());
    assert_eq!(
        file["authorizations"][0]["oauth2"]["scopes"],
        json!([{"name": "read"}, {"name": "write"}])
    );
    let oauth2 = |secret: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["oauth2", "--no-browser", "--port", "0", "--timeout", "1"])
            .current_dir(dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join(".config-home"))
            .env_remove("UNITO_CONFIG")
            .env_remove("FAKE_CRM_CLIENT_SECRET");
        if let Some(s) = secret {
            cmd.env("FAKE_CRM_CLIENT_SECRET", s);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stderr).into_owned()
    };
    // Without the variable init named, the run says which one to set.
    assert_has(&oauth2(None), "FAKE_CRM_CLIENT_SECRET");
    // With it, the login starts with what init wrote.
    let stderr = oauth2(Some("fake-secret"));
    assert_has(
        &stderr,
        "https://p.example/auth?response_type=code&client_id=fake-client-id",
    );
    assert_has(&stderr, "scope=read+write");
}

#[test]
fn an_existing_file_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".unito.json"), "{\"mine\": true}").unwrap();
    let (code, _, stderr) = init(dir.path(), &["--preset", "github", "--client-id", "x"]);
    assert_eq!(code, 1);
    assert_has(&stderr, ".unito.json already exists");
    assert_has(&stderr, "--force");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".unito.json")).unwrap(),
        "{\"mine\": true}"
    );
    let (code, _, _) = init(
        dir.path(),
        &["--preset", "github", "--client-id", "x", "--force"],
    );
    assert_eq!(code, 0);
    assert_eq!(written(dir.path())["authorizations"][0]["name"], "github");
}

#[test]
fn a_gitignore_beside_it_gets_the_file_once_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "target/").unwrap();
    let (code, stdout, _) = init(dir.path(), &["--preset", "github", "--client-id", "x"]);
    assert_eq!(code, 0);
    assert_has(
        &stdout,
        "Added .unito.json, .unito.json.lock and .unito.json.recovery-* to",
    );
    let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert!(ignore.starts_with("target/\n"), "{ignore}");
    assert_has(
        &ignore,
        "\n.unito.json\n.unito.json.lock\n.unito.json.recovery-*\n",
    );
    init(
        dir.path(),
        &["--preset", "github", "--client-id", "x", "--force"],
    );
    let again = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert_eq!(again, ignore, "added twice");

    let bare = tempfile::tempdir().unwrap();
    let (_, stdout, _) = init(bare.path(), &["--preset", "github", "--client-id", "x"]);
    assert_has(&stdout, "There is no .gitignore here");
    assert!(!bare.path().join(".gitignore").exists());
}

#[test]
fn in_a_git_repository_without_a_gitignore_one_is_made_with_the_entries() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let project = repo.path().join("connector");
    std::fs::create_dir(&project).unwrap();
    let (code, stdout, _) = init(&project, &["--preset", "github", "--client-id", "x"]);
    assert_eq!(code, 0);
    assert_has(&stdout, "Created ");
    assert_has(
        &stdout,
        ".gitignore with .unito.json, .unito.json.lock and .unito.json.recovery-*",
    );
    let ignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert_eq!(
        ignore,
        "# integration-cli: test account tokens\n.unito.json\n.unito.json.lock\n\
         .unito.json.recovery-*\n"
    );
    assert!(!repo.path().join(".gitignore").exists());
}

#[test]
fn without_a_terminal_missing_values_are_named_as_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_has(
        &stderr,
        "without a terminal to ask, these are needed: --client-id, --authorization-url, --token-url",
    );
    assert!(!dir.path().join(".unito.json").exists());
    let (code, _, stderr) = init(dir.path(), &["--preset", "nope", "--client-id", "x"]);
    assert_eq!(code, 2);
    assert_has(&stderr, "invalid value 'nope' for '--preset <NAME>'");
    assert_has(&stderr, "github, google, microsoft");
    let (code, _, stderr) = init(
        dir.path(),
        &[
            "--client-id",
            "x",
            "--authorization-url",
            "p.example/auth",
            "--token-url",
            "https://p.example/token",
        ],
    );
    assert_eq!(code, 2);
    assert_has(&stderr, "\"p.example/auth\" is not an http(s) URL");
}

#[test]
fn a_grant_type_init_does_not_write_is_refused_naming_the_ones_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(
        dir.path(),
        &["--grant-type", " implicit ", "--client-id", "x"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: grant type \"implicit\" is not one integration-cli handles (authorization_code, \
         client_credentials, password, urn:ietf:params:oauth:grant-type:jwt-bearer)"
    );
    assert!(!dir.path().join(".unito.json").exists());
}

#[test]
fn client_credentials_needs_no_authorization_url() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(
        dir.path(),
        &[
            "--grant-type",
            "client_credentials",
            "--client-id",
            "x",
            "--token-url",
            "https://p.example/token",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let oauth2 = written(dir.path())["authorizations"][0]["oauth2"].clone();
    assert!(oauth2.get("authorizationUrl").is_none());
    assert_eq!(oauth2["grantType"], "client_credentials");
}

#[test]
fn at_a_terminal_it_asks_with_the_presets_answers_as_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".unito.json");
    let terminal = FakeTerminal {
        interactive: true,
        choice: 0, // GitHub
        ..FakeTerminal::default()
    };
    // Connector name, authorization name: Enter (the grant type is a list choice, the
    // first); then the client id, then a token URL typed wrong, then Enter for the preset's.
    terminal.answers.lock().unwrap().extend(
        ["", "", "fake-typed-client-id", "", "", "not a url", ""]
            .iter()
            .map(|s| s.to_string()),
    );
    run(
        &InitOptions {
            config: config.clone(),
            ..InitOptions::default()
        },
        &terminal,
        &no_metadata,
    )
    .unwrap();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let oauth2 = &file["authorizations"][0]["oauth2"];
    assert_eq!(oauth2["clientId"], "fake-typed-client-id");
    assert_eq!(
        oauth2["tokenUrl"],
        "https://github.com/login/oauth/access_token"
    );
    let prompts = terminal.prompts.lock().unwrap();
    assert_eq!(prompts[0].0, "Which provider?");
    assert!(prompts.iter().any(|(p, _)| p == "Grant type"));
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(&said, "warning: \"not a url\" is not an http(s) URL");
    assert!(prompts.iter().any(|(p, d)| p == "Token URL"
        && d.first().map(String::as_str) == Some("https://github.com/login/oauth/access_token")));
}

#[test]
fn a_secret_variable_the_oauth2_command_would_not_expand_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--preset", "github", "--client-id", "Iv1.fake"];
    let (code, _, stderr) = init(
        dir.path(),
        &[&args[..], &["--client-secret-env", "GITHUB_TOKEN"]].concat(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_has(&stderr, "GITHUB_TOKEN would not be expanded");
    assert!(!dir.path().join(".unito.json").exists());
    let (code, _, stderr) = init(
        dir.path(),
        &[&args[..], &["--client-secret-env", "MY_GH_SECRET"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        written(dir.path())["authorizations"][0]["oauth2"]["clientSecret"],
        "${MY_GH_SECRET}"
    );
}

#[test]
fn the_connector_name_is_one_the_platform_accepts() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("My.Connector");
    std::fs::create_dir(&dir).unwrap();
    let args = ["--preset", "github", "--client-id", "Iv1.fake"];
    let (code, _, stderr) = init(&dir, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(written(&dir)["name"], "my-connector");
    let (code, _, stderr) = init(
        &dir,
        &[&args[..], &["--force", "--connector", "My.Connector"]].concat(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_has(&stderr, "^[a-z0-9_-]+$");
    assert_has(&stderr, "such as \"my-connector\"");
    assert_eq!(written(&dir)["name"], "my-connector", "left as it was");
}

#[test]
fn every_grant_the_platform_supports_can_be_written_and_jwt_bearer_gets_its_jwt_object() {
    for (grant, has_secret) in [
        ("password", true),
        ("urn:ietf:params:oauth:grant-type:jwt-bearer", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
        let (code, stdout, stderr) = init(
            dir.path(),
            &[
                "--grant-type",
                grant,
                "--client-id",
                "fake-service@example.test",
                "--token-url",
                "https://p.example/token",
            ],
        );
        assert_eq!(code, 0, "{grant}: {stderr}");
        let oauth2 = written(dir.path())["authorizations"][0]["oauth2"].clone();
        assert_eq!(oauth2["grantType"], grant);
        assert!(oauth2.get("authorizationUrl").is_none());
        assert_eq!(oauth2.get("clientSecret").is_some(), has_secret, "{oauth2}");
        let ignored = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(
            ignored.lines().any(|l| l == "private-key.pem"),
            !has_secret,
            "the signing key is kept out of git: {ignored}"
        );
        assert_eq!(
            stdout.contains("client secret is read from"),
            has_secret,
            "{stdout}"
        );
        if !has_secret {
            assert_eq!(oauth2["jwt"]["privateKeyFile"], "private-key.pem");
            assert_eq!(oauth2["jwt"]["algorithm"], "RS256");
            assert_eq!(oauth2["jwt"]["issuer"], "fake-service@example.test");
        }
    }
}

/// A per-tenant preset writes the platform's templates and the variable they need; without
/// a terminal it says what the first login will ask for, and `--var` gives it at once.
#[test]
fn a_per_tenant_preset_writes_templates_and_says_what_the_first_login_asks() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = init(
        dir.path(),
        &["--preset", "zendesk", "--client-id", "fake-id"],
    );
    assert_eq!(code, 0, "{stderr}");
    let file = written(dir.path());
    let authorization = &file["authorizations"][0];
    assert_eq!(
        authorization["oauth2"]["tokenUrl"],
        "https://{+subdomain}.zendesk.com/oauth/tokens"
    );
    assert_eq!(authorization["variables"]["subdomain"]["required"], true);
    assert_eq!(
        authorization["oauth2"]["requestContentType"],
        "application/json"
    );
    assert_eq!(file["testAccounts"]["development"], json!({}));
    assert_has(
        &stdout,
        "The first login asks for: Zendesk subdomain (subdomain); or give it now: integration-cli oauth2 --var subdomain=VALUE",
    );

    let (code, stdout, stderr) = init(
        dir.path(),
        &[
            "--preset",
            "okta",
            "--client-id",
            "fake-id",
            "--var",
            "domain=dev-1.okta.com",
            "--force",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let file = written(dir.path());
    assert_eq!(
        file["testAccounts"]["development"],
        json!({"domain": "dev-1.okta.com"})
    );
    // The server id has a default: nothing left to ask.
    assert!(!stdout.contains("The first login asks"), "{stdout}");

    let before = std::fs::read_to_string(dir.path().join(".unito.json")).unwrap();
    for var in ["domain=https://dev-1.okta.com", "nosuch=x"] {
        let (code, _, stderr) = init(
            dir.path(),
            &[
                "--preset",
                "okta",
                "--client-id",
                "fake-id",
                "--var",
                var,
                "--force",
            ],
        );
        assert_eq!(code, 2, "{var}: {stderr}");
        assert_has(&stderr, "--var");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".unito.json")).unwrap(),
        before,
        "a refused value writes nothing"
    );
}

/// `custom` takes templated URLs too, checked as the commands will check them.
#[test]
fn custom_urls_may_be_templates_that_start_with_their_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(
        dir.path(),
        &[
            "--preset",
            "custom",
            "--client-id",
            "fake-id",
            "--authorization-url",
            "https://{+tenant}.idp.example/authorize",
            "--token-url",
            "https://{+tenant}.idp.example/token",
            "--var",
            "tenant=acme",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        written(dir.path())["testAccounts"]["development"]["tenant"],
        "acme"
    );
    let (code, _, stderr) = init(
        dir.path(),
        &[
            "--preset",
            "custom",
            "--client-id",
            "fake-id",
            "--authorization-url",
            "{+base}/authorize",
            "--token-url",
            "https://idp.example/token",
            "--force",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_has(&stderr, "must start with its scheme");
}

/// At a terminal, `init` asks for a per-tenant preset's variables as the first login would,
/// checked as declared, and writes the answers into the development test account.
#[test]
fn at_a_terminal_init_asks_for_the_tenant_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".unito.json");
    let terminal = FakeTerminal {
        interactive: true,
        ..FakeTerminal::default()
    };
    // Connector, authorization, client id, secret variable, both URLs and the scopes: the
    // defaults, but for the client id; then a subdomain typed wrong, then right.
    terminal.answers.lock().unwrap().extend(
        [
            "",
            "",
            "fake-client-id",
            "",
            "",
            "",
            "",
            "acme.zendesk.com",
            "acme",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    run(
        &InitOptions {
            config: config.clone(),
            preset: PresetChoice::named("zendesk"),
            ..InitOptions::default()
        },
        &terminal,
        &no_metadata,
    )
    .unwrap();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        file["testAccounts"]["development"],
        json!({"subdomain": "acme"})
    );
    let prompts = terminal.prompts.lock().unwrap();
    let asked: Vec<&str> = prompts
        .iter()
        .filter(|(p, _)| p.starts_with("Zendesk subdomain"))
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(asked, ["Zendesk subdomain (e.g. acme)"; 2]);
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(&said, "Zendesk subdomain does not match the pattern");
    assert_has(&said, "The part before .zendesk.com");
    let results = terminal.results.lock().unwrap().join("\n");
    assert!(!results.contains("The first login asks"), "{results}");
}

#[test]
fn what_init_says_next_is_what_each_provider_needs_once() {
    let custom = tempfile::tempdir().unwrap();
    let (code, stdout, _) = init(
        custom.path(),
        &[
            "--preset",
            "custom",
            "--client-id",
            "x",
            "--authorization-url",
            "https://p.example/auth",
            "--token-url",
            "https://p.example/token",
        ],
    );
    assert_eq!(code, 0);
    assert_has(
        &stdout,
        "Register http://127.0.0.1:9002/callback as the redirect URI (callback URL)",
    );

    let sandbox = tempfile::tempdir().unwrap();
    let (_, stdout, _) = init(sandbox.path(), &["--preset", "sandbox"]);
    assert_eq!(
        stdout.matches("SANDBOX_CLIENT_SECRET").count(),
        2,
        "{stdout}"
    );
    assert_has(
        &stdout,
        "export SANDBOX_CLIENT_SECRET=sandbox-secret-not-a-real-secret",
    );
    assert_eq!(
        stdout.matches("integration-cli sandbox").count(),
        1,
        "{stdout}"
    );
    assert!(
        !stdout.contains("Register "),
        "a preset says its own: {stdout}"
    );

    let slack = tempfile::tempdir().unwrap();
    let (_, stdout, _) = init(slack.path(), &["--preset", "slack", "--client-id", "x"]);
    assert_has(&stdout, "export NGROK_AUTHTOKEN");

    let bare = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(bare.path(), &[]);
    assert_eq!(code, 2);
    assert_has(
        &stderr,
        "or start from a provider's preset, which knows its URLs: --preset github",
    );
}

/// For runs that name no issuer: reading metadata would be a mistake.
fn no_metadata(
    issuer: &str,
) -> integration_cli::error::Result<integration_cli::metadata::Metadata> {
    panic!("no metadata should be read, yet {issuer} was asked for")
}

#[test]
fn issuer_reads_the_providers_metadata_and_the_first_login_works_with_it() {
    let sandbox = support::connector::sandbox(std::time::Duration::from_secs(3600));
    let dir = tempfile::tempdir().unwrap();
    // A trailing slash the issuer does not have is tried without.
    let issuer = format!("{}/", sandbox.url);
    let (code, stdout, stderr) = init(
        dir.path(),
        &[
            "--issuer",
            &issuer,
            "--client-id",
            "sandbox-client",
            "--connector",
            "fake-crm",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let file = written(dir.path());
    let oauth2 = &file["authorizations"][0]["oauth2"];
    assert_eq!(
        oauth2["authorizationUrl"],
        format!("{}/authorize", sandbox.url)
    );
    assert_eq!(oauth2["tokenUrl"], format!("{}/token", sandbox.url));
    assert_eq!(oauth2["issuer"], sandbox.url.as_str());
    // Basic is listed: the default, so nothing is written.
    assert!(oauth2.get("tokenEndpointAuthMethod").is_none(), "{oauth2}");
    assert_has(&stdout, "Register http://127.0.0.1:9002/callback");

    let mut cmd = Command::new(BIN);
    cmd.args(["oauth2", "--no-browser", "--port", "0"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join(".config-home"))
        .env(
            "FAKE_CRM_CLIENT_SECRET",
            integration_cli::sandbox::CLIENT_SECRET,
        )
        .env_remove("UNITO_CONFIG")
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let login = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map(Result::unwrap)
        .find(|l| l.contains("/authorize?"))
        .expect("the login URL");
    approve_at_sandbox(&sandbox.url, login.trim());
    assert!(child.wait().unwrap().success());
    assert!(written(dir.path())["testAccounts"]["development"]["accessToken"].is_string());
}

#[test]
fn an_issuer_that_publishes_no_metadata_is_written_from_its_preset() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = init(
        dir.path(),
        &["--issuer", "https://github.com/", "--client-id", "fake-id"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let oauth2 = &written(dir.path())["authorizations"][0]["oauth2"];
    assert_eq!(
        oauth2["authorizationUrl"],
        "https://github.com/login/oauth/authorize"
    );
    assert_eq!(
        oauth2["tokenUrl"],
        "https://github.com/login/oauth/access_token"
    );
    assert!(oauth2.get("issuer").is_none(), "{oauth2}");
    assert_has(
        &format!("{stdout}{stderr}"),
        "GitHub publishes no OAuth metadata: the github preset's endpoints are written instead",
    );
}

#[test]
fn microsofts_issuer_fills_the_tenant_of_its_per_tenant_preset() {
    for (issuer, tenant) in [
        (
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            Some("contoso.onmicrosoft.com"),
        ),
        ("https://login.microsoftonline.com/common/v2.0", None),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join(".unito.json");
        let (written_, _) = run(
            &InitOptions {
                config: config.clone(),
                issuer: Some(issuer.into()),
                client_id: Some("fake-id".into()),
                ..InitOptions::default()
            },
            &FakeTerminal::default(),
            &no_metadata,
        )
        .unwrap();
        assert_eq!(written_.preset.map(|p| p.key), Some("microsoft"));
        assert_has(&written_.notes.join("\n"), "{tenantid} placeholder");
        let file = written(dir.path());
        let authorization = &file["authorizations"][0];
        assert_eq!(
            authorization["oauth2"]["tokenUrl"],
            "https://login.microsoftonline.com/{+tenant}/oauth2/v2.0/token"
        );
        assert_eq!(
            authorization["variables"]["tenant"]["defaultValue"],
            "common"
        );
        let development = &file["testAccounts"]["development"];
        assert_eq!(
            development.get("tenant").and_then(Value::as_str),
            tenant,
            "{issuer}"
        );
    }
}

#[test]
fn metadata_for_another_issuer_is_refused_and_nothing_is_written() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = json!({"issuer": "http://127.0.0.1:1", "token_endpoint": "http://127.0.0.1:1/t"})
        .to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let served = std::thread::spawn(move || {
        use std::io::{Read, Write};
        // Every request init makes, until it has exited; stopped after 10 s whatever comes.
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut served = 0;
        while std::time::Instant::now() < deadline {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                // Init has exited: what is left in the backlog is all it asked.
                match listener.accept() {
                    Ok(_) => served += 1,
                    Err(_) => break,
                }
                continue;
            }
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            };
            served += 1;
            s.set_nonblocking(false).unwrap();
            let _ = s.read(&mut [0u8; 4096]);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
        served
    });
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = init(dir.path(), &["--issuer", &url, "--client-id", "x"]);
    assert_eq!(code, 1, "{stderr}");
    assert_has(
        &stderr,
        &format!("the metadata of issuer {url} cannot be used: "),
    );
    assert_has(&stderr, "it names the issuer http://127.0.0.1:1, not");
    assert_has(&stderr, "nothing was written");
    assert!(!dir.path().join(".unito.json").exists());
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    // Both well-known places, once each: the issuer's two spellings share them.
    assert_eq!(served.join().unwrap(), 2);
}

#[test]
fn at_a_terminal_the_issuer_is_a_choice_and_its_metadata_sets_what_it_lists() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".unito.json");
    let terminal = FakeTerminal {
        interactive: true,
        // After the presets: "from its issuer URL".
        choice: integration_cli::init::PRESETS.len(),
        ..FakeTerminal::default()
    };
    // The issuer, then Enter for every default (connector, name, client id typed).
    terminal.answers.lock().unwrap().extend(
        [
            "https://login.example.test",
            "fake-crm",
            "",
            "fake-id",
            "",
            "",
            "",
            "",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let discover = |issuer: &str| {
        assert_eq!(issuer, "https://login.example.test");
        Ok(integration_cli::metadata::Metadata {
            issuer: issuer.into(),
            authorization_endpoint: Some(format!("{issuer}/authorize")),
            token_endpoint: format!("{issuer}/token"),
            revocation_endpoint: Some(format!("{issuer}/revoke")),
            scopes_supported: Some(vec!["openid".into(), "offline_access".into(), "x".into()]),
            token_endpoint_auth_methods_supported: Some(vec!["client_secret_post".into()]),
            code_challenge_methods_supported: Some(vec!["plain".into()]),
        })
    };
    let (written, _) = run(
        &InitOptions {
            config: config.clone(),
            // The fake terminal gives one choice to every list: the grant's is not asked.
            grant_type: Some(GrantType::AuthorizationCode),
            ..InitOptions::default()
        },
        &terminal,
        &discover,
    )
    .unwrap();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let oauth2 = &file["authorizations"][0]["oauth2"];
    assert_eq!(oauth2["tokenUrl"], "https://login.example.test/token");
    assert_eq!(oauth2["issuer"], "https://login.example.test");
    assert_eq!(oauth2["tokenEndpointAuthMethod"], "client_secret_post");
    assert_eq!(oauth2["revocationUrl"], "https://login.example.test/revoke");
    assert_eq!(
        oauth2["scopes"],
        json!([{"name": "openid"}, {"name": "offline_access"}])
    );
    assert_has(&written.notes.join("\n"), "does not list S256");
}
