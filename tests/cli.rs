//! Binary tests: the built `creds` in a temporary HOME against a fake STS on 127.0.0.1.
//! They run on the real clock (the binary has no other); what needs time to pass is tested in
//! process with a manual clock (`tests/core/`), or by editing a cache entry's expiry.

#![allow(clippy::disallowed_methods)] // tests stand for the outside world

mod fixtures;
mod hostile;
mod setup;
mod sso;
mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use support::{json, to_run, StsServer, TestEnv};

use fixtures::{CHAIN_WITH_ROLE_OPTIONS as CHAIN, ROLE_A, ROLE_B};

fn chain_env(sts: &StsServer) -> TestEnv {
    let env = TestEnv::with_sts(sts);
    env.config(CHAIN);
    env
}

#[test]
fn static_keys_in_every_format() {
    let env = TestEnv::new();
    env.credentials(
        "[default]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s3cr3t/KEY\n",
    );
    env.config("[default]\nregion = eu-central-1\n");
    assert_eq!(env.run(&["export"]).ok(), "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"AKIDSTATIC\",\n  \"SecretAccessKey\": \"s3cr3t/KEY\"\n}\n");
    let mut env2 = env;
    env2.unset("AWS_REGION");
    assert_eq!(
        env2.run(&["export", "--format", "env"]).ok(),
        "export AWS_ACCESS_KEY_ID=AKIDSTATIC\nexport AWS_SECRET_ACCESS_KEY=s3cr3t/KEY\nexport AWS_REGION=eu-central-1\nexport AWS_DEFAULT_REGION=eu-central-1\n"
    );
    assert_eq!(env2.run(&["export", "-f", "env-no-export"]).ok(), "AWS_ACCESS_KEY_ID=AKIDSTATIC\nAWS_SECRET_ACCESS_KEY=s3cr3t/KEY\nAWS_REGION=eu-central-1\nAWS_DEFAULT_REGION=eu-central-1\n");
    assert!(env2
        .run(&["export", "-f", "fish"])
        .ok()
        .starts_with("set -gx AWS_ACCESS_KEY_ID \"AKIDSTATIC\"\n"));
    assert!(env2
        .run(&["export", "-f", "powershell"])
        .ok()
        .starts_with("$Env:AWS_ACCESS_KEY_ID=\"AKIDSTATIC\"\n"));
    assert!(env2
        .run(&["export", "-f", "windows-cmd"])
        .ok()
        .starts_with("set AWS_ACCESS_KEY_ID=AKIDSTATIC\n"));
    // Nothing was cached for long-term keys.
    assert!(env2.cache_entries().is_empty());
}

#[test]
fn profile_selection_order() {
    let mut env = TestEnv::new();
    env.credentials("[default]\naws_access_key_id = D\naws_secret_access_key = s\n[p]\naws_access_key_id = P\naws_secret_access_key = s\n[q]\naws_access_key_id = Q\naws_secret_access_key = s\n");
    let id = |env: &TestEnv, args: &[&str]| {
        json(env.run(args).ok())["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(id(&env, &["export"]), "D");
    env.set("AWS_DEFAULT_PROFILE", "q");
    assert_eq!(id(&env, &["export"]), "Q");
    env.set("AWS_PROFILE", "p");
    assert_eq!(id(&env, &["export"]), "P");
    assert_eq!(id(&env, &["export", "--profile", "q"]), "Q");
    assert_eq!(id(&env, &["export", "-p", "default"]), "D");
}

#[test]
fn claude_format_exchanges_long_term_keys_once() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.credentials(
        "[default]\naws_access_key_id = AKIDLONG\naws_secret_access_key = longtermsecret\n",
    );
    let out = json(env.run(&["export", "--format", "claude"]).ok());
    let c = &out["Credentials"];
    assert_eq!(c["AccessKeyId"], "ASIAFAKE00000001");
    assert_eq!(c["SessionToken"], "fake-token-1");
    assert!(c["Expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(out.as_object().unwrap().len(), 1);
    assert_eq!(sts.count("GetSessionToken"), 1);
    assert_eq!(sts.calls()[0].signed_with, "AKIDLONG");
    // Cached: the second run makes no call.
    env.run(&["export", "--format", "claude"]).ok();
    assert_eq!(sts.count("GetSessionToken"), 1);
    // The process format still prints the long-term keys themselves.
    assert_eq!(json(env.run(&["export"]).ok())["AccessKeyId"], "AKIDLONG");
}

#[test]
fn two_hop_chain_is_assumed_in_order_and_cached() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    let out = json(env.run(&["export", "--profile", "b"]).ok());
    assert_eq!(out["Version"], 1);
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000002");
    assert_eq!(out["SecretAccessKey"], "fake-secret-2");
    assert_eq!(out["SessionToken"], "fake-token-2");
    let calls = sts.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].param("RoleArn"), Some(ROLE_A));
    assert_eq!(calls[0].param("RoleSessionName"), Some("sess-a"));
    assert_eq!(calls[0].signed_with, "AKIDBASE");
    assert_eq!(calls[1].param("RoleArn"), Some(ROLE_B));
    assert_eq!(calls[1].param("ExternalId"), Some("ext-123"));
    assert_eq!(calls[1].param("DurationSeconds"), Some("3600"));
    assert!(calls[1]
        .param("RoleSessionName")
        .unwrap()
        .starts_with("creds-"));
    assert_eq!(
        calls[1].signed_with, "ASIAFAKE00000001",
        "RoleB is assumed with RoleA's credentials"
    );

    // A cache hit: same credentials, no call.
    let again = json(env.run(&["export", "--profile", "b"]).ok());
    assert_eq!(again, out);
    assert_eq!(sts.calls().len(), 2);
    // Profile a reuses its own cached hop.
    assert_eq!(
        json(env.run(&["export", "--profile", "a"]).ok())["AccessKeyId"],
        "ASIAFAKE00000001"
    );
    assert_eq!(sts.calls().len(), 2);

    // Editing a setting below the top hop changes the keys: both hops are fetched again.
    env.config(&CHAIN.replace("sess-a", "sess-a2"));
    env.run(&["export", "--profile", "b"]).ok();
    assert_eq!(sts.calls().len(), 4);
}

#[test]
fn refresh_and_no_cache() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    env.run(&["export", "-p", "b"]).ok();
    assert_eq!(sts.calls().len(), 2);
    let out = json(env.run(&["export", "-p", "b", "--refresh"]).ok());
    assert_eq!(sts.calls().len(), 4, "--refresh fetches every hop again");
    assert_eq!(
        json(env.run(&["export", "-p", "b"]).ok()),
        out,
        "and caches the result"
    );
    let before: Vec<_> = env
        .cache_entries()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    env.run(&["export", "-p", "b", "--no-cache"]).ok();
    assert_eq!(sts.calls().len(), 6);
    let after: Vec<_> = env
        .cache_entries()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after, "--no-cache writes nothing");
    let both = env.run(&["export", "-p", "b", "--no-cache", "--refresh"]);
    assert_eq!((both.code, both.stdout.as_str()), (2, ""));
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

#[test]
fn cache_off_by_environment() {
    let sts = StsServer::start();
    let mut env = chain_env(&sts);
    env.set("CREDS_CACHE", "none");
    env.run(&["export", "-p", "a"]).ok();
    env.run(&["export", "-p", "a"]).ok();
    assert_eq!(sts.calls().len(), 2);
    assert!(env.cache_entries().is_empty());
    env.set("CREDS_CACHE", "bogus");
    env.run(&["export", "-p", "a"]).fails(3, "CREDS_CACHE");
}

#[cfg(unix)]
#[test]
fn cache_files_are_private_and_atomic() {
    use std::os::unix::fs::PermissionsExt;
    let sts = StsServer::start();
    let env = chain_env(&sts);
    env.run(&["export", "-p", "b"]).ok();
    assert_eq!(
        std::fs::metadata(env.cache_dir())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700,
        "a directory creds creates is 0700"
    );
    let entries = env.cache_entries();
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(
            std::fs::metadata(e).unwrap().permissions().mode() & 0o777,
            0o600,
            "{e:?}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(env.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    // Entries name their profile and hop, and never by profile name alone.
    let (path, entry) = env.cache_entry("RoleB");
    assert_eq!(entry["Profile"], "b");
    assert!(
        !path.file_name().unwrap().to_str().unwrap().contains('b')
            || path.file_stem().unwrap().len() == 64
    );
}

#[test]
fn corrupt_truncated_or_foreign_cache_files_are_misses() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    env.run(&["export", "-p", "b"]).ok();
    let (path, good) = env.cache_entry("RoleB");
    let cases: [&[u8]; 4] = [
        b"",
        b"{\"Format\":1,\"Key\"",
        b"\x00\xff garbage",
        b"{\"Version\":1,\"AccessKeyId\":\"X\",\"SecretAccessKey\":\"Y\"}",
    ];
    let mut calls = sts.calls().len();
    for bytes in cases {
        std::fs::write(&path, bytes).unwrap();
        let out = json(env.run(&["export", "-p", "b"]).ok());
        calls += 1;
        assert_eq!(
            sts.calls().len(),
            calls,
            "only the broken hop is fetched again"
        );
        assert_ne!(out["AccessKeyId"], good["Credentials"]["AccessKeyId"]);
        let (_, replaced) = env.cache_entry("RoleB");
        assert_eq!(
            replaced["Credentials"]["AccessKeyId"], out["AccessKeyId"],
            "the broken file was replaced"
        );
    }
    // An entry copied under another key (another hop's file) is foreign: a miss.
    let (a_path, _) = env.cache_entry("RoleA");
    std::fs::copy(&a_path, &path).unwrap();
    let out = json(env.run(&["export", "-p", "b"]).ok());
    assert!(out["AccessKeyId"].as_str().unwrap().starts_with("ASIAFAKE"));
    assert_eq!(sts.calls().len(), calls + 1);
}

#[test]
fn config_errors_exit_3_and_name_file_and_line() {
    let env = TestEnv::new();
    env.config("[profile a]\nregion = x\nthis line is broken\n");
    let config = env.home().join(".aws/config");
    env.run(&["export", "-p", "a"])
        .fails(3, &format!("{}:3: Expected an '=' sign", config.display()));

    env.config("[profile a]\nregion = us-east-1\n");
    let err = env
        .run(&["export", "-p", "nope"])
        .fails(3, "profile `nope` not found")
        .to_string();
    assert!(err.contains("known profiles: a"), "{err}");

    env.config("[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n");
    env.run(&["export", "-p", "a"])
        .fails(3, "infinite loop: a -> b -> a");

    env.config("[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = missing\n");
    env.run(&["export", "-p", "a"])
        .fails(3, &format!("{}:3", config.display()));

    env.config("[profile a]\nregion = us-east-1\n");
    env.run(&["export", "-p", "a"])
        .fails(3, "did not contain credential information");
}

#[test]
fn an_unreachable_metadata_service_is_a_network_error() {
    let env = TestEnv::new();
    env.config(
        "[profile imds]\nrole_arn = arn:aws:iam::1:role/I\ncredential_source = Ec2InstanceMetadata\nec2_metadata_service_endpoint = http://127.0.0.1:9\n",
    );
    let err = env
        .run(&["export", "-p", "imds"])
        .fails(
            6,
            "cannot reach the instance metadata service at http://127.0.0.1:9",
        )
        .to_string();
    assert!(
        err.starts_with("creds: profile `imds` (credential_source = Ec2InstanceMetadata)"),
        "{err}"
    );
    env.config(
        "[profile task]\nrole_arn = arn:aws:iam::1:role/I\ncredential_source = EcsContainer\n",
    );
    env.run(&["export", "-p", "task"])
        .fails(3, "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
}

#[test]
fn aws_refusal_exits_5_and_is_remembered_briefly() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    sts.fail_next(403, "AccessDenied");
    env.run(&["export", "-p", "a"]).fails(5, "AccessDenied");
    assert_eq!(sts.calls().len(), 1);
    // A second caller fails fast with the remembered error, without calling STS.
    let err = env
        .run(&["export", "-p", "a"])
        .fails(5, "remembered from a failure")
        .to_string();
    assert!(err.contains("AccessDenied"), "{err}");
    assert_eq!(sts.calls().len(), 1);
    // --refresh retries at once; success clears the record.
    env.run(&["export", "-p", "a", "--refresh"]).ok();
    assert_eq!(sts.calls().len(), 2);
    env.run(&["export", "-p", "a"]).ok();
    assert_eq!(sts.calls().len(), 2);
}

#[test]
fn throttling_is_retried_then_exit_6() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    sts.fail_next(400, "Throttling");
    env.run(&["export", "-p", "a"]).ok();
    assert_eq!(sts.calls().len(), 2, "one retry after throttling");
    sts.fail_always(503, "ServiceUnavailable");
    env.run(&["export", "-p", "a", "--refresh"])
        .fails(6, "ServiceUnavailable");
    assert_eq!(sts.calls().len(), 5, "three attempts in all");
}

#[test]
fn dead_endpoint_exits_6() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut env = TestEnv::new();
    env.config(CHAIN);
    env.set("AWS_ENDPOINT_URL_STS", &format!("http://127.0.0.1:{port}"));
    env.run(&["export", "-p", "a"]).fails(6, "cannot reach");
}

#[test]
fn silent_endpoint_times_out_with_exit_6() {
    // Accepts connections and never answers: the read and operation timeouts must end it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(10).collect();
        std::thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    let mut env = TestEnv::new();
    env.config(CHAIN);
    env.set("AWS_ENDPOINT_URL_STS", &format!("http://127.0.0.1:{port}"));
    let err = env
        .run(&["export", "-p", "a"])
        .fails(6, "AssumeRole")
        .to_string();
    assert!(
        err.contains("in time") || err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
}

#[test]
fn endpoint_from_profile_and_services_section() {
    let sts = StsServer::start();
    let mut env = TestEnv::new();
    env.unset("AWS_ENDPOINT_URL_STS");
    env.config(&format!("{CHAIN}\n[profile viaurl]\nrole_arn = {ROLE_A}\nsource_profile = base\nendpoint_url = {0}\n[profile viasvc]\nrole_arn = {ROLE_B}\nsource_profile = base\nservices = local\n[services local]\nsts =\n  endpoint_url = {0}\n", sts.url()));
    env.run(&["export", "-p", "viaurl"]).ok();
    env.run(&["export", "-p", "viasvc"]).ok();
    assert_eq!((sts.assumed(ROLE_A), sts.assumed(ROLE_B)), (1, 1));
}

#[test]
fn credential_process_as_a_source() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    let script = env.write("helper.sh", "#!/bin/sh\necho helper-ran >> \"$0.log\"\nprintf '%s' \"$_CREDS_PROFILE_CHAIN\" > \"$0.chain\"\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctoken\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n");
    env.config(&format!("[profile proc]\ncredential_process = sh {}\n[profile top]\nrole_arn = {ROLE_A}\nsource_profile = proc\n", script.display()));
    let out = json(env.run(&["export", "-p", "proc"]).ok());
    assert_eq!(out["AccessKeyId"], "AKIDPROC");
    assert_eq!(out["Expiration"], "2099-01-01T00:00:00Z");
    assert_eq!(
        std::fs::read_to_string(script.with_extension("sh.chain")).unwrap(),
        "proc"
    );
    env.run(&["export", "-p", "top"]).ok();
    assert_eq!(sts.calls()[0].signed_with, "AKIDPROC");
    // The helper's output was cached: it ran once for both exports.
    assert_eq!(
        std::fs::read_to_string(script.with_extension("sh.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );

    let bad = env.write("bad.sh", "#!/bin/sh\necho 'SECRETLEAK not json'\n");
    let failing = env.write(
        "fail.sh",
        "#!/bin/sh\necho 'first line' >&2\necho 'token expired, run sso login' >&2\nexit 7\n",
    );
    env.config(&format!("[profile bad]\ncredential_process = sh {}\n[profile failing]\ncredential_process = sh {}\n", bad.display(), failing.display()));
    let err = env
        .run(&["export", "-p", "bad"])
        .fails(1, "not JSON")
        .to_string();
    assert!(!err.contains("SECRETLEAK"));
    env.run(&["export", "-p", "failing"])
        .fails(1, "exited with status 7: token expired, run sso login");
}

#[test]
fn recursion_guard_stops_a_profile_that_runs_creds_for_itself() {
    let env = TestEnv::new();
    let bin = support::bin();
    env.config(&format!(
        "[profile self]\ncredential_process = {bin} export --profile self\n\
         [profile ping]\ncredential_process = {bin} export --profile pong\n[profile pong]\ncredential_process = {bin} export --profile ping\n"
    ));
    env.run(&["export", "-p", "self"])
        .fails(3, "credential_process loop: self -> self");
    env.run(&["export", "-p", "ping"])
        .fails(3, "credential_process loop: ping -> pong -> ping");
}

#[test]
fn environment_credential_source() {
    let sts = StsServer::start();
    let mut env = TestEnv::with_sts(&sts);
    env.config(&format!(
        "[profile e]\nrole_arn = {ROLE_A}\ncredential_source = Environment\n"
    ));
    env.run(&["export", "-p", "e"])
        .fails(3, "AWS_ACCESS_KEY_ID");
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
    env.run(&["export", "-p", "e"]).ok();
    assert_eq!(sts.calls()[0].signed_with, "AKIDENV");
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    let out = env.run(&["export", "--format", "yaml"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(env.run(&["export", "--min-ttl", "soon"]).code, 2);
    assert_eq!(env.run(&["frobnicate"]).code, 2);
    let help = env.run(&["export", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("GetSessionToken"), "{}", help.stdout);
}

#[test]
fn concurrent_callers_make_one_call_per_hop() {
    let sts = StsServer::start();
    sts.set_delay(Duration::from_millis(150));
    let env = chain_env(&sts);
    let run_all = |env: &TestEnv| {
        let children: Vec<_> = (0..50)
            .map(|_| {
                env.command(&["export", "-p", "b"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<String> = children
            .into_iter()
            .map(|c| {
                support::to_run(c.wait_with_output().unwrap())
                    .ok()
                    .to_string()
            })
            .collect();
        assert!(
            outs.iter().all(|o| o == &outs[0]),
            "all callers print the same credentials"
        );
        outs[0].clone()
    };
    let cold = run_all(&env);
    assert_eq!(
        (sts.assumed(ROLE_A), sts.assumed(ROLE_B)),
        (1, 1),
        "cold cache"
    );
    // The top hop has 10 minutes left, under --min-ttl (15m); RoleA stays fresh.
    env.age_entry("RoleB", chrono::Duration::minutes(10), None);
    let stale = run_all(&env);
    assert_eq!(
        (sts.assumed(ROLE_A), sts.assumed(ROLE_B)),
        (1, 2),
        "stale top hop"
    );
    assert_ne!(cold, stale);
}

/// Every scenario, with known secret values and `-v`: no secret ever reaches stderr.
#[test]
fn secrets_never_reach_stderr() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    env.credentials(
        "[default]\naws_access_key_id = AKIDLEAK\naws_secret_access_key = SECRETDEFAULTKEY\n",
    );
    let mut stderr = String::new();
    let mut record = |args: &[&str]| {
        let r = env.run(args);
        stderr.push_str(&r.stderr);
    };
    record(&["-v", "export", "-p", "b"]);
    record(&["-v", "export", "-p", "b"]);
    record(&["-v", "export", "-p", "b", "--refresh", "-f", "env"]);
    record(&["-v", "export", "-f", "claude"]);
    sts.fail_always(403, "AccessDenied");
    record(&["-v", "export", "-p", "b", "--refresh"]);
    record(&["-v", "export", "-p", "b", "--no-cache"]);
    record(&["-v", "export", "-f", "claude", "--refresh"]);
    assert!(
        stderr.contains("creds: "),
        "the scenarios said something: {stderr}"
    );
    for secret in [
        "SECRETBASEKEY0123456789",
        "SECRETDEFAULTKEY",
        "fake-secret-",
        "fake-token-",
    ] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }
}

/// MFA over long-term keys: 20 concurrent exports with no MFA session make one
/// GetSessionToken (with the device and the code) and run `mfa_process` once; a hanging
/// `mfa_process` fails within its bound.
#[test]
fn concurrent_mfa_exports_ask_for_one_code() {
    let sts = StsServer::start();
    sts.set_delay(Duration::from_millis(100));
    let mut env = TestEnv::with_sts(&sts);
    let helper = env.write("mfa.sh", "#!/bin/sh\necho ran >> \"$0.log\"\necho 246810\n");
    let hang = env.write("hang.sh", "#!/bin/sh\nexec sleep 60\n");
    env.config(&format!("[profile base]\naws_access_key_id = AKIDMFA\naws_secret_access_key = s\n[profile admin]\nrole_arn = {ROLE_A}\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\nmfa_process = sh {}\n[profile stuck]\nrole_arn = {ROLE_B}\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/other\nmfa_process = sh {}\n", helper.display(), hang.display()));
    let children: Vec<_> = (0..20)
        .map(|_| {
            env.command(&["export", "-p", "admin"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        support::to_run(child.wait_with_output().unwrap()).ok();
    }
    assert_eq!(sts.count("GetSessionToken"), 1);
    assert_eq!(sts.assumed(ROLE_A), 1);
    let session = sts
        .calls()
        .into_iter()
        .find(|c| c.action == "GetSessionToken")
        .unwrap();
    assert_eq!(session.param("SerialNumber"), Some("arn:aws:iam::1:mfa/me"));
    assert_eq!(session.param("TokenCode"), Some("246810"));
    assert_eq!(session.param("DurationSeconds"), Some("43200"));
    let runs = std::fs::read_to_string(helper.with_extension("sh.log")).unwrap();
    assert_eq!(runs.lines().count(), 1, "mfa_process ran once");
    env.set("CREDS_PROCESS_TIMEOUT", "1s");
    env.run(&["export", "-p", "stuck"])
        .fails(6, "mfa_process `sh ...` gave no MFA code");
}

/// Without a session bus (no `DBUS_SESSION_BUS_ADDRESS`): `keys add` from stdin and a
/// keyring-backed export fail at once with exit 3 naming the fix, and never read plain-text
/// keys instead; `CREDS_CACHE=keyring` falls back to the file cache with one warning.
#[test]
fn without_a_session_bus_the_keyring_fails_fast_and_clearly() {
    let sts = StsServer::start();
    let env = chain_env(&sts);
    let mut add = env.command(&["keys", "add", "ring"]);
    add.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"AKIAKEYRINGTEST00001\nkeyring-test-secret\n")
        .unwrap();
    let run = to_run(child.wait_with_output().unwrap());
    let err = run.fails(3, "the OS keyring cannot be used").to_string();
    assert!(err.contains("dbus-run-session"), "{err}");
    assert!(!std::fs::read_to_string(env.home().join(".aws/config"))
        .unwrap()
        .contains("creds_keyring"));
    // A profile that names keyring keys: exit 3, no STS call, even with plain-text keys beside.
    env.config(&format!(
        "{CHAIN}\n[profile ring]\ncreds_keyring = AKIAKEYRINGTEST00001\n"
    ));
    env.credentials("[ring]\naws_access_key_id = AKIAPLAIN\naws_secret_access_key = plain\n");
    env.run(&["export", "-p", "ring"])
        .fails(3, "profile `ring` (creds_keyring AKIAKEYRINGTEST00001 at");
    assert!(sts.calls().is_empty());
    // The keyring cache: one warning, the file cache, credentials on stdout.
    let mut env = env;
    env.set("CREDS_CACHE", "keyring");
    let out = env.run(&["export", "-p", "b"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("AccessKeyId"));
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .starts_with("creds: warning: the keyring cache (CREDS_CACHE=keyring) cannot be used"),
        "{warnings:?}"
    );
    assert_eq!(env.cache_entries().len(), 2);
}

/// Refresh-ahead with real processes: 50 concurrent exports of a chain whose top hop is inside
/// the window (20 minutes left: over --min-ttl, under --min-ttl + 10m) all print the cached key
/// at once and start one detached renewal, which makes exactly one AssumeRole in the
/// background; the next export gets the renewed key. Nothing is printed besides the document.
#[test]
fn refresh_ahead_renews_in_the_background_once() {
    let sts = StsServer::start();
    sts.set_delay(Duration::from_millis(300));
    let env = chain_env(&sts);
    let first = env.run(&["export", "-p", "b"]).ok().to_string();
    assert_eq!(sts.assumed(ROLE_B), 1);
    // An hour-long role fetched 40 minutes ago.
    let age = |env: &TestEnv| {
        env.age_entry(
            "RoleB",
            chrono::Duration::minutes(20),
            Some(chrono::Duration::minutes(40)),
        )
    };
    age(&env);
    let children: Vec<_> = (0..50)
        .map(|_| {
            env.command(&["export", "-p", "b"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = Vec::new();
    for child in children {
        let run = to_run(child.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "");
        keys.push(json(&run.stdout)["AccessKeyId"].clone());
    }
    // The cached key (a caller that came after the renewal landed may print the new one).
    assert!(keys.contains(&json(&first)["AccessKeyId"]));
    // The renewal: one AssumeRole of RoleB, within a bounded wait.
    let mut renewed = None;
    for _ in 0..300 {
        let out = env
            .run(&["export", "-p", "b", "--no-refresh-ahead"])
            .ok()
            .to_string();
        if json(&out)["AccessKeyId"] != json(&first)["AccessKeyId"] {
            renewed = Some(out);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        renewed.is_some(),
        "the background renewal did not land within 30 s"
    );
    assert_eq!(
        (sts.assumed(ROLE_A), sts.assumed(ROLE_B)),
        (1, 2),
        "one renewal, one call"
    );
    let renewed = json(&renewed.unwrap())["AccessKeyId"].clone();
    assert!(keys
        .iter()
        .all(|k| *k == json(&first)["AccessKeyId"] || *k == renewed));
    // -v says when a renewal starts; --no-refresh-ahead starts none.
    age(&env);
    let quiet = env.run(&["export", "-p", "b", "--no-refresh-ahead", "-v"]);
    assert!(!quiet.stderr.contains("renewal"), "{}", quiet.stderr);
    let told = env.run(&["-v", "export", "-p", "b"]);
    assert!(
        told.stderr.contains("started a renewal in the background"),
        "{}",
        told.stderr
    );
}

/// `creds exec`: without --server the command runs with the keys in its environment and its
/// own exit code; with --server it gets only the endpoint, which serves the same credentials
/// (read here by creds itself as a container-credentials consumer) to its token alone.
#[test]
fn exec_runs_the_command_with_keys_or_behind_the_endpoint() {
    let sts = StsServer::start();
    let mut env = chain_env(&sts);
    env.set("AWS_PROFILE", "b");
    let plain = env.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_ACCESS_KEY_ID ${AWS_SESSION_TOKEN:+token} ${AWS_PROFILE:-noprofile} $AWS_REGION\"; exit 3",
    ]);
    assert_eq!(plain.code, 3, "{}", plain.stderr);
    let key = json(env.run(&["export", "-p", "b"]).ok())["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(plain.stdout, format!("{key} token noprofile us-east-1\n"));
    // --server: the child has no keys, only the endpoint; a creds inside reads it.
    let exe = env!("CARGO_BIN_EXE_creds");
    env.config(&format!(
        "{CHAIN}\n[profile task]\ncredential_source = EcsContainer\n"
    ));
    let served = env.run(&[
        "exec",
        "--server",
        "--",
        "sh",
        "-c",
        &format!("test -z \"$AWS_ACCESS_KEY_ID\" || exit 9; exec {exe} export -p task --no-cache"),
    ]);
    assert_eq!(served.code, 0, "{}", served.stderr);
    assert_eq!(json(&served.stdout)["AccessKeyId"], key.as_str());
    assert_eq!(sts.assumed(ROLE_B), 1, "served from the cache");
    // The command's exit code, and a missing command is a usage error.
    assert_eq!(
        env.run(&["exec", "--server", "--", "sh", "-c", "exit 5"])
            .code,
        5
    );
    env.run(&["exec", "--", "/no/such/program"])
        .fails(2, "cannot run `/no/such/program`");
}

/// A caller that hands creds an extra pipe and reads it to its end (as some process runners
/// do) gets its end when the export exits, not when the background renewal does.
#[cfg(unix)]
#[test]
fn a_renewal_keeps_no_pipe_of_its_caller() {
    use std::io::Read;
    use std::os::unix::io::FromRawFd;
    use std::os::unix::process::CommandExt;
    let sts = StsServer::start();
    sts.set_delay(Duration::from_secs(3));
    let env = chain_env(&sts);
    env.run(&["export", "-p", "b"]).ok();
    env.age_entry(
        "RoleB",
        chrono::Duration::minutes(20),
        Some(chrono::Duration::minutes(40)),
    );
    let mut fds = [0; 2];
    // Close-on-exec, so that no child spawned meanwhile by another test holds the write end
    // (the dup2 below gives the export a copy without the flag).
    // SAFETY: a pipe for this test.
    #[cfg(target_os = "linux")]
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // (No pipe2 on macOS: the flag is set just after.)
    // SAFETY: a pipe for this test, and flags on its two ends.
    #[cfg(not(target_os = "linux"))]
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        for fd in fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    let mut command = env.command(&["export", "-p", "b"]);
    // SAFETY: dup2 between fork and exec, so the export inherits the write end as fd 7.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(write_end, 7) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // SAFETY: the test's own descriptors.
    unsafe { libc::close(write_end) };
    let mut reader = unsafe { std::fs::File::from_raw_fd(read_end) };
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    // The end came while the renewal still waits on STS (3 s): it kept no copy of the pipe.
    assert_eq!(
        sts.assumed(ROLE_B),
        1,
        "the renewal has not been answered yet"
    );
}
