//! `init`'s last words: what was written, where its secret comes from, what became of the
//! `.gitignore`, and what to run next.

use crate::init::{Ignored, Secret, Written};

/// The messages in the order they are told, each one result of its own.
pub fn lines(w: &Written) -> Vec<String> {
    let mut lines = vec![format!(
        "Wrote {} with authorization \"{}\".",
        w.path.display(),
        w.authorization
    )];
    if let Some(p) = w.preset {
        lines.push(format!("With {}: {}.", p.title, p.note));
    }
    lines.push(match &w.secret {
        Secret::KeyFile(file) => format!(
            "Assertions are signed with the key in {file} beside it (PEM, chmod 600); \
             fill in jwt.issuer and jwt.subject as the provider documents."
        ),
        Secret::Variable(var) => {
            format!("The client secret is read from ${var} at run time: export {var}=<your secret>")
        }
    });
    // After a failed .gitignore the run stopped: its error is told next.
    let Ok(ignored) = &w.gitignore else {
        return lines;
    };
    lines.extend(gitignore(ignored));
    if !w.first_login_asks.is_empty() {
        lines.push(first_login_asks(&w.first_login_asks));
    }
    lines.push("Next: integration-cli oauth2".into());
    lines
}

fn gitignore(ignored: &Ignored) -> Option<String> {
    match ignored {
        Ignored::Already => None,
        Ignored::NoGitignore => Some(
            "There is no .gitignore here: keep .unito.json (it will hold tokens) out of version control."
                .into(),
        ),
        Ignored::Added { gitignore, entries } => Some(format!(
            "Added {} to {}.",
            listed(entries),
            gitignore.display()
        )),
    }
}

/// What the first `oauth2` run will ask for, and the flags that give it at once.
fn first_login_asks(asked: &[(String, String)]) -> String {
    let labels: Vec<String> = asked
        .iter()
        .map(|(label, name)| format!("{label} ({name})"))
        .collect();
    let flags: Vec<String> = asked
        .iter()
        .map(|(_, name)| format!("--var {name}=VALUE"))
        .collect();
    format!(
        "The first login asks for: {}; or give it now: integration-cli oauth2 {}",
        labels.join(", "),
        flags.join(" ")
    )
}

/// `a, b and c`.
fn listed(add: &[String]) -> String {
    match add.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => add.join(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(gitignore: crate::error::Result<Ignored>) -> Written {
        Written {
            path: ".unito.json".into(),
            authorization: "oauth2".into(),
            preset: None,
            secret: Secret::Variable("OAUTH2_CLIENT_SECRET".into()),
            gitignore,
            first_login_asks: vec![("Subdomain".into(), "subdomain".into())],
        }
    }

    #[test]
    fn a_failed_gitignore_ends_the_story_before_what_comes_next() {
        let added = Ignored::Added {
            gitignore: ".gitignore".into(),
            entries: vec!["a".into(), "b".into(), "c".into()],
        };
        let all = lines(&written(Ok(added)));
        assert_eq!(all[2], "Added a, b and c to .gitignore.");
        assert!(all[3].starts_with("The first login asks for: Subdomain (subdomain); "));
        assert_eq!(all.last().unwrap(), "Next: integration-cli oauth2");
        let failed = crate::error::Error::Internal("no".into());
        assert_eq!(lines(&written(Err(failed))).len(), 2);
    }
}
