//! Files written and read with care.
//!
//! - Atomic replacement ([`write_atomic`]): write a temporary file in the same directory, fsync
//!   it, rename it over the target, fsync the directory. A reader sees the old file or the new
//!   one, never part of one, and a crash loses nothing. The temporary file is named
//!   `.NAME.PID.N.tmp`; [`clean_stale_temps`] removes those whose writer is gone, so a kill
//!   between write and rename leaves no credentials behind for long.
//! - [`write_atomic_if`]: the same, only if a check just before the rename still passes (how
//!   `crate::rewrite` edits a file other programs write too).
//! - [`read_regular`] reads a file only if it is a regular file (a FIFO would block forever),
//!   optionally without following a symlink, and at most a given size.
//! - [`check_private_dir`] and [`create_private_dir`]: a directory is used for secrets only if
//!   it belongs to this user and nobody else can write to it (as ssh and gpg require); creds
//!   creates at most the last two levels of one, 0700, and never changes one it did not make.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The permissions of the new file (Unix).
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Always this mode: for secrets (tokens, cached credentials), whatever the old file had.
    Exactly(u32),
    /// The old file's mode if there was one (a user's config or settings file), else this.
    KeepOr(u32),
}

/// The name of a temporary file for `name` written by this process.
fn temp_name(name: &str) -> String {
    format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        crate::context::entropy()
    )
}

/// For a file name made by [`temp_name`]: the name it was for and the writer's process id.
pub fn parse_temp(file_name: &str) -> Option<(&str, u32)> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (rest, n) = rest.rsplit_once('.')?;
    let (name, pid) = rest.rsplit_once('.')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, pid.parse().ok()?))
}

/// Whether process `pid` may still be running (it exists, or we cannot tell).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::{CloseHandle, ERROR_INVALID_PARAMETER, STILL_ACTIVE};
        use windows_sys::Win32::System::Threading::{
            GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
        };
        // SAFETY: opens, queries and closes a handle owned here.
        unsafe {
            let handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
            if handle.is_null() {
                // No such process (anything else, such as access denied: it may be running).
                return io::Error::last_os_error().raw_os_error()
                    != Some(ERROR_INVALID_PARAMETER as i32);
            }
            let mut code = 0u32;
            let known = GetExitCodeProcess(handle, &mut code) != 0;
            CloseHandle(handle);
            !known || code == STILL_ACTIVE as u32
        }
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = pid;
        true
    }
}

/// Removes the temporary files in `dir` that were made for a name `ours` accepts and whose
/// writer has exited (or that are older than ten minutes). Returns how many it removed.
pub fn clean_stale_temps(dir: &Path, ours: impl Fn(&str) -> bool) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0usize;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((target, pid)) = name.to_str().and_then(parse_temp) else {
            continue;
        };
        if !ours(target) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(600));
        let mine = pid == std::process::id();
        if ((!mine && !process_alive(pid)) || old) && fs::remove_file(entry.path()).is_ok() {
            removed = removed.saturating_add(1);
        }
    }
    removed
}

/// Replaces `path` with `bytes`, with the permissions `mode` says.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    write_atomic_in(parent_or_dot(path), path, bytes, mode)
}

/// [`write_atomic`] with the temporary file in `tmp_dir` (on the same file system).
pub fn write_atomic_in(tmp_dir: &Path, path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    replace_if(tmp_dir, path, bytes, mode, || Ok(true)).map(|_| ())
}

/// [`write_atomic`], only if `unchanged` still says so once the new file is written and
/// synced, just before the rename: `Ok(false)` when it did not (nothing replaced).
pub fn write_atomic_if(
    path: &Path,
    bytes: &[u8],
    mode: Mode,
    unchanged: impl FnOnce() -> io::Result<bool>,
) -> io::Result<bool> {
    replace_if(parent_or_dot(path), path, bytes, mode, unchanged)
}

fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn replace_if(
    tmp_dir: &Path,
    path: &Path,
    bytes: &[u8],
    mode: Mode,
    unchanged: impl FnOnce() -> io::Result<bool>,
) -> io::Result<bool> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = tmp_dir.join(temp_name(name));
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
        drop(f);
        if !unchanged()? {
            return Ok(false);
        }
        rename(&tmp, path)?;
        // The rename itself made durable (Unix: fsync of the directory; Windows makes a
        // rename durable with the file system's own journal).
        #[cfg(unix)]
        File::open(parent_or_dot(path))?.sync_all()?;
        Ok(true)
    })();
    if !matches!(result, Ok(true)) {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `fs::rename`, tried again for a moment where the system refuses it while another program
/// has the target open (Windows: a reader without delete sharing; see
/// [`crate::platform::replace_retries`]).
fn rename(from: &Path, to: &Path) -> io::Result<()> {
    let (tries, pause) = crate::platform::replace_retries(crate::platform::Platform::current());
    let mut left = tries;
    loop {
        match fs::rename(from, to) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && left > 0 => {
                left = left.saturating_sub(1);
                // A pause for another program to close the file, not time the tests control.
                #[allow(clippy::disallowed_methods)]
                std::thread::sleep(pause);
            }
            other => return other,
        }
    }
}

/// Where a write to `path` should go: the file a symlink at `path` points to (so a config kept
/// in a dotfiles repository stays a link), else `path` itself.
pub fn write_target(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(real) => real,
            // A dangling link: write where it points, relative to the link's directory.
            Err(_) => match fs::read_link(path) {
                Ok(to) if to.is_absolute() => to,
                Ok(to) => path.parent().unwrap_or(Path::new(".")).join(to),
                Err(_) => path.to_path_buf(),
            },
        },
        _ => path.to_path_buf(),
    }
}

/// The text of `path`, `None` when it does not exist; another failure is exit 3 naming it.
pub fn read_text_if_exists(path: &Path) -> crate::error::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(crate::error::Error::config(format!(
            "{}: cannot read the file: {e}",
            path.display()
        ))),
    }
}

/// Opens `path` for reading if it is a regular file (never blocking on a FIFO or a device),
/// without following a final symlink when `nofollow`.
pub fn open_regular(path: &Path, nofollow: bool) -> io::Result<(File, fs::Metadata)> {
    let mut options = OpenOptions::new();
    options.read(true);
    never_block(&mut options, nofollow);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok((file, meta))
}

/// Makes `options` open without blocking on a FIFO or a device, close-on-exec, and with
/// `nofollow`, a final symlink (on Windows any reparse point) as itself, which is then not a
/// regular file.
pub fn never_block(options: &mut OpenOptions, nofollow: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        if nofollow {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags);
    }
    #[cfg(windows)]
    if nofollow {
        use std::os::windows::fs::OpenOptionsExt;
        options.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT);
    }
    #[cfg(not(any(unix, windows)))]
    let _ = (options, nofollow);
}

/// Reads a regular file of at most `limit` bytes (see [`open_regular`]); a larger one is an
/// error.
pub fn read_regular(path: &Path, nofollow: bool, limit: u64) -> io::Result<Vec<u8>> {
    let (file, meta) = open_regular(path, nofollow)?;
    let size = meta.len();
    if size > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    // Room for the whole file and one more byte: two reads, the second seeing the end.
    let room = usize::try_from(size).unwrap_or(0).saturating_add(1);
    let mut bytes = Vec::with_capacity(room);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// How long a file the user names that is not a regular file (a pipe from `<(...)`, a FIFO, a
/// device) may take to give its whole text.
pub const STREAM_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a file the user names (the AWS config and credentials files), never blocking on its
/// open: a regular file whole; anything else (a pipe from `<(...)`, `/dev/null`, a FIFO)
/// until its end, for at most `wait` (then `TimedOut`). A FIFO nobody writes to reads as
/// empty, as `/dev/null` does.
pub fn read_user_file(path: &Path, wait: std::time::Duration) -> io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    never_block(&mut options, false);
    let mut file = options.open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::new();
    if meta.is_file() || meta.is_dir() {
        bytes.reserve(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    read_stream(&mut file, &mut bytes, wait)?;
    Ok(bytes)
}

/// Reads `file` (opened non-blocking) to its end, waiting for data at most `wait` in all.
#[allow(clippy::disallowed_methods)] // a deadline on a real pipe, in real time
fn read_stream(file: &mut File, bytes: &mut Vec<u8>, wait: std::time::Duration) -> io::Result<()> {
    let start = std::time::Instant::now();
    let mut chunk = [0u8; 8192];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => bytes.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = wait.saturating_sub(start.elapsed());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "not a regular file, and it gave no end of its text within {} s",
                            wait.as_secs()
                        ),
                    ));
                }
                wait_for_data(file, left);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `file` has data (or its end), at most `left`.
fn wait_for_data(file: &File, left: std::time::Duration) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let mut fds = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe {
            libc::poll(&mut fds, 1, ms);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        #[allow(clippy::disallowed_methods)] // waits in real time for a real pipe
        std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
    }
}

/// Whether `dir` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirState {
    Missing,
    Private,
}

/// Whether `dir` may hold secrets: missing (it will be created), or a directory owned by this
/// user that nobody else can write to. The error says why not.
pub fn check_private_dir(dir: &Path) -> Result<DirState, String> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DirState::Missing),
        Err(e) => return Err(format!("{} cannot be read: {e}", dir.display())),
    };
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!(
                "{} belongs to user id {}, not to you ({me})",
                dir.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} can be written by other users (mode {:o})",
                dir.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(DirState::Private)
}

/// Creates `dir` private to this user ([`crate::platform::private_files`]: mode 0700 on Unix,
/// a protected DACL for the current user alone on Windows), and its parent if that is missing
/// too; never more (a missing HOME is not created).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    create_private_dirs(dir, 2)
}

/// [`create_private_dir`] creating at most `levels` missing levels (`dir` and its parents):
/// `~/.aws/sso/cache` takes three when `~/.aws` is missing, as the AWS CLI creates it.
pub fn create_private_dirs(dir: &Path, levels: usize) -> io::Result<()> {
    let create = |d: &Path| match make_private_dir(d) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => Ok(()),
        other => other,
    };
    match create(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && levels > 1 => {
            let parent = dir.parent().ok_or(e)?;
            create_private_dirs(parent, levels.saturating_sub(1))?;
            create(dir)
        }
        other => other,
    }
}

/// Creates one directory, private as [`crate::platform::private_files`] says.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    use crate::platform::{private_files, Platform, PrivateFiles};
    match private_files(Platform::current()) {
        PrivateFiles::UnixModes { dir: mode, .. } => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                fs::DirBuilder::new().mode(mode).create(dir)
            }
            #[cfg(not(unix))]
            {
                let _ = mode;
                fs::create_dir(dir)
            }
        }
        PrivateFiles::WindowsAcl => {
            #[cfg(windows)]
            return windows_acl::create_dir(dir);
            #[cfg(not(windows))]
            Err(io::Error::other("a Windows ACL on another platform"))
        }
    }
}

/// A directory that only the current user can use, on Windows: created with a protected DACL
/// granting the user's SID alone full control, inherited by everything created in it.
#[cfg(windows)]
mod windows_acl {
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
        SDDL_REVISION_1,
    };
    use windows_sys::Win32::Security::{
        GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
        TOKEN_USER,
    };
    use windows_sys::Win32::Storage::FileSystem::CreateDirectoryW;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    fn wide(s: &std::ffi::OsStr) -> Vec<u16> {
        s.encode_wide().chain(std::iter::once(0)).collect()
    }

    /// The current user's SID as text (`S-1-5-21-…`).
    fn user_sid() -> io::Result<String> {
        // SAFETY: a token handle and buffers owned here, freed before returning.
        unsafe {
            let mut token: HANDLE = std::ptr::null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buffer = vec![0u64; 64];
            let mut len = 0u32;
            let ok = GetTokenInformation(
                token,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                u32::try_from(std::mem::size_of_val(buffer.as_slice())).unwrap_or(0),
                &mut len,
            );
            CloseHandle(token);
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            let user = &*(buffer.as_ptr() as *const TOKEN_USER);
            let mut text: *mut u16 = std::ptr::null_mut();
            if ConvertSidToStringSidW(user.User.Sid, &mut text) == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut n = 0usize;
            while *text.add(n) != 0 {
                n = n.saturating_add(1);
            }
            let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, n));
            LocalFree(text.cast());
            Ok(sid)
        }
    }

    pub fn create_dir(dir: &Path) -> io::Result<()> {
        let sddl = crate::platform::private_dir_sddl(&user_sid()?);
        let sddl = wide(std::ffi::OsStr::new(&sddl));
        let path = wide(dir.as_os_str());
        // SAFETY: NUL-terminated wide strings; the descriptor is freed after use.
        unsafe {
            let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
            if ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            ) == 0
            {
                return Err(io::Error::last_os_error());
            }
            let attributes = SECURITY_ATTRIBUTES {
                nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
                lpSecurityDescriptor: descriptor,
                bInheritHandle: 0,
            };
            let ok = CreateDirectoryW(path.as_ptr(), &attributes);
            let result = if ok == 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            };
            LocalFree(descriptor.cast());
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_round_trip() {
        let name = temp_name("abc.json");
        assert_eq!(parse_temp(&name), Some(("abc.json", std::process::id())));
        assert_eq!(parse_temp(".x.json.12.34.tmp"), Some(("x.json", 12)));
        assert_eq!(parse_temp("x.json"), None);
        assert_eq!(parse_temp(".x.json.a.34.tmp"), None);
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_and_regular_files() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a").join("b");
        assert_eq!(check_private_dir(&dir), Ok(DirState::Missing));
        create_private_dir(&dir).unwrap();
        assert_eq!(check_private_dir(&dir), Ok(DirState::Private));
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // Never more than two levels, unless asked.
        assert!(create_private_dir(&tmp.path().join("x/y/z")).is_err());
        assert!(!tmp.path().join("x").exists());
        assert!(create_private_dirs(&tmp.path().join("x/y/z/w"), 3).is_err());
        assert!(!tmp.path().join("x").exists());
        create_private_dirs(&tmp.path().join("x/y/z"), 3).unwrap();
        for d in ["x", "x/y", "x/y/z"] {
            assert_eq!(
                fs::metadata(tmp.path().join(d))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700,
                "{d}"
            );
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(check_private_dir(&dir)
            .unwrap_err()
            .contains("written by other users"));
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o7777,
            0o1777,
            "left as it was"
        );
        let fifo = tmp.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string and mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(
            read_regular(&fifo, true, 10).is_err(),
            "no blocking on a FIFO"
        );
        let file = tmp.path().join("f");
        fs::write(&file, "12345").unwrap();
        assert_eq!(read_regular(&file, true, 5).unwrap(), b"12345");
        assert!(read_regular(&file, true, 4).is_err());
        let link = tmp.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read_regular(&link, true, 10).is_err());
        assert!(read_regular(&link, false, 10).is_ok());
        assert_eq!(write_target(&link), fs::canonicalize(&file).unwrap());
    }
}
