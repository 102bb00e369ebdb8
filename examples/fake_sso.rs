//! The tests' fake IAM Identity Center as a process, for the interop tests (pytest): listens on
//! 127.0.0.1, prints its port on stdout, and exits when its stdin closes (so it never outlives
//! the test that started it). Control it with `POST /_fake/config`, `POST /_fake/issue` and
//! `GET /_fake/counts`.

#![allow(clippy::disallowed_methods)]

#[path = "../tests/support/fake_sso.rs"]
mod fake_sso;
#[path = "../tests/support/http.rs"]
mod http;

use std::io::{Read, Write};

fn main() {
    let fake = fake_sso::SsoServer::start();
    println!("{}", fake.port());
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}
