//! The drawing parts every forest-type figure shares: a table of text columns around a plot
//! column in which each row may carry a mark (a weighted square with its CI, a diamond, a
//! prediction bar, a point), with an axis under the plot column, notes beside the axis, and
//! vertical reference lines.
//!
//! Forest plots, subgroup summary plots and later figures (leave-one-out, cumulative) only build
//! a [`Table`] (rows of already formatted text: all numbers go through `report::fmt_num` in the
//! caller) and call [`layout`]. The canvas is sized to the content: its height follows the
//! number of rows and its width the widest text of each column (measured with the bundled font).

use super::axis::Tick;
use super::figure::{Anchor, Color, Figure, Role, Shape};
use super::font;
use crate::report::fmt_num;

/// The labels among `labels` with characters no font draws (each label once): (label, the
/// characters).
pub fn undrawable<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<(String, Vec<char>)> {
    let mut out: Vec<(String, Vec<char>)> = Vec::new();
    for l in labels {
        let m = font::missing_chars(l);
        if !m.is_empty() && !out.iter().any(|(o, _)| o == l) {
            out.push((l.to_string(), m));
        }
    }
    out
}

/// The footnote naming the labels a figure draws with boxes for missing characters (`None` when
/// every character is drawn).
pub fn undrawable_note<'a>(labels: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let bad = undrawable(labels);
    if bad.is_empty() {
        return None;
    }
    let list: Vec<String> = bad
        .iter()
        .map(|(l, cs)| {
            let cs: Vec<String> = cs.iter().map(|c| format!("{c} (U+{:04X})", *c as u32)).collect();
            format!("\"{l}\": {}", cs.join(", "))
        })
        .collect();
    Some(format!(
        "Characters the fonts cannot draw, shown as boxes: {}; a font file that has them can be given.",
        list.join("; ")
    ))
}

/// Sizes (CSS pixels, 1/96 inch) and colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// Body text size (px per em); 12 px = 9 pt.
    pub font: f64,
    /// Note text size (heterogeneity lines).
    pub small: f64,
    /// Title size.
    pub title: f64,
    /// Row height.
    pub row: f64,
    /// Gap between columns.
    pub gap: f64,
    /// Outer margin.
    pub margin: f64,
    /// Width of the plot column.
    pub plot_width: f64,
    /// Width of lines (CIs, axis).
    pub line: f64,
    /// Largest square side, as a fraction of the row height.
    pub square_max: f64,
    /// Smallest square side in px (so that tiny weights, such as a study at 0% or 100% with its
    /// large variance, stay visible).
    pub square_min: f64,
    /// Diamond height as a fraction of the row height.
    pub diamond: f64,
    pub ink: Color,
    pub square: Color,
    pub diamond_fill: Color,
    pub prediction: Color,
    pub reference: Color,
    pub pooled_line: Color,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            font: 12.0,
            small: 10.5,
            title: 14.0,
            row: 17.0,
            gap: 14.0,
            margin: 12.0,
            plot_width: 280.0,
            line: 1.0,
            square_max: 0.8,
            square_min: 6.0,
            diamond: 0.7,
            ink: Color::BLACK,
            square: Color(0x80, 0x80, 0x80),
            diamond_fill: Color(0xA6, 0xA6, 0xA6),
            prediction: Color(0x4D, 0x4D, 0x4D),
            reference: Color(0xB3, 0xB3, 0xB3),
            pooled_line: Color(0x66, 0x66, 0x66),
        }
    }
}

/// A text column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header text; a header may span this and the following `span - 1` columns.
    pub header: String,
    pub span: usize,
    /// Alignment of the cells and of the header.
    pub align: Anchor,
    /// Gap before this column (`None`: the style's column gap).
    pub gap_before: Option<f64>,
}

impl Column {
    pub fn new(header: impl Into<String>, align: Anchor) -> Column {
        Column {
            header: header.into(),
            span: 1,
            align,
            gap_before: None,
        }
    }
}

/// What a row draws in the plot column. Values are on the axis's scale.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    None,
    /// A study: square of relative size `size` (the largest study has 1) and its CI.
    Square {
        est: f64,
        lb: f64,
        ub: f64,
        size: f64,
    },
    /// A pooled estimate and its CI.
    Diamond {
        est: f64,
        lb: f64,
        ub: f64,
    },
    /// A prediction interval.
    Bar {
        lb: f64,
        ub: f64,
    },
    /// An estimate with its CI, not weighted (leave-one-out, cumulative).
    Point {
        est: f64,
        lb: f64,
        ub: f64,
    },
}

/// How a row's text is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// Normal cells.
    Normal,
    /// Bold cells (pooled results).
    Bold,
    /// One bold text across the left columns (a subgroup heading).
    Heading,
    /// One small text across the left columns (heterogeneity).
    Note,
    /// Empty spacer.
    Blank,
}

/// One row: `cells` for the left columns then the right columns (`""` leaves a cell empty);
/// for `Heading` and `Note` rows, `cells[0]` is the spanning text.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: RowKind,
    pub cells: Vec<String>,
    pub mark: Mark,
}

impl Row {
    pub fn blank() -> Row {
        Row {
            kind: RowKind::Blank,
            cells: vec![],
            mark: Mark::None,
        }
    }

    pub fn heading(text: impl Into<String>) -> Row {
        Row {
            kind: RowKind::Heading,
            cells: vec![text.into()],
            mark: Mark::None,
        }
    }

    pub fn note(text: impl Into<String>) -> Row {
        Row {
            kind: RowKind::Note,
            cells: vec![text.into()],
            mark: Mark::None,
        }
    }
}

/// The axis under the plot column.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisSpec {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<Tick>,
    pub title: String,
}

/// Everything a forest-type figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: Option<String>,
    pub left: Vec<Column>,
    pub right: Vec<Column>,
    pub rows: Vec<Row>,
    /// Notes under the last row, in the left columns beside the axis (small text).
    pub footer: Vec<String>,
    pub axis: AxisSpec,
    /// Solid vertical line (the user's reference value).
    pub reference: Option<f64>,
    /// Dashed vertical line (the overall pooled estimate).
    pub pooled: Option<f64>,
    pub style: Style,
}

/// Where the columns ended up (for callers that add their own shapes).
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// Left edge of each left column, then of each right column.
    pub column_x: Vec<f64>,
    pub column_w: Vec<f64>,
    /// Plot column [x0, x1].
    pub plot_x: (f64, f64),
    /// Top of each row.
    pub row_y: Vec<f64>,
}

fn cell_width(kind: RowKind, text: &str, st: &Style) -> f64 {
    match kind {
        RowKind::Bold | RowKind::Heading => font::text_width(text, st.font, true),
        RowKind::Note => font::text_width(text, st.small, false),
        _ => font::text_width(text, st.font, false),
    }
}

/// Lay out the widths of a group of columns: each column fits its cells and, where a header spans
/// columns, the header fits the spanned columns (extra width goes to the first of them).
fn column_widths(cols: &[Column], offset: usize, rows: &[Row], st: &Style) -> Vec<f64> {
    let mut w: Vec<f64> = vec![0.0; cols.len()];
    for row in rows {
        if matches!(row.kind, RowKind::Heading | RowKind::Note | RowKind::Blank) {
            continue;
        }
        for (j, wj) in w.iter_mut().enumerate() {
            if let Some(t) = row.cells.get(offset + j) {
                *wj = wj.max(cell_width(row.kind, t, st));
            }
        }
    }
    let gap = |j: usize| cols[j].gap_before.unwrap_or(st.gap);
    for (j, c) in cols.iter().enumerate() {
        if c.header.is_empty() {
            continue;
        }
        let hw = font::text_width(&c.header, st.font, true);
        let end = (j + c.span.max(1)).min(cols.len());
        let have: f64 = (j..end).map(|i| w[i]).sum::<f64>() + (j + 1..end).map(gap).sum::<f64>();
        if hw > have {
            w[j] += hw - have;
        }
    }
    w
}

/// Clip a convex polygon to x0 ≤ x ≤ x1 (Sutherland–Hodgman on two vertical lines).
pub fn clip_x(points: &[(f64, f64)], x0: f64, x1: f64) -> Vec<(f64, f64)> {
    let clip = |pts: &[(f64, f64)], inside: &dyn Fn(f64) -> bool, xb: f64| -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let n = pts.len();
        for i in 0..n {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            let (ia, ib) = (inside(a.0), inside(b.0));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (xb - a.0) / (b.0 - a.0);
                out.push((xb, a.1 + t * (b.1 - a.1)));
            }
        }
        out
    };
    let p = clip(points, &|x| x >= x0, x0);
    if p.is_empty() {
        return p;
    }
    clip(&p, &|x| x <= x1, x1)
}

/// Lay out and draw a table into a figure.
pub fn layout(t: &Table) -> Figure {
    layout_with_geometry(t).0
}

/// [`layout`], also returning where the columns and rows are.
pub fn layout_with_geometry(t: &Table) -> (Figure, Geometry) {
    let st = &t.style;
    let nl = t.left.len();
    let wl = column_widths(&t.left, 0, &t.rows, st);
    let wr = column_widths(&t.right, nl, &t.rows, st);
    let gap_l = |j: usize| {
        if j == 0 {
            0.0
        } else {
            t.left[j].gap_before.unwrap_or(st.gap)
        }
    };
    let gap_r = |j: usize| t.right[j].gap_before.unwrap_or(st.gap);
    let mut left_w: f64 = wl.iter().sum::<f64>() + (0..nl).map(gap_l).sum::<f64>();
    // Spanning rows and footer notes sit in the left columns: widen the first column to fit them.
    let span_w = t
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Heading | RowKind::Note))
        .map(|r| cell_width(r.kind, &r.cells[0], st))
        .chain(t.footer.iter().map(|f| font::text_width(f, st.small, false)))
        .fold(0.0f64, f64::max);
    let mut wl = wl;
    if span_w > left_w {
        if let Some(w0) = wl.first_mut() {
            *w0 += span_w - left_w;
        }
        left_w = span_w;
    }
    // Tick labels are centred on their ticks: keep room for half the end labels.
    let tick_w = |tk: Option<&Tick>| {
        tk.map(|tk| font::text_width(&fmt_num(tk.value, tk.decimals), st.font, false) / 2.0)
            .unwrap_or(0.0)
    };
    let gap_plot_l = st.gap.max(tick_w(t.axis.ticks.first()) + 4.0);
    let gap_plot_r = st.gap.max(tick_w(t.axis.ticks.last()) + 4.0);
    let x0 = st.margin;
    let px0 = x0 + left_w + gap_plot_l;
    let px1 = px0 + st.plot_width;
    let mut column_x = Vec::new();
    let mut x = x0;
    for j in 0..nl {
        x += gap_l(j);
        column_x.push(x);
        x += wl[j];
    }
    let mut x = px1 + gap_plot_r - st.gap;
    for (j, w) in wr.iter().enumerate() {
        x += gap_r(j);
        column_x.push(x);
        x += w;
    }
    let right_end = x;
    let title_w = t
        .title
        .as_ref()
        .map(|s| font::text_width(s, st.title, true))
        .unwrap_or(0.0);
    let axis_title_w = font::text_width(&t.axis.title, st.font, false);
    let mut width = right_end.max(px1 + tick_w(t.axis.ticks.last())) + st.margin;
    width = width.max(x0 + title_w + st.margin);
    width = width.max((px0 + px1) / 2.0 + axis_title_w / 2.0 + st.margin);
    let mut column_w = wl.clone();
    column_w.extend(wr.iter().copied());

    // Vertical layout.
    let mut y = st.margin;
    let title_baseline = if t.title.is_some() {
        let (asc, _) = font::ascent_descent(st.title, true);
        let b = y + asc;
        y = b + st.row * 0.8;
        Some(b)
    } else {
        None
    };
    let header_top = y;
    y += st.row * 1.2;
    let first_row = y;
    let row_y: Vec<f64> = (0..t.rows.len()).map(|i| first_row + i as f64 * st.row).collect();
    let rows_end = first_row + t.rows.len() as f64 * st.row;
    let axis_y = rows_end + st.row * 0.3;
    let tick_len = 4.0;
    let (asc, desc) = font::ascent_descent(st.font, false);
    let tick_baseline = axis_y + tick_len + 2.0 + asc;
    let axis_title_baseline = tick_baseline + desc + 4.0 + asc;
    let axis_bottom = axis_title_baseline + desc;
    let footer_bottom = rows_end + t.footer.len() as f64 * st.row + st.row * 0.2;
    let height = axis_bottom.max(footer_bottom) + st.margin;

    let mut fig = Figure::new(width, height);
    let baseline = |top: f64, size: f64| top + st.row / 2.0 + 0.36 * size;
    let xmap = |v: f64| px0 + (v - t.axis.lo) / (t.axis.hi - t.axis.lo) * st.plot_width;

    if let (Some(title), Some(b)) = (&t.title, title_baseline) {
        fig.text(Role::Title, x0, b, title.clone(), st.title, true, Anchor::Start);
    }
    // Headers.
    let hb = baseline(header_top, st.font);
    let all_cols: Vec<&Column> = t.left.iter().chain(t.right.iter()).collect();
    for (j, c) in all_cols.iter().enumerate() {
        if c.header.is_empty() {
            continue;
        }
        let end = (j + c.span.max(1)).min(all_cols.len()) - 1;
        let (a, b) = (column_x[j], column_x[end] + column_w[end]);
        let (hx, anchor) = match c.align {
            Anchor::Start => (a, Anchor::Start),
            Anchor::End => (b, Anchor::End),
            Anchor::Middle => ((a + b) / 2.0, Anchor::Middle),
        };
        fig.text(Role::Header, hx, hb, c.header.clone(), st.font, true, anchor);
    }

    // Vertical lines behind the marks: from the first row with a mark to the last one.
    let marked: Vec<usize> = (0..t.rows.len()).filter(|&i| t.rows[i].mark != Mark::None).collect();
    if let (Some(&first), Some(&last)) = (marked.first(), marked.last()) {
        let (ya, yb) = (row_y[first], row_y[last] + st.row);
        if let Some(r) = t.reference {
            if r >= t.axis.lo && r <= t.axis.hi {
                fig.line(
                    Role::ReferenceLine,
                    (xmap(r), ya),
                    (xmap(r), axis_y),
                    st.line,
                    st.reference,
                );
            }
        }
        if let Some(p) = t.pooled {
            if p >= t.axis.lo && p <= t.axis.hi {
                fig.dashed_line(
                    Role::PooledLine,
                    (xmap(p), ya),
                    (xmap(p), yb),
                    st.line,
                    st.pooled_line,
                    3.0,
                    3.0,
                );
            }
        }
    }

    // Rows.
    for (i, row) in t.rows.iter().enumerate() {
        let top = row_y[i];
        let yc = top + st.row / 2.0;
        match row.kind {
            RowKind::Blank => {}
            RowKind::Heading => {
                fig.text(
                    Role::Label,
                    x0,
                    baseline(top, st.font),
                    row.cells[0].clone(),
                    st.font,
                    true,
                    Anchor::Start,
                );
            }
            RowKind::Note => {
                fig.text(
                    Role::Note,
                    x0,
                    baseline(top, st.small),
                    row.cells[0].clone(),
                    st.small,
                    false,
                    Anchor::Start,
                );
            }
            RowKind::Normal | RowKind::Bold => {
                let bold = row.kind == RowKind::Bold;
                for (j, c) in all_cols.iter().enumerate() {
                    let Some(text) = row.cells.get(j) else { continue };
                    let x = match c.align {
                        Anchor::Start => column_x[j],
                        Anchor::End => column_x[j] + column_w[j],
                        Anchor::Middle => column_x[j] + column_w[j] / 2.0,
                    };
                    let role = if j == 0 { Role::Label } else { Role::Number };
                    fig.text(role, x, baseline(top, st.font), text.clone(), st.font, bold, c.align);
                }
            }
        }
        draw_mark(&mut fig, &row.mark, yc, (px0, px1), &xmap, st);
    }

    // Axis.
    fig.line(Role::Axis, (px0, axis_y), (px1, axis_y), st.line, st.ink);
    for tk in &t.axis.ticks {
        let xt = xmap(tk.at);
        fig.line(Role::Axis, (xt, axis_y), (xt, axis_y + tick_len), st.line, st.ink);
        fig.text(
            Role::TickLabel,
            xt,
            tick_baseline,
            fmt_num(tk.value, tk.decimals),
            st.font,
            false,
            Anchor::Middle,
        );
    }
    fig.text(
        Role::AxisTitle,
        (px0 + px1) / 2.0,
        axis_title_baseline,
        t.axis.title.clone(),
        st.font,
        false,
        Anchor::Middle,
    );
    // Footer notes beside the axis.
    for (k, note) in t.footer.iter().enumerate() {
        let top = rows_end + k as f64 * st.row;
        fig.text(
            Role::Note,
            x0,
            baseline(top, st.small),
            note.clone(),
            st.small,
            false,
            Anchor::Start,
        );
    }
    let geom = Geometry {
        column_x,
        column_w,
        plot_x: (px0, px1),
        row_y,
    };
    (fig, geom)
}

/// Arrow head at `x` pointing left (`dir` = −1) or right (+1).
fn arrow(fig: &mut Figure, x: f64, yc: f64, dir: f64, st: &Style) {
    let (l, h) = (6.0, 3.5);
    let pts = vec![(x, yc), (x - dir * l, yc - h), (x - dir * l, yc + h)];
    fig.push(
        Role::Arrow,
        Shape::Polygon {
            points: pts,
            fill: st.ink,
            stroke: None,
        },
    );
}

/// An interval line with arrows where it runs past the axis.
fn interval(fig: &mut Figure, lb: f64, ub: f64, yc: f64, plot: (f64, f64), xmap: &dyn Fn(f64) -> f64, st: &Style) {
    let (a, b) = (xmap(lb), xmap(ub));
    let (ca, cb) = (a.max(plot.0), b.min(plot.1));
    if cb > ca {
        fig.line(Role::Ci, (ca, yc), (cb, yc), st.line, st.ink);
    }
    end_arrows(fig, a, b, yc, plot, st);
}

/// Arrows at the axis ends an interval [a, b] (in pixels) runs past; an interval wholly beyond
/// one end gets an arrow there, so that its row is not left empty.
fn end_arrows(fig: &mut Figure, a: f64, b: f64, yc: f64, plot: (f64, f64), st: &Style) {
    if a < plot.0 - 1e-9 {
        arrow(fig, plot.0, yc, -1.0, st);
    }
    if b > plot.1 + 1e-9 {
        arrow(fig, plot.1, yc, 1.0, st);
    }
}

fn draw_mark(fig: &mut Figure, mark: &Mark, yc: f64, plot: (f64, f64), xmap: &dyn Fn(f64) -> f64, st: &Style) {
    let inside = |x: f64| x >= plot.0 - 1e-9 && x <= plot.1 + 1e-9;
    match *mark {
        Mark::None => {}
        Mark::Square { est, lb, ub, size } => {
            let xe = xmap(est);
            if inside(xe) {
                let side = (st.square_max * st.row * size.clamp(0.0, 1.0).sqrt()).max(st.square_min);
                let h = side / 2.0;
                // Centred on the estimate, but kept inside the plot column: a study at 0% or
                // 100% (whose weight, and so square, is small) is not half hidden at the axis end.
                let xc = xe.clamp(plot.0 + h, (plot.1 - h).max(plot.0 + h));
                fig.push(
                    Role::Square,
                    Shape::Rect {
                        x0: xc - h,
                        y0: yc - h,
                        x1: xc + h,
                        y1: yc + h,
                        fill: st.square,
                    },
                );
            }
            interval(fig, lb, ub, yc, plot, xmap, st);
        }
        Mark::Point { est, lb, ub } => {
            interval(fig, lb, ub, yc, plot, xmap, st);
            let xe = xmap(est);
            if inside(xe) {
                let h = 0.22 * st.row;
                fig.push(
                    Role::Square,
                    Shape::Rect {
                        x0: xe - h,
                        y0: yc - h,
                        x1: xe + h,
                        y1: yc + h,
                        fill: st.ink,
                    },
                );
            }
        }
        Mark::Diamond { est, lb, ub } => {
            let h = st.diamond * st.row / 2.0;
            let pts = vec![(xmap(lb), yc), (xmap(est), yc - h), (xmap(ub), yc), (xmap(est), yc + h)];
            let pts = clip_x(&pts, plot.0, plot.1);
            if pts.len() >= 3 {
                fig.push(
                    Role::Diamond,
                    Shape::Polygon {
                        points: pts,
                        fill: st.diamond_fill,
                        stroke: Some((st.ink, st.line)),
                    },
                );
            }
        }
        Mark::Bar { lb, ub } => {
            let (a, b) = (xmap(lb), xmap(ub));
            let (ca, cb) = (a.max(plot.0), b.min(plot.1));
            let h = 0.14 * st.row;
            if cb > ca {
                fig.push(
                    Role::PredictionBar,
                    Shape::Rect {
                        x0: ca,
                        y0: yc - h,
                        x1: cb,
                        y1: yc + h,
                        fill: st.prediction,
                    },
                );
            }
            end_arrows(fig, a, b, yc, plot, st);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_a_diamond() {
        let d = [(0.0, 5.0), (10.0, 0.0), (20.0, 5.0), (10.0, 10.0)];
        let c = clip_x(&d, 5.0, 30.0);
        assert!(c.iter().all(|p| p.0 >= 5.0));
        assert_eq!(c.len(), 5);
        assert!(clip_x(&d, 25.0, 30.0).is_empty());
    }
}
