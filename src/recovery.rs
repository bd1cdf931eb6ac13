//! Tokens the provider issued that could not be saved into `.unito.json` (a full disk, a
//! file made unwritable mid-run) are written to a recovery file instead: after a rotation
//! the new refresh token is the only one that still works, so losing it loses the grant.
//! The next run finds them and offers to put them where they belong.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// Marks a recovery file, and the version of its format.
const MARK: &str = "integrationCliRecovery";
const FORMAT: u64 = 1;
/// A recovery file holds one test account; anything bigger is not one of ours.
const MAX_BYTES: u64 = 16 << 20;

/// One set of tokens set aside.
#[derive(Debug)]
pub struct Recovery {
    pub path: PathBuf,
    pub saved_at: String,
    pub account: Map<String, Value>,
    /// The test account as the file held it when these tokens were meant to replace it.
    before: Value,
}

impl Recovery {
    /// Whether the file's test account is still the one these tokens were meant to replace:
    /// if it changed since (a new login), they are older than what the file holds.
    pub fn fits(&self, current: Option<&Map<String, Value>>) -> bool {
        let current = current.map_or(Value::Null, |m| Value::Object(m.clone()));
        self.before == current
    }

    pub fn discard(&self) -> io::Result<()> {
        fs::remove_file(&self.path)
    }
}

/// A folder recovery files go to, and how their names start there.
struct Place {
    dir: PathBuf,
    prefix: String,
    /// A folder in a place others can write (the temporary directory): it must be ours alone.
    shared_parent: bool,
    /// Files here are given to the project file's owner (written as root beside a
    /// developer's file, they must be theirs); elsewhere they stay in the writer's folder.
    owners_folder: bool,
}

/// Where recovery files may go, in the order tried: the user's state directory (outside
/// the project, so never committed), beside the file (found by anyone working on it), and
/// the system's temporary directory (often another disk, or memory).
fn places(project: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<Place> {
    let mut places = Vec::new();
    if let Some(state) = state_dir(env) {
        places.push(Place {
            dir: state.join("integration-cli").join("recovery"),
            prefix: "recovery-".into(),
            shared_parent: false,
            owners_folder: false,
        });
    }
    if let (Some(dir), Some(name)) = (project.parent(), project.file_name()) {
        places.push(Place {
            dir: dir.to_path_buf(),
            prefix: format!("{}.recovery-", name.to_string_lossy()),
            shared_parent: false,
            owners_folder: true,
        });
    }
    places.push(Place {
        dir: std::env::temp_dir().join(format!("integration-cli-recovery-{}", user_id())),
        prefix: "recovery-".into(),
        shared_parent: true,
        owners_folder: false,
    });
    places
}

/// `$XDG_STATE_HOME`, else `~/.local/state` (`%LOCALAPPDATA%` on Windows).
fn state_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let absolute = |v: String| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if cfg!(windows) {
        return env("LOCALAPPDATA").and_then(absolute);
    }
    env("XDG_STATE_HOME").and_then(absolute).or_else(|| {
        env("HOME")
            .and_then(absolute)
            .map(|h| h.join(".local/state"))
    })
}

#[cfg(unix)]
fn user_id() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

/// What a failed save could not write, and why.
pub struct SetAside<'a> {
    /// The project file's own path (links resolved): what the next run looks for.
    pub project: &'a Path,
    pub test_account: &'a str,
    pub account: &'a Map<String, Value>,
    /// The test account as the file held it (`None`: it had none).
    pub before: Option<&'a Map<String, Value>>,
    pub reason: &'a str,
    pub saved_at: String,
}

impl SetAside<'_> {
    /// Writes the recovery file in the first place that takes it (mode 0600, whole or not
    /// at all), and returns its path; or what was tried, when none could.
    pub fn write(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
        let record = json!({
            MARK: FORMAT,
            "file": self.project.to_string_lossy(),
            "testAccount": self.test_account,
            "savedAt": self.saved_at,
            "reason": self.reason,
            "account": self.account,
            "before": self.before,
        });
        let text = serde_json::to_string_pretty(&record).expect("JSON");
        let owner = fs::metadata(self.project).ok();
        let mut tried = Vec::new();
        for place in places(self.project, env) {
            match write_new(&place, &text, owner.as_ref()) {
                Ok(path) => return Ok(path),
                Err(e) => tried.push(format!("{}: {e}", place.dir.display())),
            }
        }
        Err(tried.join("; "))
    }
}

fn write_new(place: &Place, text: &str, owner: Option<&fs::Metadata>) -> io::Result<PathBuf> {
    make_dir(&place.dir, place.shared_parent)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(&place.dir)?;
    tmp.write_all(text.as_bytes())?;
    #[cfg(unix)]
    if let Some(owner) = owner.filter(|_| place.owners_folder) {
        crate::project::keep_owner(tmp.as_file(), owner);
    }
    #[cfg(not(unix))]
    let _ = owner;
    tmp.as_file().sync_all()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = place.dir.join(format!(
        "{}{stamp}-{}.json",
        place.prefix,
        std::process::id()
    ));
    tmp.persist_noclobber(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// Creates `dir` (0700) if needed. In a shared parent, the folder must be ours and closed to
/// others, or someone else made it first and could read (or replace) the tokens.
fn make_dir(dir: &Path, shared_parent: bool) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    #[cfg(not(unix))]
    let _ = shared_parent;
    #[cfg(unix)]
    if shared_parent {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::symlink_metadata(dir)?;
        if !meta.is_dir() || meta.uid() != user_id() || meta.mode() & 0o077 != 0 {
            return Err(io::Error::other("not a private folder of this user's"));
        }
    }
    Ok(())
}

/// Every recovery file for this project file's test account, newest first. Files that are
/// not ours (another owner, readable by others, another format) are passed over: a cloned
/// repository must not be able to plant tokens for us to adopt.
pub fn find(
    project: &Path,
    test_account: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Recovery> {
    scan(project, env)
        .into_iter()
        .filter(|(account, _)| account == test_account)
        .map(|(_, r)| r)
        .collect()
}

/// Every recovery file for this project file, with its test account, newest first.
pub fn scan(project: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, Recovery)> {
    let owner = project_owner(project);
    let mut found: Vec<(String, Recovery)> = places(project, env)
        .iter()
        .flat_map(candidates)
        .filter_map(|path| read(&path, project, owner))
        .collect();
    found.sort_by(|(_, a), (_, b)| (&b.saved_at, &b.path).cmp(&(&a.saved_at, &a.path)));
    found
}

fn candidates(place: &Place) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(&place.dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&place.prefix) && name.ends_with(".json")
        })
        .map(|e| e.path())
        .collect()
}

/// Who owns the project file: recovery files written beside it as root are theirs.
fn project_owner(project: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(project).ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = project;
        None
    }
}

fn read(path: &Path, project: &Path, owner: Option<u32>) -> Option<(String, Recovery)> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ours = meta.uid() == user_id() || Some(meta.uid()) == owner;
        if !ours || meta.mode() & 0o077 != 0 {
            return None;
        }
    }
    #[cfg(not(unix))]
    let _ = owner;
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(MAX_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let Value::Object(mut record) = serde_json::from_str(&text).ok()? else {
        return None;
    };
    let ours = record.get(MARK).and_then(Value::as_u64) == Some(FORMAT)
        && record.get("file").and_then(Value::as_str) == Some(&*project.to_string_lossy());
    let test_account = record
        .get("testAccount")
        .and_then(Value::as_str)?
        .to_string();
    if !ours {
        return None;
    }
    let Some(Value::Object(account)) = record.shift_remove("account") else {
        return None;
    };
    let recovery = Recovery {
        path: path.to_path_buf(),
        saved_at: record
            .get("savedAt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        account,
        before: record.shift_remove("before").unwrap_or(Value::Null),
    };
    Some((test_account, recovery))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_state(dir: &Path) -> impl Fn(&str) -> Option<String> + '_ {
        move |k: &str| (k == "XDG_STATE_HOME").then(|| dir.to_string_lossy().into_owned())
    }

    fn account(token: &str) -> Map<String, Value> {
        json!({"accessToken": token, "refreshToken": "fake-rt"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn set_aside_tokens_are_found_for_their_file_and_account_only() {
        let state = tempfile::tempdir().unwrap();
        let project_dir = tempfile::tempdir().unwrap();
        let file = project_dir.path().join(".unito.json");
        std::fs::write(&file, "{}").unwrap();
        let env = env_with_state(state.path());
        let before = account("fake-old");
        let new = account("fake-new");
        let path = SetAside {
            project: &file,
            test_account: "development",
            account: &new,
            before: Some(&before),
            reason: "disk full",
            saved_at: "2026-12-02T10:00:00Z".into(),
        }
        .write(&env)
        .unwrap();
        assert!(path.starts_with(state.path()), "{}", path.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let found = find(&file, "development", &env);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account, new);
        assert!(found[0].fits(Some(&before)));
        assert!(!found[0].fits(Some(&new)));
        assert!(find(&file, "compliance", &env).is_empty());
        assert!(find(&project_dir.path().join("other.json"), "development", &env).is_empty());
        found[0].discard().unwrap();
        assert!(find(&file, "development", &env).is_empty());
    }

    #[test]
    fn a_state_dir_that_cannot_be_written_falls_back_to_beside_the_file() {
        let project_dir = tempfile::tempdir().unwrap();
        let file = project_dir.path().join(".unito.json");
        std::fs::write(&file, "{}").unwrap();
        // A state "directory" that is a file: it cannot hold anything.
        let blocker = project_dir.path().join("not-a-dir");
        std::fs::write(&blocker, "").unwrap();
        let env = env_with_state(&blocker);
        let new = account("fake-new");
        let path = SetAside {
            project: &file,
            test_account: "development",
            account: &new,
            before: None,
            reason: "disk full",
            saved_at: "2026-12-02T10:00:00Z".into(),
        }
        .write(&env)
        .unwrap();
        assert_eq!(path.parent(), Some(project_dir.path()));
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".unito.json.recovery-")
        );
        let found = find(&file, "development", &env);
        assert_eq!(found.len(), 1);
        assert!(found[0].fits(None));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_file_readable_by_others_is_not_adopted() {
        use std::os::unix::fs::PermissionsExt;
        let state = tempfile::tempdir().unwrap();
        let project_dir = tempfile::tempdir().unwrap();
        let file = project_dir.path().join(".unito.json");
        std::fs::write(&file, "{}").unwrap();
        let planted = project_dir.path().join(".unito.json.recovery-1-1.json");
        let record = json!({MARK: FORMAT, "file": file.to_string_lossy(), "testAccount": "development",
            "savedAt": "x", "account": {"accessToken": "fake-attacker"}, "before": null});
        std::fs::write(&planted, record.to_string()).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).unwrap();
        let env = env_with_state(state.path());
        assert!(find(&file, "development", &env).is_empty());
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(find(&file, "development", &env).len(), 1);
    }
}
