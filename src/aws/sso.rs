//! IAM Identity Center's two services behind the [`SsoApi`] seam: SSO OIDC (client
//! registration, device authorization, tokens) and the SSO portal (role credentials, logout).
//! [`AwsSso`] is the real implementation on `aws-sdk-ssooidc` and `aws-sdk-sso`; both services
//! are called without SigV4, in the session's `sso_region`.

use crate::error::{Error, Kind, Result};
use crate::secret::{Credentials, Secret};
use chrono::{DateTime, Utc};

pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";

/// An OIDC client registration: what `RegisterClient` answered, with what was asked for. Its
/// AWS-CLI cache file format is in `crate::sso::cache::registration`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: DateTime<Utc>,
    pub scopes: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
}

/// Endpoint overrides (`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub oidc: Option<String>,
    pub portal: Option<String>,
    /// The certificates to trust instead of the system's (`AWS_CA_BUNDLE`, `ca_bundle`).
    pub ca_bundle: Option<std::path::PathBuf>,
    /// FIPS and dual-stack, as for STS.
    pub variant: crate::aws::Variant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    pub client_name: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub issuer_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// What `CreateToken` is asked to exchange.
pub enum Grant<'a> {
    DeviceCode(&'a Secret),
    RefreshToken(&'a Secret),
    AuthorizationCode {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
}

#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: Secret,
    pub expires_in: i64,
    pub refresh_token: Option<Secret>,
}

/// The answers of `CreateToken` that a caller acts on.
#[derive(Debug)]
pub enum TokenError {
    AuthorizationPending,
    SlowDown,
    /// The device code, authorization code or refresh token has expired.
    Expired,
    AccessDenied,
    /// The grant was refused (for a refresh token: revoked or unknown).
    InvalidGrant(String),
    Other(Error),
}

pub trait SsoApi: Send + Sync {
    fn register_client(
        &self,
        region: &str,
        endpoints: &Endpoints,
        request: &RegisterRequest,
        now: DateTime<Utc>,
    ) -> Result<Registration>;
    fn start_device_authorization(
        &self,
        region: &str,
        endpoints: &Endpoints,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization>;
    fn create_token(
        &self,
        region: &str,
        endpoints: &Endpoints,
        registration: &Registration,
        grant: Grant<'_>,
    ) -> std::result::Result<TokenGrant, TokenError>;
    fn get_role_credentials(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials>;
    fn logout(&self, region: &str, endpoints: &Endpoints, access_token: &Secret) -> Result<()>;
    /// One page of `ListAccounts`: the accounts, and the token of the next page.
    fn list_accounts(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        next: Option<&str>,
    ) -> Result<Page<Account>>;
    /// One page of `ListAccountRoles` for `account_id`: role names, and the next page's token.
    fn list_account_roles(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        account_id: &str,
        next: Option<&str>,
    ) -> Result<Page<String>>;
}

/// An account the SSO user can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// One page of a paginated listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The URL an SDK client of `$krate` calls in `$region` (its endpoint rules, in memory).
macro_rules! resolved {
    ($krate:ident, $region:expr, $endpoint:expr, $variant:expr, $what:expr) => {{
        use $krate::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        let params = Params::builder()
            .region($region.to_string())
            .use_fips($variant.fips)
            .use_dual_stack($variant.dual_stack)
            .set_endpoint($endpoint.clone())
            .build()
            .map_err(|e| {
                Error::config(format!("the {} endpoint cannot be worked out: {e}", $what))
            })?;
        crate::aws::resolve(DefaultResolver::new().resolve_endpoint(&params), $what)
    }};
}

/// The OIDC service's base URL (for the PKCE `/authorize` page), from the SDK's endpoint rules:
/// the override, else the region's, FIPS and dual-stack as set. No network.
pub fn oidc_base(region: &str, endpoints: &Endpoints) -> Result<String> {
    resolved!(
        aws_sdk_ssooidc,
        region,
        endpoints.oidc,
        endpoints.variant,
        "SSO OIDC"
    )
}

/// The IAM Identity Center portal's URL (GetRoleCredentials, the account listings), as
/// [`oidc_base`].
pub fn portal_base(region: &str, endpoints: &Endpoints) -> Result<String> {
    resolved!(
        aws_sdk_sso,
        region,
        endpoints.portal,
        endpoints.variant,
        "SSO portal"
    )
}

pub struct AwsSso;

macro_rules! config {
    ($krate:ident, $region:expr, $endpoint:expr, $ca_bundle:expr, $variant:expr) => {{
        let mut config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .region($krate::config::Region::new($region.to_string()))
            .retry_config(crate::aws::retries())
            .timeout_config(crate::aws::timeouts())
            .use_fips($variant.fips)
            .use_dual_stack($variant.dual_stack)
            .http_client(crate::aws::http_client($ca_bundle)?);
        if let Some(endpoint) = $endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        $krate::Client::from_conf(config.build())
    }};
}

fn describe(endpoint: &Option<String>, service: &str, region: &str) -> String {
    endpoint
        .clone()
        .unwrap_or_else(|| format!("{service} in {region}"))
}

/// The SSO OIDC client for `region`, and how its endpoint is named in messages.
fn oidc(region: &str, endpoints: &Endpoints) -> Result<(aws_sdk_ssooidc::Client, String)> {
    let client = config!(
        aws_sdk_ssooidc,
        region,
        &endpoints.oidc,
        endpoints.ca_bundle.as_deref(),
        endpoints.variant
    );
    Ok((client, describe(&endpoints.oidc, "SSO OIDC", region)))
}

/// The SSO portal client for `region`, and how its endpoint is named in messages.
fn portal(region: &str, endpoints: &Endpoints) -> Result<(aws_sdk_sso::Client, String)> {
    let client = config!(
        aws_sdk_sso,
        region,
        &endpoints.portal,
        endpoints.ca_bundle.as_deref(),
        endpoints.variant
    );
    Ok((
        client,
        describe(&endpoints.portal, "the SSO portal", region),
    ))
}

/// A listing's next-page token (an empty one ends the listing too).
fn next_page(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

/// Classifies an SDK error of an SSO or SSO OIDC call.
fn classify<E>(
    operation: &str,
    endpoint: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, crate::aws::HttpResponse>,
    hint: &str,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(e) = crate::aws::transport_error(operation, endpoint, err) {
        return e;
    }
    let service = err.as_service_error();
    let Some(code) = service.and_then(|e| e.code()) else {
        return crate::aws::unreadable_answer(operation, endpoint, err);
    };
    let text = service.and_then(|e| e.message()).unwrap_or("");
    crate::aws::service_error(operation, code, text, hint)
}

impl SsoApi for AwsSso {
    fn register_client(
        &self,
        region: &str,
        endpoints: &Endpoints,
        request: &RegisterRequest,
        now: DateTime<Utc>,
    ) -> Result<Registration> {
        let (client, endpoint) = oidc(region, endpoints)?;
        let call = client
            .register_client()
            .client_name(&request.client_name)
            .client_type("public")
            .set_scopes((!request.scopes.is_empty()).then(|| request.scopes.clone()))
            .set_grant_types((!request.grant_types.is_empty()).then(|| request.grant_types.clone()))
            .set_redirect_uris(
                (!request.redirect_uris.is_empty()).then(|| request.redirect_uris.clone()),
            )
            .set_issuer_url(request.issuer_url.clone());
        let out = crate::aws::block_on(call.send())?.map_err(|e| {
            classify(
                "RegisterClient",
                &endpoint,
                &e,
                "check sso_start_url and sso_region",
            )
        })?;
        let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
            return Err(Error::other(format!(
                "RegisterClient: {endpoint} answered without a client id or secret"
            )));
        };
        let expires_at = DateTime::<Utc>::from_timestamp(out.client_secret_expires_at(), 0)
            .filter(|t| *t > now)
            .unwrap_or(crate::wire::later(now, chrono::Duration::days(90)));
        Ok(Registration {
            client_id: id.to_string(),
            client_secret: Secret::new(secret),
            expires_at,
            scopes: (!request.scopes.is_empty()).then(|| request.scopes.clone()),
            grant_types: (!request.grant_types.is_empty()).then(|| request.grant_types.clone()),
        })
    }

    fn start_device_authorization(
        &self,
        region: &str,
        endpoints: &Endpoints,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization> {
        let (client, endpoint) = oidc(region, endpoints)?;
        let call = client
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(registration.client_secret.expose())
            .start_url(start_url);
        let out = crate::aws::block_on(call.send())?.map_err(|e| {
            classify(
                "StartDeviceAuthorization",
                &endpoint,
                &e,
                "check sso_start_url and sso_region",
            )
        })?;
        let (Some(device_code), Some(user_code), Some(uri)) =
            (out.device_code(), out.user_code(), out.verification_uri())
        else {
            return Err(Error::other(format!("StartDeviceAuthorization: {endpoint} answered without a device code, user code or URL")));
        };
        Ok(DeviceAuthorization {
            device_code: Secret::new(device_code),
            user_code: user_code.to_string(),
            verification_uri: uri.to_string(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_string),
            expires_in: i64::from(out.expires_in()),
            interval: i64::from(out.interval()),
        })
    }

    fn create_token(
        &self,
        region: &str,
        endpoints: &Endpoints,
        registration: &Registration,
        grant: Grant<'_>,
    ) -> std::result::Result<TokenGrant, TokenError> {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let (client, endpoint) = oidc(region, endpoints)?;
        let call = client
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(registration.client_secret.expose());
        let call = match grant {
            Grant::DeviceCode(code) => call
                .grant_type(GRANT_DEVICE_CODE)
                .device_code(code.expose()),
            Grant::RefreshToken(token) => call
                .grant_type(GRANT_REFRESH_TOKEN)
                .refresh_token(token.expose()),
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => call
                .grant_type(GRANT_AUTHORIZATION_CODE)
                .code(code)
                .code_verifier(verifier)
                .redirect_uri(redirect_uri),
        };
        let out = match crate::aws::block_on(call.send()).map_err(TokenError::Other)? {
            Ok(out) => out,
            Err(e) => {
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                return Err(match code {
                    "AuthorizationPendingException" => TokenError::AuthorizationPending,
                    "SlowDownException" => TokenError::SlowDown,
                    "ExpiredTokenException" => TokenError::Expired,
                    "AccessDeniedException" => TokenError::AccessDenied,
                    "InvalidGrantException"
                    | "InvalidClientException"
                    | "UnauthorizedClientException" => TokenError::InvalidGrant(
                        e.as_service_error()
                            .and_then(|s| s.message())
                            .unwrap_or(code)
                            .to_string(),
                    ),
                    _ => TokenError::Other(classify(
                        "CreateToken",
                        &endpoint,
                        &e,
                        "run creds login again",
                    )),
                });
            }
        };
        let bad =
            |what: &str| TokenError::Other(crate::aws::bad_reply("CreateToken", &endpoint, what));
        let Some(access_token) = out.access_token().filter(|t| !t.is_empty()) else {
            return Err(bad("no accessToken"));
        };
        // A token that is already expired must not be written or used.
        if out.expires_in() <= 0 {
            return Err(bad(&format!("expiresIn {}", out.expires_in())));
        }
        Ok(TokenGrant {
            access_token: Secret::new(access_token),
            expires_in: i64::from(out.expires_in()),
            refresh_token: out.refresh_token().map(Secret::new),
        })
    }

    fn get_role_credentials(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials> {
        let (client, endpoint) = portal(region, endpoints)?;
        let call = client
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name);
        let out = crate::aws::block_on(call.send())?.map_err(|e| {
            portal_error(
                "GetRoleCredentials",
                &endpoint,
                &e,
                &format!(
                    "check that the SSO user may use role {role_name} in account {account_id}"
                ),
            )
        })?;
        let bad = |what: &str| crate::aws::bad_reply("GetRoleCredentials", &endpoint, what);
        let c = out
            .role_credentials()
            .ok_or_else(|| bad("no roleCredentials"))?;
        let (Some(id), Some(secret), Some(token)) = (
            c.access_key_id().filter(|s| !s.is_empty()),
            c.secret_access_key().filter(|s| !s.is_empty()),
            c.session_token().filter(|s| !s.is_empty()),
        ) else {
            return Err(bad("incomplete roleCredentials"));
        };
        let expiration = DateTime::<Utc>::from_timestamp_millis(c.expiration())
            .filter(|t| t.timestamp() > 0)
            .ok_or_else(|| bad("no expiration"))?;
        Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: Secret::new(secret),
            session_token: Some(Secret::new(token)),
            expiration: Some(expiration),
            account_id: Some(account_id.to_string()),
        })
    }

    fn logout(&self, region: &str, endpoints: &Endpoints, access_token: &Secret) -> Result<()> {
        let (client, endpoint) = portal(region, endpoints)?;
        crate::aws::block_on(client.logout().access_token(access_token.expose()).send())?
            .map_err(|e| classify("Logout", &endpoint, &e, "the local token is removed anyway"))?;
        Ok(())
    }

    fn list_accounts(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        next: Option<&str>,
    ) -> Result<Page<Account>> {
        let (client, endpoint) = portal(region, endpoints)?;
        let call = client
            .list_accounts()
            .access_token(access_token.expose())
            .set_next_token(next.map(str::to_string));
        let out = crate::aws::block_on(call.send())?
            .map_err(|e| portal_error("ListAccounts", &endpoint, &e, "check the SSO session"))?;
        Ok(Page {
            items: out
                .account_list()
                .iter()
                .filter_map(|a| {
                    let id = a.account_id()?.to_string();
                    Some(Account {
                        name: a.account_name().unwrap_or(&id).to_string(),
                        id,
                    })
                })
                .collect(),
            next: next_page(out.next_token()),
        })
    }

    fn list_account_roles(
        &self,
        region: &str,
        endpoints: &Endpoints,
        access_token: &Secret,
        account_id: &str,
        next: Option<&str>,
    ) -> Result<Page<String>> {
        let (client, endpoint) = portal(region, endpoints)?;
        let call = client
            .list_account_roles()
            .access_token(access_token.expose())
            .account_id(account_id)
            .set_next_token(next.map(str::to_string));
        let out = crate::aws::block_on(call.send())?.map_err(|e| {
            portal_error("ListAccountRoles", &endpoint, &e, "check the SSO session")
        })?;
        Ok(Page {
            items: out
                .role_list()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string))
                .collect(),
            next: next_page(out.next_token()),
        })
    }
}

/// The error of a portal call: a token refused (`UnauthorizedException`) means a login is
/// needed (exit 4); anything else is classified as for every SSO call.
fn portal_error<E>(
    operation: &str,
    endpoint: &str,
    e: &aws_smithy_runtime_api::client::result::SdkError<E, crate::aws::HttpResponse>,
    hint: &str,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    if e.as_service_error().and_then(|s| s.code()) == Some("UnauthorizedException") {
        return Error::new(
            Kind::LoginNeeded,
            "the SSO session's token was not accepted (UnauthorizedException)",
        );
    }
    classify(operation, endpoint, e, hint)
}

impl From<Error> for TokenError {
    fn from(e: Error) -> Self {
        TokenError::Other(e)
    }
}
