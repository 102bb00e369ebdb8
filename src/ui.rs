//! Every byte `creds` writes to stdout or stderr goes through here.
//!
//! stdout is the machine contract: [`document`] writes the one document a command produces,
//! and nothing else ever reaches stdout. Human text goes through the [`Ui`] of the context
//! ([`Ui::say`], [`Ui::warn`], [`Ui::error`], [`Ui::verbose`]): one line at a time, flushed at
//! once, so that a caller reading stderr (Claude Code showing a sign-in URL) sees each line the
//! moment it is written. Tests capture it instead ([`Captured`]). Clippy's `print_stdout` and
//! `print_stderr` lints, and bans on `std::io::stdout`/`stderr`, keep every other module out.

#![allow(clippy::disallowed_methods)] // the one module that owns stdout and stderr

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where human text goes.
pub trait Sink: Send + Sync {
    fn line(&self, text: &str);
}

/// stderr, flushed after every line.
pub struct Stderr;

impl Sink for Stderr {
    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
        let _ = err.flush();
    }
}

/// Lines kept in memory (tests); clones share them.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sink for Captured {
    fn line(&self, text: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.to_string());
    }
}

/// The controlling terminal (`/dev/tty`), opened when first written to, and only when it is
/// not already where stderr goes. Under Claude Code's hooks stderr is a pipe that Claude Code
/// shows late (or not at all) while the terminal shows at once what is written to it.
#[derive(Default)]
pub struct Terminal {
    file: std::sync::OnceLock<Option<std::fs::File>>,
}

impl Terminal {
    fn open() -> Option<std::fs::File> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
            let tty = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
                .open("/dev/tty")
                .ok()?;
            // Not twice: stderr may be this very terminal.
            let stderr = std::fs::metadata("/dev/stderr").ok();
            let same = match (tty.metadata().ok(), stderr) {
                (Some(t), Some(e)) => t.rdev() == e.rdev() && t.rdev() != 0,
                _ => false,
            };
            (!same).then_some(tty)
        }
        #[cfg(not(unix))]
        None
    }
}

impl Sink for Terminal {
    fn line(&self, text: &str) {
        if let Some(mut tty) = self.file.get_or_init(Self::open).as_ref() {
            // Claude Code may have the terminal in raw mode: end lines with \r\n.
            let _ = write!(tty, "{text}\r\n");
            let _ = tty.flush();
        }
    }
}

/// Human output.
pub struct Ui {
    sink: Box<dyn Sink>,
    /// Where a prompt is shown besides `sink` (the controlling terminal).
    terminal: Option<Box<dyn Sink>>,
}

impl Ui {
    pub fn new(sink: impl Sink + 'static) -> Ui {
        Ui {
            sink: Box::new(sink),
            terminal: None,
        }
    }

    /// `sink`, with prompts also shown on `terminal`.
    pub fn with_terminal(sink: impl Sink + 'static, terminal: impl Sink + 'static) -> Ui {
        Ui {
            sink: Box::new(sink),
            terminal: Some(Box::new(terminal)),
        }
    }

    /// stderr, with prompts also on the controlling terminal.
    pub fn stderr() -> Ui {
        Ui::with_terminal(Stderr, Terminal::default())
    }

    /// A line for the controlling terminal only (what stderr gets in another form).
    pub fn terminal(&self, line: &str) {
        if let Some(terminal) = &self.terminal {
            terminal.line(line);
        }
    }

    /// A line the user must see now (a sign-in URL and code, its outcome): on stderr and on
    /// the controlling terminal.
    pub fn prompt(&self, line: &str) {
        self.say(line);
        if let Some(terminal) = &self.terminal {
            terminal.line(line);
        }
    }

    /// One line of human text, as it is.
    pub fn say(&self, line: &str) {
        self.sink.line(line);
    }

    /// `creds: warning: ...`.
    pub fn warn(&self, message: &str) {
        self.say(&format!("creds: warning: {message}"));
    }

    /// `creds: ...`: the one line a failure prints.
    pub fn error(&self, message: &str) {
        self.say(&format!("creds: {message}"));
    }

    /// A `-v` line, `creds: ...`, written only when `on`; the text is built only then.
    pub fn verbose(&self, on: bool, message: impl FnOnce() -> String) {
        if on {
            self.say(&format!("creds: {}", message()));
        }
    }
}

/// Writes the command's document to stdout and flushes it.
pub fn document(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
