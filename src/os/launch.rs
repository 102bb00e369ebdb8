//! `creds exec`: the command with credentials in its environment, and `--server`'s local
//! credential endpoint, with what [`crate::platform::exec_mode`] and
//! [`crate::platform::interrupts`] decide per platform: on Unix creds becomes the command, and
//! under `--server` forwards the signals other processes send it; on Windows the command runs
//! as a child in a kill-on-close Job (it ends with creds, however creds ends), and Ctrl-C and
//! Ctrl-Break, which the console sends to the child too, leave creds waiting for its exit code.

use super::http::{answer_one, refuse_busy, wait_readable, Reading, MAX_CONNECTIONS};
use crate::context::{Answer, ChildEnv, Launcher};
use crate::platform::{self, ExecMode, Platform};
use std::io;

/// Real processes and a real listener.
pub struct SystemLauncher;

fn command(program: &str, args: &[String], env: &ChildEnv) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.args(args);
    command.env_remove(platform::RENEWAL_LOCK_VARIABLE);
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
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal = None;
    platform::exit_code(status.code(), signal)
}

/// The child to forward signals to (0: none).
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// `SI_USER` of this platform: a signal another process sent with `kill`.
#[cfg(unix)]
const SI_USER: libc::c_int = match platform::interrupts(Platform::current()) {
    platform::Interrupts::Forward { si_user } => si_user,
    platform::Interrupts::Console => 0,
};

#[cfg(unix)]
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // Only what another process sent (kill, a process manager): a signal from the terminal
    // (Ctrl-C) already reached the child, which is in the same foreground process group.
    // SAFETY: `info` is the kernel's siginfo for this signal; kill is async-signal-safe.
    unsafe {
        let code = if info.is_null() { -1 } else { (*info).si_code };
        let pid = CHILD.load(std::sync::atomic::Ordering::SeqCst);
        if pid > 0 && code == SI_USER {
            libc::kill(pid, signal);
        }
    }
}

/// Makes interrupts meant for the child reach it, and not end creds first.
fn pass_interrupts() {
    #[cfg(unix)]
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
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Console::{
            SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT,
        };
        /// Ctrl-C and Ctrl-Break: handled (the child, in the same console, got them too and
        /// decides); anything else (the console closing, log-off): not ours, creds ends and
        /// its Job ends the child.
        unsafe extern "system" fn handler(event: u32) -> windows_sys::core::BOOL {
            i32::from(event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT)
        }
        // SAFETY: registers a handler that only compares its argument. A handler (unlike
        // ignoring Ctrl-C with a null one) is not inherited by the child.
        unsafe { SetConsoleCtrlHandler(Some(handler), 1) };
    }
}

/// Starts `command` as a child that ends with creds ([`platform::server_child`]): on Linux the
/// kernel sends it SIGTERM when creds dies; on Windows it runs in a kill-on-close Job, which is
/// returned and must live as long as the child may.
fn spawn_tied(command: &mut std::process::Command) -> io::Result<(std::process::Child, Tie)> {
    #[cfg(windows)]
    {
        let job = super::job::Job::kill_on_close()?;
        let child = job.spawn(command)?;
        Ok((child, Tie { _job: job }))
    }
    #[cfg(not(windows))]
    {
        #[cfg(target_os = "linux")]
        if let platform::ServerChild::DeathSignal(signal) =
            platform::server_child(Platform::current())
        {
            super::die_with_creds(command, signal);
        }
        Ok((command.spawn()?, Tie {}))
    }
}

/// What keeps a child tied to creds (its Job on Windows; nothing elsewhere); dropped when creds
/// is done with it.
struct Tie {
    #[cfg(windows)]
    _job: super::job::Job,
}

impl Launcher for SystemLauncher {
    fn exec(&self, program: &str, args: &[String], env: &ChildEnv) -> io::Result<i32> {
        let mut command = command(program, args, env);
        match platform::exec_mode(Platform::current()) {
            ExecMode::Replace => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::CommandExt;
                    Err(command.exec())
                }
                #[cfg(not(unix))]
                Err(io::Error::other(
                    "cannot replace the process on this platform",
                ))
            }
            ExecMode::ChildInJob => {
                pass_interrupts();
                let (mut child, _tie) = spawn_tied(&mut command)?;
                child.wait().map(exit_code)
            }
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
        pass_interrupts();
        let (mut child, _tie) = spawn_tied(&mut command(program, args, &env_for(port)))?;
        CHILD.store(
            i32::try_from(child.id()).unwrap_or(0),
            std::sync::atomic::Ordering::SeqCst,
        );
        // Each connection on a thread of its own: a silent or trickling one holds only itself
        // (for at most the request deadline), and one slow renewal holds only its requests.
        let open = std::sync::atomic::AtomicUsize::new(0);
        let reading = Reading::default();
        std::thread::scope(|scope| loop {
            if let Some(status) = child.try_wait()? {
                CHILD.store(0, std::sync::atomic::Ordering::SeqCst);
                return Ok(exit_code(status));
            }
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    if open.load(std::sync::atomic::Ordering::SeqCst) >= MAX_CONNECTIONS
                        && !reading.evict_oldest()
                    {
                        refuse_busy(stream);
                        continue;
                    }
                    open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (open, reading) = (&open, &reading);
                    let id = reading.add(&stream);
                    let served = std::thread::Builder::new()
                        .name("creds-endpoint".into())
                        .spawn_scoped(scope, move || {
                            answer_one(stream, answer, || reading.done(id));
                            open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        });
                    if served.is_err() {
                        reading.done(id);
                        open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait_readable(&listener),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        })
    }
}
