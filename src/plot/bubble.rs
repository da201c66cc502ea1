//! Bubble plots of a meta-regression (metafor's `regplot`): each study's effect size `yi` (on the
//! measure's scale) against a numeric moderator, the point's area proportional to the study's
//! weight 1/(vᵢ + τ²) in the model, with the fitted line and its confidence band. With several
//! moderators the others are held at their means, as `regplot` does.
//!
//! The y axis is on the measure's scale but labelled with proportions (as the funnel plot).

use std::path::Path;

use super::axis;
use super::figure::{Color, Figure, Role, Shape};
use super::forest::Scale;
use super::table::Style;
use super::{write_figure, xy};
use crate::effect::Measure;
use crate::error::{Error, Result};
use crate::model::metareg::{MetaregResult, Moderator, ModeratorKind};

/// What a bubble plot lets one choose.
#[derive(Debug, Clone, PartialEq)]
pub struct BubbleOptions {
    /// The moderator on the x axis (its column or term); `None`: the first numeric one.
    pub moderator: Option<String>,
    /// How the proportion tick labels are printed.
    pub scale: Scale,
    pub title: Option<String>,
    /// Axis titles (`None`: the moderator's name, and "Proportion (%), logit scale").
    pub xlab: Option<String>,
    pub ylab: Option<String>,
    /// Size of the plotting region in pixels (1/96 inch).
    pub plot_width: f64,
    pub plot_height: f64,
    /// Radius of the largest and the smallest bubble, in pixels.
    pub max_radius: f64,
    pub min_radius: f64,
    pub dpi: f64,
    pub style: Style,
}

impl Default for BubbleOptions {
    fn default() -> Self {
        BubbleOptions {
            moderator: None,
            scale: Scale::Percent,
            title: None,
            xlab: None,
            ylab: None,
            plot_width: 420.0,
            plot_height: 300.0,
            max_radius: 12.0,
            min_radius: 2.0,
            dpi: 300.0,
            style: Style::default(),
        }
    }
}

fn scale_name(m: Measure) -> &'static str {
    match m {
        Measure::PR => "",
        Measure::PLN => ", log scale",
        Measure::PLO => ", logit scale",
        Measure::PAS => ", arcsine scale",
        Measure::PFT => ", Freeman\u{2013}Tukey scale",
        Measure::ZCOR => ", Fisher z scale",
        m if m.is_ratio() => ", log scale",
        _ => "",
    }
}

/// The numeric moderator to plot.
pub fn choose_moderator<'a>(res: &'a MetaregResult, wanted: Option<&str>) -> Result<&'a Moderator> {
    let numeric = |m: &&Moderator| m.kind == ModeratorKind::Numeric;
    match wanted {
        Some(w) => {
            let m = res
                .moderators
                .iter()
                .find(|m| m.column == w || m.term == w)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "the bubble plot's moderator \"{w}\" is not in the model (moderators: {})",
                        res.moderators.iter().map(|m| m.term.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            if !numeric(&m) {
                return Err(Error::Usage(format!(
                    "the bubble plot needs a numeric moderator; \"{w}\" is a factor"
                )));
            }
            Ok(m)
        }
        None => res.moderators.iter().find(numeric).ok_or_else(|| {
            Error::Usage(
                "the bubble plot needs a numeric moderator; the model has only factors (a factor's levels are compared by its coefficients)"
                    .into(),
            )
        }),
    }
}

/// The laid-out bubble plot.
pub fn figure(res: &MetaregResult, opts: &BubbleOptions) -> Result<Figure> {
    let m = choose_moderator(res, opts.moderator.as_deref())?;
    let st = &opts.style;
    let xs = &m.values;
    let yi = &res.fit.yi;
    let w = &res.fit.weights;
    if xs.is_empty() || xs.len() != yi.len() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (xlo, xhi, xticks) = axis::linear(xmin, xmax, 5, (f64::NEG_INFINITY, f64::INFINITY));
    // The fitted line and band over the axis range.
    let samples = 120;
    let grid: Vec<f64> = (0..=samples)
        .map(|i| xlo + (xhi - xlo) * i as f64 / samples as f64)
        .collect();
    let band = res.line(m, &grid);
    // y range: the studies and the band, padded 4%.
    let mut lo = yi.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = yi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &(_, l, u) in &band {
        lo = lo.min(l);
        hi = hi.max(u);
    }
    if !(hi > lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    let pad = 0.04 * (hi - lo);
    lo -= pad;
    hi += pad;
    let measure = res.measure;
    let n_bar = crate::effect::transf::harmonic_mean(&res.ni);
    let pct = opts.scale.is_percent();
    let yticks = xy::measure_ticks(measure, n_bar, lo, hi, opts.scale, (hi - lo) * 0.09);

    let xlab = opts.xlab.clone().unwrap_or_else(|| m.term.clone());
    let ylab = opts
        .ylab
        .clone()
        .unwrap_or_else(|| format!("Proportion{}{}", if pct { " (%)" } else { "" }, scale_name(measure)));
    let layout = xy::Layout::new(st, opts.title.is_some(), &yticks, opts.plot_width, opts.plot_height);
    let (px0, py1) = (layout.px.0, layout.py.1);
    let mut fig = layout.figure(st, opts.title.as_deref(), &xticks, &xlab, &ylab, opts.max_radius);
    let xm = |v: f64| px0 + (v - xlo) / (xhi - xlo) * opts.plot_width;
    let ym = |v: f64| py1 - (v - lo) / (hi - lo) * opts.plot_height;
    // Confidence band: trapezoids between consecutive x (each convex), overlapping by a hair so
    // that no seam shows.
    let shade = Color(0xE3, 0xE3, 0xE3);
    for i in 0..band.len() - 1 {
        let (xa, xb) = (xm(grid[i]) - 0.2, xm(grid[i + 1]) + 0.2);
        let (a, b) = (band[i], band[i + 1]);
        fig.push(
            Role::Region,
            Shape::Polygon {
                points: vec![(xa, ym(a.1)), (xb, ym(b.1)), (xb, ym(b.2)), (xa, ym(a.2))],
                fill: shade,
                stroke: None,
            },
        );
    }
    let grey = Color(0x66, 0x66, 0x66);
    for i in 0..band.len() - 1 {
        let (a, b) = (band[i], band[i + 1]);
        let (xa, xb) = (xm(grid[i]), xm(grid[i + 1]));
        fig.line(Role::Guide, (xa, ym(a.1)), (xb, ym(b.1)), 0.75 * st.line, grey);
        fig.line(Role::Guide, (xa, ym(a.2)), (xb, ym(b.2)), 0.75 * st.line, grey);
    }
    // The fitted line is straight on the measure's scale (the other moderators are fixed).
    if let (Some(a), Some(b)) = (band.first(), band.last()) {
        fig.line(
            Role::PooledLine,
            (xm(xlo), ym(a.0)),
            (xm(xhi), ym(b.0)),
            1.5 * st.line,
            st.ink,
        );
    }
    // Bubbles, largest first so that small ones stay visible.
    let wmax = w.iter().copied().fold(0.0f64, f64::max);
    let mut order: Vec<usize> = (0..yi.len()).collect();
    order.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
    for i in order {
        let r = if wmax > 0.0 && w[i].is_finite() {
            opts.min_radius + (opts.max_radius - opts.min_radius) * (w[i] / wmax).sqrt()
        } else {
            opts.min_radius
        };
        fig.push(
            Role::Point,
            Shape::Circle {
                cx: xm(xs[i]),
                cy: ym(yi[i]),
                r,
                fill: Some(Color(0xA6, 0xA6, 0xA6)),
                stroke: Some((st.ink, 0.8)),
            },
        );
    }
    // Axes.
    let xs: Vec<f64> = xticks.iter().map(|t| xm(t.at)).collect();
    let ys: Vec<f64> = yticks.iter().map(|t| ym(t.at)).collect();
    layout.draw_axes(&mut fig, st, (&xticks, &yticks), (&xs, &ys), (&xlab, &ylab));
    Ok(fig)
}

pub fn render_svg(res: &MetaregResult, opts: &BubbleOptions) -> Result<String> {
    Ok(figure(res, opts)?.to_svg())
}

pub fn render_png(res: &MetaregResult, opts: &BubbleOptions) -> Result<Vec<u8>> {
    figure(res, opts)?.to_png(opts.dpi)
}

/// Write the bubble plot to `path` (SVG or PNG from the extension), atomically.
pub fn write(res: &MetaregResult, opts: &BubbleOptions, path: &Path) -> Result<()> {
    write_figure(&figure(res, opts)?, path, opts.dpi)
}
