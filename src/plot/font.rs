//! The bundled font (DejaVu Sans, regular and bold; `assets/fonts/`, licence beside it), with
//! Droid Sans Fallback for the characters DejaVu Sans lacks (Chinese and Japanese script; not
//! Hangul), and optionally a font file of the user's ([`use_font`]) tried first. Characters none
//! of them has are drawn as a box and reported by [`missing_chars`].
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

/// Droid Sans Fallback (Apache 2.0; `assets/fonts/LICENSE-DroidSansFallback`): the characters
/// DejaVu Sans lacks, above all Chinese and Japanese script (it has no Hangul).
pub static FALLBACK_TTF: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallbackFull.ttf");

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
    fallback: FontRef<'static>,
}

/// A font file given by the user: its face and the family name its SVG text asks for.
struct UserFont {
    face: FontRef<'static>,
    svg_family: &'static str,
}

static USER_FONT: OnceLock<UserFont> = OnceLock::new();

/// Use the TrueType/OpenType font in `bytes` (from `path`, for messages) for all text of the
/// figures drawn from now on in this process: PNG glyphs and text widths come from it (characters
/// it lacks from the bundled fonts), and SVG files name its family first. `family`: the name SVG
/// viewers know it by (`None`: the file name without extension). Only one font per process: a
/// second call is an error.
pub fn use_font(bytes: Vec<u8>, path: &std::path::Path, family: Option<&str>) -> crate::error::Result<()> {
    let bad = |m: String| crate::error::Error::Input {
        file: path.to_path_buf(),
        message: m,
    };
    let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let face = FontRef::try_from_slice(data).map_err(|e| bad(format!("not a TrueType/OpenType font: {e}")))?;
    let name = family
        .map(str::to_string)
        .or_else(|| family_name(data))
        .or_else(|| path.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .unwrap_or_default();
    let name = name.replace(['"', '<', '>', '&', ','], "");
    let svg_family: &'static str = Box::leak(format!("{name}, {SVG_FAMILY}").into_boxed_str());
    USER_FONT
        .set(UserFont { face, svg_family })
        .map_err(|_| bad("a font was already chosen for this run".into()))?;
    let _ = plotters::style::register_font(svg_family, FontStyle::Normal, data);
    let _ = plotters::style::register_font(svg_family, FontStyle::Bold, data);
    Ok(())
}

/// The family name (name ID 1) of a TrueType/OpenType font (the first of a collection): the
/// Windows (UTF-16) record, else the Macintosh (Roman, read as ASCII) one.
fn family_name(data: &[u8]) -> Option<String> {
    let u16_at = |at: usize| Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?) as usize);
    let u32_at = |at: usize| Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize);
    let base = if data.get(0..4)? == b"ttcf" { u32_at(12)? } else { 0 };
    let tables = u16_at(base + 4)?;
    let name = (0..tables).find_map(|i| {
        let rec = base + 12 + 16 * i;
        (data.get(rec..rec + 4)? == b"name").then(|| u32_at(rec + 8)).flatten()
    })?;
    let (count, strings) = (u16_at(name + 2)?, name + u16_at(name + 4)?);
    let mut mac = None;
    for i in 0..count {
        let r = name + 6 + 12 * i;
        let (platform, id) = (u16_at(r)?, u16_at(r + 6)?);
        let (len, off) = (u16_at(r + 8)?, u16_at(r + 10)?);
        let bytes = data.get(strings + off..strings + off + len)?;
        if id != 1 {
            continue;
        }
        if platform == 3 || platform == 0 {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            if let Ok(s) = String::from_utf16(&units) {
                return Some(s);
            }
        } else if platform == 1 && mac.is_none() {
            mac = Some(
                bytes
                    .iter()
                    .map(|&b| if b.is_ascii() { b as char } else { '?' })
                    .collect(),
            );
        }
    }
    mac
}

/// The `font-family` SVG text asks for: [`SVG_FAMILY`], or the user's font first (see
/// [`use_font`]).
pub fn svg_family() -> &'static str {
    USER_FONT.get().map(|u| u.svg_family).unwrap_or(SVG_FAMILY)
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
                fallback: FontRef::try_from_slice(FALLBACK_TTF).ok()?,
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

/// The font of most text: the user's (see [`use_font`]) or the bundled DejaVu Sans.
fn face(bold: bool) -> Option<&'static FontRef<'static>> {
    if let Some(u) = USER_FONT.get() {
        return Some(&u.face);
    }
    faces().map(|f| if bold { &f.bold } else { &f.regular })
}

/// The fonts tried for a character, in order: the user's, DejaVu Sans, Droid Sans Fallback.
fn chain(bold: bool) -> impl Iterator<Item = &'static FontRef<'static>> {
    let user = USER_FONT.get().map(|u| &u.face);
    let bundled = faces()
        .map(|f| [if bold { &f.bold } else { &f.regular }, &f.fallback])
        .into_iter()
        .flatten();
    user.into_iter().chain(bundled)
}

/// The font that draws `c` and its glyph: the first of [`chain`] that has it, else the main
/// font's "missing" glyph (a box).
fn glyph_for(c: char, bold: bool) -> Option<(&'static FontRef<'static>, GlyphId)> {
    for f in chain(bold) {
        let id = f.glyph_id(c);
        if id.0 != 0 {
            return Some((f, id));
        }
    }
    face(bold).map(|f| (f, GlyphId(0)))
}

/// Whether some font (the user's or a bundled one) draws `c`. Control characters and spaces
/// count as drawable.
pub fn can_draw(c: char) -> bool {
    c.is_control() || c.is_whitespace() || chain(false).any(|f| f.glyph_id(c).0 != 0)
}

/// The characters of `text` that no font draws (each once, in order of appearance): they show as
/// boxes.
pub fn missing_chars(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !can_draw(c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn units_per_em(font: &FontRef<'static>) -> f64 {
    font.units_per_em().unwrap_or(2048.0) as f64
}

/// Width in pixels of `text` set in the bundled font at `size` pixels per em (advances plus
/// kerning, as a browser lays out an SVG `<text>`).
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    if face(bold).is_none() {
        return 0.62 * size * text.chars().count() as f64;
    }
    let mut width = 0.0f64;
    let mut prev: Option<(&FontRef<'static>, GlyphId)> = None;
    for c in text.chars() {
        let Some((font, id)) = glyph_for(c, bold) else { continue };
        let per_unit = size / units_per_em(font);
        if let Some((pf, p)) = prev {
            if std::ptr::eq(pf, font) {
                width += font.kern_unscaled(p, id) as f64 * per_unit;
            }
        }
        width += font.h_advance_unscaled(id) as f64 * per_unit;
        prev = Some((font, id));
    }
    width
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
    let mut pen = x;
    let mut prev: Option<(&FontRef<'static>, GlyphId)> = None;
    for c in text.chars() {
        let Some((font, id)) = glyph_for(c, bold) else { return };
        let upem = units_per_em(font);
        // ab_glyph scales by the font's height (ascent − descent), not by the em.
        let scale = PxScale::from((size * font.height_unscaled() as f64 / upem) as f32);
        let per_unit = size / upem;
        if let Some((pf, p)) = prev {
            if std::ptr::eq(pf, font) {
                pen += font.kern_unscaled(p, id) as f64 * per_unit;
            }
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
        prev = Some((font, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_fonts_parse() {
        assert!(faces().is_some());
        assert!(FontRef::try_from_slice(FALLBACK_TTF).is_ok());
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

    /// Pixels `rasterize` touches for `text`, with their coverage.
    fn pixels(text: &str) -> Vec<(i32, i32, u32)> {
        let mut v = Vec::new();
        rasterize(text, 10.0, 50.0, 20.0, false, |x, y, c| {
            v.push((x, y, (c * 1000.0) as u32))
        });
        v
    }

    #[test]
    fn chinese_and_japanese_names_are_drawn_not_boxed() {
        // U+E000 (private use) is in no font: the "missing" box.
        let boxed = pixels("\u{e000}");
        assert!(!boxed.is_empty());
        for c in ['李', '王', '佐', '藤', 'あ', 'カ'] {
            let p = pixels(&c.to_string());
            assert!(p.len() > 30, "{c}: {} pixels", p.len());
            assert_ne!(p, boxed, "{c} is drawn as the missing-glyph box");
            assert!(can_draw(c), "{c}");
        }
        assert!(missing_chars("李 et al. 2021").is_empty());
        // Droid Sans Fallback has no Hangul: Korean names are reported, not silently boxed.
        assert_eq!(missing_chars("김 2020"), vec!['김']);
        assert_eq!(
            missing_chars("a\u{e000}b\u{e000}\u{e001}"),
            vec!['\u{e000}', '\u{e001}']
        );
        // The ideograph is a full em wide (the fallback font's advance), not the box's width.
        let w = text_width("李", 20.0, false);
        assert!((w - 20.0).abs() < 1.0, "{w}");
        // Latin text is still DejaVu Sans.
        assert!((text_width("0", 12.0, false) - 12.0 * 1303.0 / 2048.0).abs() < 1e-9);
    }

    #[test]
    fn family_names_of_the_bundled_fonts() {
        assert_eq!(family_name(REGULAR_TTF).as_deref(), Some(FAMILY));
        assert_eq!(family_name(FALLBACK_TTF).as_deref(), Some("Droid Sans Fallback"));
        assert_eq!(family_name(b"not a font"), None);
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
