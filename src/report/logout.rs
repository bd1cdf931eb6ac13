//! `logout`'s last words: what became of each test account's grant at the provider and of
//! its fields in the file, for a person or (`--json`) a script. A 200 from a revocation
//! endpoint is "accepted" (RFC 7009 §2.2), never "revoked": it is not proof of anything.

use serde_json::{Value, json};

use crate::flow::{AccountOut, AtProvider, SignedOut};
use crate::redact::printable;
use crate::revoke::{Answered, Kind};

pub fn render(out: &SignedOut, json: bool) -> String {
    if json { self::json(out) } else { text(out) }
}

/// `{"authorization", "file", "testAccounts": [{"testAccount", "result", ...}]}`; `result`
/// is one of `accepted`, `no_endpoint`, `forced`, `nothing_held`, `failed` (these words
/// never change).
pub fn json(out: &SignedOut) -> String {
    let accounts: Vec<Value> = out.accounts.iter().map(account_json).collect();
    json!({
        "authorization": out.authorization,
        "file": out.file.display().to_string(),
        "testAccounts": accounts,
    })
    .to_string()
}

fn account_json(a: &AccountOut) -> Value {
    let mut v = json!({
        "testAccount": a.test_account,
        "result": word(&a.provider),
        "removed": a.removed,
        "grantStands": !matches!(a.provider, AtProvider::Accepted { .. } | AtProvider::NothingHeld),
    });
    match &a.provider {
        AtProvider::Accepted { url, answers } => {
            v["revocationUrl"] = url.as_str().into();
            for (kind, answered) in answers {
                let said = match answered {
                    Answered::Accepted => "accepted".to_string(),
                    Answered::Gone(_) => "already_gone".to_string(),
                };
                v[key(*kind)] = said.into();
            }
        }
        AtProvider::NoEndpoint { manage } => v["manage"] = json!(manage),
        AtProvider::Forced { url, why, manage } => {
            v["revocationUrl"] = url.as_str().into();
            v["error"] = why.as_str().into();
            v["manage"] = json!(manage);
        }
        AtProvider::Refused(e) | AtProvider::NotRemoved(e) => v["error"] = e.to_string().into(),
        AtProvider::NothingHeld => {}
    }
    v
}

fn word(p: &AtProvider) -> &'static str {
    match p {
        AtProvider::NothingHeld => "nothing_held",
        AtProvider::Accepted { .. } => "accepted",
        AtProvider::NoEndpoint { .. } => "no_endpoint",
        AtProvider::Forced { .. } => "forced",
        AtProvider::Refused(_) => "failed",
        AtProvider::NotRemoved(_) => "not_removed",
    }
}

fn key(kind: Kind) -> &'static str {
    match kind {
        Kind::Refresh => "refreshToken",
        Kind::Access => "accessToken",
    }
}

pub fn text(out: &SignedOut) -> String {
    let lines: Vec<String> = out.accounts.iter().map(|a| account_text(out, a)).collect();
    lines.join("\n")
}

fn account_text(out: &SignedOut, a: &AccountOut) -> String {
    let who = format!(
        "test account \"{}\" (authorization \"{}\") in {}",
        printable(&a.test_account),
        printable(&out.authorization),
        out.file.display()
    );
    let removed = match a.removed.is_empty() {
        true => "nothing to remove".to_string(),
        false => format!("removed {}", a.removed.join(", ")),
    };
    match &a.provider {
        AtProvider::NothingHeld => {
            format!(
                "Test account \"{}\" holds no tokens: nothing was sent; {removed}.",
                printable(&a.test_account)
            )
        }
        AtProvider::Accepted { url, answers } => format!(
            "Signed out {who}: {} ({url}); {removed}.",
            accepted(answers)
        ),
        AtProvider::NoEndpoint { manage } => format!(
            "Removed the tokens of {who} ({removed}). The grant still stands at the provider: \
             no revocation endpoint is known for it (set revocationUrl, or give \
             --revocation-url, if it has one); {}.",
            where_to(manage)
        ),
        AtProvider::Forced { why, manage, .. } => format!(
            "Removed the tokens of {who} anyway (--force; {removed}), though the provider did \
             not revoke them: {}. The grant may still stand at the provider; {}.",
            printable(why),
            where_to(manage)
        ),
        AtProvider::Refused(e) => {
            format!("Kept the tokens of {who}: {}", printable(&e.to_string()))
        }
        AtProvider::NotRemoved(e) => format!(
            "The provider's part of signing out {who} was done, but its tokens could not be \
             removed from the file: {}",
            printable(&e.to_string())
        ),
    }
}

/// What the endpoint accepted, and what it said of a token already gone.
fn accepted(answers: &[(Kind, Answered)]) -> String {
    let name = |k: Kind| match k {
        Kind::Refresh => "refresh token",
        Kind::Access => "access token",
    };
    let taken: Vec<&str> = answers
        .iter()
        .filter(|(_, a)| *a == Answered::Accepted)
        .map(|(k, _)| name(*k))
        .collect();
    let mut said = format!(
        "the provider accepted the revocation of the {}",
        taken.join(" and the ")
    );
    for (kind, answer) in answers {
        if let Answered::Gone(why) = answer {
            said += &format!(
                " (the {} was already gone: {})",
                name(*kind),
                printable(why)
            );
        }
    }
    said
}

fn where_to(manage: &Option<String>) -> String {
    match manage {
        Some(m) => format!("remove the app's access at {}", printable(m)),
        None => "remove the app's access in your account's settings at the provider \
                 (connected or authorized apps)"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FileError;

    /// Under `--all`, an account whose revocation went through but whose file edit failed
    /// is not said to have kept its tokens at the provider's refusal.
    #[test]
    fn a_failed_removal_after_the_provider_is_told_apart_from_a_refusal() {
        let out = SignedOut {
            authorization: "oauth2".into(),
            file: ".unito.json".into(),
            accounts: vec![AccountOut {
                test_account: "qa".into(),
                provider: AtProvider::NotRemoved(
                    FileError::CannotSave {
                        path: ".unito.json".into(),
                        why: "read-only".into(),
                    }
                    .into(),
                ),
                removed: Vec::new(),
            }],
        };
        assert_eq!(out.failed(), 1);
        let said = text(&out);
        assert!(
            said.contains("The provider's part of signing out test account \"qa\""),
            "{said}"
        );
        assert!(!said.contains("Kept the tokens"), "{said}");
        assert!(json(&out).contains("\"not_removed\""));
    }
}
