//! Permutation test of the pooled estimate of an intercept-only model (metafor
//! `permutest.rma.uni`): under the null hypothesis θ = 0 the signs of the effects are
//! exchangeable, so the test statistic is recomputed for sign-flipped effects — all 2^k sign
//! patterns (exact) when that is at most `iter`, or `iter` random patterns otherwise (the first
//! being the observed data, as metafor).
//!
//! p = share of patterns with |z*| ≥ |z| − tol (two-sided), and for the omnibus statistic QM = z²
//! the share with QM* ≥ QM − tol, tol = √ε as metafor; patterns whose fit fails are left out.

use rayon::prelude::*;
use serde::Serialize;

use super::check_effects;
use super::rng::Rng;
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::fast::{rma_int, rma_int_with, test_crit};
use crate::model::RmaOptions;

/// How many patterns and how to draw them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PermTestOptions {
    /// Number of random patterns; the test is exact when 2^k ≤ `iter` (metafor's default 1000).
    pub iter: u64,
    /// Force the exact test whatever `iter` (up to k = 40).
    pub exact: bool,
    pub seed: u64,
    /// Keep the permutation distribution of z (`zval_perm`).
    pub keep_distribution: bool,
}

impl Default for PermTestOptions {
    fn default() -> Self {
        PermTestOptions {
            iter: 1000,
            exact: false,
            seed: 1,
            keep_distribution: false,
        }
    }
}

/// Result of a permutation test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermTest {
    pub exact: bool,
    /// Number of patterns (2^k when exact).
    pub iter: u64,
    pub seed: Option<u64>,
    pub estimate: f64,
    /// Observed test statistic (z, or t under t/knha) and its permutation p-value.
    pub zval: f64,
    pub pval: f64,
    /// QM = z² and its permutation p-value.
    #[serde(rename = "QM")]
    pub qm: f64,
    #[serde(rename = "QMp")]
    pub qm_p: f64,
    /// The model's own (non-permutation) p-value, for comparison.
    pub pval_model: f64,
    /// Patterns whose fit failed (left out of the p-values).
    pub failed: u64,
    /// z of every pattern, in pattern order (with `keep_distribution`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zval_perm: Option<Vec<f64>>,
}

/// Run the permutation test.
pub fn permutest(es: &EffectSizes, rma_options: &RmaOptions, options: &PermTestOptions) -> Result<PermTest> {
    check_effects(es)?;
    let k = es.k();
    if options.iter < 2 {
        return Err(Error::Usage("the number of permutations must be at least 2".into()));
    }
    let obs = rma_int(&es.yi, &es.vi, rma_options)?;
    let exact_iter = if k >= 63 { u64::MAX } else { 1u64 << k };
    let exact = options.exact || exact_iter <= options.iter;
    if exact && k > 40 {
        return Err(Error::Usage(format!(
            "an exact permutation test needs 2^{k} fits; use random permutations instead"
        )));
    }
    let n = if exact { exact_iter } else { options.iter };
    let (test, ddf, crit) = test_crit(rma_options.test, rma_options.level, k);
    let tol = f64::EPSILON.sqrt();
    let z_obs = obs.zval;
    let qm_obs = z_obs * z_obs;
    let yi = &es.yi;
    let vi = &es.vi;
    let seed = options.seed;
    let z_of = |y: &mut Vec<f64>, r: u64| -> f64 {
        if !exact && r == 0 {
            return z_obs;
        }
        let signs = if exact { r } else { Rng::stream(seed, r).next_u64() };
        y.clear();
        y.extend(
            yi.iter()
                .enumerate()
                .map(|(j, &v)| if (signs >> j) & 1 == 1 { -v } else { v }),
        );
        match rma_int_with(y, vi, rma_options, test, ddf, crit) {
            Ok(f) => f.zval,
            Err(_) => f64::NAN,
        }
    };
    let (count, ge_z, ge_qm, zs) = if options.keep_distribution {
        let zs: Vec<f64> = (0..n)
            .into_par_iter()
            .map_init(|| Vec::with_capacity(k), |y, r| z_of(y, r))
            .collect();
        let ok = zs.iter().filter(|z| !z.is_nan()).count() as u64;
        let gz = zs.iter().filter(|z| z.abs() >= z_obs.abs() - tol).count() as u64;
        let gq = zs.iter().filter(|z| *z * *z >= qm_obs - tol).count() as u64;
        (ok, gz, gq, Some(zs))
    } else {
        let (ok, gz, gq) = (0..n)
            .into_par_iter()
            .map_init(
                || Vec::with_capacity(k),
                |y, r| {
                    let z = z_of(y, r);
                    if z.is_nan() {
                        (0u64, 0u64, 0u64)
                    } else {
                        (1, (z.abs() >= z_obs.abs() - tol) as u64, (z * z >= qm_obs - tol) as u64)
                    }
                },
            )
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        (ok, gz, gq, None)
    };
    if count == 0 {
        return Err(Error::Computation("permutation test: every permuted fit failed".into()));
    }
    Ok(PermTest {
        exact,
        iter: n,
        seed: if exact { None } else { Some(seed) },
        estimate: obs.core.estimate,
        zval: z_obs,
        pval: (ge_z as f64 / count as f64).min(1.0),
        qm: qm_obs,
        qm_p: ge_qm as f64 / count as f64,
        pval_model: obs.pval,
        failed: n - count,
        zval_perm: zs,
    })
}
