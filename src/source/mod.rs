//! One module per credential source.

pub mod env;
pub mod process;
pub mod sts;
