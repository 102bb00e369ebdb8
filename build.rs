#![allow(clippy::disallowed_methods)] // a build script reads its own environment

//! Links the `creds` executable as a position-dependent (non-PIE) binary on Linux x86_64.
//!
//! A cache hit is a process start, a few file reads and a print, so the dynamic loader's work
//! matters: as a PIE, the loader applies about 6,000 relative relocations and dirties their
//! pages at every start, a fifth of the whole run (measured with callgrind and perf stat; see
//! the README). Linked at a fixed address, none of that happens. The cost is that the
//! executable's own code is not placed at a random address (shared libraries, stack and heap
//! still are). Set `CREDS_PIE=1` when building to keep a PIE.

fn main() {
    println!("cargo:rerun-if-env-changed=CREDS_PIE");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" && std::env::var("CREDS_PIE").as_deref() != Ok("1") {
        println!("cargo:rustc-link-arg-bin=creds=-no-pie");
    }
}
