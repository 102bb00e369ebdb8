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
    /// Asks for one line of input (an MFA code), if a person can answer here.
    fn ask(&self, _prompt: &str) -> Option<String> {
        None
    }
    /// Asks for one line without showing what is typed (a secret), if a person can answer.
    fn ask_hidden(&self, _prompt: &str) -> Option<String> {
        None
    }
    /// What a program piped into stdin (at most 4 KiB), when stdin is not a terminal.
    fn piped_input(&self) -> Option<String> {
        None
    }
    /// Whether a person reads it on a terminal (else a program captures it).
    fn is_terminal(&self) -> bool {
        false
    }
}

/// `prompt` on stderr and one line from stdin, when stdin is a terminal; with `hidden`, the
/// terminal's echo is off while the line is typed (and the line break it did not show is
/// written after).
fn answer_on_terminal(prompt: &str, hidden: bool) -> Option<String> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let echo = hidden.then(EchoOff::new);
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if let Some(echo) = echo {
        drop(echo);
        let _ = writeln!(err);
    }
    read.ok()?;
    Some(line.trim().to_string())
}

/// stdout, a line at a time: only for the sign-in lines of `creds login` run as Claude Code's
/// `awsAuthRefresh` (`login` has no document; Claude Code shows the hook's stdout plainly and
/// marks each stderr line as an error).
pub struct StdoutLines;

impl Sink for StdoutLines {
    fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// stderr, flushed after every line.
pub struct Stderr;

impl Sink for Stderr {
    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
        let _ = err.flush();
    }

    fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal()
    }

    /// Only when creds itself runs in a terminal (stdin is one): the prompt on stderr, the
    /// answer from stdin. Under Claude Code's hooks and `credential_process` consumers stdin
    /// is not a terminal, so nothing waits for an answer that cannot come.
    fn ask(&self, prompt: &str) -> Option<String> {
        answer_on_terminal(prompt, false)
    }

    /// As [`Sink::ask`], with the terminal's echo off while the line is typed (restored
    /// afterwards, also when reading fails).
    fn ask_hidden(&self, prompt: &str) -> Option<String> {
        answer_on_terminal(prompt, true)
    }

    fn piped_input(&self) -> Option<String> {
        use std::io::{IsTerminal, Read};
        if std::io::stdin().is_terminal() {
            return None;
        }
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .take(4096)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    }
}

/// The terminal's echo turned off on stdin until dropped (Unix: termios; Windows: the
/// console's input mode).
struct EchoOff {
    #[cfg(unix)]
    saved: Option<libc::termios>,
    #[cfg(windows)]
    saved: Option<u32>,
}

impl EchoOff {
    fn new() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios owned here.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) != 0 {
                    return EchoOff { saved: None };
                }
                let saved = t;
                t.c_lflag &= !(libc::ECHO | libc::ECHONL);
                t.c_lflag |= libc::ICANON;
                if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                    return EchoOff { saved: None };
                }
                EchoOff { saved: Some(saved) }
            }
        }
        #[cfg(windows)]
        {
            use windows_sys::Win32::System::Console::{
                GetConsoleMode, GetStdHandle, SetConsoleMode, ENABLE_ECHO_INPUT, STD_INPUT_HANDLE,
            };
            // SAFETY: reads and sets the mode of this process's console input handle.
            unsafe {
                let input = GetStdHandle(STD_INPUT_HANDLE);
                let mut mode = 0u32;
                if GetConsoleMode(input, &mut mode) == 0
                    || SetConsoleMode(input, mode & !ENABLE_ECHO_INPUT) == 0
                {
                    return EchoOff { saved: None };
                }
                EchoOff { saved: Some(mode) }
            }
        }
        #[cfg(not(any(unix, windows)))]
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = &self.saved {
            // SAFETY: restores the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
        #[cfg(windows)]
        if let Some(mode) = self.saved {
            use windows_sys::Win32::System::Console::{
                GetStdHandle, SetConsoleMode, STD_INPUT_HANDLE,
            };
            // SAFETY: restores the mode read in `new`.
            unsafe {
                SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), mode);
            }
        }
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

/// The controlling terminal (`/dev/tty`), opened when first written to. [`Ui`] writes to it
/// only when stderr is not a terminal already (then stderr is where the user looks, and a
/// second copy would show every line twice). Under Claude Code's hooks stderr is a pipe that Claude Code shows
/// late (or marks as errors) while the terminal shows at once what is written to it, but only
/// until Claude Code draws its screen: each line is written only if [`tty_allowed`] says so
/// at that moment.
#[derive(Default)]
pub struct Terminal {
    file: std::sync::OnceLock<Option<std::fs::File>>,
    /// Run by Claude Code as one of its hooks (`CLAUDE_CODE_ENTRYPOINT` is set).
    under_claude: bool,
}

impl Terminal {
    pub fn new(under_claude: bool) -> Terminal {
        Terminal {
            file: std::sync::OnceLock::new(),
            under_claude,
        }
    }

    fn open() -> Option<std::fs::File> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
                .open("/dev/tty")
                .ok()
        }
        #[cfg(not(unix))]
        None
    }
}

/// Whether a line may be written to the controlling terminal now. `claude_age` is how long the
/// Claude Code above this process has been running, when one is found. Claude Code draws its
/// screen about 21 s after its start (measured with 2.1.197 and 2.1.332, 20.7-21.9 s) and is
/// blank until then, so a line written before shows at once; after, it would garble what
/// Claude Code drew (on 2.1.332 it lands in the prompt's input row). Run as Claude Code's hook
/// with no Claude Code found above (another platform, another process tree), nothing is
/// written: the hook's stdout shows in Claude Code's own box.
pub fn tty_allowed(under_claude: bool, claude_age: Option<f64>) -> bool {
    match claude_age {
        Some(age) => age <= CLAUDE_DRAWS_AFTER,
        None => !under_claude,
    }
}

/// Seconds after its start before which Claude Code has surely not drawn (it draws at about 21).
pub const CLAUDE_DRAWS_AFTER: f64 = 15.0;

/// How long the Claude Code above this process has been running, in seconds, if one is within
/// four generations. Linux only (`/proc`); elsewhere `None`.
fn claude_age() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        // `pid`'s parent and start time (in clock ticks since boot), from /proc/PID/stat.
        let stat = |pid: u32| -> Option<(u32, u64)> {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
            Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
        };
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let mut pid = std::process::id();
        for _ in 0..4 {
            let (parent, _) = stat(pid)?;
            pid = parent;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.to_ascii_lowercase().contains("claude") {
                let started = stat(pid).map_or(uptime, |(_, start)| start as f64 / ticks);
                return Some(uptime - started);
            }
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    None
}

impl Sink for Terminal {
    fn line(&self, text: &str) {
        if !tty_allowed(self.under_claude, claude_age()) {
            return;
        }
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
    /// Where prompts go instead of `sink` once [`Ui::prompts_on_stdout`] is called.
    out: Option<Box<dyn Sink>>,
    prompts_out: std::sync::atomic::AtomicBool,
    /// Warnings that matter only if the command succeeds (see [`Ui::warn_if_served`]).
    held: std::sync::Mutex<Vec<String>>,
}

impl Ui {
    pub fn new(sink: impl Sink + 'static) -> Ui {
        Ui {
            sink: Box::new(sink),
            terminal: None,
            out: None,
            prompts_out: Default::default(),
            held: Default::default(),
        }
    }

    /// `sink`, with prompts also shown on `terminal`, and on `out` instead of `sink` once
    /// asked to ([`Ui::prompts_on_stdout`]).
    pub fn with_terminal(
        sink: impl Sink + 'static,
        terminal: impl Sink + 'static,
        out: impl Sink + 'static,
    ) -> Ui {
        Ui {
            sink: Box::new(sink),
            terminal: Some(Box::new(terminal)),
            out: Some(Box::new(out)),
            prompts_out: Default::default(),
            held: Default::default(),
        }
    }

    /// stderr, with prompts also on the controlling terminal (only while Claude Code, if it
    /// runs this process as its hook, has not drawn: `under_claude`).
    pub fn stderr(under_claude: bool) -> Ui {
        Ui::with_terminal(Stderr, Terminal::new(under_claude), StdoutLines)
    }

    /// From now on the prompts (the sign-in line, its outcome) go to stdout rather than stderr:
    /// `creds login` run as Claude Code's `awsAuthRefresh`, which shows stdout plainly and marks
    /// stderr lines as errors.
    pub fn prompts_on_stdout(&self) {
        self.prompts_out
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The line that says where to sign in, when it is the whole of what is shown: not on a
    /// terminal, where the long form follows ([`Ui::on_terminal`]).
    pub fn sign_in_line(&self, line: &str) {
        if self.prompting_out() || !self.on_terminal() {
            self.prompt(line);
        }
    }

    fn prompting_out(&self) -> bool {
        self.out.is_some() && self.prompts_out.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A line for the controlling terminal only (what stderr gets in another form), when
    /// stderr is not that terminal.
    pub fn terminal(&self, line: &str) {
        if let Some(terminal) = self.terminal.as_ref().filter(|_| !self.on_terminal()) {
            terminal.line(line);
        }
    }

    /// A line the user must see now (a sign-in URL and code, its outcome): on stderr (stdout
    /// after [`Ui::prompts_on_stdout`]), and on the controlling terminal when that is not
    /// where stderr already shows.
    pub fn prompt(&self, line: &str) {
        match &self.out {
            Some(out) if self.prompting_out() => out.line(line),
            _ => self.say(line),
        }
        if let Some(terminal) = self.terminal.as_ref().filter(|_| !self.on_terminal()) {
            terminal.line(line);
        }
    }

    /// A line of the outcome that needs no one's attention (`login`: already signed in): on
    /// stderr, or on stdout after [`Ui::prompts_on_stdout`], never on the terminal.
    pub fn note(&self, line: &str) {
        match &self.out {
            Some(out) if self.prompting_out() => out.line(line),
            _ => self.say(line),
        }
    }

    /// One line of human text, as it is.
    pub fn say(&self, line: &str) {
        self.sink.line(line);
    }

    /// Whether stderr is read on a terminal. When a program captures it (Claude Code shows
    /// it in a box that runs lines together), only the one-line prompts are written.
    pub fn on_terminal(&self) -> bool {
        self.sink.is_terminal()
    }

    /// Asks for one line of input, if a person can answer here.
    pub fn ask(&self, prompt: &str) -> Option<String> {
        self.sink.ask(prompt)
    }

    /// Asks for a secret without echo, if a person can answer here.
    pub fn ask_hidden(&self, prompt: &str) -> Option<String> {
        self.sink.ask_hidden(prompt)
    }

    /// What a program piped into stdin, when stdin is not a terminal.
    pub fn piped_input(&self) -> Option<String> {
        self.sink.piped_input()
    }

    /// `creds: warning: ...`.
    pub fn warn(&self, message: &str) {
        self.say(&format!("creds: warning: {message}"));
    }

    /// A warning about a fallback that let the command go on (an SSO token used as it is
    /// because its renewal failed): held until the command ends, and written by
    /// [`Ui::settle`] only if it succeeded. When it fails, its one error line says what to do,
    /// and a warning with the same cause (the network, the CA) above it would be a second.
    pub fn warn_if_served(&self, message: &str) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("creds: warning: {message}"));
    }

    /// Ends a command (or one request of `exec --server`): writes the held warnings when it
    /// `served`, else drops them.
    pub fn settle(&self, served: bool) {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        if served {
            for line in held {
                self.say(&line);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured lines, read as if on a terminal or not.
    #[derive(Clone, Default)]
    struct Screen(Captured, bool);

    impl Sink for Screen {
        fn line(&self, text: &str) {
            self.0.line(text);
        }
        fn is_terminal(&self) -> bool {
            self.1
        }
    }

    fn screens(stderr_on_terminal: bool) -> (Ui, Captured, Captured, Captured) {
        let (stderr, tty, out) = (
            Captured::default(),
            Captured::default(),
            Captured::default(),
        );
        let ui = Ui::with_terminal(
            Screen(stderr.clone(), stderr_on_terminal),
            tty.clone(),
            out.clone(),
        );
        (ui, stderr, tty, out)
    }

    #[test]
    fn each_line_once_per_screen() {
        // In a terminal: the long form follows, so the one line is not written; the outcome once.
        let (ui, stderr, tty, out) = screens(true);
        ui.sign_in_line("Sign in to x: URL (code C)");
        ui.prompt("creds: signed in");
        assert_eq!(stderr.lines(), ["creds: signed in"]);
        assert!(tty.lines().is_empty() && out.lines().is_empty());
        // stderr piped (a program captures it): the one line on stderr and on the terminal.
        let (ui, stderr, tty, out) = screens(false);
        ui.sign_in_line("Sign in to x: URL (code C)");
        ui.note("creds: x is signed in until T");
        assert_eq!(
            stderr.lines(),
            [
                "Sign in to x: URL (code C)",
                "creds: x is signed in until T"
            ]
        );
        assert_eq!(tty.lines(), ["Sign in to x: URL (code C)"]);
        assert!(out.lines().is_empty());
        // Claude Code's awsAuthRefresh: stdout instead of stderr (shown plainly), the terminal
        // as it allows; warnings and errors stay on stderr.
        let (ui, stderr, tty, out) = screens(false);
        ui.prompts_on_stdout();
        ui.sign_in_line("Sign in to x: URL (code C)");
        ui.note("creds: x is signed in until T");
        ui.warn("w");
        assert_eq!(
            out.lines(),
            [
                "Sign in to x: URL (code C)",
                "creds: x is signed in until T"
            ]
        );
        assert_eq!(tty.lines(), ["Sign in to x: URL (code C)"]);
        assert_eq!(stderr.lines(), ["creds: warning: w"]);
    }

    #[test]
    fn the_terminal_only_before_claude_code_draws() {
        assert!(
            tty_allowed(false, None),
            "no Claude Code: the terminal is ours"
        );
        assert!(
            tty_allowed(true, Some(3.0)),
            "Claude Code has not drawn yet"
        );
        assert!(tty_allowed(false, Some(15.0)));
        assert!(
            !tty_allowed(true, Some(15.5)),
            "it has drawn (at about 21 s)"
        );
        assert!(!tty_allowed(false, Some(40.0)));
        assert!(
            !tty_allowed(true, None),
            "its hook, with no Claude Code found above: never"
        );
    }
}
