//! The seams between `creds` and the outside world.
//!
//! Everything that is not pure enters through a [`Context`]: the environment ([`Env`], a
//! snapshot taken once), the clock (wall, monotonic and sleep: [`Clock`]), spawned processes
//! ([`ProcessRunner`]), STS and IAM Identity Center (the [`Sts`] and [`SsoApi`] clients of
//! [`crate::aws`]), the browser ([`Browser`]), the sign-in redirect listener ([`Redirects`]),
//! the program's own path and working directory ([`Paths`]) and human output
//! ([`crate::ui::Ui`]). The real implementations are in [`crate::os`] (one file per concern,
//! with the per-platform code side by side), and `main` builds the one real context with
//! [`crate::os::context`]; tests build their own with fakes, so no test needs real AWS or real
//! time. Clippy bans the ambient versions of these (`env::var`, `SystemTime::now`,
//! `Instant::now`, `thread::sleep`, `TcpListener::bind`, `current_dir`, `current_exe`)
//! everywhere else (`clippy.toml`).
//!
//! The files `creds` reads and writes are not behind a seam: tests give each run its own
//! HOME and cache directory instead.

use crate::aws::sso::SsoApi;
use crate::aws::sts::Sts;
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    "SSH_CLIENT",
    "SSH_TTY",
    "WSL_DISTRO_NAME",
    "WSL_INTEROP",
    "container",
    "PATH",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "CREDS_CACHE",
    "CREDS_CACHE_DIR",
    "_CREDS_PROFILE_CHAIN",
    "_CREDS_RENEWAL_LOCK",
    "CREDS_PROCESS_TIMEOUT",
    "CREDS_MFA_PROMPT",
    "CREDS_MFA_SESSION_DURATION",
    "CREDS_KEYRING_TIMEOUT",
    "CREDS_REFRESH_AHEAD",
    "CREDS_BEDROCK_TOKEN_LIFETIME",
    "CREDS_ALLOW_AGENT_LOGIN",
    "CLAUDE_HELPER_CONTEXT",
    "CLAUDECODE",
    "CODEX_SANDBOX",
    "GEMINI_CLI",
    "CURSOR_AGENT",
    "OPENCODE",
    "DBUS_SESSION_BUS_ADDRESS",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CA_BUNDLE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_LOGIN_CACHE_DIRECTORY",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "AWS_BEARER_TOKEN_BEDROCK",
    "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_USE_BEDROCK",
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
}

/// Where the time comes from: the wall clock (expiry), a monotonic clock (deadlines and
/// timeouts) and sleeping. Tests use [`ManualClock`], whose `sleep` moves time instead of
/// waiting, so seconds of polling take microseconds.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Time since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;
    fn sleep(&self, duration: Duration);
}

/// The real clock. Its monotonic origin is taken at the first reading (the cache-hit path
/// never takes one).
#[derive(Default)]
pub struct SystemClock {
    origin: std::sync::OnceLock<Instant>,
}

impl SystemClock {
    pub fn new() -> Self {
        Self::default()
    }
}

#[allow(clippy::disallowed_methods)] // the one place that reads the clocks and sleeps
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn monotonic(&self) -> Duration {
        self.origin.get_or_init(Instant::now).elapsed()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration)
    }
}

/// A clock that moves only when told to: by [`ManualClock::advance`], or by `sleep`, which
/// returns at once with the time moved on. For tests; nothing outside code can select it
/// (a release binary always runs on [`SystemClock`]).
pub struct ManualClock {
    state: std::sync::Mutex<(DateTime<Utc>, Duration)>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock {
            state: std::sync::Mutex::new((now, Duration::ZERO)),
        }
    }

    /// Moves both clocks on by `by`.
    pub fn advance(&self, by: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = crate::wire::later(
            s.0,
            chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX),
        );
        s.1 = s.1.saturating_add(by);
    }

    /// Sets the wall clock (the monotonic clock moves on by the same amount, or not at all if
    /// `now` is earlier).
    pub fn set(&self, now: DateTime<Utc>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(forward) = now.signed_duration_since(s.0).to_std() {
            s.1 = s.1.saturating_add(forward);
        }
        s.0 = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }
    fn monotonic(&self) -> Duration {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }
    fn sleep(&self, duration: Duration) {
        self.advance(duration)
    }
}

/// Lets a test keep a handle on the clock it gave a [`Context`].
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
    fn monotonic(&self) -> Duration {
        (**self).monotonic()
    }
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration)
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

/// The renewal lock of a hop (`KEY.renew`): whoever holds it runs the hop's one background
/// renewal.
pub struct RenewalLock {
    pub file: std::fs::File,
    pub path: PathBuf,
}

/// Starts the detached background renewals of refresh-ahead.
pub trait Background: Send + Sync {
    /// Runs `exe ARGS` detached from the caller, with no stdin, stdout or stderr (so a caller
    /// reading our output to its end never waits for it), holding `lock` until it exits
    /// (see [`crate::platform::detach`] for how, per platform). Returns once it has started.
    fn renew(&self, exe: &std::path::Path, args: &[String], lock: RenewalLock) -> io::Result<()>;
}

/// Runs `credential_process` commands.
pub trait ProcessRunner: Send + Sync {
    /// Runs `command` through the platform shell with `extra_env` added to the environment,
    /// stdin closed, and stdout and stderr captured. Fails with `TimedOut` when the command
    /// is still running after `timeout` (it is killed), and with `InvalidData` when it prints
    /// more than [`MAX_PROCESS_STDOUT`].
    fn run(
        &self,
        command: &str,
        extra_env: &[(String, String)],
        timeout: Duration,
    ) -> io::Result<ProcessOutput>;
}

/// The most a `credential_process` may print on stdout (its document is a few hundred bytes).
pub const MAX_PROCESS_STDOUT: usize = 1024 * 1024;

/// Opens a URL for the user to sign in.
pub trait Browser: Send + Sync {
    /// Whether a browser can be opened here at all.
    fn available(&self) -> bool;
    /// Whether that browser can reach a redirect listener on this machine's 127.0.0.1 (the
    /// PKCE flow); when not, the device code flow is used.
    fn loopback(&self) -> bool {
        self.available()
    }
    /// Starts the browser on `url` without waiting for it.
    fn open(&self, url: &str) -> io::Result<()>;
}

/// Listens for the browser's redirect at the end of a PKCE sign-in.
pub trait Redirects: Send + Sync {
    /// Starts listening on a free port of 127.0.0.1.
    fn listen(&self) -> io::Result<Box<dyn RedirectListener>>;
}

pub trait RedirectListener {
    fn port(&self) -> u16;
    /// Waits at most `wait` for the next request; `None` when none came.
    fn next(&mut self, wait: Duration) -> io::Result<Option<RedirectRequest>>;
}

/// One HTTP request to the redirect listener: its target (`/oauth/callback?code=...`), to be
/// answered with [`RedirectRequest::reply`].
pub struct RedirectRequest {
    pub target: String,
    reply: Reply,
}

/// Sends the HTTP answer (status, HTML body) to the browser.
type Reply = Box<dyn FnOnce(u16, &str) + Send>;

impl RedirectRequest {
    pub fn new(target: impl Into<String>, reply: impl FnOnce(u16, &str) + Send + 'static) -> Self {
        RedirectRequest {
            target: target.into(),
            reply: Box::new(reply),
        }
    }

    /// Answers with `status` and an HTML `body`.
    pub fn reply(self, status: u16, body: &str) {
        (self.reply)(status, body)
    }
}

/// This program's path and the working directory, looked up when first needed (neither is on
/// the cache-hit path).
#[derive(Default)]
pub struct Paths {
    exe: std::sync::OnceLock<PathBuf>,
    cwd: std::sync::OnceLock<PathBuf>,
}

impl Paths {
    /// Fixed paths (tests).
    pub fn fixed(exe: PathBuf, cwd: PathBuf) -> Self {
        let paths = Paths::default();
        let _ = paths.exe.set(exe);
        let _ = paths.cwd.set(cwd);
        paths
    }

    /// The absolute path of this program, for the commands `setup` writes.
    #[allow(clippy::disallowed_methods)] // the one place that asks for the program's path
    pub fn exe(&self) -> &std::path::Path {
        self.exe
            .get_or_init(|| std::env::current_exe().unwrap_or_else(|_| PathBuf::from("creds")))
    }

    /// The working directory (for project-scoped Claude Code settings).
    #[allow(clippy::disallowed_methods)] // the one place that asks for the working directory
    pub fn cwd(&self) -> &std::path::Path {
        self.cwd
            .get_or_init(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
    }
}

/// Everything a command needs from the outside world.
pub struct Context {
    pub env: Env,
    pub clock: Box<dyn Clock>,
    pub processes: Box<dyn ProcessRunner>,
    pub sts: Box<dyn Sts>,
    pub sso: Box<dyn SsoApi>,
    pub metadata: Box<dyn crate::aws::metadata::Metadata>,
    pub signin: Box<dyn crate::aws::signin::SignIn>,
    /// The OS keyring (`creds keys`, `CREDS_CACHE=keyring`).
    pub keyring: Box<dyn crate::keyring::SecretStore>,
    /// Background renewals (refresh-ahead).
    pub background: Box<dyn Background>,
    /// The commands of `creds exec`.
    pub launcher: Box<dyn Launcher>,
    pub browser: Box<dyn Browser>,
    pub redirects: Box<dyn Redirects>,
    pub paths: Paths,
    /// Human output (stderr).
    pub ui: crate::ui::Ui,
}

/// Changes to the inherited environment for a command creds runs. Its values include secrets,
/// so `Debug` shows only the names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChildEnv {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl std::fmt::Debug for ChildEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildEnv")
            .field(
                "set",
                &self.set.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("remove", &self.remove)
            .finish()
    }
}

/// A random token of 32 bytes, hex (the endpoint's per-run authorization token).
pub fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // No system randomness: the clock and the pid, hashed (never seen in practice).
        let seed = entropy().to_le_bytes();
        let digest = ring::digest::digest(&ring::digest::SHA256, &seed);
        for (b, d) in bytes.iter_mut().zip(digest.as_ref()) {
            *b = *d;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One request to the local credential endpoint: method, path, `Authorization` header. Called
/// from several threads at once (connections are served concurrently).
pub type Answer<'a> = dyn Fn(&str, &str, Option<&str>) -> (u16, String) + Sync + 'a;

/// Runs the commands of `creds exec`.
pub trait Launcher: Send + Sync {
    /// Runs `program` with `env`: on Unix by replacing this process (it returns only when the
    /// program cannot be started); elsewhere as a child, returning its exit code.
    fn exec(&self, program: &str, args: &[String], env: &ChildEnv) -> io::Result<i32>;
    /// Listens on 127.0.0.1 (a random port), starts `program` with `env_for(port)`, answers
    /// every request with `answer` until the program exits (connections concurrently, at most
    /// [`crate::os::http::MAX_CONNECTIONS`] at once, each with one deadline for its request), forwarding the signals other
    /// processes send to creds (SIGINT, SIGTERM, SIGHUP, SIGQUIT) to it; its exit code
    /// (128 + the signal when one ended it).
    fn serve(
        &self,
        program: &str,
        args: &[String],
        env_for: &dyn Fn(u16) -> ChildEnv,
        answer: &Answer<'_>,
    ) -> io::Result<i32>;
}
