//! `status` said: per test account, its token (masked), expiry, scopes and what the next
//! `oauth2` and `token` runs would do under each authorization; as text or as JSON.

use serde_json::{Map, Value, json};

use crate::clock;
use crate::config::GrantType;
use crate::redact::printable;
use crate::status::{AccountStatus, Next, NextRun, SetAside, Status, TokenState};

/// `status --json`.
pub fn json(status: &Status) -> String {
    let accounts: Vec<Value> = status
        .accounts
        .iter()
        .map(|a| account_json(a, status))
        .collect();
    serde_json::to_string_pretty(&json!({
        "file": status.file.display().to_string(),
        "testAccounts": accounts,
        "sameUser": status.same_user.as_ref().map(|i| json!({
            "testAccounts": ["development", "compliance"],
            "identity": i.shown(),
        })),
    }))
    .expect("JSON")
}

/// `status`, for a person.
pub fn text(status: &Status) -> String {
    let accounts = status
        .accounts
        .iter()
        .map(|a| account_text(a, status))
        .collect::<String>();
    format!("{}{accounts}", identities_text(status))
        .trim_end()
        .to_string()
}

/// Who each test account is (`development  ada@example.com  (Google)`), when the file
/// knows who any is, and the warning when `development` and `compliance` are one user.
fn identities_text(status: &Status) -> String {
    if status.accounts.iter().all(|a| a.identity.is_none()) {
        return String::new();
    }
    let names: Vec<String> = status.accounts.iter().map(|a| printable(&a.name)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut out = String::from("Who each test account is:\n");
    for (a, name) in status.accounts.iter().zip(&names) {
        let who = match &a.identity {
            Some(i) => format!("{}  ({})", i.shown(), issuer_shown(&i.issuer)),
            None if a.access_token.is_none() => "not logged in".into(),
            None => "not known (the provider did not say at its login)".into(),
        };
        out.push_str(&format!("  {name:width$}  {who}\n"));
    }
    if let Some(same) = &status.same_user {
        let words = crate::flow::same_user_words(
            same,
            "compliance",
            &login(status, "compliance", "--reauth"),
        );
        out.push_str(&format!("  warning: {words}\n"));
    }
    out.push('\n');
    out
}

/// The provider behind an identity's issuer, by its name (`Google`), or the issuer's host.
fn issuer_shown(issuer: &str) -> String {
    if let Some(p) = crate::providers::for_url(issuer) {
        return p.title.split(" (").next().unwrap_or(p.title).to_string();
    }
    let host = url::Url::parse(issuer).ok().and_then(|u| {
        let host = u.host_str()?.to_string();
        Some(u.port().map_or(host.clone(), |p| format!("{host}:{p}")))
    });
    printable(&host.unwrap_or_else(|| issuer.to_string()))
}

fn account_json(a: &AccountStatus, status: &Status) -> Value {
    let variables: Map<String, Value> = a
        .variables
        .iter()
        .map(|(name, value)| {
            let value = value.clone().map_or(Value::Null, Value::String);
            (name.clone(), value)
        })
        .collect();
    json!({
        "testAccount": a.name,
        "accessToken": a.access_token.as_ref().map(|t| t.masked()),
        "expiresAt": a.expires_at.map(clock::stamp),
        "expiresIn": a.expires_at.map(|at| clock::relative(at, status.now)),
        "expired": a.expires_at.is_some_and(|at| at <= status.now),
        "scope": a.scope,
        "refreshToken": a.has_refresh_token,
        "variables": variables,
        "next": a.next.iter().map(next_json).collect::<Vec<_>>(),
        "setAside": a.set_aside.as_ref().map(set_aside_json),
        "refreshTokenLife": refresh_life_json(a, status),
        "accessTokenLife": access_life_json(a, status),
        "identity": a.identity.as_ref().map(|i| json!({
            "issuer": i.issuer, "subject": i.subject, "name": i.name, "email": i.email,
        })),
    })
}

/// The refresh token's lifetime for a CI job: seconds left, the whole, where the figure
/// comes from, its last use and the warning the commands would give.
fn refresh_life_json(a: &AccountStatus, status: &Status) -> Value {
    use crate::lifetime::Left;
    let last = a.last_refresh_at.map(clock::stamp);
    match &a.refresh_life {
        None => Value::Null,
        Some(
            left @ Left::Ends {
                ends,
                whole,
                sliding,
                source,
            },
        ) => json!({
            "expiresAt": clock::stamp(*ends),
            "expiresIn": clock::relative(*ends, status.now),
            "secondsLeft": ends.duration_since(status.now).map_or(0, |d| d.as_secs()),
            "lifetimeSeconds": whole.as_secs(),
            "sliding": sliding,
            "source": source,
            "lastRefreshAt": last,
            "warning": life_warning(&a.name, left, status),
        }),
        Some(Left::NoExpiry(source)) => json!({
            "expiresAt": null, "source": source, "noExpiry": true, "lastRefreshAt": last,
        }),
        Some(Left::Unknown(source)) => json!({
            "expiresAt": null, "source": source, "lastRefreshAt": last,
        }),
    }
}

/// A long-lived access token's provider rule: the earliest it can be revoked unused.
fn access_life_json(a: &AccountStatus, status: &Status) -> Value {
    let Some(u) = &a.access_life else {
        return Value::Null;
    };
    json!({
        "revocableFrom": clock::stamp(u.from),
        "unusedWindowSeconds": u.window.as_secs(),
        "source": u.source,
        "warning": access_warning(&a.name, u, status),
    })
}

fn access_warning(
    name: &str,
    u: &crate::lifetime::unused::Unused,
    status: &Status,
) -> Option<String> {
    let login = login(status, name, "--reauth");
    crate::lifetime::unused::warning(&printable(name), u, status.now, &login)
}

/// The access token's line, for one its provider revokes unused.
fn access_life_text(a: &AccountStatus, status: &Status) -> Option<String> {
    let u = a.access_life.as_ref()?;
    let mut line = format!(
        "  access token: revoked after {} days unused ({}); from {} at the earliest ({})\n",
        u.window.as_secs() / 86_400,
        printable(&u.source),
        clock::rfc3339(u.from),
        clock::relative(u.from, status.now),
    );
    if let Some(warning) = access_warning(&a.name, u, status) {
        line.push_str(&format!("  warning: {warning}\n"));
    }
    Some(line)
}

/// The warning `oauth2` and `token` would give, with the commands as `status` words them.
fn life_warning(name: &str, left: &crate::lifetime::Left, status: &Status) -> Option<String> {
    let name_arg = printable(name);
    crate::lifetime::warning(
        &name_arg,
        left,
        status.now,
        &login(status, name, ""),
        &login(status, name, "--reauth"),
    )
}

/// The `oauth2` command for test account `name` of the file and authorization `status`
/// described, as the other commands write it (`--config` and `-a` when they were given).
fn login(status: &Status, name: &str, flag: &str) -> String {
    let opts = crate::flow::Options {
        config: status.file.clone(),
        authorization: status.authorization.clone(),
        ..crate::flow::Options::default()
    };
    opts.command_for(name, flag)
}

/// The refresh token's line: when it dies and why we think so, and when it was last used.
fn refresh_life_text(a: &AccountStatus, status: &Status) -> Option<String> {
    use crate::lifetime::Left;
    let life = a.refresh_life.as_ref()?;
    let said = match life {
        Left::Ends { ends, source, .. } => format!(
            "{} {} ({}; {})",
            if *ends <= status.now {
                "expired"
            } else {
                "expires"
            },
            clock::rfc3339(*ends),
            clock::relative(*ends, status.now),
            printable(source)
        ),
        Left::NoExpiry(source) => format!("does not expire ({})", printable(source)),
        Left::Unknown(Some(source)) => format!("lifetime unknown ({})", printable(source)),
        Left::Unknown(None) => "lifetime not stated".into(),
    };
    let used = a.last_refresh_at.map_or(String::new(), |at| {
        format!(
            ", last used {} ({})",
            clock::rfc3339(at),
            clock::relative(at, status.now)
        )
    });
    let mut line = format!("  refresh token: {said}{used}\n");
    if let Some(warning) = life_warning(&a.name, life, status) {
        line.push_str(&format!("  warning: {warning}\n"));
    }
    Some(line)
}

fn set_aside_json(s: &SetAside) -> Value {
    json!({
        "path": s.path.display().to_string(),
        "savedAt": s.saved_at,
        "usable": s.usable,
    })
}

fn next_json(n: &NextRun) -> Value {
    let Some(grant) = grant(&n.next) else {
        return json!({
            "authorization": n.authorization,
            "grantType": null,
            "action": action(&n.next),
        });
    };
    let missing: Vec<&str> = match &n.next {
        Next::Lacking { lacking, .. } => lacking.iter().map(|l| l.name.as_str()).collect(),
        _ => Vec::new(),
    };
    let (new, refused) = n.scopes.as_ref().map_or((Vec::new(), Vec::new()), |d| {
        (d.new.clone(), d.refused.clone())
    });
    json!({
        "authorization": n.authorization,
        "grantType": grant.name(),
        "action": action(&n.next),
        "missingVariables": missing,
        "missingScopes": new,
        "refusedScopes": refused,
    })
}

fn grant(next: &Next) -> Option<GrantType> {
    match next {
        Next::Unreadable(_) => None,
        Next::Lacking { grant, .. }
        | Next::WontExpand { grant, .. }
        | Next::Usual { grant, .. } => Some(*grant),
    }
}

/// What the next runs would do, in words.
fn action(next: &Next) -> String {
    match next {
        Next::Unreadable(why) => format!("not usable: {why}"),
        Next::Lacking { lacking, .. } => {
            let names: Vec<String> = lacking.iter().map(crate::config::Lack::described).collect();
            format!(
                "oauth2 first asks for {} (or takes --var); token cannot help until then",
                names.join(", ")
            )
        }
        Next::WontExpand { why, .. } => format!("not usable for this account: {why}"),
        Next::Usual {
            grant,
            token,
            has_refresh_token,
        } => usual(*grant, *token, *has_refresh_token).to_string(),
    }
}

/// What the next `oauth2` and `token` runs would do, by the freshness rule they share.
fn usual(grant: GrantType, token: TokenState, refresh_token: bool) -> &'static str {
    use GrantType::{AuthorizationCode, ClientCredentials, JwtBearer, Password};
    use TokenState::{Fresh, NeedsLogin, Refreshable};
    // Every grant and state named, so a new grant cannot fall through to a guess.
    match (grant, token, refresh_token) {
        (ClientCredentials | JwtBearer, Fresh, _) => "oauth2 keeps it; token prints it",
        (ClientCredentials | JwtBearer, Refreshable | NeedsLogin, _) => {
            "oauth2 and token request a new one"
        }
        (Password, Fresh, false) => {
            "oauth2 keeps it (--reauth asks for the password); token prints it"
        }
        (Password, NeedsLogin, _) => {
            "oauth2 asks for the password (or UNITO_PASSWORD); token cannot help"
        }
        (Password, Fresh, true) => "oauth2 refreshes it; token prints it as is",
        (Password, Refreshable, _) => "oauth2 and token refresh it (no password)",
        (AuthorizationCode, Fresh, true) => "oauth2 refreshes it; token prints it as is",
        (AuthorizationCode, Fresh, false) => {
            "oauth2 keeps it (--reauth logs in again); token prints it"
        }
        (AuthorizationCode, Refreshable, _) => "oauth2 and token refresh it (no browser)",
        (AuthorizationCode, NeedsLogin, _) => "oauth2 logs in (browser); token cannot help",
    }
}

fn account_text(a: &AccountStatus, status: &Status) -> String {
    let mut out = format!(
        "Test account \"{}\": {}{}\n",
        printable(&a.name),
        token_text(a, status),
        if a.has_refresh_token {
            ", refresh token stored"
        } else {
            ""
        }
    );
    out.extend(refresh_life_text(a, status));
    out.extend(access_life_text(a, status));
    if !a.variables.is_empty() {
        let shown: Vec<String> = a
            .variables
            .iter()
            .map(|(name, value)| match value {
                Some(v) => format!("{} {v}", printable(name)),
                None => format!("{} (none)", printable(name)),
            })
            .collect();
        out.push_str(&format!("  variables: {}\n", shown.join(", ")));
    }
    if let Some(s) = &a.set_aside {
        let path = s.path.display();
        out.push_str(&if s.usable {
            format!(
                "  tokens a failed save set aside wait in {path}: take them with oauth2 --recover\n"
            )
        } else {
            format!(
                "  {path} holds tokens older than the file's (set aside by a failed save): delete it\n"
            )
        });
    }
    for n in &a.next {
        out.push_str(&format!(
            "  with \"{}\" ({}): {}\n",
            printable(&n.authorization),
            grant(&n.next).map_or("?", GrantType::name),
            printable(&action(&n.next))
        ));
        out.push_str(&scopes_text(n));
    }
    out
}

/// The authorization's scopes the grant lacks, and what gets them.
fn scopes_text(n: &NextRun) -> String {
    let Some(d) = &n.scopes else {
        return String::new();
    };
    let mut out = String::new();
    if !d.new.is_empty() {
        out.push_str(&format!(
            "    not granted: {} (added to the file since the login; a refresh cannot add \
             scopes): the next oauth2 logs in again instead\n",
            crate::flow::scopes_listed(&d.new)
        ));
    }
    if !d.refused.is_empty() {
        out.push_str(&format!(
            "    asked for at the login but not granted: {} (oauth2 --reauth asks again)\n",
            crate::flow::scopes_listed(&d.refused)
        ));
    }
    out
}

fn token_text(a: &AccountStatus, status: &Status) -> String {
    let Some(token) = &a.access_token else {
        return "no access token".into();
    };
    let mut t = format!("token {}", token.masked());
    match a.expires_at {
        Some(at) => t.push_str(&format!(
            ", {} {} ({})",
            if at <= status.now {
                "expired"
            } else {
                "expires"
            },
            clock::rfc3339(at),
            clock::relative(at, status.now)
        )),
        None => t.push_str(", no expiry stated"),
    }
    if let Some(scope) = &a.scope {
        t.push_str(&format!(", scope {}", printable(scope)));
    }
    t
}
