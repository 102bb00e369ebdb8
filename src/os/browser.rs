//! Opening the sign-in page: [`crate::browser::choose`] decides (pure), this runs it.

use crate::context::{Browser, Env};
use std::io;
use std::process::{Command, Stdio};

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
            crate::browser::choose(crate::platform::Platform::current(), &facts)
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
            .arg(crate::browser::url_argument(url))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Reap it in the background; a browser may outlive this process.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}
