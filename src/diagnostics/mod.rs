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

use serde::Serialize;

use crate::effect::{BackTransform, EffectSizes};
use crate::error::{Error, Result};
use crate::model::{rma, PoolOptions, RmaFit};

pub use bootstrap::{bootstrap_tau2, Bootstrap, BootstrapOptions};
pub use cumul::{cumul, cumul_order};
pub use gosh::{gosh, GoshOptions, GoshRow, GoshSummary};
pub use influence::{baujat, influence, Baujat, Influence};
pub use leave1out::leave1out;
pub use permutest::{permutest, PermTest, PermTestOptions};

/// Back-transformed (proportion-scale) estimate and CI of one refit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProportionCi {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

/// One refit of a leave-one-out or cumulative analysis (one row of metafor's `list.rma`).
/// Values are on the measure's scale except `proportion`; a failed refit has `error` set and
/// every number missing (NaN, `null` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitRow {
    /// Position (0-based) of the study left out (leave-one-out) or added last (cumulative).
    pub study: usize,
    pub k: usize,
    pub estimate: f64,
    pub se: f64,
    pub zval: f64,
    pub pval: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    #[serde(rename = "Q")]
    pub q: f64,
    #[serde(rename = "Q_p")]
    pub q_p: f64,
    pub tau2: f64,
    #[serde(rename = "I2")]
    pub i2: f64,
    #[serde(rename = "H2")]
    pub h2: f64,
    pub proportion: ProportionCi,
    /// Whether the refit's τ² estimator met its convergence criterion (false for a failed
    /// refit); a refit that stopped early keeps its numbers and says why in `convergence_note`.
    pub converged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FitRow {
    fn from_fit(study: usize, fit: &RmaFit, back: BackTransform) -> FitRow {
        let c = &fit.coefficients[0];
        let (lb, ub) = sorted(back.apply(c.ci_lb), back.apply(c.ci_ub));
        FitRow {
            study,
            k: fit.k,
            estimate: c.estimate,
            se: c.se,
            zval: c.zval,
            pval: c.pval,
            ci_lb: c.ci_lb,
            ci_ub: c.ci_ub,
            q: fit.q,
            q_p: fit.q_p,
            tau2: fit.tau2,
            i2: fit.i2,
            h2: fit.h2,
            proportion: ProportionCi {
                estimate: back.apply(c.estimate),
                ci_lb: lb,
                ci_ub: ub,
            },
            converged: fit.converged,
            convergence_note: fit.convergence_note.clone(),
            error: None,
        }
    }

    fn failed(study: usize, k: usize, e: &Error) -> FitRow {
        let nan = f64::NAN;
        FitRow {
            study,
            k,
            estimate: nan,
            se: nan,
            zval: nan,
            pval: nan,
            ci_lb: nan,
            ci_ub: nan,
            q: nan,
            q_p: nan,
            tau2: nan,
            i2: nan,
            h2: nan,
            proportion: ProportionCi {
                estimate: nan,
                ci_lb: nan,
                ci_ub: nan,
            },
            converged: false,
            convergence_note: None,
            error: Some(e.to_string()),
        }
    }
}

fn sorted(a: f64, b: f64) -> (f64, f64) {
    if a > b {
        (b, a)
    } else {
        (a, b)
    }
}

/// Fit the studies at positions `idx` (in that order) and summarise; a failure becomes a row
/// with its message.
pub(crate) fn refit_row(es: &EffectSizes, idx: &[usize], study: usize, options: &PoolOptions) -> FitRow {
    let sub = es.subset(idx);
    match rma(&sub.yi, &sub.vi, &options.rma_options()) {
        Ok(fit) => {
            let back = BackTransform::with_mean(es.measure, &sub.ni, options.pft_mean);
            FitRow::from_fit(study, &fit, back)
        }
        Err(e) => FitRow::failed(study, idx.len(), &e),
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
