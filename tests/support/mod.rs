//! Test support for the binary tests: STS and IAM Identity Center servers on 127.0.0.1 (over
//! one HTTP reader, `http.rs`) and a temporary HOME to run the real binary in.

#![allow(dead_code)]

pub mod fake_sso;
pub mod fake_sts;
pub mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use fake_sso::SsoServer;
pub use fake_sts::StsServer;

/// A temporary HOME with its own config files and cache, and a clean environment.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        &self.stdout
    }

    /// Asserts failure with `code`, empty stdout and a one-line stderr containing `text`.
    #[track_caller]
    pub fn fails(&self, code: i32, text: &str) -> &str {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "stdout must be empty on failure");
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}: {}",
            self.stderr
        );
        assert!(self.stderr.starts_with("creds: "), "{}", self.stderr);
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line on stderr: {}",
            self.stderr
        );
        &self.stderr
    }

    /// Like [`Run::fails`] for commands that print progress first (`login`): the error is the
    /// last line of stderr.
    #[track_caller]
    pub fn fails_last_line(&self, code: i32, text: &str) -> &str {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "stdout must be empty on failure");
        let last = self.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("creds: ") && last.contains(text),
            "last line lacks {text:?}: {}",
            self.stderr
        );
        last
    }
}

/// The binary under test: this build's, or `CREDS_TEST_BIN` (to run the binary tests against
/// another build, e.g. to see a regression test fail on the build before a fix).
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("CREDS_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_creds").to_string())
    })
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.aws")).unwrap();
        let home = dir.path().join("home").to_string_lossy().into_owned();
        let vars = vec![
            ("HOME".to_string(), home.clone()),
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
            ("CREDS_CACHE_DIR".to_string(), format!("{home}/cache")),
            ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ];
        TestEnv { dir, vars }
    }

    pub fn with_sts(sts: &StsServer) -> TestEnv {
        let mut env = TestEnv::new();
        env.set("AWS_ENDPOINT_URL_STS", &sts.url());
        env
    }

    /// A HOME whose SSO OIDC and portal endpoints are `sso` (and STS `sts`, if given).
    pub fn with_sso(sso: &SsoServer, sts: Option<&StsServer>) -> TestEnv {
        let mut env = TestEnv::new();
        env.set("AWS_ENDPOINT_URL_SSO", &sso.url());
        env.set("AWS_ENDPOINT_URL_SSO_OIDC", &sso.url());
        if let Some(sts) = sts {
            env.set("AWS_ENDPOINT_URL_STS", &sts.url());
        }
        env
    }

    /// `~/.aws/sso/cache/<name>`.
    pub fn sso_cache(&self, name: &str) -> PathBuf {
        self.home().join(".aws/sso/cache").join(name)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home().join("cache")
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
    }

    pub fn unset(&mut self, key: &str) {
        self.vars.retain(|(k, _)| k != key);
    }

    pub fn config(&self, text: &str) {
        std::fs::write(self.home().join(".aws/config"), text).unwrap();
    }

    pub fn credentials(&self, text: &str) {
        std::fs::write(self.home().join(".aws/credentials"), text).unwrap();
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        to_run(self.command(args).output().unwrap())
    }

    /// The cache entries (`*.json`) in the cache directory.
    pub fn cache_entries(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.cache_dir()) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        v.sort();
        v
    }

    /// Rewrites the cache entry of `hop` as if fetched `fetched_ago` before now and expiring
    /// `left` after now (`fetched_ago` `None`: its fetch time stays).
    pub fn age_entry(
        &self,
        hop: &str,
        left: chrono::Duration,
        fetched_ago: Option<chrono::Duration>,
    ) {
        let (path, mut entry) = self.cache_entry(hop);
        let now = chrono::Utc::now();
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        entry["Credentials"]["Expiration"] = stamp(now + left).into();
        if let Some(ago) = fetched_ago {
            entry["FetchedAt"] = stamp(now - ago).into();
        }
        std::fs::write(&path, entry.to_string()).unwrap();
    }

    /// The cache entry whose `Hop` contains `hop`.
    pub fn cache_entry(&self, hop: &str) -> (PathBuf, serde_json::Value) {
        for path in self.cache_entries() {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if v["Hop"].as_str().is_some_and(|h| h.contains(hop)) {
                return (path, v);
            }
        }
        panic!("no cache entry for {hop}");
    }
}

pub fn to_run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}
