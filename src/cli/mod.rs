//! The command line: clap definitions and the commands. `main.rs` only calls [`run`].

pub mod args;
pub mod batch;
pub mod bias;
pub mod forest;
pub mod import;
pub mod metareg;
pub mod pool;
pub mod reproduce;
pub mod sensitivity;
pub mod verify;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Reproduce and verify meta-analyses: proportions, two-group measures (risk and odds ratios,
/// risk differences, mean differences), rates, correlations and published estimates with CIs.
///
/// Exit codes: 0 success; 1 verification found mismatches with --strict; 2 usage error
/// (unknown option or value); 3 input data error (file, row and column are named);
/// 4 computation error (e.g. non-convergence); 5 output could not be written; 70 internal error
/// (a bug: please report it).
#[derive(Debug, Parser)]
#[command(name = "metarepro", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pool studies (proportions, two-group measures, ...) with common- and random-effects models, overall and per subgroup.
    Pool(pool::PoolCmd),
    /// Meta-regression on moderator columns (metafor rma with mods): coefficients, QM, QE, R^2, I^2; bubble plot.
    Metareg(metareg::MetaregCmd),
    /// Draw a forest plot (SVG/PNG): studies, subgroup and overall diamonds, prediction interval.
    Forest(forest::ForestCmd),
    /// Draw a subgroup summary plot (SVG/PNG): one diamond per subgroup, then the overall one.
    SummaryPlot(forest::SummaryPlotCmd),
    /// Draw a funnel plot (SVG/PNG): effect size against standard error, pseudo-CI region.
    Funnel(forest::FunnelCmd),
    /// Run every analysis of datasets/*/analysis.toml: reports (JSON, CSV, Markdown) and forest plots.
    Reproduce(reproduce::ReproduceCmd),
    /// Verify a paper's printed numbers (claims file): recompute, search the method, check the numbers alone.
    Verify(verify::VerifyCmd),
    /// Read RevMan 5 reviews (.rm5, a file or a directory) into a study table and an analysis table (Parquet/CSV), with every analysis re-pooled and checked.
    Import(import::ImportCmd),
    /// Pool every analysis of a long table (one row per study, an analysis-id column) in parallel, streamed to Parquet/CSV.
    Batch(batch::BatchCmd),
    /// Leave-one-out analysis: the model refitted without each study in turn (metafor leave1out).
    Leave1out(sensitivity::Leave1outCmd),
    /// Cumulative meta-analysis: studies added one at a time in a given order (metafor cumul).
    Cumul(sensitivity::CumulCmd),
    /// Influence diagnostics (rstudent, DFFITS, Cook's distance, cov.r, ...) and Baujat plot data (metafor influence, baujat).
    Influence(sensitivity::InfluenceCmd),
    /// GOSH: the model fitted to every subset of the studies (or random subsets), streamed to Parquet/CSV (metafor gosh).
    Gosh(sensitivity::GoshCmd),
    /// Permutation test of the pooled estimate, exact when feasible (metafor permutest).
    Permutest(sensitivity::PermutestCmd),
    /// Parametric bootstrap of tau^2 with a seed.
    Bootstrap(sensitivity::BootstrapCmd),
    /// Small-study effects and publication bias: Egger's and Begg's tests, trim-and-fill, fail-safe N (metafor regtest, ranktest, trimfill, fsn); Peters' and Harbord's tests for 2x2 tables.
    Bias(bias::BiasCmd),
}

/// Parse the arguments and run the command.
pub fn run() -> Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Command::Pool(c) => pool::run(&c),
        Command::Metareg(c) => metareg::run(&c),
        Command::Forest(c) => forest::run_forest(&c),
        Command::SummaryPlot(c) => forest::run_summary(&c),
        Command::Funnel(c) => forest::run_funnel(&c),
        Command::Reproduce(c) => reproduce::run(&c),
        Command::Verify(c) => verify::run(&c),
        Command::Batch(c) => batch::run(&c),
        Command::Import(c) => import::run(&c),
        Command::Leave1out(c) => sensitivity::run_leave1out(&c),
        Command::Cumul(c) => sensitivity::run_cumul(&c),
        Command::Influence(c) => sensitivity::run_influence(&c),
        Command::Gosh(c) => sensitivity::run_gosh(&c),
        Command::Permutest(c) => sensitivity::run_permutest(&c),
        Command::Bootstrap(c) => sensitivity::run_bootstrap(&c),
        Command::Bias(c) => bias::run(&c),
    }
}

/// A note on standard error for `--labels` codes that name no subgroup (most likely misspelt).
fn note_unused_labels(file: &std::path::Path, unused: &[String]) {
    if !unused.is_empty() {
        eprintln!(
            "note: {}: --labels code{} {} name{} no subgroup of the data",
            file.display(),
            if unused.len() == 1 { "" } else { "s" },
            unused.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
            if unused.len() == 1 { "s" } else { "" }
        );
    }
}
