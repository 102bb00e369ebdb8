//! `credential_source = EcsContainer`: the task's or pod's credentials from the container
//! credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`), through aws-config's provider and never through
//! a proxy. The URL and the token file's path are part of the cache key, never the token.

use super::{Detect, Fetch, FetchInputs, PlanInputs, Planned, Properties, Step};
use crate::aws::metadata::Container;
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::Credentials;

/// `credential_source = EcsContainer` in `profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsContainer {
    pub profile: String,
}

impl Detect for EcsContainer {
    const KEYS: &'static [&'static str] = &["credential_source"];
    const CREDENTIAL_SOURCE: Option<&'static str> = Some("EcsContainer");
    type Fetch = Container;

    fn detect(_: &ProfileSet, profile: &Section) -> Result<Option<Self>> {
        Ok(
            super::names(profile, Self::CREDENTIAL_SOURCE).then(|| EcsContainer {
                profile: profile.name.clone(),
            }),
        )
    }

    fn profile(&self) -> &str {
        &self.profile
    }

    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Container>> {
        let c = inputs.container.as_ref().map_err(|why| {
            Error::of_profile(
                crate::error::Kind::Config,
                &self.profile,
                format!("uses credential_source = EcsContainer, but {why}"),
            )
        })?;
        Ok(Planned {
            key: Key::derive(
                "container",
                None,
                &[
                    ("uri", Some(&c.uri)),
                    ("token_file", c.token_file.as_deref()),
                ],
            ),
            label: format!("container {}", c.uri),
            fetch: c.clone(),
        })
    }

    fn describe(&self, inputs: &PlanInputs<'_>) -> String {
        let c = match inputs.container {
            Ok(c) => c,
            Err(why) => return format!("credential_source = EcsContainer ({why})"),
        };
        let token = match (&c.token_file, c.token) {
            (Some(file), _) => {
                let state = match std::fs::metadata(file) {
                    Ok(m) if m.is_file() => "present",
                    _ => "missing",
                };
                format!("token file {file}: {state}")
            }
            (None, true) => "token from AWS_CONTAINER_AUTHORIZATION_TOKEN".into(),
            (None, false) => "no token".into(),
        };
        format!(
            "credential_source = EcsContainer ({} from {}; {token})",
            c.uri, c.uri_from
        )
    }
}

/// The largest authorization token file handed to aws-config (an EKS token is about 1 KiB).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

impl Fetch for Container {
    fn properties(&self) -> Properties {
        Properties::SERVICE
    }

    fn fetch(&self, ctx: &Context, _: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
        let profile = step.profile;
        // aws-config reads the token file whole and without a limit: only a regular file of a
        // sane size goes to it (never a FIFO that would block the read).
        if let Some(file) = &self.token_file {
            let why = match crate::fsutil::open_regular(std::path::Path::new(file), false) {
                Err(e) => Some(e.to_string()),
                Ok((_, meta)) if meta.len() > MAX_TOKEN_FILE => {
                    Some(format!("larger than {MAX_TOKEN_FILE} bytes"))
                }
                Ok(_) => None,
            };
            if let Some(why) = why {
                return Err(Error::config(format!(
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {file} cannot be read ({why})"
                ))
                .context(profile, "credential_source = EcsContainer")
                .with_hint("the container runtime writes it"));
            }
        }
        ctx.metadata
            .container(self)
            .map_err(|e| e.context(profile, "credential_source = EcsContainer"))
    }
}
