//! Web identity: `web_identity_token_file` + `role_arn` (+ `role_session_name`) in a profile,
//! or `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` in the environment, exchanged with STS
//! `AssumeRoleWithWebIdentity` (unsigned). The token file is read at every fetch, since it
//! rotates (GitHub's OIDC token, EKS's projected token); its *path* is part of the cache key,
//! never its content.

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::aws::sts::WebIdentityRequest;
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::{Credentials, Secret};
use std::path::Path;

/// The largest token file read (a JWT is a few KiB).
const MAX_TOKEN: u64 = 64 * 1024;

/// A web identity base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    pub profile: String,
    pub role_arn: String,
    pub token_file: String,
    pub session_name: Option<String>,
}

impl Detect for WebIdentity {
    const KEYS: &'static [&'static str] = &["web_identity_token_file"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Self;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        let Some(token_file) = profile.get("web_identity_token_file") else {
            return Ok(None);
        };
        let Some(role_arn) = profile.get("role_arn") else {
            return Err(profile.error(
                "web_identity_token_file",
                "`role_arn` was missing: a web_identity_token_file needs a role_arn",
            ));
        };
        Ok(Some(WebIdentity {
            profile: profile.name.clone(),
            role_arn: role_arn.into(),
            token_file: token_file.into(),
            session_name: profile.get("role_session_name").map(str::to_string),
        }))
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Self>> {
        Ok(Planned {
            key: Key::derive(
                "web-identity",
                None,
                &[
                    ("role_arn", Some(&self.role_arn)),
                    ("token_file", Some(&self.token_file)),
                    ("session_name", self.session_name.as_deref()),
                    ("region", Some(&inputs.sts.region)),
                    ("endpoint", inputs.sts.endpoint.as_deref()),
                ],
            ),
            label: format!("web-identity {}", self.role_arn),
            fetch: self.clone(),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        let state = match std::fs::metadata(&self.token_file) {
            Ok(m) if m.is_file() => "present",
            _ => "missing",
        };
        format!(
            "web identity for {} (token file {}: {state})",
            self.role_arn, self.token_file
        )
    }
}

impl Fetch for WebIdentity {
    fn properties(&self) -> Properties {
        Properties::SERVICE
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, _: Step<'_>) -> Result<Credentials> {
        let token = crate::fsutil::read_regular(Path::new(&self.token_file), false, MAX_TOKEN)
            .map_err(|e| {
                Error::config(format!(
                    "cannot read web_identity_token_file {}: {e}",
                    self.token_file
                ))
                .in_profile(&self.profile)
                .with_hint("check the path (the token is written by your CI or orchestrator)")
            })?;
        let token = String::from_utf8(token).map_err(|_| {
            Error::config(format!(
                "web_identity_token_file {} is not text",
                self.token_file
            ))
            .in_profile(&self.profile)
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::config(format!(
                "web_identity_token_file {} is empty",
                self.token_file
            ))
            .in_profile(&self.profile));
        }
        let request = WebIdentityRequest {
            role_arn: self.role_arn.clone(),
            session_name: self
                .session_name
                .clone()
                .unwrap_or_else(|| format!("creds-{}", ctx.clock.now().timestamp())),
            token: Secret::new(token),
            duration_seconds: None,
        };
        ctx.sts
            .assume_role_with_web_identity(at.sts, &request)
            .map_err(|e| {
                e.context(
                    &self.profile,
                    format!("assuming {} with a web identity", self.role_arn),
                )
            })
    }
}
