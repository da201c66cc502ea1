//! The integration tests, in one test binary (one link of the library and its dependencies
//! instead of one per file). Run one file's tests with `cargo test --test it <module>::`, e.g.
//! `cargo test --test it comparative::`.

mod bias;
mod cli_help;
mod comparative;
mod forest;
mod glmm_metareg;
mod hr_mh;
mod input;
mod metafor_fixtures;
mod presentation;
mod properties;
mod reproduce;
mod revman;
mod revman_csv;
mod revman_report;
mod revman_text;
mod selection;
mod sensitivity;
mod subgroup_common;
mod verify_bias;
mod verify_comparative;
mod verify_verdicts;
