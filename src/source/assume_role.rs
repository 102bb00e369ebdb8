//! `role_arn` hops: STS `AssumeRole`, signed with the previous hop's credentials.

use crate::aws::sts::{AssumeRoleRequest, StsTarget};
use crate::cache::Key;
use crate::chain::RoleHop;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::Credentials;

/// Everything that decides the result: the role's parameters, where STS is, and (through the
/// parent's key) everything below.
pub fn key(parent: &Key, hop: &RoleHop, target: &StsTarget) -> Key {
    let duration = hop.duration_seconds.map(|d| d.to_string());
    Key::derive(
        "assume-role",
        Some(parent),
        &[
            ("role_arn", Some(&hop.role_arn)),
            ("external_id", hop.external_id.as_deref()),
            ("session_name", hop.session_name.as_deref()),
            ("duration_seconds", duration.as_deref()),
            ("source_identity", hop.source_identity.as_deref()),
            ("mfa_serial", hop.mfa_serial.as_deref()),
            ("region", Some(&target.region)),
            ("endpoint", target.endpoint.as_deref()),
        ],
    )
}

pub fn label(hop: &RoleHop) -> String {
    format!("assume-role {}", hop.role_arn)
}

/// Assumes `hop` signed with `parent`; `mfa` is the code to pass when the role needs MFA and
/// `parent` is not an MFA session.
pub fn fetch(
    ctx: &Context,
    target: &StsTarget,
    hop: &RoleHop,
    parent: &Credentials,
    mfa: Option<crate::aws::sts::MfaCode>,
) -> Result<Credentials> {
    let request = AssumeRoleRequest {
        role_arn: hop.role_arn.clone(),
        session_name: hop
            .session_name
            .clone()
            .unwrap_or_else(|| format!("creds-{}", ctx.clock.now().timestamp())),
        external_id: hop.external_id.clone(),
        duration_seconds: hop.duration_seconds,
        source_identity: hop.source_identity.clone(),
        mfa,
    };
    ctx.sts.assume_role(target, parent, &request).map_err(|e| {
        Error::new(
            e.kind,
            format!(
                "profile `{}`: assuming {}: {}",
                hop.profile, hop.role_arn, e.message
            ),
        )
    })
}
