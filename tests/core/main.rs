//! In-process tests of the core, through the seams: fake STS and IAM Identity Center, a manual
//! clock, a temporary HOME. Minutes of expiry and seconds of polling pass in microseconds, and
//! every assertion about time is exact. One test binary, a file per area (the shared fixtures
//! and helpers are here).

#![allow(clippy::disallowed_methods)] // tests stand for the outside world

mod bedrock;
mod doctor;
mod exec;
#[path = "../fakes/mod.rs"]
mod fakes;
#[path = "../fixtures.rs"]
mod fixtures;
mod keyring;
mod refresh_ahead;
mod sign_in;
mod sources;
mod sso_renewal;
mod walk;

use chrono::Duration;
use creds::cli::ExportArgs;
use creds::commands::export;
use creds::context::Clock;
use creds::error::{Error, Kind};
use creds::output::Format;
use creds::sso::login::{self, Options, Outcome};
use creds::sso::{Session, TokenStore};
use fakes::{t, DeviceAnswer, World};
use serde_json::Value;

use fixtures::{CHAIN, CORP_TOKEN, ROLE_A, ROLE_B};

fn args(profile: &str) -> ExportArgs {
    ExportArgs {
        profile: Some(profile.into()),
        format: Format::Process,
        min_ttl: Duration::minutes(15),
        refresh: false,
        no_cache: false,
        no_refresh_ahead: false,
    }
}

fn export_with(w: &World, args: &ExportArgs) -> Result<Value, Error> {
    let ctx = w.context(false);
    let result = export::run(&ctx, args, false);
    // As `creds::run` ends a command: the held warnings are written only when it served.
    ctx.ui.settle(result.is_ok());
    result.map(|doc| serde_json::from_str(&doc).unwrap())
}

fn export(w: &World, profile: &str) -> Result<Value, Error> {
    export_with(w, &args(profile))
}

const SSO: &str = "\
[sso-session corp]
sso_start_url = https://d-test.awsapps.com/start
sso_region = us-east-1

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev

[profile cross]
role_arn = arn:aws:iam::222222222222:role/RoleA
source_profile = dev
";

/// Writes the corp token, expiring `left` after the clock's now.
fn write_token(w: &World, left: Duration, refreshable: bool) {
    let expires = creds::wire::format_time(w.clock.now() + left);
    let mut doc = format!(
        r#"{{"startUrl": "https://d-test.awsapps.com/start", "region": "us-east-1", "accessToken": "aoa-old", "expiresAt": "{expires}""#
    );
    if refreshable {
        doc.push_str(r#", "clientId": "client-0", "clientSecret": "csecret-0", "registrationExpiresAt": "2031-01-01T00:00:00Z", "refreshToken": "aor-old""#);
    }
    doc.push('}');
    std::fs::create_dir_all(w.sso_cache("")).unwrap();
    std::fs::write(w.sso_cache(CORP_TOKEN), doc).unwrap();
}

fn token(w: &World) -> Value {
    serde_json::from_slice(&std::fs::read(w.sso_cache(CORP_TOKEN)).unwrap()).unwrap()
}

fn login_opts(timeout: u64) -> Options {
    Options {
        agent: None,
        no_browser: true,
        device_code: false,
        timeout: std::time::Duration::from_secs(timeout),
        force: false,
    }
}

fn session(w: &World) -> (Session, TokenStore) {
    let set = creds::config::ProfileSet::from_texts("cfg", SSO, "creds", "").unwrap();
    let session = Session::from_section(&set, "corp").unwrap();
    let store = TokenStore::new(&w.sso_cache(""), Some(&w.home_path(&["cache"])));
    (session, store)
}

fn login_with(w: &World, opts: &Options) -> Result<Outcome, Error> {
    let ctx = w.context(!opts.no_browser);
    let (session, store) = session(w);
    login::login(&ctx, &store, &session, &Default::default(), opts)
}

/// `profile`'s hops in `config`, planned as export plans them (STS in us-east-1).
fn plan(config: &str, profile: &str, env: &creds::context::Env) -> Vec<creds::source::Hop> {
    let set = creds::config::ProfileSet::from_texts("cfg", config, "creds", "").unwrap();
    let chain = creds::chain::resolve(&set, profile).unwrap();
    let sts = creds::aws::sts::StsTarget {
        region: "us-east-1".into(),
        endpoint: None,
        ca_bundle: None,
        variant: Default::default(),
    };
    let inputs = creds::source::PlanInputs {
        env,
        sts: &sts,
        sso: &Default::default(),
        session_token: false,
        imds: &creds::settings::imds_endpoint(env, set.profile(profile)),
        container: &creds::settings::container(env),
        login_cache: None,
        login_profile: profile,
    };
    creds::source::plan(&chain, &inputs).unwrap()
}

/// The cache keys of `profile`'s hops in the World's config (as export computes them).
fn keys(w: &World, config: &str, profile: &str) -> Vec<String> {
    let env = creds::context::Env::from_pairs(w.vars.clone());
    plan(config, profile, &env)
        .into_iter()
        .map(|h| h.key.0)
        .collect()
}

const MFA: &str = "\
[profile base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = SECRETBASEKEY0123456789

[profile admin]
role_arn = arn:aws:iam::111111111111:role/Admin
source_profile = base
mfa_serial = arn:aws:iam::000000000000:mfa/me
mfa_process = get-mfa-code

[profile audit]
role_arn = arn:aws:iam::222222222222:role/Audit
source_profile = base
mfa_serial = arn:aws:iam::000000000000:mfa/me
mfa_process = get-mfa-code
";

fn key_input(id: &str, secret: &str) -> creds::commands::keys::KeyInput {
    creds::commands::keys::KeyInput {
        access_key_id: id.into(),
        secret_access_key: creds::secret::Secret::new(secret),
    }
}

fn exec_args(server: bool) -> creds::cli::ExecArgs {
    creds::cli::ExecArgs {
        profile: Some("b".into()),
        server,
        bedrock_token: false,
        min_ttl: Duration::minutes(15),
        command: vec!["aws".into(), "sts".into(), "get-caller-identity".into()],
    }
}
