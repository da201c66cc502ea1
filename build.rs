//! Link the `metarepro` binary as a position-dependent executable on Linux/x86-64.
//!
//! A position-independent executable of this size (polars included) spends about a millisecond
//! at every start relocating some 60 000 pointers before `main`; linked at a fixed address it
//! needs none. That millisecond is a sizeable part of a short run (`metarepro batch` pools 1 000
//! analyses in a few milliseconds). The code itself is unchanged; only the link differs.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && arch == "x86_64" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
