//! Edits of files that other programs write too: the AWS config and credentials files and
//! Claude Code's settings (`setup *`, `keys add|remove|import`).
//!
//! An edit is a pure function of the file's text. [`edit`] applies it so that no concurrent
//! change is lost:
//! - creds writers take a lock first (a lock file in creds' cache directory, named by the
//!   file's path), so they take turns instead of racing;
//! - every attempt reads the file, edits that text and writes the result to a temporary file;
//!   just before the rename it reads the file again, and when it changed (another program,
//!   such as a user's `>>`, wrote meanwhile) the attempt starts over from the new text;
//! - after the rename, the replaced file is read once more through the handle kept from the
//!   read (Unix: Windows cannot replace a file that is open), at once and again 30 ms later: a
//!   write that reached it around the rename (a `>>` that opened it just before) is found
//!   there, and the edit is made again on top of it.
//!
//! The old text is kept in `FILE.bak`, the new one replaces the file atomically with its
//! permissions, and a symlink is written through. A read-only file is not changed: the user
//! protected it.

use crate::cache::{file::FileStore, file::LockError, Key, LOCK_WAIT};
use crate::context::Clock;
use crate::error::{Error, Result};
use crate::fsutil;
use std::io::{Read, Seek};
use std::path::Path;

/// How many times an edit starts over because the file changed underneath it.
const ATTEMPTS: usize = 50;

/// What [`edit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The edit had nothing to change.
    Unchanged,
    /// The file was written; `existed`: there was one before (its text is in `FILE.bak`).
    Written { existed: bool },
}

/// Where the lock of edits of `path` lives: the cache directory, when creds has one.
pub struct Locks<'a> {
    pub dir: Option<&'a Path>,
    pub clock: &'a dyn Clock,
}

impl<'a> Locks<'a> {
    /// The locks `setup` and `keys` take: in the run's cache directory, on its clock.
    pub fn of(ctx: &'a crate::context::Context, settings: &'a crate::settings::Settings) -> Self {
        Locks {
            dir: settings.cache_dir.as_ref().map(|d| d.value.as_path()),
            clock: ctx.clock.as_ref(),
        }
    }
}

/// Applies `change` to the text of `path` (`None`: no such file), as the module docs say.
/// `change` returns the new text, or `None` when there is nothing to do; it may be called more
/// than once, each time with the file's latest text.
pub fn edit(
    path: &Path,
    locks: &Locks<'_>,
    mut change: impl FnMut(Option<&str>) -> Result<Option<String>>,
) -> Result<Outcome> {
    let target = fsutil::write_target(path);
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::other(format!("cannot create {}: {e}", parent.display())))?;
    }
    let _lock = lock(&target, path, locks)?;
    // After a write the replaced file was found grown: the text to edit again (the replaced
    // file's) and what the file must still hold for that (the text just written).
    let mut recovered: Option<(String, String)> = None;
    for _ in 0..ATTEMPTS {
        let (held, current) = read(&target, path)?;
        // Windows does not replace a file this process holds open: there the handle goes now
        // (and a writer holding it open makes the rename wait, `fsutil`'s retries).
        let held = held.filter(|_| cfg!(unix));
        let base = match recovered.take() {
            Some((base, written)) if current.as_deref() == Some(written.as_str()) => Some(base),
            _ => current.clone(),
        };
        let Some(new) = change(base.as_deref())? else {
            return Ok(Outcome::Unchanged);
        };
        if let Some(base) = &base {
            let backup = std::path::PathBuf::from(format!("{}.bak", path.display()));
            fsutil::write_atomic(
                &fsutil::write_target(&backup),
                base.as_bytes(),
                fsutil::Mode::KeepOr(0o600),
            )
            .map_err(|e| {
                Error::other(format!("cannot write the backup {}: {e}", backup.display()))
            })?;
        }
        let unchanged =
            || Ok(read(&target, path).ok().map(|(_, now)| now) == Some(current.clone()));
        let written = fsutil::write_atomic_if(
            &target,
            new.as_bytes(),
            fsutil::Mode::KeepOr(0o600),
            unchanged,
        )
        .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
        if !written {
            continue;
        }
        match (held, current) {
            (Some(mut file), Some(before)) => match settled(&mut file, &before, locks.clock) {
                Ok(after) if after != before => recovered = Some((after, new)),
                _ => {
                    return Ok(Outcome::Written { existed: true });
                }
            },
            (_, current) => {
                return Ok(Outcome::Written {
                    existed: current.is_some(),
                })
            }
        }
    }
    Err(Error::other(format!(
        "{} kept changing while creds edited it ({ATTEMPTS} attempts); try again when nothing else is writing it",
        path.display()
    )))
}

/// How long after the rename the replaced file is read again: a writer that opened it just
/// before (a user's `>>` preempted between its open and its write) lands its write by then.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(30);

/// The replaced file's text once writers that opened it before the rename have had [`SETTLE`]
/// to finish: read at once, and again after the pause when it has not changed yet.
fn settled(file: &mut std::fs::File, before: &str, clock: &dyn Clock) -> std::io::Result<String> {
    let now = read_all(file)?;
    if now != before {
        return Ok(now);
    }
    clock.sleep(SETTLE);
    read_all(file)
}

/// The lock of edits of `target`, when there is a cache directory to hold it.
fn lock(target: &Path, path: &Path, locks: &Locks<'_>) -> Result<Option<crate::cache::file::Lock>> {
    let Some(dir) = locks.dir else {
        return Ok(None);
    };
    let absolute = std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf());
    let key = Key::derive("edit", None, &[("path", Some(&absolute.to_string_lossy()))]);
    match FileStore::new(dir.to_path_buf()).lock(&key, LOCK_WAIT, "", locks.clock) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Busy(_)) => Err(Error::other(format!(
            "another creds process has been changing {} for {}s; try again, or look for a stuck creds",
            path.display(),
            LOCK_WAIT.as_secs()
        ))),
        // The re-read before the rename still guards the edit.
        Err(LockError::Unusable(_)) => Ok(None),
    }
}

/// The file's handle and text (`None`, `None` when there is none). A read-only file is an
/// error: creds does not change a file the user protected.
fn read(target: &Path, path: &Path) -> Result<(Option<std::fs::File>, Option<String>)> {
    let cannot =
        |e: std::io::Error| Error::config(format!("{}: cannot read the file: {e}", path.display()));
    let (mut file, meta) = match fsutil::open_regular(target, false) {
        Ok(opened) => opened,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, None)),
        Err(e) => return Err(cannot(e)),
    };
    if meta.permissions().readonly() {
        return Err(Error::config(format!(
            "{} is read-only, so creds leaves it as it is; make it writable ({}) and run this again",
            path.display(),
            crate::platform::make_writable_hint(crate::platform::Platform::current(), path)
        )));
    }
    let text = read_all(&mut file).map_err(cannot)?;
    Ok((Some(file), Some(text)))
}

/// The whole text of `file`, from its start.
fn read_all(file: &mut std::fs::File) -> std::io::Result<String> {
    file.rewind()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ManualClock;

    fn locks<'a>(dir: &'a Path, clock: &'a ManualClock) -> Locks<'a> {
        Locks {
            dir: Some(dir),
            clock,
        }
    }

    #[test]
    fn a_change_made_underneath_an_edit_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "[a]\n").unwrap();
        let clock = ManualClock::new(chrono::DateTime::UNIX_EPOCH);
        let mut seen = Vec::new();
        let outcome = edit(&path, &locks(dir.path(), &clock), |old| {
            let old = old.unwrap_or("").to_string();
            if seen.is_empty() {
                // Another program appends after this edit read the file.
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                std::io::Write::write_all(&mut f, b"[user]\n").unwrap();
            }
            seen.push(old.clone());
            Ok(Some(format!("{old}[b]\n")))
        })
        .unwrap();
        assert_eq!(outcome, Outcome::Written { existed: true });
        assert_eq!(
            seen,
            ["[a]\n", "[a]\n[user]\n"],
            "started over from the new text"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[a]\n[user]\n[b]\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.bak")).unwrap(),
            "[a]\n[user]\n"
        );
        // Nothing to change: nothing written; a missing file is created.
        let same = edit(&path, &locks(dir.path(), &clock), |_| Ok(None)).unwrap();
        assert_eq!(same, Outcome::Unchanged);
        let new = dir.path().join("sub/settings.json");
        let created = edit(&new, &locks(dir.path(), &clock), |old| {
            assert_eq!(old, None);
            Ok(Some("{}\n".into()))
        })
        .unwrap();
        assert_eq!(created, Outcome::Written { existed: false });
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "{}\n");
    }

    #[test]
    fn a_file_that_never_settles_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "x").unwrap();
        let clock = ManualClock::new(chrono::DateTime::UNIX_EPOCH);
        let mut calls = 0;
        let err = edit(&path, &locks(dir.path(), &clock), |old| {
            calls += 1;
            std::fs::write(&path, format!("{calls}")).unwrap();
            Ok(Some(format!("{}!", old.unwrap_or(""))))
        })
        .unwrap_err();
        assert_eq!(calls, ATTEMPTS);
        assert!(err.line().contains("kept changing"), "{}", err.line());
    }
}
