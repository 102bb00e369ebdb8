//! The `creds` executable.
//!
//! A cache hit is a process start, a few file reads and a print, so the start itself matters:
//! this `main` is the C entry point (`#![no_main]`), which skips the Rust runtime's start-up
//! (reading `/proc/self/maps` through stdio to place a stack guard, and installing stack
//! overflow handlers: about 20 system calls and a dozen page faults, several percent of a
//! hit). What of that start-up matters is done here: file descriptors 0 to 2 are made sure to
//! be open (so no file creds opens can become its stdout), and SIGPIPE is ignored (so a closed
//! stdout is an error creds reports, exit 1, not a silent death). The arguments are still
//! `std::env::args_os` (glibc hands them to the standard library at load time). A stack
//! overflow, which nothing in creds can cause, would end the process without its message.

#![no_main]
#![allow(clippy::disallowed_methods)] // the process entry point reads its own arguments

#[no_mangle]
pub extern "C" fn main(_argc: std::os::raw::c_int, _argv: *const *const u8) -> std::os::raw::c_int {
    start_up();
    let cli = creds::cli::Cli::parse_args(std::env::args_os().collect());
    let ctx = creds::os::context();
    std::process::exit(creds::run(cli, &ctx));
}

/// What the Rust runtime would have done that creds relies on.
fn start_up() {
    #[cfg(unix)]
    // SAFETY: fcntl, open and signal with valid arguments; run before any other thread exists.
    unsafe {
        for fd in 0..3 {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
            {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null != fd && null >= 0 {
                    libc::close(null);
                    std::process::abort();
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
