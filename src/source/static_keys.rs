//! Static keys: `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token` of a
//! profile (the credentials file wins per key; see `crate::config`). Nothing to fetch and
//! nothing to cache; the key (which hops above it derive theirs from) fingerprints the secret
//! instead of storing it.

use super::{Detect, Fetch, FetchInputs, MfaDevice, PlanInputs, Planned, Properties, Step};
use crate::cache::{fingerprint, Key};
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::Result;
use crate::secret::{Credentials, Secret};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub profile: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub account_id: Option<String>,
    /// `mfa_serial` of the keys' own profile: used directly (no role above), the keys are
    /// exchanged for an MFA session, as aws-vault does.
    pub mfa_serial: Option<String>,
    /// `mfa_process` of the keys' own profile.
    pub mfa_process: Option<String>,
}

impl StaticKeys {
    /// The keys of `profile`: `Ok(None)` when it has neither key, an error when it has only one.
    pub fn from_profile(profile: &Section) -> Result<Option<StaticKeys>> {
        match (
            profile.get("aws_access_key_id"),
            profile.get("aws_secret_access_key"),
        ) {
            (None, None) => Ok(None),
            (Some(id), Some(secret)) => Ok(Some(StaticKeys {
                profile: profile.name.clone(),
                access_key_id: id.to_string(),
                secret_access_key: Secret::new(secret),
                session_token: profile.get("aws_session_token").map(Secret::new),
                account_id: profile.get("aws_account_id").map(str::to_string),
                mfa_serial: profile.get("mfa_serial").map(str::to_string),
                mfa_process: profile.get("mfa_process").map(str::to_string),
            })),
            (Some(_), None) => Err(profile
                .error("aws_access_key_id", "profile missing aws_secret_access_key")
                .with_hint("add it next to aws_access_key_id")),
            (None, Some(_)) => Err(profile
                .error("aws_secret_access_key", "profile missing aws_access_key_id")
                .with_hint("add it next to aws_secret_access_key")),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: self.session_token.clone(),
            expiration: None,
            account_id: self.account_id.clone(),
        }
    }
}

impl Detect for StaticKeys {
    const KEYS: &'static [&'static str] = &["aws_access_key_id", "aws_secret_access_key"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Carried;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Self::from_profile(profile)
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, _: &PlanInputs<'_>) -> Result<Planned<Carried>> {
        let c = self.credentials();
        Ok(Planned {
            key: key("static", &c),
            label: format!("static keys {}", c.access_key_id),
            fetch: Carried(c),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        let id: Vec<char> = self.access_key_id.chars().collect();
        let shown = match (
            id.get(..4),
            id.len().checked_sub(4).and_then(|n| id.get(n..)),
        ) {
            (Some(head), Some(tail)) if id.len() > 8 => format!(
                "{}…{}",
                head.iter().collect::<String>(),
                tail.iter().collect::<String>()
            ),
            _ => "…".into(),
        };
        let token = if self.session_token.is_some() {
            " with a session token"
        } else {
            ""
        };
        format!("static keys {shown}{token}")
    }

    fn own_mfa(&self) -> Option<MfaDevice<'_>> {
        MfaDevice::of(&self.profile, &self.mfa_serial, &self.mfa_process)
    }
}

/// Keys read from the configuration or the environment, handed on as they are.
#[derive(Debug, Clone)]
pub struct Carried(pub Credentials);

impl Fetch for Carried {
    fn properties(&self) -> Properties {
        let token = self.0.session_token.is_some();
        Properties {
            gives_token: token,
            long_term: !token,
            ..Properties::KEYS
        }
    }

    fn fetch(&self, _: &Context, _: &FetchInputs<'_>, _: Step<'_>) -> Result<Credentials> {
        Ok(self.0.clone())
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
