//! The detached background renewals of refresh-ahead ([`crate::platform::detach`]): on Unix a
//! new session holding the renewal lock as descriptor 3 with every other descriptor closed; on
//! Windows a detached process with no window, out of creds' Job, that takes the renewal lock
//! itself.

use crate::context::{Background, RenewalLock};
use crate::platform::{self, Detach, Platform};
use std::io;
use std::path::Path;
use std::process::Command;

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
    fn renew(&self, exe: &Path, args: &[String], lock: RenewalLock) -> io::Result<()> {
        let mut command = Command::new(exe);
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        match platform::detach(Platform::current()) {
            Detach::NewSession { lock_fd } => {
                #[cfg(unix)]
                {
                    use std::os::unix::io::AsRawFd;
                    use std::os::unix::process::CommandExt;
                    let fd = lock.file.as_raw_fd();
                    // SAFETY: only async-signal-safe calls (setsid, dup2, fcntl) between fork and exec.
                    unsafe {
                        command.pre_exec(move || {
                            libc::setsid();
                            if fd == lock_fd {
                                let flags = libc::fcntl(lock_fd, libc::F_GETFD);
                                if flags == -1
                                    || libc::fcntl(
                                        lock_fd,
                                        libc::F_SETFD,
                                        flags & !libc::FD_CLOEXEC,
                                    ) == -1
                                {
                                    return Err(io::Error::last_os_error());
                                }
                            } else if libc::dup2(fd, lock_fd) == -1 {
                                return Err(io::Error::last_os_error());
                            }
                            close_from(lock_fd.saturating_add(1));
                            Ok(())
                        });
                    }
                }
                #[cfg(not(unix))]
                let _ = lock_fd;
                let child = command.spawn()?;
                drop(lock);
                reap(child);
            }
            Detach::DetachedProcess {
                creation_flags,
                fallback_flags,
            } => {
                // The lock cannot be handed over: it is released here and the renewal takes it
                // again (a renewal that finds it taken exits at once).
                command.env(platform::RENEWAL_LOCK_VARIABLE, &lock.path);
                drop(lock.file);
                let child = spawn_with_flags(&mut command, creation_flags)
                    .or_else(|_| spawn_with_flags(&mut command, fallback_flags))?;
                reap(child);
            }
        }
        Ok(())
    }
}

/// Waits for `child` on a thread of this process while it lives (init reaps it after that):
/// none is left a zombie.
fn reap(mut child: std::process::Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

/// Starts `command` with Windows process creation flags (elsewhere: as it is).
fn spawn_with_flags(command: &mut Command, flags: u32) -> io::Result<std::process::Child> {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        command.creation_flags(flags);
    }
    #[cfg(not(windows))]
    let _ = flags;
    command.spawn()
}
