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
    /// Who is logging in.
    pub user: User,
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
    /// Who logged in for each grant (any other grant is `User::first`'s).
    pub users: HashMap<u64, User>,
    /// Logins begun so far: each is another user, unless its `login_hint` names one.
    pub logins: u64,
}

/// A sandbox user, as the providers' "who am I" endpoints and `id_token`s describe one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub login: String,
    pub name: String,
    pub email: String,
}

/// The users after the first (`sandbox-user`, the password grant's), in login order;
/// then `user-N`.
const NAMED: [(&str, &str); 3] = [
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
];

impl User {
    /// The sandbox's own user: the first login's and the password grant's.
    pub fn first() -> User {
        User {
            login: super::USERNAME.into(),
            name: "Sandbox User".into(),
            email: format!("{}@example.test", super::USERNAME),
        }
    }

    fn named(login: &str, name: &str) -> User {
        User {
            login: login.into(),
            name: name.into(),
            email: format!("{login}@example.com"),
        }
    }

    /// The user a `login_hint` names: one of ours by login or e-mail, or one made from it.
    fn hinted(hint: &str) -> User {
        let first = User::first();
        if hint == first.login || hint == first.email {
            return first;
        }
        let login = hint.split('@').next().unwrap_or(hint);
        match NAMED.iter().find(|(l, _)| *l == login) {
            Some((l, name)) => User::named(l, name),
            None => User {
                login: login.into(),
                name: login.into(),
                email: if hint.contains('@') {
                    hint.into()
                } else {
                    format!("{hint}@example.com")
                },
            },
        }
    }
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

    /// Who a new login is: the user its `login_hint` names (the same person twice, as one
    /// browser session makes it), else the next one, so that each login is another user.
    pub fn next_user(&mut self, asked: &Asked) -> User {
        self.logins += 1;
        let hint = asked.get("login_hint").trim();
        if !hint.is_empty() {
            return User::hinted(hint);
        }
        match self.logins {
            1 => User::first(),
            n => match NAMED.get((n - 2) as usize) {
                Some((login, name)) => User::named(login, name),
                None => User::named(&format!("user-{n}"), &format!("User {n}")),
            },
        }
    }

    /// Who logged in for `grant`.
    pub fn user(&self, grant: u64) -> User {
        self.users.get(&grant).cloned().unwrap_or_else(User::first)
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
