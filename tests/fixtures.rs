//! Config fixtures shared by the in-process tests (`tests/core/`) and the binary tests
//! (`tests/cli.rs`): one text per situation, so the two rings test the same profiles.

#![allow(dead_code)]

/// `[profile base]` (static keys) and `[profile a]` (a role over them), with the roles' ARNs.
macro_rules! base_and_a {
    () => {
        "\
[profile base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = SECRETBASEKEY0123456789

[profile a]
role_arn = arn:aws:iam::111111111111:role/RoleA
source_profile = base
role_session_name = sess-a

"
    };
}

/// A chain of two roles over static keys: `b` over `a` over `base`.
pub const CHAIN: &str = concat!(
    base_and_a!(),
    "\
[profile b]
role_arn = arn:aws:iam::222222222222:role/RoleB
source_profile = a
region = eu-west-1
"
);

/// [`CHAIN`] with `b`'s role options set (`external_id`, `duration_seconds`).
pub const CHAIN_WITH_ROLE_OPTIONS: &str = concat!(
    base_and_a!(),
    "\
[profile b]
role_arn = arn:aws:iam::222222222222:role/RoleB
source_profile = a
external_id = ext-123
duration_seconds = 3600
region = eu-west-1
"
);

pub const ROLE_A: &str = "arn:aws:iam::111111111111:role/RoleA";
pub const ROLE_B: &str = "arn:aws:iam::222222222222:role/RoleB";

/// sha1("corp"): the token file of `[sso-session corp]`.
pub const CORP_TOKEN: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
