//! IAM Identity Center role credentials: `GetRoleCredentials` with the session's token, which
//! `crate::sso` keeps valid (renewing it silently when it can).

use crate::aws::sso::Endpoints;
use crate::cache::Key;
use crate::chain::Sso;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use crate::sso::{self, Session};
use std::path::Path;

pub fn key(sso: &Sso, endpoints: &Endpoints) -> Key {
    Key::derive(
        "sso-role",
        None,
        &[
            ("session", sso.session.as_deref()),
            ("start_url", sso.start_url.as_deref()),
            ("sso_region", sso.region.as_deref()),
            ("account_id", sso.account_id.as_deref()),
            ("role_name", sso.role_name.as_deref()),
            ("endpoint", endpoints.portal.as_deref()),
        ],
    )
}

pub fn label(sso: &Sso) -> String {
    format!(
        "sso-role {}/{}",
        sso.account_id.as_deref().unwrap_or("?"),
        sso.role_name.as_deref().unwrap_or("?")
    )
}

/// What an SSO fetch needs besides the context.
pub struct Where<'a> {
    pub endpoints: &'a Endpoints,
    /// `~/.aws/sso/cache` (`None` without a home directory).
    pub token_dir: Option<&'a Path>,
    /// creds' cache directory, for the renewal lock.
    pub lock_dir: Option<&'a Path>,
    /// The profile to name in `creds login --profile ...`.
    pub login_profile: &'a str,
}

pub fn fetch(ctx: &Context, at: &Where<'_>, sso: &Sso) -> Result<Credentials> {
    let (Some(account), Some(role)) = (&sso.account_id, &sso.role_name) else {
        return Err(Error::config(format!(
            "profile `{}` signs in to IAM Identity Center but names no role: add sso_account_id and sso_role_name",
            sso.profile
        )));
    };
    let session = Session::from_chain(sso, at.login_profile)?;
    let token_dir = at.token_dir.ok_or_else(|| {
        Error::config("cannot find the home directory for ~/.aws/sso/cache: set HOME")
    })?;
    let store = sso::TokenStore::new(token_dir, at.lock_dir);
    let token = sso::renew::valid_token(ctx, &store, &session, at.endpoints)
        .map_err(|e| e.in_profile(&sso.profile))?;
    ctx.sso
        .get_role_credentials(
            &session.region,
            at.endpoints,
            &token.access_token,
            account,
            role,
        )
        .map_err(|e| match e.kind {
            Kind::LoginNeeded => session.login_needed(&e.message),
            _ => Error::new(e.kind, format!("profile `{}`: {}", sso.profile, e.message)),
        })
}
