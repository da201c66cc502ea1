//! `metarepro reproduce`: run every analysis described by `datasets/*/analysis.toml` and write
//! the reports and figures (see [`crate::reproduce`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::pool::write_stdout;
use crate::error::{Error, Result};
use crate::reproduce::{self, Outcome, RunOptions, Summary};

#[derive(Debug, Clone, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ReproduceCmd {
    /// Run only these datasets (folder names under DIR/datasets) [default: every dataset with an analysis.toml].
    pub datasets: Vec<String>,
    /// Folder holding datasets/ (the repository root).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Folder to write reports/ and figures/ into [default: the --root folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not draw the forest plots.
    #[arg(long = "no-figures")]
    pub no_figures: bool,
    /// Resolution of the PNG forest plots, in dots per inch.
    #[arg(long, default_value_t = 150.0)]
    pub dpi: f64,
}

const AFTER_HELP: &str = "For each [[analysis]] NAME of datasets/DATASET/analysis.toml it writes \
reports/DATASET/NAME.json (as `pool --format json`), .csv and .md, and figures/DATASET_NAME.svg \
and .png. An analysis that fails does not stop the others; the summary lists it. Exit codes: 0 \
every analysis ran; otherwise the code of the first failure (2 usage, 3 input data or analysis \
file, 4 computation, 5 output).";

pub fn run(cmd: &ReproduceCmd) -> Result<i32> {
    if !(cmd.dpi.is_finite() && cmd.dpi > 0.0) {
        return Err(Error::Usage(format!(
            "--dpi must be a positive number, got {}",
            cmd.dpi
        )));
    }
    let out = cmd.out.clone().unwrap_or_else(|| cmd.root.clone());
    let opts = RunOptions {
        figures: !cmd.no_figures,
        dpi: cmd.dpi,
    };
    let found = reproduce::discover(&cmd.root, &cmd.datasets)?;
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "no {} under {}",
            reproduce::ANALYSIS_FILE,
            cmd.root.join("datasets").display()
        )));
    }
    let total: usize = found
        .iter()
        .map(|f| f.as_ref().map(|d| d.spec.analyses.len()).unwrap_or(1))
        .sum();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    reproduce::write_reports_readme(&out)?;
    let mut summary = Summary::default();
    for entry in found {
        match entry {
            Err((dataset, e)) => {
                bar.inc(1);
                summary.outcomes.push(Outcome {
                    dataset,
                    analysis: "-".into(),
                    result: Err(e),
                });
            }
            Ok(ds) => {
                for a in &ds.spec.analyses {
                    bar.set_message(format!("{}/{}", ds.dataset, a.name));
                    let result = reproduce::run_analysis(&ds, a, &out, &opts);
                    bar.inc(1);
                    summary.outcomes.push(Outcome {
                        dataset: ds.dataset.clone(),
                        analysis: a.name.clone(),
                        result,
                    });
                }
            }
        }
    }
    bar.finish_and_clear();
    write_stdout(summary.table().as_bytes())?;
    for o in &summary.outcomes {
        if let Err(e) = &o.result {
            eprintln!("error: {} / {}: {e}", o.dataset, o.analysis);
        }
    }
    if summary.failed() > 0 {
        eprintln!(
            "error: {} of {} analyses failed",
            summary.failed(),
            summary.outcomes.len()
        );
    }
    Ok(summary.exit_code())
}
