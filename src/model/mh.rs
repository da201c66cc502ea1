//! Mantel–Haenszel and Peto pooling of 2×2 tables and of incidence rates (metafor `rma.mh`,
//! `rma.peto`), returning the same fit shape as the inverse-variance models ([`RmaFit`]).
//!
//! - **M-H OR**: OR = ΣR/ΣS, R = ad/N, S = bc/N, with the Robins–Breslow–Greenland variance;
//!   Cochran–Mantel–Haenszel test (with the 0.5 continuity correction by default), and the
//!   Breslow–Day and Tarone tests of homogeneity (df = tables with a positive fitted cell − 1).
//! - **M-H RR**: Σ a n2/N ÷ Σ c n1/N, Greenland–Robins (1985) variance.
//! - **M-H RD**: Σ(a n2 − c n1)/N ÷ Σ n1 n2/N, with the Sato–Greenland–Robins (1989) variance
//!   as metafor, or the Greenland–Robins (1985) variance as RevMan, meta and Stata.
//! - **M-H IRR / IRD** on events and person-time, with the M-H test for IRR.
//! - **Peto**: ln OR = Σ(O − E)/ΣV, SE = 1/√ΣV.
//!
//! The heterogeneity statistic Q is computed around the pooled estimate with inverse-variance
//! weights from the study effect sizes (`yi`, `vi`), as metafor, RevMan, meta and Stata do; df is
//! the number of studies with a finite `yi` − 1. The cells used in the M-H sums may get their own
//! continuity correction ([`MhOptions::sums`]; metafor: none, RevMan and meta: 0.5 to tables
//! with a zero), and with `rd_raw_estimate` RD takes its estimate and weights from the raw counts
//! and only its variance from the corrected cells (RevMan 5).

use serde::Serialize;

use super::linalg::intercept;
use super::{Coefficient, Control, Method, RmaFit, RmaOptions, Test};
use crate::data::StudyInput;
use crate::dist;
use crate::effect::{AddTo, Correction, Measure};
use crate::error::{Error, Result};

/// How the studies are pooled (`--pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Pooling {
    /// Inverse variance (metafor `rma`).
    IV,
    /// Mantel–Haenszel (metafor `rma.mh`).
    MH,
    /// Peto's one-step odds ratio (metafor `rma.peto`).
    PETO,
}

impl Pooling {
    pub fn as_str(self) -> &'static str {
        match self {
            Pooling::IV => "IV",
            Pooling::MH => "MH",
            Pooling::PETO => "PETO",
        }
    }

    /// In words, as the reports print it.
    pub fn describe(self) -> &'static str {
        match self {
            Pooling::IV => "inverse variance",
            Pooling::MH => "Mantel-Haenszel",
            Pooling::PETO => "Peto",
        }
    }
}

impl std::str::FromStr for Pooling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
            "IV" | "INVERSE" => Ok(Pooling::IV),
            "MH" | "MANTELHAENSZEL" => Ok(Pooling::MH),
            "PETO" => Ok(Pooling::PETO),
            _ => Err(Error::Usage(format!(
                "unknown pooling \"{s}\"; expected IV, MH or PETO"
            ))),
        }
    }
}

/// Variance of the M-H risk difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RdVariance {
    /// Sato, Greenland & Robins (1989), as metafor.
    SGR,
    /// Greenland & Robins (1985), as RevMan, meta and Stata.
    GR,
}

impl std::str::FromStr for RdVariance {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "SGR" => Ok(RdVariance::SGR),
            "GR" => Ok(RdVariance::GR),
            _ => Err(Error::Usage(format!(
                "unknown risk-difference variance \"{s}\"; expected SGR or GR"
            ))),
        }
    }
}

/// What shapes an M-H or Peto fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MhOptions {
    /// Continuity correction of the cells in the M-H (or Peto) sums: metafor's second `add`/`to`
    /// element (default: none).
    pub sums: Correction,
    /// Leave double-zero tables out of the sums (metafor's second `drop00` element).
    pub drop00_sums: bool,
    pub rd_variance: RdVariance,
    /// RD: estimate and weights from the raw counts, variance from the corrected cells (RevMan 5).
    pub rd_raw_estimate: bool,
    /// Continuity correction of the CMH and M-H tests (metafor's `correct`).
    pub correct: bool,
}

impl Default for MhOptions {
    /// metafor's defaults.
    fn default() -> Self {
        MhOptions {
            sums: Correction {
                add: 0.0,
                to: AddTo::None,
            },
            drop00_sums: false,
            rd_variance: RdVariance::SGR,
            rd_raw_estimate: false,
            correct: true,
        }
    }
}

/// The tests `rma.mh` prints beside the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MhTests {
    /// Cochran–Mantel–Haenszel test (OR) or M-H test (IRR), df = 1.
    #[serde(rename = "MH")]
    pub mh: Option<f64>,
    #[serde(rename = "MH_p")]
    pub mh_p: Option<f64>,
    /// Cochran's version of the CMH test (N³ in the denominator), OR only.
    #[serde(rename = "CO")]
    pub co: Option<f64>,
    #[serde(rename = "CO_p")]
    pub co_p: Option<f64>,
    /// Breslow–Day and Tarone's tests of homogeneity of the ORs, df = `k_pos` − 1.
    #[serde(rename = "BD")]
    pub bd: Option<f64>,
    #[serde(rename = "BD_p")]
    pub bd_p: Option<f64>,
    #[serde(rename = "TA")]
    pub ta: Option<f64>,
    #[serde(rename = "TA_p")]
    pub ta_p: Option<f64>,
    pub k_pos: Option<usize>,
}

/// Cells of the sums: a 2×2 table (a, b, c, d) or rates (x1, t1, x2, t2), with the correction.
fn sum_cells(inputs: &[StudyInput], measure: Measure) -> Result<Vec<[f64; 4]>> {
    let mut cells = Vec::with_capacity(inputs.len());
    for input in inputs {
        match (*input, measure) {
            (StudyInput::Table2x2 { ai, bi, ci, di }, Measure::OR | Measure::RR | Measure::RD | Measure::PETO) => {
                cells.push([ai, bi, ci, di])
            }
            (StudyInput::Rates { x1i, t1i, x2i, t2i }, Measure::IRR | Measure::IRD) => cells.push([x1i, t1i, x2i, t2i]),
            _ => {
                return Err(Error::Usage(format!(
                    "{} pooling of {} needs {} for every study (a {} row cannot enter the sums); use inverse-variance pooling",
                    if measure == Measure::PETO {
                        "Peto"
                    } else {
                        "Mantel-Haenszel"
                    },
                    measure,
                    if matches!(measure, Measure::IRR | Measure::IRD) {
                        "events and person-time"
                    } else {
                        "2x2 tables"
                    },
                    input.kind()
                )))
            }
        }
    }
    Ok(cells)
}

fn is_rate(measure: Measure) -> bool {
    matches!(measure, Measure::IRR | Measure::IRD)
}

/// Apply the sums correction and the double-zero rule; `None` for a table left out.
fn corrected_cells(cells: &[[f64; 4]], measure: Measure, options: &MhOptions) -> Vec<Option<[f64; 4]>> {
    let rate = is_rate(measure);
    let double = |c: &[f64; 4]| {
        if rate {
            c[0] == 0.0 && c[2] == 0.0
        } else {
            (c[0] == 0.0 && c[2] == 0.0) || (c[1] == 0.0 && c[3] == 0.0)
        }
    };
    let zero = |c: &[f64; 4]| {
        if rate {
            c[0] == 0.0 || c[2] == 0.0
        } else {
            c.contains(&0.0)
        }
    };
    let kept: Vec<Option<[f64; 4]>> = cells
        .iter()
        .map(|c| {
            if options.drop00_sums && double(c) {
                None
            } else {
                Some(*c)
            }
        })
        .collect();
    let any_zero = kept.iter().flatten().any(zero);
    let Correction { add, to } = options.sums;
    kept.into_iter()
        .map(|c| {
            c.map(|c| {
                let apply = add != 0.0
                    && match to {
                        AddTo::All => true,
                        AddTo::Only0 => zero(&c),
                        AddTo::If0all => any_zero,
                        AddTo::None => false,
                    };
                if !apply {
                    c
                } else if rate {
                    [c[0] + add, c[1], c[2] + add, c[3]]
                } else {
                    [c[0] + add, c[1] + add, c[2] + add, c[3] + add]
                }
            })
        })
        .collect()
}

/// Q, its df and p, I² and H² of the study effect sizes around `beta` (inverse-variance weights;
/// studies with a non-finite yi or vi are left out).
fn heterogeneity(yi: &[f64], vi: &[f64], beta: f64) -> (f64, usize, f64, f64, f64) {
    let finite: Vec<(f64, f64)> = yi
        .iter()
        .zip(vi)
        .filter(|(y, v)| crate::effect::is_defined(**y, **v))
        .map(|(y, v)| (*y, *v))
        .collect();
    let k_yi = finite.len();
    if k_yi > 1 {
        let q = finite.iter().map(|(y, v)| (y - beta).powi(2) / v).sum::<f64>().max(0.0);
        let df = (k_yi - 1) as f64;
        (
            q,
            k_yi - 1,
            dist::pchisq_upper(q, df),
            (100.0 * (q - df) / q).max(0.0),
            q / df,
        )
    } else {
        (0.0, 0, 1.0, 0.0, 1.0)
    }
}

/// A fit of one pooled coefficient with z-based CI.
#[allow(clippy::too_many_arguments)]
fn fit_shape(
    beta: f64,
    se: f64,
    level: f64,
    k: usize,
    q: (f64, usize, f64, f64, f64),
    weights: Vec<f64>,
    yi: &[f64],
    vi: &[f64],
    pooling: Pooling,
    mh: Option<MhTests>,
) -> RmaFit {
    let crit = dist::critical(level, None);
    let zval = beta / se;
    RmaFit {
        options: RmaOptions {
            method: Method::EE,
            test: Test::Z,
            level,
            tau2_fixed: None,
            control: Control::default(),
        },
        test: Test::Z,
        k,
        p: 1,
        coefficients: vec![Coefficient {
            name: "intrcpt".into(),
            estimate: beta,
            se,
            zval,
            pval: dist::two_sided(zval, None),
            ci_lb: beta - crit * se,
            ci_ub: beta + crit * se,
        }],
        vb: vec![vec![se * se]],
        tau2: 0.0,
        iterations: 0,
        converged: true,
        convergence_note: None,
        q: q.0,
        q_df: q.1,
        q_p: q.2,
        i2: q.3,
        h2: q.4,
        vt: f64::NAN,
        qm: None,
        ddf: None,
        crit,
        s2w: 1.0,
        weights,
        yi: yi.to_vec(),
        vi: vi.to_vec(),
        x: intercept(yi.len()),
        pooling,
        mh,
        glmm: None,
    }
}

/// metafor `rma.mh(measure)` on `inputs` (2×2 tables for OR, RR, RD; rates for IRR, IRD), with
/// `yi`, `vi` the study effect sizes for Q (one per input; NaN where a study has none). The
/// weights are the M-H weights of the tables in the sums (0 for a table left out).
pub fn rma_mh(
    inputs: &[StudyInput],
    yi: &[f64],
    vi: &[f64],
    measure: Measure,
    level: f64,
    options: &MhOptions,
) -> Result<RmaFit> {
    if !matches!(
        measure,
        Measure::OR | Measure::RR | Measure::RD | Measure::IRR | Measure::IRD
    ) {
        return Err(Error::Usage(format!(
            "Mantel-Haenszel pooling is defined for OR, RR, RD, IRR and IRD, not {measure}; use inverse-variance pooling{}",
            match measure {
                Measure::PETO => " or Peto pooling of the OR",
                Measure::HR => " (a hazard ratio is pooled from its log and standard error: M-H needs event counts)",
                _ => "",
            }
        )));
    }
    let raw = sum_cells(inputs, measure)?;
    let cells = corrected_cells(&raw, measure, options);
    let k = cells.iter().flatten().count();
    if k == 0 {
        return Err(Error::Computation("no tables left for the Mantel-Haenszel sums".into()));
    }
    let undefined = |what: &str| Error::Computation(format!("the Mantel-Haenszel {measure} is not defined: {what}"));
    let mut w = vec![0.0; inputs.len()];
    let mut tests = None;
    let (beta, se) = match measure {
        Measure::OR => {
            let (mut r, mut s, mut pr, mut psqr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (i, c) in cells.iter().enumerate() {
                let Some([a, b, cc, d]) = *c else { continue };
                let n = a + b + cc + d;
                let (ri, si) = (a / n * d, b / n * cc);
                let (p, q) = (a / n + d / n, b / n + cc / n);
                r += ri;
                s += si;
                pr += p * ri;
                psqr += p * si + q * ri;
                qs += q * si;
                w[i] = si;
            }
            if r == 0.0 || s == 0.0 {
                return Err(undefined(
                    "no table has events in both the numerator and denominator sums",
                ));
            }
            let or = r / s;
            tests = Some(or_tests(&cells, or, options.correct));
            (or.ln(), (0.5 * (pr / (r * r) + psqr / (r * s) + qs / (s * s))).sqrt())
        }
        Measure::RR => {
            let (mut r, mut s, mut v, mut sa, mut sc) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (i, c) in cells.iter().enumerate() {
                let Some([a, b, cc, d]) = *c else { continue };
                let (n1, n2) = (a + b, cc + d);
                let n = n1 + n2;
                r += a * (n2 / n);
                s += cc * (n1 / n);
                v += (n1 / n) * (n2 / n) * (a + cc) - (a / n) * cc;
                sa += a;
                sc += cc;
                w[i] = cc / n * n1;
            }
            if sa == 0.0 || sc == 0.0 {
                return Err(undefined("no events in one of the groups"));
            }
            ((r / s).ln(), (v / (r * s)).sqrt())
        }
        Measure::RD => rd(&raw, &cells, options, &mut w),
        Measure::IRR => {
            let (mut r, mut s, mut v, mut s1, mut s2, mut num, mut den) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for (i, c) in cells.iter().enumerate() {
                let Some([x1, t1, x2, t2]) = *c else { continue };
                let t = t1 + t2;
                r += x1 * (t2 / t);
                s += x2 * (t1 / t);
                v += (t1 / t) * (t2 / t) * (x1 + x2);
                s1 += x1;
                s2 += x2;
                num += x1 - (x1 + x2) * (t1 / t);
                den += (x1 + x2) * (t1 / t) * (t2 / t);
                w[i] = x2 / t * t1;
            }
            if s1 == 0.0 || s2 == 0.0 {
                return Err(undefined("no events in one of the groups"));
            }
            let mh = (num.abs() - if options.correct { 0.5 } else { 0.0 }).powi(2) / den;
            tests = Some(MhTests {
                mh: Some(mh),
                mh_p: Some(dist::pchisq_upper(mh, 1.0)),
                co: None,
                co_p: None,
                bd: None,
                bd_p: None,
                ta: None,
                ta_p: None,
                k_pos: None,
            });
            ((r / s).ln(), (v / (r * s)).sqrt())
        }
        _ => {
            // IRD
            let (mut num, mut den, mut v) = (0.0, 0.0, 0.0);
            for (i, c) in cells.iter().enumerate() {
                let Some([x1, t1, x2, t2]) = *c else { continue };
                let t = t1 + t2;
                num += (x1 * t2 - x2 * t1) / t;
                den += (t1 / t) * t2;
                v += ((t1 / t) * t2).powi(2) * (x1 / (t1 * t1) + x2 / (t2 * t2));
                w[i] = t1 / t * t2;
            }
            (num / den, v.sqrt() / den)
        }
    };
    let sw: f64 = w.iter().sum();
    let weights = w.iter().map(|x| 100.0 * x / sw).collect();
    let q = heterogeneity(yi, vi, beta);
    Ok(fit_shape(beta, se, level, k, q, weights, yi, vi, Pooling::MH, tests))
}

/// M-H risk difference: estimate and standard error, filling the M-H weights `w`.
fn rd(raw: &[[f64; 4]], cells: &[Option<[f64; 4]>], options: &MhOptions, w: &mut [f64]) -> (f64, f64) {
    // The cells of the estimate and weights: raw counts (RevMan) or the corrected cells.
    let est_cells: Vec<Option<[f64; 4]>> = if options.rd_raw_estimate {
        cells.iter().zip(raw).map(|(c, r)| c.map(|_| *r)).collect()
    } else {
        cells.to_vec()
    };
    let (mut num, mut den) = (0.0, 0.0);
    for (i, c) in est_cells.iter().enumerate() {
        let Some([a, b, cc, d]) = *c else { continue };
        let (n1, n2) = (a + b, cc + d);
        let n = n1 + n2;
        num += a * (n2 / n) - cc * (n1 / n);
        den += n1 * (n2 / n);
        w[i] = n1 / n * n2;
    }
    let beta = num / den;
    // The variance from the (corrected) cells.
    let (mut s1, mut s2, mut dv) = (0.0, 0.0, 0.0);
    for c in cells.iter().flatten() {
        let [a, b, cc, d] = *c;
        let (n1, n2) = (a + b, cc + d);
        let n = n1 + n2;
        match options.rd_variance {
            RdVariance::SGR => {
                s1 += cc * (n1 / n).powi(2) - a * (n2 / n).powi(2) + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0;
                s2 += a * (n2 - cc) / n + cc * (n1 - a) / n;
            }
            RdVariance::GR => {
                s1 += (a * b * n2.powi(3) + cc * d * n1.powi(3)) / (n1 * n2 * n * n);
            }
        }
        dv += n1 * (n2 / n);
    }
    let var = match options.rd_variance {
        RdVariance::SGR => (beta * s1 + s2 / 2.0) / (dv * dv),
        RdVariance::GR => s1 / (dv * dv),
    };
    (beta, var.sqrt())
}

/// CMH (and Cochran's version), Breslow–Day and Tarone's tests for the M-H OR `or`.
fn or_tests(cells: &[Option<[f64; 4]>], or: f64, correct: bool) -> MhTests {
    let c = if correct { 0.5 } else { 0.0 };
    let (mut num, mut den_mh, mut den_co, mut sxt, mut syt) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for t in cells.iter().flatten() {
        let [a, b, cc, d] = *t;
        let (n1, n2) = (a + b, cc + d);
        let n = n1 + n2;
        let (xt, yt) = (a + cc, b + d);
        num += a - (n1 / n) * xt;
        den_co += (n1 / n) * (n2 / n) * (xt * (yt / n));
        den_mh += (n1 / n) * (n2 / n) * (xt * (yt / (n - 1.0)));
        sxt += xt;
        syt += yt;
    }
    let (mh, co) = if sxt == 0.0 || syt == 0.0 {
        (None, None)
    } else {
        (
            Some((num.abs() - c).powi(2) / den_mh),
            Some((num.abs() - c).powi(2) / den_co),
        )
    };
    // Breslow–Day: the fitted cell of each table under the common OR.
    let (mut bd, mut dev, mut var, mut k_pos) = (0.0, 0.0, 0.0, 0usize);
    for t in cells.iter().flatten() {
        let [a, b, cc, d] = *t;
        let (n1, n2) = (a + b, cc + d);
        let n = n1 + n2;
        let (xt, yt) = (a + cc, b + d);
        let n11 = if or == 1.0 {
            n1 / n * xt
        } else {
            let aa = or * (n1 + xt) + (n2 - xt);
            let bb = (aa * aa - 4.0 * n1 * xt * or * (or - 1.0)).sqrt();
            (aa - bb) / (2.0 * (or - 1.0))
        };
        if !(n11 > 0.0 && xt > 0.0 && yt > 0.0) {
            continue;
        }
        k_pos += 1;
        let (n12, n21) = (n1 - n11, xt - n11);
        let n22 = n11 - n1 - xt + n;
        let vi = 1.0 / (1.0 / n11 + 1.0 / n12 + 1.0 / n21 + 1.0 / n22);
        bd += (a - n11).powi(2) / vi;
        dev += a - n11;
        var += vi;
    }
    let bd = bd.max(0.0);
    let ta = (bd - dev * dev / var).max(0.0);
    let df = k_pos as f64 - 1.0;
    let p = |x: f64| {
        if k_pos > 1 {
            Some(dist::pchisq_upper(x, df))
        } else {
            None
        }
    };
    MhTests {
        mh,
        mh_p: mh.map(|x| dist::pchisq_upper(x, 1.0)),
        co,
        co_p: co.map(|x| dist::pchisq_upper(x, 1.0)),
        bd: Some(bd),
        bd_p: p(bd),
        ta: Some(ta),
        ta_p: p(ta),
        k_pos: Some(k_pos),
    }
}

/// metafor `rma.peto` on 2×2 tables; `yi` are the study Peto log ORs (their count of finite
/// values is the df + 1 of Q, as in metafor).
pub fn rma_peto(inputs: &[StudyInput], yi: &[f64], vi: &[f64], level: f64, options: &MhOptions) -> Result<RmaFit> {
    let raw = sum_cells(inputs, Measure::PETO)?;
    let cells = corrected_cells(&raw, Measure::PETO, options);
    let k = cells.iter().flatten().count();
    let (mut oe, mut sv, mut q1) = (0.0, 0.0, 0.0);
    let mut w = vec![0.0; inputs.len()];
    for (i, c) in cells.iter().enumerate() {
        let Some([a, b, cc, d]) = *c else { continue };
        let (n1, n2) = (a + b, cc + d);
        let n = n1 + n2;
        let (xt, yt) = (a + cc, b + d);
        let e = xt * n1 / n;
        let v = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0);
        oe += a - e;
        sv += v;
        if v > 0.0 {
            q1 += (a - e).powi(2) / v;
        }
        w[i] = v;
    }
    if !(sv > 0.0) {
        return Err(Error::Computation(
            "the Peto odds ratio is not defined: no table has events and non-events".into(),
        ));
    }
    let beta = oe / sv;
    let k_yi = yi.iter().filter(|y| y.is_finite()).count();
    let q = (q1 - oe * oe / sv).max(0.0);
    let het = if k_yi > 1 {
        let df = (k_yi - 1) as f64;
        (
            q,
            k_yi - 1,
            dist::pchisq_upper(q, df),
            (100.0 * (q - df) / q).max(0.0),
            q / df,
        )
    } else {
        (0.0, 0, 1.0, 0.0, 1.0)
    };
    let weights = w.iter().map(|x| 100.0 * x / sv).collect();
    Ok(fit_shape(
        beta,
        (1.0 / sv).sqrt(),
        level,
        k,
        het,
        weights,
        yi,
        vi,
        Pooling::PETO,
        None,
    ))
}

/// DerSimonian–Laird τ² from a Q computed around another estimate (RevMan's "M-H, random":
/// Q around the M-H estimate): max(0, (Q − df) / (Σw − Σw²/Σw)), w = 1/vi of the studies with a
/// finite yi.
pub fn tau2_dl_from_q(q: f64, q_df: usize, vi: &[f64], yi: &[f64]) -> f64 {
    let w: Vec<f64> = vi
        .iter()
        .zip(yi)
        .filter(|(v, y)| crate::effect::is_defined(**y, **v))
        .map(|(v, _)| 1.0 / v)
        .collect();
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|x| x * x).sum();
    ((q - q_df as f64) / (sw - sw2 / sw)).max(0.0)
}
