//! IAM Identity Center role credentials: `GetRoleCredentials` with the session's token, which
//! `crate::sso` keeps valid (renewing it silently when it can).

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::aws::sso::Endpoints;
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use crate::sso::{self, Session};
use std::path::Path;

/// An IAM Identity Center profile: its sso-session (or legacy start URL) and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    pub profile: String,
    pub session: Option<String>,
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
    /// `sso_registration_scopes` of the sso-session, as written.
    pub registration_scopes: Option<String>,
}

impl Sso {
    /// The sign-in this role is reached through; `login_profile` is the profile to name in
    /// messages.
    pub fn session(&self, login_profile: &str) -> Result<Session> {
        let missing = |key: &str| {
            let place = match &self.session {
                Some(name) => format!("[sso-session {name}]"),
                None => format!("profile `{}`", self.profile),
            };
            Error::config(format!("{place} has no {key}; add it (aws configure sso writes both sso_start_url and sso_region)"))
        };
        Ok(Session {
            name: self.session.clone(),
            start_url: self
                .start_url
                .clone()
                .ok_or_else(|| missing("sso_start_url"))?,
            region: self.region.clone().ok_or_else(|| missing("sso_region"))?,
            scopes: sso::session::parse_scopes(self.registration_scopes.as_deref()),
            login_command: format!("creds login --profile {login_profile}"),
        })
    }
}

impl Detect for Sso {
    const KEYS: &'static [&'static str] = &["sso_session", "sso_start_url"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Self;

    fn detect(set: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        detect(set, profile)
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Self>> {
        Ok(Planned {
            key: key(self, inputs.sso),
            label: format!(
                "sso-role {}/{}",
                self.account_id.as_deref().unwrap_or("?"),
                self.role_name.as_deref().unwrap_or("?")
            ),
            fetch: self.clone(),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        format!(
            "IAM Identity Center {} role {}/{}",
            self.session
                .as_deref()
                .map(|n| format!("sso-session `{n}`"))
                .unwrap_or_else(|| "legacy start URL".into()),
            self.account_id.as_deref().unwrap_or("?"),
            self.role_name.as_deref().unwrap_or("?")
        )
    }
}

fn detect(set: &ProfileSet, profile: &Section) -> Result<Option<Sso>> {
    let get = |key: &str| profile.get(key).map(str::to_string);
    let (account_id, role_name, session) = (
        get("sso_account_id"),
        get("sso_role_name"),
        get("sso_session"),
    );
    let (start_url, region) = (get("sso_start_url"), get("sso_region"));
    if account_id.is_none()
        && role_name.is_none()
        && session.is_none()
        && start_url.is_none()
        && region.is_none()
    {
        return Ok(None);
    }
    match (&account_id, &role_name) {
        (None, Some(_)) => {
            return Err(profile.error(
                "sso_role_name",
                "if `sso_role_name` is set, then `sso_account_id` must also be set",
            ))
        }
        (Some(_), None) => {
            return Err(profile.error(
                "sso_account_id",
                "if `sso_account_id` is set, then `sso_role_name` must also be set",
            ))
        }
        _ => {}
    }
    let Some(session_name) = session else {
        for key in ["sso_start_url", "sso_region"] {
            if profile.get(key).is_none() {
                return Err(profile.error(key, &format!("`{key}` is missing: a legacy SSO profile needs sso_start_url and sso_region (or use sso_session)")));
            }
        }
        return Ok(Some(Sso {
            profile: profile.name.clone(),
            session: None,
            start_url,
            region,
            account_id,
            role_name,
            registration_scopes: None,
        }));
    };
    let Some(section) = set.sso_sessions.get(&session_name) else {
        return Err(profile
            .error(
                "sso_session",
                &format!(
                    "sso-session named `{session_name}` (referenced by profile `{}`) was not found",
                    profile.name
                ),
            )
            .with_hint(format!("add `[sso-session {session_name}]`")));
    };
    // Like botocore, the profile may repeat a session value only if it is the same.
    for key in ["sso_start_url", "sso_region"] {
        if let Some(value) = profile.get(key) {
            if section.get(key) != Some(value) {
                return Err(profile.error(
                    key,
                    &format!("`{key}` can only be specified in the [sso-session] config when a session name is given"),
                ).with_hint(format!("remove it from the profile (it differs from `[sso-session {session_name}]`)")));
            }
        }
    }
    Ok(Some(Sso {
        profile: profile.name.clone(),
        session: Some(session_name),
        start_url: section.get("sso_start_url").map(str::to_string),
        region: section.get("sso_region").map(str::to_string),
        account_id,
        role_name,
        registration_scopes: section.get("sso_registration_scopes").map(str::to_string),
    }))
}

fn key(sso: &Sso, endpoints: &Endpoints) -> Key {
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

impl Fetch for Sso {
    fn properties(&self) -> Properties {
        Properties::SERVICE
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, _: Step<'_>) -> Result<Credentials> {
        fetch(ctx, &at.sso, self)
    }
}

fn fetch(ctx: &Context, at: &Where<'_>, sso: &Sso) -> Result<Credentials> {
    let (Some(account), Some(role)) = (&sso.account_id, &sso.role_name) else {
        return Err(Error::of_profile(
            Kind::Config,
            &sso.profile,
            "signs in to IAM Identity Center but names no role",
        )
        .with_hint("add sso_account_id and sso_role_name"));
    };
    let session = sso.session(at.login_profile)?;
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
            Kind::LoginNeeded => session.login_needed(&e.message).in_profile(&sso.profile),
            _ => e.in_profile(&sso.profile),
        })
}
