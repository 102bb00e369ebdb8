//! Every precedence rule of `creds`, resolved once per run into one [`Settings`] value that
//! remembers where each value came from (its [`Origin`]), and which lower-ranked values it
//! shadows.
//!
//! | setting | order (first set wins) |
//! |---|---|
//! | profile | `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `default` |
//! | home directory | `HOME`, `USERPROFILE`, `HOMEDRIVE` + `HOMEPATH` |
//! | config file | `AWS_CONFIG_FILE` (a leading `~` expanded), `~/.aws/config` |
//! | credentials file | `AWS_SHARED_CREDENTIALS_FILE`, `~/.aws/credentials` |
//! | region | `--region` (setup), `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`; STS falls back to `us-east-1` |
//! | STS, SSO and SSO OIDC endpoints | `AWS_ENDPOINT_URL_STS` (`_SSO`, `_SSO_OIDC`), `AWS_ENDPOINT_URL`, the profile's `services` section (`sts = endpoint_url = ...`), the profile's `endpoint_url`, else the regional endpoint; all but the last are ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's `ignore_configured_endpoint_urls` is `true` |
//! | cache | `CREDS_CACHE`, the profile's `creds_cache` (`file`, the default, `keyring` or `none`) |
//! | cache directory | `CREDS_CACHE_DIR`, `XDG_CACHE_HOME/creds`, `~/Library/Caches/creds` (macOS), `%LOCALAPPDATA%\creds` (Windows), `~/.cache/creds` |
//! | recursion guard | `_CREDS_PROFILE_CHAIN` (the profiles being exported by the creds processes above) |
//! | CA bundle for AWS calls | `AWS_CA_BUNDLE`, the profile's `ca_bundle` (a leading `~` expanded); its certificates replace the system's, as in the AWS CLI |
//! | EC2 instance metadata endpoint | `AWS_EC2_METADATA_SERVICE_ENDPOINT`, the profile's `ec2_metadata_service_endpoint`, else by mode (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`, the profile's `ec2_metadata_service_endpoint_mode`): `IPv4` `http://169.254.169.254` (the default), `IPv6` `http://[fd00:ec2::254]`; none when `AWS_EC2_METADATA_DISABLED` is `true` |
//! | container credentials endpoint | `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, else `AWS_CONTAINER_CREDENTIALS_FULL_URI`; its token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else `AWS_CONTAINER_AUTHORIZATION_TOKEN` |
//! | `aws login` sessions | `AWS_LOGIN_CACHE_DIRECTORY`, `~/.aws/login/cache` |
//! | MFA session length | `CREDS_MFA_SESSION_DURATION`, the profile's `mfa_session_duration` (`43200`, `12h`, `90m`; 15 minutes to 36 hours), else 12 hours |
//! | refresh-ahead window | `CREDS_REFRESH_AHEAD`, the profile's `creds_refresh_ahead` (`10m`, `0` or `off` to turn it off), else 10 minutes |
//! | `credential_process` time limit | `CREDS_PROCESS_TIMEOUT` (`90`, `90s`, `2m`), else 40 s (under the 45 s another caller waits for the hop's lock) |
//!
//! [`Settings::load`] reads the two AWS files (the only input it reads that is not a value
//! handed to it) and resolves everything else from them and the environment snapshot.

use crate::aws::metadata::Container;
use crate::aws::sso::Endpoints;
use crate::aws::sts::StsTarget;
use crate::cache::Mode;
use crate::config::{parse::sub_properties, ProfileSet, Section};
use crate::context::Env;
use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, e.g. `--profile`.
    Flag(&'static str),
    /// An environment variable, e.g. `AWS_REGION`.
    Env(&'static str),
    /// A line of a config file: `FILE:LINE`, or `[services NAME] at FILE:LINE`.
    File(String),
    /// Nothing set it.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "{name}"),
            Origin::Env(name) => write!(f, "{name}"),
            Origin::File(place) => write!(f, "{place}"),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }
}

/// The web identity the SDKs read from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and
/// `AWS_ROLE_SESSION_NAME`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvWebIdentity {
    pub token_file: Option<String>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
}

impl EnvWebIdentity {
    pub fn from_env(env: &Env) -> EnvWebIdentity {
        let get = |var: &str| env.get(var).filter(|v| !v.is_empty()).map(str::to_string);
        EnvWebIdentity {
            token_file: get("AWS_WEB_IDENTITY_TOKEN_FILE"),
            role_arn: get("AWS_ROLE_ARN"),
            session_name: get("AWS_ROLE_SESSION_NAME"),
        }
    }
}

/// A proxy of the environment, for the calls of one scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `https`, `http`, or `any`.
    pub scheme: &'static str,
    /// The URL with any password hidden.
    pub shown: String,
    pub origin: Origin,
}

/// The proxies as the HTTP client picks them: per scheme, the first variable of
/// `crate::aws::proxy::VARIABLES` that is set (upper case first), and `NO_PROXY`.
pub fn proxies(env: &Env) -> (Vec<Proxy>, Option<Sourced<String>>) {
    let find = |names: &[&'static str]| {
        names
            .iter()
            .find_map(|n| env.get(n).filter(|v| !v.is_empty()).map(|v| (*n, v)))
    };
    let proxies = crate::aws::proxy::VARIABLES
        .iter()
        .filter_map(|(scheme, names)| {
            let (name, url) = find(names)?;
            Some(Proxy {
                scheme,
                shown: crate::aws::proxy::shown(url),
                origin: Origin::Env(name),
            })
        })
        .collect();
    let no_proxy = find(crate::aws::proxy::NO_PROXY)
        .map(|(name, rules)| Sourced::new(rules.to_string(), Origin::Env(name)));
    (proxies, no_proxy)
}

/// `CREDS_KEYRING_TIMEOUT` (`2`, `2s` or `500ms`, at most a minute), else
/// `crate::keyring::DEFAULT_TIMEOUT`. A value that cannot be read is ignored.
pub fn keyring_timeout(env: &Env) -> Sourced<std::time::Duration> {
    use std::time::Duration;
    let parse = |t: &str| -> Option<Duration> {
        let t = t.trim();
        if let Some(ms) = t.strip_suffix("ms") {
            return ms.parse().ok().map(Duration::from_millis);
        }
        t.strip_suffix('s')
            .unwrap_or(t)
            .parse()
            .ok()
            .map(Duration::from_secs)
    };
    env.get("CREDS_KEYRING_TIMEOUT")
        .and_then(parse)
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(60))
        .map(|d| Sourced::new(d, Origin::Env("CREDS_KEYRING_TIMEOUT")))
        .unwrap_or(Sourced::new(
            crate::keyring::DEFAULT_TIMEOUT,
            Origin::Default,
        ))
}

/// The cache mode over all profiles: whether any cache entries may be in the OS keyring.
/// `CREDS_CACHE`, when set, decides for every profile; otherwise any profile with
/// `creds_cache = keyring` does. A config that cannot be read counts as no such profile.
pub fn keyring_cache_in_use(env: &Env) -> bool {
    match cache_mode(env, None) {
        Ok(mode) if mode.origin != Origin::Default => return mode.value == Mode::Keyring,
        Ok(_) => {}
        Err(_) => return false,
    }
    let Ok(files) = locate(env, Platform::current()) else {
        return false;
    };
    let Ok(set) = ProfileSet::load(&files.config.value, &files.credentials.value) else {
        return false;
    };
    set.profile_names().into_iter().any(|name| {
        set.profile(name)
            .and_then(|section| section.get("creds_cache"))
            .is_some_and(|v| v.eq_ignore_ascii_case("keyring"))
    })
}

/// A value that is set but loses to a higher-ranked one (for `doctor` and `-v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    /// The setting, e.g. `region`.
    pub setting: &'static str,
    pub value: String,
    pub origin: Origin,
    /// The origin of the value that wins.
    pub by: Origin,
}

/// What the command line contributes to the settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags<'a> {
    pub profile: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// The AWS config and credentials files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub config: Sourced<String>,
    pub credentials: Sourced<String>,
}

/// Everything precedence decides, for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub profile: Sourced<String>,
    pub home: Option<Sourced<PathBuf>>,
    pub files: Files,
    /// The region the selected profile is used in, if anything names one.
    pub region: Option<Sourced<String>>,
    /// The region written down for later runs: `--region`, else the profile's own (the
    /// environment of this shell does not carry over to them; see [`Settings::saved_region`]).
    pub profile_region: Option<Sourced<String>>,
    pub sts: StsTarget,
    /// FIPS and dual-stack endpoints, and where each setting came from.
    pub fips: Option<Sourced<bool>>,
    pub dual_stack: Option<Sourced<bool>>,
    pub sts_endpoint: Option<Sourced<String>>,
    pub sso_endpoint: Option<Sourced<String>>,
    pub sso_oidc_endpoint: Option<Sourced<String>>,
    pub cache_mode: Sourced<Mode>,
    /// Where creds keeps its cache and its locks (also when caching is off, for the locks).
    pub cache_dir: Option<Sourced<PathBuf>>,
    /// The profiles being exported by the creds processes above this one.
    pub guard: Vec<String>,
    /// The profile to name in `creds login --profile ...` hints: the selected one.
    pub login_profile: String,
    /// How long a `credential_process` may run.
    pub process_timeout: Sourced<std::time::Duration>,
    /// The PEM file of the certificates to trust for AWS calls, if one is named.
    pub ca_bundle: Option<Sourced<PathBuf>>,
    /// The EC2 instance metadata service's endpoint, or why it cannot be used.
    pub imds: std::result::Result<Sourced<String>, String>,
    /// The container credentials endpoint, or why there is none.
    pub container: std::result::Result<Container, String>,
    /// Where the AWS CLI keeps `aws login` sessions.
    pub login_cache: Option<Sourced<PathBuf>>,
    /// How long an MFA session (GetSessionToken with a code) is asked to last, in seconds.
    pub mfa_session: Sourced<u32>,
    /// The refresh-ahead window after `--min-ttl`; `None` when it is off.
    pub refresh_ahead: Sourced<Option<chrono::Duration>>,
    /// The longest a Bedrock token lasts (`CREDS_BEDROCK_TOKEN_LIFETIME`, the profile's
    /// `creds_bedrock_token_lifetime`, else 12 hours).
    pub bedrock_token_lifetime: Sourced<chrono::Duration>,
    /// The agent whose shell creds runs in (`crate::agent`), if any.
    pub agent: Option<crate::agent::Agent>,
    /// `CREDS_ALLOW_AGENT_LOGIN`: an agent's shell may start a sign-in.
    pub allow_agent_login: bool,
    /// `CREDS_MFA_PROMPT`: the desktop dialog that asks for MFA codes.
    pub mfa_prompt: Option<Sourced<String>>,
    /// `CREDS_KEYRING_TIMEOUT`: how long one keyring operation may take.
    pub keyring_timeout: Sourced<std::time::Duration>,
    /// The environment's web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`,
    /// `AWS_ROLE_SESSION_NAME`), which serves a profile that gives no credentials.
    pub env_web_identity: EnvWebIdentity,
    /// The proxies the HTTP client uses, in its order (passwords hidden), and `NO_PROXY`.
    pub proxies: Vec<Proxy>,
    pub no_proxy: Option<Sourced<String>>,
    pub shadowed: Vec<Shadowed>,
}

/// How long a `credential_process` may run when `CREDS_PROCESS_TIMEOUT` does not say.
pub const DEFAULT_PROCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(40);

/// STS's region when nothing names one (what the JavaScript SDK and the CLI fall back to).
pub const DEFAULT_STS_REGION: &str = "us-east-1";

/// The variable that carries the profiles being exported by the `creds` processes above.
pub const GUARD_VAR: &str = "_CREDS_PROFILE_CHAIN";

pub use crate::platform::Platform;

/// The selected profile: `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `default`.
pub fn select_profile(flag: Option<&str>, env: &Env) -> Sourced<String> {
    let (value, origin) = if let Some(p) = flag.filter(|p| !p.is_empty()) {
        (p, Origin::Flag("--profile"))
    } else if let Some(p) = env.get("AWS_PROFILE") {
        (p, Origin::Env("AWS_PROFILE"))
    } else if let Some(p) = env.get("AWS_DEFAULT_PROFILE") {
        (p, Origin::Env("AWS_DEFAULT_PROFILE"))
    } else {
        ("default", Origin::Default)
    };
    Sourced::new(value.to_string(), origin)
}

/// The home directory: `HOME`, else `USERPROFILE`, else `HOMEDRIVE` + `HOMEPATH`, on every
/// platform (the AWS SDKs' shared-config rule, pinned by the cross-SDK file-location tests:
/// `HOME` first on Windows too). The AWS CLI on Windows reads `USERPROFILE` alone; the two
/// differ only where a Unix-like shell sets `HOME` to another folder.
pub fn home(env: &Env) -> Option<Sourced<String>> {
    for name in ["HOME", "USERPROFILE"] {
        if let Some(home) = env.get(name) {
            return Some(Sourced::new(home.to_string(), Origin::Env(name)));
        }
    }
    match (env.get("HOMEDRIVE"), env.get("HOMEPATH")) {
        (Some(drive), Some(path)) => Some(Sourced::new(
            format!("{drive}{path}"),
            Origin::Env("HOMEPATH"),
        )),
        _ => None,
    }
}

fn need_home(env: &Env) -> Result<String> {
    home(env).map(|h| h.value).ok_or_else(|| Error::config("cannot find the home directory: set HOME, or set AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"))
}

/// Expands a leading `~` (only as the whole first path component).
fn expand(path: &str, env: &Env, platform: Platform) -> Result<String> {
    let sep = platform.path_separator();
    let rest = match path.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') || rest.starts_with(sep) => rest,
        _ => return Ok(path.to_string()),
    };
    Ok(format!("{}{rest}", need_home(env)?))
}

/// Where the config and credentials files are.
pub fn locate(env: &Env, platform: Platform) -> Result<Files> {
    let sep = platform.path_separator();
    let file = |var: &'static str, name: &str| -> Result<Sourced<String>> {
        Ok(match env.get(var) {
            Some(p) => Sourced::new(expand(p, env, platform)?, Origin::Env(var)),
            None => Sourced::new(
                format!("{}{sep}.aws{sep}{name}", need_home(env)?),
                Origin::Default,
            ),
        })
    };
    Ok(Files {
        config: file("AWS_CONFIG_FILE", "config")?,
        credentials: file("AWS_SHARED_CREDENTIALS_FILE", "credentials")?,
    })
}

/// The CA bundle for AWS calls: `AWS_CA_BUNDLE`, else the profile's `ca_bundle` (the AWS
/// CLI's order; an empty value counts as unset), with a leading `~` expanded.
pub fn ca_bundle(env: &Env, section: Option<&Section>) -> Result<Option<Sourced<PathBuf>>> {
    let Some(path) = env_or_profile(env, section, "AWS_CA_BUNDLE", "ca_bundle") else {
        return Ok(None);
    };
    Ok(Some(Sourced::new(
        expand(&path.value, env, Platform::current())?.into(),
        path.origin,
    )))
}

/// Every setting a variable can set over the profile's key: the one list [`env_or_profile`]
/// reads through and [`shadows`] reports from.
pub const LAYERED: &[(&str, &str)] = &[
    ("AWS_CA_BUNDLE", "ca_bundle"),
    (
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "ec2_metadata_service_endpoint",
    ),
    (
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "ec2_metadata_service_endpoint_mode",
    ),
    ("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
    ("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"),
    ("CREDS_CACHE", "creds_cache"),
    ("CREDS_REFRESH_AHEAD", "creds_refresh_ahead"),
    ("CREDS_MFA_SESSION_DURATION", "mfa_session_duration"),
    (
        "CREDS_BEDROCK_TOKEN_LIFETIME",
        "creds_bedrock_token_lifetime",
    ),
];

/// The values the environment hides: a profile key of [`LAYERED`] that a variable overrides
/// with another value, and `AWS_DEFAULT_PROFILE` when `--profile` or `AWS_PROFILE` chose
/// another profile (the region's layers are [`Settings::resolve`]'s).
pub fn shadows(env: &Env, section: Option<&Section>, profile: &Sourced<String>) -> Vec<Shadowed> {
    let mut out = Vec::new();
    for (var, key) in LAYERED {
        let (Some(value), Some(prop)) = (
            env.get(var).filter(|v| !v.is_empty()),
            section
                .and_then(|s| s.property(key))
                .filter(|p| !p.value.is_empty()),
        ) else {
            continue;
        };
        if prop.value != value {
            out.push(Shadowed {
                setting: key,
                value: prop.value.clone(),
                origin: Origin::File(prop.origin()),
                by: Origin::Env(var),
            });
        }
    }
    let default = env.get("AWS_DEFAULT_PROFILE").filter(|p| !p.is_empty());
    if let Some(default) = default.filter(|d| *d != profile.value) {
        if profile.origin != Origin::Env("AWS_DEFAULT_PROFILE") {
            out.push(Shadowed {
                setting: "profile",
                value: default.to_string(),
                origin: Origin::Env("AWS_DEFAULT_PROFILE"),
                by: profile.origin.clone(),
            });
        }
    }
    out
}

/// A setting read from the variable `var`, else from the profile's `key` (an empty value
/// counts as unset), with where it came from. Every pair is in [`LAYERED`].
fn env_or_profile(
    env: &Env,
    section: Option<&Section>,
    var: &'static str,
    key: &str,
) -> Option<Sourced<String>> {
    debug_assert!(
        LAYERED.contains(&(var, key)),
        "{var} / {key} must be listed in settings::LAYERED"
    );
    if let Some(value) = env.get(var).filter(|v| !v.is_empty()) {
        return Some(Sourced::new(value.to_string(), Origin::Env(var)));
    }
    let prop = section?.property(key).filter(|p| !p.value.is_empty())?;
    Some(Sourced::new(
        prop.value.clone(),
        Origin::File(prop.origin()),
    ))
}

/// The instance metadata endpoint in the SDKs' order (see the table above); `Err` says why
/// there is none (the SDKs fail the same way, and only when the service is used).
pub fn imds_endpoint(
    env: &Env,
    section: Option<&Section>,
) -> std::result::Result<Sourced<String>, String> {
    const DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
    if env
        .get(DISABLED)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Err(format!(
            "the instance metadata service is turned off by {DISABLED}=true; unset it to use it"
        ));
    }
    let setting = |var, key| env_or_profile(env, section, var, key);
    if let Some(url) = setting(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "ec2_metadata_service_endpoint",
    ) {
        return check_url(&url.value, url.origin).map_err(|e| e.line());
    }
    match setting(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "ec2_metadata_service_endpoint_mode",
    ) {
        None => Ok(Sourced::new("http://169.254.169.254".into(), Origin::Default)),
        Some(mode) if mode.value.eq_ignore_ascii_case("ipv4") => Ok(Sourced::new("http://169.254.169.254".into(), mode.origin)),
        Some(mode) if mode.value.eq_ignore_ascii_case("ipv6") => Ok(Sourced::new("http://[fd00:ec2::254]".into(), mode.origin)),
        Some(mode) => Err(format!(
            "the instance metadata endpoint mode `{}` from {} is not valid: it must be IPv4 or IPv6",
            mode.value, mode.origin
        )),
    }
}

/// Where the AWS CLI keeps `aws login` sessions: `AWS_LOGIN_CACHE_DIRECTORY` (taken as it is,
/// like aws-config), else `~/.aws/login/cache`.
pub fn login_cache(env: &Env) -> Option<Sourced<PathBuf>> {
    const VAR: &str = "AWS_LOGIN_CACHE_DIRECTORY";
    if let Some(dir) = env.get(VAR).filter(|d| !d.is_empty()) {
        return Some(Sourced::new(dir.into(), Origin::Env(VAR)));
    }
    let home = home(env)?;
    Some(Sourced::new(
        PathBuf::from(home.value)
            .join(".aws")
            .join("login")
            .join("cache"),
        home.origin,
    ))
}

/// The container credentials endpoint, as the SDKs find it (see the table above); `Err` says
/// why there is none.
pub fn container(env: &Env) -> std::result::Result<Container, String> {
    const RELATIVE: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    const FULL: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    let get = |var: &str| env.get(var).filter(|v| !v.is_empty());
    let (uri, uri_from) = match (get(RELATIVE), get(FULL)) {
        (Some(relative), _) if relative.starts_with('/') => {
            (format!("http://169.254.170.2{relative}"), RELATIVE)
        }
        (Some(relative), _) => {
            return Err(format!(
                "{RELATIVE} `{relative}` is not valid: it must be a path starting with /"
            ))
        }
        (None, Some(full)) => {
            let url = check_url(full, Origin::Env(FULL)).map_err(|e| e.line())?;
            (url.value, FULL)
        }
        (None, None) => {
            return Err(format!("neither {RELATIVE} nor {FULL} is set: ECS, EKS Pod Identity and similar runtimes set one inside the container"))
        }
    };
    let token_file = get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map(str::to_string);
    Ok(Container {
        uri,
        uri_from,
        token: token_file.is_some() || get("AWS_CONTAINER_AUTHORIZATION_TOKEN").is_some(),
        token_file,
    })
}

/// The cache directory: `CREDS_CACHE_DIR`, else `XDG_CACHE_HOME/creds`, else
/// `~/Library/Caches/creds` on macOS, `%LOCALAPPDATA%\creds` on Windows, `~/.cache/creds`.
pub fn cache_dir(env: &Env) -> Option<Sourced<PathBuf>> {
    cache_dir_on(crate::platform::Platform::current(), env)
}

/// [`cache_dir`] on `platform`.
pub fn cache_dir_on(platform: crate::platform::Platform, env: &Env) -> Option<Sourced<PathBuf>> {
    use crate::platform::Platform;
    if let Some(dir) = env.get("CREDS_CACHE_DIR") {
        return Some(Sourced::new(dir.into(), Origin::Env("CREDS_CACHE_DIR")));
    }
    if let Some(dir) = env.get("XDG_CACHE_HOME") {
        return Some(Sourced::new(
            PathBuf::from(dir).join("creds"),
            Origin::Env("XDG_CACHE_HOME"),
        ));
    }
    if platform == Platform::Windows {
        if let Some(dir) = env.get("LOCALAPPDATA") {
            return Some(Sourced::new(
                PathBuf::from(dir).join("creds"),
                Origin::Env("LOCALAPPDATA"),
            ));
        }
    }
    let home = PathBuf::from(home(env)?.value);
    let dir = if platform == Platform::MacOs {
        home.join("Library").join("Caches").join("creds")
    } else {
        home.join(".cache").join("creds")
    };
    Some(Sourced::new(dir, Origin::Default))
}

/// A true-or-false setting the SDKs read from `var`, else the profile's `key` (`true` or
/// `false`, in any case); anything else is exit 3 naming where it came from.
pub fn flag(
    env: &Env,
    section: Option<&Section>,
    var: &'static str,
    key: &str,
) -> Result<Option<Sourced<bool>>> {
    let Some(raw) = env_or_profile(env, section, var, key) else {
        return Ok(None);
    };
    let value = match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(Error::config(format!(
                "{} is `{other}` ({}); use true or false",
                key, raw.origin
            )))
        }
    };
    Ok(Some(Sourced::new(value, raw.origin)))
}

/// `CREDS_CACHE`: `file` (the default) or `none`.
pub fn cache_mode(env: &Env, section: Option<&Section>) -> Result<Sourced<Mode>> {
    let Some(Sourced { value, origin }) =
        env_or_profile(env, section, "CREDS_CACHE", "creds_cache")
    else {
        return Ok(Sourced::new(Mode::File, Origin::Default));
    };
    match value.to_ascii_lowercase().as_str() {
        "file" => Ok(Sourced::new(Mode::File, origin)),
        "keyring" => Ok(Sourced::new(Mode::Keyring, origin)),
        "none" | "off" => Ok(Sourced::new(Mode::None, origin)),
        other => Err(Error::config(format!("the cache `{other}` from {origin} is not valid; use `file` (the default), `keyring` or `none`"))),
    }
}

/// `CREDS_PROCESS_TIMEOUT`, else [`DEFAULT_PROCESS_TIMEOUT`].
pub fn process_timeout(env: &Env) -> Result<Sourced<std::time::Duration>> {
    let Some(text) = env.get("CREDS_PROCESS_TIMEOUT") else {
        return Ok(Sourced::new(DEFAULT_PROCESS_TIMEOUT, Origin::Default));
    };
    match parse_duration(text) {
        Ok(d) if d > chrono::Duration::zero() => Ok(Sourced::new(
            d.to_std().unwrap_or(DEFAULT_PROCESS_TIMEOUT),
            Origin::Env("CREDS_PROCESS_TIMEOUT"),
        )),
        _ => Err(Error::config(format!(
            "CREDS_PROCESS_TIMEOUT=`{text}` is not a duration such as 40s or 2m; fix or unset it"
        ))),
    }
}

/// Parses `90`, `90s`, `15m`, `1h` or `1h30m`: at most a week.
/// The refresh-ahead window when nothing says.
pub const DEFAULT_REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(10);

/// The refresh-ahead window: `CREDS_REFRESH_AHEAD`, the profile's `creds_refresh_ahead`, else
/// 10 minutes; `off`, `none`, `false` or `0` turn it off.
pub fn refresh_ahead(
    env: &Env,
    section: Option<&Section>,
) -> Result<Sourced<Option<chrono::Duration>>> {
    let Some(Sourced { value, origin }) =
        env_or_profile(env, section, "CREDS_REFRESH_AHEAD", "creds_refresh_ahead")
    else {
        return Ok(Sourced::new(Some(DEFAULT_REFRESH_AHEAD), Origin::Default));
    };
    let text = value.to_ascii_lowercase();
    if matches!(text.as_str(), "off" | "none" | "false" | "no") {
        return Ok(Sourced::new(None, origin));
    }
    match parse_duration(&text) {
        Ok(d) if d.is_zero() => Ok(Sourced::new(None, origin)),
        Ok(d) if d <= chrono::Duration::hours(12) => Ok(Sourced::new(Some(d), origin)),
        _ => Err(Error::config(format!("the refresh-ahead window `{text}` from {origin} is not valid: use a duration up to 12h such as 10m, or off"))),
    }
}

/// The longest a Bedrock token lasts: `CREDS_BEDROCK_TOKEN_LIFETIME`, the profile's
/// `creds_bedrock_token_lifetime`, else Bedrock's limit of 12 hours; from 1 minute to 12 hours.
pub fn bedrock_token_lifetime(
    env: &Env,
    section: Option<&Section>,
) -> Result<Sourced<chrono::Duration>> {
    let Some(Sourced {
        value: text,
        origin,
    }) = env_or_profile(
        env,
        section,
        "CREDS_BEDROCK_TOKEN_LIFETIME",
        "creds_bedrock_token_lifetime",
    )
    else {
        return Ok(Sourced::new(crate::bedrock::MAX_LIFETIME, Origin::Default));
    };
    match parse_duration(&text) {
        Ok(d) if d >= chrono::Duration::minutes(1) && d <= crate::bedrock::MAX_LIFETIME => {
            Ok(Sourced::new(d, origin))
        }
        _ => Err(Error::config(format!(
            "the Bedrock token lifetime `{text}` from {origin} is not valid"
        ))
        .with_hint("use a duration from 1m to 12h, such as 8h")),
    }
}

/// How long an MFA session lasts when nothing says (GetSessionToken's 12 hours).
pub const DEFAULT_MFA_SESSION: u32 = 12 * 3600;

/// The MFA session length: `CREDS_MFA_SESSION_DURATION`, the profile's
/// `mfa_session_duration`, else 12 hours; GetSessionToken takes 15 minutes to 36 hours.
pub fn mfa_session(env: &Env, section: Option<&Section>) -> Result<Sourced<u32>> {
    let Some(Sourced {
        value: text,
        origin,
    }) = env_or_profile(
        env,
        section,
        "CREDS_MFA_SESSION_DURATION",
        "mfa_session_duration",
    )
    else {
        return Ok(Sourced::new(DEFAULT_MFA_SESSION, Origin::Default));
    };
    match parse_duration(&text).map(|d| d.num_seconds()) {
        Ok(secs @ 900..=129_600) => Ok(Sourced::new(u32::try_from(secs).unwrap_or(DEFAULT_MFA_SESSION), origin)),
        _ => Err(Error::config(format!("the MFA session length `{text}` from {origin} is not valid: it must be from 15m to 36h (900 to 129600 seconds)"))),
    }
}

pub fn parse_duration(text: &str) -> std::result::Result<chrono::Duration, String> {
    const WEEK: i64 = 7 * 24 * 3600;
    let bad = || format!("`{text}` is not a duration such as 900, 900s, 15m or 1h");
    if let Ok(secs) = text.parse::<i64>() {
        return (0..=WEEK)
            .contains(&secs)
            .then(|| chrono::Duration::seconds(secs))
            .ok_or_else(bad);
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
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() || total > WEEK {
        return Err(bad());
    }
    Ok(chrono::Duration::seconds(total))
}

/// `_CREDS_PROFILE_CHAIN`: the profiles being exported by the creds processes above.
pub fn guard(env: &Env) -> Vec<String> {
    env.get(GUARD_VAR)
        .map(|v| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Settings {
    /// Locates and reads the AWS files (every section), then resolves every setting for
    /// `flags`.
    pub fn load(flags: Flags<'_>, env: &Env) -> Result<(Settings, ProfileSet)> {
        let files = locate(env, Platform::current())?;
        let set = ProfileSet::load(&files.config.value, &files.credentials.value)?;
        let settings = Settings::resolve(flags, env, files, &set)?;
        Ok((settings, set))
    }

    /// As [`Settings::load`], reading only the sections the selected profile's chain uses
    /// (every line is still checked): what `export` needs, at a cost that grows gently with
    /// the size of the files.
    /// With `all_warnings`, the warnings about every section are collected too (for `-v`).
    pub fn load_for_profile(
        flags: Flags<'_>,
        env: &Env,
        all_warnings: bool,
    ) -> Result<(Settings, ProfileSet)> {
        let files = locate(env, Platform::current())?;
        let profile = select_profile(flags.profile, env);
        let set = ProfileSet::load_for(
            &files.config.value,
            &files.credentials.value,
            &profile.value,
            all_warnings,
        )?;
        let settings = Settings::resolve(flags, env, files, &set)?;
        Ok((settings, set))
    }

    /// Resolves every setting from values (no reads).
    pub fn resolve(flags: Flags<'_>, env: &Env, files: Files, set: &ProfileSet) -> Result<Self> {
        let profile = select_profile(flags.profile, env);
        let section = set.profile(&profile.value);
        let mut shadowed = Vec::new();

        // Region: every layer that is set, best first.
        let mut regions: Vec<Sourced<String>> = Vec::new();
        if let Some(r) = flags.region.filter(|r| !r.is_empty()) {
            regions.push(Sourced::new(r.to_string(), Origin::Flag("--region")));
        }
        for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let Some(r) = env.get(var) {
                regions.push(Sourced::new(r.to_string(), Origin::Env(var)));
            }
        }
        let from_profile = section.and_then(|p| {
            let prop = p.property("region").filter(|p| !p.value.is_empty())?;
            Some(Sourced::new(
                prop.value.clone(),
                Origin::File(prop.origin()),
            ))
        });
        regions.extend(from_profile.clone());
        let region = regions.first().cloned();
        if let Some(winner) = &region {
            for lower in regions.iter().skip(1).filter(|r| r.value != winner.value) {
                shadowed.push(Shadowed {
                    setting: "region",
                    value: lower.value.clone(),
                    origin: lower.origin.clone(),
                    by: winner.origin.clone(),
                });
            }
        }
        shadowed.extend(shadows(env, section, &profile));
        let profile_region = match flags.region.filter(|r| !r.is_empty()) {
            Some(r) => Some(Sourced::new(r.to_string(), Origin::Flag("--region"))),
            None => from_profile,
        };

        let sts_endpoint = endpoint(env, set, section, &STS)?;
        let ca_bundle = ca_bundle(env, section)?;
        let fips = flag(env, section, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint")?;
        let dual_stack = flag(
            env,
            section,
            "AWS_USE_DUALSTACK_ENDPOINT",
            "use_dualstack_endpoint",
        )?;
        let (proxies, no_proxy) = proxies(env);
        let variant = crate::aws::Variant {
            fips: fips.as_ref().is_some_and(|f| f.value),
            dual_stack: dual_stack.as_ref().is_some_and(|d| d.value),
        };
        Ok(Settings {
            fips,
            dual_stack,
            sts: StsTarget {
                variant,
                region: region
                    .as_ref()
                    .map_or(DEFAULT_STS_REGION.to_string(), |r| r.value.clone()),
                endpoint: sts_endpoint.as_ref().map(|e| e.value.clone()),
                ca_bundle: ca_bundle.as_ref().map(|c| c.value.clone()),
            },
            sts_endpoint,
            sso_endpoint: endpoint(env, set, section, &SSO)?,
            sso_oidc_endpoint: endpoint(env, set, section, &SSO_OIDC)?,
            region,
            profile_region,
            home: home(env).map(|h| Sourced::new(PathBuf::from(h.value), h.origin)),
            files,
            cache_mode: cache_mode(env, section)?,
            cache_dir: cache_dir(env),
            guard: guard(env),
            process_timeout: process_timeout(env)?,
            ca_bundle,
            imds: imds_endpoint(env, section),
            container: container(env),
            login_cache: login_cache(env),
            mfa_session: mfa_session(env, section)?,
            refresh_ahead: refresh_ahead(env, section)?,
            bedrock_token_lifetime: bedrock_token_lifetime(env, section)?,
            agent: crate::agent::Agent::detect(env),
            allow_agent_login: crate::agent::allowed(env),
            mfa_prompt: env
                .get("CREDS_MFA_PROMPT")
                .filter(|v| !v.is_empty())
                .map(|v| Sourced::new(v.to_string(), Origin::Env("CREDS_MFA_PROMPT"))),
            keyring_timeout: keyring_timeout(env),
            env_web_identity: EnvWebIdentity::from_env(env),
            proxies,
            no_proxy,
            login_profile: profile.value.clone(),
            profile,
            shadowed,
        })
    }

    /// The IAM Identity Center endpoint overrides.
    pub fn sso_endpoints(&self) -> Endpoints {
        Endpoints {
            variant: self.sts.variant,
            oidc: self.sso_oidc_endpoint.as_ref().map(|e| e.value.clone()),
            portal: self.sso_endpoint.as_ref().map(|e| e.value.clone()),
            ca_bundle: self.ca_bundle.as_ref().map(|c| c.value.clone()),
        }
    }

    /// The region to write into a file that later runs read (Claude Code's `env` block):
    /// `--region`, else the profile's `region`. The shell's `AWS_REGION` is left out because
    /// the written value replaces it in those runs; [`Settings::region`] is what this run uses.
    pub fn saved_region(&self) -> Option<&Sourced<String>> {
        self.profile_region.as_ref()
    }

    /// `~/.aws/sso/cache`, where the AWS CLI keeps SSO tokens and registrations (never moved by
    /// `AWS_CONFIG_FILE`).
    pub fn sso_cache_dir(&self) -> Result<PathBuf> {
        let home = self.home.as_ref().ok_or_else(|| {
            Error::config("cannot find the home directory for ~/.aws/sso/cache: set HOME")
        })?;
        Ok(home.value.join(".aws").join("sso").join("cache"))
    }

    /// The SSO token cache (`sso_cache_dir`), locked under creds' cache directory.
    pub fn sso_token_store(&self) -> Result<crate::sso::TokenStore> {
        Ok(crate::sso::TokenStore::new(
            &self.sso_cache_dir()?,
            self.cache_dir.as_ref().map(|d| d.value.as_path()),
        ))
    }

    /// The cache directory, when caching is on.
    pub fn cache_store_dir(&self) -> Option<&PathBuf> {
        match self.cache_mode.value {
            // The keyring cache keeps its locks and failures in the directory.
            Mode::File | Mode::Keyring => self.cache_dir.as_ref().map(|d| &d.value),
            Mode::None => None,
        }
    }
}

/// A service whose endpoint can be configured: its `AWS_ENDPOINT_URL_<ENV>` variable and its
/// key in a `[services]` section.
struct Service {
    var: &'static str,
    key: &'static str,
}

const STS: Service = Service {
    var: "AWS_ENDPOINT_URL_STS",
    key: "sts",
};
const SSO: Service = Service {
    var: "AWS_ENDPOINT_URL_SSO",
    key: "sso",
};
const SSO_OIDC: Service = Service {
    var: "AWS_ENDPOINT_URL_SSO_OIDC",
    key: "sso_oidc",
};

/// The configured endpoint of `service` for the profile, in the SDKs' order.
fn endpoint(
    env: &Env,
    set: &ProfileSet,
    profile: Option<&Section>,
    service: &Service,
) -> Result<Option<Sourced<String>>> {
    let get = |key: &str| profile.and_then(|p| p.get(key)).filter(|v| !v.is_empty());
    let ignore = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        || ignore(get("ignore_configured_endpoint_urls"))
    {
        return Ok(None);
    }
    for var in [service.var, "AWS_ENDPOINT_URL"] {
        if let Some(url) = env.get(var) {
            return Ok(Some(check_url(url, Origin::Env(var))?));
        }
    }
    let services = get("services").and_then(|name| set.services.get(name).map(|s| (name, s)));
    let from_services = services.and_then(|(name, s)| {
        let prop = s.property(service.key)?;
        let url = sub_properties(&prop.value)
            .into_iter()
            .find(|(k, _)| k == "endpoint_url")?
            .1;
        Some((
            url,
            Origin::File(format!("[services {name}] at {}", prop.origin())),
        ))
    });
    let from_profile = profile
        .and_then(|p| p.property("endpoint_url"))
        .map(|p| (p.value.clone(), Origin::File(p.origin())));
    match from_services.or(from_profile) {
        Some((url, origin)) => Ok(Some(check_url(&url, origin)?)),
        None => Ok(None),
    }
}

fn check_url(url: &str, origin: Origin) -> Result<Sourced<String>> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {
            Ok(Sourced::new(url.trim_end_matches('/').to_string(), origin))
        }
        _ => Err(Error::config(format!("endpoint URL `{url}` from {origin} is not valid: it must start with https:// or http:// and name a host"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str) -> ProfileSet {
        ProfileSet::from_texts("cfg", config, "creds", "").unwrap()
    }

    fn files() -> Files {
        locate(&Env::from_pairs([("HOME", "/h")]), Platform::Linux).unwrap()
    }

    fn resolve(env: &Env, set: &ProfileSet, profile: &str) -> Result<Settings> {
        let flags = Flags {
            profile: Some(profile),
            region: None,
        };
        Settings::resolve(flags, env, files(), set)
    }

    #[test]
    fn region_precedence_and_shadowing() {
        let s = set("[profile p]\nregion = eu-west-1\n");
        let r = resolve(&Env::default(), &s, "p").unwrap();
        assert_eq!(
            r.region,
            Some(Sourced::new(
                "eu-west-1".into(),
                Origin::File("cfg:2".into())
            ))
        );
        assert!(r.shadowed.is_empty());
        let r = resolve(
            &Env::from_pairs([("AWS_DEFAULT_REGION", "ap-south-1")]),
            &s,
            "p",
        )
        .unwrap();
        assert_eq!(r.region.unwrap().value, "ap-south-1");
        let both = Env::from_pairs([
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_REGION", "us-west-2"),
        ]);
        let r = resolve(&both, &s, "p").unwrap();
        assert_eq!(r.sts.region, "us-west-2");
        assert_eq!(r.region.as_ref().unwrap().origin, Origin::Env("AWS_REGION"));
        assert_eq!(
            r.shadowed
                .iter()
                .map(|s| (s.value.as_str(), s.origin.to_string()))
                .collect::<Vec<_>>(),
            [
                ("ap-south-1", "AWS_DEFAULT_REGION".to_string()),
                ("eu-west-1", "cfg:2".to_string())
            ]
        );
        // What is written for later runs is the profile's own region, or --region.
        assert_eq!(r.saved_region().unwrap().value, "eu-west-1");
        let flagged = Settings::resolve(
            Flags {
                profile: Some("p"),
                region: Some("ca-central-1"),
            },
            &both,
            files(),
            &s,
        )
        .unwrap();
        assert_eq!(flagged.region.as_ref().unwrap().value, "ca-central-1");
        assert_eq!(flagged.saved_region().unwrap().value, "ca-central-1");
        assert_eq!(
            resolve(&Env::default(), &set("[profile q]\n"), "q")
                .unwrap()
                .sts
                .region,
            "us-east-1"
        );
    }

    #[test]
    fn ca_bundle_precedence() {
        let s = set("[profile p]\nca_bundle = ~/corp.pem\n[profile q]\nca_bundle =\n");
        let home = Env::from_pairs([("HOME", "/h")]);
        let p = resolve(&home, &s, "p").unwrap();
        let expected = Some(PathBuf::from("/h/corp.pem"));
        assert_eq!(p.sts.ca_bundle, expected);
        assert_eq!(p.sso_endpoints().ca_bundle, expected);
        assert_eq!(p.ca_bundle.unwrap().origin.to_string(), "cfg:2");
        assert_eq!(
            resolve(&home, &s, "q").unwrap().ca_bundle,
            None,
            "empty is unset"
        );
        let env = Env::from_pairs([("HOME", "/h"), ("AWS_CA_BUNDLE", "/etc/ca.pem")]);
        let r = resolve(&env, &s, "p").unwrap();
        assert_eq!(r.sts.ca_bundle, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(r.ca_bundle.unwrap().origin, Origin::Env("AWS_CA_BUNDLE"));
        let empty = Env::from_pairs([("HOME", "/h"), ("AWS_CA_BUNDLE", "")]);
        assert_eq!(resolve(&empty, &s, "p").unwrap().sts.ca_bundle, expected);
    }

    #[test]
    fn endpoint_precedence() {
        let s = set("[profile p]\nendpoint_url = http://127.0.0.1:1\nservices = loc\n[services loc]\nsts =\n  endpoint_url = http://127.0.0.1:2/\n[profile q]\nendpoint_url = http://127.0.0.1:3\n");
        let p = resolve(&Env::default(), &s, "p").unwrap();
        assert_eq!(p.sts.endpoint.as_deref(), Some("http://127.0.0.1:2"));
        assert_eq!(
            p.sts_endpoint.unwrap().origin.to_string(),
            "[services loc] at cfg:5"
        );
        assert_eq!(
            resolve(&Env::default(), &s, "q")
                .unwrap()
                .sts
                .endpoint
                .as_deref(),
            Some("http://127.0.0.1:3")
        );
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4"),
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5"),
        ]);
        let r = resolve(&env, &s, "p").unwrap();
        assert_eq!(r.sts.endpoint.as_deref(), Some("http://127.0.0.1:5"));
        assert_eq!(
            r.sso_endpoints().portal.as_deref(),
            Some("http://127.0.0.1:4")
        );
        let ignore = Env::from_pairs([
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4"),
        ]);
        assert_eq!(resolve(&ignore, &s, "p").unwrap().sts.endpoint, None);
        let bad = resolve(
            &Env::default(),
            &set("[profile b]\nendpoint_url = localhost:1\n"),
            "b",
        )
        .unwrap_err();
        assert!(bad.line().contains("cfg:2"), "{}", bad.line());
    }

    #[test]
    fn profile_home_cache_and_guard() {
        let env = Env::from_pairs([("AWS_PROFILE", "p"), ("AWS_DEFAULT_PROFILE", "d")]);
        assert_eq!(
            select_profile(Some("f"), &env).origin,
            Origin::Flag("--profile")
        );
        assert_eq!(select_profile(None, &env).value, "p");
        assert_eq!(
            select_profile(None, &Env::from_pairs([("AWS_DEFAULT_PROFILE", "d")])).value,
            "d"
        );
        assert_eq!(
            select_profile(None, &Env::default()).origin,
            Origin::Default
        );
        let env = Env::from_pairs([("HOME", "/h"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(cache_dir(&env).unwrap().value, PathBuf::from("/x/creds"));
        let env = Env::from_pairs([("HOME", "/h"), ("CREDS_CACHE_DIR", "/c")]);
        assert_eq!(cache_dir(&env).unwrap().value, PathBuf::from("/c"));
        assert_eq!(
            cache_mode(&Env::from_pairs([("CREDS_CACHE", "None")]), None)
                .unwrap()
                .value,
            Mode::None
        );
        assert!(cache_mode(&Env::from_pairs([("CREDS_CACHE", "bogus")]), None).is_err());
        assert_eq!(
            guard(&Env::from_pairs([(GUARD_VAR, "a,,b")])),
            ["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn the_cache_directory_per_platform() {
        use crate::platform::Platform;
        let env = Env::from_pairs([
            ("HOME", "/h"),
            ("USERPROFILE", r"C:\Users\me"),
            ("LOCALAPPDATA", r"C:\Users\me\AppData\Local"),
        ]);
        let dir = |p| cache_dir_on(p, &env).unwrap().value;
        assert_eq!(dir(Platform::Linux), PathBuf::from("/h/.cache/creds"));
        assert_eq!(dir(Platform::OtherUnix), PathBuf::from("/h/.cache/creds"));
        assert_eq!(
            dir(Platform::MacOs),
            PathBuf::from("/h/Library/Caches/creds")
        );
        assert_eq!(
            dir(Platform::Windows),
            PathBuf::from(r"C:\Users\me\AppData\Local").join("creds")
        );
        let no_local = Env::from_pairs([("USERPROFILE", r"C:\Users\me")]);
        assert_eq!(
            cache_dir_on(Platform::Windows, &no_local).unwrap().value,
            PathBuf::from(r"C:\Users\me").join(".cache").join("creds")
        );
        // XDG_CACHE_HOME is honoured everywhere, as it is set on purpose.
        let xdg = Env::from_pairs([("XDG_CACHE_HOME", "/x"), ("LOCALAPPDATA", r"C:\l")]);
        assert_eq!(
            cache_dir_on(Platform::Windows, &xdg).unwrap().value,
            PathBuf::from("/x").join("creds")
        );
    }

    #[test]
    fn tilde_expansion_and_no_home() {
        let env = Env::from_pairs([
            ("HOME", "/h"),
            ("AWS_CONFIG_FILE", "~/cfg"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~x/c"),
        ]);
        let loc = locate(&env, Platform::Linux).unwrap();
        assert_eq!(loc.config.value, "/h/cfg");
        assert_eq!(loc.config.origin, Origin::Env("AWS_CONFIG_FILE"));
        assert_eq!(loc.credentials.value, "~x/c");
        assert_eq!(
            locate(&Env::default(), Platform::Linux).unwrap_err().kind,
            crate::error::Kind::Config
        );
    }
}
