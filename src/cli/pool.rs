//! `metarepro pool`: pool a study table and print or write the result.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::{DataArgs, ModelArgs};
use crate::data;
use crate::error::Result;
use crate::model;
use crate::report::{self, json, table};

#[derive(Debug, Clone, Args)]
pub struct PoolCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format: table (readable, 3 decimals), json (the machine contract, unrounded), csv.
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

pub fn run(cmd: &PoolCmd) -> Result<i32> {
    let load = cmd.data.load_options()?;
    let options = cmd.model.pool_options()?;
    let studies = data::load(&cmd.data.file, &load)?;
    let res = model::pool(&studies, &options)?;
    let mut text = match cmd.format {
        Format::Table => table::render(&res),
        Format::Json => json::to_json(&res),
        Format::Csv => report::to_csv(&res),
    };
    if cmd.format == Format::Table && !studies.excluded.is_empty() {
        text.push_str("\nRows left out (--na drop):\n");
        for (row, why) in &studies.excluded {
            text.push_str(&format!("  row {row} (line {}): {why}\n", row + 1));
        }
    }
    match &cmd.output {
        Some(path) => report::write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    if !studies.excluded.is_empty() && cmd.format != Format::Table {
        for (row, why) in &studies.excluded {
            eprintln!(
                "note: {}: row {row} (line {}) left out: {why}",
                cmd.data.file.display(),
                row + 1
            );
        }
    }
    Ok(0)
}
