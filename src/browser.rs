//! How to open a sign-in page, decided by a pure function of the platform and the environment
//! ([`choose`]); `crate::os::browser::SystemBrowser` runs what it decides.
//!
//! | where | browser | sign-in flow |
//! |---|---|---|
//! | `BROWSER` set (any platform, even over SSH) | `$BROWSER URL` | PKCE |
//! | SSH session (`SSH_CONNECTION`, `SSH_CLIENT`, `SSH_TTY`) | none | device code |
//! | container (`/.dockerenv`, `container=...`) | none | device code |
//! | macOS | `open URL` | PKCE |
//! | Windows | `cmd.exe /C start "" URL` | PKCE |
//! | WSL (`WSL_DISTRO_NAME`, `WSL_INTEROP`) | `wslview URL`, else `cmd.exe /C start "" URL` | device code: a Windows browser may not reach a listener in the Linux VM |
//! | Linux or BSD with `DISPLAY` or `WAYLAND_DISPLAY` | `xdg-open URL` | PKCE |
//! | anything else (headless) | none | device code |
//!
//! `--no-browser` and `--device-code` win over all of this.

/// The operating system creds runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    MacOs,
    Windows,
    /// Linux, the BSDs and other Unix systems.
    Unix,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Unix
        }
    }
}

/// What [`choose`] looks at (gathered by the context; no reads here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `BROWSER`.
    pub browser: Option<String>,
    /// `SSH_CONNECTION`, `SSH_CLIENT` or `SSH_TTY` is set.
    pub ssh: bool,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set.
    pub display: bool,
    /// `WSL_DISTRO_NAME` or `WSL_INTEROP` is set.
    pub wsl: bool,
    /// `wslview` (wslu) is on `PATH` (looked for only under WSL).
    pub wslview: bool,
    /// `/.dockerenv` exists or `container` is set.
    pub container: bool,
}

/// How to open a page, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Run `program` with `args` and then the URL.
    Open {
        program: String,
        args: Vec<String>,
        /// Whether the browser can reach a redirect listener on this machine's 127.0.0.1.
        loopback: bool,
    },
    /// No browser: the user opens the URL themselves (device code flow).
    None { why: &'static str },
}

impl Choice {
    fn open(program: &str, args: &[&str], loopback: bool) -> Choice {
        Choice::Open {
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            loopback,
        }
    }

    /// Whether a browser will be opened.
    pub fn opens(&self) -> bool {
        matches!(self, Choice::Open { .. })
    }

    /// Whether the PKCE flow (a redirect to 127.0.0.1) can be used.
    pub fn loopback(&self) -> bool {
        matches!(self, Choice::Open { loopback: true, .. })
    }
}

/// The way to open a sign-in page on `os` with `facts`.
pub fn choose(os: Os, facts: &Facts) -> Choice {
    if let Some(command) = facts.browser.as_deref().filter(|c| !c.trim().is_empty()) {
        let mut words = command.split_whitespace();
        let program = words.next().unwrap_or_default();
        let args: Vec<&str> = words.collect();
        return Choice::open(program, &args, !facts.wsl);
    }
    if facts.ssh {
        return Choice::None {
            why: "this is an SSH session",
        };
    }
    if facts.container {
        return Choice::None {
            why: "this is a container",
        };
    }
    match os {
        Os::MacOs => Choice::open("open", &[], true),
        Os::Windows => Choice::open("cmd.exe", &["/C", "start", ""], true),
        Os::Unix if facts.wsl && facts.wslview => Choice::open("wslview", &[], false),
        Os::Unix if facts.wsl => Choice::open("cmd.exe", &["/C", "start", ""], false),
        Os::Unix if facts.display => Choice::open("xdg-open", &[], true),
        Os::Unix => Choice::None {
            why: "there is no display",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(f: impl FnOnce(&mut Facts)) -> Facts {
        let mut facts = Facts::default();
        f(&mut facts);
        facts
    }

    fn program(c: &Choice) -> Option<(&str, bool)> {
        match c {
            Choice::Open {
                program, loopback, ..
            } => Some((program.as_str(), *loopback)),
            Choice::None { .. } => None,
        }
    }

    #[test]
    fn every_case() {
        let none = Facts::default();
        assert_eq!(program(&choose(Os::MacOs, &none)), Some(("open", true)));
        assert_eq!(
            program(&choose(Os::Windows, &none)),
            Some(("cmd.exe", true))
        );
        assert_eq!(
            choose(Os::Windows, &none),
            Choice::open("cmd.exe", &["/C", "start", ""], true)
        );
        // A Linux desktop; a headless Linux.
        let desktop = facts(|f| f.display = true);
        assert_eq!(
            program(&choose(Os::Unix, &desktop)),
            Some(("xdg-open", true))
        );
        assert_eq!(
            choose(Os::Unix, &none),
            Choice::None {
                why: "there is no display"
            }
        );
        // SSH and containers: no browser, even with a (forwarded) display.
        let ssh = facts(|f| {
            f.ssh = true;
            f.display = true;
        });
        assert!(!choose(Os::Unix, &ssh).opens());
        assert!(!choose(Os::MacOs, &ssh).opens());
        let container = facts(|f| {
            f.container = true;
            f.display = true;
        });
        assert!(!choose(Os::Unix, &container).opens());
        // WSL: wslview, else cmd.exe; never a loopback redirect.
        let wsl = facts(|f| f.wsl = true);
        assert_eq!(program(&choose(Os::Unix, &wsl)), Some(("cmd.exe", false)));
        let wslview = facts(|f| {
            f.wsl = true;
            f.wslview = true;
            f.display = true;
        });
        assert_eq!(
            program(&choose(Os::Unix, &wslview)),
            Some(("wslview", false))
        );
        // BROWSER wins everywhere, with its arguments.
        let browser = facts(|f| {
            f.browser = Some("firefox --new-tab".into());
            f.ssh = true;
        });
        assert_eq!(
            choose(Os::Unix, &browser),
            Choice::open("firefox", &["--new-tab"], true)
        );
        let browser_wsl = facts(|f| {
            f.browser = Some("wslview".into());
            f.wsl = true;
        });
        assert!(!choose(Os::Unix, &browser_wsl).loopback());
        let blank = facts(|f| f.browser = Some("  ".into()));
        assert!(!choose(Os::Unix, &blank).opens());
    }
}
