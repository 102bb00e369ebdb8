//! The seams between `creds` and the outside world, and their real implementations.
//!
//! Everything that is not pure enters through a [`Context`]: the environment ([`Env`], a
//! snapshot taken once), the clock (wall, monotonic and sleep: [`Clock`]), spawned processes
//! ([`ProcessRunner`]), STS and IAM Identity Center (the [`Sts`] and [`SsoApi`] clients of
//! [`crate::aws`]), the browser ([`Browser`]), the sign-in redirect listener ([`Redirects`]),
//! the program's own path and working directory ([`Paths`]) and human output
//! ([`crate::ui::Ui`]). `main` builds the one real
//! context with [`Context::from_process`]; tests build their own with fakes, so no test needs
//! real AWS or real time. Clippy bans the ambient versions of these (`env::var`,
//! `SystemTime::now`, `Instant::now`, `thread::sleep`, `TcpListener::bind`, `current_dir`,
//! `current_exe`) everywhere else (`clippy.toml`).
//!
//! The files `creds` reads and writes are not behind a seam: tests give each run its own
//! HOME and cache directory instead.

use crate::aws::sso::SsoApi;
use crate::aws::sts::Sts;
use chrono::{DateTime, Utc};
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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
    "CREDS_PROCESS_TIMEOUT",
    "CREDS_MFA_PROMPT",
    "CREDS_MFA_SESSION_DURATION",
    "CREDS_KEYRING_TIMEOUT",
    "CREDS_REFRESH_AHEAD",
    "DBUS_SESSION_BUS_ADDRESS",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CA_BUNDLE",
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

/// Starts the detached background renewals of refresh-ahead.
pub trait Background: Send + Sync {
    /// Runs `exe ARGS` detached from the caller: a session of its own, no stdin, stdout or
    /// stderr (so a caller reading our output to its end never waits for it), with `lock` as
    /// its file descriptor 3, held until it exits. Returns once it has started.
    fn renew(&self, exe: &std::path::Path, args: &[String], lock: std::fs::File) -> io::Result<()>;
}

/// Closes every file descriptor from `first` on (between fork and exec: only
/// async-signal-safe calls), so that a renewal holds no pipe of its caller's: a caller that
/// reads one to its end must not wait for the renewal.
#[cfg(unix)]
fn close_from(first: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: close_range(2) with plain integer arguments.
        let closed = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                libc::c_uint::MAX,
                0 as libc::c_uint,
            )
        };
        if closed == 0 {
            return;
        }
    }
    // SAFETY: sysconf and close on descriptors this process may hold.
    unsafe {
        let max = libc::sysconf(libc::_SC_OPEN_MAX).clamp(64, 65_536) as libc::c_int;
        for fd in first..max {
            libc::close(fd);
        }
    }
}

/// Renewals as real processes. Each is reaped by a thread of this process while it lives, and
/// by init after it exits: none is left a zombie.
pub struct DetachedRenewals;

impl Background for DetachedRenewals {
    fn renew(&self, exe: &std::path::Path, args: &[String], lock: std::fs::File) -> io::Result<()> {
        let mut command = std::process::Command::new(exe);
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            use std::os::unix::process::CommandExt;
            let fd = lock.as_raw_fd();
            // SAFETY: only async-signal-safe calls (setsid, dup2, fcntl) between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    libc::setsid();
                    if fd == 3 {
                        let flags = libc::fcntl(3, libc::F_GETFD);
                        if flags == -1
                            || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == -1
                        {
                            return Err(io::Error::last_os_error());
                        }
                    } else if libc::dup2(fd, 3) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    close_from(4);
                    Ok(())
                });
            }
        }
        let mut child = command.spawn()?;
        drop(lock);
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }
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
/// How much of a `credential_process`'s stderr is kept (the end of it).
const MAX_PROCESS_STDERR: usize = 64 * 1024;

/// Runs commands with `sh -c` (or `cmd.exe /C` on Windows), as the Rust, Go and JavaScript
/// SDKs do. On Unix the command gets a process group of its own, which is killed whole on
/// timeout, on too much output, and (through a watchdog that holds a pipe from `creds`) when
/// `creds` itself is killed while the command runs. A command that exits while a background
/// child still holds its output is not waited for.
pub struct ShellRunner;

/// A pipe read on a thread into a shared buffer, keeping at most `limit` bytes (the first
/// ones, calling `on_overflow` when there are more; or with `keep_end` the last ones).
struct Drain {
    bytes: std::sync::Arc<std::sync::Mutex<(Vec<u8>, bool)>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Drain {
    fn start(
        mut pipe: impl io::Read + Send + 'static,
        limit: usize,
        keep_end: bool,
        on_overflow: impl FnOnce() + Send + 'static,
    ) -> Drain {
        let bytes = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), false)));
        let (tx, done) = std::sync::mpsc::channel();
        let shared = bytes.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let n = match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
                guard
                    .0
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                if guard.0.len() > limit {
                    if !keep_end {
                        guard.1 = true;
                        drop(guard);
                        on_overflow();
                        break;
                    }
                    let excess = guard.0.len().saturating_sub(limit);
                    guard.0.drain(..excess);
                }
            }
            let _ = tx.send(());
        });
        Drain { bytes, done }
    }

    /// Waits at most `grace` for the pipe's end; returns what was read and whether the limit
    /// was passed.
    fn finish(self, grace: Duration) -> (Vec<u8>, bool) {
        let _ = self.done.recv_timeout(grace);
        let guard = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        (guard.0.clone(), guard.1)
    }
}

/// A small `sh` that kills a command's process group when `creds` dies: it blocks reading a
/// pipe whose only writer is this process, and the kernel closes that pipe however `creds`
/// ends. Dismissed (killed) when the command has finished normally.
struct Watchdog(Option<std::process::Child>);

impl Watchdog {
    fn start(pgid: u32) -> Watchdog {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            let dog = Command::new("sh")
                .arg("-c")
                .arg("read x; kill -KILL -\"$1\" 2>/dev/null")
                .arg("sh")
                .arg(pgid.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn();
            Watchdog(dog.ok())
        }
        #[cfg(not(unix))]
        {
            let _ = pgid;
            Watchdog(None)
        }
    }

    fn dismiss(&mut self) {
        if let Some(mut dog) = self.0.take() {
            let _ = dog.kill();
            let _ = dog.wait();
        }
    }
}

/// Kills the process group `pid` leads (Unix; elsewhere the process is left to finish).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        // SAFETY: signals the process group the command was put in, which it leads.
        unsafe { libc::kill(pgid.saturating_neg(), libc::SIGKILL) };
    }
    #[cfg(not(unix))]
    let _ = pid;
}

impl ProcessRunner for ShellRunner {
    fn run(
        &self,
        command: &str,
        extra_env: &[(String, String)],
        timeout: Duration,
    ) -> io::Result<ProcessOutput> {
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
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
            #[cfg(target_os = "linux")]
            // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child
            // when its parent (this process) dies.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn()?;
        let pid = child.id();
        let mut watchdog = Watchdog::start(pid);
        let stdout = Drain::start(
            child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("no stdout"))?,
            MAX_PROCESS_STDOUT,
            false,
            move || kill_group(pid),
        );
        let stderr = Drain::start(
            child
                .stderr
                .take()
                .ok_or_else(|| io::Error::other("no stderr"))?,
            MAX_PROCESS_STDERR,
            true,
            || {},
        );
        let (tx, exited) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = match exited.recv_timeout(timeout) {
            Ok(status) => {
                watchdog.dismiss();
                status?
            }
            Err(_) => {
                watchdog.dismiss();
                kill_group(pid);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("did not finish within {}s", timeout.as_secs()),
                ));
            }
        };
        // What a finished command wrote is in the pipes already; a background child that
        // keeps them open is not waited for.
        let (out, overflow) = stdout.finish(Duration::from_millis(200));
        let (err, _) = stderr.finish(Duration::from_millis(50));
        if overflow {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("printed more than {MAX_PROCESS_STDOUT} bytes"),
            ));
        }
        Ok(ProcessOutput {
            code: status.code(),
            stdout: out,
            stderr: err,
        })
    }
}

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

/// Opens pages as [`crate::browser::choose`] decides for this machine. What the environment
/// says is noted at start-up; the file system (`/.dockerenv`, `wslview` on `PATH`) is looked
/// at and the decision made only when first needed, never on the cache-hit path.
pub struct SystemBrowser {
    facts: crate::browser::Facts,
    /// `PATH`, kept only under WSL (to look for `wslview`).
    path: Option<String>,
    choice: std::sync::OnceLock<crate::browser::Choice>,
}

impl SystemBrowser {
    pub fn from_env(env: &Env) -> Self {
        let wsl = env.get("WSL_DISTRO_NAME").is_some() || env.get("WSL_INTEROP").is_some();
        SystemBrowser {
            facts: crate::browser::Facts {
                browser: env.get("BROWSER").map(str::to_string),
                ssh: ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
                    .iter()
                    .any(|v| env.get(v).is_some()),
                display: env.get("DISPLAY").is_some() || env.get("WAYLAND_DISPLAY").is_some(),
                wsl,
                wslview: false,
                container: env.get("container").is_some(),
            },
            path: env.get("PATH").filter(|_| wsl).map(str::to_string),
            choice: std::sync::OnceLock::new(),
        }
    }

    pub fn choice(&self) -> &crate::browser::Choice {
        self.choice.get_or_init(|| {
            let mut facts = self.facts.clone();
            facts.container |= std::path::Path::new("/.dockerenv").exists();
            facts.wslview = self.path.as_deref().is_some_and(|path| {
                std::env::split_paths(path).any(|dir| dir.join("wslview").is_file())
            });
            crate::browser::choose(crate::browser::Os::current(), &facts)
        })
    }
}

impl Browser for SystemBrowser {
    fn available(&self) -> bool {
        self.choice().opens()
    }

    fn loopback(&self) -> bool {
        self.choice().loopback()
    }

    fn open(&self, url: &str) -> io::Result<()> {
        let crate::browser::Choice::Open { program, args, .. } = self.choice() else {
            return Err(io::Error::other("no browser can be opened here"));
        };
        let mut child = Command::new(program)
            .args(args)
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

/// A TCP listener on 127.0.0.1 that reads each request's first line.
pub struct TcpRedirects;

struct TcpRedirectListener {
    listener: std::net::TcpListener,
    port: u16,
}

impl Redirects for TcpRedirects {
    #[allow(clippy::disallowed_methods)] // the one place that opens a listening socket
    fn listen(&self) -> io::Result<Box<dyn RedirectListener>> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        Ok(Box::new(TcpRedirectListener { listener, port }))
    }
}

impl RedirectListener for TcpRedirectListener {
    fn port(&self) -> u16 {
        self.port
    }

    #[allow(clippy::disallowed_methods)] // polls a real socket in real time
    fn next(&mut self, wait: Duration) -> io::Result<Option<RedirectRequest>> {
        use io::BufRead;
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now);
        let stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= until {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        // The request line only, and at most 8 KiB of it: nothing else is needed.
        let mut line = String::new();
        if io::BufReader::new(io::Read::take(&stream, 8192))
            .read_line(&mut line)
            .is_err()
        {
            return Ok(None);
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut stream = stream;
        Ok(Some(RedirectRequest::new(target, move |status, body| {
            http_reply(&mut stream, status, "text/html; charset=utf-8", body)
        })))
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

/// `CREDS_KEYRING_TIMEOUT` (`2`, `2s` or `500ms`, at most a minute), else 2 s.
fn keyring_timeout(env: &Env) -> std::time::Duration {
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
        .unwrap_or(crate::keyring::DEFAULT_TIMEOUT)
}

impl Context {
    /// The real world. Cheap: nothing is initialised until it is used, so the cache-hit path
    /// builds no runtime and no SDK client. The clock is always the system clock: no variable
    /// can move it.
    pub fn from_process() -> Self {
        let env = Env::from_process();
        let keyring_timeout = keyring_timeout(&env);
        let browser = Box::new(SystemBrowser::from_env(&env));
        Context {
            env,
            clock: Box::new(SystemClock::new()),
            processes: Box::new(ShellRunner),
            sts: Box::new(crate::aws::sts::AwsSts),
            sso: Box::new(crate::aws::sso::AwsSso),
            metadata: Box::new(crate::aws::metadata::AwsMetadata),
            signin: Box::new(crate::aws::signin::AwsSignIn),
            keyring: Box::new(crate::keyring::OsKeyring {
                timeout: keyring_timeout,
            }),
            background: Box::new(DetachedRenewals),
            launcher: Box::new(SystemLauncher),
            browser,
            redirects: Box::new(TcpRedirects),
            paths: Paths::default(),
            ui: crate::ui::Ui::stderr(),
        }
    }
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

/// One request to the local credential endpoint: method, path, `Authorization` header.
pub type Answer<'a> = dyn Fn(&str, &str, Option<&str>) -> (u16, String) + 'a;

/// Runs the commands of `creds exec`.
pub trait Launcher: Send + Sync {
    /// Runs `program` with `env`: on Unix by replacing this process (it returns only when the
    /// program cannot be started); elsewhere as a child, returning its exit code.
    fn exec(&self, program: &str, args: &[String], env: &ChildEnv) -> io::Result<i32>;
    /// Listens on 127.0.0.1 (a random port), starts `program` with `env_for(port)`, answers
    /// every request with `answer` until the program exits, forwarding the signals other
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

/// Real processes and a real listener.
pub struct SystemLauncher;

fn command(program: &str, args: &[String], env: &ChildEnv) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.args(args);
    for name in &env.remove {
        command.env_remove(name);
    }
    for (name, value) in &env.set {
        command.env(name, value);
    }
    command
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128_i32.saturating_add(signal);
        }
    }
    status.code().unwrap_or(1)
}

/// The child to forward signals to (0: none).
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // Only what another process sent (kill, a process manager): a signal from the terminal
    // (Ctrl-C) already reached the child, which is in the same foreground process group.
    // SAFETY: `info` is the kernel's siginfo for this signal; kill is async-signal-safe.
    unsafe {
        let code = if info.is_null() { 0 } else { (*info).si_code };
        let pid = CHILD.load(std::sync::atomic::Ordering::SeqCst);
        if pid > 0 && code == libc::SI_USER {
            libc::kill(pid, signal);
        }
    }
}

#[cfg(unix)]
fn forward_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: installs a handler that only reads an atomic and calls kill.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// One HTTP/1.1 request on `stream` (at most 16 KiB, 5 s to arrive), answered and closed.
fn answer_one(mut stream: std::net::TcpStream, answer: &Answer<'_>) {
    use std::io::Read;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let authorization = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    let (status, body) = if method.is_empty() {
        (400, "{}".to_string())
    } else {
        answer(method, path, authorization.as_deref())
    };
    http_reply(&mut stream, status, "application/json", &body);
}

/// Writes one HTTP/1.1 response that closes the connection (the local listeners' only kind).
fn http_reply(stream: &mut impl std::io::Write, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        400 => "Bad Request",
        _ => "Internal Server Error",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Launcher for SystemLauncher {
    fn exec(&self, program: &str, args: &[String], env: &ChildEnv) -> io::Result<i32> {
        let mut command = command(program, args, env);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            Err(command.exec())
        }
        #[cfg(not(unix))]
        {
            command.status().map(exit_code)
        }
    }

    #[allow(clippy::disallowed_methods)] // the credential endpoint's listening socket
    fn serve(
        &self,
        program: &str,
        args: &[String],
        env_for: &dyn Fn(u16) -> ChildEnv,
        answer: &Answer<'_>,
    ) -> io::Result<i32> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        #[cfg(unix)]
        forward_signals();
        let mut child = command(program, args, &env_for(port)).spawn()?;
        CHILD.store(
            i32::try_from(child.id()).unwrap_or(0),
            std::sync::atomic::Ordering::SeqCst,
        );
        loop {
            if let Some(status) = child.try_wait()? {
                CHILD.store(0, std::sync::atomic::Ordering::SeqCst);
                return Ok(exit_code(status));
            }
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    answer_one(stream, answer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait_readable(&listener),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Waits up to 100 ms for a connection (the child's exit is checked in between).
fn wait_readable(listener: &std::net::TcpListener) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let mut fds = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe {
            libc::poll(&mut fds, 1, 100);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = listener;
        #[allow(clippy::disallowed_methods)] // waits in real time for a real socket
        std::thread::sleep(Duration::from_millis(50));
    }
}
