//! `init`'s last words: what was written, where its secret comes from, what became of the
//! `.gitignore`, and what to run next.

use crate::init::{Ignored, Secret, Written};

/// What was written, each message one result of its own (the approval comes after them).
pub fn written(w: &Written) -> Vec<String> {
    let mut lines = vec![format!(
        "Wrote {} with authorization \"{}\".",
        w.path.display(),
        w.authorization
    )];
    if let Some(p) = w.preset {
        lines.push(format!("With {}: {}.", p.title, p.note));
    }
    if let Some(uri) = &w.register {
        lines.push(format!(
            "Register {uri} as the redirect URI (callback URL) of your app at the provider (if it \
             requires another, put that one in the file as redirectUrl)."
        ));
    }
    lines.push(match &w.secret {
        Secret::KeyFile(file) => format!(
            "Assertions are signed with the key in {file} beside it (PEM, chmod 600); \
             fill in jwt.issuer and jwt.subject as the provider documents."
        ),
        Secret::Variable(var) => {
            let value = w
                .preset
                .and_then(|p| p.public_secret)
                .unwrap_or("<your secret>");
            format!("The client secret is read from ${var} at run time: export {var}={value}")
        }
    });
    // After a failed .gitignore the run stops: its error is told next.
    if let Ok(ignored) = &w.gitignore {
        lines.extend(gitignore(ignored));
    }
    lines
}

/// After the approval: what the first login asks for, and the command to run.
pub fn next(asked: &[(String, String)]) -> Vec<String> {
    let mut lines = Vec::new();
    if !asked.is_empty() {
        lines.push(first_login_asks(asked));
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
        Ignored::Created { gitignore, entries } => Some(format!(
            "Created {} with {}, so git leaves the tokens out.",
            gitignore.display(),
            listed(entries)
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

    fn file(gitignore: crate::error::Result<Ignored>) -> Written {
        Written {
            path: ".unito.json".into(),
            authorization: "oauth2".into(),
            preset: None,
            secret: Secret::Variable("OAUTH2_CLIENT_SECRET".into()),
            register: None,
            notes: Vec::new(),
            gitignore,
        }
    }

    #[test]
    fn what_was_written_then_what_comes_next() {
        let added = Ignored::Added {
            gitignore: ".gitignore".into(),
            entries: vec!["a".into(), "b".into(), "c".into()],
        };
        let told = written(&file(Ok(added)));
        assert_eq!(told.len(), 3);
        assert_eq!(told[2], "Added a, b and c to .gitignore.");
        let failed = crate::error::Error::Internal("no".into());
        assert_eq!(written(&file(Err(failed))).len(), 2);
        let after = next(&[("Subdomain".into(), "subdomain".into())]);
        assert!(after[0].starts_with("The first login asks for: Subdomain (subdomain); "));
        assert_eq!(
            after,
            [after[0].clone(), "Next: integration-cli oauth2".into()]
        );
        assert_eq!(next(&[]), ["Next: integration-cli oauth2"]);
    }
}
