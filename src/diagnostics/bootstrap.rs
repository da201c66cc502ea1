//! Parametric bootstrap of τ²: data simulated from the fitted random-effects model,
//! yᵢ* = μ̂ + √(vᵢ + τ̂²) zᵢ with zᵢ standard normal, refitted with the same estimator; the
//! distribution of τ²* gives a bias estimate, a standard error and a percentile interval.
//!
//! There is no metafor function for this (metafor's documentation does it with `boot`), so it is
//! not matched to metafor; it is reproducible from its seed (replicate r draws from its own
//! random stream, so the result does not depend on the number of threads) and tested for its
//! distribution (τ²* centred near τ̂² for a well-identified model).

use rayon::prelude::*;
use serde::Serialize;

use super::check_effects;
use super::rng::Rng;
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::fast::{rma_int, rma_int_core};
use crate::model::RmaOptions;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    pub replicates: usize,
    pub seed: u64,
    /// Level of the percentile interval.
    pub level: f64,
    /// Keep every τ²* (`tau2_star`).
    pub keep_replicates: bool,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            replicates: 1000,
            seed: 1,
            level: 0.95,
            keep_replicates: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bootstrap {
    pub seed: u64,
    pub replicates: usize,
    /// Replicates whose fit failed (left out).
    pub failed: usize,
    pub estimate: f64,
    pub tau2: f64,
    /// Mean, median and SD of τ²*; bias = mean − τ̂².
    pub mean: f64,
    pub median: f64,
    pub se: f64,
    pub bias: f64,
    /// Percentile interval of τ²* (R's quantile type 7).
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub level: f64,
    /// Share of replicates with τ²* = 0.
    pub share_zero: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_star: Option<Vec<f64>>,
}

/// R's `quantile(x, p, type = 7)` of sorted `x`.
pub fn quantile_sorted(x: &[f64], p: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let h = (x.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(x.len() - 1);
    x[lo] + (h - lo as f64) * (x[hi] - x[lo])
}

/// Run the bootstrap with the fit's estimator (`rma_options`).
pub fn bootstrap_tau2(es: &EffectSizes, rma_options: &RmaOptions, options: &BootstrapOptions) -> Result<Bootstrap> {
    check_effects(es)?;
    let k = es.k();
    if k < 2 {
        return Err(Error::Computation(
            "the bootstrap of tau^2 needs at least 2 studies".into(),
        ));
    }
    if rma_options.method.is_common() {
        return Err(Error::Usage(
            "a common-effect model has no tau^2 to bootstrap; use a random-effects method".into(),
        ));
    }
    if options.replicates < 2 {
        return Err(Error::Usage("the bootstrap needs at least 2 replicates".into()));
    }
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(Error::Usage(format!(
            "the bootstrap level must be in (0, 1), got {}",
            options.level
        )));
    }
    let fit = rma_int(&es.yi, &es.vi, rma_options)?;
    let (mu, tau2) = (fit.core.estimate, fit.core.tau2);
    let sd: Vec<f64> = es.vi.iter().map(|v| (v + tau2).sqrt()).collect();
    let vi = &es.vi;
    let seed = options.seed;
    let stars: Vec<f64> = (0..options.replicates as u64)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(k),
            |y, r| {
                let mut rng = Rng::stream(seed, r);
                y.clear();
                y.extend(sd.iter().map(|s| mu + s * rng.normal()));
                match rma_int_core(y, vi, rma_options) {
                    Ok(c) => c.tau2,
                    Err(_) => f64::NAN,
                }
            },
        )
        .collect();
    let mut ok: Vec<f64> = stars.iter().copied().filter(|t| !t.is_nan()).collect();
    let failed = stars.len() - ok.len();
    if ok.len() < 2 {
        return Err(Error::Computation(
            "bootstrap: fewer than 2 replicates could be fitted".into(),
        ));
    }
    ok.sort_by(f64::total_cmp);
    let n = ok.len() as f64;
    let mean = ok.iter().sum::<f64>() / n;
    let se = (ok.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let alpha = 1.0 - options.level;
    Ok(Bootstrap {
        seed,
        replicates: options.replicates,
        failed,
        estimate: mu,
        tau2,
        mean,
        median: quantile_sorted(&ok, 0.5),
        se,
        bias: mean - tau2,
        ci_lb: quantile_sorted(&ok, alpha / 2.0),
        ci_ub: quantile_sorted(&ok, 1.0 - alpha / 2.0),
        level: options.level,
        share_zero: ok.iter().filter(|t| **t == 0.0).count() as f64 / n,
        tau2_star: if options.keep_replicates { Some(stars) } else { None },
    })
}
