//! Keeping the tokens out of version control: `.unito.json` and the files beside it go into
//! the `.gitignore` next to it, appended, never rewritten.

use std::path::Path;

use crate::error::{Error, Result};

/// Adds `.unito.json` (and its lock and recovery files, and `also`: a signing key) to the
/// `.gitignore` beside it, when there is one that does not ignore them yet. Returns what it
/// did, to tell the user.
pub(super) fn ignore_in_git(config: &Path, also: &[&str]) -> Result<Option<String>> {
    let dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let gitignore = dir.join(".gitignore");
    let Ok(current) = std::fs::read_to_string(&gitignore) else {
        return Ok(Some(
            "There is no .gitignore here: keep .unito.json (it will hold tokens) out of version control."
                .into(),
        ));
    };
    let add = not_ignored_yet(&current, config, also);
    if add.is_empty() {
        return Ok(None);
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&gitignore)
        .and_then(|mut f| f.write_all(appendix(&current, &add).as_bytes()))
        .map_err(|source| Error::io("write", &gitignore, source))?;
    let listed = listed(&add);
    Ok(Some(format!("Added {listed} to {}.", gitignore.display())))
}

/// The entries for the file, its lock and recovery files and `also` that `current` (the
/// `.gitignore`'s text) does not list, as a name or rooted at its folder.
fn not_ignored_yet(current: &str, config: &Path, also: &[&str]) -> Vec<String> {
    let file_name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".unito.json".into());
    let ignored = |entry: &str| {
        current
            .lines()
            .map(str::trim)
            .any(|l| l == entry || l == format!("/{entry}"))
    };
    let entries = [
        file_name.clone(),
        format!("{file_name}.lock"),
        // Where tokens a failed save could not write may wait (see `recovery`).
        format!("{file_name}.recovery-*"),
    ];
    entries
        .into_iter()
        .chain(also.iter().map(|a| a.to_string()))
        .filter(|entry| !ignored(entry))
        .collect()
}

/// The lines to append: the user's file stays as it was above them, never rewritten.
fn appendix(current: &str, add: &[String]) -> String {
    let mut text = String::new();
    if !current.is_empty() && !current.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# integration-cli: test account tokens\n");
    for entry in add {
        text.push_str(entry);
        text.push('\n');
    }
    text
}

/// `a, b and c`.
fn listed(add: &[String]) -> String {
    match add.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => add.join(""),
    }
}
