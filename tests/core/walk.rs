//! The walk: fresh hops from the cache, single flight, remembered failures, `--min-ttl` and short roles, what AWS hands back, the endpoints called.

use super::*;

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
    assert!(err.line().contains("less than --min-ttl"), "{}", err.line());
}

#[test]
fn credentials_aws_gives_too_short_or_expired_are_its_doing() {
    // Asked for an hour (STS's default), given 10 minutes: AWS's answer, exit 5.
    let w = World::new();
    w.config(CHAIN);
    w.sts.set_lifetime(Duration::minutes(10));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused, "{}", err.line());
    assert!(
        err.line()
            .contains("valid for 600s, less than --min-ttl 900s and less than asked for"),
        "{}",
        err.line()
    );
    // Already expired on arrival: exit 5, and the clock is named.
    let w = World::new();
    w.config(CHAIN);
    w.sts.set_lifetime(Duration::minutes(-1));
    let err = export(&w, "b").unwrap_err();
    assert_eq!(err.kind, Kind::AwsRefused, "{}", err.line());
    assert!(
        err.line()
            .contains("already expired (2029-12-31T23:59:00Z); check this machine's clock"),
        "{}",
        err.line()
    );
    // A credential_process's short answer is the configuration's: exit 3.
    let w = World::new();
    w.config("[profile p]\ncredential_process = short\n");
    let err = export(&w, "p").unwrap_err();
    assert_eq!(err.kind, Kind::Config, "{}", err.line());
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
        err.line().contains("remembered from a failure 0s ago"),
        "{}",
        err.line()
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
    assert!(err.line().contains("less than --min-ttl"), "{}", err.line());
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
            err.line().matches("(remembered").count(),
            1,
            "{}",
            err.line()
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
        err.line().contains("use_fips_endpoint is `yes`"),
        "{}",
        err.line()
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
