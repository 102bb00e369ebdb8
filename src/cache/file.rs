//! The file store: `<dir>/<key>.json` entries, `<key>.lock` locks, `<key>.err` failures.
//!
//! The directory is created 0700 (and tightened if it is wider); every file is written 0600 to
//! a temporary file in the same directory, fsynced and renamed over the old one, so a reader
//! sees the old entry or the new one, never half of one. Locks are OS advisory locks
//! (`flock`), released by the OS if their holder dies.

use super::{Entry, Failure, Key};
use crate::context::Clock;
use crate::error::{Error, Kind, Result};
use chrono::{DateTime, Utc};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct FileStore {
    dir: PathBuf,
}

/// What `cache list` shows of an entry: no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: PathBuf,
    pub profile: String,
    pub hop: String,
    /// `None` when the file is not an entry creds can read.
    pub expiration: Option<DateTime<Utc>>,
}

/// Holds a key's lock until dropped.
pub struct Lock {
    _file: Option<File>,
}

impl FileStore {
    pub fn new(dir: PathBuf) -> Self {
        FileStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &Key, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", key.0))
    }

    /// The entry for `key`; missing, unreadable, corrupt or foreign files are a miss.
    pub fn read(&self, key: &Key) -> Option<Entry> {
        Entry::from_slice(&fs::read(self.path(key, "json")).ok()?, key)
    }

    pub fn write(&self, entry: &Entry) -> Result<()> {
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| Error::other(format!("cannot encode a cache entry: {e}")))?;
        self.write_file(&self.path(&Key(entry.key.clone()), "json"), &bytes)
    }

    pub fn read_failure(&self, key: &Key) -> Option<Failure> {
        serde_json::from_slice(&fs::read(self.path(key, "err")).ok()?).ok()
    }

    pub fn write_failure(&self, key: &Key, failure: &Failure) -> Result<()> {
        let bytes = serde_json::to_vec(failure)
            .map_err(|e| Error::other(format!("cannot encode a failure record: {e}")))?;
        self.write_file(&self.path(key, "err"), &bytes)
    }

    /// Reads `<dir>/<name>` (for files in other tools' formats, such as SSO tokens).
    pub fn read_named(&self, name: &str) -> std::io::Result<Vec<u8>> {
        fs::read(self.dir.join(name))
    }

    /// Atomically writes `<dir>/<name>`, 0600.
    pub fn write_named(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_file(&self.dir.join(name), bytes)
    }

    /// Removes `<dir>/<name>`; `Ok(false)` if it was not there.
    pub fn remove_named(&self, name: &str) -> std::io::Result<bool> {
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn clear_failure(&self, key: &Key) {
        let _ = fs::remove_file(self.path(key, "err"));
    }

    /// Creates the directory 0700, or narrows an existing one to 0700.
    fn ensure_dir(&self) -> Result<()> {
        let fail = |e: std::io::Error| {
            Error::other(format!("cannot create the cache directory {}: {e}; set CREDS_CACHE_DIR to a writable directory or CREDS_CACHE=none", self.dir.display()))
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            builder.mode(0o700);
            builder.create(&self.dir).map_err(fail)?;
            let meta = fs::metadata(&self.dir).map_err(fail)?;
            if meta.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
            }
        }
        #[cfg(not(unix))]
        builder.create(&self.dir).map_err(fail)?;
        Ok(())
    }

    fn open_options() -> OpenOptions {
        let mut o = OpenOptions::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o
    }

    /// Atomically replaces `path` with `bytes` (0600).
    fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.ensure_dir()?;
        crate::fsutil::write_atomic(path, bytes, crate::fsutil::Mode::Exactly(0o600))
            .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))
    }

    /// Every entry of the directory, sorted by profile and hop (an empty list when the
    /// directory does not exist).
    pub fn list(&self) -> Result<Vec<Listed>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Shown {
            profile: Option<String>,
            hop: Option<String>,
            credentials: Option<ShownCredentials>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct ShownCredentials {
            expiration: Option<String>,
        }
        let read = match fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::other(format!(
                    "cannot read {}: {e}",
                    self.dir.display()
                )))
            }
        };
        let mut out = Vec::new();
        for entry in read.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Some(shown) = fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Shown>(&b).ok())
            else {
                continue;
            };
            out.push(Listed {
                profile: shown.profile.unwrap_or_else(|| "?".into()),
                hop: shown.hop.unwrap_or_else(|| "?".into()),
                expiration: shown
                    .credentials
                    .and_then(|c| c.expiration)
                    .and_then(|t| crate::wire::parse_time(&t)),
                path,
            });
        }
        out.sort_by(|a, b| (&a.profile, &a.hop).cmp(&(&b.profile, &b.hop)));
        Ok(out)
    }

    /// Removes the listed entry; whether it was removed.
    pub fn remove(&self, listed: &Listed) -> bool {
        fs::remove_file(&listed.path).is_ok()
    }

    /// Removes every file `creds` keeps here (entries, failure records, locks, leftovers of
    /// interrupted writes); returns how many entries there were.
    pub fn clear_all(&self) -> Result<usize> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(Error::other(format!(
                    "cannot read {}: {e}",
                    self.dir.display()
                )))
            }
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "json" | "err" | "lock" | "tmp")
                && fs::remove_file(&path).is_ok()
                && ext == "json"
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Takes the lock of `key`, waiting at most `timeout` (on `clock`) for another process
    /// that holds it.
    pub fn lock(
        &self,
        key: &Key,
        timeout: Duration,
        what: &str,
        clock: &dyn Clock,
    ) -> Result<Lock> {
        self.ensure_dir()?;
        let path = self.path(key, "lock");
        let file = Self::open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                Error::other(format!("cannot open the lock file {}: {e}", path.display()))
            })?;
        let start = clock.monotonic();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: Some(file) }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::other(format!("cannot lock {}: {e}", path.display())))
                }
            }
            if clock.monotonic().saturating_sub(start) >= timeout {
                return Err(Error::new(
                    Kind::Network,
                    format!("gave up after {}s waiting for another creds process that is refreshing {what}; try again, or check for a stuck creds or credential_process", timeout.as_secs()),
                ));
            }
            clock.sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }
}

impl Lock {
    /// A lock that locks nothing (caching off).
    pub fn none() -> Lock {
        Lock { _file: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Credentials;

    #[test]
    fn writes_atomically_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().join("a").join("cache"));
        let key = Key::derive("k", None, &[]);
        let now = crate::wire::parse_time("2026-01-01T00:00:00Z").unwrap();
        let creds = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "S".into(),
            session_token: None,
            expiration: Some(now + chrono::Duration::hours(1)),
            account_id: None,
        };
        store
            .write(&Entry::new(&key, "p", "h", &creds, now).unwrap())
            .unwrap();
        assert_eq!(store.read(&key).unwrap().credentials().unwrap(), creds);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(store.dir()).unwrap().permissions().mode() & 0o777,
                0o700
            );
            assert_eq!(
                fs::metadata(store.path(&key, "json"))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // Corrupt and truncated files are a miss.
        fs::write(store.path(&key, "json"), b"{\"Format\":1,").unwrap();
        assert!(store.read(&key).is_none());
    }

    #[test]
    fn lock_is_exclusive_and_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().to_path_buf());
        let key = Key::derive("k", None, &[]);
        let clock = crate::context::ManualClock::new(
            crate::wire::parse_time("2026-01-01T00:00:00Z").unwrap(),
        );
        let held = store
            .lock(&key, Duration::from_secs(1), "x", &clock)
            .unwrap();
        let err = store
            .lock(&key, Duration::from_secs(45), "profile `p`", &clock)
            .err()
            .unwrap();
        assert_eq!(err.kind, Kind::Network);
        assert!(err.message.contains("gave up after 45s"), "{}", err.message);
        assert!(clock.monotonic() >= Duration::from_secs(45));
        drop(held);
        assert!(store
            .lock(&key, Duration::from_millis(30), "x", &clock)
            .is_ok());
    }
}
