#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
//! metarepro: reproduce and verify meta-analyses.
//!
//! The pipeline, one module per step; a module uses only those listed before it:
//!
//! - [`error`] and [`dist`]: the error type and exit codes; distribution functions as R computes
//!   them and the root finder ([`dist::roots`]);
//! - [`data`]: load study-level data (CSV, TSV, Parquet, or a polars `DataFrame`) and validate
//!   it: single-arm events/totals, 2×2 tables, means/SDs, rates, correlations, effect sizes with
//!   variances, published estimates with CIs ([`data::StudyInput`], one per study row);
//!   Cochrane RevMan 5 review files ([`data::revman`]);
//! - [`effect`]: effect sizes `yi`, `vi` as metafor `escalc` computes them, for proportions and,
//!   by family, for two-group and other measures ([`effect::comparative`]); back-transformations,
//!   per-study CIs;
//! - [`model`]: common- and random-effects models (metafor `rma.uni`), τ² estimators, Q-profile
//!   CIs, prediction intervals, subgroups, Mantel–Haenszel and Peto pooling (`rma.mh`,
//!   `rma.peto`), the GLMM on the counts (`rma.glmm`) and meta-regression;
//! - [`diagnostics`]: leave-one-out, cumulative, influence, GOSH, permutation tests, bootstrap;
//! - [`report`] and [`plot`]: the table, JSON and CSV renderings of a result, with one rounding
//!   function, and the figures;
//! - [`verify`]: printed numbers checked against recomputations, and their figure; RevMan 5
//!   reviews re-pooled by RevMan's rules and every stored number checked ([`verify::revman`]);
//! - [`batch`] (many analyses from one long table, streamed) and [`reproduce`] (the shipped
//!   `datasets/*/analysis.toml` analyses, whose options resolve through [`data::LoadSpec`] and
//!   [`model::ModelSpec`] as the command line's do);
//! - [`cli`]: the command line on top.
//!
//! ```
//! use metarepro::data::Studies;
//! use metarepro::model::{pool, PoolOptions};
//!
//! let studies = Studies::from_counts(
//!     vec!["A".into(), "B".into(), "C".into()],
//!     vec![4.0, 10.0, 7.0],
//!     vec![20.0, 31.0, 15.0],
//!     None,
//! ).unwrap();
//! let res = pool(&studies, &PoolOptions::default()).unwrap();
//! assert!(res.overall.effect.estimate > 0.2 && res.overall.effect.estimate < 0.5);
//! ```

pub mod batch;
pub mod cli;
pub mod data;
pub mod diagnostics;
pub mod dist;
pub mod effect;
pub mod error;
pub mod model;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod verify;

pub use error::{Error, Result};
/// The frame types of the data boundary ([`data::read_frame`], [`data::Studies::frame`]).
pub use polars_core;
