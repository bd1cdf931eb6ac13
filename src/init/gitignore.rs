//! Keeping the tokens out of version control: `.unito.json` and the files beside it go into
//! the `.gitignore` next to it, appended, never rewritten.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What became of the `.gitignore` beside the file, for the report to tell the user.
#[derive(Debug, PartialEq, Eq)]
pub enum Ignored {
    /// It already lists every entry.
    Already,
    /// There is none: the user is told to keep the file out of version control.
    NoGitignore,
    /// These entries were appended to it.
    Added {
        gitignore: PathBuf,
        entries: Vec<String>,
    },
}

/// Adds `.unito.json` (and its lock and recovery files, and `also`: a signing key) to the
/// `.gitignore` beside it, when there is one that does not ignore them yet.
pub(super) fn ignore_in_git(config: &Path, also: &[&str]) -> Result<Ignored> {
    let dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let gitignore = dir.join(".gitignore");
    let Ok(current) = std::fs::read_to_string(&gitignore) else {
        return Ok(Ignored::NoGitignore);
    };
    let add = not_ignored_yet(&current, config, also);
    if add.is_empty() {
        return Ok(Ignored::Already);
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&gitignore)
        .and_then(|mut f| f.write_all(appendix(&current, &add).as_bytes()))
        .map_err(|source| Error::io("write", &gitignore, source))?;
    Ok(Ignored::Added {
        gitignore,
        entries: add,
    })
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
