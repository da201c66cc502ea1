//! `metarepro bias`: small-study effects and publication bias of a study table (Egger's
//! regression test, Begg's rank correlation, trim-and-fill, fail-safe N; Peters' and Harbord's
//! tests for 2x2 tables), as metafor 3.8.1 computes them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::{DataArgs, ModelArgs};
use super::pool::{write_stdout, EXIT_CODES};
use crate::diagnostics::bias::{assess_studies, BiasOptions};
use crate::effect::BackTransform;
use crate::error::{Error, Result};
use crate::report::bias::{render_table, to_json, BiasContext};
use crate::report::write_atomic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct BiasCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Predictor of Egger's regression test (metafor regtest): sei (standard error), vi, ni
    /// (sample size), ninv (1/ni), sqrtni, sqrtninv (1/sqrt(ni)).
    #[arg(long, default_value = "sei")]
    pub predictor: String,
    /// Model of the regression test: rma (the pooling model, the predictor as moderator; metafor's
    /// default) or lm (weighted least squares, Egger's original test).
    #[arg(long = "egger-model", default_value = "rma", value_name = "rma|lm")]
    pub egger_model: String,
    /// Trim-and-fill estimator of the number of missing studies: L0, R0, Q0.
    #[arg(long, default_value = "L0")]
    pub estimator: String,
    /// Side of the funnel plot where studies are missing: left or right [default: chosen as
    /// metafor does, from the sign of the slope on sqrt(vi)].
    #[arg(long, value_name = "left|right")]
    pub side: Option<String>,
    /// Significance level of Rosenthal's and Rosenberg's fail-safe N.
    #[arg(long = "fsn-alpha", default_value_t = 0.05)]
    pub fsn_alpha: f64,
    /// Orwin's fail-safe N: the mean effect to reduce to [default: half the observed mean].
    #[arg(long = "fsn-target")]
    pub fsn_target: Option<f64>,
    /// Output format: table (readable) or json (the machine contract, unrounded).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

impl BiasCmd {
    pub fn options(&self) -> Result<BiasOptions> {
        Ok(BiasOptions {
            predictor: self.predictor.parse()?,
            model: self.egger_model.parse()?,
            estimator: self.estimator.parse()?,
            side: self.side.as_deref().map(str::parse).transpose()?,
            fsn_alpha: self.fsn_alpha,
            fsn_target: self.fsn_target,
        })
    }
}

pub fn run(cmd: &BiasCmd) -> Result<i32> {
    if cmd.data.by.is_some() {
        return Err(Error::Usage(
            "bias assesses the overall model: filter the rows with --where instead of --by".into(),
        ));
    }
    if cmd.model.tau2_common {
        return Err(Error::Usage(
            "--tau2-common needs --by, which bias does not take".into(),
        ));
    }
    let bias = cmd.options()?;
    let options = cmd.model.pool_options()?;
    if let Some(out) = &cmd.output {
        if std::fs::canonicalize(out)
            .ok()
            .is_some_and(|o| std::fs::canonicalize(&cmd.data.file).ok() == Some(o))
        {
            return Err(Error::Usage(format!(
                "{} is the input file: refusing to overwrite the data",
                out.display()
            )));
        }
    }
    let studies = cmd.data.load_studies(&cmd.data.load_options()?, options.measure)?;
    let (a, es) = assess_studies(&studies, &options, &bias)?;
    let ctx = BiasContext {
        source: studies.source.display().to_string(),
        measure: options.measure,
        method: options.method,
        test: options.test,
        level: options.level,
        back: BackTransform::with_mean(es.measure, &es.ni, options.pft_mean),
    };
    let text = match cmd.format {
        Format::Table => render_table(&a, &ctx),
        Format::Json => to_json(&a, &ctx),
    };
    match &cmd.output {
        Some(p) => write_atomic(p, text.as_bytes())?,
        None => write_stdout(text.as_bytes())?,
    }
    Ok(0)
}
