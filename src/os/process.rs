//! `credential_process` and `mfa_process`: a command line run through the platform shell
//! ([`crate::platform::shell`]) with stdin closed and its output captured, bounded in time and
//! size, its whole process tree ended on timeout and when creds itself dies
//! ([`crate::platform::tree`]: a process group, `PR_SET_PDEATHSIG` and a watchdog on Unix; a
//! Job object on Windows).

use crate::context::{ProcessOutput, ProcessRunner, MAX_PROCESS_STDOUT};
use crate::platform::{self, Platform};
use std::io;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How much of a `credential_process`'s stderr is kept (the end of it).
const MAX_PROCESS_STDERR: usize = 64 * 1024;

/// Runs commands with `sh -c` (or `cmd.exe /C` on Windows), as the Rust, Go and JavaScript
/// SDKs do. On Unix the command gets a process group of its own, which is killed whole on
/// timeout, on too much output, and (through a watchdog that holds a pipe from `creds`) when
/// `creds` itself is killed while the command runs; on Windows its Job object is ended in the
/// same cases (the Job is killed when its last handle, creds', closes). A command that exits
/// while a background child still holds its output is not waited for.
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

/// How the process tree of a running command is ended.
struct Tree {
    /// The process group the command leads (Unix).
    #[cfg(unix)]
    group: Option<libc::pid_t>,
    /// The command's Job (Windows).
    #[cfg(windows)]
    job: Option<super::job::Job>,
}

impl Tree {
    /// Kills the whole tree.
    fn kill(&self) {
        #[cfg(unix)]
        if let Some(pgid) = self.group {
            // SAFETY: signals the process group the command was put in, which it leads.
            unsafe { libc::kill(pgid.saturating_neg(), libc::SIGKILL) };
        }
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
    }

    /// The command finished: what it left running may go on (as on Unix, where nothing kills
    /// a background child of a command that exited).
    fn release(&self) {
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.release();
        }
    }
}

/// The command line for `command` on this platform.
fn shell_command(command: &str) -> Command {
    let shell = platform::shell(Platform::current(), command);
    let mut cmd = Command::new(shell.program);
    cmd.args(&shell.args);
    if let Some(raw) = shell.raw {
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            cmd.raw_arg(raw);
        }
        #[cfg(not(windows))]
        cmd.arg(raw);
    }
    cmd
}

impl ProcessRunner for ShellRunner {
    fn run(
        &self,
        command: &str,
        extra_env: &[(String, String)],
        timeout: Duration,
    ) -> io::Result<ProcessOutput> {
        let rules = platform::tree(Platform::current());
        let mut cmd = shell_command(command);
        cmd.envs(extra_env.iter().map(|(k, v)| (k, v)));
        cmd.env_remove(platform::RENEWAL_LOCK_VARIABLE);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            if rules.process_group {
                cmd.process_group(0);
            }
            #[cfg(target_os = "linux")]
            if rules.parent_death_signal {
                super::die_with_creds(&mut cmd, libc::SIGKILL);
            }
        }
        #[cfg(windows)]
        let job = if rules.job {
            Some(super::job::Job::kill_on_close()?)
        } else {
            None
        };
        #[cfg(windows)]
        let mut child = match &job {
            Some(job) => job.spawn(&mut cmd)?,
            None => cmd.spawn()?,
        };
        #[cfg(not(windows))]
        let mut child = cmd.spawn()?;
        let pid = child.id();
        let tree = std::sync::Arc::new(Tree {
            #[cfg(unix)]
            group: libc::pid_t::try_from(pid)
                .ok()
                .filter(|_| rules.process_group),
            #[cfg(windows)]
            job,
        });
        let mut watchdog = if rules.watchdog {
            Watchdog::start(pid)
        } else {
            Watchdog(None)
        };
        let overflow_tree = tree.clone();
        let stdout = Drain::start(
            child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("no stdout"))?,
            MAX_PROCESS_STDOUT,
            false,
            move || overflow_tree.kill(),
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
                tree.release();
                status?
            }
            Err(_) => {
                watchdog.dismiss();
                tree.kill();
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
