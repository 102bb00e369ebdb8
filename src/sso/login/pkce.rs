//! The OIDC authorization code flow with PKCE (`docs/aws-compat.md` §5.2), as the AWS CLI v2 runs
//! it for `[sso-session]` profiles: register for `authorization_code`, open
//! `/authorize?...&code_challenge=...` in the browser, take the code from the redirect to
//! 127.0.0.1 and exchange it with the verifier.

use super::redirect::{percent_encode, wait_for_code, CALLBACK_PATH};
use super::Flow;
use crate::aws::sso::{
    oidc_base, Grant, RegisterRequest, TokenError, TokenGrant, GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH_TOKEN,
};
use crate::error::{Error, Result};
use crate::sso::cache::registration::Registration;

pub fn run(flow: &Flow<'_>) -> Result<(Registration, TokenGrant)> {
    use sha2::{Digest, Sha256};
    let (ctx, session) = (flow.ctx, flow.session);
    let mut listener = ctx.redirects.listen().map_err(|e| {
        Error::other(format!(
            "cannot listen on 127.0.0.1 for the sign-in redirect: {e}; try --device-code"
        ))
    })?;
    let scopes = session.scopes_or_default();
    let request = RegisterRequest {
        client_name: flow.client_name(),
        scopes: scopes.clone(),
        grant_types: vec![GRANT_AUTHORIZATION_CODE.into(), GRANT_REFRESH_TOKEN.into()],
        redirect_uris: vec![format!("http://127.0.0.1{CALLBACK_PATH}")],
        issuer_url: Some(session.start_url.clone()),
    };
    let reg = flow.registration(GRANT_AUTHORIZATION_CODE, request)?;
    let verifier = random_string(64)?;
    let state = random_string(32)?;
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("http://127.0.0.1:{}{CALLBACK_PATH}", listener.port());
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={challenge}",
        oidc_base(&session.region, flow.endpoints)?.trim_end_matches('/'),
        percent_encode(&reg.client_id),
        percent_encode(&redirect_uri),
        percent_encode(&state),
        percent_encode(&scopes.join(" "))
    );
    flow.announce(&url, None);
    if ctx.ui.on_terminal() {
        ctx.ui.say(&format!(
            "creds: sign in to {} ({}) in the browser that opens.",
            session.describe(),
            session.start_url
        ));
        ctx.ui.say(
            "If it does not open, open this URL on this machine (or run again with --device-code):",
        );
        ctx.ui.say(&url);
        ctx.ui.say(&format!(
            "Waiting up to {}s for the browser...",
            flow.remaining().as_secs()
        ));
    }
    flow.open_browser(&url);

    let code = wait_for_code(flow, listener.as_mut(), &state)?;
    let grant = ctx
        .sso
        .create_token(
            &session.region,
            flow.endpoints,
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

fn random_string(len: usize) -> Result<String> {
    use ring::rand::SecureRandom;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut bytes = vec![0u8; len];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::other("the system random number generator failed"))?;
    Ok(bytes
        .iter()
        .filter_map(|b| {
            let i = usize::from(*b).checked_rem(CHARS.len())?;
            CHARS.get(i).map(|c| char::from(*c))
        })
        .collect())
}

/// Unpadded base64url, as the PKCE challenge is written.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // bounded: chunks of at most 3 bytes, shifts under 24, indexes masked to 0..64 of a 64-entry table
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
