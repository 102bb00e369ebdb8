//! Secret values and credentials whose `Debug` never shows the secret.

use chrono::{DateTime, Utc};
use std::fmt;

/// A secret string. It has no `Display`, and its `Debug` prints `** redacted **`; the value is
/// reachable only through [`Secret::expose`], which makes every use visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// A set of AWS credentials. The access key id is not secret (it appears in CloudTrail and in
/// every signed request); the secret key and the session token are.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    /// `None` for long-term credentials.
    pub expiration: Option<DateTime<Utc>>,
    pub account_id: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiration", &self.expiration)
            .field("account_id", &self.account_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials {
            access_key_id: "AKIDVISIBLE".into(),
            secret_access_key: Secret::new("very-secret-key"),
            session_token: Some(Secret::new("very-secret-token")),
            expiration: None,
            account_id: None,
        };
        let shown = format!("{c:?} {:#?}", c);
        assert!(shown.contains("AKIDVISIBLE"));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("** redacted **"));
    }
}
