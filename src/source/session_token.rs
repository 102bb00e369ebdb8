//! STS `GetSessionToken`: long-term keys turned into session credentials, for callers that
//! need a session token (Claude Code's `awsCredentialExport`).

use super::{Fetch, FetchInputs, Properties, Step};
use crate::aws::sts::StsTarget;
use crate::cache::Key;
use crate::context::Context;
use crate::error::Result;
use crate::secret::Credentials;

pub fn key(parent: &Key, target: &StsTarget) -> Key {
    Key::derive(
        "session-token",
        Some(parent),
        &[
            ("region", Some(&target.region)),
            ("endpoint", target.endpoint.as_deref()),
        ],
    )
}

pub const LABEL: &str = "session-token";

/// `GetSessionToken` signed with the keys below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionToken;

impl Fetch for SessionToken {
    fn properties(&self) -> Properties {
        Properties::SIGNED
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        fetch(ctx, at.sts, step.profile, step.parent()?)
    }
}

fn fetch(
    ctx: &Context,
    target: &StsTarget,
    profile: &str,
    parent: &Credentials,
) -> Result<Credentials> {
    if parent.session_token.is_some() {
        return Ok(parent.clone());
    }
    ctx.sts
        .get_session_token(target, parent, None, None)
        .map_err(|e| e.context(profile, "turning long-term keys into session credentials"))
}
