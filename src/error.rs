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

/// A failure: its exit class and what a person needs to act on it, as fields. [`Error::line`]
/// (also `Display`) is the one place they become the one line on stderr:
///
/// `profile `P` (STEP): MESSAGE; HINT`
///
/// with each part left out when it is not known. Nothing in any field is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    /// The profile the failure is in.
    pub profile: Option<String>,
    /// The message is said of the profile (`profile `p` not found in ...`) rather than after
    /// it (`profile `p`: ...`).
    pub subject: bool,
    /// What creds was doing: `assuming arn:...`, `credential_source = EcsContainer`.
    pub step: Option<String>,
    /// What failed (the cause, as the layer that saw it says it).
    pub message: String,
    /// The next step for the user: `run `creds login --profile dev``.
    pub hint: Option<String>,
    /// Whether this is a remembered failure being repeated (not a new one to remember).
    pub remembered: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            profile: None,
            subject: false,
            step: None,
            message: one_line(message.into()),
            hint: None,
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

    /// `profile PREDICATE`: an error whose message is said of the profile, such as `not found
    /// in ~/.aws/config`.
    pub fn of_profile(kind: Kind, profile: &str, predicate: impl Into<String>) -> Self {
        let mut e = Self::new(kind, predicate);
        e.profile = Some(profile.to_string());
        e.subject = true;
        e
    }

    /// The error is in `profile`, unless a closer layer already named one.
    pub fn in_profile(mut self, profile: &str) -> Self {
        if self.profile.is_none() {
            self.profile = Some(profile.to_string());
        }
        self
    }

    /// What creds was doing, unless a closer layer already said.
    pub fn in_step(mut self, step: impl Into<String>) -> Self {
        if self.step.is_none() {
            self.step = Some(one_line(step.into()));
        }
        self
    }

    /// The next step for the user, unless a closer layer already gave one.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        if self.hint.is_none() {
            self.hint = Some(one_line(hint.into()));
        }
        self
    }

    /// A failure of a lower layer (a client, a file), placed: it keeps its kind, its cause and
    /// its hint, and is said to be in `profile`, while doing `step`.
    pub fn context(self, profile: &str, step: impl Into<String>) -> Self {
        self.in_profile(profile).in_step(step)
    }

    /// The one line on stderr.
    pub fn line(&self) -> String {
        self.render(true)
    }

    /// What failed, where, without the next step (`doctor` shows that as its "fix:").
    pub fn problem(&self) -> String {
        self.render(false)
    }

    fn render(&self, hint: bool) -> String {
        let mut out = String::new();
        match (&self.profile, &self.step) {
            (Some(profile), Some(step)) => out.push_str(&format!("profile `{profile}` ({step}): ")),
            (Some(profile), None) if self.subject => out.push_str(&format!("profile `{profile}` ")),
            (Some(profile), None) => out.push_str(&format!("profile `{profile}`: ")),
            (None, Some(step)) => out.push_str(&format!("{step}: ")),
            (None, None) => {}
        }
        out.push_str(&self.message);
        if let Some(hint) = self.hint.as_ref().filter(|_| hint) {
            out.push_str("; ");
            out.push_str(hint);
        }
        out
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
        f.write_str(&self.line())
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

    #[test]
    fn one_renderer_places_every_part() {
        let e = Error::new(Kind::AwsRefused, "AccessDenied: not authorized");
        assert_eq!(e.line(), "AccessDenied: not authorized");
        let e = e.context("dev", "assuming arn:aws:iam::1:role/R");
        assert_eq!(
            e.line(),
            "profile `dev` (assuming arn:aws:iam::1:role/R): AccessDenied: not authorized"
        );
        // The closer layer's profile, step and hint stay; the kind never changes.
        let e = e
            .context("outer", "another step")
            .with_hint("check the role's trust policy")
            .with_hint("ignored");
        assert_eq!(e.kind, Kind::AwsRefused);
        assert_eq!(
            e.to_string(),
            "profile `dev` (assuming arn:aws:iam::1:role/R): AccessDenied: not authorized; check the role's trust policy"
        );
        assert_eq!(
            Error::config("no region")
                .in_step("reading\nthe file")
                .line(),
            "reading the file: no region"
        );
        let e = Error::of_profile(Kind::Config, "nope", "not found in ~/.aws/config")
            .in_profile("selected");
        assert_eq!(e.line(), "profile `nope` not found in ~/.aws/config");
    }
}
