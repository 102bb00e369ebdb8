//! The cross-SDK conformance cases of smithy-rs (`tests/data/smithy-rs/`), run against the
//! config parser, the file location rules and the chain resolver.

#![allow(clippy::disallowed_methods)]

use creds::chain::{self, Base, Chain};
use creds::config::{ProfileSet, Property, Section};
use creds::context::Env;
use creds::settings::{self, Platform};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/smithy-rs/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[track_caller]
fn assert_all_passed(failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn sections_json(sections: &BTreeMap<String, Section>) -> Value {
    sections
        .iter()
        .map(|(name, s)| {
            (
                name.clone(),
                s.properties
                    .iter()
                    .map(|(k, p)| (k.clone(), Value::String(p.value.clone())))
                    .collect::<Map<_, _>>()
                    .into(),
            )
        })
        .collect::<Map<_, _>>()
        .into()
}

#[test]
fn profile_parser_cases() {
    let data = load("profile-parser-tests.json");
    let tests = data["tests"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in tests {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let result = ProfileSet::from_texts(
            "config",
            input["configFile"].as_str().unwrap_or(""),
            "credentials",
            input["credentialsFile"].as_str().unwrap_or(""),
        );
        let output = &case["output"];
        match (result, output.get("errorContaining")) {
            (Err(e), Some(want)) if e.line().contains(want.as_str().unwrap()) => {}
            (Ok(set), None) => {
                let want = &output["config"];
                if sections_json(&set.profiles) != want["profiles"] {
                    failures.push(format!(
                        "{name}: profiles {} != {}",
                        sections_json(&set.profiles),
                        want["profiles"]
                    ));
                }
                if let Some(sessions) = want.get("sso_sessions") {
                    if &sections_json(&set.sso_sessions) != sessions {
                        failures.push(format!(
                            "{name}: sso_sessions {} != {sessions}",
                            sections_json(&set.sso_sessions)
                        ));
                    }
                }
            }
            (got, want) => failures.push(format!(
                "{name}: got {:?}, want error {want:?}",
                got.map(|s| sections_json(&s.profiles))
            )),
        }
    }
    assert_all_passed(&failures, tests.len());
    assert!(tests.len() >= 60);
}

#[test]
fn file_location_cases() {
    let data = load("file-location-tests.json");
    let tests = data["tests"].as_array().unwrap();
    for case in tests {
        let name = case["name"].as_str().unwrap();
        let env = Env::from_pairs(
            case["environment"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())),
        );
        let platform = if case["platform"] == "windows" {
            Platform::Windows
        } else {
            Platform::Linux
        };
        let loc = settings::locate(&env, platform).unwrap();
        assert_eq!(
            loc.config.value,
            case["configLocation"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            loc.credentials.value,
            case["credentialsLocation"].as_str().unwrap(),
            "{name}"
        );
        if let Some(profile) = case.get("profile") {
            assert_eq!(
                settings::select_profile(None, &env).value,
                profile.as_str().unwrap(),
                "{name}"
            );
        }
    }
    assert_eq!(tests.len(), 9);
}

fn section(name: &str, props: &Value) -> Section {
    let file: Arc<str> = Arc::from("config");
    let properties = props
        .as_object()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            (
                k.clone(),
                Property {
                    value: v.as_str().unwrap().to_string(),
                    file: file.clone(),
                    line: i + 2,
                },
            )
        })
        .collect();
    Section {
        name: name.to_string(),
        file,
        line: 1,
        properties,
    }
}

fn set_from(input: &Value) -> ProfileSet {
    let mut set = ProfileSet::default();
    for (name, props) in input["profiles"].as_object().unwrap() {
        set.profiles.insert(name.clone(), section(name, props));
    }
    if let Some(sessions) = input.get("sso_sessions") {
        for (name, props) in sessions.as_object().unwrap() {
            set.sso_sessions.insert(name.clone(), section(name, props));
        }
    }
    set
}

/// The chain in the shape of `assume-role-tests.json`: only the fields that are set.
fn chain_json(chain: &Chain) -> Value {
    fn obj(fields: &[(&str, Option<&str>)]) -> Value {
        fields
            .iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), Value::String(v.to_string()))))
            .collect::<Map<_, _>>()
            .into()
    }
    let base = match &chain.base {
        Base::AccessKey(k) => json!({"AccessKey": obj(&[
            ("access_key_id", Some(&k.access_key_id)),
            ("secret_access_key", Some(k.secret_access_key.expose())),
            ("session_token", k.session_token.as_ref().map(|t| t.expose())),
            ("account_id", k.account_id.as_deref()),
        ])}),
        Base::Environment(_) => json!({"NamedSource": "Environment"}),
        Base::InstanceMetadata(_) => json!({"NamedSource": "Ec2InstanceMetadata"}),
        Base::Container(_) => json!({"NamedSource": "EcsContainer"}),
        Base::WebIdentity(w) => {
            json!({"WebIdentityToken": obj(&[("role_arn", Some(&w.role_arn)), ("web_identity_token_file", Some(&w.token_file)), ("role_session_name", w.session_name.as_deref())])})
        }
        Base::Sso(s) => json!({"Sso": obj(&[
            ("sso_session", s.session.as_deref()),
            ("sso_region", s.region.as_deref()),
            ("sso_start_url", s.start_url.as_deref()),
            ("sso_account_id", s.account_id.as_deref()),
            ("sso_role_name", s.role_name.as_deref()),
        ])}),
        Base::Keyring(k) => json!({"Keyring": k.access_key_id}),
        Base::Login(l) => json!({"LoginSession": {"login_session_arn": l.session}}),
        Base::Process(p) => json!({"CredentialProcess": p.command}),
        // creds' own sources, which the cross-SDK tables do not have.
        #[allow(unreachable_patterns)]
        _ => json!({"CredsOnly": chain.base.profile()}),
    };
    let mut items = vec![base];
    for hop in &chain.hops {
        items.push(json!({"AssumeRole": obj(&[("role_arn", Some(&hop.role_arn)), ("external_id", hop.external_id.as_deref()), ("role_session_name", hop.session_name.as_deref())])}));
    }
    Value::Array(items)
}

#[test]
fn assume_role_cases() {
    let data = load("assume-role-tests.json");
    let tests = data.as_array().unwrap();
    let mut failures = Vec::new();
    for case in tests {
        let docs = case["docs"].as_str().unwrap();
        let set = set_from(&case["input"]);
        let result = chain::resolve(&set, case["input"]["selected_profile"].as_str().unwrap());
        let output = &case["output"];
        match (result, output.get("Error"), output.get("ProfileChain")) {
            (Err(e), Some(want), _) if e.line().contains(want.as_str().unwrap()) => {
                assert_eq!(e.kind, creds::error::Kind::Config, "{docs}");
            }
            (Ok(chain), None, Some(want)) if &chain_json(&chain) == want => {}
            (got, want_err, want_chain) => failures.push(format!(
                "{docs}: got {:?}, want {want_err:?} {want_chain:?}",
                got.map(|c| chain_json(&c))
            )),
        }
    }
    assert_all_passed(&failures, tests.len());
    assert_eq!(tests.len(), 28);
}

#[test]
fn chain_errors_name_file_and_line() {
    let set = ProfileSet::from_texts("/home/u/.aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n", "creds", "").unwrap();
    let err = chain::resolve(&set, "a").unwrap_err();
    assert!(err.line().contains("a -> b -> a"), "{}", err.line());
    let set = ProfileSet::from_texts(
        "/home/u/.aws/config",
        "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = nope\n",
        "creds",
        "",
    )
    .unwrap();
    let err = chain::resolve(&set, "a").unwrap_err();
    assert!(
        err.line().contains("/home/u/.aws/config:3"),
        "{}",
        err.line()
    );
    let set = ProfileSet::from_texts("cfg", "[profile a]\nrole_arn = r\nsource_profile = a\naws_access_key_id = K\naws_secret_access_key = S\nduration_seconds = 12\n", "creds", "").unwrap();
    assert!(chain::resolve(&set, "a")
        .unwrap_err()
        .line()
        .contains("cfg:6"));
}

/// `ProfileSet::load_for`, which reads only the sections a profile's chain uses (what export
/// does on every cache hit), sees every case exactly as the full reading does: the same error,
/// or for every profile the same section and the same sessions and services it names.
#[test]
fn reading_one_profile_agrees_with_reading_all() {
    let data = load("profile-parser-tests.json");
    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = (dir.path().join("config"), dir.path().join("credentials"));
    let mut checked = 0;
    for case in data["tests"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        std::fs::write(&config, input["configFile"].as_str().unwrap_or("")).unwrap();
        std::fs::write(
            &credentials,
            input["credentialsFile"].as_str().unwrap_or(""),
        )
        .unwrap();
        let (c, k) = (config.to_str().unwrap(), credentials.to_str().unwrap());
        let full = ProfileSet::load(c, k);
        let Ok(full) = full else {
            let narrow = ProfileSet::load_for(c, k, "default", false);
            assert_eq!(narrow.err(), full.err(), "{name}");
            continue;
        };
        for (profile, section) in &full.profiles {
            let narrow = ProfileSet::load_for(c, k, profile, true).unwrap();
            assert_eq!(
                narrow.profiles.get(profile),
                Some(section),
                "{name}: {profile}"
            );
            for (key, map, narrow_map) in [
                ("sso_session", &full.sso_sessions, &narrow.sso_sessions),
                ("services", &full.services, &narrow.services),
            ] {
                if let Some(wanted) = section.get(key) {
                    assert_eq!(narrow_map.get(wanted), map.get(wanted), "{name}: {profile}");
                }
            }
            assert_eq!(narrow.warnings, full.warnings, "{name}: {profile}");
            checked += 1;
        }
        let missing = ProfileSet::load_for(c, k, "no-such-profile", false).unwrap();
        let mut all: Vec<&str> = full.profiles.keys().map(String::as_str).collect();
        all.sort_unstable();
        assert_eq!(missing.profile_names(), all, "{name}");
    }
    assert!(checked >= 50, "{checked}");
}
