//! What differs between the platforms creds runs on, decided by pure functions of the
//! [`Platform`] (and of facts passed in), so that every platform's rules are unit-tested on
//! Linux. The OS calls that carry the decisions out live in [`crate::os`] and
//! [`crate::fsutil`]; they ask here and stay thin.
//!
//! | concern | Linux | macOS | Windows |
//! |---|---|---|---|
//! | single-flight lock ([`lock`]) | `flock(2)` on `KEY.lock` | `flock(2)` | `LockFileEx` on `KEY.lock` |
//! | private files ([`private_files`]) | directory 0700, files 0600, owner checked | the same | a protected DACL granting the current user alone, set on the directory creds creates and inherited by its files |
//! | `credential_process`, `mfa_process` ([`shell`]) | `sh -c COMMAND` | `sh -c COMMAND` | `cmd.exe /C "COMMAND"`, the line passed as is |
//! | a command's process tree ([`tree`]) | own process group, killed whole; killed with creds (`PR_SET_PDEATHSIG` and a watchdog) | own process group; a watchdog | a Job object killed on close |
//! | background renewal ([`detach`]) | new session, the renewal lock as fd 3 | the same | a detached process with no window that takes the renewal lock itself |
//! | signals for `exec`'s child ([`interrupts`]) | forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT sent by other processes | the same (macOS's `SI_USER`) | Ctrl-C and Ctrl-Break reach the child through the console; creds waits for it |
//! | `exec` without `--server` ([`exec_mode`]) | becomes the command (`execve`) | the same | runs it as a child in a kill-on-close Job, returns its exit code |
//! | `exec --server`'s child when creds is killed ([`server_child`]) | SIGTERM (`PR_SET_PDEATHSIG`) | runs on (no such signal) | its Job is killed |
//! | a path in a hook or `credential_process` ([`command_word`]) | single-quoted for `sh` when needed | the same | double-quoted when it has a space |
//! | browser | [`crate::browser::choose`] | | |

/// The operating system creds runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
    /// The BSDs and other Unix systems.
    OtherUnix,
}

impl Platform {
    /// The platform this binary was built for.
    pub const fn current() -> Platform {
        if cfg!(target_os = "linux") {
            Platform::Linux
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::OtherUnix
        }
    }

    pub const ALL: [Platform; 4] = [
        Platform::Linux,
        Platform::MacOs,
        Platform::Windows,
        Platform::OtherUnix,
    ];

    pub fn is_unix(self) -> bool {
        !matches!(self, Platform::Windows)
    }

    /// The separator of the paths creds builds as text (`~/.aws/config`).
    pub fn path_separator(self) -> char {
        match self {
            Platform::Windows => '\\',
            _ => '/',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "Linux",
            Platform::MacOs => "macOS",
            Platform::Windows => "Windows",
            Platform::OtherUnix => "this Unix system",
        }
    }
}

/// The advisory lock that gives single flight. Both are `std::fs::File::try_lock`; they differ
/// in who holds a lock handed to a child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// `flock(2)`: held by the open file, so a child that inherits the descriptor holds it
    /// after its parent exits; released by the kernel when the last holder dies.
    Flock,
    /// `LockFileEx`: held by the handle and process that took it; released by the system when
    /// that process exits. A child cannot take it over, so it takes it again itself.
    LockFileEx,
}

pub fn lock(platform: Platform) -> Lock {
    match platform {
        Platform::Windows => Lock::LockFileEx,
        _ => Lock::Flock,
    }
}

/// How the files that hold secrets (cached credentials, SSO tokens) are kept private.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateFiles {
    /// Directories created 0700 and files 0600; a directory is used only if it belongs to this
    /// user and nobody else can write to it.
    UnixModes { dir: u32, file: u32 },
    /// A directory creds creates gets a protected DACL (no inherited entries) that grants the
    /// current user alone full control; its files inherit it. A directory creds did not create
    /// keeps its ACL (under `%LOCALAPPDATA%` and `%USERPROFILE%`, Windows gives the user,
    /// SYSTEM and Administrators access).
    WindowsAcl,
}

pub fn private_files(platform: Platform) -> PrivateFiles {
    match platform {
        Platform::Windows => PrivateFiles::WindowsAcl,
        _ => PrivateFiles::UnixModes {
            dir: 0o700,
            file: 0o600,
        },
    }
}

/// The SDDL of the security descriptor of a private directory on Windows for the user whose
/// SID is `sid` (`S-1-5-21-…`): protected (`P`, nothing inherited from above), one entry that
/// allows the user full access (`FA`) and is inherited by files and subdirectories (`OICI`).
pub fn private_dir_sddl(sid: &str) -> String {
    format!("D:P(A;OICI;FA;;;{sid})")
}

/// The OS keyring creds uses on a platform (through the `keyring` crate's native backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyring {
    /// Short, for `doctor`.
    pub name: &'static str,
    /// In a sentence.
    pub described: &'static str,
}

/// The keyring of `platform`; `None` where creds knows none (an error naming the platform,
/// never an in-memory stand-in).
pub fn keyring(platform: Platform) -> Option<Keyring> {
    match platform {
        Platform::Linux => Some(Keyring {
            name: "Secret Service",
            described: "the Secret Service on the D-Bus session bus",
        }),
        Platform::MacOs => Some(Keyring {
            name: "Keychain",
            described: "the macOS Keychain",
        }),
        Platform::Windows => Some(Keyring {
            name: "Credential Manager",
            described: "the Windows Credential Manager",
        }),
        Platform::OtherUnix => None,
    }
}

/// How often, and after what pause, replacing a file is tried again when the system refuses
/// it for a moment: on Windows a file another program has open without sharing deletion
/// cannot be replaced until it is closed (a reader holds it for milliseconds); elsewhere a
/// rename never fails that way.
pub fn replace_retries(platform: Platform) -> (u32, std::time::Duration) {
    match platform {
        Platform::Windows => (20, std::time::Duration::from_millis(50)),
        _ => (0, std::time::Duration::ZERO),
    }
}

/// The command that makes a read-only file writable again, for an error's hint.
pub fn make_writable_hint(platform: Platform, path: &std::path::Path) -> String {
    match platform {
        Platform::Windows => format!("attrib -r \"{}\"", path.display()),
        _ => format!("chmod u+w '{}'", path.display()),
    }
}

/// How a `credential_process` or `mfa_process` command line is run: `program`, then `args`,
/// then `raw` appended to the command line exactly as it is (Windows only; no quoting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    pub program: &'static str,
    pub args: Vec<String>,
    pub raw: Option<String>,
}

/// The platform shell for `command`, as the AWS SDKs for Rust and Go run `credential_process`:
/// `sh -c COMMAND` on Unix; on Windows `cmd.exe /C "COMMAND"` with the line handed over as it
/// is (cmd.exe takes the text between the outer quotes literally, so a quoted path such as
/// `type "C:\dir with spaces\f.json"` keeps its quotes; the usual argument quoting would turn
/// them into `\"`, which cmd.exe does not read).
pub fn shell(platform: Platform, command: &str) -> Shell {
    match platform {
        Platform::Windows => Shell {
            program: "cmd.exe",
            args: Vec::new(),
            raw: Some(format!("/C \"{command}\"")),
        },
        _ => Shell {
            program: "sh",
            args: vec!["-c".into(), command.into()],
            raw: None,
        },
    }
}

/// How a command's process tree is ended on timeout, and when creds itself dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tree {
    /// The command leads a process group of its own, and the group is killed whole.
    pub process_group: bool,
    /// The kernel kills the command when creds dies (`PR_SET_PDEATHSIG`).
    pub parent_death_signal: bool,
    /// A small `sh` holding a pipe from creds kills the group when creds dies (the pipe
    /// closes however creds ends).
    pub watchdog: bool,
    /// The command runs in a Job object that is terminated on timeout and killed when its
    /// last handle (creds') closes.
    pub job: bool,
}

pub fn tree(platform: Platform) -> Tree {
    match platform {
        Platform::Linux => Tree {
            process_group: true,
            parent_death_signal: true,
            watchdog: true,
            job: false,
        },
        Platform::MacOs | Platform::OtherUnix => Tree {
            process_group: true,
            parent_death_signal: false,
            watchdog: true,
            job: false,
        },
        Platform::Windows => Tree {
            process_group: false,
            parent_death_signal: false,
            watchdog: false,
            job: true,
        },
    }
}

/// The variable that tells a background renewal on Windows which renewal lock to take.
pub const RENEWAL_LOCK_VARIABLE: &str = "_CREDS_RENEWAL_LOCK";

/// How a background renewal is started so that it outlives its caller and holds nothing of
/// the caller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detach {
    /// A new session (`setsid`), every descriptor closed but the renewal lock, which becomes
    /// descriptor `lock_fd` and is held until the renewal exits.
    NewSession { lock_fd: i32 },
    /// A process created with `creation_flags` (detached, no window, a process group of its
    /// own, out of creds' Job); its caller releases the renewal lock and the renewal takes it
    /// again (its path in [`RENEWAL_LOCK_VARIABLE`]), exiting at once if another has it.
    DetachedProcess {
        creation_flags: u32,
        /// Tried again without `CREATE_BREAKAWAY_FROM_JOB` when a Job above forbids it.
        fallback_flags: u32,
    },
}

/// `DETACHED_PROCESS`, `CREATE_NEW_PROCESS_GROUP`, `CREATE_NO_WINDOW` and
/// `CREATE_BREAKAWAY_FROM_JOB` (winbase.h).
pub const DETACHED_PROCESS: u32 = 0x0000_0008;
pub const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
pub const CREATE_NO_WINDOW: u32 = 0x0800_0000;
pub const CREATE_BREAKAWAY_FROM_JOB: u32 = 0x0100_0000;

pub fn detach(platform: Platform) -> Detach {
    match platform {
        Platform::Windows => {
            let base = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW;
            Detach::DetachedProcess {
                creation_flags: base | CREATE_BREAKAWAY_FROM_JOB,
                fallback_flags: base,
            }
        }
        _ => Detach::NewSession { lock_fd: 3 },
    }
}

/// What `creds exec --server` does with interrupts meant for its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupts {
    /// SIGINT, SIGTERM, SIGHUP and SIGQUIT that another process sent (`si_code` is
    /// `si_user`) are sent on to the child; the terminal's (Ctrl-C) already reached it, as it
    /// is in the same foreground process group.
    Forward { si_user: i32 },
    /// Ctrl-C and Ctrl-Break reach every process of the console, the child included; creds
    /// ignores them and waits for the child's exit code. Closing the console ends creds, and
    /// its Job ends the child.
    Console,
}

pub const fn interrupts(platform: Platform) -> Interrupts {
    match platform {
        Platform::Linux => Interrupts::Forward { si_user: 0 },
        // <sys/signal.h> of macOS and the BSDs: SI_USER 0x10001.
        Platform::MacOs | Platform::OtherUnix => Interrupts::Forward { si_user: 0x10001 },
        Platform::Windows => Interrupts::Console,
    }
}

/// Whether a signal with `si_code` was sent by another process (and so is forwarded).
pub fn sent_by_a_process(platform: Platform, si_code: i32) -> bool {
    matches!(interrupts(platform), Interrupts::Forward { si_user } if si_user == si_code)
}

/// How `creds exec COMMAND` (without `--server`) runs the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecMode {
    /// creds becomes the command (`execve`): its pid, signals and exit code are the command's.
    Replace,
    /// The command runs as a child in a kill-on-close Job; creds returns its exit code.
    ChildInJob,
}

pub fn exec_mode(platform: Platform) -> ExecMode {
    match platform {
        Platform::Windows => ExecMode::ChildInJob,
        _ => ExecMode::Replace,
    }
}

/// How the command of `exec --server` (a child of creds) ends when creds is killed outright
/// (`kill -9`), so that it does not run on against an endpoint that is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerChild {
    /// The kernel sends it this signal when creds dies (`PR_SET_PDEATHSIG`): SIGTERM, so that
    /// an interactive child (Claude Code) can restore the terminal.
    DeathSignal(i32),
    /// Its Job is killed when creds' handle to it closes.
    Job,
    /// Nothing ends it: it learns when its next request finds no endpoint (macOS and the BSDs
    /// have no parent-death signal).
    Orphaned,
}

pub fn server_child(platform: Platform) -> ServerChild {
    match platform {
        Platform::Linux => ServerChild::DeathSignal(15),
        Platform::Windows => ServerChild::Job,
        Platform::MacOs | Platform::OtherUnix => ServerChild::Orphaned,
    }
}

/// The exit code of a child that exited with `code`, or was ended by `signal` (128 + signal,
/// as shells report it).
pub fn exit_code(code: Option<i32>, signal: Option<i32>) -> i32 {
    match (code, signal) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128_i32.saturating_add(signal),
        (None, None) => 1,
    }
}

/// The program path as the first word of a command line that `sh -c` (Unix) or `cmd.exe /C`
/// and botocore's Windows splitter (Windows) read back as the same path: left bare when it
/// needs nothing, else single-quoted for `sh` or double-quoted for Windows (where `\` is a
/// path separator, not an escape, and a path cannot hold `"`).
pub fn command_word(platform: Platform, path: &str) -> String {
    let (plain_bytes, quote): (&[u8], fn(&str) -> String) = match platform {
        Platform::Windows => (b"\\/:._-+@~", |p| format!("\"{p}\"")),
        _ => (b"/._-+:@%", |p| format!("'{}'", p.replace('\'', "'\\''"))),
    };
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || plain_bytes.contains(&b));
    if plain {
        path.to_string()
    } else {
        quote(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Platform::*;

    #[test]
    fn the_current_platform_is_the_one_built_for() {
        assert_eq!(Platform::current().is_unix(), cfg!(unix));
        assert_eq!(Platform::current() == Windows, cfg!(windows));
        assert_eq!(Platform::current() == MacOs, cfg!(target_os = "macos"));
    }

    #[test]
    fn path_separators() {
        assert_eq!(Linux.path_separator(), '/');
        assert_eq!(MacOs.path_separator(), '/');
        assert_eq!(Windows.path_separator(), '\\');
    }

    #[test]
    fn locks() {
        assert_eq!(lock(Linux), Lock::Flock);
        assert_eq!(lock(MacOs), Lock::Flock);
        assert_eq!(lock(OtherUnix), Lock::Flock);
        assert_eq!(lock(Windows), Lock::LockFileEx);
    }

    #[test]
    fn private_files_per_platform() {
        for p in [Linux, MacOs, OtherUnix] {
            assert_eq!(
                private_files(p),
                PrivateFiles::UnixModes {
                    dir: 0o700,
                    file: 0o600
                }
            );
        }
        assert_eq!(private_files(Windows), PrivateFiles::WindowsAcl);
        assert_eq!(
            private_dir_sddl("S-1-5-21-1-2-3-1001"),
            "D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1001)"
        );
    }

    #[test]
    fn keyrings() {
        assert_eq!(keyring(Linux).unwrap().name, "Secret Service");
        assert_eq!(keyring(MacOs).unwrap().described, "the macOS Keychain");
        assert_eq!(keyring(Windows).unwrap().name, "Credential Manager");
        assert_eq!(keyring(OtherUnix), None);
    }

    #[test]
    fn replacing_files() {
        for p in [Linux, MacOs, OtherUnix] {
            assert_eq!(replace_retries(p).0, 0);
        }
        let (tries, pause) = replace_retries(Windows);
        assert_eq!((tries, pause.as_millis()), (20, 50), "a second in all");
        let path = std::path::Path::new("/h/.aws/config");
        assert_eq!(
            make_writable_hint(Linux, path),
            "chmod u+w '/h/.aws/config'"
        );
        assert_eq!(
            make_writable_hint(MacOs, path),
            "chmod u+w '/h/.aws/config'"
        );
        assert_eq!(
            make_writable_hint(Windows, path),
            "attrib -r \"/h/.aws/config\""
        );
    }

    #[test]
    fn shells() {
        let unix = shell(Linux, "echo 'a b' | cat");
        assert_eq!(unix.program, "sh");
        assert_eq!(unix.args, ["-c", "echo 'a b' | cat"]);
        assert_eq!(unix.raw, None);
        assert_eq!(shell(MacOs, "x"), shell(Linux, "x"));
        // The case that failed: quotes must reach cmd.exe as they are.
        let win = shell(Windows, r#"cmd /c type "C:\path with spaces\creds.json""#);
        assert_eq!(win.program, "cmd.exe");
        assert!(win.args.is_empty());
        assert_eq!(
            win.raw.as_deref(),
            Some(r#"/C "cmd /c type "C:\path with spaces\creds.json"""#)
        );
    }

    #[test]
    fn process_trees() {
        assert!(tree(Linux).parent_death_signal && tree(Linux).watchdog);
        assert!(tree(MacOs).watchdog && !tree(MacOs).parent_death_signal);
        for p in [Linux, MacOs, OtherUnix] {
            assert!(tree(p).process_group && !tree(p).job);
        }
        let w = tree(Windows);
        assert!(w.job && !w.process_group && !w.watchdog && !w.parent_death_signal);
    }

    #[test]
    fn detaching() {
        for p in [Linux, MacOs, OtherUnix] {
            assert_eq!(detach(p), Detach::NewSession { lock_fd: 3 });
        }
        let Detach::DetachedProcess {
            creation_flags,
            fallback_flags,
        } = detach(Windows)
        else {
            panic!("Windows detaches a process");
        };
        assert_eq!(creation_flags, 0x0900_0208);
        assert_eq!(fallback_flags, 0x0800_0208);
    }

    #[test]
    fn interrupts_and_exit_codes() {
        assert!(sent_by_a_process(Linux, 0));
        assert!(!sent_by_a_process(Linux, 0x80), "SI_KERNEL: the terminal");
        assert!(sent_by_a_process(MacOs, 0x10001));
        assert!(!sent_by_a_process(MacOs, 0), "0 is not SI_USER on macOS");
        assert!(!sent_by_a_process(Windows, 0));
        assert_eq!(interrupts(Windows), Interrupts::Console);
        assert_eq!(exec_mode(Linux), ExecMode::Replace);
        assert_eq!(exec_mode(MacOs), ExecMode::Replace);
        assert_eq!(exec_mode(Windows), ExecMode::ChildInJob);
        assert_eq!(exit_code(Some(3), None), 3);
        assert_eq!(exit_code(None, Some(15)), 143);
        assert_eq!(exit_code(None, None), 1);
    }

    #[test]
    fn server_children() {
        assert_eq!(server_child(Linux), ServerChild::DeathSignal(15));
        assert_eq!(server_child(Windows), ServerChild::Job);
        assert_eq!(server_child(MacOs), ServerChild::Orphaned);
        assert_eq!(server_child(OtherUnix), ServerChild::Orphaned);
    }

    #[test]
    fn command_words() {
        assert_eq!(command_word(Linux, "/usr/bin/creds"), "/usr/bin/creds");
        assert_eq!(command_word(MacOs, "/my dir/it's"), "'/my dir/it'\\''s'");
        assert_eq!(
            command_word(Windows, r"C:\Users\me\.cargo\bin\creds.exe"),
            r"C:\Users\me\.cargo\bin\creds.exe"
        );
        assert_eq!(
            command_word(Windows, r"C:\Program Files\creds\creds.exe"),
            r#""C:\Program Files\creds\creds.exe""#
        );
        assert_eq!(command_word(Windows, ""), "\"\"");
    }
}
