//! Meta-regression: the mixed-effects model `rma(yi, vi, mods = ~ col1 + col2 + …)` on columns
//! of the study table, with the engine's τ² estimators and tests (metafor `rma.uni` with
//! moderators).
//!
//! The design matrix is built as R's `model.matrix(~ col1 + col2)`: an intercept (`intrcpt`), a
//! numeric column as is (named by the column), a text column as a factor with treatment coding —
//! levels in sorted order, the first the reference, one dummy per other level named column name
//! plus level (`ethnicityother`, as metafor names it). `factor(col)` makes a numeric column a
//! factor (`factor(year)2003`). A Boolean (Parquet) column is a factor with levels FALSE, TRUE
//! (`colTRUE`). R sorts factor levels in the locale's collation order; here they are sorted by
//! their UTF-8 bytes (the same for lower-case ASCII labels).
//!
//! Reported as metafor: coefficients with SE, z (t under `t`/`knha`), p and CI; QM, the omnibus
//! test of all coefficients but the intercept (χ², or F under `t`/`knha`); QE, the test for
//! residual heterogeneity with common-effect weights; I² and H² of the residual heterogeneity;
//! and R² — for random/mixed-effects models max(0, 100 (τ²₀ − τ²)/τ²₀) with τ²₀ from the
//! intercept-only model with the same estimator (0 when τ²₀ = 0), for the common-effect model
//! the adjusted R² of the weighted least-squares regression (metafor's `r2def = "1"`).

use std::path::Path;

use ndarray::Array2;
use polars_core::prelude::{DataFrame, DataType};
use serde::Serialize;

use super::linalg::wls;
use super::subgroup::PoolOptions;
use super::{rma, rma_mods, Coefficient, Method, RmaFit, Test};
use crate::data::{column_text, Studies, MISSING};
use crate::effect::{Correction, Measure};
use crate::error::{Error, Result};

/// How a moderator enters the design matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModeratorKind {
    /// One column, the values as they are.
    Numeric,
    /// Treatment-coded dummies: `levels[0]` is the reference.
    Factor { levels: Vec<String> },
}

/// One moderator of the model: its column, its kind and its coefficients' names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moderator {
    /// As given (`scq`, `factor(year)`).
    pub term: String,
    /// The column of the table.
    pub column: String,
    #[serde(flatten)]
    pub kind: ModeratorKind,
    /// Names of its coefficients (the design-matrix columns).
    pub coefficients: Vec<String>,
    /// The columns of the design matrix it occupies.
    #[serde(skip)]
    pub design_columns: Vec<usize>,
    /// The numeric values (numeric moderators only), one per study.
    #[serde(skip)]
    pub values: Vec<f64>,
}

/// The fitted meta-regression: the JSON contract of `metarepro metareg --format json` (the keys
/// `coefficients`, `tau2`, `QM`, `QM_p`, `QE`, `QE_p`, `R2`, `I2`, then the rest).
#[derive(Debug, Clone, Serialize)]
pub struct MetaregResult {
    pub coefficients: Vec<Coefficient>,
    pub tau2: f64,
    #[serde(rename = "QM")]
    pub qm: f64,
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
    #[serde(rename = "QE")]
    pub qe: f64,
    #[serde(rename = "QE_p")]
    pub qe_p: f64,
    /// R² (%); `None` (null) when metafor gives NA (the intercept-only model fails, or k = p
    /// for the common-effect model).
    #[serde(rename = "R2")]
    pub r2: Option<f64>,
    #[serde(rename = "I2")]
    pub i2: f64,
    #[serde(rename = "H2")]
    pub h2: f64,
    /// QM's degrees of freedom (numerator, and denominator for the F-test under t/knha).
    #[serde(rename = "QM_df")]
    pub qm_df: usize,
    #[serde(rename = "QM_df2")]
    pub qm_df2: Option<usize>,
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// τ² of the intercept-only model with the same estimator (the base of R²).
    pub tau2_intercept_only: Option<f64>,
    pub k: usize,
    /// Whether the τ² estimator met its convergence criterion; `convergence_note` says why not.
    pub converged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_note: Option<String>,
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    pub level: f64,
    pub correction: Correction,
    pub moderators: Vec<Moderator>,
    /// Study labels and totals, in the order of the fit.
    #[serde(skip)]
    pub study: Vec<String>,
    #[serde(skip)]
    pub ni: Vec<f64>,
    #[serde(skip)]
    pub fit: RmaFit,
}

/// Primary weight of an ASCII character in R's (ICU root) collation: whitespace, then
/// punctuation and symbols in ICU's order, then digits, then letters ignoring case.
fn primary(c: char) -> u32 {
    const PUNCT: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
    match c {
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' => c as u32,
        ' ' => 20,
        '0'..='9' => 100 + (c as u32 - '0' as u32),
        'a'..='z' => 200 + (c as u32 - 'a' as u32),
        'A'..='Z' => 200 + (c as u32 - 'A' as u32),
        _ => match PUNCT.find(c) {
            Some(i) => 30 + i as u32,
            None => 1000 + c as u32,
        },
    }
}

/// Order of factor levels as R's `sort()` gives them in a UTF-8 locale with ICU (Debian's R):
/// first by the primary weights (case ignored; punctuation < digits < letters), then lower case
/// before upper case. Exact for ASCII labels; other characters follow by code point.
pub fn r_collate(a: &str, b: &str) -> std::cmp::Ordering {
    let pa: Vec<u32> = a.chars().map(primary).collect();
    let pb: Vec<u32> = b.chars().map(primary).collect();
    pa.cmp(&pb).then_with(|| {
        let ta: Vec<bool> = a.chars().map(|c| c.is_uppercase()).collect();
        let tb: Vec<bool> = b.chars().map(|c| c.is_uppercase()).collect();
        ta.cmp(&tb)
    })
}

/// Parse a moderator term: `col` or `factor(col)`.
fn parse_term(term: &str) -> (String, bool) {
    let t = term.trim();
    if let Some(inner) = t.strip_prefix("factor(").and_then(|r| r.strip_suffix(')')) {
        (inner.trim().to_string(), true)
    } else {
        (t.to_string(), false)
    }
}

/// Split a `--mods` list (`scq,ethnicity` or `scq + ethnicity`) into terms.
pub fn split_terms(list: &[String]) -> Vec<String> {
    list.iter()
        .flat_map(|s| s.split([',', '+']))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The design matrix of `~ terms` on `frame` (one row per study), with metafor's coefficient
/// names, and the moderators. `rows` are the 1-based data rows of the studies (for messages).
pub fn design(
    frame: &DataFrame,
    source: &Path,
    terms: &[String],
    rows: &[usize],
    decimal_comma: bool,
) -> Result<(Array2<f64>, Vec<String>, Vec<Moderator>)> {
    let k = frame.height();
    if terms.is_empty() {
        return Err(Error::Usage(
            "give at least one moderator (a column of the study table)".into(),
        ));
    }
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut names = vec!["intrcpt".to_string()];
    let mut mods = Vec::new();
    for term in terms {
        let (col, as_factor) = parse_term(term);
        if mods.iter().any(|m: &Moderator| m.column == col) {
            return Err(Error::Usage(format!("moderator \"{col}\" is given twice")));
        }
        let dtype = frame.column(&col).map(|c| c.dtype().clone()).ok();
        let cells = column_text(frame, source, &col, "moderator")?;
        let row_of = |i: usize| rows.get(i).copied().unwrap_or(i + 1);
        let mut texts = Vec::with_capacity(k);
        for (i, c) in cells.iter().enumerate() {
            match c.as_deref() {
                Some(t) if !MISSING.contains(&t) => texts.push(t.to_string()),
                other => {
                    return Err(Error::Data {
                        file: source.to_path_buf(),
                        row: Some(row_of(i)),
                        line: None,
                        column: col.clone(),
                        message: format!(
                            "{}: the moderator is missing (meta-regression needs a value for every study)",
                            match other {
                                Some(t) => format!("\"{t}\""),
                                None => "empty cell".into(),
                            }
                        ),
                    })
                }
            }
        }
        let boolean = dtype == Some(DataType::Boolean);
        let numbers: Option<Vec<f64>> = if boolean {
            None
        } else {
            texts
                .iter()
                // The number parser of the counts and inputs: a decimal comma in a table whose
                // delimiter is not a comma ("1,5" in a semicolon CSV is 1.5, not a level).
                .map(|t| crate::data::arms::parse_real_text(t, decimal_comma).ok())
                .collect()
        };
        let first = columns.len() + 1;
        match numbers {
            Some(values) if !as_factor => {
                columns.push(values.clone());
                names.push(col.clone());
                mods.push(Moderator {
                    term: term.trim().to_string(),
                    column: col.clone(),
                    kind: ModeratorKind::Numeric,
                    coefficients: vec![col.clone()],
                    design_columns: vec![first],
                    values,
                });
            }
            numbers => {
                // Factor: levels sorted (numerically for factor(numeric), as R does).
                let texts: Vec<String> = if boolean {
                    texts.iter().map(|t| t.to_ascii_uppercase()).collect()
                } else {
                    texts
                };
                let mut levels: Vec<String> = texts.clone();
                match &numbers {
                    Some(v) => {
                        let mut pairs: Vec<(f64, String)> = v.iter().copied().zip(texts.iter().cloned()).collect();
                        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                        pairs.dedup_by(|a, b| a.0 == b.0);
                        levels = pairs.into_iter().map(|p| p.1).collect();
                    }
                    None => {
                        levels.sort_by(|a, b| r_collate(a, b));
                        levels.dedup();
                    }
                }
                if levels.len() < 2 {
                    return Err(Error::Usage(format!(
                        "moderator \"{col}\" has a single value (\"{}\") among the studies: it cannot be a moderator",
                        levels.first().cloned().unwrap_or_default()
                    )));
                }
                let prefix = if as_factor {
                    format!("factor({col})")
                } else {
                    col.clone()
                };
                let level_of: Vec<usize> = match &numbers {
                    Some(v) => v
                        .iter()
                        .map(|x| {
                            levels
                                .iter()
                                .position(|l| crate::data::arms::parse_real_text(l, decimal_comma).ok() == Some(*x))
                                .unwrap_or(0)
                        })
                        .collect(),
                    None => texts
                        .iter()
                        .map(|t| levels.iter().position(|l| l == t).unwrap_or(0))
                        .collect(),
                };
                let mut coefs = Vec::new();
                let mut cols = Vec::new();
                for (j, lv) in levels.iter().enumerate().skip(1) {
                    columns.push(level_of.iter().map(|&l| if l == j { 1.0 } else { 0.0 }).collect());
                    coefs.push(format!("{prefix}{lv}"));
                    cols.push(columns.len());
                }
                names.extend(coefs.iter().cloned());
                mods.push(Moderator {
                    term: term.trim().to_string(),
                    column: col.clone(),
                    kind: ModeratorKind::Factor { levels },
                    coefficients: coefs,
                    design_columns: cols,
                    values: Vec::new(),
                });
            }
        }
    }
    let p = columns.len() + 1;
    let x = Array2::from_shape_fn((k, p), |(i, j)| if j == 0 { 1.0 } else { columns[j - 1][i] });
    Ok((x, names, mods))
}

/// The design with its non-dummy moderator columns centred and scaled (R's `scale()`), and the
/// matrix M with β = M β_standardised.
fn standardize(x: &Array2<f64>) -> (Array2<f64>, Vec<Vec<f64>>) {
    let (k, p) = x.dim();
    let mut xs = x.clone();
    let mut m = vec![vec![0.0; p]; p];
    for (j, row) in m.iter_mut().enumerate() {
        row[j] = 1.0;
    }
    for j in 1..p {
        let col = x.column(j);
        if col.iter().all(|&v| v == 0.0 || v == 1.0) || k < 2 {
            continue;
        }
        let mean = col.sum() / k as f64;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64).sqrt();
        if !(sd > 0.0) || !sd.is_finite() {
            continue;
        }
        for i in 0..k {
            xs[[i, j]] = (x[[i, j]] - mean) / sd;
        }
        m[0][j] = -mean / sd;
        m[j][j] = 1.0 / sd;
    }
    (xs, m)
}

/// Map a fit on the standardised design back to the original one: β = Mβₛ, V = M Vₛ M',
/// with the tests and CIs recomputed.
fn unstandardize(fit: &mut RmaFit, m: &[Vec<f64>], x: Array2<f64>) {
    let p = m.len();
    let bs: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
    let beta: Vec<f64> = (0..p).map(|i| (0..p).map(|j| m[i][j] * bs[j]).sum()).collect();
    let mut vb = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..p {
            let mut acc = 0.0;
            for a in 0..p {
                for b in 0..p {
                    acc += m[i][a] * fit.vb[a][b] * m[j][b];
                }
            }
            vb[i][j] = acc;
        }
    }
    for (j, c) in fit.coefficients.iter_mut().enumerate() {
        let se = vb[j][j].sqrt();
        c.estimate = beta[j];
        c.se = se;
        c.zval = beta[j] / se;
        c.pval = match fit.ddf {
            Some(d) if d > 0.0 => crate::dist::two_sided(c.zval, Some(d)),
            Some(_) => f64::NAN,
            None => crate::dist::two_sided(c.zval, None),
        };
        c.ci_lb = beta[j] - fit.crit * se;
        c.ci_ub = beta[j] + fit.crit * se;
    }
    fit.vb = vb;
    fit.x = x;
}

/// metafor's R² (`r2def = "1"`): see the module documentation. `None` where metafor gives NA.
fn r_squared(
    yi: &[f64],
    vi: &[f64],
    x: &Array2<f64>,
    fit: &RmaFit,
    options: &PoolOptions,
) -> (Option<f64>, Option<f64>) {
    let k = yi.len();
    let p = x.ncols();
    if options.method.is_common() {
        if yi.iter().all(|y| *y == yi[0]) {
            // metafor: identical(var(yi), 0)
            return (Some(0.0), None);
        }
        let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
        let Ok(ls) = wls(x, yi, &w) else {
            return (None, None);
        };
        let sw: f64 = w.iter().sum();
        let fitted: Vec<f64> = (0..k).map(|i| yi[i] - ls.resid[i]).collect();
        let m = fitted.iter().zip(&w).map(|(f, w)| w * f).sum::<f64>() / sw;
        let mss: f64 = fitted.iter().zip(&w).map(|(f, w)| w * (f - m).powi(2)).sum();
        let rss = ls.rss;
        let r2 = mss / (mss + rss);
        if k <= p {
            return (None, None);
        }
        let adj = 1.0 - (1.0 - r2) * ((k - 1) as f64 / (k - p) as f64);
        return (Some((100.0 * adj).max(0.0)), None);
    }
    let reduced = rma(yi, vi, &options.rma_options());
    match reduced {
        Err(_) => (None, None),
        Ok(r) => {
            let t0 = r.tau2;
            if t0 == 0.0 {
                (Some(0.0), Some(t0))
            } else {
                (Some((100.0 * (t0 - fit.tau2) / t0).max(0.0)), Some(t0))
            }
        }
    }
}

/// Fit the meta-regression of the studies' effect sizes on the moderator `terms` (columns of
/// `studies.frame`).
pub fn metareg(studies: &Studies, terms: &[String], options: &PoolOptions) -> Result<MetaregResult> {
    if options.method == Method::GLMM {
        return Err(Error::Usage(
            "meta-regression fits rma's mixed-effects model: use one of the tau^2 estimators (EE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM), not GLMM".into(),
        ));
    }
    if options.tau2_common {
        return Err(Error::Usage(
            "a tau^2 common to the subgroups does not apply to meta-regression (the moderators are in the model)"
                .into(),
        ));
    }
    let es = super::subgroup::checked_effect_sizes(studies, options)?;
    let terms = split_terms(terms);
    let (x, names, moderators) = design(
        &studies.frame,
        &studies.source,
        &terms,
        &studies.rows,
        studies.decimal_comma,
    )?;
    let k = es.k();
    let p = x.ncols();
    if k <= p && !options.method.is_common() {
        return Err(Error::Computation(format!(
            "{p} coefficients and tau^2 cannot be estimated from {k} studies"
        )));
    }
    // Fit on standardised numeric columns (a column like year ~ 2000 makes X'WX ill-conditioned
    // enough to stall Fisher scoring at 1e-14), then map the coefficients back. τ², QE, QM and R²
    // do not change under this reparametrisation.
    let (xs, m) = standardize(&x);
    let mut fit = rma_mods(&es.yi, &es.vi, xs.clone(), names, &options.rma_options())?;
    unstandardize(&mut fit, &m, x);
    let (r2, tau2_intercept_only) = r_squared(&es.yi, &es.vi, &xs, &fit, options);
    let qm = fit
        .qm
        .ok_or_else(|| Error::Computation("the model has no moderator".into()))?;
    Ok(MetaregResult {
        coefficients: fit.coefficients.clone(),
        tau2: fit.tau2,
        qm: qm.qm,
        qm_p: qm.p,
        qe: fit.q,
        qe_p: fit.q_p,
        r2,
        i2: fit.i2,
        h2: fit.h2,
        qm_df: qm.df,
        qm_df2: qm.df2,
        qe_df: fit.q_df,
        tau2_intercept_only,
        k,
        converged: fit.converged,
        convergence_note: fit.convergence_note.clone(),
        measure: options.measure,
        method: options.method,
        test: fit.test,
        level: options.level,
        correction: options.correction,
        moderators,
        study: studies.study.clone(),
        ni: studies.total.clone(),
        fit,
    })
}

impl MetaregResult {
    /// The fitted line of one numeric moderator with the others at their means (as metafor's
    /// `regplot`): for each x, (prediction, CI lower, CI upper) on the measure's scale.
    pub fn line(&self, moderator: &Moderator, xs: &[f64]) -> Vec<(f64, f64, f64)> {
        let x = &self.fit.x;
        let p = x.ncols();
        let k = x.nrows();
        let means: Vec<f64> = (0..p).map(|j| x.column(j).sum() / k as f64).collect();
        let col = moderator.design_columns.first().copied().unwrap_or(0);
        xs.iter()
            .map(|&v| {
                let mut c = means.clone();
                c[0] = 1.0;
                c[col] = v;
                let pred: f64 = (0..p).map(|j| c[j] * self.fit.coefficients[j].estimate).sum();
                let mut var = 0.0;
                for a in 0..p {
                    for b in 0..p {
                        var += c[a] * self.fit.vb[a][b] * c[b];
                    }
                }
                let h = self.fit.crit * var.max(0.0).sqrt();
                (pred, pred - h, pred + h)
            })
            .collect()
    }

    /// Percentage weights of the studies in the fit (1/(vᵢ + τ²)).
    pub fn weights_percent(&self) -> Vec<f64> {
        self.fit.weights_percent()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_core::prelude::Column;

    #[test]
    fn design_matches_model_matrix() {
        let df = DataFrame::new_infer_height(vec![
            Column::new("scq".into(), vec!["21", "22.67", "15.07", "3.67"]),
            Column::new("eth".into(), vec!["other", "caucasian", "caucasian", "other"]),
            Column::new("year".into(), vec!["2005", "2003", "2003", "2006"]),
        ])
        .unwrap();
        let terms = vec!["scq".to_string(), "eth".into(), "factor(year)".into()];
        let (x, names, mods) = design(&df, Path::new("t.csv"), &terms, &[1, 2, 3, 4], false).unwrap();
        assert_eq!(
            names,
            vec!["intrcpt", "scq", "ethother", "factor(year)2005", "factor(year)2006"]
        );
        assert_eq!(x.row(0).to_vec(), vec![1.0, 21.0, 1.0, 1.0, 0.0]);
        assert_eq!(x.row(1).to_vec(), vec![1.0, 22.67, 0.0, 0.0, 0.0]);
        assert_eq!(x.row(3).to_vec(), vec![1.0, 3.67, 1.0, 0.0, 1.0]);
        assert_eq!(
            mods[1].kind,
            ModeratorKind::Factor {
                levels: vec!["caucasian".into(), "other".into()]
            }
        );
        assert_eq!(split_terms(&["a, b".into(), "c + d".into()]), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn levels_sort_as_r_with_icu() {
        // R 4.2 (ICU): sort(c("a","A","b","B","ab","Ab","aB","a b","a-b","a_b","ab1","Zeta",
        // "alpha","10","9","1a","a10","a9","<400","400"))
        let mut v: Vec<&str> = vec![
            "a", "A", "b", "B", "ab", "Ab", "aB", "a b", "a-b", "a_b", "ab1", "Zeta", "alpha", "10", "9", "1a", "a10",
            "a9", "400", "<400",
        ];
        v.sort_by(|a, b| r_collate(a, b));
        assert_eq!(
            v,
            vec![
                "<400", "10", "1a", "400", "9", "a", "A", "a b", "a_b", "a-b", "a10", "a9", "ab", "aB", "Ab", "ab1",
                "alpha", "b", "B", "Zeta"
            ]
        );
    }
}
