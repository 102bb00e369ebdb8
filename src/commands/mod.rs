//! The subcommands. Each is thin: it resolves the settings, calls the library modules and
//! returns the document to print. No command imports another; what two commands share lives
//! in a library module (`crate::claude` for Claude Code's settings files, `crate::cache::file`
//! for listing and clearing the cache).

pub mod cache;
pub mod desktop;
pub mod doctor;
pub mod exec;
pub mod export;
pub mod keys;
pub mod login;
pub mod setup;
