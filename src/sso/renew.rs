//! The one freshness rule of an SSO token, and silent renewal with its refresh token.
//!
//! | [`Freshness`] | left | export | login |
//! |---|---|---|---|
//! | `Fresh` | more than [`REFRESH_WINDOW`] | used | nothing to do |
//! | `Renewable` | less, and it can be renewed | renewed, under the session's lock | renewed |
//! | `Usable` | less, cannot be renewed, more than [`MIN_USABLE`] | used | signs in again |
//! | `Expired` | less than [`MIN_USABLE`], cannot be renewed | exit 4 | signs in again |
//!
//! A renewal that fails leaves a still-usable token in use (with a warning), and otherwise
//! fails with exit 4 and the `creds login` command to run.

use super::cache::registration::Registration;
use super::cache::token::Token;
use super::{Session, TokenStore};
use crate::aws::sso::{Endpoints, Grant, TokenError};
use crate::cache::LOCK_WAIT;
use crate::context::Context;
use crate::error::Result;
use crate::wire::format_time;
use chrono::{DateTime, Duration, Utc};

/// A token with less than this left is renewed (botocore's window).
pub const REFRESH_WINDOW: Duration = Duration::minutes(15);
/// A token with less than this left is not used at all.
pub const MIN_USABLE: Duration = Duration::minutes(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Renewable,
    Usable,
    Expired,
}

/// Where `token` stands at `now`.
pub fn freshness(token: &Token, now: DateTime<Utc>) -> Freshness {
    let left = crate::wire::until(token.expires_at, now);
    if left > REFRESH_WINDOW {
        Freshness::Fresh
    } else if token.refreshable(now) {
        Freshness::Renewable
    } else if left > MIN_USABLE {
        Freshness::Usable
    } else {
        Freshness::Expired
    }
}

/// The outcome of [`renew`].
pub enum Renewal {
    /// The token is usable as it is (nothing was done); it may be inside the refresh window
    /// when it could not be renewed.
    Valid(Token),
    /// The token was renewed with its refresh token.
    Renewed(Token),
}

fn registration_of(token: &Token) -> Option<Registration> {
    Some(Registration {
        client_id: token.client_id.clone()?,
        client_secret: token.client_secret.clone()?,
        expires_at: token.registration_expires_at?,
        scopes: None,
        grant_types: None,
    })
}

/// Renews the session's token if it is inside the refresh window and can be renewed, under
/// the session's lock; fails with exit 4 when there is no usable token.
pub fn renew(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
) -> Result<Renewal> {
    renew_within(ctx, store, session, endpoints, REFRESH_WINDOW)
}

/// As [`renew`], renewing a refreshable token that has less than `window` left (at least the
/// refresh window): refresh-ahead renews it before any caller needs it renewed.
pub fn renew_within(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
    window: Duration,
) -> Result<Renewal> {
    let window = window.max(REFRESH_WINDOW);
    let due = |t: &Token, now: DateTime<Utc>| {
        t.refreshable(now) && crate::wire::until(t.expires_at, now) <= window
    };
    let expired = |t: &Token| {
        session.login_needed(&format!(
            "the SSO token expired at {} and cannot be renewed",
            format_time(t.expires_at)
        ))
    };
    let Some(token) = store.read_token(session)? else {
        return Err(session.login_needed("not signed in (no cached SSO token)"));
    };
    // A refresh token the service refused before is not sent again.
    let refused = |t: &Token| {
        t.refresh_token
            .as_ref()
            .and_then(|r| store.refusal(session, r.expose()))
    };
    if due(&token, ctx.clock.now()) {
        if let Some(why) = refused(&token) {
            return refused_before(ctx, session, token, why);
        }
    }
    if !due(&token, ctx.clock.now()) {
        return match freshness(&token, ctx.clock.now()) {
            Freshness::Expired => Err(expired(&token)),
            _ => Ok(Renewal::Valid(token)),
        };
    }
    let _lock = store.lock(&session.token_lock(), LOCK_WAIT, &session.describe(), ctx)?;
    // Another process may have renewed it while we waited.
    let token = store.read_token(session)?.unwrap_or(token);
    let now = ctx.clock.now();
    if !due(&token, now) {
        return match freshness(&token, now) {
            Freshness::Expired => Err(expired(&token)),
            _ => Ok(Renewal::Valid(token)),
        };
    }
    if let Some(why) = refused(&token) {
        return refused_before(ctx, session, token, why);
    }
    let (Some(registration), Some(refresh_token)) =
        (registration_of(&token), token.refresh_token.clone())
    else {
        return Err(session.login_needed("the SSO token cannot be renewed"));
    };
    match ctx.sso.create_token(
        &session.region,
        endpoints,
        &registration,
        Grant::RefreshToken(&refresh_token),
    ) {
        Ok(grant) => {
            let renewed = Token {
                access_token: grant.access_token,
                expires_at: crate::wire::later(now, Duration::seconds(grant.expires_in)),
                // A rotated refresh token replaces the old one; without one, keep the old one.
                refresh_token: grant.refresh_token.or(Some(refresh_token)),
                ..token
            };
            // A renewed token that cannot be saved still serves this run.
            if let Err(e) = store.write_token(session, &renewed) {
                ctx.ui.warn(&format!(
                    "{}: the renewed SSO token could not be saved ({}); it is used for this run only",
                    session.describe(),
                    e.line()
                ));
            }
            Ok(Renewal::Renewed(renewed))
        }
        Err(err) => renewal_failed(ctx, store, session, token, err),
    }
}

/// A token whose refresh token was refused (now, or before: then with no call to the
/// service): used while it works (with the warning), else exit 4 saying why.
fn refused_before(ctx: &Context, session: &Session, token: Token, why: String) -> Result<Renewal> {
    if crate::wire::until(token.expires_at, ctx.clock.now()) <= MIN_USABLE {
        return Err(session.login_needed(&why));
    }
    ctx.ui.warn(&format!(
        "{}: {why}; the token works until {}, then run `{}`",
        session.describe(),
        format_time(token.expires_at),
        session.login_command
    ));
    Ok(Renewal::Valid(token))
}

/// After a failed renewal: the old token while it is usable (with a warning), else exit 4
/// saying why, or the failure itself when it was not the service's answer about the token.
fn renewal_failed(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    token: Token,
    err: TokenError,
) -> Result<Renewal> {
    let usable = crate::wire::until(token.expires_at, ctx.clock.now()) > MIN_USABLE;
    let why = match err {
        TokenError::Other(e) if usable => {
            ctx.ui.warn_if_served(&format!(
                "{}: renewing the SSO token failed ({e}); using it until it expires",
                session.describe()
            ));
            return Ok(Renewal::Valid(token));
        }
        TokenError::Other(e) => return Err(e),
        TokenError::InvalidGrant(m) => format!("the refresh token was refused ({m})"),
        TokenError::Expired => "the refresh token has expired".to_string(),
        TokenError::AccessDenied => "renewing the SSO token was denied".to_string(),
        TokenError::AuthorizationPending | TokenError::SlowDown => {
            "renewing the SSO token gave an unexpected answer".to_string()
        }
    };
    // The service's answer about this refresh token: remembered, so that it is not sent again
    // (under `exec --server`, every request would otherwise ask again).
    if let Some(refresh_token) = &token.refresh_token {
        store.record_refusal(session, refresh_token.expose(), &why);
    }
    refused_before(ctx, session, token, why)
}

/// A usable token, renewed first when it is inside the refresh window and can be.
pub fn valid_token(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
) -> Result<Token> {
    match renew(ctx, store, session, endpoints)? {
        Renewal::Valid(t) | Renewal::Renewed(t) => Ok(t),
    }
}
