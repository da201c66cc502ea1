//! A figure as a list of shapes, and its two renderings: SVG and PNG, both through plotters'
//! drawing backends.
//!
//! Every figure (forest, funnel, subgroup summary, and the later ones) is first laid out as a
//! [`Figure`]: shapes with coordinates in CSS pixels (1/96 inch, origin top left, y down), each
//! tagged with a [`Role`] that says what it shows. The layout is then rendered twice from the same
//! list, so the SVG and the PNG cannot differ in content:
//!
//! - **SVG** ([`Figure::to_svg`]): plotters' `SVGBackend`. plotters writes integer coordinates,
//!   so the drawing uses [`SVG_UNITS_PER_PX`] user units per pixel (a quarter-pixel grid) and
//!   the `<svg>` element's `width`/`height` are set back to the size in pixels, with the
//!   `viewBox` in user units.
//! - **PNG** ([`Figure::to_png`]): plotters' `BitMapBackend` on an in-memory RGB buffer, the
//!   layout scaled by `dpi / 96` (so text, lines and margins all scale), text rasterised from
//!   the bundled font ([`super::font`]), encoded with the resolution recorded in the file (pHYs).
//!
//! Both renderings are deterministic: the same figure gives the same bytes.

use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color as _, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle, TextStyle};

use super::font;
use crate::error::{Error, Result};

/// SVG user units per CSS pixel (plotters writes integer coordinates).
pub const SVG_UNITS_PER_PX: f64 = 4.0;

/// Largest PNG accepted, in pixels (width × height), about 400 MB of RGB buffer.
pub const MAX_PNG_PIXELS: f64 = 134_217_728.0;

/// An opaque RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    pub const BLACK: Color = Color(0, 0, 0);
    pub const WHITE: Color = Color(255, 255, 255);

    /// `#RRGGBB`, as plotters writes it into SVG.
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// Horizontal anchor of a text: `x` is its start, middle or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// What a shape shows. Renderers ignore it; tests and later figures use it to find things
/// (e.g. count the study squares, or check that no label overlaps another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Background,
    /// A study's weight square.
    Square,
    /// A pooled estimate's diamond.
    Diamond,
    /// A prediction interval bar.
    PredictionBar,
    /// A confidence interval line.
    Ci,
    /// An arrow head where an interval runs past the axis limits.
    Arrow,
    /// The user's reference line (`--ref`).
    ReferenceLine,
    /// The dashed line at the overall pooled estimate.
    PooledLine,
    /// Axis line and ticks.
    Axis,
    /// A study marker in a scatter (funnel plot).
    Point,
    /// A shaded region (funnel plot's pseudo-confidence region).
    Region,
    /// A guide line (funnel plot's pseudo-CI limits).
    Guide,
    /// Title of the figure.
    Title,
    /// Column header.
    Header,
    /// Label of a row (study name, model name, subgroup heading).
    Label,
    /// A number in a table column (events, total, estimate, CI, weight).
    Number,
    /// A note line (heterogeneity, test for subgroup differences).
    Note,
    /// Axis tick label.
    TickLabel,
    /// Axis title.
    AxisTitle,
}

/// A text: `baseline` is the y of its baseline, `size` the font size in pixels per em.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub x: f64,
    pub baseline: f64,
    pub text: String,
    pub size: f64,
    pub bold: bool,
    pub anchor: Anchor,
    pub color: Color,
    /// Rotated 90° counter-clockwise (reads bottom to top), around (x, baseline).
    pub vertical: bool,
}

impl Text {
    /// Measured width in pixels.
    pub fn width(&self) -> f64 {
        font::text_width(&self.text, self.size, self.bold)
    }

    /// Bounding box (x0, y0, x1, y1): the advance width by the font's ascent and descent.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let w = self.width();
        let (asc, desc) = font::ascent_descent(self.size, self.bold);
        let start = match self.anchor {
            Anchor::Start => 0.0,
            Anchor::Middle => -w / 2.0,
            Anchor::End => -w,
        };
        if self.vertical {
            // Rotated: the advance runs upwards from (x, baseline).
            (
                self.x - asc,
                self.baseline - start - w,
                self.x + desc,
                self.baseline - start,
            )
        } else {
            (
                self.x + start,
                self.baseline - asc,
                self.x + start + w,
                self.baseline + desc,
            )
        }
    }
}

/// A drawing primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Filled axis-aligned rectangle.
    Rect {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        fill: Color,
    },
    /// Straight line of the given width (butt ends).
    Line {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        width: f64,
        color: Color,
    },
    /// Dashed straight line: dashes of `dash` pixels with gaps of `gap` pixels, from (x0, y0).
    /// One element in the SVG (`stroke-dasharray`), so that it stays one line in an editor.
    Dashed {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        width: f64,
        color: Color,
        dash: f64,
        gap: f64,
    },
    /// Filled convex polygon with an optional outline (colour, width) drawn inside-out around the
    /// edge.
    Polygon {
        points: Vec<(f64, f64)>,
        fill: Color,
        stroke: Option<(Color, f64)>,
    },
    /// Circle, filled and/or outlined.
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        fill: Option<Color>,
        stroke: Option<(Color, f64)>,
    },
    Text(Text),
}

impl Shape {
    /// Bounding box (x0, y0, x1, y1) including half the stroke widths.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        match self {
            Shape::Rect { x0, y0, x1, y1, .. } => (x0.min(*x1), y0.min(*y1), x0.max(*x1), y0.max(*y1)),
            Shape::Line {
                x0, y0, x1, y1, width, ..
            } => {
                let h = width / 2.0;
                if y0 == y1 {
                    (x0.min(*x1), y0 - h, x0.max(*x1), y0 + h)
                } else if x0 == x1 {
                    (x0 - h, y0.min(*y1), x0 + h, y0.max(*y1))
                } else {
                    (x0.min(*x1) - h, y0.min(*y1) - h, x0.max(*x1) + h, y0.max(*y1) + h)
                }
            }
            Shape::Dashed {
                x0,
                y0,
                x1,
                y1,
                width,
                color,
                ..
            } => Shape::Line {
                x0: *x0,
                y0: *y0,
                x1: *x1,
                y1: *y1,
                width: *width,
                color: *color,
            }
            .bbox(),
            Shape::Polygon { points, stroke, .. } => {
                let h = stroke.map(|s| s.1 / 2.0).unwrap_or(0.0);
                let mut b = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
                for &(x, y) in points {
                    b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
                }
                (b.0 - h, b.1 - h, b.2 + h, b.3 + h)
            }
            Shape::Circle { cx, cy, r, stroke, .. } => {
                let r = r + stroke.map(|s| s.1 / 2.0).unwrap_or(0.0);
                (cx - r, cy - r, cx + r, cy + r)
            }
            Shape::Text(t) => t.bbox(),
        }
    }
}

/// One shape and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub role: Role,
    pub shape: Shape,
}

/// A laid-out figure: size in CSS pixels and the shapes in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: f64,
    pub height: f64,
    pub items: Vec<Item>,
}

impl Figure {
    /// An empty figure with a white background; the size is rounded up to whole pixels.
    pub fn new(width: f64, height: f64) -> Figure {
        let (width, height) = (width.ceil().max(1.0), height.ceil().max(1.0));
        Figure {
            width,
            height,
            items: vec![Item {
                role: Role::Background,
                shape: Shape::Rect {
                    x0: 0.0,
                    y0: 0.0,
                    x1: width,
                    y1: height,
                    fill: Color::WHITE,
                },
            }],
        }
    }

    pub fn push(&mut self, role: Role, shape: Shape) {
        self.items.push(Item { role, shape });
    }

    /// Add a horizontal text.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        role: Role,
        x: f64,
        baseline: f64,
        text: impl Into<String>,
        size: f64,
        bold: bool,
        anchor: Anchor,
    ) {
        // Control characters (a line break inside a quoted CSV cell) would draw as boxes in the
        // PNG and collapse to spaces in the SVG: make them spaces in both.
        let text: String = text
            .into()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if text.is_empty() {
            return;
        }
        self.push(
            role,
            Shape::Text(Text {
                x,
                baseline,
                text,
                size,
                bold,
                anchor,
                color: Color::BLACK,
                vertical: false,
            }),
        );
    }

    pub fn line(&mut self, role: Role, (x0, y0): (f64, f64), (x1, y1): (f64, f64), width: f64, color: Color) {
        self.push(
            role,
            Shape::Line {
                x0,
                y0,
                x1,
                y1,
                width,
                color,
            },
        );
    }

    /// A dashed line: dashes of `dash` pixels separated by gaps of `gap` pixels.
    #[allow(clippy::too_many_arguments)]
    pub fn dashed_line(
        &mut self,
        role: Role,
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        color: Color,
        dash: f64,
        gap: f64,
    ) {
        if from == to {
            return;
        }
        self.push(
            role,
            Shape::Dashed {
                x0: from.0,
                y0: from.1,
                x1: to.0,
                y1: to.1,
                width,
                color,
                dash,
                gap,
            },
        );
    }

    /// Shapes with the given role.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Shape> {
        self.items.iter().filter(move |i| i.role == role).map(|i| &i.shape)
    }

    /// All texts with their roles.
    pub fn texts(&self) -> impl Iterator<Item = (Role, &Text)> {
        self.items.iter().filter_map(|i| match &i.shape {
            Shape::Text(t) => Some((i.role, t)),
            _ => None,
        })
    }

    /// Render as SVG (plotters `SVGBackend`).
    pub fn to_svg(&self) -> String {
        font::ensure_registered();
        let u = SVG_UNITS_PER_PX;
        let size = ((self.width * u) as u32, (self.height * u) as u32);
        let mut buf = String::new();
        let mut dashes: Vec<(f64, f64)> = Vec::new();
        {
            let mut be = SVGBackend::with_string(&mut buf, size);
            let c = |v: f64| (v * u).round() as i32;
            for item in &self.items {
                // Drawing into a String cannot fail.
                let _ = match &item.shape {
                    Shape::Dashed {
                        x0,
                        y0,
                        x1,
                        y1,
                        width,
                        color,
                        dash,
                        gap,
                    } => {
                        // plotters has no dashed stroke: draw one line with a marker opacity, and
                        // write its dash pattern in place of the marker below.
                        let k = dashes.len();
                        dashes.push((*dash, *gap));
                        let mut st = style(*color, ((width * u).round() as u32).max(1), false);
                        st.color.3 = dash_marker(k);
                        be.draw_line((c(*x0), c(*y0)), (c(*x1), c(*y1)), &st)
                            .map_err(|e| e.to_string())
                    }
                    shape => draw_svg(&mut be, shape, u, &c),
                };
            }
            let _ = be.present();
        }
        for (k, (dash, gap)) in dashes.iter().enumerate() {
            buf = buf.replacen(
                &format!("<line opacity=\"{}\"", dash_marker(k)),
                &format!(
                    "<line opacity=\"1\" stroke-dasharray=\"{} {}\"",
                    fmt_units(dash * u),
                    fmt_units(gap * u)
                ),
                1,
            );
        }
        // Size in pixels, drawing in quarter pixels.
        let from = format!("<svg width=\"{}\" height=\"{}\"", size.0, size.1);
        let to = format!(
            "<svg width=\"{}\" height=\"{}\"",
            crate::report::fmt_num(self.width, 0),
            crate::report::fmt_num(self.height, 0)
        );
        buf.replacen(&from, &to, 1)
    }

    /// Size in device pixels of the PNG at `dpi`.
    pub fn png_size(&self, dpi: f64) -> (u32, u32) {
        let s = dpi / 96.0;
        (
            (self.width * s).round().max(1.0) as u32,
            (self.height * s).round().max(1.0) as u32,
        )
    }

    /// Render as PNG at `dpi` (plotters `BitMapBackend`; the layout scaled by `dpi / 96`).
    pub fn to_png(&self, dpi: f64) -> Result<Vec<u8>> {
        if !(dpi.is_finite() && (10.0..=2400.0).contains(&dpi)) {
            return Err(Error::Usage(format!(
                "the PNG resolution must be between 10 and 2400 dpi, got {dpi}"
            )));
        }
        let (w, h) = self.png_size(dpi);
        if w as f64 * h as f64 > MAX_PNG_PIXELS {
            return Err(Error::Usage(format!(
                "a {w} x {h} pixel PNG is too large; use a lower resolution or SVG"
            )));
        }
        let s = dpi / 96.0;
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        {
            let mut be = BitMapBackend::with_buffer(&mut buf, (w, h));
            for item in &self.items {
                if item.role == Role::Background {
                    continue; // the buffer starts white
                }
                draw_png(&mut be, &item.shape, s)
                    .map_err(|e| Error::Computation(format!("drawing the PNG failed: {e}")))?;
            }
            be.present()
                .map_err(|e| Error::Computation(format!("drawing the PNG failed: {e}")))?;
        }
        encode_png(&buf, w, h, dpi)
    }
}

fn style(color: Color, width: u32, filled: bool) -> ShapeStyle {
    ShapeStyle {
        color: color.rgb().to_rgba(),
        filled,
        stroke_width: width,
    }
}

/// The opacity that marks the `k`-th dashed line of an SVG while plotters draws it (every other
/// shape is opaque): 1 − (k + 1)/2²⁰, exact in binary, printed with all its digits.
fn dash_marker(k: usize) -> f64 {
    1.0 - (k as f64 + 1.0) / 1_048_576.0
}

/// An SVG length in user units: an integer, or up to 3 decimals.
fn fmt_units(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The plotters text size whose SVG `font-size` (plotters writes size / 1.24) is exactly `target`.
fn plotters_font_size(target: f64) -> f64 {
    let mut s = target * 1.24;
    for _ in 0..8 {
        let back = s / 1.24;
        if back == target {
            break;
        }
        s = if back < target {
            f64_next_up(s)
        } else {
            f64_next_down(s)
        };
    }
    s
}

fn f64_next_up(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1)
}

fn f64_next_down(x: f64) -> f64 {
    f64::from_bits(x.to_bits() - 1)
}

fn draw_svg(be: &mut SVGBackend<'_>, shape: &Shape, u: f64, c: &dyn Fn(f64) -> i32) -> std::result::Result<(), String> {
    let stroke_units = |w: f64| ((w * u).round() as u32).max(1);
    match shape {
        Shape::Rect { x0, y0, x1, y1, fill } => be
            .draw_rect((c(*x0), c(*y0)), (c(*x1), c(*y1)), &style(*fill, 0, true), true)
            .map_err(|e| e.to_string()),
        // A dashed line is drawn by `Figure::to_svg` (one element with its dash pattern); solid
        // here.
        Shape::Line {
            x0,
            y0,
            x1,
            y1,
            width,
            color,
        }
        | Shape::Dashed {
            x0,
            y0,
            x1,
            y1,
            width,
            color,
            ..
        } => be
            .draw_line(
                (c(*x0), c(*y0)),
                (c(*x1), c(*y1)),
                &style(*color, stroke_units(*width), false),
            )
            .map_err(|e| e.to_string()),
        Shape::Polygon { points, fill, stroke } => {
            let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| (c(x), c(y))).collect();
            be.fill_polygon(pts.clone(), &style(*fill, 0, true))
                .map_err(|e| e.to_string())?;
            if let Some((col, w)) = stroke {
                // Start mid-edge so that every vertex gets a proper join.
                let n = pts.len();
                let mid = ((pts[0].0 + pts[1 % n].0) / 2, (pts[0].1 + pts[1 % n].1) / 2);
                let mut path = vec![mid];
                path.extend(pts.iter().skip(1).copied());
                path.push(pts[0]);
                path.push(mid);
                be.draw_path(path, &style(*col, stroke_units(*w), false))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Shape::Circle {
            cx,
            cy,
            r,
            fill,
            stroke,
        } => {
            let rr = (r * u).round().max(1.0) as u32;
            if let Some(f) = fill {
                be.draw_circle((c(*cx), c(*cy)), rr, &style(*f, 0, true), true)
                    .map_err(|e| e.to_string())?;
            }
            if let Some((col, w)) = stroke {
                be.draw_circle((c(*cx), c(*cy)), rr, &style(*col, stroke_units(*w), false), false)
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Shape::Text(t) => {
            let h = match t.anchor {
                Anchor::Start => HPos::Left,
                Anchor::Middle => HPos::Center,
                Anchor::End => HPos::Right,
            };
            let fs = if t.bold { FontStyle::Bold } else { FontStyle::Normal };
            let mut desc = FontDesc::new(FontFamily::Name(font::svg_family()), plotters_font_size(t.size * u), fs);
            // plotters anchors the text's top at y with dy = 0.76em.
            let top = t.baseline - font::TOP_TO_BASELINE_EM * t.size;
            let (x, y) = if t.vertical {
                desc = desc.transform(plotters::style::FontTransform::Rotate270);
                // Rotated about (x, y): the top of the glyphs points left.
                (t.x - font::TOP_TO_BASELINE_EM * t.size, t.baseline)
            } else {
                (t.x, top)
            };
            let color = t.color.rgb();
            let style = TextStyle::from(desc).color(&color).pos(Pos::new(h, VPos::Top));
            be.draw_text(&t.text, &style, (c(x), c(y))).map_err(|e| e.to_string())
        }
    }
}

type Bmp<'a> = BitMapBackend<'a>;

fn px(v: f64, s: f64) -> i32 {
    (v * s).round() as i32
}

/// Fill a rectangle given in layout pixels, at least one device pixel thick in each direction.
fn fill_rect(
    be: &mut Bmp<'_>,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    s: f64,
    color: Color,
) -> std::result::Result<(), String> {
    let (x0, x1) = (x0.min(x1) * s, x0.max(x1) * s);
    let (y0, y1) = (y0.min(y1) * s, y0.max(y1) * s);
    let (mut a0, mut a1) = (x0.round() as i32, x1.round() as i32);
    let (mut b0, mut b1) = (y0.round() as i32, y1.round() as i32);
    if a1 <= a0 {
        a0 = ((x0 + x1) / 2.0).floor() as i32;
        a1 = a0 + 1;
    }
    if b1 <= b0 {
        b0 = ((y0 + y1) / 2.0).floor() as i32;
        b1 = b0 + 1;
    }
    be.draw_rect((a0, b0), (a1, b1), &style(color, 0, true), true)
        .map_err(|e| e.to_string())
}

/// Twice the signed area of a polygon (the shoelace sum): positive for a clockwise polygon in
/// y-down screen coordinates.
fn signed_area(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Offset a convex polygon's edges outwards by `d` (inwards for negative `d`).
pub fn offset_convex(points: &[(f64, f64)], d: f64) -> Vec<(f64, f64)> {
    let n = points.len();
    if n < 3 {
        return points.to_vec();
    }
    // Orientation: positive area = clockwise in y-down screen coordinates.
    let sign = if signed_area(points) > 0.0 { 1.0 } else { -1.0 };
    // Outward normal of each edge, and the offset edge lines.
    let lines: Vec<((f64, f64), (f64, f64))> = (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let l = (dx * dx + dy * dy).sqrt().max(1e-12);
            // For a clockwise (screen) polygon, the outward normal is (dy, -dx)/l.
            let (nx, ny) = (sign * dy / l, -sign * dx / l);
            ((a.0 + nx * d, a.1 + ny * d), (dx, dy))
        })
        .collect();
    (0..n)
        .map(|i| {
            // Vertex i joins edge i-1 and edge i.
            let (p, r) = lines[(i + n - 1) % n];
            let (q, s) = lines[i];
            let cross = r.0 * s.1 - r.1 * s.0;
            if cross.abs() < 1e-12 {
                return q;
            }
            let t = ((q.0 - p.0) * s.1 - (q.1 - p.1) * s.0) / cross;
            (p.0 + t * r.0, p.1 + t * r.1)
        })
        .collect()
}

fn draw_png(be: &mut Bmp<'_>, shape: &Shape, s: f64) -> std::result::Result<(), String> {
    match shape {
        Shape::Rect { x0, y0, x1, y1, fill } => fill_rect(be, *x0, *y0, *x1, *y1, s, *fill),
        Shape::Line {
            x0,
            y0,
            x1,
            y1,
            width,
            color,
        } => {
            let h = width / 2.0;
            // Axis-aligned lines get the same whole number of device pixels wherever they are.
            let t = (width * s).round().max(1.0) as i32;
            let band = |c: f64| {
                let a = (c * s - t as f64 / 2.0).round() as i32;
                (a, a + t)
            };
            if y0 == y1 {
                let (b0, b1) = band(*y0);
                let (a0, a1) = (px(x0.min(*x1), s), px(x0.max(*x1), s).max(px(x0.min(*x1), s) + 1));
                be.draw_rect((a0, b0), (a1, b1), &style(*color, 0, true), true)
                    .map_err(|e| e.to_string())
            } else if x0 == x1 {
                let (a0, a1) = band(*x0);
                let (b0, b1) = (px(y0.min(*y1), s), px(y0.max(*y1), s).max(px(y0.min(*y1), s) + 1));
                be.draw_rect((a0, b0), (a1, b1), &style(*color, 0, true), true)
                    .map_err(|e| e.to_string())
            } else {
                // A diagonal line as a quadrilateral.
                let (dx, dy) = (x1 - x0, y1 - y0);
                let l = (dx * dx + dy * dy).sqrt();
                let (nx, ny) = (-dy / l * h, dx / l * h);
                let quad = [
                    (x0 + nx, y0 + ny),
                    (x1 + nx, y1 + ny),
                    (x1 - nx, y1 - ny),
                    (x0 - nx, y0 - ny),
                ];
                fill_poly(be, &quad, s, *color)
            }
        }
        Shape::Dashed {
            x0,
            y0,
            x1,
            y1,
            width,
            color,
            dash,
            gap,
        } => {
            let (dx, dy) = (x1 - x0, y1 - y0);
            let len = (dx * dx + dy * dy).sqrt();
            let (ux, uy) = (dx / len, dy / len);
            let mut t = 0.0;
            while t < len && *dash > 0.0 {
                let e = (t + dash).min(len);
                let seg = Shape::Line {
                    x0: x0 + ux * t,
                    y0: y0 + uy * t,
                    x1: x0 + ux * e,
                    y1: y0 + uy * e,
                    width: *width,
                    color: *color,
                };
                draw_png(be, &seg, s)?;
                t = e + gap.max(0.0);
            }
            Ok(())
        }
        Shape::Polygon { points, fill, stroke } => match stroke {
            None => fill_poly(be, points, s, *fill),
            Some((col, w)) => {
                // The outline lies inside the shape: an outward offset would push the tips of a
                // flat diamond out by w / sin(half the tip angle) (a mitre), drawing a CI wider
                // than it is. Where the shape is thinner than the outline, it is all outline.
                fill_poly(be, points, s, *col)?;
                let inner = offset_convex(points, -w);
                let (a0, a1) = (signed_area(points), signed_area(&inner));
                if a0 * a1 > 0.0 && a1.abs() < a0.abs() {
                    fill_poly(be, &inner, s, *fill)?;
                }
                Ok(())
            }
        },
        Shape::Circle {
            cx,
            cy,
            r,
            fill,
            stroke,
        } => {
            let c = (px(*cx, s), px(*cy, s));
            match (fill, stroke) {
                (Some(f), None) => be
                    .draw_circle(c, (r * s).round().max(1.0) as u32, &style(*f, 0, true), true)
                    .map_err(|e| e.to_string()),
                (fill, Some((col, w))) => {
                    let outer = ((r + w / 2.0) * s).round().max(1.0) as u32;
                    be.draw_circle(c, outer, &style(*col, 0, true), true)
                        .map_err(|e| e.to_string())?;
                    let inner = ((r - w / 2.0) * s).round();
                    if inner >= 1.0 {
                        let f = fill.unwrap_or(Color::WHITE);
                        be.draw_circle(c, inner as u32, &style(f, 0, true), true)
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                }
                (None, None) => Ok(()),
            }
        }
        Shape::Text(t) => {
            let size = t.size * s;
            let w = t.width() * s;
            let start = match t.anchor {
                Anchor::Start => 0.0,
                Anchor::Middle => -w / 2.0,
                Anchor::End => -w,
            };
            let rgb = t.color.rgb();
            let mut err = None;
            if t.vertical {
                // Rasterise horizontally into a scratch buffer, then rotate 90° counter-clockwise.
                let (x, baseline) = (t.x * s, t.baseline * s);
                let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
                font::rasterize(&t.text, start, 0.0, size, t.bold, |gx, gy, cov| {
                    pixels.push((gx, gy, cov))
                });
                for (gx, gy, cov) in pixels {
                    // (gx, gy) relative to the text origin; rotated: x' = x + gy, y' = baseline − gx.
                    let p = (x.round() as i32 + gy, baseline.round() as i32 - gx);
                    if let Err(e) = be.draw_pixel(p, rgb.mix(cov as f64).to_backend_color()) {
                        err = Some(e.to_string());
                    }
                }
            } else {
                font::rasterize(&t.text, t.x * s + start, t.baseline * s, size, t.bold, |x, y, cov| {
                    if let Err(e) = be.draw_pixel((x, y), rgb.mix(cov as f64).to_backend_color()) {
                        err = Some(e.to_string());
                    }
                });
            }
            match err {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }
}

fn fill_poly(be: &mut Bmp<'_>, points: &[(f64, f64)], s: f64, color: Color) -> std::result::Result<(), String> {
    let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| (px(x, s), px(y, s))).collect();
    be.fill_polygon(pts, &style(color, 0, true)).map_err(|e| e.to_string())
}

/// Encode an RGB buffer as PNG (greyscale when every pixel is grey), with the resolution.
fn encode_png(rgb: &[u8], w: u32, h: u32, dpi: f64) -> Result<Vec<u8>> {
    let grey = rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]);
    let data: std::borrow::Cow<[u8]> = if grey {
        std::borrow::Cow::Owned(rgb.chunks_exact(3).map(|p| p[0]).collect())
    } else {
        std::borrow::Cow::Borrowed(rgb)
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(if grey {
            png::ColorType::Grayscale
        } else {
            png::ColorType::Rgb
        });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let err = |e: png::EncodingError| Error::Computation(format!("encoding the PNG failed: {e}"));
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&data).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_size_is_exact_in_svg() {
        for t in [40.0, 42.0, 48.0, 56.0, 44.0, 50.0, 41.0] {
            assert_eq!(plotters_font_size(t) / 1.24, t);
        }
    }

    /// A flat diamond's outline stays within its tips in the PNG (an outward, mitred outline
    /// reached ~10 outline widths past them, so a pooled CI looked wider than it is).
    #[test]
    fn png_diamond_ends_at_its_tips() {
        let mut f = Figure::new(300.0, 40.0);
        let (x0, x1, y) = (50.0, 250.0, 20.0);
        f.push(
            Role::Diamond,
            Shape::Polygon {
                points: vec![(x0, y), (150.0, y - 6.0), (x1, y), (150.0, y + 6.0)],
                fill: Color(160, 160, 160),
                stroke: Some((Color(0, 0, 0), 1.0)),
            },
        );
        let dpi = 96.0;
        let bytes = f.to_png(dpi).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = info.line_size / w;
        let scale = w as f64 / 300.0;
        let dark_columns: Vec<usize> = (0..w)
            .filter(|&x| (0..h).any(|yy| buf[yy * info.line_size + x * channels] < 128))
            .collect();
        let (first, last) = (
            dark_columns[0] as f64 / scale,
            *dark_columns.last().unwrap() as f64 / scale,
        );
        assert!(
            first >= x0 - 1.0 && last <= x1 + 1.0,
            "outline from {first} to {last}, tips {x0}, {x1}"
        );
        assert!(
            first <= x0 + 3.0 && last >= x1 - 3.0,
            "outline from {first} to {last}, tips {x0}, {x1}"
        );
    }

    #[test]
    fn offset_diamond() {
        let d = [(0.0, 5.0), (10.0, 0.0), (20.0, 5.0), (10.0, 10.0)];
        let out = offset_convex(&d, 1.0);
        assert!(out[0].0 < 0.0 && out[1].1 < 0.0 && out[2].0 > 20.0 && out[3].1 > 10.0);
        let inn = offset_convex(&d, -1.0);
        assert!(inn[0].0 > 0.0 && inn[1].1 > 0.0 && inn[2].0 < 20.0 && inn[3].1 < 10.0);
        // Reversed orientation gives the same result.
        let mut r = d.to_vec();
        r.reverse();
        let out_r = offset_convex(&r, 1.0);
        assert!(out_r[0].0 > 20.0 - 1e-9 || out_r[0].1 > 10.0 - 1e-9);
    }

    #[test]
    fn svg_has_pixel_size_and_quarter_pixel_view_box() {
        let mut f = Figure::new(100.0, 50.0);
        f.text(Role::Label, 10.0, 20.0, "Study", 12.0, false, Anchor::Start);
        let svg = f.to_svg();
        assert!(
            svg.contains("<svg width=\"100\" height=\"50\" viewBox=\"0 0 400 200\""),
            "{svg}"
        );
        assert!(svg.contains("font-size=\"48\""), "{svg}");
        assert!(svg.contains("font-family=\"DejaVu Sans, Verdana, sans-serif\""));
    }

    #[test]
    fn a_dashed_line_is_one_svg_element() {
        let mut f = Figure::new(100.0, 200.0);
        f.dashed_line(
            Role::PooledLine,
            (50.0, 10.0),
            (50.0, 190.0),
            1.0,
            Color(0x66, 0x66, 0x66),
            3.0,
            3.0,
        );
        f.line(Role::Axis, (10.0, 195.0), (90.0, 195.0), 1.0, Color::BLACK);
        f.dashed_line(Role::Guide, (10.0, 10.0), (90.0, 190.0), 1.0, Color::BLACK, 4.0, 2.5);
        let svg = f.to_svg();
        assert_eq!(svg.matches("<line").count(), 3, "{svg}");
        assert!(
            svg.contains(
                "<line opacity=\"1\" stroke-dasharray=\"12 12\" stroke=\"#666666\" stroke-width=\"4\" x1=\"200\" y1=\"40\" x2=\"200\" y2=\"760\"/>"
            ),
            "{svg}"
        );
        assert!(svg.contains("stroke-dasharray=\"16 10\""), "{svg}");
        assert!(!svg.contains("opacity=\"0."), "{svg}");
        // The PNG still shows dashes: pixels on the line alternate between ink and white.
        let png = f.to_png(96.0).unwrap();
        let img = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = img.read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).unwrap();
        let grey = |y: usize| data[y * info.line_size + 50 * (info.line_size / 100)];
        let inked = (10..190).filter(|&y| grey(y) < 200).count();
        assert!(inked > 60 && inked < 120, "{inked} of 180 pixels inked");
    }

    #[test]
    fn png_scales_with_dpi() {
        let mut f = Figure::new(100.0, 50.0);
        f.line(Role::Axis, (10.0, 10.0), (90.0, 10.0), 1.0, Color::BLACK);
        let png = f.to_png(192.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(f.png_size(192.0), (200, 100));
        assert_eq!(f.png_size(300.0), (313, 156));
    }
}
