//! `StsServer`: AWS STS (query protocol) on 127.0.0.1 for the binary tests, recording every
//! call. (The in-process tests use `tests/fakes`'s `FakeSts` behind the `Sts` seam instead.)
//!
//! It answers `AssumeRole` and `GetSessionToken` with numbered credentials
//! (`ASIAFAKE00000001`, `fake-secret-1`, `fake-token-1`, ...) so tests can tell which call
//! produced what and check that no secret leaks; it can be told to fail the next calls, to
//! answer slowly, and which `Expiration` to return.

use super::http::{Reply, Request};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Call {
    pub action: String,
    /// The access key id the request was signed with.
    pub signed_with: String,
    pub params: Vec<(String, String)>,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub code: String,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    failures: VecDeque<Failure>,
    /// Fail every call with this (after `failures` is empty).
    always_fail: Option<Failure>,
    expiration: Option<String>,
    delay: Duration,
    issued: u32,
    /// Raw replies (status, body) to give before anything else.
    raw: VecDeque<(u16, String)>,
}

pub struct StsServer {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl StsServer {
    pub fn start() -> StsServer {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let port = super::http::serve(move |request| answer(request, &shared));
        StsServer { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn count(&self, action: &str) -> usize {
        self.calls().iter().filter(|c| c.action == action).count()
    }

    /// How many AssumeRole calls named `role_arn`.
    pub fn assumed(&self, role_arn: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.action == "AssumeRole" && c.param("RoleArn") == Some(role_arn))
            .count()
    }

    pub fn fail_next(&self, status: u16, code: &str) {
        self.state.lock().unwrap().failures.push_back(Failure {
            status,
            code: code.into(),
        });
    }

    pub fn fail_always(&self, status: u16, code: &str) {
        self.state.lock().unwrap().always_fail = Some(Failure {
            status,
            code: code.into(),
        });
    }

    pub fn succeed(&self) {
        let mut s = self.state.lock().unwrap();
        s.always_fail = None;
        s.failures.clear();
    }

    /// Answers the next call with exactly this status and body.
    pub fn reply_next(&self, status: u16, body: &str) {
        self.state
            .lock()
            .unwrap()
            .raw
            .push_back((status, body.to_string()));
    }

    pub fn set_expiration(&self, expiration: &str) {
        self.state.lock().unwrap().expiration = Some(expiration.into());
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer(request: &Request, state: &Mutex<State>) -> Reply {
    let signed_with = request
        .headers
        .get("authorization")
        .and_then(|value| value.split("Credential=").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
        .to_string();
    let params: Vec<(String, String)> = request
        .body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.calls.push(Call {
        action: action.clone(),
        signed_with,
        params: params.clone(),
    });
    let failure = s.failures.pop_front().or_else(|| s.always_fail.clone());
    let raw = s.raw.pop_front();
    let response = match failure {
        _ if raw.is_some() => raw.unwrap_or_default(),
        Some(f) => (f.status, format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{}</Code><Message>fake STS says {}</Message></Error><RequestId>req</RequestId></ErrorResponse>", f.code, f.code)),
        None => {
            s.issued += 1;
            let n = s.issued;
            let expiration = s.expiration.clone().unwrap_or_else(|| (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string());
            let creds = format!("<Credentials><AccessKeyId>ASIAFAKE{n:08}</AccessKeyId><SecretAccessKey>fake-secret-{n}</SecretAccessKey><SessionToken>fake-token-{n}</SessionToken><Expiration>{expiration}</Expiration></Credentials>");
            match action.as_str() {
                "AssumeRole" => {
                    let role = params.iter().find(|(k, _)| k == "RoleArn").map(|(_, v)| v.rsplit('/').next().unwrap_or("").to_string()).unwrap_or_default();
                    let session = params.iter().find(|(k, _)| k == "RoleSessionName").map(|(_, v)| v.clone()).unwrap_or_default();
                    (200, format!("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAFAKE:{session}</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/{role}/{session}</Arn></AssumedRoleUser>{creds}</AssumeRoleResult><ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata></AssumeRoleResponse>"))
                }
                "GetSessionToken" => (200, format!("<GetSessionTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetSessionTokenResult>{creds}</GetSessionTokenResult><ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata></GetSessionTokenResponse>")),
                _ => (400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unknown action</Message></Error></ErrorResponse>".to_string()),
            }
        }
    };
    let (status, body) = response;
    Reply {
        status,
        content_type: "text/xml",
        headers: vec![("x-amzn-requestid".into(), "req".into())],
        body,
        delay: s.delay,
    }
}
