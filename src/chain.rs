//! Pure: a [`ProfileSet`] and a profile name become a [`Chain`] of hops.
//!
//! The rules are the AWS SDKs' (`docs/aws-compat.md` §7.3, smithy-rs `profile/credentials/repr.rs`):
//! - a profile with `role_arn` is an assume-role hop whose source is its `source_profile` or
//!   its `credential_source`; the first profile's `role_arn` beats its static keys, and from the
//!   second profile on static keys win;
//! - a profile that is not a hop is the base: `credential_source`, web identity, SSO,
//!   `login_session` (`aws login`), `credential_process`, then static keys;
//! - a profile seen twice is a loop, reported with the whole path.
//!
//! Nothing here reads a file, the environment or the clock.

use crate::config::{ProfileSet, Section};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where the first credentials of a chain come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `aws_access_key_id` and `aws_secret_access_key` in a profile.
    AccessKey(StaticKeys),
    /// `credential_source = Environment | Ec2InstanceMetadata | EcsContainer`.
    NamedSource {
        profile: String,
        source: NamedSource,
    },
    /// `web_identity_token_file` with `role_arn`.
    WebIdentity {
        profile: String,
        role_arn: String,
        token_file: String,
        session_name: Option<String>,
    },
    /// IAM Identity Center.
    Sso(Sso),
    /// `creds_keyring = AKIA...`: long-term keys kept in the OS keyring by `creds keys`.
    Keyring(KeyringKeys),
    /// `login_session`: an `aws login` console session.
    Login { profile: String, session: String },
    /// `credential_process`.
    Process { profile: String, command: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub profile: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub account_id: Option<String>,
    /// `mfa_serial` of the keys' own profile: used directly (no role above), the keys are
    /// exchanged for an MFA session, as aws-vault does.
    pub mfa_serial: Option<String>,
    /// `mfa_process` of the keys' own profile.
    pub mfa_process: Option<String>,
}

/// Long-term keys in the OS keyring: the profile names the access key id (`creds_keyring`),
/// the keyring holds the secret. Only ever handed out as session credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringKeys {
    pub profile: String,
    pub access_key_id: String,
    /// Where `creds_keyring` is (`FILE:LINE`), for messages.
    pub origin: String,
    pub mfa_serial: Option<String>,
    pub mfa_process: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedSource {
    Environment,
    Ec2InstanceMetadata,
    EcsContainer,
}

impl NamedSource {
    pub fn name(self) -> &'static str {
        match self {
            NamedSource::Environment => "Environment",
            NamedSource::Ec2InstanceMetadata => "Ec2InstanceMetadata",
            NamedSource::EcsContainer => "EcsContainer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    pub profile: String,
    pub session: Option<String>,
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
    /// `sso_registration_scopes` of the sso-session, as written.
    pub registration_scopes: Option<String>,
}

/// One `AssumeRole` call made with the previous hop's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub source_identity: Option<String>,
    pub mfa_serial: Option<String>,
    /// `mfa_process`: a command that prints the MFA code (as aws-vault reads it).
    pub mfa_process: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub base: Base,
    /// In call order: `hops[0]` is assumed with the base's credentials.
    pub hops: Vec<RoleHop>,
}

impl Base {
    pub fn profile(&self) -> &str {
        match self {
            Base::AccessKey(k) => &k.profile,
            Base::Keyring(k) => &k.profile,
            Base::NamedSource { profile, .. }
            | Base::WebIdentity { profile, .. }
            | Base::Login { profile, .. }
            | Base::Process { profile, .. } => profile,
            Base::Sso(s) => &s.profile,
        }
    }
}

/// The web identity the SDKs read from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and
/// `AWS_ROLE_SESSION_NAME` (values handed in; nothing is read here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvWebIdentity {
    pub token_file: Option<String>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
}

/// [`resolve`], falling back as the SDKs' default chains do to the web identity of the
/// environment when the selected profile gives no credentials (it does not exist, or names
/// none): how CI systems and EKS hand out a role.
pub fn resolve_or_env(set: &ProfileSet, selected: &str, env: &EnvWebIdentity) -> Result<Chain> {
    let err = match resolve(set, selected) {
        Ok(chain) => return Ok(chain),
        Err(err) => err,
    };
    let fallback = set.profile(selected).is_none_or(|p| {
        !p.properties.keys().any(|k| {
            matches!(
                k.as_str(),
                "aws_access_key_id"
                    | "aws_secret_access_key"
                    | "role_arn"
                    | "source_profile"
                    | "credential_source"
                    | "credential_process"
                    | "sso_session"
                    | "sso_start_url"
                    | "login_session"
                    | "creds_keyring"
                    | "web_identity_token_file"
            )
        })
    });
    match (&env.token_file, &env.role_arn) {
        (Some(token_file), Some(role_arn)) if fallback => Ok(Chain {
            base: Base::WebIdentity {
                profile: selected.to_string(),
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                session_name: env.session_name.clone(),
            },
            hops: Vec::new(),
        }),
        _ => Err(err),
    }
}

/// Resolves `selected` in `set`.
pub fn resolve(set: &ProfileSet, selected: &str) -> Result<Chain> {
    if !set.has_profiles() {
        return Err(Error::config(format!("profile `{selected}` not found: No profiles were defined in {}; create it or run `aws configure --profile {selected}`", describe_files(set))));
    }
    let mut visited: Vec<&str> = Vec::new();
    let mut hops = Vec::new();
    let mut name = selected;
    let base = loop {
        let Some(profile) = set.profile(name) else {
            return Err(match visited.last() {
                None => Error::config(format!("profile `{name}` not found in {}; {}", describe_files(set), known(set, name))),
                Some(from) => Error::config(format!(
                    "profile `{from}`: could not find source profile {name} referenced from {from} ({}); define `[profile {name}]` or fix source_profile",
                    set.profile(from).map(|p| p.origin("source_profile")).unwrap_or_default()
                )),
            });
        };
        if visited.contains(&name) {
            visited.push(name);
            return Err(Error::config(format!("profile `{selected}`: profile formed an infinite loop: {}; break the cycle of source_profile settings", visited.join(" -> "))));
        }
        visited.push(name);

        // From the second profile on, static keys (in a file or the keyring) win over
        // everything else.
        if visited.len() > 1 {
            if let Some(keys) = keyring_keys(profile)? {
                break Base::Keyring(keys);
            }
            if let Ok(Some(keys)) = static_keys(profile) {
                break Base::AccessKey(keys);
            }
        }

        let Some(role_arn) = role_arn(profile) else {
            break base(set, profile)?;
        };
        hops.push(role_hop(profile, role_arn)?);
        match (
            profile.get("source_profile"),
            profile.get("credential_source"),
        ) {
            (Some(_), Some(_)) => {
                return Err(perr(profile, "source_profile", "profile contained both source_profile and credential_source. Only one or the other can be defined; remove one"));
            }
            (None, None) => {
                return Err(perr(profile, "role_arn", "profile must contain `source_profile` or `credential_source` to go with role_arn; add one"));
            }
            (Some(source), None) if source == name => break base(set, profile)?,
            (Some(source), None) => name = source,
            (None, Some(source)) => {
                break Base::NamedSource {
                    profile: name.to_string(),
                    source: named_source(profile, source)?,
                }
            }
        }
    };
    hops.reverse();
    Ok(Chain { base, hops })
}

fn describe_files(set: &ProfileSet) -> String {
    if set.files.is_empty() {
        "the config files".to_string()
    } else {
        set.files_description()
    }
}

/// The profiles to suggest for a missing `name`: the five nearest (by edit distance, then
/// name), and how many others there are.
fn known(set: &ProfileSet, name: &str) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<(usize, &str)> = set
        .profile_names()
        .into_iter()
        .map(|p| (distance(name, p), p))
        .collect();
    if names.is_empty() {
        return "there are no profiles".into();
    }
    names.sort();
    let shown: Vec<&str> = names.iter().take(SHOWN).map(|(_, p)| *p).collect();
    let more = names.len().saturating_sub(SHOWN);
    let nearest = if more == 0 {
        "known profiles"
    } else {
        "nearest profiles"
    };
    let tail = if more == 0 {
        String::new()
    } else {
        format!(" (and {more} more)")
    };
    format!("{nearest}: {}{tail}", shown.join(", "))
}

/// The Levenshtein distance between `a` and `b` (by characters, each at most 64 long; longer
/// names count only their first 64).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for ca in &a {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = first.saturating_add(1);
        }
        for (j, cb) in b.iter().enumerate() {
            let up = row.get(j.saturating_add(1)).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = usize::from(ca != cb);
            let best = up
                .saturating_add(1)
                .min(left.saturating_add(1))
                .min(diagonal.saturating_add(cost));
            diagonal = up;
            if let Some(cell) = row.get_mut(j.saturating_add(1)) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// An error about `key` of `profile`, naming the profile and where the key (or profile) is.
fn perr(profile: &Section, key: &str, message: &str) -> Error {
    Error::config(format!(
        "profile `{}` ({}): {message}",
        profile.name,
        profile.origin(key)
    ))
}

/// `role_arn`, unless the profile is a web identity profile (which uses role_arn itself).
fn role_arn(profile: &Section) -> Option<&str> {
    if profile.get("web_identity_token_file").is_some() {
        return None;
    }
    profile.get("role_arn")
}

fn role_hop(profile: &Section, role_arn: &str) -> Result<RoleHop> {
    let opt = |key: &str| profile.get(key).map(str::to_string);
    let duration_seconds = match profile.get("duration_seconds") {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(d) if (900..=43200).contains(&d) => Some(d),
            _ => {
                return Err(perr(
                    profile,
                    "duration_seconds",
                    &format!(
                    "duration_seconds `{text}` must be a whole number of seconds from 900 to 43200"
                ),
                ))
            }
        },
    };
    Ok(RoleHop {
        profile: profile.name.clone(),
        role_arn: role_arn.to_string(),
        external_id: opt("external_id"),
        session_name: opt("role_session_name"),
        duration_seconds,
        source_identity: opt("source_identity"),
        mfa_serial: opt("mfa_serial"),
        mfa_process: opt("mfa_process"),
    })
}

fn named_source(profile: &Section, source: &str) -> Result<NamedSource> {
    Ok(match source.to_ascii_lowercase().as_str() {
        "environment" => NamedSource::Environment,
        "ec2instancemetadata" => NamedSource::Ec2InstanceMetadata,
        "ecscontainer" => NamedSource::EcsContainer,
        _ => return Err(perr(profile, "credential_source", &format!("credential_source `{source}` is not valid: credential_source values must be EcsContainer, Ec2InstanceMetadata, or Environment"))),
    })
}

/// Static keys: `Ok(None)` when the profile has neither key, an error when it has only one.
fn static_keys(profile: &Section) -> Result<Option<StaticKeys>> {
    match (
        profile.get("aws_access_key_id"),
        profile.get("aws_secret_access_key"),
    ) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(StaticKeys {
            profile: profile.name.clone(),
            access_key_id: id.to_string(),
            secret_access_key: Secret::new(secret),
            session_token: profile.get("aws_session_token").map(Secret::new),
            account_id: profile.get("aws_account_id").map(str::to_string),
            mfa_serial: profile.get("mfa_serial").map(str::to_string),
            mfa_process: profile.get("mfa_process").map(str::to_string),
        })),
        (Some(_), None) => Err(perr(
            profile,
            "aws_access_key_id",
            "profile missing aws_secret_access_key; add it next to aws_access_key_id",
        )),
        (None, Some(_)) => Err(perr(
            profile,
            "aws_secret_access_key",
            "profile missing aws_access_key_id; add it next to aws_secret_access_key",
        )),
    }
}

/// `creds_keyring = AKIA...`: `Ok(None)` when the profile has none.
fn keyring_keys(profile: &Section) -> Result<Option<KeyringKeys>> {
    let Some(id) = profile.get("creds_keyring") else {
        return Ok(None);
    };
    let valid = (16..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !valid {
        return Err(perr(profile, "creds_keyring", &format!("creds_keyring `{id}` is not an access key id (16 to 128 upper-case letters and digits, such as AKIA...); `creds keys add {}` writes it", profile.name)));
    }
    Ok(Some(KeyringKeys {
        profile: profile.name.clone(),
        access_key_id: id.to_string(),
        origin: profile.origin("creds_keyring"),
        mfa_serial: profile.get("mfa_serial").map(str::to_string),
        mfa_process: profile.get("mfa_process").map(str::to_string),
    }))
}

/// The base provider of a profile that is not an assume-role hop.
fn base(set: &ProfileSet, profile: &Section) -> Result<Base> {
    let name = profile.name.clone();
    // creds' own: it ranks first, since `creds keys` also writes a `credential_process` (for
    // the other tools) that leads back to it.
    if let Some(keys) = keyring_keys(profile)? {
        return Ok(Base::Keyring(keys));
    }
    if let Some(source) = profile.get("credential_source") {
        return Ok(Base::NamedSource {
            profile: name,
            source: named_source(profile, source)?,
        });
    }
    if let Some(token_file) = profile.get("web_identity_token_file") {
        let Some(role_arn) = profile.get("role_arn") else {
            return Err(perr(
                profile,
                "web_identity_token_file",
                "`role_arn` was missing: a web_identity_token_file needs a role_arn",
            ));
        };
        return Ok(Base::WebIdentity {
            profile: name,
            role_arn: role_arn.into(),
            token_file: token_file.into(),
            session_name: profile.get("role_session_name").map(str::to_string),
        });
    }
    if let Some(sso) = sso(set, profile)? {
        return Ok(Base::Sso(sso));
    }
    if let Some(session) = profile
        .get("login_session")
        .filter(|s| !s.trim().is_empty())
    {
        return Ok(Base::Login {
            profile: name,
            session: session.to_string(),
        });
    }
    if let Some(command) = profile.get("credential_process") {
        return Ok(Base::Process {
            profile: name,
            command: command.to_string(),
        });
    }
    match static_keys(profile)? {
        Some(keys) => Ok(Base::AccessKey(keys)),
        None => Err(Error::config(format!(
            "profile `{name}` did not contain credential information ({}:{}): add aws_access_key_id and aws_secret_access_key, role_arn with source_profile, sso_session, login_session (`aws login`), or credential_process",
            profile.file, profile.line
        ))),
    }
}

fn sso(set: &ProfileSet, profile: &Section) -> Result<Option<Sso>> {
    let get = |key: &str| profile.get(key).map(str::to_string);
    let (account_id, role_name, session) = (
        get("sso_account_id"),
        get("sso_role_name"),
        get("sso_session"),
    );
    let (start_url, region) = (get("sso_start_url"), get("sso_region"));
    if account_id.is_none()
        && role_name.is_none()
        && session.is_none()
        && start_url.is_none()
        && region.is_none()
    {
        return Ok(None);
    }
    match (&account_id, &role_name) {
        (None, Some(_)) => {
            return Err(perr(
                profile,
                "sso_role_name",
                "if `sso_role_name` is set, then `sso_account_id` must also be set",
            ))
        }
        (Some(_), None) => {
            return Err(perr(
                profile,
                "sso_account_id",
                "if `sso_account_id` is set, then `sso_role_name` must also be set",
            ))
        }
        _ => {}
    }
    let Some(session_name) = session else {
        for key in ["sso_start_url", "sso_region"] {
            if profile.get(key).is_none() {
                return Err(perr(profile, key, &format!("`{key}` is missing: a legacy SSO profile needs sso_start_url and sso_region (or use sso_session)")));
            }
        }
        return Ok(Some(Sso {
            profile: profile.name.clone(),
            session: None,
            start_url,
            region,
            account_id,
            role_name,
            registration_scopes: None,
        }));
    };
    let Some(section) = set.sso_sessions.get(&session_name) else {
        return Err(perr(profile, "sso_session", &format!("sso-session named `{session_name}` (referenced by profile `{}`) was not found; add `[sso-session {session_name}]`", profile.name)));
    };
    // Like botocore, the profile may repeat a session value only if it is the same.
    for key in ["sso_start_url", "sso_region"] {
        if let Some(value) = profile.get(key) {
            if section.get(key) != Some(value) {
                return Err(perr(
                    profile,
                    key,
                    &format!("`{key}` can only be specified in the [sso-session] config when a session name is given; remove it from the profile (it differs from `[sso-session {session_name}]`)"),
                ));
            }
        }
    }
    Ok(Some(Sso {
        profile: profile.name.clone(),
        session: Some(session_name),
        start_url: section.get("sso_start_url").map(str::to_string),
        region: section.get("sso_region").map(str::to_string),
        account_id,
        role_name,
        registration_scopes: section.get("sso_registration_scopes").map(str::to_string),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_profile_names_a_few_nearest_ones() {
        assert_eq!(distance("prod", "prd"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("[profile team-{i}]\nregion = us-east-1\n"));
        }
        text.push_str("[profile prod]\nregion = us-east-1\n");
        let set = ProfileSet::from_texts("cfg", &text, "creds", "").unwrap();
        let err = resolve(&set, "prdo").unwrap_err();
        assert!(err.message.len() < 300, "{}", err.message);
        assert!(
            err.message.contains("nearest profiles: prod, ")
                && err.message.ends_with("(and 9996 more)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn login_session_ranks_between_sso_and_credential_process() {
        let base = |text: &str| {
            let set = ProfileSet::from_texts("cfg", text, "creds", "").unwrap();
            resolve(&set, "p").unwrap().base
        };
        let login = Base::Login {
            profile: "p".into(),
            session: "arn:aws:iam::1:user/A".into(),
        };
        assert_eq!(
            base("[profile p]\nlogin_session = arn:aws:iam::1:user/A\ncredential_process = x\naws_access_key_id = A\naws_secret_access_key = B\n"),
            login
        );
        assert!(matches!(
            base("[profile p]\nlogin_session = arn:aws:iam::1:user/A\nsso_start_url = https://x\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n"),
            Base::Sso(_)
        ));
        // Under a role, as its source profile.
        let set = ProfileSet::from_texts(
            "cfg",
            "[profile r]\nrole_arn = arn:aws:iam::2:role/R\nsource_profile = p\n[profile p]\nlogin_session = arn:aws:iam::1:user/A\n",
            "creds",
            "",
        )
        .unwrap();
        let chain = resolve(&set, "r").unwrap();
        assert_eq!((chain.base, chain.hops.len()), (login, 1));
    }
}
