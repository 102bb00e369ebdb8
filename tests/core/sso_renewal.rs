//! IAM Identity Center tokens: silent renewal with the refresh token, and what a refused or failing renewal leaves.

use super::*;

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
        err.line()
            .contains("the refresh token was refused (revoked)"),
        "{}",
        err.line()
    );
    assert!(
        err.line().contains("run `creds login --profile dev`"),
        "{}",
        err.line()
    );
    // Not renewable and expired.
    write_token(&w, Duration::minutes(-1), false);
    let err = export_with(&w, &refresh).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert!(err.line().contains("cannot be renewed"), "{}", err.line());
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
        err.line().starts_with("profile `dev`: CreateToken"),
        "{}",
        err.line()
    );
    // No token at all.
    std::fs::remove_file(w.sso_cache(CORP_TOKEN)).unwrap();
    let err = export_with(&w, &refresh).unwrap_err();
    assert!(err.line().contains("not signed in"), "{}", err.line());
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
