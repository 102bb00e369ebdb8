//! `creds login`: sign in to IAM Identity Center and cache the token where the AWS CLI does.
//!
//! - Nothing to do when the token is good for more than the refresh window, or can be renewed
//!   silently (unless forced).
//! - Single flight: one login per session at a time (an OS lock); a caller that waited finds
//!   the new token and returns, so N callers cause one browser tab and one device code.
//! - PKCE authorization code flow with a redirect to 127.0.0.1 when a browser can be opened and
//!   the session is an `[sso-session]` (as the AWS CLI v2 does); otherwise the device
//!   authorization flow, printing the URL and the code on their own lines before polling.
//! - A hard deadline: the login stops with exit 4 when it passes.

use super::api::{
    self, DeviceAuthorization, Endpoints, Grant, RegisterRequest, TokenError, TokenGrant,
};
use super::registration::{
    Registration, GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN,
};
use super::token::Token;
use super::{read_token, renew, token_dir, write_token_locked, Renewal, Session, REFRESH_WINDOW};
use crate::cache::{format_time, Key};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
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

/// Human text goes to stderr, one line at a time, flushed at once.
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The token if it is good for more than the refresh window, renewing it if it can.
fn good_token(
    ctx: &Context,
    session: &Session,
    endpoints: &Endpoints,
) -> Result<Option<(Token, bool)>> {
    match renew(ctx, session, endpoints) {
        Ok(Renewal::Valid(t)) if t.expires_at - ctx.clock.now() > REFRESH_WINDOW => {
            Ok(Some((t, false)))
        }
        Ok(Renewal::Renewed(t)) => Ok(Some((t, true))),
        Ok(Renewal::Valid(_)) => Ok(None),
        Err(e) if e.kind == Kind::LoginNeeded => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn login(
    ctx: &Context,
    session: &Session,
    endpoints: &Endpoints,
    opts: &Options,
) -> Result<Outcome> {
    let deadline = Instant::now() + opts.timeout;
    // Compared with the token file's modification time, which the file system stamps with
    // the system clock.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::SystemTime::now();
    if !opts.force {
        if let Some((token, renewed)) = good_token(ctx, session, endpoints)? {
            say(&format!(
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

    let key = Key::derive("sso-login", None, &[("cache_id", Some(session.cache_id()))]);
    let wait = deadline.saturating_duration_since(Instant::now());
    let _lock = super::lock(
        ctx,
        &key,
        wait,
        &format!("a login to {}", session.describe()),
    )
    .map_err(|_| timed_out(session, opts))?;
    // Another login may have finished while this one waited for the lock.
    if let Some(token) = read_token(ctx, session)? {
        let written_since = token_dir(ctx)?
            .dir()
            .join(session.token_file())
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t > started);
        if (!opts.force || written_since) && token.expires_at - ctx.clock.now() > REFRESH_WINDOW {
            say(&format!(
                "creds: {} is signed in until {}",
                session.describe(),
                format_time(token.expires_at)
            ));
            return Ok(Outcome::SignedInByAnother);
        }
    }

    let pkce =
        session.name.is_some() && !opts.device_code && !opts.no_browser && ctx.browser.available();
    let (registration, grant) = if pkce {
        pkce_flow(ctx, session, endpoints, deadline, opts)?
    } else {
        device_flow(ctx, session, endpoints, deadline, opts)?
    };
    let now = ctx.clock.now();
    let token = Token {
        start_url: Some(session.start_url.clone()),
        region: Some(session.region.clone()),
        access_token: grant.access_token,
        expires_at: now + chrono::Duration::seconds(grant.expires_in),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(registration.expires_at),
        refresh_token: grant.refresh_token,
    };
    write_token_locked(ctx, session, &token)?;
    let renewal = if token.refresh_token.is_some() {
        "; it is renewed automatically"
    } else {
        ""
    };
    say(&format!(
        "creds: signed in to {} until {}{renewal}",
        session.describe(),
        format_time(token.expires_at)
    ));
    Ok(Outcome::SignedIn)
}

fn timed_out(session: &Session, opts: &Options) -> Error {
    Error::new(
        Kind::LoginNeeded,
        format!(
            "{}: sign-in was not completed within {}s; run `{}` again",
            session.describe(),
            opts.timeout.as_secs(),
            session.login_command
        ),
    )
}

/// A cached registration usable for `grant`, or a new one (cached for the AWS CLI too).
fn registration(
    ctx: &Context,
    session: &Session,
    endpoints: &Endpoints,
    grant: &str,
    request: RegisterRequest,
) -> Result<Registration> {
    let dir = token_dir(ctx)?;
    let file = session.registration_file();
    let now = ctx.clock.now();
    if let Some(reg) = dir
        .read_named(&file)
        .ok()
        .and_then(|b| Registration::from_json(&b))
    {
        if reg.usable(now, grant) {
            return Ok(reg);
        }
    }
    let reg = ctx
        .sso
        .register_client(&session.region, endpoints, &request, now)?;
    dir.write_named(&file, reg.to_cli_json().as_bytes())?;
    Ok(reg)
}

fn client_name(ctx: &Context, session: &Session) -> String {
    format!(
        "creds-client-{}",
        session
            .name
            .clone()
            .unwrap_or_else(|| ctx.clock.now().timestamp().to_string())
    )
}

fn open_browser(ctx: &Context, url: &str, opts: &Options) {
    if opts.no_browser || !ctx.browser.available() {
        return;
    }
    if let Err(e) = ctx.browser.open(url) {
        say(&format!(
            "creds: could not open a browser ({e}); open the URL above yourself"
        ));
    }
}

fn device_flow(
    ctx: &Context,
    session: &Session,
    endpoints: &Endpoints,
    deadline: Instant,
    opts: &Options,
) -> Result<(Registration, TokenGrant)> {
    let request = RegisterRequest {
        client_name: client_name(ctx, session),
        scopes: session.scopes_or_default(),
        grant_types: vec![GRANT_DEVICE_CODE.into(), GRANT_REFRESH_TOKEN.into()],
        redirect_uris: vec![],
        issuer_url: None,
    };
    let reg = registration(ctx, session, endpoints, GRANT_DEVICE_CODE, request)?;
    let auth: DeviceAuthorization =
        ctx.sso
            .start_device_authorization(&session.region, endpoints, &reg, &session.start_url)?;
    say(&format!(
        "creds: sign in to {} ({}) in a browser.",
        session.describe(),
        session.start_url
    ));
    say("Open this URL:");
    say(&auth.verification_uri);
    say("and enter the code:");
    say(&auth.user_code);
    if let Some(complete) = &auth.verification_uri_complete {
        say("Or open this URL, which fills in the code:");
        say(complete);
    }
    say(&format!(
        "Waiting up to {}s for approval...",
        deadline.saturating_duration_since(Instant::now()).as_secs()
    ));
    open_browser(
        ctx,
        auth.verification_uri_complete
            .as_deref()
            .unwrap_or(&auth.verification_uri),
        opts,
    );

    let mut interval = Duration::from_secs(auth.interval.max(1) as u64);
    let code_deadline = Instant::now() + Duration::from_secs(auth.expires_in.max(1) as u64);
    loop {
        let wake = Instant::now() + interval;
        if wake > deadline {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            return Err(timed_out(session, opts));
        }
        std::thread::sleep(interval);
        match ctx.sso.create_token(
            &session.region,
            endpoints,
            &reg,
            Grant::DeviceCode(&auth.device_code),
        ) {
            Ok(grant) => return Ok((reg, grant)),
            Err(TokenError::AuthorizationPending) => {
                if Instant::now() > code_deadline {
                    return Err(session.login_needed("the code expired before it was approved"));
                }
            }
            Err(TokenError::SlowDown) => interval += Duration::from_secs(5),
            Err(TokenError::Expired) => {
                return Err(session.login_needed("the code expired before it was approved"))
            }
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

fn random_string(len: usize) -> Result<String> {
    use ring::rand::SecureRandom;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut bytes = vec![0u8; len];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::other("the system random number generator failed"))?;
    Ok(bytes
        .iter()
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect())
}

/// Unpadded base64url, as the PKCE challenge is written (`aws-compat.md` §5.2).
pub fn base64url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

const CALLBACK_PAGE: &str = "<!doctype html><meta charset=utf-8><title>creds</title><p>Signed in. You can close this window and return to the terminal.";

fn pkce_flow(
    ctx: &Context,
    session: &Session,
    endpoints: &Endpoints,
    deadline: Instant,
    opts: &Options,
) -> Result<(Registration, TokenGrant)> {
    use sha2::{Digest, Sha256};
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| {
        Error::other(format!(
            "cannot listen on 127.0.0.1 for the sign-in redirect: {e}; try --device-code"
        ))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::other(e.to_string()))?
        .port();
    let scopes = session.scopes_or_default();
    let request = RegisterRequest {
        client_name: client_name(ctx, session),
        scopes: scopes.clone(),
        grant_types: vec![GRANT_AUTHORIZATION_CODE.into(), GRANT_REFRESH_TOKEN.into()],
        redirect_uris: vec!["http://127.0.0.1/oauth/callback".into()],
        issuer_url: Some(session.start_url.clone()),
    };
    let reg = registration(ctx, session, endpoints, GRANT_AUTHORIZATION_CODE, request)?;
    let verifier = random_string(64)?;
    let state = random_string(32)?;
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={challenge}",
        api::oidc_base(&session.region, endpoints).trim_end_matches('/'),
        percent_encode(&reg.client_id),
        percent_encode(&redirect_uri),
        percent_encode(&state),
        percent_encode(&scopes.join(" "))
    );
    say(&format!(
        "creds: sign in to {} ({}) in the browser that opens.",
        session.describe(),
        session.start_url
    ));
    say("If it does not open, open this URL on this machine (or run again with --device-code):");
    say(&url);
    say(&format!(
        "Waiting up to {}s for the browser...",
        deadline.saturating_duration_since(Instant::now()).as_secs()
    ));
    open_browser(ctx, &url, opts);

    listener
        .set_nonblocking(true)
        .map_err(|e| Error::other(e.to_string()))?;
    let code = loop {
        if Instant::now() >= deadline {
            return Err(timed_out(session, opts));
        }
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => {
                return Err(Error::other(format!(
                    "the sign-in redirect listener failed: {e}"
                )))
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut line = String::new();
        if BufReader::new(&stream).read_line(&mut line).is_err() {
            continue;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("");
        let Some(query) = path.strip_prefix("/oauth/callback?") else {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            continue;
        };
        let params: Vec<(String, String)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), percent_decode(v)))
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let reply = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{CALLBACK_PAGE}", CALLBACK_PAGE.len());
        let _ = stream.write_all(reply.as_bytes());
        if let Some(err) = get("error") {
            return Err(session.login_needed(&format!("sign-in failed in the browser ({err})")));
        }
        if get("state").as_deref() != Some(state.as_str()) {
            return Err(session
                .login_needed("the browser's answer did not match this sign-in (state mismatch)"));
        }
        match get("code") {
            Some(code) => break code,
            None => {
                return Err(session.login_needed("the browser's answer had no authorization code"))
            }
        }
    };
    let grant = ctx
        .sso
        .create_token(
            &session.region,
            endpoints,
            &reg,
            Grant::AuthorizationCode {
                code: &code,
                verifier: &verifier,
                redirect_uri: &redirect_uri,
            },
        )
        .map_err(|e| match e {
            TokenError::Other(e) => e,
            TokenError::AccessDenied => session.login_needed("sign-in was denied"),
            other => {
                session.login_needed(&format!("the authorization code was refused ({other:?})"))
            }
        })?;
    Ok((reg, grant))
}

/// Signs out: calls the portal's Logout while the token is valid, then removes the token file.
/// Returns whether there was a token.
pub fn logout(ctx: &Context, session: &Session, endpoints: &Endpoints) -> Result<bool> {
    let token = match read_token(ctx, session) {
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
                say(&format!("creds: warning: {}: the portal's Logout failed ({e}); removing the local token anyway", session.describe()));
            }
        }
    }
    let removed = token_dir(ctx)?
        .remove_named(&session.token_file())
        .map_err(|e| Error::other(format!("cannot remove the SSO token: {e}")))?;
    Ok(removed || token.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636() {
        use sha2::{Digest, Sha256};
        // RFC 7636 appendix B.
        assert_eq!(
            base64url(&Sha256::digest(
                b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            )),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(percent_decode("a%20b+c%2F"), "a b c/");
        assert_eq!(
            percent_encode("http://127.0.0.1:1/x y"),
            "http%3A%2F%2F127.0.0.1%3A1%2Fx%20y"
        );
    }

    #[test]
    fn verifiers_are_random_and_well_formed() {
        let a = random_string(64).unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_string(64).unwrap());
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
    }
}
