#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
//! metarepro: reproduce and verify meta-analyses of proportions.
//!
//! The pipeline, one module per step:
//!
//! - [`data`]: load study-level counts (CSV, TSV, Parquet) into polars and validate them;
//! - [`effect`]: effect sizes `yi`, `vi` for proportions (metafor `escalc`), back-transformations,
//!   per-study CIs;
//! - [`model`]: common- and random-effects models (metafor `rma.uni`), τ² estimators, Q-profile
//!   CIs, prediction intervals, subgroups, the GLMM on the counts (`rma.glmm`) and
//!   meta-regression;
//! - [`report`]: the table, JSON and CSV renderings of a result, with one rounding function.
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
//! assert!(res.overall.proportion.estimate > 0.2 && res.overall.proportion.estimate < 0.5);
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
