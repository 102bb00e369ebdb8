//! `creds setup claude`, `creds setup profile` and `creds setup sso`: pure builders
//! (`crate::claude::Hooks`, [`profile_section`], [`sso_profiles`]) and one write with a backup
//! (`crate::rewrite::edit`: locked, re-read, atomic, with a `.bak`).

use crate::chain::{self, Base};
use crate::claude::{self, Hooks};
use crate::cli::{SetupClaudeArgs, SetupProfileArgs, SetupSsoArgs};
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
    let path = match &args.settings {
        Some(p) => p.clone(),
        None => claude::settings_path(
            settings.home.as_ref().map(|h| h.value.as_path()),
            ctx.paths.cwd(),
            args.scope,
        )?,
    };
    let hooks = match args.bearer {
        false => Hooks::new(ctx.paths.exe(), &profile, &region.value, sso),
        true => {
            // The models the settings file pins already are kept unless the flags say.
            let current = match std::fs::read_to_string(&path) {
                Ok(text) => claude::parse_settings(&path, &text)?,
                Err(_) => Default::default(),
            };
            let models =
                Hooks::models(args.model.as_deref(), args.small_model.as_deref(), &current);
            Hooks::bearer(ctx.paths.exe(), &profile, &region.value, sso, models)
        }
    };

    if args.print {
        return Ok(claude::render(hooks.document()));
    }
    let outcome = crate::rewrite::edit(&path, &crate::rewrite::Locks::of(ctx, &settings), |old| {
        let merged = hooks.merge_into(claude::parse_settings(&path, old.unwrap_or(""))?, &path)?;
        let text = claude::render(merged);
        Ok((old != Some(text.as_str())).then_some(text))
    })?;
    let existed = match outcome {
        crate::rewrite::Outcome::Unchanged => {
            ctx.ui.say(&format!(
                "creds: {} already points Claude Code at creds for profile `{profile}`",
                path.display()
            ));
            return Ok(String::new());
        }
        crate::rewrite::Outcome::Written { existed } => existed,
    };
    let what = match (&hooks.models, sso) {
        (Some(m), _) => format!(
            "bearer mode: apiKeyHelper{} gives Claude Code a Bedrock token, never AWS keys; awsCredentialExport removed; models {} and {}",
            if sso { " and awsAuthRefresh" } else { "" },
            m.main,
            m.small
        ),
        (None, true) => "awsCredentialExport and awsAuthRefresh".to_string(),
        (None, false) => "awsCredentialExport".to_string(),
    };
    ctx.ui.say(&format!(
        "creds: {} now runs creds for profile `{profile}` ({what}){}",
        path.display(),
        if existed {
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

/// `old` with `[profile NAME]` appended, the old bytes (and their line ends) kept as they are.
pub fn profile_section(old: &str, name: &str, command: &str, region: Option<&str>) -> String {
    let mut section = format!("[profile {name}]\ncredential_process = {command}\n");
    if let Some(region) = region {
        section.push_str(&format!("region = {region}\n"));
    }
    crate::config::edit::append(old, &section)
}

pub fn profile(ctx: &Context, args: &SetupProfileArgs) -> Result<String> {
    let flags = Flags {
        profile: Some(&args.from),
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    chain::resolve(&set, &args.from)?;
    let command = claude::export_command(ctx.paths.exe(), &args.from, "process");
    // A profile of either file; the edit checks the config file again as it is then.
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
    let region = set.profile(&args.from).and_then(|p| p.get("region"));
    // Decided on the file's latest text, every time the edit starts over.
    let outcome = crate::rewrite::edit(&path, &crate::rewrite::Locks::of(ctx, &settings), |old| {
        let text = old.unwrap_or("");
        let now = crate::config::ProfileSet::from_texts(&path.display().to_string(), text, "", "")?;
        match now.profile(&args.name) {
            Some(existing) if existing.get("credential_process") == Some(command.as_str()) => {
                Ok(None)
            }
            Some(existing) => Err(Error::config(format!(
                "profile `{}` already exists ({}:{}); choose another name or remove it first",
                args.name, existing.file, existing.line
            ))),
            None => Ok(Some(profile_section(text, &args.name, &command, region))),
        }
    })?;
    match outcome {
        crate::rewrite::Outcome::Unchanged => ctx.ui.say(&format!(
            "creds: [profile {}] already runs `{command}`",
            args.name
        )),
        crate::rewrite::Outcome::Written { .. } => ctx.ui.say(&format!("creds: added [profile {}] to {}: AWS_PROFILE={} now gets profile `{}`'s credentials through creds", args.name, path.display(), args.name, args.from)),
    }
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

/// A readable, stable profile name: `PREFIX` + the account's name and the role, lower case,
/// with every run of other characters made one `-`.
pub fn sso_profile_name(prefix: &str, account: &str, role: &str) -> String {
    let mut name = String::new();
    for c in format!("{account}-{role}").chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    format!("{prefix}{}", name.trim_end_matches('-'))
}

/// One profile `setup sso` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    pub name: String,
    pub account_id: String,
    pub role: String,
}

/// The profiles to add for `found` (account id, account name, role): those whose account and
/// role no profile of `set` on `session` has yet, each under a name no profile has (the
/// account id is added to a name already taken, by another account of the same name or by a
/// profile of the user's).
pub fn sso_profiles(
    set: &crate::config::ProfileSet,
    session: &str,
    prefix: &str,
    found: &[(String, String, String)],
) -> Vec<SsoProfile> {
    let mut taken: std::collections::BTreeSet<String> = set
        .profile_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let covered = |account: &str, role: &str| {
        set.profile_names().into_iter().any(|p| {
            set.profile(p).is_some_and(|s| {
                s.get("sso_session") == Some(session)
                    && s.get("sso_account_id") == Some(account)
                    && s.get("sso_role_name") == Some(role)
            })
        })
    };
    let mut out = Vec::new();
    for (id, account, role) in found {
        if covered(id, role) {
            continue;
        }
        let mut name = sso_profile_name(prefix, account, role);
        if taken.contains(&name) || !crate::config::edit::valid_profile_name(&name) {
            name = sso_profile_name(prefix, &format!("{account}-{id}"), role);
        }
        if taken.contains(&name) {
            continue; // the same account and role listed twice
        }
        taken.insert(name.clone());
        out.push(SsoProfile {
            name,
            account_id: id.clone(),
            role: role.clone(),
        });
    }
    out
}

/// The text appended for `profiles`.
pub fn sso_sections(profiles: &[SsoProfile], session: &str, region: &str) -> String {
    profiles
        .iter()
        .map(|p| {
            format!(
                "[profile {}]\nsso_session = {session}\nsso_account_id = {}\nsso_role_name = {}\nregion = {region}\n",
                p.name, p.account_id, p.role
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The most pages `setup sso` reads of one listing (100 accounts or roles a page, the
/// service's default, would be 100,000 accounts).
const MAX_PAGES: usize = 1000;

/// Every item of a paginated listing, page after page (at most [`MAX_PAGES`]).
fn all_pages<T>(
    what: &str,
    mut page: impl FnMut(Option<&str>) -> Result<crate::aws::sso::Page<T>>,
) -> Result<Vec<T>> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let got = page(next.as_deref())?;
        items.extend(got.items);
        next = got.next;
        if next.is_none() {
            return Ok(items);
        }
    }
    Err(Error::other(format!(
        "{what} listed more than {MAX_PAGES} pages; stopping"
    )))
}

/// `creds setup sso`.
pub fn sso(ctx: &Context, args: &SetupSsoArgs) -> Result<String> {
    let flags = Flags {
        profile: None,
        region: args.region.as_deref(),
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let name = match &args.sso_session {
        Some(name) => name.clone(),
        None => match chain::resolve(&set, &settings.profile.value).map(|c| c.base) {
            Ok(Base::Sso(sso)) if sso.session.is_some() => sso.session.unwrap_or_default(),
            _ => {
                let names: Vec<&String> = set.sso_sessions.keys().collect();
                match names.as_slice() {
                    [only] => (*only).clone(),
                    [] => return Err(Error::config("there is no [sso-session] in the config file: add one (`aws configure sso-session`), then run `creds login --sso-session NAME`")),
                    many => return Err(Error::usage(format!("name the session: --sso-session {}", many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" | ")))),
                }
            }
        },
    };
    let session = crate::sso::Session::from_section(&set, &name)?;
    let endpoints = settings.sso_endpoints();
    let store = settings.sso_token_store()?;
    let token = crate::sso::renew::valid_token(ctx, &store, &session, &endpoints)?;
    let mut accounts = all_pages("ListAccounts", |next| {
        ctx.sso
            .list_accounts(&session.region, &endpoints, &token.access_token, next)
    })?;
    accounts.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
    let mut found = Vec::new();
    for account in &accounts {
        let mut roles = all_pages("ListAccountRoles", |next| {
            ctx.sso.list_account_roles(
                &session.region,
                &endpoints,
                &token.access_token,
                &account.id,
                next,
            )
        })?;
        roles.sort();
        for role in roles {
            found.push((account.id.clone(), account.name.clone(), role));
        }
    }
    let region = settings
        .region
        .as_ref()
        .map(|r| r.value.clone())
        .unwrap_or_else(|| session.region.clone());
    let profiles = sso_profiles(&set, &name, &args.prefix, &found);
    let text = sso_sections(&profiles, &name, &region);
    let listed = found.len();
    if args.print {
        return Ok(text);
    }
    let path = PathBuf::from(&settings.files.config.value);
    if profiles.is_empty() {
        ctx.ui.say(&format!(
            "creds: the {listed} roles of {} all have a profile in {} already; nothing added",
            session.describe(),
            path.display()
        ));
        return Ok(String::new());
    }
    // Decided again on the file's latest text, every time the edit starts over (another
    // writer may have added profiles meanwhile).
    let credentials_file = &settings.files.credentials.value;
    let credentials = crate::fsutil::read_text_if_exists(std::path::Path::new(credentials_file))?
        .unwrap_or_default();
    let mut profiles = profiles;
    let outcome = crate::rewrite::edit(&path, &crate::rewrite::Locks::of(ctx, &settings), |old| {
        let text = old.unwrap_or("");
        let now = crate::config::ProfileSet::from_texts(
            &path.display().to_string(),
            text,
            credentials_file,
            &credentials,
        )?;
        profiles = sso_profiles(&now, &name, &args.prefix, &found);
        Ok((!profiles.is_empty())
            .then(|| crate::config::edit::append(text, &sso_sections(&profiles, &name, &region))))
    })?;
    if outcome == crate::rewrite::Outcome::Unchanged {
        ctx.ui.say(&format!(
            "creds: the {listed} roles of {} all have a profile in {} already; nothing added",
            session.describe(),
            path.display()
        ));
        return Ok(String::new());
    }
    ctx.ui.say(&format!(
        "creds: added {} profiles to {} ({} of the {listed} roles of {} had one already): {}",
        profiles.len(),
        path.display(),
        listed.saturating_sub(profiles.len()),
        session.describe(),
        profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(String::new())
}
