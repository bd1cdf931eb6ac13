//! Which environment variables a project file may send where, through the binary: a pair
//! (variable, token host) is sent only once the user approved it, at a terminal (kept in
//! their configuration folder), with `--allow-env` or `UNITO_ALLOW_ENV`, or because `init`
//! wrote the file. The token host is reached through an HTTP proxy that is the stub, so a
//! test sees exactly what would have left the machine.

mod support;

use std::path::Path;
use std::process::Command;

use integration_cli::approvals::{self, Pair, Store};
use serde_json::{Value, json};
use support::*;

const VAR: &str = "FAKE_JWT_SECRET";
const HOST: &str = "token.fake-provider.test";

/// A client-credentials authorization whose secret is `${FAKE_JWT_SECRET}`, at `token_url`.
fn project(token_url: &str) -> Project {
    Project::new(&json!({
        "name": "fake-connector",
        "authorizations": [{
            "name": "cloned",
            "method": "oauth2",
            "development": true,
            "oauth2": {
                "clientId": CLIENT_ID,
                "clientSecret": format!("${{{VAR}}}"),
                "tokenUrl": token_url,
                "grantType": "client_credentials"
            }
        }],
        "testAccounts": {"development": {}}
    }))
}

/// `oauth2` (a client-credentials token, no browser) with the secret in the environment, the stub as the HTTP proxy, `config` as the
/// user's configuration folder, and `more` on top.
fn run(
    project: &Project,
    stub: &Stub,
    config: &Path,
    args: &[&str],
    more: &[(&str, &str)],
) -> Finished {
    let mut env = vec![
        (VAR, CLIENT_SECRET),
        ("HTTP_PROXY", stub.url.as_str()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
    ];
    env.extend_from_slice(more);
    let all = [&["oauth2"][..], args].concat();
    project.oauth2_env(&all, &env).finish(stub)
}

fn requests(stub: &Stub) -> usize {
    stub.seen(|s| s.token_forms.len())
}

fn approvals_file(config: &Path) -> std::path::PathBuf {
    config.join("integration-cli/approved-env.json")
}

#[test]
fn a_cloned_file_cannot_send_a_secret_variable_to_its_own_token_host() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&format!("http://{HOST}/token"));
    let config = tempfile::tempdir().unwrap();
    let refused = run(&project, &stub, config.path(), &[], &[]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    for says in [
        "would send the environment variable FAKE_JWT_SECRET to token.fake-provider.test",
        ".clientSecret",
        "--allow-env FAKE_JWT_SECRET",
        "UNITO_ALLOW_ENV=FAKE_JWT_SECRET",
        "if you trust .unito.json",
    ] {
        assert_has(&refused.stderr, says);
    }
    assert_eq!(requests(&stub), 0, "nothing was sent");
    // An approval of the same variable for another host is not one for this host.
    Store::for_user(&|k| (k == "XDG_CONFIG_HOME").then(|| config.path().display().to_string()))
        .unwrap()
        .add(
            &[Pair {
                variable: VAR.into(),
                host: "other.fake-provider.test".into(),
            }],
            &project.path,
        )
        .unwrap();
    let still = run(&project, &stub, config.path(), &[], &[]);
    assert_eq!(still.code, 2, "{}", still.all());
    assert_eq!(requests(&stub), 0);
}

#[test]
fn allow_env_and_unito_allow_env_approve_for_one_run_and_keep_nothing() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&format!("http://{HOST}/token"));
    let config = tempfile::tempdir().unwrap();
    let flag = run(&project, &stub, config.path(), &["--allow-env", VAR], &[]);
    assert_eq!(flag.code, 0, "{}", flag.all());
    assert_eq!(requests(&stub), 1);
    let env = run(
        &project,
        &stub,
        config.path(),
        &[],
        &[("UNITO_ALLOW_ENV", "OTHER_SECRET, FAKE_JWT_SECRET")],
    );
    assert_eq!(env.code, 0, "{}", env.all());
    assert!(!approvals_file(config.path()).exists(), "nothing kept");
    // Another name approves nothing for this one.
    let other = run(
        &project,
        &stub,
        config.path(),
        &["--allow-env", "OTHER_SECRET"],
        &[],
    );
    assert_eq!(other.code, 2, "{}", other.all());
}

#[test]
fn the_platform_cli_s_own_override_needs_no_approval() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&format!("http://{HOST}/token"));
    let config = tempfile::tempdir().unwrap();
    let done = run(
        &project,
        &stub,
        config.path(),
        &[],
        &[("UNITO_CLIENT_SECRET", CLIENT_SECRET), (VAR, "fake-unused")],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    assert_eq!(requests(&stub), 1);
}

#[test]
fn an_approval_at_a_terminal_is_kept_in_the_user_s_folder_private_and_asked_once() {
    let stub = Stub::start(Behaviour::default());
    let project = project(&format!("http://{HOST}/token"));
    let config = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(project.dir.path())
        .arg("oauth2")
        .env(VAR, CLIENT_SECRET)
        .env("HTTP_PROXY", &stub.url)
        .env("XDG_CONFIG_HOME", config.path())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb");
    for var in [
        "UNITO_CONFIG",
        "UNITO_CLIENT_SECRET",
        "UNITO_ALLOW_ENV",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    let mut seen = p
        .exp_string("sends the environment variable FAKE_JWT_SECRET")
        .unwrap();
    seen += &p.exp_string("Yes, and remember it").unwrap();
    // The first choice, "No", is the default: move to "Yes" and take it.
    p.send("j").unwrap();
    p.flush().unwrap();
    p.send_line("").unwrap();
    seen += &p.exp_eof().unwrap();
    match p.process().wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 0, "{seen}"),
        other => panic!("{other:?}: {seen}"),
    }
    assert!(!seen.contains(CLIENT_SECRET), "{seen}");
    assert_eq!(requests(&stub), 1);
    let file = approvals_file(config.path());
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(kept["approved"][0]["variable"], VAR);
    assert_eq!(kept["approved"][0]["host"], HOST);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // Kept: a run without a terminal sends it now.
    let again = run(&project, &stub, config.path(), &[], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn a_per_tenant_token_url_is_approved_for_the_host_as_filled_in() {
    let stub = Stub::start(Behaviour::default());
    let mut file = project("http://{+tenant}.fake-provider.test/token").json();
    file["authorizations"][0]["variables"] =
        json!({"tenant": {"type": "string", "label": "Tenant", "required": true}});
    file["testAccounts"]["development"] = json!({"tenant": "acme"});
    let project = Project::new(&file);
    let config = tempfile::tempdir().unwrap();
    Store::at(approvals_file(config.path()))
        .add(
            &[Pair {
                variable: VAR.into(),
                host: "acme.fake-provider.test".into(),
            }],
            &project.path,
        )
        .unwrap();
    let acme = run(&project, &stub, config.path(), &[], &[]);
    assert_eq!(acme.code, 0, "{}", acme.all());
    let mut file = project.json();
    file["testAccounts"]["development"] = json!({"tenant": "evil"});
    std::fs::write(&project.path, file.to_string()).unwrap();
    let evil = run(&project, &stub, config.path(), &[], &[]);
    assert_eq!(evil.code, 2, "{}", evil.all());
    assert_has(&evil.stderr, "to evil.fake-provider.test");
    assert_eq!(requests(&stub), 1);
}

#[test]
fn jwt_private_key_from_the_environment_needs_the_same_approval() {
    let stub = Stub::start(Behaviour::default());
    let mut file = project(&format!("http://{HOST}/token")).json();
    let oauth2 = &mut file["authorizations"][0]["oauth2"];
    oauth2["grantType"] = json!("urn:ietf:params:oauth:grant-type:jwt-bearer");
    oauth2.as_object_mut().unwrap().remove("clientSecret");
    oauth2["jwt"] = json!({"issuer": "fake-issuer", "privateKey": "${FAKE_SERVICE_PRIVATE_KEY}"});
    let project = Project::new(&file);
    let config = tempfile::tempdir().unwrap();
    let key = [("FAKE_SERVICE_PRIVATE_KEY", "fake-not-a-pem-key")];
    let refused = run(&project, &stub, config.path(), &[], &key);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert_has(
        &refused.stderr,
        "jwt.privateKey would send the environment variable FAKE_SERVICE_PRIVATE_KEY to token.fake-provider.test",
    );
    // Approved, the run goes on to read the key (which is no key at all here).
    let allowed = run(
        &project,
        &stub,
        config.path(),
        &["--allow-env", "FAKE_SERVICE_PRIVATE_KEY"],
        &key,
    );
    assert_has(&allowed.stderr, "not a RS256 private key");
    assert!(
        !allowed.stderr.contains("not approved"),
        "{}",
        allowed.stderr
    );
}

/// `init ARGS` in `dir`, with `config` as the user's configuration folder.
fn init(dir: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("init")
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("UNITO_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn the_files_init_writes_are_approved_as_written_so_the_first_run_asks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let out = init(
        dir.path(),
        config.path(),
        &[
            "--preset",
            "zendesk",
            "--client-id",
            "fake-id",
            "--var",
            "subdomain=acme",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = Store::at(approvals_file(config.path()));
    let pair = |host: &str| Pair {
        variable: "ZENDESK_CLIENT_SECRET".into(),
        host: host.into(),
    };
    assert!(kept.holds(&pair("acme.zendesk.com")).unwrap());
    assert!(!kept.holds(&pair("evil.zendesk.com")).unwrap());
    // The login starts with what init wrote; with another folder, it is refused.
    let login = |config: &Path| {
        let out = Command::new(BIN)
            .args(["oauth2", "--no-browser", "--port", "0", "--timeout", "1"])
            .current_dir(dir.path())
            .env("XDG_CONFIG_HOME", config)
            .env("ZENDESK_CLIENT_SECRET", "fake-secret")
            .env_remove("UNITO_CONFIG")
            .env_remove("UNITO_ALLOW_ENV")
            .env_remove("UNITO_CLIENT_SECRET")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_has(
        &login(config.path()),
        "https://acme.zendesk.com/oauth/authorizations/new?",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    assert_has(
        &login(elsewhere.path()),
        "would send the environment variable ZENDESK_CLIENT_SECRET to acme.zendesk.com",
    );
}

#[test]
fn loopback_hosts_and_unset_variables_need_no_approval() {
    for url in [
        "http://127.0.0.1:9/t",
        "http://localhost:9/t",
        "http://[::1]:9/t",
    ] {
        assert_eq!(approvals::host_of(url), None, "{url}");
    }
    assert_eq!(
        approvals::host_of("https://Acme.Zendesk.com/oauth/tokens").as_deref(),
        Some("acme.zendesk.com")
    );
}

#[test]
fn a_store_it_cannot_read_is_said_and_not_overwritten() {
    let config = tempfile::tempdir().unwrap();
    let file = approvals_file(config.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "not json").unwrap();
    let store = Store::at(file.clone());
    let pair = Pair {
        variable: VAR.into(),
        host: HOST.into(),
    };
    let e = store.holds(&pair).unwrap_err();
    assert!(e.to_string().contains("cannot be read"), "{e}");
    assert!(store.add(&[pair], Path::new(".unito.json")).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not json");
}

/// `credentials --decode ARGS` with `value` on stdin, as a pipe gives it.
fn decode(args: &[&str], value: &str) -> Finished {
    let project = Project::new(&json!({"name": "fake-connector", "authorizations": []}));
    let input = project.dir.path().join("captured");
    std::fs::write(&input, value).unwrap();
    let all = [&["credentials"][..], args].concat();
    project
        .oauth2_with(&all, &[], |cmd| {
            cmd.stdin(std::fs::File::open(&input).unwrap());
        })
        .wait()
}

#[test]
fn decode_reads_the_value_from_stdin_and_masks_credentials_by_their_shape() {
    let captured = json!({
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.ZmFrZS1zaWduYXR1cmUtdmFsdWU",
        "authorization": "Bearer fake-bearer-in-authorization",
        "instance_url": "https://x.example/cb?access_token=fake-token-in-url",
        "accountName": "acme",
    });
    let value =
        integration_cli::credentials::encode("development", captured.as_object().unwrap()).unwrap();
    let secrets = [
        "ZmFrZS1zaWduYXR1cmUtdmFsdWU",
        "fake-bearer-in-authorization",
        "fake-token-in-url",
    ];
    for args in [&["--decode"][..], &["--decode", "-"]] {
        let piped = decode(args, &format!("{value}\n"));
        assert_eq!(piped.code, 0, "{}", piped.all());
        assert_no_secrets(&piped.all(), &secrets.map(String::from));
        let shown: Value = serde_json::from_str(&piped.stdout).unwrap();
        assert_eq!(shown["accountName"], "acme");
        assert!(!piped.stderr.contains("process list"), "{}", piped.stderr);
    }
    let all = decode(&["--decode", "--show-all"], &value);
    assert_eq!(all.code, 0, "{}", all.all());
    let shown: Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(shown, captured, "--show-all shows every value as it is");
    // The argument form still works, and says where the value can be seen.
    let argument = decode(&["--decode", &value], "");
    assert_eq!(argument.code, 0, "{}", argument.all());
    assert_has(&argument.stderr, "process list");
    assert_has(&argument.stderr, "| integration-cli credentials --decode");
}
