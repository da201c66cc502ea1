//! Sensitivity and influence analyses of an intercept-only random-effects model, each matched to
//! its metafor function: leave-one-out ([`leave1out`], `leave1out.rma.uni`), cumulative
//! ([`cumul`], `cumul.rma.uni`), influence diagnostics and Baujat data ([`influence`],
//! `influence.rma.uni`, `baujat.rma`), GOSH ([`gosh`], `gosh.rma`), permutation tests
//! ([`permutest`], `permutest.rma.uni`) and a parametric bootstrap of τ² ([`bootstrap`], no
//! metafor equivalent).
//!
//! Every function takes the study effects (`EffectSizes`) and the analysis's options
//! (`PoolOptions`: estimator, test, level, back-transformation); a refit that fails (e.g. does
//! not converge) gives a row with its message and missing numbers, as metafor gives `NA`, and
//! never stops the others.

pub mod bias;
pub mod bootstrap;
pub mod cumul;
pub mod gosh;
pub mod influence;
pub mod leave1out;
pub mod permutest;
pub mod rng;

use crate::effect::{BackTransform, EffectSizes};
use crate::error::{Error, Result};
use crate::model::{rma, FitRow, PoolOptions, RowKey};

pub use bootstrap::{bootstrap_tau2, Bootstrap, BootstrapOptions};
pub use cumul::{cumul, cumul_order};
pub use gosh::{gosh, GoshOptions, GoshRow, GoshSummary};
pub use influence::{baujat, influence, Baujat, Influence};
pub use leave1out::leave1out;
pub use permutest::{permutest, PermTest, PermTestOptions};

/// Fit the studies at positions `idx` (in that order) and summarise; a failure becomes a row
/// with its message.
pub(crate) fn refit_row(es: &EffectSizes, idx: &[usize], study: usize, options: &PoolOptions) -> FitRow {
    let sub = es.subset(idx);
    match rma(&sub.yi, &sub.vi, &options.rma_options()) {
        Ok(fit) => {
            let back = BackTransform::with_mean(es.measure, &sub.ni, options.pft_mean);
            FitRow::from_fit(RowKey::Study { study }, &fit, &back)
        }
        Err(e) => FitRow::failed(RowKey::Study { study }, idx.len(), e.to_string()),
    }
}

/// Refuse effect sizes that no model accepts (non-finite yi, non-positive vi), naming the study.
pub(crate) fn check_effects(es: &EffectSizes) -> Result<()> {
    if es.k() == 0 {
        return Err(Error::Computation("no studies to analyse".into()));
    }
    for i in 0..es.k() {
        if !es.is_defined(i) {
            return Err(Error::Computation(format!(
                "study {}: the {} effect size is not defined without a continuity correction (yi = {}, vi = {}); \
                 use a continuity correction or another measure",
                i + 1,
                es.measure,
                es.yi[i],
                es.vi[i]
            )));
        }
    }
    Ok(())
}
