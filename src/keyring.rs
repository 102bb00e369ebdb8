//! The OS keyring behind the [`SecretStore`] seam: where `creds keys` keeps long-term access
//! keys, and where `CREDS_CACHE=keyring` keeps cached credentials.
//!
//! - [`OsKeyring`] is the real store, on the `keyring` crate: the Secret Service over D-Bus
//!   (libdbus, linked statically) on Linux, the Keychain on macOS, the Credential Manager on Windows. Every
//!   operation runs on a thread of its own and is given up after a deadline (2 s unless
//!   `CREDS_KEYRING_TIMEOUT` says otherwise), so a missing bus, a provider that never answers
//!   or a collection waiting on an unlock prompt is an error in seconds, never a hang.
//! - [`MemoryStore`] keeps secrets in memory (tests).
//!
//! Every entry is under the service `creds`; the account names what it holds:
//! `access-key/AKIA...` (a secret access key) or `cache/KEY` (a cache entry).

use crate::error::Error;
use crate::platform::Platform;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The service name of every entry creds writes.
pub const SERVICE: &str = "creds";

/// How long a keyring operation may take when `CREDS_KEYRING_TIMEOUT` does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the keyring could not do what was asked. The message names the cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Unavailable {
    /// The error for a keyring that failed the key store: exit 3 with the reason.
    pub fn into_error(self) -> Error {
        Error::config(format!("the OS keyring cannot be used: {}", self.0))
    }
}

pub type StoreResult<T> = std::result::Result<T, Unavailable>;

/// Secrets by account name, under the service `creds`.
pub trait SecretStore: Send + Sync {
    /// The secret of `account`, `None` when there is none.
    fn get(&self, account: &str) -> StoreResult<Option<String>>;
    fn set(&self, account: &str, secret: &str) -> StoreResult<()>;
    /// Removes `account`'s secret; whether there was one.
    fn delete(&self, account: &str) -> StoreResult<bool>;
    /// What the store is, for `doctor` (`Secret Service`, `Keychain`, ...).
    fn name(&self) -> &'static str;
}

/// The OS keyring, each operation bounded by `timeout`.
pub struct OsKeyring {
    pub timeout: Duration,
}

impl OsKeyring {
    fn run<T: Send + 'static>(
        &self,
        account: &str,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        if crate::platform::keyring(Platform::current()).is_none() {
            return Err(Unavailable(format!(
                "creds knows no OS keyring on {}; {}",
                Platform::current().name(),
                unusable_fix(Platform::OtherUnix)
            )));
        }
        let account = account.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("creds-keyring".into())
            .spawn(move || {
                let _ =
                    tx.send(keyring::Entry::new(SERVICE, &account).and_then(|entry| op(&entry)));
            });
        if let Err(e) = spawned {
            return Err(Unavailable(format!("cannot start a thread for it ({e})")));
        }
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result.map_err(|e| Unavailable(describe(&e))),
            // The thread is left behind: the process ends soon, and nothing waits for it.
            Err(_) => Err(Unavailable(no_answer(self.timeout, true))),
        }
    }
}

/// The message for a keyring that did not answer in `within`; `ours` when the limit is
/// creds' own deadline (which `CREDS_KEYRING_TIMEOUT` sets) rather than the D-Bus library's.
fn no_answer(within: Duration, ours: bool) -> String {
    format!(
        "it did not answer within {} ms ({}); unlock it, or check that its daemon is running and not stuck{}",
        within.as_millis(),
        backend_name(),
        if ours {
            " (CREDS_KEYRING_TIMEOUT sets the limit)"
        } else {
            ""
        }
    )
}

/// How long one D-Bus call of the Secret Service waits for its reply: fixed by the
/// dbus-secret-service crate, whatever `CREDS_KEYRING_TIMEOUT` says.
#[cfg(target_os = "linux")]
const DBUS_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `inner` is a D-Bus call that got no reply in time: a stuck provider, as when
/// creds' own deadline passes (the two 2 s limits race; both must read the same).
#[cfg(target_os = "linux")]
fn is_no_reply(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    match inner.downcast_ref::<dbus_secret_service::Error>() {
        Some(dbus_secret_service::Error::Dbus(e)) => matches!(
            e.name(),
            Some("org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Timeout")
        ),
        _ => false,
    }
}

fn backend_name() -> &'static str {
    crate::platform::keyring(Platform::current())
        .map_or("no keyring is supported on this system", |k| k.described)
}

/// The next step when the keyring is locked, on `platform`.
fn locked_fix(platform: Platform) -> &'static str {
    match platform {
        Platform::MacOs => "unlock the login keychain (Keychain Access, or `security unlock-keychain`) and run this again",
        Platform::Windows => "sign in to Windows interactively as this user (the Credential Manager needs the user's logon session) and run this again",
        Platform::Linux | Platform::OtherUnix => "unlock it (log in to the desktop, or run `gnome-keyring-daemon --unlock` with your password on stdin), or create a default keyring with your desktop's keyring tool",
    }
}

/// The next step when the keyring cannot be reached at all, on `platform`.
fn unusable_fix(platform: Platform) -> &'static str {
    match platform {
        Platform::Linux => "run creds in a desktop session, or start one with `dbus-run-session` and a Secret Service provider such as gnome-keyring (on WSL, install and start gnome-keyring inside the distribution)",
        Platform::MacOs => "run creds in the user's login session (not over SSH without a GUI session, nor as another user), or use `security unlock-keychain` first",
        Platform::Windows => "run creds as the signed-in user (a service account or a session without a loaded profile has no Credential Manager), or keep the keys in the credentials file",
        Platform::OtherUnix => "no keyring is supported on this system; keep the keys in the credentials file, or use CREDS_CACHE=file",
    }
}

/// What a keyring error means to the user, and the fix.
pub fn describe(e: &keyring::Error) -> String {
    use keyring::Error as E;
    match e {
        E::NoStorageAccess(inner) => format!(
            "the keyring is locked, or has no default collection, and creds cannot show a prompt ({inner}); {}",
            locked_fix(Platform::current())
        ),
        #[cfg(target_os = "linux")]
        E::PlatformFailure(inner) if is_no_reply(inner.as_ref()) => {
            no_answer(DBUS_CALL_TIMEOUT, false)
        }
        E::PlatformFailure(inner) => {
            let inner = inner.to_string();
            format!(
                "{} is not usable ({inner}); {}",
                backend_name(),
                unusable_fix(Platform::current())
            )
        }
        E::NoEntry => "no such entry".into(),
        E::BadEncoding(_) => "the entry is not text".into(),
        E::TooLong(what, max) => format!("{what} is longer than the keyring allows ({max})"),
        E::Invalid(what, why) => format!("{what} is not valid for the keyring ({why})"),
        E::Ambiguous(_) => "the keyring holds several entries for it; remove the extra ones with your keyring's tool".into(),
        other => other.to_string(),
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, account: &str) -> StoreResult<Option<String>> {
        self.run(account, |entry| match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn set(&self, account: &str, secret: &str) -> StoreResult<()> {
        let secret = secret.to_string();
        self.run(account, move |entry| entry.set_password(&secret))
    }

    fn delete(&self, account: &str) -> StoreResult<bool> {
        self.run(account, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        })
    }

    fn name(&self) -> &'static str {
        crate::platform::keyring(Platform::current()).map_or("none", |k| k.name)
    }
}

/// Secrets in memory; clones share them. `fail` makes every operation fail with that reason.
#[derive(Clone, Default)]
pub struct MemoryStore {
    pub secrets: Arc<Mutex<BTreeMap<String, String>>>,
    pub fail: Arc<Mutex<Option<String>>>,
}

impl MemoryStore {
    fn check(&self) -> StoreResult<()> {
        match self.fail.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            Some(why) => Err(Unavailable(why)),
            None => Ok(()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> StoreResult<Option<String>> {
        self.check()?;
        Ok(self.map().get(account).cloned())
    }

    fn set(&self, account: &str, secret: &str) -> StoreResult<()> {
        self.check()?;
        self.map().insert(account.to_string(), secret.to_string());
        Ok(())
    }

    fn delete(&self, account: &str) -> StoreResult<bool> {
        self.check()?;
        Ok(self.map().remove(account).is_some())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// The account of a long-term key's secret.
pub fn key_account(access_key_id: &str) -> String {
    format!("access-key/{access_key_id}")
}

/// The account of a cache entry.
pub fn cache_account(key: &str) -> String {
    format!("cache/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_errors_name_the_fix() {
        let locked = keyring::Error::NoStorageAccess("Prompt".into());
        assert!(
            describe(&locked).contains("locked"),
            "{}",
            describe(&locked)
        );
        let down = keyring::Error::PlatformFailure("Unavailable".into());
        assert!(
            describe(&down).ends_with(unusable_fix(Platform::current())),
            "{}",
            describe(&down)
        );
        assert!(unusable_fix(Platform::Linux).contains("dbus-run-session"));
        assert!(unusable_fix(Platform::MacOs).contains("security unlock-keychain"));
        assert!(unusable_fix(Platform::Windows).contains("signed-in user"));
        assert!(locked_fix(Platform::Linux).contains("gnome-keyring-daemon --unlock"));
        assert!(locked_fix(Platform::MacOs).contains("login keychain"));
        assert!(locked_fix(Platform::Windows).contains("Credential Manager"));
    }

    /// A D-Bus call that got no reply reads like creds' own deadline: the same cause (a
    /// stuck provider), whichever of the two 2 s limits passed first.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_dbus_call_without_reply_is_a_provider_that_did_not_answer() {
        let no_reply = dbus_secret_service::Error::Dbus(dbus::Error::new_custom(
            "org.freedesktop.DBus.Error.NoReply",
            "Did not receive a reply.",
        ));
        let text = describe(&keyring::Error::PlatformFailure(Box::new(no_reply)));
        assert!(
            text.starts_with("it did not answer within 2000 ms (the Secret Service"),
            "{text}"
        );
        assert!(!text.contains("CREDS_KEYRING_TIMEOUT"), "{text}");
        let other = dbus_secret_service::Error::Dbus(dbus::Error::new_custom(
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "The name org.freedesktop.secrets was not provided by any .service files",
        ));
        let text = describe(&keyring::Error::PlatformFailure(Box::new(other)));
        assert!(text.contains("dbus-run-session"), "{text}");
    }

    #[test]
    fn the_mock_backend_maps_through_the_same_paths() {
        // The keyring crate's mock store: an error set on an entry comes back as it is.
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let entry = keyring::Entry::new(SERVICE, "access-key/AKIAMOCK").unwrap();
        let mock: &keyring::mock::MockCredential = entry.get_credential().downcast_ref().unwrap();
        mock.set_error(keyring::Error::NoStorageAccess("Prompt".into()));
        let err = entry.get_password().unwrap_err();
        assert!(describe(&err).starts_with("the keyring is locked"));
        entry.set_password("s3cret").unwrap();
        assert_eq!(entry.get_password().unwrap(), "s3cret");
    }

    #[test]
    fn memory_store_round_trips_and_fails_on_demand() {
        let store = MemoryStore::default();
        store.set("a", "1").unwrap();
        assert_eq!(store.get("a").unwrap().as_deref(), Some("1"));
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap());
        *store.fail.lock().unwrap() = Some("no bus".into());
        assert_eq!(store.get("a"), Err(Unavailable("no bus".into())));
    }
}
