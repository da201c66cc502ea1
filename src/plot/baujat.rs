//! Baujat plots (Baujat et al. 2002; metafor `baujat`): each study's contribution to the overall
//! heterogeneity (x) against its influence on the pooled estimate (y), marked by its number.

use super::axis;
use super::figure::{Anchor, Figure, Role};
use super::table::Style;
use super::xy::frame;
use crate::diagnostics::Baujat;
use crate::error::{Error, Result};

/// What a Baujat plot lets one choose.
#[derive(Debug, Clone, PartialEq)]
pub struct BaujatOptions {
    pub title: Option<String>,
    pub plot_width: f64,
    pub plot_height: f64,
    /// Mark studies by their label instead of their number.
    pub labels: bool,
    pub style: Style,
}

impl Default for BaujatOptions {
    fn default() -> Self {
        BaujatOptions {
            title: None,
            plot_width: 360.0,
            plot_height: 300.0,
            labels: false,
            style: Style::default(),
        }
    }
}

/// The laid-out Baujat plot. `labels[i]` names study i (used with `opts.labels`).
pub fn figure(b: &Baujat, labels: &[String], opts: &BaujatOptions) -> Result<Figure> {
    if b.x.is_empty() {
        return Err(Error::Computation("no studies to plot".into()));
    }
    let st = &opts.style;
    let xmax = b.x.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let ymax = b.y.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let (x0, x1, xt) = axis::linear(0.0, (xmax * 1.05).max(1e-9), 5, (0.0, f64::INFINITY));
    let (y0, y1, yt) = axis::linear(0.0, (ymax * 1.05).max(1e-9), 5, (0.0, f64::INFINITY));
    let mut f = frame(
        opts.title.as_deref(),
        &xt,
        (x0, x1),
        &yt,
        (y0, y1),
        "Contribution to overall heterogeneity",
        "Influence on overall result",
        opts.plot_width,
        opts.plot_height,
        st,
    );
    for i in 0..b.x.len() {
        if !b.x[i].is_finite() || !b.y[i].is_finite() {
            continue;
        }
        let (cx, cy) = (f.xm(b.x[i]), f.ym(b.y[i]));
        let text = if opts.labels {
            labels.get(i).cloned().unwrap_or_else(|| (i + 1).to_string())
        } else {
            (i + 1).to_string()
        };
        f.fig.text(
            Role::Point,
            cx,
            cy + 0.36 * st.small,
            text,
            st.small,
            false,
            Anchor::Middle,
        );
    }
    Ok(f.fig)
}
