//! Atomic file replacement: write a temporary file in the same directory, fsync it, rename it
//! over the target, fsync the directory. A reader sees the old file or the new one, never part
//! of one, and a crash loses nothing. [`write_with_backup`] is how `setup` changes a user's
//! file: the old text kept in `FILE.bak`, the new one written atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The permissions of the new file (Unix).
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Always this mode: for secrets (tokens, cached credentials), whatever the old file had.
    Exactly(u32),
    /// The old file's mode if there was one (a user's config or settings file), else this.
    KeepOr(u32),
}

/// Replaces `path` with `bytes`, with the permissions `mode` says.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        crate::context::entropy()
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mode = match mode {
            Mode::Exactly(m) => m,
            Mode::KeepOr(m) => fs::metadata(path)
                .map(|md| md.permissions().mode() & 0o7777)
                .unwrap_or(m),
        };
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes a user's file (`setup`): creates its directory, keeps the old text in `PATH.bak`
/// when there was one, and replaces the file atomically, keeping its permissions.
pub fn write_with_backup(path: &Path, old: Option<&str>, new: &str) -> crate::error::Result<()> {
    use crate::error::Error;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| Error::other(format!("cannot create {}: {e}", parent.display())))?;
    }
    if let Some(old) = old {
        let backup = std::path::PathBuf::from(format!("{}.bak", path.display()));
        write_atomic(&backup, old.as_bytes(), Mode::KeepOr(0o600)).map_err(|e| {
            Error::other(format!("cannot write the backup {}: {e}", backup.display()))
        })?;
    }
    write_atomic(path, new.as_bytes(), Mode::KeepOr(0o600))
        .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))
}
