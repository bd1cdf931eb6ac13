//! Every way a run can fail, each with what the user can do about it and the exit code a
//! script can rely on. Messages never carry a secret: variants hold names, paths, URLs and
//! the provider's own words, not credentials.

use std::path::PathBuf;

/// Exit codes, documented in the README; scripts depend on them, so never renumber.
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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} not found", .path.display())]
    ConfigNotFound { path: PathBuf },

    #[error("{} is not valid JSON: {message} at line {line}, column {column}", .path.display())]
    ConfigMalformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{}: {message}", .path.display())]
    ConfigInvalid { path: PathBuf, message: String },

    #[error("{}: {message} at line {line}, column {column}", .path.display())]
    ConfigDuplicateKey {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{} cannot be used as the project file: {why}", .path.display())]
    ConfigRefused { path: PathBuf, why: String },

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

    #[error(
        "{field} is encrypted for the platform (unito-secret-v1://) and cannot be used offline"
    )]
    EncryptedSecret { field: String },

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

    #[error("{value:?} from {origin} is not a port number (0-65535)")]
    InvalidPort { value: String, origin: &'static str },

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

    #[error("could not reach the token endpoint {url}: {detail}")]
    Network { url: String, detail: String },

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

    #[error("the stored refresh token was refused ({error}{})", describe(.description, &None))]
    RefreshRejected {
        error: String,
        description: Option<String>,
        /// The command that logs this test account in again, as the user would type it.
        retry: String,
    },

    #[error("test account \"{test_account}\" has no usable access token: {reason}")]
    NeedsLogin {
        test_account: String,
        reason: String,
        /// The command that logs this test account in, as the user would type it.
        retry: String,
    },

    #[error("a tunnel needs an ngrok authtoken, and NGROK_AUTHTOKEN is not set (or is blank)")]
    TunnelNoAuthtoken,

    #[error("could not open the ngrok tunnel: {detail}")]
    TunnelConnect { detail: String },

    #[error("ngrok did not open the tunnel within {secs} s")]
    TunnelTimeout { secs: u64 },

    #[error("the tunnel closed while waiting for the browser ({reason}); nothing was saved")]
    TunnelClosed { reason: String },

    #[error("port {port} on 127.0.0.1 is already in use, so the sandbox cannot listen there")]
    SandboxPortInUse { port: u16 },

    #[error("{} already exists", .path.display())]
    DemoWouldOverwrite { path: PathBuf },

    #[error("{} already exists", .path.display())]
    InitWouldOverwrite { path: PathBuf },

    #[error("no preset named \"{preset}\"")]
    InitUnknownPreset { preset: String, available: String },

    #[error("without a terminal to ask, these are needed: {flags}")]
    InitMissing { flags: String },

    /// An argument or answer that cannot be used, said in full by `message`.
    #[error("{message}")]
    InvalidInput { message: String },

    #[error("{why}")]
    PasteRefused { why: String },

    #[error("{failed} test account(s) could not be brought up to date; see the lines above")]
    SomeAccountsFailed { failed: usize },

    #[error(
        "the callback came from issuer {got}, not {expected}: a possible mix-up attack (RFC 9207), so the code was not used"
    )]
    IssuerMismatch { expected: String, got: String },

    #[error(
        "test account \"{test_account}\" holds a value the platform encrypted ({field}: unito-secret-v1://…), which a connector running here cannot read, so it is not sent"
    )]
    EncryptedCredential { test_account: String, field: String },

    #[error("the connector SDK would answer 400 to this X-Unito-Credentials value: {why}")]
    CredentialsUnreadable { why: String },

    #[error("could not run {program}: {detail}")]
    CommandNotStarted { program: String, detail: String },

    /// The command `exec` ran ended so; its code is passed on, with nothing to add.
    #[error("the command exited with code {code}")]
    CommandExited { code: i32 },

    #[error("cannot listen on {addr}: {detail}")]
    ProxyListen { addr: String, detail: String },

    /// An error already put in words elsewhere (the proxy's credentials thread).
    #[error("{message}")]
    Relayed {
        message: String,
        hint: Option<String>,
        code: i32,
    },

    #[error("cancelled")]
    Interrupted,

    /// SIGTERM or SIGHUP: `timeout`, `docker stop`, a CI cancellation, a closed terminal.
    #[error("stopped by {signal}")]
    Stopped { signal: &'static str, code: i32 },

    /// A prompt or the terminal itself failed.
    #[error("{0}")]
    Terminal(String),

    /// stdout could not be written (a closed pipe).
    #[error("{0}")]
    Output(String),

    /// Something of our own that should not fail did (the async runtime, the callback
    /// server's task, signal handling).
    #[error("{0}")]
    Internal(String),
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

impl Error {
    /// An I/O failure on `path`, saying what was being done (`"read"`, `"write"`, …).
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// What to do next, in the user's terms. `None` where the message already says it all.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::ConfigNotFound { .. } => "start one with: integration-cli init (it asks for \
                the provider and writes the file). Or run integration-cli at the root of your \
                connector project, or pass --config PATH."
                .into(),
            Error::ConfigMalformed { .. } => {
                "fix the file by hand; integration-cli did not change it.".into()
            }
            Error::ConfigDuplicateKey { .. } => "remove one of the two; integration-cli did not \
                change the file."
                .into(),
            Error::ConfigRefused { .. } => {
                "point --config (or UNITO_CONFIG) at your connector's .unito.json.".into()
            }
            Error::CannotSave { .. } => "integration-cli saves by writing a temporary file beside \
                the file and renaming it over it: the folder and the file must be writable by you \
                (ls -ld on both shows who may)."
                .into(),
            Error::SavedAside { retry, .. } => format!(
                "fix the cause (free some disk space, say), then put them into the file with: {retry}"
            ),
            Error::TokensLost { retry, .. } => format!(
                "fix the cause (free some disk space, say), then log in again with: {retry}"
            ),
            Error::RecoveryPending { retry, .. } => format!(
                "put them into the file with: {retry} (a refresh with the file's own refresh \
                 token could be refused, or revoke the grant)"
            ),
            Error::NothingToRecover { .. } => return None,
            Error::RecoveryStale { recovery, .. } => format!(
                "delete {} once you are sure the file's tokens work",
                recovery.display()
            ),
            Error::EnvVarNotAllowed { .. } => "so that a project file cannot send your other \
                secrets to a server it names; export the value under a name such as \
                MY_CONNECTOR_CLIENT_SECRET, and write that name in the file."
                .into(),
            Error::EnvNotApproved { var, file, .. } => format!(
                "if you trust {} to send it there, run the command once at a terminal to \
                 approve it (kept in your configuration folder, not the project), or pass \
                 --allow-env {var} (or set {}={var}) for this run.",
                file.display(),
                crate::approvals::ALLOW_ENV
            ),
            Error::ApprovalsUnreadable { .. } => "fix it or delete it: each variable is then \
                asked for again."
                .into(),
            Error::ConfigInvalid { .. } => "see the README's .unito.json section (or \
                .unito.json.example in the integration-cli repository) for every field."
                .into(),
            Error::NoAuthorization { .. } => "add an entry with \"method\": \"oauth2\" to \"authorizations\"."
                .into(),
            Error::AuthorizationNotFound { .. } => "pass one of the names above to --authorization.".into(),
            Error::AuthorizationAmbiguous { .. } => {
                "pass --authorization NAME (stdin is not a terminal, so there is no prompt).".into()
            }
            Error::EncryptedSecret { .. } => "supply the plain value in an environment variable: set \
                UNITO_CLIENT_SECRET, or write \"${MY_SECRET}\" in the file and export MY_SECRET."
                .into(),
            Error::MissingEnvVar { var, .. } => format!("export {var}=... before running."),
            Error::KeyFile { fix: Some(fix), .. } => format!("run: {fix}"),
            Error::KeyFile { .. } => "check jwt.privateKeyFile: a PEM file, relative to \
                .unito.json."
                .into(),
            Error::KeyOutsideProject { .. } => "a .unito.json you did not write could have one of \
                your own keys sign for a token URL of its choosing. If you trust this file with \
                that key, run again with --allow-key-outside (or UNITO_ALLOW_KEY_OUTSIDE=1); \
                else put the key in the project's folder."
                .into(),
            Error::VariablesMissing {
                missing, fix, edit, ..
            } => {
                let them = if missing.len() > 1 { "them" } else { "it" };
                format!("give {them} with: {fix} (or add {edit})")
            }
            Error::TemplateValue { fix, .. } => {
                format!("change it with: {fix} (or edit the test account in the file)")
            }
            Error::PasswordMissing { .. } => "set UNITO_USERNAME (or --username) and \
                UNITO_PASSWORD, or run at a terminal to be asked; the password is never \
                stored."
                .into(),
            Error::InvalidPort { .. } => "set OAUTH2_PORT or --port to a number such as 9002.".into(),
            Error::PortInUse {
                from_redirect_url: true,
                ..
            }
            | Error::Bind {
                from_redirect_url: true,
                ..
            } => "the authorization's redirectUrl fixes this port: stop whatever listens there, or \
                change redirectUrl (and register the new URL with the provider)."
                .into(),
            Error::PortInUse { .. } => "stop whatever listens there, or pick another port with \
                OAUTH2_PORT=PORT (or --port PORT); the provider must accept that redirect URL."
                .into(),
            Error::Bind { .. } => "pick another port with OAUTH2_PORT=PORT (or --port PORT).".into(),
            Error::AuthorizationDenied { error, .. } if error == "access_denied" => {
                "the login or consent was declined; run again to retry.".into()
            }
            Error::AuthorizationDenied { .. } => {
                "check the authorization's clientId, scopes and redirect URL with the provider.".into()
            }
            Error::CallbackTimeout { .. } => "finish the login in the browser sooner, or raise --timeout. If \
                the browser cannot reach 127.0.0.1 (SSH, container), forward the port: ssh -L PORT:127.0.0.1:PORT."
                .into(),
            Error::TokenEndpoint { url, .. }
            | Error::TokenHttp { url, .. }
            | Error::TokenResponse { url, .. }
                if let Some(said) = crate::providers::for_url(url).and_then(|p| p.token_hint) =>
            {
                said.into()
            }
            Error::TokenEndpoint { error, .. } if error == "invalid_client" => {
                "check clientId and clientSecret, and how the provider wants them sent \
                 (tokenEndpointAuthMethod: client_secret_basic or client_secret_post)."
                    .into()
            }
            Error::TokenEndpoint { .. } | Error::TokenHttp { .. } | Error::TokenResponse { .. } => {
                "check the authorization's tokenUrl and credentials; the provider's words are above."
                    .into()
            }
            Error::Network { .. } => {
                "check the tokenUrl and your network connection, then run again.".into()
            }
            Error::Untrusted { .. } => "behind a company network that inspects TLS, trust its \
                CA: --ca-file company-ca.pem (or SSL_CERT_FILE=company-ca.pem), a PEM file your \
                IT department provides."
                .into(),
            Error::CaFile { .. } => "give a PEM file of CA certificates \
                (-----BEGIN CERTIFICATE-----)."
                .into(),
            Error::ProxySetting { variable, .. } => format!(
                "set {variable} to a proxy URL such as http://proxy.example:8080 (https://, \
                 socks5:// and socks5h:// too), or unset it to connect directly."
            ),
            Error::ProxyRefused {
                variable,
                wants_credentials: true,
                ..
            } => format!(
                "the proxy wants credentials: put them in {variable} as \
                 http://USER:PASSWORD@host:port (percent-encoded), or check the ones there; \
                 NO_PROXY=host skips the proxy for a host that needs none."
            ),
            Error::ProxyRefused { variable, .. } => format!(
                "check {variable} and whether the proxy allows this host; NO_PROXY=host skips \
                 the proxy for a host that needs none."
            ),
            Error::RefreshRejected { retry, .. } => format!("log in again with: {retry}"),
            Error::InitWouldOverwrite { .. } => {
                "pass --force to replace it, or --config PATH to write another file".into()
            }
            Error::InitUnknownPreset { available, .. } => format!("use one of: {available}, custom"),
            Error::InitMissing { .. } => "pass them as flags; see integration-cli init --help".into(),
            Error::InvalidInput { .. } => return None,
            Error::SandboxPortInUse { .. } => {
                "pick another with --port (0 lets the system choose), or stop the other sandbox".into()
            }
            Error::DemoWouldOverwrite { .. } => {
                "pass --force to replace it, or leave out --dir to use a temporary folder".into()
            }
            Error::SomeAccountsFailed { .. } => return None,
            Error::PasteRefused { .. } => "paste the whole address from the browser's address bar \
                after logging in (it starts with the redirect URL), or the code the provider shows"
                .into(),
            Error::IssuerMismatch { .. } => "if the provider's issuer really changed, correct the \
                authorization's issuer in .unito.json; otherwise another authorization server \
                answered this login: log in again, and check the browser's address bar"
                .into(),
            Error::TunnelNoAuthtoken => "copy your authtoken from \
                https://dashboard.ngrok.com/get-started/your-authtoken and run: \
                export NGROK_AUTHTOKEN=<token>"
                .into(),
            Error::TunnelConnect { .. } => "live tunnels need internet access; check \
                NGROK_AUTHTOKEN, and that a --tunnel-domain (NGROK_DOMAIN) is reserved on your ngrok \
                account"
                .into(),
            Error::TunnelTimeout { .. } => "live tunnels need internet access; on a slow \
                network raise --tunnel-timeout"
                .into(),
            Error::TunnelClosed { .. } => "run the command again to open a new tunnel (with a \
                random ngrok domain, register its new redirect URL with the provider first)"
                .into(),
            Error::NeedsLogin { retry, .. } => format!("log in first with: {retry}"),
            Error::EncryptedCredential { test_account, field } => format!(
                "put the plain value in testAccounts.{test_account}.{field} (the file stays on \
                 this machine), or fill the test account with integration-cli oauth2"
            ),
            Error::CredentialsUnreadable { .. } => "the value must be base64 (standard \
                alphabet, with padding) of the UTF-8 JSON of an object; integration-cli \
                credentials prints one"
                .into(),
            Error::CommandNotStarted { .. } => "check the command's name and that it is on \
                PATH; it comes after --, as in: integration-cli exec -- npm test"
                .into(),
            Error::ProxyListen { .. } => "another proxy or program may hold the port: pick \
                another with --listen 127.0.0.1:PORT"
                .into(),
            Error::CommandExited { .. } => return None,
            Error::Relayed { hint, .. } => return hint.clone(),
            Error::Io { .. }
            | Error::NotOAuth2 { .. }
            | Error::Interrupted
            | Error::Stopped { .. }
            | Error::Terminal(_)
            | Error::Output(_)
            | Error::Internal(_) => {
                return None;
            }
        })
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::AuthorizationDenied { .. } => exit::DENIED,
            Error::CallbackTimeout { .. } => exit::TIMED_OUT,
            Error::RefreshRejected { .. } | Error::NeedsLogin { .. } => exit::NEEDS_LOGIN,
            Error::InitUnknownPreset { .. }
            | Error::InvalidPort { .. }
            | Error::InitMissing { .. }
            | Error::VariablesMissing { .. }
            | Error::TemplateValue { .. }
            | Error::EnvNotApproved { .. }
            | Error::InvalidInput { .. } => exit::USAGE,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Stopped { code, .. } => *code,
            Error::CommandExited { code } | Error::Relayed { code, .. } => *code,
            _ => exit::ERROR,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
