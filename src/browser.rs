//! How to open a sign-in page, decided by a pure function of the platform and the environment
//! ([`choose`]); `crate::os::browser::SystemBrowser` runs what it decides.
//!
//! | where | browser | sign-in flow |
//! |---|---|---|
//! | `BROWSER` set (any platform, even over SSH) | `$BROWSER URL` | PKCE |
//! | SSH session (`SSH_CONNECTION`, `SSH_CLIENT`, `SSH_TTY`) | none | device code |
//! | container (`/.dockerenv`, `container=...`) | none | device code |
//! | macOS | `open URL` | PKCE |
//! | Windows | `rundll32.exe url.dll,FileProtocolHandler URL` | PKCE |
//! | WSL (`WSL_DISTRO_NAME`, `WSL_INTEROP`) | `wslview URL`, else `rundll32.exe url.dll,FileProtocolHandler URL` | device code: a Windows browser may not reach a listener in the Linux VM |
//! | Linux or BSD with `DISPLAY` or `WAYLAND_DISPLAY` | `xdg-open URL` | PKCE |
//! | anything else (headless) | none | device code |
//!
//! `--no-browser` and `--device-code` win over all of this.
//!
//! On Windows the URL goes to the URL handler with no shell in between: `cmd.exe /C start`
//! would read the `&` between query parameters as a command separator, and `%` and `^` as its
//! own syntax. The URL is one argument ([`url_argument`] encodes the spaces and quotes that
//! would split or quote it), so nothing in it is read by anything but the browser.

/// The platform, as the table above names it.
pub use crate::platform::Platform as Os;

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
        Os::Windows => Choice::open(WINDOWS_OPENER, &[WINDOWS_URL_HANDLER], true),
        _ if facts.wsl && facts.wslview => Choice::open("wslview", &[], false),
        _ if facts.wsl => Choice::open(WINDOWS_OPENER, &[WINDOWS_URL_HANDLER], false),
        _ if facts.display => Choice::open("xdg-open", &[], true),
        _ => Choice::None {
            why: "there is no display",
        },
    }
}

/// Windows' URL handler, run without a shell.
const WINDOWS_OPENER: &str = "rundll32.exe";
const WINDOWS_URL_HANDLER: &str = "url.dll,FileProtocolHandler";

/// `url` as one command-line argument that every platform passes on unchanged: spaces, tabs
/// and double quotes (which a Windows command line would split on or strip; a well-formed URL
/// has none) percent-encoded. `&`, `%`, `^` and `?` stay as they are: no shell reads them.
pub fn url_argument(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('\t', "%09")
        .replace('"', "%22")
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
            choose(Os::Windows, &none),
            Choice::open("rundll32.exe", &["url.dll,FileProtocolHandler"], true)
        );
        // A Linux desktop; a headless Linux.
        let desktop = facts(|f| f.display = true);
        assert_eq!(
            program(&choose(Os::Linux, &desktop)),
            Some(("xdg-open", true))
        );
        assert_eq!(
            choose(Os::Linux, &none),
            Choice::None {
                why: "there is no display"
            }
        );
        // SSH and containers: no browser, even with a (forwarded) display.
        let ssh = facts(|f| {
            f.ssh = true;
            f.display = true;
        });
        assert!(!choose(Os::Linux, &ssh).opens());
        assert!(!choose(Os::MacOs, &ssh).opens());
        let container = facts(|f| {
            f.container = true;
            f.display = true;
        });
        assert!(!choose(Os::Linux, &container).opens());
        // WSL: wslview, else Windows' URL handler; never a loopback redirect.
        let wsl = facts(|f| f.wsl = true);
        assert_eq!(
            program(&choose(Os::Linux, &wsl)),
            Some(("rundll32.exe", false))
        );
        let wslview = facts(|f| {
            f.wsl = true;
            f.wslview = true;
            f.display = true;
        });
        assert_eq!(
            program(&choose(Os::Linux, &wslview)),
            Some(("wslview", false))
        );
        // BROWSER wins everywhere, with its arguments.
        let browser = facts(|f| {
            f.browser = Some("firefox --new-tab".into());
            f.ssh = true;
        });
        assert_eq!(
            choose(Os::Linux, &browser),
            Choice::open("firefox", &["--new-tab"], true)
        );
        let browser_wsl = facts(|f| {
            f.browser = Some("wslview".into());
            f.wsl = true;
        });
        assert!(!choose(Os::Linux, &browser_wsl).loopback());
        let blank = facts(|f| f.browser = Some("  ".into()));
        assert!(!choose(Os::Linux, &blank).opens());
        // Every platform has a rule (the BSDs as Linux).
        for os in Os::ALL {
            let _ = choose(os, &desktop);
        }
        assert_eq!(choose(Os::OtherUnix, &desktop), choose(Os::Linux, &desktop));
    }

    /// A URL reaches the browser as one argument, whatever it holds: the query's `&` and `%`
    /// as they are (cmd.exe would have cut the URL at `&`), spaces and quotes encoded.
    #[test]
    fn urls_are_one_argument() {
        let url = "https://oidc.us-east-1.amazonaws.com/authorize?response_type=code&client_id=a%2Fb&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555&state=x^y";
        assert_eq!(url_argument(url), url);
        assert_eq!(
            url_argument("https://h/?a=\"b c\""),
            "https://h/?a=%22b%20c%22"
        );
    }
}
