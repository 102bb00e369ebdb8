//! One IAM Identity Center sign-in: what a token is cached and renewed for.
//!
//! A session is an `[sso-session NAME]` (tokens cached under `sha1(NAME)`) or, for legacy
//! profiles, a start URL (tokens under `sha1(URL)`), as the AWS CLI names them.

use super::cache::registration;
use crate::cache::Key;
use crate::config::ProfileSet;
use crate::error::{Error, Kind, Result};
use sha1::{Digest, Sha1};

/// The scope `aws configure sso` and the CLI's PKCE flow use when none is configured.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

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

/// `sso_registration_scopes` as a list (`None` when not set or empty).
pub fn parse_scopes(text: Option<&str>) -> Option<Vec<String>> {
    let scopes: Vec<String> = text?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some(scopes)
}

impl Session {
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
            crate::wire::hex(&Sha1::digest(self.cache_id().as_bytes()))
        )
    }

    /// The registration file name, under botocore's key.
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
        Error::new(Kind::LoginNeeded, why)
            .in_step(self.describe())
            .with_hint(format!("run `{}`", self.login_command))
    }

    /// The lock that guards the token file (renewal and writes).
    pub fn token_lock(&self) -> Key {
        Key::derive("sso-token", None, &[("cache_id", Some(self.cache_id()))])
    }

    /// The lock held by a login in progress (one browser tab, one code).
    pub fn login_lock(&self) -> Key {
        Key::derive("sso-login", None, &[("cache_id", Some(self.cache_id()))])
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
