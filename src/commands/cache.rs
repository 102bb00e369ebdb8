//! `creds cache list` and `creds cache clear`: the file cache, and the keyring cache's
//! entries when a profile or `CREDS_CACHE` uses it.

use crate::cache::file::{FileStore, Listed};
use crate::cache::store::Store;
use crate::cache::{Entry, Key};
use crate::chain;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keyring::Unavailable;
use crate::settings::{Flags, Settings};
use crate::wire::format_time;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The cache as `list` and `clear` see it: the directory, and the keyring's entries when a
/// profile or `CREDS_CACHE` keeps entries there (`crate::settings::keyring_cache_in_use`;
/// otherwise the keyring is not touched: it may be slow, or ask to be unlocked).
fn store(ctx: &Context) -> Result<Store<'_>> {
    let dir = crate::settings::cache_dir(&ctx.env)
        .ok_or_else(|| Error::config("no cache directory: set HOME or CREDS_CACHE_DIR"))?;
    let keyring = crate::settings::keyring_cache_in_use(&ctx.env).then(|| ctx.keyring.as_ref());
    Ok(Store::new(FileStore::new(dir.value), keyring, None))
}

fn keyring_listed(entry: &Entry) -> Listed {
    Listed {
        path: std::path::PathBuf::new(),
        profile: entry.profile.clone(),
        hop: entry.hop.clone(),
        expiration: crate::wire::parse_time(&entry.credentials.expiration),
    }
}

/// `1 entry`, `2 entries`.
fn entries(n: usize) -> String {
    format!("{n} {}", if n == 1 { "entry" } else { "entries" })
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
    let mut items = store.files.list()?;
    let files = items.len();
    match store.keyring_entries() {
        Ok(entries) => items.extend(entries.iter().map(keyring_listed)),
        Err(why) => ctx.ui.warn(&format!(
            "the keyring cache's entries are not listed: the OS keyring cannot be used: {why}"
        )),
    }
    let dir = store.files.dir().display().to_string();
    if as_json {
        let list: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(n, e)| {
                let in_file = n < files;
                json!({
                    "profile": e.profile,
                    "hop": e.hop,
                    "expiration": e.expiration.map(format_time),
                    "expired": e.expiration.is_none_or(|t| t <= now),
                    "store": if in_file { "file" } else { "keyring" },
                    "file": in_file.then(|| e.path.display().to_string()),
                })
            })
            .collect();
        let doc = json!({"directory": dir, "entries": list});
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).expect("JSON")
        ));
    }
    let mut out = if items.len() > files {
        format!(
            "{dir} ({}) and the OS keyring ({})\n",
            entries(files),
            entries(items.len().saturating_sub(files))
        )
    } else {
        format!("{dir} ({})\n", entries(files))
    };
    for (n, e) in items.iter().enumerate() {
        out.push_str(&format!(
            "{:<20} {:<60} {} ({}){}\n",
            e.profile,
            e.hop,
            e.expiration.map(format_time).unwrap_or_default(),
            state(e, now),
            if n < files { "" } else { " [keyring]" }
        ));
    }
    Ok(out)
}

pub fn clear(ctx: &Context, profile: Option<&str>, all: bool) -> Result<String> {
    let store = store(ctx)?;
    // The profiles of P's chain (every hop `export --profile P` uses), or every entry.
    let profiles = (!all).then(|| chain_profiles(ctx, profile)).transpose()?;
    // The keyring's part first: its keys are known from the lock files that clearing removes.
    let in_keyring: std::result::Result<usize, Unavailable> = match &profiles {
        None => store.remove_from_keyring(None),
        Some(profiles) => store.keyring_entries().and_then(|entries| {
            let keys = entries
                .into_iter()
                .filter(|e| profiles.contains(&e.profile))
                .map(|e| Key(e.key))
                .collect();
            store.remove_from_keyring(Some(keys))
        }),
    };
    // A keyring that fails leaves everything as it was: the lock files are what finds its
    // entries later.
    let in_keyring = in_keyring.map_err(|why| {
        Error::config(format!(
            "nothing was removed: the OS keyring holds cache entries (CREDS_CACHE=keyring or a profile's creds_cache) and cannot be used: {why}; fix that, or clear only the file cache with `CREDS_CACHE=file creds cache clear`"
        ))
    })?;
    let removed = match &profiles {
        None => {
            // Temporary files a killed token write left in ~/.aws/sso/cache go too.
            if let Some(home) = crate::settings::home(&ctx.env) {
                let sso = std::path::Path::new(&home.value).join(".aws/sso/cache");
                crate::sso::TokenStore::new(&sso, None).clean_temps();
            }
            store.files.clear_all()?
        }
        Some(profiles) => store
            .files
            .list()?
            .iter()
            .filter(|e| profiles.contains(&e.profile))
            .filter(|e| store.files.remove(e))
            .count(),
    };
    let files = format!(
        "removed {removed} cached {} from {}",
        if removed == 1 { "entry" } else { "entries" },
        store.files.dir().display()
    );
    if store.has_keyring() {
        ctx.ui.say(&format!(
            "creds: {files} and {in_keyring} from the OS keyring"
        ));
    } else {
        ctx.ui.say(&format!("creds: {files}"));
    }
    Ok(String::new())
}

/// Every profile whose hops `export --profile P` uses: the profiles of its chain.
fn chain_profiles(ctx: &Context, profile: Option<&str>) -> Result<Vec<String>> {
    let flags = Flags {
        profile,
        region: None,
    };
    let (settings, set) = Settings::load(flags, &ctx.env)?;
    let chain = chain::resolve(&set, &settings.profile.value)?;
    let mut profiles: Vec<String> = chain.hops.iter().map(|h| h.profile.clone()).collect();
    profiles.push(chain.base.profile().to_string());
    Ok(profiles)
}
