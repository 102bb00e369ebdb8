//! Error type and the exit codes (their table: `docs/reference.md`).
//!
//! Every failure is an [`Error`]: a [`Kind`] that decides the exit code and one line of text
//! that says what failed and what to do next. Messages are built where the context is known
//! (profile, file and line) and never contain a secret.

use std::fmt;

/// What class of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else (exit 1).
    Other,
    /// Bad command line (exit 2).
    Usage,
    /// Bad configuration: broken file, unknown profile, loop, unsupported source (exit 3).
    Config,
    /// A login or an MFA code is needed (exit 4).
    LoginNeeded,
    /// AWS answered and refused: access denied, invalid or expired token (exit 5).
    AwsRefused,
    /// The endpoint could not be reached or did not answer in time (exit 6).
    Network,
    /// AWS (or whatever answered in its place) sent a reply creds cannot read (exit 1). It is
    /// never cached, printed or remembered as a refusal.
    BadReply,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Other | Kind::BadReply => 1,
            Kind::Usage => 2,
            Kind::Config => 3,
            Kind::LoginNeeded => 4,
            Kind::AwsRefused => 5,
            Kind::Network => 6,
        }
    }

    /// The kind whose exit code is `code`, if `code` is one of ours.
    pub fn from_exit_code(code: i32) -> Option<Kind> {
        Some(match code {
            1 => Kind::Other,
            2 => Kind::Usage,
            3 => Kind::Config,
            4 => Kind::LoginNeeded,
            5 => Kind::AwsRefused,
            6 => Kind::Network,
            _ => return None,
        })
    }
}

/// A failure with its exit class and a one-line, secret-free message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    /// Whether this is a remembered failure being repeated (not a new one to remember).
    pub remembered: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: one_line(message.into()),
            remembered: false,
        }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    /// Prefixes the message with `profile `NAME`: ` unless it already names a profile.
    pub fn in_profile(mut self, profile: &str) -> Self {
        if !self.message.starts_with("profile `") {
            self.message = format!("profile `{profile}`: {}", self.message);
        }
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

/// A message on one line: line breaks (from a helper's output, a server's text) become spaces
/// and other control characters are dropped, so stderr gets exactly one line per failure.
fn one_line(message: String) -> String {
    if !message.chars().any(char::is_control) {
        return message;
    }
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = Error::other("first\r\nsecond\n\n\tthird\u{1b}[31m\n");
        assert_eq!(e.message, "first second third[31m");
        assert_eq!(Error::other("plain").message, "plain");
    }
}
