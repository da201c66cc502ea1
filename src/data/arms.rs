//! Study-level inputs of every kind: one [`StudyInput`] per study row, so that rows of different
//! kinds can sit in one analysis (2×2 tables beside studies that print only an OR and its CI,
//! metafor issue #71).
//!
//! The default column names are metafor `escalc`'s argument names (`ai, bi, ci, di` or
//! `ai, n1i, ci, n2i`; `m1i, sd1i, n1i, m2i, sd2i, n2i`; `x1i, t1i, x2i, t2i`; `ri, ni`; `yi` with
//! `sei` or `vi`), plus `est, ci_lb, ci_ub` (and an optional `level` column) for a published
//! estimate with its CI on the natural scale. [`Columns`] maps each to another column name.
//!
//! A row is read as the first kind of its family whose columns are all filled in: for binary data
//! the 2×2 table, then the estimate with its CI; a row that fills in none is an error naming the
//! row and the missing cells (or, with `--na drop`, a listed exclusion).

use std::path::Path;

use super::{check_unique, column_text, parse_count_text, At, LoadOptions, Studies, Table, MISSING};
use crate::error::{Error, Result};

/// The data of one study row.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StudyInput {
    /// Single-arm events `xi` of `ni` patients.
    Proportion { xi: f64, ni: f64 },
    /// A 2×2 table: events `ai`, non-events `bi` in group 1; `ci`, `di` in group 2.
    Table2x2 { ai: f64, bi: f64, ci: f64, di: f64 },
    /// Means, SDs and sizes of two groups.
    Means {
        m1i: f64,
        sd1i: f64,
        n1i: f64,
        m2i: f64,
        sd2i: f64,
        n2i: f64,
    },
    /// Events and person-time of two groups.
    Rates { x1i: f64, t1i: f64, x2i: f64, t2i: f64 },
    /// A correlation coefficient and its sample size.
    Correlation { ri: f64, ni: f64 },
    /// An effect size on the analysis scale with its sampling variance.
    Generic { yi: f64, vi: f64 },
    /// A published estimate with its CI, on the natural scale (an OR, not its log), at `level`
    /// (a fraction, e.g. 0.95).
    EstimateCi {
        est: f64,
        ci_lb: f64,
        ci_ub: f64,
        level: f64,
    },
}

impl StudyInput {
    /// Short name of the kind, as the reports print it.
    pub fn kind(&self) -> &'static str {
        match self {
            StudyInput::Proportion { .. } => "events/total",
            StudyInput::Table2x2 { .. } => "2x2 table",
            StudyInput::Means { .. } => "means/SDs",
            StudyInput::Rates { .. } => "events/person-time",
            StudyInput::Correlation { .. } => "correlation",
            StudyInput::Generic { .. } => "yi/vi",
            StudyInput::EstimateCi { .. } => "estimate with CI",
        }
    }

    /// The arm columns of the row, as a forest plot or a study table shows them: events, total,
    /// events, total (2×2 tables); mean, SD, n of each group; events, person-time of each group;
    /// n (correlations); yi, SE (generic); none for single-arm rows and printed estimates.
    pub fn arm_values(&self) -> Vec<f64> {
        match *self {
            StudyInput::Table2x2 { ai, bi, ci, di } => vec![ai, ai + bi, ci, ci + di],
            StudyInput::Means {
                m1i,
                sd1i,
                n1i,
                m2i,
                sd2i,
                n2i,
            } => vec![m1i, sd1i, n1i, m2i, sd2i, n2i],
            StudyInput::Rates { x1i, t1i, x2i, t2i } => vec![x1i, t1i, x2i, t2i],
            StudyInput::Correlation { ni, .. } => vec![ni],
            StudyInput::Generic { yi, vi } => vec![yi, vi.sqrt()],
            StudyInput::Proportion { .. } | StudyInput::EstimateCi { .. } => vec![],
        }
    }

    /// Events and totals of the two arms, where the row has them (2×2 tables).
    pub fn arms(&self) -> Option<(f64, f64, f64, f64)> {
        match *self {
            StudyInput::Table2x2 { ai, bi, ci, di } => Some((ai, ai + bi, ci, ci + di)),
            _ => None,
        }
    }
}

/// The family of inputs an analysis reads (set by the measure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Single-arm events and totals (PR, PLN, PLO, PAS, PFT).
    Proportion,
    /// Two-group events (OR, RR, RD, PETO, AS): 2×2 tables or estimates with CIs.
    Binary,
    /// Two-group means (MD, SMD, SMDH, ROM), or estimates with CIs.
    Continuous,
    /// Two-group events and person-time (IRR, IRD), or estimates with CIs.
    Rate,
    /// Correlations (COR, ZCOR), or estimates with CIs.
    Correlation,
    /// Effect sizes with their variances or standard errors (GEN), or estimates with CIs.
    Generic,
}

/// Column names of every input kind (metafor's argument names by default).
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub ai: String,
    pub bi: String,
    pub ci: String,
    pub di: String,
    pub n1i: String,
    pub n2i: String,
    pub m1i: String,
    pub sd1i: String,
    pub m2i: String,
    pub sd2i: String,
    pub x1i: String,
    pub t1i: String,
    pub x2i: String,
    pub t2i: String,
    pub ri: String,
    pub ni: String,
    pub yi: String,
    pub vi: String,
    pub sei: String,
    pub est: String,
    pub ci_lb: String,
    pub ci_ub: String,
    /// Column with the level of each CI (percent or fraction); when absent, `default_level`.
    pub level: String,
}

impl Default for Columns {
    fn default() -> Self {
        let s = |x: &str| x.to_string();
        Columns {
            ai: s("ai"),
            bi: s("bi"),
            ci: s("ci"),
            di: s("di"),
            n1i: s("n1i"),
            n2i: s("n2i"),
            m1i: s("m1i"),
            sd1i: s("sd1i"),
            m2i: s("m2i"),
            sd2i: s("sd2i"),
            x1i: s("x1i"),
            t1i: s("t1i"),
            x2i: s("x2i"),
            t2i: s("t2i"),
            ri: s("ri"),
            ni: s("ni"),
            yi: s("yi"),
            vi: s("vi"),
            sei: s("sei"),
            est: s("est"),
            ci_lb: s("ci_lb"),
            ci_ub: s("ci_ub"),
            level: s("level"),
        }
    }
}

/// What a value must be.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// A whole number ≥ 0.
    Count,
    /// A whole number ≥ 1.
    Size,
    /// Any finite number.
    Real,
    /// A finite number ≥ 0.
    NonNegative,
    /// A finite number > 0.
    Positive,
    /// A number in [−1, 1].
    Correlation,
}

/// One way a row can be read: the columns it needs, with their rules, and how to build the input.
struct Layout {
    cols: Vec<(String, Rule)>,
    build: fn(&[f64]) -> StudyInput,
}

fn layouts(kind: InputKind, c: &Columns) -> Vec<Layout> {
    use Rule::*;
    let l = |cols: Vec<(&String, Rule)>, build: fn(&[f64]) -> StudyInput| Layout {
        cols: cols.into_iter().map(|(n, r)| (n.clone(), r)).collect(),
        build,
    };
    let est_ci = l(vec![(&c.est, Real), (&c.ci_lb, Real), (&c.ci_ub, Real)], |v| {
        StudyInput::EstimateCi {
            est: v[0],
            ci_lb: v[1],
            ci_ub: v[2],
            level: f64::NAN,
        }
    });
    match kind {
        InputKind::Proportion => vec![l(vec![(&c.ai, Count), (&c.n1i, Size)], |v| StudyInput::Proportion {
            xi: v[0],
            ni: v[1],
        })],
        InputKind::Binary => vec![
            l(
                vec![(&c.ai, Count), (&c.bi, Count), (&c.ci, Count), (&c.di, Count)],
                |v| StudyInput::Table2x2 {
                    ai: v[0],
                    bi: v[1],
                    ci: v[2],
                    di: v[3],
                },
            ),
            l(
                vec![(&c.ai, Count), (&c.n1i, Size), (&c.ci, Count), (&c.n2i, Size)],
                |v| StudyInput::Table2x2 {
                    ai: v[0],
                    bi: v[1] - v[0],
                    ci: v[2],
                    di: v[3] - v[2],
                },
            ),
            est_ci,
        ],
        InputKind::Continuous => vec![
            l(
                vec![
                    (&c.m1i, Real),
                    (&c.sd1i, NonNegative),
                    (&c.n1i, Size),
                    (&c.m2i, Real),
                    (&c.sd2i, NonNegative),
                    (&c.n2i, Size),
                ],
                |v| StudyInput::Means {
                    m1i: v[0],
                    sd1i: v[1],
                    n1i: v[2],
                    m2i: v[3],
                    sd2i: v[4],
                    n2i: v[5],
                },
            ),
            est_ci,
        ],
        InputKind::Rate => vec![
            l(
                vec![(&c.x1i, Count), (&c.t1i, Positive), (&c.x2i, Count), (&c.t2i, Positive)],
                |v| StudyInput::Rates {
                    x1i: v[0],
                    t1i: v[1],
                    x2i: v[2],
                    t2i: v[3],
                },
            ),
            est_ci,
        ],
        InputKind::Correlation => vec![
            l(vec![(&c.ri, Correlation), (&c.ni, Size)], |v| StudyInput::Correlation {
                ri: v[0],
                ni: v[1],
            }),
            est_ci,
        ],
        InputKind::Generic => vec![
            l(vec![(&c.yi, Real), (&c.vi, NonNegative)], |v| StudyInput::Generic {
                yi: v[0],
                vi: v[1],
            }),
            l(vec![(&c.yi, Real), (&c.sei, NonNegative)], |v| StudyInput::Generic {
                yi: v[0],
                vi: v[1] * v[1],
            }),
            est_ci,
        ],
    }
}

/// Parse a real number: digits with an optional sign, decimal point (or decimal comma when
/// `decimal_comma`) and exponent. Unicode minus signs are accepted; thousands separators,
/// `NaN` and infinities are not.
pub fn parse_real_text(text: &str, decimal_comma: bool) -> std::result::Result<f64, String> {
    let t = text.trim().replace('\u{2212}', "-");
    let s = if decimal_comma { t.replace(',', ".") } else { t.clone() };
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match s.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => Ok(v),
        _ => {
            let hint = if !decimal_comma && t.contains(',') {
                " (a decimal comma is accepted only when the delimiter is not a comma, e.g. ';')"
            } else {
                ""
            };
            Err(format!("\"{t}\" is not a number{hint}"))
        }
    }
}

fn check_rule(rule: Rule, text: &str, decimal_comma: bool) -> std::result::Result<f64, String> {
    match rule {
        Rule::Count => parse_count_text(text, decimal_comma),
        Rule::Size => {
            let v = parse_count_text(text, decimal_comma)?;
            if v < 1.0 {
                return Err("0 is not a valid group size (expected at least one patient)".into());
            }
            Ok(v)
        }
        Rule::Real => parse_real_text(text, decimal_comma),
        Rule::NonNegative => {
            let v = parse_real_text(text, decimal_comma)?;
            if v < 0.0 {
                return Err(format!(
                    "{v} is negative (a standard deviation, SE or variance cannot be)"
                ));
            }
            Ok(v)
        }
        Rule::Positive => {
            let v = parse_real_text(text, decimal_comma)?;
            if !(v > 0.0) {
                return Err(format!("{v} is not positive (expected person-time > 0)"));
            }
            Ok(v)
        }
        Rule::Correlation => {
            let v = parse_real_text(text, decimal_comma)?;
            if !(-1.0..=1.0).contains(&v) {
                return Err(format!("{v} is not a correlation (expected a number from -1 to 1)"));
            }
            Ok(v)
        }
    }
}

/// Filter and validate a table of study inputs of `kind` (see the module documentation).
/// `default_level` is the level of the CIs of estimate rows when the table has no level column.
pub fn select_inputs(
    table: Table,
    path: &Path,
    options: &LoadOptions,
    kind: InputKind,
    default_level: f64,
) -> Result<Studies> {
    let Table {
        frame: df,
        lines,
        decimal_comma,
    } = table;
    if df.height() == 0 {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "no data rows (only a header)".into(),
        });
    }
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    check_unique(path, &names)?;
    let cols = &options.columns;
    let has = |c: &str| names.iter().any(|n| n == c);
    // The layouts whose columns all exist; at least one must.
    let usable: Vec<Layout> = layouts(kind, cols)
        .into_iter()
        .filter(|l| l.cols.iter().all(|(c, _)| has(c)))
        .collect();
    if usable.is_empty() {
        let wanted: Vec<String> = layouts(kind, cols)
            .iter()
            .map(|l| l.cols.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "))
            .collect();
        let missing = layouts(kind, cols)
            .into_iter()
            .next()
            .and_then(|l| l.cols.into_iter().map(|(c, _)| c).find(|c| !has(c)))
            .unwrap_or_default();
        return Err(Error::MissingColumn {
            file: path.to_path_buf(),
            column: missing,
            purpose: format!(
                "this measure needs the columns {} (columns of other names can be mapped to these)",
                wanted.join("; or ")
            ),
            available: names.clone(),
        });
    }
    let keep = super::row_filter(&df, path, &options.filters, &names)?;
    for (purpose, c) in [
        ("study labels", Some(&options.study)),
        ("subgroups", options.by.as_ref()),
    ] {
        if let Some(c) = c {
            if !has(c) {
                return Err(Error::MissingColumn {
                    file: path.to_path_buf(),
                    column: c.clone(),
                    purpose: purpose.to_string(),
                    available: names.clone(),
                });
            }
        }
    }
    let study = column_text(&df, path, &options.study, "study labels")?;
    let mut keep = keep;
    let by_label_rows = super::exclude_studies(path, &study, &mut keep, &options.exclude)?;
    let by_label = by_label_rows.len();
    let group = match &options.by {
        Some(b) => Some(column_text(&df, path, b, "subgroups")?),
        None => None,
    };
    let level_col = if has(&cols.level) {
        Some(column_text(&df, path, &cols.level, "CI level")?)
    } else {
        None
    };
    // Text of every column any usable layout needs.
    let mut texts: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for l in &usable {
        for (c, _) in &l.cols {
            if !texts.iter().any(|(n, _)| n == c) {
                texts.push((c.clone(), column_text(&df, path, c, "study data")?));
            }
        }
    }
    let cell = |c: &str, i: usize| -> Option<&str> {
        texts
            .iter()
            .find(|(n, _)| n == c)
            .and_then(|(_, v)| v.get(i))
            .and_then(|v| v.as_deref())
            .filter(|t| !MISSING.contains(t))
    };
    let mut out = Studies::empty(path);
    out.decimal_comma = decimal_comma;
    out.excluded = by_label_rows;
    let mut out_group = Vec::new();
    let mut keep_rows = keep.clone();
    for i in 0..df.height() {
        if !keep[i] {
            continue;
        }
        let row = i + 1;
        let at = At {
            file: path,
            row,
            line: lines.get(i).copied(),
        };
        // The first layout whose cells are all filled in.
        let layout = usable.iter().find(|l| l.cols.iter().all(|(c, _)| cell(c, i).is_some()));
        let Some(layout) = layout else {
            let first = &usable[0];
            let empty: Vec<&str> = first
                .cols
                .iter()
                .filter(|(c, _)| cell(c, i).is_none())
                .map(|(c, _)| c.as_str())
                .collect();
            if options.na_drop {
                let q: Vec<String> = empty.iter().map(|c| format!("\"{c}\"")).collect();
                out.excluded.push((row, format!("missing {}", q.join(" and "))));
                keep_rows[i] = false;
                continue;
            }
            let alternatives = if usable.len() > 1 {
                let other: Vec<String> = usable[1..]
                    .iter()
                    .map(|l| l.cols.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "))
                    .collect();
                format!(", and the row does not fill in {} either", other.join("; or "))
            } else {
                String::new()
            };
            return Err(at.err(
                empty.first().copied().unwrap_or(""),
                format!(
                    "empty or missing cells ({}){alternatives}; fill them in, or choose to drop rows with missing values",
                    empty.join(", ")
                ),
            ));
        };
        let mut v = Vec::with_capacity(layout.cols.len());
        for (c, rule) in &layout.cols {
            let text = cell(c, i).unwrap_or_default();
            v.push(check_rule(*rule, text, decimal_comma).map_err(|m| at.err(c, m))?);
        }
        let mut input = (layout.build)(&v);
        match &mut input {
            StudyInput::Table2x2 { bi, di, .. } => {
                // ai, n1i, ci, n2i: events above the total make a negative non-event count.
                if *bi < 0.0 {
                    return Err(at.err(&cols.ai, format!("{} is greater than {} ({})", v[0], cols.n1i, v[1])));
                }
                if *di < 0.0 {
                    return Err(at.err(&cols.ci, format!("{} is greater than {} ({})", v[2], cols.n2i, v[3])));
                }
            }
            StudyInput::Means { .. } | StudyInput::Rates { .. } | StudyInput::Correlation { .. } => {}
            StudyInput::EstimateCi {
                est,
                ci_lb,
                ci_ub,
                level,
            } => {
                let lv = match level_col.as_ref().and_then(|l| l[i].as_deref()) {
                    Some(t) => {
                        let x = parse_real_text(t, decimal_comma).map_err(|m| at.err(&cols.level, m))?;
                        let f = if x > 1.0 { x / 100.0 } else { x };
                        if !(f > 0.0 && f < 1.0) {
                            return Err(at.err(&cols.level, format!("{x} is not a CI level (expected e.g. 95)")));
                        }
                        f
                    }
                    None => default_level,
                };
                *level = lv;
                if !(*ci_lb < *ci_ub) {
                    return Err(at.err(
                        &cols.ci_lb,
                        format!(
                            "the CI ({ci_lb} to {ci_ub}) is reversed or empty: the lower bound must be below the upper"
                        ),
                    ));
                }
                if !(*ci_lb <= *est && *est <= *ci_ub) {
                    return Err(at.err(
                        &cols.est,
                        format!("the estimate {est} lies outside its CI ({ci_lb} to {ci_ub})"),
                    ));
                }
            }
            StudyInput::Proportion { xi, ni } => {
                if xi > ni {
                    return Err(at.err(&cols.ai, format!("{xi} is greater than total ({ni})")));
                }
            }
            StudyInput::Generic { .. } => {}
        }
        if let (Some(g), Some(b)) = (&group, &options.by) {
            match g[i].clone() {
                Some(x) => out_group.push(x),
                None => {
                    return Err(at.err(
                        b,
                        "empty cell: the subgroup is missing (expected a subgroup label)".into(),
                    ));
                }
            }
        }
        out.study.push(study[i].clone().unwrap_or_else(|| format!("row {row}")));
        let (e, t) = match input {
            StudyInput::Table2x2 { ai, bi, ci, di } => (ai + ci, ai + bi + ci + di),
            StudyInput::Proportion { xi, ni } => (xi, ni),
            _ => (f64::NAN, f64::NAN),
        };
        out.events.push(e);
        out.total.push(t);
        out.inputs.push(input);
        out.rows.push(row);
    }
    if out.rows.is_empty() {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: super::no_rows_left(out.excluded.len() - by_label, by_label, "missing cells"),
        });
    }
    out.excluded.sort_by_key(|(r, _)| *r);
    out.group = group.map(|_| out_group);
    out.frame = super::filter_frame(df, path, &keep_rows)?;
    out.row_lines = lines;
    out.columns = options.columns.clone();
    Ok(out)
}

/// Load, filter and validate a table of study inputs of `kind` (see [`select_inputs`]).
pub fn load_inputs(path: &Path, options: &LoadOptions, kind: InputKind, default_level: f64) -> Result<Studies> {
    let table = super::read_table(path, options.delimiter)?;
    select_inputs(table, path, options, kind, default_level)
}
