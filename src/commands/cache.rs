//! `creds cache list` and `creds cache clear`.

use crate::cache::file::{FileStore, Listed};
use crate::chain;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::settings::{Flags, Settings};
use crate::wire::format_time;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn store(ctx: &Context) -> Result<FileStore> {
    let dir = crate::settings::cache_dir(&ctx.env)
        .ok_or_else(|| Error::config("no cache directory: set HOME or CREDS_CACHE_DIR"))?;
    Ok(FileStore::new(dir.value))
}

fn state(e: &Listed, now: DateTime<Utc>) -> String {
    match e.expiration {
        Some(t) if t <= now => "expired".to_string(),
        Some(t) => format!("{}m left", t.signed_duration_since(now).num_minutes()),
        None => "unreadable".to_string(),
    }
}

pub fn list(ctx: &Context, as_json: bool) -> Result<String> {
    let store = store(ctx)?;
    let now = ctx.clock.now();
    let items = store.list()?;
    let dir = store.dir().display().to_string();
    if as_json {
        let list: Vec<Value> = items
            .iter()
            .map(|e| {
                json!({
                    "profile": e.profile,
                    "hop": e.hop,
                    "expiration": e.expiration.map(format_time),
                    "expired": e.expiration.is_none_or(|t| t <= now),
                    "file": e.path.display().to_string(),
                })
            })
            .collect();
        let doc = json!({"directory": dir, "entries": list});
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).expect("JSON")
        ));
    }
    let mut out = format!("{dir} ({} entries)\n", items.len());
    for e in &items {
        out.push_str(&format!(
            "{:<20} {:<60} {} ({})\n",
            e.profile,
            e.hop,
            e.expiration.map(format_time).unwrap_or_default(),
            state(e, now)
        ));
    }
    Ok(out)
}

pub fn clear(ctx: &Context, profile: Option<&str>, all: bool) -> Result<String> {
    let store = store(ctx)?;
    let removed = if all {
        // Temporary files a killed token write left in ~/.aws/sso/cache go too.
        if let Some(home) = crate::settings::home(&ctx.env) {
            let sso = std::path::Path::new(&home.value).join(".aws/sso/cache");
            crate::sso::TokenStore::new(&sso, None).clean_temps();
        }
        store.clear_all()?
    } else {
        // Every hop `export --profile P` uses: the profiles of its chain.
        let flags = Flags {
            profile,
            region: None,
        };
        let (settings, set) = Settings::load(flags, &ctx.env)?;
        let chain = chain::resolve(&set, &settings.profile.value)?;
        let mut profiles: Vec<&str> = chain.hops.iter().map(|h| h.profile.as_str()).collect();
        profiles.push(chain.base.profile());
        store
            .list()?
            .iter()
            .filter(|e| profiles.contains(&e.profile.as_str()))
            .filter(|e| store.remove(e))
            .count()
    };
    ctx.ui.say(&format!(
        "creds: removed {removed} cached entries from {}",
        store.dir().display()
    ));
    Ok(String::new())
}
