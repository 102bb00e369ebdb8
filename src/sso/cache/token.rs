//! The SSO token cache file, `~/.aws/sso/cache/<sha1>.json`, exactly as the AWS CLI v2 writes
//! it (`docs/aws-compat.md` §4): one line of Python `json.dumps` (`", "` and `": "` separators), the
//! keys in the CLI's order, times as `YYYY-MM-DDTHH:MM:SSZ`. Reading is lenient: keys in any
//! case, times with `Z`, an offset or fractions (as the JavaScript and Go SDKs write them).

use crate::secret::Secret;
use crate::wire::{format_time, json_object, json_str, parse_time};
use chrono::{DateTime, Utc};
use serde_json::Value;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Token {
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub access_token: Secret,
    pub expires_at: DateTime<Utc>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub registration_expires_at: Option<DateTime<Utc>>,
    pub refresh_token: Option<Secret>,
}

impl Token {
    /// The file's text, byte for byte as `aws sso login` writes it.
    pub fn to_cli_json(&self) -> String {
        let mut fields: Vec<(&str, String)> = Vec::new();
        if let Some(v) = &self.start_url {
            fields.push(("startUrl", json_str(v)));
        }
        if let Some(v) = &self.region {
            fields.push(("region", json_str(v)));
        }
        fields.push(("accessToken", json_str(self.access_token.expose())));
        fields.push(("expiresAt", json_str(&format_time(self.expires_at))));
        if let Some(v) = &self.client_id {
            fields.push(("clientId", json_str(v)));
        }
        if let Some(v) = &self.client_secret {
            fields.push(("clientSecret", json_str(v.expose())));
        }
        if let Some(v) = self.registration_expires_at {
            fields.push(("registrationExpiresAt", json_str(&format_time(v))));
        }
        if let Some(v) = &self.refresh_token {
            fields.push(("refreshToken", json_str(v.expose())));
        }
        json_object(&fields)
    }

    /// Reads a token file; the error never quotes the file's content.
    pub fn from_json(bytes: &[u8]) -> Result<Token, String> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("is not JSON (line {} column {})", e.line(), e.column()))?;
        let Value::Object(map) = value else {
            return Err("is not a JSON object".into());
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let present = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .is_some_and(|(_, v)| !v.is_null())
        };
        let time = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
            match get(name) {
                None if present(name) => Err(format!(
                    "has a {name} that is not a time string such as \"2026-01-01T00:00:00Z\""
                )),
                None => Ok(None),
                Some(t) => parse_time(t).map(Some).ok_or_else(|| {
                    let shown: String = t.chars().take(40).collect();
                    format!("has a {name} `{shown}` that is not an RFC 3339 time")
                }),
            }
        };
        Ok(Token {
            start_url: get("startUrl").map(str::to_string),
            region: get("region").map(str::to_string),
            access_token: Secret::new(get("accessToken").ok_or("has no accessToken")?),
            expires_at: time("expiresAt")?.ok_or("has no expiresAt")?,
            client_id: get("clientId").map(str::to_string),
            client_secret: get("clientSecret").map(Secret::new),
            registration_expires_at: time("registrationExpiresAt")?,
            refresh_token: get("refreshToken").map(Secret::new),
        })
    }

    /// Whether the token can be renewed with its refresh token at `now`.
    pub fn refreshable(&self, now: DateTime<Utc>) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    fn token() -> Token {
        Token {
            start_url: Some("https://d-abc123.awsapps.com/start".into()),
            region: Some("us-east-1".into()),
            access_token: Secret::new("aoa-token"),
            expires_at: t("2026-01-01T08:00:00Z"),
            client_id: Some("client-id".into()),
            client_secret: Some(Secret::new("client-secret")),
            registration_expires_at: Some(t("2026-04-01T00:00:00Z")),
            refresh_token: Some(Secret::new("aor-token")),
        }
    }

    #[test]
    fn writes_the_cli_format_exactly() {
        assert_eq!(
            token().to_cli_json(),
            r#"{"startUrl": "https://d-abc123.awsapps.com/start", "region": "us-east-1", "accessToken": "aoa-token", "expiresAt": "2026-01-01T08:00:00Z", "clientId": "client-id", "clientSecret": "client-secret", "registrationExpiresAt": "2026-04-01T00:00:00Z", "refreshToken": "aor-token"}"#
        );
    }

    #[test]
    fn reads_every_sdks_spelling() {
        assert_eq!(
            Token::from_json(token().to_cli_json().as_bytes()).unwrap(),
            token()
        );
        // The JavaScript SDK's (2-space indent, milliseconds) and an offset (Go on a non-UTC machine).
        let js = "{\n  \"startUrl\": \"u\",\n  \"accessToken\": \"a\",\n  \"expiresAt\": \"2026-01-01T08:00:00.000Z\",\n  \"refreshToken\": \"r\"\n}";
        assert_eq!(
            Token::from_json(js.as_bytes()).unwrap().expires_at,
            t("2026-01-01T08:00:00Z")
        );
        let go = r#"{"accessToken":"a","expiresAt":"2026-01-01T10:00:00+02:00"}"#;
        assert_eq!(
            Token::from_json(go.as_bytes()).unwrap().expires_at,
            t("2026-01-01T08:00:00Z")
        );
        for bad in [
            &b"{"[..],
            b"[]",
            br#"{"expiresAt":"2026-01-01T08:00:00Z"}"#,
            br#"{"accessToken":"SECRETX","expiresAt":"soon"}"#,
            br#"{"accessToken":"SECRETX","expiresAt":1767225600}"#,
        ] {
            let err = Token::from_json(bad).unwrap_err();
            assert!(!err.contains("SECRETX"), "{err}");
        }
    }

    #[test]
    fn refreshable_needs_a_live_registration() {
        let mut tok = token();
        assert!(tok.refreshable(t("2026-03-01T00:00:00Z")));
        assert!(!tok.refreshable(t("2026-04-01T00:00:00Z")));
        tok.refresh_token = None;
        assert!(!tok.refreshable(t("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn a_numeric_time_is_named_as_such() {
        let err = Token::from_json(br#"{"accessToken":"a","expiresAt":1767225600}"#).unwrap_err();
        assert!(err.contains("expiresAt that is not a time string"), "{err}");
    }
}
