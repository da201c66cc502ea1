//! `metarepro pool`: pool a study table and print or write the result.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::args::{DataArgs, ModelArgs};
use crate::data;
use crate::error::{Error, Result};
use crate::model;
use crate::report::{self, json, table};

#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct PoolCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Decimals of the printed estimates and CIs of the table (proportions in percent: default
    /// 1; other measures: 3), as metafor's and meta's digits; JSON and CSV stay unrounded.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=10))]
    pub digits: Option<u16>,
    /// Output format: table (readable), json (the machine contract, unrounded), csv.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The exit codes, shown by `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 success; 2 usage error (unknown option or value); \
3 input data error (the message names the file, line, row and column); 4 computation error \
(e.g. non-convergence); 5 the output file could not be written; 70 internal error (a bug: please \
report it). On any error no output file is written.";

/// Where a data row is, for messages: `row 4 (line 5)`, or `row 4` when the line is unknown.
fn row_place(studies: &data::Studies, row: usize) -> String {
    match studies.line_of(row) {
        Some(line) => format!("row {row} (line {line})"),
        None => format!("row {row}"),
    }
}

/// The flags that left rows out: `--na drop`, `--exclude` or both.
pub(crate) fn left_out_flags(studies: &data::Studies) -> &'static str {
    let by_label = studies
        .excluded
        .iter()
        .filter(|(_, w)| data::is_excluded_by_label(w))
        .count();
    match (studies.excluded.len() - by_label, by_label) {
        (_, 0) => "--na drop",
        (0, _) => "--exclude",
        _ => "--na drop, --exclude",
    }
}

pub fn run(cmd: &PoolCmd) -> Result<i32> {
    let load = cmd.data.load_options()?;
    let options = cmd.model.pool_options()?;
    if let Some(out) = &cmd.output {
        if same_file(out, &cmd.data.file) {
            return Err(Error::Usage(format!(
                "--output {} is the input file: refusing to overwrite the data",
                out.display()
            )));
        }
    }
    let studies = cmd.data.load_studies(&load, options.measure)?;
    let mut res = model::pool(&studies, &options)?;
    super::note_unused_labels(&cmd.data.file, &res.set_labels(&load.labels));
    let mut text = match cmd.format {
        Format::Table => table::render_with(
            &res,
            &table::TableOptions {
                digits: cmd.digits.map(usize::from),
            },
        ),
        Format::Json => json::to_json(&res),
        Format::Csv => report::to_csv(&res),
    };
    if cmd.format == Format::Table && !studies.excluded.is_empty() {
        text.push_str(&format!("\nRows left out ({}):\n", left_out_flags(&studies)));
        for (row, why) in &studies.excluded {
            text.push_str(&format!("  {}: {why}\n", row_place(&studies, *row)));
        }
    }
    match &cmd.output {
        Some(path) => report::write_atomic(path, text.as_bytes())?,
        None => write_stdout(text.as_bytes())?,
    }
    if !studies.excluded.is_empty() && cmd.format != Format::Table {
        for (row, why) in &studies.excluded {
            let flag = if data::is_excluded_by_label(why) {
                "--exclude"
            } else {
                "--na drop"
            };
            eprintln!(
                "note: {}: {} left out ({flag}): {why}",
                cmd.data.file.display(),
                row_place(&studies, *row)
            );
        }
    }
    Ok(0)
}

/// Write to standard output without panicking (`print!` panics when the reader has gone, e.g.
/// `metarepro pool x.csv | head -1`); a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output {
            path: PathBuf::from("<standard output>"),
            message: e.to_string(),
        }),
    }
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
