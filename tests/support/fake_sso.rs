//! A fake IAM Identity Center on 127.0.0.1: the SSO OIDC API (`/client/register`,
//! `/device_authorization`, `/token`, `/authorize`) and the SSO portal API
//! (`/federation/credentials`, `/logout`), in the shapes of botocore's `sso-oidc/2019-06-10`
//! and `sso/2019-06-10` models. It counts requests per operation and can be told (from Rust,
//! or with `POST /_fake/config`) to answer `authorization_pending` N times, `slow_down`, deny,
//! expire every token, rotate refresh tokens, or fail N times.

#![allow(dead_code)]

use super::http::{Reply, Request};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct State {
    pub counts: BTreeMap<String, usize>,
    /// Device-code polls still to answer `authorization_pending`.
    pub pending: usize,
    /// Device-code polls still to answer `slow_down`.
    pub slow_down: usize,
    pub deny: bool,
    /// Reject every access and refresh token issued so far.
    pub expire_all: bool,
    /// Give a new refresh token with each refresh.
    pub rotate: bool,
    /// The next N requests fail with 500.
    pub fail_next: usize,
    pub token_ttl: i64,
    pub role_expiration: Option<String>,
    pub delay: Duration,
    issued: usize,
    access_tokens: HashSet<String>,
    refresh_tokens: HashSet<String>,
    codes: HashMap<String, String>,
    /// The last device_authorization's device code and poll interval.
    pub interval: i64,
    /// Every request's operation in order, with the bearer token or grant used.
    pub log: Vec<(String, String)>,
    /// Every request's operation with the caller's user agent.
    pub agents: Vec<(String, String)>,
    /// A file (a login's stderr) to read when the first device-code poll arrives.
    pub watch: Option<std::path::PathBuf>,
    /// What `watch` held at the first device-code poll.
    pub seen_at_first_poll: Option<String>,
    /// Raw answers (operation, status, body) to give to the next call of that operation.
    pub raw: Vec<(String, u16, String)>,
    /// What ListAccounts and ListAccountRoles list: (id, name, roles), two to a page.
    pub accounts: Vec<(String, String, Vec<String>)>,
}

pub struct SsoServer {
    port: u16,
    pub state: Arc<Mutex<State>>,
}

impl SsoServer {
    pub fn start() -> SsoServer {
        let state = Arc::new(Mutex::new(State {
            token_ttl: 3600,
            interval: 1,
            ..State::default()
        }));
        let shared = state.clone();
        // The handler names its own address in the URLs it hands out.
        let own_port = Arc::new(std::sync::OnceLock::new());
        let known = own_port.clone();
        let port = super::http::serve(move |request: &Request| {
            let port = known.get().copied().unwrap_or(0);
            let delay = shared.lock().unwrap().delay;
            let (status, headers, body) = handle(
                &request.method,
                &request.path,
                &request.headers,
                &request.body,
                &shared,
                port,
            );
            Reply {
                status,
                content_type: "application/json",
                headers,
                body,
                delay,
            }
        });
        own_port.set(port).unwrap();
        SsoServer { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn count(&self, op: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Issues an access token and a refresh token directly, as if a login had happened.
    pub fn issue(&self) -> (String, String) {
        let mut s = self.state.lock().unwrap();
        s.issued += 1;
        let n = s.issued;
        let (a, r) = (format!("access-{n}"), format!("refresh-{n}"));
        s.access_tokens.insert(a.clone());
        s.refresh_tokens.insert(r.clone());
        (a, r)
    }
}

fn error(status: u16, kind: &str, code: &str) -> (u16, Vec<(String, String)>, String) {
    (
        status,
        vec![("x-amzn-ErrorType".into(), kind.into())],
        json!({"error": code, "error_description": format!("fake IAM Identity Center: {code}")})
            .to_string(),
    )
}

fn ok(body: Value) -> (u16, Vec<(String, String)>, String) {
    (200, vec![], body.to_string())
}

fn query(path: &str) -> HashMap<String, String> {
    path.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), decode(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn s256(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(verifier.as_bytes());
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn handle(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &str,
    state: &Mutex<State>,
    port: u16,
) -> (u16, Vec<(String, String)>, String) {
    let route = path.split('?').next().unwrap_or("");
    let input: Value = serde_json::from_str(body).unwrap_or(json!({}));
    let field = |k: &str| {
        input
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut s = state.lock().unwrap();
    let op = match (method, route) {
        ("POST", "/client/register") => "RegisterClient",
        ("POST", "/device_authorization") => "StartDeviceAuthorization",
        ("POST", "/token") => "CreateToken",
        ("GET", "/authorize") => "Authorize",
        ("GET", "/federation/credentials") => "GetRoleCredentials",
        ("GET", "/assignment/accounts") => "ListAccounts",
        ("GET", "/assignment/roles") => "ListAccountRoles",
        ("POST", "/logout") => "Logout",
        ("POST", "/_fake/config") => {
            for (k, v) in input.as_object().cloned().unwrap_or_default() {
                match k.as_str() {
                    "pending" => s.pending = v.as_u64().unwrap_or(0) as usize,
                    "slow_down" => s.slow_down = v.as_u64().unwrap_or(0) as usize,
                    "deny" => s.deny = v.as_bool().unwrap_or(false),
                    "expire_all" => s.expire_all = v.as_bool().unwrap_or(false),
                    "rotate" => s.rotate = v.as_bool().unwrap_or(false),
                    "fail_next" => s.fail_next = v.as_u64().unwrap_or(0) as usize,
                    "token_ttl" => s.token_ttl = v.as_i64().unwrap_or(3600),
                    "role_expiration" => s.role_expiration = v.as_str().map(str::to_string),
                    "accounts" => {
                        s.accounts = serde_json::from_value(v).unwrap_or_default();
                    }
                    _ => return error(400, "ValidationException", "unknown_setting"),
                }
            }
            return ok(json!({}));
        }
        ("GET", "/_fake/counts") => return ok(json!(s.counts)),
        ("GET", "/_fake/log") => return ok(json!(s.log)),
        ("GET", "/_fake/agents") => return ok(json!(s.agents)),
        ("POST", "/_fake/issue") => {
            s.issued += 1;
            let n = s.issued;
            let (a, r) = (format!("access-{n}"), format!("refresh-{n}"));
            s.access_tokens.insert(a.clone());
            s.refresh_tokens.insert(r.clone());
            return ok(json!({"accessToken": a, "refreshToken": r}));
        }
        _ => return error(404, "ResourceNotFoundException", "not_found"),
    };
    *s.counts.entry(op.to_string()).or_default() += 1;
    let agent = headers.get("user-agent").cloned().unwrap_or_default();
    s.agents.push((op.to_string(), agent));
    if let Some(i) = s.raw.iter().position(|(o, _, _)| o == op) {
        let (_, status, body) = s.raw.remove(i);
        s.log.push((op.into(), "raw".into()));
        return (
            status,
            vec![("Content-Type".into(), "application/json".into())],
            body,
        );
    }
    if s.fail_next > 0 && op != "Authorize" {
        s.fail_next -= 1;
        return error(500, "InternalServerException", "server_error");
    }
    s.issued += 1;
    let n = s.issued;
    let bearer = headers
        .get("x-amz-sso_bearer_token")
        .cloned()
        .unwrap_or_default();
    match op {
        "RegisterClient" => {
            s.log.push((op.into(), field("clientName")));
            let expires = chrono::Utc::now().timestamp() + 90 * 86400;
            ok(
                json!({"clientId": format!("client-{n}"), "clientSecret": format!("csecret-{n}"), "clientIdIssuedAt": chrono::Utc::now().timestamp(), "clientSecretExpiresAt": expires}),
            )
        }
        "StartDeviceAuthorization" => {
            let base = format!("http://127.0.0.1:{port}");
            ok(
                json!({"deviceCode": format!("device-{n}"), "userCode": format!("CODE-{n:04}"), "verificationUri": format!("{base}/device"), "verificationUriComplete": format!("{base}/device?user_code=CODE-{n:04}"), "expiresIn": 600, "interval": s.interval}),
            )
        }
        "Authorize" => {
            let q = query(path);
            let code = format!("authcode-{n}");
            s.codes.insert(
                code.clone(),
                q.get("code_challenge").cloned().unwrap_or_default(),
            );
            let location = format!(
                "{}?code={code}&state={}",
                q.get("redirect_uri").cloned().unwrap_or_default(),
                q.get("state").cloned().unwrap_or_default()
            );
            (302, vec![("Location".into(), location)], String::new())
        }
        "CreateToken" => {
            let grant = field("grantType");
            s.log.push((op.into(), grant.clone()));
            let issue = |s: &mut State, refresh: Option<String>| {
                let access = format!("access-{n}");
                s.access_tokens.insert(access.clone());
                let refresh = refresh.unwrap_or_else(|| format!("refresh-{n}"));
                s.refresh_tokens.insert(refresh.clone());
                ok(
                    json!({"accessToken": access, "tokenType": "Bearer", "expiresIn": s.token_ttl, "refreshToken": refresh}),
                )
            };
            match grant.as_str() {
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    if s.seen_at_first_poll.is_none() {
                        s.seen_at_first_poll = Some(
                            s.watch
                                .as_ref()
                                .and_then(|p| std::fs::read_to_string(p).ok())
                                .unwrap_or_default(),
                        );
                    }
                    if s.deny {
                        error(400, "AccessDeniedException", "access_denied")
                    } else if s.slow_down > 0 {
                        s.slow_down -= 1;
                        error(400, "SlowDownException", "slow_down")
                    } else if s.pending > 0 {
                        s.pending -= 1;
                        error(
                            400,
                            "AuthorizationPendingException",
                            "authorization_pending",
                        )
                    } else {
                        issue(&mut s, None)
                    }
                }
                "refresh_token" => {
                    let token = field("refreshToken");
                    if s.expire_all || !s.refresh_tokens.contains(&token) {
                        error(400, "InvalidGrantException", "invalid_grant")
                    } else if s.rotate {
                        s.refresh_tokens.remove(&token);
                        issue(&mut s, None)
                    } else {
                        let access = format!("access-{n}");
                        s.access_tokens.insert(access.clone());
                        ok(
                            json!({"accessToken": access, "tokenType": "Bearer", "expiresIn": s.token_ttl}),
                        )
                    }
                }
                "authorization_code" => match s.codes.remove(&field("code")) {
                    Some(challenge)
                        if challenge == s256(&field("codeVerifier"))
                            && field("redirectUri").starts_with("http://127.0.0.1:") =>
                    {
                        issue(&mut s, None)
                    }
                    _ => error(400, "InvalidGrantException", "invalid_grant"),
                },
                _ => error(
                    400,
                    "UnsupportedGrantTypeException",
                    "unsupported_grant_type",
                ),
            }
        }
        "GetRoleCredentials" => {
            s.log.push((op.into(), bearer.clone()));
            if s.expire_all || !s.access_tokens.contains(&bearer) {
                return error(401, "UnauthorizedException", "unauthorized");
            }
            let q = query(path);
            let expiration = s
                .role_expiration
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis())
                .unwrap_or_else(|| {
                    (chrono::Utc::now() + chrono::Duration::hours(8)).timestamp_millis()
                });
            let _ = q;
            ok(
                json!({"roleCredentials": {"accessKeyId": format!("ASIASSO{n:08}"), "secretAccessKey": format!("sso-secret-{n}"), "sessionToken": format!("sso-session-token-{n}"), "expiration": expiration}}),
            )
        }
        "Logout" => {
            s.access_tokens.remove(&bearer);
            (200, vec![], String::new())
        }
        "ListAccounts" | "ListAccountRoles" => {
            s.log.push((op.into(), bearer.clone()));
            if s.expire_all || !s.access_tokens.contains(&bearer) {
                return error(401, "UnauthorizedException", "unauthorized");
            }
            let q = query(path);
            let start: usize = q
                .get("next_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let items: Vec<Value> = if op == "ListAccounts" {
                s.accounts
                    .iter()
                    .map(|(id, name, _)| json!({"accountId": id, "accountName": name, "emailAddress": format!("{id}@example.com")}))
                    .collect()
            } else {
                let account = q.get("account_id").cloned().unwrap_or_default();
                s.accounts
                    .iter()
                    .filter(|(id, _, _)| *id == account)
                    .flat_map(|(id, _, roles)| {
                        roles
                            .iter()
                            .map(move |r| json!({"roleName": r, "accountId": id}))
                    })
                    .collect()
            };
            let end = (start + 2).min(items.len());
            let page = items.get(start..end).unwrap_or_default().to_vec();
            let key = if op == "ListAccounts" {
                "accountList"
            } else {
                "roleList"
            };
            let mut doc = json!({ key: page });
            if end < items.len() {
                doc["nextToken"] = json!(end.to_string());
            }
            ok(doc)
        }
        _ => unreachable!(),
    }
}
