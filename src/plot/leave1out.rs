//! Leave-one-out and cumulative forest plots: one row per refit (its pooled proportion and CI
//! as a point with a line, metafor's `forest(leave1out(...))` / `forest(cumul(...))`), then the
//! model of all studies as a diamond. Built from the shared forest-type parts ([`super::table`]).

use super::figure::{Anchor, Figure};
use super::font;
use super::forest::{self, ForestOptions};
use super::table::{self, AxisSpec, Column, Mark, Row, RowKind, Table};
use crate::error::{Error, Result};
use crate::model::FitRow;
use crate::report::{fmt_num, fmt_prop};

/// Which analysis the rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LeaveOneOut,
    Cumulative,
}

/// The plot as a [`Table`]. `labels[i]` names study i; `full` is the fit of all studies.
pub fn table(
    rows: &[FitRow],
    full: &FitRow,
    labels: &[String],
    kind: Kind,
    level: f64,
    opts: &ForestOptions,
) -> Result<Table> {
    if rows.is_empty() {
        return Err(Error::Computation("no refits to plot".into()));
    }
    let sc = opts.scale;
    let dec = opts.digits.proportion(sc);
    let pct = sc.is_percent();
    let v = |p: f64| sc.of(p);
    let mut out = Vec::new();
    let mut values = Vec::new();
    let cells = |label: String, r: &FitRow| -> Vec<String> {
        vec![
            label,
            r.k.to_string(),
            fmt_prop(r.natural.estimate, dec, pct),
            format!("[{};", fmt_prop(r.natural.ci_lb, dec, pct)),
            format!("{}]", fmt_prop(r.natural.ci_ub, dec, pct)),
            if r.i2.is_finite() {
                format!("{}%", fmt_num(r.i2, opts.digits.i2))
            } else {
                String::new()
            },
            fmt_num(r.tau2, opts.digits.tau2),
        ]
    };
    for r in rows {
        let name = labels
            .get(r.study().unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or_else(|| format!("study {}", r.study().map_or(0, |i| i + 1)));
        let label = match kind {
            Kind::LeaveOneOut => format!("Omitting {name}"),
            Kind::Cumulative => format!("+ {name}"),
        };
        let p = &r.natural;
        let mark = if p.estimate.is_finite() {
            values.extend([v(p.ci_lb), v(p.ci_ub)]);
            Mark::Point {
                est: v(p.estimate),
                lb: v(p.ci_lb),
                ub: v(p.ci_ub),
            }
        } else {
            Mark::None
        };
        out.push(Row {
            kind: RowKind::Normal,
            cells: cells(label, r),
            mark,
        });
    }
    let p = &full.natural;
    values.extend([v(p.ci_lb), v(p.ci_ub)]);
    out.push(Row {
        kind: RowKind::Bold,
        cells: cells("All studies".into(), full),
        mark: Mark::Diamond {
            est: v(p.estimate),
            lb: v(p.ci_lb),
            ub: v(p.ci_ub),
        },
    });
    let (lo, hi, ticks) = forest::axis_for(&values, opts)?;
    let st = opts.style.clone();
    let space = font::text_width(" ", st.font, false);
    let pc = if pct { " (%)" } else { "" };
    let mut est_col = Column::new(
        format!("Proportion{pc} [{} CI]", forest::level_label(level)),
        Anchor::End,
    );
    est_col.span = 3;
    let mut lb_col = Column::new("", Anchor::End);
    lb_col.gap_before = Some(space);
    // The upper limits start one space after the lower ones ("[5.0; 53.8]", no padding inside
    // the brackets): the lower limits align on their ";", the upper ones on their first digit.
    let mut ub_col = Column::new("", Anchor::Start);
    ub_col.gap_before = Some(space);
    let title = opts.title.clone().or_else(|| {
        Some(match kind {
            Kind::LeaveOneOut => "Leave-one-out analysis".to_string(),
            Kind::Cumulative => "Cumulative meta-analysis".to_string(),
        })
    });
    Ok(Table {
        title,
        left: vec![
            Column::new(
                match kind {
                    Kind::LeaveOneOut => "Study omitted",
                    Kind::Cumulative => "Study added",
                },
                Anchor::Start,
            ),
            Column::new("k", Anchor::End),
        ],
        right: vec![
            est_col,
            lb_col,
            ub_col,
            Column::new("I\u{b2}", Anchor::End),
            Column::new("\u{3c4}\u{b2}", Anchor::End),
        ],
        rows: out,
        footer: vec![],
        axis: AxisSpec {
            lo,
            hi,
            ticks,
            title: opts.xlab.clone().unwrap_or_else(|| format!("Proportion{pc}")),
        },
        reference: opts.reference.map(v),
        pooled: if opts.pooled_line && p.estimate.is_finite() {
            Some(v(p.estimate))
        } else {
            None
        },
        style: st,
    })
}

/// The laid-out figure.
pub fn figure(
    rows: &[FitRow],
    full: &FitRow,
    labels: &[String],
    kind: Kind,
    level: f64,
    opts: &ForestOptions,
) -> Result<Figure> {
    Ok(table::layout(&table(rows, full, labels, kind, level, opts)?))
}
