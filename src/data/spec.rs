//! What to read, as a user chooses it ([`LoadSpec`]: the data flags of `metarepro pool`, the keys
//! of an `[[analysis]]` in `analysis.toml`, or a Rust caller's values), checked and turned into
//! [`LoadOptions`] in one place, so that every front end means the same by the same choice.

use super::{Columns, Labels, LoadOptions};
use crate::error::{Error, Result};

/// The user's choices of columns and rows, as given (filters and delimiter as text).
/// [`LoadSpec::resolve`] checks them; `Default` is what `pool` uses without flags.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    pub events: String,
    pub total: String,
    pub study: String,
    /// Subgroup column.
    pub by: Option<String>,
    /// Row filters, each `COL=VALUE`, `COL!=VALUE`, `COL=A,B` or `COL!=A,B` (all must hold;
    /// [`super::RowFilter::parse`]).
    pub filters: Vec<String>,
    /// Studies to leave out, by their exact label in the study column.
    pub exclude: Vec<String>,
    /// Field delimiter of a text table as given (see [`parse_delimiter`]); `None`: from the
    /// extension.
    pub delimiter: Option<String>,
    /// Drop rows with a missing count instead of failing.
    pub na_drop: bool,
    /// Columns of two-group and generic inputs.
    pub columns: Columns,
    /// What tables and figures call the subgroups (code → label); needs `by`.
    pub labels: Labels,
}

impl Default for LoadSpec {
    fn default() -> Self {
        let d = LoadOptions::default();
        LoadSpec {
            events: d.events,
            total: d.total,
            study: d.study,
            by: d.by,
            filters: Vec::new(),
            exclude: d.exclude,
            delimiter: None,
            na_drop: d.na_drop,
            columns: d.columns,
            labels: d.labels,
        }
    }
}

impl LoadSpec {
    /// The checked [`LoadOptions`]: filters parsed, the delimiter read, labels trimmed and only
    /// with a subgroup column.
    pub fn resolve(&self) -> Result<LoadOptions> {
        let mut labels = Labels::new();
        for (code, label) in &self.labels {
            let (code, label) = (code.trim(), label.trim());
            if code.is_empty() || label.is_empty() {
                return Err(Error::Usage(format!(
                    "a subgroup label needs a code and a non-empty label, got \"{code}\" = \"{label}\""
                )));
            }
            labels.insert(code.to_string(), label.to_string());
        }
        if !labels.is_empty() && self.by.is_none() {
            return Err(Error::Usage(
                "subgroup labels were given, but no subgroup column to apply them to".into(),
            ));
        }
        let filters = self
            .filters
            .iter()
            .map(|f| LoadOptions::parse_filter(f))
            .collect::<Result<Vec<_>>>()?;
        let delimiter = self.delimiter.as_deref().map(parse_delimiter).transpose()?;
        let mut exclude = Vec::new();
        for e in &self.exclude {
            let e = e.trim();
            if e.is_empty() {
                return Err(Error::Usage(
                    "a study to exclude needs its label, got an empty one".into(),
                ));
            }
            exclude.push(e.to_string());
        }
        Ok(LoadOptions {
            events: self.events.clone(),
            total: self.total.clone(),
            study: self.study.clone(),
            by: self.by.clone(),
            filters,
            exclude,
            delimiter,
            na_drop: self.na_drop,
            columns: self.columns.clone(),
            labels,
        })
    }
}

/// A field delimiter: one ASCII character other than a quote or a line break; `\t` (the two
/// characters), `tab` or a tab character for tab.
pub fn parse_delimiter(d: &str) -> Result<u8> {
    match d {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ => match d.as_bytes() {
            [b'"' | b'\n' | b'\r'] => Err(Error::Usage(format!(
                "the delimiter cannot be a quote or a line break, got {d:?}"
            ))),
            [c] if c.is_ascii() => Ok(*c),
            _ => Err(Error::Usage(format!(
                "the delimiter must be one ASCII character (or '\\t' for tab), got \"{d}\""
            ))),
        },
    }
}

/// The level of published CIs (of estimate-with-CI rows without a level column), given in
/// percent (95) or as a fraction (0.95), as a fraction between 0.5 and 0.999.
pub fn published_ci_level(level: f64) -> Result<f64> {
    let l = if level > 1.0 { level / 100.0 } else { level };
    if !(0.5..=0.999).contains(&l) {
        return Err(Error::Usage(format!(
            "the level of published CIs must be between 50 and 99.9 (percent), got {level}"
        )));
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_to_the_default_load_options() {
        assert_eq!(LoadSpec::default().resolve().unwrap(), LoadOptions::default());
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        for tab in ["\\t", "tab", "\t"] {
            assert_eq!(parse_delimiter(tab).unwrap(), b'\t');
        }
        let e = parse_delimiter("\"").unwrap_err().to_string();
        assert!(e.contains("cannot be a quote") && !e.contains("--"), "{e}");
        let e = parse_delimiter(";;").unwrap_err().to_string();
        assert!(
            e.contains("the delimiter must be one ASCII character") && !e.contains("--"),
            "{e}"
        );
    }

    #[test]
    fn labels_need_a_subgroup_column_and_are_trimmed() {
        let mut s = LoadSpec::default();
        s.labels.insert(" a ".into(), " Alpha ".into());
        let e = s.resolve().unwrap_err().to_string();
        assert!(e.contains("no subgroup column") && !e.contains("--"), "{e}");
        s.by = Some("g".into());
        assert_eq!(s.resolve().unwrap().labels.get("a").map(String::as_str), Some("Alpha"));
        s.labels.insert("b".into(), " ".into());
        assert!(s.resolve().is_err());
    }

    #[test]
    fn published_ci_levels() {
        assert_eq!(published_ci_level(95.0).unwrap(), 0.95);
        assert_eq!(published_ci_level(0.9).unwrap(), 0.9);
        let e = published_ci_level(30.0).unwrap_err().to_string();
        assert!(
            e.starts_with("the level of published CIs must be between 50 and 99.9"),
            "{e}"
        );
    }
}
