//! IAM Identity Center (SSO), split by concern:
//!
//! - [`session`]: what a sign-in is for (an `[sso-session]` or a legacy start URL), the names
//!   of its files and the commands to name in messages;
//! - [`cache`]: the token and registration files in `~/.aws/sso/cache`, byte-compatible with
//!   the AWS CLI, and the locks that guard them ([`TokenStore`]);
//! - [`renew`]: the one freshness rule of a token, and silent renewal with its refresh token;
//! - [`login`]: `creds login` and `creds logout`, with the device flow and the PKCE flow
//!   sharing one [`login::Flow`].
//!
//! The OIDC and portal clients themselves are `crate::aws::sso`.

pub mod cache;
pub mod login;
pub mod renew;
pub mod session;

pub use cache::TokenStore;
pub use session::Session;
