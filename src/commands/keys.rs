//! `creds keys add | list | remove | import`: long-term access keys in the OS keyring instead
//! of `~/.aws/credentials`.
//!
//! A keyring-backed profile carries two lines in `~/.aws/config`:
//! - `creds_keyring = AKIA...`: the access key id (not a secret; the SDKs ignore the key). It
//!   tells creds where the base keys are, and gives the cache key without a keyring read.
//! - `credential_process = creds export --profile P --format process`: so that the AWS CLI and
//!   every SDK get the profile's *session* credentials through creds.
//!
//! The secret access key is in the keyring under `creds` / `access-key/AKIA...`. It is read
//! from the terminal without echo, or from stdin when stdin is not a terminal; never from an
//! argument. Every write is checked by reading it back before any file changes, and files are
//! written atomically with a `.bak` of what they held.

use crate::config::edit::{self, File};
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keyring::key_account;
use crate::secret::Secret;
use crate::settings::{Flags, Settings};
use std::path::{Path, PathBuf};

/// An access key id and its secret, as typed or piped.
pub struct KeyInput {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Reads the key from stdin when it is not a terminal (`AKIA... SECRET`, on one line or two),
/// else asks on the terminal, the secret without echo.
pub fn read_input(ctx: &Context) -> Result<KeyInput> {
    let (id, secret) = match ctx.ui.piped_input() {
        Some(text) => {
            let mut words = text.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(id), Some(secret), None) => (id.to_string(), secret.to_string()),
                _ => return Err(Error::usage("stdin must hold the access key id and the secret access key, separated by a space or a newline, and nothing else")),
            }
        }
        None => {
            let id = ctx.ui.ask("AWS access key id: ").ok_or_else(|| {
                Error::usage("nothing to read the key from: pipe `AKIA... SECRET` into stdin, or run this in a terminal")
            })?;
            let secret = ctx
                .ui
                .ask_hidden("AWS secret access key (not shown): ")
                .ok_or_else(|| Error::usage("no secret access key was typed"))?;
            (id, secret)
        }
    };
    Ok(KeyInput {
        access_key_id: id.trim().to_string(),
        secret_access_key: Secret::new(secret.trim()),
    })
}

fn check_key(input: &KeyInput) -> Result<()> {
    let id = &input.access_key_id;
    if id.starts_with("ASIA") {
        return Err(Error::usage(format!("{id} is a temporary key (ASIA...): only long-term keys (AKIA...) belong in the keyring; temporary ones expire")));
    }
    if !(16..=128).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(Error::usage(format!(
            "`{id}` is not an access key id (16 to 128 upper-case letters and digits, such as AKIA...)"
        )));
    }
    let secret = input.secret_access_key.expose();
    if secret.is_empty() || secret.len() > 128 || secret.chars().any(char::is_whitespace) {
        return Err(Error::usage(
            "the secret access key must be one word of at most 128 characters",
        ));
    }
    Ok(())
}

/// Stores `input` in the keyring and checks it by reading it back.
fn store(ctx: &Context, profile: &str, input: &KeyInput) -> Result<()> {
    let account = key_account(&input.access_key_id);
    ctx.keyring
        .set(&account, input.secret_access_key.expose())
        .map_err(|why| why.into_error().in_profile(profile))?;
    match ctx.keyring.get(&account) {
        Ok(Some(back)) if back == input.secret_access_key.expose() => Ok(()),
        Ok(_) => Err(Error::config("the keyring did not keep the secret (reading it back gave something else); nothing was changed in your files").in_profile(profile)),
        Err(why) => Err(why.into_error().in_profile(profile)),
    }
}

/// The two lines of a keyring-backed profile in the config file.
fn mark(ctx: &Context, settings: &Settings, config: &Path, profile: &str, id: &str) -> Result<()> {
    let command = crate::claude::export_command(ctx.paths.exe(), profile, "process");
    crate::rewrite::edit(config, &crate::rewrite::Locks::of(ctx, settings), |old| {
        let text = edit::set(
            old.unwrap_or(""),
            File::Config,
            profile,
            &[("creds_keyring", id), ("credential_process", &command)],
        );
        Ok((old != Some(text.as_str())).then_some(text))
    })?;
    Ok(())
}

/// Refuses a profile whose credentials come from somewhere else.
fn check_profile(set: &ProfileSet, profile: &str) -> Result<()> {
    if !edit::valid_profile_name(profile) {
        return Err(Error::usage(format!(
            "`{profile}` is not a valid profile name (letters, digits and _-/.%@:+)"
        )));
    }
    let Some(section) = set.profile(profile) else {
        return Ok(());
    };
    for key in [
        "role_arn",
        "sso_session",
        "sso_start_url",
        "credential_source",
        "web_identity_token_file",
        "login_session",
    ] {
        if section.get(key).is_some() {
            return Err(Error::config(format!(
                "profile `{profile}` ({}) gets its credentials from `{key}`, not from long-term keys; keep keys in a profile of their own and point source_profile at it",
                section.origin(key)
            )));
        }
    }
    if let Some(command) = section.get("credential_process") {
        if section.get("creds_keyring").is_none() {
            return Err(Error::config(format!(
                "profile `{profile}` ({}) already runs credential_process `{}`; choose another profile name",
                section.origin("credential_process"),
                crate::source::process::shown(command)
            )));
        }
    }
    Ok(())
}

fn said_where(ctx: &Context) -> &'static str {
    ctx.keyring.name()
}

/// `creds keys add PROFILE`.
pub fn add(ctx: &Context, profile: &str, input: &KeyInput) -> Result<String> {
    check_key(input)?;
    let (settings, set) = Settings::load(Flags::default(), &ctx.env)?;
    check_profile(&set, profile)?;
    if let Some(section) = set.profile(profile) {
        if section.get("aws_access_key_id").is_some() {
            return Err(Error::config(format!(
                "profile `{profile}` has keys in plain text ({}); run `creds keys import {profile}` to move them into the keyring",
                section.origin("aws_access_key_id")
            )));
        }
    }
    let previous = set
        .profile(profile)
        .and_then(|s| s.get("creds_keyring"))
        .filter(|id| *id != input.access_key_id)
        .map(str::to_string);
    store(ctx, profile, input)?;
    let config = PathBuf::from(&settings.files.config.value);
    mark(ctx, &settings, &config, profile, &input.access_key_id)?;
    if let Some(old) = previous {
        // A rotated key: the old secret goes once the profile names the new one.
        let _ = ctx.keyring.delete(&key_account(&old));
    }
    ctx.ui.say(&format!(
        "creds: stored {} for profile `{profile}` in the {}; {} names it (creds_keyring), and other tools get session credentials through credential_process",
        input.access_key_id,
        said_where(ctx),
        config.display()
    ));
    Ok(String::new())
}

/// `creds keys import PROFILE`: moves the profile's keys from the credentials file into the
/// keyring. The credentials file keeps every other byte (and a `.bak` of what it held).
pub fn import(ctx: &Context, profile: &str) -> Result<String> {
    let (settings, set) = Settings::load(Flags::default(), &ctx.env)?;
    check_profile(&set, profile)?;
    let credentials = PathBuf::from(&settings.files.credentials.value);
    let Some(old) = crate::fsutil::read_text_if_exists(&credentials)? else {
        return Err(Error::config(format!(
            "{} does not exist: there are no keys to import; use `creds keys add {profile}`",
            credentials.display()
        )));
    };
    let name = credentials.display().to_string();
    let file = ProfileSet::from_texts("", "", &name, &old)?;
    let section = file.profile(profile);
    let (Some(id), Some(secret)) = (
        section.and_then(|s| s.get("aws_access_key_id")),
        section.and_then(|s| s.get("aws_secret_access_key")),
    ) else {
        return Err(Error::config(format!(
            "{name} has no aws_access_key_id and aws_secret_access_key for [{profile}]; use `creds keys add {profile}`"
        )));
    };
    if section.and_then(|s| s.get("aws_session_token")).is_some() {
        return Err(Error::usage(format!(
            "[{profile}] in {name} holds temporary keys (aws_session_token): only long-term keys belong in the keyring"
        )));
    }
    let input = KeyInput {
        access_key_id: id.to_string(),
        secret_access_key: Secret::new(secret),
    };
    check_key(&input)?;
    store(ctx, profile, &input)?;
    let config = PathBuf::from(&settings.files.config.value);
    mark(ctx, &settings, &config, profile, id)?;
    crate::rewrite::edit(
        &credentials,
        &crate::rewrite::Locks::of(ctx, &settings),
        |now| {
            let (text, removed) = edit::remove(
                now.unwrap_or(""),
                File::Credentials,
                profile,
                &["aws_access_key_id", "aws_secret_access_key"],
            );
            Ok((removed > 0).then_some(text))
        },
    )?;
    ctx.ui.say(&format!(
        "creds: moved {id} of profile `{profile}` from {name} into the {}; {name}.bak still holds the old file: delete it once `creds export --profile {profile}` works",
        said_where(ctx)
    ));
    Ok(String::new())
}

/// `creds keys remove PROFILE`: the secret leaves the keyring, the two lines leave the config.
pub fn remove(ctx: &Context, profile: &str) -> Result<String> {
    let (settings, set) = Settings::load(Flags::default(), &ctx.env)?;
    let Some(id) = set.profile(profile).and_then(|s| s.get("creds_keyring")) else {
        return Err(Error::config(format!(
            "profile `{profile}` keeps no keys in the keyring (it has no creds_keyring)"
        )));
    };
    let had = ctx
        .keyring
        .delete(&key_account(id))
        .map_err(|why| why.into_error().in_profile(profile))?;
    let config = PathBuf::from(&settings.files.config.value);
    let ours = crate::claude::export_command(ctx.paths.exe(), profile, "process");
    let process = set
        .profile(profile)
        .and_then(|s| s.get("credential_process"))
        .filter(|c| {
            *c == ours || c.ends_with(&format!(" export --profile {profile} --format process"))
        });
    let keys: &[&str] = match process {
        Some(_) => &["creds_keyring", "credential_process"],
        None => &["creds_keyring"],
    };
    crate::rewrite::edit(&config, &crate::rewrite::Locks::of(ctx, &settings), |now| {
        let (text, removed) = edit::remove(now.unwrap_or(""), File::Config, profile, keys);
        Ok((removed > 0).then_some(text))
    })?;
    ctx.ui.say(&format!(
        "creds: removed {id} of profile `{profile}` from the {}{}",
        said_where(ctx),
        if had {
            ""
        } else {
            " (it held no secret for it)"
        }
    ));
    Ok(String::new())
}

/// `creds keys list`: every keyring-backed profile, its key id and whether the keyring holds
/// its secret (never the secret).
pub fn list(ctx: &Context) -> Result<String> {
    let (_, set) = Settings::load(Flags::default(), &ctx.env)?;
    let mut out = String::new();
    for name in set.profile_names() {
        let Some(id) = set.profile(name).and_then(|s| s.get("creds_keyring")) else {
            continue;
        };
        let state = match ctx.keyring.get(&key_account(id)) {
            Ok(Some(_)) => "in the keyring".to_string(),
            Ok(None) => format!("missing from the keyring: run `creds keys add {name}`"),
            Err(why) => format!("keyring unavailable: {why}"),
        };
        out.push_str(&format!("{name}\t{id}\t{state}\n"));
    }
    if out.is_empty() {
        ctx.ui
            .say("creds: no profile keeps its keys in the keyring (add one with `creds keys add PROFILE`)");
    }
    Ok(out)
}
