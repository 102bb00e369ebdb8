//! `creds doctor`: where settings come from, `--check`, refresh-ahead.

use super::*;

#[test]
fn doctor_reports_where_settings_come_from_and_what_they_override() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("AWS_PROFILE".into(), "b".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), None);
    assert_eq!(d.exit_code, 0, "{:?}", d.problems);
    assert_eq!(
        (d.profile.as_str(), d.profile_from.as_str()),
        ("b", "AWS_PROFILE")
    );
    assert_eq!(d.region.as_deref(), Some("us-east-1"));
    assert_eq!(d.region_from.as_deref(), Some("AWS_REGION"));
    assert_eq!(d.shadowed.len(), 1);
    let text = creds::commands::doctor::render(&d);
    let config = w.home_path(&[".aws", "config"]);
    assert!(
        text.contains(&format!(
            "  overridden: region eu-west-1 from {}:13 (by AWS_REGION)",
            config.display()
        )),
        "{text}"
    );
    assert!(text.contains("cache: "), "{text}");
    assert!(text.contains("export: 2 call(s) to AWS needed"), "{text}");
    export(&w, "b").unwrap();
    let d = creds::commands::doctor::diagnose(&w.context(false), None);
    assert_eq!(d.calls_needed, Some(0));
    assert!(
        d.chain[2]
            .cache
            .starts_with("cached until 2030-01-01T01:00:00Z"),
        "{:?}",
        d.chain
    );
}

#[test]
fn doctor_check_asks_sts_who_the_credentials_are() {
    let w = World::new();
    w.config(CHAIN);
    let ctx = w.context(false);
    let mut d = creds::commands::doctor::diagnose(&ctx, Some("b"));
    creds::commands::doctor::check(&ctx, Some("b"), &mut d);
    let check = d.check.as_ref().unwrap();
    assert_eq!(check.account, "123456789012");
    assert_eq!(check.clock_skew_seconds, Some(90));
    // Signed with what export hands out (RoleB's credentials).
    let calls = w.sts.calls();
    assert_eq!(calls.last().unwrap().operation, "GetCallerIdentity");
    assert_eq!(calls.last().unwrap().signed_with, "ASIAFAKE00000002");
    let text = creds::commands::doctor::render(&d);
    assert!(text.contains("check: GetCallerIdentity: account 123456789012, arn:aws:sts::123456789012:assumed-role/R/s (clock skew +90s)"), "{text}");
    assert!(text.contains("clock is 90s off AWS's"), "{text}");
}

#[test]
fn doctor_says_how_refresh_ahead_is_set() {
    let mut w = World::new();
    w.config(CHAIN);
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!(
        d.refresh_ahead.as_deref(),
        Some("renewals start in the background 10 min before --min-ttl is reached (from the default)")
    );
    w.vars.push(("CREDS_REFRESH_AHEAD".into(), "off".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!(
        d.refresh_ahead.as_deref(),
        Some("off (from CREDS_REFRESH_AHEAD)")
    );
    assert!(creds::commands::doctor::render(&d)
        .contains("refresh ahead: off (from CREDS_REFRESH_AHEAD)"));
}

/// Whole outputs, as a user sees them: `doctor` (text and `--json`), `cache list` (text and
/// `--json`) and the one error line, with the temporary HOME shown as `[HOME]` (the clock is
/// the fakes' fixed one).
#[test]
fn whole_outputs() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("AWS_PROFILE".into(), "b".into()));
    export(&w, "b").unwrap();
    let home = w.home().display().to_string();
    let mut settings = insta::Settings::clone_current();
    // As JSON writes it (a Windows path's backslashes doubled), then as text does.
    settings.add_filter(&regex_escape(&home.replace('\\', "\\\\")), "[HOME]");
    settings.add_filter(&regex_escape(&home), "[HOME]");
    settings.add_filter(r"\\\\|\\", "/");
    settings.bind(|| {
        let d = creds::commands::doctor::diagnose(&w.context(false), None);
        insta::assert_snapshot!("doctor", creds::commands::doctor::render(&d));
        insta::assert_snapshot!("doctor_json", serde_json::to_string_pretty(&d).unwrap());
        let ctx = w.context(false);
        insta::assert_snapshot!(
            "cache_list",
            creds::commands::cache::list(&ctx, false).unwrap()
        );
        insta::assert_snapshot!(
            "cache_list_json",
            creds::commands::cache::list(&ctx, true).unwrap()
        );
        let err = export(&w, "nope").unwrap_err();
        insta::assert_snapshot!(
            "unknown_profile",
            format!("exit {}: {}", err.exit_code(), err.line())
        );
    });
}

/// Failures as a user sees them, whole: the one line export prints (with its exit code), and
/// doctor's problem and "fix:" (the error's hint) for the same profile; and `-v export` of a
/// role chain, fetched and then served from the cache.
#[test]
fn whole_error_lines_and_verbose_output() {
    const BROKEN: &str = "\
[profile loop-a]
role_arn = arn:aws:iam::1:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::1:role/B
source_profile = loop-a

[profile orphan]
role_arn = arn:aws:iam::1:role/O
source_profile = missing

[profile half]
aws_access_key_id = AKIDHALF

[profile bare]
region = us-east-1

[profile envsrc]
credential_source = Environment

[profile refused]
role_arn = arn:aws:iam::1:role/Refused
source_profile = keys

[profile keys]
aws_access_key_id = AKIDKEYS
aws_secret_access_key = SECRETKEYS
";
    let mut w = World::new();
    w.config(BROKEN);
    w.vars.push(("AWS_PROFILE".into(), "loop-a".into()));
    let home = w.home().display().to_string();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&home), "[HOME]");
    settings.add_filter(r"\\", "/");
    settings.bind(|| {
        let mut out = Vec::new();
        for profile in ["loop-a", "orphan", "half", "bare", "envsrc", "refused", "nope"] {
            if profile == "refused" {
                w.sts.fail_next(Error::new(
                    Kind::AwsRefused,
                    "AccessDenied: User: arn:aws:iam::1:user/k is not authorized to perform: sts:AssumeRole",
                ));
            }
            let err = export(&w, profile).unwrap_err();
            out.push(format!("export -p {profile}: exit {}: {}", err.exit_code(), err.line()));
            let d = creds::commands::doctor::diagnose(&w.context(false), Some(profile));
            for p in &d.problems {
                out.push(format!("  doctor: {}\n  fix: {}", p.problem, p.fix));
            }
        }
        insta::assert_snapshot!("error_lines", out.join("\n"));

        w.config(CHAIN);
        let ctx = w.context(false);
        let mut verbose = args("b");
        verbose.format = Format::Env;
        let before = w.shown.lines().len();
        export::run(&ctx, &verbose, true).unwrap();
        export::run(&ctx, &verbose, true).unwrap();
        ctx.ui.settle(true);
        insta::assert_snapshot!("verbose_export", w.shown.lines()[before..].join("\n"));
    });
}

/// `text` as a regular expression that matches it literally.
fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                format!("\\{c}")
            }
            c => c.to_string(),
        })
        .collect()
}

#[test]
fn every_value_the_environment_hides_is_reported() {
    let mut w = World::new();
    w.config(&CHAIN.replace(
        "[profile b]\n",
        "[profile b]\ncreds_cache = none\ncreds_refresh_ahead = 5m\n",
    ));
    w.vars.push(("AWS_PROFILE".into(), "b".into()));
    w.vars.push(("AWS_DEFAULT_PROFILE".into(), "a".into()));
    w.vars.push(("CREDS_CACHE".into(), "file".into()));
    w.vars.push(("CREDS_REFRESH_AHEAD".into(), "5m".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), None);
    let hidden: Vec<(String, String, String)> = d
        .shadowed
        .iter()
        .map(|s| (s.setting.clone(), s.value.clone(), s.overridden_by.clone()))
        .collect();
    assert_eq!(
        hidden,
        [
            ("region".into(), "eu-west-1".into(), "AWS_REGION".into()),
            ("creds_cache".into(), "none".into(), "CREDS_CACHE".into()),
            ("profile".into(), "a".into(), "AWS_PROFILE".into()),
        ],
        "the same value (creds_refresh_ahead) hides nothing"
    );
}

#[test]
fn doctor_names_the_proxy_without_its_password() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push((
        "HTTPS_PROXY".into(),
        "http://user:s3cret@proxy.internal:3128".into(),
    ));
    w.vars
        .push(("no_proxy".into(), "169.254.169.254,.corp".into()));
    let d = creds::commands::doctor::diagnose(&w.context(false), Some("b"));
    assert_eq!(
        d.proxy.as_deref(),
        Some("https via http://user:***@proxy.internal:3128 (from HTTPS_PROXY); not for 169.254.169.254,.corp (from no_proxy); never for the metadata services")
    );
}
