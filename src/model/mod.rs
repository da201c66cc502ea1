//! The random- and common-effects models (metafor `rma.uni`), their τ² confidence intervals
//! (`confint`, Q-profile), prediction intervals (`predict`) and subgroup analyses.
//!
//! A model is fitted once ([`rma`]) into an [`RmaFit`]; questions are then asked of the fit
//! ([`RmaFit::confint`], [`RmaFit::predict`]).
//!
//! Besides `rma.uni`: the logistic models with a random study effect fitted to the counts
//! ([`glmm`], metafor `rma.glmm`, measures PLO and OR) and meta-regression on the columns of a study table ([`metareg`]).

pub mod comparative;
pub mod confint;
pub mod fast;
pub mod glmm;
pub mod linalg;
pub mod metareg;
pub mod mh;
pub mod row;
pub mod spec;
pub mod subgroup;
pub mod tau2;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::dist;
use crate::error::{Error, Result};
use linalg::{intercept, wls};

pub use confint::Tau2Ci;
pub use mh::{rma_mh, rma_peto, MhOptions, MhTests, Pooling, RdVariance};
pub use row::{FitRow, NaturalCi, RowKey};
pub use spec::ModelSpec;
pub use subgroup::{EffectSummary, PoolOptions, PoolResult, Pooled, StudyRow, SubgroupTest};

/// Estimator of τ² (metafor's `method`); `EE`/`FE` fit the common-effect model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    EE,
    FE,
    DL,
    HE,
    HS,
    HSk,
    SJ,
    ML,
    REML,
    EB,
    PM,
    /// Logistic regression on the counts with a random study effect, ML by adaptive
    /// Gauss–Hermite quadrature (metafor `rma.glmm`): the random-intercept model for proportions
    /// (`measure = "PLO"`) or, for 2×2 tables, fixed study effects and a random treatment effect
    /// (`measure = "OR"`, model UM.FS). Fitted by [`glmm`] through [`pool`], not by [`rma`]. Not
    /// in [`Method::ALL`].
    GLMM,
}

impl Method {
    /// Every estimator, common-effect first.
    pub const ALL: [Method; 10] = [
        Method::EE,
        Method::DL,
        Method::HE,
        Method::HS,
        Method::HSk,
        Method::SJ,
        Method::ML,
        Method::REML,
        Method::EB,
        Method::PM,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::EE => "EE",
            Method::FE => "FE",
            Method::DL => "DL",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::HSk => "HSk",
            Method::SJ => "SJ",
            Method::ML => "ML",
            Method::REML => "REML",
            Method::EB => "EB",
            Method::PM => "PM",
            Method::GLMM => "GLMM",
        }
    }

    /// Common-effect (no τ²) model.
    pub fn is_common(self) -> bool {
        matches!(self, Method::EE | Method::FE)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let m = match s.to_ascii_uppercase().as_str() {
            "EE" | "CE" | "COMMON" => Method::EE,
            "FE" | "FIXED" => Method::FE,
            "DL" => Method::DL,
            "HE" => Method::HE,
            "HS" => Method::HS,
            "HSK" => Method::HSk,
            "SJ" => Method::SJ,
            "ML" => Method::ML,
            "REML" => Method::REML,
            "EB" => Method::EB,
            "PM" => Method::PM,
            "GLMM" => Method::GLMM,
            _ => {
                return Err(Error::Usage(format!(
                    "unknown method \"{s}\"; expected one of EE, FE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM, GLMM"
                )))
            }
        };
        Ok(m)
    }
}

/// Test and CI method for the model coefficients (metafor's `test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    /// Wald z-test, normal critical values.
    Z,
    /// t-test with k − p degrees of freedom, unscaled SE.
    T,
    /// Knapp–Hartung (Hartung–Knapp–Sidik–Jonkman): SE scaled by the weighted residual variance, t(k − p).
    Knha,
}

impl Test {
    pub const ALL: [Test; 3] = [Test::Z, Test::T, Test::Knha];

    pub fn as_str(self) -> &'static str {
        match self {
            Test::Z => "z",
            Test::T => "t",
            Test::Knha => "knha",
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Test {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "z" => Ok(Test::Z),
            "t" => Ok(Test::T),
            "knha" | "hk" | "hksj" => Ok(Test::Knha),
            _ => Err(Error::Usage(format!(
                "unknown test \"{s}\"; expected one of z, t, knha"
            ))),
        }
    }
}

/// Convergence settings of the iterative estimators and root finders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Fisher scoring stops when |Δτ²| ≤ threshold · (1 + τ²) (with `absolute_threshold`:
    /// |Δτ²| < threshold, metafor's rule).
    pub threshold: f64,
    /// Compare the change in τ² itself with the threshold, as metafor does (emulating its
    /// default stopping rule); false: relative to 1 + τ².
    pub absolute_threshold: bool,
    /// Tolerance of the root finders for τ² (Paule–Mandel), as R's `uniroot(tol = )`; 0: to
    /// machine precision.
    pub root_tol: f64,
    pub maxiter: usize,
    /// First upper bound tried for Paule–Mandel (doubled until it brackets the root).
    pub tau2_max: f64,
    /// Adaptive Gauss–Hermite points of the GLMM likelihood (metafor's and lme4's `nAGQ`).
    pub n_agq: usize,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            threshold: 1e-14,
            absolute_threshold: false,
            root_tol: 0.0,
            maxiter: 10_000,
            tau2_max: 100.0,
            n_agq: glmm::DEFAULT_NAGQ,
        }
    }
}

/// Options of one model fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmaOptions {
    pub method: Method,
    pub test: Test,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Fix τ² at this value instead of estimating it (metafor's `tau2 =` argument).
    pub tau2_fixed: Option<f64>,
    pub control: Control,
}

impl Default for RmaOptions {
    /// metafor's defaults: REML, z-test, 95%.
    fn default() -> Self {
        RmaOptions {
            method: Method::REML,
            test: Test::Z,
            level: 0.95,
            tau2_fixed: None,
            control: Control::default(),
        }
    }
}

/// One model coefficient with its test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    pub name: String,
    pub estimate: f64,
    pub se: f64,
    pub zval: f64,
    pub pval: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

/// A fitted model (metafor's `rma.uni` object).
#[derive(Debug, Clone)]
pub struct RmaFit {
    pub options: RmaOptions,
    /// The test actually used (metafor switches to `z` when k = 1).
    pub test: Test,
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    pub coefficients: Vec<Coefficient>,
    /// Variance-covariance matrix of the coefficients (scaled under Knapp–Hartung).
    pub vb: Vec<Vec<f64>>,
    pub tau2: f64,
    /// Iterations of the τ² estimator (0 for closed forms).
    pub iterations: usize,
    /// Whether the iterative estimator met its convergence criterion (true for closed forms);
    /// when false, `convergence_note` says where and why it stopped, and every output shows it.
    pub converged: bool,
    pub convergence_note: Option<String>,
    /// Heterogeneity statistic Q (QE) with common-effect weights, its df (k − p) and p-value.
    pub q: f64,
    pub q_df: usize,
    pub q_p: f64,
    /// I² (%) and H² as metafor defines them (from τ² and the typical within-study variance).
    pub i2: f64,
    pub h2: f64,
    /// The "typical" within-study variance ṽ = (k − p) / tr(P) with common-effect weights.
    pub vt: f64,
    /// Omnibus test of the moderators (all coefficients but the intercept); `None` for intercept-only models.
    pub qm: Option<Omnibus>,
    /// Degrees of freedom of the t-distribution for t/knha tests.
    pub ddf: Option<f64>,
    /// Critical value used for the CIs.
    pub crit: f64,
    /// Knapp–Hartung scaling factor s² (1 for other tests).
    pub s2w: f64,
    /// Inverse-variance weights 1 / (vi + τ²).
    pub weights: Vec<f64>,
    pub yi: Vec<f64>,
    pub vi: Vec<f64>,
    pub x: Array2<f64>,
    /// How the studies were pooled ([`mh`] for M-H and Peto fits, whose `weights` are the M-H or
    /// Peto weights and whose `yi`/`vi` may hold NaN for studies without an effect size).
    pub pooling: Pooling,
    /// The tests of an M-H fit (CMH, Tarone, ...).
    pub mh: Option<MhTests>,
    /// GLMM fits ([`glmm`]): the likelihood, the LR test for heterogeneity, the modes.
    pub glmm: Option<Box<glmm::GlmmDetails>>,
}

/// Omnibus test of moderators: QM (χ² with `df`, or F with `df`, `df2` under t/knha).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Omnibus {
    pub qm: f64,
    pub df: usize,
    pub df2: Option<usize>,
    pub p: f64,
}

/// The prediction for the average study: estimate, CI and prediction interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub pred: f64,
    pub se: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub pi_lb: f64,
    pub pi_ub: f64,
}

/// How the critical value of the prediction interval is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PiType {
    /// metafor's `predict`: z for the z-test, t(k − p) for t and knha.
    #[serde(rename = "metafor")]
    Metafor,
    /// Always the normal quantile.
    #[serde(rename = "z")]
    Z,
    /// t with k − 1 df (meta ≥ 7.0 "V"; Higgins et al.).
    #[serde(rename = "k-1")]
    TkMinus1,
    /// t with k − 2 df (meta ≤ 7.0 "HTS", Stata `metaprop`'s `rfdist`, Riley).
    #[serde(rename = "k-2")]
    TkMinus2,
}

impl PiType {
    pub fn as_str(self) -> &'static str {
        match self {
            PiType::Metafor => "metafor",
            PiType::Z => "z",
            PiType::TkMinus1 => "k-1",
            PiType::TkMinus2 => "k-2",
        }
    }
}

impl FromStr for PiType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "metafor" | "default" => Ok(PiType::Metafor),
            "z" => Ok(PiType::Z),
            "k-1" | "t" => Ok(PiType::TkMinus1),
            "k-2" | "riley" | "hts" => Ok(PiType::TkMinus2),
            _ => Err(Error::Usage(format!(
                "unknown prediction-interval type \"{s}\"; expected metafor, z, k-1, k-2"
            ))),
        }
    }
}

/// Pool the studies overall and (when `studies.group` is set) per subgroup: proportions by
/// inverse variance ([`subgroup::pool_proportions`]) or the GLMM ([`glmm::pool_glmm`]), two-group
/// and other measures by inverse variance, Mantel–Haenszel or Peto
/// ([`comparative::pool_comparative`]).
pub fn pool(studies: &crate::data::Studies, options: &PoolOptions) -> Result<PoolResult> {
    if options.method == Method::GLMM {
        return glmm::pool_glmm(studies, options);
    }
    if !options.measure.is_proportion() {
        return comparative::pool_comparative(studies, options);
    }
    subgroup::pool_proportions(studies, options)
}

/// Every effect size finite and every sampling variance positive and finite; the error names the
/// study by its position.
pub(crate) fn check_studies(yi: &[f64], vi: &[f64]) -> Result<()> {
    let Some(i) = (0..yi.len()).find(|&i| !crate::effect::is_defined(yi[i], vi[i])) else {
        return Ok(());
    };
    let what = if yi[i].is_finite() {
        format!("a non-positive or non-finite sampling variance ({})", vi[i])
    } else {
        format!("a non-finite effect size ({})", yi[i])
    };
    Err(Error::Computation(format!(
        "study {} has {what}; with 0 or all events use a continuity correction or another measure",
        i + 1
    )))
}

/// Fit an intercept-only model (metafor `rma(yi, vi, method, test)`).
pub fn rma(yi: &[f64], vi: &[f64], options: &RmaOptions) -> Result<RmaFit> {
    rma_mods(yi, vi, intercept(yi.len()), vec!["intrcpt".to_string()], options)
}

/// Fit a model with design matrix `x` (first column the intercept), coefficient names `names`.
pub fn rma_mods(yi: &[f64], vi: &[f64], x: Array2<f64>, names: Vec<String>, options: &RmaOptions) -> Result<RmaFit> {
    let k = yi.len();
    let p = x.ncols();
    if options.method == Method::GLMM {
        return Err(Error::Usage(
            "GLMM needs counts: use pool (the GLMM is fitted to events and totals, not to yi and vi)".into(),
        ));
    }
    if k == 0 {
        return Err(Error::Computation("no studies to pool".into()));
    }
    if vi.len() != k || x.nrows() != k || names.len() != p {
        return Err(Error::Computation(
            "yi, vi and the model matrix have different lengths".into(),
        ));
    }
    check_studies(yi, vi)?;
    if k < p {
        return Err(Error::Computation(format!(
            "{p} coefficients cannot be estimated from {k} studies"
        )));
    }
    let mut test = options.test;
    if k == 1 {
        test = Test::Z;
    }
    // τ²
    let est = if options.method.is_common() {
        tau2::Tau2Estimate::exact(0.0)
    } else if let Some(t) = options.tau2_fixed {
        tau2::Tau2Estimate::exact(t)
    } else if k == 1 {
        tau2::Tau2Estimate::exact(0.0)
    } else if k == p {
        return Err(Error::Computation(
            "tau^2 cannot be estimated: as many coefficients as studies".into(),
        ));
    } else {
        tau2::estimate(options.method, &x, yi, vi, &options.control)?
    };
    let (tau2, iterations) = (est.tau2, est.iterations);
    if !tau2.is_finite() {
        return Err(not_finite_tau2(options.method, tau2, vi));
    }
    let weights: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let fit = wls(&x, yi, &weights)?;
    let df_resid = (k - p) as f64;
    let s2w = if test == Test::Knha {
        if fit.rss <= f64::EPSILON {
            0.0
        } else {
            fit.rss / df_resid
        }
    } else {
        1.0
    };
    let vb: Vec<Vec<f64>> = fit.a.iter().map(|row| row.iter().map(|v| v * s2w).collect()).collect();
    let ddf = match test {
        Test::Z => None,
        Test::T | Test::Knha => Some(df_resid),
    };
    let crit = match ddf {
        Some(d) if d > 0.0 => dist::critical(options.level, Some(d)),
        Some(_) => f64::NAN,
        None => dist::critical(options.level, None),
    };
    let coefficients = (0..p)
        .map(|j| {
            let se = vb[j][j].sqrt();
            let b = fit.beta[j];
            let zval = b / se;
            let pval = match ddf {
                Some(d) if d > 0.0 => dist::two_sided(zval, Some(d)),
                Some(_) => f64::NAN,
                None => dist::two_sided(zval, None),
            };
            Coefficient {
                name: names[j].clone(),
                estimate: b,
                se,
                zval,
                pval,
                ci_lb: b - crit * se,
                ci_ub: b + crit * se,
            }
        })
        .collect();
    let qm = if p > 1 {
        Some(omnibus(&fit.beta, &vb, ddf, k, p)?)
    } else {
        None
    };
    // Heterogeneity with common-effect weights.
    let (q, q_p, i2, h2, vt) = if k > p {
        let w_ee: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
        let ee = wls(&x, yi, &w_ee)?;
        let q = ee.rss.max(0.0);
        let q_p = dist::pchisq_upper(q, df_resid);
        let vt = df_resid / tau2::tr_p(&x, &w_ee, &ee.a);
        let (i2, h2) = if options.method.is_common() {
            ((100.0 * (q - df_resid) / q).max(0.0), q / df_resid)
        } else {
            (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
        };
        (q, q_p, i2, h2, vt)
    } else {
        (0.0, 1.0, 0.0, 1.0, 0.0)
    };
    Ok(RmaFit {
        options: *options,
        test,
        k,
        p,
        coefficients,
        vb,
        tau2,
        iterations,
        converged: est.converged,
        convergence_note: est.note,
        q,
        q_df: k - p,
        q_p,
        i2,
        h2,
        vt,
        qm,
        ddf,
        crit,
        s2w,
        weights,
        yi: yi.to_vec(),
        vi: vi.to_vec(),
        x,
        pooling: Pooling::IV,
        mh: None,
        glmm: None,
    })
}

/// The error for a τ² that is not a finite number: with sampling variances many orders of
/// magnitude apart, a closed-form estimator's denominator (Σw − Σw²/Σw) cancels to rounding
/// noise or 0. Reported instead of a fit of NaNs.
pub(crate) fn not_finite_tau2(method: Method, tau2: f64, vi: &[f64]) -> Error {
    let (lo, hi) = vi
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    Error::Computation(format!(
        "{} estimator: tau^2 is not a finite number ({tau2}); the sampling variances range from {lo:e} to {hi:e}, \
         too far apart for double precision; try another estimator (REML, PM) or check the counts",
        method.as_str()
    ))
}

fn omnibus(beta: &[f64], vb: &[Vec<f64>], ddf: Option<f64>, k: usize, p: usize) -> Result<Omnibus> {
    // All coefficients but the intercept.
    let m = p - 1;
    let sub: Vec<Vec<f64>> = (1..p).map(|i| (1..p).map(|j| vb[i][j]).collect()).collect();
    // A singular covariance (Knapp-Hartung with s² = 0 scales it to 0) leaves QM undefined: NA,
    // as metafor reports it, and the fit stands.
    let Ok(inv) = linalg::invert_spd(&sub) else {
        return Ok(Omnibus {
            qm: f64::NAN,
            df: m,
            df2: ddf.map(|_| k - p),
            p: f64::NAN,
        });
    };
    let b: Vec<f64> = beta[1..].to_vec();
    let mut qm = 0.0;
    for i in 0..m {
        for j in 0..m {
            qm += b[i] * inv[i][j] * b[j];
        }
    }
    Ok(match ddf {
        Some(_) => {
            let f = qm / m as f64;
            let df2 = k - p;
            let pv = if df2 > 0 {
                dist::pf_upper(f, m as f64, df2 as f64)
            } else {
                f64::NAN
            };
            Omnibus {
                qm: f,
                df: m,
                df2: Some(df2),
                p: pv,
            }
        }
        None => Omnibus {
            qm,
            df: m,
            df2: None,
            p: dist::pchisq_upper(qm, m as f64),
        },
    })
}

impl RmaFit {
    /// The intercept (the pooled estimate of an intercept-only model).
    pub fn estimate(&self) -> f64 {
        self.coefficients[0].estimate
    }

    pub fn se(&self) -> f64 {
        self.coefficients[0].se
    }

    pub fn tau(&self) -> f64 {
        self.tau2.sqrt()
    }

    /// Sum of the weights' shares: each study's weight in percent.
    pub fn weights_percent(&self) -> Vec<f64> {
        let s: f64 = self.weights.iter().sum();
        self.weights.iter().map(|w| 100.0 * w / s).collect()
    }

    /// Prediction for the average study of an intercept-only model (metafor `predict`), with the
    /// prediction interval's critical value chosen by `pi_type`.
    pub fn predict(&self, pi_type: PiType) -> Prediction {
        let c = &self.coefficients[0];
        let df = |d: f64| {
            if d > 0.0 {
                dist::critical(self.options.level, Some(d))
            } else {
                f64::NAN
            }
        };
        let crit = match pi_type {
            PiType::Metafor => self.crit,
            PiType::Z => dist::critical(self.options.level, None),
            PiType::TkMinus1 => df(self.k as f64 - 1.0),
            PiType::TkMinus2 => df(self.k as f64 - 2.0),
        };
        let sd = (c.se * c.se + self.tau2).sqrt();
        Prediction {
            pred: c.estimate,
            se: c.se,
            ci_lb: c.ci_lb,
            ci_ub: c.ci_ub,
            pi_lb: c.estimate - crit * sd,
            pi_ub: c.estimate + crit * sd,
        }
    }

    /// Q-profile confidence interval for τ², I² and H² (metafor `confint`); `None` for
    /// common-effect fits, fixed τ², or k = 1.
    pub fn confint(&self) -> Option<Tau2Ci> {
        confint::q_profile(self)
    }
}
