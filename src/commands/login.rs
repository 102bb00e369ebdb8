//! `creds login` and `creds logout`.

use crate::chain::{self, Base};
use crate::cli::{LoginArgs, LogoutArgs};
use crate::config::{location, ProfileSet};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::settings;
use crate::sso::{self, api::Endpoints, Session};

/// The SSO session and endpoints named by `--sso-session` or by a profile (whose chain must
/// start at IAM Identity Center).
fn session(
    ctx: &Context,
    set: &ProfileSet,
    profile: Option<&str>,
    sso_session: Option<&str>,
) -> Result<(Session, Endpoints)> {
    let profile_name = location::selected_profile(profile, &ctx.env);
    // Endpoints come from the environment and, if it exists, the selected profile.
    let settings = settings::resolve(&ctx.env, set, &profile_name)?;
    let endpoints = crate::commands::export::sso_endpoints(&settings);
    if let Some(name) = sso_session {
        return Ok((Session::from_section(set, name)?, endpoints));
    }
    let chain = chain::resolve(set, &profile_name)?;
    match &chain.base {
        Base::Sso(sso) => Ok((Session::from_chain(sso, &profile_name)?, endpoints)),
        other => Err(Error::config(format!(
            "profile `{profile_name}` does not use IAM Identity Center (its credentials come from profile `{}`), so there is nothing to log in to; use --sso-session NAME for a session",
            other.profile()
        ))),
    }
}

pub fn login(ctx: &Context, args: &LoginArgs) -> Result<()> {
    let set = ProfileSet::load(&ctx.env)?;
    let (session, endpoints) = session(
        ctx,
        &set,
        args.profile.as_deref(),
        args.sso_session.as_deref(),
    )?;
    let timeout = args.timeout.to_std().unwrap_or_default();
    let opts = sso::login::Options {
        no_browser: args.no_browser,
        device_code: args.device_code,
        timeout,
        force: args.force,
    };
    sso::login::login(ctx, &session, &endpoints, &opts).map(|_| ())
}

pub fn logout(ctx: &Context, args: &LogoutArgs) -> Result<()> {
    let set = ProfileSet::load(&ctx.env)?;
    if !args.all {
        let (session, endpoints) = session(
            ctx,
            &set,
            args.profile.as_deref(),
            args.sso_session.as_deref(),
        )?;
        let had = sso::login::logout(ctx, &session, &endpoints)?;
        eprintln!(
            "creds: {} {}",
            session.describe(),
            if had {
                "signed out"
            } else {
                "was not signed in"
            }
        );
        return Ok(());
    }
    // Every session of the config file, and every legacy SSO start URL of its profiles.
    let mut sessions: Vec<(Session, Endpoints)> = Vec::new();
    for name in set.sso_sessions.keys() {
        sessions.push(session(ctx, &set, None, Some(name))?);
    }
    for name in set.profiles.keys() {
        if let Ok(chain) = chain::resolve(&set, name) {
            if let Base::Sso(sso) = &chain.base {
                if sso.session.is_none() {
                    if let Ok(s) = session(ctx, &set, Some(name), None) {
                        if !sessions.iter().any(|(x, _)| x.cache_id() == s.0.cache_id()) {
                            sessions.push(s);
                        }
                    }
                }
            }
        }
    }
    for (session, endpoints) in &sessions {
        if sso::login::logout(ctx, session, endpoints)? {
            eprintln!("creds: {} signed out", session.describe());
        }
    }
    if let Some(dir) = ctx.cache_dir() {
        let removed = crate::commands::cache::clear_cache_dir(&dir)?;
        eprintln!(
            "creds: removed {removed} cached entries from {}",
            dir.display()
        );
    }
    Ok(())
}
