//! Estimators of the between-study variance τ² (metafor `rma.uni`, `method = ...`).
//!
//! Non-iterative: DL, HE, HS, HSk, SJ (truncated at 0 where metafor truncates).
//! Iterative: ML, REML, EB by Fisher scoring from the HE estimate with step halving (as metafor),
//! run to a tight threshold; PM by Brent's method on the generalised Q equation.
//! EB and PM solve the same equation (y'P(τ²)y = k − p); they are computed by their own algorithms
//! so that each matches metafor's.

use ndarray::Array2;

use super::linalg::{mat_mul, tr_prod, wls, xtdx};
use super::roots::brent;
use super::{Control, Method};
use crate::error::{Error, Result};

/// What an estimator returns: τ² and the number of iterations it took (0 if closed form).
#[derive(Debug, Clone, Copy)]
pub struct Tau2Estimate {
    pub tau2: f64,
    pub iterations: usize,
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
    let closed = |t: f64| {
        Ok(Tau2Estimate {
            tau2: t.max(0.0),
            iterations: 0,
        })
    };
    match method {
        Method::EE | Method::FE => Ok(Tau2Estimate {
            tau2: 0.0,
            iterations: 0,
        }),
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
                return Ok(Tau2Estimate {
                    tau2: 0.0,
                    iterations: 0,
                });
            }
            let hi = bracket_upper(g, control.tau2_max)?;
            let root = brent(|t| g(t).unwrap_or(f64::NAN), 0.0, hi, control.maxiter)
                .ok_or_else(|| Error::Computation("Paule-Mandel estimator: no root of the Q equation found".into()))?;
            Ok(Tau2Estimate {
                tau2: root.max(0.0),
                iterations: 0,
            })
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
        if (tau2 - old).abs() <= control.threshold * (1.0 + tau2) {
            break;
        }
        if iterations >= control.maxiter {
            return Err(Error::Computation(format!(
                "{} estimator: Fisher scoring did not converge after {iterations} iterations (tau^2 = {tau2:.6e}); \
                 try --method DL or --method PM",
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
    Ok(Tau2Estimate { tau2, iterations })
}
