//! `creds desktop-helper` and `creds setup desktop`: Claude Desktop's (Cowork on third-party
//! Bedrock) credential helper, and the wrapper it runs.
//!
//! Claude Desktop runs the executable of its `inferenceCredentialHelper` setting with no
//! arguments and reads one bare token or `{"token": ...}` from stdout (stderr is only logged).
//! It sets `CLAUDE_HELPER_CONTEXT` to say whether a person is there (`docs/desktop.md`). So
//! `setup desktop` writes a one-line wrapper that names the profile, and the helper:
//! - prints `{"token": "bedrock-api-key-..."}` minted from the profile's credentials
//!   (`crate::bedrock`), cached or silently renewed as for `export`;
//! - signs in to IAM Identity Center in the browser only when a person is there
//!   (`interactive`, `setup-test`) and a browser can be opened: Desktop never shows what a
//!   helper writes, so there is no device code to show;
//! - otherwise (`mid-session-refresh`, `scheduled-task`, `background`) never waits on a person:
//!   a session that needs one is exit 4 at once, with one line for Desktop's log.
//!
//! `crate::run` ends the process with exit 6 and one line if the helper is still running at
//! its deadline ([`HelperContext::deadline`]), just inside Desktop's own timeout.

use crate::chain::{self, Base};
use crate::cli::{DesktopHelperArgs, SetupDesktopArgs};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::platform::Platform;
use crate::resolve::Request;
use crate::settings::{Flags, Settings};
use std::path::PathBuf;
use std::time::Duration;

/// `CLAUDE_HELPER_CONTEXT`: why Claude Desktop runs the helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperContext {
    /// A person started a session and is there.
    Interactive,
    /// The connection test of Desktop's configuration window.
    SetupTest,
    /// A running session's token expired; the person waits on a turn.
    MidSessionRefresh,
    /// A scheduled task, with no one there.
    ScheduledTask,
    /// A probe or health check.
    Background,
    /// Unset, or a value Desktop may add later: treated as no one there.
    Other,
}

impl HelperContext {
    pub fn from_env(env: &crate::context::Env) -> HelperContext {
        match env.get("CLAUDE_HELPER_CONTEXT") {
            Some("interactive") => HelperContext::Interactive,
            Some("setup-test") => HelperContext::SetupTest,
            Some("mid-session-refresh") => HelperContext::MidSessionRefresh,
            Some("scheduled-task") => HelperContext::ScheduledTask,
            Some("background") => HelperContext::Background,
            _ => HelperContext::Other,
        }
    }

    /// Whether a person is there to sign in.
    pub fn may_sign_in(self) -> bool {
        matches!(self, HelperContext::Interactive | HelperContext::SetupTest)
    }

    /// When the helper gives up: just inside Desktop's timeout (20 s for a mid-session
    /// refresh, 60 s otherwise), so Desktop gets creds' line rather than its own kill.
    pub fn deadline(self) -> Duration {
        match self {
            HelperContext::MidSessionRefresh => Duration::from_secs(18),
            _ => Duration::from_secs(57),
        }
    }
}

pub fn helper(ctx: &Context, args: &DesktopHelperArgs) -> Result<String> {
    let context = HelperContext::from_env(&ctx.env);
    let request = Request::new(
        Some(&args.profile),
        crate::bedrock::credentials_min_ttl(crate::walk::DEFAULT_MIN_TTL),
    );
    let (settings, creds) = match crate::resolve::credentials(ctx, &request) {
        Err(e) if e.kind == Kind::LoginNeeded && context.may_sign_in() => {
            sign_in(ctx, &args.profile, context)?;
            crate::resolve::credentials(ctx, &request)?
        }
        other => other?,
    };
    let minted =
        crate::resolve::bedrock_token(ctx, &settings, &creds, crate::walk::DEFAULT_MIN_TTL, false)?;
    Ok(crate::output::render_token(
        crate::output::Format::BedrockTokenJson,
        &minted.token,
    ))
}

/// Signs `profile`'s IAM Identity Center session in, in the browser (a person is there).
fn sign_in(ctx: &Context, profile: &str, context: HelperContext) -> Result<()> {
    let flags = Flags {
        profile: Some(profile),
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let chain = chain::resolve(&set, profile)?;
    let Base::Sso(sso) = &chain.base else {
        return Err(Error::new(
            Kind::LoginNeeded,
            "the profile needs a sign-in or an MFA code that Claude Desktop cannot show",
        )
        .in_profile(profile)
        .with_hint(format!(
            "run `creds login --profile {profile}` in a terminal"
        )));
    };
    if !ctx.browser.available() {
        return Err(Error::new(
            Kind::LoginNeeded,
            "a sign-in is needed and no browser can be opened here (Claude Desktop shows nothing a helper writes)",
        )
        .in_profile(profile)
        .with_hint(format!("run `creds login --profile {profile}` in a terminal")));
    }
    let session = sso.session(profile)?;
    let store = settings.sso_token_store()?;
    let opts = crate::sso::login::Options {
        agent: None,
        no_browser: false,
        device_code: false,
        timeout: context.deadline().saturating_sub(Duration::from_secs(7)),
        force: false,
    };
    crate::sso::login::login(ctx, &store, &session, &settings.sso_endpoints(), &opts)?;
    Ok(())
}

/// The wrapper Claude Desktop runs, for `platform`: its file name and its text, which runs
/// `exe desktop-helper --profile PROFILE` with the helper's environment.
pub fn wrapper(platform: Platform, exe: &str, profile: &str) -> (String, String) {
    let word = crate::platform::command_word(platform, exe);
    match platform {
        Platform::Windows => (
            format!("claude-desktop-{profile}.cmd"),
            format!("@echo off\r\nrem Claude Desktop's inferenceCredentialHelper, written by `creds setup desktop`.\r\n{word} desktop-helper --profile {profile}\r\n"),
        ),
        _ => (
            format!("claude-desktop-{profile}"),
            format!("#!/bin/sh\n# Claude Desktop's inferenceCredentialHelper, written by `creds setup desktop`.\nexec {word} desktop-helper --profile {profile}\n"),
        ),
    }
}

pub fn setup(ctx: &Context, args: &SetupDesktopArgs) -> Result<String> {
    let flags = Flags {
        profile: args.profile.as_deref(),
        region: args.region.as_deref(),
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let profile = settings.profile.value.clone();
    chain::resolve(&set, &profile)?;
    if !crate::config::edit::valid_profile_name(&profile) {
        return Err(Error::config(format!(
            "profile `{profile}`: a helper can only be written for a profile name of letters, digits, `-`, `_` and `.`"
        )));
    }
    let Some(region) = settings.saved_region() else {
        return Err(Error::config(format!("profile `{profile}` has no region and Bedrock needs one: pass --region REGION or add `region = ...` to [profile {profile}]")));
    };
    let exe = ctx.paths.exe().to_string_lossy().into_owned();
    let (name, text) = wrapper(Platform::current(), &exe, &profile);
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => settings
            .home
            .as_ref()
            .map(|h| h.value.join(".config").join("creds"))
            .ok_or_else(|| {
                Error::config("no home directory for the helper: set HOME, or pass --dir")
            })?,
    };
    let path: PathBuf = dir.join(name);
    let keys = format!(
        "inferenceProvider = bedrock\ninferenceBedrockRegion = {}\ninferenceCredentialHelper = {}\n",
        region.value,
        path.display()
    );
    if args.print {
        return Ok(format!(
            "{}:\n{text}\nClaude Desktop's settings:\n{keys}",
            path.display()
        ));
    }
    crate::fsutil::create_private_dirs(&dir, 2)
        .and_then(|()| {
            crate::fsutil::write_atomic(&path, text.as_bytes(), crate::fsutil::Mode::Exactly(0o700))
        })
        .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
    ctx.ui.say(&format!(
        "creds: wrote {}; in Claude Desktop (Developer > Configure third-party inference), set:",
        path.display()
    ));
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_context_says_whether_a_person_is_there_and_how_long_to_take() {
        let env = |v: &str| crate::context::Env::from_pairs([("CLAUDE_HELPER_CONTEXT", v)]);
        let cases = [
            ("interactive", HelperContext::Interactive, true, 57),
            ("setup-test", HelperContext::SetupTest, true, 57),
            (
                "mid-session-refresh",
                HelperContext::MidSessionRefresh,
                false,
                18,
            ),
            ("scheduled-task", HelperContext::ScheduledTask, false, 57),
            ("background", HelperContext::Background, false, 57),
            ("something-new", HelperContext::Other, false, 57),
        ];
        for (value, context, person, secs) in cases {
            let found = HelperContext::from_env(&env(value));
            assert_eq!(found, context);
            assert_eq!(found.may_sign_in(), person, "{value}");
            assert_eq!(found.deadline(), Duration::from_secs(secs), "{value}");
        }
        assert_eq!(
            HelperContext::from_env(&crate::context::Env::from_pairs(
                Vec::<(String, String)>::new()
            )),
            HelperContext::Other
        );
    }

    #[test]
    fn the_wrapper_runs_the_helper_for_its_profile_on_every_platform() {
        let (name, text) = wrapper(Platform::Linux, "/usr/bin/creds", "dev");
        assert_eq!(name, "claude-desktop-dev");
        assert_eq!(text, "#!/bin/sh\n# Claude Desktop's inferenceCredentialHelper, written by `creds setup desktop`.\nexec /usr/bin/creds desktop-helper --profile dev\n");
        let (name, text) = wrapper(Platform::MacOs, "/Users/me/my tools/creds", "dev");
        assert_eq!(name, "claude-desktop-dev");
        assert!(
            text.ends_with("exec '/Users/me/my tools/creds' desktop-helper --profile dev\n"),
            "{text}"
        );
        let (name, text) = wrapper(
            Platform::Windows,
            r"C:\Program Files\creds\creds.exe",
            "dev",
        );
        assert_eq!(name, "claude-desktop-dev.cmd");
        assert!(
            text.ends_with(
                "\"C:\\Program Files\\creds\\creds.exe\" desktop-helper --profile dev\r\n"
            ),
            "{text}"
        );
    }
}
