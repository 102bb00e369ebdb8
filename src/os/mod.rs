//! The real implementations behind the seams of [`crate::context`], one file per concern, each
//! with its per-platform code side by side. What differs between platforms is decided in
//! [`crate::platform`] (pure, tested on Linux for every platform); these files carry the
//! decisions out with the thinnest OS calls they can. `main` wires them into the one real
//! [`crate::context::Context`].
//!
//! | file | what |
//! |---|---|
//! | [`process`] | `credential_process` and `mfa_process` through the platform shell, bounded in time and output, their process tree ended with creds |
//! | [`detach`] | the detached background renewals of refresh-ahead |
//! | [`launch`] | `creds exec`: the command, and `--server`'s credential endpoint, signals and Ctrl-C |
//! | [`http`] | the local listeners: the sign-in redirect and the credential endpoint's requests |
//! | [`browser`] | opening the sign-in page |
//! | `job` (Windows) | Job objects: a command's process tree ends with creds |

pub mod browser;
pub mod detach;
pub mod http;
#[cfg(windows)]
mod job;
pub mod launch;
pub mod process;

use crate::context::{Context, Env, Paths, SystemClock};

/// Asks the kernel to send `signal` to the child `command` starts when creds dies
/// (`PR_SET_PDEATHSIG`, Linux); a creds that died between the fork and the request is noticed
/// (the child's parent is then another process) and the child not started.
#[cfg(target_os = "linux")]
fn die_with_creds(command: &mut std::process::Command, signal: libc::c_int) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid before the fork; prctl and getppid (async-signal-safe) after it.
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "creds exited while starting the command",
                ));
            }
            Ok(())
        });
    }
}

/// The real world. Cheap: nothing is initialised until it is used, so the cache-hit path
/// builds no runtime and no SDK client. The clock is always the system clock: no variable can
/// move it.
pub fn context() -> Context {
    {
        let env = Env::from_process();
        let keyring_timeout = crate::settings::keyring_timeout(&env).value;
        let browser = Box::new(browser::SystemBrowser::from_env(&env));
        let under_claude = env.get("CLAUDE_CODE_ENTRYPOINT").is_some();
        Context {
            env,
            clock: Box::new(SystemClock::new()),
            processes: Box::new(process::ShellRunner),
            sts: Box::new(crate::aws::sts::AwsSts),
            sso: Box::new(crate::aws::sso::AwsSso),
            metadata: Box::new(crate::aws::metadata::AwsMetadata),
            signin: Box::new(crate::aws::signin::AwsSignIn),
            keyring: Box::new(crate::keyring::OsKeyring {
                timeout: keyring_timeout,
            }),
            background: Box::new(detach::DetachedRenewals),
            launcher: Box::new(launch::SystemLauncher),
            browser,
            redirects: Box::new(http::TcpRedirects),
            paths: Paths::default(),
            ui: crate::ui::Ui::stderr(under_claude),
        }
    }
}
