//! Long-term keys in the OS keyring, and the keyring cache.

use super::*;

#[test]
fn keyring_keys_are_only_ever_handed_out_as_sessions() {
    use creds::commands::keys;
    let w = World::new();
    w.config("[profile other]\nregion = us-east-1\n");
    let ctx = w.context(false);
    keys::add(
        &ctx,
        "user",
        &key_input("AKIAKEYRINGUSER00001", "ring-secret"),
    )
    .unwrap();
    assert_eq!(
        w.keyring
            .secrets
            .lock()
            .unwrap()
            .get("access-key/AKIAKEYRINGUSER00001")
            .map(String::as_str),
        Some("ring-secret")
    );
    let config = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    assert_eq!(
        config,
        "[profile other]\nregion = us-east-1\n\n[profile user]\ncreds_keyring = AKIAKEYRINGUSER00001\ncredential_process = /usr/bin/creds export --profile user --format process\n"
    );
    // export: GetSessionToken signed with the stored key; the key itself is never printed.
    let out = export(&w, "user").unwrap();
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000001");
    let calls = w.sts.calls();
    assert_eq!(
        (calls[0].operation, calls[0].signed_with.as_str()),
        ("GetSessionToken", "AKIAKEYRINGUSER00001")
    );
    // A cache hit never touches the keyring: it can be gone.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    assert_eq!(export(&w, "user").unwrap(), out);
    // A miss with the keyring gone is exit 3 with the reason, never plain-text keys.
    let err = export_with(
        &w,
        &ExportArgs {
            refresh: true,
            ..args("user")
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.line().contains("the OS keyring cannot be used: no bus"),
        "{}",
        err.line()
    );
    *w.keyring.fail.lock().unwrap() = None;
    // A role above it is assumed with the stored key directly.
    let mut text = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    text.push_str(&format!(
        "\n[profile admin]\nrole_arn = {ROLE_B}\nsource_profile = user\n"
    ));
    w.config(&text);
    export(&w, "admin").unwrap();
    let last = w.sts.calls().last().cloned().unwrap();
    assert_eq!(
        (last.operation, last.signed_with.as_str()),
        ("AssumeRole", "AKIAKEYRINGUSER00001")
    );
    // list names the key, never the secret; remove takes both lines and the secret away.
    let listed = keys::list(&ctx).unwrap();
    assert_eq!(listed, "user\tAKIAKEYRINGUSER00001\tin the keyring\n");
    keys::remove(&ctx, "user").unwrap();
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
    let config = std::fs::read_to_string(w.home_path(&[".aws", "config"])).unwrap();
    assert!(
        !config.contains("creds_keyring") && !config.contains("credential_process"),
        "{config}"
    );
    // Temporary keys and bad ids are refused before anything is stored.
    let err = keys::add(&ctx, "user", &key_input("ASIATEMPORARY0000001", "x")).unwrap_err();
    assert_eq!(err.kind, Kind::Usage);
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
}

#[test]
fn keys_import_moves_keys_and_keeps_every_other_byte() {
    use creds::commands::keys;
    let w = World::new();
    w.config("[profile dev]\nregion = eu-west-1\n");
    let credentials = w.home_path(&[".aws", "credentials"]);
    let old = "# my keys\r\n[dev]\r\naws_access_key_id = AKIAIMPORTED00000001\r\naws_secret_access_key = imported-secret\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD000000000001\r\naws_secret_access_key = prod-secret\r\n";
    std::fs::write(&credentials, old).unwrap();
    let ctx = w.context(false);
    // The keyring unavailable: exit 3, and no file changes.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    assert_eq!(keys::import(&ctx, "dev").unwrap_err().kind, Kind::Config);
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), old);
    *w.keyring.fail.lock().unwrap() = None;
    keys::import(&ctx, "dev").unwrap();
    assert_eq!(
        std::fs::read_to_string(&credentials).unwrap(),
        "# my keys\r\n[dev]\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD000000000001\r\naws_secret_access_key = prod-secret\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(w.home_path(&[".aws", "credentials.bak"])).unwrap(),
        old
    );
    assert_eq!(
        w.keyring
            .secrets
            .lock()
            .unwrap()
            .get("access-key/AKIAIMPORTED00000001")
            .map(String::as_str),
        Some("imported-secret")
    );
    let out = export(&w, "dev").unwrap();
    assert_eq!(out["AccessKeyId"], "ASIAFAKE00000001");
    assert_eq!(w.sts.calls()[0].signed_with, "AKIAIMPORTED00000001");
    // Importing again: there is nothing left to move.
    assert_eq!(keys::import(&ctx, "dev").unwrap_err().kind, Kind::Config);
}

#[test]
fn the_keyring_cache_keeps_entries_out_of_files_and_falls_back_with_one_warning() {
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("CREDS_CACHE".into(), "keyring".into()));
    let first = export(&w, "b").unwrap();
    let entries: Vec<String> = w.keyring.secrets.lock().unwrap().keys().cloned().collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries.iter().all(|a| a.starts_with("cache/")),
        "{entries:?}"
    );
    let cache_dir = w.home_path(&["cache"]);
    let json = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json")
                })
                .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(json(&cache_dir), 0, "no entry in the file cache");
    assert_eq!(export(&w, "b").unwrap(), first);
    assert_eq!(w.sts.calls().len(), 2, "served from the keyring");
    // The keyring gone: one warning, the file cache serves, credentials are still printed.
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    let shown = w.shown.lines().len();
    export(&w, "b").unwrap();
    let warnings: Vec<String> = w.shown.lines()[shown..].to_vec();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(
            "the keyring cache (CREDS_CACHE=keyring) cannot be used: no bus; using the file cache"
        ),
        "{warnings:?}"
    );
    assert_eq!(json(&cache_dir), 2);
    // The profile's creds_cache setting chooses it too; CREDS_CACHE wins over it.
    w.vars.pop();
    *w.keyring.fail.lock().unwrap() = None;
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_cache = none\n"));
    let before = w.sts.calls().len();
    export(&w, "b").unwrap();
    assert_eq!(
        w.sts.calls().len(),
        before + 2,
        "creds_cache = none: nothing cached"
    );
}

/// `cache list` and `cache clear` see the keyring cache's entries when `CREDS_CACHE` or a
/// profile's `creds_cache` uses it (found through the lock files every fetch leaves), and do
/// not touch the keyring otherwise.
#[test]
fn cache_list_and_clear_include_the_keyring_cache() {
    use creds::commands::cache;
    let mut w = World::new();
    w.config(CHAIN);
    w.vars.push(("CREDS_CACHE".into(), "keyring".into()));
    export(&w, "b").unwrap();
    let listed = cache::list(&w.context(false), false).unwrap();
    assert!(
        listed.contains("(0 entries) and the OS keyring (2 entries)"),
        "{listed}"
    );
    assert!(
        listed.contains("assume-role arn:aws:iam::222222222222:role/RoleB")
            && listed.contains("[keyring]"),
        "{listed}"
    );
    let doc: Value = serde_json::from_str(&cache::list(&w.context(false), true).unwrap()).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 2);
    assert_eq!(doc["entries"][0]["store"], "keyring");
    assert_eq!(doc["entries"][0]["file"], Value::Null);
    // -p a: a's chain (a, base) holds RoleA's entry; RoleB's stays.
    let shown = w.shown.lines().len();
    cache::clear(&w.context(false), Some("a"), false).unwrap();
    assert!(
        w.shown.lines()[shown].ends_with("and 1 from the OS keyring"),
        "{:?}",
        w.shown.lines()
    );
    let left: Vec<String> = w.keyring.secrets.lock().unwrap().keys().cloned().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    // --all: the rest.
    cache::clear(&w.context(false), None, true).unwrap();
    assert!(w
        .shown
        .lines()
        .last()
        .unwrap()
        .ends_with("and 1 from the OS keyring"));
    assert!(w.keyring.secrets.lock().unwrap().is_empty());
    // A keyring that cannot be used: exit 3, nothing removed (the lock files still find the
    // keyring's entries later), and how to clear the files alone.
    export(&w, "b").unwrap();
    *w.keyring.fail.lock().unwrap() = Some("no bus".into());
    let locks = |w: &World| {
        creds::cache::file::FileStore::new(w.home_path(&["cache"]))
            .locked_keys()
            .len()
    };
    assert_eq!(locks(&w), 2);
    let err = cache::clear(&w.context(false), None, true).unwrap_err();
    assert_eq!(err.kind, Kind::Config);
    assert!(
        err.line()
            .starts_with("nothing was removed: the OS keyring holds cache entries")
            && err.line().contains("cannot be used: no bus;")
            && err.line().contains("`CREDS_CACHE=file creds cache clear`"),
        "{}",
        err.line()
    );
    assert_eq!(locks(&w), 2);
    // The profile's creds_cache is enough to look; with neither, the keyring is not touched
    // (it is failing here, and nothing warns).
    w.vars.pop();
    w.config(&CHAIN.replace("[profile b]\n", "[profile b]\ncreds_cache = keyring\n"));
    let shown = w.shown.lines().len();
    cache::list(&w.context(false), false).unwrap();
    assert_eq!(w.shown.lines().len(), shown + 1, "{:?}", w.shown.lines());
    assert!(w.shown.lines()[shown].contains("the keyring cache's entries are not listed"));
    w.config(CHAIN);
    cache::list(&w.context(false), false).unwrap();
    cache::clear(&w.context(false), None, true).unwrap();
    assert_eq!(
        w.shown.lines().len(),
        shown + 2,
        "only clear's line: {:?}",
        w.shown.lines()
    );
    assert!(!w.shown.lines().last().unwrap().contains("keyring"));
}
