//! Web identity: `web_identity_token_file` + `role_arn` (+ `role_session_name`) in a profile,
//! exchanged with STS `AssumeRoleWithWebIdentity` (unsigned). The token file is read at every
//! fetch, since it rotates (GitHub's OIDC token, EKS's projected token); its *path* is part of
//! the cache key, never its content.

use crate::aws::sts::{StsTarget, WebIdentityRequest};
use crate::cache::Key;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::{Credentials, Secret};
use std::path::Path;

/// The largest token file read (a JWT is a few KiB).
const MAX_TOKEN: u64 = 64 * 1024;

/// A web identity base, as the chain names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    pub profile: String,
    pub role_arn: String,
    pub token_file: String,
    pub session_name: Option<String>,
}

pub fn key(w: &WebIdentity, target: &StsTarget) -> Key {
    Key::derive(
        "web-identity",
        None,
        &[
            ("role_arn", Some(&w.role_arn)),
            ("token_file", Some(&w.token_file)),
            ("session_name", w.session_name.as_deref()),
            ("region", Some(&target.region)),
            ("endpoint", target.endpoint.as_deref()),
        ],
    )
}

pub fn label(w: &WebIdentity) -> String {
    format!("web-identity {}", w.role_arn)
}

pub fn fetch(ctx: &Context, target: &StsTarget, w: &WebIdentity) -> Result<Credentials> {
    let token = crate::fsutil::read_regular(Path::new(&w.token_file), false, MAX_TOKEN)
        .map_err(|e| {
            Error::config(format!(
                "profile `{}`: cannot read web_identity_token_file {}: {e}; check the path (the token is written by your CI or orchestrator)",
                w.profile, w.token_file
            ))
        })?;
    let token = String::from_utf8(token).map_err(|_| {
        Error::config(format!(
            "profile `{}`: web_identity_token_file {} is not text",
            w.profile, w.token_file
        ))
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::config(format!(
            "profile `{}`: web_identity_token_file {} is empty",
            w.profile, w.token_file
        )));
    }
    let request = WebIdentityRequest {
        role_arn: w.role_arn.clone(),
        session_name: w
            .session_name
            .clone()
            .unwrap_or_else(|| format!("creds-{}", ctx.clock.now().timestamp())),
        token: Secret::new(token),
        duration_seconds: None,
    };
    ctx.sts
        .assume_role_with_web_identity(target, &request)
        .map_err(|e| {
            Error::new(
                e.kind,
                format!(
                    "profile `{}`: assuming {} with a web identity: {}",
                    w.profile, w.role_arn, e.message
                ),
            )
        })
}
