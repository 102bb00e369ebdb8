//! Each credential source as the base of a chain: web identity, MFA sessions, the metadata services, `aws login` sessions.

use super::*;

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
        err.line().contains("cannot read web_identity_token_file"),
        "{}",
        err.line()
    );
}

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
        err.line(),
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
        err.line()
            .contains("run `creds login --profile admin --mfa-code CODE` in a terminal"),
        "{}",
        err.line()
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
        err.line().contains("AWS_EC2_METADATA_DISABLED"),
        "{}",
        err.line()
    );
    w.vars.pop();
    w.vars.push((
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE".into(),
        "IPv5".into(),
    ));
    let err = export(&w, "v4").unwrap_err();
    assert!(
        err.line()
            .contains("`IPv5` from AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is not valid"),
        "{}",
        err.line()
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
        err.line().contains(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI"
        ),
        "{}",
        err.line()
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
        err.line()
            .starts_with("profile `task` (credential_source = EcsContainer): cannot reach"),
        "{}",
        err.line()
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
        err.line().contains(&file.display().to_string()),
        "{}",
        err.line()
    );
    assert!(
        err.line().contains("run `aws login --profile admin`"),
        "{}",
        err.line()
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
        err.line().starts_with(
            "profile `console` (login_session): the `aws login` session cannot be used"
        ),
        "{}",
        err.line()
    );
    assert!(err.line().ends_with("run `aws login --profile admin` in a terminal (creds does not run that sign-in itself)"), "{}", err.line());
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
        err.line()
            .contains("`37h` from CREDS_MFA_SESSION_DURATION is not valid"),
        "{}",
        err.line()
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
        err.line().contains("cannot be used (not a regular file)"),
        "{}",
        err.line()
    );
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, vec![b' '; 65 * 1024]).unwrap();
    let err = export(&w, "console").unwrap_err();
    assert!(
        err.line().contains("larger than 65536 bytes"),
        "{}",
        err.line()
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
        err.line()
            .contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        "{}",
        err.line()
    );
    assert!(w.metadata.calls().is_empty());
}
