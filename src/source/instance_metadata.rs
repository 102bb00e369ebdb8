//! `credential_source = Ec2InstanceMetadata`: the instance profile's credentials from the EC2
//! instance metadata service (IMDSv2, through aws-config's provider), never through a proxy.
//! The endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, the profile's settings, the mode) is
//! `crate::settings::imds_endpoint`'s; it is part of the cache key.

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::Credentials;

/// `credential_source = Ec2InstanceMetadata` in `profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub profile: String,
}

impl Detect for InstanceMetadata {
    const KEYS: &'static [&'static str] = &["credential_source"];
    const CREDENTIAL_SOURCE: Option<&'static str> = Some("Ec2InstanceMetadata");
    type Fetch = Imds;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Ok(
            super::names(profile, Self::CREDENTIAL_SOURCE).then(|| InstanceMetadata {
                profile: profile.name.clone(),
            }),
        )
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Imds>> {
        let endpoint = inputs.imds.as_ref().map_err(|why| {
            Error::of_profile(
                crate::error::Kind::Config,
                &self.profile,
                format!("uses credential_source = Ec2InstanceMetadata, but {why}"),
            )
        })?;
        let endpoint = endpoint.value.clone();
        Ok(Planned {
            key: Key::derive("instance-metadata", None, &[("endpoint", Some(&endpoint))]),
            label: format!("instance-metadata {endpoint}"),
            fetch: Imds { endpoint },
        })
    }

    fn describe(&self, inputs: &PlanInputs<'_>) -> String {
        match inputs.imds {
            Ok(e) => format!(
                "credential_source = Ec2InstanceMetadata (IMDSv2 at {}, from {})",
                e.value, e.origin
            ),
            Err(why) => format!("credential_source = Ec2InstanceMetadata ({why})"),
        }
    }
}

/// The instance metadata service at this endpoint.
#[derive(Debug, Clone)]
pub struct Imds {
    pub endpoint: String,
}

impl Fetch for Imds {
    fn properties(&self) -> Properties {
        Properties::SERVICE
    }

    fn fetch(&self, ctx: &Context, _: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        ctx.metadata
            .instance(&self.endpoint)
            .map_err(|e| e.context(step.profile, "credential_source = Ec2InstanceMetadata"))
    }
}
