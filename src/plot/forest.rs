//! Forest plots of a pooled analysis of proportions, laid out like `meta::forest` and RevMan:
//!
//! ```text
//! Study            Events  Total        (plot)        Proportion (%) [95% CI]  Weight
//! Subgroup A
//! Author 2001          11     29     ──■──            37.9 [20.7; 57.7]         4.1%
//! …
//! Random-effects model 120   310       ◆              41.2 [33.0; 49.9]        45.3%
//! Heterogeneity: I² = 61.5%, τ² = 0.2345, χ² = 20.78, df = 8 (p = 0.008)
//! …
//! Random-effects model 480  1203        ◆             39.8 [34.1; 45.8]       100.0%
//! Prediction interval                 ▬▬▬▬▬                [18.2; 66.4]
//! Heterogeneity: …                ├────┼────┼────┤
//! Test for subgroup differences: …  0   20   40   60
//!                                     Proportion (%)
//! ```
//!
//! Every number comes from the [`PoolResult`] (the values `metarepro pool` prints and writes to
//! JSON) and is formatted by `report::fmt_num` / `report::fmt_p`, so the plot and the report
//! cannot disagree. The axis is on the proportion scale whatever the measure: study CIs are the
//! per-study CIs of the report (`--study-ci`), diamonds and the prediction bar are the
//! back-transformed pooled values.

use std::path::Path;

use super::axis;
use super::figure::{Anchor, Figure};
use super::table::{self, AxisSpec, Column, Mark, Row, RowKind, Style, Table};
use super::{font, write_figure};
use crate::error::{Error, Result};
use crate::model::{PoolResult, Pooled, StudyRow, SubgroupTest};
use crate::report::{fmt_num, fmt_p, fmt_prop, in_unit};

/// How proportions are printed and on which scale the axis is labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Percent (41.2).
    Percent,
    /// Proportion (0.412).
    Proportion,
}

impl Scale {
    /// Printed value of a proportion `p` on this scale (for axis limits and reference lines).
    pub fn of(self, p: f64) -> f64 {
        match self {
            Scale::Percent => 100.0 * p,
            Scale::Proportion => p,
        }
    }

    /// The proportion printed as `v` on this scale.
    pub fn to_proportion(self, v: f64) -> f64 {
        match self {
            Scale::Percent => v / 100.0,
            Scale::Proportion => v,
        }
    }

    pub fn is_percent(self) -> bool {
        self == Scale::Percent
    }
}

impl std::str::FromStr for Scale {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "percent" | "pct" | "%" => Ok(Scale::Percent),
            "prop" | "proportion" => Ok(Scale::Proportion),
            _ => Err(Error::Usage(format!("unknown scale \"{s}\"; expected percent or prop"))),
        }
    }
}

/// Order of the studies (within each subgroup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Input order.
    None,
    /// Increasing observed proportion (ties: input order).
    Estimate,
    /// Increasing year (needs [`ForestOptions::years`]; studies without a year last).
    Year,
    /// Decreasing weight.
    Weight,
}

impl std::str::FromStr for Sort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "input" => Ok(Sort::None),
            "estimate" | "est" | "proportion" => Ok(Sort::Estimate),
            "year" => Ok(Sort::Year),
            "weight" => Ok(Sort::Weight),
            _ => Err(Error::Usage(format!(
                "unknown sort \"{s}\"; expected estimate, year, weight or none"
            ))),
        }
    }
}

/// Which weights the Weight column shows and the squares are sized by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// Weight in the overall model (meta and RevMan): subgroup rows show the sum of their
    /// studies' weights, the overall row 100%.
    Overall,
    /// Weight within the study's subgroup model: each subgroup row shows 100%.
    Subgroup,
}

impl std::str::FromStr for Weights {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "overall" => Ok(Weights::Overall),
            "subgroup" => Ok(Weights::Subgroup),
            _ => Err(Error::Usage(format!(
                "unknown weights \"{s}\"; expected overall or subgroup"
            ))),
        }
    }
}

/// Decimals of the printed numbers (all printed by `report::fmt_num` / `fmt_p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digits {
    /// Proportions and their CIs (`None`: 1 in percent, 3 as proportions).
    pub proportion: Option<usize>,
    pub weight: usize,
    pub i2: usize,
    pub tau2: usize,
    pub q: usize,
    /// p-values (below 10^-p printed as `p < 0.001`).
    pub p: usize,
}

impl Default for Digits {
    fn default() -> Self {
        Digits {
            proportion: None,
            weight: 1,
            i2: 1,
            tau2: 4,
            q: 2,
            p: 3,
        }
    }
}

impl Digits {
    /// Decimals of proportions on `scale`.
    pub fn proportion(&self, scale: Scale) -> usize {
        self.proportion.unwrap_or(match scale {
            Scale::Percent => 1,
            Scale::Proportion => 3,
        })
    }
}

/// Everything a forest plot lets one choose. `Default` gives a meta-style plot in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestOptions {
    pub scale: Scale,
    pub digits: Digits,
    pub sort: Sort,
    /// Year of each study, in the order of `PoolResult::studies` (for `Sort::Year`).
    pub years: Option<Vec<Option<f64>>>,
    /// Reference line, as a proportion (0–1).
    pub reference: Option<f64>,
    /// Axis limits, as proportions (0–1); `None` fits all intervals.
    pub xlim: Option<(f64, f64)>,
    pub title: Option<String>,
    /// Axis title (`None`: "Proportion (%)" or "Proportion").
    pub xlab: Option<String>,
    /// Header of the label column.
    pub study_header: String,
    /// PNG resolution (dots per inch); the PNG is the SVG layout scaled by dpi / 96.
    pub dpi: f64,
    /// Draw the overall prediction interval (random-effects models).
    pub prediction: bool,
    /// Draw a prediction interval under each subgroup's pooled row too.
    pub subgroup_prediction: bool,
    /// Dashed vertical line at the overall pooled proportion.
    pub pooled_line: bool,
    pub weights: Weights,
    pub style: Style,
    /// Two-group plots: the labels under the axis, left and right of the null line (`None`:
    /// "Favours <group 1>" and "Favours <group 2>").
    pub favours: Option<(String, String)>,
    /// Two-group plots: the names of the two groups over their columns (`None`: "Group 1",
    /// "Group 2").
    pub arm_labels: Option<(String, String)>,
    /// More footnotes under the figure (e.g. the rows left out of the data).
    pub footnotes: Vec<String>,
    /// Two-group plots: RevMan 5's layout ("Subtotal (95% CI)", "Total (95% CI)", a "Total
    /// events" row, only the analysis model's diamonds, no prediction interval); `None`: the
    /// meta-style layout with both models.
    pub revman: Option<RevmanLayout>,
}

/// What RevMan's layout of a forest plot shows beyond the studies and subgroups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevmanLayout {
    /// Whether the plot has a total over all studies (RevMan's `TOTALS="YES"`); without one, only
    /// subtotals (and the subgroup-difference test) are shown.
    pub total: bool,
    /// The measure's name over the effect column (`None`: the measure's own, e.g. "Risk
    /// Ratio"), e.g. a generic inverse-variance outcome's free-text measure.
    pub measure_name: Option<String>,
    /// The results are ratios drawn on a log axis although the measure is not one (generic
    /// inverse-variance data entered on the log scale; the result's values already on the ratio
    /// scale).
    pub log_axis: bool,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            scale: Scale::Percent,
            digits: Digits::default(),
            sort: Sort::None,
            years: None,
            reference: None,
            xlim: None,
            title: None,
            xlab: None,
            study_header: "Study".into(),
            dpi: 300.0,
            prediction: true,
            subgroup_prediction: false,
            pooled_line: true,
            weights: Weights::Overall,
            style: Style::default(),
            favours: None,
            arm_labels: None,
            footnotes: Vec::new(),
            revman: None,
        }
    }
}

/// "95%" for level 0.95 (as many decimals as the level needs).
pub fn level_label(level: f64) -> String {
    let v = 100.0 * level;
    format!("{}%", fmt_num(v, axis::decimals_of(v).min(4)))
}

/// "p = 0.023" or "p < 0.001".
pub fn p_text(p: f64, decimals: usize) -> String {
    let s = fmt_p(p, decimals);
    match s.strip_prefix('<') {
        Some(rest) => format!("p < {rest}"),
        None => format!("p = {s}"),
    }
}

/// Name of the pooled rows.
pub fn model_label(res: &PoolResult) -> &'static str {
    if res.method.is_common() {
        "Common effect model"
    } else {
        "Random effects model"
    }
}

/// The model of a proportion forest plot in one line, e.g. "Random effects, REML; logit scale;
/// z-test; 95% CI (studies: Clopper–Pearson)".
pub fn model_line(res: &PoolResult) -> String {
    use crate::effect::{CiMethod, Measure};
    use crate::model::{Method, Test};
    let model = match res.method {
        m if m.is_common() => "Common effect (inverse variance)".to_string(),
        Method::GLMM => "Random effects, GLMM (logistic mixed model)".to_string(),
        m => format!("Random effects, {m}"),
    };
    let scale = match res.measure {
        Measure::PR => "raw proportion",
        Measure::PLN => "log",
        Measure::PLO => "logit",
        Measure::PAS => "arcsine",
        Measure::PFT => "Freeman\u{2013}Tukey double arcsine",
        _ => "effect",
    };
    let test = match res.test {
        Test::Z => "z-test",
        Test::T => "t-test",
        Test::Knha => "Knapp\u{2013}Hartung test",
    };
    let study_ci = match res.study_ci {
        CiMethod::CP => "Clopper\u{2013}Pearson",
        CiMethod::WS => "Wilson",
        CiMethod::Wald => "Wald",
        CiMethod::AC => "Agresti\u{2013}Coull",
    };
    let tau2 = if res.tau2_common && !res.subgroups.is_empty() && !res.method.is_common() {
        "; one \u{3c4}\u{b2} for all subgroups"
    } else {
        ""
    };
    format!(
        "{model}{tau2}; {scale} scale; {test}; {} CI (studies: {study_ci})",
        level_label(res.level)
    )
}

/// The footnote naming the rows left out of the data (a missing count, `na = drop`): `None`
/// when none was.
pub fn excluded_note(excluded: &[(usize, String)]) -> Option<String> {
    if excluded.is_empty() {
        return None;
    }
    let rows: Vec<String> = excluded.iter().map(|(r, why)| format!("row {r} ({why})")).collect();
    Some(format!("Left out of the data: {}.", rows.join(", ")))
}

/// The header of a forest plot's weight column: which weights it shows when there are subgroups.
pub fn weight_header(res: &PoolResult, weights: Weights) -> &'static str {
    match (res.subgroups.is_empty(), weights) {
        (true, _) => "Weight",
        (false, Weights::Overall) => "Weight (overall)",
        (false, Weights::Subgroup) => "Weight (in subgroup)",
    }
}

/// The heterogeneity line of a fit: `Heterogeneity: I² = …%, τ² = …, χ² = …, df = … (p = …)`
/// (τ² left out for common-effect models); `None` for a single study.
pub fn heterogeneity_text(f: &Pooled, common: bool, d: &Digits) -> Option<String> {
    if f.fit.k < 2 {
        return None;
    }
    let mut s = format!("Heterogeneity: I\u{b2} = {}%", fmt_num(f.fit.i2, d.i2));
    if !common {
        s.push_str(&format!(", \u{3c4}\u{b2} = {}", fmt_num(f.fit.tau2, d.tau2)));
    }
    s.push_str(&format!(
        ", \u{3c7}\u{b2} = {}, df = {} ({})",
        fmt_num(f.fit.q, d.q),
        f.fit.q_df,
        p_text(f.fit.q_p, d.p)
    ));
    Some(s)
}

/// The test for subgroup differences as one line.
pub fn subgroup_test_text(t: &SubgroupTest, d: &Digits) -> String {
    let kind = if t.kind == "common_tau2" {
        " (common \u{3c4}\u{b2})"
    } else {
        ""
    };
    match t.df2 {
        Some(df2) => format!(
            "Test for subgroup differences{kind}: F = {}, df = ({}, {df2}) ({})",
            fmt_num(t.q, d.q),
            t.df,
            p_text(t.p, d.p)
        ),
        None => format!(
            "Test for subgroup differences{kind}: \u{3c7}\u{b2} = {}, df = {} ({})",
            fmt_num(t.q, d.q),
            t.df,
            p_text(t.p, d.p)
        ),
    }
}

/// A line of the test for subgroup differences naming the model whose estimates it compares,
/// where each subgroup shows both models: `Test for subgroup differences (random effects
/// model): …`.
pub fn model_of_test(res: &PoolResult, line: String) -> String {
    const HEAD: &str = "Test for subgroup differences";
    match line.strip_prefix(HEAD) {
        Some(rest) if crate::report::subgroup_test_of_random(res) => {
            format!("{HEAD} (random effects model){rest}")
        }
        _ => line,
    }
}

/// The row cells of an estimate with its CI: `est`, `[lb;`, `ub]`.
fn estimate_cells(est: Option<f64>, lb: f64, ub: f64, scale: Scale, dec: usize) -> [String; 3] {
    let pct = scale.is_percent();
    [
        est.map(|e| fmt_prop(e, dec, pct)).unwrap_or_default(),
        format!("[{};", fmt_prop(lb, dec, pct)),
        format!("{}]", fmt_prop(ub, dec, pct)),
    ]
}

/// A weight in percent; blank where the model gives none (GLMM).
fn weight_text(w: f64, d: &Digits) -> String {
    if w.is_finite() {
        format!("{}%", fmt_num(w, d.weight))
    } else {
        String::new()
    }
}

/// The study and subgroup labels a forest plot prints.
pub fn study_labels(res: &PoolResult) -> impl Iterator<Item = &str> {
    res.studies
        .iter()
        .map(|s| s.study.as_str())
        .chain(res.subgroups.iter().map(|g| g.display_name()))
}

/// The positions (in `res.studies`) of the studies of each block, sorted: one block per subgroup,
/// or one block of all studies.
pub fn study_order(res: &PoolResult, opts: &ForestOptions) -> Result<Vec<Vec<usize>>> {
    if let Some(y) = &opts.years {
        if y.len() != res.studies.len() {
            return Err(Error::Usage(format!(
                "{} years given for {} studies",
                y.len(),
                res.studies.len()
            )));
        }
    }
    if opts.sort == Sort::Year && opts.years.is_none() {
        return Err(Error::Usage(
            "sorting by year needs a year per study (a year column)".into(),
        ));
    }
    let blocks: Vec<Vec<usize>> = if res.subgroups.is_empty() {
        vec![(0..res.studies.len()).collect()]
    } else {
        res.subgroups
            .iter()
            .map(|g| {
                (0..res.studies.len())
                    .filter(|&i| res.studies[i].group.as_deref() == g.name.as_deref())
                    .collect()
            })
            .collect()
    };
    let weight = |s: &StudyRow| match opts.weights {
        Weights::Overall => s.weight_overall,
        Weights::Subgroup => s.weight,
    };
    Ok(blocks
        .into_iter()
        .map(|mut b| {
            match opts.sort {
                Sort::None => {}
                Sort::Estimate => b.sort_by(|&i, &j| res.studies[i].proportion.total_cmp(&res.studies[j].proportion)),
                Sort::Weight => b.sort_by(|&i, &j| weight(&res.studies[j]).total_cmp(&weight(&res.studies[i]))),
                Sort::Year => {
                    let y = opts.years.as_deref().unwrap_or(&[]);
                    let key = |i: usize| y.get(i).copied().flatten().unwrap_or(f64::INFINITY);
                    b.sort_by(|&i, &j| key(i).total_cmp(&key(j)));
                }
            }
            b
        })
        .collect())
}

/// The axis limits (on the printed scale) and ticks for the given marks.
pub(crate) fn axis_for(values: &[f64], opts: &ForestOptions) -> Result<(f64, f64, Vec<axis::Tick>)> {
    let bounds = (0.0, opts.scale.of(1.0));
    match opts.xlim {
        Some((a, b)) => {
            if !(a.is_finite() && b.is_finite() && b > a) {
                return Err(Error::Usage(format!(
                    "axis limits must be two increasing numbers, got {a} and {b}"
                )));
            }
            let (lo, hi) = (opts.scale.of(a), opts.scale.of(b));
            let step = axis::nice_step(hi - lo, 5);
            Ok((lo, hi, axis::ticks_between(lo, hi, step)))
        }
        None => {
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { bounds };
            let mut with_ref = (lo, hi);
            if let Some(r) = opts.reference {
                let r = opts.scale.of(r);
                with_ref = (with_ref.0.min(r), with_ref.1.max(r));
            }
            Ok(axis::linear(with_ref.0, with_ref.1, 5, bounds))
        }
    }
}

/// The forest plot as a [`Table`] (rows of formatted text and marks).
///
/// Two-group and other non-proportion measures are drawn by [`super::comparative`].
pub fn table(res: &PoolResult, opts: &ForestOptions) -> Result<Table> {
    if !res.measure.is_proportion() {
        return super::comparative::table(res, opts);
    }
    if res.studies.is_empty() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let sc = opts.scale;
    let d = &opts.digits;
    let dec = d.proportion(sc);
    let common = res.method.is_common();
    let label = model_label(res);
    let order = study_order(res, opts)?;
    let weight = |s: &StudyRow| match opts.weights {
        Weights::Overall => s.weight_overall,
        Weights::Subgroup => s.weight,
    };
    let wmax = res.studies.iter().map(weight).fold(0.0f64, f64::max);
    // A GLMM has no study weights: no Weight column, and squares of one size.
    let has_weights = res.studies.iter().any(|s| weight(s).is_finite());
    let v = |p: f64| sc.of(p);
    let show_pi = |f: &Pooled| !common && f.fit.k > 1 && f.effect.pi_lb.is_finite() && f.effect.pi_ub.is_finite();

    let mut rows: Vec<Row> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let study_row = |s: &StudyRow| -> Row {
        let [e, l, u] = estimate_cells(Some(s.proportion), s.ci_lb, s.ci_ub, sc, dec);
        Row {
            kind: RowKind::Normal,
            cells: vec![
                s.study.clone(),
                fmt_num(s.events, 0),
                fmt_num(s.total, 0),
                e,
                l,
                u,
                weight_text(weight(s), d),
            ],
            mark: Mark::Square {
                est: v(s.proportion),
                lb: v(s.ci_lb),
                ub: v(s.ci_ub),
                size: if wmax > 0.0 { weight(s) / wmax } else { 1.0 },
            },
        }
    };
    // Pooled intervals are shown within [0, 1] (a footnote gives the model's limits).
    let pooled_row = |label: &str, f: &Pooled, w: Option<f64>| -> Row {
        let p = &f.effect;
        let (lb, ub) = (in_unit(p.ci_lb), in_unit(p.ci_ub));
        let [e, l, u] = estimate_cells(Some(p.estimate), lb, ub, sc, dec);
        Row {
            kind: RowKind::Bold,
            cells: vec![
                label.to_string(),
                fmt_num(f.events, 0),
                fmt_num(f.total, 0),
                e,
                l,
                u,
                w.map(|w| weight_text(w, d)).unwrap_or_default(),
            ],
            mark: Mark::Diamond {
                est: v(p.estimate),
                lb: v(lb),
                ub: v(ub),
            },
        }
    };
    let pi_row = |f: &Pooled| -> Row {
        let p = &f.effect;
        let (lb, ub) = (in_unit(p.pi_lb), in_unit(p.pi_ub));
        let [_, l, u] = estimate_cells(None, lb, ub, sc, dec);
        Row {
            kind: RowKind::Normal,
            cells: vec![
                "Prediction interval".into(),
                String::new(),
                String::new(),
                String::new(),
                l,
                u,
                String::new(),
            ],
            mark: Mark::Bar { lb: v(lb), ub: v(ub) },
        }
    };
    for s in &res.studies {
        values.extend([v(s.ci_lb), v(s.ci_ub)]);
    }
    let o = &res.overall;
    values.extend([v(in_unit(o.effect.ci_lb)), v(in_unit(o.effect.ci_ub))]);
    if res.subgroups.is_empty() {
        for &i in &order[0] {
            rows.push(study_row(&res.studies[i]));
        }
    } else {
        for (g, block) in res.subgroups.iter().zip(&order) {
            rows.push(Row::heading(g.display_name().to_string()));
            for &i in block {
                rows.push(study_row(&res.studies[i]));
            }
            if crate::report::single_study(res, g).is_some() {
                // One study: its row is the subgroup's result; nothing is pooled.
                rows.push(Row::note(format!("O{}", &crate::report::ONE_STUDY_NOTE[1..])));
                rows.push(Row::blank());
                continue;
            }
            let w = match opts.weights {
                Weights::Overall => block.iter().map(|&i| res.studies[i].weight_overall).sum(),
                Weights::Subgroup => 100.0,
            };
            // Both models per subgroup, as for all studies: the common-effect diamond above.
            if let (false, Some(c)) = (common, g.common.as_deref()) {
                rows.push(pooled_row("Common effect model", c, None));
                values.extend([v(in_unit(c.effect.ci_lb)), v(in_unit(c.effect.ci_ub))]);
            }
            rows.push(pooled_row(label, g, Some(w)));
            values.extend([v(in_unit(g.effect.ci_lb)), v(in_unit(g.effect.ci_ub))]);
            if opts.prediction && opts.subgroup_prediction && show_pi(g) {
                rows.push(pi_row(g));
                values.extend([v(in_unit(g.effect.pi_lb)), v(in_unit(g.effect.pi_ub))]);
            }
            if let Some(h) = heterogeneity_text(g, common, d) {
                rows.push(Row::note(h));
            }
            rows.push(Row::blank());
        }
    }
    let overall_w = match (opts.weights, res.subgroups.is_empty()) {
        _ if !has_weights => None,
        (Weights::Subgroup, false) => None,
        _ => Some(100.0),
    };
    // Both models, as meta draws them: the common-effect diamond above the random-effects one
    // (weights and squares are the random-effects model's).
    if let (false, Some(c)) = (common, &res.common) {
        rows.push(pooled_row("Common effect model", c, None));
        values.extend([v(in_unit(c.effect.ci_lb)), v(in_unit(c.effect.ci_ub))]);
    }
    rows.push(pooled_row(label, o, overall_w));
    if opts.prediction && show_pi(o) {
        rows.push(pi_row(o));
        values.extend([v(in_unit(o.effect.pi_lb)), v(in_unit(o.effect.pi_ub))]);
    }
    let mut footer = vec![model_line(res)];
    if let Some(h) = heterogeneity_text(o, common, d) {
        footer.push(h);
    }
    if let Some(t) = &res.subgroup_test {
        footer.push(model_of_test(res, subgroup_test_text(t, d)));
    }
    footer.extend(
        crate::report::truncation_notes(res, dec, sc.is_percent())
            .into_iter()
            .map(|n| format!("{n}.")),
    );
    footer.extend(res.convergence_warnings());
    footer.extend(opts.footnotes.iter().cloned());
    footer.extend(table::undrawable_note(study_labels(res)));

    let (lo, hi, ticks) = axis_for(&values, opts)?;
    let st = opts.style.clone();
    let space = font::text_width(" ", st.font, false);
    let pct = if sc.is_percent() { " (%)" } else { "" };
    let mut est_col = Column::new(format!("Proportion{pct} [{} CI]", level_label(res.level)), Anchor::End);
    est_col.span = 3;
    let mut lb_col = Column::new("", Anchor::End);
    lb_col.gap_before = Some(space);
    // The upper limits start one space after the lower ones ("[5.0; 53.8]", no padding inside
    // the brackets): the lower limits align on their ";", the upper ones on their first digit.
    let mut ub_col = Column::new("", Anchor::Start);
    ub_col.gap_before = Some(space);
    Ok(Table {
        title: opts.title.clone(),
        left: vec![
            Column::new(opts.study_header.clone(), Anchor::Start),
            Column::new("Events", Anchor::End),
            Column::new("Total", Anchor::End),
        ],
        right: vec![
            est_col,
            lb_col,
            ub_col,
            Column::new(
                if has_weights {
                    weight_header(res, opts.weights)
                } else {
                    ""
                },
                Anchor::End,
            ),
        ],
        rows,
        footer,
        axis: AxisSpec {
            lo,
            hi,
            ticks,
            title: opts.xlab.clone().unwrap_or_else(|| format!("Proportion{pct}")),
        },
        reference: opts.reference.map(v),
        pooled: if opts.pooled_line {
            Some(v(o.effect.estimate))
        } else {
            None
        },
        style: st,
    })
}

/// The laid-out forest plot (two-group and other non-proportion measures:
/// [`super::comparative::figure`]).
pub fn figure(res: &PoolResult, opts: &ForestOptions) -> Result<Figure> {
    if !res.measure.is_proportion() {
        return super::comparative::figure(res, opts);
    }
    Ok(table::layout(&table(res, opts)?))
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
