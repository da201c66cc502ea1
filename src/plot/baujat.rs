//! Baujat plots (Baujat et al. 2002; metafor `baujat`): each study's contribution to the overall
//! heterogeneity (x) against its influence on the pooled estimate (y), marked by its number.

use super::axis;
use super::figure::{Anchor, Color, Figure, Role, Shape, Text};
use super::font;
use super::table::Style;
use crate::diagnostics::Baujat;
use crate::error::{Error, Result};
use crate::report::fmt_num;

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

/// A scatter frame shared by the Baujat and GOSH plots: axes with ticks and titles around a plot
/// region; returns the figure and the maps from data to pixels.
pub(crate) struct Frame {
    pub fig: Figure,
    pub px: (f64, f64),
    pub py: (f64, f64),
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Frame {
    pub fn xm(&self, v: f64) -> f64 {
        self.px.0 + (v - self.x.0) / (self.x.1 - self.x.0) * (self.px.1 - self.px.0)
    }
    pub fn ym(&self, v: f64) -> f64 {
        self.py.1 - (v - self.y.0) / (self.y.1 - self.y.0) * (self.py.1 - self.py.0)
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn frame(
    title: Option<&str>,
    xticks: &[axis::Tick],
    x: (f64, f64),
    yticks: &[axis::Tick],
    y: (f64, f64),
    xlab: &str,
    ylab: &str,
    w: f64,
    h: f64,
    st: &Style,
) -> Frame {
    let (asc, desc) = font::ascent_descent(st.font, false);
    let ytick_w = yticks
        .iter()
        .map(|t| font::text_width(&fmt_num(t.value, t.decimals), st.font, false))
        .fold(0.0f64, f64::max);
    let ytitle_x = st.margin + asc;
    let px0 = ytitle_x + desc + 8.0 + ytick_w + 6.0;
    let px1 = px0 + w;
    let mut top = st.margin;
    let title_baseline = title.map(|_| {
        let (ta, _) = font::ascent_descent(st.title, true);
        let b = top + ta;
        top = b + st.row;
        b
    });
    let py0 = top + asc / 2.0;
    let py1 = py0 + h;
    let tick = 4.0;
    let xtick_baseline = py1 + tick + 2.0 + asc;
    let xlab_baseline = xtick_baseline + desc + 4.0 + asc;
    let title_w = title.map(|t| font::text_width(t, st.title, true)).unwrap_or(0.0);
    let last = xticks
        .last()
        .map(|t| font::text_width(&fmt_num(t.value, t.decimals), st.font, false) / 2.0)
        .unwrap_or(0.0);
    let width = (px1 + last.max(8.0) + st.margin).max(st.margin + title_w + st.margin);
    let height = (xlab_baseline + desc + st.margin).max(py0 + font::text_width(ylab, st.font, false) + st.margin);
    let mut fig = Figure::new(width, height);
    if let (Some(t), Some(b)) = (title, title_baseline) {
        fig.text(Role::Title, st.margin, b, t.to_string(), st.title, true, Anchor::Start);
    }
    let f = Frame {
        fig,
        px: (px0, px1),
        py: (py0, py1),
        x,
        y,
    };
    let mut f = f;
    let (xm, ym): (Vec<f64>, Vec<f64>) = (
        xticks.iter().map(|t| f.xm(t.at)).collect(),
        yticks.iter().map(|t| f.ym(t.at)).collect(),
    );
    f.fig.line(Role::Axis, (px0, py1), (px1, py1), st.line, st.ink);
    f.fig.line(Role::Axis, (px0, py0), (px0, py1), st.line, st.ink);
    for (t, xx) in xticks.iter().zip(xm) {
        f.fig.line(Role::Axis, (xx, py1), (xx, py1 + tick), st.line, st.ink);
        f.fig.text(
            Role::TickLabel,
            xx,
            xtick_baseline,
            fmt_num(t.value, t.decimals),
            st.font,
            false,
            Anchor::Middle,
        );
    }
    for (t, yy) in yticks.iter().zip(ym) {
        f.fig.line(Role::Axis, (px0 - tick, yy), (px0, yy), st.line, st.ink);
        f.fig.text(
            Role::TickLabel,
            px0 - tick - 2.0,
            yy + 0.36 * st.font,
            fmt_num(t.value, t.decimals),
            st.font,
            false,
            Anchor::End,
        );
    }
    f.fig.text(
        Role::AxisTitle,
        (px0 + px1) / 2.0,
        xlab_baseline,
        xlab.to_string(),
        st.font,
        false,
        Anchor::Middle,
    );
    f.fig.push(
        Role::AxisTitle,
        Shape::Text(Text {
            x: ytitle_x,
            baseline: (py0 + py1) / 2.0,
            text: ylab.to_string(),
            size: st.font,
            bold: false,
            anchor: Anchor::Middle,
            color: Color::BLACK,
            vertical: true,
        }),
    );
    f
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
