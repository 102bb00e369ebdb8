//! `creds login` and `creds logout`: sign in to IAM Identity Center and cache the token where
//! the AWS CLI does.
//!
//! - Nothing to do when the token is fresh, or can be renewed silently (unless forced): the
//!   rule is `super::renew`'s.
//! - Single flight: one login per session at a time (an OS lock); a caller that waited finds
//!   the new token and returns, so N callers cause one browser tab and one device code.
//! - [`pkce`]: the authorization code flow with a redirect to 127.0.0.1 ([`redirect`]) when a
//!   browser can be opened and the session is an `[sso-session]` (as the AWS CLI v2 does);
//!   otherwise [`device`]: the device authorization flow, printing the URL and the code on
//!   their own lines before polling. Both run on one [`Flow`].
//! - A hard deadline on the monotonic clock: the login stops with exit 4 when it passes.

pub mod device;
pub mod pkce;
pub mod redirect;

use super::cache::registration::Registration;
use super::cache::token::Token;
use super::renew::{freshness, renew, Freshness, Renewal};
use super::{Session, TokenStore};
use crate::aws::sso::{Endpoints, RegisterRequest, TokenGrant};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::wire::format_time;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Options {
    /// The agent whose shell this is, when it may not start a sign-in (`crate::agent`): a
    /// valid or renewable session is still used, but no browser or device flow starts.
    pub agent: Option<String>,
    pub no_browser: bool,
    pub device_code: bool,
    pub timeout: Duration,
    pub force: bool,
}

/// What a login did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    AlreadyValid,
    Renewed,
    /// Another `creds login` signed in while this one waited for it.
    SignedInByAnother,
    SignedIn,
}

/// One sign-in in progress: what both flows share.
pub struct Flow<'a> {
    pub ctx: &'a Context,
    pub store: &'a TokenStore,
    pub session: &'a Session,
    pub endpoints: &'a Endpoints,
    pub opts: &'a Options,
    /// When to give up, on the monotonic clock.
    pub deadline: Duration,
}

impl Flow<'_> {
    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.ctx.clock.monotonic())
    }

    pub fn timed_out(&self) -> Error {
        Error::new(
            Kind::LoginNeeded,
            format!(
                "{}: sign-in was not completed within {}s; run `{}` again",
                self.session.describe(),
                self.opts.timeout.as_secs(),
                self.session.login_command
            ),
        )
    }

    /// A cached registration usable for `grant`, or a new one (cached for the AWS CLI too).
    pub fn registration(&self, grant: &str, request: RegisterRequest) -> Result<Registration> {
        let now = self.ctx.clock.now();
        if let Some(reg) = self.store.read_registration(self.session) {
            if reg.usable(now, grant) {
                return Ok(reg);
            }
        }
        let reg =
            self.ctx
                .sso
                .register_client(&self.session.region, self.endpoints, &request, now)?;
        self.store.write_registration(self.session, &reg)?;
        Ok(reg)
    }

    pub fn client_name(&self) -> String {
        format!(
            "creds-client-{}",
            self.session.name.clone().unwrap_or_else(|| self
                .ctx
                .clock
                .now()
                .timestamp()
                .to_string())
        )
    }

    pub fn browser_usable(&self) -> bool {
        !self.opts.no_browser && self.ctx.browser.available()
    }

    /// Shows the sign-in at once (stderr and the terminal) and notes it for `--status`,
    /// `doctor` and other logins.
    pub fn announce(&self, url: &str, code: Option<&str>) {
        let now = self.ctx.clock.now();
        let remaining = chrono::Duration::from_std(self.remaining()).unwrap_or_default();
        let pending = super::cache::Pending {
            session: self.session.describe(),
            url: url.to_string(),
            code: code.map(str::to_string),
            until: format_time(crate::wire::later(now, remaining)),
            pid: std::process::id(),
        };
        self.ctx.ui.sign_in_line(&pending.line(now));
        self.store.write_pending(self.session, &pending);
    }

    pub fn open_browser(&self, url: &str) {
        if !self.browser_usable() {
            return;
        }
        if let Err(e) = self.ctx.browser.open(url) {
            self.ctx.ui.say(&format!(
                "creds: could not open a browser ({e}); open the URL above yourself"
            ));
        }
    }
}

/// The token if it is fresh, renewing it if it can (`(token, renewed)`).
fn good_token(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
) -> Result<Option<(Token, bool)>> {
    match renew(ctx, store, session, endpoints) {
        Ok(Renewal::Renewed(t)) => Ok(Some((t, true))),
        Ok(Renewal::Valid(t)) if freshness(&t, ctx.clock.now()) == Freshness::Fresh => {
            Ok(Some((t, false)))
        }
        Ok(Renewal::Valid(_)) => Ok(None),
        Err(e) if e.kind == Kind::LoginNeeded => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn login(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
    opts: &Options,
) -> Result<Outcome> {
    let deadline = ctx.clock.monotonic().saturating_add(opts.timeout);
    if !opts.force {
        if let Some((token, renewed)) = good_token(ctx, store, session, endpoints)? {
            ctx.ui.note(&format!(
                "creds: {} is signed in until {}{}",
                session.describe(),
                format_time(token.expires_at),
                if renewed { " (renewed)" } else { "" }
            ));
            return Ok(if renewed {
                Outcome::Renewed
            } else {
                Outcome::AlreadyValid
            });
        }
    }
    if let Some(agent) = &opts.agent {
        return Err(Error::new(
            Kind::LoginNeeded,
            format!("a sign-in is needed, and creds starts none from {agent}"),
        )
        .in_step(session.describe())
        .with_hint(format!(
            "sign in from a terminal: `{}` (or set CREDS_ALLOW_AGENT_LOGIN=1 to allow it here)",
            session.login_command
        )));
    }
    let flow = Flow {
        ctx,
        store,
        session,
        endpoints,
        opts,
        deadline,
    };

    // What the token was before waiting: a different one after the wait was written by the
    // login this one waited for.
    let before = store.read_token(session).ok().flatten();
    // A login in progress elsewhere: show its URL and code rather than nothing while waiting.
    if let Some(pending) = store.read_pending(session, ctx.clock.now()) {
        ctx.ui.prompt(&pending.line(ctx.clock.now()));
    }
    let _lock = store
        .lock(
            &session.login_lock(),
            flow.remaining(),
            &format!("a login to {}", session.describe()),
            ctx,
        )
        .map_err(|_| flow.timed_out())?;
    if let Some(token) = store.read_token(session)? {
        let written_meanwhile = before.as_ref() != Some(&token);
        if (!opts.force || written_meanwhile)
            && freshness(&token, ctx.clock.now()) == Freshness::Fresh
        {
            ctx.ui.note(&format!(
                "creds: {} is signed in until {}",
                session.describe(),
                format_time(token.expires_at)
            ));
            return Ok(Outcome::SignedInByAnother);
        }
    }

    // PKCE needs a browser that can reach this machine's 127.0.0.1 (not WSL's Windows one).
    let pkce = session.name.is_some()
        && !opts.device_code
        && flow.browser_usable()
        && ctx.browser.loopback();
    let result = if pkce {
        pkce::run(&flow)
    } else {
        device::run(&flow)
    };
    store.remove_pending(session);
    let (registration, grant) = result.inspect_err(|e| {
        // stderr gets the error from the caller; the terminal gets the outcome too.
        ctx.ui.terminal(&format!("creds: {}", e.line()));
    })?;
    let token = token_of(ctx, session, &registration, grant);
    store.write_token_locked(session, &token, ctx)?;
    let renewal = if token.refresh_token.is_some() {
        "; it is renewed automatically"
    } else {
        ""
    };
    ctx.ui.prompt(&format!(
        "creds: signed in to {} until {}{renewal}",
        session.describe(),
        format_time(token.expires_at)
    ));
    Ok(Outcome::SignedIn)
}

fn token_of(
    ctx: &Context,
    session: &Session,
    registration: &Registration,
    grant: TokenGrant,
) -> Token {
    Token {
        start_url: Some(session.start_url.clone()),
        region: Some(session.region.clone()),
        access_token: grant.access_token,
        expires_at: crate::wire::later(
            ctx.clock.now(),
            chrono::Duration::seconds(grant.expires_in),
        ),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(registration.expires_at),
        refresh_token: grant.refresh_token,
    }
}

/// Signs out: calls the portal's Logout while the token is valid, then removes the token file.
/// Returns whether there was a token.
pub fn logout(
    ctx: &Context,
    store: &TokenStore,
    session: &Session,
    endpoints: &Endpoints,
) -> Result<bool> {
    let token = match store.read_token(session) {
        Ok(t) => t,
        Err(e) if e.kind == Kind::LoginNeeded => None,
        Err(e) => return Err(e),
    };
    if let Some(token) = &token {
        if token.expires_at > ctx.clock.now() {
            if let Err(e) = ctx
                .sso
                .logout(&session.region, endpoints, &token.access_token)
            {
                ctx.ui.say(&format!("creds: warning: {}: the portal's Logout failed ({e}); removing the local token anyway", session.describe()));
            }
        }
    }
    let removed = store.remove_token(session)?;
    Ok(removed || token.is_some())
}
