//! Whether the scopes the file asks for are all in the scope a provider granted, read the
//! way that provider writes its answer (`Rules`, one per provider in `providers`). Pure: it
//! says what is missing, or that nothing can be said.

/// How a provider writes the scopes it granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How a scope asked for comes back.
    pub spelling: Spelling,
    /// Whether its answer's `scope` says what was granted; when not, no claim is made.
    pub reliable: bool,
}

/// RFC 6749's: the scopes asked for, back as they were written, space-separated.
pub const STANDARD: Rules = Rules {
    spelling: Spelling::AsAsked,
    reliable: true,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// As asked (separated by spaces or commas: Slack joins them with commas).
    AsAsked,
    /// Google: short names as URLs (`email` is `…/auth/userinfo.email`), `openid` added.
    Google,
    /// Microsoft: `offline_access` and the OpenID scopes never echoed, any case, a
    /// resource's prefix added or dropped (`https://graph.microsoft.com/User.Read`), and
    /// `.default` standing for whatever the app was given.
    Microsoft,
    /// GitHub: joined with commas, and a wider scope granting the narrower ones (`repo`
    /// covers `public_repo`, `admin:org` covers `read:org`).
    GitHub,
}

/// The file's scopes that the grant does not hold, or `None` when nothing can be said: no
/// scope granted on record (a provider that echoes none), or an echo not to be trusted.
pub fn missing(asked: &[String], granted: Option<&str>, rules: Rules) -> Option<Vec<String>> {
    let granted = granted.filter(|g| !g.trim().is_empty())?;
    if !rules.reliable {
        return None;
    }
    let held: Vec<String> = granted
        .split([' ', ',', '\t', '\n'])
        .filter(|s| !s.is_empty())
        .map(|s| normal(s, rules.spelling))
        .collect();
    let missing = asked
        .iter()
        .flat_map(|s| s.split_whitespace())
        .filter(|s| !never_echoed(s, rules.spelling))
        .filter(|s| {
            let want = normal(s, rules.spelling);
            !held.iter().any(|h| covers(h, &want, rules.spelling))
        })
        .map(str::to_string)
        .collect();
    Some(missing)
}

/// Our record of the scopes the last new grant asked for (the test account's field): what
/// it asked and was not given is the provider's refusal, which another login would not
/// change, so it never starts one.
pub const REQUESTED: &str = "requestedScope";

/// The file's scopes the grant lacks, in two kinds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drift {
    /// Not asked for by the last login (the file grew since): a new login asks for them.
    pub new: Vec<String>,
    /// Asked for by the last login, and not given.
    pub refused: Vec<String>,
}

/// `missing`, split by what the last login asked for (`requested`; `None`: not on record,
/// so every missing scope counts as new). `None` when nothing is missing or nothing can be
/// said.
pub fn drift(
    asked: &[String],
    granted: Option<&str>,
    requested: Option<&str>,
    rules: Rules,
) -> Option<Drift> {
    let missing = missing(asked, granted, rules)?;
    let requested: Vec<&str> = requested.map_or(Vec::new(), |r| r.split_whitespace().collect());
    let (refused, new) = missing
        .into_iter()
        .partition(|s| requested.contains(&s.as_str()));
    let drift = Drift { new, refused };
    (drift != Drift::default()).then_some(drift)
}

/// A scope asked for that the provider grants without saying so.
fn never_echoed(scope: &str, spelling: Spelling) -> bool {
    match spelling {
        Spelling::Microsoft => {
            ["offline_access", "openid", "profile", "email"]
                .iter()
                .any(|s| scope.eq_ignore_ascii_case(s))
                || scope.to_ascii_lowercase().ends_with("/.default")
                || scope.eq_ignore_ascii_case(".default")
        }
        _ => false,
    }
}

/// One spelling for a scope, whichever form it was written in.
fn normal(scope: &str, spelling: Spelling) -> String {
    match spelling {
        Spelling::Google => match scope {
            "openid" => scope.into(),
            "email" | "profile" => format!("https://www.googleapis.com/auth/userinfo.{scope}"),
            s if s.contains("://") => s.into(),
            s => format!("https://www.googleapis.com/auth/{s}"),
        },
        Spelling::Microsoft => {
            let s = scope.to_ascii_lowercase();
            match s.contains("://") {
                true => s.rsplit('/').next().unwrap_or_default().to_string(),
                false => s,
            }
        }
        Spelling::AsAsked | Spelling::GitHub => scope.into(),
    }
}

/// Whether a granted scope gives the one wanted.
fn covers(granted: &str, wanted: &str, spelling: Spelling) -> bool {
    if granted == wanted {
        return true;
    }
    if spelling != Spelling::GitHub {
        return false;
    }
    // GitHub's documented hierarchy: admin:X ⊃ write:X ⊃ read:X, and a few named ones.
    let implied: &[&str] = match granted {
        "repo" => &[
            "repo:status",
            "repo_deployment",
            "public_repo",
            "repo:invite",
            "security_events",
        ],
        "user" => &["read:user", "user:email", "user:follow"],
        "project" => &["read:project"],
        _ => &[],
    };
    if implied.contains(&wanted) {
        return true;
    }
    let (Some((g, what)), Some((w, wanted_what))) =
        (granted.split_once(':'), wanted.split_once(':'))
    else {
        return false;
    };
    what == wanted_what && matches!((g, w), ("admin", "write" | "read") | ("write", "read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn rules(spelling: Spelling) -> Rules {
        Rules {
            spelling,
            reliable: true,
        }
    }

    #[test]
    fn google_answers_short_names_as_urls_and_adds_openid() {
        let granted = "openid https://www.googleapis.com/auth/userinfo.email \
                       https://www.googleapis.com/auth/drive.readonly";
        let r = rules(Spelling::Google);
        let file = asked(&["email", "drive.readonly"]);
        assert_eq!(missing(&file, Some(granted), r), Some(vec![]));
        let file = asked(&[
            "email",
            "profile",
            "https://www.googleapis.com/auth/calendar",
        ]);
        assert_eq!(
            missing(&file, Some(granted), r).unwrap(),
            ["profile", "https://www.googleapis.com/auth/calendar"]
        );
    }

    #[test]
    fn microsoft_never_echoes_offline_access_and_may_prefix_a_resource() {
        let granted = "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read";
        let r = rules(Spelling::Microsoft);
        let file = asked(&["offline_access", "openid", "user.read", "Mail.Read"]);
        assert_eq!(missing(&file, Some(granted), r), Some(vec![]));
        let file = asked(&["https://graph.microsoft.com/.default", "Calendars.Read"]);
        assert_eq!(
            missing(&file, Some(granted), r).unwrap(),
            ["Calendars.Read"]
        );
        let unprefixed = "User.Read profile openid email";
        let file = asked(&["https://graph.microsoft.com/User.Read"]);
        assert_eq!(missing(&file, Some(unprefixed), r), Some(vec![]));
    }

    #[test]
    fn github_joins_with_commas_and_a_wider_scope_grants_the_narrower() {
        let r = rules(Spelling::GitHub);
        let file = asked(&["public_repo", "read:user", "read:org", "gist"]);
        assert_eq!(
            missing(&file, Some("repo,user,admin:org"), r).unwrap(),
            ["gist"]
        );
        assert_eq!(
            missing(&asked(&["write:org"]), Some("read:org"), r).unwrap(),
            ["write:org"]
        );
    }

    #[test]
    fn slack_and_the_standard_compare_as_written_split_on_spaces_or_commas() {
        let file = asked(&["channels:read", "chat:write"]);
        assert_eq!(
            missing(&file, Some("channels:read,chat:write"), STANDARD),
            Some(vec![])
        );
        assert_eq!(
            missing(&file, Some("channels:read"), STANDARD).unwrap(),
            ["chat:write"]
        );
    }

    #[test]
    fn no_scope_on_record_or_an_unreliable_echo_makes_no_claim() {
        let file = asked(&["read"]);
        assert_eq!(missing(&file, None, STANDARD), None);
        assert_eq!(missing(&file, Some(" "), STANDARD), None);
        let unreliable = Rules {
            reliable: false,
            ..STANDARD
        };
        assert_eq!(missing(&file, Some("other"), unreliable), None);
    }
    #[test]
    fn scopes_the_last_login_asked_for_and_did_not_get_are_refused_not_new() {
        let file = asked(&["read", "write", "admin"]);
        let d = drift(&file, Some("read"), Some("read write"), STANDARD).unwrap();
        assert_eq!(
            (d.new, d.refused),
            (vec!["admin".to_string()], vec!["write".to_string()])
        );
        let d = drift(&file, Some("read"), None, STANDARD).unwrap();
        assert_eq!(d.new, ["write", "admin"]);
        assert_eq!(drift(&file, Some("read,write admin"), None, STANDARD), None);
    }
}
