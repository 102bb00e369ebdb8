//! `credential_source = Environment`: the `AWS_*` variables of the environment snapshot.
//! Like static keys, nothing is fetched or cached.

use super::static_keys::{self, Carried};
use super::{Detect, PlanInputs, Planned};
use crate::config::{ProfileSet, Section};
use crate::context::Env;
use crate::error::{Error, Result};
use crate::secret::{Credentials, Secret};
use chrono::{DateTime, Utc};

/// `credential_source = Environment` in `profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub profile: String,
}

impl Detect for Environment {
    const KEYS: &'static [&'static str] = &["credential_source"];
    const CREDENTIAL_SOURCE: Option<&'static str> = Some("Environment");
    type Fetch = Carried;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Ok(
            super::names(profile, Self::CREDENTIAL_SOURCE).then(|| Environment {
                profile: profile.name.clone(),
            }),
        )
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Carried>> {
        let c = credentials(inputs.env, &self.profile)?;
        Ok(Planned {
            key: static_keys::key("environment", &c),
            label: format!("environment keys {}", c.access_key_id),
            fetch: Carried(c),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        "credential_source = Environment".into()
    }
}

pub fn credentials(env: &Env, profile: &str) -> Result<Credentials> {
    let (Some(id), Some(secret)) = (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) else {
        return Err(Error::of_profile(
            crate::error::Kind::Config,
            profile,
            "uses credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
        )
        .with_hint("set both in the environment creds runs in, or use another credential_source"));
    };
    let expiration = match env.get("AWS_CREDENTIAL_EXPIRATION") {
        None => None,
        Some(text) => Some(DateTime::parse_from_rfc3339(text).map_err(|_| Error::config(format!("AWS_CREDENTIAL_EXPIRATION `{text}` is not an RFC 3339 time such as 2026-01-01T00:00:00Z")))?.with_timezone(&Utc)),
    };
    Ok(Credentials {
        access_key_id: id.to_string(),
        secret_access_key: Secret::new(secret),
        session_token: env.get("AWS_SESSION_TOKEN").map(Secret::new),
        expiration,
        account_id: env.get("AWS_ACCOUNT_ID").map(str::to_string),
    })
}
