//! `creds_keyring = AKIA...`: long-term keys whose secret is in the OS keyring (put there by
//! `creds keys add` or `creds keys import`). Like static keys they are not cached; unlike them
//! they are never handed out: the plan always puts an STS hop above them (`GetSessionToken`,
//! an MFA session, or the role above). The key id is in the profile, so the cache key needs no
//! keyring read and a cache hit never touches the keyring.

use super::{Detect, Fetch, FetchInputs, MfaDevice, PlanInputs, Planned, Properties, Step};
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keyring::key_account;
use crate::secret::{Credentials, Secret};

/// Long-term keys in the OS keyring: the profile names the access key id (`creds_keyring`),
/// the keyring holds the secret. Only ever handed out as session credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringKeys {
    pub profile: String,
    pub access_key_id: String,
    /// Where `creds_keyring` is (`FILE:LINE`), for messages.
    pub origin: String,
    pub mfa_serial: Option<String>,
    pub mfa_process: Option<String>,
}

impl KeyringKeys {
    /// `creds_keyring = AKIA...` of `profile`: `Ok(None)` when it has none.
    pub fn from_profile(profile: &Section) -> Result<Option<KeyringKeys>> {
        let Some(id) = profile.get("creds_keyring") else {
            return Ok(None);
        };
        let valid = (16..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !valid {
            return Err(profile
                .error("creds_keyring", &format!("creds_keyring `{id}` is not an access key id (16 to 128 upper-case letters and digits, such as AKIA...)"))
                .with_hint(format!("`creds keys add {}` writes it", profile.name)));
        }
        Ok(Some(KeyringKeys {
            profile: profile.name.clone(),
            access_key_id: id.to_string(),
            origin: profile.origin("creds_keyring"),
            mfa_serial: profile.get("mfa_serial").map(str::to_string),
            mfa_process: profile.get("mfa_process").map(str::to_string),
        }))
    }
}

impl Detect for KeyringKeys {
    const KEYS: &'static [&'static str] = &["creds_keyring"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Self;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Self::from_profile(profile)
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, _: &PlanInputs<'_>) -> Result<Planned<Self>> {
        Ok(Planned {
            key: Key::derive(
                "keyring",
                None,
                &[("access_key_id", Some(&self.access_key_id))],
            ),
            label: format!("keyring keys {}", self.access_key_id),
            fetch: self.clone(),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        format!(
            "long-term keys {} in the OS keyring (creds_keyring at {}; handed out only as session credentials)",
            self.access_key_id, self.origin
        )
    }

    fn own_mfa(&self) -> Option<MfaDevice<'_>> {
        MfaDevice::of(&self.profile, &self.mfa_serial, &self.mfa_process)
    }
}

impl Fetch for KeyringKeys {
    fn properties(&self) -> Properties {
        Properties {
            handed_out: false,
            ..Properties::KEYS
        }
    }

    /// Reads the secret from the keyring. A keyring that cannot be used is exit 3 with the
    /// reason: never a fallback to keys in plain text.
    fn fetch(&self, ctx: &Context, _: &FetchInputs<'_>, _: Step<'_>) -> Result<Credentials> {
        let step = format!("creds_keyring {} at {}", self.access_key_id, self.origin);
        match ctx.keyring.get(&key_account(&self.access_key_id)) {
            Ok(Some(secret)) => Ok(Credentials {
                access_key_id: self.access_key_id.clone(),
                secret_access_key: Secret::new(secret.trim()),
                session_token: None,
                expiration: None,
                account_id: None,
            }),
            Ok(None) => Err(Error::config("the keyring holds no secret for this key")
                .context(&self.profile, step)
                .with_hint(format!("run `creds keys add {}`", self.profile))),
            Err(why) => Err(why.into_error().context(&self.profile, step)),
        }
    }
}
