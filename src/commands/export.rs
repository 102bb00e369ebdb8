//! `creds export`.

use crate::cache::{self, file::FileStore};
use crate::chain;
use crate::cli::ExportArgs;
use crate::config::{location, ProfileSet};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::resolve::{Options, Resolver};
use crate::settings;
use crate::source::process;

/// Resolves the profile and returns the document to print.
pub fn run(ctx: &Context, args: &ExportArgs, verbose: bool) -> Result<String> {
    let profile = location::selected_profile(args.profile.as_deref(), &ctx.env);
    let mut guard = process::guard_chain(&ctx.env);
    process::check_guard(&guard, &profile)?;
    guard.push(profile.clone());

    let set = ProfileSet::load(&ctx.env)?;
    if verbose {
        eprintln!("creds: read {}", set.files_description());
        for warning in &set.warnings {
            eprintln!("creds: warning: {warning}");
        }
    }
    let chain = chain::resolve(&set, &profile)?;
    chain.check_supported()?;
    let settings = settings::resolve(&ctx.env, &set, &profile)?;

    let store = match cache::Mode::from_env(ctx.env.get("CREDS_CACHE"))? {
        cache::Mode::None => None,
        cache::Mode::File => match ctx.cache_dir() {
            Some(dir) => Some(FileStore::new(dir)),
            None => {
                eprintln!("creds: warning: no cache directory (set HOME or CREDS_CACHE_DIR); credentials are not cached");
                None
            }
        },
    };
    let options = Options {
        min_ttl: args.min_ttl,
        refresh: args.refresh,
        no_cache: args.no_cache,
        want_session_token: args.format == Format::Claude,
        verbose,
    };
    let creds = Resolver::new(
        ctx,
        store,
        settings.sts.clone(),
        sso_endpoints(&settings),
        options,
        guard,
    )
    .resolve(&chain)?;
    if args.format == Format::Claude && creds.session_token.is_none() {
        return Err(Error::other(format!(
            "profile `{profile}`: no SessionToken, which Claude Code requires"
        )));
    }
    Ok(output::render(
        args.format,
        &creds,
        settings.region.as_deref(),
    ))
}

/// The SSO endpoint overrides of the settings.
pub fn sso_endpoints(settings: &settings::Settings) -> crate::sso::api::Endpoints {
    crate::sso::api::Endpoints {
        oidc: settings.sso_oidc_endpoint.clone(),
        portal: settings.sso_endpoint.clone(),
    }
}
