//! What a run did, as values: the flow builds them and `report` words them, so deciding
//! and saying stay apart. They hold no secret: the access token is already masked.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::config::{GrantType, field};
use crate::error::{Error, Result, RunError};

/// What a run did to a test account's tokens, as `--json` says it in `action` (scripts
/// match on these words: they never change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A login in the browser (the authorization code grant).
    Login,
    Refresh,
    ClientCredentials,
    JwtBearer,
    Password,
    /// Still fresh: nothing was requested.
    Kept,
    /// Tokens a failed save had set aside, saved now.
    Recovered,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Refresh => "refresh",
            Action::ClientCredentials => "client_credentials",
            Action::JwtBearer => "jwt_bearer",
            Action::Password => "password",
            Action::Kept => "kept",
            Action::Recovered => "recovered",
        }
    }
}

/// What `oauth2` did to one test account.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub authorization: String,
    pub test_account: String,
    /// The file, as the user named it.
    pub file: PathBuf,
    pub tokens: Tokens,
    pub happened: Happened,
}

impl Outcome {
    pub fn action(&self) -> Action {
        match &self.happened {
            Happened::Saved(saved) => saved.action,
            Happened::Kept { .. } => Action::Kept,
            Happened::Recovered { .. } => Action::Recovered,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Happened {
    /// New tokens, saved.
    Saved(Saved),
    /// The stored token is still good: nothing was requested. The grant says what a new
    /// one would take.
    Kept { grant: GrantType },
    /// Tokens an earlier run had set aside (at `saved_at`), saved into the file now.
    Recovered { saved_at: String },
}

/// New tokens, and what became of the refresh token.
#[derive(Debug, Clone)]
pub struct Saved {
    /// Login, Refresh, ClientCredentials, JwtBearer or Password.
    pub action: Action,
    pub refresh: RefreshFate,
    /// Why a login brought no refresh token, when the provider gives one if asked right.
    pub refresh_hint: Option<&'static str>,
    /// The path in the answer the access token was taken from, when not the top level.
    pub token_from: Option<String>,
    /// The provider sent an `expires_in` that could not be used as a lifetime.
    pub expires_in_unusable: bool,
}

/// What became of the refresh token. A new grant's refresh token is `Saved`, never
/// `Rotated`: it belongs to another grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFate {
    Saved,
    Rotated,
    Unchanged,
    /// The provider sent none, and the stored one still holds.
    Kept,
    /// There is none.
    None,
}

/// A test account's tokens as the run left them, with the access token masked.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    pub expires_at: Option<String>,
    pub scope: Option<String>,
    /// The refresh token, or a long-lived access token, is near its end: the warning given.
    pub refresh_warning: Option<crate::lifetime::Warning>,
}

impl Tokens {
    pub fn of(fields: &Map<String, Value>) -> Tokens {
        let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_string);
        Tokens {
            access_token: text(field::ACCESS_TOKEN).map(|t| crate::secret::mask(&t)),
            token_type: text(field::TOKEN_TYPE),
            expires_at: text(field::EXPIRES_AT),
            scope: text(field::SCOPE),
            refresh_warning: None,
        }
    }
}

/// What `oauth2 --all` did to each test account.
#[derive(Debug, Clone)]
pub struct AllOutcome {
    pub authorization: String,
    pub accounts: Vec<(String, Each)>,
    /// A stop signal came: requests already sent were let finish, no new one started.
    pub interrupted: bool,
}

/// One test account under `--all`.
#[derive(Debug, Clone)]
pub enum Each {
    /// Nothing to do, or nothing that can be done without a browser, and why.
    Skipped(String),
    /// New tokens (`refreshed`: by a refresh, else a new grant), saved.
    Saved {
        refreshed: bool,
        expires_at: Option<String>,
    },
    /// The refresh token was refused: a login (`retry`) would fix it.
    NeedsLogin {
        refused: String,
        retry: String,
    },
    /// Not sent, because a stop signal came first.
    NotAttempted,
    Failed(String),
}

impl Each {
    pub fn failed(&self) -> bool {
        !matches!(self, Each::Skipped(_) | Each::Saved { .. })
    }
}

impl AllOutcome {
    /// The run's exit: cancelled, some accounts failed, or fine.
    pub fn verdict(&self) -> Result<()> {
        if self.interrupted {
            return Err(Error::Interrupted);
        }
        match self
            .accounts
            .iter()
            .filter(|(_, each)| each.failed())
            .count()
        {
            0 => Ok(()),
            failed => Err(RunError::SomeAccountsFailed { failed }.into()),
        }
    }
}
