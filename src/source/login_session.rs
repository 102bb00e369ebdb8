//! `login_session`: the credentials of an `aws login` console session, kept by the AWS CLI in
//! `~/.aws/login/cache/SHA256(session ARN).json` (or `AWS_LOGIN_CACHE_DIRECTORY`) and
//! refreshed through aws-config's provider (`crate::aws::signin`). `creds` never runs the
//! browser sign-in itself: without a usable session it says to run `aws login --profile P`.

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The largest `aws login` token file handed to aws-config (one is about 2 KiB).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The error for a token file that is there but cannot be used.
fn unusable(l: &Login, file: &Path, why: &str) -> Error {
    Error::config(format!(
        "the `aws login` session file {} cannot be used ({why})",
        file.display(),
    ))
    .in_profile(&l.profile)
    .with_hint(format!("remove it and {}", hint(l)))
}

/// `login_session` in `profile`: the ARN of the identity an `aws login` signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub profile: String,
    pub session: String,
}

impl Detect for LoginSession {
    const KEYS: &'static [&'static str] = &["login_session"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Login;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Ok(profile
            .get("login_session")
            .filter(|s| !s.trim().is_empty())
            .map(|session| LoginSession {
                profile: profile.name.clone(),
                session: session.to_string(),
            }))
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Login>> {
        let l = Login {
            profile: self.profile.clone(),
            session: self.session.clone(),
            token_file: inputs.login_cache.map(|dir| token_file(dir, &self.session)),
            login_profile: inputs.login_profile.to_string(),
        };
        Ok(Planned {
            key: Key::derive(
                "login",
                None,
                &[
                    ("session", Some(&l.session)),
                    ("region", Some(&inputs.sts.region)),
                ],
            ),
            label: format!("aws-login {}", l.session),
            fetch: l,
        })
    }

    fn describe(&self, inputs: &PlanInputs<'_>) -> String {
        let session = &self.session;
        match inputs.login_cache {
            Some(dir) => {
                let file = token_file(dir, session);
                let state = match std::fs::metadata(&file) {
                    Ok(m) if m.is_file() => "present",
                    _ => "missing: run `aws login`",
                };
                format!(
                    "`aws login` session {session} (token file {}: {state})",
                    file.display()
                )
            }
            None => format!("`aws login` session {session} (no home directory)"),
        }
    }
}

/// An `aws login` hop: the session and where its token file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub profile: String,
    /// `login_session`: the ARN of the signed-in identity.
    pub session: String,
    /// The session's token file, if a home directory (or `AWS_LOGIN_CACHE_DIRECTORY`) is known.
    pub token_file: Option<PathBuf>,
    /// The profile to name in `aws login --profile ...`.
    pub login_profile: String,
}

/// The token file of `session` in `dir`, named as the AWS CLI names it.
pub fn token_file(dir: &Path, session: &str) -> PathBuf {
    let digest = sha2::Sha256::digest(session.trim().as_bytes());
    dir.join(format!("{}.json", crate::wire::hex(&digest)))
}

/// The hint for a session that is missing or over.
pub fn hint(l: &Login) -> String {
    format!(
        "run `aws login --profile {}` in a terminal (creds does not run that sign-in itself)",
        l.login_profile
    )
}

impl Fetch for Login {
    fn properties(&self) -> Properties {
        Properties::SERVICE
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, _: Step<'_>) -> Result<Credentials> {
        fetch(ctx, at, self)
    }
}

fn fetch(ctx: &Context, at: &FetchInputs<'_>, l: &Login) -> Result<Credentials> {
    let Some(file) = &l.token_file else {
        return Err(Error::config("cannot find the `aws login` cache")
            .in_profile(&l.profile)
            .with_hint("set HOME (or AWS_LOGIN_CACHE_DIRECTORY)"));
    };
    // aws-config reads the file whole and without a limit: only a regular file of a sane size
    // goes to it (never a FIFO that would block the read).
    match crate::fsutil::open_regular(file, false) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                Kind::LoginNeeded,
                format!(
                    "no `aws login` session for {} ({} does not exist)",
                    l.session,
                    file.display(),
                ),
            )
            .in_profile(&l.profile)
            .with_hint(hint(l)))
        }
        Err(e) => return Err(unusable(l, file, &e.to_string())),
        Ok((_, meta)) if meta.len() > MAX_TOKEN_FILE => {
            return Err(unusable(
                l,
                file,
                &format!("larger than {MAX_TOKEN_FILE} bytes"),
            ))
        }
        Ok(_) => {}
    }
    ctx.signin.credentials(&l.session, at.sts).map_err(|e| {
        let e = e.context(&l.profile, "login_session");
        match e.kind {
            Kind::LoginNeeded => e.with_hint(hint(l)),
            _ => e,
        }
    })
}
