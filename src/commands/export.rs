//! `creds export`: the profile's credentials (`crate::resolve::credentials`), rendered.

use crate::cli::ExportArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::resolve::Request;

/// Resolves the profile and returns the document to print.
pub fn run(ctx: &Context, args: &ExportArgs, verbose: bool) -> Result<String> {
    let format = clap::ValueEnum::to_possible_value(&args.format);
    // Claude Code keeps credentials with 6 minutes or less left for an hour, past expiry.
    // A Bedrock token is minted from credentials that outlive it by --min-ttl, for at least
    // `bedrock::MIN_LIFETIME`.
    let min_ttl = match args.format {
        Format::Claude => args.min_ttl.max(crate::walk::FLOOR_TTL),
        f if f.is_bedrock_token() => crate::bedrock::credentials_min_ttl(args.min_ttl),
        _ => args.min_ttl,
    };
    let request = Request {
        profile: args.profile.as_deref(),
        min_ttl,
        refresh: args.refresh,
        no_cache: args.no_cache,
        session_token: args.format == Format::Claude,
        verbose,
        mfa_code: None,
        refresh_ahead: format
            .as_ref()
            .map(|f| f.get_name())
            .filter(|_| !args.no_refresh_ahead && !args.refresh && !args.no_cache),
    };
    let (settings, creds) = crate::resolve::credentials(ctx, &request)?;
    if args.format == Format::Claude && creds.session_token.is_none() {
        return Err(Error::other("no SessionToken, which Claude Code requires")
            .in_profile(&settings.profile.value));
    }
    if args.format.is_bedrock_token() {
        return bedrock_token(ctx, args, &settings, &creds, verbose);
    }
    output::render(
        args.format,
        &creds,
        settings.region.as_ref().map(|r| r.value.as_str()),
    )
    .map_err(|e| e.in_profile(&settings.profile.value))
}

/// A Bedrock token minted from `creds`, as `args.format` prints it.
fn bedrock_token(
    ctx: &Context,
    args: &ExportArgs,
    settings: &crate::settings::Settings,
    creds: &crate::secret::Credentials,
    verbose: bool,
) -> Result<String> {
    let minted = crate::resolve::bedrock_token(ctx, settings, creds, args.min_ttl, verbose)?;
    Ok(output::render_token(args.format, &minted.token))
}
