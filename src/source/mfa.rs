//! MFA (`mfa_serial` on a role profile), as aws-vault does it.
//!
//! - Over long-term keys, the chain gets an *MFA session* hop: STS `GetSessionToken` with
//!   `SerialNumber` and `TokenCode`, for 12 hours unless `CREDS_MFA_SESSION_DURATION` or the
//!   profile's `mfa_session_duration` says otherwise, cached per (source keys, device).
//!   Every role above it, and every other role on the same keys and device, is assumed with
//!   that session: one code serves the day.
//! - Over temporary credentials (SSO, web identity, a process), `AssumeRole` itself gets the
//!   serial and a code.
//!
//! Where the code comes from, in order ([`code`]): `creds login --mfa-code`; the profile's
//! `mfa_process` (bounded like `credential_process`); a desktop dialog when `CREDS_MFA_PROMPT`
//! names one (`zenity`, `kdialog`, `osascript`); the terminal when creds runs in one. Else exit
//! 4 naming `creds login --profile P --mfa-code CODE`. Under Claude Code's hooks the terminal
//! never answers (Claude Code reads it), so there the code comes from `mfa_process`, a dialog,
//! or an MFA session cached by an earlier `creds login`.

use super::{Fetch, FetchInputs, Properties, Step};
use crate::aws::sts::{MfaCode, StsTarget};
use crate::cache::Key;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::{Credentials, Secret};

/// An MFA session over long-term keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSession {
    /// The role profile that names the device.
    pub profile: String,
    pub serial: String,
    pub process: Option<String>,
}

pub fn key(parent: &Key, serial: &str, target: &StsTarget) -> Key {
    Key::derive(
        "mfa-session",
        Some(parent),
        &[
            ("serial", Some(serial)),
            ("region", Some(&target.region)),
            ("endpoint", target.endpoint.as_deref()),
        ],
    )
}

pub fn label(serial: &str) -> String {
    format!("mfa-session {serial}")
}

/// Where codes may come from in this run.
#[derive(Debug, Clone, Default)]
pub struct Sources<'a> {
    /// `creds login --mfa-code`.
    pub given: Option<&'a str>,
    /// `CREDS_MFA_PROMPT`: `zenity`, `kdialog` or `osascript`.
    pub dialog: Option<&'a str>,
    pub process_timeout: std::time::Duration,
    /// How long an MFA session is asked to last, in seconds.
    pub session_seconds: u32,
}

fn digits(text: &str) -> Option<String> {
    let code = text.trim();
    (code.len() >= 6 && code.len() <= 8 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.to_string())
}

/// A one-time code for `serial`, from the first source that has one.
pub fn code(
    ctx: &Context,
    sources: &Sources<'_>,
    profile: &str,
    serial: &str,
    process: Option<&str>,
) -> Result<MfaCode> {
    let done = |code: String| MfaCode {
        serial: serial.to_string(),
        code: Secret::new(code),
    };
    if let Some(given) = sources.given {
        return digits(given).map(done).ok_or_else(|| {
            Error::usage("--mfa-code must be the 6 to 8 digits your MFA device shows")
        });
    }
    let run = |command: &str, what: &str| -> Result<MfaCode> {
        let shown = super::process::shown(command);
        let out = ctx
            .processes
            .run(command, &[], sources.process_timeout)
            .map_err(|e| {
                Error::new(
                    if e.kind() == std::io::ErrorKind::TimedOut {
                        Kind::Network
                    } else {
                        Kind::Other
                    },
                    format!("{what} `{shown}` gave no MFA code: {e}"),
                )
                .in_profile(profile)
            })?;
        if out.code != Some(0) {
            let last = super::process::last_line(&out.stderr);
            let detail = if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            };
            return Err(Error::other(format!(
                "{what} `{shown}` {}{detail}",
                super::process::exit_status(out.code)
            ))
            .in_profile(profile)
            .with_hint(format!(
                "fix it, or run `creds login --profile {profile} --mfa-code CODE`"
            )));
        }
        digits(&String::from_utf8_lossy(&out.stdout))
            .map(done)
            .ok_or_else(|| {
                Error::other(format!(
                    "{what} `{shown}` printed something that is not a 6 to 8 digit code"
                ))
                .in_profile(profile)
            })
    };
    if let Some(process) = process {
        return run(process, "mfa_process");
    }
    if let Some(dialog) = sources.dialog {
        let text = format!("MFA code for {serial}");
        let command = match dialog {
            "zenity" => format!("zenity --entry --title creds --text '{text}'"),
            "kdialog" => format!("kdialog --title creds --inputbox '{text}'"),
            "osascript" => format!(
                "osascript -e 'text returned of (display dialog \"{text}\" default answer \"\" with title \"creds\")'"
            ),
            other => {
                return Err(Error::config(format!(
                    "CREDS_MFA_PROMPT=`{other}` is not a dialog creds knows: use zenity, kdialog or osascript"
                )))
            }
        };
        return run(&command, "the MFA dialog");
    }
    if let Some(answer) = ctx.ui.ask(&format!("MFA code for {serial}: ")) {
        return digits(&answer)
            .map(done)
            .ok_or_else(|| Error::usage("that is not a 6 to 8 digit MFA code"));
    }
    Err(Error::new(
        Kind::LoginNeeded,
        format!("the role needs a code from MFA device {serial} and none can be asked for here"),
    )
    .in_profile(profile)
    .with_hint(format!(
        "run `creds login --profile {profile} --mfa-code CODE` in a terminal (its MFA session then serves for {}), or set mfa_process",
        hours(sources.session_seconds)
    )))
}

/// `seconds` as people say it: `12 hours`, `90 minutes`.
fn hours(seconds: u32) -> String {
    match seconds {
        s if s % 3600 == 0 && s == 3600 => "1 hour".into(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} minutes", s / 60),
    }
}

impl Fetch for MfaSession {
    fn properties(&self) -> Properties {
        Properties {
            mfa_session: true,
            ..Properties::SIGNED
        }
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        fetch(ctx, &at.mfa, at.sts, self, step.parent()?)
    }
}

/// The MFA session: GetSessionToken with a code, signed with the long-term keys below.
fn fetch(
    ctx: &Context,
    sources: &Sources<'_>,
    target: &StsTarget,
    session: &MfaSession,
    parent: &Credentials,
) -> Result<Credentials> {
    let mfa = code(
        ctx,
        sources,
        &session.profile,
        &session.serial,
        session.process.as_deref(),
    )?;
    ctx.sts
        .get_session_token(target, parent, Some(&mfa), Some(sources.session_seconds))
        .map_err(|e| {
            e.context(
                &session.profile,
                format!("an MFA session with {}", session.serial),
            )
        })
}
