//! What each provider's documentation says about how long its refresh tokens live, for
//! when its token answers say nothing. One row per sandbox persona (the same keys as
//! `providers`); every figure is a provider rule, read in its docs, never measured.

use std::time::Duration;

const DAY: u64 = 24 * 3600;

/// A provider's documented refresh-token lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// It dies `absolute` after the first login, or `idle` after its last use, whichever
    /// comes first (either may be absent).
    Lasts {
        absolute: Option<Duration>,
        idle: Option<Duration>,
    },
    /// The docs say it lives until revoked.
    NoExpiry,
    /// The docs give no figure, or it is the app's own setting.
    Unknown,
}

/// One provider's row.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub key: &'static str,
    pub figure: Figure,
    /// What the figure is, in words, for `status` and the warnings.
    pub says: &'static str,
}

const fn days(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n * DAY))
}

pub const ROWS: [Row; 12] = [
    // https://developers.google.com/identity/protocols/oauth2#expiration ("A Google Cloud
    // Platform project with an OAuth consent screen configured for an external user type and
    // a publishing status of 'Testing' is issued a refresh token expiring in 7 days").
    Row {
        key: "google",
        figure: Figure::Lasts {
            absolute: days(7),
            idle: None,
        },
        says: "7 days for apps in Testing status",
    },
    // https://learn.microsoft.com/entra/identity-platform/refresh-tokens ("The default
    // lifetime for the refresh tokens is 24 hours for single page apps and 90 days for all
    // other scenarios"; each use replaces it with a fresh one).
    Row {
        key: "microsoft",
        figure: Figure::Lasts {
            absolute: None,
            idle: days(90),
        },
        says: "90 days, renewed on each use (24 hours for single-page apps)",
    },
    // https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/ (rotating
    // refresh tokens: "90 days inactivity expiry", "365 days absolute expiry").
    Row {
        key: "atlassian",
        figure: Figure::Lasts {
            absolute: days(365),
            idle: days(90),
        },
        says: "90 days unused, 365 days from the first consent",
    },
    // https://docs.slack.dev/authentication/using-token-rotation ("With token rotation, it
    // expires every 12 hours"; "Refresh tokens are designed to be used once"; no lifetime
    // is stated for the refresh token).
    Row {
        key: "slack",
        figure: Figure::Unknown,
        says: "with rotation, replaced on each use; no lifetime stated",
    },
    // https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
    // ("The refresh token is valid for 6 months"; its answers also state
    // `refresh_token_expires_in`), and for OAuth apps with expiring tokens
    // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#expiring-access-tokens
    // ("the refresh token expires after six months without use"). Each refresh gives a new
    // one, so the six months count from the last. Classic tokens, with no refresh token:
    // `UNUSED` below.
    Row {
        key: "github",
        figure: Figure::Lasts {
            absolute: None,
            idle: days(184),
        },
        says: "6 months unused, for GitHub Apps and OAuth apps with expiring tokens",
    },
    // https://help.salesforce.com/s/articleView?id=sf.connected_app_manage_oauth.htm
    // (the connected app's "Refresh Token Policy": until revoked by default, or as set).
    Row {
        key: "salesforce",
        figure: Figure::Unknown,
        says: "the connected app's refresh token policy",
    },
    // https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/v1/refresh-oauth-token
    // ("Access tokens are short lived"; 30 minutes since the 2025 change, which "will have
    // no effect on refresh tokens"). The docs call the refresh token "a long-lived
    // credential" and state no lifetime for it.
    Row {
        key: "hubspot",
        figure: Figure::Unknown,
        says: "a long-lived credential; no lifetime stated",
    },
    // https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code
    // (access tokens "only stay valid for two hours"; "If the scope offline.access is
    // applied an OAuth 2.0 refresh token will be issued"; no lifetime stated for it).
    Row {
        key: "x",
        figure: Figure::Unknown,
        says: "no lifetime stated (access tokens: 2 hours)",
    },
    // https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token
    // ("This refresh token is long-lived and won't expire automatically"; short-lived
    // access tokens of four hours, `expires_in: 14400`).
    Row {
        key: "dropbox",
        figure: Figure::NoExpiry,
        says: "long-lived, does not expire on its own",
    },
    // https://developers.notion.com/guides/get-started/authorization ("Refreshing an access
    // token will generate a new access token and a new refresh token"; no lifetime stated
    // for either, and no `expires_in` in its answers).
    Row {
        key: "notion",
        figure: Figure::Unknown,
        says: "no lifetime stated; each refresh replaces both tokens",
    },
    // https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/ (the
    // client may ask for `refresh_token_expires_in`, then stated in the answer).
    Row {
        key: "zendesk",
        figure: Figure::Unknown,
        says: "as the OAuth client asks; stated in the answer when set",
    },
    // Our own sandbox: what its answers state, nothing else.
    Row {
        key: "sandbox",
        figure: Figure::Unknown,
        says: "as its answers state",
    },
];

/// Access tokens that never expire and come with no refresh token, which their provider
/// revokes after a time unused: (provider, window, what it is, in words).
pub const UNUSED: [(&str, Duration, &str); 1] = [
    // https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/token-expiration-and-revocation#token-expired-due-to-lack-of-use
    // ("GitHub will automatically revoke an OAuth token or personal access token when the
    // token hasn't been used in one year"; github.com, not GitHub Enterprise Server).
    (
        "github",
        Duration::from_secs(365 * DAY),
        "an OAuth app's token that does not expire is revoked after a year unused",
    ),
];

/// The row for provider `key`, if there is one.
pub fn find(key: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_has_a_row_and_every_row_a_provider() {
        for name in crate::sandbox::PERSONAS {
            assert!(find(name).is_some(), "no lifetime row for persona {name}");
        }
        for row in ROWS {
            assert!(
                crate::providers::find(row.key).is_some(),
                "{} is no provider",
                row.key
            );
        }
    }
}
