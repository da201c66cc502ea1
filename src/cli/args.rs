//! Options shared by every command that pools data (`pool`, `forest`, `verify`, `batch`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::data::LoadOptions;
use crate::effect::{AddTo, CiMethod, Correction, Measure, PftMean};
use crate::error::{Error, Result};
use crate::model::{Control, Method, PiType, PoolOptions, Test};

/// Which rows and columns of the file to use.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Study table: .csv, .tsv/.tab or .parquet.
    pub file: PathBuf,
    /// Column with the number of events (e.g. remissions, survivors).
    #[arg(long, default_value = "events")]
    pub events: String,
    /// Column with the number of patients.
    #[arg(long, default_value = "total")]
    pub total: String,
    /// Column with the study labels.
    #[arg(long, default_value = "study")]
    pub study: String,
    /// Column defining subgroups (e.g. treatment_class): one fit per subgroup plus the overall fit.
    #[arg(long)]
    pub by: Option<String>,
    /// Keep only rows where COL equals VALUE (repeatable; all must hold), e.g. --where outcome=remission.
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub filters: Vec<String>,
    /// Field delimiter of a text table, e.g. ';' or '\t' [default: from the extension: tab for .tsv/.tab, comma otherwise].
    /// With a delimiter other than a comma, counts may use a decimal comma (12,0); counts must be whole numbers either way.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// What to do with a row whose count is missing (empty, NA, N/A or #N/A): fail with an error naming it, or drop it (the report lists it).
    #[arg(long, value_enum, default_value_t = NaAction::Error)]
    pub na: NaAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NaAction {
    Error,
    Drop,
}

impl DataArgs {
    pub fn load_options(&self) -> Result<LoadOptions> {
        let filters = self
            .filters
            .iter()
            .map(|f| LoadOptions::parse_filter(f))
            .collect::<Result<Vec<_>>>()?;
        let delimiter = match self.delimiter.as_deref() {
            None => None,
            Some("\\t") | Some("tab") | Some("\t") => Some(b'\t'),
            Some(d) => match d.as_bytes() {
                [b'"' | b'\n' | b'\r'] => {
                    return Err(Error::Usage(format!(
                        "--delimiter cannot be a quote or a line break, got {d:?}"
                    )))
                }
                [c] if c.is_ascii() => Some(*c),
                _ => {
                    return Err(Error::Usage(format!(
                        "--delimiter must be one ASCII character (or '\\t' for tab), got \"{d}\""
                    )))
                }
            },
        };
        Ok(LoadOptions {
            events: self.events.clone(),
            total: self.total.clone(),
            study: self.study.clone(),
            by: self.by.clone(),
            filters,
            delimiter,
            na_drop: self.na == NaAction::Drop,
        })
    }
}

/// The analysis: measure, model, test and intervals.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Effect-size measure (metafor escalc): PR raw, PLN log, PLO logit, PAS arcsine, PFT Freeman-Tukey.
    #[arg(long, default_value = "PLO")]
    pub measure: String,
    /// tau^2 estimator: EE/FE (common-effect), DL, HE, HS, HSk, SJ, ML, REML, EB, PM; or GLMM
    /// (random-intercept logistic model fitted to the counts by maximum likelihood, metafor
    /// rma.glmm; --measure PLO, --test z or t).
    #[arg(long, default_value = "REML")]
    pub method: String,
    /// Test and CI for the pooled estimate: z, t, knha (Hartung-Knapp).
    #[arg(long, default_value = "z")]
    pub test: String,
    /// Confidence level, in percent (95) or as a fraction (0.95).
    #[arg(long, default_value = "95")]
    pub level: f64,
    /// Continuity correction added to events and non-events [default: 0.5 for PR, PLN, PLO; 0 for PAS, PFT, as metafor].
    #[arg(long)]
    pub add: Option<f64>,
    /// Which studies get the correction: only0 (0 or all events), all, if0all, none.
    #[arg(long, default_value = "only0")]
    pub to: String,
    /// Per-study CI on the proportion scale: CP (Clopper-Pearson), WS (Wilson), WALD, AC (Agresti-Coull).
    #[arg(long = "study-ci", default_value = "CP")]
    pub study_ci: String,
    /// Prediction-interval critical value: metafor (z for the z-test, t(k-1) for t/knha), z, k-1, k-2.
    #[arg(long = "pi", default_value = "metafor")]
    pub pi_type: String,
    /// n used to back-transform PFT: harmonic (metafor, meta, Stata), geometric, arithmetic.
    #[arg(long = "pft-mean", default_value = "harmonic")]
    pub pft_mean: String,
    /// Estimate one tau^2 common to all subgroups (mixed-effects model with the subgroup as moderator; QM test).
    #[arg(long = "tau2-common")]
    pub tau2_common: bool,
    /// GLMM: adaptive Gauss-Hermite quadrature points, 1 (Laplace) to 25 (metafor and lme4 use 7).
    #[arg(long = "nagq", default_value_t = crate::model::glmm::DEFAULT_NAGQ)]
    pub nagq: usize,
}

impl ModelArgs {
    pub fn pool_options(&self) -> Result<PoolOptions> {
        let level = if self.level > 1.0 {
            self.level / 100.0
        } else {
            self.level
        };
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::Usage(format!(
                "--level must be between 0 and 100 (percent), got {}",
                self.level
            )));
        }
        let measure = self.measure.parse::<Measure>()?;
        let add = self.add.unwrap_or(Correction::default_for(measure).add);
        if !(add >= 0.0) || !add.is_finite() {
            return Err(Error::Usage(format!("--add must be a non-negative number, got {add}")));
        }
        Ok(PoolOptions {
            measure,
            correction: Correction {
                add,
                to: self.to.parse::<AddTo>()?,
            },
            method: self.method.parse::<Method>()?,
            test: self.test.parse::<Test>()?,
            level,
            pi_type: self.pi_type.parse::<PiType>()?,
            study_ci: self.study_ci.parse::<CiMethod>()?,
            pft_mean: self.pft_mean.parse::<PftMean>()?,
            tau2_common: self.tau2_common,
            control: Control {
                n_agq: self.nagq,
                ..Control::default()
            },
        })
    }
}
