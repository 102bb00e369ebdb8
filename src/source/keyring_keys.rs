//! `creds_keyring = AKIA...`: long-term keys whose secret is in the OS keyring (put there by
//! `creds keys add` or `creds keys import`). Like static keys they are not cached; unlike them
//! they are never handed out: the plan always puts an STS hop above them (`GetSessionToken`,
//! an MFA session, or the role above). The key id is in the profile, so the cache key needs no
//! keyring read and a cache hit never touches the keyring.

use crate::cache::Key;
use crate::chain::KeyringKeys;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keyring::key_account;
use crate::secret::{Credentials, Secret};

pub fn key(k: &KeyringKeys) -> Key {
    Key::derive(
        "keyring",
        None,
        &[("access_key_id", Some(&k.access_key_id))],
    )
}

pub fn label(k: &KeyringKeys) -> String {
    format!("keyring keys {}", k.access_key_id)
}

/// Reads the secret from the keyring. A keyring that cannot be used is exit 3 with the
/// reason: never a fallback to keys in plain text.
pub fn fetch(ctx: &Context, k: &KeyringKeys) -> Result<Credentials> {
    let what = format!(
        "profile `{}` (creds_keyring {} at {})",
        k.profile, k.access_key_id, k.origin
    );
    match ctx.keyring.get(&key_account(&k.access_key_id)) {
        Ok(Some(secret)) => Ok(Credentials {
            access_key_id: k.access_key_id.clone(),
            secret_access_key: Secret::new(secret.trim()),
            session_token: None,
            expiration: None,
            account_id: None,
        }),
        Ok(None) => Err(Error::config(format!(
            "{what}: the keyring holds no secret for this key; run `creds keys add {}`",
            k.profile
        ))),
        Err(why) => Err(why.into_error(&what)),
    }
}
