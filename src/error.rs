//! Every way a run can fail, each with what the user can do about it and the exit code a
//! script can rely on. Messages never carry a secret: variants hold names, paths, URLs and
//! the provider's own words, not credentials.
//!
//! Failures are grouped by domain, one enum each, with its hints and exit codes beside its
//! variants; `Error` wraps them, so functions return one type and `?` converts.

use std::path::PathBuf;

/// Exit codes, documented in docs/guide.md (and each command's help); scripts depend on them, so never renumber.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    /// A bad command line: clap's own exit code, and ours for what clap cannot check.
    pub const USAGE: i32 = 2;
    pub const DENIED: i32 = 3;
    pub const TIMED_OUT: i32 = 4;
    /// No usable token without someone at a browser: run `integration-cli oauth2`.
    pub const NEEDS_LOGIN: i32 = 5;
    /// Ctrl-C (SIGINT).
    pub const INTERRUPTED: i32 = 130;
    /// SIGHUP: the terminal was closed.
    pub const HANGUP: i32 = 129;
    /// SIGTERM: `timeout`, `docker stop`, a CI cancellation, systemd.
    pub const TERMINATED: i32 = 143;
}

/// What every function returns: a domain's failure, or one of the few that belong to none.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Env(#[from] EnvError),

    #[error(transparent)]
    File(#[from] FileError),

    #[error(transparent)]
    Provider(#[from] ProviderError),

    #[error(transparent)]
    Network(#[from] NetworkError),

    #[error(transparent)]
    Tunnel(#[from] TunnelError),

    #[error(transparent)]
    User(#[from] UserError),

    #[error(transparent)]
    Run(#[from] RunError),

    /// An error already put in words elsewhere (the proxy's credentials task).
    #[error("{message}")]
    Relayed {
        message: String,
        hint: Option<String>,
        code: i32,
    },

    #[error("cancelled")]
    Interrupted,

    /// Something of our own that should not fail did (the async runtime, the callback
    /// server's task, signal handling).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// An I/O failure on `path`, saying what was being done (`"read"`, `"write"`, …).
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Error {
        FileError::Io {
            action,
            path: path.into(),
            source,
        }
        .into()
    }

    /// What to do next, in the user's terms. `None` where the message already says it all.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Env(e) => e.hint(),
            Error::File(e) => e.hint(),
            Error::Provider(e) => e.hint(),
            Error::Network(e) => e.hint(),
            Error::Tunnel(e) => e.hint(),
            Error::User(e) => e.hint(),
            Error::Run(e) => e.hint(),
            Error::Interrupted | Error::Internal(_) => None,
            Error::Relayed { hint, .. } => hint.clone(),
        }
    }

    /// The exit code scripts rely on (see `exit`): each domain's own, decided beside its
    /// variants.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(e) => e.exit_code(),
            Error::Env(e) => e.exit_code(),
            Error::File(e) => e.exit_code(),
            Error::Provider(e) => e.exit_code(),
            Error::Network(e) => e.exit_code(),
            Error::Tunnel(e) => e.exit_code(),
            Error::User(e) => e.exit_code(),
            Error::Run(e) => e.exit_code(),
            Error::Relayed { code, .. } => *code,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Internal(_) => exit::ERROR,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The folders above that the search for the file looked in, when it did.
fn tried_above(tried: &[PathBuf]) -> String {
    if tried.len() < 2 {
        return String::new();
    }
    let all: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    format!(
        " here or above, up to the repository's root or the home folder (looked for {})",
        all.join(", ")
    )
}

/// The project file and what it says: found, parsed, valid, the authorization chosen in it,
/// the signing key it names. Exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{} not found{}", .path.display(), tried_above(.tried))]
    NotFound {
        path: PathBuf,
        /// Where the search from a subfolder looked, when it looked above (see `discover`).
        tried: Vec<PathBuf>,
    },

    #[error("{} is not valid JSON: {message} at line {line}, column {column}", .path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },

    #[error("{}: {message} at line {line}, column {column}", .path.display())]
    DuplicateKey {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{} cannot be used as the project file: {why}", .path.display())]
    Refused { path: PathBuf, why: String },

    #[error("no OAuth 2.0 authorization in {}", .path.display())]
    NoAuthorization { path: PathBuf },

    #[error("no authorization named \"{name}\" (available: {})", .available.join(", "))]
    AuthorizationNotFound {
        name: String,
        available: Vec<String>,
    },

    #[error("several authorizations and no way to ask which one (available: {})", .available.join(", "))]
    AuthorizationAmbiguous { available: Vec<String> },

    #[error("authorization \"{name}\" uses method \"{method}\", not oauth2")]
    NotOAuth2 { name: String, method: String },

    #[error("the signing key {} cannot be used: {detail}", .path.display())]
    KeyFile {
        path: PathBuf,
        detail: String,
        fix: Option<String>,
    },

    #[error(
        "the signing key {} is outside the project's folder {} (it is {}), and a key there \
         is used only when you allow it",
        .path.display(), .folder.display(), .real.display()
    )]
    KeyOutsideProject {
        path: PathBuf,
        real: PathBuf,
        folder: PathBuf,
    },
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::NotFound { .. } => "start one with: integration-cli init (it asks for \
                the provider and writes the file). Or run integration-cli at the root of your \
                connector project, or pass --config PATH."
                .into(),
            ConfigError::Malformed { .. } => {
                "fix the file by hand; integration-cli did not change it.".into()
            }
            ConfigError::DuplicateKey { .. } => "remove one of the two; integration-cli did not \
                change the file."
                .into(),
            ConfigError::Refused { .. } => {
                "point --config (or UNITO_CONFIG) at your connector's .unito.json.".into()
            }
            ConfigError::Invalid { .. } => "see the README's .unito.json section (or \
                .unito.json.example in the integration-cli repository) for every field."
                .into(),
            ConfigError::NoAuthorization { .. } => {
                "add an entry with \"method\": \"oauth2\" to \"authorizations\".".into()
            }
            ConfigError::AuthorizationNotFound { .. } => {
                "pass one of the names above to --authorization.".into()
            }
            ConfigError::AuthorizationAmbiguous { .. } => {
                "pass --authorization NAME (stdin is not a terminal, so there is no prompt).".into()
            }
            ConfigError::NotOAuth2 { .. } => return None,
            ConfigError::KeyFile { fix: Some(fix), .. } => format!("run: {fix}"),
            ConfigError::KeyFile { .. } => "check jwt.privateKeyFile: a PEM file, relative to \
                .unito.json."
                .into(),
            ConfigError::KeyOutsideProject { .. } => "a .unito.json you did not write could have \
                one of your own keys sign for a token URL of its choosing. If you trust this file \
                with that key, run again with --allow-key-outside (or UNITO_ALLOW_KEY_OUTSIDE=1); \
                else put the key in the project's folder."
                .into(),
        })
    }

    /// The file is wrong, whatever the command line says: a plain failure.
    pub fn exit_code(&self) -> i32 {
        exit::ERROR
    }
}

/// Names approved for one run, comma-separated, as `--allow-env` approves them. Here, not
/// in `approvals`, so that the hint naming it needs nothing above this module.
pub const ALLOW_ENV: &str = "UNITO_ALLOW_ENV";

/// A value the file takes from elsewhere, an environment variable or the platform's
/// encryption, that cannot be had here. Exit code 1, or 2 for an approval not given.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(
        "{field} is encrypted for the platform (unito-secret-v1://) and cannot be used offline"
    )]
    EncryptedSecret { field: String },

    #[error(
        "test account \"{test_account}\" holds a value the platform encrypted ({field}: unito-secret-v1://…), which a connector running here cannot read, so it is not sent"
    )]
    EncryptedCredential { test_account: String, field: String },

    #[error("{field} refers to ${{{var}}}, but the environment variable {var} is not set")]
    MissingEnvVar { field: String, var: String },

    #[error(
        "{field} refers to ${{{var}}}, which integration-cli does not expand there: only variables named {rule} are"
    )]
    EnvVarNotAllowed {
        field: String,
        var: String,
        rule: &'static str,
    },

    #[error(
        "{field} would send the environment variable {var} to {host}, which you have not approved"
    )]
    EnvNotApproved {
        var: String,
        field: String,
        host: String,
        file: PathBuf,
    },

    #[error("the list of approved environment variables, {}, cannot be read: {why}", path.display())]
    ApprovalsUnreadable { path: PathBuf, why: String },
}

impl EnvError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            EnvError::EncryptedSecret { .. } => "supply the plain value in an environment \
                variable: set UNITO_CLIENT_SECRET, or write \"${MY_SECRET}\" in the file and \
                export MY_SECRET."
                .into(),
            EnvError::EncryptedCredential {
                test_account,
                field,
            } => format!(
                "put the plain value in testAccounts.{test_account}.{field} (the file stays on \
                 this machine), or fill the test account with integration-cli oauth2"
            ),
            EnvError::MissingEnvVar { var, .. } => format!("export {var}=... before running."),
            EnvError::EnvVarNotAllowed { .. } => "so that a project file cannot send your other \
                secrets to a server it names; export the value under a name such as \
                MY_CONNECTOR_CLIENT_SECRET, and write that name in the file."
                .into(),
            EnvError::EnvNotApproved { var, file, .. } => format!(
                "if you trust {} to send it there, run the command once at a terminal to \
                 approve it (kept in your configuration folder, not the project), or pass \
                 --allow-env {var} (or set {}={var}) for this run.",
                file.display(),
                ALLOW_ENV
            ),
            EnvError::ApprovalsUnreadable { .. } => "fix it or delete it: each variable is then \
                asked for again."
                .into(),
        })
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            EnvError::EnvNotApproved { .. } => exit::USAGE,
            _ => exit::ERROR,
        }
    }
}

/// Saving tokens into the file, and the tokens set aside when that failed. Exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("tokens could not be saved into {}: {why}; nothing was sent to the provider", .path.display())]
    CannotSave { path: PathBuf, why: String },

    #[error(
        "the new tokens could not be saved into {} ({cause}); they were written to {} instead",
        .path.display(), .recovery.display()
    )]
    SavedAside {
        path: PathBuf,
        recovery: PathBuf,
        cause: String,
        /// The command that puts them into the file, as the user would type it.
        retry: String,
    },

    #[error(
        "the new tokens could not be saved into {} ({cause}), nor set aside ({tried}); they are lost",
        .path.display()
    )]
    TokensLost {
        path: PathBuf,
        cause: String,
        tried: String,
        retry: String,
    },

    #[error(
        "tokens from an earlier run that could not save them are waiting in {}, and the file's may be spent",
        .recovery.display()
    )]
    RecoveryPending { recovery: PathBuf, retry: String },

    #[error("no tokens set aside for test account \"{test_account}\" of {}", .path.display())]
    NothingToRecover { test_account: String, path: PathBuf },

    #[error(
        "the tokens in {} are older than test account \"{test_account}\" in the file (it changed after they were set aside), so they were not used",
        .recovery.display()
    )]
    RecoveryStale {
        recovery: PathBuf,
        test_account: String,
    },

    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FileError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            FileError::CannotSave { .. } => "integration-cli saves by writing a temporary file \
                beside the file and renaming it over it: the folder and the file must be \
                writable by you (ls -ld on both shows who may)."
                .into(),
            FileError::SavedAside { retry, .. } => format!(
                "fix the cause (free some disk space, say), then put them into the file with: {retry}"
            ),
            FileError::TokensLost { retry, .. } => format!(
                "fix the cause (free some disk space, say), then log in again with: {retry}"
            ),
            FileError::RecoveryPending { retry, .. } => format!(
                "put them into the file with: {retry} (a refresh with the file's own refresh \
                 token could be refused, or revoke the grant)"
            ),
            FileError::RecoveryStale { recovery, .. } => format!(
                "delete {} once you are sure the file's tokens work",
                recovery.display()
            ),
            FileError::NothingToRecover { .. } | FileError::Io { .. } => return None,
        })
    }

    /// A file that cannot be read or saved is a plain failure, whatever the command.
    pub fn exit_code(&self) -> i32 {
        exit::ERROR
    }
}

/// The authorization server: the login through it, and what its token endpoint answered.
/// Exit codes 3 (denied), 4 (no callback in time), 5 (log in again), else 1.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "the provider refused the authorization: {error}{}{}",
        describe(.description, .uri),
        .unchecked.as_ref().map_or(String::new(), |why| format!("; besides, {why}"))
    )]
    AuthorizationDenied {
        error: String,
        description: Option<String>,
        uri: Option<String>,
        /// The refusal's issuer could not be checked (it carries no `iss`, or another):
        /// said after the provider's own words, since no code was used anyway.
        unchecked: Option<String>,
    },

    #[error("no callback from the provider within {secs} s")]
    CallbackTimeout { secs: u64 },

    #[error(
        "the callback came from issuer {got}, not {expected}: a possible mix-up attack (RFC 9207), so the code was not used"
    )]
    IssuerMismatch { expected: String, got: String },

    #[error("the token endpoint {url} answered {status} {error}{}", describe(.description, .uri))]
    TokenEndpoint {
        url: String,
        status: u16,
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },

    #[error("the token endpoint {url} answered {status} ({content_type}): {snippet}")]
    TokenHttp {
        url: String,
        status: u16,
        content_type: String,
        snippet: String,
    },

    #[error("the token endpoint {url} sent an unusable response: {message}")]
    TokenResponse {
        url: String,
        message: String,
        /// A new refresh token the refused answer carried, for the caller to keep.
        refresh_token: Option<crate::secret::RefreshToken>,
    },

    #[error("the stored refresh token was refused ({error}{})", describe(.description, &None))]
    RefreshRejected {
        error: String,
        description: Option<String>,
        /// The command that logs this test account in again, as the user would type it.
        retry: String,
    },

    #[error("the revocation endpoint {url} refused to revoke the token{}: {said}", status_of(*.status))]
    Revocation {
        url: String,
        status: u16,
        said: String,
        /// The `logout --force` command for this file, authorization and test account.
        retry: String,
    },

    #[error("test account \"{test_account}\" has no usable access token: {reason}")]
    NeedsLogin {
        test_account: String,
        reason: String,
        /// The command that logs this test account in, as the user would type it.
        retry: String,
    },

    /// `init --issuer`: the provider's published metadata cannot be used.
    #[error("the metadata of issuer {issuer} cannot be used: {why}; nothing was written")]
    Metadata { issuer: String, why: String },
}

/// `(400)`, or nothing when there was no status to give (an answer too large to read).
fn status_of(status: u16) -> String {
    if status == 0 {
        String::new()
    } else {
        format!(" ({status})")
    }
}

fn describe(description: &Option<String>, uri: &Option<String>) -> String {
    let mut out = String::new();
    if let Some(d) = description {
        out.push_str(": ");
        out.push_str(d);
    }
    if let Some(u) = uri {
        out.push_str(&format!(" (see {u})"));
    }
    out
}

impl ProviderError {
    pub fn hint(&self) -> Option<String> {
        use ProviderError::*;
        Some(match self {
            AuthorizationDenied { error, .. } if error == "access_denied" => {
                "the login or consent was declined; run again to retry.".into()
            }
            AuthorizationDenied { .. } => {
                "check the authorization's clientId, scopes and redirect URL with the provider."
                    .into()
            }
            CallbackTimeout { .. } => "finish the login in the browser sooner, or raise \
                --timeout. If the browser cannot reach 127.0.0.1 (SSH, container), forward the \
                port: ssh -L PORT:127.0.0.1:PORT."
                .into(),
            IssuerMismatch { .. } => "if the provider's issuer really changed, correct the \
                authorization's issuer in .unito.json; otherwise another authorization server \
                answered this login: log in again, and check the browser's address bar"
                .into(),
            TokenEndpoint { url, .. } | TokenHttp { url, .. } | TokenResponse { url, .. }
                if let Some(said) = crate::providers::for_url(url).and_then(|p| p.token_hint) =>
            {
                said.into()
            }
            TokenEndpoint { error, .. } if error == "invalid_client" => {
                "check clientId and clientSecret, and how the provider wants them sent \
                 (tokenEndpointAuthMethod: client_secret_basic or client_secret_post)."
                    .into()
            }
            TokenEndpoint { .. } | TokenHttp { .. } | TokenResponse { .. } => {
                "check the authorization's tokenUrl and credentials; the provider's words are \
                 above."
                    .into()
            }
            Revocation { retry, .. } => format!(
                "the tokens were kept in the file. Try again later, or remove them here anyway \
                 with: {retry} (the grant may then still stand at the provider)."
            ),
            RefreshRejected { retry, .. } => format!("log in again with: {retry}"),
            NeedsLogin { retry, .. } => format!("log in first with: {retry}"),
            Metadata { .. } => "check the issuer URL the provider documents (Auth0's end in /, \
                Okta's do not), or give the endpoints yourself: --preset custom \
                --authorization-url URL --token-url URL"
                .into(),
        })
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            ProviderError::AuthorizationDenied { .. } => exit::DENIED,
            ProviderError::CallbackTimeout { .. } => exit::TIMED_OUT,
            ProviderError::RefreshRejected { .. } | ProviderError::NeedsLogin { .. } => {
                exit::NEEDS_LOGIN
            }
            _ => exit::ERROR,
        }
    }
}

/// Connections: reaching the token endpoint (TLS, the company proxy) and listening on a
/// local port (the callback server, the sandbox, the proxy). Exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("could not reach the token endpoint {url}: {detail}")]
    Unreachable { url: String, detail: String },

    #[error("the TLS certificate of {url} is not trusted here: {detail}")]
    Untrusted { url: String, detail: String },

    #[error("the CA file {} ({origin}) cannot be used: {detail}", .path.display())]
    CaFile {
        path: PathBuf,
        origin: &'static str,
        detail: String,
    },

    /// A proxy variable that names no usable proxy: refused, never passed over for a
    /// direct connection the company network may forbid.
    #[error("the proxy in {variable} cannot be used ({value}): {detail}; nothing was sent")]
    ProxySetting {
        variable: String,
        /// The value with any credentials left out.
        value: String,
        detail: String,
    },

    /// The company proxy, not the token endpoint, turned the request away.
    #[error("the proxy {proxy} (from {variable}) refused the request to {url}: {detail}")]
    ProxyRefused {
        /// The proxy's address without credentials.
        proxy: String,
        variable: String,
        url: String,
        detail: String,
        /// A 407: it wants (other) credentials.
        wants_credentials: bool,
    },

    #[error("port {port} on {host} is already in use")]
    PortInUse {
        port: u16,
        host: &'static str,
        /// The authorization's `redirectUrl` chose the port, not `--port`/`OAUTH2_PORT`.
        from_redirect_url: bool,
    },

    #[error("cannot listen on {host} port {port}: {source}")]
    Bind {
        port: u16,
        host: &'static str,
        from_redirect_url: bool,
        source: std::io::Error,
    },

    #[error("port {port} on 127.0.0.1 is already in use, so the sandbox cannot listen there")]
    SandboxPortInUse { port: u16 },

    #[error("cannot listen on {addr}: {detail}")]
    ProxyListen { addr: String, detail: String },
}

impl NetworkError {
    pub fn hint(&self) -> Option<String> {
        use NetworkError::*;
        Some(match self {
            Unreachable { .. } => {
                "check the tokenUrl and your network connection, then run again.".into()
            }
            Untrusted { .. } => "behind a company network that inspects TLS, trust its CA: \
                --ca-file company-ca.pem (or SSL_CERT_FILE=company-ca.pem), a PEM file your IT \
                department provides."
                .into(),
            CaFile { .. } => {
                "give a PEM file of CA certificates (-----BEGIN CERTIFICATE-----).".into()
            }
            ProxySetting { variable, .. } => format!(
                "set {variable} to a proxy URL such as http://proxy.example:8080 (https://, \
                 socks5:// and socks5h:// too), or unset it to connect directly."
            ),
            ProxyRefused {
                variable,
                wants_credentials: true,
                ..
            } => format!(
                "the proxy wants credentials: put them in {variable} as \
                 http://USER:PASSWORD@host:port (percent-encoded), or check the ones there; \
                 NO_PROXY=host skips the proxy for a host that needs none."
            ),
            ProxyRefused { variable, .. } => format!(
                "check {variable} and whether the proxy allows this host; NO_PROXY=host skips \
                 the proxy for a host that needs none."
            ),
            PortInUse {
                from_redirect_url: true,
                ..
            }
            | Bind {
                from_redirect_url: true,
                ..
            } => "the authorization's redirectUrl fixes this port: stop whatever listens there, \
                 or change redirectUrl (and register the new URL with the provider)."
                .into(),
            PortInUse { .. } => "stop whatever listens there, or pick another port with \
                OAUTH2_PORT=PORT (or --port PORT); the provider must accept that redirect URL."
                .into(),
            Bind { .. } => "pick another port with OAUTH2_PORT=PORT (or --port PORT).".into(),
            SandboxPortInUse { .. } => "pick another with --port (0 lets the system choose), or \
                stop the other sandbox"
                .into(),
            ProxyListen { .. } => "another proxy or program may hold the port: pick another \
                with --listen 127.0.0.1:PORT"
                .into(),
        })
    }

    /// A connection or a port is a plain failure: running again may do.
    pub fn exit_code(&self) -> i32 {
        exit::ERROR
    }
}

/// The ngrok tunnel a login through a public redirect URL needs. Exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("a tunnel needs an ngrok authtoken, and NGROK_AUTHTOKEN is not set (or is blank)")]
    NoAuthtoken,

    #[error("could not open the ngrok tunnel: {detail}")]
    Connect { detail: String },

    #[error("ngrok did not open the tunnel within {secs} s")]
    Timeout { secs: u64 },

    #[error("the tunnel closed while waiting for the browser ({reason}); nothing was saved")]
    Closed { reason: String },
}

impl TunnelError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TunnelError::NoAuthtoken => "copy your authtoken from \
                https://dashboard.ngrok.com/get-started/your-authtoken and run: \
                export NGROK_AUTHTOKEN=<token>"
                .into(),
            TunnelError::Connect { .. } => "live tunnels need internet access; check \
                NGROK_AUTHTOKEN, and that a --tunnel-domain (NGROK_DOMAIN) is reserved on your \
                ngrok account"
                .into(),
            TunnelError::Timeout { .. } => "live tunnels need internet access; on a slow \
                network raise --tunnel-timeout"
                .into(),
            TunnelError::Closed { .. } => "run the command again to open a new tunnel (with a \
                random ngrok domain, register its new redirect URL with the provider first)"
                .into(),
        })
    }

    /// A tunnel that cannot open or stay open is a plain failure.
    pub fn exit_code(&self) -> i32 {
        exit::ERROR
    }
}

/// What the user gave, or must give: arguments, answers, pasted values, the variables of a
/// test account. Exit code 2 where another argument would do, else 1.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// An argument or answer that cannot be used, said in full by `message`.
    #[error("{message}")]
    InvalidInput { message: String },

    /// `logout` asked at the terminal, and the answer was no.
    #[error("nothing was signed out: {what} kept its tokens")]
    SignOutDeclined { what: String },

    #[error("{value:?} from {origin} is not a port number (0-65535)")]
    InvalidPort { value: String, origin: &'static str },

    #[error(
        "test account \"{test_account}\" has no value for {}, which authorization \"{authorization}\" needs",
        .missing.join(", ")
    )]
    VariablesMissing {
        test_account: String,
        authorization: String,
        /// Each name, with its label.
        missing: Vec<String>,
        /// The `oauth2 --var …` command that gives them.
        fix: String,
        /// The file edit that does too.
        edit: String,
    },

    #[error("{message}")]
    TemplateValue {
        message: String,
        /// The `oauth2 --var …` command that changes the value.
        fix: String,
    },

    #[error("the password grant needs {what}")]
    PasswordMissing { what: String },

    #[error("{why}")]
    PasteRefused { why: String },

    #[error("the connector SDK would answer 400 to this X-Unito-Credentials value: {why}")]
    CredentialsUnreadable { why: String },

    #[error("{} already exists", .path.display())]
    InitWouldOverwrite { path: PathBuf },

    #[error("without a terminal to ask, these are needed: {flags}")]
    InitMissing {
        flags: String,
        /// No `--preset` was given: one would give most of them.
        no_preset: bool,
    },

    #[error("{} already exists", .path.display())]
    DemoWouldOverwrite { path: PathBuf },

    #[error(
        "test account \"{name}\" is not in {} (it has: {})",
        .path.display(),
        if .known.is_empty() { "none yet".to_string() } else { .known.join(", ") }
    )]
    UnknownTestAccount {
        name: String,
        path: PathBuf,
        known: Vec<String>,
        /// The known name it is closest to, when one is close.
        closest: Option<String>,
        /// Whether this run could make it (a login), given `--new`.
        login: bool,
    },
}

impl UserError {
    pub fn hint(&self) -> Option<String> {
        use UserError::*;
        Some(match self {
            InvalidInput { .. } => return None,
            SignOutDeclined { .. } => "give --yes to sign out without being asked.".into(),
            InvalidPort { .. } => "set OAUTH2_PORT or --port to a number such as 9002.".into(),
            VariablesMissing {
                missing, fix, edit, ..
            } => {
                let them = if missing.len() > 1 { "them" } else { "it" };
                format!("give {them} with: {fix} (or add {edit})")
            }
            TemplateValue { fix, .. } => {
                format!("change it with: {fix} (or edit the test account in the file)")
            }
            PasswordMissing { .. } => "set UNITO_USERNAME (or --username) and UNITO_PASSWORD, \
                or run at a terminal to be asked; the password is never stored."
                .into(),
            PasteRefused { .. } => "paste the whole address from the browser's address bar \
                after logging in (it starts with the redirect URL), or the code the provider shows"
                .into(),
            CredentialsUnreadable { .. } => "the value must be base64 (standard alphabet, with \
                padding) of the UTF-8 JSON of an object; integration-cli credentials prints one"
                .into(),
            InitWouldOverwrite { .. } => {
                "pass --force to replace it, or --config PATH to write another file".into()
            }
            InitMissing {
                no_preset: false, ..
            } => "pass them as flags; see integration-cli init --help".into(),
            InitMissing {
                no_preset: true, ..
            } => "pass them as flags, or start from a provider's preset, which knows its URLs: \
                --preset github (or google, microsoft, slack, ...; see integration-cli init \
                --help), or --preset custom with the flags"
                .into(),
            DemoWouldOverwrite { .. } => {
                "pass --force to replace it, or leave out --dir to use a temporary folder".into()
            }
            UnknownTestAccount {
                name,
                closest,
                login,
                ..
            } => {
                let meant = closest
                    .as_ref()
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                let make = match login {
                    true => "add --new to make a new test account of that name".to_string(),
                    false => format!(
                        "make it with a login first: integration-cli oauth2 -t {name} --new"
                    ),
                };
                format!("{meant}{make}")
            }
        })
    }

    pub fn exit_code(&self) -> i32 {
        use UserError::*;
        match self {
            InvalidInput { .. }
            | InvalidPort { .. }
            | VariablesMissing { .. }
            | TemplateValue { .. }
            | InitMissing { .. }
            | UnknownTestAccount { .. } => exit::USAGE,
            _ => exit::ERROR,
        }
    }
}

/// The run itself: the command `exec` starts, the test accounts `--all` went through, the
/// terminal, stdout and the signals that stop it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not run {program}: {detail}")]
    CommandNotStarted { program: String, detail: String },

    /// The command `exec` ran ended so; its code is passed on, with nothing to add.
    #[error("the command exited with code {code}")]
    CommandExited { code: i32 },

    #[error("{failed} test account(s) could not be brought up to date; see the lines above")]
    SomeAccountsFailed { failed: usize },

    /// `logout --all`: the provider refused some; those kept their tokens.
    #[error(
        "{failed} test account(s) could not be signed out and kept their tokens; see the lines above"
    )]
    SomeSignOutsFailed { failed: usize },

    /// SIGTERM or SIGHUP: `timeout`, `docker stop`, a CI cancellation, a closed terminal.
    #[error("stopped by {signal}")]
    Stopped { signal: &'static str, code: i32 },

    /// A prompt or the terminal itself failed.
    #[error("{0}")]
    Terminal(String),

    /// stdout could not be written (a closed pipe).
    #[error("{0}")]
    Output(String),
}

impl RunError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::CommandNotStarted { .. } => Some(
                "check the command's name and that it is on PATH; it comes after --, as in: \
                 integration-cli exec -- npm test"
                    .into(),
            ),
            RunError::SomeSignOutsFailed { .. } => Some(
                "try again later, or remove their tokens here anyway with --force (the grants \
                 may then still stand at the provider)."
                    .into(),
            ),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::CommandExited { code } | RunError::Stopped { code, .. } => *code,
            _ => exit::ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn io() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, "fake-denied")
    }

    fn s(v: &str) -> String {
        v.to_string()
    }

    /// One of each variant, and of each branch its hint takes.
    fn samples() -> Vec<Error> {
        let github = "https://github.com/login/oauth/access_token";
        let other = "https://auth.example.test/token";
        vec![
            ConfigError::NotFound {
                path: p("a/.unito.json"),
                tried: Vec::new(),
            }
            .into(),
            ConfigError::NotFound {
                path: p(".unito.json"),
                tried: vec![p(".unito.json"), p("../.unito.json")],
            }
            .into(),
            ConfigError::Malformed {
                path: p(".unito.json"),
                line: 3,
                column: 7,
                message: s("expected value"),
            }
            .into(),
            ConfigError::Invalid {
                path: p(".unito.json"),
                message: s("bad field"),
            }
            .into(),
            ConfigError::DuplicateKey {
                path: p(".unito.json"),
                line: 2,
                column: 4,
                message: s("duplicate key \"a\""),
            }
            .into(),
            ConfigError::Refused {
                path: p("/dev/null"),
                why: s("not a file"),
            }
            .into(),
            FileError::CannotSave {
                path: p(".unito.json"),
                why: s("read-only"),
            }
            .into(),
            FileError::SavedAside {
                path: p(".unito.json"),
                recovery: p(".unito.json.recovered"),
                cause: s("disk full"),
                retry: s("integration-cli recover"),
            }
            .into(),
            FileError::TokensLost {
                path: p(".unito.json"),
                cause: s("disk full"),
                tried: s("no room"),
                retry: s("integration-cli oauth2"),
            }
            .into(),
            FileError::RecoveryPending {
                recovery: p("r.json"),
                retry: s("integration-cli recover"),
            }
            .into(),
            FileError::NothingToRecover {
                test_account: s("dev"),
                path: p(".unito.json"),
            }
            .into(),
            FileError::RecoveryStale {
                recovery: p("r.json"),
                test_account: s("dev"),
            }
            .into(),
            Error::io("read", Path::new("x.json"), io()),
            ConfigError::NoAuthorization {
                path: p(".unito.json"),
            }
            .into(),
            ConfigError::AuthorizationNotFound {
                name: s("b"),
                available: vec![s("a"), s("c")],
            }
            .into(),
            ConfigError::AuthorizationAmbiguous {
                available: vec![s("a"), s("c")],
            }
            .into(),
            ConfigError::NotOAuth2 {
                name: s("a"),
                method: s("custom"),
            }
            .into(),
            ConfigError::KeyFile {
                path: p("k.pem"),
                detail: s("too open"),
                fix: Some(s("chmod 600 k.pem")),
            }
            .into(),
            ConfigError::KeyFile {
                path: p("k.pem"),
                detail: s("not PEM"),
                fix: None,
            }
            .into(),
            ConfigError::KeyOutsideProject {
                path: p("k.pem"),
                real: p("/elsewhere/k.pem"),
                folder: p("/project"),
            }
            .into(),
            UserError::VariablesMissing {
                test_account: s("dev"),
                authorization: s("a"),
                missing: vec![s("subdomain (Subdomain)")],
                fix: s("integration-cli oauth2 --var subdomain=..."),
                edit: s("\"subdomain\" to the test account"),
            }
            .into(),
            UserError::VariablesMissing {
                test_account: s("dev"),
                authorization: s("a"),
                missing: vec![s("x (X)"), s("y (Y)")],
                fix: s("integration-cli oauth2 --var x=... --var y=..."),
                edit: s("\"x\" and \"y\""),
            }
            .into(),
            UserError::TemplateValue {
                message: s("subdomain \"a/b\" is not a host label"),
                fix: s("integration-cli oauth2 --var subdomain=..."),
            }
            .into(),
            UserError::PasswordMissing {
                what: s("a username"),
            }
            .into(),
            EnvError::EncryptedSecret {
                field: s("clientSecret"),
            }
            .into(),
            EnvError::MissingEnvVar {
                field: s("clientSecret"),
                var: s("MY_SECRET"),
            }
            .into(),
            EnvError::EnvVarNotAllowed {
                field: s("clientSecret"),
                var: s("HOME"),
                rule: "*_SECRET",
            }
            .into(),
            EnvError::EnvNotApproved {
                var: s("MY_SECRET"),
                field: s("clientSecret"),
                host: s("auth.example.test"),
                file: p("/p/.unito.json"),
            }
            .into(),
            EnvError::ApprovalsUnreadable {
                path: p("approvals.json"),
                why: s("bad JSON"),
            }
            .into(),
            UserError::InvalidPort {
                value: s("x"),
                origin: "OAUTH2_PORT",
            }
            .into(),
            NetworkError::PortInUse {
                port: 9002,
                host: "127.0.0.1",
                from_redirect_url: true,
            }
            .into(),
            NetworkError::PortInUse {
                port: 9002,
                host: "127.0.0.1",
                from_redirect_url: false,
            }
            .into(),
            NetworkError::Bind {
                port: 80,
                host: "127.0.0.1",
                from_redirect_url: true,
                source: io(),
            }
            .into(),
            NetworkError::Bind {
                port: 80,
                host: "127.0.0.1",
                from_redirect_url: false,
                source: io(),
            }
            .into(),
            ProviderError::AuthorizationDenied {
                error: s("access_denied"),
                description: None,
                uri: None,
                unchecked: None,
            }
            .into(),
            ProviderError::AuthorizationDenied {
                error: s("invalid_scope"),
                description: Some(s("no such scope")),
                uri: Some(s("https://docs.example.test")),
                unchecked: Some(s("the refusal has no iss")),
            }
            .into(),
            ProviderError::CallbackTimeout { secs: 300 }.into(),
            ProviderError::TokenEndpoint {
                url: s(github),
                status: 200,
                error: s("bad_verification_code"),
                description: None,
                uri: None,
            }
            .into(),
            ProviderError::TokenEndpoint {
                url: s(other),
                status: 401,
                error: s("invalid_client"),
                description: Some(s("who are you")),
                uri: None,
            }
            .into(),
            ProviderError::TokenEndpoint {
                url: s(other),
                status: 400,
                error: s("invalid_grant"),
                description: None,
                uri: Some(s("https://docs.example.test")),
            }
            .into(),
            ProviderError::TokenHttp {
                url: s(github),
                status: 500,
                content_type: s("text/html"),
                snippet: s("<h1>oops"),
            }
            .into(),
            ProviderError::TokenHttp {
                url: s(other),
                status: 502,
                content_type: s("text/html"),
                snippet: s("bad gateway"),
            }
            .into(),
            ProviderError::TokenResponse {
                url: s(github),
                message: s("no access_token"),
                refresh_token: None,
            }
            .into(),
            ProviderError::TokenResponse {
                url: s(other),
                message: s("no access_token"),
                refresh_token: None,
            }
            .into(),
            NetworkError::Unreachable {
                url: s(other),
                detail: s("connection refused"),
            }
            .into(),
            NetworkError::Untrusted {
                url: s(other),
                detail: s("unknown issuer"),
            }
            .into(),
            NetworkError::CaFile {
                path: p("ca.pem"),
                origin: "--ca-file",
                detail: s("no certificate"),
            }
            .into(),
            NetworkError::ProxySetting {
                variable: s("HTTPS_PROXY"),
                value: s("ftp://proxy"),
                detail: s("unsupported scheme"),
            }
            .into(),
            NetworkError::ProxyRefused {
                proxy: s("http://proxy.example.test:8080"),
                variable: s("HTTPS_PROXY"),
                url: s(other),
                detail: s("407"),
                wants_credentials: true,
            }
            .into(),
            NetworkError::ProxyRefused {
                proxy: s("http://proxy.example.test:8080"),
                variable: s("HTTPS_PROXY"),
                url: s(other),
                detail: s("403"),
                wants_credentials: false,
            }
            .into(),
            ProviderError::RefreshRejected {
                error: s("invalid_grant"),
                description: Some(s("revoked")),
                retry: s("integration-cli oauth2 --test-account dev"),
            }
            .into(),
            ProviderError::RefreshRejected {
                error: s("invalid_grant"),
                description: None,
                retry: s("integration-cli oauth2"),
            }
            .into(),
            ProviderError::NeedsLogin {
                test_account: s("dev"),
                reason: s("it has none"),
                retry: s("integration-cli oauth2"),
            }
            .into(),
            TunnelError::NoAuthtoken.into(),
            TunnelError::Connect {
                detail: s("offline"),
            }
            .into(),
            TunnelError::Timeout { secs: 30 }.into(),
            TunnelError::Closed {
                reason: s("ngrok went away"),
            }
            .into(),
            NetworkError::SandboxPortInUse { port: 9100 }.into(),
            UserError::DemoWouldOverwrite {
                path: p("d/.unito.json"),
            }
            .into(),
            UserError::UnknownTestAccount {
                name: s("developmnet"),
                path: p(".unito.json"),
                known: vec![s("development"), s("qa")],
                closest: Some(s("development")),
                login: true,
            }
            .into(),
            UserError::UnknownTestAccount {
                name: s("qa2"),
                path: p(".unito.json"),
                known: Vec::new(),
                closest: None,
                login: false,
            }
            .into(),
            UserError::InitWouldOverwrite {
                path: p(".unito.json"),
            }
            .into(),
            UserError::InitMissing {
                no_preset: false,
                flags: s("--preset"),
            }
            .into(),
            UserError::InitMissing {
                no_preset: true,
                flags: s("--client-id, --authorization-url, --token-url"),
            }
            .into(),
            UserError::InvalidInput {
                message: s("--var wants NAME=VALUE"),
            }
            .into(),
            UserError::SignOutDeclined {
                what: s("test account \"compliance\""),
            }
            .into(),
            ProviderError::Revocation {
                url: s("https://oauth2.googleapis.com/revoke"),
                status: 400,
                said: s("invalid_client: The OAuth client was not found."),
                retry: s("integration-cli logout --force"),
            }
            .into(),
            ProviderError::Revocation {
                url: s("https://slack.com/api/auth.revoke"),
                status: 0,
                said: s("an answer too large to read"),
                retry: s("integration-cli logout -a slack -t compliance --force"),
            }
            .into(),
            UserError::PasteRefused {
                why: s("not the redirect URL"),
            }
            .into(),
            RunError::SomeAccountsFailed { failed: 2 }.into(),
            RunError::SomeSignOutsFailed { failed: 1 }.into(),
            ProviderError::IssuerMismatch {
                expected: s("https://a.example.test"),
                got: s("https://b.example.test"),
            }
            .into(),
            ProviderError::Metadata {
                issuer: s("https://a.example.test"),
                why: s("it names the issuer https://b.example.test, not https://a.example.test"),
            }
            .into(),
            EnvError::EncryptedCredential {
                test_account: s("dev"),
                field: s("apiKey"),
            }
            .into(),
            UserError::CredentialsUnreadable {
                why: s("not base64"),
            }
            .into(),
            RunError::CommandNotStarted {
                program: s("npm"),
                detail: s("not found"),
            }
            .into(),
            RunError::CommandExited { code: 7 }.into(),
            NetworkError::ProxyListen {
                addr: s("127.0.0.1:8080"),
                detail: s("in use"),
            }
            .into(),
            Error::Relayed {
                message: s("relayed"),
                hint: Some(s("its hint")),
                code: 5,
            },
            Error::Relayed {
                message: s("relayed"),
                hint: None,
                code: 1,
            },
            Error::Interrupted,
            RunError::Stopped {
                signal: "SIGTERM",
                code: exit::TERMINATED,
            }
            .into(),
            RunError::Stopped {
                signal: "SIGHUP",
                code: exit::HANGUP,
            }
            .into(),
            RunError::Terminal(s("no terminal to ask on")).into(),
            RunError::Output(s("cannot write to stdout: broken pipe")).into(),
            Error::Internal(s("the runtime failed")),
        ]
    }

    fn render(errors: &[Error]) -> String {
        errors
            .iter()
            .map(|e| format!("{e}\n  hint: {:?}\n  exit: {}\n", e.hint(), e.exit_code()))
            .collect()
    }

    /// Every message, hint and exit code, byte for byte as users and scripts see them.
    #[test]
    fn messages_hints_and_exit_codes_are_unchanged() {
        let golden = include_str!("../tests/fixtures/errors.txt");
        assert_eq!(render(&samples()), golden);
    }
}
