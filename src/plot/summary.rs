//! Subgroup summary plots: one diamond per subgroup (its pooled proportion and CI), then the
//! overall diamond, the prediction interval and the test for subgroup differences. The figure to
//! set beside a paper that prints only pooled values per subgroup.
//!
//! Options are the forest plot's ([`ForestOptions`]); `sort` orders the subgroups (`estimate`:
//! increasing pooled proportion, `weight`: decreasing share of the overall weight, otherwise the
//! subgroups' sorted order), `years` and `weights` are not used.

use std::path::Path;

use super::figure::{Anchor, Figure};
use super::forest::{self, ForestOptions, Sort};
use super::table::{self, AxisSpec, Column, Mark, Row, RowKind, Table};
use super::{font, write_figure};
use crate::error::{Error, Result};
use crate::model::{PoolResult, Pooled};
use crate::report::{fmt_num, fmt_prop};

fn cells(f: &Pooled, label: String, opts: &ForestOptions) -> Vec<String> {
    let dec = opts.digits.proportion(opts.scale);
    let pct = opts.scale.is_percent();
    let p = &f.effect;
    let i2 = if f.fit.k > 1 {
        format!("{}%", fmt_num(f.fit.i2, opts.digits.i2))
    } else {
        String::new()
    };
    vec![
        label,
        f.fit.k.to_string(),
        fmt_num(f.events, 0),
        fmt_num(f.total, 0),
        fmt_prop(p.estimate, dec, pct),
        format!("[{};", fmt_prop(p.ci_lb, dec, pct)),
        format!("{}]", fmt_prop(p.ci_ub, dec, pct)),
        i2,
    ]
}

/// The summary plot as a [`Table`].
pub fn table(res: &PoolResult, opts: &ForestOptions) -> Result<Table> {
    if res.studies.is_empty() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let sc = opts.scale;
    let v = |p: f64| sc.of(p);
    let common = res.method.is_common();
    let mut order: Vec<usize> = (0..res.subgroups.len()).collect();
    let share = |g: &Pooled| -> f64 {
        res.studies
            .iter()
            .filter(|s| s.group.as_deref() == g.name.as_deref())
            .map(|s| s.weight_overall)
            .sum()
    };
    match opts.sort {
        Sort::Estimate => order.sort_by(|&a, &b| {
            res.subgroups[a]
                .effect
                .estimate
                .total_cmp(&res.subgroups[b].effect.estimate)
        }),
        Sort::Weight => order.sort_by(|&a, &b| share(&res.subgroups[b]).total_cmp(&share(&res.subgroups[a]))),
        Sort::None | Sort::Year => {}
    }
    let mut rows = Vec::new();
    let mut values = Vec::new();
    for &gi in &order {
        let g = &res.subgroups[gi];
        let p = &g.effect;
        rows.push(Row {
            kind: RowKind::Normal,
            cells: cells(g, g.display_name().to_string(), opts),
            mark: Mark::Diamond {
                est: v(p.estimate),
                lb: v(p.ci_lb),
                ub: v(p.ci_ub),
            },
        });
        values.extend([v(p.ci_lb), v(p.ci_ub)]);
    }
    let o = &res.overall;
    let p = &o.effect;
    rows.push(Row {
        kind: RowKind::Bold,
        cells: cells(o, forest::model_label(res).to_string(), opts),
        mark: Mark::Diamond {
            est: v(p.estimate),
            lb: v(p.ci_lb),
            ub: v(p.ci_ub),
        },
    });
    values.extend([v(p.ci_lb), v(p.ci_ub)]);
    if opts.prediction && !common && o.fit.k > 1 && p.pi_lb.is_finite() && p.pi_ub.is_finite() {
        let dec = opts.digits.proportion(sc);
        let pct = sc.is_percent();
        rows.push(Row {
            kind: RowKind::Normal,
            cells: vec![
                "Prediction interval".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("[{};", fmt_prop(p.pi_lb, dec, pct)),
                format!("{}]", fmt_prop(p.pi_ub, dec, pct)),
                String::new(),
            ],
            mark: Mark::Bar {
                lb: v(p.pi_lb),
                ub: v(p.pi_ub),
            },
        });
        values.extend([v(p.pi_lb), v(p.pi_ub)]);
    }
    let mut footer = vec![forest::model_line(res)];
    if let Some(h) = forest::heterogeneity_text(o, common, &opts.digits) {
        footer.push(h);
    }
    if let Some(t) = &res.subgroup_test {
        footer.push(forest::subgroup_test_text(t, &opts.digits));
    }
    let (lo, hi, ticks) = forest::axis_for(&values, opts)?;
    let st = opts.style.clone();
    let space = font::text_width(" ", st.font, false);
    let pct = if sc.is_percent() { " (%)" } else { "" };
    let mut est_col = Column::new(
        format!("Proportion{pct} [{} CI]", forest::level_label(res.level)),
        Anchor::End,
    );
    est_col.span = 3;
    let mut lb_col = Column::new("", Anchor::End);
    lb_col.gap_before = Some(space);
    // The upper limits start one space after the lower ones ("[5.0; 53.8]", no padding inside
    // the brackets): the lower limits align on their ";", the upper ones on their first digit.
    let mut ub_col = Column::new("", Anchor::Start);
    ub_col.gap_before = Some(space);
    let header = if res.subgroups.is_empty() {
        "Analysis".to_string()
    } else {
        "Subgroup".to_string()
    };
    Ok(Table {
        title: opts.title.clone(),
        left: vec![
            Column::new(header, Anchor::Start),
            Column::new("k", Anchor::End),
            Column::new("Events", Anchor::End),
            Column::new("Total", Anchor::End),
        ],
        right: vec![est_col, lb_col, ub_col, Column::new("I\u{b2}", Anchor::End)],
        rows,
        footer,
        axis: AxisSpec {
            lo,
            hi,
            ticks,
            title: opts.xlab.clone().unwrap_or_else(|| format!("Proportion{pct}")),
        },
        reference: opts.reference.map(v),
        pooled: if opts.pooled_line { Some(v(p.estimate)) } else { None },
        style: st,
    })
}

/// The laid-out summary plot.
pub fn figure(res: &PoolResult, opts: &ForestOptions) -> Result<Figure> {
    Ok(table::layout(&table(res, opts)?))
}

pub fn render_svg(res: &PoolResult, opts: &ForestOptions) -> Result<String> {
    Ok(figure(res, opts)?.to_svg())
}

pub fn render_png(res: &PoolResult, opts: &ForestOptions) -> Result<Vec<u8>> {
    figure(res, opts)?.to_png(opts.dpi)
}

/// Write the summary plot to `path` (SVG or PNG from the extension), atomically.
pub fn write(res: &PoolResult, opts: &ForestOptions, path: &Path) -> Result<()> {
    write_figure(&figure(res, opts)?, path, opts.dpi)
}
