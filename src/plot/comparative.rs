//! Forest plots of two-group and other effect measures (OR, RR, RD, PETO, AS, MD, SMD, ROM, IRR,
//! IRD, COR, ZCOR, GEN), laid out as Cochrane readers know them from RevMan:
//!
//! ```text
//!                      BCG           Control                 Risk Ratio              Risk Ratio
//! Study            Events  Total  Events  Total  Weight  M-H, Random, 95% CI    M-H, Random, 95% CI
//! Aronson 1948          4    123      11    139    5.0%   0.41 [0.13, 1.26]       ──■──┼
//! …                                                                                    │
//! Common effect model 1065 191064  1510 166283           0.64 [0.59, 0.69]           ◆ │
//! Random effects model                           100.0%   0.49 [0.34, 0.70]          ◆  │
//! Heterogeneity: Tau² = 0.31; Chi² = 152.57, df = 12 (P < 0.00001); I² = 92%  ├──┼──┼──┼──┤
//! Test for overall effect: common Z = 11.53 (…); random Z = 3.99 (…)         0.05 0.2 1 5 20
//!                                                                 Favours group 1  Favours group 2
//! Random effects model: …; intervals are 95% confidence intervals; conventions (footnotes)
//! ```
//!
//! Per-arm columns come from each study's input (events and totals of a 2×2 table, mean/SD/N,
//! events and person-time; a correlation's N; a generic effect size and its SE); rows given as an
//! estimate with its CI show the printed values and blank arm cells; rows left without an effect
//! size show "Not estimable". Ratios are drawn on a log axis (positions log10 of the ratio, ticks
//! labelled with ratios, chosen to fit the plot width from 0.01 … 100), symmetric about the null
//! line at 1; differences on a linear axis symmetric about 0. Every number comes from the
//! [`PoolResult`]; the heterogeneity and test lines are printed as RevMan prints them.

use std::path::Path;

use super::axis::{self, Tick};
use super::figure::{Anchor, Figure, Item, Role, Shape};
use super::forest::{level_label, study_order, ForestOptions, Weights};
use super::table::{self, AxisSpec, Column, Geometry, Mark, Row, RowKind, Table};
use super::{font, write_figure};
use crate::data::StudyInput;
use crate::error::{Error, Result};
use crate::model::{Method, PoolResult, Pooled, Pooling, StudyRow, SubgroupTest, Test};
use crate::report::fmt_num;

/// Tick candidates of a ratio axis: the powers of ten first, then 5 and 2 multiples (in pairs
/// symmetric about 1).
const RATIO_TICKS: &[(f64, f64)] = &[
    (1.0, 1.0),
    (0.1, 10.0),
    (0.01, 100.0),
    (0.5, 2.0),
    (0.2, 5.0),
    (0.05, 20.0),
    (0.02, 50.0),
];

/// Half-widths (as ratios c: the axis runs from 1/c to c) a ratio axis may take.
const RATIO_SPANS: &[f64] = &[2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

/// Smallest space between two tick labels (px).
const TICK_LABEL_GAP: f64 = 6.0;

/// The per-arm data a plot shows: which input kind gives the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arms {
    /// Events and totals of two groups.
    Counts,
    /// Mean, SD and N of two groups.
    Means,
    /// Events and person-time of two groups.
    Rates,
    /// One N per study (correlations).
    Size,
    /// An effect size on the analysis scale and its SE (generic inverse variance).
    Generic,
    /// No arm data (only estimates with CIs).
    None,
}

impl Arms {
    /// The arm columns of one study row.
    fn of(input: &StudyInput) -> Arms {
        match input {
            StudyInput::Table2x2 { .. } => Arms::Counts,
            StudyInput::Means { .. } => Arms::Means,
            StudyInput::Rates { .. } => Arms::Rates,
            StudyInput::Correlation { .. } => Arms::Size,
            StudyInput::Generic { .. } => Arms::Generic,
            StudyInput::Proportion { .. } | StudyInput::EstimateCi { .. } => Arms::None,
        }
    }

    /// The arm columns of a plot: those of its first study with arm data.
    fn of_result(res: &PoolResult) -> Arms {
        res.studies
            .iter()
            .filter_map(|s| s.input.as_ref().map(Arms::of))
            .find(|a| *a != Arms::None)
            .unwrap_or(Arms::None)
    }

    /// Column headers of one arm (of the single set for `Size` and `Generic`).
    fn headers(self, res: &PoolResult) -> Vec<String> {
        let s = |x: &str| x.to_string();
        match self {
            Arms::Counts => vec![s("Events"), s("Total")],
            Arms::Means => vec![s("Mean"), s("SD"), s("Total")],
            Arms::Rates => vec![s("Events"), s("Time")],
            Arms::Size => vec![s("Total")],
            Arms::Generic => {
                let y = if res.measure.is_ratio() {
                    format!("log[{}]", res.measure.as_str())
                } else {
                    res.measure.as_str().to_string()
                };
                vec![y, s("SE")]
            }
            Arms::None => vec![],
        }
    }

    /// Whether the columns come in two sets (group 1, group 2).
    fn two_groups(self) -> bool {
        matches!(self, Arms::Counts | Arms::Means | Arms::Rates)
    }

    /// Number of arm columns in all.
    fn width(self, res: &PoolResult) -> usize {
        let n = self.headers(res).len();
        if self.two_groups() {
            2 * n
        } else {
            n
        }
    }
}

/// Decimals of the arm columns: counts none; means, SDs and person-time as many as the most
/// precise value of their column needs (up to 3), so that a column prints alike.
fn arm_decimals(arms: Arms, res: &PoolResult) -> Vec<usize> {
    let mut dm = 0usize;
    let mut dsd = 0usize;
    let mut dt = 0usize;
    let d = |v: f64| axis::decimals_of(v).min(3);
    for s in &res.studies {
        match s.input {
            Some(StudyInput::Means {
                m1i, sd1i, m2i, sd2i, ..
            }) => {
                dm = dm.max(d(m1i)).max(d(m2i));
                dsd = dsd.max(d(sd1i)).max(d(sd2i));
            }
            Some(StudyInput::Rates { t1i, t2i, .. }) => dt = dt.max(d(t1i)).max(d(t2i)),
            _ => {}
        }
    }
    match arms {
        Arms::Means => vec![dm, dsd, 0, dm, dsd, 0],
        Arms::Rates => vec![0, dt, 0, dt],
        Arms::Generic => vec![4, 4],
        Arms::Counts => vec![0; 4],
        Arms::Size => vec![0],
        Arms::None => vec![],
    }
}

/// The arm cells of one study (blank where the row has no data of the plot's kind), with the
/// columns' decimals `dec`.
fn arm_cells(arms: Arms, input: Option<&StudyInput>, dec: &[usize]) -> Vec<String> {
    let values: Vec<f64> = match input {
        Some(i) if Arms::of(i) == arms => i.arm_values(),
        _ => vec![],
    };
    if values.len() == dec.len() {
        values.iter().zip(dec).map(|(&v, &d)| fmt_num(v, d)).collect()
    } else {
        vec![String::new(); dec.len()]
    }
}

/// The arm cells of a pooled row: the sums of the arms' events, totals (and person-time) of the
/// studies `idx`.
fn arm_totals(arms: Arms, res: &PoolResult, idx: &[usize], dec: &[usize]) -> Vec<String> {
    // The columns that add up: counts, group sizes and person-time (not means, SDs or yi).
    let summed: &[usize] = match arms {
        Arms::Counts | Arms::Rates => &[0, 1, 2, 3],
        Arms::Means => &[2, 5],
        Arms::Size => &[0],
        Arms::Generic | Arms::None => &[],
    };
    let mut sums = vec![0.0f64; dec.len()];
    let mut any = false;
    for s in idx.iter().filter_map(|&i| res.studies[i].input.as_ref()) {
        if Arms::of(s) != arms {
            continue;
        }
        let values = s.arm_values();
        for &j in summed {
            sums[j] += values[j];
        }
        any = true;
    }
    let mut cells = vec![String::new(); dec.len()];
    if any {
        for &j in summed {
            cells[j] = fmt_num(sums[j], dec[j]);
        }
    }
    cells
}

/// A p-value as RevMan prints it: `P = 0.25`, `P = 0.008`, `P = 0.0002`, `P < 0.00001`.
pub fn revman_p(p: f64) -> String {
    if p.is_nan() {
        return "P = NA".into();
    }
    if p < 1e-5 {
        return "P < 0.00001".into();
    }
    let decimals = if p < 0.01 { (-p.log10()).ceil() as usize } else { 2 };
    format!("P = {}", fmt_num(p, decimals))
}

/// `Heterogeneity: Tau² = 0.04; Chi² = 4.12, df = 3 (P = 0.25); I² = 27%` (no τ² for a
/// common-effect model; "Not applicable" for one study).
pub fn heterogeneity_line(f: &Pooled, random: bool) -> String {
    if f.fit.k < 2 || !f.fit.q.is_finite() {
        return "Heterogeneity: Not applicable".into();
    }
    let tau = if random {
        format!("Tau\u{b2} = {}; ", fmt_num(f.fit.tau2, 2))
    } else {
        String::new()
    };
    format!(
        "Heterogeneity: {tau}Chi\u{b2} = {}, df = {} ({}); I\u{b2} = {}%",
        fmt_num(f.fit.q, 2),
        f.fit.q_df,
        revman_p(f.fit.q_p),
        fmt_num(f.fit.i2, 0)
    )
}

/// The statistic of a fit's test for the overall effect: `Z = 2.40 (P = 0.02)`.
fn effect_test(f: &Pooled) -> String {
    let stat = if f.fit.test == Test::Z { "Z" } else { "t" };
    format!(
        "{stat} = {} ({})",
        fmt_num(f.coef().zval.abs(), 2),
        revman_p(f.coef().pval)
    )
}

/// `Test for overall effect: Z = 2.40 (P = 0.02)`.
pub fn overall_effect_line(f: &Pooled) -> String {
    format!("Test for overall effect: {}", effect_test(f))
}

/// `Test for overall effect: common Z = 2.40 (P = 0.02); random Z = 1.90 (P = 0.06)`.
fn both_effects_line(common: &Pooled, random: &Pooled) -> String {
    format!(
        "Test for overall effect: common {}; random {}",
        effect_test(common),
        effect_test(random)
    )
}

/// `Test for subgroup differences: Chi² = 1.23, df = 2 (P = 0.54), I² = 0%`.
pub fn subgroup_line(t: &SubgroupTest) -> String {
    let kind = if t.kind == "common_tau2" {
        " (common \u{3c4}\u{b2})"
    } else {
        ""
    };
    match t.df2 {
        Some(df2) => format!(
            "Test for subgroup differences{kind}: F = {}, df = ({}, {df2}) ({})",
            fmt_num(t.q, 2),
            t.df,
            revman_p(t.p)
        ),
        None => {
            let i2 = if t.q > t.df as f64 && t.q > 0.0 {
                100.0 * (t.q - t.df as f64) / t.q
            } else {
                0.0
            };
            format!(
                "Test for subgroup differences{kind}: Chi\u{b2} = {}, df = {} ({}), I\u{b2} = {}%",
                fmt_num(t.q, 2),
                t.df,
                revman_p(t.p),
                fmt_num(i2, 1)
            )
        }
    }
}

/// RevMan's short name of the pooling: `M-H`, `IV`, `Peto`.
fn pooling_abbr(p: Pooling) -> &'static str {
    match p {
        Pooling::MH => "M-H",
        Pooling::IV => "IV",
        Pooling::PETO => "Peto",
    }
}

/// The header of the effect columns: `M-H, Random, 95% CI`.
pub fn method_header(res: &PoolResult) -> String {
    format!(
        "{}, {}, {} CI",
        pooling_abbr(res.pooling),
        if res.method.is_common() { "Fixed" } else { "Random" },
        level_label(res.level)
    )
}

/// "Odds ratio" → "Odds Ratio" (RevMan's headers).
fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The model of the figure in words (the first footnote).
pub fn model_words(res: &PoolResult) -> String {
    let common = match res.pooling {
        Pooling::MH => "Mantel-Haenszel",
        Pooling::PETO => "Peto's one-step odds ratio",
        Pooling::IV => "inverse variance",
    };
    let tau = |s: &str| s.replace("tau^2", "\u{3c4}\u{b2}");
    if res.method.is_common() {
        return format!("Common effect model: {common}.");
    }
    let random = match (&res.overall.model_note, res.method) {
        (Some(n), _) => tau(n),
        (None, Method::GLMM) => "generalized linear mixed model".into(),
        (None, m) => format!("inverse variance, \u{3c4}\u{b2} by {m}"),
    };
    let mut s = format!("Random effects model: {random}.");
    if res.common.is_some() {
        s.push_str(&format!(" Common effect model: {common}."));
    }
    s
}

/// What the figure needs beyond its [`Table`].
struct Parts {
    table: Table,
    /// Spans (first, last left column) of the group headers to centre, and the effect header's.
    centred: Vec<(usize, usize)>,
    /// Header lines over the plot column: (measure name, method).
    plot_header: (String, String),
    favours: (String, String),
    /// Position of the null line on the axis.
    null: f64,
    footnotes: Vec<String>,
}

/// Axis limits, ticks and null position for the values (natural scale) of the plot.
fn axis_of(values: &[f64], ratio: bool, opts: &ForestOptions) -> Result<(f64, f64, Vec<Tick>)> {
    let st = &opts.style;
    let label_w = |v: f64| font::text_width(&fmt_num(v, axis::decimals_of(v)), st.font, false);
    if ratio {
        let (lo, hi) = match opts.xlim {
            Some((a, b)) => {
                if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a) {
                    return Err(Error::Usage(format!(
                        "axis limits of a ratio must be two increasing positive numbers, got {a} and {b}"
                    )));
                }
                (a.log10(), b.log10())
            }
            None => {
                let m = values
                    .iter()
                    .filter(|v| v.is_finite() && **v > 0.0)
                    .map(|v| v.log10().abs())
                    .fold(0.0f64, f64::max);
                let c = RATIO_SPANS
                    .iter()
                    .copied()
                    .find(|c| c.log10() >= m - 1e-9)
                    .unwrap_or(100.0);
                (-c.log10(), c.log10())
            }
        };
        // Greedy: the most important ticks first, each pair only where both labels fit.
        let px = |at: f64| (at - lo) / (hi - lo) * st.plot_width;
        let mut ticks: Vec<Tick> = Vec::new();
        for &(a, b) in RATIO_TICKS {
            let pair: Vec<f64> = if a == b { vec![a] } else { vec![a, b] };
            let inside: Vec<f64> = pair
                .into_iter()
                .filter(|v| v.log10() >= lo - 1e-9 && v.log10() <= hi + 1e-9)
                .collect();
            let fits = |v: f64| {
                ticks.iter().all(|t| {
                    let need = (label_w(v) + label_w(t.value)) / 2.0 + TICK_LABEL_GAP;
                    (px(v.log10()) - px(t.at)).abs() >= need
                })
            };
            if !inside.is_empty() && inside.iter().all(|&v| fits(v)) {
                for v in inside {
                    ticks.push(Tick {
                        at: v.log10(),
                        value: v,
                        decimals: axis::decimals_of(v),
                    });
                }
            }
        }
        ticks.sort_by(|a, b| a.at.total_cmp(&b.at));
        Ok((lo, hi, ticks))
    } else {
        match opts.xlim {
            Some((a, b)) => {
                if !(a.is_finite() && b.is_finite() && b > a) {
                    return Err(Error::Usage(format!(
                        "axis limits must be two increasing numbers, got {a} and {b}"
                    )));
                }
                let step = axis::nice_step(b - a, 4);
                Ok((a, b, axis::ticks_between(a, b, step)))
            }
            None => {
                let m = values
                    .iter()
                    .filter(|v| v.is_finite())
                    .map(|v| v.abs())
                    .fold(0.0f64, f64::max);
                let m = if m > 0.0 { m } else { 1.0 };
                let step = axis::nice_step(m, 2);
                let hi = (m / step - 1e-9).ceil() * step;
                Ok((-hi, hi, axis::ticks_between(-hi, hi, step)))
            }
        }
    }
}

fn build(res: &PoolResult, opts: &ForestOptions) -> Result<Parts> {
    if res.studies.is_empty() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let rm = opts.revman.as_ref();
    let ratio = res.measure.is_ratio() || rm.is_some_and(|r| r.log_axis);
    let dec = opts.digits.proportion.unwrap_or(2);
    let d = &opts.digits;
    let random = !res.method.is_common();
    let order = study_order(res, opts)?;
    let arms = Arms::of_result(res);
    let n_arm = arms.width(res);
    let arm_dec = arm_decimals(arms, res);
    let weight = |s: &StudyRow| match opts.weights {
        Weights::Overall => s.weight_overall,
        Weights::Subgroup => s.weight,
    };
    let wmax = res
        .studies
        .iter()
        .map(weight)
        .filter(|w| w.is_finite())
        .fold(0.0f64, f64::max);
    let pos = |v: f64| if ratio { v.log10() } else { v };
    let num = |v: f64| fmt_num(v, dec);
    let ci_text = |e: f64, lb: f64, ub: f64| format!("{} [{}, {}]", num(e), num(lb), num(ub));
    let weight_text = |w: f64| {
        if w.is_finite() {
            format!("{}%", fmt_num(w, d.weight))
        } else {
            String::new()
        }
    };
    let estimable = |s: &StudyRow| {
        !s.dropped
            && [s.proportion, s.ci_lb, s.ci_ub]
                .iter()
                .all(|v| v.is_finite() && (!ratio || *v > 0.0))
    };
    let mut values: Vec<f64> = Vec::new();
    let mut printed_rows = 0usize;
    let mut printed_level_differs = false;
    let mut not_estimable: Vec<String> = Vec::new();

    // The sub-header row: study header, arm headers, Weight, method.
    let mut sub = vec![opts.study_header.clone()];
    let mut ah = arms.headers(res);
    if let (Arms::Generic, Some(name)) = (arms, rm.and_then(|r| r.measure_name.as_deref())) {
        ah[0] = if ratio {
            format!("log[{name}]")
        } else {
            name.to_string()
        };
    }
    sub.extend(ah.iter().cloned());
    if arms.two_groups() {
        sub.extend(ah.iter().cloned());
    }
    sub.push(if rm.is_some() {
        "Weight".into()
    } else {
        super::forest::weight_header(res, opts.weights).into()
    });
    sub.push(method_header(res));
    let mut rows = vec![Row {
        kind: RowKind::Bold,
        cells: sub,
        mark: Mark::None,
    }];

    let mut study_row = |s: &StudyRow, values: &mut Vec<f64>| -> Row {
        let mut cells = vec![s.study.clone()];
        cells.extend(arm_cells(arms, s.input.as_ref(), &arm_dec));
        if !estimable(s) {
            not_estimable.push(s.study.clone());
            cells.push(String::new());
            cells.push("Not estimable".into());
            return Row {
                kind: RowKind::Normal,
                cells,
                mark: Mark::None,
            };
        }
        cells.push(weight_text(weight(s)));
        let text = match s.input {
            Some(StudyInput::EstimateCi {
                est,
                ci_lb,
                ci_ub,
                level,
            }) => {
                printed_rows += 1;
                if (level - res.level).abs() > 1e-9 {
                    printed_level_differs = true;
                }
                ci_text(est, ci_lb, ci_ub)
            }
            _ => ci_text(s.proportion, s.ci_lb, s.ci_ub),
        };
        cells.push(text);
        values.extend([s.ci_lb, s.ci_ub]);
        let w = weight(s);
        Row {
            kind: RowKind::Normal,
            cells,
            mark: Mark::Square {
                est: pos(s.proportion),
                lb: pos(s.ci_lb),
                ub: pos(s.ci_ub),
                size: if wmax > 0.0 && w.is_finite() { w / wmax } else { 1.0 },
            },
        }
    };
    let pooled_row = |label: &str, f: &Pooled, arm: Vec<String>, w: Option<f64>, values: &mut Vec<f64>| -> Row {
        let e = &f.effect;
        let mut cells = vec![label.to_string()];
        cells.extend(arm);
        cells.push(w.map(weight_text).unwrap_or_default());
        let ok = [e.estimate, e.ci_lb, e.ci_ub]
            .iter()
            .all(|v| v.is_finite() && (!ratio || *v > 0.0));
        if !ok {
            cells.push("Not estimable".into());
            return Row {
                kind: RowKind::Bold,
                cells,
                mark: Mark::None,
            };
        }
        values.extend([e.ci_lb, e.ci_ub]);
        cells.push(ci_text(e.estimate, e.ci_lb, e.ci_ub));
        Row {
            kind: RowKind::Bold,
            cells,
            mark: Mark::Diamond {
                est: pos(e.estimate),
                lb: pos(e.ci_lb),
                ub: pos(e.ci_ub),
            },
        }
    };
    let pi_row = |f: &Pooled| -> Option<Row> {
        let e = &f.effect;
        let ok = random
            && rm.is_none()
            && opts.prediction
            && f.fit.k > 1
            && [e.pi_lb, e.pi_ub].iter().all(|v| v.is_finite() && (!ratio || *v > 0.0));
        if !ok {
            return None;
        }
        let mut cells = vec!["Prediction interval".to_string()];
        cells.extend(vec![String::new(); n_arm + 1]);
        cells.push(format!("[{}, {}]", num(e.pi_lb), num(e.pi_ub)));
        Some(Row {
            kind: RowKind::Normal,
            cells,
            mark: Mark::Bar {
                lb: pos(e.pi_lb),
                ub: pos(e.pi_ub),
            },
        })
    };
    let main_label = match (rm, random) {
        (Some(_), _) => format!("Subtotal ({} CI)", level_label(res.level)),
        (None, true) => "Random effects model".to_string(),
        (None, false) => "Common effect model".to_string(),
    };
    let main_label = main_label.as_str();
    let total_label = format!("Total ({} CI)", level_label(res.level));
    let overall_label = if rm.is_some() { total_label.as_str() } else { main_label };
    let blank_arms = || vec![String::new(); n_arm];
    // RevMan's layout: a pooled row shows the group sizes, a "Total events" row under it the
    // events (counts and rates).
    let split_events = |cells: Vec<String>| -> (Vec<String>, Option<Row>) {
        if rm.is_none() || !matches!(arms, Arms::Counts | Arms::Rates) || cells.len() != 4 {
            return (cells, None);
        }
        let blank = String::new();
        let totals = vec![blank.clone(), cells[1].clone(), blank.clone(), cells[3].clone()];
        let mut ev = vec![
            "Total events".to_string(),
            cells[0].clone(),
            blank.clone(),
            cells[2].clone(),
        ];
        ev.extend([blank.clone(), blank]);
        (
            totals,
            Some(Row {
                kind: RowKind::Normal,
                cells: ev,
                mark: Mark::None,
            }),
        )
    };

    if res.subgroups.is_empty() {
        for &i in &order[0] {
            let r = study_row(&res.studies[i], &mut values);
            rows.push(r);
        }
    } else {
        for (g, block) in res.subgroups.iter().zip(&order) {
            rows.push(Row::heading(g.display_name().to_string()));
            for &i in block {
                let r = study_row(&res.studies[i], &mut values);
                rows.push(r);
            }
            if g.fit.k == 1 && rm.is_none() {
                // One study: its row is the subgroup's result; nothing is pooled.
                rows.push(Row::note(format!("O{}", &crate::report::ONE_STUDY_NOTE[1..])));
                rows.push(Row::blank());
                continue;
            }
            let w = match opts.weights {
                Weights::Overall => block.iter().map(|&i| res.studies[i].weight_overall).sum(),
                Weights::Subgroup => 100.0,
            };
            let (totals, events_row) = split_events(arm_totals(arms, res, block, &arm_dec));
            // Both models per subgroup, as for all studies: the common-effect diamond above.
            match (random && rm.is_none(), g.common.as_deref()) {
                (true, Some(c)) => {
                    rows.push(pooled_row("Common effect model", c, totals, None, &mut values));
                    rows.push(pooled_row(main_label, g, blank_arms(), Some(w), &mut values));
                }
                _ => rows.push(pooled_row(main_label, g, totals, Some(w), &mut values)),
            }
            rows.extend(events_row);
            if opts.subgroup_prediction {
                if let Some(r) = pi_row(g) {
                    values.extend([g.effect.pi_lb, g.effect.pi_ub]);
                    rows.push(r);
                }
            }
            rows.push(Row::note(heterogeneity_line(g, random)));
            rows.push(Row::note(match (random && rm.is_none(), g.common.as_deref()) {
                (true, Some(c)) => both_effects_line(c, g),
                _ => overall_effect_line(g),
            }));
            rows.push(Row::blank());
        }
    }
    let all: Vec<usize> = (0..res.studies.len()).collect();
    let (totals, events_row) = split_events(arm_totals(arms, res, &all, &arm_dec));
    let overall_w = match (opts.weights, res.subgroups.is_empty()) {
        (Weights::Subgroup, false) => None,
        _ => Some(100.0),
    };
    let o = &res.overall;
    let show_total = rm.is_none_or(|r| r.total);
    let show_common = random && res.common.is_some() && rm.is_none();
    let mut footer = Vec::new();
    if show_total {
        if let (true, Some(c)) = (show_common, &res.common) {
            rows.push(pooled_row("Common effect model", c, totals, None, &mut values));
            rows.push(pooled_row(main_label, o, blank_arms(), overall_w, &mut values));
        } else {
            rows.push(pooled_row(overall_label, o, totals, overall_w, &mut values));
        }
        rows.extend(events_row);
        if let Some(r) = pi_row(o) {
            values.extend([o.effect.pi_lb, o.effect.pi_ub]);
            rows.push(r);
        }
        footer.push(heterogeneity_line(o, random));
        match (&res.common, show_common) {
            (Some(c), true) => footer.push(both_effects_line(c, o)),
            _ => footer.push(overall_effect_line(o)),
        }
    }
    if let Some(t) = &res.subgroup_test {
        footer.push(if rm.is_some() {
            subgroup_line(t)
        } else {
            super::forest::model_of_test(res, subgroup_line(t))
        });
    }

    // Footnotes: the model in words, the level, the conventions, the rows left out.
    let lv = level_label(res.level);
    let mut words = model_words(res);
    if rm.is_some() {
        // Only the analysis model is drawn.
        if let Some(i) = words.find(" Common effect model") {
            words.truncate(i);
        }
    }
    let mut footnotes = vec![words];
    let mut ci = format!(
        "Intervals are {lv} confidence intervals; study CIs are Wald intervals{}.",
        if ratio { " on the log scale" } else { "" }
    );
    if show_common {
        ci.push_str(" Weights and squares are those of the random effects model.");
    }
    footnotes.push(ci);
    if printed_rows > 0 {
        footnotes.push(format!(
            "{printed_rows} {} given as an estimate with its CI: the effect column shows the printed values{}.",
            if printed_rows == 1 { "study was" } else { "studies were" },
            if printed_level_differs {
                " (at their own level), the plot the analysis values"
            } else {
                ""
            }
        ));
    }
    if !not_estimable.is_empty() {
        footnotes.push(format!(
            "Not estimable (no effect size; left out of the inverse-variance fits): {}.",
            not_estimable.join(", ")
        ));
    }
    footnotes.extend(res.convergence_warnings());
    footnotes.extend(opts.footnotes.iter().cloned());
    footnotes.extend(super::table::undrawable_note(super::forest::study_labels(res)));
    if !res.conventions.is_empty() {
        footnotes.push(format!(
            "Conventions: {}.",
            res.conventions.join("; ").replace("tau^2", "\u{3c4}\u{b2}")
        ));
    }

    let (lo, hi, ticks) = axis_of(&values, ratio, opts)?;
    let name = rm
        .and_then(|r| r.measure_name.clone())
        .unwrap_or_else(|| title_case(res.measure.natural_name()));
    let (g1, g2) = opts
        .arm_labels
        .clone()
        .unwrap_or_else(|| ("Group 1".to_string(), "Group 2".to_string()));
    let favours = opts.favours.clone().unwrap_or_else(|| match &opts.arm_labels {
        Some((a, b)) => (format!("Favours {a}"), format!("Favours {b}")),
        None => ("Favours group 1".into(), "Favours group 2".into()),
    });

    let mut left = vec![Column::new("", Anchor::Start)];
    let per = ah.len();
    let mut centred = Vec::new();
    if arms.two_groups() {
        for (k, label) in [g1, g2].into_iter().enumerate() {
            for j in 0..per {
                let mut c = Column::new(if j == 0 { label.clone() } else { String::new() }, Anchor::End);
                if j == 0 {
                    c.span = per;
                }
                left.push(c);
            }
            centred.push((1 + k * per, k * per + per));
        }
    } else {
        for _ in 0..per {
            left.push(Column::new("", Anchor::End));
        }
    }
    left.push(Column::new("", Anchor::End));
    left.push(Column::new(name.clone(), Anchor::End));
    centred.push((left.len() - 1, left.len() - 1));

    let mut style = opts.style.clone();
    style.reference = style.ink;
    let table = Table {
        title: opts.title.clone(),
        left,
        right: vec![],
        rows,
        footer,
        axis: AxisSpec {
            lo,
            hi,
            ticks,
            title: opts.xlab.clone().unwrap_or_default(),
        },
        reference: Some(0.0),
        pooled: None,
        style,
    };
    Ok(Parts {
        table,
        centred,
        plot_header: (name, method_header(res)),
        favours,
        null: 0.0,
        footnotes,
    })
}

/// The forest plot as a [`Table`] (rows of formatted text and marks); the figure adds the
/// headers over the plot column, the "Favours" labels and the footnotes.
pub fn table(res: &PoolResult, opts: &ForestOptions) -> Result<Table> {
    Ok(build(res, opts)?.table)
}

/// Set the canvas size (and the white background with it).
fn resize(fig: &mut Figure, width: f64, height: f64) {
    fig.width = width.ceil();
    fig.height = height.ceil();
    if let Some(Item {
        role: Role::Background,
        shape: Shape::Rect { x1, y1, .. },
    }) = fig.items.first_mut()
    {
        *x1 = fig.width;
        *y1 = fig.height;
    }
}

/// Break `text` into lines at most `width` wide (words longer than a line stay whole).
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && font::text_width(&candidate, size, false) > width {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn overlaps(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 - 0.5 && b.0 < a.2 - 0.5 && a.1 < b.3 - 0.5 && b.1 < a.3 - 0.5
}

/// Lowest point of everything drawn.
fn bottom(fig: &Figure) -> f64 {
    fig.items
        .iter()
        .filter(|i| i.role != Role::Background)
        .map(|i| i.shape.bbox().3)
        .fold(0.0f64, f64::max)
}

fn decorate(fig: &mut Figure, g: &Geometry, p: &Parts) {
    let t = &p.table;
    let st = &t.style;
    let (px0, px1) = g.plot_x;
    let xmap = |v: f64| px0 + (v - t.axis.lo) / (t.axis.hi - t.axis.lo) * st.plot_width;
    let (asc, desc) = font::ascent_descent(st.font, false);

    // Group and measure headers centred over their columns.
    for &(a, b) in &p.centred {
        let (Some(&xa), Some(&xb), Some(&wb)) = (g.column_x.get(a), g.column_x.get(b), g.column_w.get(b)) else {
            continue;
        };
        let end = xb + wb;
        for item in fig.items.iter_mut() {
            if let (Role::Header, Shape::Text(tx)) = (item.role, &mut item.shape) {
                if (tx.x - end).abs() < 1e-9 && tx.anchor == Anchor::End {
                    tx.x = (xa + end) / 2.0;
                    tx.anchor = Anchor::Middle;
                }
            }
        }
    }
    // The sub-header row is part of the header.
    let sub_baseline = g.row_y.first().map(|y| y + st.row / 2.0 + 0.36 * st.font);
    let header_baseline = g
        .row_y
        .first()
        .map(|y| y - st.row * 1.2 + st.row / 2.0 + 0.36 * st.font);
    if let Some(b) = sub_baseline {
        for item in fig.items.iter_mut() {
            if let Shape::Text(tx) = &item.shape {
                if matches!(item.role, Role::Label | Role::Number) && (tx.baseline - b).abs() < 1e-9 {
                    item.role = Role::Header;
                }
            }
        }
    }
    // Headers over the plot column: centred, or where wider than the plot column, from a column
    // gap after the text columns.
    let pc = (px0 + px1) / 2.0;
    let left_end = g
        .column_x
        .iter()
        .zip(&g.column_w)
        .take(t.left.len())
        .map(|(x, w)| x + w)
        .fold(st.margin, f64::max);
    let mut min_width = fig.width;
    if let (Some(hb), Some(sb)) = (header_baseline, sub_baseline) {
        for (text, b) in [(&p.plot_header.0, hb), (&p.plot_header.1, sb)] {
            let w = font::text_width(text, st.font, true);
            let x = (pc - w / 2.0).max(left_end + st.gap);
            fig.text(
                Role::Header,
                x + w / 2.0,
                b,
                text.clone(),
                st.font,
                true,
                Anchor::Middle,
            );
            min_width = min_width.max(x + w + st.margin);
        }
    }

    // "Favours" labels under the axis, either side of the null line: on the axis-title line when
    // there is no axis title, else on a line of their own; lower still if they would touch a text.
    let tick_baseline = fig
        .texts()
        .find(|(r, _)| *r == Role::TickLabel)
        .map(|(_, tx)| tx.baseline)
        .unwrap_or(bottom(fig));
    let mut baseline = tick_baseline + desc + 4.0 + asc;
    if !t.axis.title.is_empty() {
        baseline += desc + 4.0 + asc;
    }
    let xn = xmap(p.null);
    let gap = 6.0;
    let (fl, fr) = &p.favours;
    let boxes = |b: f64| {
        let wl = font::text_width(fl, st.font, false);
        let wr = font::text_width(fr, st.font, false);
        [
            (xn - gap - wl, b - asc, xn - gap, b + desc),
            (xn + gap, b - asc, xn + gap + wr, b + desc),
        ]
    };
    for _ in 0..50 {
        let clash = boxes(baseline).iter().any(|bx| {
            fig.texts()
                .any(|(r, tx)| r != Role::TickLabel && r != Role::AxisTitle && overlaps(*bx, tx.bbox()))
        });
        if !clash {
            break;
        }
        baseline += st.row;
    }
    fig.text(
        Role::AxisTitle,
        xn - gap,
        baseline,
        fl.clone(),
        st.font,
        false,
        Anchor::End,
    );
    fig.text(
        Role::AxisTitle,
        xn + gap,
        baseline,
        fr.clone(),
        st.font,
        false,
        Anchor::Start,
    );
    let b = boxes(baseline);
    let mut width = min_width.max(b[1].2 + st.margin);
    let left_over = (st.margin - b[0].0).max(0.0);
    if left_over > 0.0 {
        // A very long left label: move everything right.
        for item in fig.items.iter_mut().skip(1) {
            shift_x(&mut item.shape, left_over);
        }
        width += left_over;
    }

    // Footnotes under everything, wrapped to the width of the figure.
    let (sasc, sdesc) = font::ascent_descent(st.small, false);
    let line_h = st.small * 1.35;
    let text_w = (width - 2.0 * st.margin).max(360.0);
    width = width.max(text_w + 2.0 * st.margin);
    let mut y = bottom(fig) + 0.5 * st.row;
    let mut last = None;
    for note in &p.footnotes {
        for line in wrap(note, st.small, text_w) {
            let b = y + sasc;
            fig.text(Role::Note, st.margin, b, line, st.small, false, Anchor::Start);
            last = Some(b);
            y += line_h;
        }
    }
    let height = match last {
        Some(b) => b + sdesc + st.margin,
        None => bottom(fig) + st.margin,
    };
    resize(fig, width, height.max(fig.height));
}

fn shift_x(shape: &mut Shape, dx: f64) {
    match shape {
        Shape::Rect { x0, x1, .. } | Shape::Line { x0, x1, .. } | Shape::Dashed { x0, x1, .. } => {
            *x0 += dx;
            *x1 += dx;
        }
        Shape::Polygon { points, .. } => {
            for p in points.iter_mut() {
                p.0 += dx;
            }
        }
        Shape::Circle { cx, .. } => *cx += dx,
        Shape::Text(t) => t.x += dx,
    }
}

/// The laid-out forest plot.
pub fn figure(res: &PoolResult, opts: &ForestOptions) -> Result<Figure> {
    let parts = build(res, opts)?;
    let (mut fig, geom) = table::layout_with_geometry(&parts.table);
    decorate(&mut fig, &geom, &parts);
    Ok(fig)
}

/// The forest plot as SVG.
pub fn render_svg(res: &PoolResult, opts: &ForestOptions) -> Result<String> {
    Ok(figure(res, opts)?.to_svg())
}

/// The forest plot as PNG at `opts.dpi`.
pub fn render_png(res: &PoolResult, opts: &ForestOptions) -> Result<Vec<u8>> {
    figure(res, opts)?.to_png(opts.dpi)
}

/// Write the forest plot to `path` (SVG or PNG from the extension), atomically.
pub fn write(res: &PoolResult, opts: &ForestOptions, path: &Path) -> Result<()> {
    write_figure(&figure(res, opts)?, path, opts.dpi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revman_p_values() {
        assert_eq!(revman_p(0.25), "P = 0.25");
        assert_eq!(revman_p(0.008), "P = 0.008");
        assert_eq!(revman_p(0.00023), "P = 0.0002");
        assert_eq!(revman_p(0.001), "P = 0.001");
        assert_eq!(revman_p(1e-7), "P < 0.00001");
    }

    #[test]
    fn ratio_ticks_fit_and_are_symmetric() {
        let o = ForestOptions::default();
        let (lo, hi, t) = axis_of(&[0.3, 1.8], true, &o).unwrap();
        assert!((lo + 5f64.log10()).abs() < 1e-12 && (hi - 5f64.log10()).abs() < 1e-12);
        let v: Vec<f64> = t.iter().map(|t| t.value).collect();
        assert_eq!(v, vec![0.2, 0.5, 1.0, 2.0, 5.0]);
        let (lo, hi, t) = axis_of(&[0.15, 4.0], true, &o).unwrap();
        assert!((lo + 1.0).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12);
        let v: Vec<f64> = t.iter().map(|t| t.value).collect();
        assert_eq!(v, vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
        let (_, _, t) = axis_of(&[0.003, 400.0], true, &o).unwrap();
        let v: Vec<f64> = t.iter().map(|t| t.value).collect();
        assert!(v.contains(&0.01) && v.contains(&100.0) && v.contains(&1.0));
        let (lo, hi, _) = axis_of(&[-0.3, 0.1], false, &o).unwrap();
        assert_eq!((lo, hi), (-0.4, 0.4));
    }
}
