//! The bundled font (DejaVu Sans, regular and bold; `assets/fonts/`, licence beside it).
//!
//! The same font files drive everything text does in a figure, so that a figure is identical on
//! a machine without any system font:
//!
//! - **layout**: every text width (column widths, canvas width) is measured here, from the
//!   font's advance widths and kerning, in CSS pixels (1/96 inch) for a font size in pixels
//!   (the em size, as SVG `font-size` means it);
//! - **PNG**: glyphs are rasterised from these outlines (ab_glyph, sub-pixel positioned);
//! - **SVG**: files name the family ([`SVG_FAMILY`], DejaVu Sans first) and the viewer draws the
//!   text; the layout leaves room for the measured widths.
//!
//! The fonts are also registered with plotters' ab_glyph font table under [`SVG_FAMILY`] (see
//! [`ensure_registered`]), so plotters' own text styles resolve to the same files.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale};
use plotters::style::FontStyle;

/// DejaVu Sans 2.37 (Bitstream Vera licence; `assets/fonts/LICENSE`).
pub static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold 2.37.
pub static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name of the bundled font.
pub const FAMILY: &str = "DejaVu Sans";

/// The `font-family` written into SVG files: the bundled family first, then Verdana (the common
/// font with the closest metrics: DejaVu Sans derives from Bitstream Vera) and the generic
/// sans-serif. Also the name under which the font is registered with plotters.
pub const SVG_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

/// Offset from the top of a text's box to its baseline, in em: plotters' SVG backend places text
/// anchored at the top with `dy="0.76em"`, and the PNG renderer uses the same offset.
pub const TOP_TO_BASELINE_EM: f64 = 0.76;

struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

/// The parsed faces; `None` only if the compiled-in files were corrupt (a build defect, caught
/// by the tests), in which case text is measured with a rough average width and not rasterised.
fn faces() -> Option<&'static Faces> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some(Faces {
                regular: FontRef::try_from_slice(REGULAR_TTF).ok()?,
                bold: FontRef::try_from_slice(BOLD_TTF).ok()?,
            })
        })
        .as_ref()
}

/// Register the bundled faces with plotters (once per process). Needed before plotters resolves
/// any text style naming [`SVG_FAMILY`].
pub fn ensure_registered() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // Errors are impossible for the bundled files (the tests parse them); ignore the Result so
        // that a plotters quirk can never abort a figure: our renderers do not depend on it.
        let _ = plotters::style::register_font(SVG_FAMILY, FontStyle::Normal, REGULAR_TTF);
        let _ = plotters::style::register_font(SVG_FAMILY, FontStyle::Bold, BOLD_TTF);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, REGULAR_TTF);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, BOLD_TTF);
    });
}

fn face(bold: bool) -> Option<&'static FontRef<'static>> {
    faces().map(|f| if bold { &f.bold } else { &f.regular })
}

fn units_per_em(font: &FontRef<'static>) -> f64 {
    font.units_per_em().unwrap_or(2048.0) as f64
}

/// Width in pixels of `text` set in the bundled font at `size` pixels per em (advances plus
/// kerning, as a browser lays out an SVG `<text>`).
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let Some(font) = face(bold) else {
        return 0.62 * size * text.chars().count() as f64;
    };
    let mut units = 0.0f64;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            units += font.kern_unscaled(p, id) as f64;
        }
        units += font.h_advance_unscaled(id) as f64;
        prev = Some(id);
    }
    units * size / units_per_em(font)
}

/// Ascent and descent (positive, below the baseline) of the font at `size` pixels per em.
pub fn ascent_descent(size: f64, bold: bool) -> (f64, f64) {
    let Some(font) = face(bold) else {
        return (0.93 * size, 0.24 * size);
    };
    let upem = units_per_em(font);
    (
        font.ascent_unscaled() as f64 * size / upem,
        -(font.descent_unscaled() as f64) * size / upem,
    )
}

/// Rasterise `text` with its baseline starting at (`x`, `baseline`) in device pixels, `size`
/// device pixels per em. `plot(x, y, coverage)` receives every touched pixel with its coverage in
/// (0, 1].
pub fn rasterize(text: &str, x: f64, baseline: f64, size: f64, bold: bool, mut plot: impl FnMut(i32, i32, f32)) {
    let Some(font) = face(bold) else {
        return;
    };
    let upem = units_per_em(font);
    // ab_glyph scales by the font's height (ascent − descent), not by the em.
    let scale = PxScale::from((size * font.height_unscaled() as f64 / upem) as f32);
    let per_unit = size / upem;
    let mut pen = x;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern_unscaled(p, id) as f64 * per_unit;
        }
        let glyph = id.with_scale_and_position(scale, point(pen as f32, baseline as f32));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            let (x0, y0) = (b.min.x as i32, b.min.y as i32);
            outlined.draw(|gx, gy, cov| {
                if cov > 0.0 {
                    plot(x0 + gx as i32, y0 + gy as i32, cov.min(1.0));
                }
            });
        }
        pen += font.h_advance_unscaled(id) as f64 * per_unit;
        prev = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_fonts_parse() {
        assert!(faces().is_some());
    }

    #[test]
    fn digits_are_tabular() {
        let w: Vec<f64> = (0..10).map(|d| text_width(&d.to_string(), 12.0, false)).collect();
        for v in &w {
            assert!((v - w[0]).abs() < 1e-9);
        }
        // DejaVu Sans digits are 1303/2048 em wide.
        assert!((w[0] - 12.0 * 1303.0 / 2048.0).abs() < 1e-9);
    }

    #[test]
    fn bold_is_wider() {
        assert!(text_width("Random-effects model", 12.0, true) > text_width("Random-effects model", 12.0, false));
    }

    #[test]
    fn rasterize_touches_pixels_near_the_baseline() {
        let mut n = 0;
        let mut ymin = i32::MAX;
        let mut ymax = i32::MIN;
        rasterize("Ag", 10.0, 50.0, 20.0, false, |_, y, _| {
            n += 1;
            ymin = ymin.min(y);
            ymax = ymax.max(y);
        });
        assert!(n > 50);
        assert!(ymin >= 50 - 20 && ymax <= 50 + 8, "{ymin}..{ymax}");
    }
}
