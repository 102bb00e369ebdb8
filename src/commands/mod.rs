//! The subcommands; each is thin and leaves the work to the library modules.

pub mod cache;
pub mod doctor;
pub mod export;
pub mod login;
pub mod setup;
