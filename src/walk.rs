//! The walk: the credentials at the end of a planned chain, each hop from the cache when it
//! is fresh, otherwise fetched once under the hop's lock. This module holds the cache policy;
//! what each hop is and how it is fetched is `crate::source`'s; `crate::resolve` wires the
//! settings, the chain, the plan and the walk together for `export`, `exec`, `login` and
//! `doctor --check`, and `crate::refresh_ahead` schedules renewals after a cache hit.
//!
//! - Fresh: the last hop must have `min_ttl` left; the hops below it only [`INTERMEDIATE_TTL`],
//!   enough to sign the next call.
//! - Single flight: a caller that finds a hop stale takes the hop's lock, reads the entry
//!   again (another caller may have refreshed it meanwhile), and only then calls upstream; N
//!   concurrent callers make one call per stale hop.
//! - Lock order: a hop's lock is taken before its parent's (the parent is resolved while the
//!   child's lock is held, never the other way round), so two walks cannot deadlock.
//! - `--refresh` fetches every cacheable hop again (a hop refreshed by another process since
//!   this walk started counts as refreshed).
//! - A failed call is remembered for 10 to 15 seconds so a crowd of callers does not hammer
//!   STS; `--refresh` ignores the record.
//! - The cache is an optimisation: a directory that is not private to this user, or one that
//!   cannot be written (read-only, full, not a directory), is warned about once, and the
//!   credentials are served uncached.

use crate::cache::{
    self, file::FileStore, file::LockError, store::Store, Entry, Failure, LOCK_WAIT,
};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::secret::Credentials;
use crate::source::{self, FetchInputs, Hop};
use crate::wire::{format_time, later};
use chrono::{DateTime, Duration, Utc};

/// The `--min-ttl` of `export`, `exec` and `login`, and what `doctor` checks against.
pub const DEFAULT_MIN_TTL: Duration = Duration::minutes(15);
/// How long a hop below the last must still be valid to be used for the next call.
pub const INTERMEDIATE_TTL: Duration = Duration::minutes(5);
/// The least credentials are handed out with to Claude Code (`--format claude`, whatever
/// `--min-ttl` says), and the least a short role's lowered `--min-ttl` goes to. Claude Code
/// 2.1.197 and 2.1.332 keep `awsCredentialExport`'s output until `Expiration` less 5 minutes,
/// but for an hour, past expiry, when 6 minutes or less are left (read in both and measured:
/// `docs/claude-code.md`, "Claude Code and short-lived credentials"); a minute more covers the
/// time between the print and Claude Code's reading, and some clock skew.
pub const FLOOR_TTL: Duration = Duration::minutes(7);
/// How long an entry should at least be reusable before it must be fetched again.
const REUSE: Duration = Duration::minutes(5);

/// The `--min-ttl` a chain can meet. A last hop configured to last less than `min_ttl` plus 5
/// minutes of reuse (`duration_seconds = 900` under the default 15 minutes) would be fetched
/// on every call, or never be good enough: its requirement is lowered to its lifetime less 5
/// minutes, never below [`FLOOR_TTL`]. Returns the requirement and, when lowered, the lifetime
/// that lowered it.
pub fn chain_min_ttl(min_ttl: Duration, hops: &[Hop]) -> (Duration, Option<Duration>) {
    let lifetime = hops
        .last()
        .and_then(|h| h.source.properties().configured_lifetime);
    match lifetime {
        Some(life) if life.checked_sub(&min_ttl).is_none_or(|spare| spare < REUSE) => {
            let lowered = life
                .checked_sub(&REUSE)
                .unwrap_or(FLOOR_TTL)
                .max(FLOOR_TTL)
                .min(min_ttl);
            (lowered, (lowered < min_ttl).then_some(life))
        }
        _ => (min_ttl, None),
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub min_ttl: Duration,
    /// Fetch every hop again, ignoring cached entries (but still writing them).
    pub refresh: bool,
    pub verbose: bool,
}

pub struct Walk<'a> {
    ctx: &'a Context,
    /// `None` when caching is off.
    store: Option<Store<'a>>,
    at: FetchInputs<'a>,
    opts: Options,
    started: DateTime<Utc>,
    /// Whether the cache has been warned about (once per run).
    warned: std::cell::Cell<bool>,
    /// When the last hop's credentials were fetched, if this walk served them from the cache.
    served_from_cache: std::cell::Cell<Option<DateTime<Utc>>>,
}

impl<'a> Walk<'a> {
    /// A walk over `store` (`None`: uncached), with its entries in the OS keyring when
    /// `keyring` (`CREDS_CACHE=keyring`). A directory that cannot be used is warned about
    /// once, and the walk goes on uncached.
    pub fn new(
        ctx: &'a Context,
        store: Option<FileStore>,
        keyring: bool,
        at: FetchInputs<'a>,
        opts: Options,
    ) -> Self {
        let walk = Walk {
            started: ctx.clock.now(),
            ctx,
            store: None,
            at,
            opts,
            warned: std::cell::Cell::new(false),
            served_from_cache: std::cell::Cell::new(None),
        };
        let store = store
            .filter(|s| match s.check() {
                Ok(()) => {
                    s.sweep();
                    true
                }
                Err(why) => {
                    walk.unusable(&why);
                    false
                }
            })
            .map(|files| {
                Store::new(
                    files,
                    keyring.then_some(ctx.keyring.as_ref()),
                    Some(&ctx.ui),
                )
            });
        Walk { store, ..walk }
    }

    /// Warns, once, that the cache cannot be used.
    fn unusable(&self, why: &str) {
        if !self.warned.replace(true) {
            self.ctx.ui.warn(&format!(
                "the credential cache is not used: {why}; credentials are served uncached (set CREDS_CACHE_DIR to a private directory, or CREDS_CACHE=none)"
            ));
        }
    }

    fn log(&self, message: impl FnOnce() -> String) {
        self.ctx.ui.verbose(self.opts.verbose, message);
    }

    /// When the last hop's credentials were fetched, if this walk served them from the cache.
    pub fn served_from_cache(&self) -> Option<DateTime<Utc>> {
        self.served_from_cache.get()
    }

    /// The credentials at the end of `hops`, with at least `min_ttl` left.
    pub fn resolve(&self, hops: &[Hop]) -> Result<Credentials> {
        let Some((last, top)) = hops.len().checked_sub(1).zip(hops.last()) else {
            return Err(Error::other("nothing to resolve: the chain has no hops"));
        };
        let creds = self.get(hops, last, self.opts.min_ttl)?;
        let now = self.ctx.clock.now();
        if !cache::fresh(&creds, now, self.opts.min_ttl) {
            return Err(short_lived(top, &creds, now, self.opts.min_ttl));
        }
        Ok(creds)
    }

    /// Hop `i` with at least `ttl` left.
    fn get(&self, hops: &[Hop], i: usize, ttl: Duration) -> Result<Credentials> {
        let hop = hop(hops, i)?;
        let Some(store) = self.store.as_ref().filter(|_| hop.source.cacheable()) else {
            return self.fetch(hops, i);
        };
        if !self.opts.refresh {
            let entry = store.read(&hop.key);
            let fetched_at = entry.as_ref().and_then(|e| e.fetched_at());
            if let Some(c) = entry.and_then(|e| e.credentials()) {
                if cache::fresh(&c, self.ctx.clock.now(), ttl) {
                    if i.saturating_add(1) == hops.len() {
                        self.served_from_cache.set(fetched_at);
                    }
                    self.log(|| {
                        format!(
                            "profile `{}`: {}: cached, expires {}",
                            hop.profile,
                            hop.label,
                            c.expiration.map(format_time).unwrap_or_default()
                        )
                    });
                    return Ok(c);
                }
            }
        }
        // Lock order: this hop's lock is held while `fetch` resolves the parent (and may take
        // the parent's lock); a lock is never taken on a hop above one already held.
        let what = format!("profile `{}` ({})", hop.profile, hop.label);
        let _lock = match store
            .files
            .lock(&hop.key, LOCK_WAIT, &what, self.ctx.clock.as_ref())
        {
            Ok(lock) => lock,
            Err(LockError::Busy(e)) => return Err(e),
            Err(LockError::Unusable(why)) => {
                self.unusable(&why);
                return self.fetch(hops, i);
            }
        };
        let now = self.ctx.clock.now();
        if let Some(entry) = store.read(&hop.key) {
            let refreshed_since_start = entry.fetched_at().is_some_and(|t| t > self.started);
            if let Some(c) = entry.credentials().filter(|c| cache::fresh(c, now, ttl)) {
                if !self.opts.refresh || refreshed_since_start {
                    self.log(|| {
                        format!(
                            "profile `{}`: {}: refreshed by another process",
                            hop.profile, hop.label
                        )
                    });
                    return Ok(c);
                }
            }
        }
        if !self.opts.refresh {
            if let Some(err) = store
                .files
                .read_failure(&hop.key)
                .and_then(|f| f.error(now))
            {
                return Err(err);
            }
        }
        self.log(|| format!("profile `{}`: {}: fetching", hop.profile, hop.label));
        match self.fetch(hops, i) {
            Ok(c) => {
                let now = self.ctx.clock.now();
                if let Some(entry) = Entry::new(&hop.key, &hop.profile, &hop.label, &c, now) {
                    if let Err(e) = store.write(&entry) {
                        self.unusable(&e.line());
                    }
                }
                store.files.clear_failure(&hop.key);
                Ok(c)
            }
            Err(e) => {
                // A reply creds cannot read is not remembered: it says nothing of the next. A
                // failure of a hop below that is itself remembered is not recorded again.
                if !e.remembered && matches!(e.kind, Kind::AwsRefused | Kind::Network | Kind::Other)
                {
                    let _ = store.files.write_failure(&hop.key, &self.failure(&e));
                }
                Err(e)
            }
        }
    }

    /// Fetches hop `i`, resolving its parent first when it needs one.
    fn fetch(&self, hops: &[Hop], i: usize) -> Result<Credentials> {
        let hop = hop(hops, i)?;
        let parent = match i.checked_sub(1).filter(|_| hop.source.needs_parent()) {
            Some(below) => Some(self.get(hops, below, INTERMEDIATE_TTL)?),
            None => None,
        };
        let below = i.checked_sub(1).and_then(|b| hops.get(b));
        source::fetch(self.ctx, &self.at, hop, below, parent.as_ref())
    }

    /// The record of a failure: remembered for 10 s plus up to 5 s of jitter.
    fn failure(&self, e: &Error) -> Failure {
        let now = self.ctx.clock.now();
        let jitter = (crate::context::entropy() % 5000) as i64;
        Failure {
            until: format_time(later(
                now,
                Duration::milliseconds(10_000_i64.saturating_add(jitter)),
            )),
            at: format_time(now),
            exit_code: e.exit_code(),
            profile: e.profile.clone(),
            step: e.step.clone(),
            message: e.message.clone(),
            hint: e.hint.clone(),
        }
    }
}

/// The error for credentials that do not last `min_ttl`: AWS's doing (exit 5) when it
/// answered with credentials already expired, or shorter than the call asked for; the
/// configuration's (exit 3) when that is what asked for less, or a `credential_process` gave
/// them.
fn short_lived(top: &Hop, creds: &Credentials, now: DateTime<Utc>, min_ttl: Duration) -> Error {
    let expiration = creds.expiration.unwrap_or(now);
    let left = expiration.signed_duration_since(now).num_seconds();
    let what = &top.label;
    let min = min_ttl.num_seconds();
    if top.source.from_aws() && left <= 0 {
        return Error::new(
            Kind::AwsRefused,
            format!(
                "{what} returned credentials that had already expired ({})",
                format_time(expiration)
            ),
        )
        .in_profile(&top.profile)
        .with_hint("check this machine's clock, which creds compares Expiration with");
    }
    if top.source.from_aws()
        && top
            .source
            .properties()
            .asked_lifetime
            .is_none_or(|asked| asked >= min_ttl)
    {
        return Error::new(
            Kind::AwsRefused,
            format!(
                "{what} returned credentials valid for {left}s, less than --min-ttl {min}s and less than asked for (a role's maximum session duration, role chaining's one-hour limit or a permission set's session duration caps it)"
            ),
        )
        .in_profile(&top.profile)
        .with_hint("lower --min-ttl or raise that limit");
    }
    Error::config(format!(
        "{what} returned credentials valid for {left}s, less than --min-ttl {min}s"
    ))
    .in_profile(&top.profile)
    .with_hint("lower --min-ttl or raise the session duration")
}

fn hop(hops: &[Hop], i: usize) -> Result<&Hop> {
    hops.get(i)
        .ok_or_else(|| Error::other(format!("no hop {i} in a chain of {}", hops.len())))
}
