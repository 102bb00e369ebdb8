//! AWS Sign-In: the credentials of an `aws login` console session (`login_session` in a
//! profile), behind the [`SignIn`] seam.
//!
//! [`AwsSignIn`] is the real implementation on aws-config's `LoginCredentialsProvider`: it
//! reads the AWS CLI's token file (`~/.aws/login/cache/SHA256(session).json`, or
//! `AWS_LOGIN_CACHE_DIRECTORY`), and when the credentials in it are within 5 minutes of
//! expiring, refreshes them with its refresh token (`CreateOAuth2Token`, signed with the
//! file's DPoP key) and writes the file back, as the AWS CLI does. The sign-in endpoint is the
//! regional one unless `AWS_ENDPOINT_URL_SIGNIN` (or `AWS_ENDPOINT_URL`) names another.

use crate::aws::sts::StsTarget;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;

/// What `creds` asks of AWS Sign-In.
pub trait SignIn: Send + Sync {
    /// The credentials of the console session `session` (its ARN), refreshed when due.
    /// `target` gives the region and the CA bundle (its endpoint is STS's and is not used).
    fn credentials(&self, session: &str, target: &StsTarget) -> Result<Credentials>;
}

pub struct AwsSignIn;

impl SignIn for AwsSignIn {
    fn credentials(&self, session: &str, target: &StsTarget) -> Result<Credentials> {
        use aws_config::login::LoginCredentialsProvider;
        use aws_credential_types::provider::ProvideCredentials;
        let config = aws_config::provider_config::ProviderConfig::without_region()
            .with_region(Some(aws_config::Region::new(target.region.clone())))
            .with_http_client(super::http_client(target.ca_bundle.as_deref())?)
            .with_retry_config(super::retries())
            .with_timeout_config(super::timeouts());
        let provider = LoginCredentialsProvider::builder(session)
            .configure(&config)
            .build();
        let result = super::block_on(async { provider.provide_credentials().await })?;
        result
            .map(super::metadata::convert)
            .map_err(|e| failure(&e))
    }
}

/// The error for the provider's failure: a session that is over (or a token file that cannot
/// be used) needs `aws login` again (exit 4); a network failure is exit 6; another refusal
/// exit 5.
fn failure(err: &aws_credential_types::provider::error::CredentialsError) -> Error {
    use aws_credential_types::provider::error::CredentialsError as E;
    let text = super::chain_text(err);
    let text = text
        .strip_prefix("an error occurred while loading credentials: ")
        .unwrap_or(&text);
    let cause = super::root_cause(err);
    let relogin = [
        "expired",
        "reauthenticate",
        "invalid JSON",
        "missing field",
        "failed to read",
    ];
    if relogin.iter().any(|s| text.contains(s)) {
        return Error::new(
            Kind::LoginNeeded,
            format!("the `aws login` session cannot be used ({text})"),
        );
    }
    if super::metadata::is_dispatch(err) {
        return Error::new(
            Kind::Network,
            format!("cannot reach AWS Sign-In to refresh the `aws login` session ({cause}); check the network, and any proxy in between"),
        );
    }
    match err {
        E::ProviderError(_) => Error::new(
            Kind::AwsRefused,
            format!("AWS Sign-In refused to refresh the `aws login` session: {text}"),
        ),
        _ => Error::other(format!("the `aws login` session cannot be used: {text}")),
    }
}
