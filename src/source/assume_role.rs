//! `role_arn` hops: STS `AssumeRole`, signed with the previous hop's credentials.

use super::{Fetch, FetchInputs, Properties, Step};
use crate::aws::sts::{AssumeRoleRequest, StsTarget};
use crate::cache::Key;
use crate::config::Section;
use crate::context::Context;
use crate::error::Result;
use crate::secret::Credentials;

/// One `AssumeRole` call made with the previous hop's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub source_identity: Option<String>,
    pub mfa_serial: Option<String>,
    /// `mfa_process`: a command that prints the MFA code (as aws-vault reads it).
    pub mfa_process: Option<String>,
}

impl RoleHop {
    /// The role of `profile`, whose `role_arn` is `role_arn`.
    pub fn from_profile(profile: &Section, role_arn: &str) -> Result<RoleHop> {
        let opt = |key: &str| profile.get(key).map(str::to_string);
        let duration_seconds = match profile.get("duration_seconds") {
            None => None,
            Some(text) => match text.parse::<u32>() {
                Ok(d) if (900..=43200).contains(&d) => Some(d),
                _ => {
                    return Err(profile.error(
                        "duration_seconds",
                        &format!(
                        "duration_seconds `{text}` must be a whole number of seconds from 900 to 43200"
                    ),
                    ))
                }
            },
        };
        Ok(RoleHop {
            profile: profile.name.clone(),
            role_arn: role_arn.to_string(),
            external_id: opt("external_id"),
            session_name: opt("role_session_name"),
            duration_seconds,
            source_identity: opt("source_identity"),
            mfa_serial: opt("mfa_serial"),
            mfa_process: opt("mfa_process"),
        })
    }
}

impl Fetch for RoleHop {
    fn properties(&self) -> Properties {
        let configured = self
            .duration_seconds
            .map(|s| chrono::Duration::seconds(i64::from(s)));
        Properties {
            // STS's default is one hour.
            asked_lifetime: Some(configured.unwrap_or(chrono::Duration::hours(1))),
            configured_lifetime: configured,
            ..Properties::SIGNED
        }
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        // The code goes with the call unless the credentials below are an MFA session.
        let covered = step
            .below
            .is_some_and(|b| b.source.properties().mfa_session);
        let code = match (&self.mfa_serial, covered) {
            (Some(serial), false) => Some(super::mfa::code(
                ctx,
                &at.mfa,
                &self.profile,
                serial,
                self.mfa_process.as_deref(),
            )?),
            _ => None,
        };
        fetch(ctx, at.sts, self, step.parent()?, code)
    }
}

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
fn fetch(
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
    ctx.sts
        .assume_role(target, parent, &request)
        .map_err(|e| e.context(&hop.profile, format!("assuming {}", hop.role_arn)))
}
