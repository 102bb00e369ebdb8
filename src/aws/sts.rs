//! STS: `AssumeRole` and `GetSessionToken`, behind the [`Sts`] seam.
//!
//! [`AwsSts`] is the real implementation on `aws-sdk-sts`. It builds its async runtime and its
//! client only when a call is made, so the cache-hit path never pays for either.

use crate::error::{Error, Result};
use crate::secret::{Credentials, Secret};
use chrono::{DateTime, Utc};

/// Where STS calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsTarget {
    pub region: String,
    /// An endpoint override (`AWS_ENDPOINT_URL_STS`, `endpoint_url`, ...), else the regional one.
    pub endpoint: Option<String>,
    /// The certificates to trust instead of the system's (`AWS_CA_BUNDLE`, `ca_bundle`).
    pub ca_bundle: Option<std::path::PathBuf>,
    /// `AWS_USE_FIPS_ENDPOINT` / `use_fips_endpoint` and `AWS_USE_DUALSTACK_ENDPOINT` /
    /// `use_dualstack_endpoint`: the endpoint the SDK's rules give for them.
    pub variant: crate::aws::Variant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    pub source_identity: Option<String>,
    /// `SerialNumber` and `TokenCode`, when the role needs MFA and the signing credentials
    /// are not already an MFA session.
    pub mfa: Option<MfaCode>,
}

/// An MFA device and a one-time code from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaCode {
    pub serial: String,
    pub code: Secret,
}

/// An `AssumeRoleWithWebIdentity` call (unsigned: the token is the proof).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentityRequest {
    pub role_arn: String,
    pub session_name: String,
    pub token: Secret,
    pub duration_seconds: Option<u32>,
}

/// Who a set of credentials is, by STS `GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    /// The time in the reply's `Date` header, to measure the clock skew.
    pub server_time: Option<DateTime<Utc>>,
}

/// The STS operations `creds` makes.
pub trait Sts: Send + Sync {
    /// `AssumeRoleWithWebIdentity`: no credentials sign it.
    fn assume_role_with_web_identity(
        &self,
        target: &StsTarget,
        request: &WebIdentityRequest,
    ) -> Result<Credentials>;
    /// `GetCallerIdentity` (`doctor --check`).
    fn get_caller_identity(&self, target: &StsTarget, with: &Credentials)
        -> Result<CallerIdentity>;
    fn assume_role(
        &self,
        target: &StsTarget,
        with: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials>;
    /// `GetSessionToken`, with an MFA code for an MFA session.
    fn get_session_token(
        &self,
        target: &StsTarget,
        with: &Credentials,
        mfa: Option<&MfaCode>,
        duration_seconds: Option<u32>,
    ) -> Result<Credentials>;
}

/// STS through `aws-sdk-sts`: standard retries (3 attempts, throttling and 5xx), a 3 s connect
/// timeout, a 5 s read timeout and 15 s for the whole call, so a dead endpoint fails in seconds.
pub struct AwsSts;

impl AwsSts {
    /// A client for `target`, signing with `with`; unsigned without (web identity).
    fn client(target: &StsTarget, with: Option<&Credentials>) -> Result<aws_sdk_sts::Client> {
        use aws_sdk_sts::config::{BehaviorVersion, Region, SharedCredentialsProvider};
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .retry_config(crate::aws::retries())
            .timeout_config(crate::aws::timeouts());
        if let Some(with) = with {
            let credentials = aws_sdk_sts::config::Credentials::new(
                with.access_key_id.clone(),
                with.secret_access_key.expose().to_string(),
                with.session_token.as_ref().map(|t| t.expose().to_string()),
                with.expiration.map(std::time::SystemTime::from),
                "creds",
            );
            config = config.credentials_provider(SharedCredentialsProvider::new(credentials));
        }
        if let Some(endpoint) = &target.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        config = config
            .use_fips(target.variant.fips)
            .use_dual_stack(target.variant.dual_stack);
        Ok(aws_sdk_sts::Client::from_conf(
            config
                .http_client(crate::aws::http_client(target.ca_bundle.as_deref())?)
                .build(),
        ))
    }
}

/// The URL STS calls for `target` go to, from the SDK's own endpoint rules (regional; FIPS and
/// dual-stack as set; an override as it is). No network.
pub fn resolved_endpoint(target: &StsTarget) -> Result<String> {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let params = Params::builder()
        .region(target.region.clone())
        .use_fips(target.variant.fips)
        .use_dual_stack(target.variant.dual_stack)
        .use_global_endpoint(false)
        .set_endpoint(target.endpoint.clone())
        .build()
        .map_err(|e| Error::config(format!("the STS endpoint cannot be worked out: {e}")))?;
    crate::aws::resolve(DefaultResolver::new().resolve_endpoint(&params), "STS")
}

/// Keeps the `Date` header of a reply (the SDK's output does not carry it).
#[derive(Debug, Clone, Default)]
struct DateHeader(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "creds-date-header"
    }

    fn read_after_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> std::result::Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            if let Ok(mut slot) = self.0.lock() {
                *slot = Some(date.to_string());
            }
        }
        Ok(())
    }
}

impl Sts for AwsSts {
    fn assume_role_with_web_identity(
        &self,
        target: &StsTarget,
        request: &WebIdentityRequest,
    ) -> Result<Credentials> {
        // No credentials: the operation is unsigned.
        let client = Self::client(target, None)?;
        let call = client
            .assume_role_with_web_identity()
            .role_arn(&request.role_arn)
            .role_session_name(&request.session_name)
            .web_identity_token(request.token.expose())
            .set_duration_seconds(request.duration_seconds.map(|d| d as i32));
        let out = crate::aws::block_on(call.send())?
            .map_err(|e| classify("AssumeRoleWithWebIdentity", target, e))?;
        let account = out
            .assumed_role_user()
            .map(|u| u.arn())
            .and_then(account_from_arn);
        convert(
            out.credentials(),
            account,
            "AssumeRoleWithWebIdentity",
            target,
        )
    }

    fn get_caller_identity(
        &self,
        target: &StsTarget,
        with: &Credentials,
    ) -> Result<CallerIdentity> {
        let client = Self::client(target, Some(with))?;
        let date = DateHeader::default();
        let out = crate::aws::block_on(
            client
                .get_caller_identity()
                .customize()
                .interceptor(date.clone())
                .send(),
        )?
        .map_err(|e| classify("GetCallerIdentity", target, e))?;
        let server_time = date
            .0
            .lock()
            .ok()
            .and_then(|d| d.clone())
            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
            .map(|t| t.with_timezone(&Utc));
        let (Some(account), Some(arn)) = (out.account(), out.arn()) else {
            return Err(crate::aws::bad_reply(
                "GetCallerIdentity",
                &endpoint(target),
                "no Account or Arn",
            ));
        };
        Ok(CallerIdentity {
            account: account.to_string(),
            arn: arn.to_string(),
            server_time,
        })
    }

    fn assume_role(
        &self,
        target: &StsTarget,
        with: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials> {
        let client = Self::client(target, Some(with))?;
        let call = client
            .assume_role()
            .role_arn(&request.role_arn)
            .role_session_name(&request.session_name)
            .set_external_id(request.external_id.clone())
            .set_duration_seconds(request.duration_seconds.map(|d| d as i32))
            .set_source_identity(request.source_identity.clone())
            .set_serial_number(request.mfa.as_ref().map(|m| m.serial.clone()))
            .set_token_code(request.mfa.as_ref().map(|m| m.code.expose().to_string()));
        let out =
            crate::aws::block_on(call.send())?.map_err(|e| classify("AssumeRole", target, e))?;
        let account = out
            .assumed_role_user()
            .map(|u| u.arn())
            .and_then(account_from_arn);
        convert(out.credentials(), account, "AssumeRole", target)
    }

    fn get_session_token(
        &self,
        target: &StsTarget,
        with: &Credentials,
        mfa: Option<&MfaCode>,
        duration_seconds: Option<u32>,
    ) -> Result<Credentials> {
        let client = Self::client(target, Some(with))?;
        let call = client
            .get_session_token()
            .set_serial_number(mfa.map(|m| m.serial.clone()))
            .set_token_code(mfa.map(|m| m.code.expose().to_string()))
            .set_duration_seconds(duration_seconds.map(|d| d as i32));
        let out = crate::aws::block_on(call.send())?
            .map_err(|e| classify("GetSessionToken", target, e))?;
        convert(
            out.credentials(),
            with.account_id.clone(),
            "GetSessionToken",
            target,
        )
    }
}

/// The account id of an ARN such as `arn:aws:sts::123456789012:assumed-role/Role/session`.
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (!account.is_empty()).then(|| account.to_string())
}

fn endpoint(target: &StsTarget) -> String {
    target
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("STS in {}", target.region))
}

/// The credentials of a reply, which must have every part: a reply without an Expiration
/// (read by the SDK as 1970) or a SessionToken is not credentials.
fn convert(
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    account_id: Option<String>,
    operation: &str,
    target: &StsTarget,
) -> Result<Credentials> {
    let bad = |what: &str| crate::aws::bad_reply(operation, &endpoint(target), what);
    let c = credentials.ok_or_else(|| bad("no Credentials"))?;
    let expiration = DateTime::<Utc>::from_timestamp(c.expiration().secs(), 0)
        .filter(|t| t.timestamp() > 0)
        .ok_or_else(|| bad("no Expiration"))?;
    for (name, value) in [
        ("AccessKeyId", c.access_key_id()),
        ("SecretAccessKey", c.secret_access_key()),
        ("SessionToken", c.session_token()),
    ] {
        if value.is_empty() {
            return Err(bad(&format!("no {name}")));
        }
    }
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Some(Secret::new(c.session_token())),
        expiration: Some(expiration),
        account_id,
    })
}

fn classify<E>(
    operation: &str,
    target: &StsTarget,
    err: aws_sdk_sts::error::SdkError<E, crate::aws::HttpResponse>,
) -> Error
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let endpoint = endpoint(target);
    if let Some(e) = crate::aws::transport_error(operation, &endpoint, &err) {
        return e;
    }
    let service = err.as_service_error();
    let Some(code) = service.and_then(|e| e.code()) else {
        return crate::aws::unreadable_answer(operation, &endpoint, &err);
    };
    let text = service.and_then(|e| e.message()).unwrap_or("");
    let hint = match code {
        "ExpiredToken" | "ExpiredTokenException" => {
            "the source credentials have expired; refresh them"
        }
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException" => {
            "the source credentials are not valid; check the access keys"
        }
        "AccessDenied" | "AccessDeniedException" => {
            "check the role's trust policy and the source credentials' permissions"
        }
        _ => "check the profile's settings",
    };
    crate::aws::service_error(operation, code, text, hint)
}
