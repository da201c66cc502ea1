//! RevMan 5 review files re-pooled by RevMan 5's own rules, and every stored number checked.
//!
//! Each outcome and each of its subgroups is pooled with the method the file states, using the
//! model code of [`crate::model`] with these settings (comparative.md §7):
//!
//! - 2×2 tables with a zero cell get 0.5 in all four cells, for the study effect sizes and inside
//!   the M-H sums and weights; double-zero tables are not estimable for OR and RR (weight 0) but
//!   are kept for RD; RD takes its estimate and M-H weights from the raw counts and only its
//!   (Greenland–Robins) variance from the corrected cells; Peto uses no correction;
//! - M-H and Peto random effects: DerSimonian–Laird τ² from Q around the M-H (Peto) estimate with
//!   inverse-variance weights, then an inverse-variance pool with weights 1/(v + τ²); IV random
//!   effects: DerSimonian–Laird;
//! - SMD is RevMan's Hedges' g (approximate J, variance 1/n1 + 1/n2 + g²/(2(N − 3.94))); MD has
//!   the unpooled variance; generic IV rows are their estimate and SE (ln scale with `LOG_DATA`);
//! - CIs use z = qnorm(1 − α/2) at `CI_TOTAL` (pooled) and `CI_STUDY` (studies); I² = (Q − df)/Q;
//! - `TOTALS="SUB"`: the outcome's estimate is the inverse-variance mean of its subgroup
//!   estimates; the subgroup-difference test is Q of the subgroup estimates around that mean
//!   (df = estimable subgroups − 1).
//!
//! Compared: estimate, CI, Z, P, τ², I², Chi², df, P(Chi²) of every outcome and subgroup, the
//! subgroup test (Q, P, I²), and each study's effect, CI and weight. Tolerances: 1e-6 relative
//! (1e-10 absolute near zero) for everything but p-values, which RevMan approximates: 1e-6
//! absolute. RevMan's artefacts are reported, not copied: I² = 100 (and P(Chi²) = 0) for a
//! single-study pool whose Chi² is a rounding residue, and p-values off the exact ones.
//!
//! Beyond RevMan, every pooled analysis also gets REML and REML with Hartung–Knapp, and whether
//! its CI's crossing of the null changes.

use serde::Serialize;

use crate::data::revman::{DataType, Outcome, Review, RmMeasure, RmMethod, Row, RowData, Stored, Totals};
use crate::data::StudyInput;
use crate::dist;
use crate::effect::comparative::{escalc_inputs, CcTarget, EscalcOptions, Vtype};
use crate::effect::{AddTo, Correction, Measure};
use crate::error::{Error, Result};
use crate::model::comparative::fit_inputs;
use crate::model::{rma, Method, MhOptions, PoolOptions, Pooling, RdVariance, RmaOptions, Test};

/// Relative tolerance of the comparisons (estimate, CI, Z, τ², I², Chi², weights).
pub const REL_TOL: f64 = 1e-6;
/// Absolute floor of the relative tolerance near zero.
pub const ABS_FLOOR: f64 = 1e-10;
/// Absolute tolerance of p-values.
pub const P_TOL: f64 = 1e-6;

/// Pooled numbers on RevMan's scale (ratios for OR, RR, Peto OR and log-scale generic data).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Numbers {
    pub estimate: Option<f64>,
    pub ci_lb: Option<f64>,
    pub ci_ub: Option<f64>,
    pub z: Option<f64>,
    pub p: Option<f64>,
    pub tau2: Option<f64>,
    #[serde(rename = "I2")]
    pub i2: Option<f64>,
    #[serde(rename = "Q")]
    pub q: Option<f64>,
    #[serde(rename = "Q_df")]
    pub q_df: Option<f64>,
    #[serde(rename = "Q_p")]
    pub q_p: Option<f64>,
}

/// The subgroup-difference test.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct TestNumbers {
    #[serde(rename = "Q")]
    pub q: Option<f64>,
    pub df: Option<f64>,
    pub p: Option<f64>,
    #[serde(rename = "I2")]
    pub i2: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StudyNumbers {
    pub effect: Option<f64>,
    pub ci_lb: Option<f64>,
    pub ci_ub: Option<f64>,
    pub weight: Option<f64>,
}

/// One number that does not match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// e.g. "ci_lb", "Q_p", "subgroup_test.Q", "study \"MRC-1\" weight".
    pub what: String,
    pub recomputed: Option<f64>,
    pub revman: Option<f64>,
    pub abs_diff: Option<f64>,
    pub rel_diff: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyCheck {
    pub study: String,
    pub study_id: String,
    pub year: Option<String>,
    pub estimable: bool,
    pub recomputed: StudyNumbers,
    pub revman: StudyNumbers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Reproduced,
    Differs,
    NotEstimable,
    /// RevMan stored no pooled numbers (not calculated, or `TOTALS="NO"`).
    NoStoredResults,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Differs => "differs",
            Verdict::NotEstimable => "not estimable",
            Verdict::NoStoredResults => "no stored results",
        }
    }
}

/// One model's result beyond RevMan (on RevMan's scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alternative {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub tau2: f64,
    pub p: f64,
    pub ci_crosses_null: bool,
}

/// The analysis under today's defaults: REML (metafor, meta) and REML with Hartung–Knapp.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Beyond {
    pub revman_ci_crosses_null: bool,
    pub reml: Option<Alternative>,
    pub reml_hk: Option<Alternative>,
    /// Whether the CI's crossing of the null differs from RevMan's under REML or REML-HK.
    pub null_crossing_changes: bool,
    /// In words: "unchanged", "REML-HK CI now includes the null", ...
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisCheck {
    pub id: String,
    /// `None` for the outcome itself, else the subgroup's number.
    pub subgroup: Option<u32>,
    pub subgroup_name: Option<String>,
    pub comparison: String,
    pub name: String,
    pub data_type: &'static str,
    pub method: &'static str,
    pub measure: String,
    /// "fixed" or "random".
    pub model: &'static str,
    pub totals: &'static str,
    /// Study rows and estimable rows.
    pub k: usize,
    pub k_estimable: usize,
    pub recomputed: Numbers,
    pub revman: Numbers,
    /// Outcome level with subgroups: the subgroup-difference test.
    pub subgroup_test: Option<SubgroupTestCheck>,
    pub verdict: Verdict,
    pub differences: Vec<Difference>,
    /// RevMan artefacts found (reported, not copied).
    pub artefacts: Vec<String>,
    pub notes: Vec<String>,
    pub studies: Vec<StudyCheck>,
    pub beyond: Option<Beyond>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SubgroupTestCheck {
    pub recomputed: TestNumbers,
    pub revman: TestNumbers,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewInfo {
    pub file: String,
    pub title: String,
    pub id: String,
    pub doi: Option<String>,
    pub revman_version: Option<String>,
    pub encoding: String,
    pub conventions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub analyses: usize,
    /// Analyses with stored results (the denominator of "N of M reproduced").
    pub checked: usize,
    pub reproduced: usize,
    pub differs: usize,
    pub not_estimable: usize,
    pub no_stored_results: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewCheck {
    pub review: ReviewInfo,
    pub analyses: Vec<AnalysisCheck>,
    /// Estimates printed in the review's abstract and results text, matched to the analyses and
    /// checked at their printed precision ([`super::revman_text`]).
    pub text_claims: Vec<super::revman_text::TextClaim>,
    pub summary: Summary,
}

/// The conventions, as the outputs name them.
pub const CONVENTIONS: &str = "RevMan 5 rules: CC 0.5 to all cells of tables with a zero (also inside the M-H sums); \
double-zero tables not estimable for OR/RR, kept for RD; RD estimate and weights from raw counts, Greenland-Robins \
variance from corrected cells; random effects DerSimonian-Laird (M-H/Peto: Q around the M-H/Peto estimate); SMD = \
Hedges' g with approximate J; z = qnorm(1 - alpha/2); TOTALS=SUB: IV mean of subgroup estimates; ratios on the \
ratio scale; tolerances 1e-6 relative (p-values 1e-6 absolute)";

/// A pool of one set of rows, on the analysis (log for ratios) scale.
#[derive(Debug, Clone)]
struct Pool {
    beta: f64,
    se: f64,
    tau2: f64,
    q: f64,
    q_df: usize,
    /// Study effect sizes and variances (NaN where not estimable) and weights (%).
    yi: Vec<f64>,
    vi: Vec<f64>,
    weights: Vec<f64>,
    k_estimable: usize,
}

fn measure_of(m: &RmMeasure) -> Measure {
    match m {
        RmMeasure::RR => Measure::RR,
        RmMeasure::OR => Measure::OR,
        RmMeasure::RD => Measure::RD,
        RmMeasure::PetoOr => Measure::PETO,
        RmMeasure::MD => Measure::MD,
        RmMeasure::SMD => Measure::SMD,
        RmMeasure::Generic { .. } => Measure::GEN,
    }
}

/// The model inputs of a row (2×2 table, means, or yi/vi).
pub fn input_of(o: &Outcome, r: &Row) -> StudyInput {
    match r.data {
        RowData::Dich {
            events_1,
            total_1,
            events_2,
            total_2,
        } => {
            let (a, c) = if o.swap_events {
                (total_1 - events_1, total_2 - events_2)
            } else {
                (events_1, events_2)
            };
            StudyInput::Table2x2 {
                ai: a,
                bi: total_1 - a,
                ci: c,
                di: total_2 - c,
            }
        }
        RowData::Cont {
            mean_1,
            sd_1,
            total_1,
            mean_2,
            sd_2,
            total_2,
        } => StudyInput::Means {
            m1i: mean_1,
            sd1i: sd_1,
            n1i: total_1,
            m2i: mean_2,
            sd2i: sd_2,
            n2i: total_2,
        },
        RowData::Iv { estimate, se } => StudyInput::Generic {
            yi: estimate,
            vi: se * se,
        },
    }
}

/// The pooling options that encode RevMan 5's rules for `o` (see the module documentation).
pub fn revman_options(o: &Outcome) -> PoolOptions {
    let measure = measure_of(&o.measure);
    let peto = measure == Measure::PETO;
    let cc = if peto {
        Correction {
            add: 0.0,
            to: AddTo::None,
        }
    } else {
        Correction {
            add: 0.5,
            to: AddTo::Only0,
        }
    };
    PoolOptions {
        measure,
        correction: cc,
        method: if o.random { Method::DL } else { Method::EE },
        test: Test::Z,
        level: o.ci_total / 100.0,
        drop00: matches!(measure, Measure::OR | Measure::RR),
        vtype: if measure == Measure::SMD {
            Vtype::REVMAN
        } else {
            Vtype::LS
        },
        cc_target: CcTarget::AllCells,
        addyi: measure != Measure::RD,
        pooling: match o.method {
            RmMethod::MH => Pooling::MH,
            RmMethod::IV => Pooling::IV,
            RmMethod::PETO => Pooling::PETO,
        },
        mh: MhOptions {
            sums: cc,
            drop00_sums: matches!(measure, Measure::OR | Measure::RR),
            rd_variance: RdVariance::GR,
            rd_raw_estimate: true,
            correct: true,
        },
        ..PoolOptions::default()
    }
}

/// Pool `rows` of `o` by RevMan's rules; `Err(reason)` when not estimable.
fn pool_rows(o: &Outcome, rows: &[&Row]) -> std::result::Result<Pool, String> {
    pool_with(o, rows, &revman_options(o))
}

/// The pooled numbers of `rows` of `o` with other settings than RevMan's (e.g. to show what a
/// rule changes); `Err(reason)` when not estimable.
pub fn repool(o: &Outcome, rows: &[&Row], opts: &PoolOptions) -> std::result::Result<Numbers, String> {
    let mut o2 = o.clone();
    o2.random = !opts.method.is_common();
    pool_with(&o2, rows, opts).map(|p| numbers_of(&o2, &p))
}

fn pool_with(o: &Outcome, rows: &[&Row], opts: &PoolOptions) -> std::result::Result<Pool, String> {
    let opts = *opts;
    let inputs: Vec<StudyInput> = rows.iter().map(|r| input_of(o, r)).collect();
    if inputs.is_empty() {
        return Err("no study rows".into());
    }
    let eo = EscalcOptions {
        correction: opts.correction,
        drop00: opts.drop00,
        vtype: opts.vtype,
        cc_target: opts.cc_target,
        addyi: opts.addyi,
    };
    let comp =
        escalc_inputs(opts.measure, &inputs, &eo).map_err(|(i, m)| format!("study \"{}\": {m}", rows[i].study))?;
    let es = comp.es;
    let k_estimable = (0..es.k()).filter(|&i| es.is_defined(i)).count();
    if k_estimable == 0 {
        return Err("no study has an estimable effect".into());
    }
    let set = fit_inputs(&inputs, &es, &opts, None).map_err(|e| e.to_string())?;
    let c = &set.main.coefficients[0];
    if !(c.estimate.is_finite() && c.se.is_finite() && c.se > 0.0) {
        return Err("the pooled estimate is not defined".into());
    }
    // Weights (%) of the reported model; 0 for studies without an effect size.
    let weights = set
        .weights
        .iter()
        .enumerate()
        .map(|(i, w)| if es.is_defined(i) { *w } else { 0.0 })
        .collect();
    Ok(Pool {
        beta: c.estimate,
        se: c.se,
        tau2: if o.random { set.main.tau2 } else { 0.0 },
        q: set.main.q,
        q_df: set.main.q_df,
        yi: es.yi,
        vi: es.vi,
        weights,
        k_estimable,
    })
}

fn back(o: &Outcome, x: f64) -> f64 {
    if o.measure.is_ratio() {
        x.exp()
    } else {
        x
    }
}

fn numbers_of(o: &Outcome, p: &Pool) -> Numbers {
    let z = dist::critical(o.ci_total / 100.0, None);
    let zval = p.beta / p.se;
    let df = p.q_df as f64;
    let i2 = if p.q > 0.0 && p.q_df > 0 {
        (100.0 * (p.q - df) / p.q).max(0.0)
    } else {
        0.0
    };
    Numbers {
        estimate: Some(back(o, p.beta)),
        ci_lb: Some(back(o, p.beta - z * p.se)),
        ci_ub: Some(back(o, p.beta + z * p.se)),
        z: Some(zval.abs()),
        p: Some(dist::two_sided(zval, None)),
        tau2: Some(p.tau2),
        i2: Some(i2),
        q: Some(p.q),
        q_df: Some(df),
        q_p: if p.q_df > 0 {
            Some(dist::pchisq_upper(p.q, df))
        } else {
            None
        },
    }
}

fn stored_numbers(s: &Stored) -> Numbers {
    Numbers {
        estimate: s.effect_size,
        ci_lb: s.ci_start,
        ci_ub: s.ci_end,
        z: s.z.map(f64::abs),
        p: s.p_z,
        tau2: s.tau2,
        i2: s.i2,
        q: s.chi2,
        q_df: s.df,
        q_p: s.p_chi2,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= REL_TOL * a.abs().max(b.abs()) + ABS_FLOOR
}

fn diff(what: String, rec: Option<f64>, rm: Option<f64>) -> Difference {
    let (abs, rel) = match (rec, rm) {
        (Some(a), Some(b)) => {
            let d = (a - b).abs();
            (Some(d), Some(if b != 0.0 { d / b.abs() } else { f64::INFINITY }))
        }
        _ => (None, None),
    };
    Difference {
        what,
        recomputed: rec,
        revman: rm,
        abs_diff: abs,
        rel_diff: rel,
    }
}

/// Compare `rec` with `rm` field by field, into `diffs` and `artefacts`.
fn compare_numbers(
    prefix: &str,
    rec: &Numbers,
    rm: &Numbers,
    skip_heterogeneity: bool,
    diffs: &mut Vec<Difference>,
    artefacts: &mut Vec<String>,
) {
    let rel = [
        ("estimate", rec.estimate, rm.estimate),
        ("ci_lb", rec.ci_lb, rm.ci_lb),
        ("ci_ub", rec.ci_ub, rm.ci_ub),
        ("z", rec.z, rm.z),
    ];
    let het = [
        ("tau2", rec.tau2, rm.tau2),
        ("I2", rec.i2, rm.i2),
        ("Q", rec.q, rm.q),
        ("Q_df", rec.q_df, rm.q_df),
    ];
    let single = rec.q_df == Some(0.0);
    for (name, a, b) in rel
        .into_iter()
        .chain(if skip_heterogeneity { vec![] } else { het.to_vec() })
    {
        let (Some(a), Some(b)) = (a, b) else { continue };
        if name == "I2" && single && b == 100.0 && rm.q.is_some_and(|q| q.abs() < 1e-8) {
            artefacts.push(format!(
                "{prefix}I2 = 100 stored for a single-study pool whose Chi2 is a rounding residue ({:e}); the I2 is 0",
                rm.q.unwrap_or(0.0)
            ));
            continue;
        }
        if name == "tau2" && b.is_nan() {
            continue;
        }
        if !close(a, b) {
            diffs.push(diff(format!("{prefix}{name}"), Some(a), Some(b)));
        }
    }
    let ps = [("p", rec.p, rm.p, false), ("Q_p", rec.q_p, rm.q_p, true)];
    for (name, a, b, is_het) in ps {
        if is_het && (skip_heterogeneity || single) {
            continue;
        }
        let (Some(a), Some(b)) = (a, b) else { continue };
        let d = (a - b).abs();
        if d > P_TOL {
            diffs.push(diff(format!("{prefix}{name}"), Some(a), Some(b)));
        } else if d > 1e-9 {
            artefacts.push(format!(
                "{prefix}{name}: RevMan stored {b:e}, the exact value is {a:e} (RevMan's p-values are approximations; within {P_TOL:e})"
            ));
        }
    }
}

fn study_checks(
    o: &Outcome,
    rows: &[&Row],
    pool: Option<&Pool>,
    compare_weights: bool,
    diffs: &mut Vec<Difference>,
) -> Vec<StudyCheck> {
    let z = dist::critical(o.ci_study / 100.0, None);
    let mut out = Vec::new();
    // Study effects without a pool (e.g. every other study not estimable) still come from escalc.
    for (i, r) in rows.iter().enumerate() {
        let (y, v, w) = match pool {
            Some(p) => (p.yi[i], p.vi[i], Some(p.weights[i])),
            None => (f64::NAN, f64::NAN, None),
        };
        let estimable = crate::effect::is_defined(y, v);
        let rec = if estimable {
            StudyNumbers {
                effect: Some(back(o, y)),
                ci_lb: Some(back(o, y - z * v.sqrt())),
                ci_ub: Some(back(o, y + z * v.sqrt())),
                weight: w,
            }
        } else {
            StudyNumbers {
                weight: w.map(|_| 0.0),
                ..Default::default()
            }
        };
        let rm = StudyNumbers {
            effect: r.effect_size,
            ci_lb: r.ci_start,
            ci_ub: r.ci_end,
            weight: if compare_weights { r.weight } else { None },
        };
        let label = format!("study \"{}\" ", r.study);
        if estimable && r.estimable != Some(false) {
            for (name, a, b) in [
                ("effect", rec.effect, rm.effect),
                ("ci_lb", rec.ci_lb, rm.ci_lb),
                ("ci_ub", rec.ci_ub, rm.ci_ub),
            ] {
                if let (Some(a), Some(b)) = (a, b) {
                    if !close(a, b) {
                        diffs.push(diff(format!("{label}{name}"), Some(a), Some(b)));
                    }
                }
            }
        }
        if let (Some(a), Some(b)) = (rec.weight, rm.weight) {
            if !close(a, b) {
                diffs.push(diff(format!("{label}weight"), Some(a), Some(b)));
            }
        }
        if r.estimable == Some(false) && estimable {
            diffs.push(diff(format!("{label}estimable (RevMan: no)"), Some(1.0), Some(0.0)));
        } else if r.estimable == Some(true) && !estimable && pool.is_some() {
            diffs.push(diff(format!("{label}estimable (RevMan: yes)"), Some(0.0), Some(1.0)));
        }
        out.push(StudyCheck {
            study: r.study.clone(),
            study_id: r.study_id.clone(),
            year: r.year.clone(),
            estimable,
            recomputed: rec,
            revman: rm,
        });
    }
    out
}

fn crosses(lb: f64, ub: f64, ratio: bool) -> bool {
    let null = if ratio { 1.0 } else { 0.0 };
    lb <= null && null <= ub
}

fn beyond(o: &Outcome, p: &Pool, rec: &Numbers) -> Option<Beyond> {
    let idx: Vec<usize> = (0..p.yi.len())
        .filter(|&i| crate::effect::is_defined(p.yi[i], p.vi[i]))
        .collect();
    let (lb, ub) = (rec.ci_lb?, rec.ci_ub?);
    let ratio = o.measure.is_ratio();
    let base = crosses(lb, ub, ratio);
    let yi: Vec<f64> = idx.iter().map(|&i| p.yi[i]).collect();
    let vi: Vec<f64> = idx.iter().map(|&i| p.vi[i]).collect();
    let fit = |test: Test| -> Option<Alternative> {
        if yi.len() < 2 {
            return None;
        }
        let f = rma(
            &yi,
            &vi,
            &RmaOptions {
                method: Method::REML,
                test,
                level: o.ci_total / 100.0,
                ..RmaOptions::default()
            },
        )
        .ok()?;
        let c = &f.coefficients[0];
        let (l, u) = (back(o, c.ci_lb), back(o, c.ci_ub));
        Some(Alternative {
            estimate: back(o, c.estimate),
            ci_lb: l,
            ci_ub: u,
            tau2: f.tau2,
            p: c.pval,
            ci_crosses_null: crosses(l, u, ratio),
        })
    };
    let reml = fit(Test::Z);
    let hk = fit(Test::Knha);
    let mut changes = Vec::new();
    for (name, a) in [("REML", &reml), ("REML-HK", &hk)] {
        if let Some(a) = a {
            if a.ci_crosses_null != base {
                changes.push(format!(
                    "{name} CI now {} the null",
                    if a.ci_crosses_null { "includes" } else { "excludes" }
                ));
            }
        }
    }
    Some(Beyond {
        revman_ci_crosses_null: base,
        null_crossing_changes: !changes.is_empty(),
        change: if reml.is_none() && hk.is_none() {
            "not computed (fewer than 2 estimable studies)".into()
        } else if changes.is_empty() {
            "unchanged".into()
        } else {
            changes.join("; ")
        },
        reml,
        reml_hk: hk,
    })
}

/// Whether RevMan stored a pooled estimate (not absent, not marked not estimable, not the
/// all-zero fields RevMan writes for a pool it could not compute).
fn stored_estimate(s: &Stored) -> bool {
    s.has_results()
        && s.estimable != Some(false)
        && !(s.effect_size == Some(0.0) && s.ci_start.unwrap_or(0.0) == 0.0 && s.ci_end.unwrap_or(0.0) == 0.0)
}

fn verdict_of(s: &Stored, recomputed: Option<f64>, diffs: &mut Vec<Difference>) -> Verdict {
    let stored = stored_estimate(s);
    // RevMan marked the pool not estimable (or stored only zeros).
    let revman_not = s.estimable == Some(false) || (s.has_results() && !stored);
    match (recomputed.is_some(), stored) {
        (false, false) => Verdict::NotEstimable,
        (false, true) => {
            diffs.insert(
                0,
                diff(
                    "estimable (RevMan stored a pooled estimate; recomputed: not estimable)".into(),
                    None,
                    s.effect_size,
                ),
            );
            Verdict::Differs
        }
        (true, false) if revman_not => {
            diffs.insert(
                0,
                diff(
                    "estimable (RevMan: not estimable; recomputed: estimable)".into(),
                    recomputed,
                    None,
                ),
            );
            Verdict::Differs
        }
        (true, false) => Verdict::NoStoredResults,
        (true, true) if diffs.is_empty() => Verdict::Reproduced,
        (true, true) => Verdict::Differs,
    }
}

fn check_outcome(cmp_name: &str, o: &Outcome) -> Vec<AnalysisCheck> {
    let model = if o.random { "random" } else { "fixed" };
    let method = if o.data_type == DataType::Dich {
        o.method.as_str()
    } else {
        "IV"
    };
    let totals = match o.totals {
        Totals::Yes => "YES",
        Totals::Sub => "SUB",
        Totals::No => "NO",
    };
    let base = |subgroup: Option<u32>, subgroup_name: Option<String>| AnalysisCheck {
        id: o.id.clone(),
        subgroup,
        subgroup_name,
        comparison: cmp_name.to_string(),
        name: o.name.clone(),
        data_type: o.data_type.as_str(),
        method,
        measure: o.measure.label(),
        model,
        totals,
        k: 0,
        k_estimable: 0,
        recomputed: Numbers::default(),
        revman: Numbers::default(),
        subgroup_test: None,
        verdict: Verdict::NotEstimable,
        differences: vec![],
        artefacts: vec![],
        notes: vec![],
        studies: vec![],
        beyond: None,
    };
    let mut out = Vec::new();
    // Subgroups first (their pools feed the outcome level with TOTALS=SUB and the test).
    let mut sub_pools: Vec<Option<Pool>> = Vec::new();
    for s in &o.subgroups {
        let rows: Vec<&Row> = s.rows.iter().collect();
        let mut a = base(Some(s.no), Some(s.name.clone()));
        a.k = rows.len();
        let pool = pool_rows(o, &rows);
        a.revman = stored_numbers(&s.stored);
        let mut diffs = Vec::new();
        match &pool {
            Ok(p) => {
                a.k_estimable = p.k_estimable;
                a.recomputed = numbers_of(o, p);
                if stored_estimate(&s.stored) {
                    compare_numbers("", &a.recomputed, &a.revman, false, &mut diffs, &mut a.artefacts);
                }
                a.beyond = beyond(o, p, &a.recomputed);
            }
            Err(m) => a.notes.push(format!("not estimable: {m}")),
        }
        a.studies = study_checks(o, &rows, pool.as_ref().ok(), o.totals != Totals::Yes, &mut diffs);
        a.verdict = verdict_of(&s.stored, a.recomputed.estimate.filter(|_| pool.is_ok()), &mut diffs);
        a.differences = diffs;
        sub_pools.push(pool.ok());
        out.push(a);
    }
    // The outcome itself.
    let mut a = base(None, None);
    let rows = o.all_rows();
    a.k = rows.len();
    a.revman = stored_numbers(&o.stored);
    let mut diffs = Vec::new();
    let mut rec_ok = false;
    // Estimable subgroups: (estimate, variance) on the analysis scale.
    let sub_est: Vec<(f64, f64)> = sub_pools.iter().flatten().map(|p| (p.beta, p.se * p.se)).collect();
    match o.totals {
        Totals::Sub if !o.subgroups.is_empty() => {
            a.notes.push(
                "TOTALS=SUB: the estimate is the inverse-variance mean of the subgroup estimates; the outcome's \
                 heterogeneity statistics are not compared"
                    .into(),
            );
            if !sub_est.is_empty() {
                let y: Vec<f64> = sub_est.iter().map(|e| e.0).collect();
                let v: Vec<f64> = sub_est.iter().map(|e| e.1).collect();
                let ee = RmaOptions {
                    method: Method::EE,
                    level: o.ci_total / 100.0,
                    ..RmaOptions::default()
                };
                if let Ok(f) = rma(&y, &v, &ee) {
                    let c = &f.coefficients[0];
                    let p = Pool {
                        beta: c.estimate,
                        se: c.se,
                        tau2: 0.0,
                        q: 0.0,
                        q_df: 0,
                        yi: vec![],
                        vi: vec![],
                        weights: vec![],
                        k_estimable: sub_pools.iter().flatten().map(|p| p.k_estimable).sum(),
                    };
                    let n = numbers_of(o, &p);
                    a.recomputed = Numbers {
                        tau2: None,
                        i2: None,
                        q: None,
                        q_df: None,
                        q_p: None,
                        ..n
                    };
                    a.k_estimable = p.k_estimable;
                    rec_ok = true;
                    if stored_estimate(&o.stored) {
                        compare_numbers("", &a.recomputed, &a.revman, true, &mut diffs, &mut a.artefacts);
                    }
                }
            }
        }
        Totals::No => {
            a.notes
                .push("TOTALS=NO: RevMan pools only the subgroups; nothing is stored for the outcome".into());
        }
        _ => match pool_rows(o, &rows) {
            Ok(p) => {
                rec_ok = true;
                a.k_estimable = p.k_estimable;
                a.recomputed = numbers_of(o, &p);
                if stored_estimate(&o.stored) {
                    compare_numbers("", &a.recomputed, &a.revman, false, &mut diffs, &mut a.artefacts);
                }
                a.beyond = beyond(o, &p, &a.recomputed);
                a.studies = study_checks(o, &rows, Some(&p), true, &mut diffs);
            }
            Err(m) => {
                a.notes.push(format!("not estimable: {m}"));
                a.studies = study_checks(o, &rows, None, false, &mut diffs);
            }
        },
    }
    // The subgroup-difference test.
    if !o.subgroups.is_empty() && o.subgroup_test {
        let rec = if sub_est.len() >= 2 {
            let y: Vec<f64> = sub_est.iter().map(|e| e.0).collect();
            let v: Vec<f64> = sub_est.iter().map(|e| e.1).collect();
            let ee = RmaOptions {
                method: Method::EE,
                ..RmaOptions::default()
            };
            rma(&y, &v, &ee).ok().map(|f| {
                let df = (sub_est.len() - 1) as f64;
                TestNumbers {
                    q: Some(f.q),
                    df: Some(df),
                    p: Some(dist::pchisq_upper(f.q, df)),
                    i2: Some(if f.q > 0.0 {
                        (100.0 * (f.q - df) / f.q).max(0.0)
                    } else {
                        0.0
                    }),
                }
            })
        } else {
            None
        };
        let rm = TestNumbers {
            q: o.stored_test.q,
            df: None,
            p: o.stored_test.p_q,
            i2: o.stored_test.i2_q,
        };
        if let Some(rec) = rec {
            for (name, x, y, is_p) in [
                ("Q", rec.q, rm.q, false),
                ("I2", rec.i2, rm.i2, false),
                ("P", rec.p, rm.p, true),
            ] {
                let (Some(x), Some(y)) = (x, y) else { continue };
                let bad = if is_p { (x - y).abs() > P_TOL } else { !close(x, y) };
                if bad {
                    diffs.push(diff(format!("subgroup_test.{name}"), Some(x), Some(y)));
                }
            }
            a.subgroup_test = Some(SubgroupTestCheck {
                recomputed: rec,
                revman: rm,
            });
        } else {
            a.notes.push("subgroup test: fewer than 2 estimable subgroups".into());
        }
    }
    a.verdict = if o.totals == Totals::No {
        if diffs.is_empty() {
            Verdict::NoStoredResults
        } else {
            Verdict::Differs
        }
    } else {
        verdict_of(&o.stored, a.recomputed.estimate.filter(|_| rec_ok), &mut diffs)
    };
    a.differences = diffs;
    // The outcome first, then its subgroups.
    out.insert(0, a);
    out
}

/// Re-pool and check every analysis of a review.
pub fn verify_review(review: &Review) -> ReviewCheck {
    use rayon::prelude::*;
    // Outcomes are independent: checked in parallel, kept in file order.
    let outcomes: Vec<(&str, &Outcome)> = review
        .comparisons
        .iter()
        .flat_map(|c| c.outcomes.iter().map(move |o| (c.name.as_str(), o)))
        .collect();
    let analyses: Vec<AnalysisCheck> = outcomes
        .par_iter()
        .map(|(c, o)| check_outcome(c, o))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let count = |v: Verdict| analyses.iter().filter(|a| a.verdict == v).count();
    let (reproduced, differs, not_estimable, no_stored) = (
        count(Verdict::Reproduced),
        count(Verdict::Differs),
        count(Verdict::NotEstimable),
        count(Verdict::NoStoredResults),
    );
    let checked = reproduced + differs;
    let mut text = format!("{reproduced} of {checked} analyses reproduced");
    let mut extra = Vec::new();
    if differs > 0 {
        extra.push(format!("{differs} differ"));
    }
    if not_estimable > 0 {
        extra.push(format!("{not_estimable} not estimable"));
    }
    if no_stored > 0 {
        extra.push(format!("{no_stored} with no stored results"));
    }
    if !extra.is_empty() {
        text.push_str(&format!(" ({})", extra.join(", ")));
    }
    ReviewCheck {
        review: ReviewInfo {
            file: review.file.display().to_string(),
            title: review.title.clone(),
            id: review.review_id.clone(),
            doi: review.doi.clone(),
            revman_version: review
                .revman_sub_version
                .clone()
                .or_else(|| review.revman_version.clone()),
            encoding: review.encoding.clone(),
            conventions: CONVENTIONS.into(),
        },
        summary: Summary {
            analyses: analyses.len(),
            checked,
            reproduced,
            differs,
            not_estimable,
            no_stored_results: no_stored,
            text,
        },
        text_claims: super::revman_text::check_texts(&review.texts, &analyses),
        analyses,
    }
}

impl ReviewCheck {
    /// Analyses that differ.
    pub fn problems(&self) -> usize {
        self.summary.differs
    }

    /// The JSON contract.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }

    /// A table for the terminal.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let r = &self.review;
        s.push_str(&format!(
            "RevMan review: {} ({}{}, {})\n",
            if r.title.is_empty() { "untitled" } else { &r.title },
            r.file,
            r.revman_version
                .as_deref()
                .map(|v| format!(", RevMan {v}"))
                .unwrap_or_default(),
            r.encoding
        ));
        s.push_str(&format!("conventions: {}\n\n", r.conventions));
        s.push_str(&format!(
            "{:<12} {:>3}  {:<40} {:<24} {:>3}  {:<34} {}\n",
            "ID", "sg", "analysis", "method", "k", "recomputed [CI]", "verdict"
        ));
        for a in &self.analyses {
            let name = if let Some(n) = &a.subgroup_name {
                format!("  {n}")
            } else {
                a.name.clone()
            };
            let name: String = name.chars().take(40).collect();
            let est = match (a.recomputed.estimate, a.recomputed.ci_lb, a.recomputed.ci_ub) {
                (Some(e), Some(l), Some(u)) => format!("{} [{}, {}]", g(e), g(l), g(u)),
                _ => "-".into(),
            };
            s.push_str(&format!(
                "{:<12} {:>3}  {:<40} {:<24} {:>3}  {:<34} {}\n",
                a.id,
                a.subgroup.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                name,
                format!("{} {} {}", a.method, a.measure, a.model),
                a.k,
                est,
                a.verdict.as_str()
            ));
            for d in &a.differences {
                s.push_str(&format!(
                    "    differs: {}: recomputed {}, RevMan {}{}\n",
                    d.what,
                    d.recomputed.map(g).unwrap_or_else(|| "-".into()),
                    d.revman.map(g).unwrap_or_else(|| "-".into()),
                    match (d.abs_diff, d.rel_diff) {
                        (Some(x), Some(r)) => format!(" (|diff| {x:.3e}, relative {r:.3e})"),
                        _ => String::new(),
                    }
                ));
            }
            for x in &a.artefacts {
                s.push_str(&format!("    artefact: {x}\n"));
            }
            for x in &a.notes {
                s.push_str(&format!("    note: {x}\n"));
            }
            if let Some(t) = &a.subgroup_test {
                let r = &t.recomputed;
                s.push_str(&format!(
                    "    subgroup differences: Chi2 = {}, df = {}, P = {}, I2 = {}% (RevMan: Chi2 = {}, P = {}, I2 = {}%)\n",
                    r.q.map(g).unwrap_or_else(|| "-".into()),
                    r.df.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                    r.p.map(g).unwrap_or_else(|| "-".into()),
                    r.i2.map(g).unwrap_or_else(|| "-".into()),
                    t.revman.q.map(g).unwrap_or_else(|| "-".into()),
                    t.revman.p.map(g).unwrap_or_else(|| "-".into()),
                    t.revman.i2.map(g).unwrap_or_else(|| "-".into()),
                ));
            }
            if let Some(b) = &a.beyond {
                if b.null_crossing_changes {
                    let ci = |x: &Option<Alternative>| match x {
                        Some(x) => format!("{} [{}, {}]", g(x.estimate), g(x.ci_lb), g(x.ci_ub)),
                        None => "-".into(),
                    };
                    s.push_str(&format!(
                        "    beyond RevMan: REML {}, REML-HK {}: {}\n",
                        ci(&b.reml),
                        ci(&b.reml_hk),
                        b.change
                    ));
                }
            }
        }
        if !self.text_claims.is_empty() {
            s.push_str("\nEstimates in the review's text:\n");
            for c in &self.text_claims {
                s.push_str(&format!("  {}\n", super::revman_text::claim_line(c)));
            }
        }
        s.push_str(&format!("\n{}\n", self.summary.text));
        s
    }
}

/// A number with 6 significant digits.
fn g(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let dec = (5 - mag).clamp(0, 10) as usize;
    format!("{x:.dec$}")
}

/// Read and check a `.rm5` file.
pub fn verify_file(path: &std::path::Path) -> Result<ReviewCheck> {
    let review = crate::data::revman_csv::read_review(path)?;
    if review.comparisons.is_empty() {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "the review has no analyses (no COMPARISON under ANALYSES_AND_DATA)".into(),
        });
    }
    Ok(verify_review(&review))
}
