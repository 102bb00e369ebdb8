//! `creds exec`: the command's environment, and the local credential endpoint.

use super::*;

#[test]
fn exec_puts_session_keys_in_the_environment_and_takes_the_others_out() {
    let w = World::new();
    w.config(CHAIN);
    let code = creds::commands::exec::run(&w.context(false), &exec_args(false), false).unwrap();
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
    assert!(creds::commands::exec::run(&w.context(false), &exec_args(false), false).is_err());
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
    let code = creds::commands::exec::run(&w.context(false), &exec_args(true), false).unwrap();
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
fn the_commands_environment_never_shows_a_secret_in_debug() {
    let w = World::new();
    w.config(CHAIN);
    creds::commands::exec::run(&w.context(false), &exec_args(false), false).unwrap();
    let env = w.launcher.ran.lock().unwrap()[0].2.clone();
    let shown = format!("{env:?}");
    assert!(
        shown.contains("AWS_SECRET_ACCESS_KEY") && !shown.contains("fake-secret"),
        "{shown}"
    );
    assert!(!shown.contains("fake-token"), "{shown}");
}
