//! Property tests of everything that reads outside input: the config parser, cache entries,
//! `credential_process` output, SSO token files, the redirect listener's request parsing, and
//! STS and SSO replies through the real SDK clients against a local server. No input may
//! panic, grow memory without bound, leak the secret it carries, or yield credentials that
//! are not whole. Case counts are bounded so that the whole file runs in seconds.

#![allow(clippy::disallowed_methods)]

#[path = "support/fake_sso.rs"]
mod fake_sso;
#[allow(dead_code)]
#[path = "support/fake_sts.rs"]
mod fake_sts;
#[allow(dead_code)]
#[path = "support/http.rs"]
mod http;

use chrono::{DateTime, Utc};
use creds::config::{parse, ProfileSet};
use creds::error::Kind;
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    creds::wire::parse_time("2030-01-01T00:00:00Z").unwrap()
}

/// A line of a config file: mostly the shapes the parser knows, sometimes anything.
fn config_line() -> impl Strategy<Value = String> {
    let name = "[a-z0-9_./@:+-]{1,8}|default|é|a b";
    prop_oneof![
        name.prop_map(|n| format!("[profile {n}]")),
        name.prop_map(|n| format!("[{n}]")),
        name.prop_map(|n| format!("[sso-session {n}]")),
        name.prop_map(|n| format!("[services {n}]  # c")),
        ("[a-z_]{1,12}", "[ -~]{0,20}").prop_map(|(k, v)| format!("{k} = {v}")),
        ("[a-z_]{1,12}", name).prop_map(|(k, v)| format!("{k}={v} ;c")),
        Just("source_profile = a".to_string()),
        Just("role_arn = arn:aws:iam::1:role/R".to_string()),
        Just("sts =".to_string()),
        "[a-z]{1,5}".prop_map(|k| format!("  {k} = v")),
        Just("  continued".to_string()),
        Just("# comment".to_string()),
        Just(String::new()),
        Just("\t".to_string()),
        "\\PC{0,30}",
        "[\\[\\]=#; \\t\\r]{0,6}",
    ]
}

fn config_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(config_line(), 0..40),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

/// Applies byte edits (delete, insert, replace, truncate) to `base`.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(at, op, byte) in edits {
        let i = if out.is_empty() { 0 } else { at % out.len() };
        match op % 4 {
            0 if !out.is_empty() => {
                out.remove(i);
            }
            1 => out.insert(i, byte),
            2 if !out.is_empty() => out[i] = byte,
            _ => out.truncate(i),
        }
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    proptest::collection::vec(any::<(usize, u8, u8)>(), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// The parser never panics; errors name a line of the text; the headers the scan finds are
    /// the sections the full parse finds.
    #[test]
    fn config_parser(config in config_text(), credentials in config_text()) {
        let lines = config.split('\n').count();
        match parse::scan(&config) {
            Ok(headers) => {
                let sections = parse::parse(&config).unwrap();
                prop_assert_eq!(headers.len(), sections.len());
            }
            Err(e) => prop_assert!(e.line >= 1 && e.line <= lines, "{:?}", e),
        }
        let _ = ProfileSet::from_texts("config", &config, "credentials", &credentials);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, failure_persistence: None, ..ProptestConfig::default() })]

    /// Reading one profile's sections agrees with reading them all, for any text.
    #[test]
    fn reading_one_profile_agrees(config in config_text(), credentials in config_text()) {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = (dir.path().join("c"), dir.path().join("k"));
        std::fs::write(&c, &config).unwrap();
        std::fs::write(&k, &credentials).unwrap();
        let (c, k) = (c.to_str().unwrap(), k.to_str().unwrap());
        match ProfileSet::load(c, k) {
            Err(full) => {
                let narrow = ProfileSet::load_for(c, k, "default", false).unwrap_err();
                prop_assert_eq!(narrow, full);
            }
            Ok(full) => {
                for (name, section) in &full.profiles {
                    let narrow = ProfileSet::load_for(c, k, name, true).unwrap();
                    prop_assert_eq!(narrow.profiles.get(name), Some(section));
                    let whole = creds::chain::resolve(&full, name);
                    let one = creds::chain::resolve(&narrow, name);
                    prop_assert_eq!(format!("{whole:?}"), format!("{one:?}"));
                }
            }
        }
    }
}

const ENTRY: &str = r#"{"Format":1,"Key":"KEY","Profile":"p","Hop":"assume-role arn:aws:iam::1:role/R","FetchedAt":"2030-01-01T00:00:00Z","Credentials":{"AccessKeyId":"ASIAFUZZ","SecretAccessKey":"SECRETFUZZ","SessionToken":"TOKENFUZZ","Expiration":"2030-01-01T01:00:00Z"}}"#;
const PROCESS: &str = r#"{"Version": 1, "AccessKeyId": "AKIDFUZZ", "SecretAccessKey": "SECRETFUZZ", "SessionToken": "TOKENFUZZ", "Expiration": "2031-01-01T00:00:00Z"}"#;
const TOKEN: &str = r#"{"startUrl": "https://x", "region": "us-east-1", "accessToken": "SECRETFUZZ", "expiresAt": "2030-01-01T08:00:00Z", "clientId": "c", "clientSecret": "TOKENFUZZ", "registrationExpiresAt": "2030-04-01T00:00:00Z", "refreshToken": "REFRESHFUZZ"}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// Cache entries: anything that is not a whole entry for the key is a miss.
    #[test]
    fn cache_entries(edits in edits()) {
        let key = creds::cache::Key::derive("x", None, &[]);
        let text = ENTRY.replace("KEY", &key.0);
        let bytes = mutate(text.as_bytes(), &edits);
        if let Some(entry) = creds::cache::Entry::from_slice(&bytes, &key) {
            if let Some(c) = entry.credentials() {
                prop_assert!(!c.access_key_id.is_empty());
                prop_assert!(c.expiration.is_some());
            }
        }
    }

    /// credential_process output: credentials are whole, and no error quotes the output.
    #[test]
    fn process_output(edits in edits()) {
        let bytes = mutate(PROCESS.as_bytes(), &edits);
        match creds::source::process::parse_output(&bytes, now()) {
            Ok(c) => {
                prop_assert!(!c.access_key_id.is_empty() && !c.secret_access_key.expose().is_empty());
                prop_assert!(c.expiration.is_none_or(|e| e > now()));
            }
            Err(message) => {
                prop_assert!(!message.contains("SECRETFUZZ") && !message.contains("TOKENFUZZ"), "{}", message);
                prop_assert!(!message.contains('\n'));
            }
        }
    }

    /// SSO token files: an error never quotes a secret.
    #[test]
    fn token_files(edits in edits()) {
        let bytes = mutate(TOKEN.as_bytes(), &edits);
        if let Err(message) = creds::sso::cache::token::Token::from_json(&bytes) {
            for secret in ["SECRETFUZZ", "TOKENFUZZ", "REFRESHFUZZ"] {
                prop_assert!(!message.contains(secret), "{}", message);
            }
        }
        let _ = creds::sso::cache::registration::Registration::from_json(&bytes);
    }

    /// The redirect's query: any text decodes without a panic; encoding round-trips.
    #[test]
    fn redirect_queries(query in "\\PC{0,60}", value in "\\PC{0,30}") {
        use creds::sso::login::redirect::{parse_query, percent_decode, percent_encode};
        let _ = parse_query(&query);
        let _ = percent_decode(&query);
        prop_assert_eq!(percent_decode(&percent_encode(&value)), value);
    }
}

const STS_REPLY: &str = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>A:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/R/s</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIAFUZZ</AccessKeyId><SecretAccessKey>SECRETFUZZ</SecretAccessKey><SessionToken>TOKENFUZZ</SessionToken><Expiration>2031-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>";

/// Every mutated STS reply through the real SDK client: whole credentials, or an error of a
/// known kind that never quotes a secret.
#[test]
fn sts_replies() {
    use creds::aws::sts::{AssumeRoleRequest, AwsSts, Sts, StsTarget};
    let server = fake_sts::StsServer::start();
    let target = StsTarget {
        region: "us-east-1".into(),
        endpoint: Some(server.url()),
        ca_bundle: None,
        variant: Default::default(),
    };
    let with = creds::secret::Credentials {
        access_key_id: "AKIDFUZZ".into(),
        secret_access_key: creds::secret::Secret::new("s"),
        session_token: None,
        expiration: None,
        account_id: None,
    };
    let request = AssumeRoleRequest {
        role_arn: "arn:aws:iam::1:role/R".into(),
        session_name: "s".into(),
        external_id: None,
        duration_seconds: None,
        source_identity: None,
        mfa: None,
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 120,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(edits(), prop_oneof![Just(200u16), Just(400), Just(403)]),
            |(edits, status)| {
                let body =
                    String::from_utf8_lossy(&mutate(STS_REPLY.as_bytes(), &edits)).into_owned();
                server.reply_next(status, &body);
                match AwsSts.assume_role(&target, &with, &request) {
                    Ok(c) => {
                        prop_assert_eq!(status, 200);
                        prop_assert!(!c.access_key_id.is_empty());
                        prop_assert!(!c.secret_access_key.expose().is_empty());
                        prop_assert!(c
                            .session_token
                            .as_ref()
                            .is_some_and(|t| !t.expose().is_empty()));
                        prop_assert!(c.expiration.is_some_and(|e| e.timestamp() > 0));
                    }
                    Err(e) => {
                        prop_assert!(
                            matches!(
                                e.kind,
                                Kind::BadReply | Kind::AwsRefused | Kind::Network | Kind::Other
                            ),
                            "{:?}",
                            e
                        );
                        prop_assert!(
                            !e.line().contains("SECRETFUZZ") && !e.line().contains("TOKENFUZZ"),
                            "{}",
                            e.line()
                        );
                        prop_assert!(!e.line().contains('\n'));
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

/// The same for IAM Identity Center's role credentials and token replies.
#[test]
fn sso_replies() {
    use creds::aws::sso::{AwsSso, Endpoints, Grant, Registration, SsoApi};
    let server = fake_sso::SsoServer::start();
    let endpoints = Endpoints {
        oidc: Some(server.url()),
        portal: Some(server.url()),
        ca_bundle: None,
        variant: Default::default(),
    };
    let token = creds::secret::Secret::new("access-1");
    let registration = Registration {
        client_id: "c".into(),
        client_secret: creds::secret::Secret::new("s"),
        expires_at: now(),
        scopes: None,
        grant_types: None,
    };
    let role = r#"{"roleCredentials":{"accessKeyId":"ASIAFUZZ","secretAccessKey":"SECRETFUZZ","sessionToken":"TOKENFUZZ","expiration":4102444800000}}"#;
    let grant = r#"{"accessToken":"SECRETFUZZ","expiresIn":3600,"refreshToken":"TOKENFUZZ","tokenType":"Bearer"}"#;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 80,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(edits(), edits()), |(role_edits, grant_edits)| {
            let body = String::from_utf8_lossy(&mutate(role.as_bytes(), &role_edits)).into_owned();
            server.with(|s| s.raw.push(("GetRoleCredentials".into(), 200, body)));
            match AwsSso.get_role_credentials("us-east-1", &endpoints, &token, "1", "R") {
                Ok(c) => {
                    prop_assert!(
                        !c.access_key_id.is_empty() && !c.secret_access_key.expose().is_empty()
                    );
                    prop_assert!(c.expiration.is_some_and(|e| e.timestamp() > 0));
                }
                Err(e) => {
                    prop_assert!(!e.line().contains("SECRETFUZZ"), "{}", e.line());
                    prop_assert!(!e.line().contains('\n'));
                }
            }
            let body =
                String::from_utf8_lossy(&mutate(grant.as_bytes(), &grant_edits)).into_owned();
            server.with(|s| s.raw.push(("CreateToken".into(), 200, body)));
            let refresh = creds::secret::Secret::new("refresh-1");
            match AwsSso.create_token(
                "us-east-1",
                &endpoints,
                &registration,
                Grant::RefreshToken(&refresh),
            ) {
                Ok(g) => {
                    prop_assert!(g.expires_in > 0);
                    prop_assert!(!g.access_token.expose().is_empty());
                }
                Err(creds::aws::sso::TokenError::Other(e)) => {
                    prop_assert!(!e.line().contains("SECRETFUZZ"), "{}", e.line());
                }
                Err(_) => {}
            }
            Ok(())
        })
        .unwrap();
}
