//! `integration-cli init`: a first `.unito.json` from `templates/unito.json.tmpl`, with the
//! real endpoints of common providers as presets. Values come from flags, or from prompts
//! when someone is at the terminal. The client secret is never written: the file gets a
//! `${VAR}` reference, read from the environment at run time.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::ui::Terminal;

const TEMPLATE: &str = include_str!("../templates/unito.json.tmpl");

/// A provider's real endpoints and the settings its docs ask for.
pub struct Preset {
    pub key: &'static str,
    pub title: &'static str,
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub scopes: &'static [&'static str],
    pub authorization_parameters: &'static [(&'static str, &'static str)],
    /// For providers that want an exact, registered loopback URL rather than any port.
    pub redirect_url: Option<&'static str>,
    /// For providers that accept only HTTPS redirect URLs.
    pub tunnel: bool,
    /// What to register with the provider, in a sentence.
    pub note: &'static str,
    /// A client id everyone shares (the sandbox's); real providers issue one per app.
    pub client_id: Option<&'static str>,
}

pub const PRESETS: &[Preset] = &[
    Preset {
        key: "github",
        title: "GitHub (OAuth app)",
        authorization_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        scopes: &["repo", "read:user"],
        authorization_parameters: &[],
        redirect_url: None,
        tunnel: false,
        note: "register http://127.0.0.1:9002/callback as the callback URL (GitHub accepts any port on loopback)",
        client_id: None,
    },
    Preset {
        key: "google",
        title: "Google",
        authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        scopes: &["openid", "email", "profile"],
        authorization_parameters: &[("access_type", "offline"), ("prompt", "consent")],
        redirect_url: None,
        tunnel: false,
        note: "create a Desktop app OAuth client (loopback redirects on any port are allowed)",
        client_id: None,
    },
    Preset {
        key: "microsoft",
        title: "Microsoft identity platform",
        authorization_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scopes: &["offline_access", "User.Read"],
        authorization_parameters: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URI of the app registration",
        client_id: None,
    },
    Preset {
        key: "atlassian",
        title: "Atlassian (Jira, Confluence)",
        authorization_url: "https://auth.atlassian.com/authorize",
        token_url: "https://auth.atlassian.com/oauth/token",
        scopes: &["read:jira-work", "read:jira-user", "offline_access"],
        authorization_parameters: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "set the app's callback URL to http://localhost:9002/callback",
        client_id: None,
    },
    Preset {
        key: "slack",
        title: "Slack",
        authorization_url: "https://slack.com/oauth/v2/authorize",
        token_url: "https://slack.com/api/oauth.v2.access",
        scopes: &["channels:read", "chat:write"],
        authorization_parameters: &[],
        redirect_url: None,
        tunnel: true,
        note: "Slack accepts only HTTPS redirect URLs: reserve an ngrok domain, set NGROK_DOMAIN, and register https://<domain>/callback",
        client_id: None,
    },
    Preset {
        key: "salesforce",
        title: "Salesforce",
        authorization_url: "https://login.salesforce.com/services/oauth2/authorize",
        token_url: "https://login.salesforce.com/services/oauth2/token",
        scopes: &["api", "refresh_token"],
        authorization_parameters: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "set the connected app's callback URL to http://localhost:9002/callback",
        client_id: None,
    },
    Preset {
        key: "sandbox",
        title: "integration-cli's own sandbox (run: integration-cli sandbox)",
        authorization_url: "http://127.0.0.1:9010/authorize",
        token_url: "http://127.0.0.1:9010/token",
        scopes: &["read", "profile"],
        authorization_parameters: &[],
        redirect_url: None,
        tunnel: false,
        client_id: Some("sandbox-client"),
        note: "start it with `integration-cli sandbox`; client id sandbox-client, and export SANDBOX_CLIENT_SECRET=sandbox-secret-not-a-real-secret",
    },
];

/// What the user said on the command line; anything missing is asked, or is an error when
/// nobody can answer.
#[derive(Debug, Default)]
pub struct InitOptions {
    pub config: PathBuf,
    pub preset: Option<String>,
    pub connector: Option<String>,
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub grant_type: Option<String>,
    pub scopes: Option<String>,
    pub force: bool,
}

pub fn run(opts: &InitOptions, term: &dyn Terminal) -> Result<()> {
    if opts.config.exists() && !opts.force {
        return Err(Error::InitWouldOverwrite {
            path: opts.config.clone(),
        });
    }
    let mut ask = Asker {
        term,
        missing: Vec::new(),
    };

    let preset = match &opts.preset {
        Some(key) if key == "custom" => None,
        Some(key) => Some(
            PRESETS
                .iter()
                .find(|p| p.key == key.as_str())
                .ok_or_else(|| Error::InitUnknownPreset {
                    preset: key.clone(),
                })?,
        ),
        None if term.interactive() => {
            let mut items: Vec<String> = PRESETS.iter().map(|p| p.title.to_string()).collect();
            items.push("Another provider (enter its URLs)".into());
            let i = term.choose("Which provider?", &items)?;
            PRESETS.get(i)
        }
        None => None,
    };
    let dir_name = opts
        .config
        .canonicalize()
        .ok()
        .or_else(|| std::env::current_dir().ok())
        .and_then(|p| {
            let p = if p.is_file() {
                p.parent()?.to_path_buf()
            } else {
                p
            };
            p.file_name().map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "my-connector".into());
    let connector = ask.value(
        &opts.connector,
        "--connector",
        "Connector name",
        Some(&dir_name),
    )?;
    let name = ask.value(
        &opts.name,
        "--name",
        "Authorization name",
        Some(preset.map_or("oauth2", |p| p.key)),
    )?;
    const GRANTS: [&str; 2] = ["authorization_code", "client_credentials"];
    let grant_type = match &opts.grant_type {
        Some(g) => g.trim().to_string(),
        None if term.interactive() => GRANTS[term.choose(
            "Grant type",
            &[
                "authorization_code: a person logs in through the browser".into(),
                "client_credentials: the app itself, no person".into(),
            ],
        )?]
        .to_string(),
        None => GRANTS[0].to_string(),
    };
    if !GRANTS.contains(&grant_type.as_str()) {
        return Err(Error::InitInvalid {
            message: format!(
                "grant type {grant_type:?} is not one integration-cli handles (authorization_code, client_credentials)"
            ),
        });
    }
    let client_id = ask.value(
        &opts.client_id,
        "--client-id",
        "Client id",
        preset.and_then(|p| p.client_id),
    )?;
    let default_env = format!(
        "{}_CLIENT_SECRET",
        name.to_ascii_uppercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    );
    let secret_env = ask.checked(
        &opts.client_secret_env,
        "--client-secret-env",
        "Environment variable that will hold the client secret",
        Some(&default_env),
        |v| {
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "{v:?} is not an environment variable name (letters, digits and _)"
                ));
            }
            if !crate::config::Holds::Secret.allows(v) {
                return Err(format!(
                    "{v} would not be expanded: only names ending in _CLIENT_ID, _CLIENT_SECRET \
                     or _SECRET, or starting with UNITO_, are (so a project file cannot send \
                     your other secrets anywhere)"
                ));
            }
            Ok(())
        },
    )?;
    let authorization_url = if grant_type == "client_credentials" {
        None
    } else {
        Some(ask.checked(
            &opts.authorization_url,
            "--authorization-url",
            "Authorization URL",
            preset.map(|p| p.authorization_url),
            url_check,
        )?)
    };
    let token_url = ask.checked(
        &opts.token_url,
        "--token-url",
        "Token URL",
        preset.map(|p| p.token_url),
        url_check,
    )?;
    let default_scopes = preset.map(|p| p.scopes.join(" "));
    let scopes = ask.value(
        &opts.scopes,
        "--scopes",
        "Scopes (space-separated)",
        Some(default_scopes.as_deref().unwrap_or("")),
    )?;
    if !ask.missing.is_empty() {
        return Err(Error::InitMissing {
            flags: ask.missing.join(", "),
        });
    }
    let mut oauth2 = serde_json::Map::new();
    oauth2.insert("clientId".into(), json!(client_id));
    oauth2.insert("clientSecret".into(), json!(format!("${{{secret_env}}}")));
    if let Some(url) = &authorization_url {
        oauth2.insert("authorizationUrl".into(), json!(url));
    }
    oauth2.insert("tokenUrl".into(), json!(token_url));
    oauth2.insert("grantType".into(), json!(grant_type));
    oauth2.insert(
        "scopes".into(),
        Value::Array(
            scopes
                .split_whitespace()
                .map(|s| json!({"name": s}))
                .collect(),
        ),
    );
    if let Some(p) = preset.filter(|_| grant_type == "authorization_code") {
        if !p.authorization_parameters.is_empty() {
            let params: serde_json::Map<String, Value> = p
                .authorization_parameters
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            oauth2.insert("authorizationParameters".into(), Value::Object(params));
        }
        if let Some(r) = p.redirect_url {
            oauth2.insert("redirectUrl".into(), json!(r));
        }
        if p.tunnel {
            oauth2.insert("tunnel".into(), json!(true));
        }
    }
    let authorization = json!({
        "name": name,
        "method": "oauth2",
        "development": true,
        "oauth2": oauth2,
    });
    let rendered = serde_json::to_string_pretty(&authorization)
        .expect("JSON")
        .replace('\n', "\n    ");
    let text = TEMPLATE
        .replace("{{name}}", &json!(connector).to_string())
        .replace("{{authorization}}", &rendered);
    // The template and the values must make valid JSON; never write anything else.
    serde_json::from_str::<Value>(&text).map_err(|e| Error::InitInvalid {
        message: format!("the scaffold would not be valid JSON ({e}); a value may need quoting"),
    })?;
    crate::project::write_atomic(&opts.config, &text).map_err(|source| Error::Io {
        action: "write",
        path: opts.config.clone(),
        source,
    })?;

    term.result(&format!(
        "Wrote {} with authorization \"{name}\".",
        opts.config.display()
    ));
    if let Some(p) = preset {
        term.result(&format!("With {}: {}.", p.title, p.note));
    }
    term.result(&format!(
        "The client secret is read from ${secret_env} at run time: export {secret_env}=<your secret>"
    ));
    if let Some(said) = ignore_in_git(&opts.config)? {
        term.result(&said);
    }
    term.result("Next: integration-cli oauth2");
    Ok(())
}

/// Prompts for what flags did not give, or notes the flag as missing when nobody can answer.
struct Asker<'a> {
    term: &'a dyn Terminal,
    missing: Vec<&'static str>,
}

fn url_check(v: &str) -> std::result::Result<(), String> {
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(format!("{v:?} is not an http(s) URL")),
    }
}

impl Asker<'_> {
    /// `value`, checked as it is typed: a person is asked again (keeping every earlier
    /// answer); a flag that fails the check is a usage error.
    fn checked(
        &mut self,
        given: &Option<String>,
        flag: &'static str,
        prompt: &str,
        default: Option<&str>,
        check: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        loop {
            let v = self.value(given, flag, prompt, default)?;
            if v.is_empty() && self.missing.contains(&flag) {
                return Ok(v);
            }
            match check(&v) {
                Ok(()) => return Ok(v),
                Err(message) if given.is_none() && self.term.interactive() => {
                    self.term.warn(&message);
                }
                Err(message) => return Err(Error::InitInvalid { message }),
            }
        }
    }

    fn value(
        &mut self,
        given: &Option<String>,
        flag: &'static str,
        prompt: &str,
        default: Option<&str>,
    ) -> Result<String> {
        if let Some(v) = given {
            return Ok(v.trim().to_string());
        }
        if self.term.interactive() {
            return self.term.input(prompt, default);
        }
        match default {
            Some(d) => Ok(d.to_string()),
            None => {
                self.missing.push(flag);
                Ok(String::new())
            }
        }
    }
}

/// Adds `.unito.json` (and its lock and recovery files) to the `.gitignore` beside it, when there is one
/// that does not ignore it yet. Returns what it did, to tell the user.
fn ignore_in_git(config: &Path) -> Result<Option<String>> {
    let dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let gitignore = dir.join(".gitignore");
    let Ok(current) = std::fs::read_to_string(&gitignore) else {
        return Ok(Some(
            "There is no .gitignore here: keep .unito.json (it will hold tokens) out of version control."
                .into(),
        ));
    };
    let file_name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".unito.json".into());
    let ignored = |entry: &str| {
        current
            .lines()
            .map(str::trim)
            .any(|l| l == entry || l == format!("/{entry}"))
    };
    let mut add = Vec::new();
    let entries = [
        file_name.clone(),
        format!("{file_name}.lock"),
        // Where tokens a failed save could not write may wait (see `recovery`).
        format!("{file_name}.recovery-*"),
    ];
    for entry in entries {
        if !ignored(&entry) {
            add.push(entry);
        }
    }
    if add.is_empty() {
        return Ok(None);
    }
    // Appended, never rewritten: the user's file stays as it was above our lines.
    let mut text = String::new();
    if !current.is_empty() && !current.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# integration-cli: test account tokens\n");
    for entry in &add {
        text.push_str(entry);
        text.push('\n');
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&gitignore)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| Error::Io {
            action: "write",
            path: gitignore.clone(),
            source,
        })?;
    let listed = match add.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => add.join(""),
    };
    Ok(Some(format!("Added {listed} to {}.", gitignore.display())))
}
