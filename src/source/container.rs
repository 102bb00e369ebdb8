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

/// The largest authorization token file handed to aws-config (an EKS token is about 1 KiB).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

pub fn fetch(ctx: &Context, profile: &str, c: &Container) -> Result<Credentials> {
    // aws-config reads the token file whole and without a limit: only a regular file of a
    // sane size goes to it (never a FIFO that would block the read).
    if let Some(file) = &c.token_file {
        let why = match crate::fsutil::open_regular(std::path::Path::new(file), false) {
            Err(e) => Some(e.to_string()),
            Ok((_, meta)) if meta.len() > MAX_TOKEN_FILE => {
                Some(format!("larger than {MAX_TOKEN_FILE} bytes"))
            }
            Ok(_) => None,
        };
        if let Some(why) = why {
            return Err(Error::config(format!(
                "profile `{profile}` (credential_source = EcsContainer): AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {file} cannot be read ({why}); the container runtime writes it"
            )));
        }
    }
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
