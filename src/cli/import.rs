//! `metarepro import`: RevMan 5 reviews (.rm5) as tables.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Error, Result};
use crate::report::stream::TableFormat;
use crate::verify::revman_table;

#[derive(Debug, Clone, Args)]
pub struct ImportCmd {
    /// A RevMan 5 review (.rm5, or RevMan's analysis-data export .csv), or a directory of them (read
    /// in parallel, in name order).
    pub input: PathBuf,
    /// The study table: one row per study per analysis (.parquet or .csv), ready for pool and batch.
    #[arg(long, short)]
    pub output: PathBuf,
    /// The analysis table: one row per analysis and subgroup with RevMan's stored results, the
    /// recomputation by RevMan's rules, the verdict, REML and Hartung-Knapp (default: OUTPUT's
    /// name with `_analyses` added).
    #[arg(long)]
    pub analyses: Option<PathBuf>,
    /// Table format of both outputs (default: from each file's extension, .parquet or .csv).
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    Parquet,
    Csv,
}

/// `studies.parquet` -> `studies_analyses.parquet`.
fn analyses_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|s| format!(".{}", s.to_string_lossy()))
        .unwrap_or_default();
    out.with_file_name(format!("{stem}_analyses{ext}"))
}

pub fn run(cmd: &ImportCmd) -> Result<i32> {
    let files = revman_table::rm5_files(&cmd.input)?;
    let analyses = cmd.analyses.clone().unwrap_or_else(|| analyses_path(&cmd.output));
    if analyses == cmd.output {
        return Err(Error::Usage(format!(
            "--analyses and --output name the same file ({})",
            analyses.display()
        )));
    }
    let format = cmd.format.map(|f| match f {
        ImportFormat::Parquet => TableFormat::Parquet,
        ImportFormat::Csv => TableFormat::Csv,
    });
    if format.is_none() {
        crate::report::stream::is_parquet_output(&cmd.output)
            .map_err(|e| Error::Usage(format!("{e} (or give --format parquet|csv)")))?;
        crate::report::stream::is_parquet_output(&analyses)
            .map_err(|e| Error::Usage(format!("{e} (or give --format parquet|csv)")))?;
    }
    let pb = (!cmd.quiet && files.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files ({eta}) {msg}") {
            b.set_style(style);
        }
        b
    });
    let s = revman_table::import_as(&files, &cmd.output, &analyses, format, pb.as_ref())?;
    if let Some(b) = pb {
        b.finish_and_clear();
    }
    eprintln!(
        "{} file{} ({} unreadable): {} study rows -> {}; {} analyses ({} reproduced, {} differ) -> {}",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.unreadable,
        s.studies,
        cmd.output.display(),
        s.analyses,
        s.reproduced,
        s.differs,
        analyses.display()
    );
    Ok(if s.files == s.unreadable {
        crate::error::EXIT_INPUT
    } else {
        0
    })
}
