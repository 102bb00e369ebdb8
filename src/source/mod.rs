//! Credential sources, one module each, and the plan that lines them up.
//!
//! Each source module owns its cache-key parameters (`key`), how its hop is described
//! (`label`, never a secret) and its fetch:
//!
//! | module | source | cached |
//! |---|---|---|
//! | [`static_keys`] | `aws_access_key_id` + `aws_secret_access_key` | no |
//! | [`keyring_keys`] | `creds_keyring` (long-term keys in the OS keyring; always exchanged) | no |
//! | [`environment`] | `credential_source = Environment` | no |
//! | [`process`] | `credential_process` (with the recursion guard) | yes |
//! | [`sso_role`] | IAM Identity Center role credentials | yes |
//! | [`instance_metadata`] | `credential_source = Ec2InstanceMetadata` (IMDSv2) | yes |
//! | [`container`] | `credential_source = EcsContainer` (ECS, EKS Pod Identity) | yes |
//! | [`login_session`] | `login_session` (an `aws login` console session) | yes |
//! | [`web_identity`] | `web_identity_token_file` + `role_arn` (STS `AssumeRoleWithWebIdentity`) | yes |
//! | [`assume_role`] | `role_arn` hops (STS `AssumeRole`) | yes |
//! | [`mfa`] | an MFA session (STS `GetSessionToken` with a code) under MFA roles over long-term keys | yes |
//! | [`session_token`] | STS `GetSessionToken` over long-term keys | yes |
//!
//! [`plan`] turns a [`Chain`] into [`Hop`]s in call order, each with its key (pure: the
//! environment is a value handed in). [`fetch`] makes one hop's call. The walk, the cache
//! policy and the locks are `crate::walk`'s.

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
use crate::chain::{Base, Chain, NamedSource, RoleHop, Sso};
use crate::context::{Context, Env};
use crate::error::{Error, Result};
use crate::secret::Credentials;

/// Where a hop's credentials come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Static keys of a profile (carried, not fetched).
    Static(Credentials),
    /// `credential_source = Environment` (carried, not fetched).
    Environment(Credentials),
    /// Long-term keys whose secret is read from the OS keyring (never cached, never handed out).
    Keyring(crate::chain::KeyringKeys),
    Process {
        command: String,
    },
    SsoRole(Sso),
    /// The EC2 instance metadata service at this endpoint.
    InstanceMetadata {
        endpoint: String,
    },
    Container(crate::aws::metadata::Container),
    Login(login_session::Login),
    WebIdentity(web_identity::WebIdentity),
    /// An MFA session over long-term keys.
    MfaSession(mfa::MfaSession),
    /// A role; with `mfa_serial`, its code goes with the call unless an MFA session signs it.
    AssumeRole(RoleHop),
    SessionToken,
}

impl Source {
    /// Whether the hop's result is cached (static and environment keys are not).
    pub fn cacheable(&self) -> bool {
        !matches!(
            self,
            Source::Static(_) | Source::Environment(_) | Source::Keyring(_)
        )
    }

    /// Whether the hop's credentials come from an AWS service (STS, IAM Identity Center, the
    /// metadata services, the console sign-in), rather than from the user's configuration (keys,
    /// a `credential_process`).
    pub fn from_aws(&self) -> bool {
        !matches!(
            self,
            Source::Static(_)
                | Source::Environment(_)
                | Source::Keyring(_)
                | Source::Process { .. }
        )
    }

    /// How long the credentials of an AWS call were asked to last, where the call asks: a
    /// role's `duration_seconds`, else STS's default of one hour.
    pub fn asked_lifetime(&self) -> Option<chrono::Duration> {
        match self {
            Source::AssumeRole(role) => Some(chrono::Duration::seconds(i64::from(
                role.duration_seconds.unwrap_or(3600),
            ))),
            _ => None,
        }
    }

    /// Whether the hop is signed with the previous hop's credentials.
    pub fn needs_parent(&self) -> bool {
        matches!(
            self,
            Source::AssumeRole(_) | Source::SessionToken | Source::MfaSession(_)
        )
    }
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

/// The hops of `chain` in call order, with their cache keys.
pub fn plan(chain: &Chain, inputs: &PlanInputs<'_>) -> Result<Vec<Hop>> {
    let profile = chain.base.profile().to_string();
    let base = match &chain.base {
        Base::AccessKey(keys) => {
            let c = static_keys::credentials(keys);
            Hop {
                key: static_keys::key("static", &c),
                label: static_keys::label(&c),
                source: Source::Static(c),
                profile,
            }
        }
        Base::Keyring(k) => Hop {
            key: keyring_keys::key(k),
            label: keyring_keys::label(k),
            source: Source::Keyring(k.clone()),
            profile,
        },
        Base::NamedSource {
            source: NamedSource::Environment,
            ..
        } => {
            let c = environment::credentials(inputs.env, &profile)?;
            Hop {
                key: environment::key(&c),
                label: environment::label(&c),
                source: Source::Environment(c),
                profile,
            }
        }
        Base::Sso(sso) => Hop {
            key: sso_role::key(sso, inputs.sso),
            label: sso_role::label(sso),
            source: Source::SsoRole(sso.clone()),
            profile,
        },
        Base::WebIdentity {
            profile: p,
            role_arn,
            token_file,
            session_name,
        } => {
            let w = web_identity::WebIdentity {
                profile: p.clone(),
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                session_name: session_name.clone(),
            };
            Hop {
                key: web_identity::key(&w, inputs.sts),
                label: web_identity::label(&w),
                source: Source::WebIdentity(w),
                profile,
            }
        }
        Base::Login { session, .. } => {
            let l = login_session::Login {
                profile: profile.clone(),
                session: session.clone(),
                token_file: inputs
                    .login_cache
                    .map(|dir| login_session::token_file(dir, session)),
                login_profile: inputs.login_profile.to_string(),
            };
            Hop {
                key: login_session::key(&l, inputs.sts),
                label: login_session::label(&l),
                source: Source::Login(l),
                profile,
            }
        }
        Base::Process { command, .. } => Hop {
            key: process::key(command),
            label: process::label(command),
            source: Source::Process {
                command: command.clone(),
            },
            profile,
        },
        Base::NamedSource {
            source: NamedSource::Ec2InstanceMetadata,
            ..
        } => {
            let endpoint = inputs.imds.as_ref().map_err(|why| {
                Error::config(format!(
                    "profile `{profile}` uses credential_source = Ec2InstanceMetadata, but {why}"
                ))
            })?;
            Hop {
                key: instance_metadata::key(&endpoint.value),
                label: instance_metadata::label(&endpoint.value),
                source: Source::InstanceMetadata {
                    endpoint: endpoint.value.clone(),
                },
                profile,
            }
        }
        Base::NamedSource {
            source: NamedSource::EcsContainer,
            ..
        } => {
            let c = inputs.container.as_ref().map_err(|why| {
                Error::config(format!(
                    "profile `{profile}` uses credential_source = EcsContainer, but {why}"
                ))
            })?;
            Hop {
                key: container::key(c),
                label: container::label(c),
                source: Source::Container(c.clone()),
                profile,
            }
        }
    };
    let base_has_token = match &base.source {
        Source::Static(c) | Source::Environment(c) => c.session_token.is_some(),
        Source::SsoRole(_)
        | Source::WebIdentity(_)
        | Source::InstanceMetadata { .. }
        | Source::Container(_)
        | Source::Login(_) => true,
        _ => false,
    };
    let keyring = matches!(&base.source, Source::Keyring(_));
    let long_term = keyring
        || matches!(&base.source, Source::Static(c) | Source::Environment(c) if c.session_token.is_none());
    let mut hops = Vec::with_capacity(chain.hops.len().saturating_add(3));
    hops.push(base);
    // Over long-term keys, an MFA role is assumed with an MFA session (one code a day); keys
    // with an MFA device of their own and no role above become an MFA session themselves.
    let first_role = chain
        .hops
        .first()
        .and_then(|r| Some((&r.profile, r.mfa_serial.as_deref()?, &r.mfa_process)));
    let own = match &chain.base {
        Base::AccessKey(k) if chain.hops.is_empty() => k
            .mfa_serial
            .as_deref()
            .map(|serial| (&k.profile, serial, &k.mfa_process)),
        Base::Keyring(k) if chain.hops.is_empty() => k
            .mfa_serial
            .as_deref()
            .map(|serial| (&k.profile, serial, &k.mfa_process)),
        _ => None,
    };
    let mfa = first_role.or(own).filter(|_| long_term);
    if let Some((role_profile, serial, process)) = mfa {
        let parent = &hops.last().expect("the base hop").key;
        hops.push(Hop {
            key: mfa::key(parent, serial, inputs.sts),
            label: mfa::label(serial),
            profile: role_profile.clone(),
            source: Source::MfaSession(mfa::MfaSession {
                profile: role_profile.clone(),
                serial: serial.to_string(),
                process: process.clone(),
            }),
        });
    }
    for role in &chain.hops {
        let parent = &hops.last().expect("the base hop").key;
        hops.push(Hop {
            key: assume_role::key(parent, role, inputs.sts),
            label: assume_role::label(role),
            profile: role.profile.clone(),
            source: Source::AssumeRole(role.clone()),
        });
    }
    // Keyring keys are never handed out: with nothing above them, they become a session.
    if (inputs.session_token || keyring)
        && chain.hops.is_empty()
        && !base_has_token
        && mfa.is_none()
    {
        let base_key = &hops.first().expect("the base hop").key;
        hops.push(Hop {
            key: session_token::key(base_key, inputs.sts),
            label: session_token::LABEL.into(),
            profile: chain.base.profile().to_string(),
            source: Source::SessionToken,
        });
    }
    Ok(hops)
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

/// Makes `hop`'s call; `parent` is the previous hop's credentials when the hop needs them, and
/// `below` that hop.
pub fn fetch(
    ctx: &Context,
    at: &FetchInputs<'_>,
    hop: &Hop,
    below: Option<&Hop>,
    parent: Option<&Credentials>,
) -> Result<Credentials> {
    let parent = || {
        parent.ok_or_else(|| Error::other(format!("{}: no credentials to sign with", hop.label)))
    };
    match &hop.source {
        Source::Static(c) | Source::Environment(c) => Ok(c.clone()),
        Source::Keyring(k) => keyring_keys::fetch(ctx, k),
        Source::Process { command } => process::run(
            ctx.processes.as_ref(),
            &hop.profile,
            command,
            at.guard,
            ctx.clock.now(),
            at.process_timeout,
        ),
        Source::SsoRole(sso) => sso_role::fetch(ctx, &at.sso, sso),
        Source::WebIdentity(w) => web_identity::fetch(ctx, at.sts, w),
        Source::InstanceMetadata { endpoint } => {
            instance_metadata::fetch(ctx, &hop.profile, endpoint)
        }
        Source::Container(c) => container::fetch(ctx, &hop.profile, c),
        Source::Login(l) => login_session::fetch(ctx, at.sts, l),
        Source::MfaSession(session) => mfa::fetch(ctx, &at.mfa, at.sts, session, parent()?),
        Source::AssumeRole(role) => {
            // The code goes with the call unless the credentials below are an MFA session.
            let covered = below.is_some_and(|b| matches!(b.source, Source::MfaSession(_)));
            let code = match (&role.mfa_serial, covered) {
                (Some(serial), false) => Some(mfa::code(
                    ctx,
                    &at.mfa,
                    &role.profile,
                    serial,
                    role.mfa_process.as_deref(),
                )?),
                _ => None,
            };
            assume_role::fetch(ctx, at.sts, role, parent()?, code)
        }
        Source::SessionToken => session_token::fetch(ctx, at.sts, &hop.profile, parent()?),
    }
}
