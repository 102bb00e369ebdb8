//! Refresh-ahead: after a cache hit whose credentials (or SSO token) will need renewing soon,
//! one detached `creds` renews them in the background, so that no caller waits for it.

use crate::cache::file::FileStore;
use crate::context::Context;
use crate::secret::Credentials;
use crate::settings::Settings;
use crate::source::Hop;
use crate::walk::chain_min_ttl;
use crate::wire::format_time;
use chrono::{DateTime, Duration, Utc};

/// Refresh-ahead of an IAM Identity Center token: when a cache hit of an SSO chain finds the
/// session's token renewable and due within its refresh window plus `window`, one detached
/// `creds login --renew-ahead` renews it with its refresh token (never a sign-in), so that
/// no caller waits for that either. One file read more on an SSO chain's hit.
pub fn sso_token(
    ctx: &Context,
    settings: &Settings,
    sso: &crate::source::sso_role::Sso,
    window: Duration,
    verbose: bool,
) {
    let (Ok(session), Ok(token_dir), Some(dir)) = (
        sso.session(&settings.login_profile),
        settings.sso_cache_dir(),
        settings.cache_store_dir(),
    ) else {
        return;
    };
    let store = crate::sso::TokenStore::new(&token_dir, Some(dir));
    let Ok(Some(token)) = store.read_token(&session) else {
        return;
    };
    let now = ctx.clock.now();
    let horizon = crate::sso::renew::REFRESH_WINDOW
        .checked_add(&window)
        .unwrap_or(window);
    if !token.refreshable(now) || crate::wire::until(token.expires_at, now) > horizon {
        return;
    }
    let Some(lock) = FileStore::new(dir.clone()).try_renewal(&session.token_lock()) else {
        return;
    };
    let args: Vec<String> = [
        "login",
        "--profile",
        settings.profile.value.as_str(),
        "--renew-ahead",
        &horizon.num_seconds().to_string(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    if ctx.background.renew(ctx.paths.exe(), &args, lock).is_ok() {
        ctx.ui.verbose(verbose, || {
            format!(
                "{}: the SSO token expires {}: started its renewal in the background",
                session.describe(),
                format_time(token.expires_at)
            )
        });
    }
}

/// What [`refresh_ahead`] looks at.
pub struct Renewal<'a> {
    pub top: &'a Hop,
    /// When the served credentials were fetched.
    pub fetched_at: DateTime<Utc>,
    pub min_ttl: Duration,
    pub window: Duration,
    pub format: &'a str,
    pub verbose: bool,
}

/// Refresh-ahead: when the credentials just served from the cache have at least `min_ttl` left
/// but will fall under it within `window`, starts one detached `creds export` that renews them
/// (with `min_ttl + window`, under the usual locks; its output goes nowhere). At most one runs
/// per hop (the holder of `KEY.renew`); none starts while the hop's last failure is remembered,
/// nor when a renewal could not do better (credentials that never last `min_ttl + window`), nor
/// before the entry falls under what the renewal will require (a short role's lowered
/// `--min-ttl`, see [`chain_min_ttl`]), so every renewal started fetches.
pub fn credentials(ctx: &Context, settings: &Settings, creds: &Credentials, r: &Renewal<'_>) {
    let (Some(expiration), Some(dir)) = (creds.expiration, settings.cache_store_dir()) else {
        return;
    };
    let now = ctx.clock.now();
    let horizon = r.min_ttl.checked_add(&r.window).unwrap_or(r.min_ttl);
    // The renewal runs with `--min-ttl horizon` and lowers it as any export does for a short
    // role: it fetches only when the entry is under what it will require.
    let (required, _) = chain_min_ttl(horizon, std::slice::from_ref(r.top));
    let inside = expiration.signed_duration_since(now) < required;
    let worth_it = expiration.signed_duration_since(r.fetched_at) > required;
    if !inside || !worth_it {
        return;
    }
    let store = FileStore::new(dir.clone());
    if store
        .read_failure(&r.top.key)
        .and_then(|f| f.error(now))
        .is_some()
    {
        return;
    }
    let Some(lock) = store.try_renewal(&r.top.key) else {
        return;
    };
    let horizon_secs = horizon.num_seconds().to_string();
    let args: Vec<String> = [
        "export",
        "--profile",
        settings.profile.value.as_str(),
        "--format",
        r.format,
        "--min-ttl",
        horizon_secs.as_str(),
        "--no-refresh-ahead",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let profile = &settings.profile.value;
    match ctx.background.renew(ctx.paths.exe(), &args, lock) {
        Ok(()) => ctx.ui.verbose(r.verbose, || {
            format!(
                "profile `{profile}`: {}: expires {}, within --min-ttl plus the refresh-ahead window ({}s): started a renewal in the background",
                r.top.label,
                format_time(expiration),
                horizon.num_seconds()
            )
        }),
        Err(e) => ctx.ui.verbose(r.verbose, || {
            format!("profile `{profile}`: could not start a background renewal: {e}")
        }),
    }
}
