//! Figures: forest plots ([`forest`]), subgroup summary plots ([`summary`]), funnel plots
//! ([`funnel`]) and meta-regression bubble plots ([`bubble`]), in SVG and PNG, drawn with plotters.
//!
//! Each figure module has the same shape: an options struct, `figure(&PoolResult, &Options)`
//! (the laid-out [`Figure`]), `render_svg`, `render_png` and `write` (format from the file's
//! extension, written atomically with `report::write_atomic`).
//!
//! The shared parts: [`figure`] (shapes, and their SVG and PNG renderings), [`table`] (the
//! forest-type layout: text columns around a plot column with squares, diamonds and bars),
//! [`axis`] (ticks) and [`font`] (the bundled DejaVu Sans that measures and draws all text).
//!
//! ```
//! use metarepro::data::Studies;
//! use metarepro::model::{pool, PoolOptions};
//! use metarepro::plot::forest::{self, ForestOptions};
//!
//! let studies = Studies::from_counts(
//!     vec!["A".into(), "B".into(), "C".into()],
//!     vec![4.0, 10.0, 7.0],
//!     vec![20.0, 31.0, 15.0],
//!     None,
//! ).unwrap();
//! let res = pool(&studies, &PoolOptions::default()).unwrap();
//! let svg = forest::render_svg(&res, &ForestOptions::default()).unwrap();
//! assert!(svg.contains("Common effect model") && svg.contains("Random effects model"));
//! ```

pub mod axis;
pub mod baujat;
pub mod bubble;
pub mod comparative;
pub mod figure;
pub mod font;
pub mod forest;
pub mod funnel;
pub mod gosh;
pub mod leave1out;
pub mod summary;
pub mod table;
pub(crate) mod xy;

use std::path::Path;

pub use figure::{Figure, Role};

use crate::data::Studies;
use crate::error::{Error, Result};

/// Output format of a figure file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    /// From the file's extension (`.svg`, `.png`, any case).
    pub fn from_path(path: &Path) -> Result<Format> {
        match crate::data::extension(path).as_str() {
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            _ => Err(Error::Usage(format!(
                "{}: cannot tell the figure format from the extension; use .svg or .png",
                path.display()
            ))),
        }
    }
}

/// Render `fig` in the format of `path`'s extension (PNG at `dpi`) and write it atomically.
pub fn write_figure(fig: &Figure, path: &Path, dpi: f64) -> Result<()> {
    let bytes = match Format::from_path(path)? {
        Format::Svg => fig.to_svg().into_bytes(),
        Format::Png => fig.to_png(dpi)?,
    };
    crate::report::write_atomic(path, &bytes)
}

/// A year per study from column `column` of the studies' table (for sorting by year): the
/// leading digits of each cell (`2005a` → 2005); `None` for an empty cell.
pub fn years_from_frame(studies: &Studies, column: &str) -> Result<Vec<Option<f64>>> {
    let cells = crate::data::column_text(&studies.frame, &studies.source, column, "years")?;
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            None => Ok(None),
            Some(t) => {
                let digits: String = t.trim().chars().take_while(|c| c.is_ascii_digit()).collect();
                digits.parse::<f64>().map(Some).map_err(|_| Error::Input {
                    file: studies.source.clone(),
                    message: format!(
                        "row {}, column \"{column}\": \"{t}\" is not a year",
                        studies.rows.get(i).copied().unwrap_or(i + 1)
                    ),
                })
            }
        })
        .collect()
}
