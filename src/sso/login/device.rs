//! The OIDC device authorization flow: show the URL and the code at once, then poll
//! `CreateToken` at the interval the service asks for (5 s more after each `slow_down`) until
//! approval, denial, the code's expiry or the login's deadline.

use super::Flow;
use crate::aws::sso::{
    DeviceAuthorization, Grant, RegisterRequest, TokenError, TokenGrant, GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
};
use crate::error::Result;
use crate::sso::cache::registration::Registration;
use std::time::Duration;

pub fn run(flow: &Flow<'_>) -> Result<(Registration, TokenGrant)> {
    let (ctx, session) = (flow.ctx, flow.session);
    let request = RegisterRequest {
        client_name: flow.client_name(),
        scopes: session.scopes_or_default(),
        grant_types: vec![GRANT_DEVICE_CODE.into(), GRANT_REFRESH_TOKEN.into()],
        redirect_uris: vec![],
        issuer_url: None,
    };
    let reg = flow.registration(GRANT_DEVICE_CODE, request)?;
    let auth: DeviceAuthorization = ctx.sso.start_device_authorization(
        &session.region,
        flow.endpoints,
        &reg,
        &session.start_url,
    )?;
    // First, on one line that still reads when a caller runs lines together: the page with
    // the code filled in, and the code again.
    let complete = auth
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&auth.verification_uri);
    flow.announce(complete, Some(&auth.user_code));
    // On a terminal, the same spelled out; a program that captures stderr gets the line only.
    if ctx.ui.on_terminal() {
        ctx.ui.say(&format!(
            "creds: sign in to {} ({}) in a browser.",
            session.describe(),
            session.start_url
        ));
        ctx.ui.say("Open this URL:");
        ctx.ui.say(&auth.verification_uri);
        ctx.ui.say("and enter the code:");
        ctx.ui.say(&auth.user_code);
        if let Some(complete) = &auth.verification_uri_complete {
            ctx.ui.say("Or open this URL, which fills in the code:");
            ctx.ui.say(complete);
        }
        ctx.ui.say(&format!(
            "Waiting up to {}s for approval...",
            flow.remaining().as_secs()
        ));
    }
    flow.open_browser(
        auth.verification_uri_complete
            .as_deref()
            .unwrap_or(&auth.verification_uri),
    );

    let mut interval = Duration::from_secs(auth.interval.max(1) as u64);
    let code_deadline = ctx
        .clock
        .monotonic()
        .saturating_add(Duration::from_secs(auth.expires_in.max(1).unsigned_abs()));
    let expired = || session.login_needed("the code expired before it was approved");
    loop {
        if interval > flow.remaining() {
            ctx.clock.sleep(flow.remaining());
            return Err(flow.timed_out());
        }
        ctx.clock.sleep(interval);
        match ctx.sso.create_token(
            &session.region,
            flow.endpoints,
            &reg,
            Grant::DeviceCode(&auth.device_code),
        ) {
            Ok(grant) => return Ok((reg, grant)),
            Err(TokenError::AuthorizationPending) => {
                if ctx.clock.monotonic() > code_deadline {
                    return Err(expired());
                }
            }
            Err(TokenError::SlowDown) => interval = interval.saturating_add(Duration::from_secs(5)),
            Err(TokenError::Expired) => return Err(expired()),
            Err(TokenError::AccessDenied) => {
                return Err(session.login_needed("sign-in was denied in the browser"))
            }
            Err(TokenError::InvalidGrant(m)) => {
                return Err(session.login_needed(&format!("sign-in failed ({m})")))
            }
            Err(TokenError::Other(e)) => return Err(e),
        }
    }
}
