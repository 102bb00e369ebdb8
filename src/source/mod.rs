//! Credential sources, one module each, registered in one place ([`register!`] at the end of
//! this file), and the plan that lines them up.
//!
//! Every source module has the same surface:
//! - a struct that is what the profile says (carried by [`Base`] as it is);
//! - [`Detect`] on it (base sources only): whether a profile selects it, its hop (cache-key
//!   parameters, label and what the fetch needs) and how `doctor` describes it;
//! - [`Fetch`] on what its hop carries: its call and its [`Properties`] (cached or not, signed
//!   with the hop below, gives a session token, ...), declared by the source.
//!
//! | module | source | cached |
//! |---|---|---|
//! | [`keyring_keys`] | `creds_keyring` (long-term keys in the OS keyring; always exchanged) | no |
//! | [`environment`] | `credential_source = Environment` | no |
//! | [`instance_metadata`] | `credential_source = Ec2InstanceMetadata` (IMDSv2) | yes |
//! | [`container`] | `credential_source = EcsContainer` (ECS, EKS Pod Identity) | yes |
//! | [`web_identity`] | `web_identity_token_file` + `role_arn` (STS `AssumeRoleWithWebIdentity`) | yes |
//! | [`sso_role`] | IAM Identity Center role credentials | yes |
//! | [`login_session`] | `login_session` (an `aws login` console session) | yes |
//! | [`process`] | `credential_process` (with the recursion guard) | yes |
//! | [`static_keys`] | `aws_access_key_id` + `aws_secret_access_key` | no |
//! | [`mfa`] | an MFA session (STS `GetSessionToken` with a code) under MFA roles over long-term keys | yes |
//! | [`assume_role`] | `role_arn` hops (STS `AssumeRole`) | yes |
//! | [`session_token`] | STS `GetSessionToken` over long-term keys | yes |
//!
//! [`plan`] turns a [`Chain`] into [`Hop`]s in call order, each with its key (pure: the
//! environment is a value handed in): the base's hop, then the hops its rules insert
//! ([`mfa_session_rule`], [`session_token_rule`]) around the roles. [`fetch`] makes one hop's
//! call. The walk, the cache policy and the locks are `crate::walk`'s.

pub mod assume_role;
pub mod container;
pub mod environment;
pub mod instance_metadata;
pub mod keyring_keys;
pub mod login_session;
pub mod mfa;
pub mod process;
pub mod session_token;
pub mod sso_role;
pub mod static_keys;
pub mod web_identity;

use crate::aws::sso::Endpoints;
use crate::aws::sts::StsTarget;
use crate::cache::Key;
use crate::config::{ProfileSet, Section};
use crate::context::{Context, Env};
use crate::error::{Error, Result};
use crate::secret::Credentials;
use assume_role::RoleHop;

/// What a source declares about its hop, used by the plan's rules, the walk and `doctor`.
/// Every source states every field: there is no default to fall into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Properties {
    /// The hop's result is cached (keys carried in a file, the environment or the keyring are
    /// not: reading them is as cheap as reading the cache).
    pub cached: bool,
    /// The call is signed with the credentials of the hop below.
    pub needs_parent: bool,
    /// The credentials come from an AWS service (STS, IAM Identity Center, the metadata
    /// services, the console sign-in), not from the user's configuration (keys, a command).
    pub from_aws: bool,
    /// The credentials are sure to carry a session token.
    pub gives_token: bool,
    /// Long-term keys: an MFA device over them is used through an MFA session.
    pub long_term: bool,
    /// The credentials may be handed out as they are (keyring keys never are).
    pub handed_out: bool,
    /// An MFA session: a role above it passes no code of its own.
    pub mfa_session: bool,
    /// How long the call asks its credentials to last, where it asks.
    pub asked_lifetime: Option<chrono::Duration>,
    /// How long the configuration says they last (a role's `duration_seconds`), where it says.
    pub configured_lifetime: Option<chrono::Duration>,
}

impl Properties {
    /// Keys read from the configuration (a file, the environment, the keyring).
    pub const KEYS: Properties = Properties {
        cached: false,
        needs_parent: false,
        from_aws: false,
        gives_token: false,
        long_term: true,
        handed_out: true,
        mfa_session: false,
        asked_lifetime: None,
        configured_lifetime: None,
    };
    /// Temporary credentials from an AWS service, fetched without credentials of their own.
    pub const SERVICE: Properties = Properties {
        cached: true,
        needs_parent: false,
        from_aws: true,
        gives_token: true,
        long_term: false,
        handed_out: true,
        mfa_session: false,
        asked_lifetime: None,
        configured_lifetime: None,
    };
    /// An STS call signed with the credentials below.
    pub const SIGNED: Properties = Properties {
        needs_parent: true,
        ..Properties::SERVICE
    };
}

/// The hop of a base, as its source plans it.
pub struct Planned<T> {
    pub key: Key,
    /// What the hop is, for messages, `-v`, `doctor` and cache entries (no secrets).
    pub label: String,
    /// What the fetch needs.
    pub fetch: T,
}

/// An MFA device a source's own profile names (`mfa_serial`, `mfa_process`).
#[derive(Debug, Clone, Copy)]
pub struct MfaDevice<'a> {
    pub profile: &'a str,
    pub serial: &'a str,
    pub process: Option<&'a str>,
}

impl<'a> MfaDevice<'a> {
    /// The device `mfa_serial` names in `profile`, with its `mfa_process`; none without a
    /// serial.
    pub fn of(
        profile: &'a str,
        serial: &'a Option<String>,
        process: &'a Option<String>,
    ) -> Option<MfaDevice<'a>> {
        Some(MfaDevice {
            profile,
            serial: serial.as_deref()?,
            process: process.as_deref(),
        })
    }
}

/// A base source: what a profile says, detected and planned.
pub trait Detect: Sized {
    /// The profile keys that select this source; a profile with none of any source's (nor
    /// `role_arn`, `source_profile`) falls back to the environment's web identity.
    const KEYS: &'static [&'static str];
    /// `credential_source = NAME`, for the sources selected that way (also under a role).
    const CREDENTIAL_SOURCE: Option<&'static str>;
    /// What the hop carries to its fetch.
    type Fetch: Fetch;

    /// The source `profile` selects, `Ok(None)` if it selects another, or why its settings are
    /// wrong. Called in registration order: the first source that answers wins.
    fn detect(set: &ProfileSet, profile: &Section) -> Result<Option<Self>>;
    /// The profile that defines it.
    fn profile(&self) -> &str;
    /// Its hop: the cache key, the label and what the fetch needs.
    fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Planned<Self::Fetch>>;
    /// One line for `doctor` (never a secret).
    fn describe(&self, inputs: &PlanInputs<'_>) -> String;
    /// The MFA device of long-term keys' own profile, used when no role is above them.
    fn own_mfa(&self) -> Option<MfaDevice<'_>> {
        None
    }
}

/// A hop's call.
pub trait Fetch {
    fn properties(&self) -> Properties;
    fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials>;
}

/// The hop being fetched, as a fetch sees it.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    /// The profile that defines the hop.
    pub profile: &'a str,
    pub label: &'a str,
    /// The hop below, if any.
    pub below: Option<&'a Hop>,
    /// The credentials of the hop below, when the hop needs them.
    pub parent: Option<&'a Credentials>,
}

impl Step<'_> {
    /// The credentials to sign with.
    pub fn parent(&self) -> Result<&Credentials> {
        self.parent
            .ok_or_else(|| Error::other(format!("{}: no credentials to sign with", self.label)))
    }
}

/// A profile chain: a base and the roles above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub base: Base,
    /// In call order: `hops[0]` is assumed with the base's credentials.
    pub hops: Vec<RoleHop>,
}

/// One hop of a chain as `export` takes it: the one planned-hop type of `creds`.
#[derive(Debug, Clone)]
pub struct Hop {
    /// The profile that defines the hop.
    pub profile: String,
    /// What the hop is, for messages, `-v`, `doctor` and cache entries (no secrets).
    pub label: String,
    pub key: Key,
    pub source: Source,
}

/// What planning depends on besides the chain.
pub struct PlanInputs<'a> {
    pub env: &'a Env,
    pub sts: &'a StsTarget,
    pub sso: &'a Endpoints,
    /// Turn long-term keys into session credentials (GetSessionToken) when no hop does.
    pub session_token: bool,
    /// The instance metadata endpoint, or why there is none.
    pub imds: &'a std::result::Result<crate::settings::Sourced<String>, String>,
    /// The container credentials endpoint, or why there is none.
    pub container: &'a std::result::Result<crate::aws::metadata::Container, String>,
    /// Where `aws login` sessions are kept.
    pub login_cache: Option<&'a std::path::Path>,
    /// The profile to name in `aws login --profile ...` hints.
    pub login_profile: &'a str,
}

/// Where fetches go, besides the context.
pub struct FetchInputs<'a> {
    pub sts: &'a StsTarget,
    pub sso: sso_role::Where<'a>,
    /// `_CREDS_PROFILE_CHAIN` for the processes this export runs (its own profile last).
    pub guard: &'a [String],
    /// How long a `credential_process` (or `mfa_process`) may run.
    pub process_timeout: std::time::Duration,
    /// Where MFA codes may come from.
    pub mfa: mfa::Sources<'a>,
}

/// The hops of `chain` in call order, with their cache keys.
pub fn plan(chain: &Chain, inputs: &PlanInputs<'_>) -> Result<Vec<Hop>> {
    let base = chain.base.plan(inputs)?;
    let mfa = mfa_session_rule(chain, &base, inputs.sts);
    let session = match mfa {
        Some(_) => None,
        None => session_token_rule(chain, &base, inputs),
    };
    let mut hops = Vec::with_capacity(chain.hops.len().saturating_add(3));
    hops.push(base);
    hops.extend(mfa);
    for role in &chain.hops {
        let parent = &hops.last().expect("the base hop").key;
        hops.push(Hop {
            key: assume_role::key(parent, role, inputs.sts),
            label: assume_role::label(role),
            profile: role.profile.clone(),
            source: Source::AssumeRole(role.clone()),
        });
    }
    hops.extend(session);
    Ok(hops)
}

/// Rule: over long-term keys, an MFA role is assumed with an MFA session (one code a day),
/// and keys whose own profile names an MFA device, with no role above, become an MFA session
/// themselves (as aws-vault does).
pub fn mfa_session_rule(chain: &Chain, base: &Hop, sts: &StsTarget) -> Option<Hop> {
    if !base.source.properties().long_term {
        return None;
    }
    let device = match chain.hops.first() {
        Some(role) => MfaDevice::of(&role.profile, &role.mfa_serial, &role.mfa_process)?,
        None => chain.base.own_mfa()?,
    };
    Some(Hop {
        key: mfa::key(&base.key, device.serial, sts),
        label: mfa::label(device.serial),
        profile: device.profile.to_string(),
        source: Source::MfaSession(mfa::MfaSession {
            profile: device.profile.to_string(),
            serial: device.serial.to_string(),
            process: device.process.map(str::to_string),
        }),
    })
}

/// Rule: keys that are never handed out, or keys without a session token for a consumer that
/// needs one, become session credentials (`GetSessionToken`) when no role is above them.
pub fn session_token_rule(chain: &Chain, base: &Hop, inputs: &PlanInputs<'_>) -> Option<Hop> {
    let properties = base.source.properties();
    let wanted = inputs.session_token || !properties.handed_out;
    if !wanted || !chain.hops.is_empty() || properties.gives_token {
        return None;
    }
    Some(Hop {
        key: session_token::key(&base.key, inputs.sts),
        label: session_token::LABEL.into(),
        profile: base.profile.clone(),
        source: Source::SessionToken(session_token::SessionToken),
    })
}

/// Whether `profile` says `credential_source = NAME` (case-insensitive, as the SDKs read it).
fn names(profile: &Section, name: Option<&str>) -> bool {
    match (profile.get("credential_source"), name) {
        (Some(value), Some(name)) => value.eq_ignore_ascii_case(name),
        _ => false,
    }
}

/// Makes `hop`'s call; `parent` is the previous hop's credentials when the hop needs them, and
/// `below` that hop.
pub fn fetch(
    ctx: &Context,
    at: &FetchInputs<'_>,
    hop: &Hop,
    below: Option<&Hop>,
    parent: Option<&Credentials>,
) -> Result<Credentials> {
    let step = Step {
        profile: &hop.profile,
        label: &hop.label,
        below,
        parent,
    };
    hop.source.fetch(ctx, at, step)
}

impl Source {
    /// Whether the hop's result is cached.
    pub fn cacheable(&self) -> bool {
        self.properties().cached
    }

    /// Whether the hop's credentials come from an AWS service.
    pub fn from_aws(&self) -> bool {
        self.properties().from_aws
    }

    /// Whether the hop is signed with the previous hop's credentials.
    pub fn needs_parent(&self) -> bool {
        self.properties().needs_parent
    }
}

/// Declares the sources: the two enums, and the dispatch that the enums' methods need. A
/// source is registered by one line here and nowhere else (`tests/layout.rs` checks).
macro_rules! register {
    (
        bases: [$($base:ident($base_ty:ty)),* $(,)?],
        hops: [$($hop:ident($hop_ty:ty)),* $(,)?] $(,)?
    ) => {
        /// Where the first credentials of a chain come from: each base source's own struct.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Base {
            $($base($base_ty),)*
        }

        /// Where a hop's credentials come from: what each source's fetch needs.
        #[derive(Debug, Clone)]
        pub enum Source {
            $($base(<$base_ty as Detect>::Fetch),)*
            $($hop($hop_ty),)*
        }

        $(
            impl From<$base_ty> for Base {
                fn from(source: $base_ty) -> Base {
                    Base::$base(source)
                }
            }
        )*

        /// Every registered source, by its variant name, in registration order.
        pub const REGISTERED: &[&str] = &[$(stringify!($base),)* $(stringify!($hop),)*];

        impl Base {
            /// The profile keys that select some base source.
            pub const KEYS: &'static [&'static [&'static str]] =
                &[$(<$base_ty as Detect>::KEYS,)*];
            /// The `credential_source` values the sources answer to, in registration order.
            pub fn credential_sources() -> Vec<&'static str> {
                [$(<$base_ty as Detect>::CREDENTIAL_SOURCE,)*].into_iter().flatten().collect()
            }

            /// The base source `profile` selects: the first registered source that answers.
            pub fn detect(set: &ProfileSet, profile: &Section) -> Result<Option<Base>> {
                $(
                    if let Some(s) = <$base_ty as Detect>::detect(set, profile)? {
                        return Ok(Some(Base::$base(s)));
                    }
                )*
                Ok(None)
            }

            /// The source a role profile's `credential_source` names.
            pub fn named(set: &ProfileSet, profile: &Section) -> Result<Option<Base>> {
                $(
                    if <$base_ty as Detect>::CREDENTIAL_SOURCE.is_some() {
                        if let Some(s) = <$base_ty as Detect>::detect(set, profile)? {
                            return Ok(Some(Base::$base(s)));
                        }
                    }
                )*
                Ok(None)
            }

            pub fn profile(&self) -> &str {
                match self {
                    $(Base::$base(s) => s.profile(),)*
                }
            }

            /// One line for `doctor`.
            pub fn describe(&self, inputs: &PlanInputs<'_>) -> String {
                match self {
                    $(Base::$base(s) => s.describe(inputs),)*
                }
            }

            fn own_mfa(&self) -> Option<MfaDevice<'_>> {
                match self {
                    $(Base::$base(s) => s.own_mfa(),)*
                }
            }

            fn plan(&self, inputs: &PlanInputs<'_>) -> Result<Hop> {
                match self {
                    $(Base::$base(s) => {
                        let planned = s.plan(inputs)?;
                        Ok(Hop {
                            profile: s.profile().to_string(),
                            label: planned.label,
                            key: planned.key,
                            source: Source::$base(planned.fetch),
                        })
                    })*
                }
            }
        }

        impl Source {
            pub fn properties(&self) -> Properties {
                match self {
                    $(Source::$base(s) => s.properties(),)*
                    $(Source::$hop(s) => s.properties(),)*
                }
            }

            fn fetch(&self, ctx: &Context, at: &FetchInputs<'_>, step: Step<'_>) -> Result<Credentials> {
                match self {
                    $(Source::$base(s) => s.fetch(ctx, at, step),)*
                    $(Source::$hop(s) => s.fetch(ctx, at, step),)*
                }
            }
        }
    };
}

register! {
    // Base sources, in detection order: a profile is the first of these it selects.
    bases: [
        Keyring(keyring_keys::KeyringKeys),
        Environment(environment::Environment),
        InstanceMetadata(instance_metadata::InstanceMetadata),
        Container(container::EcsContainer),
        WebIdentity(web_identity::WebIdentity),
        Sso(sso_role::Sso),
        Login(login_session::LoginSession),
        Process(process::Process),
        AccessKey(static_keys::StaticKeys),
    ],
    // Hops the plan puts above a base: its rules and the profiles' roles.
    hops: [
        MfaSession(mfa::MfaSession),
        AssumeRole(assume_role::RoleHop),
        SessionToken(session_token::SessionToken),
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_is_registered_once() {
        let mut names = REGISTERED.to_vec();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "{REGISTERED:?}");
        assert_eq!(
            Base::credential_sources(),
            ["Environment", "Ec2InstanceMetadata", "EcsContainer"]
        );
    }
}
