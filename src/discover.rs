//! Finding the project's `.unito.json` from a subfolder, as git finds its repository: here,
//! then each folder above up to the repository's root (the folder holding `.git`) or the
//! home folder, never past them, so a file someone planted in a shared folder higher up is
//! never read. A file above that another user owns is passed over for the same reason.

use std::path::{Path, PathBuf};

/// The file's name, as the platform's CLI writes it.
pub const FILE_NAME: &str = ".unito.json";

/// Where the search looked, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file, relative to the folder the search started in (`../.unito.json`); when
    /// none was found, the one here (`.unito.json`), for the error to name.
    pub path: PathBuf,
    pub exists: bool,
    /// Every path looked at, in order, as `path` is written.
    pub tried: Vec<PathBuf>,
}

/// What the search needs to know of this machine: stated, so tests can give another.
pub struct Place<'a> {
    /// Where the command runs (`std::env::current_dir`, its links resolved).
    pub cwd: &'a Path,
    /// The user's home folder, when known.
    pub home: Option<&'a Path>,
    /// Whether a file above may be read: owned by this user.
    pub ours: &'a dyn Fn(&Path) -> bool,
}

/// The project file for a command run in `place.cwd`.
pub fn find(place: &Place<'_>) -> Found {
    let mut tried = Vec::new();
    let mut relative = PathBuf::new();
    // Asked once: a boundary above the working folder is above every folder the search
    // visits until it reaches that boundary and stops.
    let mut bounded = None;
    for (depth, dir) in place.cwd.ancestors().enumerate() {
        let path = relative.join(FILE_NAME);
        let candidate = dir.join(FILE_NAME);
        tried.push(path.clone());
        // The file here is read as it always was; above, only a file of our own.
        if candidate.is_file() && (depth == 0 || (place.ours)(&candidate)) {
            return Found {
                path,
                exists: true,
                tried,
            };
        }
        let boundary = dir.join(".git").exists() || Some(dir) == place.home;
        if boundary || !*bounded.get_or_insert_with(|| within_a_boundary(dir, place.home)) {
            break;
        }
        relative.push("..");
    }
    Found {
        path: PathBuf::from(FILE_NAME),
        exists: false,
        tried,
    }
}

/// Whether a folder above `dir` is a boundary (a repository's root or the home folder):
/// without one, the search has nowhere it may stop, and stays where it is.
fn within_a_boundary(dir: &Path, home: Option<&Path>) -> bool {
    dir.ancestors()
        .skip(1)
        .any(|d| d.join(".git").exists() || Some(d) == home)
}

/// This process's view: the working folder with its links resolved, `HOME`, and files
/// owned by the effective user (or, under `sudo`, by the user who ran it).
pub fn here() -> Found {
    let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) else {
        return Found {
            path: PathBuf::from(FILE_NAME),
            exists: false,
            tried: vec![PathBuf::from(FILE_NAME)],
        };
    };
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| std::fs::canonicalize(h).ok());
    find(&Place {
        cwd: &cwd,
        home: home.as_deref(),
        ours: &owned_by_us,
    })
}

#[cfg(unix)]
fn owned_by_us(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let sudo_uid = std::env::var("SUDO_UID").ok().and_then(|u| u.parse().ok());
    meta.uid() == euid || (euid == 0 && Some(meta.uid()) == sudo_uid)
}

#[cfg(not(unix))]
fn owned_by_us(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dirs: &[&str], files: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        for f in files {
            std::fs::write(root.path().join(f), "{}").unwrap();
        }
        root
    }

    fn look(root: &Path, cwd: &str, home: Option<&str>, ours: bool) -> Found {
        let cwd = root.join(cwd);
        let home = home.map(|h| root.join(h));
        find(&Place {
            cwd: &cwd,
            home: home.as_deref(),
            ours: &move |_| ours,
        })
    }

    #[test]
    fn a_subfolder_of_a_repository_finds_the_file_at_its_root() {
        let root = tree(&["repo/.git", "repo/src/lib"], &["repo/.unito.json"]);
        let found = look(root.path(), "repo/src/lib", None, true);
        assert!(found.exists);
        assert_eq!(found.path, Path::new("../../.unito.json"));
        let here = look(root.path(), "repo", None, true);
        assert_eq!(here.path, Path::new(".unito.json"));
    }

    #[test]
    fn the_search_stops_at_the_repository_root_and_at_home() {
        let root = tree(
            &["shared/repo/.git", "shared/repo/src"],
            &["shared/.unito.json"],
        );
        let found = look(root.path(), "shared/repo/src", None, true);
        assert!(!found.exists);
        assert_eq!(found.path, Path::new(".unito.json"));
        assert_eq!(
            found.tried,
            [Path::new(".unito.json"), Path::new("../.unito.json")]
        );

        let root = tree(&["home/ada/work/x"], &["home/.unito.json"]);
        let found = look(root.path(), "home/ada/work/x", Some("home/ada"), true);
        assert!(!found.exists, "{found:?}");
        assert_eq!(found.tried.len(), 3);
    }

    #[test]
    fn without_a_repository_or_home_above_only_the_folder_itself_is_read() {
        let root = tree(&["tmp/x"], &["tmp/.unito.json"]);
        let found = look(root.path(), "tmp/x", None, true);
        assert!(!found.exists);
        assert_eq!(found.tried, [Path::new(".unito.json")]);
    }

    #[test]
    fn a_file_above_that_another_user_owns_is_passed_over() {
        let root = tree(&["repo/.git", "repo/src"], &["repo/.unito.json"]);
        assert!(!look(root.path(), "repo/src", None, false).exists);
        // Here, the file is read whoever owns it, as it always was.
        assert!(look(root.path(), "repo", None, false).exists);
    }
}
