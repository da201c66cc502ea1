//! Funnel plots: each study's effect size `yi` (on the measure's scale, where the model pools)
//! against its standard error `√vi`, the SE axis reversed (precise studies on top), with the
//! pooled estimate and its pseudo-confidence region `estimate ± z·SE`.
//!
//! The x axis is on the measure's scale (logit, arcsine, …) but labelled with proportions, like
//! metafor's `funnel(…, atransf = transf.ilogit)`: ticks sit at the transformed positions of
//! round proportions. For PFT the transformation uses the n̄ of the overall back-transformation.

use std::path::Path;

use super::axis;
use super::figure::{Color, Figure, Role, Shape};
use super::forest::Scale;
use super::table::Style;
use super::{write_figure, xy};
use crate::dist;
use crate::effect::{BackTransform, Measure};
use crate::error::{Error, Result};
use crate::model::PoolResult;

/// What a funnel plot lets one choose.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelOptions {
    /// How the proportion tick labels are printed.
    pub scale: Scale,
    /// Level of the pseudo-confidence region (`None`: the analysis's level).
    pub level: Option<f64>,
    pub title: Option<String>,
    /// Axis titles (`None`: "Proportion (%), logit scale" and "Standard error").
    pub xlab: Option<String>,
    pub ylab: Option<String>,
    /// Size of the plotting region in pixels (1/96 inch).
    pub plot_width: f64,
    pub plot_height: f64,
    pub dpi: f64,
    pub style: Style,
}

impl Default for FunnelOptions {
    fn default() -> Self {
        FunnelOptions {
            scale: Scale::Percent,
            level: None,
            title: None,
            xlab: None,
            ylab: None,
            plot_width: 360.0,
            plot_height: 300.0,
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

/// The laid-out funnel plot.
pub fn figure(res: &PoolResult, opts: &FunnelOptions) -> Result<Figure> {
    if res.studies.is_empty() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let level = opts.level.unwrap_or(res.level);
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::Usage(format!("the funnel level must be in (0, 1), got {level}")));
    }
    let st = &opts.style;
    let z = dist::critical(level, None);
    let est = res.overall.estimate;
    let yi: Vec<f64> = res.studies.iter().map(|s| s.yi).collect();
    let se: Vec<f64> = res.studies.iter().map(|s| s.vi.sqrt()).collect();
    let se_top = se.iter().copied().fold(0.0f64, f64::max);
    let (_, se_max, yticks) = axis::linear(0.0, se_top.max(1e-9), 4, (0.0, f64::INFINITY));
    // x range: every study and the region at the bottom of the funnel, padded 4%.
    let mut lo = yi.iter().copied().fold(est - z * se_max, f64::min);
    let mut hi = yi.iter().copied().fold(est + z * se_max, f64::max);
    let pad = 0.04 * (hi - lo).max(1e-9);
    lo -= pad;
    hi += pad;
    let measure = res.measure;
    let n_bar = match res.overall.back {
        BackTransform::IPft { n } => n,
        _ => f64::NAN,
    };
    let pct = opts.scale.is_percent();
    let xticks = xy::measure_ticks(measure, n_bar, lo, hi, opts.scale, (hi - lo) * 0.11);

    let xlab = opts.xlab.clone().unwrap_or_else(|| {
        if measure.is_proportion() {
            format!("Proportion{}{}", if pct { " (%)" } else { "" }, scale_name(measure))
        } else {
            format!("{}{}", measure.natural_name(), scale_name(measure))
        }
    });
    let ylab = opts.ylab.clone().unwrap_or_else(|| "Standard error".into());
    let layout = xy::Layout::new(st, opts.title.is_some(), &yticks, opts.plot_width, opts.plot_height);
    let ((px0, px1), (py0, _)) = (layout.px, layout.py);
    let mut fig = layout.figure(st, opts.title.as_deref(), &xticks, &xlab, &ylab, 4.0);
    let xm = |v: f64| px0 + (v - lo) / (hi - lo) * opts.plot_width;
    let ym = |s: f64| py0 + s / se_max * opts.plot_height;

    // Pseudo-confidence region, clipped to the plot.
    let tri = vec![
        (xm(est - z * se_max), ym(se_max)),
        (xm(est), ym(0.0)),
        (xm(est + z * se_max), ym(se_max)),
    ];
    let region = super::table::clip_x(&tri, px0, px1);
    if region.len() >= 3 {
        fig.push(
            Role::Region,
            Shape::Polygon {
                points: region,
                fill: Color(0xEB, 0xEB, 0xEB),
                stroke: None,
            },
        );
    }
    let grey = Color(0x66, 0x66, 0x66);
    for sign in [-1.0, 1.0] {
        fig.dashed_line(
            Role::Guide,
            (xm(est), ym(0.0)),
            (xm(est + sign * z * se_max), ym(se_max)),
            st.line,
            grey,
            4.0,
            3.0,
        );
    }
    fig.line(
        Role::PooledLine,
        (xm(est), ym(0.0)),
        (xm(est), ym(se_max)),
        st.line,
        st.ink,
    );
    // Points.
    for (x, s) in yi.iter().zip(&se) {
        fig.push(
            Role::Point,
            Shape::Circle {
                cx: xm(*x),
                cy: ym(*s),
                r: 3.0,
                fill: Some(st.ink),
                stroke: None,
            },
        );
    }
    // Axes.
    let xs: Vec<f64> = xticks.iter().map(|t| xm(t.at)).collect();
    let ys: Vec<f64> = yticks.iter().map(|t| ym(t.at)).collect();
    layout.draw_axes(&mut fig, st, (&xticks, &yticks), (&xs, &ys), (&xlab, &ylab));
    Ok(fig)
}

pub fn render_svg(res: &PoolResult, opts: &FunnelOptions) -> Result<String> {
    Ok(figure(res, opts)?.to_svg())
}

pub fn render_png(res: &PoolResult, opts: &FunnelOptions) -> Result<Vec<u8>> {
    figure(res, opts)?.to_png(opts.dpi)
}

/// Write the funnel plot to `path` (SVG or PNG from the extension), atomically.
pub fn write(res: &PoolResult, opts: &FunnelOptions, path: &Path) -> Result<()> {
    write_figure(&figure(res, opts)?, path, opts.dpi)
}
