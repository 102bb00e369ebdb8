//! The cache of one run, opened once: the entries in the cache directory, or in the OS keyring
//! with `CREDS_CACHE=keyring` (locks and remembered failures stay in the directory either
//! way). The one place that decides "keyring, else file": the first keyring failure turns the
//! keyring off for the rest of the run, says so once (when asked to), and the files serve.
//! `cache list` and `cache clear` read the keyring's part strictly ([`Store::keyring_entries`],
//! [`Store::remove_from_keyring`]): a keyring that fails there is said, never stood in for.

use super::file::FileStore;
use super::keyring::KeyringEntries;
use super::{Entry, Key};
use crate::error::Result;
use crate::keyring::{SecretStore, Unavailable};

pub struct Store<'a> {
    /// The directory: entries (unless the keyring holds them), locks, failure records.
    pub files: FileStore,
    keyring: Option<KeyringEntries<'a>>,
    /// Where the keyring's failure is said, once (`None`: silently, as `doctor` reads).
    warn: Option<&'a crate::ui::Ui>,
}

impl<'a> Store<'a> {
    /// The store over `files`, with entries in `keyring` when one is given.
    pub fn new(
        files: FileStore,
        keyring: Option<&'a dyn SecretStore>,
        warn: Option<&'a crate::ui::Ui>,
    ) -> Self {
        Store {
            files,
            keyring: keyring.map(KeyringEntries::new),
            warn,
        }
    }

    /// The keyring's entries, while the keyring works.
    fn keyring(&self) -> Option<&KeyringEntries<'a>> {
        self.keyring.as_ref().filter(|k| k.usable())
    }

    /// Says, once, that the keyring cache failed and the file cache serves instead.
    fn keyring_failed(&self, why: &Unavailable) {
        if let Some(ui) = self.warn {
            ui.warn(&format!(
                "the keyring cache (CREDS_CACHE=keyring) cannot be used: {why}; using the file cache"
            ));
        }
    }

    /// The cached entry of `key`: from the keyring in keyring mode, else from the directory.
    pub fn read(&self, key: &Key) -> Option<Entry> {
        if let Some(keyring) = self.keyring() {
            match keyring.read(key) {
                Ok(entry) => return entry,
                Err(why) => self.keyring_failed(&why),
            }
        }
        self.files.read(key)
    }

    /// Whether entries may be in the keyring.
    pub fn has_keyring(&self) -> bool {
        self.keyring.is_some()
    }

    /// The keyring's entries: one keyring read for each key with a lock file (a key may have
    /// an entry file too, when the keyring once failed and the file cache served). None
    /// without a keyring.
    pub fn keyring_entries(&self) -> std::result::Result<Vec<Entry>, Unavailable> {
        let Some(keyring) = &self.keyring else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for key in self.files.locked_keys() {
            if let Some(entry) = keyring.read(&key)? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Removes the keyring's entries of `keys`; how many there were. `None` of `keys` means
    /// every key with a lock file.
    pub fn remove_from_keyring(
        &self,
        keys: Option<Vec<Key>>,
    ) -> std::result::Result<usize, Unavailable> {
        let Some(keyring) = &self.keyring else {
            return Ok(0);
        };
        let mut removed = 0usize;
        for key in keys.unwrap_or_else(|| self.files.locked_keys()) {
            if keyring.remove(&key)? {
                removed = removed.saturating_add(1);
            }
        }
        Ok(removed)
    }

    /// Writes `entry` where [`Store::read`] looks for it.
    pub fn write(&self, entry: &Entry) -> Result<()> {
        if let Some(keyring) = self.keyring() {
            match keyring.write(entry) {
                Ok(()) => return Ok(()),
                Err(why) => self.keyring_failed(&why),
            }
        }
        self.files.write(entry)
    }
}
