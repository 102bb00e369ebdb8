//! The command line. Doc comments are the help text.

use crate::claude::Scope;
use crate::output::Format;
use clap::{Parser, Subcommand};

/// Resolve, cache and print AWS credentials for Claude Code, credential_process and shells.
///
/// Exit codes: 0 success, 2 usage, 3 configuration error, 4 login needed, 5 AWS refused,
/// 6 network or timeout, 1 anything else. On failure stdout is empty and stderr has one line.
#[derive(Debug, PartialEq, Parser)]
#[command(
    name = "creds",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Explain each step on stderr (never secrets).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum Command {
    /// Print credentials for a profile (cached until --min-ttl before they expire).
    ///
    /// Resolves the profile's chain (IAM Identity Center with silent token renewal, aws login
    /// sessions, static keys, long-term keys in the OS keyring, credential_source = Environment,
    /// Ec2InstanceMetadata or EcsContainer, web identity, credential_process, MFA, and role_arn +
    /// source_profile hops of any depth), reusing every hop from the cache while it is fresh,
    /// and prints the result on stdout.
    ///
    /// Claude Code (awsCredentialExport) rejects credentials without a SessionToken, so with
    /// `--format claude` long-term access keys are exchanged for session credentials with STS
    /// GetSessionToken (cached like any other hop).
    Export(ExportArgs),

    /// Sign in to IAM Identity Center (SSO), for Claude Code's awsAuthRefresh.
    ///
    /// Does nothing and exits 0 when the SSO token is valid or can be renewed silently. Otherwise
    /// prints the sign-in URL and code on stderr at once (no input is needed or read), opens a
    /// browser when one is available, and waits for approval until --timeout. Concurrent logins
    /// for the same session wait for one another: one browser tab, one code. The token is cached
    /// in ~/.aws/sso/cache exactly as `aws sso login` caches it.
    Login(LoginArgs),

    /// Sign out of IAM Identity Center: revoke and remove the cached SSO token.
    Logout(LogoutArgs),

    /// Point Claude Code, or a new credential_process profile, at creds.
    #[command(subcommand)]
    Setup(SetupCommand),

    /// Explain what `creds export` would do for a profile, and what is wrong (no secrets).
    ///
    /// Exit 0 if export would succeed without a login, 4 if a login is needed, 3 for a
    /// configuration error.
    Doctor(DoctorArgs),

    /// Look at or clear the credential cache.
    #[command(subcommand)]
    Cache(CacheCommand),

    /// Run a command with the profile's credentials.
    ///
    /// Without --server the command gets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION and the region (creds becomes the command).
    /// With --server creds serves the credentials on a local ECS-compatible endpoint
    /// (127.0.0.1, a random port and token) for as long as the command runs, renewing them as
    /// needed: `creds exec --server -p bedrock -- claude`.
    Exec(ExecArgs),

    /// Keep long-term access keys in the OS keyring instead of ~/.aws/credentials.
    ///
    /// A keyring-backed profile is only ever handed out as session credentials (GetSessionToken,
    /// an MFA session, or the role above it); the AWS CLI and SDKs get them through the
    /// credential_process line creds writes next to `creds_keyring` in ~/.aws/config.
    #[command(subcommand)]
    Keys(KeysCommand),

    /// Claude Desktop's credential helper: print `{"token": ...}`, a Bedrock token for the
    /// profile (the wrapper `creds setup desktop` writes runs this).
    ///
    /// With CLAUDE_HELPER_CONTEXT=interactive (or setup-test) an IAM Identity Center sign-in
    /// may open the browser; in every other context creds never waits on a person: a session
    /// that needs one is exit 4 at once. It gives up with exit 6 just inside Claude Desktop's
    /// timeout (18 s for a mid-session refresh, 57 s otherwise).
    DesktopHelper(DesktopHelperArgs),

    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions { shell: clap_complete::Shell },

    /// Print the man page (roff).
    #[command(hide = true)]
    Manpage,
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum SetupCommand {
    /// Merge awsCredentialExport, awsAuthRefresh (SSO profiles) and the Bedrock env block into
    /// Claude Code's settings, keeping every other key (a backup of the old file is kept).
    Claude(SetupClaudeArgs),
    /// Add `[profile NAME]` with `credential_process = creds export --profile FROM` to the
    /// config file, leaving the rest of the file as it is.
    Profile(SetupProfileArgs),
    /// Add one profile per account and role the IAM Identity Center user can reach
    /// (ListAccounts, ListAccountRoles) to the config file; profiles already there are kept,
    /// and so is every byte of the file.
    Sso(SetupSsoArgs),
    /// Write the credential helper Claude Desktop (Cowork on third-party Bedrock) runs with no
    /// arguments, and print the settings to point it there.
    Desktop(SetupDesktopArgs),
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct DesktopHelperArgs {
    /// The profile.
    #[arg(short, long)]
    pub profile: String,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct SetupDesktopArgs {
    /// The profile Claude Desktop should use [default: as for export]
    #[arg(short, long)]
    pub profile: Option<String>,

    /// The Bedrock region [default: the profile's region]
    #[arg(long)]
    pub region: Option<String>,

    /// Where to write the helper [default: ~/.config/creds]
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,

    /// Print the helper and the settings instead of writing the helper.
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct SetupSsoArgs {
    /// The [sso-session] to list [default: the selected profile's, or the only one]
    #[arg(long)]
    pub sso_session: Option<String>,

    /// Put this before every profile name written (e.g. `corp-`).
    #[arg(long, default_value = "")]
    pub prefix: String,

    /// The region of the profiles written [default: AWS_REGION, the selected profile's, else
    /// the session's sso_region]
    #[arg(long)]
    pub region: Option<String>,

    /// Print what would be added instead of changing the file.
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct SetupClaudeArgs {
    /// The profile Claude Code should use [default: as for export]
    #[arg(short, long)]
    pub profile: Option<String>,

    /// The settings file to change [default: from --scope]
    #[arg(long)]
    pub settings: Option<std::path::PathBuf>,

    /// Which settings file to change.
    #[arg(long, value_enum, default_value = "user")]
    pub scope: Scope,

    /// The Bedrock region [default: the profile's region]
    #[arg(long)]
    pub region: Option<String>,

    /// Print the settings instead of changing the file.
    #[arg(long)]
    pub print: bool,

    /// Bearer mode: Claude Code gets a Bedrock token from apiKeyHelper (`export -f
    /// bedrock-token`) and never holds AWS keys; awsCredentialExport is removed.
    #[arg(long)]
    pub bearer: bool,

    /// With --bearer: the model to pin (ANTHROPIC_MODEL) [default: the one the settings pin,
    /// else us.anthropic.claude-sonnet-4-5-20250929-v1:0]
    #[arg(long, requires = "bearer")]
    pub model: Option<String>,

    /// With --bearer: the small, fast model to pin (ANTHROPIC_SMALL_FAST_MODEL) [default: the
    /// one the settings pin, else the model]
    #[arg(long, requires = "bearer")]
    pub small_model: Option<String>,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct SetupProfileArgs {
    /// The new profile's name.
    pub name: String,

    /// The profile whose credentials it serves.
    #[arg(long)]
    pub from: String,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct DoctorArgs {
    /// The profile to explain [default: as for export]
    #[arg(short, long)]
    pub profile: Option<String>,

    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,

    /// Also export the credentials and call STS GetCallerIdentity with them: the account, the
    /// ARN and the clock skew.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct ExecArgs {
    /// The profile [default: $AWS_PROFILE, else $AWS_DEFAULT_PROFILE, else `default`]
    #[arg(short, long)]
    pub profile: Option<String>,

    /// Serve the credentials on a local endpoint for as long as the command runs, instead of
    /// putting keys in its environment.
    #[arg(long)]
    pub server: bool,

    /// Give the command a Bedrock token (AWS_BEARER_TOKEN_BEDROCK) and no AWS keys, for
    /// agents that take a Bedrock key (opencode, Codex, Goose).
    #[arg(long, conflicts_with = "server")]
    pub bedrock_token: bool,

    /// Never hand out credentials with less than this left: 900, 900s, 15m, 1h.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub min_ttl: chrono::Duration,

    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum KeysCommand {
    /// Store a profile's access key in the keyring: typed without echo in a terminal, or piped
    /// into stdin as `AKIA... SECRET` (never an argument).
    Add { profile: String },
    /// The profiles whose keys are in the keyring, and their key ids (never a secret).
    List,
    /// Remove a profile's key from the keyring, and its creds_keyring line from ~/.aws/config.
    Remove { profile: String },
    /// Move a profile's keys from ~/.aws/credentials into the keyring (keeping credentials.bak;
    /// every other byte of the file stays as it was).
    Import { profile: String },
}

#[derive(Debug, PartialEq, Subcommand)]
pub enum CacheCommand {
    /// List cached entries: profile, hop, expiry (no secrets).
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove cached entries.
    Clear {
        /// Only the entries of this profile's chain.
        #[arg(short, long, conflicts_with = "all", required_unless_present = "all")]
        profile: Option<String>,
        /// Every entry.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct LoginArgs {
    /// Sign in for this profile's SSO session [default: as for export]
    #[arg(short, long, conflicts_with = "sso_session")]
    pub profile: Option<String>,

    /// Sign in to this [sso-session NAME] directly.
    #[arg(long)]
    pub sso_session: Option<String>,

    /// Do not open a browser; only print the URL and code.
    #[arg(long)]
    pub no_browser: bool,

    /// Use the device code flow even where a browser could be opened.
    #[arg(long)]
    pub device_code: bool,

    /// Give up after this long (Claude Code kills awsAuthRefresh after 180 s).
    #[arg(long, default_value = "165s", value_parser = parse_duration)]
    pub timeout: chrono::Duration,

    /// Sign in again even if the token is still valid.
    #[arg(long)]
    pub force: bool,

    /// For a profile whose roles need MFA: the code your device shows now. Its MFA session
    /// is cached (12 hours over long-term keys) and serves later exports.
    #[arg(long)]
    pub mfa_code: Option<String>,

    /// Show the sign-in in progress (its URL, code and time left), if any, and exit.
    #[arg(long, conflicts_with_all = ["force", "no_browser", "device_code"])]
    pub status: bool,

    /// Refresh-ahead's background renewal: renew the SSO token with its refresh token if it
    /// has less than this left, and never sign in.
    #[arg(long, hide = true, value_parser = parse_duration, conflicts_with_all = ["force", "status"])]
    pub renew_ahead: Option<chrono::Duration>,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct LogoutArgs {
    /// Sign out of this profile's SSO session [default: as for export]
    #[arg(short, long, conflicts_with = "sso_session")]
    pub profile: Option<String>,

    /// Sign out of this [sso-session NAME].
    #[arg(long)]
    pub sso_session: Option<String>,

    /// Sign out of every SSO session of the config file and clear the creds cache.
    #[arg(long, conflicts_with_all = ["profile", "sso_session"])]
    pub all: bool,
}

#[derive(Debug, PartialEq, clap::Args)]
pub struct ExportArgs {
    /// The profile [default: $AWS_PROFILE, else $AWS_DEFAULT_PROFILE, else `default`]
    #[arg(short, long)]
    pub profile: Option<String>,

    /// The output document.
    #[arg(short, long, value_enum, default_value = "process")]
    pub format: Format,

    /// Never hand out credentials with less than this left: 900, 900s, 15m, 1h.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub min_ttl: chrono::Duration,

    /// Fetch every hop again even if cached, and cache the new credentials.
    #[arg(long)]
    pub refresh: bool,

    /// Neither read nor write the cache.
    #[arg(long, conflicts_with = "refresh")]
    pub no_cache: bool,

    /// Never start a background renewal of credentials that will soon fall under --min-ttl
    /// (refresh-ahead; also CREDS_REFRESH_AHEAD=off).
    #[arg(long)]
    pub no_refresh_ahead: bool,
}

impl Cli {
    /// Parses the command line. The common `creds export` lines are parsed directly: building
    /// clap's command tree costs more than the rest of a cache hit. Anything else (help,
    /// version, errors, other subcommands) goes to clap, which gives the same result for
    /// what both accept (see the tests).
    pub fn parse_args(args: Vec<std::ffi::OsString>) -> Cli {
        Self::fast_parse(&args).unwrap_or_else(|| Cli::parse_from(args))
    }

    /// `creds [-v] export [-p P] [-f F] [--min-ttl D] [--refresh | --no-cache] [-v]`, with
    /// `--flag=value` forms; `None` for anything else, including repeated options.
    pub fn fast_parse(args: &[std::ffi::OsString]) -> Option<Cli> {
        use clap::ValueEnum;
        let mut args = args.iter().skip(1).map(|a| a.to_str());
        let (mut verbose, mut seen_export) = (false, false);
        let (mut profile, mut format, mut min_ttl, mut refresh, mut no_cache) =
            (None, None, None, false, false);
        let mut no_refresh_ahead = false;
        while let Some(arg) = args.next() {
            let arg = arg?;
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v)),
                _ => (arg, None),
            };
            let mut value = |inline: Option<&str>| -> Option<String> {
                let v = match inline {
                    Some(v) => v,
                    None => args.next()??,
                };
                (!v.starts_with('-') && !v.is_empty()).then(|| v.to_string())
            };
            let once = |flag: bool| (!flag).then_some(true);
            match name {
                "export" if !seen_export && inline.is_none() => seen_export = true,
                "-v" | "--verbose" if inline.is_none() => verbose = once(verbose)?,
                "-p" | "--profile" if seen_export && profile.is_none() => {
                    profile = Some(value(inline)?)
                }
                "-f" | "--format" if seen_export && format.is_none() => {
                    format = Some(Format::from_str(&value(inline)?, false).ok()?)
                }
                "--min-ttl" if seen_export && min_ttl.is_none() => {
                    min_ttl = Some(parse_duration(&value(inline)?).ok()?)
                }
                "--refresh" if seen_export && inline.is_none() => refresh = once(refresh)?,
                "--no-cache" if seen_export && inline.is_none() => no_cache = once(no_cache)?,
                "--no-refresh-ahead" if seen_export && inline.is_none() => {
                    no_refresh_ahead = once(no_refresh_ahead)?
                }
                _ => return None,
            }
        }
        if !seen_export || (refresh && no_cache) {
            return None;
        }
        Some(Cli {
            verbose,
            command: Command::Export(ExportArgs {
                profile,
                format: format.unwrap_or(Format::Process),
                min_ttl: min_ttl.unwrap_or(crate::walk::DEFAULT_MIN_TTL),
                refresh,
                no_cache,
                no_refresh_ahead,
            }),
        })
    }
}

pub use crate::settings::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("900").unwrap().num_seconds(), 900);
        assert_eq!(parse_duration("15m").unwrap().num_seconds(), 900);
        // clap's `default_value = "15m"` of export and exec is the one default.
        assert_eq!(parse_duration("15m").unwrap(), crate::walk::DEFAULT_MIN_TTL);
        assert_eq!(parse_duration("1h30m").unwrap().num_seconds(), 5400);
        assert_eq!(parse_duration("0s").unwrap().num_seconds(), 0);
        for bad in [
            "",
            "m",
            "15x",
            "1.5h",
            "-1",
            "10",
            "9223372036854776",
            "604801",
            "99999999999h",
        ] {
            if bad == "10" {
                continue;
            }
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fast_path_agrees_with_clap() {
        let lines = [
            "creds export",
            "creds export -p prod",
            "creds export --profile prod --format claude",
            "creds export --profile=prod --format=env --min-ttl=30m",
            "creds -v export -f fish --refresh",
            "creds export --no-cache -v -p a/b@c",
            "creds export --min-ttl 900 -f windows-cmd",
            "creds export -f env-no-export -f env",
            "creds export -p a -p b",
            "creds export --refresh --no-cache",
            "creds export --format yaml",
            "creds export -p",
            "creds export -p -v",
            "creds export --help",
            "creds export extra",
            "creds --version",
            "creds",
            "creds export -pprod",
            "creds export --min-ttl soon",
            "creds export --profile=",
            "creds -v -v export",
            "creds export -p a --no-refresh-ahead --min-ttl 1500",
            "creds export --no-refresh-ahead --no-refresh-ahead",
            "creds export --no-refresh-ahead=yes",
        ];
        for line in lines {
            let argv: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            let clap = Cli::try_parse_from(&argv).ok();
            match Cli::fast_parse(&argv) {
                Some(fast) => assert_eq!(Some(&fast), clap.as_ref(), "{line}"),
                None => assert!(
                    !matches!(line, "creds export" | "creds export -p prod"),
                    "{line} should take the fast path"
                ),
            }
        }
        assert!(
            Cli::fast_parse(&["creds".into(), "export".into(), "-p".into(), "x".into()]).is_some()
        );
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
