//! A test account as the commands read it, and the one rule for whether its token can be
//! used now. `oauth2`, `token`, `status` and `--all` all ask this rule, so they agree.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::GrantType;
use crate::clock;
use crate::redact::{header_unsafe_reason, is_header_safe, printable};
use crate::secret::AccessToken;

/// The keys integration-cli writes in a test account (the platform's own names).
pub mod field {
    pub const ACCESS_TOKEN: &str = "accessToken";
    pub const REFRESH_TOKEN: &str = "refreshToken";
    pub const TOKEN_TYPE: &str = "tokenType";
    pub const EXPIRES_IN: &str = "expiresIn";
    pub const EXPIRES_AT: &str = "expiresAt";
    pub const SCOPE: &str = "scope";
    /// integration-cli extension: when the provider last issued tokens for the account, so
    /// that runs in other processes keep the floor between refreshes (`REFRESH_FLOOR`).
    pub const LAST_REFRESH_AT: &str = "lastRefreshAt";
    /// Every one of them: a provider field of the same name does not overwrite ours.
    pub const ALL: [&str; 7] = [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        TOKEN_TYPE,
        EXPIRES_IN,
        EXPIRES_AT,
        SCOPE,
        LAST_REFRESH_AT,
    ];
    /// Ours alone, left out of what the connector is sent.
    pub const BOOKKEEPING: [&str; 1] = [LAST_REFRESH_AT];
    /// What token answers put beside the tokens, kept as they came (see `flow::store`):
    /// the identity, lifetime and grant fields of the providers we know. `logout` removes
    /// them with `ALL`; a declared variable of the same name is the user's and stays.
    pub const FROM_PROVIDERS: &[&str] = &[
        // OpenID Connect and lifetimes.
        "id_token",
        "expires",
        "refresh_token_expires_in",
        "refresh_expires_in",
        "ext_expires_in",
        "x_refresh_token_expires_in",
        "created_at",
        "issued_at",
        "not-before-policy",
        "session_state",
        // Salesforce.
        "instance_url",
        "id",
        "signature",
        // Slack.
        "ok",
        "app_id",
        "authed_user",
        "bot_user_id",
        "team",
        "enterprise",
        "is_enterprise_install",
        "incoming_webhook",
        "response_metadata",
        "warning",
        // Dropbox, GitHub, Notion, HubSpot and others' identity fields.
        "uid",
        "account_id",
        "user_id",
        "team_id",
        "bot_id",
        "workspace_id",
        "workspace_name",
        "workspace_icon",
        "owner",
        "duplicated_template_id",
        "hub_id",
        "hub_domain",
        "user",
        "resource",
        "refresh_token_expires_at",
    ];
}

/// A token this close to expiry is treated as expired: it could lapse between now and its
/// first use. Shorter for a short-lived token (see `TestAccount::margin`).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// The least time between two refreshes of one test account, whatever its token says: a
/// provider whose tokens come back already expired (a skewed clock, a stale `created_at`)
/// must not be asked again and again. Shorter for a token that states a short life (see
/// `TestAccount::floor`).
pub const REFRESH_FLOOR: Duration = Duration::from_secs(5);

/// What can be done with a test account's token now.
#[derive(Debug)]
pub enum Freshness {
    /// Usable as it is.
    Fresh(AccessToken),
    /// Stale (or missing), and new tokens can be had without a browser: a refresh token, or
    /// a grant that needs no person. Why it is stale, in words.
    Refreshable(String),
    /// Only a login in the browser would help. Why, in words.
    NeedsLogin(String),
}

/// One test account's fields (`None`: the file has no such account).
#[derive(Debug, Clone, Copy)]
pub struct TestAccount<'a> {
    fields: Option<&'a Map<String, Value>>,
}

impl<'a> TestAccount<'a> {
    pub fn new(fields: Option<&'a Map<String, Value>>) -> TestAccount<'a> {
        TestAccount { fields }
    }

    pub fn fields(&self) -> Option<&'a Map<String, Value>> {
        self.fields
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.fields?.get(key)?.as_str().filter(|s| !s.is_empty())
    }

    pub fn access_token(&self) -> Option<&'a str> {
        self.text(field::ACCESS_TOKEN)
    }

    pub fn refresh_token(&self) -> Option<&'a str> {
        self.text(field::REFRESH_TOKEN)
    }

    pub fn scope(&self) -> Option<&'a str> {
        self.text(field::SCOPE)
    }

    /// How long the provider said the token lives (`expiresIn`, a number or a numeric
    /// string), when it said so sensibly.
    pub fn lifetime(&self) -> Option<Duration> {
        let secs = match self.fields?.get(field::EXPIRES_IN)? {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => s.trim().parse::<f64>().ok()?,
            _ => return None,
        };
        (secs.is_finite() && secs >= 1.0).then(|| Duration::from_secs_f64(secs))
    }

    /// How close to its expiry the token counts as expired: `EXPIRY_MARGIN`, or a quarter
    /// of its lifetime when that is shorter. A 5-minute token with a 60 s margin would be
    /// stale a fifth of its life, and a 90 s one refreshed on nearly every use.
    pub fn margin(&self) -> Duration {
        self.lifetime()
            .map_or(EXPIRY_MARGIN, |life| EXPIRY_MARGIN.min(life / 4))
    }

    /// When the token stops counting as fresh: `expiresAt` less the margin. `None` when no
    /// expiry is stored (or it cannot be read).
    pub fn stale_at(&self) -> Option<SystemTime> {
        let at = self.expires_at()?.ok()?;
        Some(
            at.checked_sub(self.margin())
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )
    }

    /// When `watch` (and the proxy's timer) refresh the token: twice its margin before it
    /// expires, so the other commands, which refresh within one margin of it, never find
    /// it stale while one of those runs; never inside the floor after the last refresh.
    pub fn refresh_due(&self) -> Option<SystemTime> {
        let at = self.expires_at()?.ok()?;
        let due = at
            .checked_sub(2 * self.margin())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some(self.floor_ends().map_or(due, |end| due.max(end)))
    }

    /// `lastRefreshAt`, when it can be read.
    pub fn last_refresh_at(&self) -> Option<SystemTime> {
        clock::parse_rfc3339(self.text(field::LAST_REFRESH_AT)?)
    }

    /// The floor between refreshes: `REFRESH_FLOOR`, or half the stated lifetime when that
    /// is shorter, so a provider's genuinely short-lived tokens are still refreshed in time.
    pub fn floor(&self) -> Duration {
        self.lifetime()
            .map_or(REFRESH_FLOOR, |life| REFRESH_FLOOR.min(life / 2))
    }

    /// When the floor after the last refresh ends (`None`: no refresh is on record).
    pub fn floor_ends(&self) -> Option<SystemTime> {
        Some(self.last_refresh_at()? + self.floor())
    }

    /// Whether a refresh now would come within the floor after the last one.
    pub fn within_floor(&self, now: SystemTime) -> bool {
        self.floor_ends().is_some_and(|end| now < end)
    }

    /// `expiresAt`: `None` when absent; `Some(Err(raw))` when it is not an RFC 3339 time.
    pub fn expires_at(&self) -> Option<Result<SystemTime, &'a Value>> {
        let raw = self.fields?.get(field::EXPIRES_AT)?;
        Some(raw.as_str().and_then(clock::parse_rfc3339).ok_or(raw))
    }

    /// The stored access token, if it can be used as is: present, fit for an Authorization
    /// header (a cloned file can hold anything, and `token` prints it for `$(…)`), with a
    /// header-fit `tokenType`, and not expired nor within its `margin` of it when `now` is
    /// given. A token without `expiresAt` is taken as valid: the provider did not say
    /// otherwise. One whose `expiresAt` cannot be read is not, so a refresh writes a good one.
    pub fn usable_token(&self, now: Option<SystemTime>) -> Result<AccessToken, String> {
        let token = self.access_token().ok_or("none is stored")?;
        if !is_header_safe(token) {
            return Err(format!(
                "the stored one cannot be a bearer token: {}",
                header_unsafe_reason(token)
            ));
        }
        if let Some(kind) = self.text(field::TOKEN_TYPE).filter(|t| !is_header_safe(t)) {
            return Err(format!(
                "its tokenType cannot go in an Authorization header: {}",
                header_unsafe_reason(kind)
            ));
        }
        match (now, self.expires_at()) {
            (None, _) | (_, None) => {}
            (_, Some(Err(raw))) => {
                return Err(format!(
                    "its expiresAt {} is not an RFC 3339 time such as 2026-01-31T12:00:00Z",
                    printable(&raw.to_string())
                ));
            }
            (Some(now), Some(Ok(at))) if at <= now + self.margin() => {
                let verb = if at > now { "expires" } else { "expired" };
                return Err(format!("it {verb} at {}", clock::rfc3339(at)));
            }
            (Some(_), Some(Ok(_))) => {}
        }
        Ok(AccessToken::new(token))
    }

    /// The one freshness rule, for an authorization of grant type `grant`.
    pub fn freshness(&self, grant: GrantType, now: SystemTime) -> Freshness {
        match self.usable_token(Some(now)) {
            Ok(token) => Freshness::Fresh(token),
            Err(why) if grant.needs_no_person() => Freshness::Refreshable(why),
            Err(why) if self.refresh_token().is_some() => Freshness::Refreshable(why),
            Err(why) => Freshness::NeedsLogin(format!("{why}, and there is no refresh token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn freshness(account: Value, grant: GrantType) -> Freshness {
        let now = clock::from_epoch(1_000_000);
        TestAccount::new(account.as_object()).freshness(grant, now)
    }

    fn at(secs: u64) -> String {
        clock::rfc3339(clock::from_epoch(secs))
    }

    /// The rule the commands share, as a table: every row is one account and grant, and
    /// what any command must conclude about it.
    #[test]
    fn one_rule_decides_whether_a_stored_token_is_fresh() {
        use GrantType::{AuthorizationCode as Code, ClientCredentials as Cc};
        let rt = "fake-refresh";
        for (account, grant, expected) in [
            (json!({"accessToken": "fake-a"}), Code, "fresh"),
            (
                json!({"accessToken": "fake-a", "expiresAt": at(1_000_061)}),
                Code,
                "fresh",
            ),
            (
                json!({"accessToken": "fake-a", "expiresAt": at(1_000_060)}),
                Code,
                "needs login",
            ),
            (
                json!({"accessToken": "fake-a", "expiresAt": at(1_000_060), "refreshToken": rt}),
                Code,
                "refreshable",
            ),
            (
                json!({"accessToken": "fake-a", "expiresAt": "soon", "refreshToken": rt}),
                Code,
                "refreshable",
            ),
            (json!({"refreshToken": rt}), Code, "refreshable"),
            (json!({}), Code, "needs login"),
            (json!({"accessToken": "fake a b"}), Code, "needs login"),
            (
                json!({"accessToken": "fake-a", "tokenType": "Bearer\r\nX: 1"}),
                Code,
                "needs login",
            ),
            // Client credentials: never a login, and an empty token is no token, whatever
            // its expiry says (oauth2, token, status and --all once disagreed on this one).
            (
                json!({"accessToken": "", "expiresAt": at(2_000_000)}),
                Cc,
                "refreshable",
            ),
            (
                json!({"accessToken": "fake-a", "expiresAt": at(999_000)}),
                Cc,
                "refreshable",
            ),
            (
                json!({"accessToken": "fake-a", "expiresAt": at(2_000_000)}),
                Cc,
                "fresh",
            ),
            (json!({"accessToken": "fake-a"}), Cc, "fresh"),
        ] {
            let got = match freshness(account.clone(), grant) {
                Freshness::Fresh(_) => "fresh",
                Freshness::Refreshable(_) => "refreshable",
                Freshness::NeedsLogin(_) => "needs login",
            };
            assert_eq!(got, expected, "{account} with {grant}");
        }
    }

    /// A short-lived token is not stale for most of its life: the margin is a quarter of its
    /// lifetime when that is under a minute.
    #[test]
    fn the_margin_shrinks_for_short_lived_tokens() {
        let margin = |expires_in: Value| {
            TestAccount::new(json!({"accessToken": "a", "expiresIn": expires_in}).as_object())
                .margin()
        };
        assert_eq!(margin(json!(3600)), EXPIRY_MARGIN);
        assert_eq!(margin(json!(240)), EXPIRY_MARGIN);
        assert_eq!(margin(json!(120)), Duration::from_secs(30));
        assert_eq!(margin(json!("5")), Duration::from_millis(1250));
        assert_eq!(margin(json!(null)), EXPIRY_MARGIN);
        assert_eq!(margin(json!(0)), EXPIRY_MARGIN);
        assert_eq!(margin(json!("soon")), EXPIRY_MARGIN);
        // A 5-second token, 2 s from expiry, is still fresh; 1 s from it, stale.
        let five = |left: u64| {
            let account = json!({"accessToken": "fake-a", "expiresIn": 5,
                "expiresAt": at(1_000_000 + left)});
            matches!(
                freshness(account, GrantType::ClientCredentials),
                Freshness::Fresh(_)
            )
        };
        assert!(five(2));
        assert!(!five(1));
    }

    /// The floor, on a virtual clock: a token that came back already expired is not
    /// refreshed again for a few seconds, and `refresh_due` waits for the floor too.
    #[test]
    fn a_refresh_is_never_due_inside_the_floor_after_the_last_one() {
        let account = |expires_in: u64, expires_at: u64| {
            json!({"accessToken": "fake-a", "refreshToken": "fake-r", "expiresIn": expires_in,
                "expiresAt": at(expires_at), "lastRefreshAt": at(1_000_000)})
        };
        // Born stale: an hour's token that expired before it was saved.
        let stale = account(3600, 990_000);
        let a = TestAccount::new(stale.as_object());
        assert_eq!(a.floor(), REFRESH_FLOOR);
        assert!(a.within_floor(clock::from_epoch(1_000_004)));
        assert!(!a.within_floor(clock::from_epoch(1_000_005)));
        assert_eq!(a.refresh_due(), Some(clock::from_epoch(1_000_005)));
        // A 4-second token: refreshed at half its life, not after the whole floor.
        let short = account(4, 1_000_004);
        let a = TestAccount::new(short.as_object());
        assert_eq!(a.floor(), Duration::from_secs(2));
        assert_eq!(a.refresh_due(), Some(clock::from_epoch(1_000_002)));
        // An account with no refresh on record has no floor.
        let none = json!({"accessToken": "fake-a", "expiresAt": at(990_000)});
        assert!(!TestAccount::new(none.as_object()).within_floor(clock::from_epoch(1_000_000)));
    }

    #[test]
    fn stale_says_why() {
        let why = |account: Value| match freshness(account, GrantType::AuthorizationCode) {
            Freshness::NeedsLogin(why) | Freshness::Refreshable(why) => why,
            Freshness::Fresh(_) => panic!("fresh"),
        };
        assert_eq!(
            why(json!({"accessToken": "a", "expiresAt": at(999_999)})),
            format!(
                "it expired at {}, and there is no refresh token",
                at(999_999)
            )
        );
        assert!(
            why(json!({"accessToken": "a", "expiresAt": 5})).contains("is not an RFC 3339 time")
        );
    }
}
