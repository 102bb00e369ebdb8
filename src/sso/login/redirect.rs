//! The end of a PKCE sign-in: the browser is sent to `http://127.0.0.1:PORT/oauth/callback`
//! with `code` and `state` (or `error`). The listener itself is a seam
//! (`crate::context::Redirects`); this module waits for the callback until the deadline,
//! answers the browser, and checks what came back.

use super::Flow;
use crate::context::RedirectListener;
use crate::error::{Error, Result};
use std::time::Duration;

pub const CALLBACK_PATH: &str = "/oauth/callback";

const NOT_THIS_SIGN_IN: &str = "<!doctype html><meta charset=utf-8><title>creds</title><p>This answer is not for the sign-in creds is waiting for.";

const CALLBACK_PAGE: &str = "<!doctype html><meta charset=utf-8><title>creds</title><p>Signed in. You can close this window and return to the terminal.";

/// Waits for the callback and returns its authorization code.
pub fn wait_for_code(
    flow: &Flow<'_>,
    listener: &mut dyn RedirectListener,
    state: &str,
) -> Result<String> {
    let session = flow.session;
    loop {
        let remaining = flow.remaining();
        if remaining.is_zero() {
            return Err(flow.timed_out());
        }
        let wait = remaining.min(Duration::from_secs(1));
        let before = flow.ctx.clock.monotonic();
        let request = listener
            .next(wait)
            .map_err(|e| Error::other(format!("the sign-in redirect listener failed: {e}")))?;
        let Some(request) = request else {
            // The real listener has waited on the real clock; any other clock is moved on by
            // what is left of the wait, so the loop always reaches the deadline.
            let waited = flow.ctx.clock.monotonic().saturating_sub(before);
            flow.ctx.clock.sleep(wait.saturating_sub(waited));
            continue;
        };
        let Some(query) = request
            .target
            .strip_prefix(CALLBACK_PATH)
            .and_then(|rest| rest.strip_prefix('?'))
            .map(str::to_string)
        else {
            request.reply(404, "");
            continue;
        };
        let params = parse_query(&query);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // Only an answer carrying this sign-in's state counts: any local process can reach the
        // listener, and one that guesses wrong (or sends `error=` without the state) must not
        // end the sign-in. It is turned away, and the wait goes on.
        if get("state").as_deref() != Some(state) {
            request.reply(400, NOT_THIS_SIGN_IN);
            continue;
        }
        request.reply(200, CALLBACK_PAGE);
        if let Some(err) = get("error") {
            return Err(session.login_needed(&format!("sign-in failed in the browser ({err})")));
        }
        return match get("code") {
            Some(code) => Ok(code),
            None => Err(session.login_needed("the browser's answer had no authorization code")),
        };
    }
}

pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

pub use crate::wire::{percent_decode, percent_encode};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding() {
        assert_eq!(percent_decode("a%20b+c%2F"), "a b c/");
        // Malformed escapes, even before a multi-byte character, stay as they are.
        assert_eq!(percent_decode("%é%"), "%é%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(
            percent_encode("http://127.0.0.1:1/x y"),
            "http%3A%2F%2F127.0.0.1%3A1%2Fx%20y"
        );
        assert_eq!(
            parse_query("code=a%2Fb&state=s"),
            [
                ("code".to_string(), "a/b".to_string()),
                ("state".into(), "s".into())
            ]
        );
    }
}
