//! The command line. Doc comments are the help text.

use crate::output::Format;
use clap::{Parser, Subcommand};

/// Resolve, cache and print AWS credentials for Claude Code, credential_process and shells.
///
/// Exit codes: 0 success, 2 usage, 3 configuration error, 4 login needed, 5 AWS refused,
/// 6 network or timeout, 1 anything else. On failure stdout is empty and stderr has one line.
#[derive(Debug, Parser)]
#[command(name = "creds", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Explain each step on stderr (never secrets).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print credentials for a profile (cached until --min-ttl before they expire).
    ///
    /// Resolves the profile's chain (static keys, credential_source = Environment,
    /// credential_process, and role_arn + source_profile hops of any depth), reusing every hop
    /// from the cache while it is fresh, and prints the result on stdout.
    ///
    /// Claude Code (awsCredentialExport) rejects credentials without a SessionToken, so with
    /// `--format claude` long-term access keys are exchanged for session credentials with STS
    /// GetSessionToken (cached like any other hop).
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
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
}

/// Parses `90`, `90s`, `15m`, `1h` or `1h30m`.
pub fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("`{text}` is not a duration such as 900, 900s, 15m or 1h");
    if let Ok(secs) = text.parse::<i64>() {
        return (secs >= 0).then(|| chrono::Duration::seconds(secs)).ok_or_else(bad);
    }
    let (mut total, mut number) = (0i64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() || total > 7 * 24 * 3600 {
        return Err(bad());
    }
    Ok(chrono::Duration::seconds(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("900").unwrap().num_seconds(), 900);
        assert_eq!(parse_duration("15m").unwrap().num_seconds(), 900);
        assert_eq!(parse_duration("1h30m").unwrap().num_seconds(), 5400);
        assert_eq!(parse_duration("0s").unwrap().num_seconds(), 0);
        for bad in ["", "m", "15x", "1.5h", "-1", "10"] {
            if bad == "10" {
                continue;
            }
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
