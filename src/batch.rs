//! Batch pooling: every analysis of a long table (one row per study, an analysis-id column)
//! pooled in parallel and streamed to Parquet or CSV, one row per analysis (and per subgroup with
//! `--by`).
//!
//! Memory stays flat in the number of analyses: a CSV/TSV file is read as a stream, analyses are
//! gathered into chunks of [`BatchOptions::chunk`], each chunk is pooled in parallel (rayon) and
//! written (one Parquet row group, or CSV lines) before the next is read. Streaming needs the
//! rows of each analysis to be contiguous (the file sorted or grouped by the analysis column);
//! an analysis that appears again after another one is an error naming both lines, unless
//! `unsorted` is set, in which case the whole file is read and grouped in memory (Parquet input
//! is always read whole). To detect a non-contiguous file, nothing is kept while the ids come in
//! increasing order (as text or as numbers: a sorted file); from the first id out of order on, a
//! 64-bit hash of each finished id is kept (a file grouped but not sorted).
//!
//! One bad analysis never stops the others: a count that is missing or invalid, an effect size
//! that is not defined, or a fit that fails (e.g. Fisher scoring does not converge) gives that
//! analysis a row with `converged = false` and the message; the numbers are missing. (The
//! command exits with code 4 when no analysis at all could be pooled.) Options that no analysis
//! could use (a measure batch does not read, M-H pooling of AS, ...) are a usage error before
//! anything is written.
//!
//! # Inputs
//!
//! The measure says what a study row holds, with the column names and flags of `pool`:
//!
//! - proportions (PR, PLN, PLO, PAS, PFT): events and total (`events`, `total`);
//! - 2×2 tables (OR, RR, RD, PETO, AS): `ai, bi, ci, di` or `ai, n1i, ci, n2i` (metafor escalc's
//!   names; [`BatchOptions::columns`]). When the file has both sets of columns a row is read as
//!   the first whose cells are all filled in, as `pool` reads it. Counts are whole numbers ≥ 0,
//!   group sizes ≥ 1, events at most the group size.
//!
//! Other inputs (means, rates, correlations, effect sizes with variances, published estimates
//! with CIs) are not read by batch.
//!
//! # Fits
//!
//! Proportions: the allocation-free intercept-only fit [`crate::model::fast::rma_int`], which
//! gives the numbers of `rma` (tested to 1e-12), or with `method = GLMM` the GLMM of
//! [`crate::model::glmm::glmm_int`] (Q is then its Wald test), as `pool` fits them.
//!
//! 2×2 tables: the study effect sizes of [`crate::effect::comparative::escalc_inputs`], with
//! `pool`'s continuity correction, `drop00`, `vtype`, correction target and `addyi`, computed
//! once per analysis (subgroups are fitted on their share of them, as `pool` does). Then, by
//! `pooling`:
//!
//! - IV: the fast fit above on the studies that have an effect size (a study whose effect size
//!   is not defined fails its analysis, as it fails `pool`);
//! - MH, PETO: metafor `rma.mh` / `rma.peto` ([`crate::model::rma_mh`], [`crate::model::rma_peto`]),
//!   and with a random-effects `method` the rule of `pool` ([`crate::model::comparative`], the
//!   same function): with DL, τ² by DerSimonian–Laird from Q around the M-H (Peto) estimate and
//!   an inverse-variance random-effects pool (RevMan's "M-H, random"); with another estimator,
//!   the inverse-variance random-effects pool of the study effect sizes. With PETO the measure
//!   is PETO (OR is accepted and pooled as PETO, as `pool` does).
//!
//! # Output columns
//!
//! One row per analysis, then (with `by`) one per subgroup of it, in sorted order:
//!
//! | column | meaning |
//! |---|---|
//! | `analysis` | the analysis id |
//! | `subgroup` | the subgroup; null on the analysis's own row |
//! | `k` | studies in the fit (M-H/Peto common-effect fits: the tables in the sums) |
//! | `estimate`, `se`, `ci_lb`, `ci_ub`, `pval` | the pooled estimate on the measure's scale (the log scale for OR, RR, PETO) |
//! | `tau2`, `I2`, `Q`, `Q_p` | heterogeneity (M-H/Peto: Q around the M-H/Peto estimate, I² from Q) |
//! | `proportion`, `proportion_ci_lb`, `proportion_ci_ub` | proportion measures: the estimate and CI back-transformed to a proportion; null for other measures |
//! | `effect`, `effect_ci_lb`, `effect_ci_ub` | only for measures that are not proportions: the estimate and CI on the natural scale (the OR, RR or Peto OR; RD and AS as they are) |
//! | `converged` | false when the analysis (or subgroup) could not be pooled (numbers missing), or when its iterative estimator stopped before its criterion held (numbers given, flagged) |
//! | `message` | why; null otherwise |
//!
//! A missing number is a null (Parquet) or an empty field (CSV). The outputs of proportion
//! measures have exactly the columns they had before two-group measures came (17).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::data::delimited::DelimitedStream;
use crate::data::{parse_count_text, RowFilter, StudyInput, MAX_COUNT, MISSING};
use crate::effect::comparative::{escalc_inputs, EscalcOptions};
use crate::effect::{escalc, BackTransform, EffectSizes, Measure};
use crate::error::{Error, Result};
use crate::model::fast::{rma_int_with, test_crit};
use crate::model::{FitRow, PoolOptions, Pooling, RowKey};
use crate::report::stream::{csv_f64, csv_text};
pub use crate::report::stream::{is_parquet_output, ColumnData, TableRows, TableWriter};

/// What to read and how to pool it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions {
    /// Column with the analysis id.
    pub analysis: String,
    /// Proportion measures: the columns of events and totals.
    pub events: String,
    pub total: String,
    /// 2×2 tables (OR, RR, RD, PETO, AS): the columns `ai`, `bi`, `ci`, `di` or `ai`, `n1i`,
    /// `ci`, `n2i` (the other fields are not read by batch).
    pub columns: crate::data::Columns,
    /// Subgroup column: one more row per subgroup of each analysis.
    pub by: Option<String>,
    /// Row filters (all must hold), as `pool`'s: rows that fail one are not read at all.
    pub filters: Vec<RowFilter>,
    /// Study labels to leave out (the column `study`, read only when this is not empty); each
    /// must name a study of a row the filters keep. Their rows are left out of their analysis
    /// and counted in [`BatchSummary`].
    pub exclude: Vec<String>,
    /// Column of the study labels (for `exclude`).
    pub study: String,
    /// Leave rows with a missing count out of their analysis (counted in [`BatchSummary`])
    /// instead of failing the analysis.
    pub na_drop: bool,
    /// Field delimiter (`None`: tab for .tsv/.tab, comma otherwise).
    pub delimiter: Option<u8>,
    pub pool: PoolOptions,
    /// Analyses per chunk (pooled in parallel, then written).
    pub chunk: usize,
    /// Read the whole file and group rows by analysis in memory (rows of an analysis need not be
    /// contiguous; memory grows with the file).
    pub unsorted: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            analysis: "analysis".into(),
            events: "events".into(),
            total: "total".into(),
            columns: crate::data::Columns::default(),
            by: None,
            filters: Vec::new(),
            exclude: Vec::new(),
            study: "study".into(),
            na_drop: false,
            delimiter: None,
            pool: PoolOptions::default(),
            chunk: 4096,
            unsorted: false,
        }
    }
}

/// A count as read: the number, or why the field is not one (a bad count fails its analysis
/// only, with this message).
pub type Count = std::result::Result<f64, String>;

/// Read a count field (`decimal_comma` when the delimiter is not a comma).
pub fn read_count(text: &str, decimal_comma: bool) -> Count {
    let t = text.trim();
    if t.is_empty() || MISSING.contains(&t) {
        return Err(MISSING_COUNT.into());
    }
    parse_count_text(t, decimal_comma)
}

/// The message of a missing count (an empty cell, `NA`, `N/A` or `#N/A`).
pub const MISSING_COUNT: &str = "missing count";

/// The counts of a study row, as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Counts {
    /// Events and total (proportion measures).
    Proportion { events: Count, total: Count },
    /// A 2×2 table from the columns `ai`, `bi`, `ci`, `di`.
    Table([Count; 4]),
    /// A 2×2 table from the columns `ai`, `n1i`, `ci`, `n2i` (events and group sizes).
    Sizes([Count; 4]),
}

/// A study row of one analysis, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: usize,
    pub group: Option<String>,
    pub counts: Counts,
    /// Why the row is left out of its analysis (a study excluded by label, or a missing count
    /// with `na_drop`); `None` for a row that is pooled.
    pub left_out: Option<String>,
}

impl Counts {
    /// The cells that are missing, by their column names in `o`.
    fn missing<'a>(&self, o: &'a BatchOptions) -> Vec<&'a str> {
        let c = &o.columns;
        let (cells, names): (&[Count], [&'a str; 4]) = match self {
            Counts::Proportion { events, total } => {
                let miss = |x: &Count| x.as_ref().err().is_some_and(|m| m == MISSING_COUNT);
                let mut v = Vec::new();
                if miss(events) {
                    v.push(o.events.as_str());
                }
                if miss(total) {
                    v.push(o.total.as_str());
                }
                return v;
            }
            Counts::Table(x) => (x, [&c.ai, &c.bi, &c.ci, &c.di]),
            Counts::Sizes(x) => (x, [&c.ai, &c.n1i, &c.ci, &c.n2i]),
        };
        cells
            .iter()
            .zip(names)
            .filter(|(x, _)| x.as_ref().err().is_some_and(|m| m == MISSING_COUNT))
            .map(|(_, n)| n)
            .collect()
    }
}

/// The rows of one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub id: String,
    pub records: Vec<Record>,
}

/// What a batch run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub analyses: u64,
    /// Rows left out of their analysis for a missing count (`na_drop`).
    pub rows_missing: u64,
    /// Rows left out because their study is excluded by label.
    pub rows_excluded: u64,
    /// The first rows left out ([`LEFT_OUT_LISTED`] of them): (line, analysis, why).
    pub left_out: Vec<(usize, String, String)>,
    /// Analyses that could not be pooled (their own row has `converged = false`; a failed
    /// subgroup alone does not count).
    pub analyses_failed: u64,
    /// Output rows (analyses plus subgroups).
    pub rows: u64,
    /// Rows with `converged = false`.
    pub failed: u64,
}

// ---------------------------------------------------------------------------------------------
// Pooling one analysis
// ---------------------------------------------------------------------------------------------

/// A count's message, with what to do about a missing one.
fn missing_hint(m: String) -> String {
    if m == MISSING_COUNT {
        format!("{m} (fill it in, or choose to drop rows with missing counts: na = drop)")
    } else {
        m
    }
}

fn parse_counts(a: &Analysis, o: &BatchOptions) -> std::result::Result<(Vec<f64>, Vec<f64>), String> {
    let mut ev = Vec::with_capacity(a.records.len());
    let mut tot = Vec::with_capacity(a.records.len());
    for r in &a.records {
        let parse = |c: &Count, col: &str| -> std::result::Result<f64, String> {
            c.clone()
                .map_err(|m| format!("line {}, column \"{col}\": {}", r.line, missing_hint(m)))
        };
        let Counts::Proportion { events, total } = &r.counts else {
            return Err(format!(
                "line {}: a 2x2 table where events and a total were expected",
                r.line
            ));
        };
        let e = parse(events, &o.events)?;
        let t = parse(total, &o.total)?;
        if t == 0.0 {
            return Err(format!(
                "line {}, column \"{}\": 0 is not a valid total",
                r.line, o.total
            ));
        }
        if e > t {
            return Err(format!(
                "line {}, column \"{}\": {e} is greater than total ({t})",
                r.line, o.events
            ));
        }
        if t > MAX_COUNT {
            return Err(format!("line {}: count above 2^53", r.line));
        }
        ev.push(e);
        tot.push(t);
    }
    Ok((ev, tot))
}

/// The row of a fit of a measure that is not a proportion, with the effect and its CI on the
/// natural scale. A fit without a finite estimate and SE (e.g. M-H sums over a table with no
/// patients) fails.
fn effect_row(row: FitRow) -> FitRow {
    if row.error.is_none() && !(row.estimate.is_finite() && row.se.is_finite()) {
        let message = format!(
            "the pooled estimate is not defined (estimate {}, se {})",
            row.estimate, row.se
        );
        return FitRow::failed(row.key, row.k, message);
    }
    row
}

/// The GLMM of one analysis (`rma.glmm(measure = "PLO")`; Q is the Wald test). Zero and all
/// events need no correction.
fn fit_glmm_row(key: RowKey, events: &[f64], total: &[f64], o: &PoolOptions) -> FitRow {
    match crate::model::glmm::glmm_int(events, total, &crate::model::glmm::options_from_pool(o)) {
        Ok(f) => FitRow::from_fit(key, &f, &BackTransform::with_mean(o.measure, total, o.pft_mean)),
        Err(e) => FitRow::failed(key, events.len(), e.to_string()),
    }
}

fn fit_row(key: RowKey, events: &[f64], total: &[f64], o: &PoolOptions) -> FitRow {
    if o.method == crate::model::Method::GLMM {
        return fit_glmm_row(key, events, total, o);
    }
    let k = events.len();
    let es = escalc(o.measure, events, total, o.correction);
    for i in 0..k {
        if !es.is_defined(i) {
            return FitRow::failed(
                key,
                k,
                format!(
                    "study {} ({} of {}): the {} effect size is not defined without a continuity correction; add one (the correction and the studies it applies to) or use another measure",
                    i + 1,
                    events[i],
                    total[i],
                    o.measure
                ),
            );
        }
    }
    let ro = o.rma_options();
    let (test, ddf, crit) = test_crit(ro.test, ro.level, k);
    match rma_int_with(&es.yi, &es.vi, &ro, test, ddf, crit) {
        Ok(f) => FitRow::from_int(key, &f, &BackTransform::with_mean(o.measure, total, o.pft_mean)),
        Err(e) => FitRow::failed(key, k, e.to_string()),
    }
}

/// The 2×2 tables of an analysis, checked as `pool` checks them (message: line and column).
fn parse_tables(a: &Analysis, c: &crate::data::Columns) -> std::result::Result<Vec<StudyInput>, String> {
    let mut out = Vec::with_capacity(a.records.len());
    for r in &a.records {
        let at = |col: &str, m: &str| format!("line {}, column \"{col}\": {m}", r.line);
        let get = |x: &Count, col: &str| match x {
            Ok(v) => Ok(*v),
            Err(m) => Err(at(col, &missing_hint(m.clone()))),
        };
        let input = match &r.counts {
            Counts::Table([ai, bi, ci, di]) => StudyInput::Table2x2 {
                ai: get(ai, &c.ai)?,
                bi: get(bi, &c.bi)?,
                ci: get(ci, &c.ci)?,
                di: get(di, &c.di)?,
            },
            Counts::Sizes([ai, n1i, ci, n2i]) => {
                let (ai, n1i, ci, n2i) = (get(ai, &c.ai)?, get(n1i, &c.n1i)?, get(ci, &c.ci)?, get(n2i, &c.n2i)?);
                for (n, col) in [(n1i, &c.n1i), (n2i, &c.n2i)] {
                    if n < 1.0 {
                        return Err(at(col, "0 is not a valid group size (expected at least one patient)"));
                    }
                }
                if ai > n1i {
                    return Err(at(&c.ai, &format!("{ai} is greater than {} ({n1i})", c.n1i)));
                }
                if ci > n2i {
                    return Err(at(&c.ci, &format!("{ci} is greater than {} ({n2i})", c.n2i)));
                }
                StudyInput::Table2x2 {
                    ai,
                    bi: n1i - ai,
                    ci,
                    di: n2i - ci,
                }
            }
            Counts::Proportion { .. } => {
                return Err(format!(
                    "line {}: events and a total where a 2x2 table was expected",
                    r.line
                ))
            }
        };
        out.push(input);
    }
    Ok(out)
}

/// The options of a 2×2 analysis as `pool` applies them: Peto pooling pools the Peto OR.
fn table_options(o: &PoolOptions) -> PoolOptions {
    let mut p = *o;
    if p.pooling == Pooling::PETO {
        p.measure = Measure::PETO;
    }
    p
}

/// One fit (overall or a subgroup) of 2×2 tables: `inputs` and their effect sizes `es`.
fn fit_tables_row(key: RowKey, inputs: &[StudyInput], es: &EffectSizes, o: &PoolOptions) -> FitRow {
    let back = BackTransform::for_measure(o.measure, &[]);
    if o.pooling != Pooling::IV {
        // The M-H or Peto fit, and with a random-effects method the rule of `pool`.
        return match crate::model::comparative::fit_inputs(inputs, es, o, None) {
            Ok(set) => effect_row(FitRow::from_fit(key, &set.main, &back)),
            Err(e) => FitRow::failed(key, inputs.len(), e.to_string()),
        };
    }
    // Inverse variance: the studies with an effect size (drop00 may leave some without).
    let filtered: (Vec<f64>, Vec<f64>);
    let (yi, vi) = if (0..es.k()).all(|i| crate::effect::is_defined(es.yi[i], es.vi[i])) {
        (&es.yi[..], &es.vi[..])
    } else {
        filtered = (0..es.k())
            .filter(|&i| crate::effect::is_defined(es.yi[i], es.vi[i]))
            .map(|i| (es.yi[i], es.vi[i]))
            .unzip();
        (&filtered.0[..], &filtered.1[..])
    };
    if yi.is_empty() {
        return FitRow::failed(
            key,
            0,
            "no study has an effect size (every table is a double-zero table, left out by drop00)".into(),
        );
    }
    let ro = o.rma_options();
    let (test, ddf, crit) = test_crit(ro.test, ro.level, yi.len());
    match rma_int_with(yi, vi, &ro, test, ddf, crit) {
        Ok(f) => effect_row(FitRow::from_int(key, &f, &back)),
        Err(e) => FitRow::failed(key, yi.len(), e.to_string()),
    }
}

/// Pool one analysis of 2×2 tables: the effect sizes of all its studies, then the overall fit
/// and one fit per subgroup (sorted), as `pool` does.
fn pool_tables(a: &Analysis, o: &BatchOptions) -> Vec<FitRow> {
    let po = table_options(&o.pool);
    let fail = |m: String| vec![FitRow::failed(RowKey::analysis(&a.id, None), a.records.len(), m)];
    let inputs = match parse_tables(a, &o.columns) {
        Ok(x) => x,
        Err(m) => return fail(m),
    };
    let eo = EscalcOptions {
        correction: po.correction,
        drop00: po.drop00,
        vtype: po.vtype,
        cc_target: po.cc_target,
        addyi: po.addyi,
    };
    let comp = match escalc_inputs(po.measure, &inputs, &eo) {
        Ok(c) => c,
        Err((i, m)) => return fail(format!("line {}: {m}", a.records[i].line)),
    };
    let es = &comp.es;
    if po.pooling == Pooling::IV {
        for i in 0..es.k() {
            let (y, v) = (es.yi[i], es.vi[i]);
            if !comp.dropped[i] && !crate::effect::is_defined(y, v) {
                return fail(format!(
                    "line {}: the {} effect size is not defined (yi = {y}, vi = {v}); with a zero cell use a continuity \
                     correction, leave double-zero tables out (drop00), or pool by Mantel-Haenszel (pooling MH)",
                    a.records[i].line, po.measure
                ));
            }
        }
    }
    let mut out = vec![fit_tables_row(RowKey::analysis(&a.id, None), &inputs, es, &po)];
    if o.by.is_some() {
        let groups: Vec<&str> = a.records.iter().map(|r| r.group.as_deref().unwrap_or("")).collect();
        let mut levels = groups.clone();
        levels.sort_unstable();
        levels.dedup();
        for g in levels {
            let idx: Vec<usize> = (0..groups.len()).filter(|&i| groups[i] == g).collect();
            let sub_inputs: Vec<StudyInput> = idx.iter().map(|&i| inputs[i]).collect();
            out.push(fit_tables_row(
                RowKey::analysis(&a.id, Some(g.to_string())),
                &sub_inputs,
                &es.subset(&idx),
                &po,
            ));
        }
    }
    out
}

/// Rows left out listed in [`BatchSummary::left_out`] (the others are counted).
pub const LEFT_OUT_LISTED: usize = 20;

/// Pool one analysis: its overall row, then one row per subgroup (sorted) when grouped. Rows
/// left out ([`Record::left_out`]) are not pooled; an analysis with no other row fails.
pub fn pool_analysis(a: &Analysis, o: &BatchOptions) -> Vec<FitRow> {
    if a.records.iter().all(|r| r.left_out.is_none()) {
        return pool_records(a, o);
    }
    let kept = Analysis {
        id: a.id.clone(),
        records: a.records.iter().filter(|r| r.left_out.is_none()).cloned().collect(),
    };
    if kept.records.is_empty() {
        let first = a.records.iter().find_map(|r| r.left_out.as_deref()).unwrap_or_default();
        return vec![FitRow::failed(
            RowKey::analysis(&a.id, None),
            0,
            format!(
                "no rows left: {} left out (line {}: {first})",
                match a.records.len() {
                    1 => "its one row was".to_string(),
                    n => format!("all {n} rows were"),
                },
                a.records[0].line
            ),
        )];
    }
    pool_records(&kept, o)
}

/// [`pool_analysis`] of the rows that are pooled.
fn pool_records(a: &Analysis, o: &BatchOptions) -> Vec<FitRow> {
    if !o.pool.measure.is_proportion() {
        return pool_tables(a, o);
    }
    let (events, total) = match parse_counts(a, o) {
        Ok(c) => c,
        Err(m) => return vec![FitRow::failed(RowKey::analysis(&a.id, None), a.records.len(), m)],
    };
    let mut out = vec![fit_row(RowKey::analysis(&a.id, None), &events, &total, &o.pool)];
    if o.by.is_some() {
        let mut levels: Vec<&str> = a.records.iter().map(|r| r.group.as_deref().unwrap_or("")).collect();
        levels.sort_unstable();
        levels.dedup();
        for g in levels {
            let idx: Vec<usize> = (0..a.records.len())
                .filter(|&i| a.records[i].group.as_deref().unwrap_or("") == g)
                .collect();
            let ev: Vec<f64> = idx.iter().map(|&i| events[i]).collect();
            let tot: Vec<f64> = idx.iter().map(|&i| total[i]).collect();
            out.push(fit_row(
                RowKey::analysis(&a.id, Some(g.to_string())),
                &ev,
                &tot,
                &o.pool,
            ));
        }
    }
    out
}

/// Two columns of a 2×2 table beside `ai` and `ci`: `bi, di`, or `n1i, n2i` (`sizes`).
#[derive(Debug, Clone, Copy)]
struct Pair {
    b: usize,
    d: usize,
    sizes: bool,
}

/// Where the counts of a study row are.
#[derive(Debug, Clone, Copy)]
enum CountColumns {
    Proportion {
        events: usize,
        total: usize,
    },
    /// A row is read with `first`, or with `second` when `first` has an empty cell and `second`
    /// has none (as `pool` picks the first layout whose cells are all filled in).
    Table {
        ai: usize,
        ci: usize,
        first: Pair,
        second: Option<Pair>,
    },
}

impl CountColumns {
    fn positions(&self) -> Vec<usize> {
        match *self {
            CountColumns::Proportion { events, total } => vec![events, total],
            CountColumns::Table { ai, ci, first, second } => {
                let mut v = vec![ai, ci, first.b, first.d];
                if let Some(p) = second {
                    v.extend([p.b, p.d]);
                }
                v
            }
        }
    }

    /// The counts of a row whose (trimmed) fields are `get(i)`.
    fn read<'a>(&self, get: impl Fn(usize) -> &'a str, decimal_comma: bool) -> Counts {
        match *self {
            CountColumns::Proportion { events, total } => Counts::Proportion {
                events: read_count(get(events), decimal_comma),
                total: read_count(get(total), decimal_comma),
            },
            CountColumns::Table { ai, ci, first, second } => {
                let filled = |i: usize| {
                    let t = get(i).trim();
                    !t.is_empty() && !MISSING.contains(&t)
                };
                let complete = |p: Pair| filled(ai) && filled(p.b) && filled(ci) && filled(p.d);
                let p = match second {
                    Some(p) if !complete(first) && complete(p) => p,
                    _ => first,
                };
                let cells = [ai, p.b, ci, p.d].map(|i| read_count(get(i), decimal_comma));
                if p.sizes {
                    Counts::Sizes(cells)
                } else {
                    Counts::Table(cells)
                }
            }
        }
    }
}

/// Column positions in a header.
struct Columns {
    analysis: usize,
    counts: CountColumns,
    by: Option<usize>,
    /// The study labels (only with exclusions).
    study: Option<usize>,
    /// The row filters, with the positions of their columns.
    filters: Vec<(usize, RowFilter)>,
    n: usize,
}

impl Columns {
    /// Every column read.
    fn positions(&self) -> Vec<usize> {
        let mut v = vec![self.analysis];
        v.extend(self.counts.positions());
        v.extend(self.by);
        v.extend(self.study);
        v.extend(self.filters.iter().map(|(j, _)| *j));
        v
    }

    /// The record of a row whose (trimmed) fields are `get(i)`, or `None` when a row filter
    /// leaves it out; `sel` notes what was seen.
    fn record<'a>(
        &self,
        line: usize,
        get: impl Fn(usize) -> &'a str,
        decimal_comma: bool,
        o: &BatchOptions,
        sel: &mut Selection,
    ) -> Option<Record> {
        let mut pass = true;
        for (k, (j, f)) in self.filters.iter().enumerate() {
            let v = get(*j);
            sel.note_value(k, v);
            if pass && !f.keeps(Some(v).filter(|t| !t.is_empty())) {
                pass = false;
            }
        }
        if !pass {
            return None;
        }
        sel.kept += 1;
        let counts = self.counts.read(&get, decimal_comma);
        let mut left_out = None;
        if let Some(j) = self.study {
            let label = get(j);
            sel.note_label(label);
            if let Some(k) = o.exclude.iter().position(|e| e == label) {
                sel.excluded_seen[k] = true;
                left_out = Some(format!("{} \"{label}\"", crate::data::EXCLUDED_BY_LABEL));
            }
        }
        if left_out.is_none() && o.na_drop {
            let missing = counts.missing(o);
            if !missing.is_empty() {
                let q: Vec<String> = missing.iter().map(|c| format!("\"{c}\"")).collect();
                left_out = Some(format!("missing {}", q.join(" and ")));
            }
        }
        Some(Record {
            line,
            group: self.by.map(|b| get(b).to_string()),
            counts,
            left_out,
        })
    }
}

/// What the row selection saw: rows kept by the filters, the values of the filter columns (a
/// few, for the message when no row matches), which excluded labels were found, and study
/// labels (for "did you mean").
#[derive(Debug, Default)]
struct Selection {
    kept: u64,
    values: Vec<Vec<String>>,
    excluded_seen: Vec<bool>,
    labels: Vec<String>,
}

impl Selection {
    fn new(o: &BatchOptions) -> Selection {
        Selection {
            kept: 0,
            values: vec![Vec::new(); o.filters.len()],
            excluded_seen: vec![false; o.exclude.len()],
            labels: Vec::new(),
        }
    }

    fn note_value(&mut self, k: usize, v: &str) {
        if let Some(seen) = self.values.get_mut(k) {
            if seen.len() <= 10 && !v.is_empty() && !seen.iter().any(|s| s == v) {
                seen.push(v.to_string());
            }
        }
    }

    fn note_label(&mut self, label: &str) {
        if self.labels.len() < 10_000 && !label.is_empty() && self.labels.last().is_none_or(|l| l != label) {
            self.labels.push(label.to_string());
        }
    }

    /// The error when the selection leaves nothing, or names a study that is not there.
    fn check(&self, path: &Path, o: &BatchOptions) -> Result<()> {
        let input = |message: String| Error::Input {
            file: path.to_path_buf(),
            message,
        };
        if !o.filters.is_empty() && self.kept == 0 {
            let desc: Vec<String> = o.filters.iter().map(|f| f.to_string()).collect();
            let cols: Vec<String> = o
                .filters
                .iter()
                .zip(&self.values)
                .map(|(f, v)| {
                    let more = if v.len() > 10 { ", ..." } else { "" };
                    let shown: Vec<String> = v.iter().take(10).map(|x| format!("\"{x}\"")).collect();
                    format!("column \"{}\" has the values {}{more}", f.column, shown.join(", "))
                })
                .collect();
            return Err(input(format!(
                "no rows match the row filter{} {} ({})",
                if o.filters.len() == 1 { "" } else { "s" },
                desc.join(" and "),
                cols.join("; ")
            )));
        }
        for (label, seen) in o.exclude.iter().zip(&self.excluded_seen) {
            if !seen {
                let close = crate::data::close_labels(label, self.labels.iter().map(String::as_str));
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; did you mean {}?",
                        close
                            .iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                };
                return Err(input(format!(
                    "no study labelled \"{label}\" to exclude among the selected rows (labels must match exactly){hint}"
                )));
            }
        }
        Ok(())
    }
}

fn find_columns<S: AsRef<str>>(path: &Path, header: &[S], o: &BatchOptions) -> Result<Columns> {
    let names: Vec<String> = header.iter().map(|h| h.as_ref().trim().to_string()).collect();
    let missing = |col: &str, purpose: &str| Error::MissingColumn {
        file: path.to_path_buf(),
        column: col.to_string(),
        purpose: purpose.to_string(),
        available: names.clone(),
    };
    let position = |col: &str| names.iter().position(|n| n == col);
    let find = |col: &str, purpose: &str| -> Result<usize> { position(col).ok_or_else(|| missing(col, purpose)) };
    let analysis = find(&o.analysis, "the analysis-id column")?;
    let counts = if o.pool.measure.is_proportion() {
        CountColumns::Proportion {
            events: find(&o.events, "the event-count column")?,
            total: find(&o.total, "the total column")?,
        }
    } else {
        let c = &o.columns;
        let layouts = [[&c.ai, &c.bi, &c.ci, &c.di], [&c.ai, &c.n1i, &c.ci, &c.n2i]];
        let found: Vec<Option<[usize; 4]>> = layouts
            .iter()
            .map(|l| {
                let p: Vec<usize> = l.iter().filter_map(|col| position(col)).collect();
                p.try_into().ok()
            })
            .collect();
        let pair = |p: [usize; 4], sizes| Pair {
            b: p[1],
            d: p[3],
            sizes,
        };
        match (found[0], found[1]) {
            (Some(t), s) => CountColumns::Table {
                ai: t[0],
                ci: t[2],
                first: pair(t, false),
                second: s.map(|s| pair(s, true)),
            },
            (None, Some(s)) => CountColumns::Table {
                ai: s[0],
                ci: s[2],
                first: pair(s, true),
                second: None,
            },
            (None, None) => {
                // Name the first missing column of the layout closest to complete.
                let absent = |l: &[&String; 4]| -> Vec<String> {
                    l.iter()
                        .filter(|col| position(col).is_none())
                        .map(|col| col.to_string())
                        .collect()
                };
                let (a, b) = (absent(&layouts[0]), absent(&layouts[1]));
                let first = if b.len() < a.len() { &b } else { &a };
                return Err(missing(
                    first.first().map(String::as_str).unwrap_or(""),
                    &format!(
                        "measure {} needs the columns {}, {}, {}, {}; or {}, {}, {}, {} (columns of other names \
                         can be mapped to these)",
                        o.pool.measure, c.ai, c.bi, c.ci, c.di, c.ai, c.n1i, c.ci, c.n2i
                    ),
                ));
            }
        }
    };
    let mut filters = Vec::with_capacity(o.filters.len());
    for f in &o.filters {
        filters.push((find(&f.column, "the column of a row filter")?, f.clone()));
    }
    Ok(Columns {
        analysis,
        counts,
        by: match &o.by {
            Some(b) => Some(find(b, "the subgroup column")?),
            None => None,
        },
        study: match o.exclude.is_empty() {
            true => None,
            false => Some(find(&o.study, "the study-label column")?),
        },
        filters,
        n: names.len(),
    })
}

fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Where the analyses come from: a stream of contiguous analyses, or all of them grouped.
/// (One value per run: its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Source {
    Stream {
        stream: Box<DelimitedStream<File>>,
        cols: Columns,
        decimal_comma: bool,
        pending: Option<(String, Record)>,
        sep: u8,
        seen: Seen,
        sel: Selection,
    },
    Grouped {
        analyses: std::vec::IntoIter<Analysis>,
        sel: Selection,
    },
}

/// What is kept of the finished analyses of a stream, to tell that an analysis id comes back.
enum Seen {
    /// Every id so far came after the one before, as text and/or as a number (a file sorted by
    /// the analysis column): none of them can come back unnoticed, so nothing else is kept.
    Ordered {
        /// The last id (`None` before the first analysis).
        last: Option<String>,
        /// The ids so far are increasing as text (byte order).
        as_text: bool,
        /// The ids so far are increasing numbers: the last one.
        as_number: Option<f64>,
    },
    /// A 64-bit hash of each finished id with the line its rows ended on (a file grouped but not
    /// sorted: a few dozen bytes per analysis).
    Hashed(HashMap<u64, usize>),
}

impl Seen {
    /// Record a finished analysis whose rows end on line `end`: `Some(line)` if the id was seen
    /// before, its earlier rows ending on `line`. The first id out of order switches to hashing,
    /// with the hashes of the ids before it from `earlier` (a second read of those lines).
    fn finish(
        &mut self,
        id: &str,
        end: usize,
        earlier: impl FnOnce() -> Result<HashMap<u64, usize>>,
    ) -> Result<Option<usize>> {
        if let Seen::Ordered {
            last,
            as_text,
            as_number,
        } = self
        {
            let number = id.parse::<f64>().ok().filter(|x| x.is_finite());
            let Some(previous) = last.as_mut() else {
                *last = Some(id.to_string());
                *as_number = number;
                return Ok(None);
            };
            let text_ok = *as_text && id > previous.as_str();
            let number_ok = matches!((*as_number, number), (Some(before), Some(x)) if x > before);
            if text_ok || number_ok {
                *as_text = text_ok;
                *as_number = if number_ok { number } else { None };
                previous.clear();
                previous.push_str(id);
                return Ok(None);
            }
            *self = Seen::Hashed(earlier()?);
        }
        match self {
            Seen::Hashed(map) => Ok(map.insert(id_hash(id), end)),
            Seen::Ordered { .. } => Ok(None),
        }
    }
}

/// The ids of the analyses that end before line `before` of a stream read again from the start,
/// hashed, each with the line its rows end on (for [`Seen`]; the ids there are in order, so each
/// forms one block).
fn ids_before(path: &Path, sep: u8, column: usize, before: usize) -> Result<HashMap<u64, usize>> {
    let file = File::open(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut stream = DelimitedStream::new(file, path, sep);
    let mut map = HashMap::new();
    let mut header = true;
    let mut block: Option<(String, usize)> = None;
    while let Some(line) = stream.next_record()? {
        if std::mem::take(&mut header) {
            continue;
        }
        if line >= before {
            break;
        }
        let id = stream.field(column).trim();
        match &mut block {
            Some((current, end)) if current.as_str() == id => *end = line,
            _ => {
                if let Some((done, end)) = block.take() {
                    map.insert(id_hash(&done), end);
                }
                block = Some((id.to_string(), line));
            }
        }
    }
    if let Some((done, end)) = block {
        map.insert(id_hash(&done), end);
    }
    Ok(map)
}

fn is_parquet(path: &Path) -> Result<bool> {
    let mut f = File::open(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).unwrap_or(0);
    Ok(n == 4 && &magic == b"PAR1")
}

impl Source {
    fn open(path: &Path, o: &BatchOptions) -> Result<(Source, u64)> {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if is_parquet(path)? {
            return Ok((Source::grouped_parquet(path, o)?, len));
        }
        let sep = o.delimiter.unwrap_or_else(|| crate::data::default_delimiter(path));
        let decimal_comma = sep != b',';
        let file = File::open(path).map_err(|e| Error::Input {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut stream = DelimitedStream::new(file, path, sep);
        let cols = match stream.next_record()? {
            Some(_) => {
                let header: Vec<&str> = (0..stream.n_fields()).map(|i| stream.field(i)).collect();
                find_columns(path, &header, o)?
            }
            None => {
                return Err(Error::Input {
                    file: path.to_path_buf(),
                    message: "the file is empty".into(),
                })
            }
        };
        let mut src = Source::Stream {
            stream: Box::new(stream),
            cols,
            decimal_comma,
            pending: None,
            sep,
            seen: Seen::Ordered {
                last: None,
                as_text: true,
                as_number: None,
            },
            sel: Selection::new(o),
        };
        if o.unsorted {
            let mut all: Vec<Analysis> = Vec::new();
            let mut index: std::collections::HashMap<String, usize> = Default::default();
            while let Some((id, rec)) = src.next_row(path, None, o)? {
                let id = id.unwrap_or_default();
                match index.get(&id) {
                    Some(&i) => all[i].records.push(rec),
                    None => {
                        index.insert(id.clone(), all.len());
                        all.push(Analysis { id, records: vec![rec] });
                    }
                }
            }
            let sel = match src {
                Source::Stream { sel, .. } => sel,
                Source::Grouped { sel, .. } => sel,
            };
            src = Source::Grouped {
                analyses: all.into_iter(),
                sel,
            };
        }
        Ok((src, len))
    }

    fn grouped_parquet(path: &Path, o: &BatchOptions) -> Result<Source> {
        let df = crate::data::read_frame(path, None)?;
        let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        let cols = find_columns(path, &names, o)?;
        let mut texts: Vec<Option<Vec<Option<String>>>> = vec![None; names.len()];
        for j in cols.positions() {
            if texts[j].is_none() {
                texts[j] = Some(crate::data::column_text(&df, path, &names[j], "batch input")?);
            }
        }
        let cell = |j: usize, i: usize| -> Option<&str> { texts[j].as_ref().and_then(|t| t[i].as_deref()) };
        let mut all: Vec<Analysis> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut sel = Selection::new(o);
        for i in 0..df.height() {
            let id = cell(cols.analysis, i).unwrap_or_default().to_string();
            let Some(rec) = cols.record(i + 1, |j| cell(j, i).unwrap_or(""), false, o, &mut sel) else {
                continue;
            };
            match index.get(&id) {
                Some(&j) => all[j].records.push(rec),
                None => {
                    index.insert(id.clone(), all.len());
                    all.push(Analysis { id, records: vec![rec] });
                }
            }
        }
        Ok(Source::Grouped {
            analyses: all.into_iter(),
            sel,
        })
    }

    fn selection(&self) -> &Selection {
        match self {
            Source::Stream { sel, .. } | Source::Grouped { sel, .. } => sel,
        }
    }

    /// The next study row of a stream that the row filters keep, with its analysis id: `None`
    /// when it is `current` (the rows of one analysis then cost no allocation for their id).
    fn next_row(
        &mut self,
        path: &Path,
        current: Option<&str>,
        o: &BatchOptions,
    ) -> Result<Option<(Option<String>, Record)>> {
        let Source::Stream {
            stream,
            cols,
            decimal_comma,
            sel,
            ..
        } = self
        else {
            return Ok(None);
        };
        loop {
            let Some(line) = stream.next_record()? else {
                return Ok(None);
            };
            if stream.n_fields() < cols.n {
                // Extra empty trailing fields are tolerated; missing fields are not.
                return Err(Error::Record {
                    file: path.to_path_buf(),
                    row: None,
                    line: Some(line),
                    message: format!("{} fields, but the header has {}", stream.n_fields(), cols.n),
                });
            }
            let get = |i: usize| stream.field(i).trim();
            let Some(rec) = cols.record(line, get, *decimal_comma, o, sel) else {
                continue;
            };
            let id = get(cols.analysis);
            let id = if current == Some(id) {
                None
            } else {
                Some(id.to_string())
            };
            return Ok(Some((id, rec)));
        }
    }

    /// The next analysis.
    fn next_analysis(&mut self, path: &Path, o: &BatchOptions) -> Result<Option<Analysis>> {
        if let Source::Grouped { analyses, .. } = self {
            return Ok(analyses.next());
        }
        let first = match self.take_pending() {
            Some(p) => Some(p),
            None => self
                .next_row(path, None, o)?
                .map(|(id, rec)| (id.unwrap_or_default(), rec)),
        };
        let Some((id, rec)) = first else {
            return Ok(None);
        };
        let mut records = vec![rec];
        loop {
            match self.next_row(path, Some(&id), o)? {
                Some((None, nrec)) => records.push(nrec),
                Some((Some(nid), nrec)) => {
                    self.set_pending(nid, nrec);
                    break;
                }
                None => break,
            }
        }
        if let Source::Stream { seen, cols, sep, .. } = self {
            let end = records.last().map(|r| r.line).unwrap_or(0);
            let first = records[0].line;
            let (sep, column) = (*sep, cols.analysis);
            if let Some(before) = seen.finish(&id, end, || ids_before(path, sep, column, first))? {
                return Err(Error::Input {
                    file: path.to_path_buf(),
                    message: format!(
                        "line {}: analysis \"{id}\" appears again after other analyses (its earlier rows end on line {before}); \
                         batch streams the file, so the rows of each analysis must be contiguous: sort the file by the \
                         analysis column, or have it read whole (unsorted)",
                        records[0].line
                    ),
                });
            }
        }
        Ok(Some(Analysis { id, records }))
    }

    fn take_pending(&mut self) -> Option<(String, Record)> {
        match self {
            Source::Stream { pending, .. } => pending.take(),
            _ => None,
        }
    }

    fn set_pending(&mut self, id: String, rec: Record) {
        if let Source::Stream { pending, .. } = self {
            *pending = Some((id, rec));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming output
// ---------------------------------------------------------------------------------------------

/// The analysis and subgroup of a batch row.
fn row_key(r: &FitRow) -> (&str, Option<&str>) {
    match &r.key {
        RowKey::Analysis { analysis, subgroup } => (analysis, subgroup.as_deref()),
        RowKey::Study { .. } => ("", None),
    }
}

/// The number columns of a batch row: the fit on the measure's scale, then `proportion*` and,
/// with `effect`, `effect*` (the natural-scale values go in one set, the other is NaN).
fn row_numbers(r: &FitRow, effect: bool) -> ([f64; 12], [f64; 3]) {
    let nat = [r.natural.estimate, r.natural.ci_lb, r.natural.ci_ub];
    let nan = [f64::NAN; 3];
    let (proportion, effects) = if effect { (nan, nat) } else { (nat, nan) };
    let [p0, p1, p2] = proportion;
    (
        [
            r.estimate, r.se, r.ci_lb, r.ci_ub, r.pval, r.tau2, r.i2, r.q, r.q_p, p0, p1, p2,
        ],
        effects,
    )
}

/// The names of [`row_numbers`].
const NUMBER_COLUMNS: [&str; 12] = [
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "pval",
    "tau2",
    "I2",
    "Q",
    "Q_p",
    "proportion",
    "proportion_ci_lb",
    "proportion_ci_ub",
];
const EFFECT_COLUMNS: [&str; 3] = ["effect", "effect_ci_lb", "effect_ci_ub"];

/// The columns of batch rows (`effect`: with the natural-scale effect columns).
fn row_columns<R>(rows: &[R], row: fn(&R) -> &FitRow, effect: bool) -> Vec<(&'static str, ColumnData<'_>)> {
    let numbers: Vec<_> = rows.iter().map(|r| row_numbers(row(r), effect)).collect();
    let mut cols = vec![
        (
            "analysis",
            ColumnData::Text(rows.iter().map(|r| Some(row_key(row(r)).0)).collect()),
        ),
        (
            "subgroup",
            ColumnData::Text(rows.iter().map(|r| row_key(row(r)).1).collect()),
        ),
        ("k", ColumnData::U32(rows.iter().map(|r| row(r).k as u32).collect())),
    ];
    for (j, name) in NUMBER_COLUMNS.into_iter().enumerate() {
        cols.push((name, ColumnData::F64(numbers.iter().map(|n| n.0[j]).collect())));
    }
    if effect {
        for (j, name) in EFFECT_COLUMNS.into_iter().enumerate() {
            cols.push((name, ColumnData::F64(numbers.iter().map(|n| n.1[j]).collect())));
        }
    }
    cols.push((
        "converged",
        ColumnData::Bool(rows.iter().map(|r| row(r).converged).collect()),
    ));
    cols.push((
        "message",
        ColumnData::Text(rows.iter().map(|r| row(r).message()).collect()),
    ));
    cols
}

/// The CSV headers of batch rows, without and with the `effect*` columns (the names of
/// [`row_columns`]; a test checks that they agree).
const CSV_HEADER: &str = "analysis,subgroup,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,Q,Q_p,proportion,\
                          proportion_ci_lb,proportion_ci_ub,converged,message\n";
const CSV_HEADER_EFFECT: &str = "analysis,subgroup,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,Q,Q_p,proportion,\
                                 proportion_ci_lb,proportion_ci_ub,effect,effect_ci_lb,effect_ci_ub,converged,message\n";

/// The CSV line of a batch row (`effect` as in [`row_columns`]).
fn write_row_csv(r: &FitRow, effect: bool, out: &mut Vec<u8>) {
    let (analysis, subgroup) = row_key(r);
    csv_text(out, analysis);
    out.push(b',');
    if let Some(s) = subgroup {
        csv_text(out, s);
    }
    let _ = write!(out, ",{}", r.k);
    let (numbers, effects) = row_numbers(r, effect);
    let n_effect = if effect { 3 } else { 0 };
    for x in numbers.into_iter().chain(effects.into_iter().take(n_effect)) {
        out.push(b',');
        csv_f64(out, x);
    }
    out.extend_from_slice(if r.converged { b",true," } else { b",false," });
    if let Some(m) = r.message() {
        csv_text(out, m);
    }
    out.push(b'\n');
}

/// A row of a proportion measure: the 17 columns of the module documentation, without `effect*`.
pub struct ProportionRow(pub FitRow);

/// A row of a measure that is not a proportion: written with the `effect*` columns.
pub struct EffectRow(pub FitRow);

macro_rules! batch_rows {
    ($t:ident, $effect:expr, $header:expr) => {
        impl From<FitRow> for $t {
            fn from(r: FitRow) -> Self {
                $t(r)
            }
        }

        impl TableRows for $t {
            fn columns(rows: &[Self]) -> Vec<(&'static str, ColumnData<'_>)> {
                row_columns(rows, |r| &r.0, $effect)
            }

            fn csv_header() -> &'static str {
                $header
            }

            fn write_csv(rows: &[Self], out: &mut Vec<u8>) {
                for r in rows {
                    write_row_csv(&r.0, $effect, out);
                }
            }
        }
    };
}
batch_rows!(ProportionRow, false, CSV_HEADER);
batch_rows!(EffectRow, true, CSV_HEADER_EFFECT);

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/// Analyses read at a time (while the ones read before are pooled).
const PIECE: usize = 256;

/// Up to `n` analyses from `src`.
fn read_analyses(src: &mut Source, input: &Path, n: usize, o: &BatchOptions) -> Result<Vec<Analysis>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match src.next_analysis(input, o)? {
            Some(a) => out.push(a),
            None => break,
        }
    }
    Ok(out)
}

/// Options no analysis could be pooled with: a usage error before anything is read or written
/// (the messages of `pool` where it has the same check).
pub fn check_options(o: &PoolOptions) -> Result<()> {
    if o.tau2_common {
        return Err(Error::Usage(
            "batch fits each subgroup with its own tau^2: a tau^2 common to the subgroups is not available".into(),
        ));
    }
    let m = o.measure;
    if m.is_proportion() {
        if o.pooling != Pooling::IV {
            return Err(Error::Usage(format!(
                "pooling {} is for two-group measures (OR, RR, RD; PETO); single proportions are pooled by inverse variance or the GLMM",
                o.pooling.as_str()
            )));
        }
    } else if matches!(m, Measure::OR | Measure::RR | Measure::RD | Measure::PETO | Measure::AS) {
        if o.pooling == Pooling::PETO && !matches!(m, Measure::PETO | Measure::OR) {
            return Err(Error::Usage(format!(
                "Peto pooling (pooling PETO) pools odds ratios (Peto's one-step OR): use measure OR or PETO, not {m}"
            )));
        }
        if o.pooling == Pooling::MH && !matches!(m, Measure::OR | Measure::RR | Measure::RD) {
            return Err(Error::Usage(format!(
                "Mantel-Haenszel pooling of 2x2 tables is defined for OR, RR and RD, not {m}; use inverse-variance pooling (IV){}",
                if m == Measure::PETO {
                    " or measure OR with Peto pooling (PETO)"
                } else {
                    ""
                }
            )));
        }
    } else {
        return Err(Error::Usage(format!(
            "batch reads events/total (PR, PLN, PLO, PAS, PFT) or 2x2 tables (OR, RR, RD, PETO, AS), not the inputs of \
             measure {m} ({}); pool such analyses one at a time",
            m.describe()
        )));
    }
    if o.method == crate::model::Method::GLMM {
        crate::model::glmm::check_pool_options(o)?;
        if m != Measure::PLO {
            return Err(Error::Usage(format!(
                "batch fits the GLMM to single proportions (measure PLO) only, not to {m}: pool 2x2 tables with the \
                 GLMM one analysis at a time"
            )));
        }
    }
    Ok(())
}

/// Pool every analysis of `input` and stream the rows to `output` (`.parquet` or `.csv`; the
/// columns of the module documentation). `progress(bytes_read, file_len)` is called after each
/// chunk.
pub fn run_batch(
    input: &Path,
    output: &Path,
    o: &BatchOptions,
    progress: impl FnMut(u64, u64),
) -> Result<BatchSummary> {
    check_options(&o.pool)?;
    if o.pool.measure.is_proportion() {
        run_rows::<ProportionRow>(input, output, o, progress)
    } else {
        run_rows::<EffectRow>(input, output, o, progress)
    }
}

/// [`run_batch`] writing rows of type `T`.
fn run_rows<T: TableRows + From<FitRow>>(
    input: &Path,
    output: &Path,
    o: &BatchOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<BatchSummary> {
    let mut writer = TableWriter::create::<T>(output)?;
    let (mut src, len) = Source::open(input, o)?;
    let mut summary = BatchSummary {
        analyses: 0,
        rows_missing: 0,
        rows_excluded: 0,
        left_out: Vec::new(),
        analyses_failed: 0,
        rows: 0,
        failed: 0,
    };
    let chunk = o.chunk.max(1);
    // The file is read in pieces, each read while the piece before it is pooled (reading is the
    // one serial stage); a chunk (a Parquet row group) is written when its last piece is pooled.
    let piece_size = |in_chunk: usize| PIECE.min(chunk - in_chunk);
    let mut current = read_analyses(&mut src, input, piece_size(0), o)?;
    let mut in_chunk = 0usize;
    let mut rows: Vec<Vec<FitRow>> = Vec::new();
    let mut flat: Vec<T> = Vec::new();
    while !current.is_empty() {
        let after = (in_chunk + current.len()) % chunk;
        let (next, ()) = rayon::join(
            || read_analyses(&mut src, input, piece_size(after), o),
            || {
                current
                    .par_iter()
                    .map(|a| pool_analysis(a, o))
                    .collect_into_vec(&mut rows)
            },
        );
        summary.analyses += current.len() as u64;
        for a in &current {
            for r in &a.records {
                if let Some(why) = &r.left_out {
                    if crate::data::is_excluded_by_label(why) {
                        summary.rows_excluded += 1;
                    } else {
                        summary.rows_missing += 1;
                    }
                    if summary.left_out.len() < LEFT_OUT_LISTED {
                        summary.left_out.push((r.line, a.id.clone(), why.clone()));
                    }
                }
            }
        }
        for r in rows.drain(..) {
            // The first row of an analysis is its own (overall) fit.
            if r.first().is_some_and(|x| !x.converged) {
                summary.analyses_failed += 1;
            }
            summary.rows += r.len() as u64;
            summary.failed += r.iter().filter(|x| !x.converged).count() as u64;
            flat.extend(r.into_iter().map(T::from));
        }
        current = next?;
        in_chunk = after;
        if in_chunk == 0 || current.is_empty() {
            writer.write(&flat)?;
            flat.clear();
            let read = match &src {
                Source::Stream { stream, .. } => stream.bytes,
                Source::Grouped { .. } => len,
            };
            progress(read, len);
        }
    }
    // An exclusion that names no study, or filters that keep no row: an error, and no output.
    src.selection().check(input, o)?;
    writer.finish::<T>()?;
    Ok(summary)
}

/// A synthetic long table for benchmarks and tests: `analyses` analyses of `k` studies each
/// (CSV text with the columns `analysis,study,events,total`), drawn from a seeded random-effects
/// model on the logit scale (μ ~ N(−1, 0.5²) per analysis, τ = 0.4, n ~ U{20, …, 200},
/// events ~ Binomial(n, p)). The same seed gives the same file on every platform, so that
/// `benches/compare_metafor.sh` times R and metarepro on identical data.
pub fn synthetic_long_table(analyses: usize, k: usize, seed: u64) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(analyses * k * 24 + 40);
    out.push_str("analysis,study,events,total\n");
    synthetic_arms(analyses, k, seed, |a, s, events, n| {
        let _ = writeln!(out, "a{a:06},s{s},{events},{n}");
    });
    out
}

/// The arms of [`synthetic_long_table`]: `f(analysis, study, events, n)` for each, in order.
fn synthetic_arms(analyses: usize, k: usize, seed: u64, mut f: impl FnMut(usize, usize, usize, u64)) {
    use crate::diagnostics::rng::Rng;
    for a in 0..analyses {
        let mut rng = Rng::stream(seed, a as u64);
        let mu = -1.0 + 0.5 * rng.normal();
        for s in 0..k {
            let n = 20 + rng.below(181);
            let theta = mu + 0.4 * rng.normal();
            let p = 1.0 / (1.0 + (-theta).exp());
            let events = (0..n).filter(|_| rng.uniform() < p).count();
            f(a, s, events, n);
        }
    }
}

/// A synthetic long table of 2×2 tables (CSV text with the columns
/// `analysis,study,ai,n1i,ci,n2i`): the studies of `synthetic_long_table(analyses, 2 * k, seed)`
/// taken in pairs, study `2j` as group 1 and study `2j + 1` as group 2 of table `j` (so the true
/// log OR of a table is the difference of two draws around the analysis's μ: τ ≈ 0.57 on the
/// log-OR scale, zero cells rare). `benches/compare_metafor.sh` builds the same file from the
/// output of `make_batch_data` with awk.
pub fn synthetic_two_group_table(analyses: usize, k: usize, seed: u64) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(analyses * k * 32 + 40);
    out.push_str("analysis,study,ai,n1i,ci,n2i\n");
    let mut first = (0usize, 0u64);
    synthetic_arms(analyses, 2 * k, seed, |a, s, events, n| {
        if s % 2 == 0 {
            first = (events, n);
        } else {
            let _ = writeln!(out, "a{a:06},s{},{},{},{events},{n}", s / 2, first.0, first.1);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Control;

    /// The CSV headers name the columns the Parquet writer writes, in its order.
    #[test]
    fn csv_headers_name_the_columns() {
        let row = FitRow::failed(RowKey::analysis("a", None), 0, "x".into());
        for (header, effect) in [(CSV_HEADER, false), (CSV_HEADER_EFFECT, true)] {
            let names: Vec<&str> = row_columns(std::slice::from_ref(&row), |r| r, effect)
                .into_iter()
                .map(|c| c.0)
                .collect();
            assert_eq!(header, names.join(",") + "\n");
        }
    }

    fn record(line: usize, counts: Counts) -> Record {
        Record {
            line,
            group: None,
            counts,
            left_out: None,
        }
    }

    /// A row whose τ² estimator stopped before its criterion held keeps its numbers and says so,
    /// for proportions and for 2×2 tables alike; with the default control it converges.
    #[test]
    fn rows_of_a_fit_that_stopped_early_are_flagged_for_every_measure() {
        let events = [4.0, 10.0, 7.0, 15.0, 2.0, 9.0];
        let total = [20.0, 31.0, 15.0, 40.0, 25.0, 18.0];
        let proportions = Analysis {
            id: "p".into(),
            records: (0..6)
                .map(|i| {
                    record(
                        i + 2,
                        Counts::Proportion {
                            events: Ok(events[i]),
                            total: Ok(total[i]),
                        },
                    )
                })
                .collect(),
        };
        let tables = Analysis {
            id: "t".into(),
            records: (0..3)
                .map(|i| {
                    let (a, b) = (2 * i, 2 * i + 1);
                    record(i + 2, Counts::Sizes([events[a], total[a], events[b], total[b]].map(Ok)))
                })
                .collect(),
        };
        for (analysis, measure) in [(&proportions, Measure::PLO), (&tables, Measure::OR)] {
            let mut o = BatchOptions::default();
            o.pool.measure = measure;
            let rows = pool_analysis(analysis, &o);
            assert!(
                rows[0].converged && rows[0].message().is_none(),
                "{measure}: {:?}",
                rows[0]
            );
            // A threshold no step can meet: Fisher scoring stalls and stops early.
            o.pool.control = Control {
                threshold: -1.0,
                ..Control::default()
            };
            let stopped = pool_analysis(analysis, &o);
            let row = &stopped[0];
            assert!(!row.converged, "{measure}: {row:?}");
            assert!(row.message().is_some_and(|m| m.contains("not converged")), "{row:?}");
            assert!(
                (row.tau2 - rows[0].tau2).abs() <= 1e-10 * (1.0 + rows[0].tau2),
                "{measure}"
            );
            assert!(row.estimate.is_finite() && row.ci_lb < row.ci_ub, "{measure}");
        }
    }
}
