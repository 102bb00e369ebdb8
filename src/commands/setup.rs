//! `creds setup claude` and `creds setup profile`: pure builders (`crate::claude::Hooks`,
//! [`profile_section`]) and one write with a backup (`crate::fsutil::write_with_backup`).

use crate::chain::{self, Base};
use crate::claude::{self, Hooks};
use crate::cli::{SetupClaudeArgs, SetupProfileArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::settings::{Flags, Settings};
use std::path::PathBuf;

pub fn claude(ctx: &Context, args: &SetupClaudeArgs) -> Result<String> {
    let flags = Flags {
        profile: args.profile.as_deref(),
        region: args.region.as_deref(),
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let profile = settings.profile.value.clone();
    let chain = chain::resolve(&set, &profile)?;
    let Some(region) = settings.saved_region() else {
        return Err(Error::config(format!("profile `{profile}` has no region and Bedrock needs one: pass --region REGION or add `region = ...` to [profile {profile}]")));
    };
    let sso = matches!(chain.base, Base::Sso(_));
    let hooks = Hooks::new(ctx.paths.exe(), &profile, &region.value, sso);

    if args.print {
        return Ok(claude::render(hooks.document()));
    }
    let path = match &args.settings {
        Some(p) => p.clone(),
        None => claude::settings_path(
            settings.home.as_ref().map(|h| h.value.as_path()),
            ctx.paths.cwd(),
            args.scope,
        )?,
    };
    let old = std::fs::read_to_string(&path).ok();
    let merged = hooks.merge_into(claude::read_settings(&path)?, &path)?;
    let text = claude::render(merged);
    if old.as_deref() == Some(text.as_str()) {
        ctx.ui.say(&format!(
            "creds: {} already points Claude Code at creds for profile `{profile}`",
            path.display()
        ));
        return Ok(String::new());
    }
    crate::fsutil::write_with_backup(&path, old.as_deref(), &text)?;
    ctx.ui.say(&format!(
        "creds: {} now runs creds for profile `{profile}` ({}){}",
        path.display(),
        if sso {
            "awsCredentialExport and awsAuthRefresh"
        } else {
            "awsCredentialExport"
        },
        if old.is_some() {
            format!("; the old file is in {}.bak", path.display())
        } else {
            String::new()
        }
    ));
    if let Some(shadow) = settings.region.as_ref().filter(|r| r.value != region.value) {
        ctx.ui.say(&format!(
            "creds: note: {} in this shell says {}; Claude Code will use {} from the settings file",
            shadow.origin, shadow.value, region.value
        ));
    }
    Ok(String::new())
}

/// Whether `name` is a profile name the AWS SDKs accept.
pub use crate::config::edit::valid_profile_name;

/// `old` with `[profile NAME]` appended, the old bytes kept as they are.
pub fn profile_section(old: &str, name: &str, command: &str, region: Option<&str>) -> String {
    let mut text = old.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(
        "[profile {name}]\ncredential_process = {command}\n"
    ));
    if let Some(region) = region {
        text.push_str(&format!("region = {region}\n"));
    }
    text
}

pub fn profile(ctx: &Context, args: &SetupProfileArgs) -> Result<String> {
    let flags = Flags {
        profile: Some(&args.from),
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    chain::resolve(&set, &args.from)?;
    let command = claude::export_command(ctx.paths.exe(), &args.from, "process");
    if let Some(existing) = set.profile(&args.name) {
        if existing.get("credential_process") == Some(command.as_str()) {
            ctx.ui.say(&format!(
                "creds: [profile {}] already runs `{command}`",
                args.name
            ));
            return Ok(String::new());
        }
        return Err(Error::config(format!(
            "profile `{}` already exists ({}:{}); choose another name or remove it first",
            args.name, existing.file, existing.line
        )));
    }
    if !valid_profile_name(&args.name) {
        return Err(Error::usage(format!(
            "`{}` is not a valid profile name (letters, digits and _-/.%@:+)",
            args.name
        )));
    }
    let path = PathBuf::from(&settings.files.config.value);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::config(format!(
                "{}: cannot read the file: {e}",
                path.display()
            )))
        }
    };
    let region = set.profile(&args.from).and_then(|p| p.get("region"));
    let text = profile_section(old.as_deref().unwrap_or(""), &args.name, &command, region);
    crate::fsutil::write_with_backup(&path, old.as_deref(), &text)?;
    ctx.ui.say(&format!("creds: added [profile {}] to {}: AWS_PROFILE={} now gets profile `{}`'s credentials through creds", args.name, path.display(), args.name, args.from));
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_sections_append_and_keep_the_old_bytes() {
        assert_eq!(
            profile_section("[a]\nx = 1", "p", "creds export", Some("eu-west-1")),
            "[a]\nx = 1\n\n[profile p]\ncredential_process = creds export\nregion = eu-west-1\n"
        );
        assert_eq!(
            profile_section("", "p", "c", None),
            "[profile p]\ncredential_process = c\n"
        );
        assert!(
            valid_profile_name("a/b@c") && !valid_profile_name("a b") && !valid_profile_name("")
        );
    }
}
