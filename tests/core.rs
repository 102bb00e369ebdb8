//! In-process tests of the core, through the seams: fake STS and IAM Identity Center, a manual
//! clock, a temporary HOME. Minutes of expiry and seconds of polling pass in microseconds, and
//! every assertion about time is exact.

#![allow(clippy::disallowed_methods)] // tests stand for the outside world

mod fakes;

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

const CHAIN: &str = "\
[profile base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = SECRETBASEKEY0123456789

[profile a]
role_arn = arn:aws:iam::111111111111:role/RoleA
source_profile = base
role_session_name = sess-a

[profile b]
role_arn = arn:aws:iam::222222222222:role/RoleB
source_profile = a
region = eu-west-1
";

const ROLE_A: &str = "arn:aws:iam::111111111111:role/RoleA";
const ROLE_B: &str = "arn:aws:iam::222222222222:role/RoleB";

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

#[test]
fn fresh_hops_are_served_from_the_cache() {
    let w = World::new();
    w.config(CHAIN);
    let first = export(&w, "b").unwrap();
    assert_eq!((w.sts.assumed(ROLE_A), w.sts.assumed(ROLE_B)), (1, 1));
    assert_eq!(first["Expiration"], "2030-01-01T01:00:00Z");
    // The chain is walked base first: RoleB is signed with RoleA's credentials.
    let calls = w.sts.calls();
    assert_eq!(calls[0].signed_with, "AKIDBASE");
    assert_eq!(calls[1].signed_with, "ASIAFAKE00000001");
    // 44 minutes later both hops have 16 minutes left: still fresh, no call.
    w.clock.advance(std::time::Duration::from_secs(44 * 60));
    assert_eq!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.calls().len(), 2);
}

#[test]
fn a_stale_top_hop_is_refreshed_alone_and_min_ttl_decides() {
    let w = World::new();
    w.config(CHAIN);
    export(&w, "b").unwrap();
    // 50 minutes later the top hop is under --min-ttl (15m) but RoleA still has more than the
    // 5 minutes (the intermediate TTL) it needs to sign the next call: only RoleB again.
    w.clock.set(t("2030-01-01T00:50:00Z"));
    let out = export(&w, "b").unwrap();
    assert_eq!((w.sts.assumed(ROLE_A), w.sts.assumed(ROLE_B)), (1, 2));
    assert_eq!(out["Expiration"], "2030-01-01T01:50:00Z");
    assert_eq!(w.sts.calls()[2].signed_with, "ASIAFAKE00000001");

    // At 00:56 RoleA has 4 minutes left, under the intermediate TTL: a new RoleB needs it again.
    w.clock.set(t("2030-01-01T00:56:00Z"));
    let mut fresh_b = args("b");
    fresh_b.refresh = false;
    fresh_b.min_ttl = Duration::minutes(55);
    export_with(&w, &fresh_b).unwrap();
    assert_eq!((w.sts.assumed(ROLE_A), w.sts.assumed(ROLE_B)), (2, 3));

    // --min-ttl decides freshness of the last hop, and what cannot meet it is an error.
    w.clock.set(t("2030-01-01T01:00:00Z"));
    let mut min = args("b");
    min.min_ttl = Duration::minutes(45);
    export_with(&w, &min).unwrap();
    assert_eq!(w.sts.calls().len(), 5);
    min.min_ttl = Duration::minutes(61);
    let err = export_with(&w, &min).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains("less than --min-ttl"),
        "{}",
        err.message
    );
}

#[test]
fn credentials_aws_gives_too_short_or_expired_are_its_doing() {
    // Asked for an hour (STS's default), given 10 minutes: AWS's answer, exit 5.
    let w = World::new();
    w.config(CHAIN);
    w.sts.set_lifetime(Duration::minutes(10));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused, "{}", err.message);
    assert!(
        err.message
            .contains("valid for 600s, less than --min-ttl 900s and less than asked for"),
        "{}",
        err.message
    );
    // Already expired on arrival: exit 5, and the clock is named.
    let w = World::new();
    w.config(CHAIN);
    w.sts.set_lifetime(Duration::minutes(-1));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused, "{}", err.message);
    assert!(
        err.message
            .contains("already expired (2029-12-31T23:59:00Z); check this machine's clock"),
        "{}",
        err.message
    );
    // A credential_process's short answer is the configuration's: exit 3.
    let w = World::new();
    w.config("[profile p]\ncredential_process = short\n");
    let err = export(&w, "p").unwrap_err();
    assert_eq!(err.kind, Kind::Config, "{}", err.message);
}

#[test]
fn refresh_fetches_every_hop_and_no_cache_writes_nothing() {
    let w = World::new();
    w.config(CHAIN);
    let first = export(&w, "b").unwrap();
    let mut refresh = args("b");
    refresh.refresh = true;
    let again = export_with(&w, &refresh).unwrap();
    assert_eq!(w.sts.calls().len(), 4, "--refresh fetches every hop again");
    assert_ne!(first, again);
    assert_eq!(export(&w, "b").unwrap(), again, "and caches the result");
    let cache = w.home_path(&["cache"]);
    let before = std::fs::read_dir(&cache).unwrap().count();
    let mut no_cache = args("b");
    no_cache.no_cache = true;
    export_with(&w, &no_cache).unwrap();
    assert_eq!(w.sts.calls().len(), 6);
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), before);
}

#[test]
fn a_failure_is_remembered_until_it_expires() {
    let w = World::new();
    w.config(CHAIN);
    w.sts.fail_next(Error::new(
        Kind::AwsRefused,
        "AssumeRole refused by AWS (AccessDenied): no",
    ));
    let err = export(&w, "a").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused);
    // A second caller fails fast with the remembered error, without calling STS.
    let err = export(&w, "a").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused);
    assert!(
        err.message.contains("remembered from a failure 0s ago"),
        "{}",
        err.message
    );
    assert_eq!(w.sts.calls().len(), 1);
    // Still remembered after 9 seconds; forgotten after at most 15.
    w.clock.advance(std::time::Duration::from_secs(9));
    assert!(export(&w, "a").is_err());
    w.clock.advance(std::time::Duration::from_secs(7));
    export(&w, "a").unwrap();
    assert_eq!(w.sts.calls().len(), 2);
    // --refresh ignores a remembered failure.
    w.sts
        .fail_next(Error::new(Kind::Network, "AssumeRole: no answer"));
    let mut refresh = args("a");
    refresh.refresh = true;
    assert_eq!(export_with(&w, &refresh).unwrap_err().kind, Kind::Network);
    export_with(&w, &refresh).unwrap();
    assert_eq!(w.sts.calls().len(), 4);
}

#[test]
fn claude_format_exchanges_long_term_keys_once() {
    let w = World::new();
    w.config(CHAIN);
    let mut claude = args("base");
    claude.format = Format::Claude;
    let ctx = w.context(false);
    let doc = export::run(&ctx, &claude, false).unwrap();
    assert!(
        doc.starts_with("{\"Credentials\":{\"AccessKeyId\":\"ASIAFAKE00000001\""),
        "{doc}"
    );
    export::run(&ctx, &claude, false).unwrap();
    assert_eq!(w.sts.calls().len(), 1);
    assert_eq!(w.sts.calls()[0].operation, "GetSessionToken");
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

/// sha1("corp").
const CORP_TOKEN: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";

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

#[test]
fn sso_token_in_the_refresh_window_is_renewed_once_and_saved() {
    let w = World::new();
    w.config(SSO);
    write_token(&w, Duration::minutes(10), true);
    let out = export(&w, "cross").unwrap();
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000001");
    assert_eq!(w.sts.calls()[0].signed_with, "ASIASSOROLE");
    let log = w.sso.with(|s| s.log.clone());
    assert_eq!(
        log,
        [
            ("CreateToken", "refresh_token aor-old".to_string()),
            (
                "GetRoleCredentials",
                "111111111111/Dev aoa-access-1".to_string()
            ),
        ]
    );
    let tok = token(&w);
    assert_eq!(tok["accessToken"], "aoa-access-1");
    assert_eq!(
        tok["refreshToken"], "aor-refresh-1",
        "a rotated refresh token is kept"
    );
    assert_eq!(tok["expiresAt"], "2030-01-01T08:00:00Z");
    assert_eq!(tok["clientId"], "client-0");
    // A fresh token is used as it is.
    w.clock.advance(std::time::Duration::from_secs(3600));
    let mut refresh = args("dev");
    refresh.refresh = true;
    export_with(&w, &refresh).unwrap();
    assert_eq!(w.sso.count("CreateToken"), 1);
    assert_eq!(w.sso.count("GetRoleCredentials"), 2);
}

#[test]
fn a_refused_refresh_token_is_tried_once() {
    // The session ended (its refresh token is refused) while `exec --server` serves: one
    // refused renewal, then every request answered at once naming `creds login`, told once on
    // creds' stderr; a new sign-in (a new refresh token) is renewed again.
    let w = World::new();
    w.config(SSO);
    w.sso.with(|s| {
        s.refresh_error = Some(|| creds::aws::sso::TokenError::InvalidGrant("revoked".into()))
    });
    write_token(&w, Duration::seconds(30), true);
    let ctx = w.context(false);
    let server = creds::cli::ExecArgs {
        profile: Some("dev".into()),
        ..exec_args(true)
    };
    let served = creds::commands::exec::Served::default();
    for _ in 0..5 {
        let (status, body) = creds::commands::exec::endpoint_answer(
            &ctx,
            &server,
            &served,
            "T",
            "GET",
            "/creds",
            Some("T"),
        );
        assert_eq!(status, 403, "{body}");
        assert!(
            body.contains(
                "the refresh token was refused (revoked); run `creds login --profile dev`"
            ),
            "{body}"
        );
    }
    assert_eq!(w.sso.count("CreateToken"), 1, "the refusal is remembered");
    let told: Vec<String> = w
        .shown
        .lines()
        .into_iter()
        .filter(|l| l.contains("creds login --profile dev"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    // `export` remembers it too, for any profile of the session.
    assert_eq!(export(&w, "dev").unwrap_err().kind, Kind::LoginNeeded);
    assert_eq!(export(&w, "cross").unwrap_err().kind, Kind::LoginNeeded);
    assert_eq!(w.sso.count("CreateToken"), 1);
    // A new sign-in: its refresh token is tried.
    w.sso.with(|s| s.refresh_error = None);
    let doc = std::fs::read_to_string(w.sso_cache(CORP_TOKEN))
        .unwrap()
        .replace("aor-old", "aor-new");
    std::fs::write(w.sso_cache(CORP_TOKEN), doc).unwrap();
    export(&w, "dev").unwrap();
    assert_eq!(w.sso.count("CreateToken"), 2);
}

#[test]
fn sso_renewal_failures_fall_back_or_ask_for_a_login() {
    let w = World::new();
    w.config(SSO);
    // Refused, but the token still works for 10 minutes: used, with a warning.
    w.sso.with(|s| {
        s.refresh_error = Some(|| creds::aws::sso::TokenError::InvalidGrant("revoked".into()))
    });
    write_token(&w, Duration::minutes(10), true);
    export(&w, "dev").unwrap();
    assert_eq!(token(&w)["accessToken"], "aoa-old", "nothing was written");
    assert_eq!(
        w.shown.lines(),
        ["creds: warning: sso-session `corp`: the refresh token was refused (revoked); the token works until 2030-01-01T00:10:00Z, then run `creds login --profile dev`"]
    );
    // Refused and expired: a login is needed, and the message names it.
    write_token(&w, Duration::seconds(30), true);
    let mut refresh = args("dev");
    refresh.refresh = true;
    let err = export_with(&w, &refresh).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(
        err.message
            .contains("the refresh token was refused (revoked)"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("run `creds login --profile dev`"),
        "{}",
        err.message
    );
    // Not renewable and expired.
    write_token(&w, Duration::minutes(-1), false);
    let err = export_with(&w, &refresh).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(err.message.contains("cannot be renewed"), "{}", err.message);
    // The service failing (not refusing) on an expired token: the error names the profile.
    w.sso.with(|s| {
        s.refresh_error = Some(|| {
            creds::aws::sso::TokenError::Other(Error::new(
                Kind::Network,
                "CreateToken: SSO OIDC in us-east-1 did not answer in time; check the network",
            ))
        })
    });
    write_token(&w, Duration::seconds(30), true);
    // (A new sign-in's refresh token: the refused one is not sent again.)
    let doc = std::fs::read_to_string(w.sso_cache(CORP_TOKEN)).unwrap();
    std::fs::write(w.sso_cache(CORP_TOKEN), doc.replace("aor-old", "aor-next")).unwrap();
    let err = export_with(&w, &refresh).unwrap_err();
    assert_eq!(err.kind, Kind::Network);
    assert!(
        err.message.starts_with("profile `dev`: CreateToken"),
        "{}",
        err.message
    );
    // No token at all.
    std::fs::remove_file(w.sso_cache(CORP_TOKEN)).unwrap();
    let err = export_with(&w, &refresh).unwrap_err();
    assert!(err.message.contains("not signed in"), "{}", err.message);
}

/// A renewal that fails for the network, with the token still usable: the token serves, and
/// the warning is written when the export succeeds; when the export then fails too (the same
/// network), its one error line is all that is written.
#[test]
fn a_failed_renewal_warns_only_when_the_export_is_served() {
    let w = World::new();
    w.config(SSO);
    w.sso.with(|s| {
        s.refresh_error = Some(|| {
            creds::aws::sso::TokenError::Other(Error::new(
                Kind::Network,
                "CreateToken: https://127.0.0.1:1 presented a certificate creds does not trust",
            ))
        })
    });
    write_token(&w, Duration::minutes(10), true);
    w.sso.with(|s| {
        s.role_error = Some(|| {
            Error::new(
                Kind::Network,
                "GetRoleCredentials: a certificate creds does not trust",
            )
        })
    });
    let err = export(&w, "dev").unwrap_err();
    assert_eq!(err.kind, Kind::Network);
    assert_eq!(
        w.shown.lines(),
        Vec::<String>::new(),
        "only the error's line"
    );
    w.sso.with(|s| s.role_error = None);
    // --refresh: past the remembered failure.
    let mut refresh = args("dev");
    refresh.refresh = true;
    export_with(&w, &refresh).unwrap();
    assert_eq!(
        w.shown.lines(),
        ["creds: warning: sso-session `corp`: renewing the SSO token failed (CreateToken: https://127.0.0.1:1 presented a certificate creds does not trust); using it until it expires"]
    );
    assert_eq!(token(&w)["accessToken"], "aoa-old");
}

fn login_opts(timeout: u64) -> Options {
    Options {
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

#[test]
fn device_flow_polls_at_the_interval_until_approved() {
    let w = World::new();
    w.config(SSO);
    w.sso
        .with(|s| s.device = [DeviceAnswer::Pending, DeviceAnswer::Pending].into());
    assert_eq!(login_with(&w, &login_opts(165)).unwrap(), Outcome::SignedIn);
    let polled: Vec<u64> = w
        .sso
        .with(|s| s.polled_at.iter().map(|d| d.as_secs()).collect());
    assert_eq!(
        polled,
        [5, 10, 15],
        "one poll every interval (5 s), the first after one"
    );
    // Before the first poll, the URL (code filled in) and the code were shown: on one line, and
    // nothing else, since stderr is captured here (not a terminal).
    let shown = w.sso.with(|s| s.shown_at_first_poll.clone()).unwrap();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].contains("https://device.sso.example/?user_code=CODE-1234 (code CODE-1234)"),
        "{shown:?}"
    );
    assert_eq!(
        w.shown.lines().last().unwrap(),
        "creds: signed in to sso-session `corp` until 2030-01-01T08:00:15Z; it is renewed automatically"
    );
    // The terminal gets the prompt at once, on one line with the whole URL first and the code
    // repeated, and the outcome; nothing else.
    let prompt = "Sign in to sso-session `corp`: https://device.sso.example/?user_code=CODE-1234 (code CODE-1234) — waiting up to 165 s";
    assert_eq!(
        w.terminal.lines(),
        [
            prompt,
            "creds: signed in to sso-session `corp` until 2030-01-01T08:00:15Z; it is renewed automatically"
        ]
    );
    assert_eq!(shown[0], prompt, "the first line on stderr too");
    let tok = token(&w);
    assert_eq!(tok["accessToken"], "aoa-access-1");
    assert_eq!(tok["expiresAt"], "2030-01-01T08:00:15Z");
    assert_eq!(tok["clientId"], "client-1");
    // A second login finds the token fresh and does nothing.
    assert_eq!(
        login_with(&w, &login_opts(165)).unwrap(),
        Outcome::AlreadyValid
    );
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 1);
}

#[test]
fn device_flow_slows_down_when_asked() {
    let w = World::new();
    w.config(SSO);
    w.sso
        .with(|s| s.device = [DeviceAnswer::SlowDown, DeviceAnswer::Pending].into());
    login_with(&w, &login_opts(165)).unwrap();
    let polled: Vec<u64> = w
        .sso
        .with(|s| s.polled_at.iter().map(|d| d.as_secs()).collect());
    assert_eq!(
        polled,
        [5, 15, 25],
        "5 s more after slow_down, for the rest of the flow"
    );
}

#[test]
fn device_flow_stops_on_denial_expiry_and_the_deadline() {
    let w = World::new();
    w.config(SSO);
    w.sso.with(|s| s.device = [DeviceAnswer::Denied].into());
    let err = login_with(&w, &login_opts(165)).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(err.message.contains("denied"), "{}", err.message);
    assert_eq!(
        w.terminal.lines().last().unwrap(),
        &format!("creds: {}", err.message),
        "the outcome reaches the terminal"
    );

    w.sso.with(|s| s.device = [DeviceAnswer::Expired].into());
    let err = login_with(&w, &login_opts(165)).unwrap_err();
    assert!(err.message.contains("the code expired"), "{}", err.message);

    // The code's own lifetime: pending past expires_in ends the flow.
    w.sso.with(|s| {
        s.code_expires_in = 12;
        s.device = std::iter::repeat_n(DeviceAnswer::Pending, 100).collect();
    });
    let err = login_with(&w, &login_opts(165)).unwrap_err();
    assert!(err.message.contains("the code expired"), "{}", err.message);

    // The deadline: a 12 s timeout with a 5 s interval polls twice and stops at exactly 12 s.
    let start = w.clock.monotonic();
    w.sso.with(|s| {
        s.code_expires_in = 600;
        s.polled_at.clear();
        s.device = std::iter::repeat_n(DeviceAnswer::Pending, 100).collect();
    });
    let err = login_with(&w, &login_opts(12)).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(
        err.message.contains("not completed within 12s"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("run `creds login --sso-session corp` again"),
        "{}",
        err.message
    );
    assert_eq!(w.sso.with(|s| s.polled_at.len()), 2);
    assert_eq!(
        w.clock.monotonic() - start,
        std::time::Duration::from_secs(12)
    );
}

#[test]
fn login_renews_instead_of_signing_in_when_it_can() {
    let w = World::new();
    w.config(SSO);
    write_token(&w, Duration::minutes(5), true);
    assert_eq!(login_with(&w, &login_opts(165)).unwrap(), Outcome::Renewed);
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 0);
    // A token that is usable but cannot be renewed is replaced by a sign-in.
    write_token(&w, Duration::minutes(5), false);
    assert_eq!(login_with(&w, &login_opts(165)).unwrap(), Outcome::SignedIn);
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 1);
}

#[test]
fn pkce_flow_takes_the_code_from_the_redirect() {
    let mut w = World::new();
    w.browser.follows = Some(w.redirects.clone());
    w.config(SSO);
    let opts = Options {
        no_browser: false,
        ..login_opts(165)
    };
    assert_eq!(login_with(&w, &opts).unwrap(), Outcome::SignedIn);
    // The answers that are not this sign-in's are turned away; the wait goes on.
    assert_eq!(*w.redirects.replies.lock().unwrap(), [404, 400, 400, 200]);
    let url = w.browser.opened.lock().unwrap()[0].clone();
    assert!(url.starts_with("https://oidc.us-east-1.amazonaws.com/authorize?response_type=code&client_id=client-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A43210%2Foauth%2Fcallback&state="), "{url}");
    assert!(url.contains("&code_challenge_method=S256&"), "{url}");
    assert_eq!(
        w.sso.with(|s| s.log.last().unwrap().1.clone()),
        "authorization_code the-code"
    );
}

#[test]
fn pkce_flow_gives_up_at_the_deadline() {
    let w = World::new();
    w.config(SSO);
    let opts = Options {
        no_browser: false,
        ..login_opts(30)
    };
    let err = login_with(&w, &opts).unwrap_err();
    assert!(
        err.message.contains("not completed within 30s"),
        "{}",
        err.message
    );
    assert_eq!(w.clock.monotonic(), std::time::Duration::from_secs(30));
}

#[test]
fn credential_process_commands_are_not_shown_whole() {
    let w = World::new();
    w.config("[profile p]\ncredential_process = /opt/helper --password SECRETARG\n[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = p\n");
    export(&w, "r").unwrap();
    assert_eq!(
        *w.processes.ran.lock().unwrap(),
        ["/opt/helper --password SECRETARG"]
    );
    let listed = creds::cache::file::FileStore::new(w.home_path(&["cache"]))
        .list()
        .unwrap();
    let hops: Vec<&str> = listed.iter().map(|e| e.hop.as_str()).collect();
    assert!(
        hops.contains(&"credential_process /opt/helper ..."),
        "{hops:?}"
    );
    for e in &listed {
        assert!(!e.hop.contains("SECRETARG"));
    }
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("r"));
    let text = creds::commands::doctor::render(&d);
    assert!(
        text.contains("credential_process `/opt/helper ...`"),
        "{text}"
    );
    assert!(!text.contains("SECRETARG"), "{text}");
}

#[test]
fn doctor_reports_where_settings_come_from_and_what_they_override() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("AWS_PROFILE".into(), "b".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), None);
    assert_eq!(d.exit_code, 0, "{:?}", d.problems);
    assert_eq!(
        (d.profile.as_str(), d.profile_from.as_str()),
        ("b", "AWS_PROFILE")
    );
    assert_eq!(d.region.as_deref(), Some("us-east-1"));
    assert_eq!(d.region_from.as_deref(), Some("AWS_REGION"));
    assert_eq!(d.shadowed.len(), 1);
    let text = creds::commands::doctor::render(&d);
    let config = w.home_path(&[".aws", "config"]);
    assert!(
        text.contains(&format!(
            "  overridden: region eu-west-1 from {}:13 (by AWS_REGION)",
            config.display()
        )),
        "{text}"
    );
    assert!(text.contains("cache: "), "{text}");
    assert!(text.contains("export: 2 call(s) to AWS needed"), "{text}");
    export(&w, "b").unwrap();
    let d = creds::commands::doctor::diagnose(&w.context(false), None);
    assert_eq!(d.calls_needed, Some(0));
    assert!(
        d.chain[2]
            .cache
            .starts_with("cached until 2030-01-01T01:00:00Z"),
        "{:?}",
        d.chain
    );
}

#[test]
fn the_redirect_listener_survives_hostile_requests() {
    use std::io::Write;
    let w = World::new();
    w.config(SSO);
    let browser = w.browser.clone();
    let feeder = std::thread::spawn(move || {
        let url = (0..2000)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                browser.opened.lock().unwrap().first().cloned()
            })
            .expect("the browser was opened");
        let query = |key: &str| {
            url.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(key))
                .unwrap()
                .to_string()
        };
        let redirect = creds::sso::login::redirect::percent_decode(&query("redirect_uri="));
        let port: u16 = redirect
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let state = query("state=");
        let send = |bytes: &[u8]| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let _ = s.write_all(bytes);
        };
        // An endless request line (16 MiB, no newline), then the answer with malformed
        // escapes before and after a multi-byte character.
        let mut endless = b"GET /".to_vec();
        endless.extend(std::iter::repeat_n(b'A', 16 << 20));
        send(&endless);
        let mut answer = b"GET /oauth/callback?code=%\xc3\xa9%zz%4&state=".to_vec();
        answer.extend(state.as_bytes());
        answer.extend(b" HTTP/1.1\r\n\r\n");
        send(&answer);
    });
    let mut ctx = w.context(true);
    ctx.redirects = Box::new(creds::os::http::TcpRedirects);
    let (session, store) = session(&w);
    let opts = Options {
        no_browser: false,
        ..login_opts(600)
    };
    let result = login::login(&ctx, &store, &session, &Default::default(), &opts);
    feeder.join().unwrap();
    assert_eq!(result.unwrap(), Outcome::SignedIn);
    assert_eq!(
        w.sso.with(|s| s.log.last().unwrap().1.clone()),
        "authorization_code %é%zz%4"
    );
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

#[test]
fn a_failure_recorded_in_the_future_does_not_block() {
    let w = World::new();
    w.config(CHAIN);
    // The clock was a year ahead when the failure was recorded, then corrected.
    w.clock.set(t("2031-01-01T00:00:00Z"));
    w.sts.fail_next(Error::new(
        Kind::AwsRefused,
        "AssumeRole refused by AWS (AccessDenied): no",
    ));
    assert!(export(&w, "a").is_err());
    w.clock.set(t("2030-01-01T00:00:00Z"));
    export(&w, "a").unwrap();
    assert_eq!(w.sts.calls().len(), 2);
    // A record whose window is longer than 15 s (written by hand, or by a broken build) is
    // ignored too.
    let key = &keys(&w, CHAIN, "a")[1];
    let record = w.home().join(format!("home/cache/{key}.err"));
    std::fs::write(&record, r#"{"Until":"2030-06-01T00:00:00Z","At":"2030-01-01T00:00:00Z","ExitCode":5,"Message":"AssumeRole refused"}"#).unwrap();
    let mut refresh = args("a");
    refresh.min_ttl = Duration::minutes(61);
    // (An --min-ttl above the lifetime forces a call, which the record must not stop.)
    let err = export_with(&w, &refresh).unwrap_err();
    assert!(
        err.message.contains("less than --min-ttl"),
        "{}",
        err.message
    );
    assert_eq!(w.sts.calls().len(), 3);
}

#[test]
fn a_remembered_failure_is_told_once_on_a_long_chain() {
    let w = World::new();
    w.config(CHAIN);
    w.sts.fail_next(Error::new(
        Kind::AwsRefused,
        "AssumeRole refused by AWS (AccessDenied): no",
    ));
    assert!(export(&w, "b").is_err());
    // The top hop's record has gone (it may expire first: its jitter differs); RoleA's is
    // still there. Every later message carries the "(remembered ...)" once.
    let top = &keys(&w, CHAIN, "b")[2];
    std::fs::remove_file(w.home().join(format!("home/cache/{top}.err"))).unwrap();
    for _ in 0..3 {
        let err = export(&w, "b").unwrap_err();
        assert_eq!(
            err.message.matches("(remembered").count(),
            1,
            "{}",
            err.message
        );
        w.clock.advance(std::time::Duration::from_secs(2));
    }
    assert_eq!(w.sts.calls().len(), 1);
}

#[test]
fn a_role_shorter_than_min_ttl_is_served_and_cached() {
    let w = World::new();
    let config = format!("{CHAIN}duration_seconds = 900\n");
    w.config(&config);
    // STS gives the role the 15 minutes asked for.
    w.sts.set_lifetime(Duration::minutes(15));
    let first = export(&w, "b").unwrap();
    assert_eq!(first["Expiration"], "2030-01-01T00:15:00Z");
    // Reused while 10 minutes are left (the lifetime less 5 minutes of reuse).
    w.clock.advance(std::time::Duration::from_secs(5 * 60));
    assert_eq!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.assumed(ROLE_B), 1);
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!((d.exit_code, d.calls_needed), (0, Some(0)), "{:?}", d.chain);
    assert!(d
        .min_ttl_note
        .as_deref()
        .unwrap()
        .contains("the role lasts 900s"));
    w.clock.advance(std::time::Duration::from_secs(1));
    assert_ne!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.assumed(ROLE_B), 2);
    // The floor: never less than 7 minutes, and an explicit lower --min-ttl is kept.
    let hops = |secs: u32| {
        let text = format!("{CHAIN}duration_seconds = {secs}\n");
        plan(&text, "b", &creds::context::Env::default())
    };
    let ttl = |secs: u32, min: i64| {
        creds::walk::chain_min_ttl(Duration::minutes(min), &hops(secs))
            .0
            .num_seconds()
    };
    assert_eq!(ttl(900, 15), 600);
    assert_eq!(ttl(1000, 15), 700);
    assert_eq!(ttl(1200, 15), 900);
    assert_eq!(ttl(3600, 15), 900);
    assert_eq!(ttl(900, 5), 300);
    assert_eq!(ttl(900, 60), 600);
}

#[test]
fn claude_code_never_gets_credentials_it_would_keep_past_expiry() {
    // Claude Code keeps what awsCredentialExport printed for an hour when 6 minutes or less
    // are left: --format claude never hands out less than 7, whatever --min-ttl says.
    let w = World::new();
    w.config(CHAIN);
    let first = export(&w, "b").unwrap();
    w.clock.set(t("2030-01-01T00:53:30Z")); // 6.5 minutes left
    let low = |format| ExportArgs {
        min_ttl: Duration::minutes(1),
        format,
        ..args("b")
    };
    assert_eq!(export_with(&w, &low(Format::Process)).unwrap(), first);
    assert_eq!(
        w.sts.assumed(ROLE_B),
        1,
        "--min-ttl 1m: the cached key serves process"
    );
    let claude = export_with(&w, &low(Format::Claude)).unwrap();
    assert_eq!(w.sts.assumed(ROLE_B), 2, "but not Claude Code");
    assert_eq!(claude["Credentials"]["Expiration"], "2030-01-01T01:53:30Z");
}

#[test]
fn doctor_check_asks_sts_who_the_credentials_are() {
    let w = World::new();
    w.config(CHAIN);
    let ctx = w.context(false);
    let mut d = creds::commands::doctor::diagnose(&ctx, Some("b"));
    creds::commands::doctor::check(&ctx, Some("b"), &mut d);
    let check = d.check.as_ref().unwrap();
    assert_eq!(check.account, "123456789012");
    assert_eq!(check.clock_skew_seconds, Some(90));
    // Signed with what export hands out (RoleB's credentials).
    let calls = w.sts.calls();
    assert_eq!(calls.last().unwrap().operation, "GetCallerIdentity");
    assert_eq!(calls.last().unwrap().signed_with, "ASIAFAKE00000002");
    let text = creds::commands::doctor::render(&d);
    assert!(text.contains("check: GetCallerIdentity: account 123456789012, arn:aws:sts::123456789012:assumed-role/R/s (clock skew +90s)"), "{text}");
    assert!(text.contains("clock is 90s off AWS's"), "{text}");
}

#[test]
fn web_identity_reads_the_token_file_at_every_fetch() {
    let w = World::new();
    let token = w.home().join("token");
    std::fs::write(&token, "tok-1\n").unwrap();
    let config = format!(
        "[profile web]\nrole_arn = arn:aws:iam::111111111111:role/Ci\nweb_identity_token_file = {}\nrole_session_name = ci\n\n[profile top]\nrole_arn = {ROLE_B}\nsource_profile = web\n",
        token.display()
    );
    w.config(&config);
    let first = export(&w, "web").unwrap();
    assert_eq!(first["AccessKeyId"], "ASIAFAKE00000001");
    let calls = w.sts.calls();
    assert_eq!(calls[0].operation, "AssumeRoleWithWebIdentity");
    assert_eq!(
        calls[0].signed_with, "token:tok-1",
        "unsigned: the token is the proof"
    );
    // As the base of a chain: the cached web identity hop signs the role above it.
    export(&w, "top").unwrap();
    assert_eq!(w.sts.calls().len(), 2);
    assert_eq!(w.sts.calls()[1].signed_with, "ASIAFAKE00000001");
    // The token rotates; the next fetch sends the new one, under the same cache key (the
    // path, not the content, is in the key).
    let key = keys(&w, &config, "web")[0].clone();
    std::fs::write(&token, "tok-2").unwrap();
    assert_eq!(keys(&w, &config, "web")[0], key);
    w.clock.set(t("2030-01-01T00:50:00Z"));
    export(&w, "web").unwrap();
    assert_eq!(w.sts.calls()[2].signed_with, "token:tok-2");
    // A missing token file is a configuration error naming it.
    std::fs::remove_file(&token).unwrap();
    let mut refresh = args("web");
    refresh.refresh = true;
    let err = export_with(&w, &refresh).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains("cannot read web_identity_token_file"),
        "{}",
        err.message
    );
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

#[test]
fn an_mfa_session_over_long_term_keys_serves_every_role_on_it() {
    let w = World::new();
    w.config(MFA);
    let admin = export(&w, "admin").unwrap();
    let calls = w.sts.calls();
    assert_eq!(calls[0].operation, "GetSessionToken");
    assert_eq!(calls[0].signed_with, "AKIDBASE");
    assert_eq!(
        calls[0].mfa,
        Some(("arn:aws:iam::000000000000:mfa/me".into(), "123456".into()))
    );
    // The role is assumed with the MFA session, without a code of its own.
    assert_eq!(calls[1].operation, "AssumeRole");
    assert_eq!(calls[1].signed_with, "ASIAFAKE00000001");
    assert_eq!(calls[1].mfa, None);
    assert_eq!(admin["AccessKeyId"], "ASIAFAKE00000002");
    // Another role on the same keys and device: no new code, no new session.
    export(&w, "audit").unwrap();
    let calls = w.sts.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].signed_with, "ASIAFAKE00000001");
    assert_eq!(
        w.processes.ran.lock().unwrap().len(),
        1,
        "mfa_process ran once"
    );
    // The session is shown by doctor as a hop of the chain.
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("admin"));
    assert!(
        d.chain
            .iter()
            .any(|h| h.hop == "mfa-session arn:aws:iam::000000000000:mfa/me"
                && h.cache.starts_with("cached")),
        "{:?}",
        d.chain
    );
}

/// Issue 17, item 11: an `mfa_process` that fails is named with how it ended and what it said
/// last, not as `exit Some(1)`.
#[test]
fn a_failing_mfa_process_says_how_it_ended() {
    let w = World::new();
    w.config(&MFA.replace(
        "mfa_process = get-mfa-code\n",
        "mfa_process = get-mfa-code --fail\n",
    ));
    let err = export(&w, "admin").unwrap_err();
    assert_eq!(
        err.message,
        "profile `admin`: mfa_process `get-mfa-code ...` exited with status 1: no token device found; fix it, or run `creds login --profile admin --mfa-code CODE`"
    );
}

#[test]
fn without_a_way_to_get_a_code_export_names_the_login() {
    let w = World::new();
    w.config(&MFA.replace("mfa_process = get-mfa-code\n", ""));
    let err = export(&w, "admin").unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(
        err.message
            .contains("run `creds login --profile admin --mfa-code CODE` in a terminal"),
        "{}",
        err.message
    );
    assert!(w.sts.calls().is_empty());
    // `creds login --mfa-code` caches the session; exports then need no code.
    let ctx = w.context(false);
    let login = creds::cli::LoginArgs {
        profile: Some("admin".into()),
        sso_session: None,
        no_browser: false,
        device_code: false,
        timeout: Duration::seconds(165),
        force: false,
        mfa_code: Some("654321".into()),
        status: false,
        renew_ahead: None,
    };
    creds::commands::login::login(&ctx, &login).unwrap();
    assert_eq!(w.sts.calls()[0].mfa.as_ref().unwrap().1, "654321");
    export(&w, "audit").unwrap();
    assert_eq!(
        w.sts.calls().len(),
        3,
        "the cached MFA session signed Audit"
    );
    let bad = creds::cli::LoginArgs {
        mfa_code: Some("12ab".into()),
        force: true,
        ..login
    };
    assert_eq!(
        creds::commands::login::login(&ctx, &bad).unwrap_err().kind,
        Kind::Usage
    );
}

#[test]
fn the_environments_web_identity_serves_a_profile_that_gives_none() {
    let mut w = World::new();
    let token = w.home().join("ci-token");
    std::fs::write(&token, "env-token").unwrap();
    w.vars.push((
        "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
        token.display().to_string(),
    ));
    w.vars.push((
        "AWS_ROLE_ARN".into(),
        "arn:aws:iam::111111111111:role/FromEnv".into(),
    ));
    w.vars.push(("AWS_ROLE_SESSION_NAME".into(), "gh".into()));
    // No config at all, and a profile that only sets a region: the environment's role.
    for config in ["", "[default]\nregion = eu-west-1\n"] {
        w.config(config);
        let out = export(&w, "default").unwrap();
        assert!(out["AccessKeyId"].as_str().unwrap().starts_with("ASIAFAKE"));
    }
    let calls = w.sts.calls();
    assert_eq!(calls[0].operation, "AssumeRoleWithWebIdentity");
    assert_eq!(calls[0].signed_with, "token:env-token");
    // A profile with credentials of its own wins over the environment.
    w.config(CHAIN);
    export(&w, "a").unwrap();
    assert_eq!(w.sts.calls().last().unwrap().operation, "AssumeRole");
}

#[test]
fn instance_metadata_is_the_cached_base_of_a_role_chain() {
    let mut w = World::new();
    w.vars.push((
        "AWS_EC2_METADATA_SERVICE_ENDPOINT".into(),
        "http://127.0.0.1:9/".into(),
    ));
    w.config(
        "[profile ec2]\nrole_arn = arn:aws:iam::222222222222:role/RoleB\ncredential_source = Ec2InstanceMetadata\n",
    );
    let first = export(&w, "ec2").unwrap();
    assert_eq!(w.metadata.calls(), ["instance http://127.0.0.1:9"]);
    // The role is assumed with the instance's credentials.
    let calls = w.sts.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].signed_with, "ASIAMETA00000001");
    // Both hops are cached: a second export calls nothing.
    assert_eq!(export(&w, "ec2").unwrap(), first);
    assert_eq!((w.metadata.calls().len(), w.sts.calls().len()), (1, 1));
    // After the role's hour, only the role is assumed again (the instance's 6 h still hold).
    w.clock.advance(std::time::Duration::from_secs(50 * 60));
    export(&w, "ec2").unwrap();
    assert_eq!((w.metadata.calls().len(), w.sts.calls().len()), (1, 2));
    assert_eq!(w.sts.calls()[1].signed_with, "ASIAMETA00000001");
}

#[test]
fn instance_metadata_endpoint_follows_the_sdks_settings() {
    let config = "[profile ec2]\nrole_arn = arn:aws:iam::222222222222:role/RoleB\ncredential_source = Ec2InstanceMetadata\nec2_metadata_service_endpoint_mode = IPv6\n\n[profile v4]\nrole_arn = arn:aws:iam::222222222222:role/RoleB\ncredential_source = Ec2InstanceMetadata\n";
    let labels = |vars: &[(&str, &str)], profile: &str| {
        let env = creds::context::Env::from_pairs(vars.iter().copied());
        plan(config, profile, &env)[0].label.clone()
    };
    assert_eq!(
        labels(&[], "v4"),
        "instance-metadata http://169.254.169.254"
    );
    assert_eq!(
        labels(&[], "ec2"),
        "instance-metadata http://[fd00:ec2::254]"
    );
    assert_eq!(
        labels(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv4")], "ec2"),
        "instance-metadata http://169.254.169.254"
    );
    assert_eq!(
        labels(
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://localhost:1338")],
            "ec2"
        ),
        "instance-metadata http://localhost:1338"
    );
    // Turned off, or a mode that is neither: exit 3 naming the setting.
    let mut w = World::new();
    w.config(config);
    w.vars
        .push(("AWS_EC2_METADATA_DISABLED".into(), "TRUE".into()));
    let err = export(&w, "v4").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains("AWS_EC2_METADATA_DISABLED"),
        "{}",
        err.message
    );
    w.vars.pop();
    w.vars.push((
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE".into(),
        "IPv5".into(),
    ));
    let err = export(&w, "v4").unwrap_err();
    assert!(
        err.message
            .contains("`IPv5` from AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is not valid"),
        "{}",
        err.message
    );
    assert!(w.metadata.calls().is_empty());
}

#[test]
fn container_credentials_follow_the_environment() {
    let config = "[profile task]\nrole_arn = arn:aws:iam::222222222222:role/RoleB\ncredential_source = EcsContainer\n";
    let mut w = World::new();
    w.config(config);
    // Neither variable: exit 3 saying what the runtime sets.
    let err = export(&w, "task").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI"
        ),
        "{}",
        err.message
    );
    // The relative URI wins over the full one, as in the SDKs.
    w.vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        "http://127.0.0.1:9/full".into(),
    ));
    w.vars.push((
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI".into(),
        "/v2/credentials/abc".into(),
    ));
    export(&w, "task").unwrap();
    assert_eq!(
        w.metadata.calls(),
        ["container http://169.254.170.2/v2/credentials/abc"]
    );
    assert_eq!(w.sts.calls()[0].signed_with, "ASIAMETA00000001");
    // A failing endpoint keeps its kind and names the profile.
    w.vars.pop();
    w.metadata.fail_next(Error::new(
        Kind::Network,
        "cannot reach the container credentials endpoint".to_string(),
    ));
    let err = export(&w, "task").unwrap_err();
    assert_eq!(err.kind, Kind::Network);
    assert!(
        err.message
            .starts_with("profile `task` (credential_source = EcsContainer): cannot reach"),
        "{}",
        err.message
    );
    assert_eq!(w.metadata.calls()[1], "container http://127.0.0.1:9/full");
}

#[test]
fn an_aws_login_session_is_the_cached_base_of_a_role_chain() {
    let w = World::new();
    const SESSION: &str = "arn:aws:iam::123456789012:user/Admin";
    w.config(&format!(
        "[profile console]\nlogin_session = {SESSION}\nregion = us-east-1\n\n[profile admin]\nrole_arn = {ROLE_B}\nsource_profile = console\n"
    ));
    // No session in the AWS CLI's cache: exit 4 naming `aws login` and the file.
    let err = export(&w, "admin").unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    let file = creds::source::login_session::token_file(
        &w.home_path(&[".aws", "login", "cache"]),
        SESSION,
    );
    assert!(
        err.message.contains(&file.display().to_string()),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("run `aws login --profile admin`"),
        "{}",
        err.message
    );
    assert!(w.signin.calls().is_empty());
    // The file name is the AWS CLI's: SHA-256 of the trimmed session ARN.
    assert_eq!(
        file.file_name().unwrap().to_str().unwrap(),
        format!(
            "{}.json",
            creds::wire::hex(&<sha2::Sha256 as sha2::Digest>::digest(SESSION.as_bytes()))
        )
    );
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "{}").unwrap();
    let first = export(&w, "admin").unwrap();
    assert_eq!(w.signin.calls(), [SESSION]);
    assert_eq!(w.sts.calls()[0].signed_with, "ASIALOGIN0000001");
    assert_eq!(export(&w, "admin").unwrap(), first);
    assert_eq!(w.signin.calls().len(), 1);
    // A session that is over: exit 4 with the same hint.
    w.signin.fail_next(Error::new(
        Kind::LoginNeeded,
        "the `aws login` session cannot be used (cached Login token is expired)",
    ));
    let err = export_with(
        &w,
        &ExportArgs {
            refresh: true,
            ..args("admin")
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(
        err.message.starts_with(
            "profile `console` (login_session): the `aws login` session cannot be used"
        ),
        "{}",
        err.message
    );
    assert!(err.message.ends_with("run `aws login --profile admin` in a terminal (creds does not run that sign-in itself)"), "{}", err.message);
}

#[test]
fn the_mfa_session_length_is_configurable() {
    let mut w = World::new();
    w.config(MFA);
    export(&w, "admin").unwrap();
    assert_eq!(
        w.sts.calls()[0].duration,
        Some(12 * 3600),
        "12 hours by default"
    );
    // The profile's mfa_session_duration, then CREDS_MFA_SESSION_DURATION over it.
    let mut w2 = World::new();
    w2.config(&MFA.replace(
        "[profile admin]\n",
        "[profile admin]\nmfa_session_duration = 90m\n",
    ));
    export(&w2, "admin").unwrap();
    assert_eq!(w2.sts.calls()[0].duration, Some(5400));
    w2.vars
        .push(("CREDS_MFA_SESSION_DURATION".into(), "36h".into()));
    export_with(
        &w2,
        &ExportArgs {
            refresh: true,
            ..args("admin")
        },
    )
    .unwrap();
    assert_eq!(w2.sts.calls()[2].duration, Some(129_600));
    // Out of GetSessionToken's range: exit 3 naming where it came from.
    w.vars
        .push(("CREDS_MFA_SESSION_DURATION".into(), "37h".into()));
    let err = export(&w, "admin").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message
            .contains("`37h` from CREDS_MFA_SESSION_DURATION is not valid"),
        "{}",
        err.message
    );
}

#[test]
fn keys_with_an_mfa_device_of_their_own_become_an_mfa_session() {
    let w = World::new();
    w.config(&format!(
        "{MFA}\n[profile user]\naws_access_key_id = AKIDUSER\naws_secret_access_key = SECRETUSERKEY0123456789\nmfa_serial = arn:aws:iam::000000000000:mfa/user\nmfa_process = get-mfa-code\n"
    ));
    for format in [Format::Process, Format::Claude] {
        let mut a = args("user");
        a.format = format;
        let ctx = w.context(false);
        let doc = export::run(&ctx, &a, false).unwrap();
        assert!(doc.contains("ASIAFAKE00000001"), "{doc}");
    }
    // One GetSessionToken with the code, signed with the keys; the Claude format reuses it.
    let calls = w.sts.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].operation, "GetSessionToken");
    assert_eq!(calls[0].signed_with, "AKIDUSER");
    assert_eq!(
        calls[0].mfa,
        Some(("arn:aws:iam::000000000000:mfa/user".into(), "123456".into()))
    );
    // Under a role, the role's own mfa_serial decides (the base's is not asked for).
    export(&w, "admin").unwrap();
    assert_eq!(
        w.sts.calls()[1].mfa,
        Some(("arn:aws:iam::000000000000:mfa/me".into(), "123456".into()))
    );
}

fn key_input(id: &str, secret: &str) -> creds::commands::keys::KeyInput {
    creds::commands::keys::KeyInput {
        access_key_id: id.into(),
        secret_access_key: creds::secret::Secret::new(secret),
    }
}

#[test]
fn keyring_keys_are_only_ever_handed_out_as_sessions() {
    use creds::commands::keys;
    let w = World::new();
    w.config("[profile other]\nregion = us-east-1\n");
    let ctx = w.context(false);
    keys::add(
        &ctx,
        "user",
        &key_input("AKIAKEYRINGUSER00001", "ring-secret"),
    )
    .unwrap();
    assert_eq!(
        w.keyring
            .secrets
            .lock()
            .unwrap()
            .get("access-key/AKIAKEYRINGUSER00001")
            .map(String::as_str),
        Some("ring-secret")
    );
    let config = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    assert_eq!(
        config,
        "[profile other]\nregion = us-east-1\n\n[profile user]\ncreds_keyring = AKIAKEYRINGUSER00001\ncredential_process = /usr/bin/creds export --profile user --format process\n"
    );
    // export: GetSessionToken signed with the stored key; the key itself is never printed.
    let out = export(&w, "user").unwrap();
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000001");
    let calls = w.sts.calls();
    assert_eq!(
        (calls[0].operation, calls[0].signed_with.as_str()),
        ("GetSessionToken", "AKIAKEYRINGUSER00001")
    );
    // A cache hit never touches the keyring: it can be gone.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    assert_eq!(export(&w, "user").unwrap(), out);
    // A miss with the keyring gone is exit 3 with the reason, never plain-text keys.
    let err = export_with(
        &w,
        &ExportArgs {
            refresh: true,
            ..args("user")
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message
            .contains("the OS keyring cannot be used: no bus"),
        "{}",
        err.message
    );
    *w.keyring.fail.lock().unwrap() = None;
    // A role above it is assumed with the stored key directly.
    let mut text = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    text.push_str(&format!(
        "\n[profile admin]\nrole_arn = {ROLE_B}\nsource_profile = user\n"
    ));
    w.config(&text);
    export(&w, "admin").unwrap();
    let last = w.sts.calls().last().cloned().unwrap();
    assert_eq!(
        (last.operation, last.signed_with.as_str()),
        ("AssumeRole", "AKIAKEYRINGUSER00001")
    );
    // list names the key, never the secret; remove takes both lines and the secret away.
    let listed = keys::list(&ctx).unwrap();
    assert_eq!(listed, "user\tAKIAKEYRINGUSER00001\tin the keyring\n");
    keys::remove(&ctx, "user").unwrap();
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
    let config = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    assert!(
        !config.contains("creds_keyring") && !config.contains("credential_process"),
        "{config}"
    );
    // Temporary keys and bad ids are refused before anything is stored.
    let err = keys::add(&ctx, "user", &key_input("ASIATEMPORARY0000001", "x")).unwrap_err();
    assert_eq!(err.kind, Kind::Usage);
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
}

#[test]
fn keys_import_moves_keys_and_keeps_every_other_byte() {
    use creds::commands::keys;
    let w = World::new();
    w.config("[profile dev]\nregion = eu-west-1\n");
    let credentials = w.home_path(&[".aws", "credentials"]);
    let old = "# my keys\r\n[dev]\r\naws_access_key_id = AKIAIMPORTED00000001\r\naws_secret_access_key = imported-secret\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD000000000001\r\naws_secret_access_key = prod-secret\r\n";
    std::fs::write(&credentials, old).unwrap();
    let ctx = w.context(false);
    // The keyring unavailable: exit 3, and no file changes.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    assert_eq!(keys::import(&ctx, "dev").unwrap_err().kind, Kind::Config);
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), old);
    *w.keyring.fail.lock().unwrap() = None;
    keys::import(&ctx, "dev").unwrap();
    assert_eq!(
        std::fs::read_to_string(&credentials).unwrap(),
        "# my keys\r\n[dev]\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD000000000001\r\naws_secret_access_key = prod-secret\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(w.home_path(&[".aws", "credentials.bak"])).unwrap(),
        old
    );
    assert_eq!(
        w.keyring
            .secrets
            .lock()
            .unwrap()
            .get("access-key/AKIAIMPORTED00000001")
            .map(String::as_str),
        Some("imported-secret")
    );
    let out = export(&w, "dev").unwrap();
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000001");
    assert_eq!(w.sts.calls()[0].signed_with, "AKIAIMPORTED00000001");
    // Importing again: there is nothing left to move.
    assert_eq!(keys::import(&ctx, "dev").unwrap_err().kind, Kind::Config);
}

#[test]
fn the_keyring_cache_keeps_entries_out_of_files_and_falls_back_with_one_warning() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("CREDS_CACHE".into(), "keyring".into()));
    let first = export(&w, "b").unwrap();
    let entries: Vec<String> = w.keyring.secrets.lock().unwrap().keys().cloned().collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries.iter().all(|a| a.starts_with("cache/")),
        "{entries:?}"
    );
    let cache_dir = w.home_path(&["cache"]);
    let json = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json")
                })
                .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(json(&cache_dir), 0, "no entry in the file cache");
    assert_eq!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.calls().len(), 2, "served from the keyring");
    // The keyring gone: one warning, the file cache serves, credentials are still printed.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    let shown = w.shown.lines().len();
    export(&w, "b").unwrap();
    let warnings: Vec<String> = w.shown.lines()[shown..].to_vec();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(
            "the keyring cache (CREDS_CACHE=keyring) cannot be used: no bus; using the file cache"
        ),
        "{warnings:?}"
    );
    assert_eq!(json(&cache_dir), 2);
    // The profile's creds_cache setting chooses it too; CREDS_CACHE wins over it.
    w.vars.pop();
    *w.keyring.fail.lock().unwrap() = None;
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_cache = none\n"));
    let before = w.sts.calls().len();
    export(&w, "b").unwrap();
    assert_eq!(
        w.sts.calls().len(),
        before + 2,
        "creds_cache = none: nothing cached"
    );
}

#[test]
fn refresh_ahead_starts_one_renewal_inside_the_window() {
    let w = World::new();
    w.config(CHAIN);
    let first = export(&w, "b").unwrap();
    assert!(
        w.background.started().is_empty(),
        "just fetched: nothing to renew"
    );
    // 40 minutes later RoleB has 20 minutes left: over --min-ttl (15m), inside the window
    // (15m + 10m). The cached key is served at once and one renewal starts.
    w.clock.advance(std::time::Duration::from_secs(40 * 60));
    assert_eq!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.calls().len(), 2, "no call in the foreground");
    assert_eq!(
        w.background.started(),
        [[
            "export",
            "--profile",
            "b",
            "--format",
            "process",
            "--min-ttl",
            "1500",
            "--no-refresh-ahead"
        ]]
    );
    // While it runs (it holds the renewal lock), other callers start none.
    for _ in 0..5 {
        export(&w, "b").unwrap();
    }
    assert_eq!(w.background.started().len(), 1);
    // What the renewal runs: the same export with --min-ttl 1500 fetches RoleB only.
    let renewal = ExportArgs {
        min_ttl: Duration::seconds(1500),
        no_refresh_ahead: true,
        ..args("b")
    };
    let renewed = export_with(&w, &renewal).unwrap();
    assert_ne!(renewed["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!((w.sts.assumed(ROLE_A), w.sts.assumed(ROLE_B)), (1, 2));
    w.background.finish();
    // The next export gets the renewed key and starts nothing.
    assert_eq!(export(&w, "b").unwrap(), renewed);
    assert_eq!(w.background.started().len(), 1);
}

#[test]
fn refresh_ahead_is_off_when_asked_failing_or_useless() {
    let mut w = World::new();
    w.config(CHAIN);
    export(&w, "b").unwrap();
    w.clock.advance(std::time::Duration::from_secs(40 * 60));
    // --no-refresh-ahead, CREDS_REFRESH_AHEAD=off, the profile's creds_refresh_ahead = off.
    export_with(
        &w,
        &ExportArgs {
            no_refresh_ahead: true,
            ..args("b")
        },
    )
    .unwrap();
    w.vars.push(("CREDS_REFRESH_AHEAD".into(), "off".into()));
    export(&w, "b").unwrap();
    w.vars.pop();
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_refresh_ahead = 0\n"));
    export(&w, "b").unwrap();
    assert!(w.background.started().is_empty());
    // A window that is not a duration is exit 3.
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_refresh_ahead = soon\n"));
    assert_eq!(export(&w, "b").unwrap_err().kind, Kind::Config);
    // A remembered failure of the hop: no renewal until it expires.
    w.config(CHAIN);
    w.sts
        .fail_next(Error::new(Kind::Network, "STS is down".to_string()));
    let renewal = ExportArgs {
        min_ttl: Duration::seconds(1500),
        no_refresh_ahead: true,
        ..args("b")
    };
    assert!(export_with(&w, &renewal).is_err());
    export(&w, "b").unwrap();
    assert!(
        w.background.started().is_empty(),
        "the failure is remembered"
    );
    w.clock.advance(std::time::Duration::from_secs(20));
    export(&w, "b").unwrap();
    assert_eq!(w.background.started().len(), 1, "after the failure expired");
    // Credentials that never last --min-ttl + window (a 24-minute role, against 25 minutes):
    // a renewal could not do better, so none starts.
    let w = World::new();
    w.config(CHAIN);
    w.sts.set_lifetime(chrono::Duration::minutes(24));
    let first = export(&w, "b").unwrap();
    w.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(export(&w, "b").unwrap(), first, "served from the cache");
    assert!(w.background.started().is_empty());
}

#[test]
fn refresh_ahead_of_a_short_role_starts_only_renewals_that_fetch() {
    // A 26-minute role: --min-ttl 15m plus the 10-minute window is 25 minutes, but the renewal
    // lowers its own requirement for so short a role (to its lifetime less 5 minutes of
    // reuse). A renewal started before the entry falls under that would renew nothing.
    let w = World::new();
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\nduration_seconds = 1560\n"));
    w.sts.set_lifetime(chrono::Duration::minutes(26));
    export(&w, "b").unwrap();
    let renewal = ExportArgs {
        min_ttl: Duration::seconds(1500),
        no_refresh_ahead: true,
        ..args("b")
    };
    let (mut started, mut fetched) = (0, 0);
    // A hit every 15 seconds for 25 minutes; each renewal that starts runs at once.
    for _ in 0..100 {
        w.clock.advance(std::time::Duration::from_secs(15));
        let served = export(&w, "b").unwrap();
        if w.background.started().len() > started {
            started = w.background.started().len();
            assert_eq!(w.background.started()[started - 1][6], "1500");
            let renewed = export_with(&w, &renewal).unwrap();
            if renewed["AccessKeyId"] != served["AccessKeyId"] {
                fetched += 1;
            }
            w.background.finish();
        }
    }
    assert!(started >= 1, "the role was renewed ahead at least once");
    assert_eq!(started, fetched, "every renewal started fetched a new key");
}

fn exec_args(server: bool) -> creds::cli::ExecArgs {
    creds::cli::ExecArgs {
        profile: Some("b".into()),
        server,
        min_ttl: Duration::minutes(15),
        command: vec!["aws".into(), "sts".into(), "get-caller-identity".into()],
    }
}

#[test]
fn exec_puts_session_keys_in_the_environment_and_takes_the_others_out() {
    let w = World::new();
    w.config(CHAIN);
    let code = creds::commands::exec::run(&w.context(false), &exec_args(false)).unwrap();
    assert_eq!(code, 0);
    let ran = w.launcher.ran.lock().unwrap().clone();
    let (program, args, env) = &ran[0];
    assert_eq!(
        (program.as_str(), args.as_slice()),
        (
            "aws",
            &["sts".to_string(), "get-caller-identity".to_string()][..]
        )
    );
    let get = |k: &str| {
        env.set
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("ASIAFAKE00000002"));
    assert_eq!(get("AWS_SESSION_TOKEN"), Some("fake-token-2"));
    assert_eq!(
        get("AWS_CREDENTIAL_EXPIRATION"),
        Some("2030-01-01T01:00:00Z")
    );
    assert_eq!(
        (get("AWS_REGION"), get("AWS_DEFAULT_REGION")),
        (Some("us-east-1"), Some("us-east-1"))
    );
    for gone in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ] {
        assert!(env.remove.iter().any(|n| n == gone), "{gone} is removed");
    }
    assert!(!env.remove.iter().any(|n| n == "AWS_ACCESS_KEY_ID"));
    // A failure is creds' own: the command does not start.
    w.config("[profile b]\nrole_arn = x\n");
    assert!(creds::commands::exec::run(&w.context(false), &exec_args(false)).is_err());
    assert_eq!(w.launcher.ran.lock().unwrap().len(), 1);
}

#[test]
fn exec_server_answers_only_its_token_and_serves_from_the_cache() {
    let mut w = World::new();
    w.config(CHAIN);
    w.launcher.code = 7;
    *w.launcher.requests.lock().unwrap() = vec![
        ("GET".into(), "/creds".into(), Some("TOKEN".into())),
        ("GET".into(), "/creds".into(), None),
        ("GET".into(), "/creds".into(), Some("wrong".into())),
        ("POST".into(), "/creds".into(), Some("TOKEN".into())),
        ("GET".into(), "/other".into(), Some("TOKEN".into())),
        ("GET".into(), "/creds".into(), Some("TOKEN".into())),
    ];
    let code = creds::commands::exec::run(&w.context(false), &exec_args(true)).unwrap();
    assert_eq!(code, 7, "the command's exit code");
    let ran = w.launcher.ran.lock().unwrap().clone();
    let env = &ran[0].2;
    let get = |k: &str| env.set.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("AWS_CONTAINER_CREDENTIALS_FULL_URI").as_deref(),
        Some("http://127.0.0.1:40123/creds")
    );
    assert_eq!(
        get("AWS_CONTAINER_AUTHORIZATION_TOKEN").map(|t| t.len()),
        Some(64)
    );
    assert_eq!(get("AWS_ACCESS_KEY_ID"), None, "no keys in the environment");
    assert!(env.remove.iter().any(|n| n == "AWS_ACCESS_KEY_ID"));
    let answers = w.launcher.answers.lock().unwrap().clone();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [200, 401, 401, 405, 404, 200]);
    let doc: Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE00000002");
    assert_eq!(doc["Token"], "fake-token-2");
    assert_eq!(doc["Expiration"], "2030-01-01T01:00:00Z");
    assert_eq!(answers[5].1, answers[0].1, "served from the cache");
    assert_eq!(
        w.sts.calls().len(),
        2,
        "one fetch per hop, before the command starts"
    );
    assert!(
        !answers[1].1.contains("ASIA"),
        "no credentials without the token"
    );
}

#[test]
fn setup_sso_writes_one_profile_per_account_and_role_once() {
    use creds::cli::SetupSsoArgs;
    let w = World::new();
    w.config(SSO);
    write_token(&w, Duration::hours(2), true);
    w.sso.with(|s| {
        s.accounts = vec![
            (
                "111111111111".into(),
                "Dev".into(),
                vec!["Dev".into(), "ReadOnly".into(), "Admin".into()],
            ),
            (
                "222222222222".into(),
                "Prod Main".into(),
                vec!["ReadOnly".into()],
            ),
            (
                "333333333333".into(),
                "prod.main".into(),
                vec!["ReadOnly".into()],
            ),
            (
                "444444444444".into(),
                "Sandbox (Alice)".into(),
                vec!["PowerUser".into()],
            ),
            ("555555555555".into(), "dev".into(), vec![]),
        ]
    });
    let args = |print: bool| SetupSsoArgs {
        sso_session: None,
        prefix: "corp-".into(),
        region: Some("eu-west-1".into()),
        print,
    };
    let ctx = w.context(false);
    let printed = creds::commands::setup::sso(&ctx, &args(true)).unwrap();
    let config = w.home_path(&[".aws", "config"]);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        SSO,
        "--print changes nothing"
    );
    creds::commands::setup::sso(&ctx, &args(false)).unwrap();
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.starts_with(SSO), "the old bytes are kept");
    assert_eq!(written, format!("{SSO}\n{printed}"));
    let names: Vec<&str> = written
        .lines()
        .filter_map(|l| {
            l.strip_prefix("[profile ")
                .and_then(|l| l.strip_suffix(']'))
        })
        .collect();
    // Dev/Dev already has a profile (dev); "Prod Main" and "prod.main" would share a name.
    assert_eq!(
        names,
        [
            "dev",
            "cross",
            "corp-dev-admin",
            "corp-dev-readonly",
            "corp-prod-main-readonly",
            "corp-prod-main-333333333333-readonly",
            "corp-sandbox-alice-poweruser"
        ]
    );
    assert!(written.contains("[profile corp-dev-admin]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = eu-west-1\n"));
    // Every page was read (two to a page: three pages a run, two runs), with the token.
    let log = w.sso.with(|s| s.log.clone());
    assert_eq!(
        log.iter().filter(|(op, _)| *op == "ListAccounts").count(),
        6
    );
    assert!(log
        .iter()
        .any(|(op, d)| *op == "ListAccountRoles" && d == "111111111111 aoa-old"));
    // A second run adds nothing and changes no byte.
    creds::commands::setup::sso(&ctx, &args(false)).unwrap();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
    // A generated profile exports.
    let out = export(&w, "corp-sandbox-alice-poweruser").unwrap();
    assert!(out["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    // With the session over: exit 4 naming the login.
    write_token(&w, Duration::hours(-1), false);
    let err = creds::commands::setup::sso(&ctx, &args(false)).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
}

#[test]
fn refresh_ahead_renews_the_sso_token_in_the_background() {
    let w = World::new();
    w.config(SSO);
    write_token(&w, Duration::hours(2), true);
    let first = export(&w, "dev").unwrap();
    assert!(w.background.started().is_empty());
    // 1 h 35 min later: the role (8 h) is fresh, the token has 25 minutes left, inside its
    // refresh window (15 min) plus the refresh-ahead window (10 min): its renewal starts.
    w.clock
        .advance(std::time::Duration::from_secs(95 * 60 + 30));
    assert_eq!(export(&w, "dev").unwrap(), first);
    assert_eq!(
        w.background.started(),
        [["login", "--profile", "dev", "--renew-ahead", "1500"]]
    );
    let renewals = w.sso.count("CreateToken");
    // What it runs: a renewal with the refresh token, never a sign-in.
    let args = creds::cli::LoginArgs {
        profile: Some("dev".into()),
        sso_session: None,
        no_browser: false,
        device_code: false,
        timeout: Duration::seconds(165),
        force: false,
        mfa_code: None,
        status: false,
        renew_ahead: Some(Duration::seconds(1500)),
    };
    creds::commands::login::login(&w.context(true), &args).unwrap();
    assert_eq!(w.sso.count("CreateToken"), renewals + 1);
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 0);
    assert!(w.browser.opened.lock().unwrap().is_empty());
    assert_ne!(token(&w)["accessToken"], "aoa-old");
    // Renewed (its expiry is far off): the next hit starts nothing.
    w.background.finish();
    export(&w, "dev").unwrap();
    assert_eq!(w.background.started().len(), 1);
    // A token that cannot be renewed is never renewed ahead (and never signs in).
    write_token(&w, Duration::minutes(20), false);
    export(&w, "dev").unwrap();
    assert_eq!(w.background.started().len(), 1);
    let err = creds::commands::login::login(&w.context(true), &args);
    assert!(err.is_ok(), "a usable token is left as it is");
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 0);
}

#[test]
fn a_failing_renewal_leaves_callers_served_until_min_ttl() {
    let w = World::new();
    w.config(CHAIN);
    let first = export(&w, "b").unwrap();
    // Inside the window; the renewal (run here as the background would) fails: STS is down.
    w.clock.advance(std::time::Duration::from_secs(40 * 60));
    export(&w, "b").unwrap();
    assert_eq!(w.background.started().len(), 1);
    w.sts
        .fail_next(Error::new(Kind::Network, "STS is down".to_string()));
    let renewal = ExportArgs {
        min_ttl: Duration::seconds(1500),
        no_refresh_ahead: true,
        ..args("b")
    };
    assert_eq!(export_with(&w, &renewal).unwrap_err().kind, Kind::Network);
    w.background.finish();
    // Callers keep getting the still-valid key (20 minutes left, over --min-ttl).
    for _ in 0..3 {
        assert_eq!(export(&w, "b").unwrap(), first);
    }
    // Under --min-ttl the usual path takes over: with STS down, its error, once remembered.
    w.clock.advance(std::time::Duration::from_secs(6 * 60));
    w.sts
        .fail_next(Error::new(Kind::Network, "STS is down".to_string()));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::Network);
    assert!(err.message.contains("STS is down"), "{}", err.message);
    // And when STS is back (the failure no longer remembered), a new key.
    w.clock.advance(std::time::Duration::from_secs(20));
    assert_ne!(
        export(&w, "b").unwrap()["AccessKeyId"],
        first["AccessKeyId"]
    );
}

#[test]
fn the_commands_environment_never_shows_a_secret_in_debug() {
    let w = World::new();
    w.config(CHAIN);
    creds::commands::exec::run(&w.context(false), &exec_args(false)).unwrap();
    let env = w.launcher.ran.lock().unwrap()[0].2.clone();
    let shown = format!("{env:?}");
    assert!(
        shown.contains("AWS_SECRET_ACCESS_KEY") && !shown.contains("fake-secret"),
        "{shown}"
    );
    assert!(!shown.contains("fake-token"), "{shown}");
}

#[test]
fn fips_and_dual_stack_endpoints_as_the_sdks_resolve_them() {
    let mut w = World::new();
    // The profile's use_fips_endpoint, the environment's dual-stack setting.
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\nuse_fips_endpoint = true\n"));
    export(&w, "b").unwrap();
    // Every call of the chain, as the selected profile's region (the world's AWS_REGION).
    assert_eq!(
        w.sts.endpoints(),
        [
            "https://sts-fips.us-east-1.amazonaws.com",
            "https://sts-fips.us-east-1.amazonaws.com"
        ]
    );
    w.vars
        .push(("AWS_USE_DUALSTACK_ENDPOINT".into(), "true".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    let text = creds::commands::doctor::render(&d);
    assert!(
        text.contains("STS endpoint: https://sts-fips.us-east-1.api.aws (regional; FIPS from "),
        "{text}"
    );
    assert!(
        text.contains("dual-stack from AWS_USE_DUALSTACK_ENDPOINT"),
        "{text}"
    );
    // The environment wins over the profile; a value that is not true or false is exit 3.
    w.vars
        .push(("AWS_USE_FIPS_ENDPOINT".into(), "false".into()));
    let text = creds::commands::doctor::render(&creds::commands::doctor::diagnose(
        &w.context(false),
        Some("b"),
    ));
    assert!(
        text.contains("STS endpoint: https://sts.us-east-1.api.aws (regional; dual-stack from"),
        "{text}"
    );
    w.vars.pop();
    w.vars.push(("AWS_USE_FIPS_ENDPOINT".into(), "yes".into()));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains("use_fips_endpoint is `yes`"),
        "{}",
        err.message
    );
    // IAM Identity Center: the portal and OIDC endpoints follow too (and the PKCE page).
    let mut w = World::new();
    w.config(&SSO.replace(
        "[profile dev]\n",
        "[profile dev]\nuse_fips_endpoint = true\n",
    ));
    let text = creds::commands::doctor::render(&creds::commands::doctor::diagnose(
        &w.context(false),
        Some("dev"),
    ));
    assert!(
        text.contains("endpoints: portal https://portal.sso-fips.us-east-1.amazonaws.com, OIDC https://oidc-fips.us-east-1.amazonaws.com"),
        "{text}"
    );
    w.vars
        .push(("AWS_USE_DUALSTACK_ENDPOINT".into(), "true".into()));
    let endpoints = creds::aws::sso::Endpoints {
        oidc: None,
        portal: None,
        ca_bundle: None,
        variant: creds::aws::Variant {
            fips: false,
            dual_stack: true,
        },
    };
    assert_eq!(
        creds::aws::sso::oidc_base("eu-west-1", &endpoints).unwrap(),
        "https://oidc.eu-west-1.api.aws"
    );
}

#[test]
fn doctor_says_how_refresh_ahead_is_set() {
    let mut w = World::new();
    w.config(CHAIN);
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!(
        d.refresh_ahead.as_deref(),
        Some("renewals start in the background 10 min before --min-ttl is reached (from the default)")
    );
    w.vars.push(("CREDS_REFRESH_AHEAD".into(), "off".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!(
        d.refresh_ahead.as_deref(),
        Some("off (from CREDS_REFRESH_AHEAD)")
    );
    assert!(creds::commands::doctor::render(&d)
        .contains("refresh ahead: off (from CREDS_REFRESH_AHEAD)"));
}

/// Files aws-config reads whole are checked first: a FIFO (which would block the read) or an
/// oversized file is exit 3 naming it, and aws-config is never called.
#[cfg(unix)]
#[test]
fn login_and_container_token_files_must_be_small_regular_files() {
    let mkfifo = |path: &std::path::Path| {
        let c = std::ffi::CString::new(path.display().to_string()).unwrap();
        // SAFETY: a FIFO for this test.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    const SESSION: &str = "arn:aws:iam::123456789012:user/Admin";
    let mut w = World::new();
    w.config(&format!(
        "[profile console]\nlogin_session = {SESSION}\n\n[profile task]\nrole_arn = {ROLE_B}\ncredential_source = EcsContainer\n"
    ));
    let file = creds::source::login_session::token_file(
        &w.home_path(&[".aws", "login", "cache"]),
        SESSION,
    );
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    mkfifo(&file);
    let err = export(&w, "console").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message.contains("cannot be used (not a regular file)"),
        "{}",
        err.message
    );
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, vec![b' '; 65 * 1024]).unwrap();
    let err = export(&w, "console").unwrap_err();
    assert!(
        err.message.contains("larger than 65536 bytes"),
        "{}",
        err.message
    );
    assert!(w.signin.calls().is_empty());

    let token = w.home().join("pod-token");
    mkfifo(&token);
    w.vars.push((
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        "http://127.0.0.1:9/creds".into(),
    ));
    w.vars.push((
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE".into(),
        token.display().to_string(),
    ));
    let err = export(&w, "task").unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message
            .contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        "{}",
        err.message
    );
    assert!(w.metadata.calls().is_empty());
}

/// `cache list` and `cache clear` see the keyring cache's entries when `CREDS_CACHE` or a
/// profile's `creds_cache` uses it (found through the lock files every fetch leaves), and do
/// not touch the keyring otherwise.
#[test]
fn cache_list_and_clear_include_the_keyring_cache() {
    use creds::commands::cache;
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("CREDS_CACHE".into(), "keyring".into()));
    export(&w, "b").unwrap();
    let listed = cache::list(&w.context(false), false).unwrap();
    assert!(
        listed.contains("(0 entries) and the OS keyring (2 entries)"),
        "{listed}"
    );
    assert!(
        listed.contains("assume-role arn:aws:iam::222222222222:role/RoleB")
            && listed.contains("[keyring]"),
        "{listed}"
    );
    let doc: Value = serde_json::from_str(&cache::list(&w.context(false), true).unwrap()).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 2);
    assert_eq!(doc["entries"][0]["store"], "keyring");
    assert_eq!(doc["entries"][0]["file"], Value::Null);
    // -p a: a's chain (a, base) holds RoleA's entry; RoleB's stays.
    let shown = w.shown.lines().len();
    cache::clear(&w.context(false), Some("a"), false).unwrap();
    assert!(
        w.shown.lines()[shown].ends_with("and 1 from the OS keyring"),
        "{:?}",
        w.shown.lines()
    );
    let left: Vec<String> = w.keyring.secrets.lock().unwrap().keys().cloned().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    // --all: the rest.
    cache::clear(&w.context(false), None, true).unwrap();
    assert!(w
        .shown
        .lines()
        .last()
        .unwrap()
        .ends_with("and 1 from the OS keyring"));
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
    // A keyring that cannot be used: exit 3, nothing removed (the lock files still find the
    // keyring's entries later), and how to clear the files alone.
    export(&w, "b").unwrap();
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    let locks = |w: &World| {
        creds::cache::file::FileStore::new(w.home_path(&["cache"]))
            .locked_keys()
            .len()
    };
    assert_eq!(locks(&w), 2);
    let err = cache::clear(&w.context(false), None, true).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.message
            .starts_with("nothing was removed: the OS keyring holds cache entries")
            && err.message.contains("cannot be used: no bus;")
            && err.message.contains("`CREDS_CACHE=file creds cache clear`"),
        "{}",
        err.message
    );
    assert_eq!(locks(&w), 2);
    // The profile's creds_cache is enough to look; with neither, the keyring is not touched
    // (it is failing here, and nothing warns).
    w.vars.pop();
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_cache = keyring\n"));
    let shown = w.shown.lines().len();
    cache::list(&w.context(false), false).unwrap();
    assert_eq!(w.shown.lines().len(), shown + 1, "{:?}", w.shown.lines());
    assert!(w.shown.lines()[shown].contains("the keyring cache's entries are not listed"));
    w.config(CHAIN);
    cache::list(&w.context(false), false).unwrap();
    cache::clear(&w.context(false), None, true).unwrap();
    assert_eq!(
        w.shown.lines().len(),
        shown + 2,
        "only clear's line: {:?}",
        w.shown.lines()
    );
    assert!(!w.shown.lines().last().unwrap().contains("keyring"));
}
