//! The EC2 instance metadata service (IMDSv2) and the ECS/EKS container credentials endpoint,
//! behind the [`Metadata`] seam.
//!
//! [`AwsMetadata`] is the real implementation on aws-config's providers
//! (`ImdsCredentialsProvider` with its session token, `EcsCredentialsProvider`), over an HTTP
//! client that never uses a proxy. Like the other clients it builds its runtime only when a
//! call is made.

use crate::error::{Error, Kind, Result};
use crate::secret::{Credentials, Secret};

/// The container credentials endpoint, as the environment names it (resolved by
/// `crate::settings::container`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The whole URL: `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, else
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub uri: String,
    /// The variable the URL came from.
    pub uri_from: &'static str,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, if set (read at every fetch: it rotates).
    pub token_file: Option<String>,
    /// Whether a token is sent (from the file, else `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
    pub token: bool,
}

/// What `creds` asks of the metadata services.
pub trait Metadata: Send + Sync {
    /// The instance profile's credentials from IMDSv2 at `endpoint` (a session token first,
    /// then the role's name, then its credentials).
    fn instance(&self, endpoint: &str) -> Result<Credentials>;
    /// The task's (or pod's) credentials from the container endpoint.
    fn container(&self, container: &Container) -> Result<Credentials>;
}

/// aws-config's providers. Their own time limits apply: IMDS 1 s to connect and 1 s to read,
/// 3 attempts; the container endpoint 2 s to connect and 5 s to read.
pub struct AwsMetadata;

impl Metadata for AwsMetadata {
    fn instance(&self, endpoint: &str) -> Result<Credentials> {
        use aws_config::imds::{credentials::ImdsCredentialsProvider, Client};
        use aws_credential_types::provider::ProvideCredentials;
        let config = aws_config::provider_config::ProviderConfig::without_region()
            .with_http_client(super::direct_http_client()?);
        let client = Client::builder()
            .endpoint(endpoint)
            .map_err(|e| {
                Error::config(format!(
                    "the instance metadata endpoint `{endpoint}` is not a valid URL ({e}); fix AWS_EC2_METADATA_SERVICE_ENDPOINT or ec2_metadata_service_endpoint"
                ))
            })?
            .configure(&config)
            .build();
        let provider = ImdsCredentialsProvider::builder()
            .imds_client(client)
            .configure(&config)
            .build();
        let result =
            super::block_on(async { provider.provide_credentials().await }).map_err(|e| {
                Error::new(
                    e.kind,
                    format!("the instance metadata service at {endpoint}: {}", e.line()),
                )
            })?;
        result.map(convert).map_err(|e| {
            failure(
                "the instance metadata service",
                endpoint,
                "check the instance profile (IAM role) attached to this instance",
                &e,
            )
        })
    }

    fn container(&self, container: &Container) -> Result<Credentials> {
        use aws_config::ecs::EcsCredentialsProvider;
        let config = aws_config::provider_config::ProviderConfig::without_region()
            .with_http_client(super::direct_http_client()?);
        // The provider reads the same variables from the process environment (aws-config
        // takes no other source); `creds`'s snapshot of them is what `container` describes.
        let provider = EcsCredentialsProvider::builder().configure(&config).build();
        let result = super::block_on(async { provider.credentials().await }).map_err(|e| {
            Error::new(
                e.kind,
                format!(
                    "the container credentials endpoint at {}: {}",
                    container.uri,
                    e.line()
                ),
            )
        })?;
        result
            .map(convert)
            .map_err(|e| {
                failure(
                    "the container credentials endpoint",
                    &container.uri,
                    "check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN (the runtime sets them)",
                    &e,
                )
            })
    }
}

pub(crate) fn convert(c: aws_credential_types::Credentials) -> Credentials {
    Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: c.session_token().map(Secret::new),
        expiration: c.expiry().map(chrono::DateTime::from),
        account_id: c.account_id().map(|a| a.as_str().to_string()),
    }
}

/// The error for a provider's failure: a service that cannot be reached or does not answer
/// in time is the network (exit 6), a refusal or a bad configuration is a configuration
/// error (exit 3), a reply that cannot be read is a bad reply (exit 1).
fn failure(
    service: &str,
    endpoint: &str,
    hint: &str,
    err: &aws_credential_types::provider::error::CredentialsError,
) -> Error {
    use aws_credential_types::provider::error::CredentialsError as E;
    let cause = super::root_cause(err);
    match err {
        _ if is_dispatch(err) => Error::new(
            Kind::Network,
            format!("cannot reach {service} at {endpoint} ({cause}); creds must run where it answers (on the instance, in the container)"),
        ),
        E::CredentialsNotLoaded(_) | E::ProviderTimedOut(_) => Error::new(
            Kind::Network,
            format!("{service} at {endpoint} gave no credentials ({cause}); creds must run where it answers (on the instance, in the container)"),
        ),
        E::InvalidConfiguration(_) => Error::config(format!(
            "{service} at {endpoint} cannot be used: {cause}"
        )),
        E::ProviderError(_) => Error::new(
            Kind::AwsRefused,
            format!("{service} at {endpoint} refused: {cause}; {hint}"),
        ),
        _ => Error::new(
            Kind::BadReply,
            format!("{service} at {endpoint} sent a reply creds cannot read ({cause})"),
        ),
    }
}

/// Whether a provider error comes from the connection rather than the service's answer.
pub(crate) fn is_dispatch(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut e = err;
    loop {
        let text = e.to_string();
        if e.downcast_ref::<std::io::Error>().is_some()
            || text.contains("dispatch failure")
            || text.contains("timed out")
            || text.contains("timeout")
        {
            return true;
        }
        match e.source() {
            Some(source) => e = source,
            None => return false,
        }
    }
}
