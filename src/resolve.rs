//! Turns a [`Chain`] into credentials: each hop from the cache when it is fresh, otherwise
//! fetched once under the hop's lock.
//!
//! Single flight: a caller that finds a hop stale takes the hop's lock, reads the entry again
//! (another caller may have refreshed it meanwhile), and only then calls upstream; N concurrent
//! callers make one call per stale hop. A failed call is remembered for 10 to 15 seconds so a
//! crowd of callers does not hammer STS. The final hop must have `min_ttl` left; the hops
//! below it only need [`INTERMEDIATE_TTL`], enough to make the next call.

use crate::cache::{self, file::FileStore, Entry, Failure, Key};
use crate::chain::{Base, Chain, NamedSource, RoleHop, StaticKeys};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use crate::source::{self, sts::AssumeRoleRequest, sts::StsTarget};
use crate::sso::api::Endpoints;
use chrono::{DateTime, Duration, Utc};

/// How long a hop below the last must still be valid to be used for the next call.
pub const INTERMEDIATE_TTL: Duration = Duration::minutes(5);
/// How long a caller waits for another process refreshing the same hop.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

#[derive(Debug, Clone)]
pub struct Options {
    pub min_ttl: Duration,
    /// Fetch every hop again, ignoring cached entries (but still writing them).
    pub refresh: bool,
    /// Neither read nor write the cache.
    pub no_cache: bool,
    /// Turn long-term keys into session credentials with GetSessionToken.
    pub want_session_token: bool,
    pub verbose: bool,
}

enum StepKind<'c> {
    Sso(&'c crate::chain::Sso),
    Static(&'c StaticKeys),
    Environment(Credentials),
    Process(&'c str),
    Role(&'c RoleHop),
    SessionToken,
}

struct Step<'c> {
    kind: StepKind<'c>,
    profile: String,
    key: Key,
    label: String,
}

/// One hop of a chain as `export` would take it.
#[derive(Debug, Clone)]
pub struct PlannedHop {
    pub profile: String,
    pub label: String,
    pub key: Key,
    /// Whether the hop's result is cached (static and environment keys are not).
    pub cacheable: bool,
}

pub struct Resolver<'a> {
    ctx: &'a Context,
    store: Option<FileStore>,
    target: StsTarget,
    sso_endpoints: Endpoints,
    opts: Options,
    /// `_CREDS_PROFILE_CHAIN` for the processes this export runs (includes its own profile).
    guard: Vec<String>,
    started: DateTime<Utc>,
}

impl<'a> Resolver<'a> {
    pub fn new(
        ctx: &'a Context,
        store: Option<FileStore>,
        target: StsTarget,
        sso_endpoints: Endpoints,
        opts: Options,
        guard: Vec<String>,
    ) -> Self {
        let started = ctx.clock.now();
        let store = if opts.no_cache { None } else { store };
        Resolver {
            ctx,
            store,
            target,
            sso_endpoints,
            opts,
            guard,
            started,
        }
    }

    fn log(&self, message: impl FnOnce() -> String) {
        if self.opts.verbose {
            eprintln!("creds: {}", message());
        }
    }

    fn steps<'c>(&self, chain: &'c Chain) -> Result<Vec<Step<'c>>> {
        let mut steps = Vec::with_capacity(chain.hops.len() + 2);
        let profile = chain.base.profile().to_string();
        let secret_key = |kind: &str, c: &Credentials| {
            let fp = cache::fingerprint(&[
                c.secret_access_key.expose(),
                c.session_token.as_ref().map_or("", |t| t.expose()),
            ]);
            Key::derive(
                kind,
                None,
                &[
                    ("access_key_id", Some(&c.access_key_id)),
                    ("secret", Some(&fp)),
                ],
            )
        };
        let base_has_token = match &chain.base {
            Base::AccessKey(keys) => {
                let c = static_credentials(keys);
                steps.push(Step {
                    key: secret_key("static", &c),
                    kind: StepKind::Static(keys),
                    label: format!("static keys {}", keys.access_key_id),
                    profile,
                });
                keys.session_token.is_some()
            }
            Base::NamedSource {
                source: NamedSource::Environment,
                ..
            } => {
                let c = source::env::credentials(&self.ctx.env, &profile)?;
                let has = c.session_token.is_some();
                steps.push(Step {
                    key: secret_key("environment", &c),
                    label: format!("environment keys {}", c.access_key_id),
                    kind: StepKind::Environment(c),
                    profile,
                });
                has
            }
            Base::Sso(sso) => {
                let key = Key::derive(
                    "sso-role",
                    None,
                    &[
                        ("session", sso.session.as_deref()),
                        ("start_url", sso.start_url.as_deref()),
                        ("sso_region", sso.region.as_deref()),
                        ("account_id", sso.account_id.as_deref()),
                        ("role_name", sso.role_name.as_deref()),
                        ("endpoint", self.sso_endpoints.portal.as_deref()),
                    ],
                );
                let label = format!(
                    "sso-role {}/{}",
                    sso.account_id.as_deref().unwrap_or("?"),
                    sso.role_name.as_deref().unwrap_or("?")
                );
                steps.push(Step {
                    key,
                    kind: StepKind::Sso(sso),
                    label,
                    profile,
                });
                true
            }
            Base::Process { command, .. } => {
                steps.push(Step {
                    key: Key::derive("process", None, &[("command", Some(command))]),
                    kind: StepKind::Process(command),
                    label: format!("credential_process {command}"),
                    profile,
                });
                false
            }
            other => {
                return Err(Error::config(format!(
                    "profile `{}`: this credential source is not supported yet",
                    other.profile()
                )))
            }
        };
        let region = Some(self.target.region.as_str());
        let endpoint = self.target.endpoint.as_deref();
        for hop in &chain.hops {
            let duration = hop.duration_seconds.map(|d| d.to_string());
            let key = Key::derive(
                "assume-role",
                Some(&steps.last().expect("base step").key),
                &[
                    ("role_arn", Some(&hop.role_arn)),
                    ("external_id", hop.external_id.as_deref()),
                    ("session_name", hop.session_name.as_deref()),
                    ("duration_seconds", duration.as_deref()),
                    ("source_identity", hop.source_identity.as_deref()),
                    ("mfa_serial", hop.mfa_serial.as_deref()),
                    ("region", region),
                    ("endpoint", endpoint),
                ],
            );
            steps.push(Step {
                key,
                kind: StepKind::Role(hop),
                label: format!("assume-role {}", hop.role_arn),
                profile: hop.profile.clone(),
            });
        }
        if self.opts.want_session_token && chain.hops.is_empty() && !base_has_token {
            let key = Key::derive(
                "session-token",
                Some(&steps[0].key),
                &[("region", region), ("endpoint", endpoint)],
            );
            steps.push(Step {
                key,
                kind: StepKind::SessionToken,
                label: "session-token".into(),
                profile: chain.base.profile().to_string(),
            });
        }
        Ok(steps)
    }

    /// The credentials at the end of `chain`, with at least `min_ttl` left.
    pub fn resolve(&self, chain: &Chain) -> Result<Credentials> {
        let steps = self.steps(chain)?;
        let last = steps.len() - 1;
        let creds = self.get(&steps, last, self.opts.min_ttl)?;
        if !cache::fresh(&creds, self.ctx.clock.now(), self.opts.min_ttl) {
            let left = creds
                .expiration
                .map(|e| (e - self.ctx.clock.now()).num_seconds())
                .unwrap_or(0);
            return Err(Error::config(format!(
                "profile `{}`: {} returned credentials valid for {left}s, less than --min-ttl {}s; lower --min-ttl or raise the session duration",
                steps[last].profile,
                steps[last].label,
                self.opts.min_ttl.num_seconds()
            )));
        }
        Ok(creds)
    }

    /// The hops of `chain` in call order, with their cache keys: what `export` would use.
    pub fn plan(&self, chain: &Chain) -> Result<Vec<PlannedHop>> {
        Ok(self
            .steps(chain)?
            .iter()
            .map(|s| PlannedHop {
                profile: s.profile.clone(),
                label: s.label.clone(),
                key: s.key.clone(),
                cacheable: Self::cacheable(s),
            })
            .collect())
    }

    fn cacheable(step: &Step) -> bool {
        !matches!(step.kind, StepKind::Static(_) | StepKind::Environment(_))
    }

    fn get(&self, steps: &[Step], i: usize, ttl: Duration) -> Result<Credentials> {
        let step = &steps[i];
        let Some(store) = self.store.as_ref().filter(|_| Self::cacheable(step)) else {
            return self.fetch(steps, i);
        };
        if !self.opts.refresh {
            if let Some(c) = store.read(&step.key).and_then(|e| e.credentials()) {
                if cache::fresh(&c, self.ctx.clock.now(), ttl) {
                    self.log(|| {
                        format!(
                            "profile `{}`: {}: cached, expires {}",
                            step.profile,
                            step.label,
                            c.expiration.map(cache::format_time).unwrap_or_default()
                        )
                    });
                    return Ok(c);
                }
            }
        }
        let _lock = store.lock(
            &step.key,
            LOCK_WAIT,
            &format!("profile `{}` ({})", step.profile, step.label),
        )?;
        let now = self.ctx.clock.now();
        if let Some(entry) = store.read(&step.key) {
            let refreshed_since_start = entry.fetched_at().is_some_and(|t| t > self.started);
            if let Some(c) = entry.credentials().filter(|c| cache::fresh(c, now, ttl)) {
                if !self.opts.refresh || refreshed_since_start {
                    self.log(|| {
                        format!(
                            "profile `{}`: {}: refreshed by another process",
                            step.profile, step.label
                        )
                    });
                    return Ok(c);
                }
            }
        }
        if !self.opts.refresh {
            if let Some(err) = store.read_failure(&step.key).and_then(|f| f.error(now)) {
                return Err(err);
            }
        }
        self.log(|| format!("profile `{}`: {}: fetching", step.profile, step.label));
        match self.fetch(steps, i) {
            Ok(c) => {
                if let Some(entry) = Entry::new(
                    &step.key,
                    &step.profile,
                    &step.label,
                    &c,
                    self.ctx.clock.now(),
                ) {
                    if let Err(e) = store.write(&entry) {
                        eprintln!("creds: warning: {e}");
                    }
                }
                store.clear_failure(&step.key);
                Ok(c)
            }
            Err(e) => {
                if matches!(e.kind, Kind::AwsRefused | Kind::Network | Kind::Other) {
                    let now = self.ctx.clock.now();
                    let until =
                        now + Duration::seconds(10) + Duration::milliseconds(jitter_millis(5000));
                    let failure = Failure {
                        until: cache::format_time(until),
                        at: cache::format_time(now),
                        exit_code: e.exit_code(),
                        message: e.message.clone(),
                    };
                    let _ = store.write_failure(&step.key, &failure);
                }
                Err(e)
            }
        }
    }

    fn fetch(&self, steps: &[Step], i: usize) -> Result<Credentials> {
        let step = &steps[i];
        match &step.kind {
            StepKind::Static(keys) => Ok(static_credentials(keys)),
            StepKind::Sso(sso) => {
                let (Some(account), Some(role)) = (&sso.account_id, &sso.role_name) else {
                    return Err(Error::config(format!(
                        "profile `{}` signs in to IAM Identity Center but names no role: add sso_account_id and sso_role_name",
                        sso.profile
                    )));
                };
                let exported = self
                    .guard
                    .last()
                    .map_or(sso.profile.as_str(), String::as_str);
                let session = crate::sso::Session::from_chain(sso, exported)?;
                let token = crate::sso::valid_token(self.ctx, &session, &self.sso_endpoints)?;
                self.ctx
                    .sso
                    .get_role_credentials(
                        &session.region,
                        &self.sso_endpoints,
                        &token.access_token,
                        account,
                        role,
                    )
                    .map_err(|e| match e.kind {
                        Kind::LoginNeeded => session.login_needed(&e.message),
                        _ => {
                            Error::new(e.kind, format!("profile `{}`: {}", sso.profile, e.message))
                        }
                    })
            }
            StepKind::Environment(c) => Ok(c.clone()),
            StepKind::Process(command) => source::process::run(
                self.ctx.processes.as_ref(),
                &step.profile,
                command,
                &self.guard,
                self.ctx.clock.now(),
            ),
            StepKind::Role(hop) => {
                let parent = self.get(steps, i - 1, INTERMEDIATE_TTL)?;
                let request = AssumeRoleRequest {
                    role_arn: hop.role_arn.clone(),
                    session_name: hop
                        .session_name
                        .clone()
                        .unwrap_or_else(|| format!("creds-{}", self.ctx.clock.now().timestamp())),
                    external_id: hop.external_id.clone(),
                    duration_seconds: hop.duration_seconds,
                    source_identity: hop.source_identity.clone(),
                };
                self.ctx
                    .sts
                    .assume_role(&self.target, &parent, &request)
                    .map_err(|e| {
                        Error::new(
                            e.kind,
                            format!(
                                "profile `{}`: assuming {}: {}",
                                hop.profile, hop.role_arn, e.message
                            ),
                        )
                    })
            }
            StepKind::SessionToken => {
                let parent = self.get(steps, i - 1, INTERMEDIATE_TTL)?;
                if parent.session_token.is_some() {
                    return Ok(parent);
                }
                self.ctx
                    .sts
                    .get_session_token(&self.target, &parent)
                    .map_err(|e| {
                        Error::new(
                            e.kind,
                            format!(
                                "profile `{}`: turning long-term keys into session credentials: {}",
                                step.profile, e.message
                            ),
                        )
                    })
            }
        }
    }
}

fn static_credentials(keys: &StaticKeys) -> Credentials {
    Credentials {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: keys.secret_access_key.clone(),
        session_token: keys.session_token.clone(),
        expiration: None,
        account_id: keys.account_id.clone(),
    }
}

/// A pseudo-random number of milliseconds below `max`, different in each process.
fn jitter_millis(max: i64) -> i64 {
    (crate::context::entropy() % max as u64) as i64
}
