//! `.unito.json`: the connector developer's own file. We read all of it (typed by `config`),
//! and write back nothing but the one test account we fill in; every other
//! byte (unknown keys, order, spacing, number spelling) is kept by editing a concrete syntax
//! tree instead of re-serialising the document.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstInputValue, CstRootNode};
use serde_json::{Map, Value};

use crate::config::{Config, TestAccount};
use crate::error::{ConfigError, Error, FileError, Result};
use crate::redact::printable;

/// Past this, a file is no project file: refused before it is read, rather than read whole.
const MAX_FILE_BYTES: u64 = 64 << 20;
/// A UTF-8 byte order mark, which some Windows editors put first: read past, and kept.
const BOM: char = '\u{feff}';

/// The file as read: its text (for surgical edits) and its parsed value (for reading).
pub struct Project {
    /// As the user named it, for messages.
    path: PathBuf,
    /// Where the bytes live: a symlinked `.unito.json` is written through, not replaced.
    real_path: PathBuf,
    /// Without the byte order mark, if the file has one.
    text: String,
    root: Map<String, Value>,
    bom: bool,
    config: Config,
}

impl Project {
    pub fn load(path: &Path) -> Result<Project> {
        let real_path = match fs::canonicalize(path) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ConfigError::NotFound {
                    path: path.into(),
                    tried: Vec::new(),
                }
                .into());
            }
            Err(source) => return Err(Error::io("read", path, source)),
        };
        let raw = read_regular_file(path, &real_path)?;
        let (bom, text) = match raw.strip_prefix(BOM) {
            Some(rest) => (true, rest.to_string()),
            None => (false, raw),
        };
        let root = parse_root(path, &text)?;
        check_duplicate_keys(path, &text)?;
        let config = Config::parse(path, &root);
        Ok(Project {
            path: path.into(),
            real_path,
            text,
            root,
            bom,
            config,
        })
    }

    /// The authorizations, typed when the file was read.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The file's own path (links resolved), which names it in recovery files.
    pub fn real_path(&self) -> &Path {
        &self.real_path
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The test accounts in the file, in its order; `development` and `compliance` first
    /// when the file has none yet, as the platform always has those two.
    pub fn test_account_names(&self) -> Vec<String> {
        match self.root.get("testAccounts").and_then(Value::as_object) {
            Some(m) if !m.is_empty() => m.keys().cloned().collect(),
            _ => vec!["development".into(), "compliance".into()],
        }
    }

    /// The top-level `secrets` the platform hands the connector beside the credentials.
    pub fn secrets(&self) -> Option<&Map<String, Value>> {
        self.root.get("secrets")?.as_object()
    }

    pub fn test_account(&self, name: &str) -> Option<&Map<String, Value>> {
        self.root.get("testAccounts")?.get(name)?.as_object()
    }

    /// The test account as the commands read it (tokens, expiry, freshness).
    pub fn account(&self, name: &str) -> TestAccount<'_> {
        TestAccount::new(self.test_account(name))
    }

    /// Writes `account` as the whole new content of `testAccounts.<name>`, changing only the
    /// properties whose values differ, then replaces the file atomically. Returns the file
    /// as written, from the copy verified in memory: what was saved need not be read back.
    pub fn save_test_account(&self, name: &str, account: &Map<String, Value>) -> Result<Project> {
        let (text, root) = self.with_test_account(name, account)?;
        let mut written = text.clone();
        if self.bom {
            written.insert(0, BOM);
        }
        write_atomic(&self.real_path, &written).map_err(|e| Error::io("write", &self.path, e))?;
        tracing::debug!(path = %self.real_path.display(), bytes = written.len(), "saved (temporary file, fsync, rename)");
        Ok(Project {
            path: self.path.clone(),
            real_path: self.real_path.clone(),
            config: Config::parse(&self.path, &root),
            text,
            root,
            bom: self.bom,
        })
    }

    /// Proves, before a token request is sent, that its answer can be saved: the test
    /// account can be edited, the file may be replaced, and a temporary file can be made
    /// beside it. A token the provider has issued must never meet a save that cannot happen.
    pub fn check_save(&self, account: &str) -> Result<()> {
        self.check_editable(account)?;
        let cannot = |why: String| FileError::CannotSave {
            path: self.path.clone(),
            why,
        };
        let meta = fs::metadata(&self.real_path).map_err(|e| cannot(e.to_string()))?;
        if meta.permissions().readonly() {
            return Err(cannot(format!(
                "it is read-only ({}), and integration-cli does not replace a read-only file",
                mode_text(&meta)
            ))
            .into());
        }
        // Write access as the system decides it: owner, ACLs, a read-only mount.
        OpenOptions::new()
            .write(true)
            .open(&self.real_path)
            .map_err(|e| cannot(format!("it cannot be written: {e}")))?;
        let dir = self.real_path.parent().unwrap_or(Path::new("."));
        tempfile::Builder::new()
            .prefix(".unito.json.")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| {
                cannot(format!(
                    "no temporary file can be created in {}: {e}",
                    dir.display()
                ))
            })?;
        Ok(())
    }

    /// `testAccounts` and the account are objects (or absent), so the edit can be made.
    pub fn check_editable(&self, name: &str) -> Result<()> {
        if let Some(v) = self.root.get("testAccounts")
            && !v.is_object()
        {
            return Err(self.invalid("\"testAccounts\" must be an object"));
        }
        if let Some(v) = self.root.get("testAccounts").and_then(|t| t.get(name))
            && !v.is_object()
        {
            return Err(self.invalid(format!(
                "testAccounts.{} must be an object",
                printable(name)
            )));
        }
        Ok(())
    }

    fn with_test_account(
        &self,
        name: &str,
        account: &Map<String, Value>,
    ) -> Result<(String, Map<String, Value>)> {
        self.check_editable(name)?;
        let cst = CstRootNode::parse(&self.text, &Default::default())
            .map_err(|e| self.invalid(format!("cannot edit the file: {e}")))?;
        let accounts = cst
            .object_value_or_set()
            .object_value_or_create("testAccounts")
            .ok_or_else(|| self.invalid("\"testAccounts\" must be an object"))?;
        let target = accounts.object_value_or_create(name).ok_or_else(|| {
            self.invalid(format!(
                "testAccounts.{} must be an object",
                printable(name)
            ))
        })?;
        let old = self.test_account(name).cloned().unwrap_or_default();
        for prop in target.properties() {
            let key = prop.name().and_then(|n| n.decoded_value().ok());
            if key.is_some_and(|k| !account.contains_key(&k)) {
                prop.remove();
            }
        }
        for (key, value) in account {
            if old.get(key) == Some(value) {
                continue;
            }
            match target.get(key) {
                Some(prop) => prop.set_value(to_cst(value)),
                None => {
                    target.append(key, to_cst(value));
                }
            }
        }
        let text = cst.to_string();

        // The edit must have changed exactly the one account: check by parsing the result, so
        // a bug here can never reach the user's file.
        let mut expected = self.root.clone();
        let accounts = expected
            .entry("testAccounts")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(accounts) = accounts {
            accounts.insert(name.to_string(), Value::Object(account.clone()));
        }
        match serde_json::from_str::<Map<String, Value>>(&text) {
            Ok(written) if written == expected => Ok((text, written)),
            _ => Err(self.invalid(
                "internal error: editing the file would have changed more than the test account; nothing was written",
            )),
        }
    }

    fn invalid(&self, message: impl Into<String>) -> Error {
        ConfigError::Invalid {
            path: self.path.clone(),
            message: message.into(),
        }
        .into()
    }
}

fn parse_root(path: &Path, text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(_) => Err(ConfigError::Invalid {
            path: path.into(),
            message: "the top level must be a JSON object".into(),
        }
        .into()),
        Err(e) => {
            let message = e.to_string();
            // serde_json appends " at line L column C"; we say it our own way.
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_string();
            Err(ConfigError::Malformed {
                path: path.into(),
                line: e.line(),
                column: e.column(),
                message,
            }
            .into())
        }
    }
}

/// The file's text, read only if it is a regular file of a sane size: a FIFO or a device
/// (`--config /dev/zero`) would block or never end. Opened without blocking, then checked
/// on the open file, so what is checked is what is read.
fn read_regular_file(shown: &Path, real: &Path) -> Result<String> {
    let refused = |why: String| ConfigError::Refused {
        path: shown.into(),
        why,
    };
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(real)
        .map_err(|e| Error::io("read", shown, e))?;
    let meta = file.metadata().map_err(|e| Error::io("read", shown, e))?;
    if !meta.is_file() {
        return Err(refused(format!("it is {}, not a regular file", kind_of(&meta))).into());
    }
    let too_large = || {
        refused(format!(
            "it is larger than {} MiB, far more than a project file holds",
            MAX_FILE_BYTES >> 20
        ))
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large().into());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", shown, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large().into());
    }
    String::from_utf8(bytes).map_err(|e| {
        refused(format!(
            "it is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        ))
        .into()
    })
}

pub(crate) fn kind_of(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "something other than a file"
    }
}

fn mode_text(meta: &fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        format!("mode {:04o}", meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        "read-only attribute".into()
    }
}

/// Refuses duplicate keys where they would make our edit ambiguous: the top level,
/// `testAccounts`, and each test account (serde_json reads the last copy, the text edit
/// would change the first). Elsewhere the last copy wins, as it does for the platform's
/// own CLI (`JSON.parse`), so files it accepts keep working.
fn check_duplicate_keys(path: &Path, text: &str) -> Result<()> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    KeysOf::Root.deserialize(&mut de).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_string();
        ConfigError::DuplicateKey {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message,
        }
        .into()
    })
}

/// Which object's keys are being checked.
#[derive(Clone, Copy)]
enum KeysOf {
    Root,
    TestAccounts,
    TestAccount,
}

impl<'de> serde::de::DeserializeSeed<'de> for KeysOf {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeysOf {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::{Error as _, IgnoredAny};
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let place = match self {
                    KeysOf::Root => "at the top level",
                    KeysOf::TestAccounts => "in testAccounts",
                    KeysOf::TestAccount => "in a test account",
                };
                return Err(A::Error::custom(format!(
                    "the key \"{}\" appears twice {place}, so which one is meant is ambiguous",
                    printable(&key)
                )));
            }
            match (self, key.as_str()) {
                (KeysOf::Root, "testAccounts") => map.next_value_seed(KeysOf::TestAccounts)?,
                (KeysOf::TestAccounts, _) => map.next_value_seed(KeysOf::TestAccount)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

fn to_cst(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_cst).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_cst(v))).collect())
        }
    }
}

/// Temp file in the same folder, fsync, rename: a crash or Ctrl-C at any moment leaves either
/// the old file or the new one. The temp file is created 0600, so the secrets it holds are
/// never readable by others, not even for an instant.
/// The file keeps its owner and group: after `sudo integration-cli oauth2` on a file that
/// belongs to a developer, the developer's own next run must still be able to write it.
pub fn write_atomic(path: &Path, contents: &str) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let existing = fs::metadata(path).ok();
    let mut tmp = tempfile::Builder::new()
        .prefix(".unito.json.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))?;
        if let Some(meta) = &existing {
            keep_owner(tmp.as_file(), meta);
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        // Makes the rename itself durable; failure only weakens durability, not atomicity.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Gives `file` the owner and group of `like` where they differ and we may (as root), so a
/// file we replace or create beside another stays its owner's. Best effort: without the
/// right to, the file stays ours.
#[cfg(unix)]
pub fn keep_owner(file: &File, like: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let Ok(ours) = file.metadata() else { return };
    if (ours.uid(), ours.gid()) == (like.uid(), like.gid()) {
        return;
    }
    if std::os::unix::fs::fchown(file, Some(like.uid()), Some(like.gid())).is_err() {
        let _ = std::os::unix::fs::fchown(file, None, Some(like.gid()));
    }
}

/// Held while a run reads, refreshes and writes, so two runs never present the same rotating
/// refresh token or overwrite each other's test account. A separate lock file, because the
/// data file is replaced by rename and a lock on it would be lost with the old inode.
pub struct FileLock {
    _file: File,
}

/// Polls rather than blocks, so Ctrl-C still works while another run holds the lock (the
/// runtime has one thread, and a blocking `lock()` would stall it).
pub async fn lock(path: &Path, on_wait: impl FnOnce()) -> Result<FileLock> {
    let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".unito.json".into());
    let lock_path = real.with_file_name(format!("{name}.lock"));
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A lock file planted as a link must not make us create or open anything elsewhere.
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(&lock_path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return FileError::CannotSave {
                path: lock_path.clone(),
                why: "it is a symbolic link, which integration-cli does not follow for its lock \
                      file; remove the link"
                    .into(),
            };
        }
        FileError::CannotSave {
            path: path.into(),
            why: format!(
                "the lock file {} cannot be opened: {e}",
                lock_path.display()
            ),
        }
    })?;
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(&real) {
        keep_owner(&file, &meta);
    }
    let mut on_wait = Some(on_wait);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => {
                if let Some(say) = on_wait.take() {
                    say();
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", &lock_path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's text after the edit, as it would be written.
    fn edited(p: &Project, name: &str, account: &Map<String, Value>) -> Result<String> {
        p.with_test_account(name, account).map(|(text, _)| text)
    }
    use proptest::prelude::*;
    use serde_json::json;

    /// JSON values as connector files hold them, nested a little.
    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e9f64..1e9).prop_map(|f| json!(f)),
            "\\PC{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_$ -]{1,10}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// Any file with a test account to fill, compact, pretty or tab-indented: the edit
        /// changes that account only, the result parses, and an error never holds the value
        /// being written.
        #[test]
        fn editing_any_file_changes_only_the_test_account(
            top in prop::collection::btree_map("[a-zA-Z]{1,8}", values(), 0..5),
            accounts in prop::collection::btree_map("[a-z]{1,8}", values(), 0..3),
            secret in "[A-Za-z0-9_-]{20,40}",
            pretty in any::<bool>(),
            odd_spacing in any::<bool>(),
        ) {
            let mut root: serde_json::Map<String, Value> = top.into_iter().collect();
            root.insert("testAccounts".into(), Value::Object(accounts.into_iter().collect()));
            let mut text = if pretty {
                serde_json::to_string_pretty(&Value::Object(root.clone())).unwrap()
            } else {
                serde_json::to_string(&Value::Object(root.clone())).unwrap()
            };
            if odd_spacing {
                // Tabs for the indentation only: a tab inside a string is not JSON.
                let tabbed: Vec<String> = text
                    .lines()
                    .map(|l| {
                        let body = l.trim_start_matches(' ');
                        format!("{}{body}", "\t".repeat((l.len() - body.len()) / 2))
                    })
                    .collect();
                text = format!("{}\n\n", tabbed.join("\n"));
            }
            let p = project(&text);
            // Compared with the file as read, not as generated: serde_json's float parsing is
            // not an exact round trip, whatever the edit does.
            let root = parse_root(Path::new("x"), &text).unwrap();
            let account: Map<String, Value> =
                [("accessToken".to_string(), json!(secret.clone()))].into_iter().collect();
            match edited(&p, "development", &account) {
                Ok(out) => {
                    let edited = parse_root(Path::new("x"), &out).unwrap();
                    prop_assert_eq!(&edited["testAccounts"]["development"], &Value::Object(account));
                    for (k, v) in &root {
                        if k != "testAccounts" {
                            prop_assert_eq!(&edited[k], v);
                        }
                    }
                    for (k, v) in root["testAccounts"].as_object().unwrap() {
                        if k != "development" {
                            prop_assert_eq!(&edited["testAccounts"][k], v);
                        }
                    }
                }
                Err(e) => {
                    prop_assert!(!e.to_string().contains(&secret));
                    // Only a development account that is not an object may be refused.
                    prop_assert!(root["testAccounts"].get("development").is_some_and(|d| !d.is_object()), "{}", e);
                }
            }
        }
    }

    fn project(text: &str) -> Project {
        Project {
            path: ".unito.json".into(),
            real_path: ".unito.json".into(),
            text: text.into(),
            root: parse_root(Path::new(".unito.json"), text).unwrap(),
            bom: false,
            config: Config::default(),
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse_root(Path::new("x.json"), "{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        match err {
            Error::Config(ConfigError::Malformed { line, column, .. }) => {
                assert_eq!((line, column), (3, 7))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn editing_an_account_keeps_every_other_byte() {
        let text = "{\n    \"z\": [1,2,   3],\n    \"n\": 1.50,\n    \"testAccounts\": {\n        \"development\": {\n            \"custom\": \"keep\",\n            \"accessToken\": \"old\"\n        },\n        \"compliance\": {  }\n    },\n    \"a\": {\"x\":true}\n}\n";
        let p = project(text);
        let new = obj(json!({"custom": "keep", "accessToken": "new", "refreshToken": "r"}));
        let out = edited(&p, "development", &new).unwrap();
        assert!(out.contains("\"z\": [1,2,   3]"), "{out}");
        assert!(out.contains("\"n\": 1.50"), "{out}");
        assert!(out.contains("\"compliance\": {  }"), "{out}");
        assert!(out.contains("\"a\": {\"x\":true}\n}\n"), "{out}");
        assert!(out.contains("\"custom\": \"keep\""), "{out}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["testAccounts"]["development"], Value::Object(new));
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "n", "testAccounts", "a"]);
    }

    #[test]
    fn editing_creates_missing_account_and_test_accounts() {
        let p = project("{\"name\": \"c\"}");
        let new = obj(json!({"accessToken": "t\"\\\n\u{1}"}));
        let out = edited(&p, "development", &new).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["testAccounts"]["development"]["accessToken"],
            "t\"\\\n\u{1}"
        );
        assert_eq!(v["name"], "c");
    }

    #[test]
    fn removed_fields_are_dropped() {
        let p =
            project(r#"{"testAccounts": {"development": {"expiresAt": "x", "accessToken": "a"}}}"#);
        let out = edited(&p, "development", &obj(json!({"accessToken": "b"}))).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["testAccounts"]["development"],
            json!({"accessToken": "b"})
        );
    }

    #[test]
    fn non_object_account_is_refused() {
        let p = project(r#"{"testAccounts": {"development": "oops"}}"#);
        assert!(edited(&p, "development", &Map::new()).is_err());
        let p = project(r#"{"testAccounts": []}"#);
        assert!(edited(&p, "development", &Map::new()).is_err());
    }
}
