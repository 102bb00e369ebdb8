//! Every AWS SDK client of `creds`, and what they share: the async runtime, the HTTP client
//! (rustls on ring, proxies from the environment), timeouts, retries and how failures read.
//!
//! - [`sts`]: `AssumeRole` and `GetSessionToken` behind the [`sts::Sts`] seam;
//! - [`sso`]: IAM Identity Center's OIDC and portal services behind the [`sso::SsoApi`] seam;
//! - [`metadata`]: the EC2 instance and the container metadata services behind the
//!   [`metadata::Metadata`] seam (aws-config's providers);
//! - [`signin`]: AWS Sign-In's `aws login` sessions behind the [`signin::SignIn`] seam
//!   (aws-config's provider).
//!
//! Each real client builds its runtime and SDK client only when a call is made, so the
//! cache-hit path never pays for either. Nothing here knows about profiles or caches.

pub mod metadata;
pub mod proxy;
pub mod signin;
pub mod sso;
pub mod sts;

use crate::error::{Error, Kind, Result};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

/// The most one call upstream may take, whatever its own time limits: an endpoint that
/// keeps the connection open and sends its reply a byte at a time defeats a read timeout (each
/// byte restarts it), not this. Above the SDK clients' 15 s operation timeout, so theirs speaks
/// first where it applies.
pub const CALL_DEADLINE: Duration = Duration::from_secs(20);

/// The endpoint variants the SDKs choose with `AWS_USE_FIPS_ENDPOINT` (`use_fips_endpoint`) and
/// `AWS_USE_DUALSTACK_ENDPOINT` (`use_dualstack_endpoint`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variant {
    pub fips: bool,
    pub dual_stack: bool,
}

/// The URL of an endpoint the SDK's rules resolved (no network: the rules run in memory).
pub fn resolve<F>(future: F, service: &str) -> Result<String>
where
    F: std::future::Future<
        Output = std::result::Result<
            aws_smithy_types::endpoint::Endpoint,
            aws_smithy_runtime_api::box_error::BoxError,
        >,
    >,
{
    block_on(future)?
        .map(|e| e.url().to_string())
        .map_err(|e| Error::config(format!("the {service} endpoint cannot be worked out: {e}")))
}

/// Runs `future` on a single-threaded runtime made for this call, for at most
/// [`CALL_DEADLINE`] (then exit 6).
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(async { tokio::time::timeout(CALL_DEADLINE, future).await })
        .map_err(|_| {
            Error::new(
                Kind::Network,
                format!(
                    "no complete answer within {} s (the endpoint answers too slowly, or not at all); check the network and the endpoint",
                    CALL_DEADLINE.as_secs()
                ),
            )
        })
}

/// A 3 s connect timeout, a 5 s read timeout and 15 s for a whole call, so a dead endpoint
/// fails in seconds.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(6))
        .operation_timeout(Duration::from_secs(15))
        .build()
}

/// Standard retries: 3 attempts, on throttling, 5xx and transport errors.
pub fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// HTTPS with rustls on ring (no C crypto library to build or to load at start-up), honouring
/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`. With `ca_bundle` (`AWS_CA_BUNDLE`, the profile's
/// `ca_bundle`), the certificates in that PEM file are the only ones trusted, as in the AWS CLI
/// (a company's TLS-inspecting proxy, a private endpoint).
pub fn http_client(ca_bundle: Option<&std::path::Path>) -> Result<SharedHttpClient> {
    client(ca_bundle, true)
}

/// The HTTP client for the instance and container metadata services: never through a proxy
/// (they are link-local or loopback addresses a proxy cannot reach, and their replies are
/// secrets a proxy must not see), with the system's CAs.
pub fn direct_http_client() -> Result<SharedHttpClient> {
    client(None, false)
}

fn client(ca_bundle: Option<&std::path::Path>, proxy: bool) -> Result<SharedHttpClient> {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, Connector};
    let tls_context = match ca_bundle {
        None => None,
        Some(path) => {
            let (pem, _) = read_ca_bundle(path)?;
            let store = tls::TrustStore::empty().with_pem_certificate(pem);
            let context = tls::TlsContext::builder()
                .with_trust_store(store)
                .build()
                .map_err(|e| {
                    Error::config(format!(
                        "the CA bundle {} cannot be used: {e}",
                        path.display()
                    ))
                })?;
            Some(context)
        }
    };
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut builder = Connector::builder().proxy_config(match proxy {
                true => ProxyConfig::from_env(),
                false => ProxyConfig::disabled(),
            });
            builder.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                builder.set_sleep_impl(components.sleep_impl());
            }
            let builder = builder.tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ));
            match &tls_context {
                Some(context) => builder.tls_context(context.clone()).build(),
                None => builder.build(),
            }
        }),
    )
}

/// The biggest CA bundle read (the Mozilla bundle is about 220 KiB).
const CA_BUNDLE_LIMIT: u64 = 4 << 20;

/// Reads a PEM CA bundle and checks every certificate in it the way the TLS client will
/// (which would otherwise stop the process on a bad one): the file and how many certificates
/// it holds.
pub fn read_ca_bundle(path: &std::path::Path) -> Result<(Vec<u8>, usize)> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    use std::io::Read;
    let hint = "set AWS_CA_BUNDLE (or the profile's ca_bundle) to a PEM file of CA certificates";
    let unusable =
        |why: String| Error::config(format!("the CA bundle {} {why}; {hint}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| unusable(format!("cannot be read ({e})")))?;
    let mut pem = Vec::new();
    file.take(CA_BUNDLE_LIMIT.saturating_add(1))
        .read_to_end(&mut pem)
        .map_err(|e| unusable(format!("cannot be read ({e})")))?;
    if pem.len() as u64 > CA_BUNDLE_LIMIT {
        return Err(unusable("is larger than 4 MiB".to_string()));
    }
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unusable(format!("is not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(unusable(
            "holds no certificate (no -----BEGIN CERTIFICATE----- block)".to_string(),
        ));
    }
    let count = certificates.len();
    let mut roots = rustls::RootCertStore::empty();
    for (n, certificate) in certificates.into_iter().enumerate() {
        roots.add(certificate).map_err(|e| {
            unusable(format!(
                "holds a certificate that cannot be read (number {}: {e})",
                n.saturating_add(1)
            ))
        })?;
    }
    Ok((pem, count))
}

/// The innermost error of a chain: the one that says what actually happened.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

/// Every message of an error's chain, outermost first, joined by `: ` (repeats left out).
pub fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut e = Some(err);
    while let Some(current) = e {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        e = current.source();
    }
    parts.join(": ")
}

/// Whether `err` comes from a server certificate that failed verification. The chain the SDK
/// hands back does not let `rustls::Error::InvalidCertificate` be downcast to (tried against
/// aws-smithy-http-client 1.x), so this reads rustls's wording of that error.
fn certificate_cause(err: &(dyn std::error::Error + 'static)) -> bool {
    root_cause(err).starts_with("invalid peer certificate")
}

/// Whether the innermost cause of `err` is an I/O error (a reset, a closed connection).
fn io_cause(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut e = err;
    loop {
        if e.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        match e.source() {
            Some(source) => e = source,
            None => return false,
        }
    }
}

/// The error for a failure that is not the service's answer (timeout, no connection, a reply
/// that cannot be read); `None` for a service error, which each caller classifies itself.
pub fn transport_error<E, R>(
    operation: &str,
    endpoint: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Option<Error>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    Some(match err {
        SdkError::ServiceError(_) => return None,
        SdkError::TimeoutError(_) => Error::new(
            Kind::Network,
            format!(
                "{operation}: {endpoint} did not answer in time; check the network or the endpoint"
            ),
        ),
        // A certificate no trusted CA signed: a TLS-inspecting proxy, or a private endpoint.
        SdkError::DispatchFailure(_) if certificate_cause(err) => Error::new(
            Kind::Network,
            format!(
                "{operation}: {endpoint} (or a proxy in between) presented a certificate creds does not trust ({}); name the PEM file of the CA that signed it in AWS_CA_BUNDLE or the profile's ca_bundle",
                root_cause(err)
            ),
        ),
        // A proxy that turned the request away: asked what it answers, and named.
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
            if matches!(err, SdkError::DispatchFailure(_)) || io_cause(err) =>
        {
            match proxy::why_refused(endpoint) {
                Some(why) => Error::new(
                    Kind::Network,
                    format!("{operation}: cannot reach {endpoint}: {why}"),
                ),
                None => return Some(unreached(operation, endpoint, err)),
            }
        }
        _ => return Some(unreached(operation, endpoint, err)),
    })
}

/// [`transport_error`] when no proxy explains the failure.
fn unreached<E, R>(
    operation: &str,
    endpoint: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Error
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::DispatchFailure(_) => Error::new(
            Kind::Network,
            format!(
                "{operation}: cannot reach {endpoint}: {}; check the network or the endpoint",
                root_cause(err)
            ),
        ),
        // A connection closed mid-reply is the network (or a proxy refusing), not AWS's answer.
        SdkError::ResponseError(_) if io_cause(err) => Error::new(
            Kind::Network,
            format!(
                "{operation}: the connection to {endpoint} was closed ({}); check the network, and any proxy in between (HTTPS_PROXY, HTTP_PROXY: its address and credentials)",
                root_cause(err)
            ),
        ),
        SdkError::ResponseError(_) => bad_reply(operation, endpoint, &root_cause(err)),
        _ => Error::other(format!("{operation}: {}", root_cause(err))),
    }
}

/// The error for a reply that is not what the operation returns (a proxy's page, a truncated
/// or mangled document, a missing field).
pub fn bad_reply(operation: &str, endpoint: &str, what: &str) -> Error {
    Error::new(
        Kind::BadReply,
        format!("{operation}: AWS sent a reply creds cannot read ({what}) from {endpoint}; check the endpoint, and any proxy in between"),
    )
}

pub use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// A service "error" without an error code: an answer that is neither the operation's result
/// nor an AWS error (an HTML page, a truncated document, garbage with HTTP 200).
pub fn unreadable_answer<E>(
    operation: &str,
    endpoint: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
) -> Error {
    let status = err.raw_response().map(|r| r.status().as_u16());
    if status.is_some_and(|s| s >= 500) {
        // A gateway or proxy failing in front of AWS (after the retries): worth trying again.
        return Error::new(
            Kind::Network,
            format!("{operation}: {endpoint} answered HTTP {} without an AWS error (a failing gateway or proxy?); try again shortly", status.unwrap_or_default()),
        );
    }
    let status = status.map_or_else(|| "?".to_string(), |s| s.to_string());
    bad_reply(
        operation,
        endpoint,
        &format!("HTTP {status}, neither {operation}'s answer nor an AWS error"),
    )
}

/// Error codes that mean "busy or failing, try again" rather than "no".
pub fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalError"
            | "InternalServerException"
    )
}

/// The error for a service's answer `code`: exit 6 when it is transient, else exit 5.
pub fn service_error(operation: &str, code: &str, text: &str, hint: &str) -> Error {
    if is_transient(code) {
        Error::new(
            Kind::Network,
            format!("{operation} refused by AWS ({code}): {text}; AWS is busy or failing; try again shortly"),
        )
    } else {
        Error::new(
            Kind::AwsRefused,
            format!("{operation} refused by AWS ({code}): {text}; {hint}"),
        )
    }
}
