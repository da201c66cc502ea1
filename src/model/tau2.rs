//! Estimators of the between-study variance τ² (metafor `rma.uni`, `method = ...`).
//!
//! Non-iterative: DL, HE, HS, HSk, SJ (truncated at 0 where metafor truncates).
//! Iterative: ML, REML, EB by Fisher scoring from the HE estimate with step halving (as metafor),
//! run to a tight threshold; PM by Brent's method on the generalised Q equation.
//! EB and PM solve the same equation (y'P(τ²)y = k − p); they are computed by their own algorithms
//! so that each matches metafor's.

use ndarray::Array2;

use super::linalg::{mat_mul, tr_prod, wls, xtdx};
use super::{Control, Method};
use crate::dist::roots::brent_tol;
use crate::error::{Error, Result};

/// What an estimator returns: τ² and the number of iterations it took (0 if closed form).
#[derive(Debug, Clone)]
pub struct Tau2Estimate {
    pub tau2: f64,
    pub iterations: usize,
    /// False when an iterative estimator stopped before its convergence criterion held (see
    /// [`Scoring`]); `note` then says why.
    pub converged: bool,
    pub note: Option<String>,
}

impl Tau2Estimate {
    /// A closed-form or otherwise exact value.
    pub fn exact(tau2: f64) -> Tau2Estimate {
        Tau2Estimate {
            tau2,
            iterations: 0,
            converged: true,
            note: None,
        }
    }
}

/// Stall detection of a Fisher-scoring loop. The loop stops when |Δτ²| ≤ threshold · (1 + τ²);
/// when rounding noise keeps the steps above a very tight threshold, they stop shrinking, and
/// running on to `maxiter` would only waste time before an error. A loop whose smallest step has
/// not been beaten for [`Scoring::STALL`] iterations stops there, and the fit is reported as not
/// converged, with the step it reached.
#[derive(Debug, Clone, Copy)]
pub struct Scoring {
    best: f64,
    since_best: usize,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            best: f64::INFINITY,
            since_best: 0,
        }
    }
}

impl Scoring {
    /// Iterations without a smaller step after which the loop counts as stalled.
    pub const STALL: usize = 100;

    /// Record one relative step |Δτ²| / (1 + τ²); true when the loop has stalled.
    pub fn stalled(&mut self, rel_step: f64) -> bool {
        if rel_step < self.best {
            self.best = rel_step;
            self.since_best = 0;
            false
        } else {
            self.since_best += 1;
            self.since_best >= Self::STALL
        }
    }

    /// The estimate at the end of the loop: flagged as not converged when the loop stalled,
    /// unless the boundary checks after it put τ² at exactly 0 (an optimum they establish).
    pub fn finish(&self, method: Method, tau2: f64, iterations: usize, stalled: bool, threshold: f64) -> Tau2Estimate {
        if !stalled || tau2 == 0.0 {
            return Tau2Estimate {
                tau2,
                iterations,
                converged: true,
                note: None,
            };
        }
        Tau2Estimate {
            tau2,
            iterations,
            converged: false,
            note: Some(format!(
                "{} estimator: Fisher scoring stopped after {iterations} iterations without meeting its \
                 threshold: the steps stopped shrinking at |change in tau^2| = {:.1e} x (1 + tau^2), \
                 above the threshold {threshold:.0e} (rounding noise); tau^2 = {tau2:.6e} is reported \
                 but not converged",
                method.as_str(),
                self.best
            )),
        }
    }
}

/// y'P(τ²)y: the generalised Q statistic at τ².
pub fn q_gen(x: &Array2<f64>, y: &[f64], v: &[f64], tau2: f64) -> Result<f64> {
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    Ok(wls(x, y, &w)?.rss)
}

/// tr(P) for weights w (P = W − WXAX'W).
pub fn tr_p(x: &Array2<f64>, w: &[f64], a: &[Vec<f64>]) -> f64 {
    let sw: f64 = w.iter().sum();
    let w2: Vec<f64> = w.iter().map(|wi| wi * wi).collect();
    sw - tr_prod(a, &xtdx(x, &w2))
}

/// Everything the Fisher-scoring updates need at one τ².
struct Scores {
    sum_w: f64,
    sum_w2: f64,
    rss: f64,
    ypp_y: f64,
    tr_p: f64,
    tr_pp: f64,
}

fn scores(x: &Array2<f64>, y: &[f64], v: &[f64], tau2: f64) -> Result<Scores> {
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let fit = wls(x, y, &w)?;
    let sum_w: f64 = w.iter().sum();
    let w2: Vec<f64> = w.iter().map(|a| a * a).collect();
    let w3: Vec<f64> = w.iter().map(|a| a * a * a).collect();
    let sum_w2: f64 = w2.iter().sum();
    let ypp_y = w2.iter().zip(&fit.resid).map(|(a, r)| a * r * r).sum();
    let b = xtdx(x, &w2);
    let tr_p = sum_w - tr_prod(&fit.a, &b);
    let ab = mat_mul(&fit.a, &b);
    let tr_pp = sum_w2 - 2.0 * tr_prod(&fit.a, &xtdx(x, &w3)) + tr_prod(&ab, &ab);
    Ok(Scores {
        sum_w,
        sum_w2,
        rss: fit.rss,
        ypp_y,
        tr_p,
        tr_pp,
    })
}

/// Log-likelihood (ML) or restricted log-likelihood (REML) at τ², as metafor computes it.
pub fn loglik(x: &Array2<f64>, y: &[f64], v: &[f64], tau2: f64, reml: bool) -> Result<f64> {
    let (k, p) = x.dim();
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let fit = wls(x, y, &w)?;
    let log_det_v: f64 = v.iter().map(|vi| (vi + tau2).ln()).sum();
    let two_pi = 2.0 * std::f64::consts::PI;
    if reml {
        // log det(X'WX) = −log det(A); for p × p use the Cholesky-free route via the inverse.
        let xtwx = xtdx(x, &w);
        let log_det_xtwx = log_det_spd(&xtwx);
        Ok(-0.5 * (k - p) as f64 * two_pi.ln() - 0.5 * log_det_v - 0.5 * log_det_xtwx - 0.5 * fit.rss)
    } else {
        Ok(-0.5 * k as f64 * two_pi.ln() - 0.5 * log_det_v - 0.5 * fit.rss)
    }
}

fn log_det_spd(m: &[Vec<f64>]) -> f64 {
    // Cholesky: log det = 2 Σ log L_ii.
    let p = m.len();
    let mut l = vec![vec![0.0; p]; p];
    let mut ld = 0.0;
    for i in 0..p {
        for j in 0..=i {
            let mut s = m[i][j];
            for c in 0..j {
                s -= l[i][c] * l[j][c];
            }
            if i == j {
                l[i][i] = s.max(f64::MIN_POSITIVE).sqrt();
                ld += 2.0 * l[i][i].ln();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    ld
}

/// The HE (Hedges) estimator, untruncated: (RSS_OLS − tr(PV)) / (k − p).
fn he_raw(x: &Array2<f64>, y: &[f64], v: &[f64]) -> Result<f64> {
    let (k, p) = x.dim();
    let ones = vec![1.0; k];
    let ols = wls(x, y, &ones)?;
    let rss: f64 = ols.resid.iter().map(|r| r * r).sum();
    // tr(PV) with P = I − X(X'X)⁻¹X': Σ v − tr((X'X)⁻¹ X'VX).
    let tr_pv = v.iter().sum::<f64>() - tr_prod(&ols.a, &xtdx(x, v));
    Ok((rss - tr_pv) / (k - p) as f64)
}

/// Estimate τ² by `method` (never called for EE/FE or k = 1).
pub fn estimate(method: Method, x: &Array2<f64>, y: &[f64], v: &[f64], control: &Control) -> Result<Tau2Estimate> {
    let (k, p) = x.dim();
    let kf = k as f64;
    let df = (k - p) as f64;
    let closed = |t: f64| Ok(Tau2Estimate::exact(t.max(0.0)));
    match method {
        Method::EE | Method::FE => Ok(Tau2Estimate::exact(0.0)),
        Method::HS | Method::HSk => {
            let w: Vec<f64> = v.iter().map(|vi| 1.0 / vi).collect();
            let rss = wls(x, y, &w)?.rss;
            let sw: f64 = w.iter().sum();
            let t = if method == Method::HS {
                (rss - kf) / sw
            } else {
                (kf / df * rss - kf) / sw
            };
            closed(t)
        }
        Method::HE => closed(he_raw(x, y, v)?),
        Method::DL => {
            let w: Vec<f64> = v.iter().map(|vi| 1.0 / vi).collect();
            let fit = wls(x, y, &w)?;
            let trp = tr_p(x, &w, &fit.a);
            closed((fit.rss - df) / trp)
        }
        Method::SJ => {
            let mean = y.iter().sum::<f64>() / kf;
            let tau0 = y.iter().map(|yi| (yi - mean).powi(2)).sum::<f64>() / kf;
            let rss = q_gen(x, y, v, tau0)?;
            closed(tau0 * rss / df)
        }
        Method::PM => {
            let target = df;
            let g = |t: f64| q_gen(x, y, v, t).map(|q| q - target);
            if g(0.0)? < 0.0 {
                return Ok(Tau2Estimate::exact(0.0));
            }
            let hi = bracket_upper(g, control.tau2_max)?;
            let root =
                brent_tol(|t| g(t).unwrap_or(f64::NAN), 0.0, hi, control.maxiter, control.root_tol).map_err(|e| {
                    Error::Computation(format!("Paule-Mandel estimator: no root of the Q equation found ({e})"))
                })?;
            Ok(Tau2Estimate::exact(root.max(0.0)))
        }
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, x, y, v, control),
        Method::GLMM => Err(Error::Usage("GLMM needs counts: use pool".into())),
    }
}

/// Smallest tried upper bound (starting at `start`, doubling) where `g` is negative.
fn bracket_upper<G: Fn(f64) -> Result<f64>>(g: G, start: f64) -> Result<f64> {
    let mut hi = start.max(1e-8);
    for _ in 0..200 {
        if g(hi)? < 0.0 {
            return Ok(hi);
        }
        hi *= 2.0;
    }
    Err(Error::Computation("no finite upper bound found for tau^2".into()))
}

fn fisher_scoring(method: Method, x: &Array2<f64>, y: &[f64], v: &[f64], control: &Control) -> Result<Tau2Estimate> {
    let (k, p) = x.dim();
    let kf = k as f64;
    let df = (k - p) as f64;
    let mut tau2 = he_raw(x, y, v)?.max(0.0);
    let mut iterations = 0;
    let mut scoring = Scoring::default();
    let mut stalled = false;
    loop {
        iterations += 1;
        let s = scores(x, y, v, tau2)?;
        let mut adj = match method {
            Method::ML => (s.ypp_y - s.sum_w) / s.sum_w2,
            Method::REML => (s.ypp_y - s.tr_p) / s.tr_pp,
            _ => (s.rss * kf / df - kf) / s.sum_w,
        };
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
        // Step halving approaches a boundary optimum geometrically; if the score at 0 points
        // below 0, the optimum is exactly 0.
        let s0 = scores(x, y, v, 0.0)?;
        let score0 = match method {
            Method::ML => s0.ypp_y - s0.sum_w,
            Method::REML => s0.ypp_y - s0.tr_p,
            _ => s0.rss * kf / df - kf,
        };
        if score0 <= 0.0 {
            tau2 = 0.0;
        }
    }
    if matches!(method, Method::ML | Method::REML) && tau2 > 0.0 {
        // metafor's ll0check: fall back to τ² = 0 when it has the higher likelihood.
        let reml = method == Method::REML;
        if loglik(x, y, v, 0.0, reml)? - loglik(x, y, v, tau2, reml)? > 1e-12 {
            tau2 = 0.0;
        }
    }
    Ok(scoring.finish(method, tau2, iterations, stalled, control.threshold))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Studies;
    use crate::model::{pool, rma, PoolOptions, RmaOptions};

    const YI: [f64; 6] = [-0.9, -1.6, -1.4, -1.5, -0.2, -0.8];
    const VI: [f64; 6] = [0.36, 0.20, 0.42, 0.02, 0.05, 0.20];

    /// A threshold no step can meet (negative): Fisher scoring must stop on its own, long before
    /// `maxiter`, at the optimum, and say that it did not converge, in both loops (the general
    /// `rma` and the intercept-only `fast::rma_int`).
    #[test]
    fn a_stalled_fisher_scoring_stops_early_and_says_so() {
        for method in [Method::REML, Method::ML, Method::EB] {
            let good = rma(
                &YI,
                &VI,
                &RmaOptions {
                    method,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(good.converged && good.convergence_note.is_none(), "{method}");
            let mut o = RmaOptions {
                method,
                ..Default::default()
            };
            o.control.threshold = -1.0;
            let bad = rma(&YI, &VI, &o).unwrap();
            assert!(!bad.converged, "{method}");
            assert!(bad.iterations < 1000, "{method}: {} iterations", bad.iterations);
            assert!((bad.tau2 - good.tau2).abs() <= 1e-10 * (1.0 + good.tau2), "{method}");
            let note = bad.convergence_note.unwrap();
            assert!(
                note.contains("stopped after") && note.contains("not converged"),
                "{note}"
            );
            let fast = crate::model::fast::rma_int(&YI, &VI, &o).unwrap();
            assert!(!fast.core.converged && fast.core.iterations < 1000, "{method}");
            assert!(
                (fast.core.tau2 - good.tau2).abs() <= 1e-10 * (1.0 + good.tau2),
                "{method}"
            );
        }
    }

    /// Knapp-Hartung with s² = 0 (the studies lie exactly on the regression line) makes the
    /// coefficients' covariance 0: QM is then NA (NaN), as metafor reports it, and the fit stands.
    #[test]
    fn knha_with_zero_residuals_gives_qm_na_not_an_error() {
        let x_mod = [0.0, 1.0, 2.0, 3.0, 4.0];
        let yi: Vec<f64> = x_mod.iter().map(|x| 0.5 + 0.25 * x).collect();
        let vi = [0.1, 0.2, 0.15, 0.3, 0.25];
        let x = Array2::from_shape_fn((5, 2), |(r, c)| if c == 0 { 1.0 } else { x_mod[r] });
        let o = RmaOptions {
            method: Method::DL,
            test: crate::model::Test::Knha,
            ..Default::default()
        };
        let fit = crate::model::rma_mods(&yi, &vi, x, vec!["intrcpt".into(), "x".into()], &o).unwrap();
        assert_eq!(fit.s2w, 0.0);
        let qm = fit.qm.unwrap();
        assert!(qm.qm.is_nan() && qm.p.is_nan());
        assert_eq!((qm.df, qm.df2), (1, Some(3)));
        assert!((fit.coefficients[1].estimate - 0.25).abs() < 1e-12);
    }

    /// Sampling variances 10^12 apart (raw proportions 0 of 10^12, with the 0.5 correction, and
    /// 1 of 1): DL's denominator cancels, and the result is an error, not a fit of NaNs.
    #[test]
    fn a_non_finite_tau2_is_an_error() {
        let studies =
            Studies::from_counts(vec!["a".into(), "b".into()], vec![0.0, 1.0], vec![1e12, 1.0], None).unwrap();
        let o = PoolOptions {
            measure: crate::effect::Measure::PR,
            method: Method::DL,
            ..Default::default()
        };
        let e = pool(&studies, &o).expect_err("a fit of NaNs must not be returned as a success");
        assert!(
            e.to_string().contains("DL estimator: tau^2 is not a finite number"),
            "{e}"
        );
    }
}
