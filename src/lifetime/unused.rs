//! Access tokens that never expire and have no refresh token, which their provider revokes
//! after a time unused (classic GitHub OAuth app tokens: a year). Their use by the
//! connector's tests is not seen here, so the count starts at the login: the figure is the
//! earliest the token can go, not a forecast.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::rules;
use crate::clock;
use crate::config::field;

/// What the provider's rule says of a test account's long-lived access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    /// The login plus the window: the earliest it can be revoked.
    pub from: SystemTime,
    pub window: Duration,
    /// "provider rule: GitHub (OAuth app), …".
    pub source: String,
}

/// The rule for `fields` when they hold an access token with no expiry and no refresh
/// token, from a provider that revokes such tokens unused, logged in to at a known time.
pub fn unused(fields: Option<&Map<String, Value>>, provider_url: &str) -> Option<Unused> {
    let fields = fields?;
    let text = |key: &str| fields.get(key)?.as_str().filter(|s| !s.is_empty());
    text(field::ACCESS_TOKEN)?;
    if text(field::REFRESH_TOKEN).is_some() || fields.contains_key(field::EXPIRES_AT) {
        return None;
    }
    let provider = crate::providers::for_url(provider_url)?;
    let (_, window, says) = rules::UNUSED.iter().find(|(k, ..)| *k == provider.key)?;
    let login = clock::parse_rfc3339(text(super::field::FIRST_LOGIN_AT)?)?;
    Some(Unused {
        from: login + *window,
        window: *window,
        source: format!("provider rule: {}, {says}", provider.title),
    })
}

/// The warning for test account `name`, under the same thresholds as a refresh token's.
/// `login`: the command that gets a new token.
pub fn warning(name: &str, u: &Unused, now: SystemTime, login: &str) -> Option<String> {
    let remaining = u.from.duration_since(now).unwrap_or_default();
    if !super::near_end(remaining, u.window) {
        return None;
    }
    Some(format!(
        "the access token of test account \"{name}\" can be revoked {} ({}; {}), counted from \
         its login, as its use by your tests is not seen here; if they have not used it \
         since, log in again: {login}",
        if u.from > now { "from" } else { "since" },
        clock::relative(u.from, now),
        u.source
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: u64 = 24 * 3600;
    const GITHUB: &str = "https://github.com/login/oauth/authorize";

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn only_a_long_lived_token_of_a_provider_with_the_rule_gets_a_figure() {
        let login = clock::rfc3339(clock::from_epoch(0));
        let classic = fields(json!({"accessToken": "gho_fake", "firstLoginAt": login}));
        let u = unused(Some(&classic), GITHUB).unwrap();
        assert_eq!(u.from, clock::from_epoch(365 * DAY));
        assert!(
            u.source.starts_with("provider rule: GitHub"),
            "{}",
            u.source
        );
        let stand_in = "http://127.0.0.1:9010/github.com/login/oauth/authorize";
        assert_eq!(unused(Some(&classic), stand_in), Some(u));
        for other in [
            json!({"accessToken": "a", "firstLoginAt": login, "refreshToken": "r"}),
            json!({"accessToken": "a", "firstLoginAt": login, "expiresAt": login}),
            json!({"accessToken": "a"}),
            json!({"firstLoginAt": login}),
        ] {
            assert_eq!(
                unused(Some(&fields(other.clone())), GITHUB),
                None,
                "{other}"
            );
        }
        let google = "https://accounts.google.com/o/oauth2/v2/auth";
        assert_eq!(unused(Some(&classic), google), None);
    }

    #[test]
    fn warns_in_the_last_fifth_of_the_year_and_names_the_login() {
        let u = Unused {
            from: clock::from_epoch(365 * DAY),
            window: Duration::from_secs(365 * DAY),
            source: "provider rule: GitHub".into(),
        };
        let at = |d: u64| clock::from_epoch(d * DAY);
        assert_eq!(warning("dev", &u, at(290), "LOGIN"), None);
        let said = warning("dev", &u, at(300), "LOGIN").unwrap();
        assert!(said.starts_with("the access token of test account \"dev\" can be revoked from"));
        assert!(said.ends_with("log in again: LOGIN"), "{said}");
        assert!(
            warning("dev", &u, at(400), "L")
                .unwrap()
                .contains("revoked since")
        );
    }
}
