//! `metarepro reproduce`: run every analysis described by `datasets/*/analysis.toml` and write
//! the reports and figures (see [`crate::reproduce`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::pool::write_stdout;
use crate::error::{Error, Result};
use crate::reproduce::{self, Outcome, RunOptions, Summary, VerificationOutcome};

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
    /// Do not verify the papers' published numbers (datasets/*/claims.toml).
    #[arg(long = "no-verify")]
    pub no_verify: bool,
    /// Resolution of the PNG forest plots, in dots per inch.
    #[arg(long, default_value_t = 150.0)]
    pub dpi: f64,
}

const AFTER_HELP: &str = "For each [[analysis]] NAME of datasets/DATASET/analysis.toml it writes \
reports/DATASET/NAME.json (as `pool --format json`), .csv and .md, and figures/DATASET_NAME.svg \
and .png; for each datasets/DATASET/claims.toml it writes reports/DATASET/verification.json and \
.md (as `verify --search`). An analysis or verification that fails does not stop the others; the \
summary lists it. Exit codes: 0 everything ran (whatever the verification verdicts); otherwise \
the code of the first failure (2 usage, 3 input data, analysis or claims file, 4 computation, 5 \
output).";

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
    let claims = if cmd.no_verify {
        Vec::new()
    } else {
        reproduce::discover_claims(&cmd.root, &cmd.datasets)?
    };
    if found.is_empty() && claims.is_empty() {
        return Err(Error::Usage(format!(
            "no {} or {} under {}",
            reproduce::ANALYSIS_FILE,
            reproduce::CLAIMS_FILE,
            cmd.root.join("datasets").display()
        )));
    }
    let total: usize = found
        .iter()
        .map(|f| f.analyses.as_ref().map(|d| d.spec.analyses.len()).unwrap_or(1))
        .sum::<usize>()
        + claims.len();
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
        let dataset = entry.dataset;
        match entry.analyses {
            Err(e) => {
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
    for (dataset, file) in claims {
        bar.set_message(format!("{dataset}/{}", reproduce::CLAIMS_FILE));
        let result = reproduce::run_verification(&dataset, &file, &out);
        bar.inc(1);
        summary.verifications.push(VerificationOutcome { dataset, result });
    }
    bar.finish_and_clear();
    write_stdout(summary.table().as_bytes())?;
    for (dataset, what, e) in summary.errors() {
        eprintln!("error: {dataset} / {what}: {e}");
    }
    if summary.failed() > 0 {
        eprintln!("error: {} of {} runs failed", summary.failed(), summary.total());
    }
    Ok(summary.exit_code())
}
