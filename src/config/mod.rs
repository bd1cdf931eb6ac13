//! The typed view of `.unito.json`, parsed once when the file is loaded: authorizations with
//! their grant type, client authentication and body format as enums, and errors that name
//! the key path. Typing is for reading only; `project` still edits the file's own text.

mod account;
mod credentials;
mod expand;
pub mod jwt;
mod url;
pub mod variables;

pub use account::{EXPIRY_MARGIN, Freshness, REFRESH_FLOOR, TestAccount, field};
pub use credentials::{
    Holds, SECRET_ENV, env_names, expand_env, resolve_client_id, resolve_client_secret,
};
pub use expand::{Lack, Refusal, Values, check_url_field};
pub use url::{ProviderUrl, UrlTemplate};
pub use variables::{Variable, Variables};

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{ConfigError, Error, Result};
use crate::loopback::LoopbackHost;
use crate::secret::ClientSecret;

/// The authorizations of one file, in its order. What cannot be typed is kept as the reason
/// why, and reported only when it is used: one broken authorization must not stop a command
/// that needs another, or none (`token` with a fresh token, a save after a login).
#[derive(Debug, Clone)]
pub struct Config {
    path: PathBuf,
    /// The list, or why `authorizations` cannot be read as one.
    authorizations: std::result::Result<Vec<Authorization>, String>,
}

#[derive(Debug, Clone)]
pub struct Authorization {
    pub name: String,
    pub method: String,
    pub development: bool,
    /// `None` for other methods (`custom`, …), which integration-cli passes over; the reason
    /// for an `oauth2` object that cannot be typed.
    oauth2: Option<std::result::Result<OAuth2, String>>,
}

/// How tokens are obtained (`grantType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    Password,
    JwtBearer,
}

/// The `grant_type` of RFC 7523 §2.1.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl GrantType {
    /// Each grant's name, here only: the file's `grantType` and the request's `grant_type`.
    const ALL: [(&'static str, GrantType); 4] = [
        ("authorization_code", GrantType::AuthorizationCode),
        ("client_credentials", GrantType::ClientCredentials),
        ("password", GrantType::Password),
        (JWT_BEARER, GrantType::JwtBearer),
    ];

    pub fn parse(value: &str) -> std::result::Result<GrantType, String> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == value.trim())
            .map(|(_, grant)| *grant)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown grant type {value:?} (use {})", names.join(", "))
            })
    }

    /// As written in `.unito.json` and sent as `grant_type`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, g)| *g == self)
            .map_or("", |(n, _)| n)
    }

    /// Whether new tokens can be had without a person: a stale token is then requested
    /// again rather than refreshed.
    pub fn needs_no_person(self) -> bool {
        matches!(self, GrantType::ClientCredentials | GrantType::JwtBearer)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How tokens are obtained, with what the grant cannot do without: jwt-bearer its signing
/// settings as the file gives them (`Key` is a `Signer` once the key is read), so no step
/// after the load meets a jwt-bearer grant that has none; the password grant, in a run,
/// where its username comes from (`Who`, the flow's `UsernameSource`). The file names no
/// username: it is the person's, given for each run (`--username`, `UNITO_USERNAME` or a
/// prompt), so the file's grant carries `()` there and the run's grant gets the source once,
/// when it is made (`with_username`); no step after that asks the options for it.
#[derive(Debug, Clone)]
pub enum Grant<Key = Box<jwt::JwtSettings>, Who = ()> {
    AuthorizationCode,
    ClientCredentials,
    Password(Who),
    JwtBearer(Key),
}

impl GrantType {
    /// This grant, with the signing key it needs asked of `key` only when it signs.
    fn with_key<K, E>(
        self,
        key: impl FnOnce() -> std::result::Result<K, E>,
    ) -> std::result::Result<Grant<K>, E> {
        Ok(match self {
            GrantType::AuthorizationCode => Grant::AuthorizationCode,
            GrantType::ClientCredentials => Grant::ClientCredentials,
            GrantType::Password => Grant::Password(()),
            GrantType::JwtBearer => Grant::JwtBearer(key()?),
        })
    }
}

impl<Key, Who: Clone> Grant<Key, Who> {
    /// Which grant, for the many steps that ask only that.
    pub fn kind(&self) -> GrantType {
        match self {
            Grant::AuthorizationCode => GrantType::AuthorizationCode,
            Grant::ClientCredentials => GrantType::ClientCredentials,
            Grant::Password(_) => GrantType::Password,
            Grant::JwtBearer(_) => GrantType::JwtBearer,
        }
    }

    pub fn key(&self) -> Option<&Key> {
        match self {
            Grant::JwtBearer(key) => Some(key),
            _ => None,
        }
    }

    /// The same grant with its key made into another: the settings filled in for a test
    /// account, or read into a signer.
    pub fn try_map<T, E>(
        &self,
        f: impl FnOnce(&Key) -> std::result::Result<T, E>,
    ) -> std::result::Result<Grant<T, Who>, E> {
        Ok(match self {
            Grant::AuthorizationCode => Grant::AuthorizationCode,
            Grant::ClientCredentials => Grant::ClientCredentials,
            Grant::Password(who) => Grant::Password(who.clone()),
            Grant::JwtBearer(key) => Grant::JwtBearer(f(key)?),
        })
    }
}

impl<Key> Grant<Key> {
    /// The file's grant made a run's: the password grant told where its username comes
    /// from (`who`, asked only of that grant).
    pub fn with_username<Who>(self, who: impl FnOnce() -> Who) -> Grant<Key, Who> {
        match self {
            Grant::AuthorizationCode => Grant::AuthorizationCode,
            Grant::ClientCredentials => Grant::ClientCredentials,
            Grant::Password(()) => Grant::Password(who()),
            Grant::JwtBearer(key) => Grant::JwtBearer(key),
        }
    }
}

/// How the token request's body is written (`requestContentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Form,
    Json,
}

impl BodyFormat {
    pub fn parse(value: Option<&str>) -> std::result::Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("application/x-www-form-urlencoded") => Ok(BodyFormat::Form),
            Some("application/json") => Ok(BodyFormat::Json),
            Some(other) => Err(format!(
                "unknown requestContentType {other:?} (use application/x-www-form-urlencoded or application/json)"
            )),
        }
    }
}

/// How the client authenticates at the token endpoint (`tokenEndpointAuthMethod`), with the
/// signing settings when it signs (`Key` is a `Signer` once the key is read, `()` for the
/// method as named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth<Key = Box<jwt::JwtSettings>> {
    /// HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1). The default for a
    /// form body.
    Basic,
    /// `client_id` and `client_secret` in the body. The default for a JSON body: providers
    /// that document a JSON token request put the credentials in it.
    Post,
    /// HTTP Basic, and `client_id` in the body too, as some providers' docs show. The secret
    /// is not repeated in the body: RFC 6749 §2.3 allows one authentication method per
    /// request, and strict servers refuse two.
    Both,
    /// A `client_assertion` signed with the `jwt` object's key instead of a secret
    /// (RFC 7523 §2.2: `private_key_jwt`, or `client_secret_jwt` with HS256).
    PrivateKeyJwt(Key),
}

impl ClientAuth<()> {
    /// `tokenEndpointAuthMethod`; when absent the default follows the body `format`.
    pub fn parse(value: Option<&str>, format: BodyFormat) -> std::result::Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(match format {
                BodyFormat::Form => ClientAuth::Basic,
                BodyFormat::Json => ClientAuth::Post,
            }),
            Some("client_secret_basic") | Some("basic") => Ok(ClientAuth::Basic),
            Some("client_secret_post") | Some("post") => Ok(ClientAuth::Post),
            Some("both") | Some("client_secret_basic+client_id") => Ok(ClientAuth::Both),
            Some("private_key_jwt") | Some("client_secret_jwt") => {
                Ok(ClientAuth::PrivateKeyJwt(()))
            }
            Some(other) => Err(format!(
                "unknown client authentication {other:?} (use client_secret_basic, \
                 client_secret_post, both or private_key_jwt)"
            )),
        }
    }
}

impl<Key> ClientAuth<Key> {
    pub fn key(&self) -> Option<&Key> {
        match self {
            ClientAuth::PrivateKeyJwt(key) => Some(key),
            _ => None,
        }
    }

    /// The same method with its key made into another: the settings filled in for a test
    /// account, or read into a signer.
    pub fn try_map<T, E>(
        &self,
        f: impl FnOnce(&Key) -> std::result::Result<T, E>,
    ) -> std::result::Result<ClientAuth<T>, E> {
        Ok(match self {
            ClientAuth::Basic => ClientAuth::Basic,
            ClientAuth::Post => ClientAuth::Post,
            ClientAuth::Both => ClientAuth::Both,
            ClientAuth::PrivateKeyJwt(key) => ClientAuth::PrivateKeyJwt(f(key)?),
        })
    }

    /// The method's name for the debug log, without its key.
    pub fn label(&self) -> &'static str {
        match self {
            ClientAuth::Basic => "Basic",
            ClientAuth::Post => "Post",
            ClientAuth::Both => "Both",
            ClientAuth::PrivateKeyJwt(_) => "PrivateKeyJwt",
        }
    }
}

/// One authorization's `oauth2` object, typed.
#[derive(Clone)]
pub struct OAuth2<Url = UrlTemplate> {
    /// Where in the file this came from (`authorizations[1] ("github").oauth2`), so errors
    /// point at the right place.
    pub at: String,
    /// As written in the file; may hold `${VAR}` references.
    pub client_id: String,
    /// As written in the file; may hold `${VAR}` references or an encrypted platform value.
    pub client_secret: Option<ClientSecret>,
    /// `UrlTemplate` as the file writes it; `ProviderUrl` once filled in for a test
    /// account (`expanded`), which is all a request is sent to. An empty one is none.
    pub authorization_url: Option<Url>,
    pub token_url: Url,
    /// integration-cli extension (`revocationUrl`, or `logout --revocation-url`): where
    /// `logout` revokes the tokens (RFC 7009, or the provider's own endpoint at that path).
    pub revocation_url: Option<Url>,
    pub scopes: Vec<String>,
    pub grant: Grant,
    pub redirect_url: Option<String>,
    pub body: BodyFormat,
    pub client_auth: ClientAuth,
    /// What the provider is documented to answer with (`responseContentType`).
    pub response_content_type: Option<String>,
    pub authorization_parameters: Vec<(String, String)>,
    pub token_request_parameters: Vec<(String, String)>,
    pub refresh_request_parameters: Vec<(String, String)>,
    /// integration-cli extension: log in through a tunnel, as `--tunnel` does.
    pub tunnel: bool,
    /// integration-cli extension: the reserved tunnel domain, as `--tunnel-domain`.
    pub tunnel_domain: Option<String>,
    /// The authorization server's issuer (RFC 9207): a callback whose `iss` differs is a
    /// mix-up and is refused.
    pub issuer: Option<String>,
    /// `127.0.0.1` (default), `localhost` or `[::1]`: the redirect URI's host, for providers
    /// that accept only one spelling. Never given with `redirect_url`.
    pub redirect_host: Option<LoopbackHost>,
    /// The redirect URI's path (default `/callback`), starting with `/`. Never given with
    /// `redirect_url`.
    pub redirect_path: Option<String>,
    /// integration-cli extension: where in the token answer the tokens are
    /// (`"authed_user"` for a Slack user token).
    pub token_response_path: Option<String>,
    /// integration-cli extension: how long the provider's refresh tokens live, where its
    /// answers do not say (`refreshTokenLifetime`, `refreshTokenSliding`).
    pub refresh_token_lifetime: Option<RefreshTokenLifetime>,
    /// The authorization's `variables`: what each test account must hold for it.
    pub variables: Variables,
}

/// The authorization filled in for one test account: what the requests are made from.
pub type ForAccount = OAuth2<ProviderUrl>;

/// The user's word on how long refresh tokens live: `seconds` from the first login, or
/// from the last refresh when `sliding`; 0 for one that does not expire (a Google app
/// published, past the Testing status's 7 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenLifetime {
    pub seconds: u64,
    pub sliding: bool,
}

impl<Url> OAuth2<Url> {
    /// The URL that names the provider (the authorization URL, else the token URL): what
    /// its documented rules are looked up by.
    pub fn provider_url(&self) -> &Url {
        self.authorization_url.as_ref().unwrap_or(&self.token_url)
    }

    /// The scopes as sent: space-joined, or none.
    pub fn scope(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }

    /// The same authorization with its URLs in another form (filled in for an account).
    pub(crate) fn with_urls<To>(
        self,
        token_url: To,
        authorization_url: Option<To>,
        revocation_url: Option<To>,
    ) -> OAuth2<To> {
        let OAuth2 {
            at,
            client_id,
            client_secret,
            authorization_url: _,
            token_url: _,
            revocation_url: _,
            scopes,
            grant,
            redirect_url,
            body,
            client_auth,
            response_content_type,
            authorization_parameters,
            token_request_parameters,
            refresh_request_parameters,
            tunnel,
            tunnel_domain,
            issuer,
            redirect_host,
            redirect_path,
            token_response_path,
            refresh_token_lifetime,
            variables,
        } = self;
        OAuth2 {
            at,
            client_id,
            client_secret,
            authorization_url,
            token_url,
            revocation_url,
            scopes,
            grant,
            redirect_url,
            body,
            client_auth,
            response_content_type,
            authorization_parameters,
            token_request_parameters,
            refresh_request_parameters,
            tunnel,
            tunnel_domain,
            issuer,
            redirect_host,
            redirect_path,
            token_response_path,
            refresh_token_lifetime,
            variables,
        }
    }

    /// The `jwt` object (an integration-cli extension), kept by the grant and the client
    /// authentication that sign with it; the file has one, so either's is the same.
    pub fn jwt(&self) -> Option<&jwt::JwtSettings> {
        self.grant
            .key()
            .or_else(|| self.client_auth.key())
            .map(|jwt| &**jwt)
    }
}

impl OAuth2 {
    /// `logout --revocation-url` (or `UNITO_REVOCATION_URL`) in place of the file's
    /// `revocationUrl`, under the same rules: a user who publishes with the platform's tools
    /// keeps the key out of the file.
    pub fn with_revocation_url(mut self, raw: &str) -> std::result::Result<OAuth2, String> {
        self.revocation_url = Some(UrlTemplate::parse("revocationUrl", raw.to_string())?);
        self.check_templates()?;
        Ok(self)
    }
}

/// Parameter values may be credentials a provider wants beside the client secret (an API key,
/// a client assertion), so `Debug` names them without their values.
impl<Url: fmt::Debug> fmt::Debug for OAuth2<Url> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |params: &[(String, String)]| -> Vec<String> {
            params.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("OAuth2")
            .field("at", &self.at)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("authorization_url", &self.authorization_url)
            .field("token_url", &self.token_url)
            .field("revocation_url", &self.revocation_url)
            .field("scopes", &self.scopes)
            .field("grant", &self.grant)
            .field("redirect_url", &self.redirect_url)
            .field("body", &self.body)
            .field("client_auth", &self.client_auth)
            .field(
                "authorization_parameters",
                &names(&self.authorization_parameters),
            )
            .field(
                "token_request_parameters",
                &names(&self.token_request_parameters),
            )
            .field(
                "refresh_request_parameters",
                &names(&self.refresh_request_parameters),
            )
            .field("tunnel", &self.tunnel)
            .field("tunnel_domain", &self.tunnel_domain)
            .field("issuer", &self.issuer)
            .field("redirect_host", &self.redirect_host)
            .field("redirect_path", &self.redirect_path)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

/// No authorizations at all.
impl Default for Config {
    fn default() -> Self {
        Config {
            path: PathBuf::new(),
            authorizations: Ok(Vec::new()),
        }
    }
}

impl Config {
    /// Types the file's `authorizations`. `path` names the file in errors.
    pub fn parse(path: &Path, root: &Map<String, Value>) -> Config {
        let authorizations = match root.get("authorizations") {
            None => Ok(Vec::new()),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, entry)| authorization(i, entry))
                .collect(),
            Some(_) => Err("\"authorizations\" must be an array".into()),
        };
        Config {
            path: path.into(),
            authorizations,
        }
    }

    fn invalid(&self, message: &str) -> Error {
        ConfigError::Invalid {
            path: self.path.clone(),
            message: message.into(),
        }
        .into()
    }

    pub fn authorizations(&self) -> Result<&[Authorization]> {
        self.authorizations
            .as_deref()
            .map_err(|message| self.invalid(message))
    }

    /// The OAuth 2.0 authorizations, each with its typed `oauth2` object or why it has none.
    pub fn oauth2(&self) -> Result<Vec<(&Authorization, Result<&OAuth2>)>> {
        Ok(self
            .authorizations()?
            .iter()
            .filter_map(|a| Some((a, self.oauth2_of(a)?)))
            .collect())
    }

    /// `a`'s typed `oauth2` object: `None` for another method, an error for one that cannot
    /// be typed.
    pub fn oauth2_of<'a>(&self, a: &'a Authorization) -> Option<Result<&'a OAuth2>> {
        let typed = a.oauth2.as_ref()?;
        Some(typed.as_ref().map_err(|message| self.invalid(message)))
    }
}

/// One entry of `authorizations`, or why it is not one.
fn authorization(index: usize, entry: &Value) -> std::result::Result<Authorization, String> {
    {
        let at = format!("authorizations[{index}]");
        let obj = entry
            .as_object()
            .ok_or_else(|| format!("{at} must be an object"))?;
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}.name must be a string"))?
            .to_string();
        let method = obj
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("oauth2")
            .to_string();
        let development = obj
            .get("development")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let shown = crate::redact::printable(&name);
        let oauth2 = match obj.get("oauth2") {
            Some(Value::Object(o)) if method == "oauth2" => Some(
                Variables::parse(
                    &format!("{at} (\"{shown}\").variables"),
                    obj.get("variables"),
                )
                .and_then(|variables| {
                    Fields {
                        at: format!("{at} (\"{shown}\").oauth2"),
                        object: o,
                    }
                    .oauth2(variables)
                }),
            ),
            Some(Value::Object(_)) | None => None,
            Some(_) => Some(Err(format!("{at}.oauth2 must be an object"))),
        };
        Ok(Authorization {
            name,
            method,
            development,
            oauth2,
        })
    }
}

/// One `oauth2` object's keys, each read with its path for errors.
struct Fields<'a> {
    at: String,
    object: &'a Map<String, Value>,
}

/// Why a key cannot be read, in words that name it.
type Why = String;

impl Fields<'_> {
    fn invalid(&self, key: &str, message: impl fmt::Display) -> Why {
        let message = message.to_string();
        let gap = if message.starts_with(':') { "" } else { " " };
        format!("{}.{key}{gap}{message}", self.at)
    }

    fn string(&self, key: &str) -> std::result::Result<Option<String>, Why> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.invalid(key, "must be a string")),
        }
    }

    /// `refreshTokenLifetime` (whole seconds; 0: it does not expire) with
    /// `refreshTokenSliding`.
    fn refresh_token_lifetime(&self) -> std::result::Result<Option<RefreshTokenLifetime>, Why> {
        let sliding = self.flag("refreshTokenSliding")?;
        match self.object.get("refreshTokenLifetime") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(seconds) => Ok(Some(RefreshTokenLifetime { seconds, sliding })),
                None => Err(self.invalid(
                    "refreshTokenLifetime",
                    "must be a whole number of seconds (0: it does not expire)",
                )),
            },
        }
    }

    /// A string that means something only when it is not blank.
    fn setting(&self, key: &str) -> std::result::Result<Option<String>, Why> {
        Ok(self.string(key)?.filter(|s| !s.trim().is_empty()))
    }

    fn redirect_host(&self) -> std::result::Result<Option<LoopbackHost>, Why> {
        let Some(host) = self.redirect_part("redirectHost")? else {
            return Ok(None);
        };
        match LoopbackHost::from_name(&host) {
            Some(host) => Ok(Some(host)),
            None => Err(self.invalid(
                "redirectHost",
                format!("{host:?} must be 127.0.0.1, localhost or [::1]"),
            )),
        }
    }

    fn redirect_path(&self) -> std::result::Result<Option<String>, Why> {
        let path = self.redirect_part("redirectPath")?;
        match path {
            Some(path) if !path.starts_with('/') => {
                Err(self.invalid("redirectPath", format!("{path:?} must start with /")))
            }
            path => Ok(path),
        }
    }

    /// `redirectHost` or `redirectPath`, which build the redirect URI that a `redirectUrl`
    /// would give whole.
    fn redirect_part(&self, key: &str) -> std::result::Result<Option<String>, Why> {
        let part = self.setting(key)?;
        if part.is_some() && self.setting("redirectUrl")?.is_some() {
            return Err(self.invalid(
                key,
                "cannot go with redirectUrl: give either redirectUrl, or redirectHost and redirectPath",
            ));
        }
        Ok(part)
    }

    fn required(&self, key: &str) -> std::result::Result<String, Why> {
        self.string(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.invalid(key, "is missing"))
    }

    fn params(&self, key: &str) -> std::result::Result<Vec<(String, String)>, Why> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(m)) => {
                m.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                        _ => Err(self
                            .invalid(&format!("{key}.{k}"), "must be a string, number or boolean")),
                    })
                    .collect()
            }
            Some(_) => Err(self.invalid(key, "must be an object")),
        }
    }

    fn scopes(&self) -> std::result::Result<Vec<String>, Why> {
        match self.object.get("scopes") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| match s {
                    Value::String(s) => Ok(s.clone()),
                    Value::Object(m) => m
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| self.invalid("scopes", ": an object needs \"name\"")),
                    _ => {
                        Err(self.invalid("scopes", "must hold strings or {\"name\": ...} objects"))
                    }
                })
                .collect(),
            Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_string).collect()),
            Some(_) => Err(self.invalid("scopes", "must be an array")),
        }
    }

    fn flag(&self, key: &str) -> std::result::Result<bool, Why> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.invalid(key, "must be true or false")),
        }
    }

    /// A provider URL must be one (an unparseable one would be sent who knows where, and
    /// could not be shown safely); a templated one is checked when it is filled in.
    fn url(&self, key: &str, raw: String) -> std::result::Result<UrlTemplate, Why> {
        UrlTemplate::parse(key, raw).map_err(|message| format!("{}.{message}", self.at))
    }

    /// The `jwt` object, read even when nothing signs with it, so its mistakes are named.
    fn jwt(&self) -> std::result::Result<Option<jwt::JwtSettings>, Why> {
        match self.object.get("jwt") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => {
                Ok(Some(jwt::parse(o).map_err(|e| format!("{}.{e}", self.at))?))
            }
            Some(_) => Err(self.invalid("jwt", "must be an object")),
        }
    }

    /// The grant and the client authentication, each with the `jwt` object when it signs,
    /// which it cannot do without.
    fn signing(
        &self,
        grant: GrantType,
        client_auth: ClientAuth<()>,
    ) -> std::result::Result<(Grant, ClientAuth), Why> {
        let jwt = self.jwt()?;
        let needs = |key: &str, what: &str| {
            jwt.clone().map(Box::new).ok_or_else(|| {
                self.invalid(
                    key,
                    format!(
                        ": {what} signs assertions, so the authorization needs a \"jwt\" \
                         object: {{\"privateKeyFile\": \"key.pem\", \"algorithm\": \"RS256\"}} \
                         (see the README)"
                    ),
                )
            })
        };
        Ok((
            grant.with_key(|| needs("grantType", "the jwt-bearer grant"))?,
            client_auth.try_map(|()| needs("tokenEndpointAuthMethod", "private_key_jwt"))?,
        ))
    }

    fn oauth2(&self, variables: Variables) -> std::result::Result<OAuth2, Why> {
        let token_url = self.url("tokenUrl", self.required("tokenUrl")?)?;
        let authorization_url = match self.string("authorizationUrl")? {
            Some(url) if !url.is_empty() => Some(self.url("authorizationUrl", url)?),
            _ => None,
        };
        let revocation_url = match self.setting("revocationUrl")? {
            Some(url) => Some(self.url("revocationUrl", url)?),
            None => None,
        };
        let grant = match self.string("grantType")? {
            None => GrantType::AuthorizationCode,
            Some(g) => {
                GrantType::parse(&g).map_err(|e| self.invalid("grantType", format!(": {e}")))?
            }
        };
        let body = BodyFormat::parse(self.string("requestContentType")?.as_deref())
            .map_err(|e| self.invalid("requestContentType", format!(": {e}")))?;
        let client_auth =
            ClientAuth::parse(self.string("tokenEndpointAuthMethod")?.as_deref(), body)
                .map_err(|e| self.invalid("tokenEndpointAuthMethod", format!(": {e}")))?;
        let (grant, client_auth) = self.signing(grant, client_auth)?;
        let oauth2 = OAuth2 {
            variables,
            client_id: self.required("clientId")?,
            client_secret: self
                .string("clientSecret")?
                .filter(|s| !s.is_empty())
                .map(ClientSecret::new),
            authorization_url,
            token_url,
            revocation_url,
            scopes: self.scopes()?,
            grant,
            redirect_url: self.string("redirectUrl")?,
            body,
            client_auth,
            response_content_type: self.string("responseContentType")?,
            authorization_parameters: self.params("authorizationParameters")?,
            token_request_parameters: self.params("tokenRequestParameters")?,
            refresh_request_parameters: self.params("refreshRequestParameters")?,
            tunnel: self.flag("tunnel")?,
            tunnel_domain: self.setting("tunnelDomain")?,
            issuer: self.setting("issuer")?,
            redirect_host: self.redirect_host()?,
            redirect_path: self.redirect_path()?,
            token_response_path: self.setting("tokenResponsePath")?,
            refresh_token_lifetime: self.refresh_token_lifetime()?,
            at: self.at.clone(),
        };
        oauth2
            .check_templates()
            .map_err(|message| format!("{}.{message}", self.at))?;
        Ok(oauth2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Config {
        Config::parse(Path::new(".unito.json"), v.as_object().unwrap())
    }

    fn one(oauth2: Value) -> Result<OAuth2> {
        let config = parse(json!({"authorizations": [{"name": "a", "oauth2": oauth2}]}));
        let all = config.oauth2()?;
        all[0].1.as_ref().map(|o| (*o).clone()).map_err(|e| {
            ConfigError::Invalid {
                path: "x".into(),
                message: e.to_string(),
            }
            .into()
        })
    }

    #[test]
    fn a_broken_authorization_is_reported_only_when_it_is_used() {
        let config = parse(json!({"authorizations": [
            {"name": "bad", "oauth2": {"clientId": "id", "tokenUrl": "http://t", "grantType": "implicit"}},
            {"name": "good", "oauth2": {"clientId": "id", "tokenUrl": "http://t"}},
            {"name": "other", "method": "custom"},
        ]}));
        let all = config.oauth2().unwrap();
        assert_eq!(all.len(), 2);
        assert!(
            all[0]
                .1
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("unknown grant type")
        );
        assert_eq!(
            all[1].1.as_ref().unwrap().grant.kind(),
            GrantType::AuthorizationCode
        );
        let broken = parse(json!({"authorizations": {"not": "a list"}}));
        assert!(broken.authorizations().is_err());
    }

    #[test]
    fn scopes_accept_strings_and_named_objects_and_the_grant_defaults_to_code() {
        let o = one(json!({"clientId": "id", "tokenUrl": "http://t",
            "scopes": [{"name": "read", "description": "d"}, "write"]}))
        .unwrap();
        assert_eq!(o.scopes, ["read", "write"]);
        assert_eq!(o.grant.kind(), GrantType::AuthorizationCode);
        assert_eq!(o.body, BodyFormat::Form);
        assert!(matches!(o.client_auth, ClientAuth::Basic));
    }

    #[test]
    fn the_jwt_object_is_typed_at_load_and_its_mistakes_named() {
        let base = json!({"clientId": "id", "tokenUrl": "http://t",
            "grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer"});
        let with = |jwt: Value| {
            let mut o = base.clone();
            o["jwt"] = jwt;
            one(o)
        };
        let o = with(json!({"privateKeyFile": "k.pem", "algorithm": "es256",
            "scope": ["a", "b"], "keyId": "kid-1"}))
        .unwrap();
        let Grant::JwtBearer(jwt) = &o.grant else {
            panic!("a jwt-bearer grant: {o:?}")
        };
        assert_eq!(jwt.algorithm, jwt::Algorithm::Es256);
        assert_eq!(jwt.scope.as_deref(), Some("a b"));
        assert_eq!(jwt.lifetime, jwt::DEFAULT_LIFETIME);
        assert!(
            !format!(
                "{:?}",
                with(json!({"privateKey": "fake-pem-text"})).unwrap()
            )
            .contains("fake-pem-text")
        );
        for (jwt, said) in [
            (
                json!({"privateKeyFile": "k.pem", "algorithm": "none"}),
                "unknown algorithm",
            ),
            (
                json!({"privateKeyFile": "k.pem", "lifetime": 7200}),
                "1 to 3600",
            ),
            (
                json!({"privateKeyFile": "k.pem", "privateKey": "x"}),
                "not both",
            ),
            (json!({}), "needs the signing key"),
        ] {
            let e = with(jwt).unwrap_err().to_string();
            assert!(e.contains(said) && e.contains(".oauth2.jwt"), "{e}");
        }
        let e = one(base.clone()).unwrap_err().to_string();
        assert!(e.contains("\"jwt\" object"), "{e}");
        let mut pkj = json!({"clientId": "id", "tokenUrl": "http://t",
            "tokenEndpointAuthMethod": "private_key_jwt"});
        assert!(one(pkj.clone()).is_err());
        pkj["jwt"] = json!({"privateKeyFile": "k.pem"});
        let o = one(pkj).unwrap();
        assert!(
            matches!(o.client_auth, ClientAuth::PrivateKeyJwt(_)),
            "{o:?}"
        );
    }

    #[test]
    fn the_jwt_object_goes_to_what_signs_with_it_and_is_checked_even_when_nothing_does() {
        let both = one(
            json!({"clientId": "id", "tokenUrl": "http://t", "grantType": JWT_BEARER,
            "tokenEndpointAuthMethod": "private_key_jwt",
            "jwt": {"privateKeyFile": "k.pem", "keyId": "kid-1"}}),
        )
        .unwrap();
        let kid = |jwt: &jwt::JwtSettings| jwt.key_id.as_deref() == Some("kid-1");
        assert!(matches!(&both.grant, Grant::JwtBearer(jwt) if kid(jwt)));
        assert!(matches!(&both.client_auth, ClientAuth::PrivateKeyJwt(jwt) if kid(jwt)));
        let unused = json!({"clientId": "id", "tokenUrl": "http://t",
            "jwt": {"privateKeyFile": "k.pem", "algorithm": "none"}});
        let e = one(unused).unwrap_err().to_string();
        assert!(e.contains("jwt.algorithm: unknown algorithm"), "{e}");
        let unused = one(json!({"clientId": "id", "tokenUrl": "http://t",
            "jwt": {"privateKeyFile": "k.pem"}}))
        .unwrap();
        assert!(unused.jwt().is_none(), "nothing signs with it: {unused:?}");
    }

    #[test]
    fn a_refresh_token_lifetime_is_whole_seconds_with_an_optional_sliding_flag() {
        let with = |extra: Value| {
            let mut o = json!({"clientId": "id", "tokenUrl": "http://t"});
            o.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            one(o)
        };
        let o = with(json!({"refreshTokenLifetime": 600, "refreshTokenSliding": true})).unwrap();
        assert_eq!(
            o.refresh_token_lifetime,
            Some(RefreshTokenLifetime {
                seconds: 600,
                sliding: true
            })
        );
        assert_eq!(with(json!({})).unwrap().refresh_token_lifetime, None);
        for bad in [json!("600"), json!(-1), json!(1.5)] {
            let e = with(json!({"refreshTokenLifetime": bad})).unwrap_err();
            assert!(
                e.to_string()
                    .contains("oauth2.refreshTokenLifetime must be a whole number of seconds"),
                "{e}"
            );
        }
    }

    #[test]
    fn settings_are_typed_at_load_and_errors_name_the_key_path() {
        let o = one(json!({"clientId": "id", "tokenUrl": "http://t",
            "grantType": "client_credentials", "requestContentType": "application/json"}))
        .unwrap();
        assert_eq!(o.grant.kind(), GrantType::ClientCredentials);
        assert!(
            matches!(o.client_auth, ClientAuth::Post),
            "JSON bodies carry the credentials"
        );
        for (key, value, said) in [
            ("grantType", "implicit", "unknown grant type \"implicit\""),
            (
                "requestContentType",
                "text/xml",
                "unknown requestContentType",
            ),
            (
                "tokenEndpointAuthMethod",
                "tls_client_auth",
                "unknown client authentication",
            ),
        ] {
            let mut o = json!({"clientId": "id", "tokenUrl": "http://t"});
            o[key] = json!(value);
            let e = one(o).unwrap_err().to_string();
            assert!(
                e.contains(&format!("authorizations[0] (\"a\").oauth2.{key}")) && e.contains(said),
                "{e}"
            );
        }
    }

    #[test]
    fn the_redirect_host_and_path_are_checked_at_load() {
        let base = json!({"clientId": "id", "tokenUrl": "http://t"});
        let with = |extra: Value| {
            let mut o = base.clone();
            o.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            one(o)
        };
        let o = with(json!({"redirectHost": "localhost", "redirectPath": "/oauth/done"})).unwrap();
        assert_eq!(o.redirect_host, Some(LoopbackHost::Localhost));
        assert_eq!(o.redirect_path.as_deref(), Some("/oauth/done"));
        for (extra, said) in [
            (
                json!({"redirectHost": "example.com"}),
                "redirectHost \"example.com\" must be 127.0.0.1, localhost or [::1]",
            ),
            (
                json!({"redirectPath": "done"}),
                "redirectPath \"done\" must start with /",
            ),
            (
                json!({"redirectPath": "/done", "redirectUrl": "http://127.0.0.1:9002/cb"}),
                "redirectPath cannot go with redirectUrl",
            ),
        ] {
            let e = with(extra).unwrap_err().to_string();
            assert!(e.contains(said), "{e}");
        }
    }

    #[test]
    fn debug_of_a_config_shows_no_secret_or_parameter_value() {
        let o = one(json!({"clientId": "id", "tokenUrl": "http://t?api_key=fake-key-in-url",
            "clientSecret": "fake-secret-value", "tokenRequestParameters": {"api_key": "fake-key-value"},
            "refreshRequestParameters": {"assertion": "fake-assertion-value"}}))
        .unwrap();
        let debug = format!("{o:?}");
        assert!(
            debug.contains("api_key") && debug.contains("assertion"),
            "{debug}"
        );
        assert!(!debug.contains("fake-"), "{debug}");
    }

    #[test]
    fn grant_types_read_and_write_their_names() {
        for (name, grant) in GrantType::ALL {
            assert_eq!(GrantType::parse(name), Ok(grant));
            assert_eq!(grant.to_string(), name);
        }
    }

    #[test]
    fn client_auth_names_and_defaults() {
        let form = BodyFormat::Form;
        assert_eq!(ClientAuth::parse(None, form), Ok(ClientAuth::Basic));
        assert_eq!(
            ClientAuth::parse(None, BodyFormat::Json),
            Ok(ClientAuth::Post)
        );
        assert_eq!(
            ClientAuth::parse(Some("client_secret_post"), form),
            Ok(ClientAuth::Post)
        );
        assert_eq!(
            ClientAuth::parse(Some("client_secret_basic"), BodyFormat::Json),
            Ok(ClientAuth::Basic)
        );
        assert_eq!(ClientAuth::parse(Some("both"), form), Ok(ClientAuth::Both));
        assert_eq!(
            ClientAuth::parse(Some("private_key_jwt"), form),
            Ok(ClientAuth::PrivateKeyJwt(()))
        );
        assert!(ClientAuth::parse(Some("tls_client_auth"), form).is_err());
    }
}
