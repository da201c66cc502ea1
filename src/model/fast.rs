//! An allocation-free intercept-only fit on slices: the inner loop of batch pooling, GOSH,
//! permutation tests and the bootstrap, where millions of small models are fitted.
//!
//! [`rma_int`] computes what [`super::rma`] computes for an intercept-only model — the same
//! estimators by the same algorithms (Fisher scoring from the HE start with step halving, the
//! boundary and ll0 checks; Brent for PM) — but from running sums instead of an [`RmaFit`]: no
//! `Vec`, no design matrix, nothing on the heap, O(k) work per iteration. It is tested against
//! `rma` to 1e-12 (relative) for every estimator and test.
//!
//! Inside the Fisher-scoring iterations the effects are centred at their unweighted mean, so the
//! single-pass sums Σw²(y − μ̂)² = Σw²d² − 2m Σw²d + m² Σw² (d = y − ȳ, m = μ̂ − ȳ) do not lose
//! digits to cancellation.
//!
//! [`RmaFit`]: super::RmaFit

use super::tau2::{Scoring, Tau2Estimate};
use super::{Control, Method, RmaOptions, Test};
use crate::dist;
use crate::dist::roots::brent_tol;
use crate::error::{Error, Result};

/// The numbers of an intercept-only fit (everything `rma` reports for it, without the vectors):
/// the heterogeneity part ([`IntCore`]) and the test of the estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntFit {
    /// k, the estimate, τ², Q, I², H², ṽ and the convergence of the τ² estimator.
    pub core: IntCore,
    /// The test used (`z` when k = 1, as metafor).
    pub test: Test,
    /// Standard error (Knapp–Hartung-scaled under `knha`).
    pub se: f64,
    pub zval: f64,
    pub pval: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    /// The p-value of Q (df k − 1).
    pub q_p: f64,
    /// Knapp–Hartung factor (1 for z and t).
    pub s2w: f64,
    /// Critical value of the CI.
    pub crit: f64,
}

/// What the estimators need of a fit at one τ², from one pass over the studies.
struct Sums {
    sw: f64,
    sw2: f64,
    sw3: f64,
    /// Σ w (y − μ̂)².
    rss: f64,
    /// Σ w² (y − μ̂)².
    ypp_y: f64,
}

#[inline]
fn sums(y: &[f64], v: &[f64], c: f64, tau2: f64) -> Sums {
    let (mut sw, mut sw2, mut sw3, mut swd, mut swd2, mut sw2d, mut sw2d2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (yi, vi) in y.iter().zip(v) {
        let w = 1.0 / (vi + tau2);
        let d = yi - c;
        let w2 = w * w;
        sw += w;
        sw2 += w2;
        sw3 += w2 * w;
        swd += w * d;
        swd2 += w * d * d;
        sw2d += w2 * d;
        sw2d2 += w2 * d * d;
    }
    let m = swd / sw;
    Sums {
        sw,
        sw2,
        sw3,
        rss: (swd2 - m * swd).max(0.0),
        ypp_y: (sw2d2 - 2.0 * m * sw2d + m * m * sw2).max(0.0),
    }
}

/// Two-pass weighted fit at τ² (as `linalg::wls` does it): (Σw, μ̂, Σ w (y − μ̂)²).
#[inline]
fn wls_int(y: &[f64], v: &[f64], tau2: f64) -> (f64, f64, f64) {
    let mut sw = 0.0;
    let mut swy = 0.0;
    for (yi, vi) in y.iter().zip(v) {
        let w = 1.0 / (vi + tau2);
        sw += w;
        swy += w * yi;
    }
    let mu = swy / sw;
    let mut rss = 0.0;
    for (yi, vi) in y.iter().zip(v) {
        let w = 1.0 / (vi + tau2);
        let r = yi - mu;
        rss += w * r * r;
    }
    (sw, mu, rss)
}

/// Σ 1/vᵢ, Σ 1/vᵢ², Q (common-effect fit).
#[inline]
fn ee_stats(y: &[f64], v: &[f64]) -> (f64, f64, f64) {
    let (sw, _, q) = wls_int(y, v, 0.0);
    let sw2: f64 = v.iter().map(|vi| 1.0 / (vi * vi)).sum();
    (sw, sw2, q)
}

/// (Restricted) log-likelihood of the intercept-only model at τ² (as `tau2::loglik`).
fn loglik(y: &[f64], v: &[f64], tau2: f64, reml: bool) -> f64 {
    let k = y.len() as f64;
    let (sw, _, rss) = wls_int(y, v, tau2);
    let log_det_v: f64 = v.iter().map(|vi| (vi + tau2).ln()).sum();
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    if reml {
        -0.5 * (k - 1.0) * ln_2pi - 0.5 * log_det_v - 0.5 * sw.max(f64::MIN_POSITIVE).ln() - 0.5 * rss
    } else {
        -0.5 * k * ln_2pi - 0.5 * log_det_v - 0.5 * rss
    }
}

fn mean(y: &[f64]) -> f64 {
    y.iter().sum::<f64>() / y.len() as f64
}

/// Untruncated HE: (Σ(y − ȳ)² − (Σv − Σv/k)) / (k − 1).
fn he_raw(y: &[f64], v: &[f64]) -> f64 {
    let k = y.len() as f64;
    let ybar = mean(y);
    let rss: f64 = y.iter().map(|yi| (yi - ybar) * (yi - ybar)).sum();
    let sv: f64 = v.iter().sum();
    (rss - (sv - sv / k)) / (k - 1.0)
}

/// τ² by `method` for an intercept-only model with k ≥ 2 (what `tau2::estimate` gives).
pub fn tau2_int(method: Method, y: &[f64], v: &[f64], control: &Control) -> Result<Tau2Estimate> {
    let k = y.len() as f64;
    let df = k - 1.0;
    let closed = |t: f64| Ok(Tau2Estimate::exact(t.max(0.0)));
    match method {
        Method::EE | Method::FE => Ok(Tau2Estimate::exact(0.0)),
        Method::HS | Method::HSk => {
            let (sw, _, rss) = wls_int(y, v, 0.0);
            if method == Method::HS {
                closed((rss - k) / sw)
            } else {
                closed((k / df * rss - k) / sw)
            }
        }
        Method::HE => closed(he_raw(y, v)),
        Method::DL => {
            let (sw, sw2, q) = ee_stats(y, v);
            closed((q - df) / (sw - sw2 / sw))
        }
        Method::SJ => {
            let ybar = mean(y);
            let tau0 = y.iter().map(|yi| (yi - ybar).powi(2)).sum::<f64>() / k;
            let (_, _, rss) = wls_int(y, v, tau0);
            closed(tau0 * rss / df)
        }
        Method::PM => {
            let g = |t: f64| wls_int(y, v, t).2 - df;
            if g(0.0) < 0.0 {
                return Ok(Tau2Estimate::exact(0.0));
            }
            let mut hi = control.tau2_max.max(1e-8);
            let mut found = false;
            for _ in 0..200 {
                if g(hi) < 0.0 {
                    found = true;
                    break;
                }
                hi *= 2.0;
            }
            if !found {
                return Err(Error::Computation("no finite upper bound found for tau^2".into()));
            }
            let root = brent_tol(g, 0.0, hi, control.maxiter, control.root_tol).map_err(|e| {
                Error::Computation(format!("Paule-Mandel estimator: no root of the Q equation found ({e})"))
            })?;
            Ok(Tau2Estimate::exact(root.max(0.0)))
        }
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, y, v, control),
        Method::GLMM => Err(Error::Usage("GLMM needs counts: use pool".into())),
    }
}

fn fisher_scoring(method: Method, y: &[f64], v: &[f64], control: &Control) -> Result<Tau2Estimate> {
    let k = y.len() as f64;
    let df = k - 1.0;
    let c = mean(y);
    let adj_of = |s: &Sums| -> f64 {
        match method {
            Method::ML => (s.ypp_y - s.sw) / s.sw2,
            Method::REML => {
                let tr_p = s.sw - s.sw2 / s.sw;
                let r = s.sw2 / s.sw;
                let tr_pp = s.sw2 - 2.0 * s.sw3 / s.sw + r * r;
                (s.ypp_y - tr_p) / tr_pp
            }
            _ => (s.rss * k / df - k) / s.sw,
        }
    };
    let mut tau2 = he_raw(y, v).max(0.0);
    let mut iterations = 0;
    let mut scoring = Scoring::default();
    let mut stalled = false;
    loop {
        iterations += 1;
        let s = sums(y, v, c, tau2);
        let mut adj = adj_of(&s);
        if !adj.is_finite() {
            adj = 0.0;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        let old = tau2;
        tau2 += adj;
        let rel_step = (tau2 - old).abs() / (1.0 + tau2);
        let stop = if control.absolute_threshold {
            (tau2 - old).abs() < control.threshold
        } else {
            rel_step <= control.threshold
        };
        if stop {
            break;
        }
        if scoring.stalled(rel_step) {
            stalled = true;
            break;
        }
        if iterations >= control.maxiter {
            return Err(Error::Computation(format!(
                "{} estimator: Fisher scoring did not converge after {iterations} iterations (tau^2 = {tau2:.6e}); \
                 try the DL or PM estimator",
                method.as_str()
            )));
        }
    }
    if tau2 > 0.0 && tau2 < 1e-8 {
        let s0 = sums(y, v, c, 0.0);
        let score0 = match method {
            Method::ML => s0.ypp_y - s0.sw,
            Method::REML => s0.ypp_y - (s0.sw - s0.sw2 / s0.sw),
            _ => s0.rss * k / df - k,
        };
        if score0 <= 0.0 {
            tau2 = 0.0;
        }
    }
    if matches!(method, Method::ML | Method::REML) && tau2 > 0.0 {
        let reml = method == Method::REML;
        if loglik(y, v, 0.0, reml) - loglik(y, v, tau2, reml) > 1e-12 {
            tau2 = 0.0;
        }
    }
    Ok(scoring.finish(method, tau2, iterations, stalled, control.threshold))
}

/// Check the inputs as `rma` does.
fn validate(yi: &[f64], vi: &[f64]) -> Result<()> {
    let k = yi.len();
    if k == 0 {
        return Err(Error::Computation("no studies to pool".into()));
    }
    if vi.len() != k {
        return Err(Error::Computation(
            "yi, vi and the model matrix have different lengths".into(),
        ));
    }
    super::check_studies(yi, vi)?;
    Ok(())
}

/// The heterogeneity part of an intercept-only fit: τ² (by `options`), Q, I², H², ṽ — without
/// tests or CIs (no quantile is computed). What GOSH needs per subset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntCore {
    pub k: usize,
    pub estimate: f64,
    pub tau2: f64,
    pub iterations: usize,
    /// False when Fisher scoring stalled before its threshold ([`super::tau2::Scoring`]).
    pub converged: bool,
    pub sum_w: f64,
    /// Σ wᵢ(yᵢ − μ̂)² with the random-effects weights (for Knapp–Hartung).
    pub rss: f64,
    pub q: f64,
    pub i2: f64,
    pub h2: f64,
    pub vt: f64,
}

/// Estimate, τ², Q, I², H² of the intercept-only model (inputs are assumed valid: finite yᵢ,
/// positive finite vᵢ, k ≥ 1; see [`rma_int`] for the checked version with tests and CIs).
pub fn rma_int_core(yi: &[f64], vi: &[f64], options: &RmaOptions) -> Result<IntCore> {
    let k = yi.len();
    let method = options.method;
    let est = if method.is_common() {
        Tau2Estimate::exact(0.0)
    } else if let Some(t) = options.tau2_fixed {
        Tau2Estimate::exact(t)
    } else if k == 1 {
        Tau2Estimate::exact(0.0)
    } else {
        tau2_int(method, yi, vi, &options.control)?
    };
    let (tau2, iterations) = (est.tau2, est.iterations);
    if !tau2.is_finite() {
        return Err(super::not_finite_tau2(method, tau2, vi));
    }
    let (sum_w, estimate, rss) = wls_int(yi, vi, tau2);
    let (q, i2, h2, vt) = if k > 1 {
        let df = (k - 1) as f64;
        let (sw, sw2, q) = ee_stats(yi, vi);
        let q = q.max(0.0);
        let vt = df / (sw - sw2 / sw);
        let (i2, h2) = if method.is_common() {
            ((100.0 * (q - df) / q).max(0.0), q / df)
        } else {
            (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
        };
        (q, i2, h2, vt)
    } else {
        (0.0, 0.0, 1.0, 0.0)
    };
    Ok(IntCore {
        k,
        estimate,
        tau2,
        iterations,
        converged: est.converged,
        sum_w,
        rss,
        q,
        i2,
        h2,
        vt,
    })
}

/// Critical value and df of the test for k studies (`None`: normal).
pub fn test_crit(test: Test, level: f64, k: usize) -> (Test, Option<f64>, f64) {
    let test = if k == 1 { Test::Z } else { test };
    let ddf = match test {
        Test::Z => None,
        Test::T | Test::Knha => Some((k - 1) as f64),
    };
    let crit = match ddf {
        Some(d) if d > 0.0 => dist::critical(level, Some(d)),
        Some(_) => f64::NAN,
        None => dist::critical(level, None),
    };
    (test, ddf, crit)
}

/// Fit an intercept-only model (metafor `rma(yi, vi, method, test)`) without allocating:
/// the numbers of [`super::rma`] for that model.
pub fn rma_int(yi: &[f64], vi: &[f64], options: &RmaOptions) -> Result<IntFit> {
    validate(yi, vi)?;
    let (test, ddf, crit) = test_crit(options.test, options.level, yi.len());
    rma_int_with(yi, vi, options, test, ddf, crit)
}

/// [`rma_int`] with the test's critical value given (`test_crit`), so that many fits with the
/// same k and level compute the quantile once. Inputs must be valid (as [`rma_int`] checks).
pub fn rma_int_with(
    yi: &[f64],
    vi: &[f64],
    options: &RmaOptions,
    test: Test,
    ddf: Option<f64>,
    crit: f64,
) -> Result<IntFit> {
    let core = rma_int_core(yi, vi, options)?;
    let k = core.k;
    let s2w = if test == Test::Knha {
        if core.rss <= f64::EPSILON {
            0.0
        } else {
            core.rss / (k - 1) as f64
        }
    } else {
        1.0
    };
    let se = (s2w / core.sum_w).sqrt();
    let b = core.estimate;
    let zval = b / se;
    let pval = match ddf {
        Some(d) if d > 0.0 => dist::two_sided(zval, Some(d)),
        Some(_) => f64::NAN,
        None => dist::two_sided(zval, None),
    };
    let q_p = if k > 1 {
        dist::pchisq_upper(core.q, (k - 1) as f64)
    } else {
        1.0
    };
    Ok(IntFit {
        core,
        test,
        se,
        zval,
        pval,
        ci_lb: b - crit * se,
        ci_ub: b + crit * se,
        q_p,
        s2w,
        crit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{rma, Method, RmaOptions, Test};

    fn close(a: f64, b: f64, what: &str) {
        if a.is_nan() && b.is_nan() {
            return;
        }
        let ok = a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()) || (a - b).abs() <= 1e-15;
        assert!(ok, "{what}: rma {a:e}, rma_int {b:e}");
    }

    #[test]
    fn matches_rma_for_every_estimator_and_test() {
        let data: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![-1.2, -0.4, 0.3, -2.0, -0.9], vec![0.1, 0.3, 0.05, 0.4, 0.2]),
            (vec![0.1, 0.11, 0.09, 0.1, 0.12], vec![0.01, 0.012, 0.011, 0.009, 0.01]),
            (vec![2.5, 0.0], vec![0.5, 0.25]),
            (
                vec![-4.0, -3.9, -4.2, -1.0, -5.5, -3.0, -2.2, -4.4],
                vec![0.3, 0.2, 0.5, 0.1, 0.9, 0.2, 0.15, 0.4],
            ),
            (vec![0.7], vec![0.2]),
        ];
        for (y, v) in &data {
            for method in Method::ALL.iter().copied().chain([Method::FE]) {
                for test in Test::ALL {
                    let o = RmaOptions {
                        method,
                        test,
                        ..RmaOptions::default()
                    };
                    let a = rma(y, v, &o).unwrap();
                    let b = rma_int(y, v, &o).unwrap();
                    let w = format!("{method} {test} k={}", y.len());
                    close(a.estimate(), b.core.estimate, &format!("{w} estimate"));
                    close(a.se(), b.se, &format!("{w} se"));
                    close(a.coefficients[0].pval, b.pval, &format!("{w} pval"));
                    close(a.coefficients[0].ci_lb, b.ci_lb, &format!("{w} ci_lb"));
                    close(a.tau2, b.core.tau2, &format!("{w} tau2"));
                    close(a.q, b.core.q, &format!("{w} q"));
                    close(a.q_p, b.q_p, &format!("{w} q_p"));
                    close(a.i2, b.core.i2, &format!("{w} i2"));
                    close(a.h2, b.core.h2, &format!("{w} h2"));
                    assert_eq!(a.test, b.test);
                }
            }
        }
    }

    #[test]
    fn fixed_tau2_and_errors() {
        let y = [0.1, 0.5, -0.2];
        let v = [0.1, 0.2, 0.3];
        let o = RmaOptions {
            tau2_fixed: Some(0.3),
            ..RmaOptions::default()
        };
        let a = rma(&y, &v, &o).unwrap();
        let b = rma_int(&y, &v, &o).unwrap();
        close(a.se(), b.se, "se");
        assert!(rma_int(&[], &[], &o).is_err());
        assert!(rma_int(&[1.0, f64::INFINITY], &[0.1, 0.1], &o).is_err());
        assert!(rma_int(&[1.0, 2.0], &[0.1, 0.0], &o).is_err());
    }
}
