//! The Amazon Bedrock short-term API key (a bearer token), minted locally from credentials.
//!
//! The token is `bedrock-api-key-` followed by the base64 of a SigV4 query presign of
//! `POST https://bedrock.amazonaws.com/?Action=CallWithBearerToken` (service `bedrock`, the
//! caller's region, `X-Amz-Expires` at most 43200), with the `https://` dropped and
//! `&Version=1` appended. AWS's own generators (Python `aws-bedrock-token-generator`,
//! JavaScript, Java) build exactly this; `docs/bedrock.md` has the format. The signing is
//! `aws-sigv4`'s, as the SDKs sign; nothing is sent anywhere. The principal of the credentials
//! needs `bedrock:CallWithBearerToken`.
//!
//! The token is a secret: it is only ever returned as a [`Secret`], never logged or cached
//! (minting one from cached credentials takes microseconds).

use crate::error::{Error, Result};
use crate::secret::{Credentials, Secret};
use chrono::{DateTime, Duration, Utc};

/// A token and how long it lasts.
pub struct Minted {
    pub token: Secret,
    pub until: DateTime<Utc>,
    pub lifetime: Duration,
}

/// The longest a token may last (Bedrock's limit, and the default maximum).
pub const MAX_LIFETIME: Duration = Duration::hours(12);

/// The shortest a token is minted for: credentials are asked to last `--min-ttl` plus this, so
/// a token outlives the 5 minutes Claude Code reuses an `apiKeyHelper`'s output.
pub const MIN_LIFETIME: Duration = Duration::minutes(5);

/// How long the credentials a token is minted from are asked to last: `min_ttl` plus
/// [`MIN_LIFETIME`], so that a token always gets its shortest life.
pub fn credentials_min_ttl(min_ttl: Duration) -> Duration {
    min_ttl.checked_add(&MIN_LIFETIME).unwrap_or(min_ttl)
}

const HOST: &str = "bedrock.amazonaws.com";
const PREFIX: &str = "bedrock-api-key-";

/// How long a token minted at `now` from credentials expiring at `expiration` lasts: the
/// shorter of `max` and the credentials' remaining life less `min_ttl`. Credentials too short
/// for that (a role of 15 minutes, for which the walk lowers `--min-ttl`) give
/// [`MIN_LIFETIME`], ending at least a minute before them, and never less than a second.
/// Long-term credentials (no expiration) give `max`.
pub fn lifetime(
    now: DateTime<Utc>,
    expiration: Option<DateTime<Utc>>,
    min_ttl: Duration,
    max: Duration,
) -> Duration {
    let max = max.clamp(Duration::seconds(1), MAX_LIFETIME);
    let Some(expiration) = expiration else {
        return max;
    };
    let left = expiration.signed_duration_since(now);
    let wanted = left.checked_sub(&min_ttl).unwrap_or(Duration::zero());
    let short = left
        .checked_sub(&Duration::minutes(1))
        .unwrap_or(Duration::zero())
        .min(MIN_LIFETIME);
    wanted.max(short).clamp(Duration::seconds(1), max)
}

/// The token for `credentials` in `region`, signed at `now` and valid for `lifetime` (whole
/// seconds, 1 to 43200).
pub fn token(
    credentials: &Credentials,
    region: &str,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<Secret> {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let seconds = lifetime.num_seconds().clamp(1, MAX_LIFETIME.num_seconds());
    let failed = |what: &str| Error::other(format!("cannot sign the Bedrock token: {what}"));
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_string(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_string()),
        None,
        "creds",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(std::time::Duration::from_secs(seconds.unsigned_abs()));
    let time = std::time::SystemTime::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(
            now.timestamp().max(0).unsigned_abs(),
        ))
        .ok_or_else(|| failed("the clock is out of range"))?;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| failed(&e.to_string()))?
        .into();
    let url = format!("https://{HOST}/?Action=CallWithBearerToken");
    let request = SignableRequest::new(
        "POST",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| failed(&e.to_string()))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| failed(&e.to_string()))?
        .into_parts();
    let (_, mut query) = instructions.into_parts();
    // The signature last, as botocore (and so AWS's generators) writes it.
    query.sort_by_key(|(name, _)| *name == "X-Amz-Signature");
    let mut presigned = format!("{HOST}/?Action=CallWithBearerToken");
    for (name, value) in &query {
        presigned.push('&');
        presigned.push_str(name);
        presigned.push('=');
        presigned.push_str(&crate::wire::percent_encode(value));
    }
    presigned.push_str("&Version=1");
    Ok(Secret::new(format!(
        "{PREFIX}{}",
        aws_smithy_types::base64::encode(presigned.as_bytes())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_token_lasts_the_shorter_of_the_cap_and_the_credentials_less_min_ttl() {
        let now = t("2030-01-01T00:00:00Z");
        let min = Duration::minutes(15);
        // Long-term keys: the cap, which never exceeds 12 hours.
        assert_eq!(lifetime(now, None, min, MAX_LIFETIME), MAX_LIFETIME);
        assert_eq!(lifetime(now, None, min, Duration::hours(20)), MAX_LIFETIME);
        assert_eq!(
            lifetime(now, None, min, Duration::hours(2)),
            Duration::hours(2)
        );
        // SSO role credentials for 8 hours: 7h45m.
        let eight = Some(now + Duration::hours(8));
        assert_eq!(
            lifetime(now, eight, min, MAX_LIFETIME),
            Duration::hours(8) - min
        );
        // Long credentials: the cap.
        let day = Some(now + Duration::hours(36));
        assert_eq!(lifetime(now, day, min, MAX_LIFETIME), MAX_LIFETIME);
        // Credentials too short for --min-ttl (a 15-minute role, whose --min-ttl the walk
        // lowered): 5 minutes, ending a minute before them at the latest; never no time.
        let edge = Some(now + min);
        assert_eq!(lifetime(now, edge, min, MAX_LIFETIME), MIN_LIFETIME);
        let short = Some(now + Duration::minutes(4));
        assert_eq!(
            lifetime(now, short, min, MAX_LIFETIME),
            Duration::minutes(3)
        );
        let gone = Some(now + Duration::seconds(30));
        assert_eq!(lifetime(now, gone, min, MAX_LIFETIME), Duration::seconds(1));
    }

    #[test]
    fn the_token_is_a_presigned_call_with_bearer_token() {
        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret/with+chars"),
            session_token: Some(Secret::new("token/with+chars=")),
            expiration: None,
            account_id: None,
        };
        let token = token(
            &creds,
            "eu-west-1",
            t("2030-01-02T03:04:05Z"),
            Duration::hours(1),
        )
        .unwrap();
        let text = token.expose();
        let encoded = text.strip_prefix("bedrock-api-key-").unwrap();
        let decoded = aws_smithy_types::base64::decode(encoded).unwrap();
        // What AWS's Python generator makes of the same inputs: botocore's `SigV4QueryAuth`
        // (service `bedrock`, `expires=3600`) with its clock at 2030-01-02T03:04:05Z, the
        // `https://` dropped and `&Version=1` appended. The signature is the same bytes.
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "bedrock.amazonaws.com/?Action=CallWithBearerToken\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=ASIAEXAMPLE%2F20300102%2Feu-west-1%2Fbedrock%2Faws4_request\
             &X-Amz-Date=20300102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\
             &X-Amz-Security-Token=token%2Fwith%2Bchars%3D\
             &X-Amz-Signature=bdb72a11eeadc110f2fbb0f10c28fd23d0f4cbee2e90a1b0ef989543cd7a9300\
             &Version=1"
        );
        assert!(!format!("{token:?}").contains("bedrock-api-key"));
    }
}
