//! `creds` resolves AWS credentials for a profile of the standard AWS config files, caches
//! them by expiry, and prints them in the shape its caller wants.
//!
//! The pieces, in the order a `creds export` uses them:
//! - [`settings`] decides every precedence rule once (profile, files, region, endpoints,
//!   cache, recursion guard), remembering where each value came from;
//! - [`config`] reads `~/.aws/config` and `~/.aws/credentials` into a [`config::ProfileSet`]
//!   (with file:line for every value);
//! - [`chain`] turns the selected profile into a [`chain::Chain`]: a base source and the
//!   assume-role hops above it (pure);
//! - [`source`] plans the chain into hops with their cache keys (pure), one module per
//!   credential source, each owning its key parameters and its fetch;
//! - [`exec`] walks the hops, taking each from the [`cache`] while it is fresh and otherwise
//!   fetching it once, under a lock;
//! - [`output`] renders the result, and [`ui`] writes it.
//!
//! IAM Identity Center lives in [`sso`] (session, token cache, renewal, login), with the choice
//! of browser in [`browser`] and Claude Code's settings files in [`claude`]; every AWS SDK
//! client in [`aws`]. Every outside effect goes through [`context::Context`], so tests replace
//! the clock, the environment, process spawning, the browser, the redirect listener, STS and
//! SSO. Top-level modules import each other without cycles (a test checks it), and no command
//! imports another.

#![warn(clippy::print_stdout, clippy::print_stderr)]
// No input, local or remote, may abort the process: no unchecked indexing or arithmetic
// outside tests (use `get`, `checked_*`, `saturating_*`).
#![cfg_attr(
    not(test),
    warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod agent;
pub mod aws;
pub mod bedrock;
pub mod browser;
pub mod cache;
pub mod chain;
pub mod claude;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod fsutil;
pub mod keyring;
pub mod os;
pub mod output;
pub mod platform;
pub mod refresh_ahead;
pub mod resolve;
pub mod rewrite;
pub mod secret;
pub mod settings;
pub mod source;
pub mod sso;
pub mod ui;
pub mod walk;
pub mod wire;

/// The renewal lock is held by another process.
struct Busy;

/// A background renewal that could not be handed its lock (`platform::Detach::DetachedProcess`)
/// takes it here: `Ok(Some)` held for the run, `Err(Busy)` when another renewal has it. Only a
/// renewal's own command line, on such a platform, looks at the variable.
fn retake_renewal_lock(
    command: &cli::Command,
    env: &context::Env,
) -> std::result::Result<Option<context::RenewalLock>, Busy> {
    let Some(path) = env.get(platform::RENEWAL_LOCK_VARIABLE) else {
        return Ok(None);
    };
    if !retakes_renewal_lock(platform::Platform::current(), command) {
        return Ok(None);
    }
    cache::file::retake_renewal(std::path::Path::new(path))
        .map(Some)
        .ok_or(Busy)
}

/// Whether `command` on `platform` is a background renewal that takes its lock itself.
fn retakes_renewal_lock(platform: platform::Platform, command: &cli::Command) -> bool {
    let renewal = match command {
        cli::Command::Export(args) => args.no_refresh_ahead,
        cli::Command::Login(args) => args.renew_ahead.is_some(),
        _ => false,
    };
    renewal
        && matches!(
            platform::detach(platform),
            platform::Detach::DetachedProcess { .. }
        )
}

/// Ends the process with exit 6 and one line on stderr (stdout stays empty) if it still runs
/// after `deadline`: a helper whose caller kills it at its own timeout says why first.
#[allow(clippy::disallowed_methods)] // the process's own deadline in real time, not a seam's
fn give_up_at(deadline: std::time::Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        ui::Sink::line(
            &ui::Stderr,
            &format!(
                "creds: gave up after {}s, inside Claude Desktop's timeout; run `creds login` in a terminal if a sign-in is needed",
                deadline.as_secs()
            ),
        );
        std::process::exit(error::Kind::Network.exit_code());
    });
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: cli::Cli, ctx: &context::Context) -> i32 {
    use cli::{CacheCommand, Command, KeysCommand, SetupCommand};
    let _renewal = match retake_renewal_lock(&cli.command, &ctx.env) {
        Ok(lock) => lock,
        // Another renewal of the same hop holds it: nothing to do.
        Err(Busy) => return 0,
    };
    let result: error::Result<(String, i32)> = match &cli.command {
        Command::Export(args) => commands::export::run(ctx, args, cli.verbose).map(|d| (d, 0)),
        Command::Login(args) => commands::login::login(ctx, args).map(|d| (d, 0)),
        Command::Logout(args) => commands::login::logout(ctx, args).map(|()| (String::new(), 0)),
        Command::Setup(SetupCommand::Claude(args)) => {
            commands::setup::claude(ctx, args).map(|d| (d, 0))
        }
        Command::Setup(SetupCommand::Profile(args)) => {
            commands::setup::profile(ctx, args).map(|d| (d, 0))
        }
        Command::Setup(SetupCommand::Sso(args)) => commands::setup::sso(ctx, args).map(|d| (d, 0)),
        Command::Setup(SetupCommand::Desktop(args)) => {
            commands::desktop::setup(ctx, args).map(|d| (d, 0))
        }
        Command::DesktopHelper(args) => {
            let context = commands::desktop::HelperContext::from_env(&ctx.env);
            give_up_at(context.deadline());
            commands::desktop::helper(ctx, args).map(|d| (d, 0))
        }
        Command::Doctor(args) => commands::doctor::run(ctx, args),
        Command::Cache(CacheCommand::List { json }) => {
            commands::cache::list(ctx, *json).map(|d| (d, 0))
        }
        Command::Cache(CacheCommand::Clear { profile, all }) => {
            commands::cache::clear(ctx, profile.as_deref(), *all).map(|d| (d, 0))
        }
        Command::Exec(args) => {
            commands::exec::run(ctx, args, cli.verbose).map(|code| (String::new(), code))
        }
        Command::Keys(KeysCommand::Add { profile }) => commands::keys::read_input(ctx)
            .and_then(|input| commands::keys::add(ctx, profile, &input))
            .map(|d| (d, 0)),
        Command::Keys(KeysCommand::List) => commands::keys::list(ctx).map(|d| (d, 0)),
        Command::Keys(KeysCommand::Remove { profile }) => {
            commands::keys::remove(ctx, profile).map(|d| (d, 0))
        }
        Command::Keys(KeysCommand::Import { profile }) => {
            commands::keys::import(ctx, profile).map(|d| (d, 0))
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cli::Cli::command(), "creds", &mut out);
            Ok((String::from_utf8_lossy(&out).into_owned(), 0))
        }
        Command::Manpage => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_mangen::Man::new(cli::Cli::command())
                .render(&mut out)
                .map(|()| (String::from_utf8_lossy(&out).into_owned(), 0))
                .map_err(|e| error::Error::other(e.to_string()))
        }
    };
    ctx.ui.settle(result.is_ok());
    match result {
        Ok((document, code)) => match ui::document(&document) {
            Ok(()) => {
                // A report that ends in a verdict (`doctor`): a login needed is said on stderr
                // too, by the kind the exit code stands for.
                if error::Kind::from_exit_code(code) == Some(error::Kind::LoginNeeded) {
                    ctx.ui.error("a login is needed; see the report above");
                }
                code
            }
            Err(e) => {
                ctx.ui.error(&format!("cannot write to stdout: {e}"));
                1
            }
        },
        Err(err) => {
            ctx.ui.error(&err.line());
            err.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::Platform;

    fn command(args: &[&str]) -> cli::Command {
        let mut argv = vec!["creds".into()];
        argv.extend(args.iter().map(std::ffi::OsString::from));
        cli::Cli::parse_args(argv).command
    }

    /// Only a Windows renewal (an export without refresh-ahead, or `login --renew-ahead`)
    /// takes the renewal lock itself; elsewhere the lock is inherited and the variable is
    /// never read.
    #[test]
    fn who_takes_the_renewal_lock() {
        let export = command(&["export", "-p", "p", "--no-refresh-ahead"]);
        let login = command(&["login", "-p", "p", "--renew-ahead", "600"]);
        let plain = command(&["export", "-p", "p"]);
        for p in [Platform::Linux, Platform::MacOs, Platform::OtherUnix] {
            assert!(!retakes_renewal_lock(p, &export) && !retakes_renewal_lock(p, &login));
        }
        assert!(retakes_renewal_lock(Platform::Windows, &export));
        assert!(retakes_renewal_lock(Platform::Windows, &login));
        assert!(!retakes_renewal_lock(Platform::Windows, &plain));
        assert!(!retakes_renewal_lock(
            Platform::Windows,
            &command(&["doctor", "-p", "p"])
        ));
    }
}
