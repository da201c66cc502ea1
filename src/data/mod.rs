//! Loading study-level data: CSV, TSV or Parquet into a polars `DataFrame`, row selection
//! (row filters [`RowFilter`]: `COL=VALUE`, `COL!=VALUE`, `COL=A,B`; studies excluded by label),
//! and validation of the counts before any computation.
//!
//! Text tables (CSV, TSV, semicolon-separated, ...) are parsed here rather than by polars, so
//! that every problem is reported with the file, the data row (1-based, header and blank lines
//! excluded) and the line of the file it starts on, and the column:
//!
//! - the encoding must be UTF-8 (a byte-order mark, as Excel writes, is dropped); UTF-16,
//!   Latin-1 and binary files (NUL or other control bytes, Excel workbooks, PDFs) are refused
//!   with a hint;
//! - line endings may be LF, CRLF or CR; fields may be quoted (RFC 4180, `""` for a quote), and a
//!   quoted field may hold delimiters and line breaks; an unterminated quote is an error naming
//!   the line where it opened;
//! - every row must have as many fields as the header (extra *empty* trailing fields are
//!   ignored); blank lines and rows whose fields are all empty are skipped;
//! - column names are trimmed; they must be unique.
//!
//! A file starting with the Parquet signature `PAR1` is read as Parquet whatever its extension,
//! with the `parquet` crate ([`parquet_read`] says which column types and codecs it reads).
//!
//! Counts (see [`parse_count_text`]) must be non-negative whole numbers of at most 2^53, written
//! as digits, optionally with a zero decimal part (`12.0`; with a delimiter other than a comma
//! also `12,0`). Thousands separators, scientific notation (`1.2E+05`, which Excel uses for
//! rounded display), fractions, negative numbers, `NaN` and infinities are errors. `""`, `NA`,
//! `N/A` and `#N/A` are missing values: an error naming the row, or, when missing counts are
//! dropped (na = drop), a documented exclusion ([`Studies::excluded`]). Studies excluded by their
//! label ([`LoadOptions::exclude`]) are listed there as well.

use std::path::{Path, PathBuf};

use polars_core::prelude::*;

pub mod arms;
pub mod delimited;
pub mod parquet_check;
pub mod parquet_read;
pub mod revman;
pub mod revman_csv;
pub mod spec;

pub use arms::{load_inputs, select_inputs, Columns, InputKind, StudyInput};
pub use spec::{parse_delimiter, published_ci_level, LoadSpec};

pub use delimited::{parse_delimited, Record};

use crate::error::{delimiter_hint, guard_panics, Error, Result};

/// Which columns hold what, and which rows to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    pub events: String,
    pub total: String,
    pub study: String,
    /// Subgroup column.
    pub by: Option<String>,
    /// Row filters (all must hold).
    pub filters: Vec<RowFilter>,
    /// Study labels to leave out (exact labels of the study column; each must name a study of
    /// the rows the filters keep). Listed in [`Studies::excluded`].
    pub exclude: Vec<String>,
    /// Field delimiter; `None` picks it from the extension (`.tsv`/`.tab`: tab, otherwise comma).
    pub delimiter: Option<u8>,
    /// Drop rows with a missing count (listed in `Studies::excluded`) instead of failing.
    pub na_drop: bool,
    /// Columns of two-group and generic inputs ([`arms`]).
    pub columns: Columns,
    /// What to call the values of the subgroup column in tables and figures (code → label,
    /// e.g. `cdmards` → `cDMARDs`); results keep the codes. See [`parse_labels`].
    pub labels: Labels,
}

/// A label map: the value of a subgroup column (the code) → what a reader sees.
pub type Labels = std::collections::BTreeMap<String, String>;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            events: "events".into(),
            total: "total".into(),
            study: "study".into(),
            by: None,
            filters: Vec::new(),
            exclude: Vec::new(),
            delimiter: None,
            na_drop: false,
            columns: Columns::default(),
            labels: Labels::new(),
        }
    }
}

impl LoadOptions {
    /// Parse a row filter (see [`RowFilter::parse`]).
    pub fn parse_filter(s: &str) -> Result<RowFilter> {
        RowFilter::parse(s)
    }
}

/// A row filter: keep the rows whose `column` holds one of `values` (or, `negate`d, none of
/// them). Written `COL=VALUE`, `COL!=VALUE`, `COL=A,B` (A or B), `COL!=A,B` (neither), as R's
/// `subset(d, col %in% c("A", "B"))`. Values are compared as text, exactly (after trimming).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowFilter {
    pub column: String,
    pub values: Vec<String>,
    pub negate: bool,
}

impl RowFilter {
    /// Keep the rows where `column` equals `value`.
    pub fn equals(column: &str, value: &str) -> RowFilter {
        RowFilter {
            column: column.to_string(),
            values: vec![value.to_string()],
            negate: false,
        }
    }

    /// Parse `COL=VALUE`, `COL!=VALUE`, `COL=A,B` or `COL!=A,B` (split at the first `=`; a `!`
    /// just before it negates; values separated by commas).
    pub fn parse(s: &str) -> Result<RowFilter> {
        let bad = || {
            Error::Usage(format!(
                "a row filter is COL=VALUE, COL!=VALUE, COL=A,B (A or B) or COL!=A,B (neither), got \"{s}\""
            ))
        };
        let (col, v) = s.split_once('=').ok_or_else(bad)?;
        let (col, negate) = match col.strip_suffix('!') {
            Some(c) => (c, true),
            None => (col, false),
        };
        let column = col.trim();
        if column.is_empty() {
            return Err(bad());
        }
        let values: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
        if values.len() > 1 && values.iter().any(String::is_empty) {
            return Err(bad());
        }
        Ok(RowFilter {
            column: column.to_string(),
            values,
            negate,
        })
    }

    /// Whether a cell (`None`: empty) passes.
    pub fn keeps(&self, cell: Option<&str>) -> bool {
        let cell = cell.unwrap_or("");
        self.values.iter().any(|v| v == cell) != self.negate
    }
}

impl std::fmt::Display for RowFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = if self.negate { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.column, self.values.join(","))
    }
}

/// The reason [`Studies::excluded`] gives for a study left out by its label.
pub const EXCLUDED_BY_LABEL: &str = "excluded by its study label";

/// Whether a reason of [`Studies::excluded`] is an exclusion by label (not a missing value).
pub fn is_excluded_by_label(reason: &str) -> bool {
    reason.starts_with(EXCLUDED_BY_LABEL)
}

/// Labels of `candidates` close to `label` (same letters ignoring case, spaces and punctuation;
/// one containing the other; or a few edits apart), at most five, for "did you mean".
pub fn close_labels<'a>(label: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let n = norm(label);
    let mut out: Vec<(usize, &str)> = Vec::new();
    for c in candidates {
        if out.iter().any(|(_, o)| *o == c) {
            continue;
        }
        let m = norm(c);
        let d = if m == n {
            0
        } else if !n.is_empty() && !m.is_empty() && (m.contains(&n) || n.contains(&m)) {
            1
        } else {
            // A few edits from the whole label, or from its beginning (a label typed short).
            let limit = |len: usize| (len / 4).max(1);
            let whole = edit_distance(&n, &m);
            let start: String = m.chars().take(n.chars().count()).collect();
            let prefix = edit_distance(&n, &start);
            if whole <= limit(n.chars().count().max(m.chars().count())) {
                1 + whole
            } else if n.chars().count() >= 4 && prefix <= limit(n.chars().count()) {
                2 + prefix
            } else {
                continue;
            }
        };
        out.push((d, c));
    }
    out.sort_by_key(|&(d, _)| d);
    out.into_iter().take(5).map(|(_, c)| c).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Leave out the kept rows whose study label (`study`, the study column's cells) is one of
/// `exclude`: `keep` set to false, and each returned as (row, reason). A label that names no
/// kept row is an error naming it, with close labels.
pub(crate) fn exclude_studies(
    path: &Path,
    study: &[Option<String>],
    keep: &mut [bool],
    exclude: &[String],
) -> Result<Vec<(usize, String)>> {
    let mut out = Vec::new();
    if exclude.is_empty() {
        return Ok(out);
    }
    let kept = || {
        study
            .iter()
            .zip(keep.iter())
            .filter(|(_, &k)| k)
            .filter_map(|(s, _)| s.as_deref())
    };
    for label in exclude {
        if !kept().any(|s| s == label) {
            let close = close_labels(label, kept());
            let hint = if close.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                for s in kept() {
                    if !all.contains(&s) {
                        all.push(s);
                    }
                }
                let more = if all.len() > 10 { ", ..." } else { "" };
                format!(
                    "; the study labels are {}{more}",
                    all.iter()
                        .take(10)
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "; did you mean {}?",
                    close
                        .iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!(
                    "no study labelled \"{label}\" to exclude among the selected rows (labels must match exactly){hint}"
                ),
            });
        }
    }
    for (i, (s, k)) in study.iter().zip(keep.iter_mut()).enumerate() {
        if let Some(s) = s.as_deref() {
            if *k && exclude.iter().any(|e| e == s) {
                *k = false;
                out.push((i + 1, format!("{EXCLUDED_BY_LABEL} \"{s}\"")));
            }
        }
    }
    Ok(out)
}

/// A label map from `--labels` values: each is `CODE=LABEL` (split at the first `=`) or the path
/// of a TOML file of `CODE = "LABEL"` lines (at the top level or under `[labels]`, as in
/// `analysis.toml`). Later values override earlier ones.
pub fn parse_labels(values: &[String]) -> Result<Labels> {
    let mut out = Labels::new();
    for v in values {
        if v.ends_with(".toml") && !v.contains('=') {
            let path = Path::new(v);
            let input = |message: String| Error::Input {
                file: path.to_path_buf(),
                message,
            };
            let text = std::fs::read_to_string(path).map_err(|e| input(format!("cannot read the label file: {e}")))?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| input(format!("invalid label file: {e}")))?;
            let table = match table.get("labels") {
                Some(toml::Value::Table(t)) => t.clone(),
                Some(_) => return Err(input("`labels` must be a table of CODE = \"LABEL\"".into())),
                None => table,
            };
            for (code, label) in table {
                match label {
                    toml::Value::String(l) if !l.trim().is_empty() => {
                        out.insert(code, l.trim().to_string());
                    }
                    _ => {
                        return Err(input(format!(
                            "label of \"{code}\" must be a non-empty string, e.g. {code} = \"Label\""
                        )))
                    }
                }
            }
            continue;
        }
        match v.split_once('=') {
            Some((code, label)) if !code.trim().is_empty() && !label.trim().is_empty() => {
                out.insert(code.trim().to_string(), label.trim().to_string());
            }
            _ => {
                return Err(Error::Usage(format!(
                    "a subgroup label is CODE=LABEL (e.g. cdmards=cDMARDs) or a .toml file of labels, got \"{v}\""
                )))
            }
        }
    }
    Ok(out)
}

/// Validated study-level data, ready for effect sizes.
#[derive(Debug, Clone)]
pub struct Studies {
    /// The file the data came from.
    pub source: PathBuf,
    pub study: Vec<String>,
    pub events: Vec<f64>,
    pub total: Vec<f64>,
    pub group: Option<Vec<String>>,
    /// 1-based data row of each study in the file.
    pub rows: Vec<usize>,
    /// Rows left out, in row order: (row, reason). A missing count when missing counts are
    /// dropped (na = drop), or a study excluded by its label ([`is_excluded_by_label`]).
    pub excluded: Vec<(usize, String)>,
    /// The selected rows with all their columns (as read).
    pub frame: DataFrame,
    /// File line on which each data row of the file starts (`row_lines[row - 1]`); empty when
    /// the data did not come from a text file (Parquet, memory). See [`Studies::line_of`].
    pub row_lines: Vec<usize>,
    /// The data of each study ([`StudyInput::Proportion`] for events/total tables). For 2×2
    /// tables `events`/`total` hold the sums over both arms; for other kinds they are NaN.
    pub inputs: Vec<StudyInput>,
    /// The column names of the inputs (for messages).
    pub columns: Columns,
    /// Whether a comma is a decimal separator in the table's numbers (a text table whose
    /// delimiter is not a comma): counts and moderators are read alike.
    pub decimal_comma: bool,
}

impl Studies {
    /// No studies yet, from `source` (filled in by the loaders).
    pub(crate) fn empty(source: &Path) -> Studies {
        Studies {
            source: source.to_path_buf(),
            study: Vec::new(),
            events: Vec::new(),
            total: Vec::new(),
            group: None,
            rows: Vec::new(),
            excluded: Vec::new(),
            frame: DataFrame::empty(),
            row_lines: Vec::new(),
            inputs: Vec::new(),
            columns: Columns::default(),
            decimal_comma: false,
        }
    }

    /// Build from study inputs of any kind (library use and tests); the frame holds the study
    /// labels (and groups).
    pub fn from_inputs(study: Vec<String>, inputs: Vec<StudyInput>, group: Option<Vec<String>>) -> Result<Studies> {
        let k = inputs.len();
        if study.len() != k || group.as_ref().is_some_and(|g| g.len() != k) {
            return Err(Error::Usage("study, inputs and group must have the same length".into()));
        }
        if k == 0 {
            return Err(Error::Usage("no studies given".into()));
        }
        let mut cols = vec![Column::new("study".into(), study.clone())];
        if let Some(g) = &group {
            cols.push(Column::new("group".into(), g.clone()));
        }
        let frame = DataFrame::new_infer_height(cols).map_err(|e| Error::Usage(e.to_string()))?;
        let (events, total) = inputs
            .iter()
            .map(|i| match *i {
                StudyInput::Table2x2 { ai, bi, ci, di } => (ai + ci, ai + bi + ci + di),
                StudyInput::Proportion { xi, ni } => (xi, ni),
                _ => (f64::NAN, f64::NAN),
            })
            .unzip();
        Ok(Studies {
            source: PathBuf::from("<memory>"),
            study,
            events,
            total,
            group,
            rows: (1..=k).collect(),
            excluded: vec![],
            frame,
            row_lines: Vec::new(),
            inputs,
            columns: Columns::default(),
            decimal_comma: false,
        })
    }

    pub fn k(&self) -> usize {
        self.events.len()
    }

    /// The file line of a 1-based data row, when the data came from a text table.
    pub fn line_of(&self, row: usize) -> Option<usize> {
        row.checked_sub(1).and_then(|i| self.row_lines.get(i)).copied()
    }

    /// Build directly from vectors (library use and tests).
    pub fn from_counts(
        study: Vec<String>,
        events: Vec<f64>,
        total: Vec<f64>,
        group: Option<Vec<String>>,
    ) -> Result<Studies> {
        let k = events.len();
        if study.len() != k || total.len() != k || group.as_ref().is_some_and(|g| g.len() != k) {
            return Err(Error::Usage(
                "study, events, total and group must have the same length".into(),
            ));
        }
        if k == 0 {
            return Err(Error::Usage("no studies given".into()));
        }
        let source = PathBuf::from("<memory>");
        for (i, (&e, &t)) in events.iter().zip(&total).enumerate() {
            let at = At {
                file: &source,
                row: i + 1,
                line: None,
            };
            check_count(&at, "events", e)?;
            check_count(&at, "total", t)?;
            check_pair(&at, "events", "total", e, t)?;
        }
        let mut cols = vec![
            Column::new("study".into(), study.clone()),
            Column::new("events".into(), events.clone()),
            Column::new("total".into(), total.clone()),
        ];
        if let Some(g) = &group {
            cols.push(Column::new("group".into(), g.clone()));
        }
        let frame = DataFrame::new_infer_height(cols).map_err(|e| Error::Usage(e.to_string()))?;
        let inputs = events
            .iter()
            .zip(&total)
            .map(|(&xi, &ni)| StudyInput::Proportion { xi, ni })
            .collect();
        Ok(Studies {
            source,
            study,
            events,
            total,
            group,
            rows: (1..=k).collect(),
            excluded: vec![],
            frame,
            row_lines: Vec::new(),
            inputs,
            columns: Columns::default(),
            decimal_comma: false,
        })
    }
}

/// A table as read: the frame (text columns for text tables) and, for text tables, the line on
/// which each data row starts.
#[derive(Debug, Clone)]
pub struct Table {
    pub frame: DataFrame,
    /// `lines[row - 1]` is the file line of data row `row`; empty for Parquet.
    pub lines: Vec<usize>,
    /// Whether a comma may be a decimal separator in counts (text tables whose delimiter is not
    /// a comma).
    pub decimal_comma: bool,
}

/// Read a whole file into a `DataFrame` (every column as text for CSV/TSV).
pub fn read_frame(path: &Path, delimiter: Option<u8>) -> Result<DataFrame> {
    read_table(path, delimiter).map(|t| t.frame)
}

/// Read a whole file: Parquet (by its signature) or a delimited text table.
pub fn read_table(path: &Path, delimiter: Option<u8>) -> Result<Table> {
    let input = |message: String| Error::Input {
        file: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| input(format!("cannot open: {}", io_message(&e))))?;
    if meta.is_dir() {
        return Err(input("is a folder, not a data file".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| input(format!("cannot read: {}", io_message(&e))))?;
    let ext = extension(path);
    if bytes.starts_with(b"PAR1") || ext == "parquet" || ext == "pq" {
        return read_parquet(path, bytes);
    }
    let sep = delimiter.unwrap_or_else(|| default_delimiter(path));
    let text = decode_text(path, &bytes)?;
    let records = parse_delimited(path, text, sep)?;
    let table = build_text_table(path, records, sep)?;
    Ok(table)
}

/// The extension of `path` in lower case ("" without one).
pub fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The delimiter of a text table when none is given: tab for `.tsv`/`.tab`, comma otherwise.
pub fn default_delimiter(path: &Path) -> u8 {
    match extension(path).as_str() {
        "tsv" | "tab" => b'\t',
        _ => b',',
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn read_parquet(path: &Path, bytes: Vec<u8>) -> Result<Table> {
    let input = |message: String| Error::Input {
        file: path.to_path_buf(),
        message,
    };
    if bytes.is_empty() {
        return Err(input("the file is empty (expected a Parquet file)".into()));
    }
    if !bytes.starts_with(b"PAR1") {
        return Err(input(
            "not a Parquet file (it does not start with the Parquet signature PAR1); \
             a text table should be named .csv or .tsv"
                .into(),
        ));
    }
    if bytes.len() < 12 || !bytes.ends_with(b"PAR1") {
        return Err(input(
            "truncated or corrupt Parquet file (the footer signature PAR1 is missing at the end)".into(),
        ));
    }
    // The Parquet reader is not hardened against every corrupt file: a panic inside it must not
    // take the program down, so it is turned into an input error here. Its footer and page
    // headers are checked first (see `parquet_check`): a failed allocation is an abort, not a
    // panic.
    let frame = match guard_panics(move || parquet_read::read(bytes)) {
        Ok(Ok(df)) => df,
        Ok(Err(parquet_read::ReadError::Corrupt(e))) => return Err(input(format!("corrupt Parquet file: {e}"))),
        Ok(Err(parquet_read::ReadError::Unsupported(e))) => {
            return Err(input(format!("cannot read this Parquet file: {e}")))
        }
        Err(_) => return Err(input("corrupt Parquet file (the Parquet reader failed)".into())),
    };
    let names: Vec<String> = frame.get_column_names().iter().map(|s| s.to_string()).collect();
    check_unique(path, &names)?;
    Ok(Table {
        frame,
        lines: Vec::new(),
        decimal_comma: false,
    })
}

/// Check the encoding and return the text without a byte-order mark.
fn decode_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    let input = |message: String| Error::Input {
        file: path.to_path_buf(),
        message,
    };
    if bytes.is_empty() {
        return Err(input(
            "the file is empty (expected a header row and at least one data row)".into(),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(input(
            "the file is UTF-16 text (Excel's \"Unicode Text\"): re-save it as UTF-8 \
             (in Excel: \"CSV UTF-8 (Comma delimited)\")"
                .into(),
        ));
    }
    let utf16_no_bom = bytes.len() >= 4
        && ((bytes.get(1) == Some(&0) && bytes.get(3) == Some(&0))
            || (bytes.first() == Some(&0) && bytes.get(2) == Some(&0)));
    if utf16_no_bom {
        return Err(input(
            "the file looks like UTF-16 text: re-save it as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")".into(),
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(input(
            "this is an Excel workbook (.xlsx) or another zip archive, not a text table: \
             export the sheet as \"CSV UTF-8 (Comma delimited)\""
                .into(),
        ));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(input(
            "this is an old Excel workbook (.xls), not a text table: export the sheet as \
             \"CSV UTF-8 (Comma delimited)\""
                .into(),
        ));
    }
    if bytes.starts_with(b"%PDF") {
        return Err(input(
            "this is a PDF, not a text table: copy the table into a CSV file".into(),
        ));
    }
    let line_at = |pos: usize| bytes.get(..pos).map_or(0, count_lines) + 1;
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(input(format!(
            "line {}: NUL byte: this is not a text table (binary data?)",
            line_at(pos)
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let pos = e.valid_up_to();
        let byte = bytes.get(pos).copied().unwrap_or(0);
        input(format!(
            "line {}: byte 0x{byte:02X} is not valid UTF-8 (the file is probably Latin-1 or \
             Windows-1252): re-save it as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")",
            line_at(pos)
        ))
    })?;
    if let Some(pos) = text.find(|c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) {
        let c = text[pos..].chars().next().unwrap_or('\0');
        return Err(input(format!(
            "line {}: control character U+{:04X}: this is not a text table (binary data?)",
            line_at(pos),
            c as u32
        )));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(input(
            "the file is empty (expected a header row and at least one data row)".into(),
        ));
    }
    Ok(text)
}

/// Number of line breaks (LF, CRLF or lone CR) in `b`.
fn count_lines(b: &[u8]) -> usize {
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

fn is_blank(r: &Record) -> bool {
    r.fields.iter().all(|f| f.trim().is_empty())
}

fn build_text_table(path: &Path, records: Vec<Record>, sep: u8) -> Result<Table> {
    let input = |message: String| Error::Input {
        file: path.to_path_buf(),
        message,
    };
    let mut it = records.into_iter().filter(|r| !is_blank(r));
    let Some(header) = it.next() else {
        return Err(input(
            "the file is empty (expected a header row and at least one data row)".into(),
        ));
    };
    let names: Vec<String> = header
        .fields
        .iter()
        .enumerate()
        .map(|(j, n)| {
            let n = n.trim();
            if n.is_empty() {
                format!("(unnamed {})", j + 1)
            } else {
                n.to_string()
            }
        })
        .collect();
    check_unique(path, &names)?;
    let ncol = names.len();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); ncol];
    let mut lines = Vec::new();
    for (i, rec) in it.enumerate() {
        let row = i + 1;
        let nf = rec.fields.len();
        if nf < ncol || rec.fields.iter().skip(ncol).any(|f| !f.trim().is_empty()) {
            let what = if nf < ncol {
                let missing: Vec<&str> = names.iter().skip(nf).map(String::as_str).collect();
                format!(" (no value for {})", quoted_list(&missing))
            } else {
                String::new()
            };
            return Err(Error::Record {
                file: path.to_path_buf(),
                row: Some(row),
                line: Some(rec.line),
                message: format!(
                    "{nf} field{}, but the header has {ncol} column{}{what}; every row must have one \
                     field per column ({} separates fields){}",
                    if nf == 1 { "" } else { "s" },
                    if ncol == 1 { "" } else { "s" },
                    sep_display(sep),
                    delimiter_hint(&names)
                ),
            });
        }
        for (col, f) in columns.iter_mut().zip(rec.fields) {
            let t = f.trim();
            col.push(if t.is_empty() { None } else { Some(t.to_string()) });
        }
        lines.push(rec.line);
    }
    if lines.is_empty() {
        let hint = delimiter_hint(&names);
        return Err(input(format!(
            "no data rows (only a header: {}){hint}",
            quoted_list(&names.iter().map(String::as_str).collect::<Vec<_>>())
        )));
    }
    let cols: Vec<Column> = names
        .iter()
        .zip(columns)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    let frame = DataFrame::new_infer_height(cols).map_err(|e| input(e.to_string()))?;
    Ok(Table {
        frame,
        lines,
        decimal_comma: sep != b',',
    })
}

fn check_unique(path: &Path, names: &[String]) -> Result<()> {
    for (j, a) in names.iter().enumerate() {
        if let Some(i) = names.get(..j).and_then(|prev| prev.iter().position(|p| p == a)) {
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!(
                    "duplicate column name \"{a}\" (columns {} and {}): column names must be unique",
                    i + 1,
                    j + 1
                ),
            });
        }
    }
    Ok(())
}

fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

fn sep_display(sep: u8) -> String {
    match sep {
        b',' => "a comma".into(),
        b'\t' => "a tab".into(),
        b';' => "a semicolon".into(),
        b' ' => "a space".into(),
        c => format!("'{}'", char::from(c)),
    }
}

/// The values of a column as text (`None` for missing/empty cells).
pub fn column_text(df: &DataFrame, file: &Path, name: &str, purpose: &str) -> Result<Vec<Option<String>>> {
    let col = df.column(name).map_err(|_| Error::MissingColumn {
        file: file.to_path_buf(),
        column: name.to_string(),
        purpose: purpose.to_string(),
        available: df.get_column_names().iter().map(|s| s.to_string()).collect(),
    })?;
    if col.dtype().is_float() {
        // Rust's shortest round-trip decimal, never in scientific notation (1e15 is written
        // 1000000000000000), so that the count checks see the exact value.
        let f = col.cast(&DataType::Float64).map_err(|e| Error::Input {
            file: file.to_path_buf(),
            message: format!("column \"{name}\": cannot read as numbers: {e}"),
        })?;
        let ca = f.f64().map_err(|e| Error::Input {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        return Ok(ca.iter().map(|v| v.map(|x| format!("{x}"))).collect());
    }
    let s = col.cast(&DataType::String).map_err(|e| Error::Input {
        file: file.to_path_buf(),
        message: format!("column \"{name}\": cannot read as text: {e}"),
    })?;
    let ca = s.str().map_err(|e| Error::Input {
        file: file.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(ca
        .iter()
        .map(|v| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()))
        .collect())
}

/// Largest count accepted: integers above 2^53 are not exact in f64.
pub const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

/// Cell texts that mean "missing" (besides an empty cell).
pub const MISSING: [&str; 3] = ["NA", "N/A", "#N/A"];

/// Where a value is: file, data row and (for text tables) file line.
struct At<'a> {
    file: &'a Path,
    row: usize,
    line: Option<usize>,
}

impl At<'_> {
    fn err(&self, column: &str, message: String) -> Error {
        Error::Data {
            file: self.file.to_path_buf(),
            row: Some(self.row),
            line: self.line,
            column: column.to_string(),
            message,
        }
    }
}

/// Parse one count cell: a non-negative integer (written as `12` or `12.0`).
pub fn parse_count(file: &Path, row: usize, column: &str, text: &str) -> Result<f64> {
    let at = At { file, row, line: None };
    parse_count_text(text, false).map_err(|m| at.err(column, m))
}

/// Parse the text of a count: a non-negative whole number of at most 2^53.
///
/// Accepted: digits with an optional leading `+`, optionally followed by a decimal separator and
/// zeros (`12.0`, and `12,0` when `decimal_comma`). Refused, with a message saying what was found
/// and what was expected: anything else, in particular fractions, negative numbers, `NaN`,
/// infinities, numbers above 2^53, scientific notation (Excel shows rounded numbers that way)
/// and thousands separators. A separator followed by exactly three digits after one to three
/// digits (`1.000`, `1,500`) is refused as ambiguous: it may be a thousands separator.
pub fn parse_count_text(text: &str, decimal_comma: bool) -> std::result::Result<f64, String> {
    const EXPECTED: &str = "expected a whole number of patients, e.g. 12";
    let t = text.trim();
    // The common case, plain digits (at most 15, so below 2^53): no checks to explain.
    if !t.is_empty() && t.len() <= 15 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(t.bytes().fold(0u64, |v, b| 10 * v + u64::from(b - b'0')) as f64);
    }
    let shown = if t.chars().count() > 40 {
        format!("{}...", t.chars().take(40).collect::<String>())
    } else {
        t.to_string()
    };
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if unsigned == "nan" {
        return Err(format!("\"{shown}\" (not a number) is not a count ({EXPECTED})"));
    }
    if matches!(unsigned, "inf" | "infinity" | "∞") {
        return Err(format!("\"{shown}\" (infinite) is not a count ({EXPECTED})"));
    }
    let (negative, body) = match t.strip_prefix('-').or_else(|| t.strip_prefix('\u{2212}')) {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let is_sep = |c: char| c == '.' || (decimal_comma && c == ',');
    let mut parts = body.splitn(2, is_sep);
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let sep_char = body.chars().find(|&c| is_sep(c));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits(int) && frac.is_none_or(|f| f.is_empty() || digits(f));
    if !well_formed {
        // Say why, when we can tell.
        if body.contains(['e', 'E']) {
            if let Ok(v) = body.replace(',', ".").parse::<f64>() {
                if v.is_finite() {
                    if negative {
                        return Err(format!("\"{shown}\" is negative ({EXPECTED})"));
                    }
                    if v > MAX_COUNT {
                        return Err(format!(
                            "\"{shown}\" is too large to be represented exactly (at most 2^53 = 9007199254740992)"
                        ));
                    }
                    return Err(format!(
                        "\"{shown}\" is in scientific notation, which may have been rounded \
                         (Excel shows large numbers that way): write the exact whole number"
                    ));
                }
                return Err(format!("\"{shown}\" (infinite) is not a count ({EXPECTED})"));
            }
        }
        if digits(int) && frac.is_some_and(|f| f.contains(['.', ','])) || (!decimal_comma && body.contains(',')) {
            let also = if !decimal_comma && body.contains(',') && digits(&body.replace([',', '.'], "")) {
                " (a decimal comma is accepted only when the delimiter is not a comma, e.g. a semicolon)"
            } else {
                ""
            };
            return Err(format!(
                "\"{shown}\" is not a number: write counts without thousands separators{also} ({EXPECTED})"
            ));
        }
        return Err(format!("\"{shown}\" is not a number ({EXPECTED})"));
    }
    if let (Some(f), Some(s)) = (frac, sep_char) {
        if f.len() == 3 && (1..=3).contains(&int.len()) && !int.starts_with('0') {
            return Err(format!(
                "\"{shown}\" is ambiguous: '{s}' may be a thousands separator (is it {int} or {int}{f}?); \
                 write the count as a plain whole number"
            ));
        }
        if f.bytes().any(|b| b != b'0') {
            let v = format!("{int}.{f}");
            return Err(if negative {
                format!("\"{shown}\" is negative and not a whole number ({EXPECTED})")
            } else {
                format!("{v} is not a whole number ({EXPECTED})")
            });
        }
    }
    // Only digits now: exact integer parsing (no rounding through a float).
    let stripped = int.trim_start_matches('0');
    let too_large = || format!("\"{shown}\" is too large to be represented exactly (at most 2^53 = 9007199254740992)");
    let value: u64 = if stripped.is_empty() {
        0
    } else if stripped.len() > 16 {
        return Err(too_large());
    } else {
        stripped.parse::<u64>().map_err(|_| too_large())?
    };
    if negative && value != 0 {
        return Err(format!("{shown} is negative ({EXPECTED})"));
    }
    if value > (1u64 << 53) {
        return Err(too_large());
    }
    Ok(value as f64)
}

fn check_count(at: &At, column: &str, v: f64) -> Result<()> {
    let fail = |m: String| Err(at.err(column, m));
    const EXPECTED: &str = "expected a whole number of patients, e.g. 12";
    if v.is_nan() {
        return fail(format!("NaN is not a count ({EXPECTED})"));
    }
    if v.is_infinite() {
        return fail(format!("{v} is not a count ({EXPECTED})"));
    }
    if v < 0.0 {
        return fail(format!("{v} is negative ({EXPECTED})"));
    }
    if v.fract() != 0.0 {
        return fail(format!("{v} is not a whole number ({EXPECTED})"));
    }
    if v > MAX_COUNT {
        return fail(format!("{v} is too large to be represented exactly (at most 2^53)"));
    }
    Ok(())
}

fn check_pair(at: &At, events_col: &str, total_col: &str, events: f64, total: f64) -> Result<()> {
    if total == 0.0 {
        return Err(at.err(
            total_col,
            "0 is not a valid total (expected at least one patient)".into(),
        ));
    }
    if events > total {
        return Err(at.err(events_col, format!("{events} is greater than total ({total})")));
    }
    Ok(())
}

/// Load a study table for a measure whose inputs are `kind`: events/totals ([`load`]) for
/// proportions, [`load_inputs`] for every other kind (`level`: the CI level of estimate rows when
/// the table has no level column).
pub fn load_for(path: &Path, options: &LoadOptions, kind: InputKind, level: f64) -> Result<Studies> {
    if kind == InputKind::Proportion {
        load(path, options)
    } else {
        load_inputs(path, options, kind, level)
    }
}

/// Studies from a polars `DataFrame` held in memory (library use): the columns named by
/// `options` for a measure whose inputs are `kind` (`level`: the CI level of estimate rows);
/// errors name the frame `<DataFrame>`, its row and column.
pub fn from_frame(df: DataFrame, options: &LoadOptions, kind: InputKind, level: f64) -> Result<Studies> {
    let path = Path::new("<DataFrame>");
    let table = Table {
        frame: df,
        lines: Vec::new(),
        decimal_comma: false,
    };
    if kind == InputKind::Proportion {
        select_table(table, path, options)
    } else {
        select_inputs(table, path, options, kind, level)
    }
}

/// Load, filter and validate a study table.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Studies> {
    let table = read_table(path, options.delimiter)?;
    select_table(table, path, options)
}

/// Filter and validate an already read frame (`path` names it in errors).
pub fn select(df: DataFrame, path: &Path, options: &LoadOptions) -> Result<Studies> {
    select_table(
        Table {
            frame: df,
            lines: Vec::new(),
            decimal_comma: false,
        },
        path,
        options,
    )
}

/// Filter and validate a table read by [`read_table`].
pub fn select_table(table: Table, path: &Path, options: &LoadOptions) -> Result<Studies> {
    let Table {
        frame: df,
        lines,
        decimal_comma,
    } = table;
    if df.height() == 0 {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "no data rows (only a header)".into(),
        });
    }
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    check_unique(path, &names)?;
    if options.events == options.total {
        return Err(Error::Usage(format!(
            "the event-count column and the total column are both \"{}\"",
            options.events
        )));
    }
    let n = df.height();
    let at = |i: usize| At {
        file: path,
        row: i + 1,
        line: lines.get(i).copied(),
    };
    let missing_column = |column: &str, purpose: &str| -> Result<()> {
        if names.iter().any(|c| c == column) {
            return Ok(());
        }
        Err(Error::MissingColumn {
            file: path.to_path_buf(),
            column: column.to_string(),
            purpose: purpose.to_string(),
            available: names.clone(),
        })
    };
    // Check every named column first, so that one message lists them all.
    missing_column(&options.study, "the study-label column")?;
    missing_column(&options.events, "the event-count column")?;
    missing_column(&options.total, "the total column")?;
    if let Some(b) = &options.by {
        missing_column(b, "the subgroup column")?;
    }
    for f in &options.filters {
        missing_column(&f.column, "the column of a row filter")?;
    }
    // Row selection: the filters, then the studies excluded by label.
    let mut keep = row_filter(&df, path, &options.filters, &names)?;
    let study = column_text(&df, path, &options.study, "the study-label column")?;
    let mut excluded = exclude_studies(path, &study, &mut keep, &options.exclude)?;
    let events = column_text(&df, path, &options.events, "the event-count column")?;
    let total = column_text(&df, path, &options.total, "the total column")?;
    let group = match &options.by {
        Some(b) => Some(column_text(&df, path, b, "the subgroup column")?),
        None => None,
    };
    let is_missing = |v: &Option<String>| v.as_deref().is_none_or(|t| MISSING.contains(&t));
    let mut out_study = Vec::new();
    let mut out_events = Vec::new();
    let mut out_total = Vec::new();
    let mut out_group = Vec::new();
    let mut rows = Vec::new();
    let by_label = excluded.len();
    for i in 0..n {
        if !keep.get(i).copied().unwrap_or(false) {
            continue;
        }
        let row = i + 1;
        let here = at(i);
        let (ev, tot) = match (events.get(i), total.get(i)) {
            (Some(e), Some(t)) => (e, t),
            _ => continue,
        };
        let mut missing = Vec::new();
        if is_missing(ev) {
            missing.push(options.events.as_str());
        }
        if is_missing(tot) {
            missing.push(options.total.as_str());
        }
        if let Some(first) = missing.first() {
            if options.na_drop {
                let cols: Vec<String> = missing.iter().map(|c| format!("\"{c}\"")).collect();
                excluded.push((row, format!("missing {}", cols.join(" and "))));
                if let Some(k) = keep.get_mut(i) {
                    *k = false;
                }
                continue;
            }
            let found = match if is_missing(ev) { ev } else { tot } {
                Some(t) => format!("\"{t}\" (missing value)"),
                None => "empty cell".to_string(),
            };
            return Err(here.err(
                first,
                format!(
                    "{found}: a count is required (fill it in, or choose to drop rows with missing \
                     counts: na = drop)"
                ),
            ));
        }
        let e = parse_count_text(ev.as_deref().unwrap_or_default(), decimal_comma)
            .map_err(|m| here.err(&options.events, m))?;
        let t = parse_count_text(tot.as_deref().unwrap_or_default(), decimal_comma)
            .map_err(|m| here.err(&options.total, m))?;
        check_pair(&here, &options.events, &options.total, e, t)?;
        if let (Some(g), Some(b)) = (&group, &options.by) {
            match g.get(i).cloned().flatten() {
                Some(v) => out_group.push(v),
                None => {
                    return Err(here.err(
                        b,
                        "empty cell: the subgroup is missing (expected a subgroup label)".into(),
                    ))
                }
            }
        }
        out_study.push(study.get(i).cloned().flatten().unwrap_or_else(|| format!("row {row}")));
        out_events.push(e);
        out_total.push(t);
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: no_rows_left(excluded.len() - by_label, by_label, "a missing count"),
        });
    }
    excluded.sort_by_key(|(r, _)| *r);
    let frame = filter_frame(df, path, &keep)?;
    let inputs = out_events
        .iter()
        .zip(&out_total)
        .map(|(&xi, &ni)| StudyInput::Proportion { xi, ni })
        .collect();
    Ok(Studies {
        source: path.to_path_buf(),
        study: out_study,
        events: out_events,
        total: out_total,
        group: group.map(|_| out_group),
        rows,
        excluded,
        frame,
        row_lines: lines,
        inputs,
        columns: Columns::default(),
        decimal_comma,
    })
}

/// The message when no row is left: `missing` rows dropped for `what` (na = drop), `by_label`
/// studies excluded by label.
pub(crate) fn no_rows_left(missing: usize, by_label: usize, what: &str) -> String {
    match (missing, by_label) {
        (m, 0) => format!("no rows left: all {m} selected rows have {what} and were dropped (na = drop)"),
        (0, e) => format!("no rows left: all {e} selected rows are studies excluded by label"),
        (m, e) => format!(
            "no rows left: of the selected rows, {m} have {what} and were dropped (na = drop) and {e} are studies \
             excluded by label"
        ),
    }
}

/// Which rows of `df` pass every row filter (an error when none does, listing the values the
/// column has).
fn row_filter(df: &DataFrame, path: &Path, filters: &[RowFilter], names: &[String]) -> Result<Vec<bool>> {
    for f in filters {
        if !names.iter().any(|c| c == &f.column) {
            return Err(Error::MissingColumn {
                file: path.to_path_buf(),
                column: f.column.clone(),
                purpose: "the column of a row filter".into(),
                available: names.to_vec(),
            });
        }
    }
    let mut keep = vec![true; df.height()];
    for filter in filters {
        let col = &filter.column;
        let vals = column_text(df, path, col, "the column of a row filter")?;
        for (k, v) in keep.iter_mut().zip(&vals) {
            if !filter.keeps(v.as_deref()) {
                *k = false;
            }
        }
        if !keep.iter().any(|&k| k) {
            let mut seen: Vec<&str> = Vec::new();
            for v in vals.iter().flatten() {
                if !seen.contains(&v.as_str()) {
                    seen.push(v);
                }
            }
            let shown: Vec<String> = seen.iter().take(10).map(|v| format!("\"{v}\"")).collect();
            let more = if seen.len() > 10 { ", ..." } else { "" };
            let desc: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!(
                    "no rows match the row filter{} {} (column \"{col}\" has the values {}{more})",
                    if filters.len() == 1 { "" } else { "s" },
                    desc.join(" and "),
                    shown.join(", ")
                ),
            });
        }
    }
    Ok(keep)
}

/// The rows of `df` where `keep` is true.
fn filter_frame(df: DataFrame, path: &Path, keep: &[bool]) -> Result<DataFrame> {
    let mask = BooleanChunked::from_slice("keep".into(), keep);
    df.filter(&mask).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(t: &str, dc: bool) -> std::result::Result<f64, String> {
        parse_count_text(t, dc)
    }

    #[test]
    fn counts() {
        assert_eq!(count("12", false), Ok(12.0));
        assert_eq!(count(" +12 ", false), Ok(12.0));
        assert_eq!(count("0012", false), Ok(12.0));
        assert_eq!(count("12.0", false), Ok(12.0));
        assert_eq!(count("12.", false), Ok(12.0));
        assert_eq!(count("12,0", true), Ok(12.0));
        assert_eq!(count("0", false), Ok(0.0));
        assert_eq!(count("-0", false), Ok(0.0));
        assert_eq!(count("0.000", false), Ok(0.0));
        assert_eq!(count("1234.000", false), Ok(1234.0));
        assert_eq!(count("9007199254740992", false), Ok(MAX_COUNT));
        for bad in [
            "12,0",
            "12.5",
            "-3",
            "abc",
            "NaN",
            "inf",
            "-Infinity",
            "1e3",
            "1.2E+05",
            "1.000",
            "1,500",
            "1.234.567",
            "9007199254740993",
            "99999999999999999999999",
            "",
            ".5",
            "12%",
            "1 000",
            "0x10",
        ] {
            assert!(count(bad, false).is_err(), "{bad} accepted");
        }
        assert!(count("12,5", true).unwrap_err().contains("not a whole number"));
        assert!(count("1.000", true).unwrap_err().contains("ambiguous"));
        assert!(count("-3", false).unwrap_err().contains("negative"));
        assert!(count("1.2E+05", false).unwrap_err().contains("scientific"));
    }
}
