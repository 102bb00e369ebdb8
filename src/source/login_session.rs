//! `login_session`: the credentials of an `aws login` console session, kept by the AWS CLI in
//! `~/.aws/login/cache/SHA256(session ARN).json` (or `AWS_LOGIN_CACHE_DIRECTORY`) and
//! refreshed through aws-config's provider (`crate::aws::signin`). `creds` never runs the
//! browser sign-in itself: without a usable session it says to run `aws login --profile P`.

use crate::aws::sts::StsTarget;
use crate::cache::Key;
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
        "profile `{}`: the `aws login` session file {} cannot be used ({why}); remove it and {}",
        l.profile,
        file.display(),
        hint(l)
    ))
}

/// An `aws login` base, as the chain names it.
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

pub fn key(l: &Login, target: &StsTarget) -> Key {
    Key::derive(
        "login",
        None,
        &[
            ("session", Some(&l.session)),
            ("region", Some(&target.region)),
        ],
    )
}

pub fn label(l: &Login) -> String {
    format!("aws-login {}", l.session)
}

/// The hint for a session that is missing or over.
pub fn hint(l: &Login) -> String {
    format!(
        "run `aws login --profile {}` in a terminal (creds does not run that sign-in itself)",
        l.login_profile
    )
}

pub fn fetch(ctx: &Context, target: &StsTarget, l: &Login) -> Result<Credentials> {
    let Some(file) = &l.token_file else {
        return Err(Error::config(format!(
            "profile `{}`: cannot find the `aws login` cache: set HOME (or AWS_LOGIN_CACHE_DIRECTORY)",
            l.profile
        )));
    };
    // aws-config reads the file whole and without a limit: only a regular file of a sane size
    // goes to it (never a FIFO that would block the read).
    match crate::fsutil::open_regular(file, false) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                Kind::LoginNeeded,
                format!(
                    "profile `{}`: no `aws login` session for {} ({} does not exist); {}",
                    l.profile,
                    l.session,
                    file.display(),
                    hint(l)
                ),
            ))
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
    ctx.signin.credentials(&l.session, target).map_err(|e| {
        let next = match e.kind {
            Kind::LoginNeeded => format!("; {}", hint(l)),
            _ => String::new(),
        };
        Error::new(
            e.kind,
            format!(
                "profile `{}` (login_session): {}{next}",
                l.profile, e.message
            ),
        )
    })
}
