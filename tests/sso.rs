//! IAM Identity Center: export through SSO profiles, silent renewal, login and logout, against
//! the fake IAM Identity Center (and the fake STS for chains) on 127.0.0.1.

use crate::support::{json, to_run, SsoServer, StsServer, TestEnv};
use chrono::{Duration, Utc};
use std::process::Stdio;

const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-test.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev
region = us-east-1

[profile cross-a]
role_arn = arn:aws:iam::222222222222:role/RoleA
source_profile = dev

[profile cross-b]
role_arn = arn:aws:iam::333333333333:role/RoleB
source_profile = cross-a

[profile legacy]
sso_start_url = https://d-legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = Dev
";

use crate::fixtures::CORP_TOKEN;

fn t(offset: Duration) -> String {
    (Utc::now() + offset)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Writes the corp token as `aws sso login` would, with a token the fake accepts.
fn write_token(
    env: &TestEnv,
    sso: &SsoServer,
    expires_in: Duration,
    refreshable: bool,
) -> (String, String) {
    let (access, refresh) = sso.issue();
    let mut doc = format!(
        r#"{{"startUrl": "https://d-test.awsapps.com/start", "region": "us-east-1", "accessToken": "{access}", "expiresAt": "{}""#,
        t(expires_in)
    );
    if refreshable {
        doc.push_str(&format!(r#", "clientId": "client-0", "clientSecret": "csecret-0", "registrationExpiresAt": "{}", "refreshToken": "{refresh}""#, t(Duration::days(60))));
    }
    doc.push('}');
    std::fs::create_dir_all(env.sso_cache("")).unwrap();
    std::fs::write(env.sso_cache(CORP_TOKEN), doc).unwrap();
    (access, refresh)
}

fn token_file(env: &TestEnv) -> serde_json::Value {
    json(&std::fs::read_to_string(env.sso_cache(CORP_TOKEN)).unwrap())
}

fn setup() -> (SsoServer, TestEnv) {
    let sso = SsoServer::start();
    let env = TestEnv::with_sso(&sso, None);
    env.config(CONFIG);
    (sso, env)
}

#[test]
fn token_file_name_is_sha1_of_the_session() {
    use sha1::{Digest, Sha1};
    let hex: String = Sha1::digest(b"corp")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(format!("{hex}.json"), CORP_TOKEN);
}

#[test]
fn export_uses_the_cached_token_and_caches_role_credentials() {
    let (sso, env) = setup();
    let (access, _) = write_token(&env, &sso, Duration::hours(1), true);
    let before = std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap();
    let out = json(env.run(&["export", "-p", "dev"]).ok());
    assert!(out["AccessKeyId"].as_str().unwrap().starts_with("ASIASSO"));
    assert!(out["SessionToken"]
        .as_str()
        .unwrap()
        .starts_with("sso-session-token-"));
    assert_eq!(sso.count("GetRoleCredentials"), 1);
    assert_eq!(sso.with(|s| s.log.last().cloned()).unwrap().1, access);
    assert_eq!(json(env.run(&["export", "-p", "dev"]).ok()), out, "cached");
    assert_eq!(sso.count("GetRoleCredentials"), 1);
    assert_eq!(sso.count("CreateToken"), 0);
    assert_eq!(
        std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap(),
        before,
        "a valid token is left alone"
    );
}

#[test]
fn token_in_the_refresh_window_is_renewed_and_written_back() {
    let (sso, env) = setup();
    let (_, refresh) = write_token(&env, &sso, Duration::minutes(10), true);
    env.run(&["export", "-p", "dev"]).ok();
    assert_eq!(sso.count("CreateToken"), 1);
    let tok = token_file(&env);
    let raw = std::fs::read_to_string(env.sso_cache(CORP_TOKEN)).unwrap();
    let positions: Vec<usize> = [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ]
    .iter()
    .map(|k| {
        raw.find(&format!("\"{k}\": "))
            .unwrap_or_else(|| panic!("{k} missing: {raw}"))
    })
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the AWS CLI's key order: {raw}"
    );
    assert_eq!(
        tok["refreshToken"],
        refresh.as_str(),
        "no new refresh token: the old one is kept"
    );
    let new_access = tok["accessToken"].as_str().unwrap().to_string();
    assert_eq!(
        sso.with(|s| s.log.last().cloned()).unwrap(),
        ("GetRoleCredentials".to_string(), new_access)
    );
    let raw = std::fs::read_to_string(env.sso_cache(CORP_TOKEN)).unwrap();
    assert!(raw.starts_with("{\"startUrl\": \"https://d-test.awsapps.com/start\", \"region\": \"us-east-1\", \"accessToken\": "), "{raw}");
    assert!(!raw.ends_with('\n'));
    assert!(tok["expiresAt"].as_str().unwrap().ends_with('Z'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(env.sso_cache(CORP_TOKEN))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
}

#[test]
fn rotated_refresh_token_is_saved() {
    let (sso, env) = setup();
    let (_, refresh) = write_token(&env, &sso, -Duration::minutes(5), true);
    sso.with(|s| s.rotate = true);
    env.run(&["export", "-p", "dev"]).ok();
    let tok = token_file(&env);
    assert_ne!(tok["refreshToken"], refresh.as_str());
    // The rotated token works for the next renewal; the old one no longer would.
    std::fs::write(
        env.sso_cache(CORP_TOKEN),
        std::fs::read_to_string(env.sso_cache(CORP_TOKEN))
            .unwrap()
            .replace(tok["expiresAt"].as_str().unwrap(), &t(Duration::minutes(1))),
    )
    .unwrap();
    env.run(&["export", "-p", "dev", "--refresh"]).ok();
    assert_eq!(sso.count("CreateToken"), 2);
}

#[test]
fn login_needed_exits_4_with_the_command() {
    let (sso, env) = setup();
    env.run(&["export", "-p", "dev"])
        .fails(4, "run `creds login --profile dev`");
    env.run(&["export", "-p", "cross-b"])
        .fails(4, "run `creds login --profile cross-b`");
    // Expired and not renewable.
    write_token(&env, &sso, -Duration::minutes(1), false);
    env.run(&["export", "-p", "dev"])
        .fails(4, "cannot be renewed");
    // Expired, and the refresh token is refused.
    write_token(&env, &sso, -Duration::minutes(1), true);
    sso.with(|s| s.expire_all = true);
    env.run(&["export", "-p", "dev"])
        .fails(4, "refresh token was refused");
    // A token the portal no longer accepts.
    sso.with(|s| s.expire_all = false);
    write_token(&env, &sso, Duration::hours(2), false);
    sso.with(|s| s.expire_all = true);
    env.run(&["export", "-p", "dev"])
        .fails(4, "creds login --profile dev");
    // A broken token file.
    std::fs::write(env.sso_cache(CORP_TOKEN), "{\"accessToken\": ").unwrap();
    env.run(&["export", "-p", "dev"]).fails(4, "is not JSON");
    assert_eq!(
        sso.count("StartDeviceAuthorization"),
        0,
        "export never starts a login"
    );
}

#[test]
fn sso_config_errors_exit_3() {
    let (_, env) = setup();
    env.config("[profile p]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n[profile q]\nsso_session = s\n[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n[profile r]\nsso_session = s\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n");
    env.run(&["export", "-p", "p"])
        .fails(3, "sso-session named `nope`");
    env.run(&["export", "-p", "q"]).fails(3, "names no role");
    env.run(&["export", "-p", "r"]).fails(3, "sso_region");
}

#[test]
fn chain_on_sso_refreshes_only_the_stale_hop() {
    let sso = SsoServer::start();
    let sts = StsServer::start();
    let env = TestEnv::with_sso(&sso, Some(&sts));
    env.config(CONFIG);
    write_token(&env, &sso, Duration::hours(1), true);
    let out = json(
        env.run(&["export", "-p", "cross-b", "--format", "claude"])
            .ok(),
    );
    let c = &out["Credentials"];
    assert_eq!(c["AccessKeyId"], "ASIAFAKE00000002", "role B's credentials");
    let calls = sts.calls();
    assert!(
        calls[0].signed_with.starts_with("ASIASSO"),
        "role A assumed with the SSO role credentials"
    );
    assert_eq!(calls[1].signed_with, "ASIAFAKE00000001");
    assert_eq!(sso.count("GetRoleCredentials"), 1);
    // Make role B stale: only B is assumed again.
    env.age_entry("RoleB", Duration::minutes(5), None);
    env.run(&["export", "-p", "cross-b", "--format", "claude"])
        .ok();
    assert_eq!(
        (
            sts.assumed("arn:aws:iam::222222222222:role/RoleA"),
            sts.assumed("arn:aws:iam::333333333333:role/RoleB")
        ),
        (1, 2)
    );
    assert_eq!(sso.count("GetRoleCredentials"), 1);
}

fn spawn_many(env: &TestEnv, args: &[&str], n: usize) -> Vec<crate::support::Run> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            env.command(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| to_run(c.wait_with_output().unwrap()))
        .collect()
}

#[test]
fn fifty_exports_make_one_role_call_and_one_renewal() {
    let (sso, env) = setup();
    sso.with(|s| s.delay = std::time::Duration::from_millis(100));
    write_token(&env, &sso, Duration::minutes(5), true);
    let runs = spawn_many(&env, &["export", "-p", "dev"], 50);
    for r in &runs {
        r.ok();
    }
    assert!(runs.iter().all(|r| r.stdout == runs[0].stdout));
    assert_eq!(sso.count("CreateToken"), 1, "one renewal");
    assert_eq!(sso.count("GetRoleCredentials"), 1, "one role call");
}

#[test]
fn login_is_a_no_op_when_the_token_is_valid_or_renewable() {
    let (sso, env) = setup();
    write_token(&env, &sso, Duration::hours(2), true);
    let r = env.run(&["login", "-p", "dev"]);
    r.ok();
    assert!(r.stderr.contains("is signed in until"), "{}", r.stderr);
    write_token(&env, &sso, Duration::minutes(3), true);
    let r = env.run(&["login", "--sso-session", "corp"]);
    r.ok();
    assert!(r.stderr.contains("(renewed)"), "{}", r.stderr);
    assert_eq!(sso.count("StartDeviceAuthorization"), 0);
    assert_eq!(sso.count("RegisterClient"), 0);
}

#[test]
fn device_login_prints_url_and_code_before_polling() {
    let (sso, env) = setup();
    let stderr_path = env.dir.path().join("login.stderr");
    sso.with(|s| {
        s.pending = 2;
        s.watch = Some(stderr_path.clone());
    });
    let status = env
        .command(&["login", "-p", "dev", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .output()
        .unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.status.success(), "{stderr}");
    assert!(status.stdout.is_empty(), "stdout stays empty");
    let seen = sso.with(|s| s.seen_at_first_poll.clone()).unwrap();
    // Captured (not a terminal): the one line, first, before the first poll: the page with the
    // code filled in, then the code again.
    let first = seen.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Sign in to sso-session `corp`: http://127.0.0.1:")
            && first.contains("/device?user_code=CODE-")
            && first.contains(" (code CODE-")
            && first.contains("— waiting up to "),
        "the sign-in line before the first poll: {seen}"
    );
    assert_eq!(
        sso.count("CreateToken"),
        3,
        "two pending answers, then the token"
    );
    assert_eq!(
        (
            sso.count("RegisterClient"),
            sso.count("StartDeviceAuthorization")
        ),
        (1, 1)
    );
    assert!(
        stderr.contains("signed in to sso-session `corp`"),
        "{stderr}"
    );

    // The token and the registration are cached as the AWS CLI caches them.
    let tok = token_file(&env);
    assert!(tok["refreshToken"].as_str().is_some());
    assert_eq!(tok["startUrl"], "https://d-test.awsapps.com/start");
    let reg_file = env.sso_cache("6541dd59d8938afeb0c2a7d01b252a833ee558e7.json");
    let reg = json(&std::fs::read_to_string(&reg_file).unwrap_or_else(|_| {
        panic!(
            "registration cache {reg_file:?}: {:?}",
            std::fs::read_dir(env.sso_cache(""))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect::<Vec<_>>()
        )
    }));
    assert_eq!(
        reg["grantTypes"],
        serde_json::json!([
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token"
        ])
    );
    assert_eq!(sso.with(|s| s.log[0].1.clone()), "creds-client-corp");

    // Export now works without a login, and a second login reuses the registration.
    env.run(&["export", "-p", "dev"]).ok();
    env.run(&["login", "-p", "dev", "--no-browser", "--force"])
        .ok();
    assert_eq!(sso.count("RegisterClient"), 1);
    assert_eq!(sso.count("StartDeviceAuthorization"), 2);
}

/// Issue 17, item 6: with no `~/.aws` at all (the config elsewhere through `AWS_CONFIG_FILE`,
/// or a fresh machine), `creds login` creates `~/.aws/sso/cache` with its parents, 0700, as
/// the AWS CLI does, and signs in.
#[test]
fn login_creates_the_token_cache_when_there_is_no_aws_folder() {
    let sso = SsoServer::start();
    let mut env = TestEnv::with_sso(&sso, None);
    let config = env.write("config-elsewhere", CONFIG);
    env.set("AWS_CONFIG_FILE", &config.to_string_lossy());
    std::fs::remove_dir_all(env.home().join(".aws")).unwrap();
    let out = env
        .command(&["login", "-p", "dev", "--no-browser"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("CREDS_CACHE_DIR"), "{stderr}");
    assert!(token_file(&env)["refreshToken"].as_str().is_some());
    #[cfg(unix)]
    for dir in [".aws", ".aws/sso", ".aws/sso/cache"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.home().join(dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{dir}");
    }
    env.run(&["export", "-p", "dev"]).ok();
}

#[test]
fn login_handles_slow_down_deny_and_the_deadline() {
    let (sso, env) = setup();
    sso.with(|s| s.slow_down = 1);
    env.run(&["login", "-p", "dev", "--no-browser"]).ok();
    assert_eq!(
        sso.count("CreateToken"),
        2,
        "slow_down, then the token (after a longer wait)"
    );

    std::fs::remove_file(env.sso_cache(CORP_TOKEN)).unwrap();
    sso.with(|s| s.deny = true);
    env.run(&["login", "-p", "dev", "--no-browser"])
        .fails_last_line(4, "denied");

    sso.with(|s| {
        s.deny = false;
        s.pending = 1000;
    });
    let r = env.run(&["login", "-p", "dev", "--no-browser", "--timeout", "3s"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("not completed within 3s"), "{}", r.stderr);
    assert!(
        r.stderr.contains("creds login --profile dev"),
        "{}",
        r.stderr
    );
}

#[test]
fn concurrent_logins_share_one_device_code() {
    let (sso, env) = setup();
    sso.with(|s| s.pending = 3);
    let runs = spawn_many(&env, &["login", "-p", "dev", "--no-browser"], 10);
    for r in &runs {
        r.ok();
    }
    assert_eq!(sso.count("StartDeviceAuthorization"), 1);
    assert_eq!(sso.count("RegisterClient"), 1);
}

#[test]
fn pkce_login_through_a_browser() {
    let (sso, mut env) = setup();
    // The "browser" follows the authorize URL; the fake redirects it to creds' listener.
    // Before it, another local process holds a silent connection to creds' listener and sends
    // answers with a forged state, or an error without one: the sign-in goes on.
    let browser = env.write(
        "browser.py",
        r#"import socket, sys, urllib.error, urllib.parse, urllib.request
url = sys.argv[1]
redirect = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["redirect_uri"][0]
silent = socket.create_connection(("127.0.0.1", urllib.parse.urlparse(redirect).port))
for forged in ["error=access_denied", "code=stolen&state=forged"]:
    try:
        urllib.request.urlopen(redirect + "?" + forged, timeout=30).read()
    except urllib.error.HTTPError as e:
        assert e.code == 400, e.code
urllib.request.urlopen(url, timeout=30).read()
"#,
    );
    env.set("BROWSER", &format!("python3 {}", browser.display()));
    let r = env.run(&["login", "-p", "dev"]);
    r.ok();
    assert!(
        r.stderr
            .contains("/authorize?response_type=code&client_id="),
        "{}",
        r.stderr
    );
    assert_eq!(sso.count("StartDeviceAuthorization"), 0);
    assert_eq!(
        sso.with(|s| s
            .log
            .iter()
            .filter(|(op, _)| op == "CreateToken")
            .map(|(_, g)| g.clone())
            .collect::<Vec<_>>()),
        ["authorization_code"]
    );
    assert!(token_file(&env)["refreshToken"].as_str().is_some());
    env.run(&["export", "-p", "dev"]).ok();
    // --device-code forces the device flow even with a browser.
    env.run(&["login", "-p", "dev", "--device-code", "--force"])
        .ok();
    assert_eq!(sso.count("StartDeviceAuthorization"), 1);
}

#[test]
fn legacy_profiles_use_the_start_url_and_the_device_flow() {
    let (sso, mut env) = setup();
    env.set("BROWSER", "true");
    env.run(&["login", "-p", "legacy"]).ok();
    assert_eq!(sso.count("StartDeviceAuthorization"), 1);
    // sha1("https://d-legacy.awsapps.com/start")
    use sha1::{Digest, Sha1};
    let hex: String = Sha1::digest(b"https://d-legacy.awsapps.com/start")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(env.sso_cache(&format!("{hex}.json")).exists());
    env.run(&["export", "-p", "legacy"]).ok();
}

#[test]
fn logout_revokes_and_removes_the_token() {
    let (sso, env) = setup();
    write_token(&env, &sso, Duration::hours(1), true);
    env.run(&["export", "-p", "dev"]).ok();
    let r = env.run(&["logout", "-p", "dev"]);
    r.ok();
    assert_eq!(sso.count("Logout"), 1);
    assert!(!env.sso_cache(CORP_TOKEN).exists());
    env.run(&["logout", "-p", "dev"]).ok();
    assert_eq!(sso.count("Logout"), 1, "no token, no call");
    assert!(!env.cache_entries().is_empty());
    write_token(&env, &sso, Duration::hours(1), true);
    env.run(&["logout", "--all"]).ok();
    assert!(
        env.cache_entries().is_empty(),
        "--all clears the creds cache"
    );
    assert!(!env.sso_cache(CORP_TOKEN).exists());
    env.run(&["login", "-p", "cross-a", "--no-browser", "--timeout", "1s"])
        .fails_last_line(4, "creds login --profile cross-a");
    env.config("[profile k]\naws_access_key_id = A\naws_secret_access_key = S\n");
    env.run(&["login", "-p", "k"])
        .fails(3, "does not use IAM Identity Center");
}

#[test]
fn portal_failures_are_retried_then_exit_6_and_remembered() {
    let (sso, env) = setup();
    write_token(&env, &sso, Duration::hours(1), true);
    sso.with(|s| s.fail_next = 1);
    env.run(&["export", "-p", "dev"]).ok();
    assert_eq!(sso.count("GetRoleCredentials"), 2, "one retry after a 500");
    sso.with(|s| s.fail_next = 3);
    env.run(&["export", "-p", "dev", "--refresh"])
        .fails(6, "InternalServerException");
    assert_eq!(sso.count("GetRoleCredentials"), 5, "three attempts in all");
    // The next caller fails fast with the remembered error, without calling the portal.
    env.age_entry("sso-role", Duration::minutes(1), None);
    env.run(&["export", "-p", "dev"]).fails(6, "remembered");
    assert_eq!(sso.count("GetRoleCredentials"), 5);
}

/// Every SSO scenario with `-v`, `doctor` and `cache list`: no access token, refresh token,
/// client secret or role secret ever reaches stderr or those reports.
#[test]
fn sso_secrets_never_reach_stderr_or_reports() {
    let (sso, env) = setup();
    let mut seen = String::new();
    let mut record = |args: &[&str]| {
        let r = env.run(args);
        seen.push_str(&r.stderr);
        if matches!(args[0], "doctor" | "cache") {
            seen.push_str(&r.stdout);
        }
    };
    record(&["-v", "export", "-p", "dev"]);
    record(&["login", "-p", "dev", "--no-browser"]);
    record(&["-v", "export", "-p", "dev"]);
    record(&["-v", "export", "-p", "cross-b", "--refresh"]);
    record(&["doctor", "-p", "dev"]);
    record(&["doctor", "-p", "dev", "--json"]);
    record(&["cache", "list"]);
    record(&["cache", "list", "--json"]);
    // Renewal, its failure, and a token the portal refuses.
    write_token(&env, &sso, Duration::minutes(5), true);
    record(&["-v", "export", "-p", "dev", "--refresh"]);
    sso.with(|s| s.expire_all = true);
    write_token(&env, &sso, Duration::minutes(5), true);
    sso.with(|s| s.expire_all = true);
    record(&["-v", "export", "-p", "dev", "--refresh"]);
    record(&["doctor", "-p", "dev"]);
    record(&["login", "-p", "dev", "--no-browser", "--timeout", "2s"]);
    record(&["logout", "-p", "dev"]);
    assert!(
        seen.contains("creds: "),
        "the scenarios said something: {seen}"
    );
    assert!(seen.contains("sso-session `corp`"), "{seen}");
    for secret in [
        "access-",
        "refresh-",
        "csecret-",
        "sso-secret-",
        "sso-session-token-",
    ] {
        assert!(!seen.contains(secret), "{secret} leaked: {seen}");
    }
}

/// Replies creds cannot read: exit 1, not written, not printed, not cached.
#[test]
fn malformed_sso_replies_are_never_used() {
    let (sso, env) = setup();
    // A renewal that answers with an already expired token (expiresIn 0) while the old token
    // is still usable: the old one is used, the bad one never written.
    write_token(&env, &sso, Duration::minutes(5), true);
    let before = std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap();
    sso.with(|s| {
        s.raw.push((
            "CreateToken".into(),
            200,
            r#"{"accessToken":"access-bad","expiresIn":0,"tokenType":"Bearer"}"#.into(),
        ))
    });
    let r = env.run(&["export", "-p", "dev"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("expiresIn 0"), "{}", r.stderr);
    assert_eq!(std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap(), before);
    // Role credentials without an expiration, or with an empty secret.
    env.run(&["cache", "clear", "--all"]).ok();
    write_token(&env, &sso, Duration::hours(2), false);
    for body in [
        r#"{"roleCredentials":{"accessKeyId":"ASIA1","secretAccessKey":"s","sessionToken":"t"}}"#,
        r#"{"roleCredentials":{"accessKeyId":"ASIA1","secretAccessKey":"","sessionToken":"t","expiration":4102444800000}}"#,
        r#"{"nothing":true}"#,
        "<html>not json</html>",
    ] {
        sso.with(|s| s.raw.push(("GetRoleCredentials".into(), 200, body.into())));
        let r = env.run(&["export", "-p", "dev", "--refresh"]);
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{body}: {}", r.stderr);
        assert!(
            r.stderr.contains("AWS sent a reply creds cannot read"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("GetRoleCredentials"), "{}", r.stderr);
    }
    assert!(env.cache_entries().is_empty());
}

/// `kill -9` of a login at random points: the next login proceeds (the lock died with it),
/// and no temporary file is left once it has written its token.
#[cfg(unix)]
#[test]
fn a_killed_login_does_not_block_the_next() {
    let (sso, env) = setup();
    let mut seed = 11u64;
    for round in 0..8 {
        sso.with(|s| s.pending = 1000);
        let mut child = env
            .command(&["login", "-p", "dev", "--no-browser", "--force"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(std::time::Duration::from_millis((seed >> 33) % 400));
        let _ = child.kill();
        let _ = child.wait();
        sso.with(|s| s.pending = 0);
        let r = env.run(&[
            "login",
            "-p",
            "dev",
            "--no-browser",
            "--force",
            "--timeout",
            "20s",
        ]);
        assert_eq!(r.code, 0, "round {round}: {}", r.stderr);
        let temps: Vec<_> = std::fs::read_dir(env.sso_cache(""))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "round {round}: {temps:?}");
    }
    env.run(&["export", "-p", "dev"]).ok();
}

/// A renewed token that cannot be written (no space) still serves the export, with or
/// without the creds cache.
#[cfg(unix)]
#[test]
fn a_renewal_that_cannot_be_saved_still_serves() {
    let (sso, env) = setup();
    for cache in ["file", "none"] {
        write_token(&env, &sso, Duration::minutes(5), true);
        let before = std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap();
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg("trap '' XFSZ; ulimit -f 0; exec \"$CREDS\" export -p dev --refresh")
            .env_clear()
            .envs(env.vars.iter().cloned())
            .env("CREDS", crate::support::bin())
            .env("CREDS_CACHE", cache);
        let r = to_run(cmd.output().unwrap());
        assert_eq!(r.code, 0, "{cache}: {}", r.stderr);
        assert!(json(&r.stdout)["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIASSO"));
        assert!(r.stderr.contains("could not be saved"), "{}", r.stderr);
        assert_eq!(std::fs::read(env.sso_cache(CORP_TOKEN)).unwrap(), before);
    }
}

/// While a login waits, its URL and code can be found from anywhere: `login --status`,
/// `doctor`, and a second login that waits on the first.
#[test]
fn a_pending_sign_in_can_be_found() {
    let (sso, env) = setup();
    sso.with(|s| s.pending = 1000);
    let first = env
        .command(&["login", "-p", "dev", "--no-browser", "--timeout", "60s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = String::new();
    for _ in 0..600 {
        status = env
            .run(&["login", "-p", "dev", "--status"])
            .ok()
            .to_string();
        if status.contains("(code CODE-") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        status.starts_with("Sign in to sso-session `corp`: http://127.0.0.1:")
            && status.contains("user_code=CODE-")
            && status.contains("— waiting up to "),
        "{status}"
    );
    let code = status
        .split("(code ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_string();
    let doctor = env.run(&["doctor", "-p", "dev"]);
    assert!(
        doctor
            .stdout
            .contains("sign-in in progress: Sign in to sso-session `corp`"),
        "{}",
        doctor.stdout
    );
    assert!(doctor.stdout.contains(&code), "{}", doctor.stdout);
    // A second login shows the same sign-in while it waits.
    let second = env.run(&["login", "-p", "dev", "--no-browser", "--timeout", "2s"]);
    assert_eq!(second.code, 4, "{}", second.stderr);
    assert!(
        second
            .stderr
            .lines()
            .next()
            .unwrap()
            .contains(&format!("(code {code})")),
        "{}",
        second.stderr
    );
    assert_eq!(sso.count("StartDeviceAuthorization"), 1);
    // Approved: the first login ends, and nothing is pending any more.
    sso.with(|s| s.pending = 0);
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        env.run(&["login", "-p", "dev", "--status"]).ok(),
        "no sign-in to sso-session `corp` is in progress\n"
    );
    let left: Vec<_> = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("login-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// From an agent's own shell (Claude Code's Bash tool sets `CLAUDECODE=1`, opencode's
/// `OPENCODE=1`; Codex, Gemini CLI and Cursor set theirs), `creds login` starts no sign-in: exit 4, one line, nothing on
/// stdout, no device authorization, no browser. A valid or renewable session is still used;
/// Claude Code's own hooks (its entry point, no `CLAUDECODE`) and `CREDS_ALLOW_AGENT_LOGIN=1`
/// sign in as before.
#[test]
fn login_from_an_agents_shell_starts_no_sign_in() {
    let (sso, env) = setup();
    for (var, value, who) in [
        (
            "CLAUDECODE",
            "1",
            "Claude Code's Bash tool (CLAUDECODE is set)",
        ),
        ("CODEX_SANDBOX", "seatbelt", "Codex (CODEX_SANDBOX is set)"),
        ("GEMINI_CLI", "1", "Gemini CLI (GEMINI_CLI is set)"),
        ("CURSOR_AGENT", "1", "Cursor's agent (CURSOR_AGENT is set)"),
        ("OPENCODE", "1", "opencode's shell tool (OPENCODE is set)"),
    ] {
        let r = env
            .command(&["login", "-p", "dev"])
            .env(var, value)
            .env("BROWSER", "/bin/false")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(4), "{stderr}");
        assert!(r.stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("creds: sso-session `corp`: a sign-in is needed, and creds starts none from {who}; sign in from a terminal: `creds login --profile dev` (or set CREDS_ALLOW_AGENT_LOGIN=1 to allow it here)")
        );
    }
    assert_eq!(sso.count("StartDeviceAuthorization"), 0);
    assert_eq!(sso.count("RegisterClient"), 0);
    // A session that is valid, or renewable without a person, serves the agent as ever.
    write_token(&env, &sso, Duration::minutes(3), true);
    let r = env
        .command(&["login", "-p", "dev"])
        .env("CLAUDECODE", "1")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("(renewed)"));
    // The device flow runs as from a terminal: for Claude Code's own hook (awsAuthRefresh:
    // its entry point, no CLAUDECODE), and for an agent's shell that CREDS_ALLOW_AGENT_LOGIN
    // allows.
    for (n, (var, value, allow)) in [
        ("CLAUDE_CODE_ENTRYPOINT", "sdk-cli", "0"),
        ("CLAUDECODE", "1", "1"),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::remove_file(env.sso_cache(CORP_TOKEN)).unwrap();
        let r = env
            .command(&["login", "-p", "dev", "--no-browser"])
            .env(var, value)
            .env("CREDS_ALLOW_AGENT_LOGIN", allow)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(sso.count("StartDeviceAuthorization"), n + 1);
    }
}

/// Claude Desktop's credential helper: `setup desktop` writes the wrapper Desktop runs with no
/// arguments; it prints `{"token": ...}` in every context while the session serves (renewing
/// it silently if need be), and when the session needs a person it exits 4 at once with
/// nothing on stdout, unless a person is there (`interactive`) and a browser can be opened.
#[test]
fn claude_desktops_helper_answers_each_context() {
    let (sso, env) = setup();
    let r = env.run(&["setup", "desktop", "-p", "dev"]);
    r.ok();
    let wrapper = env.home().join(".config/creds/claude-desktop-dev");
    assert!(
        r.stdout.contains(&format!(
            "inferenceCredentialHelper = {}",
            wrapper.display()
        )) && r.stdout.contains("inferenceProvider = bedrock")
            && r.stdout.contains("inferenceBedrockRegion = us-east-1"),
        "{}",
        r.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&wrapper).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let helper = |context: &str| {
        let start = std::time::Instant::now();
        let out = std::process::Command::new(&wrapper)
            .env_clear()
            .envs(env.vars.iter().cloned())
            .env("CLAUDE_HELPER_CONTEXT", context)
            .output()
            .unwrap();
        (out, start.elapsed())
    };
    const CONTEXTS: [&str; 6] = [
        "interactive",
        "setup-test",
        "mid-session-refresh",
        "scheduled-task",
        "background",
        "",
    ];
    write_token(&env, &sso, Duration::hours(2), true);
    for context in CONTEXTS {
        let (out, _) = helper(context);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{context}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc = json(&stdout);
        assert!(
            doc["token"]
                .as_str()
                .unwrap()
                .starts_with("bedrock-api-key-"),
            "{stdout}"
        );
        assert_eq!(doc.as_object().unwrap().len(), 1);
    }
    assert_eq!(
        sso.count("GetRoleCredentials"),
        1,
        "the role credentials are cached"
    );
    // Renewable, with the role credentials to fetch again: renewed silently, even mid-session.
    write_token(&env, &sso, Duration::minutes(3), true);
    env.run(&["cache", "clear", "--all"]).ok();
    let (out, _) = helper("mid-session-refresh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sso.count("CreateToken"), 1);
    // Over and not renewable, the cache cleared: no one is asked, nothing is printed.
    write_token(&env, &sso, Duration::minutes(-5), false);
    env.run(&["cache", "clear", "--all"]).ok();
    for context in CONTEXTS {
        let (out, took) = helper(context);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{context}: {stderr}");
        assert!(out.stdout.is_empty(), "{context}");
        assert_eq!(stderr.lines().count(), 1, "{context}: {stderr}");
        assert!(
            took < std::time::Duration::from_secs(10),
            "{context}: {took:?}"
        );
        if context == "interactive" || context == "setup-test" {
            assert!(stderr.contains("no browser can be opened here"), "{stderr}");
        } else {
            assert!(stderr.contains("creds login --profile dev"), "{stderr}");
        }
    }
    assert_eq!(sso.count("StartDeviceAuthorization"), 0);
}
