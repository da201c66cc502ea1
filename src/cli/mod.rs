//! The command line: clap definitions and the commands. `main.rs` only calls [`run`].

pub mod args;
pub mod forest;
pub mod pool;
pub mod reproduce;
pub mod verify;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Reproduce and verify meta-analyses of proportions.
///
/// Exit codes: 0 success; 1 verification found mismatches with --strict; 2 usage error
/// (unknown option or value); 3 input data error (file, row and column are named);
/// 4 computation error (e.g. non-convergence); 5 output could not be written.
#[derive(Debug, Parser)]
#[command(name = "metarepro", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pool proportions with common- and random-effects models, overall and per subgroup.
    Pool(pool::PoolCmd),
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
}

/// Parse the arguments and run the command.
pub fn run() -> Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Command::Pool(c) => pool::run(&c),
        Command::Forest(c) => forest::run_forest(&c),
        Command::SummaryPlot(c) => forest::run_summary(&c),
        Command::Funnel(c) => forest::run_funnel(&c),
        Command::Reproduce(c) => reproduce::run(&c),
        Command::Verify(c) => verify::run(&c),
    }
}
