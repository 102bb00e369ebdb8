//! `credential_source = EcsContainer`: the task's or pod's credentials from the container
//! credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`), through aws-config's provider and never through
//! a proxy. The URL and the token file's path are part of the cache key, never the token.

use crate::aws::metadata::Container;
use crate::cache::Key;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::secret::Credentials;

pub fn key(c: &Container) -> Key {
    Key::derive(
        "container",
        None,
        &[
            ("uri", Some(&c.uri)),
            ("token_file", c.token_file.as_deref()),
        ],
    )
}

pub fn label(c: &Container) -> String {
    format!("container {}", c.uri)
}

pub fn fetch(ctx: &Context, profile: &str, c: &Container) -> Result<Credentials> {
    ctx.metadata.container(c).map_err(|e| {
        Error::new(
            e.kind,
            format!(
                "profile `{profile}` (credential_source = EcsContainer): {}",
                e.message
            ),
        )
    })
}
