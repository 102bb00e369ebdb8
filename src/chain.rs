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
use crate::error::{Error, Kind, Result};
pub use crate::settings::EnvWebIdentity;
use crate::source::assume_role::RoleHop;
use crate::source::keyring_keys::KeyringKeys;
use crate::source::static_keys::StaticKeys;
use crate::source::web_identity::WebIdentity;
pub use crate::source::{Base, Chain};

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
            matches!(k.as_str(), "role_arn" | "source_profile")
                || Base::KEYS.iter().any(|keys| keys.contains(&k.as_str()))
        })
    });
    match (&env.token_file, &env.role_arn) {
        (Some(token_file), Some(role_arn)) if fallback => Ok(Chain {
            base: WebIdentity {
                profile: selected.to_string(),
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                session_name: env.session_name.clone(),
            }
            .into(),
            hops: Vec::new(),
        }),
        _ => Err(err),
    }
}

/// Resolves `selected` in `set`.
pub fn resolve(set: &ProfileSet, selected: &str) -> Result<Chain> {
    if !set.has_profiles() {
        return Err(Error::of_profile(
            Kind::Config,
            selected,
            format!(
                "not found: No profiles were defined in {}",
                describe_files(set)
            ),
        )
        .with_hint(format!(
            "create it or run `aws configure --profile {selected}`"
        )));
    }
    let mut visited: Vec<&str> = Vec::new();
    let mut hops = Vec::new();
    let mut name = selected;
    let base = loop {
        let Some(profile) = set.profile(name) else {
            return Err(match visited.last() {
                None => Error::of_profile(
                    Kind::Config,
                    name,
                    format!("not found in {}", describe_files(set)),
                )
                .with_hint(known(set, name)),
                Some(from) => Error::config(format!(
                    "could not find source profile {name} referenced from {from} ({})",
                    set.profile(from)
                        .map(|p| p.origin("source_profile"))
                        .unwrap_or_default()
                ))
                .in_profile(from)
                .with_hint(format!("define `[profile {name}]` or fix source_profile")),
            });
        };
        if visited.contains(&name) {
            visited.push(name);
            return Err(Error::config(format!(
                "profile formed an infinite loop: {}",
                visited.join(" -> ")
            ))
            .in_profile(selected)
            .with_hint("break the cycle of source_profile settings"));
        }
        visited.push(name);

        // From the second profile on, static keys (in a file or the keyring) win over
        // everything else.
        if visited.len() > 1 {
            if let Some(keys) = KeyringKeys::from_profile(profile)? {
                break Base::Keyring(keys);
            }
            if let Ok(Some(keys)) = StaticKeys::from_profile(profile) {
                break Base::AccessKey(keys);
            }
        }

        let Some(role_arn) = role_arn(profile) else {
            break base(set, profile)?;
        };
        hops.push(RoleHop::from_profile(profile, role_arn)?);
        match (
            profile.get("source_profile"),
            profile.get("credential_source"),
        ) {
            (Some(_), Some(_)) => {
                return Err(profile.error("source_profile", "profile contained both source_profile and credential_source. Only one or the other can be defined").with_hint("remove one"));
            }
            (None, None) => {
                return Err(profile.error("role_arn", "profile must contain `source_profile` or `credential_source` to go with role_arn").with_hint("add one"));
            }
            (Some(source), None) if source == name => break base(set, profile)?,
            (Some(source), None) => name = source,
            (None, Some(_)) => break named(set, profile)?,
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

/// `role_arn`, unless the profile is a web identity profile (which uses role_arn itself).
fn role_arn(profile: &Section) -> Option<&str> {
    if profile.get("web_identity_token_file").is_some() {
        return None;
    }
    profile.get("role_arn")
}

/// The source a `credential_source` names, or an error naming the values it may take.
fn named(set: &ProfileSet, profile: &Section) -> Result<Base> {
    if let Some(base) = Base::named(set, profile)? {
        return Ok(base);
    }
    let source = profile.get("credential_source").unwrap_or_default();
    Err(profile.error("credential_source", &format!("credential_source `{source}` is not valid: credential_source values must be EcsContainer, Ec2InstanceMetadata, or Environment")).with_hint("use one of those, or source_profile"))
}

/// The base source of a profile that is not an assume-role hop: the first registered source
/// it selects (`crate::source`'s registry lists them in order).
fn base(set: &ProfileSet, profile: &Section) -> Result<Base> {
    // A `credential_source` that names no source is an error, not a profile without one.
    if profile.get("credential_source").is_some() && KeyringKeys::from_profile(profile)?.is_none() {
        return named(set, profile);
    }
    match Base::detect(set, profile)? {
        Some(base) => Ok(base),
        None => Err(Error::of_profile(
            Kind::Config,
            &profile.name,
            format!(
                "did not contain credential information ({}:{})",
                profile.file, profile.line
            ),
        )
        .with_hint("add aws_access_key_id and aws_secret_access_key, role_arn with source_profile, sso_session, login_session (`aws login`), or credential_process")),
    }
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
        assert!(err.line().len() < 300, "{}", err.line());
        assert!(
            err.line().contains("nearest profiles: prod, ")
                && err.line().ends_with("(and 9996 more)"),
            "{}",
            err.line()
        );
    }

    #[test]
    fn login_session_ranks_between_sso_and_credential_process() {
        let base = |text: &str| {
            let set = ProfileSet::from_texts("cfg", text, "creds", "").unwrap();
            resolve(&set, "p").unwrap().base
        };
        let login = Base::Login(crate::source::login_session::LoginSession {
            profile: "p".into(),
            session: "arn:aws:iam::1:user/A".into(),
        });
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
