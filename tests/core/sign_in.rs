//! Signing in: the device code and PKCE flows, the redirect listener, and `setup sso`.

use super::*;

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
    assert!(err.line().contains("denied"), "{}", err.line());
    assert_eq!(
        w.terminal.lines().last().unwrap(),
        &format!("creds: {}", err.line()),
        "the outcome reaches the terminal"
    );

    w.sso.with(|s| s.device = [DeviceAnswer::Expired].into());
    let err = login_with(&w, &login_opts(165)).unwrap_err();
    assert!(err.line().contains("the code expired"), "{}", err.line());

    // The code's own lifetime: pending past expires_in ends the flow.
    w.sso.with(|s| {
        s.code_expires_in = 12;
        s.device = std::iter::repeat_n(DeviceAnswer::Pending, 100).collect();
    });
    let err = login_with(&w, &login_opts(165)).unwrap_err();
    assert!(err.line().contains("the code expired"), "{}", err.line());

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
        err.line().contains("not completed within 12s"),
        "{}",
        err.line()
    );
    assert!(
        err.line()
            .contains("run `creds login --sso-session corp` again"),
        "{}",
        err.line()
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
        err.line().contains("not completed within 30s"),
        "{}",
        err.line()
    );
    assert_eq!(w.clock.monotonic(), std::time::Duration::from_secs(30));
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

/// From an agent's shell no sign-in starts, with a browser at hand or not; a valid or
/// renewable session is used as ever.
#[test]
fn an_agents_shell_starts_no_sign_in() {
    let w = World::new();
    w.config(SSO);
    let opts = Options {
        agent: Some("Claude Code's Bash tool (CLAUDECODE is set)".into()),
        no_browser: false,
        ..login_opts(165)
    };
    let err = login_with(&w, &opts).unwrap_err();
    assert_eq!(err.kind, Kind::LoginNeeded);
    assert_eq!(err.hint.as_deref(), Some("sign in from a terminal: `creds login --sso-session corp` (or set CREDS_ALLOW_AGENT_LOGIN=1 to allow it here)"));
    assert!(w.browser.opened.lock().unwrap().is_empty());
    assert_eq!(
        w.sso.count("RegisterClient") + w.sso.count("StartDeviceAuthorization"),
        0
    );
    assert!(w.terminal.lines().is_empty(), "{:?}", w.terminal.lines());
    write_token(&w, Duration::minutes(3), true);
    assert_eq!(login_with(&w, &opts).unwrap(), Outcome::Renewed);
}
