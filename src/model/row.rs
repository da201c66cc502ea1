//! One fit as one output row: what `batch` writes per analysis and subgroup, and what
//! `leave1out` and `cumul` list per refit (metafor's `list.rma` rows).
//!
//! A row is built from any fit — an [`RmaFit`] (IV, M-H, Peto, GLMM) or the allocation-free
//! [`IntFit`] of the batch inner loop — or stands for a fit that failed, with its message and
//! every number missing (NaN, `null` in JSON).

use serde::Serialize;

use super::fast::IntFit;
use super::RmaFit;
use crate::effect::BackTransform;

/// What a row is the fit of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RowKey {
    /// A `batch` analysis (`subgroup` `None`) or one of its subgroups.
    Analysis { analysis: String, subgroup: Option<String> },
    /// A refit of `leave1out` (the position, 0-based, of the study left out) or of `cumul`
    /// (the position of the study added last).
    Study { study: usize },
}

impl RowKey {
    /// The key of a `batch` row.
    pub fn analysis(id: &str, subgroup: Option<String>) -> RowKey {
        RowKey::Analysis {
            analysis: id.to_string(),
            subgroup,
        }
    }
}

/// Back-transformed estimate and CI: a proportion for proportion measures, the OR, RR or Peto
/// OR for ratio measures, the effect as it is for the others.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NaturalCi {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

impl NaturalCi {
    /// `estimate` and its CI back-transformed by `back` (the limits sorted: a decreasing
    /// back-transformation swaps them).
    pub fn new(back: &BackTransform, estimate: f64, ci_lb: f64, ci_ub: f64) -> NaturalCi {
        let (a, b) = (back.apply(ci_lb), back.apply(ci_ub));
        NaturalCi {
            estimate: back.apply(estimate),
            ci_lb: a.min(b),
            ci_ub: a.max(b),
        }
    }

    const MISSING: NaturalCi = NaturalCi {
        estimate: f64::NAN,
        ci_lb: f64::NAN,
        ci_ub: f64::NAN,
    };
}

/// One fit's numbers on the measure's scale (except `natural`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitRow {
    #[serde(flatten)]
    pub key: RowKey,
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
    /// The estimate and CI back-transformed (the JSON of `leave1out` and `cumul` calls it
    /// `proportion`, for every measure).
    #[serde(rename = "proportion")]
    pub natural: NaturalCi,
    /// Whether the τ² estimator (or the GLMM) met its convergence criterion (false for a failed
    /// fit); a fit that stopped early keeps its numbers and says why in `convergence_note`.
    pub converged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_note: Option<String>,
    /// Why the fit failed; its numbers are then missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FitRow {
    /// The row of a fit that failed: `k` studies, every number missing.
    pub fn failed(key: RowKey, k: usize, message: String) -> FitRow {
        let nan = f64::NAN;
        FitRow {
            key,
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
            natural: NaturalCi::MISSING,
            converged: false,
            convergence_note: None,
            error: Some(message),
        }
    }

    /// The row of an intercept-only [`RmaFit`] (its first coefficient).
    pub fn from_fit(key: RowKey, fit: &RmaFit, back: &BackTransform) -> FitRow {
        let c = &fit.coefficients[0];
        FitRow {
            key,
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
            natural: NaturalCi::new(back, c.estimate, c.ci_lb, c.ci_ub),
            converged: fit.converged,
            convergence_note: fit
                .convergence_note
                .clone()
                .or_else(|| (!fit.converged).then(|| not_converged(fit.iterations))),
            error: None,
        }
    }

    /// The row of an [`IntFit`].
    pub fn from_int(key: RowKey, f: &IntFit, back: &BackTransform) -> FitRow {
        let c = &f.core;
        FitRow {
            key,
            k: c.k,
            estimate: c.estimate,
            se: f.se,
            zval: f.zval,
            pval: f.pval,
            ci_lb: f.ci_lb,
            ci_ub: f.ci_ub,
            q: c.q,
            q_p: f.q_p,
            tau2: c.tau2,
            i2: c.i2,
            h2: c.h2,
            natural: NaturalCi::new(back, c.estimate, f.ci_lb, f.ci_ub),
            converged: c.converged,
            convergence_note: (!c.converged).then(|| not_converged(c.iterations)),
            error: None,
        }
    }

    /// The study position of a `leave1out` or `cumul` row; `None` for a `batch` row.
    pub fn study(&self) -> Option<usize> {
        match self.key {
            RowKey::Study { study } => Some(study),
            RowKey::Analysis { .. } => None,
        }
    }

    /// What the row says beside its numbers: why the fit failed, or why it is flagged.
    pub fn message(&self) -> Option<&str> {
        self.error.as_deref().or(self.convergence_note.as_deref())
    }
}

fn not_converged(iterations: usize) -> String {
    format!("not converged: the iterative estimator stopped after {iterations} iterations before its threshold held")
}
