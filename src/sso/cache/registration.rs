//! The OIDC client registration cache, shared with the AWS CLI (`docs/aws-compat.md` §4.5).
//!
//! File: `~/.aws/sso/cache/<sha1>.json` where the hashed text is Python's
//! `json.dumps({"region", "scopes", "session_name", "startUrl", "tool": "botocore"},
//! sort_keys=True)`. Content: `{"clientId", "clientSecret", "expiresAt", ["scopes"],
//! ["grantTypes"]}`. A registration is reused until 15 minutes before it expires, and only for
//! the flow it was made for.

pub use crate::aws::sso::{
    Registration, GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN,
};
use crate::secret::Secret;
use crate::wire::{format_time, json_list, json_object, json_str, parse_time};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sha1::{Digest, Sha1};

/// A registration is not reused within this much of its expiry.
pub const EXPIRY_WINDOW: Duration = Duration::minutes(15);

/// botocore's cache key for a registration (`_registration_cache_key`).
pub fn cache_key(
    start_url: &str,
    region: &str,
    scopes: Option<&[String]>,
    session_name: Option<&str>,
) -> String {
    let text = format!(
        "{{\"region\": {}, \"scopes\": {}, \"session_name\": {}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
        json_str(region),
        scopes.map_or("null".to_string(), json_list),
        session_name.map_or("null".to_string(), json_str),
        json_str(start_url)
    );
    crate::wire::hex(&Sha1::digest(text.as_bytes()))
}

impl Registration {
    pub fn to_cli_json(&self) -> String {
        let mut fields = vec![
            ("clientId", json_str(&self.client_id)),
            ("clientSecret", json_str(self.client_secret.expose())),
            ("expiresAt", json_str(&format_time(self.expires_at))),
        ];
        if let Some(scopes) = &self.scopes {
            fields.push(("scopes", json_list(scopes)));
        }
        if let Some(grants) = &self.grant_types {
            fields.push(("grantTypes", json_list(grants)));
        }
        json_object(&fields)
    }

    pub fn from_json(bytes: &[u8]) -> Option<Registration> {
        let Value::Object(map) = serde_json::from_slice(bytes).ok()? else {
            return None;
        };
        let list = |name: &str| {
            map.get(name).and_then(|v| v.as_array()).map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
        };
        Some(Registration {
            client_id: map.get("clientId")?.as_str()?.to_string(),
            client_secret: Secret::new(map.get("clientSecret")?.as_str()?),
            expires_at: parse_time(map.get("expiresAt")?.as_str()?)?,
            scopes: list("scopes"),
            grant_types: list("grantTypes"),
        })
    }

    /// Whether this registration may be reused at `now` for a flow that needs `grant`
    /// (a registration without `grantTypes` is botocore's device-flow registration).
    pub fn usable(&self, now: DateTime<Utc>, grant: &str) -> bool {
        let kind_ok = match &self.grant_types {
            Some(grants) => grants.iter().any(|g| g == grant),
            None => grant == GRANT_DEVICE_CODE,
        };
        kind_ok && crate::wire::until(self.expires_at, now) > EXPIRY_WINDOW
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn botocore_cache_key_vectors() {
        assert_eq!(
            cache_key(
                "https://d-abc123.awsapps.com/start",
                "us-west-2",
                None,
                None
            ),
            "d75f79f67bab3f92a2b1450471c0c2574de0dca4"
        );
        assert_eq!(
            cache_key(
                "https://d-abc123.awsapps.com/start",
                "us-east-1",
                Some(&["sso:account:access".to_string()]),
                Some("my-sso")
            ),
            "18d9b42846b15eb5385befb03b3d864f800fcc11"
        );
    }

    #[test]
    fn round_trip_and_reuse_rules() {
        let now = parse_time("2026-01-01T00:00:00Z").unwrap();
        let reg = Registration {
            client_id: "id".into(),
            client_secret: Secret::new("secret"),
            expires_at: parse_time("2026-01-01T00:16:00Z").unwrap(),
            scopes: Some(vec!["sso:account:access".into()]),
            grant_types: Some(vec![GRANT_DEVICE_CODE.into(), GRANT_REFRESH_TOKEN.into()]),
        };
        assert_eq!(
            reg.to_cli_json(),
            r#"{"clientId": "id", "clientSecret": "secret", "expiresAt": "2026-01-01T00:16:00Z", "scopes": ["sso:account:access"], "grantTypes": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]}"#
        );
        assert_eq!(
            Registration::from_json(reg.to_cli_json().as_bytes()).unwrap(),
            reg
        );
        assert!(reg.usable(now, GRANT_DEVICE_CODE));
        assert!(!reg.usable(now, GRANT_AUTHORIZATION_CODE));
        assert!(!reg.usable(now + Duration::minutes(2), GRANT_DEVICE_CODE));
        let botocore = Registration {
            grant_types: None,
            ..reg
        };
        assert!(botocore.usable(now, GRANT_DEVICE_CODE));
        assert!(!botocore.usable(now, GRANT_AUTHORIZATION_CODE));
    }
}
