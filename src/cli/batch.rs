//! `metarepro batch`: pool every analysis of a long table, in parallel, streamed to Parquet/CSV
//! (inputs, fits and output columns: [`crate::batch`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{ModelArgs, NaAction};
use crate::batch::{run_batch, BatchOptions};
use crate::data::Columns;
use crate::error::{Error, Result, EXIT_COMPUTATION};

/// The exit codes of `batch`, shown by `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 success (analyses that could not be pooled have a row with \
converged = false and the message, and their number is reported on standard error); 2 usage error (unknown option or value, or options no analysis \
can be pooled with); 3 input data error (the file, a missing column, a malformed line); 4 no analysis \
could be pooled (the output is still written: its message column says why each failed); 5 the output \
file could not be written; 70 internal error (a bug: please report it). On errors other than 4 no \
output file is written.";

/// Help heading of the 2x2 table columns.
const TABLES: &str = "2x2 tables (columns; metafor escalc names by default)";

#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
// batch fits each subgroup with its own tau^2.
#[command(mut_arg("tau2_common", |a| a.hide(true)))]
pub struct BatchCmd {
    /// Long table, one row per study: .csv, .tsv/.tab or .parquet.
    pub file: PathBuf,
    /// Column with the analysis id (rows of one analysis should be contiguous; see --unsorted).
    #[arg(long)]
    pub analysis: String,
    /// Column with the number of events (proportion measures).
    #[arg(long, default_value = "events")]
    pub events: String,
    /// Column with the number of patients (proportion measures).
    #[arg(long, default_value = "total")]
    pub total: String,
    /// 2x2 tables (OR, RR, RD, PETO, AS): events in group 1 (with --bi or --n1i).
    #[arg(long, default_value = "ai", help_heading = TABLES)]
    pub ai: String,
    /// 2x2 tables: non-events in group 1.
    #[arg(long, default_value = "bi", help_heading = TABLES)]
    pub bi: String,
    /// 2x2 tables: events in group 2.
    #[arg(long, default_value = "ci", help_heading = TABLES)]
    pub ci: String,
    /// 2x2 tables: non-events in group 2.
    #[arg(long, default_value = "di", help_heading = TABLES)]
    pub di: String,
    /// 2x2 tables given as ai, n1i, ci, n2i: size of group 1.
    #[arg(long, default_value = "n1i", help_heading = TABLES)]
    pub n1i: String,
    /// 2x2 tables given as ai, n1i, ci, n2i: size of group 2.
    #[arg(long, default_value = "n2i", help_heading = TABLES)]
    pub n2i: String,
    /// Subgroup column: one more output row per subgroup of each analysis.
    #[arg(long)]
    pub by: Option<String>,
    /// Keep only rows where COL equals VALUE (repeatable; all must hold), e.g. --where outcome=remission;
    /// COL!=VALUE keeps the others, COL=A,B rows with A or B, COL!=A,B rows with neither.
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub filters: Vec<String>,
    /// Leave out the study with this exact label (repeatable) in every analysis it appears in;
    /// the summary counts and lists the rows left out.
    #[arg(long, value_name = "STUDY")]
    pub exclude: Vec<String>,
    /// Column with the study labels (read only with --exclude).
    #[arg(long, default_value = "study")]
    pub study: String,
    /// What to do with a row whose count is missing (empty, NA, N/A or #N/A): fail its analysis
    /// (converged = false, the message says which line), or drop the row (the summary counts and lists it).
    #[arg(long, value_enum, default_value_t = NaAction::Error)]
    pub na: NaAction,
    /// Field delimiter of a text table [default: tab for .tsv/.tab, comma otherwise].
    #[arg(long)]
    pub delimiter: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output file: .parquet (one row group per chunk) or .csv; written atomically.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Analyses pooled per chunk (in parallel) before the chunk is written.
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
    /// Read the whole file and group rows by analysis in memory (rows of an analysis need not be
    /// contiguous; memory then grows with the file).
    #[arg(long)]
    pub unsorted: bool,
    /// No progress bar and no summary line (analyses that could not be pooled are still reported).
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(cmd: &BatchCmd) -> Result<i32> {
    let pool = cmd.model.pool_options()?;
    let delimiter = cmd.delimiter.as_deref().map(crate::data::parse_delimiter).transpose()?;
    let filters = cmd
        .filters
        .iter()
        .map(|f| crate::data::RowFilter::parse(f))
        .collect::<Result<Vec<_>>>()?;
    // The same checks as pool's (trimmed, non-empty labels).
    let exclude = crate::data::LoadSpec {
        exclude: cmd.exclude.clone(),
        ..Default::default()
    }
    .resolve()?
    .exclude;
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(&cmd.output), std::fs::canonicalize(&cmd.file)) {
        if a == b {
            return Err(Error::Usage(format!(
                "--output {} is the input file: refusing to overwrite the data",
                cmd.output.display()
            )));
        }
    }
    let opts = BatchOptions {
        analysis: cmd.analysis.clone(),
        events: cmd.events.clone(),
        total: cmd.total.clone(),
        columns: Columns {
            ai: cmd.ai.clone(),
            bi: cmd.bi.clone(),
            ci: cmd.ci.clone(),
            di: cmd.di.clone(),
            n1i: cmd.n1i.clone(),
            n2i: cmd.n2i.clone(),
            ..Columns::default()
        },
        by: cmd.by.clone(),
        filters,
        exclude,
        study: cmd.study.clone(),
        na_drop: cmd.na == NaAction::Drop,
        delimiter,
        pool,
        chunk: cmd.chunk,
        unsorted: cmd.unsorted,
    };
    let start = Instant::now();
    let bar = if !cmd.quiet && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {bar:40} {bytes}/{total_bytes} ({eta}) {msg}")
        {
            b.set_style(style);
        }
        Some(b)
    } else {
        None
    };
    let summary = run_batch(&cmd.file, &cmd.output, &opts, |read, len| {
        if let Some(b) = &bar {
            b.set_length(len);
            b.set_position(read);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = summary?;
    if !cmd.quiet {
        eprintln!(
            "pooled {} analyses ({} rows, {} not converged or invalid; {} analyses could not be pooled) in {:.3} s -> {}",
            summary.analyses,
            summary.rows,
            summary.failed,
            summary.analyses_failed,
            start.elapsed().as_secs_f64(),
            cmd.output.display()
        );
    }
    let left_out = summary.rows_missing + summary.rows_excluded;
    if !cmd.quiet && left_out > 0 {
        let mut why = Vec::new();
        if summary.rows_missing > 0 {
            why.push(format!("{} with a missing count (--na drop)", summary.rows_missing));
        }
        if summary.rows_excluded > 0 {
            why.push(format!("{} of excluded studies (--exclude)", summary.rows_excluded));
        }
        eprintln!(
            "note: {}: {left_out} row{} left out: {}",
            cmd.file.display(),
            if left_out == 1 { "" } else { "s" },
            why.join(", ")
        );
        for (line, analysis, why) in &summary.left_out {
            eprintln!("  line {line} (analysis \"{analysis}\"): {why}");
        }
        if left_out > summary.left_out.len() as u64 {
            eprintln!("  ... and {} more", left_out - summary.left_out.len() as u64);
        }
    }
    if summary.analyses > 0 && summary.analyses_failed == summary.analyses {
        eprintln!(
            "error: no analysis could be pooled: all {} analyses failed (the message column of {} says why)",
            summary.analyses,
            cmd.output.display()
        );
        return Ok(EXIT_COMPUTATION);
    }
    if summary.analyses_failed > 0 {
        eprintln!(
            "warning: {} of {} analyses could not be pooled (converged = false; the message column of {} says why)",
            summary.analyses_failed,
            summary.analyses,
            cmd.output.display()
        );
    }
    Ok(0)
}
