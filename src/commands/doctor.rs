//! `creds doctor`: what `creds export` would do for a profile, and what is wrong, without
//! secrets and without calling AWS.

use crate::cache::{file::FileStore, format_time, fresh};
use crate::chain::{self, Base, Chain};
use crate::cli::DoctorArgs;
use crate::commands::setup;
use crate::config::{location, ProfileSet};
use crate::context::Context;
use crate::error::{Kind, Result};
use crate::resolve::{Options, Resolver};
use crate::settings;
use crate::sso::{self, Session, REFRESH_WINDOW};
use serde_json::{json, Value};

#[derive(Default)]
struct Report {
    lines: Vec<String>,
    problems: Vec<(String, String)>,
    json: serde_json::Map<String, Value>,
}

impl Report {
    fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }
    fn problem(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push((what.into(), fix.into()));
    }
}

fn left(t: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let m = (t - now).num_minutes();
    if t <= now {
        format!("expired at {}", format_time(t))
    } else if m >= 120 {
        format!("until {} ({}h left)", format_time(t), m / 60)
    } else {
        format!("until {} ({m}m left)", format_time(t))
    }
}

fn describe_base(chain: &Chain) -> String {
    match &chain.base {
        Base::AccessKey(k) => {
            let id = &k.access_key_id;
            let shown = if id.len() > 8 {
                format!("{}…{}", &id[..4], &id[id.len() - 4..])
            } else {
                "…".into()
            };
            format!(
                "static keys {shown}{}",
                if k.session_token.is_some() {
                    " with a session token"
                } else {
                    ""
                }
            )
        }
        Base::NamedSource { source, .. } => format!("credential_source = {}", source.name()),
        Base::WebIdentity { role_arn, .. } => format!("web identity for {role_arn}"),
        Base::Sso(s) => format!(
            "IAM Identity Center {} role {}/{}",
            s.session
                .as_deref()
                .map(|n| format!("sso-session `{n}`"))
                .unwrap_or_else(|| "legacy start URL".into()),
            s.account_id.as_deref().unwrap_or("?"),
            s.role_name.as_deref().unwrap_or("?")
        ),
        Base::Process { command, .. } => format!("credential_process `{command}`"),
    }
}

pub fn run(ctx: &Context, args: &DoctorArgs) -> Result<(String, i32)> {
    let mut r = Report::default();
    let profile = location::selected_profile(args.profile.as_deref(), &ctx.env);
    r.json.insert("profile".into(), profile.clone().into());
    r.line(format!("profile: {profile}"));
    let code = diagnose(ctx, &profile, &mut r);
    let verdict = match code {
        0 => "creds export would succeed without a login".to_string(),
        4 => "a login is needed before creds export can succeed".to_string(),
        _ => "creds export would fail: the configuration is broken".to_string(),
    };
    r.json.insert("ok".into(), (code == 0).into());
    r.json.insert("exit_code".into(), code.into());
    r.json.insert(
        "problems".into(),
        r.problems
            .iter()
            .map(|(p, f)| json!({"problem": p, "fix": f}))
            .collect::<Vec<_>>()
            .into(),
    );
    if args.json {
        return Ok((
            format!(
                "{}\n",
                serde_json::to_string_pretty(&Value::Object(r.json)).expect("JSON")
            ),
            code,
        ));
    }
    let mut out = r.lines.join("\n");
    out.push('\n');
    if r.problems.is_empty() {
        out.push_str("no problems found\n");
    } else {
        out.push_str("problems:\n");
        for (p, f) in &r.problems {
            out.push_str(&format!("  - {p}\n    fix: {f}\n"));
        }
    }
    out.push_str(&format!("result: {verdict}\n"));
    Ok((out, code))
}

/// Fills the report; returns the exit code.
fn diagnose(ctx: &Context, profile: &str, r: &mut Report) -> i32 {
    let set = match ProfileSet::load(&ctx.env) {
        Ok(set) => set,
        Err(e) => {
            r.problem(e.message.clone(), "fix the file at the line named");
            return 3;
        }
    };
    r.line(format!("files: {}", set.files_description()));
    r.json.insert(
        "files".into(),
        set.files
            .iter()
            .map(|(p, e)| json!({"path": p, "exists": e}))
            .collect::<Vec<_>>()
            .into(),
    );
    for w in &set.warnings {
        r.line(format!("warning: {w}"));
    }
    let chain = match chain::resolve(&set, profile).and_then(|c| c.check_supported().map(|()| c)) {
        Ok(c) => c,
        Err(e) => {
            r.problem(
                e.message.clone(),
                "see the message: it names the setting to change",
            );
            return 3;
        }
    };
    let settings = match settings::resolve(&ctx.env, &set, profile) {
        Ok(s) => s,
        Err(e) => {
            r.problem(e.message.clone(), "fix the endpoint setting");
            return 3;
        }
    };
    let region_source = if ctx.env.get("AWS_REGION").is_some() {
        "AWS_REGION"
    } else if ctx.env.get("AWS_DEFAULT_REGION").is_some() {
        "AWS_DEFAULT_REGION"
    } else {
        "the profile"
    };
    match &settings.region {
        Some(region) => r.line(format!("region: {region} (from {region_source})")),
        None => {
            r.line("region: none (STS uses us-east-1)");
            r.problem(
                format!("profile `{profile}` has no region; Claude Code on Bedrock needs one"),
                format!(
                    "add `region = us-east-1` (or yours) to [profile {profile}], or set AWS_REGION"
                ),
            );
        }
    }
    r.json
        .insert("region".into(), settings.region.clone().into());
    r.line(format!(
        "STS endpoint: {}",
        settings
            .sts
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("regional ({})", settings.sts.region))
    ));

    // The hops, as export would take them, and their cache entries.
    let now = ctx.clock.now();
    let store = ctx.cache_dir().map(FileStore::new);
    let options = Options {
        min_ttl: chrono::Duration::minutes(15),
        refresh: false,
        no_cache: false,
        want_session_token: false,
        verbose: false,
    };
    let resolver = Resolver::new(
        ctx,
        None,
        settings.sts.clone(),
        crate::commands::export::sso_endpoints(&settings),
        options,
        vec![profile.to_string()],
    );
    let plan = match resolver.plan(&chain) {
        Ok(p) => p,
        Err(e) => {
            r.problem(e.message.clone(), "see the message");
            return if e.kind == Kind::Config { 3 } else { 1 };
        }
    };
    r.line(format!(
        "source: {} (profile `{}`)",
        describe_base(&chain),
        chain.base.profile()
    ));
    r.line("chain:".to_string());
    let mut hops_json = Vec::new();
    let mut fresh_from: Option<usize> = None;
    for (i, hop) in plan.iter().enumerate() {
        let last = i + 1 == plan.len();
        let ttl = if last {
            chrono::Duration::minutes(15)
        } else {
            crate::resolve::INTERMEDIATE_TTL
        };
        let entry = if hop.cacheable {
            store
                .as_ref()
                .and_then(|s| s.read(&hop.key))
                .and_then(|e| e.credentials())
        } else {
            None
        };
        let status = match (&entry, hop.cacheable) {
            (_, false) => "no call needed".to_string(),
            (None, true) => "not cached".to_string(),
            (Some(c), true) => {
                let e = c.expiration.expect("cached credentials expire");
                if fresh(c, now, ttl) {
                    fresh_from = Some(i);
                    format!("cached {}", left(e, now))
                } else {
                    format!("cached but stale, {}", left(e, now))
                }
            }
        };
        r.line(format!(
            "  {}. {} (profile `{}`): {status}",
            i + 1,
            hop.label,
            hop.profile
        ));
        hops_json.push(json!({"profile": hop.profile, "hop": hop.label, "cache": status}));
    }
    r.json.insert("chain".into(), hops_json.into());
    let last = plan.len() - 1;
    // Every cacheable hop above the last fresh one needs a call.
    let first_unserved = fresh_from.map_or(0, |i| i + 1);
    let calls_needed = (first_unserved..=last)
        .filter(|&i| plan[i].cacheable)
        .count();

    // IAM Identity Center: can the role credentials be fetched without a login?
    let mut code = 0;
    if let Base::Sso(sso) = &chain.base {
        match Session::from_chain(sso, profile) {
            Err(e) => {
                r.problem(e.message.clone(), "complete the sso-session");
                return 3;
            }
            Ok(session) => {
                let sso_needed = plan[0].cacheable && fresh_from.is_none();
                let state = match sso::read_token(ctx, &session) {
                    Ok(None) => ("not signed in".to_string(), true),
                    Err(e) => (e.message.clone(), true),
                    Ok(Some(t)) => {
                        let renewable = t.refreshable(now);
                        let reg = t
                            .registration_expires_at
                            .map(|x| format!("; client registration {}", left(x, now)))
                            .unwrap_or_default();
                        if t.expires_at - now > REFRESH_WINDOW {
                            (
                                format!(
                                    "token valid {}{}{reg}",
                                    left(t.expires_at, now),
                                    if renewable {
                                        ", renewable"
                                    } else {
                                        ", not renewable"
                                    }
                                ),
                                false,
                            )
                        } else if renewable {
                            (
                                format!(
                                    "token {}, renewed silently on the next export{reg}",
                                    left(t.expires_at, now)
                                ),
                                false,
                            )
                        } else if t.expires_at > now {
                            (
                                format!("token {} and not renewable", left(t.expires_at, now)),
                                false,
                            )
                        } else {
                            (
                                format!("token {} and not renewable", left(t.expires_at, now)),
                                true,
                            )
                        }
                    }
                };
                r.line(format!("{}: {}", session.describe(), state.0));
                r.json.insert("sso".into(), json!({"session": session.describe(), "state": state.0, "login_needed": state.1}));
                if state.1 && sso_needed {
                    r.problem(
                        format!("{}: {}", session.describe(), state.0),
                        format!("run `{}`", session.login_command),
                    );
                    code = 4;
                } else if state.1 {
                    r.line(format!(
                        "  (cached credentials cover now; after they expire, run `{}`)",
                        session.login_command
                    ));
                }
            }
        }
    }
    r.line(if calls_needed == 0 {
        "export: served from the cache".to_string()
    } else {
        format!("export: {calls_needed} call(s) to AWS needed")
    });

    check_claude(ctx, profile, &chain, settings.region.as_deref(), r);
    code
}

/// Whether Claude Code's settings files run creds for this profile and region.
fn check_claude(ctx: &Context, profile: &str, chain: &Chain, region: Option<&str>, r: &mut Report) {
    let mut files = Vec::new();
    if let Ok(p) = setup::settings_path(ctx, crate::cli::Scope::User) {
        files.push(p);
    }
    files.push(std::path::PathBuf::from(".claude/settings.json"));
    files.push(std::path::PathBuf::from(".claude/settings.local.json"));
    let mut pointed = false;
    let mut found = Vec::new();
    for path in files {
        if !path.exists() {
            continue;
        }
        let settings = match setup::read_settings(&path) {
            Ok(s) => s,
            Err(e) => {
                r.problem(
                    e.message.clone(),
                    "fix the JSON; Claude Code ignores a broken settings file",
                );
                continue;
            }
        };
        let export = settings
            .get("awsCredentialExport")
            .and_then(Value::as_str)
            .unwrap_or("");
        let env = settings.get("env").and_then(Value::as_object);
        let shown = path.display().to_string();
        if export.contains(" export") && export.contains("creds") {
            pointed = true;
            let exported = export
                .split_whitespace()
                .skip_while(|w| *w != "--profile" && *w != "-p")
                .nth(1)
                .unwrap_or("");
            found.push(json!({"file": shown, "awsCredentialExport": export}));
            if exported != profile {
                r.problem(format!("{shown}: awsCredentialExport exports profile `{exported}`, not `{profile}`"), format!("creds setup claude --profile {profile}"));
            } else {
                r.line(format!(
                    "claude code: {shown} runs creds for profile `{profile}`"
                ));
            }
            if !export.contains("--format claude") {
                r.problem(format!("{shown}: awsCredentialExport does not ask for --format claude (older Claude Code versions reject other shapes)"), format!("creds setup claude --profile {profile}"));
            }
            if matches!(chain.base, Base::Sso(_))
                && settings
                    .get("awsAuthRefresh")
                    .and_then(Value::as_str)
                    .is_none_or(|c| !c.contains("login"))
            {
                r.problem(format!("{shown}: no awsAuthRefresh for an IAM Identity Center profile: when the session ends, Claude Code cannot sign in again"), format!("creds setup claude --profile {profile}"));
            }
            let env_region = env
                .and_then(|e| e.get("AWS_REGION"))
                .and_then(Value::as_str);
            if let (Some(want), Some(have)) = (region, env_region) {
                if want != have {
                    r.problem(format!("{shown}: env AWS_REGION is {have}, the profile's region is {want}"), format!("creds setup claude --profile {profile} --region {want} (or change the profile)"));
                }
            }
            if env
                .and_then(|e| e.get("CLAUDE_CODE_USE_BEDROCK"))
                .and_then(Value::as_str)
                != Some("1")
            {
                r.problem(format!("{shown}: env CLAUDE_CODE_USE_BEDROCK is not \"1\": Claude Code will not use Bedrock"), format!("creds setup claude --profile {profile}"));
            }
        }
    }
    r.json.insert("claude_code".into(), found.into());
    if !pointed {
        r.line(format!("claude code: no settings file runs creds (run `creds setup claude --profile {profile}` to set it up)"));
    }
}
