//! IAM Identity Center (SSO): sessions, the token cache shared with the AWS CLI, silent
//! renewal with the refresh token, and login.
//!
//! A session is an `[sso-session NAME]` (tokens cached under `sha1(NAME)`) or, for legacy
//! profiles, a start URL (tokens under `sha1(URL)`). [`valid_token`] returns a token that is
//! good for at least [`REFRESH_WINDOW`], renewing it under the session's lock when it can;
//! only when it cannot does it fail with exit 4 and the `creds login` command to run.

pub mod api;
pub mod login;
pub mod registration;
pub mod token;

use crate::cache::file::{FileStore, Lock};
use crate::cache::Key;
use crate::chain;
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use api::{Endpoints, Grant, TokenError};
use chrono::Duration;
use registration::Registration;
use sha1::{Digest, Sha1};
use std::path::PathBuf;
use token::Token;

/// A token with less than this left is renewed (botocore's window).
pub const REFRESH_WINDOW: Duration = Duration::minutes(15);
/// A token with less than this left is not used at all.
pub const MIN_USABLE: Duration = Duration::minutes(1);
/// The scope `aws configure sso` and the CLI's PKCE flow use when none is configured.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// One IAM Identity Center sign-in: what a token is cached and renewed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub name: Option<String>,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes` as configured (`None` when not set).
    pub scopes: Option<Vec<String>>,
    /// The command that signs in again, for messages.
    pub login_command: String,
}

fn parse_scopes(text: Option<&str>) -> Option<Vec<String>> {
    let scopes: Vec<String> = text?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some(scopes)
}

impl Session {
    /// The session of an SSO chain base; `login_profile` is the profile to name in messages.
    pub fn from_chain(sso: &chain::Sso, login_profile: &str) -> Result<Session> {
        let missing = |key: &str| {
            let place = match &sso.session {
                Some(name) => format!("[sso-session {name}]"),
                None => format!("profile `{}`", sso.profile),
            };
            Error::config(format!("{place} has no {key}; add it (aws configure sso writes both sso_start_url and sso_region)"))
        };
        Ok(Session {
            name: sso.session.clone(),
            start_url: sso
                .start_url
                .clone()
                .ok_or_else(|| missing("sso_start_url"))?,
            region: sso.region.clone().ok_or_else(|| missing("sso_region"))?,
            scopes: parse_scopes(sso.registration_scopes.as_deref()),
            login_command: format!("creds login --profile {login_profile}"),
        })
    }

    /// The session `[sso-session NAME]` of the config file.
    pub fn from_section(set: &ProfileSet, name: &str) -> Result<Session> {
        let Some(section) = set.sso_sessions.get(name) else {
            return Err(Error::config(format!(
                "sso-session `{name}` is not defined in {}; add `[sso-session {name}]`",
                set.files_description()
            )));
        };
        let get = |key: &str| {
            section.get(key).map(str::to_string).ok_or_else(|| {
                Error::config(format!(
                    "[sso-session {name}] ({}:{}) has no {key}; add it",
                    section.file, section.line
                ))
            })
        };
        Ok(Session {
            name: Some(name.to_string()),
            start_url: get("sso_start_url")?,
            region: get("sso_region")?,
            scopes: parse_scopes(section.get("sso_registration_scopes")),
            login_command: format!("creds login --sso-session {name}"),
        })
    }

    /// What the token file is named after: the session name, else the start URL.
    pub fn cache_id(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.start_url)
    }

    /// `sso-session `NAME`` or `SSO start URL URL`, for messages.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("sso-session `{name}`"),
            None => format!("SSO start URL {}", self.start_url),
        }
    }

    /// The token file name: `<sha1 hex of the cache id>.json`.
    pub fn token_file(&self) -> String {
        format!(
            "{}.json",
            crate::cache::hex(&Sha1::digest(self.cache_id().as_bytes()))
        )
    }

    pub fn registration_file(&self) -> String {
        format!(
            "{}.json",
            registration::cache_key(
                &self.start_url,
                &self.region,
                self.scopes.as_deref(),
                self.name.as_deref()
            )
        )
    }

    /// The scopes to register with: the configured ones, else `sso:account:access`.
    pub fn scopes_or_default(&self) -> Vec<String> {
        self.scopes
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_SCOPE.to_string()])
    }

    pub fn login_needed(&self, why: &str) -> Error {
        Error::new(
            Kind::LoginNeeded,
            format!("{}: {why}; run `{}`", self.describe(), self.login_command),
        )
    }

    fn lock_key(&self) -> Key {
        Key::derive("sso-token", None, &[("cache_id", Some(self.cache_id()))])
    }
}

/// `~/.aws/sso/cache`, where the AWS CLI keeps tokens and registrations (never moved by
/// `AWS_CONFIG_FILE`).
pub fn token_dir(ctx: &Context) -> Result<FileStore> {
    let home = ctx.env.home().ok_or_else(|| {
        Error::config("cannot find the home directory for ~/.aws/sso/cache: set HOME")
    })?;
    Ok(FileStore::new(
        PathBuf::from(home).join(".aws").join("sso").join("cache"),
    ))
}

/// Takes `key`'s lock in creds' cache directory, waiting at most `wait` for another process;
/// without a cache directory there is nothing to lock in, and nothing is locked.
pub fn lock(ctx: &Context, key: &Key, wait: std::time::Duration, what: &str) -> Result<Lock> {
    match ctx.cache_dir() {
        Some(dir) => FileStore::new(dir).lock(key, wait, what),
        None => Ok(Lock::none()),
    }
}

/// The session's token as cached, `None` when there is none; a broken file is an error that
/// names it.
pub fn read_token(ctx: &Context, session: &Session) -> Result<Option<Token>> {
    let dir = token_dir(ctx)?;
    let name = session.token_file();
    match dir.read_named(&name) {
        Ok(bytes) => Token::from_json(&bytes).map(Some).map_err(|why| {
            Error::new(
                Kind::LoginNeeded,
                format!(
                    "{}: the token file {} {why}; run `{}` to replace it",
                    session.describe(),
                    dir.dir().join(&name).display(),
                    session.login_command
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::other(format!(
            "cannot read {}: {e}",
            dir.dir().join(&name).display()
        ))),
    }
}

pub fn write_token(ctx: &Context, session: &Session, token: &Token) -> Result<()> {
    token_dir(ctx)?.write_named(&session.token_file(), token.to_cli_json().as_bytes())
}

/// Writes a new token under the session's renewal lock, so that a renewal in progress in
/// another process re-reads it instead of overwriting it.
pub fn write_token_locked(ctx: &Context, session: &Session, token: &Token) -> Result<()> {
    let _lock = lock(
        ctx,
        &session.lock_key(),
        crate::resolve::LOCK_WAIT,
        &session.describe(),
    )?;
    write_token(ctx, session, token)
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

/// The outcome of [`renew`].
pub enum Renewal {
    /// The token is good for more than the refresh window (nothing was done).
    Valid(Token),
    /// The token was renewed with its refresh token.
    Renewed(Token),
}

/// Renews the session's token with its refresh token if it is within the refresh window,
/// under the session's lock; fails with exit 4 when there is no usable token and it cannot be
/// renewed.
pub fn renew(ctx: &Context, session: &Session, endpoints: &Endpoints) -> Result<Renewal> {
    let now = ctx.clock.now();
    let Some(token) = read_token(ctx, session)? else {
        return Err(session.login_needed("not signed in (no cached SSO token)"));
    };
    if token.expires_at - now > REFRESH_WINDOW {
        return Ok(Renewal::Valid(token));
    }
    let usable = |t: &Token| t.expires_at - ctx.clock.now() > MIN_USABLE;
    if !token.refreshable(now) {
        if usable(&token) {
            return Ok(Renewal::Valid(token));
        }
        return Err(session.login_needed(&format!(
            "the SSO token expired at {} and cannot be renewed",
            crate::cache::format_time(token.expires_at)
        )));
    }
    let _lock = lock(
        ctx,
        &session.lock_key(),
        crate::resolve::LOCK_WAIT,
        &session.describe(),
    )?;
    // Another process may have renewed it while we waited.
    let token = read_token(ctx, session)?.unwrap_or(token);
    let now = ctx.clock.now();
    if token.expires_at - now > REFRESH_WINDOW {
        return Ok(Renewal::Valid(token));
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
                expires_at: now + Duration::seconds(grant.expires_in),
                // A rotated refresh token replaces the old one; without one, keep the old one.
                refresh_token: grant.refresh_token.or(Some(refresh_token)),
                ..token
            };
            write_token(ctx, session, &renewed)?;
            Ok(Renewal::Renewed(renewed))
        }
        Err(err) => {
            let why = match err {
                TokenError::Other(e) if usable(&token) => {
                    eprintln!("creds: warning: {}: renewing the SSO token failed ({e}); using it until it expires", session.describe());
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
            if usable(&token) {
                eprintln!(
                    "creds: warning: {}: {why}; the token works until {}, then run `{}`",
                    session.describe(),
                    crate::cache::format_time(token.expires_at),
                    session.login_command
                );
                return Ok(Renewal::Valid(token));
            }
            Err(session.login_needed(&why))
        }
    }
}

/// A token good for at least the refresh window when possible (renewing it if needed), else at
/// least a minute.
pub fn valid_token(ctx: &Context, session: &Session, endpoints: &Endpoints) -> Result<Token> {
    match renew(ctx, session, endpoints)? {
        Renewal::Valid(t) | Renewal::Renewed(t) => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_names_match_the_cli() {
        let session = |name: Option<&str>, url: &str| Session {
            name: name.map(str::to_string),
            start_url: url.into(),
            region: "us-east-1".into(),
            scopes: None,
            login_command: String::new(),
        };
        assert_eq!(
            session(None, "https://d-abc123.awsapps.com/start").token_file(),
            "40a89917e3175433e361b710a9d43528d7f1890a.json"
        );
        assert_eq!(
            session(Some("dev"), "https://x").token_file(),
            "34c6fceca75e456f25e7e99531e2425c6c1de443.json"
        );
    }

    #[test]
    fn scopes_are_comma_separated() {
        assert_eq!(
            parse_scopes(Some("sso:account:access, a ,,b")),
            Some(vec!["sso:account:access".into(), "a".into(), "b".into()])
        );
        assert_eq!(parse_scopes(None), None);
    }
}
