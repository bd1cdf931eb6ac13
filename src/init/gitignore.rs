//! Keeping the tokens out of version control: `.unito.json` and the files beside it go into
//! the `.gitignore` next to it, appended, never rewritten; in a git repository without one,
//! it is made.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What became of the `.gitignore` beside the file, for the report to tell the user.
#[derive(Debug, PartialEq, Eq)]
pub enum Ignored {
    /// It already lists every entry.
    Already,
    /// There is none, and no git repository: the user is told to keep the file out of
    /// version control.
    NoGitignore,
    /// There was none in this git repository: it was made with these entries.
    Created {
        gitignore: PathBuf,
        entries: Vec<String>,
    },
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
        return create(dir, &gitignore, config, also);
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

/// A new `.gitignore` with the entries, when `dir` is in a git repository (a commit there
/// would take the tokens along); nothing otherwise, since the user may keep the project in
/// another version control system or none.
fn create(dir: &Path, gitignore: &Path, config: &Path, also: &[&str]) -> Result<Ignored> {
    if !in_git_repository(dir) {
        return Ok(Ignored::NoGitignore);
    }
    let entries = not_ignored_yet("", config, also);
    use std::io::Write;
    // `create_new`: a `.gitignore` made meanwhile is never written over.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(gitignore)
        .and_then(|mut f| f.write_all(appendix("", &entries).as_bytes()))
        .map_err(|source| Error::io("create", gitignore, source))?;
    Ok(Ignored::Created {
        gitignore: gitignore.to_path_buf(),
        entries,
    })
}

/// Whether `dir` or a folder above it holds `.git` (a folder, or a file in a worktree).
fn in_git_repository(dir: &Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    dir.ancestors().any(|d| d.join(".git").exists())
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
