//! RevMan reviews as tables (`metarepro import`): one row per study per analysis, and one row
//! per analysis (and per subgroup) with RevMan's stored results, the recomputation by RevMan's
//! rules, the verdict, and the REML and Hartung–Knapp results ([`super::revman`]).
//!
//! A directory of `.rm5` files is read in parallel (rayon), a few files per thread at a time,
//! and streamed to the two tables in file-name order, so memory stays flat in the number of
//! files. A file that cannot be read does not stop the others: it gets one analysis row with
//! `verdict = "unreadable"` and the message, and a note on standard error.
//!
//! Study-table columns usable by `pool` and `batch` (metafor's names): `analysis` (file stem and
//! RevMan ID, unique across files), `ai, n1i, ci, n2i` (dichotomous: events and totals),
//! `m1i, sd1i, n1i, m2i, sd2i, n2i` (continuous), `yi, sei` (generic inverse variance, on the ln
//! scale when `log_scale`), with `data_type`, `method`, `measure` and `model` to select rows
//! (e.g. `--where data_type=DICH`).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::revman::{verify_review, AnalysisCheck, ReviewCheck};
use crate::data::revman::{Outcome, Review, RowData};
use crate::error::{Error, Result};
use crate::report::stream::{csv_f64, csv_text, ColumnData, TableFormat, TableRows, TableWriter};

/// One study row of one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyRecord {
    pub file: String,
    pub analysis: String,
    pub outcome_id: String,
    pub outcome: String,
    pub comparison_id: String,
    pub comparison: String,
    pub subgroup: Option<String>,
    pub subgroup_name: Option<String>,
    pub data_type: &'static str,
    pub method: &'static str,
    pub measure: String,
    pub model: &'static str,
    pub log_scale: bool,
    pub study_id: String,
    pub study: String,
    pub year: Option<String>,
    pub ai: f64,
    pub n1i: f64,
    pub ci: f64,
    pub n2i: f64,
    pub m1i: f64,
    pub sd1i: f64,
    pub m2i: f64,
    pub sd2i: f64,
    pub yi: f64,
    pub sei: f64,
    pub revman_estimable: Option<&'static str>,
    pub revman_effect: f64,
    pub revman_ci_lb: f64,
    pub revman_ci_ub: f64,
    pub revman_weight: f64,
}

/// Either the values of a column, or CSV.
enum Col<'a> {
    T(Vec<Option<&'a str>>),
    F(Vec<f64>),
}

fn to_column(c: Col<'_>) -> ColumnData<'_> {
    match c {
        Col::T(v) => ColumnData::Text(v),
        Col::F(v) => ColumnData::F64(v),
    }
}

/// CSV lines from the columns of `rows` (the same columns as Parquet).
fn csv_from_columns(cols: Vec<(&'static str, ColumnData<'_>)>, n: usize, out: &mut Vec<u8>) {
    for i in 0..n {
        for (j, (_, c)) in cols.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            match c {
                ColumnData::Text(v) => {
                    if let Some(s) = v[i] {
                        csv_text(out, s)
                    }
                }
                ColumnData::F64(v) => csv_f64(out, v[i]),
                ColumnData::U32(v) => out.extend_from_slice(v[i].to_string().as_bytes()),
                ColumnData::U64(v) => out.extend_from_slice(v[i].to_string().as_bytes()),
                ColumnData::Bool(v) => out.extend_from_slice(if v[i] { b"true" } else { b"false" }),
            }
        }
        out.push(b'\n');
    }
}

macro_rules! text {
    ($rows:expr, $f:expr) => {
        Col::T($rows.iter().map($f).collect())
    };
}
macro_rules! num {
    ($rows:expr, $f:expr) => {
        Col::F($rows.iter().map($f).collect())
    };
}

/// The study-table header (checked against the columns by a test).
pub const STUDY_HEADER: &str = "file,analysis,outcome_id,outcome,comparison_id,comparison,subgroup,subgroup_name,\
data_type,method,measure,model,log_scale,study_id,study,year,ai,n1i,ci,n2i,m1i,sd1i,m2i,sd2i,yi,sei,\
revman_estimable,revman_effect,revman_ci_lb,revman_ci_ub,revman_weight\n";

impl TableRows for StudyRecord {
    fn columns(r: &[Self]) -> Vec<(&'static str, ColumnData<'_>)> {
        let cols: Vec<(&'static str, Col)> = vec![
            ("file", text!(r, |x| Some(x.file.as_str()))),
            ("analysis", text!(r, |x| Some(x.analysis.as_str()))),
            ("outcome_id", text!(r, |x| Some(x.outcome_id.as_str()))),
            ("outcome", text!(r, |x| Some(x.outcome.as_str()))),
            ("comparison_id", text!(r, |x| Some(x.comparison_id.as_str()))),
            ("comparison", text!(r, |x| Some(x.comparison.as_str()))),
            ("subgroup", text!(r, |x| x.subgroup.as_deref())),
            ("subgroup_name", text!(r, |x| x.subgroup_name.as_deref())),
            ("data_type", text!(r, |x| Some(x.data_type))),
            ("method", text!(r, |x| Some(x.method))),
            ("measure", text!(r, |x| Some(x.measure.as_str()))),
            ("model", text!(r, |x| Some(x.model))),
            (
                "log_scale",
                text!(r, |x| Some(if x.log_scale { "true" } else { "false" })),
            ),
            ("study_id", text!(r, |x| Some(x.study_id.as_str()))),
            ("study", text!(r, |x| Some(x.study.as_str()))),
            ("year", text!(r, |x| x.year.as_deref())),
            ("ai", num!(r, |x| x.ai)),
            ("n1i", num!(r, |x| x.n1i)),
            ("ci", num!(r, |x| x.ci)),
            ("n2i", num!(r, |x| x.n2i)),
            ("m1i", num!(r, |x| x.m1i)),
            ("sd1i", num!(r, |x| x.sd1i)),
            ("m2i", num!(r, |x| x.m2i)),
            ("sd2i", num!(r, |x| x.sd2i)),
            ("yi", num!(r, |x| x.yi)),
            ("sei", num!(r, |x| x.sei)),
            ("revman_estimable", text!(r, |x| x.revman_estimable)),
            ("revman_effect", num!(r, |x| x.revman_effect)),
            ("revman_ci_lb", num!(r, |x| x.revman_ci_lb)),
            ("revman_ci_ub", num!(r, |x| x.revman_ci_ub)),
            ("revman_weight", num!(r, |x| x.revman_weight)),
        ];
        cols.into_iter().map(|(n, c)| (n, to_column(c))).collect()
    }

    fn csv_header() -> &'static str {
        STUDY_HEADER
    }

    fn write_csv(rows: &[Self], out: &mut Vec<u8>) {
        csv_from_columns(Self::columns(rows), rows.len(), out)
    }
}

/// One analysis (or subgroup) of a review: RevMan's numbers, the recomputation, the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRecord {
    pub file: String,
    pub analysis: String,
    pub outcome_id: String,
    pub subgroup: Option<String>,
    pub subgroup_name: Option<String>,
    pub comparison: String,
    pub name: String,
    pub data_type: &'static str,
    pub method: &'static str,
    pub measure: String,
    pub model: &'static str,
    pub totals: &'static str,
    pub k: f64,
    pub k_estimable: f64,
    /// estimate, ci_lb, ci_ub, z, p, tau2, I2, Q, Q_df, Q_p.
    pub revman: [f64; 10],
    pub recomputed: [f64; 10],
    /// Q, p, I2 of the subgroup-difference test.
    pub revman_test: [f64; 3],
    pub recomputed_test: [f64; 3],
    pub verdict: &'static str,
    pub differences: Option<String>,
    pub max_rel_diff: f64,
    pub artefacts: Option<String>,
    /// estimate, ci_lb, ci_ub, tau2 of REML and of REML with Hartung–Knapp.
    pub reml: [f64; 4],
    pub reml_hk: [f64; 4],
    pub revman_ci_crosses_null: Option<&'static str>,
    pub null_crossing_changes: Option<&'static str>,
    pub crossing_change: Option<String>,
    pub message: Option<String>,
}

#[cfg(test)]
const NUMBERS: [&str; 10] = ["estimate", "ci_lb", "ci_ub", "z", "p", "tau2", "I2", "Q", "Q_df", "Q_p"];

/// The analysis-table header (checked against the columns by a test).
pub const ANALYSIS_HEADER: &str = "file,analysis,outcome_id,subgroup,subgroup_name,comparison,name,data_type,method,\
measure,model,totals,k,k_estimable,\
revman_estimate,revman_ci_lb,revman_ci_ub,revman_z,revman_p,revman_tau2,revman_I2,revman_Q,revman_Q_df,revman_Q_p,\
recomputed_estimate,recomputed_ci_lb,recomputed_ci_ub,recomputed_z,recomputed_p,recomputed_tau2,recomputed_I2,\
recomputed_Q,recomputed_Q_df,recomputed_Q_p,revman_subgroup_Q,revman_subgroup_p,revman_subgroup_I2,\
recomputed_subgroup_Q,recomputed_subgroup_p,recomputed_subgroup_I2,verdict,differences,max_rel_diff,artefacts,\
reml_estimate,reml_ci_lb,reml_ci_ub,reml_tau2,reml_hk_estimate,reml_hk_ci_lb,reml_hk_ci_ub,reml_hk_tau2,\
revman_ci_crosses_null,null_crossing_changes,crossing_change,message\n";

const REVMAN_NAMES: [&str; 10] = [
    "revman_estimate",
    "revman_ci_lb",
    "revman_ci_ub",
    "revman_z",
    "revman_p",
    "revman_tau2",
    "revman_I2",
    "revman_Q",
    "revman_Q_df",
    "revman_Q_p",
];
const RECOMPUTED_NAMES: [&str; 10] = [
    "recomputed_estimate",
    "recomputed_ci_lb",
    "recomputed_ci_ub",
    "recomputed_z",
    "recomputed_p",
    "recomputed_tau2",
    "recomputed_I2",
    "recomputed_Q",
    "recomputed_Q_df",
    "recomputed_Q_p",
];

impl TableRows for AnalysisRecord {
    fn columns(r: &[Self]) -> Vec<(&'static str, ColumnData<'_>)> {
        let mut cols: Vec<(&'static str, Col)> = vec![
            ("file", text!(r, |x| Some(x.file.as_str()))),
            ("analysis", text!(r, |x| Some(x.analysis.as_str()))),
            ("outcome_id", text!(r, |x| Some(x.outcome_id.as_str()))),
            ("subgroup", text!(r, |x| x.subgroup.as_deref())),
            ("subgroup_name", text!(r, |x| x.subgroup_name.as_deref())),
            ("comparison", text!(r, |x| Some(x.comparison.as_str()))),
            ("name", text!(r, |x| Some(x.name.as_str()))),
            ("data_type", text!(r, |x| Some(x.data_type))),
            ("method", text!(r, |x| Some(x.method))),
            ("measure", text!(r, |x| Some(x.measure.as_str()))),
            ("model", text!(r, |x| Some(x.model))),
            ("totals", text!(r, |x| Some(x.totals))),
            ("k", num!(r, |x| x.k)),
            ("k_estimable", num!(r, |x| x.k_estimable)),
        ];
        for (i, n) in REVMAN_NAMES.iter().enumerate() {
            cols.push((n, num!(r, |x| x.revman[i])));
        }
        for (i, n) in RECOMPUTED_NAMES.iter().enumerate() {
            cols.push((n, num!(r, |x| x.recomputed[i])));
        }
        for (i, n) in ["revman_subgroup_Q", "revman_subgroup_p", "revman_subgroup_I2"]
            .iter()
            .enumerate()
        {
            cols.push((n, num!(r, |x| x.revman_test[i])));
        }
        for (i, n) in [
            "recomputed_subgroup_Q",
            "recomputed_subgroup_p",
            "recomputed_subgroup_I2",
        ]
        .iter()
        .enumerate()
        {
            cols.push((n, num!(r, |x| x.recomputed_test[i])));
        }
        cols.push(("verdict", text!(r, |x| Some(x.verdict))));
        cols.push(("differences", text!(r, |x| x.differences.as_deref())));
        cols.push(("max_rel_diff", num!(r, |x| x.max_rel_diff)));
        cols.push(("artefacts", text!(r, |x| x.artefacts.as_deref())));
        for (i, n) in ["reml_estimate", "reml_ci_lb", "reml_ci_ub", "reml_tau2"]
            .iter()
            .enumerate()
        {
            cols.push((n, num!(r, |x| x.reml[i])));
        }
        for (i, n) in ["reml_hk_estimate", "reml_hk_ci_lb", "reml_hk_ci_ub", "reml_hk_tau2"]
            .iter()
            .enumerate()
        {
            cols.push((n, num!(r, |x| x.reml_hk[i])));
        }
        cols.push(("revman_ci_crosses_null", text!(r, |x| x.revman_ci_crosses_null)));
        cols.push(("null_crossing_changes", text!(r, |x| x.null_crossing_changes)));
        cols.push(("crossing_change", text!(r, |x| x.crossing_change.as_deref())));
        cols.push(("message", text!(r, |x| x.message.as_deref())));
        cols.into_iter().map(|(n, c)| (n, to_column(c))).collect()
    }

    fn csv_header() -> &'static str {
        ANALYSIS_HEADER
    }

    fn write_csv(rows: &[Self], out: &mut Vec<u8>) {
        csv_from_columns(Self::columns(rows), rows.len(), out)
    }
}

fn nan(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The stem of a file, the prefix of its analysis ids.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn study_records(review: &Review, file: &str, prefix: &str) -> Vec<StudyRecord> {
    let mut out = Vec::new();
    for c in &review.comparisons {
        for o in &c.outcomes {
            let sets: Vec<(Option<String>, Option<String>, &Vec<crate::data::revman::Row>)> = if o.subgroups.is_empty()
            {
                vec![(None, None, &o.rows)]
            } else {
                o.subgroups
                    .iter()
                    .map(|s| (Some(s.no.to_string()), Some(s.name.clone()), &s.rows))
                    .collect()
            };
            for (sg, sg_name, rows) in sets {
                for r in rows {
                    out.push(study_record(review, file, prefix, c, o, sg.clone(), sg_name.clone(), r));
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn study_record(
    _review: &Review,
    file: &str,
    prefix: &str,
    c: &crate::data::revman::Comparison,
    o: &Outcome,
    subgroup: Option<String>,
    subgroup_name: Option<String>,
    r: &crate::data::revman::Row,
) -> StudyRecord {
    let n = f64::NAN;
    let (mut ai, mut n1i, mut ci, mut n2i, mut m1i, mut sd1i, mut m2i, mut sd2i, mut yi, mut sei) =
        (n, n, n, n, n, n, n, n, n, n);
    match r.data {
        RowData::Dich {
            events_1,
            total_1,
            events_2,
            total_2,
        } => {
            (ai, n1i, ci, n2i) = (events_1, total_1, events_2, total_2);
        }
        RowData::Cont {
            mean_1,
            sd_1,
            total_1,
            mean_2,
            sd_2,
            total_2,
        } => {
            (m1i, sd1i, n1i, m2i, sd2i, n2i) = (mean_1, sd_1, total_1, mean_2, sd_2, total_2);
        }
        RowData::Iv { estimate, se } => {
            (yi, sei) = (estimate, se);
        }
    }
    StudyRecord {
        file: file.to_string(),
        analysis: format!("{prefix}:{}", o.id),
        outcome_id: o.id.clone(),
        outcome: o.name.clone(),
        comparison_id: c.id.clone(),
        comparison: c.name.clone(),
        subgroup,
        subgroup_name,
        data_type: o.data_type.as_str(),
        method: o.method.as_str(),
        measure: o.measure.label(),
        model: if o.random { "random" } else { "fixed" },
        log_scale: o.measure.is_ratio(),
        study_id: r.study_id.clone(),
        study: r.study.clone(),
        year: r.year.clone(),
        ai,
        n1i,
        ci,
        n2i,
        m1i,
        sd1i,
        m2i,
        sd2i,
        yi,
        sei,
        revman_estimable: r.estimable.map(|b| if b { "YES" } else { "NO" }),
        revman_effect: nan(r.effect_size),
        revman_ci_lb: nan(r.ci_start),
        revman_ci_ub: nan(r.ci_end),
        revman_weight: nan(r.weight),
    }
}

fn numbers(n: &super::revman::Numbers) -> [f64; 10] {
    [
        nan(n.estimate),
        nan(n.ci_lb),
        nan(n.ci_ub),
        nan(n.z),
        nan(n.p),
        nan(n.tau2),
        nan(n.i2),
        nan(n.q),
        nan(n.q_df),
        nan(n.q_p),
    ]
}

fn analysis_record(file: &str, prefix: &str, a: &AnalysisCheck) -> AnalysisRecord {
    let t = a.subgroup_test;
    let alt = |x: Option<&super::revman::Alternative>| match x {
        Some(x) => [x.estimate, x.ci_lb, x.ci_ub, x.tau2],
        None => [f64::NAN; 4],
    };
    let b = a.beyond.as_ref();
    AnalysisRecord {
        file: file.to_string(),
        analysis: format!("{prefix}:{}", a.id),
        outcome_id: a.id.clone(),
        subgroup: a.subgroup.map(|s| s.to_string()),
        subgroup_name: a.subgroup_name.clone(),
        comparison: a.comparison.clone(),
        name: a.name.clone(),
        data_type: a.data_type,
        method: a.method,
        measure: a.measure.clone(),
        model: a.model,
        totals: a.totals,
        k: a.k as f64,
        k_estimable: a.k_estimable as f64,
        revman: numbers(&a.revman),
        recomputed: numbers(&a.recomputed),
        revman_test: match t {
            Some(t) => [nan(t.revman.q), nan(t.revman.p), nan(t.revman.i2)],
            None => [f64::NAN; 3],
        },
        recomputed_test: match t {
            Some(t) => [nan(t.recomputed.q), nan(t.recomputed.p), nan(t.recomputed.i2)],
            None => [f64::NAN; 3],
        },
        verdict: a.verdict.as_str(),
        differences: (!a.differences.is_empty()).then(|| {
            a.differences
                .iter()
                .map(|d| d.what.clone())
                .collect::<Vec<_>>()
                .join("; ")
        }),
        max_rel_diff: a.differences.iter().filter_map(|d| d.rel_diff).fold(f64::NAN, |m, x| {
            if m.is_nan() || x > m {
                x
            } else {
                m
            }
        }),
        artefacts: (!a.artefacts.is_empty()).then(|| a.artefacts.join("; ")),
        reml: alt(b.and_then(|b| b.reml.as_ref())),
        reml_hk: alt(b.and_then(|b| b.reml_hk.as_ref())),
        revman_ci_crosses_null: b.map(|b| yes_no(b.revman_ci_crosses_null)),
        null_crossing_changes: b.map(|b| yes_no(b.null_crossing_changes)),
        crossing_change: b.map(|b| b.change.clone()),
        message: (!a.notes.is_empty()).then(|| a.notes.join("; ")),
    }
}

/// The two tables of one review and its check.
pub fn records(review: &Review, check: &ReviewCheck) -> (Vec<StudyRecord>, Vec<AnalysisRecord>) {
    let file = review.file.display().to_string();
    let prefix = stem(&review.file);
    let studies = study_records(review, &file, &prefix);
    let analyses = check
        .analyses
        .iter()
        .map(|a| analysis_record(&file, &prefix, a))
        .collect();
    (studies, analyses)
}

fn unreadable(path: &Path, e: &Error) -> AnalysisRecord {
    AnalysisRecord {
        file: path.display().to_string(),
        analysis: stem(path),
        outcome_id: String::new(),
        subgroup: None,
        subgroup_name: None,
        comparison: String::new(),
        name: String::new(),
        data_type: "",
        method: "",
        measure: String::new(),
        model: "",
        totals: "",
        k: f64::NAN,
        k_estimable: f64::NAN,
        revman: [f64::NAN; 10],
        recomputed: [f64::NAN; 10],
        revman_test: [f64::NAN; 3],
        recomputed_test: [f64::NAN; 3],
        verdict: "unreadable",
        differences: None,
        max_rel_diff: f64::NAN,
        artefacts: None,
        reml: [f64::NAN; 4],
        reml_hk: [f64::NAN; 4],
        revman_ci_crosses_null: None,
        null_crossing_changes: None,
        crossing_change: None,
        message: Some(e.to_string()),
    }
}

/// Whether `p` is a RevMan file of a directory: a `.rm5`, or a `.csv` whose header is RevMan's
/// analysis-data export.
fn is_revman_file(p: &Path) -> bool {
    match crate::data::extension(p).as_str() {
        "rm5" => true,
        "csv" => {
            let mut head = [0u8; 4096];
            let n = std::fs::File::open(p)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                .unwrap_or(0);
            crate::data::revman_csv::looks_like_revman_csv(&head[..n])
        }
        _ => false,
    }
}

/// The RevMan files of `input` (a file, or a directory read non-recursively: its `.rm5` files and
/// RevMan analysis-data CSVs), in name order.
pub fn rm5_files(input: &Path) -> Result<Vec<PathBuf>> {
    if !input.is_dir() {
        return Ok(vec![input.to_path_buf()]);
    }
    let rd = std::fs::read_dir(input).map_err(|e| Error::Input {
        file: input.to_path_buf(),
        message: format!("cannot read the directory: {e}"),
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_revman_file(p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Input {
            file: input.to_path_buf(),
            message: "the directory has no .rm5 files".into(),
        });
    }
    Ok(files)
}

/// The two tables of one review.
type Tables = (Vec<StudyRecord>, Vec<AnalysisRecord>);

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub files: usize,
    pub unreadable: usize,
    pub studies: usize,
    pub analyses: usize,
    pub reproduced: usize,
    pub differs: usize,
}

/// Read every file of `files`, check it, and stream the two tables to `studies_out` and
/// `analyses_out` (Parquet or CSV by extension; written atomically). A single file that cannot
/// be read is an error (nothing written); with several files it becomes an `unreadable` row.
pub fn import(
    files: &[PathBuf],
    studies_out: &Path,
    analyses_out: &Path,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<ImportSummary> {
    import_as(files, studies_out, analyses_out, None, progress)
}

/// [`import`] in a stated table format (`None`: each output's extension decides).
pub fn import_as(
    files: &[PathBuf],
    studies_out: &Path,
    analyses_out: &Path,
    format: Option<TableFormat>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<ImportSummary> {
    let mut ws = TableWriter::create_as::<StudyRecord>(studies_out, format)?;
    let mut wa = TableWriter::create_as::<AnalysisRecord>(analyses_out, format)?;
    let mut sum = ImportSummary {
        files: files.len(),
        ..Default::default()
    };
    let piece = 4 * rayon::current_num_threads().max(1);
    for chunk in files.chunks(piece) {
        let done: Vec<Result<Tables>> = chunk
            .par_iter()
            .map(|p| {
                let review = crate::data::revman_csv::read_review(p)?;
                let check = verify_review(&review);
                Ok(records(&review, &check))
            })
            .collect();
        for (p, r) in chunk.iter().zip(done) {
            match r {
                Ok((s, a)) => {
                    sum.studies += s.len();
                    sum.analyses += a.len();
                    sum.reproduced += a.iter().filter(|x| x.verdict == "reproduced").count();
                    sum.differs += a.iter().filter(|x| x.verdict == "differs").count();
                    ws.write(&s)?;
                    wa.write(&a)?;
                }
                Err(e) => {
                    if files.len() == 1 {
                        return Err(e);
                    }
                    eprintln!("note: {e}");
                    sum.unreadable += 1;
                    wa.write(&[unreadable(p, &e)])?;
                }
            }
            if let Some(pb) = progress {
                pb.inc(1);
            }
        }
    }
    ws.finish::<StudyRecord>()?;
    wa.finish::<AnalysisRecord>()?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_columns() {
        let names =
            |cols: Vec<(&'static str, ColumnData<'_>)>| cols.iter().map(|c| c.0).collect::<Vec<_>>().join(",") + "\n";
        assert_eq!(names(StudyRecord::columns(&[])), STUDY_HEADER);
        assert_eq!(names(AnalysisRecord::columns(&[])), ANALYSIS_HEADER);
        assert_eq!(NUMBERS.len(), REVMAN_NAMES.len());
        for (n, r) in NUMBERS.iter().zip(REVMAN_NAMES) {
            assert_eq!(format!("revman_{n}"), r);
        }
    }
}
