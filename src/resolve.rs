//! What `export`, `exec`, `login` and `doctor --check` run: the settings, the chain, the plan
//! and the walk (`crate::walk`) wired together for one profile, and refresh-ahead after a
//! cache hit (`crate::refresh_ahead`).

use crate::cache::{file::FileStore, Mode};
use crate::chain;
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::Result;
use crate::secret::Credentials;
use crate::settings::{Flags, Settings};
use crate::source::{self, process, sso_role, FetchInputs, PlanInputs};
use crate::walk::{chain_min_ttl, Options, Walk};
use chrono::Duration;

/// What [`credentials`] is asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub profile: Option<&'a str>,
    pub min_ttl: Duration,
    pub refresh: bool,
    pub no_cache: bool,
    /// Turn long-term keys into session credentials (GetSessionToken).
    pub session_token: bool,
    pub verbose: bool,
    /// An MFA code given on the command line (`creds login --mfa-code`).
    pub mfa_code: Option<&'a str>,
    /// Refresh-ahead, with the `--format` a renewal exports in (which decides its hops);
    /// `None` when it is off for this call.
    pub refresh_ahead: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// Credentials for `profile` with `min_ttl` left, from the cache when fresh: no refresh,
    /// no GetSessionToken of its own, quiet, no MFA code given, no refresh-ahead.
    pub fn new(profile: Option<&'a str>, min_ttl: Duration) -> Request<'a> {
        Request {
            profile,
            min_ttl,
            refresh: false,
            no_cache: false,
            session_token: false,
            verbose: false,
            mfa_code: None,
            refresh_ahead: None,
        }
    }
}

/// The credentials of a profile, as `creds export` hands them out: settings, chain, plan,
/// walk. Also what `doctor --check` tests.
pub fn credentials(ctx: &Context, request: &Request<'_>) -> Result<(Settings, Credentials)> {
    let verbose = request.verbose;
    let flags = Flags {
        profile: request.profile,
        region: None,
    };
    // The recursion guard is checked before any file is read.
    let profile = crate::settings::select_profile(flags.profile, &ctx.env);
    process::check_guard(&crate::settings::guard(&ctx.env), &profile.value)?;

    let (settings, set) = Settings::load_for_profile(flags, &ctx.env, verbose)?;
    explain(ctx, verbose, &settings, &set);
    let chain = chain::resolve_or_env(&set, &settings.profile.value, &settings.env_web_identity)?;
    let endpoints = settings.sso_endpoints();
    let hops = source::plan(
        &chain,
        &PlanInputs {
            env: &ctx.env,
            sts: &settings.sts,
            sso: &endpoints,
            session_token: request.session_token,
            imds: &settings.imds,
            container: &settings.container,
            login_cache: settings.login_cache.as_ref().map(|d| d.value.as_path()),
            login_profile: &settings.login_profile,
        },
    )?;

    let store = match request.no_cache {
        true => None,
        false => settings.cache_store_dir().cloned().map(FileStore::new),
    };
    if !request.no_cache && settings.cache_mode.value != Mode::None && settings.cache_dir.is_none()
    {
        ctx.ui
            .warn("no cache directory (set HOME or CREDS_CACHE_DIR); credentials are not cached");
    }
    let token_dir = settings.sso_cache_dir().ok();
    let mut guard = settings.guard.clone();
    guard.push(settings.profile.value.clone());
    let at = FetchInputs {
        sts: &settings.sts,
        sso: sso_role::Where {
            endpoints: &endpoints,
            token_dir: token_dir.as_deref(),
            lock_dir: settings.cache_dir.as_ref().map(|d| d.value.as_path()),
            login_profile: &settings.login_profile,
        },
        guard: &guard,
        process_timeout: settings.process_timeout.value,
        mfa: crate::source::mfa::Sources {
            given: request.mfa_code,
            dialog: settings.mfa_prompt.as_ref().map(|p| p.value.as_str()),
            process_timeout: settings.process_timeout.value,
            session_seconds: settings.mfa_session.value,
        },
    };
    let (min_ttl, lowered_by) = chain_min_ttl(request.min_ttl, &hops);
    if let Some(life) = lowered_by {
        ctx.ui.verbose(verbose, || {
            format!(
                "profile `{}`: the role lasts {}s, too short for --min-ttl {}s and 5 minutes of reuse; handing out credentials with at least {}s left",
                settings.profile.value,
                life.num_seconds(),
                request.min_ttl.num_seconds(),
                min_ttl.num_seconds()
            )
        });
    }
    let options = Options {
        min_ttl,
        refresh: request.refresh,
        verbose,
    };
    let keyring = settings.cache_mode.value == Mode::Keyring;
    let walk = Walk::new(ctx, store, keyring, at, options);
    let creds = walk.resolve(&hops)?;
    if let (Some(format), Some(window), Some(fetched_at), Some(top)) = (
        request.refresh_ahead,
        settings.refresh_ahead.value,
        walk.served_from_cache(),
        hops.last(),
    ) {
        let renewal = crate::refresh_ahead::Renewal {
            top,
            fetched_at,
            min_ttl,
            window,
            format,
            verbose,
        };
        crate::refresh_ahead::credentials(ctx, &settings, &creds, &renewal);
        if let chain::Base::Sso(sso) = &chain.base {
            crate::refresh_ahead::sso_token(ctx, &settings, sso, window, verbose);
        }
    }
    Ok((settings, creds))
}

/// `-v`: the files read, what they say that is ignored, and which settings are overridden.
fn explain(ctx: &Context, verbose: bool, settings: &Settings, set: &ProfileSet) {
    ctx.ui
        .verbose(verbose, || format!("read {}", set.files_description()));
    if let Some(agent) = settings.agent {
        ctx.ui.verbose(verbose, || {
            match settings.allow_agent_login {
                true => format!(
                    "running in {}: CREDS_ALLOW_AGENT_LOGIN lets `creds login` sign in here",
                    agent.describe()
                ),
                false => format!(
                    "running in {}: `creds login` starts no sign-in here (CREDS_ALLOW_AGENT_LOGIN=1 allows it)",
                    agent.describe()
                ),
            }
        });
    }
    for warning in &set.warnings {
        ctx.ui.verbose(verbose, || format!("warning: {warning}"));
    }
    for s in &settings.shadowed {
        ctx.ui.verbose(verbose, || {
            format!(
                "{} {} from {} is overridden by {}",
                s.setting, s.value, s.origin, s.by
            )
        });
    }
}

/// The token for `creds` of the profile of `settings`, in its region, lasting the shorter of
/// the configured maximum and the credentials' life less `min_ttl`; `-v` says until when (never
/// the token). A profile with no region is exit 3.
pub fn bedrock_token(
    ctx: &crate::context::Context,
    settings: &crate::settings::Settings,
    creds: &crate::secret::Credentials,
    min_ttl: chrono::Duration,
    verbose: bool,
) -> Result<crate::bedrock::Minted> {
    let profile = &settings.profile.value;
    let Some(region) = &settings.region else {
        return Err(
            crate::error::Error::config("no region to make a Bedrock token for")
                .in_profile(profile)
                .with_hint(format!(
                    "add `region = us-east-1` (or yours) to [profile {profile}], or set AWS_REGION"
                )),
        );
    };
    // Whole seconds, as X-Amz-Date has them: the token then ends exactly `min_ttl` before the
    // credentials.
    let now = chrono::SubsecRound::trunc_subsecs(ctx.clock.now(), 0);
    let lifetime = crate::bedrock::lifetime(
        now,
        creds.expiration,
        min_ttl,
        settings.bedrock_token_lifetime.value,
    );
    let token = crate::bedrock::token(creds, &region.value, now, lifetime)
        .map_err(|e| e.in_profile(profile))?;
    let until = crate::wire::later(now, lifetime);
    ctx.ui.verbose(verbose, || {
        format!(
            "profile `{profile}`: a Bedrock token for {} valid until {} ({}s; the credentials expire {})",
            region.value,
            crate::wire::format_time(until),
            lifetime.num_seconds(),
            creds
                .expiration
                .map(crate::wire::format_time)
                .unwrap_or_else(|| "never".into())
        )
    });
    Ok(crate::bedrock::Minted {
        token,
        until,
        lifetime,
    })
}
