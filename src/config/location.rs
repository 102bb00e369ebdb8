//! Where the config and credentials files are, and which profile is selected.
//!
//! `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` /
//! `~/.aws/credentials`; home is `HOME`, else `USERPROFILE`, else `HOMEDRIVE` + `HOMEPATH`;
//! a leading `~` is expanded. The profile is `--profile`, else `AWS_PROFILE`, else
//! `AWS_DEFAULT_PROFILE`, else `default` (the AWS CLI v2 order).

use crate::context::Env;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Unix,
    Windows,
}

impl Platform {
    pub fn current() -> Self {
        if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Unix
        }
    }

    fn separator(self) -> char {
        match self {
            Platform::Unix => '/',
            Platform::Windows => '\\',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    pub config: String,
    pub credentials: String,
}

fn home(env: &Env) -> Result<String> {
    env.home().ok_or_else(|| Error::config("cannot find the home directory: set HOME, or set AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"))
}

/// Expands a leading `~` (only as the whole first path component).
fn expand(path: &str, env: &Env, platform: Platform) -> Result<String> {
    let sep = platform.separator();
    let rest = match path.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') || rest.starts_with(sep) => rest,
        _ => return Ok(path.to_string()),
    };
    Ok(format!("{}{rest}", home(env)?))
}

pub fn locate(env: &Env, platform: Platform) -> Result<Locations> {
    let sep = platform.separator();
    let default =
        |file: &str| -> Result<String> { Ok(format!("{}{sep}.aws{sep}{file}", home(env)?)) };
    let config = match env.get("AWS_CONFIG_FILE") {
        Some(p) => expand(p, env, platform)?,
        None => default("config")?,
    };
    let credentials = match env.get("AWS_SHARED_CREDENTIALS_FILE") {
        Some(p) => expand(p, env, platform)?,
        None => default("credentials")?,
    };
    Ok(Locations {
        config,
        credentials,
    })
}

/// The selected profile name.
pub fn selected_profile(flag: Option<&str>, env: &Env) -> String {
    flag.filter(|p| !p.is_empty())
        .or_else(|| env.get("AWS_PROFILE"))
        .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
        .unwrap_or("default")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expansion() {
        let env = Env::from_pairs([
            ("HOME", "/h"),
            ("AWS_CONFIG_FILE", "~/cfg"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~x/c"),
        ]);
        let loc = locate(&env, Platform::Unix).unwrap();
        assert_eq!(loc.config, "/h/cfg");
        assert_eq!(loc.credentials, "~x/c");
    }

    #[test]
    fn profile_precedence() {
        let env = Env::from_pairs([("AWS_PROFILE", "p"), ("AWS_DEFAULT_PROFILE", "d")]);
        assert_eq!(selected_profile(Some("f"), &env), "f");
        assert_eq!(selected_profile(None, &env), "p");
        assert_eq!(
            selected_profile(None, &Env::from_pairs([("AWS_DEFAULT_PROFILE", "d")])),
            "d"
        );
        assert_eq!(selected_profile(None, &Env::default()), "default");
    }

    #[test]
    fn no_home_is_a_config_error() {
        assert_eq!(
            locate(&Env::default(), Platform::Unix).unwrap_err().kind,
            crate::error::Kind::Config
        );
    }
}
