//! The Markdown report of a RevMan review check: the review, "N of M analyses reproduced", and per
//! analysis its verdict table (each number RevMan stored beside the recomputed one), artefacts,
//! the REML / Hartung–Knapp line, and a forest plot in RevMan's layout (PNG and SVG) drawn by
//! [`crate::plot::comparative`] from the re-pooled numbers.
//!
//! The forest plot's pool is the one `verify` compares: the model code with RevMan 5's rules
//! ([`super::revman::revman_options`]); with `TOTALS="SUB"` or `"NO"` it shows subtotals only
//! (RevMan draws no total diamond then), with the subgroup-difference test unless `TOTALS="NO"`.

use std::path::{Path, PathBuf};

use super::revman::{AnalysisCheck, Difference, Numbers, ReviewCheck};
use crate::data::revman::{Outcome, Review, RmMeasure, Totals};
use crate::data::{Studies, StudyInput};
use crate::error::{Error, Result};
use crate::model::PoolResult;
use crate::plot::forest::{ForestOptions, RevmanLayout, Weights};

/// The study label RevMan prints: the name, and the year unless the name already ends with it.
fn study_label(name: &str, year: Option<&str>) -> String {
    match year.map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) if !name.trim_end().ends_with(y) => format!("{name} {y}"),
        _ => name.to_string(),
    }
}

/// The outcome pooled by RevMan's rules as a [`PoolResult`] (subgroups as groups), for the plot.
/// Generic inverse-variance data on the log scale are returned exponentiated.
pub fn pool_result(comparison_no: u32, o: &Outcome) -> Result<PoolResult> {
    let opts = super::revman::revman_options(o);
    let mut labels = Vec::new();
    let mut inputs: Vec<StudyInput> = Vec::new();
    let mut groups = Vec::new();
    let mut push = |rows: &[crate::data::revman::Row], group: Option<String>| {
        for r in rows {
            labels.push(study_label(&r.study, r.year.as_deref()));
            inputs.push(super::revman::input_of(o, r));
            groups.push(group.clone().unwrap_or_default());
        }
    };
    if o.subgroups.is_empty() {
        push(&o.rows, None);
    } else {
        for s in &o.subgroups {
            // RevMan's heading "1.2.1 Name" (names need not be unique; the numbers make the group).
            push(&s.rows, Some(format!("{comparison_no}.{}.{} {}", o.no, s.no, s.name)));
        }
    }
    let group = (!o.subgroups.is_empty()).then_some(groups);
    let studies = Studies::from_inputs(labels, inputs, group)?;
    let mut res = crate::model::comparative::pool_comparative(&studies, &opts)?;
    if let RmMeasure::Generic { log: true, .. } = o.measure {
        let e = f64::exp;
        for s in res.studies.iter_mut() {
            (s.proportion, s.ci_lb, s.ci_ub) = (e(s.proportion), e(s.ci_lb), e(s.ci_ub));
        }
        let mut fix = |p: &mut crate::model::Pooled| {
            let x = &mut p.effect;
            (x.estimate, x.ci_lb, x.ci_ub) = (e(x.estimate), e(x.ci_lb), e(x.ci_ub));
            (p.pi_lb, p.pi_ub) = (e(p.pi_lb), e(p.pi_ub));
        };
        fix(&mut res.overall);
        res.subgroups.iter_mut().for_each(&mut fix);
    }
    if o.totals == Totals::No {
        res.subgroup_test = None;
    }
    Ok(res)
}

/// The forest-plot options of RevMan's layout for `o`.
pub fn forest_options(o: &Outcome, title: String) -> ForestOptions {
    let mut opts = ForestOptions {
        title: Some(title),
        revman: Some(RevmanLayout {
            total: o.totals == Totals::Yes,
            measure_name: match &o.measure {
                RmMeasure::Generic { name, .. } if !name.trim().is_empty() => Some(name.trim().to_string()),
                RmMeasure::PetoOr => Some("Peto Odds Ratio".into()),
                _ => None,
            },
            log_axis: matches!(o.measure, RmMeasure::Generic { log: true, .. }),
        }),
        weights: if o.totals == Totals::Yes {
            Weights::Overall
        } else {
            Weights::Subgroup
        },
        prediction: false,
        pooled_line: false,
        ..ForestOptions::default()
    };
    opts.digits.weight = 1;
    let label = |s: &str, fallback: &str| {
        if s.trim().is_empty() {
            fallback.to_string()
        } else {
            s.trim().to_string()
        }
    };
    let g1 = label(&o.group_labels[0], "Experimental");
    let g2 = label(&o.group_labels[1], "Control");
    let f1 = label(&o.graph_labels[0], &format!("Favours {g1}"));
    let f2 = label(&o.graph_labels[1], &format!("Favours {g2}"));
    // RevMan's graph labels are the words after "Favours".
    let fav = |f: String| {
        if f.to_lowercase().starts_with("favours") {
            f
        } else {
            format!("Favours {f}")
        }
    };
    opts.favours = Some((fav(f1), fav(f2)));
    opts.arm_labels = Some((g1, g2));
    opts
}

/// A file name from an outcome ID (letters, digits, '.', '-', '_').
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One analysis figure: the outcome ID, its file stem, the title and the laid-out figure.
pub struct Figure {
    pub id: String,
    pub stem: String,
    pub title: String,
    pub figure: crate::plot::figure::Figure,
    pub dpi: f64,
}

/// The forest plot of every outcome of the review, in file order (an error names the outcome:
/// "CMP-001.01: no forest plot: …").
pub fn figures(review: &Review) -> Vec<std::result::Result<Figure, String>> {
    let mut out = Vec::new();
    for c in &review.comparisons {
        for o in &c.outcomes {
            let title = format!(
                "Analysis {}.{}. Comparison {}: {}, Outcome {}: {}.",
                c.no, o.no, c.no, c.name, o.no, o.name
            );
            let opts = forest_options(o, title.clone());
            let fig = pool_result(c.no, o).and_then(|res| crate::plot::comparative::figure(&res, &opts));
            out.push(match fig {
                Ok(figure) => Ok(Figure {
                    id: o.id.clone(),
                    stem: file_stem(&o.id),
                    title,
                    figure,
                    dpi: opts.dpi,
                }),
                Err(e) => Err(format!("{}: no forest plot: {e}", o.id)),
            });
        }
    }
    out
}

fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() && v != 0.0 && v.abs() < 1e-4 => format!("{v:.6e}"),
        Some(v) if v.is_finite() => {
            let s = format!("{v:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
            if s == "-0" {
                "0".into()
            } else {
                s
            }
        }
        Some(v) => v.to_string(),
        None => "–".into(),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Reads one number of a [`Numbers`].
type Getter = fn(&Numbers) -> Option<f64>;

/// The verdict table of one analysis (outcome or subgroup).
fn numbers_table(a: &AnalysisCheck) -> String {
    let rows: [(&str, Getter); 10] = [
        ("estimate", |n| n.estimate),
        ("CI lower", |n| n.ci_lb),
        ("CI upper", |n| n.ci_ub),
        ("Z", |n| n.z),
        ("P", |n| n.p),
        ("Tau²", |n| n.tau2),
        ("I² (%)", |n| n.i2),
        ("Chi²", |n| n.q),
        ("df", |n| n.q_df),
        ("P (Chi²)", |n| n.q_p),
    ];
    let mut s = String::from("| number | RevMan stored | recomputed | difference |\n|---|---:|---:|---:|\n");
    for (label, f) in rows {
        let (rm, rc) = (f(&a.revman), f(&a.recomputed));
        if rm.is_none() && rc.is_none() {
            continue;
        }
        let d = match (rm, rc) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() && y == x => "0".into(),
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => format!("{:.2e}", y - x),
            _ => "–".into(),
        };
        s.push_str(&format!("| {label} | {} | {} | {d} |\n", num(rm), num(rc)));
    }
    s
}

fn difference_line(d: &Difference) -> String {
    format!(
        "- differs: {}: recomputed {}, RevMan {}{}\n",
        md_escape(&d.what),
        num(d.recomputed),
        num(d.revman),
        match (d.abs_diff, d.rel_diff) {
            (Some(x), Some(r)) => format!(" (|diff| {x:.3e}, relative {r:.3e})"),
            _ => String::new(),
        }
    )
}

fn analysis_section(a: &AnalysisCheck) -> String {
    let mut s = String::new();
    let what = match &a.subgroup_name {
        Some(n) => format!("Subgroup {}: {}", a.subgroup.unwrap_or(0), md_escape(n)),
        None => "All studies".to_string(),
    };
    s.push_str(&format!(
        "**{what}** ({} studies, {} estimable): **{}**\n\n",
        a.k,
        a.k_estimable,
        a.verdict.as_str()
    ));
    s.push_str(&numbers_table(a));
    s.push('\n');
    for d in &a.differences {
        s.push_str(&difference_line(d));
    }
    for x in &a.artefacts {
        s.push_str(&format!("- RevMan artefact (reported, not copied): {}\n", md_escape(x)));
    }
    for x in &a.notes {
        s.push_str(&format!("- note: {}\n", md_escape(x)));
    }
    if let Some(t) = &a.subgroup_test {
        let (r, m) = (&t.recomputed, &t.revman);
        s.push_str(&format!(
            "- test for subgroup differences: Chi² = {}, df = {}, P = {}, I² = {}% (RevMan stored: Chi² = {}, P = {}, I² = {}%)\n",
            num(r.q),
            num(r.df),
            num(r.p),
            num(r.i2),
            num(m.q),
            num(m.p),
            num(m.i2)
        ));
    }
    if let Some(b) = &a.beyond {
        let alt = |x: &Option<super::revman::Alternative>| match x {
            Some(x) => format!(
                "{} [{}, {}] (Tau² = {}, P = {})",
                num(Some(x.estimate)),
                num(Some(x.ci_lb)),
                num(Some(x.ci_ub)),
                num(Some(x.tau2)),
                num(Some(x.p))
            ),
            None => "–".into(),
        };
        s.push_str(&format!(
            "- beyond RevMan: REML {}; REML with Hartung-Knapp {}; null crossing: {}\n",
            alt(&b.reml),
            alt(&b.reml_hk),
            b.change
        ));
    }
    s.push('\n');
    s
}

/// What [`write`] wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub report: PathBuf,
    pub figures: Vec<PathBuf>,
}

/// The report's Markdown (figures linked as `<stem>.png`).
pub fn markdown(check: &ReviewCheck, figures: &[std::result::Result<Figure, String>]) -> String {
    let r = &check.review;
    let mut s = format!(
        "# {}\n\n",
        if r.title.trim().is_empty() {
            "Untitled RevMan review"
        } else {
            r.title.trim()
        }
    );
    s.push_str(&format!(
        "RevMan file `{}`{}{}, {}.\n\n",
        r.file,
        r.revman_version
            .as_deref()
            .map(|v| format!(", RevMan {v}"))
            .unwrap_or_default(),
        r.doi.as_deref().map(|d| format!(", DOI {d}")).unwrap_or_default(),
        r.encoding
    ));
    s.push_str(&format!("**Summary: {}.**\n\n", check.summary.text));
    s.push_str(&format!("Conventions: {}.\n\n", r.conventions));
    s.push_str("| ID | subgroup | analysis | method | k | verdict |\n|---|---|---|---|---:|---|\n");
    for a in &check.analyses {
        s.push_str(&format!(
            "| {} | {} | {} | {} {} {} | {} | {} |\n",
            a.id,
            a.subgroup.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
            md_escape(a.subgroup_name.as_deref().unwrap_or(&a.name)),
            a.method,
            a.measure,
            a.model,
            a.k,
            a.verdict.as_str()
        ));
    }
    s.push('\n');
    if !check.text_claims.is_empty() {
        let n = |v: &str| check.text_claims.iter().filter(|c| c.verdict == v).count();
        s.push_str(&format!(
            "## Estimates in the review's text\n\n{} printed estimates: {} consistent, {} misprinted, {} unmatched \
             (each number checked at its printed precision).\n\n",
            check.text_claims.len(),
            n("consistent"),
            n("misprinted"),
            n("unmatched")
        ));
        s.push_str("| section | printed | analysis | verdict | numbers |\n|---|---|---|---|---|\n");
        for c in &check.text_claims {
            let target = match &c.analysis {
                Some(a) => match a.subgroup {
                    Some(g) => format!("{} subgroup {g}", a.id),
                    None => a.id.clone(),
                },
                None => "–".into(),
            };
            let nums: Vec<String> = c
                .numbers
                .iter()
                .filter(|_| c.analysis.is_some())
                .map(|x| {
                    format!(
                        "{} {} (recomputed {}): {}",
                        x.what,
                        x.printed,
                        num(x.recomputed),
                        x.verdict
                    )
                })
                .collect();
            s.push_str(&format!(
                "| {} | {} | {}{} | {} | {} |\n",
                c.section,
                md_escape(&c.text),
                target,
                if c.also_fits.is_empty() {
                    String::new()
                } else {
                    format!(" (also fits {})", c.also_fits.join(", "))
                },
                c.verdict,
                md_escape(&nums.join("; "))
            ));
        }
        s.push('\n');
    }
    let mut ids: Vec<&str> = check.analyses.iter().map(|a| a.id.as_str()).collect();
    ids.dedup();
    for id in ids {
        let mine: Vec<&AnalysisCheck> = check.analyses.iter().filter(|a| a.id == id).collect();
        let Some(first) = mine.first() else { continue };
        s.push_str(&format!(
            "## {id}: {} — {}\n\n{} {} {} ({} data, totals {}).\n\n",
            md_escape(&first.comparison),
            md_escape(&first.name),
            first.method,
            first.measure,
            first.model,
            first.data_type,
            first.totals
        ));
        match figures
            .iter()
            .find(|f| matches!(f, Ok(f) if f.id == id) || matches!(f, Err(e) if e.starts_with(&format!("{id}:"))))
        {
            Some(Ok(f)) => s.push_str(&format!(
                "![Forest plot of {id}]({stem}.png)\n\n[SVG]({stem}.svg)\n\n",
                stem = f.stem
            )),
            Some(Err(e)) => s.push_str(&format!("_{}_\n\n", md_escape(e))),
            None => {}
        }
        for a in mine {
            s.push_str(&analysis_section(a));
        }
    }
    s
}

/// Write `dir/report.md` and one forest plot per analysis (`dir/<ID>.png`, `dir/<ID>.svg`). Every
/// figure is drawn before anything is written, and each file is written atomically.
pub fn write(review: &Review, check: &ReviewCheck, dir: &Path) -> Result<ReportFiles> {
    let figs = figures(review);
    let md = markdown(check, &figs);
    let mut rendered = Vec::new();
    for f in figs.iter().flatten() {
        rendered.push((f.stem.clone(), f.figure.to_png(f.dpi)?, f.figure.to_svg()));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Output {
        path: dir.to_path_buf(),
        message: format!("cannot create the report directory: {e}"),
    })?;
    let mut written = Vec::new();
    for (stem, png_bytes, svg_text) in &rendered {
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        crate::report::write_atomic(&png, png_bytes)?;
        crate::report::write_atomic(&svg, svg_text.as_bytes())?;
        written.push(png);
        written.push(svg);
    }
    let report = dir.join("report.md");
    crate::report::write_atomic(&report, md.as_bytes())?;
    Ok(ReportFiles {
        report,
        figures: written,
    })
}
