//! `credential_source = Ec2InstanceMetadata`: the instance profile's credentials from the EC2
//! instance metadata service (IMDSv2, through aws-config's provider), never through a proxy.
//! The endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, the profile's settings, the mode) is
//! `crate::settings::imds_endpoint`'s; it is part of the cache key.

use crate::cache::Key;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::Credentials;

pub fn key(endpoint: &str) -> Key {
    Key::derive("instance-metadata", None, &[("endpoint", Some(endpoint))])
}

pub fn label(endpoint: &str) -> String {
    format!("instance-metadata {endpoint}")
}

pub fn fetch(ctx: &Context, profile: &str, endpoint: &str) -> Result<Credentials> {
    ctx.metadata.instance(endpoint).map_err(|e| {
        Error::new(
            e.kind,
            format!(
                "profile `{profile}` (credential_source = Ec2InstanceMetadata): {}",
                e.message
            ),
        )
    })
}
