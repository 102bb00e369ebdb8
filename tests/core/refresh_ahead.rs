//! Refresh-ahead: one background renewal of credentials or an SSO token, and only one that fetches.

use super::*;

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
    let renewal = renewal_args("b");
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
    let renewal = renewal_args("b");
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
    let renewal = renewal_args("b");
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
    let renewal = renewal_args("b");
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
    assert!(err.line().contains("STS is down"), "{}", err.line());
    // And when STS is back (the failure no longer remembered), a new key.
    w.clock.advance(std::time::Duration::from_secs(20));
    assert_ne!(
        export(&w, "b").unwrap()["AccessKeyId"],
        first["AccessKeyId"]
    );
}

/// What a renewal started for `profile` inside the window runs: the same export with --min-ttl
/// 1500 (15 minutes and the 10-minute window) and no refresh-ahead of its own.
fn renewal_args(profile: &str) -> ExportArgs {
    ExportArgs {
        min_ttl: Duration::seconds(1500),
        no_refresh_ahead: true,
        ..args(profile)
    }
}
