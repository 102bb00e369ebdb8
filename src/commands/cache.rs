//! `creds cache list` and `creds cache clear`.

use crate::cache::{format_time, parse_time};
use crate::chain;
use crate::config::{location, ProfileSet};
use crate::context::Context;
use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

struct Listed {
    path: PathBuf,
    profile: String,
    hop: String,
    expiration: Option<chrono::DateTime<chrono::Utc>>,
}

fn entries(dir: &Path) -> Result<Vec<Listed>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::other(format!("cannot read {}: {e}", dir.display()))),
    };
    let mut out = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(Value::Object(v)) = std::fs::read(&path)
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice(&b).map_err(|_| ()))
        else {
            continue;
        };
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
        out.push(Listed {
            profile: text("Profile"),
            hop: text("Hop"),
            expiration: v
                .get("Credentials")
                .and_then(|c| c.get("Expiration"))
                .and_then(Value::as_str)
                .and_then(parse_time),
            path,
        });
    }
    out.sort_by(|a, b| (&a.profile, &a.hop).cmp(&(&b.profile, &b.hop)));
    Ok(out)
}

fn dir(ctx: &Context) -> Result<PathBuf> {
    ctx.cache_dir()
        .ok_or_else(|| Error::config("no cache directory: set HOME or CREDS_CACHE_DIR"))
}

pub fn list(ctx: &Context, as_json: bool) -> Result<String> {
    let dir = dir(ctx)?;
    let now = ctx.clock.now();
    let items = entries(&dir)?;
    let state = |e: &Listed| match e.expiration {
        Some(t) if t <= now => "expired".to_string(),
        Some(t) => format!("{}m left", (t - now).num_minutes()),
        None => "unreadable".to_string(),
    };
    if as_json {
        let list: Vec<Value> = items
            .iter()
            .map(|e| json!({"profile": e.profile, "hop": e.hop, "expiration": e.expiration.map(format_time), "expired": e.expiration.is_none_or(|t| t <= now), "file": e.path.display().to_string()}))
            .collect();
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(
                &json!({"directory": dir.display().to_string(), "entries": list})
            )
            .expect("JSON")
        ));
    }
    let mut out = format!("{} ({} entries)\n", dir.display(), items.len());
    for e in &items {
        out.push_str(&format!(
            "{:<20} {:<60} {} ({})\n",
            e.profile,
            e.hop,
            e.expiration.map(format_time).unwrap_or_default(),
            state(e)
        ));
    }
    Ok(out)
}

pub fn clear(ctx: &Context, profile: Option<&str>, all: bool) -> Result<String> {
    let dir = dir(ctx)?;
    let removed = if all {
        clear_cache_dir(&dir)?
    } else {
        // Every hop `export --profile P` uses: the profiles of its chain.
        let name = location::selected_profile(profile, &ctx.env);
        let set = ProfileSet::load(&ctx.env)?;
        let chain = chain::resolve(&set, &name)?;
        let mut profiles: Vec<&str> = chain.hops.iter().map(|h| h.profile.as_str()).collect();
        profiles.push(chain.base.profile());
        let mut n = 0;
        for e in entries(&dir)?
            .iter()
            .filter(|e| profiles.contains(&e.profile.as_str()))
        {
            if std::fs::remove_file(&e.path).is_ok() {
                n += 1;
            }
        }
        n
    };
    eprintln!(
        "creds: removed {removed} cached entries from {}",
        dir.display()
    );
    Ok(String::new())
}

/// Removes the files `creds` keeps in its cache directory (entries, failure records, locks).
pub fn clear_cache_dir(dir: &std::path::Path) -> Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::other(format!("cannot read {}: {e}", dir.display()))),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = path
            .extension()
            .is_some_and(|e| e == "json" || e == "err" || e == "lock" || e == "tmp");
        if ours
            && std::fs::remove_file(&path).is_ok()
            && path.extension().is_some_and(|e| e == "json")
        {
            removed += 1;
        }
    }
    Ok(removed)
}
