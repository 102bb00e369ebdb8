//! In-process fakes for the seams of `creds::context::Context`: STS, IAM Identity Center, a
//! browser that is never there, a redirect listener fed by the test, and a manual clock. Each
//! fake is a cheap handle over shared state, so a test keeps one and gives a clone to the
//! context.

#![allow(dead_code)] // each test file uses part of it

use chrono::{DateTime, Duration, Utc};
use creds::aws::sso::{
    DeviceAuthorization, Endpoints, Grant, RegisterRequest, Registration, SsoApi, TokenError,
    TokenGrant,
};
use creds::aws::sts::{AssumeRoleRequest, Sts, StsTarget};
use creds::context::{
    Browser, Clock, Context, Env, ManualClock, Paths, ProcessOutput, ProcessRunner,
    RedirectListener, RedirectRequest, Redirects,
};
use creds::error::{Error, Kind, Result};
use creds::secret::{Credentials, Secret};
use creds::ui::{Captured, Ui};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub fn t(text: &str) -> DateTime<Utc> {
    creds::wire::parse_time(text).unwrap()
}

/// One STS call as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsCall {
    pub operation: &'static str,
    pub role_arn: Option<String>,
    /// The access key id of the credentials that signed the call.
    pub signed_with: String,
    /// `SerialNumber` and `TokenCode`, when the call carried them.
    pub mfa: Option<(String, String)>,
    /// `DurationSeconds` of a `GetSessionToken` call.
    pub duration: Option<u32>,
}

#[derive(Default)]
struct StsState {
    calls: Vec<StsCall>,
    /// Errors to answer with, one per call, before answering normally again.
    failures: VecDeque<Error>,
    /// How long issued credentials last.
    lifetime: Option<Duration>,
    /// Where each AssumeRole would have gone (the SDK's endpoint rules for its target).
    endpoints: Vec<String>,
}

/// STS: answers every call with new credentials valid for an hour from the clock's now.
#[derive(Clone)]
pub struct FakeSts {
    state: Arc<Mutex<StsState>>,
    clock: Arc<ManualClock>,
}

impl FakeSts {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        FakeSts {
            state: Arc::default(),
            clock,
        }
    }
    pub fn calls(&self) -> Vec<StsCall> {
        self.state.lock().unwrap().calls.clone()
    }
    pub fn assumed(&self, role: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.role_arn.as_deref() == Some(role))
            .count()
    }
    pub fn fail_next(&self, err: Error) {
        self.state.lock().unwrap().failures.push_back(err);
    }
    /// Where each AssumeRole would have gone.
    pub fn endpoints(&self) -> Vec<String> {
        self.state.lock().unwrap().endpoints.clone()
    }
    pub fn set_lifetime(&self, lifetime: Duration) {
        self.state.lock().unwrap().lifetime = Some(lifetime);
    }
    fn answer(
        &self,
        operation: &'static str,
        role: Option<&str>,
        with: &Credentials,
    ) -> Result<Credentials> {
        self.answer_mfa(operation, role, with, None)
    }
    fn answer_mfa(
        &self,
        operation: &'static str,
        role: Option<&str>,
        with: &Credentials,
        mfa: Option<&creds::aws::sts::MfaCode>,
    ) -> Result<Credentials> {
        let mut s = self.state.lock().unwrap();
        s.calls.push(StsCall {
            operation,
            role_arn: role.map(str::to_string),
            signed_with: with.access_key_id.clone(),
            mfa: mfa.map(|m| (m.serial.clone(), m.code.expose().to_string())),
            duration: None,
        });
        if let Some(err) = s.failures.pop_front() {
            return Err(err);
        }
        let n = s.calls.len();
        Ok(Credentials {
            access_key_id: format!("ASIAFAKE{n:08}"),
            secret_access_key: Secret::new(format!("fake-secret-{n}")),
            session_token: Some(Secret::new(format!("fake-token-{n}"))),
            expiration: Some(self.clock.now() + s.lifetime.unwrap_or(Duration::hours(1))),
            account_id: None,
        })
    }
}

impl Sts for FakeSts {
    fn assume_role_with_web_identity(
        &self,
        _: &StsTarget,
        request: &creds::aws::sts::WebIdentityRequest,
    ) -> Result<Credentials> {
        let with = Credentials {
            access_key_id: format!("token:{}", request.token.expose()),
            secret_access_key: Secret::new(""),
            session_token: None,
            expiration: None,
            account_id: None,
        };
        self.answer("AssumeRoleWithWebIdentity", Some(&request.role_arn), &with)
    }

    fn get_caller_identity(
        &self,
        _: &StsTarget,
        with: &Credentials,
    ) -> Result<creds::aws::sts::CallerIdentity> {
        self.answer("GetCallerIdentity", None, with)?;
        Ok(creds::aws::sts::CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/R/s".into(),
            server_time: Some(self.clock.now() + Duration::seconds(90)),
        })
    }

    fn assume_role(
        &self,
        target: &StsTarget,
        with: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials> {
        let endpoint = creds::aws::sts::resolved_endpoint(target).unwrap();
        self.state.lock().unwrap().endpoints.push(endpoint);
        self.answer_mfa(
            "AssumeRole",
            Some(&request.role_arn),
            with,
            request.mfa.as_ref(),
        )
    }
    fn get_session_token(
        &self,
        _: &StsTarget,
        with: &Credentials,
        mfa: Option<&creds::aws::sts::MfaCode>,
        duration: Option<u32>,
    ) -> Result<Credentials> {
        let answer = self.answer_mfa("GetSessionToken", None, with, mfa);
        if let Some(call) = self.state.lock().unwrap().calls.last_mut() {
            call.duration = duration;
        }
        answer
    }
}

/// What the fake IAM Identity Center answers to `CreateToken` with a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAnswer {
    Pending,
    SlowDown,
    Denied,
    Expired,
    Approve,
}

#[derive(Default)]
pub struct SsoState {
    /// Every call: (operation, detail).
    pub log: Vec<(&'static str, String)>,
    /// The answers to device-code polls, in order; `Approve` when none is left.
    pub device: VecDeque<DeviceAnswer>,
    /// The answer to a refresh-token grant: `None` issues a new token (rotating the refresh
    /// token); `Some` fails with it.
    pub refresh_error: Option<fn() -> TokenError>,
    /// When set, GetRoleCredentials fails with it.
    pub role_error: Option<fn() -> Error>,
    /// The monotonic time of each device-code poll.
    pub polled_at: Vec<std::time::Duration>,
    /// What the user had been shown when the first device-code poll came.
    pub shown_at_first_poll: Option<Vec<String>>,
    pub interval: i64,
    pub code_expires_in: i64,
    pub issued: usize,
    /// What ListAccounts and ListAccountRoles list: (id, name, roles), two to a page.
    pub accounts: Vec<(String, String, Vec<String>)>,
}

#[derive(Clone)]
pub struct FakeSso {
    pub state: Arc<Mutex<SsoState>>,
    clock: Arc<ManualClock>,
    shown: Captured,
}

impl FakeSso {
    pub fn new(clock: Arc<ManualClock>, shown: Captured) -> Self {
        let state = SsoState {
            interval: 5,
            code_expires_in: 600,
            ..SsoState::default()
        };
        FakeSso {
            state: Arc::new(Mutex::new(state)),
            clock,
            shown,
        }
    }
    pub fn count(&self, op: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(o, _)| *o == op)
            .count()
    }
    pub fn with<R>(&self, f: impl FnOnce(&mut SsoState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
    fn issue(&self) -> TokenGrant {
        let n = self.with(|s| {
            s.issued += 1;
            s.issued
        });
        TokenGrant {
            access_token: Secret::new(format!("aoa-access-{n}")),
            expires_in: 8 * 3600,
            refresh_token: Some(Secret::new(format!("aor-refresh-{n}"))),
        }
    }
}

impl SsoApi for FakeSso {
    fn register_client(
        &self,
        _: &str,
        _: &Endpoints,
        request: &RegisterRequest,
        now: DateTime<Utc>,
    ) -> Result<Registration> {
        self.with(|s| s.log.push(("RegisterClient", request.client_name.clone())));
        Ok(Registration {
            client_id: "client-1".into(),
            client_secret: Secret::new("client-secret-1"),
            expires_at: now + Duration::days(90),
            scopes: Some(request.scopes.clone()),
            grant_types: Some(request.grant_types.clone()),
        })
    }
    fn start_device_authorization(
        &self,
        _: &str,
        _: &Endpoints,
        _: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization> {
        let (interval, expires_in) = self.with(|s| {
            s.log
                .push(("StartDeviceAuthorization", start_url.to_string()));
            (s.interval, s.code_expires_in)
        });
        Ok(DeviceAuthorization {
            device_code: Secret::new("device-code-1"),
            user_code: "CODE-1234".into(),
            verification_uri: "https://device.sso.example/".into(),
            verification_uri_complete: Some(
                "https://device.sso.example/?user_code=CODE-1234".into(),
            ),
            expires_in,
            interval,
        })
    }
    fn create_token(
        &self,
        _: &str,
        _: &Endpoints,
        _: &Registration,
        grant: Grant<'_>,
    ) -> std::result::Result<TokenGrant, TokenError> {
        match grant {
            Grant::DeviceCode(_) => {
                let now = self.clock.monotonic();
                let shown = self.shown.lines();
                let answer = self.with(|s| {
                    s.shown_at_first_poll.get_or_insert(shown);
                    s.log.push(("CreateToken", "device_code".into()));
                    s.polled_at.push(now);
                    s.device.pop_front().unwrap_or(DeviceAnswer::Approve)
                });
                match answer {
                    DeviceAnswer::Pending => Err(TokenError::AuthorizationPending),
                    DeviceAnswer::SlowDown => Err(TokenError::SlowDown),
                    DeviceAnswer::Denied => Err(TokenError::AccessDenied),
                    DeviceAnswer::Expired => Err(TokenError::Expired),
                    DeviceAnswer::Approve => Ok(self.issue()),
                }
            }
            Grant::RefreshToken(token) => {
                let error = self.with(|s| {
                    s.log
                        .push(("CreateToken", format!("refresh_token {}", token.expose())));
                    s.refresh_error
                });
                match error {
                    Some(make) => Err(make()),
                    None => Ok(self.issue()),
                }
            }
            Grant::AuthorizationCode { code, .. } => {
                self.with(|s| {
                    s.log
                        .push(("CreateToken", format!("authorization_code {code}")))
                });
                Ok(self.issue())
            }
        }
    }
    fn get_role_credentials(
        &self,
        _: &str,
        _: &Endpoints,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials> {
        self.with(|s| {
            s.log.push((
                "GetRoleCredentials",
                format!("{account_id}/{role_name} {}", access_token.expose()),
            ))
        });
        if let Some(error) = self.with(|s| s.role_error) {
            return Err(error());
        }
        if !access_token.expose().starts_with("aoa-") {
            return Err(Error::new(
                Kind::LoginNeeded,
                "the SSO session's token was not accepted (UnauthorizedException)",
            ));
        }
        Ok(Credentials {
            access_key_id: "ASIASSOROLE".into(),
            secret_access_key: Secret::new("sso-role-secret"),
            session_token: Some(Secret::new("sso-role-token")),
            expiration: Some(self.clock.now() + Duration::hours(8)),
            account_id: Some(account_id.to_string()),
        })
    }
    fn logout(&self, _: &str, _: &Endpoints, _: &Secret) -> Result<()> {
        self.with(|s| s.log.push(("Logout", String::new())));
        Ok(())
    }
    fn list_accounts(
        &self,
        _: &str,
        _: &Endpoints,
        token: &Secret,
        next: Option<&str>,
    ) -> Result<creds::aws::sso::Page<creds::aws::sso::Account>> {
        self.with(|s| {
            s.log.push(("ListAccounts", token.expose().to_string()));
            let all: Vec<creds::aws::sso::Account> = s
                .accounts
                .iter()
                .map(|(id, name, _)| creds::aws::sso::Account {
                    id: id.clone(),
                    name: name.clone(),
                })
                .collect();
            Ok(page(all, next))
        })
    }
    fn list_account_roles(
        &self,
        _: &str,
        _: &Endpoints,
        token: &Secret,
        account: &str,
        next: Option<&str>,
    ) -> Result<creds::aws::sso::Page<String>> {
        self.with(|s| {
            s.log
                .push(("ListAccountRoles", format!("{account} {}", token.expose())));
            let roles = s
                .accounts
                .iter()
                .find(|(id, _, _)| id == account)
                .map(|(_, _, roles)| roles.clone())
                .unwrap_or_default();
            Ok(page(roles, next))
        })
    }
}

/// Two items a page; the token is the next page's start.
fn page<T: Clone>(all: Vec<T>, next: Option<&str>) -> creds::aws::sso::Page<T> {
    let start: usize = next.and_then(|n| n.parse().ok()).unwrap_or(0);
    let end = (start + 2).min(all.len());
    creds::aws::sso::Page {
        items: all.get(start..end).unwrap_or_default().to_vec(),
        next: (end < all.len()).then(|| end.to_string()),
    }
}

/// No browser can be opened here.
pub struct NoBrowser;

impl Browser for NoBrowser {
    fn available(&self) -> bool {
        false
    }
    fn open(&self, _: &str) -> std::io::Result<()> {
        Err(std::io::Error::other("no browser"))
    }
}

/// A browser that records the URLs it is sent to and, when it `follows` a redirect listener,
/// comes back to it as IAM Identity Center would, after what other local processes send: a
/// wrong path, an `error=` without the state, a forged state, then the callback with a code
/// and the state of the URL it opened.
#[derive(Clone, Default)]
pub struct RecordingBrowser {
    pub opened: Arc<Mutex<Vec<String>>>,
    pub follows: Option<QueuedRedirects>,
}

impl Browser for RecordingBrowser {
    fn available(&self) -> bool {
        true
    }
    fn open(&self, url: &str) -> std::io::Result<()> {
        self.opened.lock().unwrap().push(url.to_string());
        if let Some(redirects) = &self.follows {
            let state = url
                .split('&')
                .find_map(|kv| kv.strip_prefix("state="))
                .unwrap_or("");
            let mut queue = redirects.requests.lock().unwrap();
            queue.push_back("/favicon.ico".into());
            // Other local processes first: an error without the state, a forged state.
            queue.push_back("/oauth/callback?error=access_denied".into());
            queue.push_back("/oauth/callback?code=stolen&state=forged".into());
            queue.push_back(format!("/oauth/callback?code=the-code&state={state}"));
        }
        Ok(())
    }
}

/// A redirect listener whose requests the test queues (a browser coming back).
#[derive(Clone, Default)]
pub struct QueuedRedirects {
    pub requests: Arc<Mutex<VecDeque<String>>>,
    pub replies: Arc<Mutex<Vec<u16>>>,
}

struct QueuedListener(QueuedRedirects);

impl Redirects for QueuedRedirects {
    fn listen(&self) -> std::io::Result<Box<dyn RedirectListener>> {
        Ok(Box::new(QueuedListener(self.clone())))
    }
}

impl RedirectListener for QueuedListener {
    fn port(&self) -> u16 {
        43210
    }
    fn next(&mut self, _: std::time::Duration) -> std::io::Result<Option<RedirectRequest>> {
        let Some(target) = self.0.requests.lock().unwrap().pop_front() else {
            return Ok(None);
        };
        let replies = self.0.replies.clone();
        Ok(Some(RedirectRequest::new(target, move |status, _| {
            replies.lock().unwrap().push(status)
        })))
    }
}

/// `credential_process` commands answered from a table.
#[derive(Clone, Default)]
pub struct FakeProcesses {
    pub ran: Arc<Mutex<Vec<String>>>,
}

impl ProcessRunner for FakeProcesses {
    fn run(
        &self,
        command: &str,
        _: &[(String, String)],
        _: std::time::Duration,
    ) -> std::io::Result<ProcessOutput> {
        self.ran.lock().unwrap().push(command.to_string());
        if command.contains("fail") {
            return Ok(ProcessOutput {
                code: Some(1),
                stdout: Vec::new(),
                stderr: b"looking for the token\nno token device found\n\n".to_vec(),
            });
        }
        if command.contains("short") {
            // Five minutes left at the tests' start (2030-01-01T00:00:00Z).
            return Ok(ProcessOutput {
                code: Some(0),
                stdout: br#"{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:05:00Z"}"#.to_vec(),
                stderr: Vec::new(),
            });
        }
        if command.contains("mfa") {
            return Ok(ProcessOutput {
                code: Some(0),
                stdout: b"123456\n".to_vec(),
                stderr: Vec::new(),
            });
        }
        Ok(ProcessOutput {
            code: Some(0),
            stdout: br#"{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "procsecret", "SessionToken": "proctoken", "Expiration": "2099-01-01T00:00:00Z"}"#.to_vec(),
            stderr: Vec::new(),
        })
    }
}

/// A credentials service answering each call with new credentials (`PREFIX` + the call's
/// number, valid for `lifetime`) or the next queued error, recording every call.
#[derive(Clone)]
pub struct Issuer {
    calls: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<VecDeque<Error>>>,
    clock: Arc<ManualClock>,
    prefix: &'static str,
    lifetime: Duration,
    account: Option<&'static str>,
}

impl Issuer {
    fn new(clock: Arc<ManualClock>, prefix: &'static str, lifetime: Duration) -> Self {
        Issuer {
            calls: Arc::default(),
            failures: Arc::default(),
            clock,
            prefix,
            lifetime,
            account: None,
        }
    }
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    pub fn fail_next(&self, err: Error) {
        self.failures.lock().unwrap().push_back(err);
    }
    fn answer(&self, call: String) -> Result<Credentials> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(call);
        if let Some(err) = self.failures.lock().unwrap().pop_front() {
            return Err(err);
        }
        let n = calls.len();
        let width = 16usize.saturating_sub(self.prefix.len());
        Ok(Credentials {
            access_key_id: format!("{}{n:0width$}", self.prefix),
            secret_access_key: Secret::new(format!("{}-secret-{n}", self.prefix)),
            session_token: Some(Secret::new(format!("{}-token-{n}", self.prefix))),
            expiration: Some(self.clock.now() + self.lifetime),
            account_id: self.account.map(str::to_string),
        })
    }
}

/// The instance and container metadata services: credentials for six hours; every call is
/// recorded as `instance ENDPOINT` or `container URI`.
#[derive(Clone)]
pub struct FakeMetadata(pub Issuer);

impl FakeMetadata {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        FakeMetadata(Issuer::new(clock, "ASIAMETA", Duration::hours(6)))
    }
    pub fn calls(&self) -> Vec<String> {
        self.0.calls()
    }
    pub fn fail_next(&self, err: Error) {
        self.0.fail_next(err)
    }
}

impl creds::aws::metadata::Metadata for FakeMetadata {
    fn instance(&self, endpoint: &str) -> Result<Credentials> {
        self.0.answer(format!("instance {endpoint}"))
    }
    fn container(&self, c: &creds::aws::metadata::Container) -> Result<Credentials> {
        self.0.answer(format!("container {}", c.uri))
    }
}

/// AWS Sign-In: credentials for 15 minutes; every call is recorded as the session ARN.
#[derive(Clone)]
pub struct FakeSignIn(pub Issuer);

impl FakeSignIn {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        let mut issuer = Issuer::new(clock, "ASIALOGIN", Duration::minutes(15));
        issuer.account = Some("123456789012");
        FakeSignIn(issuer)
    }
    pub fn calls(&self) -> Vec<String> {
        self.0.calls()
    }
    pub fn fail_next(&self, err: Error) {
        self.0.fail_next(err)
    }
}

impl creds::aws::signin::SignIn for FakeSignIn {
    fn credentials(&self, session: &str, _: &StsTarget) -> Result<Credentials> {
        self.0.answer(session.to_string())
    }
}

/// Background renewals: records each one's arguments, and keeps its renewal lock held until
/// [`FakeBackground::finish`] (as a running renewal would).
#[derive(Clone, Default)]
pub struct FakeBackground {
    pub started: Arc<Mutex<Vec<Vec<String>>>>,
    held: Arc<Mutex<Vec<std::fs::File>>>,
}

impl FakeBackground {
    pub fn started(&self) -> Vec<Vec<String>> {
        self.started.lock().unwrap().clone()
    }
    /// The renewals end: their locks are released.
    pub fn finish(&self) {
        self.held.lock().unwrap().clear();
    }
}

impl creds::context::Background for FakeBackground {
    fn renew(
        &self,
        _: &Path,
        args: &[String],
        lock: creds::context::RenewalLock,
    ) -> std::io::Result<()> {
        self.started.lock().unwrap().push(args.to_vec());
        self.held.lock().unwrap().push(lock.file);
        Ok(())
    }
}

/// `creds exec`'s commands: `exec` records the program, its arguments and environment and
/// "exits" 0; `serve` also sends the queued requests (an Authorization of `TOKEN` stands for
/// the run's token), records the answers, and "exits" with `code`.
/// A command run: program, arguments, environment changes.
pub type Ran = (String, Vec<String>, creds::context::ChildEnv);
/// A request to the endpoint: method, path, Authorization.
pub type Request = (String, String, Option<String>);

#[derive(Clone, Default)]
pub struct FakeLauncher {
    pub ran: Arc<Mutex<Vec<Ran>>>,
    pub requests: Arc<Mutex<Vec<Request>>>,
    pub answers: Arc<Mutex<Vec<(u16, String)>>>,
    pub code: i32,
}

impl creds::context::Launcher for FakeLauncher {
    fn exec(
        &self,
        program: &str,
        args: &[String],
        env: &creds::context::ChildEnv,
    ) -> std::io::Result<i32> {
        self.ran
            .lock()
            .unwrap()
            .push((program.into(), args.to_vec(), env.clone()));
        Ok(0)
    }
    fn serve(
        &self,
        program: &str,
        args: &[String],
        env_for: &dyn Fn(u16) -> creds::context::ChildEnv,
        answer: &creds::context::Answer<'_>,
    ) -> std::io::Result<i32> {
        let env = env_for(40123);
        let token = env
            .set
            .iter()
            .find(|(k, _)| k == "AWS_CONTAINER_AUTHORIZATION_TOKEN")
            .map(|(_, v)| v.clone());
        self.ran
            .lock()
            .unwrap()
            .push((program.into(), args.to_vec(), env));
        for (method, path, auth) in self.requests.lock().unwrap().iter() {
            let auth = match auth.as_deref() {
                Some("TOKEN") => token.clone(),
                other => other.map(str::to_string),
            };
            let reply = answer(method, path, auth.as_deref());
            self.answers.lock().unwrap().push(reply);
        }
        Ok(self.code)
    }
}

/// A temporary HOME with the fakes wired into a [`Context`].
pub struct World {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub sts: FakeSts,
    pub sso: FakeSso,
    pub metadata: FakeMetadata,
    pub signin: FakeSignIn,
    pub keyring: creds::keyring::MemoryStore,
    pub background: FakeBackground,
    pub launcher: FakeLauncher,
    pub processes: FakeProcesses,
    pub redirects: QueuedRedirects,
    pub browser: RecordingBrowser,
    pub vars: Vec<(String, String)>,
    /// What creds said on stderr.
    pub shown: Captured,
    /// What creds wrote to the controlling terminal.
    pub terminal: Captured,
    /// The lines creds wrote to stdout (`login` as Claude Code's hook).
    pub stdout_lines: Captured,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home").join(".aws")).unwrap();
        let clock = Arc::new(ManualClock::new(t("2030-01-01T00:00:00Z")));
        let home = dir.path().join("home").display().to_string();
        let shown = Captured::default();
        World {
            sts: FakeSts::new(clock.clone()),
            sso: FakeSso::new(clock.clone(), shown.clone()),
            metadata: FakeMetadata::new(clock.clone()),
            signin: FakeSignIn::new(clock.clone()),
            keyring: creds::keyring::MemoryStore::default(),
            background: FakeBackground::default(),
            launcher: FakeLauncher::default(),
            shown,
            terminal: Captured::default(),
            stdout_lines: Captured::default(),
            processes: FakeProcesses::default(),
            redirects: QueuedRedirects::default(),
            browser: RecordingBrowser::default(),
            vars: vec![
                ("HOME".into(), home.clone()),
                ("CREDS_CACHE_DIR".into(), format!("{home}/cache")),
                ("AWS_REGION".into(), "us-east-1".into()),
            ],
            clock,
            dir,
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// `parts` below the HOME of the runs (`<home>/home/...`), joined natively.
    pub fn home_path(&self, parts: &[&str]) -> std::path::PathBuf {
        parts
            .iter()
            .fold(self.dir.path().join("home"), |p, part| p.join(part))
    }

    pub fn config(&self, text: &str) {
        std::fs::write(
            self.dir.path().join("home").join(".aws").join("config"),
            text,
        )
        .unwrap();
    }

    pub fn sso_cache(&self, name: &str) -> std::path::PathBuf {
        self.dir
            .path()
            .join("home")
            .join(".aws")
            .join("sso")
            .join("cache")
            .join(name)
    }

    /// A context on the fakes; `browser` says whether a browser is usable.
    pub fn context(&self, browser: bool) -> Context {
        let browser: Box<dyn Browser> = match browser {
            true => Box::new(self.browser.clone()),
            false => Box::new(NoBrowser),
        };
        Context {
            env: Env::from_pairs(self.vars.clone()),
            clock: Box::new(self.clock.clone()),
            processes: Box::new(self.processes.clone()),
            sts: Box::new(self.sts.clone()),
            sso: Box::new(self.sso.clone()),
            metadata: Box::new(self.metadata.clone()),
            signin: Box::new(self.signin.clone()),
            keyring: Box::new(self.keyring.clone()),
            background: Box::new(self.background.clone()),
            launcher: Box::new(self.launcher.clone()),
            browser,
            redirects: Box::new(self.redirects.clone()),
            paths: Paths::fixed("/usr/bin/creds".into(), self.dir.path().to_path_buf()),
            ui: Ui::with_terminal(
                self.shown.clone(),
                self.terminal.clone(),
                self.stdout_lines.clone(),
            ),
        }
    }
}
