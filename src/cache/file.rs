//! The file store: `<dir>/<key>.json` entries, `<key>.lock` locks, `<key>.err` failures.
//!
//! The directory is used only if it belongs to this user and nobody else can write to it
//! ([`FileStore::check`]); creds creates it 0700 (at most its last two levels) and never
//! changes the mode of a directory it did not create (entries are 0600 in any case). Entries and locks are opened without following symlinks and only if
//! they are regular files. Every file is written 0600 to a temporary file in the same
//! directory, fsynced and renamed over the old one, so a reader sees the old entry or the new
//! one, never half of one; temporary files left by a killed writer are removed by the next
//! write and by `clear`. Locks are OS advisory locks (`flock`), released by the OS if their
//! holder dies. Only names creds makes are ever listed or removed.

use super::{Entry, Failure, Key};
use crate::context::{Clock, RenewalLock};
use crate::error::{Error, Kind, Result};
use crate::fsutil::{self, DirState};
use chrono::{DateTime, Utc};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest cache entry or failure record read (they are a few hundred bytes).
const MAX_ENTRY: u64 = 64 * 1024;
/// The largest file of another tool's read from a store (SSO tokens are about 2 KiB).
const MAX_NAMED: u64 = 1024 * 1024;

pub struct FileStore {
    dir: PathBuf,
    /// How many missing levels of `dir` may be created, and what to say when it cannot be used.
    levels: usize,
    hint: &'static str,
}

/// The next step when creds' own cache directory cannot be used.
const CACHE_DIR_HINT: &str =
    "set CREDS_CACHE_DIR to a private writable directory, or CREDS_CACHE=none";

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

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process held it for the whole wait.
    Busy(Error),
    /// The directory or the lock file cannot be used; the message says why.
    Unusable(String),
}

/// Whether `name` is a file creds keeps in its cache directory:
/// `<64 hex>.json|err|lock|renew|refused`.
pub fn is_cache_file(name: &str) -> bool {
    if let Some(hash) = name
        .strip_prefix("login-")
        .and_then(|n| n.strip_suffix(".json"))
    {
        // A sign-in in progress (`crate::sso::cache::Pending`).
        return hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    }
    match name.split_once('.') {
        Some((key, ext)) => {
            key.len() == 64
                && key
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && matches!(ext, "json" | "err" | "lock" | "renew" | "refused")
        }
        None => false,
    }
}

/// Opens (creating, 0600) a lock file: never through a symlink, never blocking on a FIFO.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    fsutil::never_block(&mut options, true);
    options.open(path)
}

/// Takes the renewal lock at `path` if no other process holds it.
fn take_renewal(path: &Path) -> Option<RenewalLock> {
    let file = open_lock_file(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    file.try_lock().ok()?;
    Some(RenewalLock {
        file,
        path: path.to_path_buf(),
    })
}

/// A background renewal started on a platform where the lock cannot be handed over
/// ([`crate::platform::Detach::DetachedProcess`]) takes it again here: `Some` with it held,
/// `None` when another renewal has it (this one then has nothing to do). Only a renewal lock
/// of creds' own naming (`<64 hex>.renew`) is taken.
pub fn retake_renewal(path: &Path) -> Option<RenewalLock> {
    let name = path.file_name()?.to_str()?;
    if !is_cache_file(name) || !name.ends_with(".renew") {
        return None;
    }
    take_renewal(path)
}

impl FileStore {
    pub fn new(dir: PathBuf) -> Self {
        FileStore {
            dir,
            levels: 2,
            hint: CACHE_DIR_HINT,
        }
    }

    /// A directory of the AWS CLI's (`~/.aws/sso/cache`): created with every missing level
    /// below HOME, as the AWS CLI creates it, and HOME itself never.
    pub fn aws_cli(dir: PathBuf) -> Self {
        FileStore {
            dir,
            levels: 3,
            hint: "check that HOME is a writable directory of yours (or set AWS_CONFIG_FILE and HOME to where the AWS files live)",
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the directory may hold credentials: missing (it will be created) or private to
    /// this user. The error says why not.
    pub fn check(&self) -> std::result::Result<(), String> {
        fsutil::check_private_dir(&self.dir).map(|_| ())
    }

    fn path(&self, key: &Key, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", key.0))
    }

    /// The entry for `key`; missing, unreadable, corrupt, foreign or irregular files are a
    /// miss.
    pub fn read(&self, key: &Key) -> Option<Entry> {
        let bytes = fsutil::read_regular(&self.path(key, "json"), true, MAX_ENTRY).ok()?;
        Entry::from_slice(&bytes, key)
    }

    pub fn write(&self, entry: &Entry) -> Result<()> {
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| Error::other(format!("cannot encode a cache entry: {e}")))?;
        self.write_private(&self.path(&Key(entry.key.clone()), "json"), &bytes)
    }

    /// The directory of temporary files of entries being written (`<dir>/.tmp`).
    fn temp_dir(&self) -> PathBuf {
        self.dir.join(".tmp")
    }

    /// Writes one of creds' own files: its temporary file goes to `.tmp`, so that one left by a
    /// killed writer is found by a single `rmdir` on the next run ([`FileStore::sweep`]).
    fn write_private(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.ensure_dir()
            .map_err(|why| Error::other(format!("{why}; {}", self.hint)))?;
        let tmp = self.temp_dir();
        let mut attempt = 0u8;
        loop {
            let _ = fsutil::create_private_dir(&tmp);
            match fsutil::write_atomic_in(&tmp, path, bytes, fsutil::Mode::Exactly(0o600)) {
                // Another run's sweep removed the (then empty) directory in between.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 3 => {
                    attempt = attempt.saturating_add(1);
                }
                other => {
                    other.map_err(|e| {
                        Error::other(format!("cannot write {}: {e}", path.display()))
                    })?;
                    // Left by killed writers (here, by versions that wrote temporary files
                    // beside the entries).
                    fsutil::clean_stale_temps(&tmp, is_cache_file);
                    fsutil::clean_stale_temps(&self.dir, is_cache_file);
                    // Gone again unless another writer is using it.
                    let _ = fs::remove_dir(&tmp);
                    return Ok(());
                }
            }
        }
    }

    /// Removes what killed writers left: one `rmdir` of the empty `.tmp` in the usual case
    /// (cheap enough for every run), else the temporary files whose writers are gone.
    pub fn sweep(&self) {
        let tmp = self.temp_dir();
        match fs::remove_dir(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => {
                fsutil::clean_stale_temps(&tmp, is_cache_file);
                let _ = fs::remove_dir(&tmp);
            }
        }
    }

    pub fn read_failure(&self, key: &Key) -> Option<Failure> {
        let bytes = fsutil::read_regular(&self.path(key, "err"), true, MAX_ENTRY).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn write_failure(&self, key: &Key, failure: &Failure) -> Result<()> {
        let bytes = serde_json::to_vec(failure)
            .map_err(|e| Error::other(format!("cannot encode a failure record: {e}")))?;
        self.write_private(&self.path(key, "err"), &bytes)
    }

    /// Reads `<dir>/<name>` (for files in other tools' formats, such as SSO tokens), if it is
    /// a regular file.
    pub fn read_named(&self, name: &str) -> std::io::Result<Vec<u8>> {
        fsutil::read_regular(&self.dir.join(name), false, MAX_NAMED)
    }

    /// Atomically writes `<dir>/<name>`, 0600, then removes temporary files that killed
    /// writers left for names `ours` accepts.
    pub fn write_named(&self, name: &str, bytes: &[u8], ours: impl Fn(&str) -> bool) -> Result<()> {
        self.write_file(&self.dir.join(name), bytes)?;
        fsutil::clean_stale_temps(&self.dir, ours);
        Ok(())
    }

    /// Removes `<dir>/<name>`; `Ok(false)` if it was not there.
    pub fn remove_named(&self, name: &str) -> std::io::Result<bool> {
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The keys with a lock file here: every key creds has fetched for (a fetch takes the
    /// key's lock), whichever store kept the entry. Sorted.
    pub fn locked_keys(&self) -> Vec<Key> {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut keys: Vec<Key> = read
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let key = name.strip_suffix(".lock")?;
                is_cache_file(&name).then(|| Key(key.to_string()))
            })
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys
    }

    pub fn clear_failure(&self, key: &Key) {
        let _ = fs::remove_file(self.path(key, "err"));
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
            let name = entry.file_name();
            let Some(name) = name
                .to_str()
                .filter(|n| is_cache_file(n) && n.ends_with(".json") && !n.starts_with("login-"))
            else {
                continue;
            };
            let path = self.dir.join(name);
            let shown = fsutil::read_regular(&path, true, MAX_ENTRY)
                .ok()
                .and_then(|b| serde_json::from_slice::<Shown>(&b).ok());
            let (profile, hop, expiration) = match shown {
                Some(s) => (s.profile, s.hop, s.credentials.and_then(|c| c.expiration)),
                None => (None, None, None),
            };
            out.push(Listed {
                profile: profile.unwrap_or_else(|| "?".into()),
                hop: hop.unwrap_or_else(|| "?".into()),
                expiration: expiration.and_then(|t| crate::wire::parse_time(&t)),
                path,
            });
        }
        out.sort_by(|a, b| (&a.profile, &a.hop).cmp(&(&b.profile, &b.hop)));
        Ok(out)
    }

    /// Removes the listed entry; whether it was removed.
    /// Removes a listed entry, its failure record and what killed writers of it left
    /// (temporary files whose writer is gone); whether the entry was there.
    pub fn remove(&self, listed: &Listed) -> bool {
        let removed = fs::remove_file(&listed.path).is_ok();
        let _ = fs::remove_file(listed.path.with_extension("err"));
        if let Some(name) = listed.path.file_name().and_then(|n| n.to_str()) {
            fsutil::clean_stale_temps(&self.temp_dir(), |target| target == name);
            fsutil::clean_stale_temps(&self.dir, |target| target == name);
        }
        removed
    }

    /// Removes every file creds keeps here (entries, failure records, locks, temporary files
    /// of writers that are gone), and nothing else; returns how many entries there were.
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
        let mut removed = 0usize;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|n| is_cache_file(n)) else {
                continue;
            };
            if fs::remove_file(entry.path()).is_ok()
                && name.ends_with(".json")
                && !name.starts_with("login-")
            {
                removed = removed.saturating_add(1);
            }
        }
        // Temporary files of writers that are gone, in `.tmp` and (from older versions) here.
        self.sweep();
        fsutil::clean_stale_temps(&self.dir, is_cache_file);
        Ok(removed)
    }

    /// Makes sure the directory exists and is private to this user.
    fn ensure_dir(&self) -> std::result::Result<(), String> {
        match fsutil::check_private_dir(&self.dir)? {
            DirState::Private => Ok(()),
            DirState::Missing => {
                fsutil::create_private_dirs(&self.dir, self.levels)
                    .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
                fsutil::check_private_dir(&self.dir).map(|_| ())
            }
        }
    }

    /// Atomically replaces `path` with `bytes` (0600).
    fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.ensure_dir()
            .map_err(|why| Error::other(format!("{why}; {}", self.hint)))?;
        fsutil::write_atomic(path, bytes, fsutil::Mode::Exactly(0o600))
            .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))
    }

    /// The renewal lock of `key` (`KEY.renew`), if no other process holds it: whoever holds it
    /// runs the one background renewal of that hop. `None` when it is held, or cannot be used.
    pub fn try_renewal(&self, key: &Key) -> Option<RenewalLock> {
        self.ensure_dir().ok()?;
        take_renewal(&self.path(key, "renew"))
    }

    /// Takes the lock of `key`, waiting at most `timeout` (on `clock`) for another process
    /// that holds it.
    pub fn lock(
        &self,
        key: &Key,
        timeout: Duration,
        what: &str,
        clock: &dyn Clock,
    ) -> std::result::Result<Lock, LockError> {
        self.ensure_dir().map_err(LockError::Unusable)?;
        let path = self.path(key, "lock");
        let unusable = |e: std::io::Error| {
            LockError::Unusable(format!("cannot use the lock file {}: {e}", path.display()))
        };
        let file = open_lock_file(&path).map_err(unusable)?;
        if !file.metadata().map_err(unusable)?.is_file() {
            return Err(LockError::Unusable(format!(
                "the lock file {} is not a regular file",
                path.display()
            )));
        }
        let start = clock.monotonic();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: Some(file) }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(unusable(e)),
            }
            if clock.monotonic().saturating_sub(start) >= timeout {
                return Err(LockError::Busy(Error::new(
                    Kind::Network,
                    format!("gave up after {}s waiting for another creds process that is refreshing {what}; try again, or check for a stuck creds or credential_process", timeout.as_secs()),
                )));
            }
            clock.sleep(pause);
            pause = pause.saturating_mul(2).min(Duration::from_millis(25));
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
            .filter(|n| n.ends_with(".tmp") && n != ".tmp")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(!store.dir().join(".tmp").exists());
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
        let Err(LockError::Busy(err)) =
            store.lock(&key, Duration::from_secs(45), "profile `p`", &clock)
        else {
            panic!("the second lock must wait and give up");
        };
        assert_eq!(err.kind, Kind::Network);
        assert!(err.line().contains("gave up after 45s"), "{}", err.line());
        assert!(clock.monotonic() >= Duration::from_secs(45));
        drop(held);
        assert!(store
            .lock(&key, Duration::from_millis(30), "x", &clock)
            .is_ok());
    }
}
