//! Loading study-level data: CSV, TSV or Parquet into a polars `DataFrame`, row selection
//! (`--where`), and validation of the counts before any computation.
//!
//! Every column is read as text and parsed here, so that a bad value is reported with the file,
//! the data row (1-based, header excluded; file line = row + 1) and the column.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// Which columns hold what, and which rows to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    pub events: String,
    pub total: String,
    pub study: String,
    /// Subgroup column (`--by`).
    pub by: Option<String>,
    /// Row filters `COL=VALUE` (all must hold).
    pub filters: Vec<(String, String)>,
    /// Field delimiter; `None` picks it from the extension (`.tsv`/`.tab`: tab, otherwise comma).
    pub delimiter: Option<u8>,
    /// Drop rows with a missing count (listed in `Studies::excluded`) instead of failing.
    pub na_drop: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            events: "events".into(),
            total: "total".into(),
            study: "study".into(),
            by: None,
            filters: Vec::new(),
            delimiter: None,
            na_drop: false,
        }
    }
}

impl LoadOptions {
    /// Parse a `COL=VALUE` filter.
    pub fn parse_filter(s: &str) -> Result<(String, String)> {
        match s.split_once('=') {
            Some((c, v)) if !c.trim().is_empty() => Ok((c.trim().to_string(), v.trim().to_string())),
            _ => Err(Error::Usage(format!("--where expects COL=VALUE, got \"{s}\""))),
        }
    }
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
    /// Rows left out because of a missing count (`--na drop`): (row, reason).
    pub excluded: Vec<(usize, String)>,
    /// The selected rows with all their columns (as read).
    pub frame: DataFrame,
}

impl Studies {
    pub fn k(&self) -> usize {
        self.events.len()
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
        let source = PathBuf::from("<memory>");
        for i in 0..k {
            check_count(&source, i + 1, "events", events[i])?;
            check_count(&source, i + 1, "total", total[i])?;
            check_pair(&source, i + 1, "events", events[i], total[i])?;
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
        Ok(Studies {
            source,
            study,
            events,
            total,
            group,
            rows: (1..=k).collect(),
            excluded: vec![],
            frame,
        })
    }
}

/// Read a whole file into a `DataFrame` (every column as text for CSV/TSV).
pub fn read_frame(path: &Path, delimiter: Option<u8>) -> Result<DataFrame> {
    let input = |message: String| Error::Input {
        file: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| input(format!("cannot open: {e}")))?;
    if meta.is_dir() {
        return Err(input("is a directory, not a data file".into()));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let df = if ext == "parquet" || ext == "pq" {
        let file = std::fs::File::open(path).map_err(|e| input(format!("cannot open: {e}")))?;
        ParquetReader::new(file)
            .finish()
            .map_err(|e| input(format!("not a readable Parquet file: {e}")))?
    } else {
        if meta.len() == 0 {
            return Err(input(
                "the file is empty (expected a header row and at least one data row)".into(),
            ));
        }
        let sep = delimiter.unwrap_or(if ext == "tsv" || ext == "tab" { b'\t' } else { b',' });
        let bytes = std::fs::read(path).map_err(|e| input(format!("cannot read: {e}")))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            input(format!("line {line}: not valid UTF-8 text (re-save the file as UTF-8)"))
        })?;
        if text.contains('\0') {
            return Err(input("contains NUL bytes: not a text table".into()));
        }
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_parse_options(CsvParseOptions::default().with_separator(sep))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| input(format!("cannot parse as a {} table: {e}", sep_name(sep))))?
    };
    // Excel writes a UTF-8 byte-order mark: drop it from the first column name.
    let mut df = df;
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    if let Some(first) = names.first() {
        if let Some(stripped) = first.strip_prefix('\u{feff}') {
            let stripped = stripped.to_string();
            df.rename(first, stripped.into()).map_err(|e| input(e.to_string()))?;
        }
    }
    Ok(df)
}

fn sep_name(sep: u8) -> String {
    match sep {
        b',' => "comma-separated".into(),
        b'\t' => "tab-separated".into(),
        b';' => "semicolon-separated".into(),
        c => format!("'{}'-separated", c as char),
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

fn data_err(file: &Path, row: usize, column: &str, message: String) -> Error {
    Error::Data {
        file: file.to_path_buf(),
        row: Some(row),
        column: column.to_string(),
        message,
    }
}

/// Parse one count cell: a non-negative integer (written as `12` or `12.0`).
pub fn parse_count(file: &Path, row: usize, column: &str, text: &str) -> Result<f64> {
    let v: f64 = text.parse().map_err(|_| {
        data_err(
            file,
            row,
            column,
            format!("\"{text}\" is not a number (expected a non-negative whole count)"),
        )
    })?;
    check_count(file, row, column, v)?;
    Ok(v)
}

fn check_count(file: &Path, row: usize, column: &str, v: f64) -> Result<()> {
    let fail = |m: String| Err(data_err(file, row, column, m));
    if v.is_nan() {
        return fail("NaN is not a count (expected a non-negative whole count)".into());
    }
    if v.is_infinite() {
        return fail(format!("{v} is not a count (expected a non-negative whole count)"));
    }
    if v < 0.0 {
        return fail(format!("{v} is negative (expected a non-negative whole count)"));
    }
    if v.fract() != 0.0 {
        return fail(format!("{v} is not a whole number (expected a count of patients)"));
    }
    if v > MAX_COUNT {
        return fail(format!("{v} is too large to be represented exactly (at most 2^53)"));
    }
    Ok(())
}

fn check_pair(file: &Path, row: usize, events_col: &str, events: f64, total: f64) -> Result<()> {
    if total == 0.0 {
        return Err(data_err(
            file,
            row,
            events_col,
            "total is 0: a study needs at least one patient".into(),
        )
        .with_column_note("total"));
    }
    if events > total {
        return Err(data_err(
            file,
            row,
            events_col,
            format!("{events} is greater than total ({total})"),
        ));
    }
    Ok(())
}

impl Error {
    fn with_column_note(self, column: &str) -> Error {
        match self {
            Error::Data { file, row, message, .. } => Error::Data {
                file,
                row,
                column: column.to_string(),
                message,
            },
            e => e,
        }
    }
}

/// Load, filter and validate a study table.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Studies> {
    let df = read_frame(path, options.delimiter)?;
    select(df, path, options)
}

/// Filter and validate an already read frame (`path` names it in errors).
pub fn select(df: DataFrame, path: &Path, options: &LoadOptions) -> Result<Studies> {
    if df.height() == 0 {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "no data rows (only a header)".into(),
        });
    }
    check_duplicate_names(&df, path)?;
    let n = df.height();
    // Row selection.
    let mut keep = vec![true; n];
    for (col, value) in &options.filters {
        let vals = column_text(&df, path, col, "--where filter")?;
        for (i, v) in vals.iter().enumerate() {
            if v.as_deref() != Some(value.as_str()) {
                keep[i] = false;
            }
        }
    }
    if !keep.iter().any(|&k| k) {
        let desc: Vec<String> = options.filters.iter().map(|(c, v)| format!("{c}={v}")).collect();
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: format!("no rows match --where {}", desc.join(" --where ")),
        });
    }
    let study = column_text(&df, path, &options.study, "study labels (--study)")?;
    let events = column_text(&df, path, &options.events, "event counts (--events)")?;
    let total = column_text(&df, path, &options.total, "totals (--total)")?;
    let group = match &options.by {
        Some(b) => Some(column_text(&df, path, b, "subgroups (--by)")?),
        None => None,
    };
    let mut out_study = Vec::new();
    let mut out_events = Vec::new();
    let mut out_total = Vec::new();
    let mut out_group = Vec::new();
    let mut rows = Vec::new();
    let mut excluded = Vec::new();
    for i in 0..n {
        if !keep[i] {
            continue;
        }
        let row = i + 1;
        let mut missing = Vec::new();
        if events[i].is_none() {
            missing.push(options.events.as_str());
        }
        if total[i].is_none() {
            missing.push(options.total.as_str());
        }
        if !missing.is_empty() {
            if options.na_drop {
                excluded.push((row, format!("missing {}", missing.join(" and "))));
                keep[i] = false;
                continue;
            }
            return Err(data_err(
                path,
                row,
                missing[0],
                "value is missing (fill it in, or pass --na drop to leave such rows out)".into(),
            ));
        }
        let e = parse_count(path, row, &options.events, events[i].as_deref().unwrap_or_default())?;
        let t = parse_count(path, row, &options.total, total[i].as_deref().unwrap_or_default())?;
        if t == 0.0 {
            return Err(data_err(
                path,
                row,
                &options.total,
                "0 is not a valid total (expected at least one patient)".into(),
            ));
        }
        if e > t {
            return Err(data_err(
                path,
                row,
                &options.events,
                format!("{e} is greater than total ({t})"),
            ));
        }
        if let Some(g) = &group {
            match &g[i] {
                Some(v) => out_group.push(v.clone()),
                None => {
                    return Err(data_err(
                        path,
                        row,
                        options.by.as_deref().unwrap_or_default(),
                        "subgroup is missing".into(),
                    ))
                }
            }
        }
        out_study.push(study[i].clone().unwrap_or_else(|| format!("row {row}")));
        out_events.push(e);
        out_total.push(t);
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "no rows left after leaving out rows with missing counts".into(),
        });
    }
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    let frame = df.filter(&mask).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Studies {
        source: path.to_path_buf(),
        study: out_study,
        events: out_events,
        total: out_total,
        group: group.map(|_| out_group),
        rows,
        excluded,
        frame,
    })
}

fn check_duplicate_names(df: &DataFrame, path: &Path) -> Result<()> {
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    for (i, a) in names.iter().enumerate() {
        if names[..i].contains(a) {
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!("duplicate column name \"{a}\""),
            });
        }
    }
    Ok(())
}
