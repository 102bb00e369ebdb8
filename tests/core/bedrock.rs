//! `export --format bedrock-token`: a Bedrock short-term API key minted from the chain's
//! credentials, for the region creds resolves, lasting the shorter of the cap and the
//! credentials' life less `--min-ttl`.

use super::*;

/// The presigned URL inside a token, and its query as name → value (still percent-encoded).
fn decode(token: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let encoded = token
        .strip_prefix("bedrock-api-key-")
        .unwrap_or_else(|| panic!("not a Bedrock token: {token}"));
    let url = String::from_utf8(aws_smithy_types::base64::decode(encoded).unwrap()).unwrap();
    let query = url.split_once('?').unwrap().1;
    let params = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (url, params)
}

fn token_args(profile: &str, format: Format) -> ExportArgs {
    ExportArgs {
        format,
        ..args(profile)
    }
}

fn mint(w: &World, args: &ExportArgs) -> Result<String, Error> {
    let ctx = w.context(false);
    let result = export::run(&ctx, args, false);
    ctx.ui.settle(result.is_ok());
    result
}

#[test]
fn a_token_is_minted_from_the_chains_credentials_for_their_life_less_min_ttl() {
    let w = World::new();
    w.config(CHAIN);
    let out = mint(&w, &token_args("b", Format::BedrockToken)).unwrap();
    assert!(
        out.ends_with('\n') && !out.trim_end().contains('\n'),
        "{out}"
    );
    let (url, q) = decode(out.trim_end());
    assert!(url.starts_with("bedrock.amazonaws.com/?Action=CallWithBearerToken&"));
    assert!(url.ends_with("&Version=1"));
    // The role credentials (the fake's second call) last an hour: the token 60 - 15 minutes.
    assert_eq!(q["X-Amz-Expires"], "2700");
    assert_eq!(
        q["X-Amz-Credential"],
        "ASIAFAKE00000002%2F20300101%2Fus-east-1%2Fbedrock%2Faws4_request"
    );
    assert_eq!(q["X-Amz-Security-Token"], "fake-token-2");
    assert_eq!(q["X-Amz-Date"], "20300101T000000Z");
    // Minted again from the cache, with no upstream call: the same credentials.
    let calls = w.sts.calls().len();
    let again = mint(&w, &token_args("b", Format::BedrockTokenJson)).unwrap();
    assert_eq!(w.sts.calls().len(), calls);
    let doc: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(doc.as_object().unwrap().len(), 1, "{doc}");
    assert_eq!(
        decode(doc["token"].as_str().unwrap()).1["X-Amz-Security-Token"],
        "fake-token-2"
    );
}

#[test]
fn a_token_never_outlives_its_cap_or_credentials_that_are_too_short() {
    let mut w = World::new();
    w.config(CHAIN);
    // Long-term keys: the cap (12 h), or the configured one.
    let (_, q) = decode(
        mint(&w, &token_args("base", Format::BedrockToken))
            .unwrap()
            .trim_end(),
    );
    assert_eq!(q["X-Amz-Expires"], "43200");
    assert!(!q.contains_key("X-Amz-Security-Token"));
    w.vars
        .push(("CREDS_BEDROCK_TOKEN_LIFETIME".into(), "2h".into()));
    let (_, q) = decode(
        mint(&w, &token_args("base", Format::BedrockToken))
            .unwrap()
            .trim_end(),
    );
    assert_eq!(q["X-Amz-Expires"], "7200");
    // Credentials with less than --min-ttl plus 5 minutes left are fetched again first: a
    // token lasts at least the 5 minutes Claude Code reuses it.
    w.sts.set_lifetime(Duration::minutes(60));
    mint(&w, &token_args("b", Format::BedrockToken)).unwrap();
    let calls = w.sts.calls().len();
    w.clock.advance(std::time::Duration::from_secs(41 * 60));
    let (_, q) = decode(
        mint(&w, &token_args("b", Format::BedrockToken))
            .unwrap()
            .trim_end(),
    );
    assert_eq!(w.sts.calls().len(), calls + 1, "the role is assumed again");
    assert_eq!(q["X-Amz-Expires"], "2700");
    // A bad cap is a configuration error that says what to write.
    w.vars
        .push(("CREDS_BEDROCK_TOKEN_LIFETIME".into(), "13h".into()));
    let err = mint(&w, &token_args("base", Format::BedrockToken)).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.line()
            .ends_with("use a duration from 1m to 12h, such as 8h"),
        "{}",
        err.line()
    );
}

#[test]
fn a_token_needs_a_region_and_never_shows_in_messages() {
    let mut w = World::new();
    w.vars.retain(|(k, _)| k != "AWS_REGION");
    w.config("[profile k]\naws_access_key_id = AKIDK\naws_secret_access_key = SECRETK\n");
    let err = mint(&w, &token_args("k", Format::BedrockToken)).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert_eq!(
        err.line(),
        "profile `k`: no region to make a Bedrock token for; add `region = us-east-1` (or yours) to [profile k], or set AWS_REGION"
    );
    w.config("[profile k]\naws_access_key_id = AKIDK\naws_secret_access_key = SECRETK\nregion = eu-central-1\n");
    let ctx = w.context(false);
    let out = export::run(&ctx, &token_args("k", Format::BedrockToken), true).unwrap();
    ctx.ui.settle(true);
    assert!(decode(out.trim_end()).1["X-Amz-Credential"].contains("%2Feu-central-1%2Fbedrock%2F"));
    let said = w.shown.lines().join("\n");
    assert!(
        said.contains("a Bedrock token for eu-central-1 valid until 2030-01-01T12:00:00Z (43200s"),
        "{said}"
    );
    assert!(
        !said.contains("bedrock-api-key") && !said.contains("SECRETK"),
        "{said}"
    );
}

#[test]
fn a_short_role_gives_a_five_minute_token() {
    let w = World::new();
    w.config(
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = SECRETBASE\n\
         [profile short]\nrole_arn = arn:aws:iam::1:role/Short\nsource_profile = base\nduration_seconds = 900\n",
    );
    w.sts.set_lifetime(Duration::minutes(15));
    let (_, q) = decode(
        mint(&w, &token_args("short", Format::BedrockToken))
            .unwrap()
            .trim_end(),
    );
    assert_eq!(q["X-Amz-Expires"], "300");
}

#[test]
fn exec_with_a_bedrock_token_gives_the_command_the_token_and_no_aws_keys() {
    let mut w = World::new();
    w.config(CHAIN);
    // What the user's shell holds must neither reach the command nor win over the token.
    w.vars.push((
        "AWS_BEARER_TOKEN_BEDROCK".into(),
        "bedrock-api-key-stale".into(),
    ));
    w.vars
        .push(("AWS_ACCESS_KEY_ID".into(), "AKIASTALE".into()));
    let args = creds::cli::ExecArgs {
        bedrock_token: true,
        ..exec_args(false)
    };
    let ctx = w.context(false);
    let code = creds::commands::exec::run(&ctx, &args, true).unwrap();
    ctx.ui.settle(true);
    assert_eq!(code, 0);
    // -v says until when, never the token.
    let said = w.shown.lines().join("\n");
    assert!(
        said.contains("a Bedrock token for us-east-1 valid until 2030-01-01T00:45:00Z (2700s"),
        "{said}"
    );
    assert!(!said.contains("bedrock-api-key"), "{said}");
    let ran = w.launcher.ran.lock().unwrap().clone();
    let env = &ran[0].2;
    let set: Vec<&str> = env.set.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        set,
        [
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_REGION",
            "AWS_DEFAULT_REGION"
        ]
    );
    let (_, q) = decode(&env.set[0].1);
    // The chain's role credentials, an hour long, less --min-ttl.
    assert_eq!(q["X-Amz-Security-Token"], "fake-token-2");
    assert_eq!(q["X-Amz-Expires"], "2700");
    for gone in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        assert!(env.remove.iter().any(|n| n == gone), "{gone} is removed");
    }
    assert!(!format!("{env:?}").contains("bedrock-api-key"), "{env:?}");
    // The same command with keys: a stale token from the shell is taken out too.
    creds::commands::exec::run(&w.context(false), &exec_args(false), false).unwrap();
    let env = &w.launcher.ran.lock().unwrap()[1].2;
    assert!(env.remove.iter().any(|n| n == "AWS_BEARER_TOKEN_BEDROCK"));
}
