//! Which environment variables a project file may send where: each pair (variable, host)
//! the user approved once, kept in their own configuration folder and never in the project,
//! as direnv's `allow` keeps its list. A cloned `.unito.json` may name `${JWT_SECRET}` and a
//! token URL of its choosing; it cannot approve that pair itself.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::jwt::KeySource;
use crate::config::{ForAccount, OAuth2, SECRET_ENV, env_names};
use crate::error::{ALLOW_ENV, EnvError, Error, Result};
use crate::ui::Terminal;

const FILE_NAME: &str = "approved-env.json";
/// A list of pairs is a few kilobytes; a bigger file is not one this program wrote.
const MOST_BYTES: u64 = 1 << 20;

/// One variable a file may send to one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub variable: String,
    pub host: String,
}

/// An approved pair, with the file that first asked (for the person reading the list).
#[derive(Serialize, Deserialize)]
struct Approved {
    #[serde(flatten)]
    pair: Pair,
    file: String,
}

#[derive(Default, Serialize, Deserialize)]
struct List {
    approved: Vec<Approved>,
}

/// The list of approved pairs, in the user's configuration folder.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// `$XDG_CONFIG_HOME/integration-cli/approved-env.json`, or under `~/.config` (an
    /// `XDG_CONFIG_HOME` that is not absolute is ignored, as the XDG specification says);
    /// `None` without either.
    pub fn for_user(env: &dyn Fn(&str) -> Option<String>) -> Option<Store> {
        let base = env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                env("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".config"))
            })?;
        Some(Store::at(base.join("integration-cli").join(FILE_NAME)))
    }

    pub fn at(path: PathBuf) -> Store {
        Store { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn holds(&self, pair: &Pair) -> Result<bool> {
        Ok(self.read()?.approved.iter().any(|a| a.pair == *pair))
    }

    /// Adds `pairs`, asked for by `file`; the list is replaced whole (mode 0600), never
    /// left half-written, under a lock so that two runs approving at once both keep theirs.
    pub fn add(&self, pairs: &[Pair], file: &Path) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| Error::io("create", dir, e))?;
        let _lock = self.lock()?;
        let mut list = self.read()?;
        let file = std::path::absolute(file).unwrap_or_else(|_| file.into());
        for pair in pairs {
            if !list.approved.iter().any(|a| a.pair == *pair) {
                list.approved.push(Approved {
                    pair: pair.clone(),
                    file: file.display().to_string(),
                });
            }
        }
        let text = serde_json::to_string_pretty(&list).expect("JSON") + "\n";
        crate::project::write_atomic(&self.path, &text)
            .map_err(|e| Error::io("write", &self.path, e))
    }

    /// A lock file beside the list (the list itself is replaced by rename, and a lock on it
    /// would go with the old file); held only while the list is read and written again.
    fn lock(&self) -> Result<std::fs::File> {
        let lock_path = self.path.with_extension("json.lock");
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options
            .open(&lock_path)
            .map_err(|e| Error::io("open", &lock_path, e))?;
        file.lock().map_err(|e| Error::io("lock", &lock_path, e))?;
        Ok(file)
    }

    fn read(&self) -> Result<List> {
        let unreadable = |why: String| EnvError::ApprovalsUnreadable {
            path: self.path.clone(),
            why,
        };
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(List::default()),
            Err(e) => return Err(Error::io("read", &self.path, e)),
        };
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(unreadable("it is not a regular file".into()).into());
        }
        let mut text = String::new();
        file.take(MOST_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| unreadable(e.to_string()))?;
        if text.len() as u64 > MOST_BYTES {
            return Err(unreadable("it is larger than 1 MiB".into()).into());
        }
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()).into())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The host a request to `url` goes to, when sending there needs an approval: none for
/// this machine (the sandbox, a provider run locally), which a file cannot make listen.
pub fn host_of(url: &str) -> Option<String> {
    if crate::loopback::is_loopback_url(url) {
        return None;
    }
    Some(match url::Url::parse(url) {
        Ok(u) => u.host_str().unwrap_or_default().to_ascii_lowercase(),
        Err(_) => crate::redact::display_url(url),
    })
}

/// An environment variable the file sends, from which field, to which host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub pair: Pair,
    pub field: String,
}

/// What `sent` would send to the revocation endpoint's host (`logout`), which gets the
/// client's credentials as the token endpoint does: none when there is no such endpoint.
pub fn sent_to_revocation(
    written: &OAuth2,
    filled: &ForAccount,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Sent> {
    let Some(url) = &filled.revocation_url else {
        return Vec::new();
    };
    let mut there = filled.clone();
    there.token_url = url.clone();
    there.authorization_url = None;
    sent(written, &there, env)
}

/// What `written` (the authorization as the file writes it) sends from the environment,
/// and where, once `filled` for a test account: its client secret and signing key to the
/// token URL's host, its client id there and to the login URL's host. Variables that are
/// not set send nothing (the run says they are missing), nor does `UNITO_CLIENT_SECRET`,
/// which the user sets on purpose.
pub fn sent(
    written: &OAuth2,
    filled: &ForAccount,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Sent> {
    let token_host = host_of(filled.token_url.as_str());
    let login_host = (filled.authorization_url.as_ref()).and_then(|u| host_of(u.as_str()));
    let overridden = env(SECRET_ENV).is_some_and(|v| !v.is_empty());
    let secret = written.client_secret.as_ref().filter(|_| !overridden);
    let key = match filled.jwt().map(|j| &j.key) {
        Some(KeySource::Inline(raw)) => Some(raw.expose()),
        _ => None,
    };
    let fields = [
        ("clientId", Some(written.client_id.as_str()), login_host),
        ("clientSecret", secret.map(|s| s.expose()), None),
        ("jwt.privateKey", key, None),
    ];
    let mut out: Vec<Sent> = Vec::new();
    for (field, value, also) in fields {
        let Some(value) = value else { continue };
        let hosts: Vec<&String> = token_host.iter().chain(also.iter()).collect();
        let vars = env_names(value).into_iter();
        for var in vars.filter(|v| *v != SECRET_ENV && env(v).is_some()) {
            for host in &hosts {
                let pair = Pair {
                    variable: var.to_string(),
                    host: host.to_string(),
                };
                if !out.iter().any(|s| s.pair == pair) {
                    out.push(Sent {
                        pair,
                        field: format!("{}.{field}", written.at),
                    });
                }
            }
        }
    }
    out
}

/// Decides, before anything is sent, whether each variable may go where the file sends it.
pub struct Approver<'a> {
    /// The project file, to name in the prompt and the error.
    pub file: &'a Path,
    /// `--allow-env`: names approved for this run.
    pub allowed: &'a [String],
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub terminal: &'a dyn Terminal,
}

impl Approver<'_> {
    /// Each pair approved already, by `--allow-env` or `UNITO_ALLOW_ENV`, or by the person
    /// at the terminal now (and kept); otherwise the first pair left is the error.
    pub fn check(&self, sent: &[Sent]) -> Result<()> {
        let from_env = (self.env)(ALLOW_ENV).unwrap_or_default();
        let allowed: Vec<&str> = self
            .allowed
            .iter()
            .map(String::as_str)
            .chain(from_env.split(','))
            .map(str::trim)
            .collect();
        let store = Store::for_user(self.env);
        for s in sent
            .iter()
            .filter(|s| !allowed.contains(&s.pair.variable.as_str()))
        {
            if let Some(store) = &store
                && store.holds(&s.pair)?
            {
                continue;
            }
            if !self.terminal.interactive() || !self.ask(s, store.as_ref())? {
                return Err(EnvError::EnvNotApproved {
                    var: crate::redact::printable(&s.pair.variable),
                    field: s.field.clone(),
                    host: s.pair.host.clone(),
                    file: self.file.into(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Whether the person sends `s`; kept in `store` when they say so.
    fn ask(&self, s: &Sent, store: Option<&Store>) -> Result<bool> {
        let prompt = format!(
            "{} sends the environment variable {} ({}) to {}. Send it?",
            self.file.display(),
            s.pair.variable,
            s.field,
            s.pair.host
        );
        let yes = match store {
            Some(store) => format!("Yes, and remember it (in {})", store.path().display()),
            None => "Yes, for this run (there is no configuration folder to remember it in)".into(),
        };
        if self
            .terminal
            .choose(&prompt, &["No, stop here".into(), yes])?
            == 0
        {
            return Ok(false);
        }
        if let Some(store) = store {
            store.add(std::slice::from_ref(&s.pair), self.file)?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs approving at once (several terminals, a script's loop) each keep their pairs:
    /// without the lock, one's list replaces another's.
    #[test]
    fn approvals_made_at_once_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("integration-cli").join(FILE_NAME));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = Store::at(store.path().to_path_buf());
                std::thread::spawn(move || {
                    for i in 0..15 {
                        let pair = Pair {
                            variable: format!("FAKE_{t}_{i}_SECRET"),
                            host: "login.example.test".into(),
                        };
                        store.add(&[pair], Path::new("fake/.unito.json")).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.read().unwrap().approved.len(), 8 * 15);
    }
}
