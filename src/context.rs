//! The seams between `creds` and the outside world.
//!
//! Everything that is not pure (the environment, the clock, spawned processes, STS) is reached
//! through a [`Context`]. `main` builds the one real context with [`Context::from_process`];
//! tests build their own with fakes, so no test needs real AWS or real time.

use crate::source::sts::{AwsSts, Sts};
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A snapshot of the environment variables `creds` reads, taken once at start-up.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: Vec<(String, String)>,
}

/// Every variable `creds` reads. The snapshot looks up only these (copying the whole
/// environment costs more than the rest of a cache hit).
pub const VARIABLES: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_CONNECTION",
    "SSH_TTY",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "CREDS_CACHE",
    "CREDS_CACHE_DIR",
    "_CREDS_PROFILE_CHAIN",
    "_CREDS_TEST_NOW",
    "HOME",
    "USERPROFILE",
    "HOMEDRIVE",
    "HOMEPATH",
    "XDG_CACHE_HOME",
    "LOCALAPPDATA",
];

impl Env {
    #[allow(clippy::disallowed_methods)] // the one place that reads the process environment
    pub fn from_process() -> Self {
        Env {
            vars: VARIABLES
                .iter()
                .filter_map(|name| {
                    Some((
                        name.to_string(),
                        std::env::var_os(name)?.into_string().ok()?,
                    ))
                })
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The variable's value; an empty value counts as unset, as in the AWS SDKs.
    pub fn get(&self, name: &str) -> Option<&str> {
        debug_assert!(
            VARIABLES.contains(&name),
            "{name} must be listed in context::VARIABLES"
        );
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The user's home directory: `HOME`, else `USERPROFILE`, else `HOMEDRIVE` + `HOMEPATH`
    /// (the order of the AWS SDKs' shared-config location rules).
    pub fn home(&self) -> Option<String> {
        if let Some(home) = self.get("HOME").or_else(|| self.get("USERPROFILE")) {
            return Some(home.to_string());
        }
        match (self.get("HOMEDRIVE"), self.get("HOMEPATH")) {
            (Some(drive), Some(path)) => Some(format!("{drive}{path}")),
            _ => None,
        }
    }
}

/// Where the time comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the system clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same time (tests, and the hidden `_CREDS_TEST_NOW` variable).
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A number that differs between processes and calls, for jitter and unique temporary names
/// (not for secrets, and not a clock).
#[allow(clippy::disallowed_methods)]
pub fn entropy() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// What a finished child process left behind.
pub struct ProcessOutput {
    /// The exit code, `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `credential_process` commands.
pub trait ProcessRunner: Send + Sync {
    /// Runs `command` through the platform shell with `extra_env` added to the environment,
    /// stdin closed, and stdout and stderr captured.
    fn run(&self, command: &str, extra_env: &[(String, String)]) -> io::Result<ProcessOutput>;
}

/// Runs commands with `sh -c` (or `cmd.exe /C` on Windows), as the Rust, Go and JavaScript SDKs do.
pub struct ShellRunner;

impl ProcessRunner for ShellRunner {
    fn run(&self, command: &str, extra_env: &[(String, String)]) -> io::Result<ProcessOutput> {
        let mut cmd = if cfg!(windows) {
            let mut c = Command::new("cmd.exe");
            c.arg("/C").arg(command);
            c
        } else {
            let mut c = Command::new("sh");
            c.arg("-c").arg(command);
            c
        };
        cmd.envs(extra_env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = cmd.output()?;
        Ok(ProcessOutput {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// Opens a URL for the user to sign in.
pub trait Browser: Send + Sync {
    /// Whether a browser can be opened here at all.
    fn available(&self) -> bool;
    /// Starts the browser on `url` without waiting for it.
    fn open(&self, url: &str) -> io::Result<()>;
}

/// `$BROWSER URL` when `BROWSER` is set; else `xdg-open` (Linux, with a display and not over
/// SSH), `open` (macOS) or `start` (Windows).
pub struct SystemBrowser {
    pub command: Option<String>,
    pub display: bool,
}

impl SystemBrowser {
    pub fn from_env(env: &Env) -> Self {
        let ssh = env.get("SSH_CONNECTION").is_some() || env.get("SSH_TTY").is_some();
        let display = if cfg!(target_os = "linux") {
            (env.get("DISPLAY").is_some() || env.get("WAYLAND_DISPLAY").is_some()) && !ssh
        } else {
            !ssh
        };
        SystemBrowser {
            command: env.get("BROWSER").map(str::to_string),
            display,
        }
    }
}

impl Browser for SystemBrowser {
    fn available(&self) -> bool {
        self.command.is_some() || self.display
    }

    fn open(&self, url: &str) -> io::Result<()> {
        let mut cmd = match &self.command {
            Some(command) => {
                let mut parts = command.split_whitespace();
                let mut c = Command::new(parts.next().unwrap_or("xdg-open"));
                c.args(parts);
                c
            }
            None if cfg!(target_os = "macos") => Command::new("open"),
            None if cfg!(windows) => {
                let mut c = Command::new("cmd.exe");
                c.args(["/C", "start", ""]);
                c
            }
            None => Command::new("xdg-open"),
        };
        let mut child = cmd
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Reap it in the background; a browser may outlive this process.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// Everything a command needs from the outside world.
pub struct Context {
    pub env: Env,
    pub clock: Box<dyn Clock>,
    pub processes: Box<dyn ProcessRunner>,
    pub sts: Box<dyn Sts>,
    pub sso: Box<dyn crate::sso::api::SsoApi>,
    pub browser: Box<dyn Browser>,
    /// The absolute path of this program (looked up when first needed, by `setup`).
    exe: std::sync::OnceLock<PathBuf>,
}

impl Context {
    /// The real world. Cheap: nothing is initialised until it is used, so the cache-hit path
    /// builds no runtime and no SDK client.
    pub fn from_process() -> Self {
        let env = Env::from_process();
        let clock: Box<dyn Clock> =
            match env.get("_CREDS_TEST_NOW").map(DateTime::parse_from_rfc3339) {
                Some(Ok(t)) => Box::new(FixedClock(t.with_timezone(&Utc))),
                _ => Box::new(SystemClock),
            };
        let browser = Box::new(SystemBrowser::from_env(&env));
        Context {
            env,
            clock,
            processes: Box::new(ShellRunner),
            sts: Box::new(AwsSts),
            sso: Box::new(crate::sso::api::AwsSso),
            browser,
            exe: std::sync::OnceLock::new(),
        }
    }

    /// The absolute path of this program, for the commands `setup` writes.
    pub fn exe(&self) -> &std::path::Path {
        self.exe
            .get_or_init(|| std::env::current_exe().unwrap_or_else(|_| PathBuf::from("creds")))
    }

    /// The user cache directory for `creds`: `CREDS_CACHE_DIR`, else `XDG_CACHE_HOME/creds`,
    /// else `~/Library/Caches/creds` on macOS, `%LOCALAPPDATA%\creds` on Windows, and
    /// `~/.cache/creds` elsewhere.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.env.get("CREDS_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = self.env.get("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("creds"));
        }
        if cfg!(windows) {
            if let Some(dir) = self.env.get("LOCALAPPDATA") {
                return Some(PathBuf::from(dir).join("creds"));
            }
        }
        let home = PathBuf::from(self.env.home()?);
        Some(if cfg!(target_os = "macos") {
            home.join("Library").join("Caches").join("creds")
        } else {
            home.join(".cache").join("creds")
        })
    }
}
