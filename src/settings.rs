//! Region and service endpoints: all precedence rules in one place.
//!
//! | setting | order |
//! |---|---|
//! | region | `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1` for STS |
//! | STS, SSO and SSO OIDC endpoints | `AWS_ENDPOINT_URL_STS` (`_SSO`, `_SSO_OIDC`), `AWS_ENDPOINT_URL`, the profile's `services` section `sts = endpoint_url = ...` (`sso`, `sso_oidc`), the profile's `endpoint_url`, else the regional endpoint; all but the last are ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's `ignore_configured_endpoint_urls` is `true` |

use crate::config::{parse::sub_properties, ProfileSet};
use crate::context::Env;
use crate::error::{Error, Result};
use crate::source::sts::StsTarget;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The region from the environment or the profile, if any.
    pub region: Option<String>,
    pub sts: StsTarget,
    /// Endpoint overrides for the IAM Identity Center portal and OIDC services.
    pub sso_endpoint: Option<String>,
    pub sso_oidc_endpoint: Option<String>,
}

/// STS's region when nothing names one (what the JavaScript SDK and the CLI fall back to).
pub const DEFAULT_STS_REGION: &str = "us-east-1";

/// A service whose endpoint can be configured: its `AWS_ENDPOINT_URL_<ENV>` suffix and its key
/// in a `[services]` section.
struct Service {
    env: &'static str,
    key: &'static str,
}

const STS: Service = Service {
    env: "STS",
    key: "sts",
};
const SSO: Service = Service {
    env: "SSO",
    key: "sso",
};
const SSO_OIDC: Service = Service {
    env: "SSO_OIDC",
    key: "sso_oidc",
};

pub fn resolve(env: &Env, set: &ProfileSet, profile_name: &str) -> Result<Settings> {
    let profile = set.profile(profile_name);
    let get = |key: &str| profile.and_then(|p| p.get(key)).filter(|v| !v.is_empty());
    let region = env
        .get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .or_else(|| get("region"))
        .map(str::to_string);
    let sts_region = region
        .clone()
        .unwrap_or_else(|| DEFAULT_STS_REGION.to_string());
    Ok(Settings {
        region,
        sts: StsTarget {
            region: sts_region,
            endpoint: endpoint(env, set, profile_name, &STS)?,
        },
        sso_endpoint: endpoint(env, set, profile_name, &SSO)?,
        sso_oidc_endpoint: endpoint(env, set, profile_name, &SSO_OIDC)?,
    })
}

/// The configured endpoint of `service` for the profile, in the SDKs' order.
fn endpoint(
    env: &Env,
    set: &ProfileSet,
    profile_name: &str,
    service: &Service,
) -> Result<Option<String>> {
    let profile = set.profile(profile_name);
    let get = |key: &str| profile.and_then(|p| p.get(key)).filter(|v| !v.is_empty());
    let ignore = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        || ignore(get("ignore_configured_endpoint_urls"))
    {
        return Ok(None);
    }
    let service_var = format!("AWS_ENDPOINT_URL_{}", service.env);
    if let Some(url) = env
        .get(&service_var)
        .or_else(|| env.get("AWS_ENDPOINT_URL"))
    {
        return Ok(Some(check_url(url, "the environment")?));
    }
    let services = get("services").and_then(|name| set.services.get(name).map(|s| (name, s)));
    let from_services = services.and_then(|(name, s)| {
        let prop = s.property(service.key)?;
        let url = sub_properties(&prop.value)
            .into_iter()
            .find(|(k, _)| k == "endpoint_url")?
            .1;
        Some((url, format!("[services {name}] at {}", prop.origin())))
    });
    let from_profile = profile
        .and_then(|p| p.property("endpoint_url"))
        .map(|p| (p.value.clone(), p.origin()));
    match from_services.or(from_profile) {
        Some((url, origin)) => Ok(Some(check_url(&url, &origin)?)),
        None => Ok(None),
    }
}

fn check_url(url: &str, origin: &str) -> Result<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url.trim_end_matches('/').to_string()),
        _ => Err(Error::config(format!("endpoint URL `{url}` from {origin} is not valid: it must start with https:// or http:// and name a host"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str) -> ProfileSet {
        ProfileSet::from_texts("cfg", config, "creds", "").unwrap()
    }

    #[test]
    fn region_precedence() {
        let s = set("[profile p]\nregion = eu-west-1\n");
        assert_eq!(
            resolve(&Env::default(), &s, "p").unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            resolve(
                &Env::from_pairs([("AWS_DEFAULT_REGION", "ap-south-1")]),
                &s,
                "p"
            )
            .unwrap()
            .region
            .as_deref(),
            Some("ap-south-1")
        );
        let both = Env::from_pairs([
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_REGION", "us-west-2"),
        ]);
        assert_eq!(resolve(&both, &s, "p").unwrap().sts.region, "us-west-2");
        assert_eq!(
            resolve(&Env::default(), &set("[profile q]\n"), "q")
                .unwrap()
                .sts
                .region,
            "us-east-1"
        );
    }

    #[test]
    fn endpoint_precedence() {
        let s = set("[profile p]\nendpoint_url = http://127.0.0.1:1\nservices = loc\n[services loc]\nsts =\n  endpoint_url = http://127.0.0.1:2/\n[profile q]\nendpoint_url = http://127.0.0.1:3\n");
        assert_eq!(
            resolve(&Env::default(), &s, "p")
                .unwrap()
                .sts
                .endpoint
                .as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(
            resolve(&Env::default(), &s, "q")
                .unwrap()
                .sts
                .endpoint
                .as_deref(),
            Some("http://127.0.0.1:3")
        );
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4"),
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5"),
        ]);
        assert_eq!(
            resolve(&env, &s, "p").unwrap().sts.endpoint.as_deref(),
            Some("http://127.0.0.1:5")
        );
        let ignore = Env::from_pairs([
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4"),
        ]);
        assert_eq!(resolve(&ignore, &s, "p").unwrap().sts.endpoint, None);
        let bad = resolve(
            &Env::default(),
            &set("[profile b]\nendpoint_url = localhost:1\n"),
            "b",
        )
        .unwrap_err();
        assert!(bad.message.contains("cfg:2"), "{}", bad.message);
    }
}
