//! GOSH plots (Olkin, Dahabreh & Trikalinos 2012; metafor `plot(gosh(...))`): the pooled
//! estimate of every subset against its I², drawn as a density (grey level by the log of the
//! number of subsets in each cell) from the histogram that `diagnostics::gosh` accumulates while
//! it streams, so that the figure's size does not grow with the number of subsets.

use super::axis;
use super::figure::{Color, Figure, Role, Shape};
use super::table::Style;
use super::xy::frame;
use crate::diagnostics::GoshSummary;
use crate::effect::Measure;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct GoshPlotOptions {
    pub title: Option<String>,
    pub plot_width: f64,
    pub plot_height: f64,
    pub style: Style,
}

impl Default for GoshPlotOptions {
    fn default() -> Self {
        GoshPlotOptions {
            title: None,
            plot_width: 400.0,
            plot_height: 300.0,
            style: Style::default(),
        }
    }
}

fn scale_name(m: Measure) -> &'static str {
    match m {
        Measure::PR => "proportion",
        Measure::PLN => "log proportion",
        Measure::PLO => "logit proportion",
        Measure::PAS => "arcsine proportion",
        Measure::PFT => "Freeman\u{2013}Tukey proportion",
        m => m.describe(),
    }
}

/// The laid-out GOSH plot.
pub fn figure(s: &GoshSummary, measure: Measure, opts: &GoshPlotOptions) -> Result<Figure> {
    let h = &s.histogram;
    let max = h.counts.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return Err(Error::Computation("no GOSH fits to plot".into()));
    }
    let st = &opts.style;
    let (x0, x1, xt) = axis::linear(h.x_lo, h.x_hi, 5, (f64::NEG_INFINITY, f64::INFINITY));
    let (y0, y1, yt) = axis::linear(0.0, 100.0, 5, (0.0, 100.0));
    let mut f = frame(
        opts.title.as_deref(),
        &xt,
        (x0, x1),
        &yt,
        (y0, y1),
        &format!("Estimate ({})", scale_name(measure)),
        "I\u{b2} (%)",
        opts.plot_width,
        opts.plot_height,
        st,
    );
    let lmax = (max as f64).ln_1p();
    let bw = (h.x_hi - h.x_lo) / h.bins_x as f64;
    let bh = 100.0 / h.bins_y as f64;
    for iy in 0..h.bins_y {
        for ix in 0..h.bins_x {
            let c = h.counts[iy * h.bins_x + ix];
            if c == 0 {
                continue;
            }
            let shade = 0.15 + 0.85 * (c as f64).ln_1p() / lmax;
            let g = (255.0 * (1.0 - shade)).round().clamp(0.0, 255.0) as u8;
            let xa = h.x_lo + ix as f64 * bw;
            let ya = iy as f64 * bh;
            f.fig.push(
                Role::Region,
                Shape::Rect {
                    x0: f.xm(xa),
                    y0: f.ym(ya + bh),
                    x1: f.xm(xa + bw),
                    y1: f.ym(ya),
                    fill: Color(g, g, g),
                },
            );
        }
    }
    Ok(f.fig)
}
