//! Small-study effects and publication bias, as metafor 3.8.1 computes them: Egger's regression
//! test ([`regtest`], metafor `regtest`), Begg and Mazumdar's rank correlation ([`ranktest`],
//! `ranktest`), trim-and-fill ([`trimfill`], `trimfill.rma.uni`) and fail-safe N ([`fsn`],
//! `fsn`); for 2×2 tables Peters' test ([`peters`], Peters et al., JAMA 2006) and Harbord's
//! score-based test ([`harbord`], Harbord et al., Stat Med 2006), which metafor lacks (R meta's
//! `metabias`, whose conventions they follow); and the limit meta-analysis ([`limitmeta`], R
//! metasens `limitmeta`; Rücker et al., Biostatistics 2011). The formulas and their sources are
//! in `docs/bias.md`.

use ndarray::Array2;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

use crate::dist;
use crate::effect::{BackTransform, EffectSizes};
use crate::error::{Error, Result};
use crate::model::linalg::wls;
use crate::model::{rma, rma_mods, RmaFit, RmaOptions};

/// The predictor of Egger's regression test (metafor `regtest(predictor = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Predictor {
    /// Standard error √vi (Egger's test; the default).
    Sei,
    /// Sampling variance vi.
    Vi,
    /// Sample size ni.
    Ni,
    /// 1/ni.
    Ninv,
    /// √ni.
    Sqrtni,
    /// 1/√ni.
    Sqrtninv,
}

impl Predictor {
    pub const ALL: [Predictor; 6] = [
        Predictor::Sei,
        Predictor::Vi,
        Predictor::Ni,
        Predictor::Ninv,
        Predictor::Sqrtni,
        Predictor::Sqrtninv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Predictor::Sei => "sei",
            Predictor::Vi => "vi",
            Predictor::Ni => "ni",
            Predictor::Ninv => "ninv",
            Predictor::Sqrtni => "sqrtni",
            Predictor::Sqrtninv => "sqrtninv",
        }
    }

    /// Whether the predictor needs the studies' sample sizes.
    pub fn needs_ni(self) -> bool {
        !matches!(self, Predictor::Sei | Predictor::Vi)
    }

    /// Whether the intercept is the limit estimate (the effect where the predictor is 0, i.e.
    /// an infinitely large study): metafor reports `est` for these.
    pub fn has_limit(self) -> bool {
        matches!(
            self,
            Predictor::Sei | Predictor::Vi | Predictor::Ninv | Predictor::Sqrtninv
        )
    }

    fn value(self, vi: f64, ni: f64) -> f64 {
        match self {
            Predictor::Sei => vi.sqrt(),
            Predictor::Vi => vi,
            Predictor::Ni => ni,
            Predictor::Ninv => 1.0 / ni,
            Predictor::Sqrtni => ni.sqrt(),
            Predictor::Sqrtninv => 1.0 / ni.sqrt(),
        }
    }
}

impl fmt::Display for Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Predictor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Predictor::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown regression-test predictor \"{s}\"; expected one of sei, vi, ni, ninv, sqrtni, sqrtninv"
                ))
            })
    }
}

/// The model of Egger's regression test (metafor `regtest(model = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegModel {
    /// The meta-analytic model the data were pooled with, the predictor as moderator.
    Rma,
    /// Weighted least squares with weights 1/vi and a multiplicative residual variance
    /// (Egger's original test).
    Lm,
}

impl RegModel {
    pub fn as_str(self) -> &'static str {
        match self {
            RegModel::Rma => "rma",
            RegModel::Lm => "lm",
        }
    }
}

impl FromStr for RegModel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "rma" => Ok(RegModel::Rma),
            "lm" => Ok(RegModel::Lm),
            _ => Err(Error::Usage(format!(
                "unknown regression-test model \"{s}\"; expected rma or lm"
            ))),
        }
    }
}

/// Egger's regression test (metafor `regtest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegTest {
    pub model: RegModel,
    pub predictor: Predictor,
    /// "z" or "t": the distribution of the test statistic.
    pub statistic: &'static str,
    /// The test statistic of the predictor's coefficient (z, or t for t/knha tests and lm).
    pub stat: f64,
    pub pval: f64,
    /// Degrees of freedom of a t statistic (`None` for z).
    pub df: Option<f64>,
    /// The predictor's coefficient and its standard error.
    pub slope: f64,
    pub slope_se: f64,
    /// The limit estimate (intercept: the effect where the predictor is 0) with its CI, for the
    /// predictors sei, vi, ninv, sqrtninv (`None` otherwise, as metafor).
    pub est: Option<f64>,
    pub ci_lb: Option<f64>,
    pub ci_ub: Option<f64>,
    /// τ² of the meta-regression (model rma).
    pub tau2: Option<f64>,
}

/// Egger's regression test: the fit of `es` with the predictor as moderator, by the model the
/// data were pooled with (`opts`) or by weighted least squares.
pub fn regtest(es: &EffectSizes, opts: &RmaOptions, model: RegModel, predictor: Predictor) -> Result<RegTest> {
    let k = es.k();
    if k < 3 {
        return Err(Error::Computation(format!(
            "the regression test needs at least 3 studies, got {k}"
        )));
    }
    if predictor.needs_ni() {
        if let Some(i) = es.ni.iter().position(|n| !(n.is_finite() && *n > 0.0)) {
            return Err(Error::Computation(format!(
                "the {predictor} predictor needs each study's sample size; study {} has none (available: sei, vi)",
                i + 1
            )));
        }
    }
    let mut x = Array2::<f64>::ones((k, 2));
    for i in 0..k {
        x[[i, 1]] = predictor.value(es.vi[i], es.ni[i]);
    }
    let first = x[[0, 1]];
    if x.column(1)
        .iter()
        .all(|&v| (v - first).abs() <= 1e-12 * first.abs().max(1e-300))
    {
        return Err(Error::Computation(format!(
            "the {predictor} predictor is the same in every study: the regression test cannot be fitted"
        )));
    }
    let names = vec!["intrcpt".to_string(), predictor.as_str().to_string()];
    match model {
        RegModel::Rma => {
            let mut o = *opts;
            o.tau2_fixed = None;
            let fit = rma_mods(&es.yi, &es.vi, x, names, &o)?;
            if !fit.converged {
                return Err(Error::Computation(format!(
                    "the regression test's meta-regression did not converge: {}",
                    fit.convergence_note.clone().unwrap_or_default()
                )));
            }
            let c = &fit.coefficients[1];
            let (est, lb, ub) = if predictor.has_limit() {
                let i = &fit.coefficients[0];
                (Some(i.estimate), Some(i.ci_lb), Some(i.ci_ub))
            } else {
                (None, None, None)
            };
            Ok(RegTest {
                model,
                predictor,
                statistic: if fit.ddf.is_some() { "t" } else { "z" },
                stat: c.zval,
                pval: c.pval,
                df: fit.ddf,
                slope: c.estimate,
                slope_se: c.se,
                est,
                ci_lb: lb,
                ci_ub: ub,
                tau2: Some(fit.tau2),
            })
        }
        RegModel::Lm => {
            let w: Vec<f64> = es.vi.iter().map(|v| 1.0 / v).collect();
            let f = Lm::fit(&x, &es.yi, &w)?;
            let crit = dist::critical(opts.level, Some(f.df));
            let (est, lb, ub) = if predictor.has_limit() {
                (
                    Some(f.beta[0]),
                    Some(f.beta[0] - crit * f.se[0]),
                    Some(f.beta[0] + crit * f.se[0]),
                )
            } else {
                (None, None, None)
            };
            Ok(RegTest {
                model,
                predictor,
                statistic: "t",
                stat: f.t(1),
                pval: f.p(1),
                df: Some(f.df),
                slope: f.beta[1],
                slope_se: f.se[1],
                est,
                ci_lb: lb,
                ci_ub: ub,
                tau2: None,
            })
        }
    }
}

/// An ordinary (weighted) least-squares fit as R's `lm` summarises it: the residual variance
/// estimated on k − p degrees of freedom.
struct Lm {
    beta: Vec<f64>,
    se: Vec<f64>,
    df: f64,
}

impl Lm {
    fn fit(x: &Array2<f64>, y: &[f64], w: &[f64]) -> Result<Lm> {
        let (k, p) = x.dim();
        if k <= p {
            return Err(Error::Computation(format!(
                "{p} coefficients and a residual variance cannot be estimated from {k} studies"
            )));
        }
        let f = wls(x, y, w)?;
        let df = (k - p) as f64;
        let s2 = f.rss / df;
        let se = (0..p).map(|j| (s2 * f.a[j][j]).sqrt()).collect();
        Ok(Lm { beta: f.beta, se, df })
    }

    fn t(&self, j: usize) -> f64 {
        self.beta[j] / self.se[j]
    }

    fn p(&self, j: usize) -> f64 {
        dist::two_sided(self.t(j), Some(self.df))
    }
}

/// Begg and Mazumdar's rank correlation test (metafor `ranktest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankTest {
    /// Kendall's τ (τ-b) between the standardised effects and the sampling variances.
    pub tau: f64,
    pub pval: f64,
    /// Whether the p-value is exact (no ties), or from the normal approximation with the tie
    /// correction (R `cor.test`, `exact = TRUE` with ties, or more than 170 studies).
    pub exact: bool,
}

/// Begg and Mazumdar's test: Kendall's τ between (yi − θ̂)/√(vi − 1/Σwi) and vi, θ̂ the
/// common-effect estimate. As metafor, R's `cor.test(..., method = "kendall", exact = TRUE)`:
/// the exact permutation distribution whenever there are no ties, whatever k.
pub fn ranktest(yi: &[f64], vi: &[f64]) -> Result<RankTest> {
    let k = yi.len();
    if k < 3 {
        return Err(Error::Computation(format!(
            "the rank correlation test needs at least 3 studies, got {k}"
        )));
    }
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let theta = w.iter().zip(yi).map(|(w, y)| w * y).sum::<f64>() / sw;
    let vb = 1.0 / sw;
    let ystar: Vec<f64> = yi.iter().zip(vi).map(|(y, v)| (y - theta) / (v - vb).sqrt()).collect();
    kendall_test(&ystar, vi)
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// R's `cor.test(x, y, method = "kendall", exact = TRUE)`, two-sided.
fn kendall_test(x: &[f64], y: &[f64]) -> Result<RankTest> {
    let n = x.len();
    let (mut s, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let a = sign(x[i] - x[j]);
                let b = sign(y[i] - y[j]);
                s += a * b;
                sx += a * a;
                sy += b * b;
            }
        }
    }
    let tau = s / (sx * sy).sqrt();
    if !tau.is_finite() {
        return Err(Error::Computation(
            "Kendall's tau is not defined: the effects or the variances are all equal".into(),
        ));
    }
    let ties = |v: &[f64]| -> Vec<f64> {
        let mut s: Vec<f64> = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            let mut j = i + 1;
            while j < s.len() && s[j] == s[i] {
                j += 1;
            }
            if j - i > 1 {
                out.push((j - i) as f64);
            }
            i = j;
        }
        out
    };
    let (xt, yt) = (ties(x), ties(y));
    let nf = n as f64;
    if xt.is_empty() && yt.is_empty() && n <= 170 {
        let q = ((tau + 1.0) * nf * (nf - 1.0) / 4.0).round();
        let cdf = kendall_cdf(n);
        let p_at = |q: f64| -> f64 {
            let q = (q + 1e-7).floor();
            if q < 0.0 {
                0.0
            } else if q as usize >= cdf.len() {
                1.0
            } else {
                cdf[q as usize]
            }
        };
        let p = if q > nf * (nf - 1.0) / 4.0 {
            1.0 - p_at(q - 1.0)
        } else {
            p_at(q)
        };
        return Ok(RankTest {
            tau,
            pval: (2.0 * p).min(1.0),
            exact: true,
        });
    }
    let t0 = nf * (nf - 1.0) / 2.0;
    let sum = |t: &[f64], f: &dyn Fn(f64) -> f64| t.iter().map(|&v| f(v)).sum::<f64>();
    let t1 = sum(&xt, &|t| t * (t - 1.0)) / 2.0;
    let t2 = sum(&yt, &|t| t * (t - 1.0)) / 2.0;
    let s = tau * ((t0 - t1) * (t0 - t2)).sqrt();
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(&xt, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(&yt, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(&xt, &|t| t * (t - 1.0)) * sum(&yt, &|t| t * (t - 1.0));
    let v2 = sum(&xt, &|t| t * (t - 1.0) * (t - 2.0)) * sum(&yt, &|t| t * (t - 1.0) * (t - 2.0));
    let var_s = (v0 - vt - vu) / 18.0 + v1 / (2.0 * nf * (nf - 1.0)) + v2 / (9.0 * nf * (nf - 1.0) * (nf - 2.0));
    let z = s / var_s.sqrt();
    Ok(RankTest {
        tau,
        pval: 2.0 * dist::pnorm(z).min(dist::pnorm_upper(z)),
        exact: false,
    })
}

/// P(T ≤ q) for q = 0..n(n−1)/2, T the number of inversions of a random permutation of n
/// (R's `ckendall`/`pkendall`), computed as probabilities to stay in range.
fn kendall_cdf(n: usize) -> Vec<f64> {
    let u = n * (n - 1) / 2;
    let mut w = vec![0.0; u + 1];
    w[0] = 1.0;
    for m in 2..=n {
        // Add element m: k inversions from k − i, i = 0..m−1, each with probability 1/m.
        let umax = m * (m - 1) / 2;
        let mut next = vec![0.0; u + 1];
        let mut run = 0.0;
        for k in 0..=umax {
            run += w[k];
            if k >= m {
                run -= w[k - m];
            }
            next[k] = run / m as f64;
        }
        w = next;
    }
    let mut acc = 0.0;
    w.iter()
        .map(|p| {
            acc += p;
            acc
        })
        .collect()
}

/// The side of the funnel plot on which trim-and-fill imputes the missing studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl FromStr for Side {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(Error::Usage(format!(
                "unknown trim-and-fill side \"{s}\"; expected left or right"
            ))),
        }
    }
}

/// The estimator of the number of missing studies (Duval and Tweedie 2000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Estimator {
    L0,
    R0,
    Q0,
}

impl Estimator {
    pub fn as_str(self) -> &'static str {
        match self {
            Estimator::L0 => "L0",
            Estimator::R0 => "R0",
            Estimator::Q0 => "Q0",
        }
    }
}

impl FromStr for Estimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "L0" => Ok(Estimator::L0),
            "R0" => Ok(Estimator::R0),
            "Q0" => Ok(Estimator::Q0),
            _ => Err(Error::Usage(format!(
                "unknown trim-and-fill estimator \"{s}\"; expected L0, R0 or Q0"
            ))),
        }
    }
}

/// One imputed study.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Filled {
    pub yi: f64,
    pub vi: f64,
}

/// A trim-and-fill analysis (metafor `trimfill.rma.uni`).
#[derive(Debug, Clone)]
pub struct TrimFill {
    pub estimator: Estimator,
    pub side: Side,
    /// Whether the side was given (true) or chosen from the sign of the slope on √vi (false).
    pub side_given: bool,
    /// Estimated number of missing studies.
    pub k0: usize,
    /// Its standard error, as metafor gives it.
    pub se_k0: f64,
    /// R0 only: the p-value of the test of k0 = 0.
    pub p_k0: Option<f64>,
    /// The imputed studies, on the analysis scale.
    pub filled: Vec<Filled>,
    /// The model fitted to the observed and imputed studies (the original fit when k0 = 0).
    pub fit: RmaFit,
}

/// Trim-and-fill: iteratively trim the `k0` most extreme studies on `side`, re-estimate the
/// centre from the rest, and finally fill their mirror images about it. The adjusted model is
/// fitted with `opts` (estimator, test and level of the analysis; metafor's `trimfill` refits
/// with `rma.uni`'s default test unless `test` is passed on).
pub fn trimfill(es: &EffectSizes, opts: &RmaOptions, side: Option<Side>, estimator: Estimator) -> Result<TrimFill> {
    let k = es.k();
    if k < 2 {
        return Err(Error::Computation(format!(
            "trim-and-fill needs at least 2 studies, got {k}"
        )));
    }
    let mut o = *opts;
    o.tau2_fixed = None;
    let (side, side_given) = match side {
        Some(s) => (s, true),
        None => {
            let mut x = Array2::<f64>::ones((k, 2));
            for i in 0..k {
                x[[i, 1]] = es.vi[i].sqrt();
            }
            let f = rma_mods(&es.yi, &es.vi, x, vec!["intrcpt".into(), "sei".into()], &o)?;
            let s = if f.coefficients[1].estimate < 0.0 {
                Side::Right
            } else {
                Side::Left
            };
            (s, false)
        }
    };
    let flip = if side == Side::Right { -1.0 } else { 1.0 };
    let mut idx: Vec<usize> = (0..k).collect();
    idx.sort_by(|&a, &b| (flip * es.yi[a]).total_cmp(&(flip * es.yi[b])));
    let yi: Vec<f64> = idx.iter().map(|&i| flip * es.yi[i]).collect();
    let vi: Vec<f64> = idx.iter().map(|&i| es.vi[i]).collect();
    let kf = k as f64;
    let mut k0: usize = 0;
    let mut k0_prev: Option<usize> = None;
    let mut se_k0 = 0.0;
    let mut beta = 0.0;
    let mut iter = 0;
    while k0_prev != Some(k0) {
        k0_prev = Some(k0);
        iter += 1;
        if iter > 100 {
            return Err(Error::Computation(
                "the trim-and-fill algorithm did not converge in 100 iterations".into(),
            ));
        }
        let m = k - k0;
        let f = rma(&yi[..m], &vi[..m], &o)?;
        beta = f.estimate();
        let c: Vec<f64> = yi.iter().map(|y| y - beta).collect();
        // rank(abs(c), ties.method = "first").
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| c[a].abs().total_cmp(&c[b].abs()));
        let mut rank = vec![0.0; k];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = (r + 1) as f64;
        }
        let signed: Vec<f64> = (0..k).map(|i| sign(c[i]) * rank[i]).collect();
        let var_sr = |k0: f64| {
            (kf * (kf + 1.0) * (2.0 * kf + 1.0) + 10.0 * k0.powi(3) + 27.0 * k0 * k0 + 17.0 * k0
                - 18.0 * kf * k0 * k0
                - 18.0 * kf * k0
                + 6.0 * kf * kf * k0)
                / 24.0
        };
        let sr: f64 = signed.iter().filter(|&&s| s > 0.0).sum();
        let (est, se) = match estimator {
            Estimator::R0 => {
                let neg = signed
                    .iter()
                    .filter(|&&s| s < 0.0)
                    .map(|s| -s)
                    .fold(f64::NEG_INFINITY, f64::max);
                if !neg.is_finite() {
                    return Err(Error::Computation(format!(
                        "R0 is not defined: no study lies on the {} side of the centre ({beta}) of the trimmed studies",
                        if flip > 0.0 { "left" } else { "right" }
                    )));
                }
                let k0 = kf - neg - 1.0;
                (k0, (2.0 * k0.max(0.0) + 2.0).sqrt())
            }
            Estimator::L0 => {
                let k0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
                (k0, 4.0 * var_sr(k0).sqrt() / (2.0 * kf - 1.0))
            }
            Estimator::Q0 => {
                let k0 = kf - 0.5 - (2.0 * kf * kf - 4.0 * sr + 0.25).sqrt();
                let se = 2.0 * var_sr(k0).sqrt() / ((kf - 0.5).powi(2) - k0 * (2.0 * kf - k0 - 1.0)).sqrt();
                (k0, se)
            }
        };
        if !est.is_finite() {
            return Err(Error::Computation(format!(
                "the {} estimate of the number of missing studies is not a number",
                estimator.as_str()
            )));
        }
        // R's round() rounds halves to even.
        let r = round_half_even(est).max(0.0);
        if r >= kf {
            return Err(Error::Computation(format!(
                "the {} estimate of the number of missing studies ({r}) is not below the number of studies ({k})",
                estimator.as_str()
            )));
        }
        k0 = r as usize;
        se_k0 = if se.is_nan() { se } else { se.max(0.0) };
    }
    let p_k0 = match estimator {
        Estimator::R0 => {
            // 1 − Σ_{m=−1}^{k0−1} choose(m + 1, m + 1) 0.5^(m + 2) = 0.5^(k0 + 1).
            let s: f64 = (-1..k0 as i64).map(|m| 0.5f64.powi((m + 2) as i32)).sum();
            Some(1.0 - s)
        }
        _ => None,
    };
    if k0 == 0 {
        let fit = rma(&es.yi, &es.vi, &o)?;
        return Ok(TrimFill {
            estimator,
            side,
            side_given,
            k0,
            se_k0,
            p_k0,
            filled: Vec::new(),
            fit,
        });
    }
    let filled: Vec<Filled> = (k - k0..k)
        .map(|i| Filled {
            yi: flip * (2.0 * beta - yi[i]),
            vi: vi[i],
        })
        .collect();
    let mut y2 = es.yi.clone();
    let mut v2 = es.vi.clone();
    y2.extend(filled.iter().map(|f| f.yi));
    v2.extend(filled.iter().map(|f| f.vi));
    let fit = rma(&y2, &v2, &o)?;
    Ok(TrimFill {
        estimator,
        side,
        side_given,
        k0,
        se_k0,
        p_k0,
        filled,
        fit,
    })
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// Fail-safe N of the three kinds metafor `fsn` computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fsn {
    /// Significance level α of Rosenthal's and Rosenberg's methods.
    pub alpha: f64,
    pub rosenthal: FsnRosenthal,
    pub orwin: FsnOrwin,
    pub rosenberg: FsnRosenberg,
}

/// Rosenthal (1979): studies averaging a null effect needed to bring Stouffer's combined
/// one-sided p above α.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsnRosenthal {
    pub fsnum: f64,
    /// One-sided p of Stouffer's combined z of the observed studies.
    pub pval: f64,
}

/// Orwin (1983): studies with a null effect needed to reduce the unweighted mean effect to
/// `target`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsnOrwin {
    pub fsnum: f64,
    pub meanes: f64,
    pub target: f64,
}

/// Rosenberg (2005): studies with a null effect needed to make the common-effect estimate
/// non-significant (two-sided α).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsnRosenberg {
    pub fsnum: f64,
    pub pval: f64,
    pub meanes: f64,
}

/// metafor's rounding of a fail-safe N: up, unless it is an integer to √ε.
fn fsn_round(x: f64) -> f64 {
    if x.is_finite() && (x - x.round()).abs() >= f64::EPSILON.sqrt() {
        x.ceil()
    } else {
        x.round()
    }
}

/// Fail-safe N (metafor `fsn`, types Rosenthal (Stouffer), Orwin (unweighted) and Rosenberg),
/// at significance level `alpha`; Orwin's `target` defaults to half the mean effect.
pub fn fsn(yi: &[f64], vi: &[f64], alpha: f64, target: Option<f64>) -> Result<Fsn> {
    let k = yi.len();
    if k == 0 {
        return Err(Error::Computation("fail-safe N needs at least one study".into()));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::Usage(format!(
            "the fail-safe N significance level must be in (0, 1), got {alpha}"
        )));
    }
    let kf = k as f64;
    // Rosenthal.
    let z_avg = (yi.iter().zip(vi).map(|(y, v)| y / v.sqrt()).sum::<f64>() / kf.sqrt()).abs();
    let ros_p = dist::pnorm_upper(z_avg);
    let ros = (kf * (z_avg / dist::qnorm(1.0 - alpha)).powi(2) - kf).max(0.0);
    // Orwin.
    let meanes = yi.iter().sum::<f64>() / kf;
    let mut tgt = target.unwrap_or(meanes / 2.0);
    let orwin = if tgt == 0.0 {
        f64::INFINITY
    } else {
        if sign(tgt) != sign(meanes) {
            tgt = -tgt;
        }
        (kf * (meanes - tgt) / tgt).max(0.0)
    };
    // Rosenberg.
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let swy: f64 = w.iter().zip(yi).map(|(w, y)| w * y).sum();
    let wmean = swy / sw;
    let zval = wmean / (1.0 / sw).sqrt();
    let wp = (swy / dist::qnorm(1.0 - alpha / 2.0)).powi(2) - sw;
    let rosenberg = (kf * wp / sw).max(0.0);
    Ok(Fsn {
        alpha,
        rosenthal: FsnRosenthal {
            fsnum: fsn_round(ros),
            pval: ros_p,
        },
        orwin: FsnOrwin {
            fsnum: fsn_round(orwin),
            meanes,
            target: tgt,
        },
        rosenberg: FsnRosenberg {
            fsnum: fsn_round(rosenberg),
            pval: 2.0 * dist::pnorm_upper(zval.abs()),
            meanes: wmean,
        },
    })
}

/// A least-squares test on 2×2 tables (Peters' or Harbord's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableTest {
    /// The coefficient tested: Peters' slope on 1/N; Harbord's intercept ("bias").
    pub estimate: f64,
    pub se: f64,
    pub tval: f64,
    pub pval: f64,
    pub df: f64,
    /// The other coefficient: Peters' intercept (the effect at 1/N = 0); Harbord's slope.
    pub other: f64,
    /// The studies in the regression: those with events, and non-events, in at least one group
    /// (R meta's `metabias` leaves the others out, as `metabin` does).
    pub k: usize,
}

/// A 2×2 table: events and non-events in group 1 (`ai`, `bi`) and group 2 (`ci`, `di`).
pub type Table = [f64; 4];

/// Whether a 2×2 table is informative for Peters' and Harbord's tests: it has events, and
/// non-events, in at least one group. R meta's `metabin` (`allstudies = FALSE`) gives the others
/// no effect size for the OR, and `metabias` leaves them out (their weight or score variance is
/// undefined).
pub fn informative_table(t: &Table) -> bool {
    let [a, b, c, d] = *t;
    a + c > 0.0 && b + d > 0.0
}

/// The positions of the informative tables, checked: at least 3 studies, `yi` as long as the
/// tables.
fn check_tables(tables: &[Table], yi: Option<&[f64]>) -> Result<Vec<usize>> {
    if yi.is_some_and(|y| y.len() != tables.len()) {
        return Err(Error::Computation(
            "effect sizes and 2x2 tables of different lengths".into(),
        ));
    }
    let used: Vec<usize> = (0..tables.len()).filter(|&i| informative_table(&tables[i])).collect();
    let k = used.len();
    if k < 3 {
        let left = tables.len() - k;
        return Err(Error::Computation(if left > 0 {
            format!(
                "the test needs at least 3 studies with events and non-events, got {k} ({left} without events or without non-events in both groups left out)"
            )
        } else {
            format!("the test needs at least 3 studies, got {k}")
        }));
    }
    Ok(used)
}

/// Peters et al. (JAMA 2006;295:676–80): weighted least squares of yi on 1/N (N = ai + bi + ci +
/// di), weights 1/(1/(ai + ci) + 1/(bi + di)) (the inverse variance of the log OR at the
/// pooled event rate); t-test of the slope on k − 2 df. As R meta's `metabias(method.bias =
/// "Peters")`: the uncorrected counts in the weights, the studies without events or without
/// non-events in both groups left out ([`informative_table`]).
pub fn peters(tables: &[Table], yi: &[f64]) -> Result<TableTest> {
    let used = check_tables(tables, Some(yi))?;
    let k = used.len();
    let mut x = Array2::<f64>::ones((k, 2));
    let mut w = Vec::with_capacity(k);
    let mut y = Vec::with_capacity(k);
    for (j, &i) in used.iter().enumerate() {
        let [a, b, c, d] = tables[i];
        let n = a + b + c + d;
        x[[j, 1]] = 1.0 / n;
        w.push(1.0 / (1.0 / (a + c) + 1.0 / (b + d)));
        y.push(yi[i]);
    }
    let f = Lm::fit(&x, &y, &w)?;
    Ok(TableTest {
        estimate: f.beta[1],
        se: f.se[1],
        tval: f.t(1),
        pval: f.p(1),
        df: f.df,
        other: f.beta[0],
        k,
    })
}

/// Harbord et al. (Stat Med 2006;25:3443–57): with Z = ai − (ai + bi)(ai + ci)/N (the efficient
/// score of the log OR) and V = (ai + bi)(ci + di)(ai + ci)(bi + di)/(N²(N − 1)) (its variance),
/// ordinary least squares of Z/√V on √V; t-test of the intercept on k − 2 df. As R meta's
/// `metabias(method.bias = "Harbord")` for the OR (and for measures other than the RR): the
/// studies without events or without non-events in both groups left out ([`informative_table`]).
/// For the RR meta uses the score of the log RR: [`harbord_rr`].
pub fn harbord(tables: &[Table]) -> Result<TableTest> {
    harbord_scores(tables, false)
}

/// Harbord's test with the efficient score of the log RR, as R meta's `metabias(method.bias =
/// "Harbord")` computes it for `sm = "RR"` (after Harbord, Harris and Sterne, Stata J 2009):
/// with n1 = ai + bi, N = ai + bi + ci + di, events e = ai + ci and non-events f = bi + di,
/// Z = (ai N − e n1)/f and V = N e/(4 f); then as [`harbord`].
pub fn harbord_rr(tables: &[Table]) -> Result<TableTest> {
    harbord_scores(tables, true)
}

fn harbord_scores(tables: &[Table], rr: bool) -> Result<TableTest> {
    let used = check_tables(tables, None)?;
    let k = used.len();
    let mut x = Array2::<f64>::ones((k, 2));
    let mut y = Vec::with_capacity(k);
    for (j, &i) in used.iter().enumerate() {
        let [a, b, c, d] = tables[i];
        let n = a + b + c + d;
        let (z, v) = if rr {
            ((a * n - (a + c) * (a + b)) / (b + d), n / 4.0 * (a + c) / (b + d))
        } else {
            (
                a - (a + b) * (a + c) / n,
                (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1.0)),
            )
        };
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::Computation(format!(
                "Harbord's test: study {} has a score variance of {v}",
                i + 1
            )));
        }
        x[[j, 1]] = v.sqrt();
        y.push(z / v.sqrt());
    }
    let f = Lm::fit(&x, &y, &vec![1.0; k])?;
    Ok(TableTest {
        estimate: f.beta[0],
        se: f.se[0],
        tval: f.t(0),
        pval: f.p(0),
        df: f.df,
        other: f.beta[1],
        k,
    })
}

/// Back-transformed estimate and CI of a fit (as `pool` reports them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EffectCi {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

impl EffectCi {
    pub fn of(fit: &RmaFit, back: BackTransform) -> EffectCi {
        let c = &fit.coefficients[0];
        let (a, b) = (back.apply(c.ci_lb), back.apply(c.ci_ub));
        EffectCi {
            estimate: back.apply(c.estimate),
            ci_lb: a.min(b),
            ci_ub: a.max(b),
        }
    }
}

/// What to compute in [`assess`].
#[derive(Debug, Clone, PartialEq)]
pub struct BiasOptions {
    pub predictor: Predictor,
    pub model: RegModel,
    pub estimator: Estimator,
    pub side: Option<Side>,
    pub fsn_alpha: f64,
    pub fsn_target: Option<f64>,
}

impl Default for BiasOptions {
    /// metafor's defaults: predictor sei, model rma, estimator L0, side estimated, α = 0.05.
    fn default() -> Self {
        BiasOptions {
            predictor: Predictor::Sei,
            model: RegModel::Rma,
            estimator: Estimator::L0,
            side: None,
            fsn_alpha: 0.05,
            fsn_target: None,
        }
    }
}

/// The whole assessment; a test that cannot be computed (too few studies, no sample sizes)
/// holds its reason instead.
#[derive(Debug, Clone)]
pub struct BiasAssessment {
    pub k: usize,
    pub egger: std::result::Result<RegTest, String>,
    pub begg: std::result::Result<RankTest, String>,
    pub trimfill: std::result::Result<TrimFill, String>,
    pub fsn: std::result::Result<Fsn, String>,
    /// Peters' and Harbord's tests (`None` when the data are not 2×2 tables).
    pub peters: Option<std::result::Result<TableTest, String>>,
    pub harbord: Option<std::result::Result<TableTest, String>>,
    /// The limit meta-analysis (R metasens `limitmeta`, adjustment beta0).
    pub limitmeta: std::result::Result<LimitMeta, String>,
}

/// Every test of this module on the effect sizes `es` (pooled with `opts`); `tables` are the
/// 2×2 tables of binary data, for Peters' and Harbord's tests.
pub fn assess(es: &EffectSizes, opts: &RmaOptions, tables: Option<&[Table]>, o: &BiasOptions) -> BiasAssessment {
    let msg = |e: Error| e.to_string();
    BiasAssessment {
        k: es.k(),
        egger: regtest(es, opts, o.model, o.predictor).map_err(msg),
        begg: ranktest(&es.yi, &es.vi).map_err(msg),
        trimfill: trimfill(es, opts, o.side, o.estimator).map_err(msg),
        fsn: fsn(&es.yi, &es.vi, o.fsn_alpha, o.fsn_target).map_err(msg),
        peters: tables.map(|t| peters(t, &es.yi).map_err(msg)),
        harbord: tables.map(|t| {
            if es.measure == crate::effect::Measure::RR {
                harbord_rr(t)
            } else {
                harbord(t)
            }
            .map_err(msg)
        }),
        limitmeta: limitmeta(es, opts).map_err(msg),
    }
}

/// The assessment of a loaded study table under the options of `pool`: the effect sizes of the
/// analysis (refused where an effect size is undefined, as `pool` refuses them), and for 2×2
/// tables of a binary measure Peters' and Harbord's tests too. Returns the effect sizes with the
/// assessment (their measure and totals give the back-transformation). Only inverse-variance
/// fits of the effect sizes are assessed (metafor's `regtest` and `trimfill` take `rma.uni`
/// fits): M-H and Peto pooling and the GLMM are usage errors.
pub fn assess_studies(
    studies: &crate::data::Studies,
    options: &crate::model::PoolOptions,
    o: &BiasOptions,
) -> Result<(BiasAssessment, EffectSizes)> {
    if options.method == crate::model::Method::GLMM {
        return Err(Error::Usage(
            "the small-study tests work on the study effect sizes (yi, vi): they need an inverse-variance \
             model (e.g. REML), not the GLMM"
                .into(),
        ));
    }
    if options.pooling != crate::model::Pooling::IV {
        return Err(Error::Usage(format!(
            "the small-study tests work on inverse-variance fits (as metafor's regtest and trimfill), not on {} pooling",
            options.pooling.describe()
        )));
    }
    let es = crate::model::subgroup::checked_effect_sizes(studies, options)?;
    let tables: Option<Vec<Table>> = studies
        .inputs
        .iter()
        .map(|x| match *x {
            crate::data::StudyInput::Table2x2 { ai, bi, ci, di } => Some([ai, bi, ci, di]),
            _ => None,
        })
        .collect::<Option<Vec<Table>>>()
        .filter(|t| !t.is_empty() && options.measure.family() == crate::effect::Family::Binary);
    let a = assess(&es, &options.rma_options(), tables.as_deref(), o);
    Ok((a, es))
}

/// One estimate of the limit meta-analysis, with its z-based CI and test of a zero effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LimitAdjust {
    pub estimate: f64,
    pub se: f64,
    pub zval: f64,
    pub pval: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

impl LimitAdjust {
    fn new(estimate: f64, se: f64, level: f64) -> LimitAdjust {
        let crit = dist::critical(level, None);
        let zval = estimate / se;
        LimitAdjust {
            estimate,
            se,
            zval,
            pval: dist::two_sided(zval, None),
            ci_lb: estimate - crit * se,
            ci_ub: estimate + crit * se,
        }
    }
}

/// The limit meta-analysis of Rücker, Schwarzer, Carpenter, Binder and Schumacher
/// (Biostatistics 2011;12:122–42), as R metasens 1.5-2 `limitmeta` computes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitMeta {
    pub k: usize,
    /// τ² of the random-effects model the limit is taken under (the analysis' estimator;
    /// 0 for a common-effect analysis).
    pub tau2: f64,
    /// The adjusted estimate metasens reports by default (`method.adjust = "beta0"`): the
    /// expected effect of a study of infinite precision, β_r + τ α_r.
    pub beta0: LimitAdjust,
    /// The slope of the radial regression of the shrunken estimates (`"betalim"`).
    pub betalim: LimitAdjust,
    /// The common-effect estimate of the shrunken estimates (`"mulim"`).
    pub mulim: LimitAdjust,
    /// Intercept α_r and slope β_r of the generalised radial regression: ordinary least squares
    /// of yi/√(vi + τ²) on 1/√(vi + τ²).
    pub alpha_r: f64,
    pub beta_r: f64,
    /// Cochran's Q (k − 1 df) and its split (Rücker et al. 2011, pp. 133–4): Q = Q_small +
    /// Q_resid, Q_resid the residual sum of squares of the radial regression of yi/√vi on 1/√vi
    /// (k − 2 df), Q_small the test of small-study effects (1 df).
    pub q: f64,
    pub q_small: f64,
    pub q_small_pval: f64,
    pub q_resid: f64,
    pub q_resid_df: f64,
    pub q_resid_pval: f64,
    /// G² = 1 − R² of the radial regression of the shrunken estimates: the heterogeneity not
    /// explained by small-study effects.
    pub g2: f64,
    /// The shrunken ("limit") study estimates β_r + τ/√(vi + τ²) (yi − β_r), analysis scale.
    pub shrunken: Vec<f64>,
}

/// Ordinary least squares of yi/si on 1/si (a radial or Galbraith regression with intercept):
/// (intercept, slope, residual sum of squares, R², Σ(1/si − mean)²).
fn radial_regression(yi: &[f64], si: &[f64]) -> (f64, f64, f64, f64, f64) {
    let k = yi.len() as f64;
    let x: Vec<f64> = si.iter().map(|s| 1.0 / s).collect();
    let y: Vec<f64> = yi.iter().zip(si).map(|(y, s)| y / s).collect();
    let mx = x.iter().sum::<f64>() / k;
    let my = y.iter().sum::<f64>() / k;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss: f64 = x.iter().zip(&y).map(|(a, b)| (b - intercept - slope * a).powi(2)).sum();
    (intercept, slope, rss, 1.0 - rss / syy, sxx)
}

/// The limit meta-analysis (R metasens `limitmeta`) of `es` under the random-effects model
/// `opts` (its τ² estimator; τ² = 0 for a common-effect model): with wi = 1/(vi + τ²), the
/// generalised radial regression of yi√wi on √wi gives α_r and β_r; the limit estimate is
/// β_r + τ α_r with variance (1 + τ² mean(w) − 2τ mean(√w))/Σ(√wi − mean(√w))²; the CI and test
/// are z-based at `opts.level` (also for t-based analyses, as metasens). The formulas and the
/// source are in `docs/bias.md`.
pub fn limitmeta(es: &EffectSizes, opts: &RmaOptions) -> Result<LimitMeta> {
    let k = es.k();
    if k < 3 {
        return Err(Error::Computation(format!(
            "the limit meta-analysis needs at least 3 studies, got {k}"
        )));
    }
    let fit = rma(&es.yi, &es.vi, opts)?;
    if !fit.converged {
        return Err(Error::Computation(format!(
            "the limit meta-analysis' random-effects fit did not converge: {}",
            fit.convergence_note.clone().unwrap_or_default()
        )));
    }
    let tau2 = fit.tau2;
    let tau = tau2.sqrt();
    let kf = k as f64;
    let se_tau: Vec<f64> = es.vi.iter().map(|v| (v + tau2).sqrt()).collect();
    let sei: Vec<f64> = es.vi.iter().map(|v| v.sqrt()).collect();
    let (alpha_r, beta_r, _, _, sxx) = radial_regression(&es.yi, &se_tau);
    if !(sxx > 0.0 && sxx.is_finite()) {
        return Err(Error::Computation(
            "the limit meta-analysis needs studies of different precision: every study has the same variance".into(),
        ));
    }
    let w: Vec<f64> = se_tau.iter().map(|s| 1.0 / (s * s)).collect();
    let mean_w = w.iter().sum::<f64>() / kf;
    let mean_sw = w.iter().map(|w| w.sqrt()).sum::<f64>() / kf;
    let var = (1.0 + tau2 * mean_w - 2.0 * tau * mean_sw) / sxx;
    let beta0 = LimitAdjust::new(beta_r + tau * alpha_r, var.sqrt(), opts.level);
    let shrunken: Vec<f64> = es
        .yi
        .iter()
        .zip(&se_tau)
        .map(|(y, s)| beta_r + tau / s * (y - beta_r))
        .collect();
    let (_, slope_l, _, r2_l, sxx_l) = radial_regression(&shrunken, &sei);
    let betalim = LimitAdjust::new(slope_l, (1.0 / sxx_l).sqrt(), opts.level);
    let wf: Vec<f64> = es.vi.iter().map(|v| 1.0 / v).collect();
    let swf: f64 = wf.iter().sum();
    let mu = wf.iter().zip(&shrunken).map(|(w, y)| w * y).sum::<f64>() / swf;
    let mulim = LimitAdjust::new(mu, (1.0 / swf).sqrt(), opts.level);
    let (_, _, q_resid, _, _) = radial_regression(&es.yi, &sei);
    let q = fit.q;
    let q_small = q - q_resid;
    let q_resid_df = kf - 2.0;
    Ok(LimitMeta {
        k,
        tau2,
        beta0,
        betalim,
        mulim,
        alpha_r,
        beta_r,
        q,
        q_small,
        q_small_pval: dist::pchisq_upper(q_small, 1.0),
        q_resid,
        q_resid_df,
        q_resid_pval: dist::pchisq_upper(q_resid, q_resid_df),
        g2: 1.0 - r2_l,
        shrunken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact null distribution of Kendall's T: symmetric, sums to 1, and for n = 4 the
    /// Mahonian numbers 1, 3, 5, 6, 5, 3, 1 over 24.
    #[test]
    fn kendall_distribution() {
        let c = kendall_cdf(4);
        let counts = [1.0, 3.0, 5.0, 6.0, 5.0, 3.0, 1.0];
        let mut acc = 0.0;
        for (q, n) in counts.iter().enumerate() {
            acc += n / 24.0;
            assert!((c[q] - acc).abs() < 1e-15);
        }
        assert!((kendall_cdf(30).last().unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn round_half_even_as_r() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-0.5), 0.0);
        assert_eq!(round_half_even(1.4), 1.0);
    }
}
