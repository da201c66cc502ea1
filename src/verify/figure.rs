//! The published estimates of a claims file, as printed (diamonds), with the recomputed values
//! beside them (points with their CI) where study data were available: the figure of a
//! verification report, laid out with [`crate::plot::table`] like a forest plot.

use std::path::Path;

use super::printed::Unit;
use super::{ClaimReport, VerifyReport};
use crate::error::{Error, Result};
use crate::plot::figure::{Anchor, Figure};
use crate::plot::forest::{self, ForestOptions};
use crate::plot::table::{self, AxisSpec, Column, Mark, Row, RowKind, Table};
use crate::plot::write_figure;

fn number(c: &ClaimReport, name: &str) -> (Option<f64>, Option<f64>) {
    let n = c.numbers.iter().find(|n| n.name == name);
    let printed = n.and_then(|n| n.printed.parse::<f64>().ok());
    (printed, n.and_then(|n| n.recomputed))
}

/// Values of a claim on the proportion scale.
fn to_prop(v: Option<f64>, unit: Unit) -> Option<f64> {
    v.map(|x| if unit == Unit::Percent { x / 100.0 } else { x })
}

/// The plot as a [`Table`]: one row per proportion claim with a printed CI.
pub fn table(report: &VerifyReport, opts: &ForestOptions) -> Result<Table> {
    let sc = opts.scale;
    let v = |p: f64| sc.of(p);
    let mut rows = Vec::new();
    let mut values = Vec::new();
    for c in &report.claims {
        if !matches!(c.unit, Unit::Percent | Unit::Proportion) {
            continue;
        }
        let (e, re) = number(c, "estimate");
        let (l, rl) = number(c, "ci_lb");
        let (u, ru) = number(c, "ci_ub");
        let (e, l, u) = (to_prop(e, c.unit), to_prop(l, c.unit), to_prop(u, c.unit));
        let (Some(l), Some(u)) = (l, u) else {
            continue;
        };
        let mark = match e {
            Some(e) => Mark::Diamond {
                est: v(e),
                lb: v(l),
                ub: v(u),
            },
            None => Mark::Bar { lb: v(l), ub: v(u) },
        };
        values.extend([v(l), v(u)]);
        rows.push(Row {
            kind: RowKind::Normal,
            cells: vec![c.label.clone(), c.printed.clone(), c.verdict.to_string()],
            mark,
        });
        let (re, rl, ru) = (to_prop(re, c.unit), to_prop(rl, c.unit), to_prop(ru, c.unit));
        if let (Some(re), Some(rl), Some(ru)) = (re, rl, ru) {
            values.extend([v(rl), v(ru)]);
            let dec = opts.digits.proportion(sc);
            let pct = sc.is_percent();
            rows.push(Row {
                kind: RowKind::Normal,
                cells: vec![
                    "    recomputed".into(),
                    format!(
                        "{} [{}; {}]",
                        crate::report::fmt_prop(re, dec, pct),
                        crate::report::fmt_prop(rl, dec, pct),
                        crate::report::fmt_prop(ru, dec, pct)
                    ),
                    String::new(),
                ],
                mark: Mark::Point {
                    est: v(re),
                    lb: v(rl),
                    ub: v(ru),
                },
            });
        }
    }
    if rows.is_empty() {
        return Err(Error::Usage("no proportion claim with a printed CI to plot".into()));
    }
    let (lo, hi, ticks) = forest::axis_for(&values, opts)?;
    let pct = if sc.is_percent() { " (%)" } else { "" };
    let footer = vec![
        "Diamonds: the estimate and CI as printed (a bar where only the CI is printed).".to_string(),
        "Points: recomputed from the study data, where there are any.".to_string(),
    ];
    Ok(Table {
        title: opts
            .title
            .clone()
            .or_else(|| Some(short_citation(&report.paper.citation))),
        left: vec![Column::new("Claim", Anchor::Start)],
        right: vec![
            Column::new("Printed", Anchor::Start),
            Column::new("Verdict", Anchor::Start),
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
        pooled: None,
        style: opts.style.clone(),
    })
}

/// "Barba T et al., Autoimmun Rev 2019;18(2):113-122" from a full citation.
fn short_citation(c: &str) -> String {
    let first = c.split(',').next().unwrap_or(c).trim();
    let tail = c.trim_end_matches('.').rsplit(". ").next().unwrap_or("").trim();
    let s = if tail.is_empty() || tail == c.trim_end_matches('.') || first.contains(tail) {
        // No separate journal part, or the first part already holds it ("Smith A et al. Lancet
        // 2020;395:1-10" has no comma): the citation once.
        c.chars().take(100).collect()
    } else if first.contains(" et al") {
        format!("{first}, {tail}")
    } else {
        format!("{first} et al., {tail}")
    };
    format!("Published estimates: {s}")
}

pub fn figure(report: &VerifyReport, opts: &ForestOptions) -> Result<Figure> {
    Ok(table::layout(&table(report, opts)?))
}

/// Write the plot to `path` (SVG or PNG from the extension), atomically.
pub fn write(report: &VerifyReport, opts: &ForestOptions, path: &Path) -> Result<()> {
    write_figure(&figure(report, opts)?, path, opts.dpi)
}
