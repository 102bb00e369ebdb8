//! `creds doctor`: what `creds export` would do for a profile, and what is wrong, without
//! secrets and without calling AWS.
//!
//! Data first: [`diagnose`] builds a [`Diagnosis`] from small checks, each adding what it
//! found; [`render`] turns it into text, and `--json` serialises it as it is. The exit code
//! comes from the worst problem's [`Kind`].

use crate::cache::{file::FileStore, fresh};
use crate::chain::{self, Base, Chain};
use crate::claude;
use crate::cli::DoctorArgs;
use crate::config::ProfileSet;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::settings::{Flags, Settings};
use crate::source::{self, Hop, PlanInputs};
use crate::sso::renew::{freshness, Freshness};
use crate::walk::INTERMEDIATE_TTL;
use crate::wire::format_time;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The `--min-ttl` export uses by default.
const MIN_TTL: Duration = crate::walk::DEFAULT_MIN_TTL;

#[derive(Debug, Default, Serialize)]
pub struct Diagnosis {
    pub profile: String,
    /// Where the profile name came from (`--profile`, `AWS_PROFILE`, ...).
    pub profile_from: String,
    pub files: Vec<FileState>,
    pub warnings: Vec<String>,
    pub region: Option<String>,
    pub region_from: Option<String>,
    /// Values that are set but lose to another.
    pub shadowed: Vec<ShadowState>,
    pub sts_endpoint: Option<String>,
    /// The CA bundle AWS calls trust, where it was named, and how many certificates it holds.
    pub ca_bundle: Option<String>,
    /// The proxies AWS calls go through (passwords hidden), and what they skip.
    pub proxy: Option<String>,
    /// Whether the OS keyring answered and how fast (keyring-backed keys, or its cache).
    pub keyring: Option<String>,
    /// Where credentials are cached, and why there.
    pub cache: Option<String>,
    /// The refresh-ahead window, and where it was set.
    pub refresh_ahead: Option<String>,
    pub source: Option<String>,
    pub chain: Vec<HopState>,
    pub calls_needed: Option<usize>,
    /// Why the last hop is handed out with less than the default --min-ttl.
    pub min_ttl_note: Option<String>,
    pub sso: Option<SsoState>,
    pub claude_code: Vec<ClaudeFile>,
    /// What `--check` found: the identity the credentials have, and the clock skew.
    pub check: Option<Check>,
    pub problems: Vec<Problem>,
    pub ok: bool,
    pub exit_code: i32,
}

#[derive(Debug, Serialize)]
pub struct FileState {
    pub path: String,
    pub exists: bool,
}

#[derive(Debug, Serialize)]
pub struct ShadowState {
    pub setting: String,
    pub value: String,
    pub from: String,
    pub overridden_by: String,
}

#[derive(Debug, Serialize)]
pub struct HopState {
    pub profile: String,
    pub hop: String,
    pub cache: String,
}

#[derive(Debug, Serialize)]
pub struct SsoState {
    pub session: String,
    pub state: String,
    /// The IAM Identity Center endpoints that will be called (portal, OIDC).
    pub endpoints: String,
    pub login_needed: bool,
    /// A sign-in in progress: its URL, code and time left.
    pub pending: Option<String>,
    /// Whether the next export needs the session (no cached credentials cover it).
    #[serde(skip)]
    pub needed_now: bool,
    #[serde(skip)]
    pub login_command: String,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub account: String,
    pub arn: String,
    /// The reply's `Date` less this machine's clock, in seconds.
    pub clock_skew_seconds: Option<i64>,
    /// In bearer mode: until when a Bedrock token minted now is valid (never the token).
    pub bedrock_token_until: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClaudeFile {
    pub file: String,
    /// The hook that runs creds: `awsCredentialExport`, or `apiKeyHelper` in bearer mode.
    pub hook: String,
    pub command: String,
    /// `sigv4` (Claude Code holds AWS credentials) or `bearer` (only a Bedrock token).
    pub mode: String,
    /// In bearer mode, for an IAM Identity Center profile: how a person signs in, since Claude
    /// Code runs no `awsAuthRefresh` in that mode (measured on 2.1.197 and 2.1.332).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Problem {
    pub problem: String,
    pub fix: String,
    /// What this problem makes export do: `None` when export still works.
    #[serde(skip)]
    pub blocks: Option<Kind>,
}

impl Diagnosis {
    fn problem(&mut self, problem: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem {
            problem: problem.into(),
            fix: fix.into(),
            blocks: None,
        });
    }

    /// A problem that stops export: the error's line, and its hint as the fix (`otherwise`
    /// when it has none).
    fn blocking(&mut self, err: &Error, otherwise: impl Into<String>) {
        self.problems.push(Problem {
            problem: err.problem(),
            fix: err.hint.clone().unwrap_or_else(|| otherwise.into()),
            blocks: Some(err.kind),
        });
    }

    /// The exit code of the worst problem: 3 configuration, 4 login needed, 1 anything else.
    fn finish(&mut self) {
        let kinds: Vec<Kind> = self.problems.iter().filter_map(|p| p.blocks).collect();
        let code = if kinds.contains(&Kind::Config) {
            Kind::Config.exit_code()
        } else if kinds.contains(&Kind::LoginNeeded) {
            Kind::LoginNeeded.exit_code()
        } else if let Some(kind) = kinds.first() {
            kind.exit_code()
        } else {
            0
        };
        self.exit_code = code;
        self.ok = code == 0;
    }
}

pub fn run(ctx: &Context, args: &DoctorArgs) -> Result<(String, i32)> {
    let mut d = diagnose(ctx, args.profile.as_deref());
    if args.check && d.exit_code == 0 {
        check(ctx, args.profile.as_deref(), &mut d);
    }
    let code = d.exit_code;
    if args.json {
        let text = serde_json::to_string_pretty(&d).expect("a diagnosis is JSON");
        return Ok((format!("{text}\n"), code));
    }
    Ok((render(&d), code))
}

/// `--check`: exports as `creds export` would and asks STS who the credentials are.
pub fn check(ctx: &Context, profile: Option<&str>, d: &mut Diagnosis) {
    let request = crate::resolve::Request::new(profile, MIN_TTL);
    let bearer = d.claude_code.iter().any(|f| f.mode == "bearer");
    let identity = crate::resolve::credentials(ctx, &request).and_then(|(settings, creds)| {
        let id = ctx
            .sts
            .get_caller_identity(&settings.sts, &creds)
            .map_err(|e| e.in_profile(&settings.profile.value))?;
        // Bearer mode: mint a token as the helper would, and say until when it is valid.
        let until = match bearer {
            false => None,
            true => {
                let minted = crate::resolve::bedrock_token(ctx, &settings, &creds, MIN_TTL, false)?;
                Some(format!(
                    "{} ({}s)",
                    format_time(minted.until),
                    minted.lifetime.num_seconds()
                ))
            }
        };
        Ok((id, until))
    });
    match identity {
        Ok((id, bedrock_token_until)) => {
            let skew = id
                .server_time
                .map(|t| t.signed_duration_since(ctx.clock.now()).num_seconds());
            if let Some(skew) = skew.filter(|s| s.abs() > 60) {
                d.problem(
                    format!("this machine's clock is {}s off AWS's (by the reply's Date): AWS refuses signatures more than 5 minutes off, and expiry times are misjudged", skew),
                    "set the clock right (enable NTP: timedatectl set-ntp true)",
                );
            }
            d.check = Some(Check {
                account: id.account,
                arn: id.arn,
                clock_skew_seconds: skew,
                bedrock_token_until,
            });
        }
        Err(e) => d.blocking(&e, "see the message: creds export fails the same way"),
    }
    d.finish();
}

/// Everything doctor finds out about `profile` (the selected one when `None`).
pub fn diagnose(ctx: &Context, profile: Option<&str>) -> Diagnosis {
    let mut d = Diagnosis::default();
    let selected = crate::settings::select_profile(profile, &ctx.env);
    d.profile = selected.value.clone();
    d.profile_from = selected.origin.to_string();
    let flags = Flags {
        profile,
        region: None,
    };
    match Settings::load(flags, &ctx.env) {
        Ok((settings, set)) => check_profile(ctx, &settings, &set, &mut d),
        Err(e) => d.blocking(&e, "fix the file at the line named"),
    }
    d.finish();
    d
}

fn check_profile(ctx: &Context, settings: &Settings, set: &ProfileSet, d: &mut Diagnosis) {
    d.files = set
        .files
        .iter()
        .map(|(path, exists)| FileState {
            path: path.clone(),
            exists: *exists,
        })
        .collect();
    d.warnings = set.warnings.clone();
    let chain = match chain::resolve(set, &d.profile) {
        Ok(c) => c,
        Err(e) => {
            return d.blocking(&e, "see the message: it names the setting to change");
        }
    };
    check_region(settings, d);
    d.proxy = describe_proxy(settings);
    let keyring_base = matches!(&chain.base, Base::Keyring(_));
    if keyring_base || settings.cache_mode.value == crate::cache::Mode::Keyring {
        check_keyring(ctx, &chain, d);
    }
    let endpoints = settings.sso_endpoints();
    let inputs = PlanInputs {
        env: &ctx.env,
        sts: &settings.sts,
        sso: &endpoints,
        session_token: false,
        imds: &settings.imds,
        container: &settings.container,
        login_cache: settings.login_cache.as_ref().map(|d| d.value.as_path()),
        login_profile: &settings.login_profile,
    };
    let hops = match source::plan(&chain, &inputs) {
        Ok(hops) => hops,
        Err(e) => return d.blocking(&e, "see the message"),
    };
    d.source = Some(format!(
        "{} (profile `{}`)",
        chain.base.describe(&inputs),
        chain.base.profile()
    ));
    let fresh_from = check_chain(ctx, settings, &hops, d);
    if let Base::Sso(sso) = &chain.base {
        let needed_now = hops.first().is_some_and(|h| h.source.cacheable()) && fresh_from.is_none();
        check_sso(ctx, settings, sso, needed_now, d);
    }
    check_claude(ctx, settings, set, &chain, d);
}

fn check_region(settings: &Settings, d: &mut Diagnosis) {
    d.region = settings.region.as_ref().map(|r| r.value.clone());
    d.region_from = settings.region.as_ref().map(|r| r.origin.to_string());
    d.shadowed = settings
        .shadowed
        .iter()
        .map(|s| ShadowState {
            setting: s.setting.to_string(),
            value: s.value.clone(),
            from: s.origin.to_string(),
            overridden_by: s.by.to_string(),
        })
        .collect();
    if d.region.is_none() {
        let p = d.profile.clone();
        d.problem(
            format!("profile `{p}` has no region; Claude Code on Bedrock needs one"),
            format!("add `region = us-east-1` (or yours) to [profile {p}], or set AWS_REGION"),
        );
    }
    // The endpoint that will be called, from the SDK's own rules.
    let variants: Vec<String> = [
        ("FIPS", &settings.fips),
        ("dual-stack", &settings.dual_stack),
    ]
    .into_iter()
    .filter_map(|(name, set)| {
        set.as_ref()
            .filter(|s| s.value)
            .map(|s| format!("{name} from {}", s.origin))
    })
    .collect();
    let resolved = crate::aws::sts::resolved_endpoint(&settings.sts);
    d.sts_endpoint = Some(match (&settings.sts_endpoint, resolved) {
        (Some(e), _) => format!("{} (from {})", e.value, e.origin),
        (None, Ok(url)) if variants.is_empty() => format!("{url} (regional)"),
        (None, Ok(url)) => format!("{url} (regional; {})", variants.join(", ")),
        (None, Err(e)) => e.line(),
    });
    if let Some(bundle) = &settings.ca_bundle {
        let path = bundle.value.display();
        match crate::aws::read_ca_bundle(&bundle.value) {
            Ok((_, n)) => {
                d.ca_bundle = Some(format!(
                    "{path} (from {}; {n} certificate{})",
                    bundle.origin,
                    if n == 1 { "" } else { "s" }
                ))
            }
            Err(e) => {
                d.ca_bundle = Some(format!("{path} (from {}; unusable)", bundle.origin));
                d.problem(
                    e.to_string(),
                    format!("fix or unset it (set in {})", bundle.origin),
                );
            }
        }
    }
    d.refresh_ahead = Some(match settings.refresh_ahead.value {
        Some(w) => format!(
            "renewals start in the background {} min before --min-ttl is reached (from {})",
            w.num_minutes(),
            settings.refresh_ahead.origin
        ),
        None => format!("off (from {})", settings.refresh_ahead.origin),
    });
    d.cache = Some(match (&settings.cache_mode.value, &settings.cache_dir) {
        (crate::cache::Mode::None, _) => format!("off (from {})", settings.cache_mode.origin),
        (crate::cache::Mode::Keyring, Some(dir)) => format!(
            "the OS keyring (from {}); locks in {}",
            settings.cache_mode.origin,
            dir.value.display()
        ),
        (_, Some(dir)) => match FileStore::new(dir.value.clone()).check() {
            Ok(()) => format!("{} (from {})", dir.value.display(), dir.origin),
            Err(why) => format!("not used: {why} (from {})", dir.origin),
        },
        (_, None) => "off: no cache directory (set HOME or CREDS_CACHE_DIR)".to_string(),
    });
}

/// Fills the chain; returns the index of the last hop export would take from the cache.
fn check_chain(
    ctx: &Context,
    settings: &Settings,
    hops: &[Hop],
    d: &mut Diagnosis,
) -> Option<usize> {
    let now = ctx.clock.now();
    let (min_ttl, lowered_by) = crate::walk::chain_min_ttl(MIN_TTL, hops);
    if let Some(life) = lowered_by {
        d.min_ttl_note = Some(format!(
            "the role lasts {}s, too short for the default --min-ttl of {}s and 5 minutes of reuse: export hands its credentials out with at least {}s left",
            life.num_seconds(),
            MIN_TTL.num_seconds(),
            min_ttl.num_seconds()
        ));
    }
    let keyring = settings.cache_mode.value == crate::cache::Mode::Keyring;
    let store = settings.cache_store_dir().cloned().map(|dir| {
        crate::cache::store::Store::new(
            FileStore::new(dir),
            keyring.then_some(ctx.keyring.as_ref()),
            None,
        )
    });
    let mut fresh_from = None;
    for (i, hop) in hops.iter().enumerate() {
        let ttl = if i.saturating_add(1) == hops.len() {
            min_ttl
        } else {
            INTERMEDIATE_TTL
        };
        let cached = match (&store, hop.source.cacheable()) {
            (Some(store), true) => store.read(&hop.key).and_then(|e| e.credentials()),
            _ => None,
        };
        let status = match (&cached, hop.source.cacheable()) {
            (_, false) => "no call needed".to_string(),
            (None, true) => "not cached".to_string(),
            (Some(c), true) => {
                let e = c.expiration.unwrap_or(now);
                if fresh(c, now, ttl) {
                    fresh_from = Some(i);
                    format!("cached {}", left(e, now))
                } else {
                    format!("cached but stale, {}", left(e, now))
                }
            }
        };
        d.chain.push(HopState {
            profile: hop.profile.clone(),
            hop: hop.label.clone(),
            cache: status,
        });
    }
    // Every cacheable hop above the last fresh one needs a call.
    let first_unserved = fresh_from.map_or(0, |i| i.saturating_add(1));
    d.calls_needed = Some(
        hops.get(first_unserved..)
            .unwrap_or_default()
            .iter()
            .filter(|h| h.source.cacheable())
            .count(),
    );
    fresh_from
}

/// Can the SSO role credentials be fetched without a login?
fn check_sso(
    ctx: &Context,
    settings: &Settings,
    sso: &crate::source::sso_role::Sso,
    needed_now: bool,
    d: &mut Diagnosis,
) {
    let session = match sso.session(&settings.login_profile) {
        Ok(s) => s,
        Err(e) => return d.blocking(&e, "complete the sso-session"),
    };
    let now = ctx.clock.now();
    let store = settings.sso_token_store();
    let pending = store
        .as_ref()
        .ok()
        .and_then(|s| s.read_pending(&session, now))
        .map(|p| p.line(now));
    let token = store.and_then(|store| store.read_token(&session));
    let (state, login_needed) = match token {
        Ok(None) => ("not signed in".to_string(), true),
        Err(e) => (e.line(), true),
        Ok(Some(t)) => {
            let reg = t
                .registration_expires_at
                .map(|x| format!("; client registration {}", left(x, now)))
                .unwrap_or_default();
            let renewable = if t.refreshable(now) {
                ", renewable"
            } else {
                ", not renewable"
            };
            match freshness(&t, now) {
                Freshness::Fresh => (
                    format!("token valid {}{renewable}{reg}", left(t.expires_at, now)),
                    false,
                ),
                Freshness::Renewable => (
                    format!(
                        "token {}, renewed silently on the next export{reg}",
                        left(t.expires_at, now)
                    ),
                    false,
                ),
                Freshness::Usable => (
                    format!("token {} and not renewable", left(t.expires_at, now)),
                    false,
                ),
                Freshness::Expired => (
                    format!("token {} and not renewable", left(t.expires_at, now)),
                    true,
                ),
            }
        }
    };
    if login_needed && needed_now {
        d.blocking(&session.login_needed(&state), "");
    }
    let endpoints = settings.sso_endpoints();
    let url = |r: Result<String>| r.unwrap_or_else(|e| e.line());
    let endpoints = format!(
        "portal {}, OIDC {}",
        url(crate::aws::sso::portal_base(&session.region, &endpoints)),
        url(crate::aws::sso::oidc_base(&session.region, &endpoints))
    );
    d.sso = Some(SsoState {
        session: session.describe(),
        state,
        endpoints,
        login_needed,
        pending,
        needed_now,
        login_command: session.login_command.clone(),
    });
}

/// Whether Claude Code's settings files run creds for this profile and region.
fn check_claude(
    ctx: &Context,
    settings: &Settings,
    set: &ProfileSet,
    chain: &Chain,
    d: &mut Diagnosis,
) {
    let profile = d.profile.clone();
    let home = settings.home.as_ref().map(|h| h.value.as_path());
    let setup = format!("creds setup claude --profile {profile}");
    let mut files = Vec::new();
    // The project's own files: a repository's, whose hooks Claude Code runs only once the
    // folder is trusted (the user's file, when the folder is the home folder, is not one).
    let user = home
        .and_then(|h| claude::settings_path(Some(h), ctx.paths.cwd(), claude::Scope::User).ok());
    let mut project = Vec::new();
    for path in claude::all_settings_paths(home, ctx.paths.cwd()) {
        if !path.exists() {
            continue;
        }
        if path.starts_with(ctx.paths.cwd().join(".claude")) && Some(&path) != user.as_ref() {
            project.push(path.display().to_string());
        }
        match claude::read_settings(&path) {
            Ok(map) => files.push((path.display().to_string(), map)),
            Err(e) => d.problem(
                e.line(),
                "fix the JSON; Claude Code ignores a broken settings file",
            ),
        }
    }
    // The settings of Claude Code and of this environment that bypass or break creds.
    let env = &ctx.env;
    let outside = claude::Outside {
        bearer_token: env.get("AWS_BEARER_TOKEN_BEDROCK").is_some(),
        skip_bedrock_auth: env.get("CLAUDE_CODE_SKIP_BEDROCK_AUTH").map(str::to_string),
        bedrock_base_url: env.get("ANTHROPIC_BEDROCK_BASE_URL").map(str::to_string),
        aws_profile: env.get("AWS_PROFILE").map(str::to_string),
        // The environment's layer of the region (`AWS_REGION`, else `AWS_DEFAULT_REGION`).
        aws_region: settings
            .region
            .as_ref()
            .filter(|r| matches!(r.origin, crate::settings::Origin::Env(_)))
            .map(|r| r.value.clone()),
        use_bedrock: env.get("CLAUDE_CODE_USE_BEDROCK").map(str::to_string),
    };
    // The IAM Identity Center session a profile's credentials come from, as `login` shows it.
    let session_of = |name: &str| match chain::resolve(set, name).map(|c| c.base) {
        Ok(Base::Sso(sso)) => sso.session(name).ok().map(|s| s.describe()),
        _ => None,
    };
    let exists = |program: &str| {
        if program.contains('/') {
            return std::path::Path::new(program).is_file();
        }
        env.get("PATH")
            .is_some_and(|path| std::env::split_paths(path).any(|dir| dir.join(program).is_file()))
    };
    for finding in claude::bedrock_findings(&files, &outside, &profile, &exists, &session_of) {
        d.problem(finding.problem, finding.fix);
    }
    for (shown, map) in &files {
        let shown = shown.clone();
        let Some(p) = claude::pointer(map) else {
            continue;
        };
        d.claude_code.push(ClaudeFile {
            file: shown.clone(),
            hook: p.hook.to_string(),
            command: p.export.clone(),
            mode: if p.bearer { "bearer" } else { "sigv4" }.to_string(),
            sign_in: (p.bearer && matches!(chain.base, Base::Sso(_))).then(|| {
                format!("when the session needs a person, run `creds login --profile {profile}` in a terminal: Claude Code runs no awsAuthRefresh in bearer mode")
            }),
        });
        if project.contains(&shown) {
            d.problem(
                format!("{shown}: a project's settings run creds ({}); Claude Code runs a project's hooks only once you trust the folder, and anyone who can change the repository can change the command", p.hook),
                format!("trust the folder when Claude Code asks only if you trust the repository, or put the hook in your own settings: `{setup}`"),
            );
        }
        if p.profile != profile {
            d.problem(
                format!(
                    "{shown}: {} exports profile `{}`, not `{profile}`",
                    p.hook, p.profile
                ),
                &setup,
            );
        }
        if p.bearer {
            let bearer = format!("creds setup claude --bearer --profile {profile}");
            if p.model.is_none() {
                d.problem(format!("{shown}: apiKeyHelper gives Claude Code a Bedrock token, but no model is pinned (ANTHROPIC_MODEL): in bearer mode Claude Code's model discovery goes out unsigned and fails"), format!("{bearer} --model MODEL_ID"));
            }
            if !p.skip_auth {
                d.problem(format!("{shown}: apiKeyHelper gives Claude Code a Bedrock token, but CLAUDE_CODE_SKIP_BEDROCK_AUTH is not set: Claude Code signs with AWS credentials instead"), bearer);
            }
        } else if !p.format_claude {
            d.problem(format!("{shown}: awsCredentialExport does not ask for --format claude (older Claude Code versions reject other shapes)"), &setup);
        }
        // In bearer mode Claude Code runs no awsAuthRefresh (only 2.1.332 names it in a message).
        if matches!(chain.base, Base::Sso(_)) && !p.refresh_logs_in && !p.bearer {
            d.problem(format!("{shown}: no awsAuthRefresh for an IAM Identity Center profile: when the session ends, Claude Code cannot sign in again"), &setup);
        }
        if let (Some(want), Some(have)) = (&d.region, &p.env_region) {
            if want != have {
                let fix = format!("{setup} --region {want} (or change the profile)");
                d.problem(
                    format!("{shown}: env AWS_REGION is {have}, the profile's region is {want}"),
                    fix,
                );
            }
        }
    }
}

fn left(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = t.signed_duration_since(now).num_minutes();
    if t <= now {
        format!("expired at {}", format_time(t))
    } else if m >= 120 {
        format!("until {} ({}h left)", format_time(t), m / 60)
    } else {
        format!("until {} ({m}m left)", format_time(t))
    }
}

/// Whether the keyring answers, and how fast; for a keyring-backed profile, whether it holds
/// the profile's secret (never read out: only whether there is one).
fn check_keyring(ctx: &Context, chain: &Chain, d: &mut Diagnosis) {
    let store = ctx.keyring.as_ref();
    let account = match &chain.base {
        Base::Keyring(k) => crate::keyring::key_account(&k.access_key_id),
        _ => "probe".to_string(),
    };
    let start = ctx.clock.monotonic();
    let answer = store.get(&account);
    let took = ctx.clock.monotonic().saturating_sub(start).as_millis();
    match (answer, &chain.base) {
        (Ok(found), Base::Keyring(k)) => {
            d.keyring = Some(format!(
                "{} answered in {took} ms; it {} the secret of {}",
                store.name(),
                if found.is_some() {
                    "holds"
                } else {
                    "does not hold"
                },
                k.access_key_id
            ));
            if found.is_none() {
                d.problem(
                    format!("profile `{}` names {} in creds_keyring ({}), but the keyring holds no secret for it", k.profile, k.access_key_id, k.origin),
                    format!("run `creds keys add {}`", k.profile),
                );
            }
        }
        (Ok(_), _) => d.keyring = Some(format!("{} answered in {took} ms", store.name())),
        (Err(why), Base::Keyring(k)) => {
            d.keyring = Some(format!(
                "{} unavailable after {took} ms: {why}",
                store.name()
            ));
            d.problem(
                format!(
                    "profile `{}` keeps its keys in the OS keyring, which cannot be used: {why}",
                    k.profile
                ),
                "see the message: it names the fix",
            );
        }
        (Err(why), _) => {
            d.keyring = Some(format!(
                "{} unavailable after {took} ms: {why}; the file cache serves instead",
                store.name()
            ))
        }
    }
}

/// The proxies as the HTTP client uses them (passwords hidden), from `Settings`.
fn describe_proxy(settings: &Settings) -> Option<String> {
    if settings.proxies.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = settings
        .proxies
        .iter()
        .map(|p| format!("{} via {} (from {})", p.scheme, p.shown, p.origin))
        .collect();
    if let Some(rules) = &settings.no_proxy {
        parts.push(format!("not for {} (from {})", rules.value, rules.origin));
    }
    parts.push("never for the metadata services".into());
    Some(parts.join("; "))
}

/// The diagnosis as text.
pub fn render(d: &Diagnosis) -> String {
    let mut lines = vec![format!("profile: {} (from {})", d.profile, d.profile_from)];
    if !d.files.is_empty() {
        let files: Vec<String> = d
            .files
            .iter()
            .map(|f| match f.exists {
                true => f.path.clone(),
                false => format!("{} (missing)", f.path),
            })
            .collect();
        lines.push(format!("files: {}", files.join(", ")));
    }
    lines.extend(d.warnings.iter().map(|w| format!("warning: {w}")));
    if let Some(endpoint) = &d.sts_endpoint {
        lines.push(match (&d.region, &d.region_from) {
            (Some(r), Some(from)) => format!("region: {r} (from {from})"),
            _ => "region: none (STS uses us-east-1)".to_string(),
        });
        for s in &d.shadowed {
            lines.push(format!(
                "  overridden: {} {} from {} (by {})",
                s.setting, s.value, s.from, s.overridden_by
            ));
        }
        lines.push(format!("STS endpoint: {endpoint}"));
        if let Some(bundle) = &d.ca_bundle {
            lines.push(format!("CA bundle: {bundle}"));
        }
        if let Some(proxy) = &d.proxy {
            lines.push(format!("proxy: {proxy}"));
        }
        if let Some(keyring) = &d.keyring {
            lines.push(format!("keyring: {keyring}"));
        }
        if let Some(cache) = &d.cache {
            lines.push(format!("cache: {cache}"));
        }
        if let Some(ahead) = &d.refresh_ahead {
            lines.push(format!("refresh ahead: {ahead}"));
        }
    }
    if let Some(source) = &d.source {
        lines.push(format!("source: {source}"));
        lines.push("chain:".to_string());
        for (i, hop) in d.chain.iter().enumerate() {
            lines.push(format!(
                "  {}. {} (profile `{}`): {}",
                i.saturating_add(1),
                hop.hop,
                hop.profile,
                hop.cache
            ));
        }
    }
    if let Some(sso) = &d.sso {
        lines.push(format!("{}: {}", sso.session, sso.state));
        lines.push(format!("  endpoints: {}", sso.endpoints));
        if let Some(pending) = &sso.pending {
            lines.push(format!("  sign-in in progress: {pending}"));
        }
        if sso.login_needed && !sso.needed_now {
            lines.push(format!(
                "  (cached credentials cover now; after they expire, run `{}`)",
                sso.login_command
            ));
        }
    }
    if let Some(note) = &d.min_ttl_note {
        lines.push(format!("note: {note}"));
    }
    if let Some(calls) = d.calls_needed {
        lines.push(match calls {
            0 => "export: served from the cache".to_string(),
            n => format!("export: {n} call(s) to AWS needed"),
        });
    }
    if let Some(check) = &d.check {
        let skew = check
            .clock_skew_seconds
            .map_or_else(|| "unknown".to_string(), |s| format!("{s:+}s"));
        lines.push(format!(
            "check: GetCallerIdentity: account {}, {} (clock skew {skew})",
            check.account, check.arn
        ));
        if let Some(until) = &check.bedrock_token_until {
            lines.push(format!(
                "check: a Bedrock token for bearer mode mints, valid until {until}"
            ));
        }
    }
    if d.source.is_some() && d.claude_code.is_empty() {
        lines.push(format!("claude code: no settings file runs creds (run `creds setup claude --profile {}` to set it up)", d.profile));
    }
    for f in &d.claude_code {
        let mode = match f.mode.as_str() {
            "bearer" => "bearer mode: Claude Code holds a Bedrock token, never AWS keys",
            _ => "SigV4: Claude Code holds AWS credentials",
        };
        lines.push(format!(
            "claude code: {} runs {} as {} ({mode})",
            f.file, f.command, f.hook
        ));
        if let Some(sign_in) = &f.sign_in {
            lines.push(format!("claude code: {sign_in}"));
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    if d.problems.is_empty() {
        out.push_str("no problems found\n");
    } else {
        out.push_str("problems:\n");
        for p in &d.problems {
            out.push_str(&format!("  - {}\n    fix: {}\n", p.problem, p.fix));
        }
    }
    let verdict = match d.exit_code {
        0 => "creds export would succeed without a login",
        4 => "a login is needed before creds export can succeed",
        3 => "creds export would fail: the configuration is broken",
        _ => "creds export would fail",
    };
    out.push_str(&format!("result: {verdict}\n"));
    out
}
