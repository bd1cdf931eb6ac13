//! `oauth2`'s last words: what it did to the test account, for a person or (`--json`) a
//! script, and the table of `--all`.

use std::time::SystemTime;

use crate::clock;
use crate::config::GrantType;
use crate::flow::{Action, AllOutcome, Each, Happened, Outcome, RefreshFate, Saved};
use crate::redact::printable;

/// The outcome as `--json` asks, or as a person reads it.
pub fn render(outcome: &Outcome, json: bool, now: SystemTime) -> String {
    if json {
        self::json(outcome)
    } else {
        text(outcome, now)
    }
}

/// The test account as it now is, with the token masked; `refreshToken` says what became
/// of it, null when nothing was requested.
pub fn json(o: &Outcome) -> String {
    let t = &o.tokens;
    let mut summary = serde_json::json!({
        "action": o.action().word(),
        "authorization": o.authorization,
        "testAccount": o.test_account,
        "file": o.file.display().to_string(),
        "accessToken": t.access_token,
        "tokenType": t.token_type,
        "expiresAt": t.expires_at,
        "scope": t.scope,
        "refreshToken": null,
    });
    if let Some(warning) = &t.refresh_warning {
        summary[warning.json_key()] = warning.text().into();
    }
    if let Happened::Saved(saved) = &o.happened {
        summary["refreshToken"] = refresh_word(saved.refresh).into();
        // Said only when there is something to say: scripts compare the rest.
        if let Some(hint) = saved.refresh_hint {
            summary["refreshTokenHint"] = hint.into();
        }
        if let Some(path) = &saved.token_from {
            summary["tokenFrom"] = path.as_str().into();
        }
    }
    summary.to_string()
}

pub fn text(o: &Outcome, now: SystemTime) -> String {
    match &o.happened {
        Happened::Saved(saved) => saved_text(o, saved, now),
        Happened::Kept { grant } => kept_text(o, *grant),
        Happened::Recovered { saved_at } => format!(
            "Saved the tokens set aside at {} into test account \"{}\" of {}",
            printable(saved_at),
            printable(&o.test_account),
            o.file.display()
        ),
    }
}

fn saved_text(o: &Outcome, saved: &Saved, now: SystemTime) -> String {
    let t = &o.tokens;
    let verb = match saved.action {
        Action::Refresh => "Refreshed",
        _ => "Saved",
    };
    let refresh = refresh_words(saved.refresh);
    let refresh = match saved.refresh_hint {
        Some(hint) => format!("{refresh}; {hint}"),
        None => refresh.to_string(),
    };
    let from = saved.token_from.as_deref().map_or(String::new(), |p| {
        format!(" (the one under {} in the answer)", printable(p))
    });
    let mut lines = vec![
        format!(
            "{verb} tokens for test account \"{}\" (authorization \"{}\") in {}",
            o.test_account,
            o.authorization,
            o.file.display()
        ),
        format!(
            "  access token   {}, {}{from}",
            t.access_token.as_deref().unwrap_or_default(),
            printable(t.token_type.as_deref().unwrap_or("Bearer")),
        ),
        format!("  expires        {}", expires(o, saved, now)),
        format!("  refresh token  {refresh}"),
    ];
    if let Some(scope) = t.scope.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("  scope          {}", printable(scope)));
    }
    lines.join("\n")
}

fn expires(o: &Outcome, saved: &Saved, now: SystemTime) -> String {
    match o
        .tokens
        .expires_at
        .as_deref()
        .and_then(clock::parse_rfc3339)
    {
        Some(at) => format!("{} ({})", clock::rfc3339(at), clock::relative(at, now)),
        None if saved.expires_in_unusable => {
            "unknown (the provider's expires_in could not be used; see the warning above)".into()
        }
        None => "not stated by the provider".into(),
    }
}

fn kept_text(o: &Outcome, grant: GrantType) -> String {
    let expires = match o
        .tokens
        .expires_at
        .as_deref()
        .and_then(clock::parse_rfc3339)
    {
        Some(at) => format!("expires {}", clock::rfc3339(at)),
        None => "no expiry stated".into(),
    };
    let (what, again) = match grant {
        GrantType::ClientCredentials => ("client-credentials token", "request a new one"),
        GrantType::JwtBearer => ("access token", "request a new one"),
        GrantType::Password => ("access token", "ask for the password again"),
        GrantType::AuthorizationCode => ("access token", "log in again"),
    };
    format!(
        "The {what} of test account \"{}\" is still valid ({expires}); nothing to do. \
         Use --reauth to {again}.",
        o.test_account
    )
}

/// The word for `--json`.
fn refresh_word(fate: RefreshFate) -> &'static str {
    match fate {
        RefreshFate::Saved => "saved",
        RefreshFate::Rotated => "rotated",
        RefreshFate::Unchanged => "unchanged",
        RefreshFate::Kept => "kept",
        RefreshFate::None => "none",
    }
}

/// The words for a person.
fn refresh_words(fate: RefreshFate) -> &'static str {
    match fate {
        RefreshFate::Saved => "saved",
        RefreshFate::Rotated => "rotated, new one saved",
        RefreshFate::Unchanged => "unchanged",
        RefreshFate::Kept => "kept (the provider sent no new one)",
        RefreshFate::None => "none (the provider sent none)",
    }
}

/// `--all`: a line per test account, in order.
pub fn all(o: &AllOutcome) -> String {
    let mut lines: Vec<String> = o
        .accounts
        .iter()
        .map(|(account, each)| format!("{account}: {}", each_text(each)))
        .collect();
    lines.sort();
    format!(
        "Test accounts of authorization \"{}\":\n  {}",
        o.authorization,
        lines.join("\n  ")
    )
}

fn each_text(each: &Each) -> String {
    match each {
        Each::Skipped(why) => format!("skipped, {why}"),
        Each::Saved {
            refreshed,
            expires_at,
        } => format!(
            "{}{}",
            if *refreshed { "refreshed" } else { "new token" },
            expires_at
                .as_deref()
                .map_or(String::new(), |at| format!(", expires {at}"))
        ),
        Each::NeedsLogin { refused, retry } => format!("needs a login: {refused}; run {retry}"),
        Each::NotAttempted => "not attempted (cancelled)".into(),
        Each::Failed(why) => format!("error: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, RunError};
    use crate::flow::Tokens;

    fn all_of(accounts: Vec<(&str, Each)>, interrupted: bool) -> AllOutcome {
        AllOutcome {
            authorization: "main".into(),
            accounts: accounts.into_iter().map(|(a, e)| (a.into(), e)).collect(),
            interrupted,
        }
    }

    #[test]
    fn all_lists_every_account_in_order_and_fails_for_each_that_got_no_token() {
        let outcome = all_of(
            vec![
                ("zeta", Each::Skipped("still valid".into())),
                ("beta", Each::NotAttempted),
                (
                    "alpha",
                    Each::Saved {
                        refreshed: true,
                        expires_at: Some("2030-01-01T00:00:00Z".into()),
                    },
                ),
                (
                    "gamma",
                    Each::NeedsLogin {
                        refused: "refused".into(),
                        retry: "integration-cli oauth2 -t gamma --reauth".into(),
                    },
                ),
            ],
            false,
        );
        assert_eq!(
            all(&outcome),
            "Test accounts of authorization \"main\":\n  \
             alpha: refreshed, expires 2030-01-01T00:00:00Z\n  \
             beta: not attempted (cancelled)\n  \
             gamma: needs a login: refused; run integration-cli oauth2 -t gamma --reauth\n  \
             zeta: skipped, still valid"
        );
        assert!(matches!(
            outcome.verdict(),
            Err(Error::Run(RunError::SomeAccountsFailed { failed: 2 }))
        ));
        let fine = all_of(vec![("a", Each::Skipped("x".into()))], false);
        assert!(fine.verdict().is_ok());
        let stopped = all_of(vec![("a", Each::Skipped("x".into()))], true);
        assert!(matches!(stopped.verdict(), Err(Error::Interrupted)));
    }

    #[test]
    fn a_kept_token_says_nothing_of_the_refresh_token_and_names_what_reauth_would_do() {
        let outcome = Outcome {
            authorization: "main".into(),
            test_account: "development".into(),
            file: ".unito.json".into(),
            tokens: Tokens {
                access_token: Some(crate::secret::mask("fake-access-token")),
                expires_at: Some("2030-01-01T00:00:00Z".into()),
                ..Tokens::default()
            },
            happened: Happened::Kept {
                grant: GrantType::ClientCredentials,
            },
        };
        let json: serde_json::Value = serde_json::from_str(&json(&outcome)).unwrap();
        assert_eq!(json["action"], "kept");
        assert_eq!(json["accessToken"], "fake… (17 chars)");
        assert!(json["refreshToken"].is_null());
        assert!(json.get("refreshTokenHint").is_none());
        assert_eq!(
            text(&outcome, SystemTime::UNIX_EPOCH),
            "The client-credentials token of test account \"development\" is still valid \
             (expires 2030-01-01T00:00:00Z); nothing to do. Use --reauth to request a new one."
        );
    }
}
