//! How long a test account's refresh token lives: what the provider stated (saved as
//! `refreshTokenExpiresIn`/`refreshTokenExpiresAt`), else its documented rule (`rules`) or
//! the user's override, counted from the first login and the last refresh. It reads and
//! folds test-account fields and words warnings; it prints nothing and writes no file.

pub mod rules;
pub mod unused;

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::clock;
use crate::config::{OAuth2, RefreshTokenLifetime};
use rules::Figure;

/// The test-account fields this module keeps (integration-cli extensions, flat scalars),
/// left out of what the connector is sent, like `lastRefreshAt`.
pub mod field {
    /// The refresh token's lifetime in seconds, as the provider stated it.
    pub const EXPIRES_IN: &str = "refreshTokenExpiresIn";
    /// When the refresh token dies, as the provider stated it (RFC 3339).
    pub const EXPIRES_AT: &str = "refreshTokenExpiresAt";
    /// When the grant was first logged in to, kept across refreshes and rotations.
    pub const FIRST_LOGIN_AT: &str = "firstLoginAt";
    pub const ALL: [&str; 3] = [EXPIRES_IN, EXPIRES_AT, FIRST_LOGIN_AT];
}

/// Environment twins of the authorization's `refreshTokenLifetime` and
/// `refreshTokenSliding`, which the platform's validation would refuse in the file.
pub const LIFETIME_ENV: &str = "UNITO_REFRESH_TOKEN_LIFETIME";
pub const SLIDING_ENV: &str = "UNITO_REFRESH_TOKEN_SLIDING";

/// Provider fields that state the refresh token's lifetime in seconds: GitHub Apps and
/// Zendesk (`refresh_token_expires_in`), Keycloak and its kin (`refresh_expires_in`, where
/// 0 means an offline token without one), Intuit (`x_refresh_token_expires_in`).
const RELATIVE: [&str; 3] = [
    "refresh_token_expires_in",
    "refresh_expires_in",
    "x_refresh_token_expires_in",
];
/// Provider fields that state when it dies: epoch seconds (or milliseconds), or RFC 3339.
const ABSOLUTE: [&str; 2] = ["refresh_token_expires_at", "refresh_token_expiration"];

/// Folds what a token answer (`extra`: its non-standard fields) says of the refresh token
/// into the account being saved. A new grant starts the count from now; a refresh keeps the
/// first login, and a statement about a refresh token that was just replaced is dropped.
pub fn fold(
    account: &mut Map<String, Value>,
    extra: &Map<String, Value>,
    new_grant: bool,
    new_refresh_token: bool,
    now: SystemTime,
) {
    if new_grant {
        for key in field::ALL {
            account.shift_remove(key);
        }
        account.insert(field::FIRST_LOGIN_AT.into(), clock::stamp(now).into());
    }
    match stated(extra, now) {
        Some((secs, at)) => {
            account.insert(field::EXPIRES_IN.into(), secs.into());
            account.insert(field::EXPIRES_AT.into(), clock::stamp(at).into());
        }
        None if new_refresh_token => {
            account.shift_remove(field::EXPIRES_IN);
            account.shift_remove(field::EXPIRES_AT);
        }
        None => {}
    }
}

/// The lifetime a token answer states, in seconds and as an end.
fn stated(extra: &Map<String, Value>, now: SystemTime) -> Option<(u64, SystemTime)> {
    for key in RELATIVE {
        if let Some(secs) = extra.get(key).and_then(number).filter(|s| *s > 0) {
            return Some((secs, clock::after(now, secs)?));
        }
    }
    for key in ABSOLUTE {
        let Some(at) = extra.get(key).and_then(moment) else {
            continue;
        };
        let secs = at.duration_since(now).ok()?.as_secs();
        return Some((secs, at));
    }
    None
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn moment(v: &Value) -> Option<SystemTime> {
    if let Some(s) = v.as_str()
        && let Some(at) = clock::parse_rfc3339(s.trim())
    {
        return Some(at);
    }
    let n = number(v)?;
    // Past the year 33658 in seconds: milliseconds.
    let secs = if n > 1_000_000_000_000 { n / 1000 } else { n };
    Some(clock::from_epoch(secs))
}

/// The rule that applies where the provider states nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub figure: Figure,
    /// Whose rule, in words: "provider rule: Atlassian, 90 days unused…" or the override.
    pub source: String,
}

impl Rule {
    /// The user's override (the environment first, then the authorization's keys), else
    /// the documented rule of the provider `provider_url` belongs to.
    pub fn find(
        file: Option<RefreshTokenLifetime>,
        provider_url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Rule> {
        let seconds = match env(LIFETIME_ENV) {
            Some(v) => v.trim().parse::<u64>().ok(),
            None => file.map(|f| f.seconds),
        };
        let sliding = match env(SLIDING_ENV) {
            Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
            None => file.is_some_and(|f| f.sliding),
        };
        let source = "your refreshTokenLifetime";
        if seconds == Some(0) {
            return Some(Rule {
                figure: Figure::NoExpiry,
                source: source.into(),
            });
        }
        if let Some(secs) = seconds {
            let life = Some(Duration::from_secs(secs));
            let (absolute, idle) = if sliding { (None, life) } else { (life, None) };
            return Some(Rule {
                figure: Figure::Lasts { absolute, idle },
                source: source.into(),
            });
        }
        let provider = crate::providers::for_url(provider_url?)?;
        let row = rules::find(provider.key)?;
        Some(Rule {
            figure: row.figure,
            source: format!("provider rule: {}, {}", provider.title, row.says),
        })
    }

    /// The rule for an authorization as the file writes it.
    pub fn of(o: &OAuth2, env: &dyn Fn(&str) -> Option<String>) -> Option<Rule> {
        Rule::find(
            o.refresh_token_lifetime,
            Some(o.provider_url().as_written()),
            env,
        )
    }
}

/// How long a test account's refresh token has left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Left {
    /// It dies at `ends`, of a lifetime `whole` long; `sliding`: a refresh renews it.
    Ends {
        ends: SystemTime,
        whole: Duration,
        sliding: bool,
        /// "stated by the provider" or the rule's source.
        source: String,
    },
    /// The rule says it does not expire.
    NoExpiry(String),
    /// Nothing is known: the rule's words, if there is a rule.
    Unknown(Option<String>),
}

/// What is known of the refresh token in `fields` (`None`: there is none).
pub fn left(fields: Option<&Map<String, Value>>, rule: Option<&Rule>) -> Option<Left> {
    let fields = fields?;
    fields
        .get(crate::config::field::REFRESH_TOKEN)?
        .as_str()
        .filter(|s| !s.is_empty())?;
    let time = |key: &str| fields.get(key)?.as_str().and_then(clock::parse_rfc3339);
    let mut candidates = Vec::new();
    if let (Some(ends), Some(secs)) = (
        time(field::EXPIRES_AT),
        fields.get(field::EXPIRES_IN).and_then(number),
    ) {
        let whole = Duration::from_secs(secs);
        candidates.push((ends, whole, false, "stated by the provider".to_string()));
    }
    if let Some(Rule {
        figure: Figure::Lasts { absolute, idle },
        source,
    }) = rule
    {
        let counted = [
            (time(field::FIRST_LOGIN_AT), *absolute, false),
            (time(crate::config::field::LAST_REFRESH_AT), *idle, true),
        ];
        for (start, life, sliding) in counted {
            if let (Some(start), Some(life)) = (start, life) {
                candidates.push((start + life, life, sliding, source.clone()));
            }
        }
    }
    let earliest = candidates.into_iter().min_by_key(|c| c.0);
    Some(match (earliest, rule) {
        (Some((ends, whole, sliding, source)), _) => Left::Ends {
            ends,
            whole,
            sliding,
            source,
        },
        (
            None,
            Some(Rule {
                figure: Figure::NoExpiry,
                source,
            }),
        ) => Left::NoExpiry(source.clone()),
        (None, rule) => Left::Unknown(rule.map(|r| r.source.clone())),
    })
}

/// A warning that a test account's grant is near its end, by which token ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The refresh token dies (`warning`).
    Refresh(String),
    /// The access token, the only one, can be revoked unused (`unused::warning`).
    Access(String),
}

impl Warning {
    pub fn text(&self) -> &str {
        match self {
            Warning::Refresh(t) | Warning::Access(t) => t,
        }
    }

    /// Its field under `--json`.
    pub fn json_key(&self) -> &'static str {
        match self {
            Warning::Refresh(_) => "refreshTokenWarning",
            Warning::Access(_) => "accessTokenWarning",
        }
    }
}

/// Warned when this little is left, whatever the whole lifetime.
const WARN_BELOW: Duration = Duration::from_secs(2 * 24 * 3600);

/// Whether `remaining` of a `whole` lifetime is near enough its end to warn: under a fifth
/// of it, or under `WARN_BELOW`.
pub fn near_end(remaining: Duration, whole: Duration) -> bool {
    remaining < WARN_BELOW || remaining < whole / 5
}

/// The warning for test account `name`, when less than a fifth of its lifetime or under two
/// days is left. `refresh`: the command that renews a sliding lifetime; `login`: the one
/// that starts a new grant.
pub fn warning(
    name: &str,
    left: &Left,
    now: SystemTime,
    refresh: &str,
    login: &str,
) -> Option<String> {
    let Left::Ends {
        ends,
        whole,
        sliding,
        source,
    } = left
    else {
        return None;
    };
    let remaining = ends.duration_since(now).unwrap_or_default();
    if !near_end(remaining, *whole) {
        return None;
    }
    let verb = if *ends > now { "expires" } else { "expired" };
    let fix = match (sliding, *ends > now) {
        (true, true) => format!("a refresh renews it: {refresh}"),
        _ => format!("log in again: {login}"),
    };
    Some(format!(
        "the refresh token of test account \"{name}\" {verb} {} ({}; {source}); {fix}",
        clock::relative(*ends, now),
        clock::rfc3339(*ends)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: u64 = 24 * 3600;

    fn at(secs: u64) -> SystemTime {
        clock::from_epoch(secs)
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn folded(old: Value, extra: Value, new_grant: bool, rotated: bool, now: u64) -> Value {
        let mut account = obj(old);
        fold(&mut account, &obj(extra), new_grant, rotated, at(now));
        Value::Object(account)
    }

    #[test]
    fn each_way_of_stating_the_lifetime_is_saved_beside_the_expiry() {
        for extra in [
            json!({"refresh_token_expires_in": 100}),
            json!({"refresh_expires_in": "100"}),
            json!({"x_refresh_token_expires_in": 100}),
            json!({"refresh_token_expires_at": 1_100}),
            json!({"refresh_token_expiration": "1970-01-01T00:18:20Z"}),
        ] {
            let a = folded(json!({}), extra.clone(), true, true, 1_000);
            assert_eq!(a["refreshTokenExpiresIn"], 100, "{extra}");
            assert_eq!(
                a["refreshTokenExpiresAt"], "1970-01-01T00:18:20Z",
                "{extra}"
            );
            assert_eq!(a["firstLoginAt"], "1970-01-01T00:16:40Z");
        }
        let ms = folded(
            json!({}),
            json!({"refresh_token_expires_at": 1_700_000_100_000u64}),
            true,
            true,
            1_700_000_000,
        );
        assert_eq!(ms["refreshTokenExpiresIn"], 100);
        // Keycloak's 0: an offline token, no lifetime.
        let a = folded(json!({}), json!({"refresh_expires_in": 0}), true, true, 0);
        assert!(a.get("refreshTokenExpiresAt").is_none());
    }

    #[test]
    fn a_refresh_keeps_the_first_login_and_drops_a_statement_about_a_replaced_token() {
        let old = json!({"firstLoginAt": "1970-01-01T00:00:10Z",
            "refreshTokenExpiresIn": 50, "refreshTokenExpiresAt": "1970-01-01T00:01:00Z"});
        let kept = folded(old.clone(), json!({}), false, false, 30);
        assert_eq!(kept, old);
        let rotated = folded(old.clone(), json!({}), false, true, 30);
        assert_eq!(rotated, json!({"firstLoginAt": "1970-01-01T00:00:10Z"}));
        let login = folded(old, json!({}), true, true, 30);
        assert_eq!(login, json!({"firstLoginAt": "1970-01-01T00:00:30Z"}));
    }

    fn rule(absolute: Option<u64>, idle: Option<u64>) -> Rule {
        Rule {
            figure: Figure::Lasts {
                absolute: absolute.map(Duration::from_secs),
                idle: idle.map(Duration::from_secs),
            },
            source: "r".into(),
        }
    }

    #[test]
    fn the_earliest_end_wins_among_statement_absolute_and_idle_limits() {
        let fields = obj(json!({"refreshToken": "rt",
            "firstLoginAt": clock::rfc3339(at(0)),
            "lastRefreshAt": clock::rfc3339(at(300 * DAY))}));
        let atlassian = rule(Some(365 * DAY), Some(90 * DAY));
        let Some(Left::Ends { ends, sliding, .. }) = left(Some(&fields), Some(&atlassian)) else {
            panic!()
        };
        assert_eq!((ends, sliding), (at(365 * DAY), false));
        let microsoft = rule(None, Some(90 * DAY));
        let Some(Left::Ends { ends, sliding, .. }) = left(Some(&fields), Some(&microsoft)) else {
            panic!()
        };
        assert_eq!((ends, sliding), (at(390 * DAY), true));
        assert_eq!(left(Some(&fields), None), Some(Left::Unknown(None)));
        let none = obj(json!({"accessToken": "a"}));
        assert_eq!(left(Some(&none), Some(&microsoft)), None);
    }

    #[test]
    fn warns_under_a_fifth_of_the_lifetime_or_two_days_and_names_the_fix() {
        let long = Left::Ends {
            ends: at(100 * DAY),
            whole: Duration::from_secs(100 * DAY),
            sliding: true,
            source: "s".into(),
        };
        let warn = |now| warning("dev", &long, at(now), "REFRESH", "LOGIN");
        assert_eq!(warn(79 * DAY), None);
        assert!(warn(81 * DAY).unwrap().contains("REFRESH"));
        let short = Left::Ends {
            ends: at(5 * DAY),
            whole: Duration::from_secs(7 * DAY),
            sliding: false,
            source: "provider rule: Google".into(),
        };
        assert_eq!(warning("dev", &short, at(2 * DAY), "R", "L"), None);
        let said = warning("dev", &short, at(4 * DAY), "R", "LOGIN").unwrap();
        assert_eq!(
            said,
            "the refresh token of test account \"dev\" expires in 1day \
             (1970-01-06T00:00:00Z; provider rule: Google); log in again: LOGIN"
        );
        assert!(
            warning("dev", &short, at(6 * DAY), "R", "L")
                .unwrap()
                .contains("expired 1day ago")
        );
    }

    #[test]
    fn the_override_beats_the_provider_rule_and_the_environment_beats_the_file() {
        let none = |_: &str| None;
        let google_url = Some("https://accounts.google.com/o/oauth2/v2/auth");
        let google = Rule::find(None, google_url, &none).unwrap();
        assert!(
            google.source.starts_with("provider rule: Google, 7 days"),
            "{}",
            google.source
        );
        let stand_in = Some("http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth");
        assert_eq!(Rule::find(None, stand_in, &none), Some(google));
        let mine = RefreshTokenLifetime {
            seconds: 60,
            sliding: true,
        };
        let file = Rule::find(Some(mine), google_url, &none).unwrap();
        assert_eq!(
            file,
            Rule {
                source: "your refreshTokenLifetime".into(),
                ..rule(None, Some(60))
            }
        );
        let env = |k: &str| match k {
            LIFETIME_ENV => Some("120".to_string()),
            SLIDING_ENV => Some("false".to_string()),
            _ => None,
        };
        let both = Rule::find(Some(mine), None, &env).unwrap();
        assert_eq!(both.figure, rule(Some(120), None).figure);
        assert_eq!(
            Rule::find(None, Some("https://example.com/auth"), &none),
            None
        );
        // 0: the user says it does not expire (a published Google app).
        let forever = |k: &str| (k == LIFETIME_ENV).then(|| "0".to_string());
        let published = Rule::find(None, google_url, &forever).unwrap();
        assert_eq!(published.figure, Figure::NoExpiry);
    }
}
