//! `creds export`: settings, chain, plan, walk, print.

use crate::cache::{file::FileStore, Mode};
use crate::chain;
use crate::cli::ExportArgs;
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::exec::{Options, Walk};
use crate::output::{self, Format};
use crate::settings::{Flags, Settings};
use crate::source::{self, process, sso_role, FetchInputs, PlanInputs};

/// Resolves the profile and returns the document to print.
pub fn run(ctx: &Context, args: &ExportArgs, verbose: bool) -> Result<String> {
    let flags = Flags {
        profile: args.profile.as_deref(),
        region: None,
    };
    // The recursion guard is checked before any file is read.
    let profile = crate::settings::select_profile(flags.profile, &ctx.env);
    process::check_guard(&crate::settings::guard(&ctx.env), &profile.value)?;

    let (settings, set) = Settings::load_for_profile(flags, &ctx.env, verbose)?;
    explain(ctx, verbose, &settings, &set);
    let chain = chain::resolve(&set, &settings.profile.value)?;
    chain.check_supported()?;
    let endpoints = settings.sso_endpoints();
    let hops = source::plan(
        &chain,
        &PlanInputs {
            env: &ctx.env,
            sts: &settings.sts,
            sso: &endpoints,
            session_token: args.format == Format::Claude,
        },
    )?;

    let store = match args.no_cache {
        true => None,
        false => settings.cache_store_dir().cloned().map(FileStore::new),
    };
    if !args.no_cache && settings.cache_mode.value == Mode::File && settings.cache_dir.is_none() {
        ctx.ui
            .warn("no cache directory (set HOME or CREDS_CACHE_DIR); credentials are not cached");
    }
    let token_dir = settings.sso_cache_dir().ok();
    let mut guard = settings.guard.clone();
    guard.push(settings.profile.value.clone());
    let at = FetchInputs {
        sts: &settings.sts,
        sso: sso_role::Where {
            endpoints: &endpoints,
            token_dir: token_dir.as_deref(),
            lock_dir: settings.cache_dir.as_ref().map(|d| d.value.as_path()),
            login_profile: &settings.login_profile,
        },
        guard: &guard,
        process_timeout: settings.process_timeout.value,
    };
    let (min_ttl, lowered_by) = crate::exec::chain_min_ttl(args.min_ttl, &hops);
    if let Some(life) = lowered_by {
        ctx.ui.verbose(verbose, || {
            format!(
                "profile `{}`: the role lasts {}s, too short for --min-ttl {}s and 5 minutes of reuse; handing out credentials with at least {}s left",
                settings.profile.value,
                life.num_seconds(),
                args.min_ttl.num_seconds(),
                min_ttl.num_seconds()
            )
        });
    }
    let options = Options {
        min_ttl,
        refresh: args.refresh,
        verbose,
    };
    let creds = Walk::new(ctx, store, at, options).resolve(&hops)?;
    if args.format == Format::Claude && creds.session_token.is_none() {
        return Err(Error::other(format!(
            "profile `{}`: no SessionToken, which Claude Code requires",
            settings.profile.value
        )));
    }
    output::render(
        args.format,
        &creds,
        settings.region.as_ref().map(|r| r.value.as_str()),
    )
    .map_err(|e| e.in_profile(&settings.profile.value))
}

/// `-v`: the files read, what they say that is ignored, and which settings are overridden.
fn explain(ctx: &Context, verbose: bool, settings: &Settings, set: &ProfileSet) {
    ctx.ui
        .verbose(verbose, || format!("read {}", set.files_description()));
    for warning in &set.warnings {
        ctx.ui.verbose(verbose, || format!("warning: {warning}"));
    }
    for s in &settings.shadowed {
        ctx.ui.verbose(verbose, || {
            format!(
                "{} {} from {} is overridden by {}",
                s.setting, s.value, s.origin, s.by
            )
        });
    }
}
