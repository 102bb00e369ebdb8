//! The credential cache: one entry per hop, keyed by everything that determines the hop.
//!
//! A hop's key is the SHA-256 of its parameters *and its parent's key*, so editing any setting
//! of any profile below a hop (or the region, or the endpoint) gives the hop a new key: the
//! profile name alone is never the key. Each source decides its own parameters
//! (`crate::source`); this module hashes them, stores entries in files ([`file`]), says when
//! an entry is fresh, and remembers failures. Whether caching is on is decided in
//! `crate::settings` (`CREDS_CACHE`, `CREDS_CACHE_DIR`).

pub mod file;
pub mod keyring;
pub mod store;

use crate::error::Error;
use crate::secret::{Credentials, Secret};
use crate::wire::{format_time, hex, parse_time};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a caller waits for another process that holds a lock of the cache directory
/// (refreshing the same hop, renewing the same SSO token).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

/// Version of the entry format and of the key derivation; a change invalidates old entries.
const FORMAT: u32 = 1;

/// A cache key: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(pub String);

impl Key {
    /// The key of a hop from its kind, its parent's key (if any) and its parameters.
    pub fn derive(kind: &str, parent: Option<&Key>, params: &[(&str, Option<&str>)]) -> Key {
        // Every field is length-prefixed, and an unset value differs from an empty one, so
        // two different parameter lists never hash the same text.
        let mut h = Sha256::new();
        let mut field = |name: &str, value: Option<&str>| {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            match value {
                None => h.update([0]),
                Some(v) => {
                    h.update([1]);
                    h.update((v.len() as u64).to_le_bytes());
                    h.update(v.as_bytes());
                }
            }
        };
        field("format", Some(&FORMAT.to_string()));
        field("kind", Some(kind));
        field("parent", parent.map(|p| p.0.as_str()));
        for (name, value) in params {
            field(name, *value);
        }
        Key(hex(&h.finalize()))
    }
}

/// SHA-256 of a secret, to put *into* a key without storing the secret itself.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// A cached hop result, as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub format: u32,
    pub key: String,
    /// The profile that defines the hop (for `cache list`; not part of the key).
    pub profile: String,
    /// What the hop is, e.g. `assume-role arn:aws:iam::1:role/R` (no secrets).
    pub hop: String,
    pub fetched_at: String,
    pub credentials: StoredCredentials,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    pub expiration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl Entry {
    /// Builds the entry for credentials that expire; long-term credentials are not cached.
    pub fn new(
        key: &Key,
        profile: &str,
        hop: &str,
        credentials: &Credentials,
        now: DateTime<Utc>,
    ) -> Option<Entry> {
        Some(Entry {
            format: FORMAT,
            key: key.0.clone(),
            profile: profile.to_string(),
            hop: hop.to_string(),
            fetched_at: format_time(now),
            credentials: StoredCredentials {
                access_key_id: credentials.access_key_id.clone(),
                secret_access_key: credentials.secret_access_key.expose().to_string(),
                session_token: credentials
                    .session_token
                    .as_ref()
                    .map(|t| t.expose().to_string()),
                expiration: format_time(credentials.expiration?),
                account_id: credentials.account_id.clone(),
            },
        })
    }

    /// Reads an entry; anything that is not a well-formed entry for `key` is `None` (a miss).
    pub fn from_slice(bytes: &[u8], key: &Key) -> Option<Entry> {
        let entry: Entry = serde_json::from_slice(bytes).ok()?;
        (entry.format == FORMAT
            && entry.key == key.0
            && !entry.credentials.access_key_id.is_empty())
        .then_some(entry)
    }

    pub fn credentials(&self) -> Option<Credentials> {
        let c = &self.credentials;
        Some(Credentials {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: Secret::new(c.secret_access_key.as_str()),
            session_token: c.session_token.as_deref().map(Secret::new),
            expiration: Some(parse_time(&c.expiration)?),
            account_id: c.account_id.clone(),
        })
    }

    pub fn fetched_at(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.fetched_at)
    }
}

/// Whether credentials have at least `min_ttl` left at `now`. Credentials with no expiration
/// (long-term keys) are always fresh.
pub fn fresh(credentials: &Credentials, now: DateTime<Utc>, min_ttl: chrono::Duration) -> bool {
    credentials
        .expiration
        .is_none_or(|e| crate::wire::until(e, now) >= min_ttl)
}

/// A remembered upstream failure: callers fail fast with it until `until`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Failure {
    pub until: String,
    pub at: String,
    pub exit_code: i32,
    /// The error's fields (`crate::error::Error`), so the remembered one reads the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The longest a failure is remembered (10 s plus up to 5 s of jitter).
pub const FAILURE_WINDOW: chrono::Duration = chrono::Duration::seconds(15);

impl Failure {
    /// The remembered error while `now` is inside the record's window. A record dated in the
    /// future (written while the clock was ahead), or whose window is longer than
    /// [`FAILURE_WINDOW`], is ignored: a failure is never remembered for longer.
    pub fn error(&self, now: DateTime<Utc>) -> Option<Error> {
        let until = parse_time(&self.until)?;
        let at = parse_time(&self.at)?;
        let sane = at <= now && until > at && until.signed_duration_since(at) <= FAILURE_WINDOW;
        if !sane || now >= until {
            return None;
        }
        let kind = crate::error::Kind::from_exit_code(self.exit_code)?;
        let ago = now.signed_duration_since(at).num_seconds().max(0);
        let mut err = Error::new(kind, format!("{} (remembered from a failure {ago}s ago; retried after {}, or now with --refresh)", self.message, format_time(until)));
        err.profile = self.profile.clone();
        err.step = self.step.clone();
        err.hint = self.hint.clone();
        err.remembered = true;
        Some(err)
    }
}

/// Where cached credentials are kept (`CREDS_CACHE`; see `crate::settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    File,
    /// Entries in the OS keyring; locks and failures in the cache directory.
    Keyring,
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    #[test]
    fn keys_depend_on_every_parameter_and_the_parent() {
        let p1 = Key::derive("static", None, &[("access_key_id", Some("A"))]);
        let p2 = Key::derive("static", None, &[("access_key_id", Some("B"))]);
        let k = |parent: &Key, arn: &str, ext: Option<&str>| {
            Key::derive(
                "assume-role",
                Some(parent),
                &[("role_arn", Some(arn)), ("external_id", ext)],
            )
        };
        assert_eq!(k(&p1, "r", None), k(&p1, "r", None));
        assert_ne!(k(&p1, "r", None), k(&p2, "r", None));
        assert_ne!(k(&p1, "r", None), k(&p1, "r2", None));
        assert_ne!(k(&p1, "r", None), k(&p1, "r", Some("x")));
        assert_eq!(k(&p1, "r", None).0.len(), 64);
        assert_ne!(
            Key::derive("x", None, &[("a", None)]),
            Key::derive("x", None, &[("a", Some(""))])
        );
        assert_ne!(
            Key::derive("x", None, &[("a", Some("bc"))]),
            Key::derive("x", None, &[("ab", Some("c"))])
        );
    }

    #[test]
    fn freshness_uses_min_ttl() {
        let mut c = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "S".into(),
            session_token: None,
            expiration: Some(t("2026-01-01T01:00:00Z")),
            account_id: None,
        };
        let ttl = chrono::Duration::minutes(15);
        assert!(fresh(&c, t("2026-01-01T00:45:00Z"), ttl));
        assert!(!fresh(&c, t("2026-01-01T00:45:01Z"), ttl));
        c.expiration = None;
        assert!(fresh(&c, t("2030-01-01T00:00:00Z"), ttl));
    }

    #[test]
    fn entries_round_trip_and_reject_foreign_files() {
        let key = Key::derive("x", None, &[]);
        let c = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "S".into(),
            session_token: Some("T".into()),
            expiration: Some(t("2026-01-01T01:00:00Z")),
            account_id: Some("1".into()),
        };
        let e = Entry::new(&key, "p", "hop", &c, t("2026-01-01T00:00:00Z")).unwrap();
        let bytes = serde_json::to_vec(&e).unwrap();
        assert_eq!(
            Entry::from_slice(&bytes, &key)
                .unwrap()
                .credentials()
                .unwrap(),
            c
        );
        assert!(Entry::from_slice(&bytes, &Key::derive("y", None, &[])).is_none());
        assert!(Entry::from_slice(&bytes[..bytes.len() / 2], &key).is_none());
        assert!(Entry::from_slice(b"{\"AccessKeyId\":\"A\"}", &key).is_none());
    }
}
