//! `creds setup claude` and `creds setup profile`.

use crate::chain::{self, Base};
use crate::cli::{Scope, SetupClaudeArgs, SetupProfileArgs};
use crate::config::{location, ProfileSet};
use crate::context::Context;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The program path as a word for `sh -c` (single-quoted when it needs to be).
pub fn shell_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `<creds> export --profile P --format claude`, as Claude Code's awsCredentialExport.
pub fn export_command(ctx: &Context, profile: &str, format: &str) -> String {
    format!(
        "{} export --profile {profile} --format {format}",
        shell_word(ctx.exe())
    )
}

pub fn login_command(ctx: &Context, profile: &str) -> String {
    format!("{} login --profile {profile}", shell_word(ctx.exe()))
}

/// Where Claude Code keeps its settings for a scope.
pub fn settings_path(ctx: &Context, scope: Scope) -> Result<PathBuf> {
    Ok(match scope {
        Scope::User => PathBuf::from(ctx.env.home().ok_or_else(|| {
            Error::config("cannot find the home directory: set HOME or pass --settings")
        })?)
        .join(".claude")
        .join("settings.json"),
        Scope::Project => PathBuf::from(".claude").join("settings.json"),
    })
}

/// Reads a settings file: `{}` when missing; an error naming line and column when broken.
pub fn read_settings(path: &Path) -> Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(Error::config(format!(
                "{}: cannot read the file: {e}",
                path.display()
            )))
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::config(format!(
            "{}: not a JSON object; fix the file or move it away, then run this again",
            path.display()
        ))),
        Err(e) => Err(Error::config(format!(
            "{}:{}:{}: not valid JSON ({e}); fix the file or move it away, then run this again",
            path.display(),
            e.line(),
            e.column()
        ))),
    }
}

pub fn claude(ctx: &Context, args: &SetupClaudeArgs) -> Result<String> {
    let set = ProfileSet::load(&ctx.env)?;
    let profile = location::selected_profile(args.profile.as_deref(), &ctx.env);
    let chain = chain::resolve(&set, &profile)?;
    chain.check_supported()?;
    let region = match args.region.clone().or_else(|| set.profile(&profile).and_then(|p| p.get("region")).map(str::to_string)) {
        Some(r) => r,
        None => return Err(Error::config(format!("profile `{profile}` has no region and Bedrock needs one: pass --region REGION or add `region = ...` to [profile {profile}]"))),
    };
    let sso = matches!(chain.base, Base::Sso(_));

    let mut ours = Map::new();
    ours.insert(
        "awsCredentialExport".into(),
        export_command(ctx, &profile, "claude").into(),
    );
    if sso {
        ours.insert("awsAuthRefresh".into(), login_command(ctx, &profile).into());
    }
    let mut env = Map::new();
    env.insert("CLAUDE_CODE_USE_BEDROCK".into(), "1".into());
    env.insert("AWS_REGION".into(), region.into());
    env.insert("AWS_PROFILE".into(), profile.clone().into());

    if args.print {
        let mut doc = ours;
        doc.insert("env".into(), Value::Object(env));
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&Value::Object(doc)).expect("JSON")
        ));
    }

    let path = match &args.settings {
        Some(p) => p.clone(),
        None => settings_path(ctx, args.scope)?,
    };
    let old_text = std::fs::read_to_string(&path).ok();
    let mut settings = read_settings(&path)?;
    for (k, v) in ours {
        settings.insert(k, v);
    }
    if !sso {
        // A non-SSO profile needs no awsAuthRefresh; drop only one that runs creds.
        let ours_refresh = settings
            .get("awsAuthRefresh")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains(" login --profile ") && c.contains("creds"));
        if ours_refresh {
            settings.remove("awsAuthRefresh");
        }
    }
    match settings.get_mut("env") {
        Some(Value::Object(existing)) => existing.extend(env),
        Some(_) => {
            return Err(Error::config(format!(
                "{}: `env` is not an object; fix it, then run this again",
                path.display()
            )))
        }
        None => {
            settings.insert("env".into(), Value::Object(env));
        }
    }
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&Value::Object(settings)).expect("JSON")
    );
    if old_text.as_deref() == Some(text.as_str()) {
        eprintln!(
            "creds: {} already points Claude Code at creds for profile `{profile}`",
            path.display()
        );
        return Ok(String::new());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::other(format!("cannot create {}: {e}", parent.display())))?;
    }
    if let Some(old) = &old_text {
        let backup = PathBuf::from(format!("{}.bak", path.display()));
        crate::fsutil::write_atomic(&backup, old.as_bytes(), crate::fsutil::Mode::KeepOr(0o600))
            .map_err(|e| {
                Error::other(format!("cannot write the backup {}: {e}", backup.display()))
            })?;
    }
    crate::fsutil::write_atomic(&path, text.as_bytes(), crate::fsutil::Mode::KeepOr(0o600))
        .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
    eprintln!(
        "creds: {} now runs creds for profile `{profile}`{}{}",
        path.display(),
        if sso {
            " (awsCredentialExport and awsAuthRefresh)"
        } else {
            " (awsCredentialExport)"
        },
        if old_text.is_some() {
            format!("; the old file is in {}.bak", path.display())
        } else {
            String::new()
        }
    );
    Ok(String::new())
}

pub fn profile(ctx: &Context, args: &SetupProfileArgs) -> Result<String> {
    let set = ProfileSet::load(&ctx.env)?;
    let from = chain::resolve(&set, &args.from)?;
    from.check_supported()?;
    let command = export_command(ctx, &args.from, "process");
    let loc = location::locate(&ctx.env, location::Platform::current())?;
    if let Some(existing) = set.profile(&args.name) {
        if existing.get("credential_process") == Some(command.as_str()) {
            eprintln!("creds: [profile {}] already runs `{command}`", args.name);
            return Ok(String::new());
        }
        return Err(Error::config(format!(
            "profile `{}` already exists ({}:{}); choose another name or remove it first",
            args.name, existing.file, existing.line
        )));
    }
    if !args
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
        || args.name.is_empty()
    {
        return Err(Error::usage(format!(
            "`{}` is not a valid profile name (letters, digits and _-/.%@:+)",
            args.name
        )));
    }
    let path = PathBuf::from(&loc.config);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::config(format!(
                "{}: cannot read the file: {e}",
                path.display()
            )))
        }
    };
    let mut text = old.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(
        "[profile {}]\ncredential_process = {command}\n",
        args.name
    ));
    if let Some(region) = set.profile(&args.from).and_then(|p| p.get("region")) {
        text.push_str(&format!("region = {region}\n"));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::other(format!("cannot create {}: {e}", parent.display())))?;
    }
    crate::fsutil::write_atomic(&path, text.as_bytes(), crate::fsutil::Mode::KeepOr(0o600))
        .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("creds: added [profile {}] to {}: AWS_PROFILE={} now gets profile `{}`'s credentials through creds", args.name, path.display(), args.name, args.from);
    Ok(String::new())
}
