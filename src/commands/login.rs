//! `creds login` and `creds logout`.

use crate::aws::sso::Endpoints;
use crate::cache::file::FileStore;
use crate::chain::{self, Base};
use crate::cli::{LoginArgs, LogoutArgs};
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::settings::{Flags, Settings};
use crate::sso::{self, Session};

/// The SSO session named by `--sso-session`, or by the selected profile (whose chain must
/// start at IAM Identity Center).
fn session(settings: &Settings, set: &ProfileSet, sso_session: Option<&str>) -> Result<Session> {
    if let Some(name) = sso_session {
        return Session::from_section(set, name);
    }
    let profile = &settings.profile.value;
    let chain = chain::resolve(set, profile)?;
    match &chain.base {
        Base::Sso(sso) => sso.session(&settings.login_profile),
        other => Err(Error::of_profile(
            crate::error::Kind::Config,
            profile,
            format!(
                "does not use IAM Identity Center (its credentials come from profile `{}`), so there is nothing to log in to",
                other.profile()
            ),
        )
        .with_hint("use --sso-session NAME for a session")),
    }
}

/// `creds login` for a profile whose roles need MFA, or whose base is an `aws login` session:
/// gets (and caches) the credentials (with the MFA code given), so that later exports need
/// nothing while the MFA session lasts. For `aws login`, creds does not run the browser
/// sign-in: a session that is missing or over fails with exit 4 and `aws login --profile P`.
fn chain_login(ctx: &Context, args: &LoginArgs, profile: &str) -> Result<String> {
    let request = crate::resolve::Request {
        refresh: args.force,
        mfa_code: args.mfa_code.as_deref(),
        ..crate::resolve::Request::new(Some(profile), crate::walk::DEFAULT_MIN_TTL)
    };
    let (_, creds) = crate::resolve::credentials(ctx, &request)?;
    ctx.ui.prompt(&format!(
        "creds: profile `{profile}` has credentials until {}{}",
        creds
            .expiration
            .map(crate::wire::format_time)
            .unwrap_or_else(|| "they are revoked".into()),
        if args.mfa_code.is_some() {
            "; the MFA session is cached for later exports"
        } else {
            ""
        }
    ));
    Ok(String::new())
}

pub fn login(ctx: &Context, args: &LoginArgs) -> Result<String> {
    let flags = Flags {
        profile: args.profile.as_deref(),
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    if args.sso_session.is_none() {
        let chain = chain::resolve(&set, &settings.profile.value)?;
        let mfa = chain.hops.iter().any(|h| h.mfa_serial.is_some());
        if matches!(chain.base, Base::Login(_))
            || (mfa && (!matches!(chain.base, Base::Sso(_)) || args.mfa_code.is_some()))
        {
            return chain_login(ctx, args, &settings.profile.value);
        }
    }
    let session = session(&settings, &set, args.sso_session.as_deref())?;
    // Run as Claude Code's awsAuthRefresh: its stdout shows plainly, stderr as errors.
    if ctx.env.get("CLAUDE_CODE_ENTRYPOINT").is_some() && !args.status && args.renew_ahead.is_none()
    {
        ctx.ui.prompts_on_stdout();
    }
    if let Some(window) = args.renew_ahead {
        // Refresh-ahead's renewal: the refresh token or nothing; never a sign-in.
        let store = settings.sso_token_store()?;
        sso::renew::renew_within(ctx, &store, &session, &settings.sso_endpoints(), window)?;
        return Ok(String::new());
    }
    let opts = sso::login::Options {
        agent: settings
            .agent
            .filter(|_| !settings.allow_agent_login)
            .map(|a| a.describe()),
        no_browser: args.no_browser,
        device_code: args.device_code,
        timeout: args.timeout.to_std().unwrap_or_default(),
        force: args.force,
    };
    let store = settings.sso_token_store()?;
    if args.status {
        let now = ctx.clock.now();
        return Ok(match store.read_pending(&session, now) {
            Some(pending) => format!("{}\n", pending.line(now)),
            None => format!("no sign-in to {} is in progress\n", session.describe()),
        });
    }
    sso::login::login(ctx, &store, &session, &settings.sso_endpoints(), &opts)
        .map(|_| String::new())
}

pub fn logout(ctx: &Context, args: &LogoutArgs) -> Result<()> {
    let flags = Flags {
        profile: args.profile.as_deref(),
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let store = settings.sso_token_store()?;
    if !args.all {
        let session = session(&settings, &set, args.sso_session.as_deref())?;
        let had = sso::login::logout(ctx, &store, &session, &settings.sso_endpoints())?;
        ctx.ui.say(&format!(
            "creds: {} {}",
            session.describe(),
            if had {
                "signed out"
            } else {
                "was not signed in"
            }
        ));
        return Ok(());
    }
    // Every session of the config file, and every legacy SSO start URL of its profiles, each
    // with the endpoints its own profile would use.
    let mut sessions: Vec<(Session, Endpoints)> = Vec::new();
    for name in set.sso_sessions.keys() {
        sessions.push((Session::from_section(&set, name)?, settings.sso_endpoints()));
    }
    for name in set.profiles.keys() {
        let Ok(chain) = chain::resolve(&set, name) else {
            continue;
        };
        let Base::Sso(sso) = &chain.base else {
            continue;
        };
        if sso.session.is_some() {
            continue;
        }
        let flags = Flags {
            profile: Some(name),
            region: None,
        };
        let Ok(theirs) = Settings::resolve(flags, &ctx.env, settings.files.clone(), &set) else {
            continue;
        };
        if let Ok(s) = sso.session(name) {
            if !sessions.iter().any(|(x, _)| x.cache_id() == s.cache_id()) {
                sessions.push((s, theirs.sso_endpoints()));
            }
        }
    }
    for (session, endpoints) in &sessions {
        if sso::login::logout(ctx, &store, session, endpoints)? {
            ctx.ui
                .say(&format!("creds: {} signed out", session.describe()));
        }
    }
    if let Some(dir) = &settings.cache_dir {
        let removed = FileStore::new(dir.value.clone()).clear_all()?;
        ctx.ui.say(&format!(
            "creds: removed {removed} cached entries from {}",
            dir.value.display()
        ));
    }
    Ok(())
}
