//! Cache entries in the OS keyring (`CREDS_CACHE=keyring`): the same keys, entries and
//! freshness rules as the file cache, under the account `cache/KEY`. Locks and remembered
//! failures stay in the cache directory (they hold no secret), so single flight is the file
//! cache's. The first keyring failure turns it off for the rest of the run: the caller then
//! warns once and uses the file cache.

use super::{Entry, Key};
use crate::keyring::{cache_account, SecretStore, Unavailable};
use std::cell::RefCell;

pub struct KeyringEntries<'a> {
    store: &'a dyn SecretStore,
    /// Why the keyring was given up, once it was.
    failed: RefCell<Option<Unavailable>>,
}

impl<'a> KeyringEntries<'a> {
    pub fn new(store: &'a dyn SecretStore) -> Self {
        KeyringEntries {
            store,
            failed: RefCell::new(None),
        }
    }

    /// Whether the keyring is still in use this run.
    pub fn usable(&self) -> bool {
        self.failed.borrow().is_none()
    }

    fn give_up(&self, why: Unavailable) -> Unavailable {
        *self.failed.borrow_mut() = Some(why.clone());
        why
    }

    /// The entry for `key` (a missing or unreadable one is a miss); `Err` once the keyring
    /// fails.
    pub fn read(&self, key: &Key) -> Result<Option<Entry>, Unavailable> {
        match self.store.get(&cache_account(&key.0)) {
            Ok(found) => Ok(found.and_then(|text| Entry::from_slice(text.as_bytes(), key))),
            Err(why) => Err(self.give_up(why)),
        }
    }

    pub fn write(&self, entry: &Entry) -> Result<(), Unavailable> {
        let text = serde_json::to_string(entry)
            .map_err(|e| Unavailable(format!("cannot encode a cache entry ({e})")))?;
        self.store
            .set(&cache_account(&entry.key), &text)
            .map_err(|why| self.give_up(why))
    }

    pub fn remove(&self, key: &Key) -> Result<bool, Unavailable> {
        self.store
            .delete(&cache_account(&key.0))
            .map_err(|why| self.give_up(why))
    }
}
