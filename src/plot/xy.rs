//! The frame of an x–y plot (funnel, bubble, Baujat, GOSH): where the plot region, tick labels
//! and titles go, the canvas size, and the axes with their ticks and titles.
//!
//! The y title is rotated at the left margin, the y tick labels right-aligned beside the axis;
//! the x tick labels and the x title sit under the plot, an optional title above it.

use super::axis::{self, Tick};
use super::figure::{Anchor, Color, Figure, Role, Shape, Text};
use super::font;
use super::forest::Scale;
use super::table::Style;
use crate::effect::{transform, Measure};
use crate::report::fmt_num;

/// Ticks for an axis on the scale of `measure` (from `lo` to `hi`) labelled as proportions on
/// `scale`: round proportions for PR, otherwise proportions placed through the transformation
/// (PFT at `n_bar`) at least `min_gap` apart. Other measures are labelled on their natural
/// scale ([`natural_ticks`]).
pub(crate) fn measure_ticks(measure: Measure, n_bar: f64, lo: f64, hi: f64, scale: Scale, min_gap: f64) -> Vec<Tick> {
    if !measure.is_proportion() {
        return natural_ticks(measure, lo, hi, min_gap);
    }
    if measure == Measure::PR {
        let (a, b) = (lo.max(0.0), hi.min(1.0));
        let step = axis::nice_step(b - a, 5);
        axis::ticks_between(a, b, step)
            .into_iter()
            .map(|t| {
                let value = scale.of(t.at);
                Tick {
                    at: t.at,
                    value,
                    decimals: axis::decimals_of((value * 1e6).round() / 1e6),
                }
            })
            .collect()
    } else {
        axis::proportion_ticks(|p| transform(measure, p, n_bar), lo, hi, min_gap, 9, scale.is_percent())
    }
}

/// Ticks for an axis on the analysis scale of a two-group or other measure, labelled on the
/// natural scale: ratios (log scale) at 0.01, 0.02, 0.05, 0.1, … 100 where they are at least
/// `min_gap` apart (1 always); Fisher's z at round correlations; differences and generic effect
/// sizes at round values.
fn natural_ticks(measure: Measure, lo: f64, hi: f64, min_gap: f64) -> Vec<Tick> {
    let placed = |values: &[f64], to_axis: &dyn Fn(f64) -> f64| {
        let mut out: Vec<Tick> = Vec::new();
        for &v in values {
            let at = to_axis(v);
            if at >= lo && at <= hi && out.last().is_none_or(|t: &Tick| at - t.at >= min_gap) {
                out.push(Tick {
                    at,
                    value: v,
                    decimals: axis::decimals_of(v),
                });
            }
        }
        out
    };
    if measure.is_ratio() {
        const RATIOS: [f64; 13] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
        // Thin out from the null line: 1 first, then each side outwards.
        let mut ticks = placed(&[1.0], &|v: f64| v.ln());
        for side in [&RATIOS[..6], &RATIOS[7..]] {
            let order: Vec<f64> = if side[0] < 1.0 {
                side.iter().rev().copied().collect()
            } else {
                side.to_vec()
            };
            for v in order {
                let at = v.ln();
                if at >= lo && at <= hi && ticks.iter().all(|t| (at - t.at).abs() >= min_gap) {
                    ticks.push(Tick {
                        at,
                        value: v,
                        decimals: axis::decimals_of(v),
                    });
                }
            }
        }
        ticks.sort_by(|a, b| a.at.total_cmp(&b.at));
        ticks
    } else if measure == Measure::ZCOR {
        let rs: Vec<f64> = (-9..=9).map(|i| i as f64 / 10.0).collect();
        placed(&rs, &|r: f64| r.atanh())
    } else {
        let step = axis::nice_step(hi - lo, 5);
        axis::ticks_between(lo, hi, step)
    }
}

/// Positions of an x–y plot's parts, in pixels.
pub(crate) struct Layout {
    /// Left and right edges of the plot region.
    pub px: (f64, f64),
    /// Top and bottom edges of the plot region.
    pub py: (f64, f64),
    /// Length of a tick mark.
    pub tick: f64,
    pub xtick_baseline: f64,
    pub xlab_baseline: f64,
    /// Baseline of the rotated y title.
    pub ytitle_x: f64,
    pub title_baseline: Option<f64>,
    /// Descent of the tick-label font.
    desc: f64,
}

impl Layout {
    /// A plot region of `plot_w` × `plot_h` with room on its left for the y tick labels
    /// `yticks` and the y title, and above it for a title when there is one.
    pub fn new(st: &Style, has_title: bool, yticks: &[Tick], plot_w: f64, plot_h: f64) -> Layout {
        let (asc, desc) = font::ascent_descent(st.font, false);
        let ytick_w = yticks
            .iter()
            .map(|t| font::text_width(&fmt_num(t.value, t.decimals), st.font, false))
            .fold(0.0f64, f64::max);
        let ytitle_x = st.margin + asc;
        let px0 = ytitle_x + desc + 8.0 + ytick_w + 6.0;
        let mut top = st.margin;
        let title_baseline = has_title.then(|| {
            let (ta, _) = font::ascent_descent(st.title, true);
            let b = top + ta;
            top = b + st.row;
            b
        });
        // Half a line above the plot for the top y tick label.
        let py0 = top + asc / 2.0;
        let py1 = py0 + plot_h;
        let tick = 4.0;
        let xtick_baseline = py1 + tick + 2.0 + asc;
        Layout {
            px: (px0, px0 + plot_w),
            py: (py0, py1),
            tick,
            xtick_baseline,
            xlab_baseline: xtick_baseline + desc + 4.0 + asc,
            ytitle_x,
            title_baseline,
            desc,
        }
    }

    /// The canvas, with the title drawn: wide enough for half the last x tick label (at least
    /// `pad`) right of the plot, the title, and the x title centred under the plot; tall enough
    /// for the x title and the rotated y title.
    pub fn figure(&self, st: &Style, title: Option<&str>, xticks: &[Tick], xlab: &str, ylab: &str, pad: f64) -> Figure {
        let (px0, px1) = self.px;
        let last = xticks
            .last()
            .map(|t| font::text_width(&fmt_num(t.value, t.decimals), st.font, false) / 2.0)
            .unwrap_or(0.0);
        let title_w = title.map(|t| font::text_width(t, st.title, true)).unwrap_or(0.0);
        let xlab_w = font::text_width(xlab, st.font, false);
        let width = (px1 + last.max(pad) + st.margin)
            .max(st.margin + title_w + st.margin)
            .max((px0 + px1) / 2.0 + xlab_w / 2.0 + st.margin);
        let height = (self.xlab_baseline + self.desc + st.margin)
            .max(self.py.0 + font::text_width(ylab, st.font, false) + st.margin);
        let mut fig = Figure::new(width, height);
        if let (Some(t), Some(b)) = (title, self.title_baseline) {
            fig.text(Role::Title, st.margin, b, t.to_string(), st.title, true, Anchor::Start);
        }
        fig
    }

    /// The x and y axes with `ticks.0` at the pixel positions `at.0` (and `ticks.1` at `at.1`),
    /// their labels, and the axis titles.
    pub fn draw_axes(
        &self,
        fig: &mut Figure,
        st: &Style,
        ticks: (&[Tick], &[Tick]),
        at: (&[f64], &[f64]),
        (xlab, ylab): (&str, &str),
    ) {
        let ((px0, px1), (py0, py1), tick) = (self.px, self.py, self.tick);
        fig.line(Role::Axis, (px0, py1), (px1, py1), st.line, st.ink);
        fig.line(Role::Axis, (px0, py0), (px0, py1), st.line, st.ink);
        for (t, &x) in ticks.0.iter().zip(at.0) {
            fig.line(Role::Axis, (x, py1), (x, py1 + tick), st.line, st.ink);
            fig.text(
                Role::TickLabel,
                x,
                self.xtick_baseline,
                fmt_num(t.value, t.decimals),
                st.font,
                false,
                Anchor::Middle,
            );
        }
        for (t, &y) in ticks.1.iter().zip(at.1) {
            fig.line(Role::Axis, (px0 - tick, y), (px0, y), st.line, st.ink);
            fig.text(
                Role::TickLabel,
                px0 - tick - 2.0,
                y + 0.36 * st.font,
                fmt_num(t.value, t.decimals),
                st.font,
                false,
                Anchor::End,
            );
        }
        fig.text(
            Role::AxisTitle,
            (px0 + px1) / 2.0,
            self.xlab_baseline,
            xlab.to_string(),
            st.font,
            false,
            Anchor::Middle,
        );
        fig.push(
            Role::AxisTitle,
            Shape::Text(Text {
                x: self.ytitle_x,
                baseline: (py0 + py1) / 2.0,
                text: ylab.to_string(),
                size: st.font,
                bold: false,
                anchor: Anchor::Middle,
                color: Color::BLACK,
                vertical: true,
            }),
        );
    }
}

/// A scatter plot's canvas with its axes drawn (Baujat and GOSH plots), and the maps from data
/// to pixels.
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

/// A [`Frame`] for data ranges `x` and `y` with ticks `xticks` and `yticks`, axis titles `xlab`
/// and `ylab`, a plot region of `w` × `h`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn frame(
    title: Option<&str>,
    xticks: &[Tick],
    x: (f64, f64),
    yticks: &[Tick],
    y: (f64, f64),
    xlab: &str,
    ylab: &str,
    w: f64,
    h: f64,
    st: &Style,
) -> Frame {
    let layout = Layout::new(st, title.is_some(), yticks, w, h);
    let mut f = Frame {
        fig: layout.figure(st, title, xticks, xlab, ylab, 8.0),
        px: layout.px,
        py: layout.py,
        x,
        y,
    };
    let xs: Vec<f64> = xticks.iter().map(|t| f.xm(t.at)).collect();
    let ys: Vec<f64> = yticks.iter().map(|t| f.ym(t.at)).collect();
    layout.draw_axes(&mut f.fig, st, (xticks, yticks), (&xs, &ys), (xlab, ylab));
    f
}
