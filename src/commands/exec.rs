//! `creds exec [-p PROFILE] [--server] -- COMMAND ARGS...`: runs a command with the profile's
//! credentials.
//!
//! - Without `--server`, the command gets `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION` and the region, and every variable that
//!   would make an SDK look elsewhere (a profile, a web identity, a container endpoint) is
//!   removed. On Unix creds *becomes* the command (exec), so its exit code and signals are the
//!   command's own.
//! - With `--server`, creds stays as the parent and serves the credentials on a local
//!   ECS-compatible endpoint (`127.0.0.1`, a random port, a random token): the command gets `AWS_CONTAINER_CREDENTIALS_FULL_URI`
//!   and `AWS_CONTAINER_AUTHORIZATION_TOKEN` and no keys, so every SDK asks again when its
//!   credentials near expiry, and gets them from the cache (with refresh-ahead). creds
//!   forwards SIGINT, SIGTERM and SIGHUP to the command, stops serving when it exits, and
//!   exits with its code.
//! - With `--bedrock-token`, the command gets `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key
//!   minted from the credentials, good only for Bedrock) and the region, and no AWS keys: for
//!   agents that take a Bedrock key (opencode, Codex, Goose). The token is read once by those
//!   tools, so it lasts as long as the credentials allow (`docs/bedrock.md`).

use crate::cli::ExecArgs;
use crate::context::{ChildEnv, Context};
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use crate::settings::Settings;

/// The variables removed from the command's environment: each would make an SDK take
/// credentials from somewhere else, or (with the server) win over the container endpoint.
const REMOVED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    // Bedrock clients (Claude Code, the AI SDK) prefer it to any credentials.
    "AWS_BEARER_TOKEN_BEDROCK",
];

/// The command's environment with `creds` in its variables (no server): the variables of
/// `export --format env`, and the account.
pub fn env_with_keys(creds: &Credentials, region: Option<&str>) -> ChildEnv {
    let mut set = crate::output::key_variables(creds);
    if let Some(account) = &creds.account_id {
        set.push(("AWS_ACCOUNT_ID", account.clone()));
    }
    child_env(set, region)
}

/// The command's environment pointed at the local endpoint (`--server`).
pub fn env_with_server(uri: &str, token: &str, region: Option<&str>) -> ChildEnv {
    let set = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.to_string()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.to_string()),
    ];
    child_env(set, region)
}

/// The command's environment with a Bedrock token and no AWS keys (`--bedrock-token`).
pub fn env_with_bedrock_token(token: &str, region: Option<&str>) -> ChildEnv {
    child_env(
        vec![("AWS_BEARER_TOKEN_BEDROCK", token.to_string())],
        region,
    )
}

/// `set` and the region's variables, with every other variable of [`REMOVED`] removed.
fn child_env(mut set: Vec<(&'static str, String)>, region: Option<&str>) -> ChildEnv {
    set.extend(crate::output::region_variables(region));
    let remove = REMOVED
        .iter()
        .filter(|name| !set.iter().any(|(k, _)| k == *name))
        .map(|name| name.to_string())
        .collect();
    let set = set.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    ChildEnv { set, remove }
}

/// What the command's credentials are resolved with (refreshed ahead as `export -f process`
/// would be). With `--bedrock-token`, as `export -f bedrock-token` asks: credentials that
/// outlive `--min-ttl` by a token's shortest life.
fn request(args: &ExecArgs, verbose: bool) -> crate::resolve::Request<'_> {
    let min_ttl = match args.bedrock_token {
        true => crate::bedrock::credentials_min_ttl(args.min_ttl),
        false => args.min_ttl,
    };
    crate::resolve::Request {
        verbose,
        refresh_ahead: Some("process"),
        ..crate::resolve::Request::new(args.profile.as_deref(), min_ttl)
    }
}

/// `creds exec`: the command's exit code (on Unix without `--server`, creds becomes the
/// command and this returns only if it cannot be started).
pub fn run(ctx: &Context, args: &ExecArgs, verbose: bool) -> Result<i32> {
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Error::usage("name the command to run after --"))?;
    // The credentials first: a failure is creds' own (its exit code, one line), before the
    // command starts.
    let (settings, creds) = crate::resolve::credentials(ctx, &request(args, verbose))?;
    let region = settings.region.as_ref().map(|r| r.value.as_str());
    let token = match args.bedrock_token {
        true => Some(crate::resolve::bedrock_token(
            ctx,
            &settings,
            &creds,
            args.min_ttl,
            verbose,
        )?),
        false => None,
    };
    // Served: the held warnings now, before the command takes over stderr (or this process).
    ctx.ui.settle(true);
    if !args.server {
        let env = match &token {
            Some(minted) => env_with_bedrock_token(minted.token.expose(), region),
            None => env_with_keys(&creds, region),
        };
        return ctx
            .launcher
            .exec(program, rest, &env)
            .map_err(|e| cannot_start(program, &e));
    }
    serve(ctx, args, &settings, program, rest)
}

fn cannot_start(program: &str, e: &std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => Kind::Usage,
        _ => Kind::Other,
    };
    Error::new(kind, format!("cannot run `{program}`: {e}"))
}

/// `--server`: the endpoint on 127.0.0.1 with a per-run token, the command as a child;
/// returns the command's exit code once it has exited.
fn serve(
    ctx: &Context,
    args: &ExecArgs,
    settings: &Settings,
    program: &str,
    rest: &[String],
) -> Result<i32> {
    let token = crate::context::random_token();
    let region = settings.region.as_ref().map(|r| r.value.as_str());
    let env_for =
        |port: u16| env_with_server(&format!("http://127.0.0.1:{port}/creds"), &token, region);
    let served = Served::default();
    let answer = |method: &str, path: &str, authorization: Option<&str>| {
        endpoint_answer(ctx, args, &served, &token, method, path, authorization)
    };
    ctx.launcher
        .serve(program, rest, &env_for, &answer)
        .map_err(|e| cannot_start(program, &e))
}

/// How long a request waits for the renewal another request has in flight before it is told
/// to try again (503): the SDKs give up on the endpoint after 1 to 3 s, and retry.
pub const RENEWAL_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);
/// The least a credential kept from an earlier request must have left to be served while a
/// renewal is in flight.
const STILL_VALID: chrono::Duration = chrono::Duration::minutes(2);

/// What the endpoint's concurrent requests share: whether one of them is getting the
/// credentials (at most one at a time: one renewal, however many requests), the last
/// credentials served, and the last failure told on creds' stderr.
#[derive(Default)]
pub struct Served {
    state: std::sync::Mutex<ServedState>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct ServedState {
    getting: bool,
    last: Option<Credentials>,
    told: Option<String>,
}

impl Served {
    fn state(&self) -> std::sync::MutexGuard<'_, ServedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials for one request: got by this request when no other is getting them;
    /// else the last ones served while they are still valid; else those the request in flight
    /// gets, if it gets them within [`RENEWAL_WAIT`]; else `None` (try again).
    fn get(
        &self,
        ctx: &Context,
        fetch: impl FnOnce() -> Result<Credentials>,
    ) -> Option<Result<Credentials>> {
        let mut state = self.state();
        let start = ctx.clock.monotonic();
        while state.getting {
            let now = ctx.clock.now();
            if let Some(last) = state.last.as_ref().filter(|c| {
                c.expiration
                    .is_none_or(|e| e.signed_duration_since(now) >= STILL_VALID)
            }) {
                return Some(Ok(last.clone()));
            }
            let left = RENEWAL_WAIT.saturating_sub(ctx.clock.monotonic().saturating_sub(start));
            if left.is_zero() {
                return None;
            }
            state = self
                .done
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        state.getting = true;
        drop(state);
        let got = fetch();
        let mut state = self.state();
        state.getting = false;
        if let Ok(c) = &got {
            state.last = Some(c.clone());
            state.told = None;
        }
        self.done.notify_all();
        Some(got)
    }

    /// Whether `message` is news for creds' stderr (each failure is told once, until the
    /// credentials are served again).
    fn news(&self, message: &str) -> bool {
        let mut state = self.state();
        if state.told.as_deref() == Some(message) {
            return false;
        }
        state.told = Some(message.to_string());
        true
    }
}

/// The endpoint's answer to one request: `(status, JSON body)`. `GET /creds` with the run's
/// token gets the credentials (from the cache, with refresh-ahead); anything else is refused.
/// A failure is the child's answer, and is told once on creds' stderr too, where the user sees
/// what to do (`creds login --profile P`).
pub fn endpoint_answer(
    ctx: &Context,
    args: &ExecArgs,
    served: &Served,
    token: &str,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> (u16, String) {
    let refuse = |status: u16, message: &str| {
        (
            status,
            crate::wire::json_object(&[
                ("Code", crate::wire::json_str("AccessDenied")),
                ("Message", crate::wire::json_str(message)),
            ]),
        )
    };
    // The token is compared in constant time.
    let authorized = authorization.is_some_and(|a| {
        a.len() == token.len()
            && a.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    });
    if !authorized {
        return refuse(401, "a missing or wrong Authorization token");
    }
    if method != "GET" {
        return refuse(405, "only GET is served");
    }
    if path.split('?').next() != Some("/creds") {
        return refuse(404, "not found");
    }
    let answer = served.get(ctx, || {
        let got = crate::resolve::credentials(ctx, &request(args, false));
        // The child gets the error; the user, on creds' stderr, gets the warnings either way.
        ctx.ui.settle(true);
        got.map(|(_, creds)| creds)
    });
    match answer {
        Some(Ok(creds)) => (200, ecs_document(&creds)),
        Some(Err(e)) => {
            let line = e.line();
            if served.news(&line) {
                ctx.ui.warn(&line);
            }
            (
                match e.kind {
                    Kind::LoginNeeded | Kind::AwsRefused => 403,
                    _ => 500,
                },
                crate::wire::json_object(&[
                    ("Code", crate::wire::json_str("CredentialsUnavailable")),
                    ("Message", crate::wire::json_str(&line)),
                ]),
            )
        }
        None => (
            503,
            crate::wire::json_object(&[
                ("Code", crate::wire::json_str("Renewing")),
                (
                    "Message",
                    crate::wire::json_str(
                        "creds is renewing the credentials for another request; try again",
                    ),
                ),
            ]),
        ),
    }
}

/// The container credentials document (what ECS and EKS Pod Identity serve).
pub fn ecs_document(creds: &Credentials) -> String {
    let mut fields = vec![
        ("AccessKeyId", crate::wire::json_str(&creds.access_key_id)),
        (
            "SecretAccessKey",
            crate::wire::json_str(creds.secret_access_key.expose()),
        ),
    ];
    if let Some(token) = &creds.session_token {
        fields.push(("Token", crate::wire::json_str(token.expose())));
    }
    if let Some(expiration) = creds.expiration {
        fields.push((
            "Expiration",
            crate::wire::json_str(&crate::wire::format_time(expiration)),
        ));
    }
    if let Some(account) = &creds.account_id {
        fields.push(("AccountId", crate::wire::json_str(account)));
    }
    crate::wire::json_object(&fields)
}
