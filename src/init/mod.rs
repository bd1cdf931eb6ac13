//! `integration-cli init`: a first `.unito.json` from `templates/unito.json.tmpl`, with the
//! real endpoints of common providers as presets. Values come from flags, or from prompts
//! when someone is at the terminal. The client secret is never written: the file gets a
//! `${VAR}` reference, read from the environment at run time.
//!
//! The run: choose a preset, ask for the rest, render the file, write it.

mod ask;
mod gitignore;

pub use crate::providers::{PROVIDERS as PRESETS, Provider as Preset};
pub use gitignore::Ignored;

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::config::{GrantType, Holds};
use crate::error::{Error, ProviderError, Result, UserError};
use crate::metadata::Metadata;
use crate::providers::{InPlace, Login};
use crate::redact::printable;
use crate::ui::Terminal;
use ask::{Asker, url_check};

const TEMPLATE: &str = include_str!("../../templates/unito.json.tmpl");

/// Where a jwt-bearer authorization's signing key goes: beside the file, out of git.
const KEY_FILE: &str = "private-key.pem";

/// The grant types `init` writes, with what each means to a person choosing.
const GRANTS: [(GrantType, &str); 4] = [
    (
        GrantType::AuthorizationCode,
        "authorization_code: a person logs in through the browser",
    ),
    (
        GrantType::ClientCredentials,
        "client_credentials: the app itself, no person",
    ),
    (
        GrantType::Password,
        "password: a test user's own username and password (UNITO_USERNAME, UNITO_PASSWORD)",
    ),
    (
        GrantType::JwtBearer,
        "urn:ietf:params:oauth:grant-type:jwt-bearer: an assertion signed with a private key \
         (service accounts)",
    ),
];

/// What the user said on the command line; anything missing is asked, or is an error when
/// nobody can answer.
#[derive(Debug, Default)]
pub struct InitOptions {
    pub config: PathBuf,
    pub preset: Option<PresetChoice>,
    pub connector: Option<String>,
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    /// `--grant-type`, checked by `grant_type` (asked at a terminal when `None`).
    pub grant_type: Option<GrantType>,
    pub scopes: Option<String>,
    /// `--issuer URL`: the endpoints from the provider's published metadata.
    pub issuer: Option<String>,
    /// `--var NAME=VALUE`: the development test account's values for the templates.
    pub vars: Vec<(String, String)>,
    pub force: bool,
    /// Where the file's sending of its secret variable is approved as it is written (the
    /// user's configuration folder); `None`: nowhere, and the first run asks.
    pub approvals: Option<crate::approvals::Store>,
}

/// What `--preset` names: a provider's preset, or `custom` (a provider no preset describes,
/// its URLs given or asked for).
#[derive(Clone, Copy)]
pub enum PresetChoice {
    Of(&'static Preset),
    Custom,
}

impl PresetChoice {
    /// The one the key names, as `--preset` takes it (`custom`, or a preset's key).
    pub fn named(key: &str) -> Option<PresetChoice> {
        match key {
            "custom" => Some(PresetChoice::Custom),
            key => PRESETS.iter().find(|p| p.key == key).map(PresetChoice::Of),
        }
    }
}

impl std::fmt::Debug for PresetChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PresetChoice::Of(p) => f.write_str(p.key),
            PresetChoice::Custom => f.write_str("custom"),
        }
    }
}

/// What `init` did, for `report::init` to word: the run asks its questions but prints no
/// result itself.
pub struct Written {
    pub path: PathBuf,
    pub authorization: String,
    pub preset: Option<&'static Preset>,
    pub secret: Secret,
    /// The redirect URI to register with a provider no preset describes (a preset's note
    /// says its own), when the grant has a browser login.
    pub register: Option<String>,
    /// What the user should know of the provider's metadata (a PKCE method it does not list).
    pub notes: Vec<String>,
    /// An error here came after the file was written: what was done is still told, then the
    /// error, and nothing after it ran.
    pub gitignore: Result<Ignored>,
}

/// Where the written file's client credential comes from at run time.
pub enum Secret {
    /// A jwt-bearer assertion's signing key, in this file beside it.
    KeyFile(&'static str),
    /// The client secret, from this environment variable.
    Variable(String),
}

/// Everything the file will say.
struct Answers {
    connector: String,
    name: String,
    grant: GrantType,
    client_id: String,
    secret_env: String,
    authorization_url: Option<String>,
    token_url: String,
    scopes: String,
}

/// Reads an issuer's metadata (`metadata::discover`, or a stand-in in tests).
pub type Discover<'a> = &'a dyn Fn(&str) -> Result<Metadata>;

pub fn run(opts: &InitOptions, term: &dyn Terminal, discover: Discover) -> Result<(Written, Next)> {
    if opts.config.exists() && !opts.force {
        return Err(UserError::InitWouldOverwrite {
            path: opts.config.clone(),
        }
        .into());
    }
    let Choice {
        preset,
        issuer,
        instead,
    } = choose(opts, term)?;
    let metadata = issuer.map(|i| discovered(&i, discover)).transpose()?;
    let answers = ask(opts, term, preset, metadata.as_ref())?;
    let mut authorization = authorization(&answers, preset);
    if let Some(m) = &metadata {
        from_metadata(&mut authorization, m);
    }
    declare_what_templates_use(&mut authorization)?;
    let checked = typed(&authorization)?;
    let vars = with_issuers_values(&opts.vars, instead.as_ref());
    let development = values(&vars, term, &checked, &answers.name)?;
    let text = render(&answers, &authorization, &development)?;
    let mut written = write(opts, &answers, preset, &text)?;
    if let Some(i) = &instead {
        let key = i.preset.key;
        written.notes.push(format!(
            "{}: the {key} preset's endpoints are written instead (as init --preset {key})",
            i.why
        ));
    }
    if let Some(m) = metadata.filter(|m| !m.takes_s256()) {
        written.notes.push(format!(
            "{} does not list S256 in code_challenge_methods_supported, yet every login sends \
             a PKCE S256 challenge: if the login fails, check that the provider accepts it",
            m.issuer
        ));
    }
    let next = Next {
        answers,
        checked,
        development,
    };
    Ok((written, next))
}

/// What is left once the file is written and that is told: its approval, then what the
/// first login will ask for. Not done when the `.gitignore` could not be edited.
pub struct Next {
    answers: Answers,
    checked: crate::config::OAuth2,
    development: serde_json::Map<String, Value>,
}

impl Next {
    /// Approves the file's secret for its token host, and says what the first `oauth2` run
    /// will ask for: each variable's label and name.
    pub fn approve(self, opts: &InitOptions, term: &dyn Terminal) -> Vec<(String, String)> {
        approve(opts, term, &self.answers, &self.checked, &self.development);
        first_login_asks(&self.checked, &self.development)
    }
}

/// The authorization as the commands will read it: a preset or a URL the CLI would refuse
/// is never written.
fn typed(authorization: &Value) -> Result<crate::config::OAuth2> {
    let root = json!({ "authorizations": [authorization] });
    let config = crate::config::Config::parse(
        &PathBuf::from(".unito.json"),
        root.as_object().expect("an object"),
    );
    let all = config.oauth2()?;
    let (_, typed) = all
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("no authorization written".into()))?;
    typed.cloned().map_err(|e| {
        UserError::InvalidInput {
            message: e.to_string(),
        }
        .into()
    })
}

/// The development test account's values: `--var`s, checked as the authorization declares
/// them, and at a terminal the rest asked for as the first login would.
fn values(
    vars: &[(String, String)],
    term: &dyn Terminal,
    o: &crate::config::OAuth2,
    authorization: &str,
) -> Result<serde_json::Map<String, Value>> {
    let command = |flags: &str| format!("integration-cli oauth2 {flags}");
    let gathering = crate::flow::Gathering {
        given: vars,
        ask: true,
        terminal: term,
        test_account: "development",
        authorization,
        command: &command,
        before_asking: &|| Ok(()),
    };
    if term.interactive() {
        return Ok(gathering.fill(o, None)?.answers);
    }
    let none = serde_json::Map::new();
    Ok(gathering.given(o, &none, &o.template_names())?.answers)
}

/// The file just written sends its secret variable to its token URL's host: what the user
/// asked for, so no run asks again. The host is the development test account's; when its
/// values are not known yet, the first run asks.
fn approve(
    opts: &InitOptions,
    term: &dyn Terminal,
    answers: &Answers,
    o: &crate::config::OAuth2,
    development: &serde_json::Map<String, Value>,
) {
    let (Some(store), Some(_)) = (&opts.approvals, &o.client_secret) else {
        return;
    };
    let filled = o.expanded(&crate::config::Values {
        test_account: "development",
        fields: development,
        client_id: &answers.client_id,
        client_secret: None,
    });
    let host = match filled {
        Ok(filled) => crate::approvals::host_of(filled.token_url.as_str()),
        Err(_) => {
            term.say(&format!(
                "The first run asks before it sends ${} to the token URL's host.",
                answers.secret_env
            ));
            return;
        }
    };
    let Some(host) = host else { return };
    let pair = crate::approvals::Pair {
        variable: answers.secret_env.clone(),
        host,
    };
    if let Err(e) = store.add(&[pair], &opts.config) {
        term.warn(&format!("{e}; the first run asks instead"));
    }
}

/// What the first `oauth2` run will ask for: each variable's label and name.
fn first_login_asks(
    o: &crate::config::OAuth2,
    given: &serde_json::Map<String, Value>,
) -> Vec<(String, String)> {
    let used = o.template_names();
    o.variables
        .iter()
        .filter(|v| (v.required || used.contains(&v.name)) && v.default.is_none())
        .filter(|v| !given.contains_key(&v.name))
        .map(|v| (v.label().to_string(), v.name.clone()))
        .collect()
}

/// The `--var` values, then those a known issuer's URL held for its preset (Microsoft's
/// tenant) where the user gave none and they differ from the variable's default.
fn with_issuers_values(
    given: &[(String, String)],
    instead: Option<&InPlace>,
) -> Vec<(String, String)> {
    let mut vars = given.to_vec();
    let Some(instead) = instead else {
        return vars;
    };
    for (name, value) in &instead.values {
        let default = instead
            .preset
            .variables
            .iter()
            .find(|v| v.name == name.as_str());
        let is_default = default.and_then(|v| v.default) == Some(value.as_str());
        if !is_default && !given.iter().any(|(n, _)| n == name) {
            vars.push((name.clone(), value.clone()));
        }
    }
    vars
}

/// What `init` writes from: a preset (`None` for custom URLs), or the issuer whose
/// metadata gives the endpoints.
struct Choice {
    preset: Option<&'static Preset>,
    issuer: Option<String>,
    /// For an issuer whose metadata is missing or misleads: its preset, used in its place.
    instead: Option<InPlace>,
}

impl Choice {
    fn preset(preset: Option<&'static Preset>) -> Choice {
        Choice {
            preset,
            issuer: None,
            instead: None,
        }
    }

    /// The issuer's metadata, unless its preset is known to do better (`KNOWN_ISSUERS`).
    fn issuer(issuer: String) -> Choice {
        match crate::providers::for_issuer(&issuer) {
            Some(instead) => Choice {
                preset: Some(instead.preset),
                issuer: None,
                instead: Some(instead),
            },
            None => Choice {
                issuer: Some(issuer),
                ..Choice::preset(None)
            },
        }
    }
}

/// The preset named, or chosen at a terminal, or the issuer named or entered. An issuer
/// with `--preset custom` is always read for its metadata: the user chose no preset.
fn choose(opts: &InitOptions, term: &dyn Terminal) -> Result<Choice> {
    match (opts.preset, &opts.issuer) {
        (Some(PresetChoice::Custom), issuer) => Ok(Choice {
            issuer: issuer.clone(),
            ..Choice::preset(None)
        }),
        (Some(PresetChoice::Of(preset)), _) => Ok(Choice::preset(Some(preset))),
        (None, Some(issuer)) => Ok(Choice::issuer(issuer.clone())),
        (None, None) if term.interactive() => {
            let mut items: Vec<String> = PRESETS.iter().map(|p| p.title.to_string()).collect();
            items.push("Another provider, from its issuer URL (its published metadata)".into());
            items.push("Another provider (enter its URLs)".into());
            let i = term.choose("Which provider?", &items)?;
            if i == PRESETS.len() {
                let mut ask = Asker {
                    term,
                    missing: Vec::new(),
                };
                let issuer = ask.checked(&None, "--issuer", "Issuer URL", None, url_check)?;
                return Ok(Choice::issuer(issuer));
            }
            Ok(Choice::preset(PRESETS.get(i)))
        }
        (None, None) => Ok(Choice::preset(None)),
    }
}

/// The issuer's metadata, with a client authentication integration-cli can use.
fn discovered(issuer: &str, discover: Discover) -> Result<Metadata> {
    let metadata = discover(issuer)?;
    metadata
        .client_auth()
        .map_err(|why| ProviderError::Metadata {
            issuer: printable(issuer),
            why,
        })?;
    Ok(metadata)
}

/// What the metadata says beyond the endpoints: the issuer (so RFC 9207's check applies
/// from the first login), a client authentication other than the default, and where
/// tokens are revoked (an extension key: only integration-cli reads it).
fn from_metadata(authorization: &mut Value, m: &Metadata) {
    let oauth2 = authorization["oauth2"].as_object_mut().expect("an object");
    oauth2.insert("issuer".into(), json!(m.issuer));
    if m.client_auth() == Ok(crate::metadata::ClientAuth::Post) {
        oauth2.insert(
            "tokenEndpointAuthMethod".into(),
            json!("client_secret_post"),
        );
    }
    if let Some(url) = &m.revocation_endpoint {
        oauth2.insert("revocationUrl".into(), json!(url));
    }
}

/// Every value, from its flag, a prompt, or the preset's default; missing ones are named
/// together at the end when nobody can be asked.
fn ask(
    opts: &InitOptions,
    term: &dyn Terminal,
    preset: Option<&Preset>,
    metadata: Option<&Metadata>,
) -> Result<Answers> {
    let mut ask = Asker {
        term,
        missing: Vec::new(),
    };
    let default_connector = connector_slug(&folder_name(opts));
    let connector = ask.checked(
        &opts.connector,
        "--connector",
        "Connector name",
        Some(&default_connector),
        check_connector,
    )?;
    let name = ask.value(
        &opts.name,
        "--name",
        "Authorization name",
        Some(preset.map_or("oauth2", |p| p.key)),
    )?;
    let grant = grant(opts, term)?;
    let client_id = ask.value(
        &opts.client_id,
        "--client-id",
        "Client id",
        preset.and_then(|p| p.client_id),
    )?;
    let secret_env = ask.checked(
        &opts.client_secret_env,
        "--client-secret-env",
        "Environment variable that will hold the client secret",
        // After the provider when a preset names it; else after the connector, since a
        // generic OAUTH2_CLIENT_SECRET is one letter from OAUTH2_PORT.
        Some(&default_secret_env(preset.map_or(&connector, |_| &name))),
        check_secret_env,
    )?;
    let defaults = Defaults::of(preset, metadata);
    let (authorization_url, token_url, scopes) = endpoints(&mut ask, opts, &defaults, grant)?;
    // Every missing flag is named at once.
    ask.none_missing(opts.preset.is_none())?;
    Ok(Answers {
        connector,
        name,
        grant,
        client_id,
        secret_env,
        authorization_url,
        token_url,
        scopes,
    })
}

/// The grant type from `--grant-type`, chosen at a terminal, or the authorization code.
fn grant(opts: &InitOptions, term: &dyn Terminal) -> Result<GrantType> {
    if let Some(given) = opts.grant_type {
        return Ok(given);
    }
    if !term.interactive() {
        return Ok(GrantType::AuthorizationCode);
    }
    let items: Vec<String> = GRANTS.iter().map(|(_, label)| label.to_string()).collect();
    Ok(GRANTS[term.choose("Grant type", &items)?].0)
}

/// What `--grant-type` names, when it is a grant `init` writes. Read before the run, so the
/// run meets a grant and never its name; refused in the run's words (not clap's), as a
/// value the file's own reader would take but `init` does not offer is.
pub fn grant_type(given: &str) -> Result<GrantType> {
    GrantType::parse(given)
        .ok()
        .filter(|g| GRANTS.iter().any(|(known, _)| known == g))
        .ok_or_else(|| {
            UserError::InvalidInput {
                message: format!(
                    "grant type {:?} is not one integration-cli handles (authorization_code, \
                 client_credentials, password, urn:ietf:params:oauth:grant-type:jwt-bearer)",
                    given.trim()
                ),
            }
            .into()
        })
}

/// The authorization URL (none for client credentials), the token URL and the scopes.
fn endpoints(
    ask: &mut Asker,
    opts: &InitOptions,
    defaults: &Defaults,
    grant: GrantType,
) -> Result<(Option<String>, String, String)> {
    let authorization_url = match grant {
        GrantType::ClientCredentials | GrantType::Password | GrantType::JwtBearer => None,
        _ => Some(ask.checked(
            &opts.authorization_url,
            "--authorization-url",
            "Authorization URL",
            defaults.authorization_url.as_deref(),
            url_check,
        )?),
    };
    let token_url = ask.checked(
        &opts.token_url,
        "--token-url",
        "Token URL",
        defaults.token_url.as_deref(),
        url_check,
    )?;
    let scopes = ask.value(
        &opts.scopes,
        "--scopes",
        "Scopes (space-separated)",
        Some(&defaults.scopes),
    )?;
    Ok((authorization_url, token_url, scopes))
}

/// What a prompt offers, and a flag left out means: the preset's, or the metadata's.
struct Defaults {
    authorization_url: Option<String>,
    token_url: Option<String>,
    scopes: String,
}

impl Defaults {
    fn of(preset: Option<&Preset>, metadata: Option<&Metadata>) -> Defaults {
        match (preset, metadata) {
            (Some(p), _) => Defaults {
                authorization_url: Some(p.authorization_url.into()),
                token_url: Some(p.token_url.into()),
                scopes: p.scopes.join(" "),
            },
            (None, Some(m)) => Defaults {
                authorization_url: m.authorization_endpoint.clone(),
                token_url: Some(m.token_endpoint.clone()),
                scopes: m.suggested_scopes(),
            },
            (None, None) => Defaults {
                authorization_url: None,
                token_url: None,
                scopes: String::new(),
            },
        }
    }
}

/// The folder the file goes in: what a connector is usually named after.
fn folder_name(opts: &InitOptions) -> String {
    opts.config
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
        .unwrap_or_else(|| "my-connector".into())
}

/// A name the platform's schema accepts (`^[a-z0-9_-]+$`): `My.Connector` becomes
/// `my-connector`.
fn connector_slug(name: &str) -> String {
    if valid_connector(name) {
        return name.into();
    }
    let mut slug = String::new();
    for c in name.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => slug.push(c),
            _ if !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "my-connector".into()
    } else {
        slug.into()
    }
}

/// `^[a-z0-9_-]+$`, the platform schema's rule for a connector's name.
fn valid_connector(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check_connector(v: &str) -> std::result::Result<(), String> {
    if valid_connector(v) {
        return Ok(());
    }
    Err(format!(
        "connector name {v:?} is not one the platform accepts: it must match ^[a-z0-9_-]+$ \
         (lower-case letters, digits, - and _), such as {:?}",
        connector_slug(v)
    ))
}

fn default_secret_env(name: &str) -> String {
    let stem: String = name
        .to_ascii_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{stem}_CLIENT_SECRET")
}

fn check_secret_env(v: &str) -> std::result::Result<(), String> {
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{v:?} is not an environment variable name (letters, digits and _)"
        ));
    }
    if !Holds::Secret.allows(v) {
        return Err(format!(
            "{v} would not be expanded: only names ending in _CLIENT_ID, _CLIENT_SECRET \
             or _SECRET, or starting with UNITO_, are (so a project file cannot send \
             your other secrets anywhere)"
        ));
    }
    Ok(())
}

/// The one authorization the file will hold.
fn authorization(answers: &Answers, preset: Option<&Preset>) -> Value {
    let mut oauth2 = serde_json::Map::new();
    oauth2.insert("clientId".into(), json!(answers.client_id));
    oauth2.insert(
        "clientSecret".into(),
        json!(format!("${{{}}}", answers.secret_env)),
    );
    if let Some(url) = &answers.authorization_url {
        oauth2.insert("authorizationUrl".into(), json!(url));
    }
    oauth2.insert("tokenUrl".into(), json!(answers.token_url));
    oauth2.insert("grantType".into(), json!(answers.grant.name()));
    if answers.grant == GrantType::JwtBearer {
        // The assertion is signed with a key, not sent with a secret.
        oauth2.remove("clientSecret");
        oauth2.insert(
            "jwt".into(),
            json!({
                "issuer": answers.client_id,
                "algorithm": "RS256",
                "privateKeyFile": KEY_FILE,
                "lifetime": crate::config::jwt::DEFAULT_LIFETIME,
            }),
        );
    }
    let scopes = answers.scopes.split_whitespace();
    oauth2.insert(
        "scopes".into(),
        Value::Array(scopes.map(|s| json!({"name": s})).collect()),
    );
    if let Some(p) = preset {
        let login = match answers.grant {
            GrantType::AuthorizationCode => Login::Real,
            _ => Login::None,
        };
        oauth2.extend(p.oauth2_settings(login));
    }
    let mut authorization = json!({
        "name": answers.name,
        "method": "oauth2",
        "development": true,
    });
    if let Some(variables) = preset.and_then(Preset::variables_json) {
        authorization["variables"] = variables;
    }
    authorization["oauth2"] = Value::Object(oauth2);
    authorization
}

/// For URLs given as templates (`--preset custom`): each name they use declared, required,
/// so the first login asks for it by name.
fn declare_what_templates_use(authorization: &mut Value) -> Result<()> {
    if authorization.get("variables").is_some() {
        return Ok(());
    }
    let names = typed(authorization)?.template_names();
    if !names.is_empty() {
        let object = authorization.as_object_mut().expect("an object");
        let oauth2 = object.shift_remove("oauth2");
        object.insert(
            "variables".into(),
            Value::Object(
                names
                    .into_iter()
                    .map(|n| {
                        (
                            n.clone(),
                            json!({"type": "string", "label": n, "required": true}),
                        )
                    })
                    .collect(),
            ),
        );
        object.extend(oauth2.map(|o| ("oauth2".to_string(), o)));
    }
    Ok(())
}

/// The file's text: the template with the connector's name, the authorization and the
/// development test account's values. It must be valid JSON; nothing else is ever written.
fn render(
    answers: &Answers,
    authorization: &Value,
    development: &serde_json::Map<String, Value>,
) -> Result<String> {
    let indent = |v: &Value, by: &str| {
        serde_json::to_string_pretty(v)
            .expect("JSON")
            .replace('\n', &format!("\n{by}"))
    };
    let text = TEMPLATE
        .replace("{{name}}", &json!(answers.connector).to_string())
        .replace("{{authorization}}", &indent(authorization, "    "))
        .replace(
            "{{development}}",
            &indent(&Value::Object(development.clone()), "    "),
        );
    serde_json::from_str::<Value>(&text).map_err(|e| UserError::InvalidInput {
        message: format!("the scaffold would not be valid JSON ({e}); a value may need quoting"),
    })?;
    Ok(text)
}

/// Writes the file (atomically) and keeps it out of git.
fn write(
    opts: &InitOptions,
    answers: &Answers,
    preset: Option<&'static Preset>,
    text: &str,
) -> Result<Written> {
    crate::project::write_atomic(&opts.config, text)
        .map_err(|source| Error::io("write", &opts.config, source))?;
    let (secret, also): (Secret, &[&str]) = if answers.grant == GrantType::JwtBearer {
        (Secret::KeyFile(KEY_FILE), &[KEY_FILE])
    } else {
        (Secret::Variable(answers.secret_env.clone()), &[])
    };
    let register = (preset.is_none() && answers.grant == GrantType::AuthorizationCode)
        .then(|| format!("http://127.0.0.1:{}/callback", crate::flow::DEFAULT_PORT));
    Ok(Written {
        path: opts.config.clone(),
        authorization: answers.name.clone(),
        preset,
        secret,
        register,
        notes: Vec::new(),
        gitignore: gitignore::ignore_in_git(&opts.config, also),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_become_names_the_platform_accepts() {
        for (folder, slug) in [
            ("My.Connector", "my-connector"),
            ("my_connector", "my_connector"),
            ("Acme CRM  (v2)", "acme-crm-v2"),
            ("...", "my-connector"),
            ("--x--", "--x--"),
            ("a--b", "a--b"),
            ("ünïcode", "n-code"),
        ] {
            assert_eq!(connector_slug(folder), slug, "{folder}");
            assert!(check_connector(&connector_slug(folder)).is_ok());
        }
        assert!(
            check_connector("My.Connector")
                .unwrap_err()
                .contains("\"my-connector\"")
        );
    }
}
