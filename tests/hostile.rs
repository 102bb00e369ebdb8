//! Hostile input and hostile file systems, against the built binary: nothing printed for a
//! shell runs, an unusable or untrusted cache is skipped (with one warning), only creds' own
//! files are ever removed, no FIFO or symlink in the cache can hang or redirect creds, and
//! user files stay symlinks.

use crate::support::{json, StsServer, TestEnv};
use std::path::Path;
#[cfg(unix)]
use std::time::Duration;

const KEYS: &str = "[profile keys]\naws_access_key_id = AKIDHOSTILE0000001\naws_secret_access_key = hostile/secret\n[profile a]\nrole_arn = arn:aws:iam::111111111111:role/RoleA\nsource_profile = keys\n";

fn sh(script: &str, arg: &str, cwd: &Path) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(arg)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn shell_formats_print_values_that_no_shell_runs() {
    let env = TestEnv::new();
    let helper = env.write(
        "helper.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIA$(touch x)\", \"SecretAccessKey\": \"it'\"'\"'s `touch y`\", \"SessionToken\": \"tok\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
    );
    env.config(&format!(
        "[profile p]\ncredential_process = sh {}\nregion = us-east-1;touch${{IFS}}pwned\n",
        helper.display()
    ));
    let mut env = env;
    env.unset("AWS_REGION");
    let doc = env
        .run(&["export", "-p", "p", "-f", "env"])
        .ok()
        .to_string();
    let work = env.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let seen = sh(
        "eval \"$1\"; printf '%s|%s|%s' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_REGION\"",
        &doc,
        &work,
    );
    assert_eq!(
        seen,
        "ASIA$(touch x)|it's `touch y`|us-east-1;touch${IFS}pwned"
    );
    let no_export = env
        .run(&["export", "-p", "p", "-f", "env-no-export"])
        .ok()
        .to_string();
    sh("eval \"$1\"", &no_export, &work);
    let made: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
    assert!(made.is_empty(), "nothing ran: {made:?}");
    // cmd.exe cannot quote `%`: such a value is refused, not printed.
    std::fs::write(
        &helper,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIA%PATH%\", \"SecretAccessKey\": \"s\"}'\n",
    )
    .unwrap();
    env.run(&["export", "-p", "p", "-f", "windows-cmd", "--no-cache"])
        .fails(1, "AWS_ACCESS_KEY_ID holds characters that cmd.exe");
}

#[test]
fn an_unusable_cache_is_warned_about_once_and_skipped() {
    let sts = StsServer::start();
    let mut env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    // A file where the directory should be.
    let file = env.write("not-a-dir", "x");
    env.set("CREDS_CACHE_DIR", file.to_str().unwrap());
    for round in 1..=2 {
        let r = env.run(&["export", "-p", "a"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            json(&r.stdout)["AccessKeyId"],
            format!("ASIAFAKE{round:08}")
        );
        assert_eq!(r.stderr.lines().count(), 1, "one warning: {}", r.stderr);
        assert!(
            r.stderr
                .contains("is not a directory; credentials are served uncached"),
            "{}",
            r.stderr
        );
    }
    // A directory others can write to (even if it is ours): not used, and not chmod-ed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shared = env.dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        env.set("CREDS_CACHE_DIR", shared.to_str().unwrap());
        let r = env.run(&["export", "-p", "a"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("can be written by other users"),
            "{}",
            r.stderr
        );
        assert_eq!(
            std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777,
            0o1777
        );
        assert_eq!(
            std::fs::read_dir(&shared).unwrap().count(),
            0,
            "nothing written"
        );
    }
    // A HOME that does not exist is not created.
    let mut nohome = TestEnv::with_sts(&sts);
    let config = nohome.write("config", KEYS);
    let missing = nohome.dir.path().join("no/such/home");
    nohome.set("HOME", missing.to_str().unwrap());
    nohome.unset("CREDS_CACHE_DIR");
    nohome.set("AWS_CONFIG_FILE", config.to_str().unwrap());
    let r = nohome.run(&["export", "-p", "a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !nohome.dir.path().join("no").exists(),
        "HOME was not created"
    );
}

#[cfg(unix)]
#[test]
fn a_cache_directory_of_another_user_is_never_trusted() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        // Only root can hand a directory to another user; the mode test above covers the rest.
        return;
    }
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    env.run(&["export", "-p", "a"]).ok();
    assert_eq!(sts.calls().len(), 1);
    // Another user now owns the directory and its (fresh) entries: nothing is read from it,
    // nothing is written to it, and its mode is left alone.
    let dir = env.cache_dir();
    for path in std::iter::once(dir.clone())
        .chain(std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()))
    {
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    }
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let r = env.run(&["export", "-p", "a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("belongs to user id 65534"),
        "{}",
        r.stderr
    );
    assert_eq!(sts.calls().len(), 2, "the planted entry was not handed out");
    let after: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len());
}

#[test]
fn a_full_disk_still_serves_credentials() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    // No byte can be written (RLIMIT_FSIZE 0, with SIGXFSZ ignored so writes fail with EFBIG).
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$CREDS\" export -p a")
        .env_clear()
        .envs(env.vars.iter().cloned())
        .env("CREDS", crate::support::bin());
    let r = crate::support::to_run(cmd.output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&r.stdout)["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIAFAKE"));
    assert!(
        r.stderr.contains("credentials are served uncached"),
        "{}",
        r.stderr
    );
}

#[test]
fn clearing_removes_only_what_creds_made() {
    let sts = StsServer::start();
    let mut env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    let project = env.dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&project, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for name in ["package.json", "yarn.lock", ".env", "notes.err", "a.json"] {
        std::fs::write(project.join(name), "keep me").unwrap();
    }
    env.set("CREDS_CACHE_DIR", project.to_str().unwrap());
    env.run(&["export", "-p", "a"]).ok();
    assert_eq!(
        env.run(&["cache", "list", "--json"])
            .ok()
            .matches("\"hop\"")
            .count(),
        1
    );
    env.run(&["cache", "clear", "--all"]).ok();
    env.run(&["export", "-p", "a"]).ok();
    env.run(&["logout", "--all"]).ok();
    let mut left: Vec<String> = std::fs::read_dir(&project)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [".env", "a.json", "notes.err", "package.json", "yarn.lock"]
    );
}

#[cfg(unix)]
#[test]
fn fifos_and_symlinks_in_the_cache_neither_hang_nor_redirect() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    env.run(&["export", "-p", "a"]).ok();
    let (entry, _) = env.cache_entry("RoleA");
    let key = entry.file_stem().unwrap().to_str().unwrap().to_string();
    // The entry becomes a FIFO: a miss, refetched, never a hang.
    std::fs::remove_file(&entry).unwrap();
    let c = std::ffi::CString::new(entry.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let r = run_bounded(&env, &["export", "-p", "a"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sts.calls().len(), 2);
    assert!(
        std::fs::metadata(&entry).unwrap().is_file(),
        "replaced by an entry"
    );
    // A dangling lock symlink pointing outside the directory: nothing is created there.
    let outside = env.dir.path().join("outside-lock");
    let lock = env.cache_dir().join(format!("{key}.lock"));
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&outside, &lock).unwrap();
    let r = env.run(&["export", "-p", "a", "--refresh"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!outside.exists(), "followed the lock symlink");
}

/// Runs `env`'s `creds` with `args` and `vars`, failing the test if it runs 30 s.
#[cfg(unix)]
fn run_bounded(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> crate::support::Run {
    let mut child = env
        .command(args)
        .envs(vars.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = Duration::ZERO;
    while child.try_wait().unwrap().is_none() {
        if waited > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("creds {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    crate::support::to_run(child.wait_with_output().unwrap())
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_pipe_as_the_config_never_hangs() {
    let env = TestEnv::new();
    env.config(KEYS);
    let fifo = env.dir.path().join("config.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = fifo.to_str().unwrap();
    // Nobody writes to it: it reads as empty (as /dev/null does), so the profile is unknown.
    let r = run_bounded(
        &env,
        &["export", "-p", "keys"],
        &[("AWS_CONFIG_FILE", path)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("`keys`"), "{}", r.stderr);
    let r = run_bounded(
        &env,
        &["export", "-p", "keys"],
        &[("AWS_SHARED_CREDENTIALS_FILE", path)],
    );
    assert_eq!(r.code, 0, "the config alone serves: {}", r.stderr);
    // A writer that never writes: given up on after 5 s, naming the file.
    let writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let r = run_bounded(
        &env,
        &["export", "-p", "keys"],
        &[("AWS_CONFIG_FILE", path)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{path}: cannot read the file: not a regular file, and it gave no end of its text within 5 s"
        )),
        "{}",
        r.stderr
    );
    drop(writer);
    // A pipe that gives the text (a shell's `<(...)`) is read whole.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"AWS_CONFIG_FILE=<(cat "$2") "$1" export -p keys --format env"#)
        .arg("bash")
        .arg(crate::support::bin())
        .arg(env.home().join(".aws/config"))
        .env_clear()
        .env("HOME", env.home())
        .env("CREDS_CACHE_DIR", env.cache_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("AWS_ACCESS_KEY_ID=AKIDHOSTILE0000001"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn temporary_files_of_killed_writers_are_removed() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    std::fs::create_dir_all(env.cache_dir()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.cache_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // What a writer killed between write and rename leaves (pid 4194303 is beyond any live one
    // on this machine), beside a temporary file of another program.
    let key = "ab".repeat(32);
    let ours = env.cache_dir().join(format!(".{key}.json.4194303.7.tmp"));
    let theirs = env.cache_dir().join(".package.json.4194303.7.tmp");
    std::fs::write(&ours, "{\"SecretAccessKey\":\"left-behind\"}").unwrap();
    std::fs::write(&theirs, "x").unwrap();
    env.run(&["export", "-p", "a"]).ok();
    assert!(!ours.exists(), "the next write removes it");
    assert!(theirs.exists(), "not creds' name");
    // Where creds writes them now (`.tmp`): even a cache hit removes them.
    let tmp = env.cache_dir().join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let left = tmp.join(format!(".{key}.json.4194303.8.tmp"));
    std::fs::write(&left, "{\"SecretAccessKey\":\"left-behind\"}").unwrap();
    let r = env.run(&["-v", "export", "-p", "a"]);
    assert!(r.stderr.contains("cached"), "{}", r.stderr);
    assert!(!left.exists() && !tmp.exists(), "a hit sweeps .tmp");
    // In the SSO cache, `cache clear --all` removes them.
    let sso = env.sso_cache("");
    std::fs::create_dir_all(&sso).unwrap();
    let token_tmp = sso.join(format!(".{}.json.4194303.9.tmp", "cd".repeat(20)));
    std::fs::write(&token_tmp, "{\"accessToken\":\"left-behind\"}").unwrap();
    std::fs::write(&ours, "x").unwrap();
    env.run(&["cache", "clear", "--all"]).ok();
    assert!(!token_tmp.exists() && !ours.exists());
    assert!(theirs.exists());
}

#[cfg(unix)]
#[test]
fn setup_writes_through_symlinked_files() {
    let env = TestEnv::new();
    let dotfiles = env.dir.path().join("dotfiles");
    std::fs::create_dir_all(dotfiles.join("claude")).unwrap();
    std::fs::write(
        dotfiles.join("aws-config"),
        format!("{KEYS}region = eu-west-1\n"),
    )
    .unwrap();
    let config = env.home().join(".aws/config");
    std::os::unix::fs::symlink(dotfiles.join("aws-config"), &config).unwrap();
    env.run(&["setup", "profile", "via", "--from", "keys"]).ok();
    assert!(std::fs::symlink_metadata(&config)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(dotfiles.join("aws-config"))
        .unwrap()
        .contains("[profile via]"));

    std::fs::create_dir_all(env.home().join(".claude")).unwrap();
    std::fs::write(
        dotfiles.join("claude/settings.json"),
        "{\"theme\": \"dark\"}\n",
    )
    .unwrap();
    let settings = env.home().join(".claude/settings.json");
    std::os::unix::fs::symlink(dotfiles.join("claude/settings.json"), &settings).unwrap();
    env.run(&["setup", "claude", "-p", "keys", "--region", "eu-west-1"])
        .ok();
    assert!(std::fs::symlink_metadata(&settings)
        .unwrap()
        .file_type()
        .is_symlink());
    let doc = json(&std::fs::read_to_string(dotfiles.join("claude/settings.json")).unwrap());
    assert_eq!(doc["theme"], "dark");
    assert_eq!(doc["env"]["AWS_REGION"], "eu-west-1");
}

/// Whether the process exists and is not a zombie.
#[cfg(target_os = "linux")]
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
fn wait_gone(pid: &str) -> bool {
    for _ in 0..300 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[cfg(target_os = "linux")]
#[test]
fn a_credential_process_is_bounded_in_time_and_output() {
    let mut env = TestEnv::new();
    let dir = env.dir.path().to_path_buf();
    let doc = r#"{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}"#;
    let hung = env.write(
        "hung.sh",
        &format!(
            "#!/bin/sh\necho $$ > {0}/hung.pid\nsleep 3600 &\necho $! > {0}/child.pid\nwait\n",
            dir.display()
        ),
    );
    let lingering = env.write(
        "lingering.sh",
        &format!(
            "#!/bin/sh\nsleep 30 &\necho $! > {}/lingering.pid\necho '{doc}'\n",
            dir.display()
        ),
    );
    let endless = env.write(
        "endless.sh",
        "#!/bin/sh\nexec yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    );
    env.config(&format!(
        "[profile hung]\ncredential_process = sh {}\n[profile lingering]\ncredential_process = sh {}\n[profile endless]\ncredential_process = sh {}\n",
        hung.display(),
        lingering.display(),
        endless.display()
    ));
    env.set("CREDS_PROCESS_TIMEOUT", "2s");
    // A hung process is stopped at the limit, with everything it started.
    let r = env.run(&["export", "-p", "hung"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("did not finish within 2s and was stopped"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("CREDS_PROCESS_TIMEOUT"), "{}", r.stderr);
    let hung_pid = std::fs::read_to_string(dir.join("hung.pid")).unwrap();
    let child_pid = std::fs::read_to_string(dir.join("child.pid")).unwrap();
    assert!(
        wait_gone(&hung_pid) && wait_gone(&child_pid),
        "the process group was killed"
    );
    // A process that prints its document and leaves a child holding stdout is not waited for.
    let started = std::time::Instant::now();
    let r = env.run(&["export", "-p", "lingering"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["AccessKeyId"], "AKIDPROC");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let _ = std::process::Command::new("kill")
        .arg(
            std::fs::read_to_string(dir.join("lingering.pid"))
                .unwrap()
                .trim(),
        )
        .status();
    // Endless output is cut off at 1 MiB and the process stopped.
    let r = env.run(&["export", "-p", "endless"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("printed more than 1048576 bytes"),
        "{}",
        r.stderr
    );
    env.set("CREDS_PROCESS_TIMEOUT", "soon");
    env.run(&["export", "-p", "lingering"])
        .fails(3, "CREDS_PROCESS_TIMEOUT=`soon`");
}

#[cfg(target_os = "linux")]
#[test]
fn a_credential_process_dies_with_a_killed_creds() {
    let env = TestEnv::new();
    let dir = env.dir.path().to_path_buf();
    let hung = env.write(
        "hung.sh",
        &format!(
            "#!/bin/sh\necho $$ > {}/pid\nexec sleep 3600\n",
            dir.display()
        ),
    );
    env.config(&format!(
        "[profile hung]\ncredential_process = sh {}\n",
        hung.display()
    ));
    let mut child = env.command(&["export", "-p", "hung"]).spawn().unwrap();
    let pid_file = dir.join("pid");
    for _ in 0..1000 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(alive(&pid));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(wait_gone(&pid), "the helper outlived a killed creds");
}

#[test]
fn no_input_aborts_the_process() {
    let env = TestEnv::new();
    env.config("[profile p]\naws_access_key_id = AKIDéééééééééé\naws_secret_access_key = s\nregion = us-east-1\n[profile q]\naws_access_key_id = é\naws_secret_access_key = s\n");
    for profile in ["p", "q"] {
        let r = env.run(&["doctor", "-p", profile]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    assert!(env.run(&["doctor", "-p", "p"]).stdout.contains("AKID…éééé"));
    for ttl in ["9223372036854776", "99999999999h", "9223372036854775807s"] {
        let r = env.run(&["export", "-p", "p", "--min-ttl", ttl]);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{ttl}: {}", r.stderr);
    }
}

#[test]
fn malformed_sts_replies_exit_1_and_are_neither_cached_nor_remembered() {
    let sts = StsServer::start();
    let env = TestEnv::with_sts(&sts);
    env.config(KEYS);
    let creds = |inner: &str| {
        format!("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>A:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/R/s</Arn></AssumedRoleUser><Credentials>{inner}</Credentials></AssumeRoleResult></AssumeRoleResponse>")
    };
    let cases = [
        (creds("<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"), "no Expiration"),
        (creds("<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><Expiration>2099-01-01T00:00:00Z</Expiration>"), "no SessionToken"),
        (creds("<AccessKeyId></AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"), "no AccessKeyId"),
        (creds("<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>soon</Expiration>"), "HTTP 200"),
        ("not xml at all".to_string(), "HTTP 200, neither AssumeRole's answer nor an AWS error"),
        (String::new(), "HTTP 200"),
        ("<Foo/>".to_string(), "HTTP 200"),
        ("<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>".to_string(), "no Credentials"),
    ];
    for (body, why) in &cases {
        sts.reply_next(200, body);
        let before = sts.calls().len();
        let r = env.run(&["export", "-p", "a"]);
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{body}: {}", r.stderr);
        assert!(
            r.stderr.contains("AWS sent a reply creds cannot read"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(why), "{body}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1);
        assert!(env.cache_entries().is_empty(), "not cached");
        // Not remembered: the next caller asks STS again (and gets a good answer).
        env.run(&["export", "-p", "a"]).ok();
        assert_eq!(sts.calls().len(), before + 2);
        env.run(&["cache", "clear", "--all"]).ok();
    }
    // A gateway's 502 page (after the SDK's retries) is a network failure, exit 6.
    for _ in 0..3 {
        sts.reply_next(502, "<html>Bad Gateway</html>");
    }
    env.run(&["export", "-p", "a"])
        .fails(6, "HTTP 502 without an AWS error");
}

/// A small deterministic sequence of pseudo-random numbers (no dependency, same every run).
#[cfg(unix)]
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Names of temporary files anywhere below `dir`.
#[cfg(unix)]
fn temp_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(temp_files(&path));
        } else if path.to_string_lossy().ends_with(".tmp") {
            out.push(path.display().to_string());
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn kill_9_at_random_points_leaves_a_usable_cache_and_no_secrets() {
    let sts = StsServer::start();
    sts.set_delay(Duration::from_millis(30));
    let env = TestEnv::with_sts(&sts);
    env.config(&format!(
        "{KEYS}[profile b]\nrole_arn = arn:aws:iam::222222222222:role/RoleB\nsource_profile = a\n"
    ));
    let mut seed = 7u64;
    for round in 0..30 {
        // Cold (every hop written) or refreshing (every hop written over a fresh entry).
        if round % 2 == 0 {
            env.run(&["cache", "clear", "--all"]).ok();
        }
        let args = ["export", "-p", "b", "--refresh"];
        let mut child = env
            .command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(lcg(&mut seed) % 120));
        let _ = child.kill();
        let _ = child.wait();
        // The next caller proceeds (the killed one's locks died with it).
        let r = env.run(&["export", "-p", "b"]);
        assert_eq!(r.code, 0, "round {round}: {}", r.stderr);
        assert!(
            temp_files(&env.cache_dir()).is_empty(),
            "round {round}: {:?}",
            temp_files(&env.cache_dir())
        );
    }
    env.run(&["cache", "clear", "--all"]).ok();
    assert!(temp_files(&env.cache_dir()).is_empty());
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_or_a_closed_pipe_is_handled() {
    let env = TestEnv::new();
    env.credentials("[default]\naws_access_key_id = AKIDCLOSED\naws_secret_access_key = s\n");
    let run = |script: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env_clear()
            .envs(env.vars.iter().cloned())
            .env("CREDS", crate::support::bin())
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Started with stdout closed: nothing creds opens becomes its stdout.
    let (out, err) = run("\"$CREDS\" export >&-; echo \"exit $?\"");
    assert_eq!(out, "exit 0\n", "{err}");
    // A reader that went away: reported, exit 1, not a silent death by SIGPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let r = crate::support::to_run(
        env.command(&["export"])
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write to stdout"), "{}", r.stderr);
}
