//! `creds setup`, `doctor`, `cache`, `completions` and the man page, in a temporary HOME.

use crate::support::{bin, json, SsoServer, StsServer, TestEnv};

const STATIC: &str = "[profile keys]\naws_access_key_id = AKIDSETUP00000000001\naws_secret_access_key = setupsecret\nregion = eu-west-1\n";

fn settings(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".claude/settings.json")
}

#[test]
fn setup_claude_merges_keeps_a_backup_and_is_idempotent() {
    let env = TestEnv::new();
    env.config(STATIC);
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    let before = "{\n  \"theme\": \"dark\",\n  \"permissions\": {\n    \"allow\": [\"Bash(ls)\"]\n  },\n  \"env\": {\n    \"FOO\": \"bar\",\n    \"AWS_PROFILE\": \"keys\"\n  }\n}\n";
    std::fs::write(settings(&env), before).unwrap();
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    let text = std::fs::read_to_string(settings(&env)).unwrap();
    let doc = json(&text);
    assert_eq!(doc["theme"], "dark");
    assert_eq!(doc["permissions"]["allow"][0], "Bash(ls)");
    assert_eq!(
        doc["awsCredentialExport"],
        format!("{} export --profile keys --format claude", bin())
    );
    assert!(
        doc.get("awsAuthRefresh").is_none(),
        "static keys need no login"
    );
    assert_eq!(
        doc["env"],
        serde_json::json!({"FOO": "bar", "CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1"}),
        "no AWS_PROFILE (an older setup's is removed): with awsCredentialExport it only made Claude Code resolve the profile itself again"
    );
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["theme", "permissions", "env", "awsCredentialExport"],
        "existing keys keep their order"
    );
    assert_eq!(
        std::fs::read_to_string(settings(&env).with_extension("json.bak")).unwrap(),
        before
    );
    // Idempotent: nothing changes the second time, not even the backup.
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    assert_eq!(std::fs::read_to_string(settings(&env)).unwrap(), text);
    assert_eq!(
        std::fs::read_to_string(settings(&env).with_extension("json.bak")).unwrap(),
        before
    );
    // The awsCredentialExport command works as Claude Code runs it.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(doc["awsCredentialExport"].as_str().unwrap())
        .env_clear()
        .envs(env.vars.iter().cloned())
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(6),
        "reaches for STS (GetSessionToken) as Claude's format needs"
    );
}

#[test]
fn setup_claude_for_sso_adds_the_login_hook_and_prints_without_writing() {
    let env = TestEnv::new();
    env.config("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n");
    let printed = json(env.run(&["setup", "claude", "-p", "dev", "--print"]).ok());
    assert_eq!(
        printed["awsAuthRefresh"],
        format!("{} login --profile dev", bin())
    );
    assert_eq!(printed["env"].get("AWS_PROFILE"), None);
    assert!(!settings(&env).exists(), "--print changes nothing");
    let target = env.dir.path().join("custom.json");
    env.run(&[
        "setup",
        "claude",
        "-p",
        "dev",
        "--settings",
        target.to_str().unwrap(),
        "--region",
        "eu-central-1",
    ])
    .ok();
    let doc = json(&std::fs::read_to_string(&target).unwrap());
    assert_eq!(doc["env"]["AWS_REGION"], "eu-central-1");
    assert!(doc["awsAuthRefresh"]
        .as_str()
        .unwrap()
        .ends_with("login --profile dev"));
}

#[test]
fn setup_claude_refuses_a_broken_settings_file() {
    let env = TestEnv::new();
    env.config(STATIC);
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::fs::write(settings(&env), "{\n  \"theme\": \"dark\",\n  oops\n}\n").unwrap();
    env.run(&["setup", "claude", "-p", "keys"])
        .fails(3, "settings.json:3:");
    assert_eq!(
        std::fs::read_to_string(settings(&env)).unwrap(),
        "{\n  \"theme\": \"dark\",\n  oops\n}\n",
        "untouched"
    );
    env.config("[profile noregion]\naws_access_key_id = A\naws_secret_access_key = S\n");
    env.run(&["setup", "claude", "-p", "noregion"])
        .fails(3, "--region");
}

#[test]
fn setup_profile_appends_without_touching_the_rest() {
    let env = TestEnv::new();
    let original = "# team config -- do not reorder\n[default]\nregion = us-east-1\ncli_pager =\n\n[profile keys]\naws_access_key_id = AKIDSETUP00000000001\naws_secret_access_key = setupsecret\nregion = eu-west-1\n; another tool's settings\n[profile other]\ngranted_sso_start_url = https://example\ns3 =\n  max_concurrent_requests = 20";
    env.config(original);
    env.run(&["setup", "profile", "via-creds", "--from", "keys"])
        .ok();
    let text = std::fs::read_to_string(env.home().join(".aws/config")).unwrap();
    assert!(
        text.starts_with(original),
        "the old file is kept byte for byte"
    );
    assert_eq!(&text[original.len()..], format!("\n\n[profile via-creds]\ncredential_process = {} export --profile keys --format process\nregion = eu-west-1\n", bin()));
    env.run(&["setup", "profile", "via-creds", "--from", "keys"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(env.home().join(".aws/config")).unwrap(),
        text,
        "idempotent"
    );
    env.run(&["setup", "profile", "other", "--from", "keys"])
        .fails(3, "already exists");
    env.run(&["setup", "profile", "x", "--from", "nope"])
        .fails(3, "not found");
    // Any SDK reading the new profile gets the credentials through creds.
    let out = json(env.run(&["export", "-p", "via-creds"]).ok());
    assert_eq!(out["AccessKeyId"], "AKIDSETUP00000000001");
}

#[test]
fn concurrent_edits_of_the_config_lose_nothing() {
    let env = TestEnv::new();
    env.config(STATIC);
    let config = env.home().join(".aws/config");
    // Twenty `setup profile` runs at once, while a user's own appends land in between.
    let mut runs: Vec<std::process::Child> = (0..20)
        .map(|i| {
            let name = format!("c{i}");
            env.command(&["setup", "profile", &name, "--from", "keys"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let appender = {
        let config = config.clone();
        std::thread::spawn(move || {
            for i in 0..40 {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&config)
                    .unwrap();
                std::io::Write::write_all(
                    &mut f,
                    format!("\n[profile user{i}]\nregion = eu-west-{i}\n").as_bytes(),
                )
                .unwrap();
                drop(f);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    for run in runs.iter_mut() {
        assert!(run.wait().unwrap().success());
    }
    appender.join().unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    let lost: Vec<String> = (0..20)
        .map(|i| format!("[profile c{i}]"))
        .chain((0..40).map(|i| format!("[profile user{i}]")))
        .filter(|header| text.matches(header.as_str()).count() != 1)
        .collect();
    assert!(lost.is_empty(), "lost or doubled: {lost:?}\n{text}");
    assert!(text.starts_with(STATIC));
    // Every added profile works.
    let out = json(env.run(&["export", "-p", "c7"]).ok());
    assert_eq!(out["AccessKeyId"], "AKIDSETUP00000000001");
}

#[test]
fn setup_leaves_a_read_only_config_alone_and_keeps_crlf() {
    let env = TestEnv::new();
    let crlf = STATIC.replace('\n', "\r\n");
    env.config(&crlf);
    let config = env.home().join(".aws/config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
        env.run(&["setup", "profile", "ro", "--from", "keys"])
            .fails(
                3,
                "is read-only, so creds leaves it as it is; make it writable (chmod u+w",
            );
        assert_eq!(std::fs::read_to_string(&config).unwrap(), crlf);
        assert!(!env.home().join(".aws/config.bak").exists());
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    env.run(&["setup", "profile", "crlf", "--from", "keys"])
        .ok();
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        text,
        format!("{crlf}\r\n[profile crlf]\r\ncredential_process = {} export --profile keys --format process\r\nregion = eu-west-1\r\n", bin())
    );
}

#[test]
fn doctor_explains_and_exits_by_what_export_would_do() {
    let sso = SsoServer::start();
    let sts = StsServer::start();
    let env = TestEnv::with_sso(&sso, Some(&sts));
    env.config(&format!("{STATIC}[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://d-test.awsapps.com/start\nsso_region = us-east-1\n[profile cross]\nrole_arn = arn:aws:iam::2:role/Cross\nsource_profile = dev\nregion = us-east-1\n"));
    let r = env.run(&["doctor", "-p", "keys"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("static keys AKID…0001"), "{}", r.stdout);
    assert!(!r.stdout.contains("setupsecret"));
    assert!(
        r.stdout.contains("no settings file runs creds"),
        "{}",
        r.stdout
    );

    let r = env.run(&["doctor", "-p", "cross"]);
    assert_eq!(r.code, 4, "{}", r.stdout);
    assert!(
        r.stdout.contains("fix: run `creds login --profile cross`"),
        "{}",
        r.stdout
    );
    let j = json(&env.run(&["doctor", "-p", "cross", "--json"]).stdout);
    assert_eq!(j["exit_code"], 4);
    assert_eq!(j["chain"].as_array().unwrap().len(), 2);

    // After a login, doctor says export would work; after an export, that it is cached.
    sso.with(|s| s.pending = 0);
    env.run(&["login", "-p", "cross", "--no-browser"]).ok();
    assert_eq!(env.run(&["doctor", "-p", "cross"]).code, 0);
    env.run(&["export", "-p", "cross"]).ok();
    let r = env.run(&["doctor", "-p", "cross"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("served from the cache"), "{}", r.stdout);
    assert!(r.stdout.contains("renewable"), "{}", r.stdout);

    // Claude Code's settings are checked against the profile.
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    let r = env.run(&["doctor", "-p", "cross"]);
    assert!(
        r.stdout.contains("exports profile `keys`, not `cross`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("creds setup claude --profile cross"),
        "{}",
        r.stdout
    );

    // A broken config is exit 3.
    env.config("[profile cross\n");
    let r = env.run(&["doctor", "-p", "cross"]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.contains("config:1"), "{}", r.stdout);
}

#[test]
fn cache_list_and_clear() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(&format!("{STATIC}[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = keys\n[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = keys\n"));
    env.run(&["export", "-p", "a"]).ok();
    env.run(&["export", "-p", "b"]).ok();
    let listed = env.run(&["cache", "list"]).ok().to_string();
    assert!(
        listed.contains("assume-role arn:aws:iam::1:role/A")
            && listed.contains("assume-role arn:aws:iam::1:role/B"),
        "{listed}"
    );
    assert!(
        !listed.contains("fake-secret")
            && !listed.contains("fake-token")
            && !listed.contains("ASIAFAKE"),
        "{listed}"
    );
    let j = json(env.run(&["cache", "list", "--json"]).ok());
    assert_eq!(j["entries"].as_array().unwrap().len(), 2);
    // What a writer of a's entry killed at the rename a day ago left (in `.tmp`, and beside
    // the entries as older versions wrote it), and a's failure record: `-p a` takes them too,
    // and leaves b's.
    let file_of = |hop: &str| {
        env.cache_entries()
            .into_iter()
            .find(|p| std::fs::read_to_string(p).unwrap().contains(hop))
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (file_of("role/A"), file_of("role/B"));
    let tmp = env.cache_dir().join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let stale = |dir: &std::path::Path, name: &str| {
        let path = dir.join(format!(".{name}.4000000.7.tmp"));
        std::fs::write(&path, "{}").unwrap();
        path
    };
    let (a_tmp, a_beside, b_tmp) = (
        stale(&tmp, &a),
        stale(&env.cache_dir(), &a),
        stale(&tmp, &b),
    );
    let a_err = env.cache_dir().join(a.replace(".json", ".err"));
    std::fs::write(&a_err, "{}").unwrap();
    env.run(&["cache", "clear", "-p", "a"]).ok();
    assert_eq!(env.cache_entries().len(), 1);
    assert!(!a_tmp.exists() && !a_beside.exists() && !a_err.exists());
    assert!(b_tmp.exists(), "only a's");
    env.run(&["cache", "clear", "--all"]).ok();
    assert!(env.cache_entries().is_empty());
    assert_eq!(env.run(&["cache", "clear"]).code, 2, "says which entries");
}

#[test]
fn completions_and_man_page() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = env.run(&["completions", shell]);
        assert!(out.ok().contains("creds"), "{shell}");
        assert!(
            out.stdout.contains("export") && out.stdout.contains("login"),
            "{shell}"
        );
    }
    let man = env.run(&["manpage"]);
    assert!(man.ok().contains(".TH creds 1"));
}

#[test]
fn doctor_flags_claude_code_settings_that_bypass_creds() {
    let mut env = TestEnv::new();
    env.config(STATIC);
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    env.set("AWS_BEARER_TOKEN_BEDROCK", "SECRETBEARER-abc");
    let r = env.run(&["doctor", "-p", "keys"]);
    assert!(
        r.stdout
            .contains("AWS_BEARER_TOKEN_BEDROCK is set (in the environment)")
            && r.stdout.contains("creds is bypassed")
            && r.stdout.contains("fix: unset AWS_BEARER_TOKEN_BEDROCK"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("SECRETBEARER") && !r.stderr.contains("SECRETBEARER"));
    env.unset("AWS_BEARER_TOKEN_BEDROCK");
    // awsAuthRefresh = aws sso login, and a program that is gone.
    let path = settings(&env);
    let mut doc = json(&std::fs::read_to_string(&path).unwrap());
    doc["awsAuthRefresh"] = "aws sso login --profile keys".into();
    doc["awsCredentialExport"] = "/nonexistent/creds export --profile keys --format claude".into();
    std::fs::write(&path, doc.to_string()).unwrap();
    let r = env.run(&["doctor", "-p", "keys", "--json"]);
    let j = json(&r.stdout);
    let problems: Vec<&str> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["problem"].as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("awsAuthRefresh runs `aws sso login`")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("runs `/nonexistent/creds`, which does not exist")),
        "{problems:?}"
    );
}

/// `setup claude --bearer`: Claude Code gets a Bedrock token from `apiKeyHelper` and never
/// AWS keys; the models are pinned (the flags', else the file's, else the default), the other
/// mode's hook goes, the user's keys stay; `setup claude` without it goes back. `doctor` says
/// which mode a file uses and flags a bearer file without a pinned model.
#[test]
fn setup_claude_bearer_switches_modes_and_doctor_names_them() {
    let env = TestEnv::new();
    env.config(STATIC);
    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::fs::write(
        settings(&env),
        "{\"theme\": \"dark\", \"env\": {\"ANTHROPIC_MODEL\": \"my.pinned-model\"}}\n",
    )
    .unwrap();
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    let r = env.run(&[
        "setup",
        "claude",
        "-p",
        "keys",
        "--bearer",
        "--small-model",
        "small.model",
    ]);
    r.ok();
    assert!(r.stderr.contains("bearer mode: apiKeyHelper gives Claude Code a Bedrock token, never AWS keys; awsCredentialExport removed; models my.pinned-model and small.model"), "{}", r.stderr);
    let doc = json(&std::fs::read_to_string(settings(&env)).unwrap());
    assert_eq!(doc["theme"], "dark");
    assert!(doc.get("awsCredentialExport").is_none(), "{doc}");
    assert_eq!(
        doc["apiKeyHelper"],
        format!("{} export --profile keys --format bedrock-token", bin())
    );
    assert_eq!(
        doc["env"],
        serde_json::json!({
            "ANTHROPIC_MODEL": "my.pinned-model",
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "AWS_REGION": "eu-west-1",
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
            "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": "300000",
            "ANTHROPIC_SMALL_FAST_MODEL": "small.model",
        })
    );
    // The helper works as Claude Code runs it: a token on stdout, nothing else.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(doc["apiKeyHelper"].as_str().unwrap())
        .env_clear()
        .envs(env.vars.iter().cloned())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("bedrock-api-key-") && stdout.lines().count() == 1,
        "{stdout}"
    );
    let d = env.run(&["doctor", "-p", "keys"]);
    assert!(
        d.stdout.contains("runs")
            && d.stdout.contains(
                "as apiKeyHelper (bearer mode: Claude Code holds a Bedrock token, never AWS keys)"
            ),
        "{}",
        d.stdout
    );
    // Long-term keys need no sign-in: no word of one.
    assert!(
        !d.stdout.contains("when the session needs a person"),
        "{}",
        d.stdout
    );
    // A bearer file without a pinned model: doctor says so.
    let mut unpinned = doc.clone();
    unpinned["env"]
        .as_object_mut()
        .unwrap()
        .remove("ANTHROPIC_MODEL");
    std::fs::write(settings(&env), unpinned.to_string()).unwrap();
    let d = env.run(&["doctor", "-p", "keys", "--json"]);
    let report = json(&d.stdout);
    assert_eq!(report["claude_code"][0]["mode"], "bearer");
    assert!(
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["problem"]
                .as_str()
                .unwrap()
                .contains("no model is pinned (ANTHROPIC_MODEL)")),
        "{report}"
    );
    // Back to SigV4: the helper and bearer switches go, the pinned models stay the user's.
    std::fs::write(settings(&env), doc.to_string()).unwrap();
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    let back = json(&std::fs::read_to_string(settings(&env)).unwrap());
    assert!(back.get("apiKeyHelper").is_none(), "{back}");
    assert!(
        back["env"].get("CLAUDE_CODE_SKIP_BEDROCK_AUTH").is_none(),
        "{back}"
    );
    assert_eq!(back["env"]["ANTHROPIC_MODEL"], "my.pinned-model");
    assert!(back["awsCredentialExport"]
        .as_str()
        .unwrap()
        .ends_with("--format claude"));
    // --model needs --bearer.
    assert_eq!(
        env.run(&["setup", "claude", "-p", "keys", "--model", "m"])
            .code,
        2
    );
}

/// A repository's own `.claude/settings.json` that runs creds: doctor says its hooks run only
/// once the folder is trusted; the user's file (also `~/.claude` when run from home) is not
/// flagged.
#[test]
fn doctor_notes_creds_hooks_in_a_projects_settings() {
    let env = TestEnv::new();
    env.config(STATIC);
    let project = env.home().join("work/repo");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    env.command(&["setup", "claude", "-p", "keys", "--scope", "project"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(project.join(".claude/settings.json").exists());
    let out = env
        .command(&["doctor", "-p", "keys"])
        .current_dir(&project)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("a project's settings run creds (awsCredentialExport); Claude Code runs a project's hooks only once you trust the folder"),
        "{stdout}"
    );
    // The user's own settings, from the home folder: nothing to say.
    env.run(&["setup", "claude", "-p", "keys"]).ok();
    let out = env
        .command(&["doctor", "-p", "keys"])
        .current_dir(env.home())
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stdout)
        .unwrap()
        .contains("a project's settings"));
}
