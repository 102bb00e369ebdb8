//! The subcommands; each is thin and leaves the work to the library modules.

pub mod export;
pub mod login;
