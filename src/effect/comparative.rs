//! Two-group and other effect sizes, as metafor 3.8.1's `escalc` computes them, from study inputs
//! of any kind ([`StudyInput`]); estimates given with their CI as metafor's `conv.wald` converts
//! them.
//!
//! Families and their formulas (a, b, c, d the cells of a 2×2 table after the continuity
//! correction; n1 = a + b, n2 = c + d, N = n1 + n2; p1 = a/n1, p2 = c/n2):
//!
//! | measure | yi | vi |
//! |---|---|---|
//! | OR | ln(ad/bc) | 1/a + 1/b + 1/c + 1/d |
//! | RR | ln(p1/p2) | 1/a − 1/n1 + 1/c − 1/n2 |
//! | RD | p1 − p2 | p1(1−p1)/n1 + p2(1−p2)/n2 (`LS`; `UB`: n − 1) |
//! | PETO | (a − E)/V, E = n1(a+c)/N, V = (a+c)(b+d)n1n2/(N²(N−1)) | 1/V |
//! | AS | asin√p1 − asin√p2 | 1/(4n1) + 1/(4n2) |
//! | MD | m1 − m2 | sd1²/n1 + sd2²/n2 (`LS`, `UB`); sp²(1/n1 + 1/n2) (`HO`) |
//! | SMD | J(m)·(m1 − m2)/sp, m = N − 2, exact J | `LS`: 1/n1 + 1/n2 + g²/(2N); `UB`: 1/n1 + 1/n2 + (1 − (m−2)/(m J²))g²; `LS2`: J²(1/n1 + 1/n2 + d²/(2N)); `REVMAN`: approximate J = 1 − 3/(4m − 1), 1/n1 + 1/n2 + g²/(2(N − 3.94)); `COHEN`: d itself (no J), 1/n1 + 1/n2 + d²/(2N) |
//! | SMDH | J(m)(m1 − m2)/s, s² = (sd1² + sd2²)/2 | J²[g²(sd1⁴/(n1−1) + sd2⁴/(n2−1))/(2(sd1² + sd2²)²) + (sd1²/(n1−1) + sd2²/(n2−1))/s²], with g the corrected estimate |
//! | ROM | ln(m1/m2) | sd1²/(n1 m1²) + sd2²/(n2 m2²) (no bias correction, as metafor < 5) |
//! | IRR | ln((x1/t1)/(x2/t2)) | 1/x1 + 1/x2 |
//! | IRD | x1/t1 − x2/t2 | x1/t1² + x2/t2² |
//! | COR | r | (1 − r²)²/(n − 1) |
//! | ZCOR | atanh r | 1/(n − 3) |
//! | GEN | yi | vi (or sei²) |
//! | HR | yi = ln(HR), given on the log scale or from a published HR and its CI | vi (or sei²) |
//!
//! Continuity correction (metafor's `add`, `to`, `drop00`): `add` is added to all four cells of
//! the tables selected by `to` (`only0`: tables with a zero cell; `all`; `if0all`: all tables if
//! any has a zero cell; `none`), for every binary measure (yi and vi both use the corrected
//! cells, as metafor does); for IRR and IRD it is added to both event counts of the studies with
//! a zero count. With `drop00`, tables with no events or only events in both groups (and rate
//! studies with no events in both groups) get no effect size. metafor's default is `add = 1/2`,
//! `to = "only0"`, except `add = 0` for AS.
//!
//! An estimate with its CI (natural scale, at its level) becomes yi = T(est) and
//! vi = ((T(ub) − T(lb)) / (2 z))², with T the measure's transformation (ln for ratios, atanh for
//! ZCOR) and z the normal quantile of the level. As metafor's `conv.wald`, a row is flagged when
//! T(est) lies more than 10% of the CI width from the CI's midpoint on that scale: the CI was
//! probably not computed on that scale, or the numbers were misread.

use serde::Serialize;

use super::{AddTo, Correction, EffectSizes, Measure};
use crate::data::StudyInput;
use crate::dist;

/// Sampling-variance formula (metafor's `vtype`), where the measure has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Vtype {
    /// Large-sample approximation (metafor's default).
    LS,
    /// Unbiased estimate (SMD: Hedges 1983; meta's `exact.smd = TRUE`).
    UB,
    /// SMD: Borenstein's form J²(1/n1 + 1/n2 + d²/(2N)).
    LS2,
    /// MD and ROM: pooled (homoscedastic) SD.
    HO,
    /// SMD as RevMan 5 computes it: approximate J and variance 1/n1 + 1/n2 + g²/(2(N − 3.94)).
    REVMAN,
    /// SMD as Cohen's d: no small-sample correction, variance 1/n1 + 1/n2 + d²/(2N) (R meta's
    /// `method.smd = "Cohen", exact.smd = FALSE`; Stata `metan`'s default `cohend`, whose variance
    /// formula is unverified).
    COHEN,
}

impl Vtype {
    pub fn as_str(self) -> &'static str {
        match self {
            Vtype::LS => "LS",
            Vtype::UB => "UB",
            Vtype::LS2 => "LS2",
            Vtype::HO => "HO",
            Vtype::REVMAN => "RevMan",
            Vtype::COHEN => "Cohen",
        }
    }
}

impl std::str::FromStr for Vtype {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "LS" => Ok(Vtype::LS),
            "UB" => Ok(Vtype::UB),
            "LS2" => Ok(Vtype::LS2),
            "HO" => Ok(Vtype::HO),
            "REVMAN" | "REVMAN5" => Ok(Vtype::REVMAN),
            "COHEN" => Ok(Vtype::COHEN),
            _ => Err(crate::Error::Usage(format!(
                "unknown sampling-variance type (metafor vtype) \"{s}\"; expected one of LS, UB, LS2, HO, RevMan, Cohen"
            ))),
        }
    }
}

/// Which cells of a 2×2 table the continuity correction changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CcTarget {
    /// `add` to all four cells (metafor, RevMan, Stata).
    AllCells,
    /// RR as meta computes it by default (`RR.Cochrane = FALSE`): `add` to the events and to the
    /// group sizes (a + add, n1 + add), the non-events unchanged.
    EventsAndN,
    /// The treatment-arm correction (Sweeting et al. 2004, meta's `incr = "TACC"`): n1/N·2·add
    /// to the cells of group 1 and n2/N·2·add to those of group 2 (with add = 1/2 these sum to 1).
    TreatmentArm,
}

impl std::str::FromStr for CcTarget {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "all" | "all-cells" => Ok(CcTarget::AllCells),
            "events-and-n" | "meta" => Ok(CcTarget::EventsAndN),
            "tacc" | "treatment-arm" => Ok(CcTarget::TreatmentArm),
            _ => Err(crate::Error::Usage(format!(
                "unknown continuity-correction target \"{s}\"; expected all-cells, events-and-n or tacc"
            ))),
        }
    }
}

/// What shapes the effect sizes of two-group measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EscalcOptions {
    pub correction: Correction,
    /// Give double-zero (and double-all) tables no effect size (metafor's `drop00`).
    pub drop00: bool,
    pub vtype: Vtype,
    /// Which cells the correction changes.
    pub cc_target: CcTarget,
    /// Whether yi is computed from the corrected cells (metafor's `addyi`, default true); with
    /// false only vi uses them (meta's RD, RevMan's RD).
    pub addyi: bool,
}

impl EscalcOptions {
    /// metafor 3.8.1's defaults for `measure`.
    pub fn default_for(measure: Measure) -> EscalcOptions {
        EscalcOptions {
            correction: Correction {
                add: if measure == Measure::AS { 0.0 } else { 0.5 },
                to: AddTo::Only0,
            },
            drop00: false,
            vtype: Vtype::LS,
            cc_target: CcTarget::AllCells,
            addyi: true,
        }
    }
}

/// The effect sizes of a set of studies, with what happened to each.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparative {
    pub es: EffectSizes,
    /// Rows given no effect size by `drop00` (yi and vi are NaN there).
    pub dropped: Vec<bool>,
    /// Estimate-with-CI rows whose estimate is off the CI's midpoint on the analysis scale
    /// (metafor `conv.wald`'s check).
    pub midpoint_flag: Vec<bool>,
}

/// metafor's small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)); NaN for m ≤ 1.
pub fn cmi(m: f64) -> f64 {
    if m <= 1.0 {
        return f64::NAN;
    }
    (libm::lgamma(m / 2.0) - (m / 2.0).sqrt().ln() - libm::lgamma((m - 1.0) / 2.0)).exp()
}

/// The measure's transformation of a natural-scale value (ln for ratios, HR included; atanh for
/// ZCOR).
pub fn to_analysis_scale(measure: Measure, x: f64) -> f64 {
    if measure.is_ratio() {
        x.ln()
    } else if measure == Measure::ZCOR {
        x.atanh()
    } else {
        x
    }
}

fn has_zero(ai: f64, bi: f64, ci: f64, di: f64) -> bool {
    ai == 0.0 || bi == 0.0 || ci == 0.0 || di == 0.0
}

fn is_double(ai: f64, bi: f64, ci: f64, di: f64) -> bool {
    (ai == 0.0 && ci == 0.0) || (bi == 0.0 && di == 0.0)
}

/// Effect sizes of `inputs` for `measure`. An input of a kind the measure cannot use, or one for
/// which the effect size is not defined (e.g. SMD with fewer than 3 patients, ZCOR with n ≤ 3,
/// ROM with a non-positive mean), is an error: (position, message).
pub fn escalc_inputs(
    measure: Measure,
    inputs: &[StudyInput],
    options: &EscalcOptions,
) -> std::result::Result<Comparative, (usize, String)> {
    let k = inputs.len();
    let Correction { add, to } = options.correction;
    // Which rows are dropped and which get the correction.
    let mut dropped = vec![false; k];
    let mut zero = vec![false; k];
    for (i, input) in inputs.iter().enumerate() {
        match *input {
            StudyInput::Table2x2 { ai, bi, ci, di } => {
                dropped[i] = options.drop00 && is_double(ai, bi, ci, di);
                zero[i] = !dropped[i] && has_zero(ai, bi, ci, di);
            }
            StudyInput::Rates { x1i, x2i, .. } => {
                dropped[i] = options.drop00 && x1i == 0.0 && x2i == 0.0;
                zero[i] = !dropped[i] && (x1i == 0.0 || x2i == 0.0);
            }
            _ => {}
        }
    }
    let any_zero = zero.iter().any(|&z| z);
    let correct = |i: usize| {
        add != 0.0
            && !dropped[i]
            && match to {
                AddTo::Only0 => zero[i],
                AddTo::All => true,
                AddTo::If0all => any_zero,
                AddTo::None => false,
            }
    };
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    let mut ni = Vec::with_capacity(k);
    let mut corrected = Vec::with_capacity(k);
    let mut midpoint_flag = vec![false; k];
    for (i, input) in inputs.iter().enumerate() {
        let wrong = || {
            Err((
                i,
                format!(
                    "a {} row cannot give the measure {} ({})",
                    input.kind(),
                    measure,
                    measure.describe()
                ),
            ))
        };
        let mut applied = false;
        let (y, v, n) = match *input {
            StudyInput::Table2x2 { ai, bi, ci, di } => {
                if measure.family() != super::Family::Binary {
                    return wrong();
                }
                if dropped[i] {
                    (f64::NAN, f64::NAN, ai + bi + ci + di)
                } else {
                    applied = correct(i);
                    let [a, b, c, d] = if applied {
                        corrected_table(ai, bi, ci, di, add, options.cc_target)
                    } else {
                        [ai, bi, ci, di]
                    };
                    let (y, v) = binary(measure, a, b, c, d, options.vtype);
                    let y = if options.addyi || !applied {
                        y
                    } else {
                        binary(measure, ai, bi, ci, di, options.vtype).0
                    };
                    (y, v, ai + bi + ci + di)
                }
            }
            StudyInput::Means {
                m1i,
                sd1i,
                n1i,
                m2i,
                sd2i,
                n2i,
            } => {
                if measure.family() != super::Family::Continuous {
                    return wrong();
                }
                let (y, v) = continuous(measure, m1i, sd1i, n1i, m2i, sd2i, n2i, options.vtype).map_err(|m| (i, m))?;
                (y, v, n1i + n2i)
            }
            StudyInput::Rates { x1i, t1i, x2i, t2i } => {
                if measure.family() != super::Family::Rate {
                    return wrong();
                }
                if dropped[i] {
                    (f64::NAN, f64::NAN, f64::NAN)
                } else {
                    applied = correct(i);
                    let c = if applied { add } else { 0.0 };
                    let (x1, x2) = (x1i + c, x2i + c);
                    let (r1, r2) = (x1 / t1i, x2 / t2i);
                    match measure {
                        Measure::IRR => (r1.ln() - r2.ln(), 1.0 / x1 + 1.0 / x2, f64::NAN),
                        _ => (r1 - r2, r1 / t1i + r2 / t2i, f64::NAN),
                    }
                }
            }
            StudyInput::Correlation { ri, ni: n } => {
                if measure.family() != super::Family::Correlation {
                    return wrong();
                }
                match measure {
                    Measure::COR => {
                        if n <= 1.0 {
                            return Err((i, format!("n = {n} is too small for COR (at least 2)")));
                        }
                        (ri, (1.0 - ri * ri).powi(2) / (n - 1.0), n)
                    }
                    _ => {
                        if n <= 3.0 {
                            return Err((
                                i,
                                format!("n = {n} is too small for ZCOR (the variance 1/(n − 3) needs n ≥ 4)"),
                            ));
                        }
                        if ri.abs() == 1.0 {
                            return Err((i, format!("r = {ri}: Fisher's z is infinite")));
                        }
                        (ri.atanh(), 1.0 / (n - 3.0), n)
                    }
                }
            }
            StudyInput::Generic { yi, vi } => {
                if measure.family() != super::Family::Generic {
                    return wrong();
                }
                (yi, vi, f64::NAN)
            }
            StudyInput::EstimateCi {
                est,
                ci_lb,
                ci_ub,
                level,
            } => {
                if measure.is_proportion() {
                    return wrong();
                }
                if measure.is_ratio() && !(ci_lb > 0.0) {
                    return Err((
                        i,
                        format!(
                            "a {} and its CI must be positive on the natural scale (got {est}, {ci_lb} to {ci_ub}); \
                             give the ratio itself, not its logarithm",
                            measure.natural_name()
                        ),
                    ));
                }
                if measure == Measure::ZCOR && !(ci_lb > -1.0 && ci_ub < 1.0) {
                    return Err((
                        i,
                        format!("a correlation CI must lie within (-1, 1), got {ci_lb} to {ci_ub}"),
                    ));
                }
                let (t, lb, ub) = (
                    to_analysis_scale(measure, est),
                    to_analysis_scale(measure, ci_lb),
                    to_analysis_scale(measure, ci_ub),
                );
                let z = dist::critical(level, None);
                let se = (ub - lb) / (2.0 * z);
                midpoint_flag[i] = (t - (lb + ub) / 2.0).abs() > 0.1 * (ub - lb);
                (t, se * se, f64::NAN)
            }
            StudyInput::Proportion { .. } => return wrong(),
        };
        yi.push(y);
        vi.push(v);
        ni.push(n);
        corrected.push(applied);
    }
    Ok(Comparative {
        es: EffectSizes {
            measure,
            yi,
            vi,
            ni,
            corrected,
        },
        dropped,
        midpoint_flag,
    })
}

/// The cells of a 2×2 table after adding `add` by `target`.
pub fn corrected_table(ai: f64, bi: f64, ci: f64, di: f64, add: f64, target: CcTarget) -> [f64; 4] {
    match target {
        CcTarget::AllCells => [ai + add, bi + add, ci + add, di + add],
        // a + add and n1 + add: the non-events b = n1 − a stay as they are.
        CcTarget::EventsAndN => [ai + add, bi, ci + add, di],
        CcTarget::TreatmentArm => {
            let (n1, n2) = (ai + bi, ci + di);
            let (k1, k2) = (2.0 * add * n1 / (n1 + n2), 2.0 * add * n2 / (n1 + n2));
            [ai + k1, bi + k1, ci + k2, di + k2]
        }
    }
}

/// yi and vi of a 2×2 table whose cells are already corrected.
fn binary(measure: Measure, a: f64, b: f64, c: f64, d: f64, vtype: Vtype) -> (f64, f64) {
    let (n1, n2) = (a + b, c + d);
    let (p1, p2) = (a / n1, c / n2);
    match measure {
        Measure::OR => (
            (p1 / (1.0 - p1)).ln() - (p2 / (1.0 - p2)).ln(),
            1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        ),
        Measure::RR => (p1.ln() - p2.ln(), 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2),
        Measure::RD => {
            let (m1, m2) = if vtype == Vtype::UB {
                (n1 - 1.0, n2 - 1.0)
            } else {
                (n1, n2)
            };
            (p1 - p2, p1 * (1.0 - p1) / m1 + p2 * (1.0 - p2) / m2)
        }
        Measure::PETO => {
            let n = n1 + n2;
            let (xt, yt) = (a + c, b + d);
            let e = xt * n1 / n;
            let v = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0);
            ((a - e) / v, 1.0 / v)
        }
        // AS
        _ => (p1.sqrt().asin() - p2.sqrt().asin(), 1.0 / (4.0 * n1) + 1.0 / (4.0 * n2)),
    }
}

#[allow(clippy::too_many_arguments)]
fn continuous(
    measure: Measure,
    m1: f64,
    sd1: f64,
    n1: f64,
    m2: f64,
    sd2: f64,
    n2: f64,
    vtype: Vtype,
) -> std::result::Result<(f64, f64), String> {
    let n = n1 + n2;
    let m = n - 2.0;
    let sp = (((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / m).sqrt();
    match measure {
        Measure::MD => {
            let v = if vtype == Vtype::HO {
                sp * sp * (1.0 / n1 + 1.0 / n2)
            } else {
                sd1 * sd1 / n1 + sd2 * sd2 / n2
            };
            Ok((m1 - m2, v))
        }
        Measure::SMD => {
            if m <= 1.0 {
                return Err(format!(
                    "n1i + n2i = {n} is too small for SMD (the small-sample correction needs at least 4 patients)"
                ));
            }
            if !(sp > 0.0) {
                return Err("both SDs are 0: the standardized mean difference is not defined".into());
            }
            let d = (m1 - m2) / sp;
            Ok(match vtype {
                Vtype::REVMAN => {
                    let j = 1.0 - 3.0 / (4.0 * m - 1.0);
                    let g = j * d;
                    (g, 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n - 3.94)))
                }
                Vtype::COHEN => (d, 1.0 / n1 + 1.0 / n2 + d * d / (2.0 * n)),
                _ => {
                    let j = cmi(m);
                    let g = j * d;
                    let v = match vtype {
                        Vtype::UB => 1.0 / n1 + 1.0 / n2 + (1.0 - (m - 2.0) / (m * j * j)) * g * g,
                        Vtype::LS2 => j * j * (1.0 / n1 + 1.0 / n2 + d * d / (2.0 * n)),
                        _ => 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * n),
                    };
                    (g, v)
                }
            })
        }
        Measure::SMDH => {
            if m <= 1.0 || n1 <= 1.0 || n2 <= 1.0 {
                return Err(format!(
                    "n1i = {n1}, n2i = {n2} are too small for SMDH (at least 2 per group)"
                ));
            }
            let s2 = (sd1 * sd1 + sd2 * sd2) / 2.0;
            if !(s2 > 0.0) {
                return Err("both SDs are 0: the standardized mean difference is not defined".into());
            }
            let j = cmi(m);
            let g = j * (m1 - m2) / s2.sqrt();
            let (q1, q2) = (sd1 * sd1, sd2 * sd2);
            let v = g * g * (q1 * q1 / (n1 - 1.0) + q2 * q2 / (n2 - 1.0)) / (2.0 * (q1 + q2).powi(2))
                + (q1 / (n1 - 1.0) + q2 / (n2 - 1.0)) / s2;
            Ok((g, j * j * v))
        }
        // ROM
        _ => {
            if !(m1 > 0.0 && m2 > 0.0) {
                return Err(format!(
                    "ROM needs positive means (got {m1} and {m2}): the log ratio of means is not defined"
                ));
            }
            let v = if vtype == Vtype::HO {
                sp * sp / (n1 * m1 * m1) + sp * sp / (n2 * m2 * m2)
            } else {
                sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2)
            };
            Ok(((m1 / m2).ln(), v))
        }
    }
}
