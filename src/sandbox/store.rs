//! What the sandbox remembers, in memory: pending consents, codes, grants with what each
//! login asked for, refresh tokens live and spent, access tokens and their expiry.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use oauth2::CsrfToken;

/// How long codes and access tokens live; settable so their expiry can be tested.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub code: Duration,
    pub access_token: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: Duration::from_secs(60),
            access_token: Duration::from_secs(3600),
        }
    }
}

/// What a login asked for at the authorization endpoint: its whole query, kept with the
/// grant, since some providers answer a refresh by what the login asked (Slack's user and
/// bot tokens, Google's id_token).
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub params: HashMap<String, String>,
    /// The tenant the login came to, for a per-tenant persona: its tokens are good there only.
    pub tenant: Option<String>,
}

impl Asked {
    pub fn get(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("")
    }

    pub fn scope(&self) -> &str {
        self.get("scope")
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope().split_whitespace().any(|s| s == scope)
    }
}

pub struct PendingConsent {
    pub asked: Asked,
    pub redirect_uri: String,
    pub state: String,
    pub created: Instant,
}

pub struct Code {
    pub redirect_uri: String,
    pub challenge: String,
    pub issued: Instant,
    pub grant: u64,
    /// Whether this grant gets a refresh token (the persona decided at consent).
    pub offline: bool,
}

/// Grant 0 is client credentials: no login behind it.
#[derive(Default)]
pub struct Store {
    pub consents: HashMap<String, PendingConsent>,
    pub codes: HashMap<String, Code>,
    /// Codes already exchanged, with their grant: a replay revokes it (RFC 6749 §4.1.2).
    pub spent_codes: HashMap<String, u64>,
    /// What each grant's login asked for.
    pub grants: HashMap<u64, Asked>,
    /// refresh token -> grant
    pub refresh: HashMap<String, u64>,
    /// spent refresh token -> grant
    pub spent_refresh: HashMap<String, u64>,
    /// Refresh tokens that refresh a user's token (Slack issues a bot's and a user's).
    pub user_refresh: HashSet<String>,
    /// access token -> (grant, expiry; `None`: it never expires, as the provider says)
    pub access: HashMap<String, (u64, Option<Instant>)>,
    pub next_grant: u64,
    /// The one sandbox user has consented to the client before (Google then gives a refresh
    /// token only on a new consent).
    pub consented_before: bool,
    pub lifetimes: Lifetimes,
    pub stats: Stats,
    /// The `jti` of every assertion accepted: a second use is a replay.
    pub seen_jti: HashSet<String>,
}

/// What the sandbox counts, for tests that must prove what a client did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Requests that reached the token endpoint, answered or refused.
    pub token_requests: u64,
    /// Refreshes answered with new tokens.
    pub refreshes: u64,
    /// Spent refresh tokens presented again (each revoked its grant).
    pub reused_refresh_tokens: u64,
    /// Requests that reached the revocation endpoint.
    pub revocations: u64,
    /// Tokens (or grants) the revocation endpoint ended.
    pub revoked: u64,
}

impl Store {
    pub fn revoke(&mut self, grant: u64) {
        self.refresh.retain(|_, g| *g != grant);
        self.access.retain(|_, (g, _)| *g != grant);
    }

    pub fn new_grant(&mut self, asked: Asked) -> u64 {
        self.next_grant += 1;
        self.grants.insert(self.next_grant, asked);
        self.next_grant
    }

    /// A new access token for `grant`, valid for `lifetime` (`None`: for good, as providers
    /// that state no lifetime mean it; userinfo enforces it).
    pub fn mint_access(&mut self, grant: u64, prefix: &str, lifetime: Option<Duration>) -> String {
        let access = format!("{prefix}{}", random());
        let expiry = lifetime.and_then(|l| Instant::now().checked_add(l));
        self.access.insert(access.clone(), (grant, expiry));
        access
    }

    pub fn mint_refresh(&mut self, grant: u64, prefix: &str) -> String {
        let refresh = format!("{prefix}{}", random());
        self.refresh.insert(refresh.clone(), grant);
        refresh
    }
}

pub fn random() -> String {
    CsrfToken::new_random_len(32).secret().clone()
}
