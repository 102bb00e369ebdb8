//! `creds cache list` and `creds cache clear`: the file cache, and the keyring cache's
//! entries when a profile or `CREDS_CACHE` uses it.

use crate::cache::file::{FileStore, Listed};
use crate::cache::keyring::KeyringEntries;
use crate::cache::{Entry, Key, Mode};
use crate::chain;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keyring::Unavailable;
use crate::settings::{Flags, Settings};
use crate::wire::format_time;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn store(ctx: &Context) -> Result<FileStore> {
    let dir = crate::settings::cache_dir(&ctx.env)
        .ok_or_else(|| Error::config("no cache directory: set HOME or CREDS_CACHE_DIR"))?;
    Ok(FileStore::new(dir.value))
}

/// Whether cache entries may be in the keyring: `CREDS_CACHE=keyring`, or a profile with
/// `creds_cache = keyring`. Otherwise the keyring is not touched (it may be slow, or ask to
/// be unlocked). A config that cannot be read counts as no such profile.
fn keyring_in_use(ctx: &Context) -> bool {
    // CREDS_CACHE, when set, wins over every profile's setting.
    match crate::settings::cache_mode(&ctx.env, None) {
        Ok(mode) if mode.origin != crate::settings::Origin::Default => {
            return mode.value == Mode::Keyring
        }
        Ok(_) => {}
        Err(_) => return false,
    }
    let Ok(files) = crate::settings::locate(&ctx.env, crate::platform::Platform::current()) else {
        return false;
    };
    let Ok(set) = crate::config::ProfileSet::load(&files.config.value, &files.credentials.value)
    else {
        return false;
    };
    set.profile_names().into_iter().any(|name| {
        set.profile(name)
            .and_then(|section| section.get("creds_cache"))
            .is_some_and(|v| v.eq_ignore_ascii_case("keyring"))
    })
}

/// The keyring cache's entries: one keyring read for each key with a lock file (a key may
/// have an entry file too, when the keyring once failed and the file cache served).
fn keyring_entries(
    keyring: &KeyringEntries<'_>,
    store: &FileStore,
) -> std::result::Result<Vec<Entry>, Unavailable> {
    let mut out = Vec::new();
    for key in store.locked_keys() {
        if let Some(entry) = keyring.read(&key)? {
            out.push(entry);
        }
    }
    Ok(out)
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
    let mut items = store.list()?;
    let files = items.len();
    if keyring_in_use(ctx) {
        match keyring_entries(&KeyringEntries::new(ctx.keyring.as_ref()), &store) {
            Ok(entries) => items.extend(entries.iter().map(keyring_listed)),
            Err(why) => ctx.ui.warn(&format!(
                "the keyring cache's entries are not listed: the OS keyring cannot be used: {why}"
            )),
        }
    }
    let dir = store.dir().display().to_string();
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
    let keyring = keyring_in_use(ctx).then(|| KeyringEntries::new(ctx.keyring.as_ref()));
    // The keyring's part first: its keys are known from the lock files that clearing removes.
    let in_keyring: std::result::Result<usize, Unavailable> = match (&keyring, &profiles) {
        (None, _) => Ok(0),
        (Some(keyring), None) => remove_from(keyring, store.locked_keys()),
        (Some(keyring), Some(profiles)) => keyring_entries(keyring, &store).and_then(|entries| {
            let keys = entries
                .into_iter()
                .filter(|e| profiles.contains(&e.profile))
                .map(|e| Key(e.key));
            remove_from(keyring, keys)
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
            store.clear_all()?
        }
        Some(profiles) => store
            .list()?
            .iter()
            .filter(|e| profiles.contains(&e.profile))
            .filter(|e| store.remove(e))
            .count(),
    };
    let files = format!(
        "removed {removed} cached {} from {}",
        if removed == 1 { "entry" } else { "entries" },
        store.dir().display()
    );
    if keyring.is_some() {
        ctx.ui.say(&format!(
            "creds: {files} and {in_keyring} from the OS keyring"
        ));
    } else {
        ctx.ui.say(&format!("creds: {files}"));
    }
    Ok(String::new())
}

/// Removes the keyring cache's entries of `keys`; how many there were.
fn remove_from(
    keyring: &KeyringEntries<'_>,
    keys: impl IntoIterator<Item = Key>,
) -> std::result::Result<usize, Unavailable> {
    let mut removed = 0usize;
    for key in keys {
        if keyring.remove(&key)? {
            removed = removed.saturating_add(1);
        }
    }
    Ok(removed)
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
