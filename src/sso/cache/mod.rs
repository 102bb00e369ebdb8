//! `~/.aws/sso/cache`: the token and registration files the AWS CLI keeps, read and written in
//! its exact formats ([`token`], [`registration`]), and the locks that guard them (in creds'
//! own cache directory, so that nothing foreign appears in the AWS CLI's). A lock directory
//! that cannot be used is warned about and the work goes on unlocked.

pub mod registration;
pub mod token;

use super::Session;
use crate::cache::file::{FileStore, Lock, LockError};
use crate::cache::{Key, LOCK_WAIT};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use registration::Registration;
use std::path::{Path, PathBuf};
use token::Token;

/// A sign-in in progress, kept in creds' cache directory (0600) while it waits, so that
/// `creds login --status`, `creds doctor` and a second `creds login` can show its URL and code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pending {
    pub session: String,
    /// The page to open (with the code filled in, for the device flow).
    pub url: String,
    pub code: Option<String>,
    /// When the sign-in gives up.
    pub until: String,
    pub pid: u32,
}

impl Pending {
    /// The one line that shows it.
    pub fn line(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        let left = crate::wire::parse_time(&self.until)
            .map(|t| t.signed_duration_since(now).num_seconds().max(0))
            .unwrap_or(0);
        match &self.code {
            Some(code) => format!(
                "Sign in to {}: {} (code {code}) — waiting up to {left} s",
                self.session, self.url
            ),
            None => format!(
                "Sign in to {} in the browser that opens: {} — waiting up to {left} s",
                self.session, self.url
            ),
        }
    }
}

/// Whether `name` is a file of the AWS CLI's SSO cache: `<40 hex>.json`.
pub fn is_sso_file(name: &str) -> bool {
    name.strip_suffix(".json").is_some_and(|h| {
        h.len() == 40
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The SSO cache directory and where its locks are taken.
pub struct TokenStore {
    files: FileStore,
    /// creds' cache directory; without one there is nothing to lock in, and nothing is locked.
    locks: Option<FileStore>,
}

impl TokenStore {
    pub fn new(dir: &Path, lock_dir: Option<&Path>) -> Self {
        TokenStore {
            files: FileStore::aws_cli(dir.to_path_buf()),
            locks: lock_dir.map(|d| FileStore::new(d.to_path_buf())),
        }
    }

    pub fn token_path(&self, session: &Session) -> PathBuf {
        self.files.dir().join(session.token_file())
    }

    /// Takes `key`'s lock, waiting at most `wait` for another process; without a usable lock
    /// directory, warns and locks nothing.
    pub fn lock(
        &self,
        key: &Key,
        wait: std::time::Duration,
        what: &str,
        ctx: &Context,
    ) -> Result<Lock> {
        let Some(store) = &self.locks else {
            return Ok(Lock::none());
        };
        let result = store
            .check()
            .map_err(LockError::Unusable)
            .and_then(|()| store.lock(key, wait, what, ctx.clock.as_ref()));
        match result {
            Ok(lock) => Ok(lock),
            Err(LockError::Busy(e)) => Err(e),
            Err(LockError::Unusable(why)) => {
                ctx.ui
                    .warn(&format!("{why}; going on without a lock for {what}"));
                Ok(Lock::none())
            }
        }
    }

    /// The name of the record that `refresh_token` of `session` was refused: keyed by the
    /// token's fingerprint, so that a new sign-in (a new refresh token) is tried again.
    fn refusal_name(session: &Session, refresh_token: &str) -> String {
        let key = Key::derive(
            "sso-refused",
            None,
            &[
                ("cache_id", Some(session.cache_id())),
                (
                    "refresh_token",
                    Some(&crate::cache::fingerprint(&[refresh_token])),
                ),
            ],
        );
        format!("{}.refused", key.0)
    }

    /// Why `refresh_token` was refused, if it was (nothing without a cache directory).
    pub fn refusal(&self, session: &Session, refresh_token: &str) -> Option<String> {
        let store = self.locks.as_ref()?;
        let bytes = store
            .read_named(&Self::refusal_name(session, refresh_token))
            .ok()?;
        String::from_utf8(bytes).ok().filter(|why| !why.is_empty())
    }

    /// Remembers that the service refused `refresh_token`, and why: it is not sent again.
    pub fn record_refusal(&self, session: &Session, refresh_token: &str, why: &str) {
        if let Some(store) = &self.locks {
            let _ = store.write_named(
                &Self::refusal_name(session, refresh_token),
                why.as_bytes(),
                crate::cache::file::is_cache_file,
            );
        }
    }

    fn pending_name(session: &Session) -> String {
        format!("login-{}", session.token_file())
    }

    /// Notes a sign-in in progress (nothing without a cache directory).
    pub fn write_pending(&self, session: &Session, pending: &Pending) {
        if let (Some(store), Ok(bytes)) = (&self.locks, serde_json::to_vec(pending)) {
            let _ = store.write_named(&Self::pending_name(session), &bytes, |_| false);
        }
    }

    /// The sign-in in progress for `session`: one whose process is alive and whose time has not
    /// run out.
    pub fn read_pending(
        &self,
        session: &Session,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Pending> {
        let store = self.locks.as_ref()?;
        let bytes = store.read_named(&Self::pending_name(session)).ok()?;
        let pending: Pending = serde_json::from_slice(&bytes).ok()?;
        let alive = pending.pid == std::process::id() || crate::fsutil::process_alive(pending.pid);
        let current = crate::wire::parse_time(&pending.until).is_some_and(|t| t > now);
        (alive && current).then_some(pending)
    }

    pub fn remove_pending(&self, session: &Session) {
        if let Some(store) = &self.locks {
            let _ = store.remove_named(&Self::pending_name(session));
        }
    }

    /// Removes the temporary files that killed writers left in the SSO cache (`cache clear
    /// --all`); how many.
    pub fn clean_temps(&self) -> usize {
        crate::fsutil::clean_stale_temps(self.files.dir(), is_sso_file)
    }

    /// The session's token as cached, `None` when there is none; a broken file is an error
    /// that names it.
    pub fn read_token(&self, session: &Session) -> Result<Option<Token>> {
        let name = session.token_file();
        match self.files.read_named(&name) {
            Ok(bytes) => Token::from_json(&bytes).map(Some).map_err(|why| {
                Error::new(
                    Kind::LoginNeeded,
                    format!(
                        "{}: the token file {} {why}; run `{}` to replace it",
                        session.describe(),
                        self.token_path(session).display(),
                        session.login_command
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::other(format!(
                "cannot read {}: {e}",
                self.token_path(session).display()
            ))),
        }
    }

    /// Writes the token (the caller holds the session's token lock).
    pub fn write_token(&self, session: &Session, token: &Token) -> Result<()> {
        self.files.write_named(
            &session.token_file(),
            token.to_cli_json().as_bytes(),
            is_sso_file,
        )
    }

    /// Writes a new token under the session's token lock, so that a renewal in progress in
    /// another process re-reads it instead of overwriting it.
    pub fn write_token_locked(
        &self,
        session: &Session,
        token: &Token,
        ctx: &Context,
    ) -> Result<()> {
        let _lock = self.lock(&session.token_lock(), LOCK_WAIT, &session.describe(), ctx)?;
        self.write_token(session, token)
    }

    /// Removes the token file; whether it was there.
    pub fn remove_token(&self, session: &Session) -> Result<bool> {
        self.files
            .remove_named(&session.token_file())
            .map_err(|e| Error::other(format!("cannot remove the SSO token: {e}")))
    }

    /// The cached registration, if it is readable.
    pub fn read_registration(&self, session: &Session) -> Option<Registration> {
        let bytes = self.files.read_named(&session.registration_file()).ok()?;
        Registration::from_json(&bytes)
    }

    pub fn write_registration(&self, session: &Session, registration: &Registration) -> Result<()> {
        self.files.write_named(
            &session.registration_file(),
            registration.to_cli_json().as_bytes(),
            is_sso_file,
        )
    }
}
