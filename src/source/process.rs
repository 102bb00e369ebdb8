//! `credential_process`: run a command and read the credentials it prints.
//!
//! The output is the AWS `credential_process` document (`docs/aws-compat.md` §1): a JSON object with
//! `Version: 1`, `AccessKeyId`, `SecretAccessKey`, and optionally `SessionToken`, `Expiration`
//! (RFC 3339) and `AccountId`. Keys are matched case-insensitively, as the Rust and Go SDKs do.
//!
//! A recursion guard stops a profile whose `credential_process` runs `creds` for itself: every
//! `creds export` adds the profile it exports to `_CREDS_PROFILE_CHAIN` in the environment of
//! the processes it runs, and refuses to export a profile already there, or to go deeper than
//! [`MAX_DEPTH`] nested exports.
//!
//! The command itself is never shown whole: its arguments may carry secrets ([`shown`]).

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::{Context, ProcessRunner};
use crate::error::{Error, Kind, Result};
use crate::secret::{Credentials, Secret};
use crate::settings::GUARD_VAR;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// How many `creds export` may nest through `credential_process`.
pub const MAX_DEPTH: usize = 4;

/// The command as it may be shown (errors, `-v`, cache labels, `doctor`): the program alone,
/// its arguments elided, since they may carry secrets (as smithy-rs's `sensitive_command`).
pub fn shown(command: &str) -> String {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("");
    if words.next().is_some() {
        format!("{program} ...")
    } else {
        program.to_string()
    }
}

/// `credential_process` in `profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub profile: String,
    pub command: String,
}

impl Detect for Process {
    const KEYS: &'static [&'static str] = &["credential_process"];
    const CREDENTIAL_SOURCE: Option<&'static str> = None;
    type Fetch = Self;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Ok(profile.get("credential_process").map(|command| Process {
            profile: profile.name.clone(),
            command: command.to_string(),
        }))
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, _: &PlanInputs<'_>) -> Result<Planned<Self>> {
        Ok(Planned {
            key: Key::derive("process", None, &[("command", Some(&self.command))]),
            label: label(&self.command),
            fetch: self.clone(),
        })
    }

    fn describe(&self, _: &PlanInputs<'_>) -> String {
        format!("credential_process `{}`", shown(&self.command))
    }
}

impl Fetch for Process {
    fn properties(&self) -> Properties {
        // What it prints may be long-term keys or a session: neither is assumed.
        Properties {
            cached: true,
            long_term: false,
            ..Properties::KEYS
        }
    }

    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        run(
            ctx.processes.as_ref(),
            step.profile,
            &self.command,
            at.guard,
            ctx.clock.now(),
            at.process_timeout,
        )
    }
}

fn label(command: &str) -> String {
    format!("credential_process {}", shown(command))
}

/// Fails if exporting `profile` here would loop or nest too deep.
pub fn check_guard(chain: &[String], profile: &str) -> Result<()> {
    if chain.iter().any(|p| p == profile) {
        let path = chain
            .iter()
            .map(String::as_str)
            .chain([profile])
            .collect::<Vec<_>>()
            .join(" -> ");
        return Err(Error::config(format!(
            "credential_process loop: {path}; the profile's credential_process runs creds for a profile that is already being exported"
        ))
        .in_profile(profile)
        .with_hint("point it at another profile"));
    }
    if chain.len() >= MAX_DEPTH {
        return Err(Error::config(format!(
            "credential_process nests {} creds exports ({}); at most {MAX_DEPTH} are allowed",
            chain.len().saturating_add(1),
            chain.join(" -> ")
        ))
        .in_profile(profile));
    }
    Ok(())
}

/// Runs `command` for `profile`, with `chain` (the guard including the exported profile).
pub fn run(
    runner: &dyn ProcessRunner,
    profile: &str,
    command: &str,
    chain: &[String],
    now: DateTime<Utc>,
    timeout: std::time::Duration,
) -> Result<Credentials> {
    let env = [(GUARD_VAR.to_string(), chain.join(","))];
    let shown = shown(command);
    let out = runner.run(command, &env, timeout).map_err(|e| {
        match e.kind() {
            std::io::ErrorKind::TimedOut => Error::new(
                Kind::Network,
                format!("credential_process `{shown}` {e} and was stopped"),
            )
            .with_hint("raise CREDS_PROCESS_TIMEOUT if it needs longer"),
            std::io::ErrorKind::InvalidData => {
                Error::other(format!("credential_process `{shown}` {e} and was stopped"))
            }
            _ => Error::other(format!("cannot run credential_process `{shown}`: {e}")),
        }
        .in_profile(profile)
    })?;
    if out.code != Some(0) {
        let mut last = last_line(&out.stderr);
        // A nested `creds` keeps its exit class: its messages start with "creds: ".
        let kind = match (
            last.strip_prefix("creds: "),
            out.code.and_then(Kind::from_exit_code),
        ) {
            (Some(inner), Some(kind)) => {
                last = inner.to_string();
                kind
            }
            _ => Kind::Other,
        };
        let status = exit_status(out.code);
        let detail = if last.is_empty() {
            String::new()
        } else {
            format!(": {last}")
        };
        return Err(Error::new(
            kind,
            format!("credential_process `{shown}` {status}{detail}"),
        )
        .in_profile(profile));
    }
    parse_output(&out.stdout, now)
        .map_err(|m| Error::other(format!("credential_process `{shown}` {m}")).in_profile(profile))
}

/// Parses a `credential_process` document. The error text never contains the output itself.
pub fn parse_output(stdout: &[u8], now: DateTime<Utc>) -> Result<Credentials, String> {
    let value: Value = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "printed something that is not JSON ({} bytes, error at line {} column {})",
            stdout.len(),
            e.line(),
            e.column()
        )
    })?;
    let Value::Object(map) = value else {
        return Err("printed JSON that is not an object".into());
    };
    let field = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let string = |name: &str| -> Result<Option<String>, String> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("printed a {name} that is not a string")),
        }
    };
    match field("Version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => {
            return Err(
                "printed an unsupported Version; only 1 (a JSON number) is supported".into(),
            )
        }
        None => return Err("printed no Version; the document must have \"Version\": 1".into()),
    }
    let access_key_id = string("AccessKeyId")?
        .filter(|s| !s.is_empty())
        .ok_or("printed no AccessKeyId")?;
    let secret = string("SecretAccessKey")?
        .filter(|s| !s.is_empty())
        .ok_or("printed no SecretAccessKey")?;
    let expiration = match string("Expiration")? {
        None => None,
        Some(text) => {
            let t = DateTime::parse_from_rfc3339(&text).map_err(|_| format!("printed an Expiration `{text}` that is not an RFC 3339 time with a zone, such as 2026-01-01T00:00:00Z"))?.with_timezone(&Utc);
            if t <= now {
                return Err(format!(
                    "printed credentials that expired at {}",
                    t.format("%Y-%m-%dT%H:%M:%SZ")
                ));
            }
            Some(t)
        }
    };
    Ok(Credentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: string("SessionToken")?
            .filter(|s| !s.is_empty())
            .map(Secret::new),
        expiration,
        account_id: string("AccountId")?,
    })
}

/// How a command that failed ended: `exited with status N`, or `was killed by a signal`.
pub fn exit_status(code: Option<i32>) -> String {
    code.map_or("was killed by a signal".to_string(), |c| {
        format!("exited with status {c}")
    })
}

/// The last line of a command's stderr that is not blank, trimmed, at most 400 characters.
pub fn last_line(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    last.chars().take(400).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn parses_the_document() {
        let c = parse_output(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T","Expiration":"2026-01-01T01:00:00+01:00"}"#, DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z").unwrap().with_timezone(&Utc)).unwrap();
        assert_eq!(c.access_key_id, "A");
        assert_eq!(
            c.expiration.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        let lower = parse_output(
            br#"{"version":1,"accesskeyid":"A","secretaccesskey":"S"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(lower.session_token, None);
        assert_eq!(lower.expiration, None);
    }

    #[test]
    fn rejects_bad_documents_without_echoing_them() {
        for (doc, want) in [
            (&br#"{"AccessKeyId":"A","SecretAccessKey":"SECRETX"}"#[..], "no Version"),
            (br#"{"Version":"1","AccessKeyId":"A","SecretAccessKey":"SECRETX"}"#, "unsupported Version"),
            (br#"{"Version":1,"SecretAccessKey":"SECRETX"}"#, "no AccessKeyId"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"SECRETX","Expiration":"2026-01-01T00:00:00"}"#, "not an RFC 3339"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"SECRETX","Expiration":"2025-01-01T00:00:00Z"}"#, "expired at 2025-01-01T00:00:00Z"),
            (b"SECRETX not json", "not JSON"),
        ] {
            let err = parse_output(doc, now()).unwrap_err();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("SECRETX"), "{err}");
        }
    }

    #[test]
    fn commands_are_shown_without_their_arguments() {
        assert_eq!(
            shown("/usr/bin/helper --token SECRETX"),
            "/usr/bin/helper ..."
        );
        assert_eq!(shown("helper"), "helper");
        assert_eq!(label("  sh -c 'echo SECRETX'"), "credential_process sh ...");
    }

    #[test]
    fn guard_detects_loops_and_depth() {
        assert!(check_guard(&[], "a").is_ok());
        let err = check_guard(&["a".into(), "b".into()], "a").unwrap_err();
        assert_eq!(err.kind, Kind::Config);
        assert!(err.line().contains("a -> b -> a"), "{}", err.line());
        let deep: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert!(check_guard(&deep, "e")
            .unwrap_err()
            .line()
            .contains("at most 4"));
    }
}
