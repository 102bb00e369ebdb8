//! Static keys: `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token` of a
//! profile (the credentials file wins per key; see `crate::config`). Nothing to fetch and
//! nothing to cache; the key (which hops above it derive theirs from) fingerprints the secret
//! instead of storing it.

use crate::cache::{fingerprint, Key};
use crate::chain::StaticKeys;
use crate::secret::Credentials;

pub fn credentials(keys: &StaticKeys) -> Credentials {
    Credentials {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: keys.secret_access_key.clone(),
        session_token: keys.session_token.clone(),
        expiration: None,
        account_id: keys.account_id.clone(),
    }
}

/// The key of long-term (or externally supplied) credentials of `kind`: the access key id and
/// a fingerprint of the secret parts, never the secrets themselves.
pub fn key(kind: &str, c: &Credentials) -> Key {
    let secret = fingerprint(&[
        c.secret_access_key.expose(),
        c.session_token.as_ref().map_or("", |t| t.expose()),
    ]);
    Key::derive(
        kind,
        None,
        &[
            ("access_key_id", Some(&c.access_key_id)),
            ("secret", Some(&secret)),
        ],
    )
}

pub fn label(c: &Credentials) -> String {
    format!("static keys {}", c.access_key_id)
}
