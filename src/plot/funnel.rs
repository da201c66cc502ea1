//! Funnel plots: each study's effect size `yi` (on the measure's scale, where the model pools)
//! against its standard error `√vi`, the SE axis reversed (precise studies on top), with the
//! pooled estimate and its pseudo-confidence region `estimate ± z·SE`.
//!
//! The x axis is on the measure's scale (logit, arcsine, …) but labelled with proportions, like
//! metafor's `funnel(…, atransf = transf.ilogit)`: ticks sit at the transformed positions of
//! round proportions. For PFT the transformation uses the n̄ of the overall back-transformation.

use std::path::Path;

use super::axis;
use super::figure::{Anchor, Color, Figure, Role, Shape};
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
    /// Contour-enhanced funnel (meta's `funnel(contour = c(0.9, 0.95, 0.99))`): shaded bands
    /// around the null value 0 of the analysis scale where a study's two-sided p is in
    /// (0.05, 0.10], (0.01, 0.05] and ≤ 0.01, with a legend (instead of the pseudo-CI region).
    pub contours: bool,
    /// Trim-and-fill's imputed studies (yi, vi), drawn hollow.
    pub filled: Vec<(f64, f64)>,
    /// Egger's regression line yi = intercept + slope · SE (intercept, slope), drawn dashed.
    pub egger: Option<(f64, f64)>,
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
            contours: false,
            filled: Vec::new(),
            egger: None,
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
    let est = res.overall.coef().estimate;
    let yi: Vec<f64> = res.studies.iter().map(|s| s.yi).collect();
    let se: Vec<f64> = res.studies.iter().map(|s| s.vi.sqrt()).collect();
    let se_top = se.iter().copied().fold(0.0f64, f64::max);
    let (_, se_max, yticks) = axis::linear(0.0, se_top.max(1e-9), 4, (0.0, f64::INFINITY));
    // x range: every study and the region at the bottom of the funnel, padded 4%.
    let all_y = yi.iter().chain(opts.filled.iter().map(|f| &f.0)).copied();
    let mut lo = all_y.clone().fold(est - z * se_max, f64::min);
    let mut hi = all_y.fold(est + z * se_max, f64::max);
    if opts.contours {
        let z99 = dist::critical(0.99, None);
        lo = lo.min(-z99 * se_max);
        hi = hi.max(z99 * se_max);
    }
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

    let triangle = |centre: f64, z: f64| -> Vec<(f64, f64)> {
        let tri = vec![
            (xm(centre - z * se_max), ym(se_max)),
            (xm(centre), ym(0.0)),
            (xm(centre + z * se_max), ym(se_max)),
        ];
        super::table::clip_x(&tri, px0, px1)
    };
    // Contours: painted from the outside in (p <= 0.01 everywhere, then the triangles where
    // p > 0.01, p > 0.05 and p > 0.10).
    let bands = [
        (Color(0xE3, 0xE3, 0xE3), "p \u{2264} 0.01"),
        (Color(0xB8, 0xB8, 0xB8), "0.01 < p \u{2264} 0.05"),
        (Color(0x8C, 0x8C, 0x8C), "0.05 < p \u{2264} 0.10"),
    ];
    if opts.contours {
        fig.push(
            Role::Region,
            Shape::Rect {
                x0: px0,
                y0: ym(0.0),
                x1: px1,
                y1: ym(se_max),
                fill: bands[0].0,
            },
        );
        for (lvl, fill) in [(0.99, bands[1].0), (0.95, bands[2].0), (0.90, Color(0xFF, 0xFF, 0xFF))] {
            let t = triangle(0.0, dist::critical(lvl, None));
            if t.len() >= 3 {
                fig.push(
                    Role::Region,
                    Shape::Polygon {
                        points: t,
                        fill,
                        stroke: None,
                    },
                );
            }
        }
    }
    // Pseudo-confidence region, clipped to the plot.
    let tri = vec![
        (xm(est - z * se_max), ym(se_max)),
        (xm(est), ym(0.0)),
        (xm(est + z * se_max), ym(se_max)),
    ];
    let region = super::table::clip_x(&tri, px0, px1);
    if region.len() >= 3 && !opts.contours {
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
        if opts.contours {
            break;
        }
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
    for (y, v) in &opts.filled {
        fig.push(
            Role::Point,
            Shape::Circle {
                cx: xm(*y),
                cy: ym(v.sqrt()),
                r: 3.0,
                fill: Some(Color(0xFF, 0xFF, 0xFF)),
                stroke: Some((st.ink, 1.0)),
            },
        );
    }
    if let Some((b0, b1)) = opts.egger {
        // x = b0 + b1 * se from se = 0 to se_max, clipped to [lo, hi].
        let (mut t0, mut t1) = (0.0f64, se_max);
        if b1.abs() > 0.0 {
            let (sa, sb) = ((lo - b0) / b1, (hi - b0) / b1);
            t0 = t0.max(sa.min(sb));
            t1 = t1.min(sa.max(sb));
        } else if !(lo..=hi).contains(&b0) {
            t1 = -1.0;
        }
        if t1 > t0 {
            fig.dashed_line(
                Role::Guide,
                (xm(b0 + b1 * t0), ym(t0)),
                (xm(b0 + b1 * t1), ym(t1)),
                st.line * 1.5,
                Color(0xB2, 0x22, 0x22),
                6.0,
                3.0,
            );
        }
    }
    // Legend (top right, inside the plot).
    let mut legend: Vec<(Option<Color>, &str)> = Vec::new();
    if opts.contours {
        legend.extend(bands.iter().rev().map(|(c, l)| (Some(*c), *l)));
    }
    if !opts.filled.is_empty() {
        legend.push((None, "filled (trim-and-fill)"));
    }
    if opts.egger.is_some() {
        legend.push((None, "Egger's regression line"));
    }
    if !legend.is_empty() {
        let lh = st.small * 1.35;
        let box_w = st.small * 0.9;
        let text_w = legend.iter().map(|(_, l)| l.chars().count()).max().unwrap_or(0) as f64 * st.small * 0.55;
        let w = box_w + 6.0 + text_w + 8.0;
        // The top corner that hides fewer points.
        let h = lh * legend.len() as f64 + 4.0;
        let y0 = py0 + 4.0;
        let marks: Vec<(f64, f64)> = yi
            .iter()
            .zip(&se)
            .map(|(y, s)| (xm(*y), ym(*s)))
            .chain(opts.filled.iter().map(|(y, v)| (xm(*y), ym(v.sqrt()))))
            .collect();
        let hidden = |x0: f64| {
            marks
                .iter()
                .filter(|(px, py)| *px >= x0 - 4.0 && *px <= x0 + w + 4.0 && *py >= y0 - 4.0 && *py <= y0 + h + 4.0)
                .count()
        };
        let (right, left) = (px1 - w - 4.0, px0 + 4.0);
        let x0 = if hidden(left) < hidden(right) { left } else { right };
        fig.push(
            Role::Region,
            Shape::Polygon {
                points: vec![(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)],
                fill: Color(0xFF, 0xFF, 0xFF),
                stroke: Some((grey, 0.5)),
            },
        );
        for (i, (fill, label)) in legend.iter().enumerate() {
            let cy = y0 + 2.0 + lh * (i as f64 + 0.5);
            let bx = x0 + 4.0;
            match (fill, *label) {
                (Some(c), _) => fig.push(
                    Role::Region,
                    Shape::Rect {
                        x0: bx,
                        y0: cy - box_w / 2.0,
                        x1: bx + box_w,
                        y1: cy + box_w / 2.0,
                        fill: *c,
                    },
                ),
                (None, "filled (trim-and-fill)") => fig.push(
                    Role::Point,
                    Shape::Circle {
                        cx: bx + box_w / 2.0,
                        cy,
                        r: 3.0,
                        fill: Some(Color(0xFF, 0xFF, 0xFF)),
                        stroke: Some((st.ink, 1.0)),
                    },
                ),
                (None, _) => fig.dashed_line(
                    Role::Guide,
                    (bx - 1.0, cy),
                    (bx + box_w + 1.0, cy),
                    st.line * 1.5,
                    Color(0xB2, 0x22, 0x22),
                    3.0,
                    2.0,
                ),
            }
            fig.text(
                Role::Label,
                bx + box_w + 6.0,
                cy + st.small * 0.35,
                *label,
                st.small,
                false,
                Anchor::Start,
            );
        }
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
