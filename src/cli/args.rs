//! Options shared by every command that pools data (`pool`, `forest`, `verify`, `batch`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::data::{Columns, LoadOptions, LoadSpec};
use crate::effect::Measure;
use crate::error::{Error, Result};
use crate::model::{ModelSpec, PoolOptions};

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
    /// Keep only rows where COL equals VALUE (repeatable; all must hold), e.g. --where outcome=remission;
    /// COL!=VALUE keeps the others, COL=A,B rows with A or B, COL!=A,B rows with neither.
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub filters: Vec<String>,
    /// Leave out the study with this exact label (repeatable), e.g. --exclude "Smith 2001"; the
    /// report lists it with the rows left out.
    #[arg(long, value_name = "STUDY")]
    pub exclude: Vec<String>,
    /// Field delimiter of a text table, e.g. ';' or '\t' [default: from the extension: tab for .tsv/.tab, comma otherwise].
    /// With a delimiter other than a comma, counts may use a decimal comma (12,0); counts must be whole numbers either way.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// What to do with a row whose count is missing (empty, NA, N/A or #N/A): fail with an error naming it, or drop it (the report lists it).
    #[arg(long, value_enum, default_value_t = NaAction::Error)]
    pub na: NaAction,
    /// What tables and figures call a subgroup (a value of --by): CODE=LABEL, repeatable, e.g.
    /// --labels cdmards=cDMARDs --labels "plasma_exchange=Plasma exchange"; or a .toml file of
    /// CODE = "LABEL" lines. JSON and CSV output keep the codes.
    #[arg(long = "labels", value_name = "CODE=LABEL|FILE.toml")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// Columns of two-group and other inputs (metafor escalc's argument names by default).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Two-group and other inputs (columns; metafor escalc names by default)")]
pub struct ColumnArgs {
    /// 2x2 tables: events in group 1 (with --bi or --n1i).
    #[arg(long, default_value = "ai")]
    pub ai: String,
    /// 2x2 tables: non-events in group 1.
    #[arg(long, default_value = "bi")]
    pub bi: String,
    /// 2x2 tables: events in group 2.
    #[arg(long, default_value = "ci")]
    pub ci: String,
    /// 2x2 tables: non-events in group 2.
    #[arg(long, default_value = "di")]
    pub di: String,
    /// Size of group 1 (2x2 tables with ai, ci, n2i; means).
    #[arg(long, default_value = "n1i")]
    pub n1i: String,
    /// Size of group 2.
    #[arg(long, default_value = "n2i")]
    pub n2i: String,
    /// Means: mean of group 1.
    #[arg(long, default_value = "m1i")]
    pub m1i: String,
    /// Means: SD of group 1.
    #[arg(long, default_value = "sd1i")]
    pub sd1i: String,
    /// Means: mean of group 2.
    #[arg(long, default_value = "m2i")]
    pub m2i: String,
    /// Means: SD of group 2.
    #[arg(long, default_value = "sd2i")]
    pub sd2i: String,
    /// Rates: events in group 1.
    #[arg(long, default_value = "x1i")]
    pub x1i: String,
    /// Rates: person-time in group 1.
    #[arg(long, default_value = "t1i")]
    pub t1i: String,
    /// Rates: events in group 2.
    #[arg(long, default_value = "x2i")]
    pub x2i: String,
    /// Rates: person-time in group 2.
    #[arg(long, default_value = "t2i")]
    pub t2i: String,
    /// Correlations: the coefficient.
    #[arg(long, default_value = "ri")]
    pub ri: String,
    /// Correlations: the sample size.
    #[arg(long, default_value = "ni")]
    pub ni: String,
    /// Generic (GEN): the effect size on the analysis scale.
    #[arg(long, default_value = "yi")]
    pub yi: String,
    /// Generic: its sampling variance (or give --sei).
    #[arg(long, default_value = "vi")]
    pub vi: String,
    /// Generic: its standard error.
    #[arg(long, default_value = "sei")]
    pub sei: String,
    /// A published estimate on the natural scale (e.g. an OR, not its log), for rows without data.
    #[arg(long, default_value = "est")]
    pub est: String,
    /// Lower bound of the published estimate's CI (natural scale).
    #[arg(long = "ci-lb", default_value = "ci_lb")]
    pub ci_lb: String,
    /// Upper bound of the published estimate's CI (natural scale).
    #[arg(long = "ci-ub", default_value = "ci_ub")]
    pub ci_ub: String,
    /// Column with each published CI's level (e.g. 95); without it, --ci-level.
    #[arg(long = "level-column", default_value = "level")]
    pub level_column: String,
    /// Level of the published CIs when the table has no level column, in percent.
    #[arg(long = "ci-level", default_value = "95")]
    pub ci_level: f64,
}

impl ColumnArgs {
    pub fn columns(&self) -> Columns {
        Columns {
            ai: self.ai.clone(),
            bi: self.bi.clone(),
            ci: self.ci.clone(),
            di: self.di.clone(),
            n1i: self.n1i.clone(),
            n2i: self.n2i.clone(),
            m1i: self.m1i.clone(),
            sd1i: self.sd1i.clone(),
            m2i: self.m2i.clone(),
            sd2i: self.sd2i.clone(),
            x1i: self.x1i.clone(),
            t1i: self.t1i.clone(),
            x2i: self.x2i.clone(),
            t2i: self.t2i.clone(),
            ri: self.ri.clone(),
            ni: self.ni.clone(),
            yi: self.yi.clone(),
            vi: self.vi.clone(),
            sei: self.sei.clone(),
            est: self.est.clone(),
            ci_lb: self.ci_lb.clone(),
            ci_ub: self.ci_ub.clone(),
            level: self.level_column.clone(),
        }
    }

    /// The level of published CIs, as a fraction.
    pub fn ci_level(&self) -> Result<f64> {
        crate::data::published_ci_level(self.ci_level)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NaAction {
    Error,
    Drop,
}

impl DataArgs {
    /// The study table of `file`, read with `load` (from [`Self::load_options`]) as the input
    /// kind of `measure` needs, estimate-with-CI rows at the `--ci-level`.
    pub fn load_studies(&self, load: &LoadOptions, measure: Measure) -> Result<crate::data::Studies> {
        crate::data::load_for(&self.file, load, measure.input_kind(), self.columns.ci_level()?)
    }

    /// The data choices of the flags (`--labels` values read).
    pub fn spec(&self) -> Result<LoadSpec> {
        Ok(LoadSpec {
            events: self.events.clone(),
            total: self.total.clone(),
            study: self.study.clone(),
            by: self.by.clone(),
            filters: self.filters.clone(),
            exclude: self.exclude.clone(),
            delimiter: self.delimiter.clone(),
            na_drop: self.na == NaAction::Drop,
            columns: self.columns.columns(),
            labels: crate::data::parse_labels(&self.labels)?,
        })
    }

    pub fn load_options(&self) -> Result<LoadOptions> {
        let spec = self.spec()?;
        if !spec.labels.is_empty() && spec.by.is_none() {
            // The library says this in words; here the flags can be named.
            return Err(Error::Usage(
                "--labels names subgroups: give the subgroup column with --by".into(),
            ));
        }
        spec.resolve()
    }
}

/// The analysis: measure, model, test and intervals.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Effect-size measure (metafor escalc). Proportions (events/total): PR raw, PLN log, PLO logit,
    /// PAS arcsine, PFT Freeman-Tukey. 2x2 tables: OR, RR, RD, PETO, AS. Means: MD, SMD (Hedges' g),
    /// SMDH, ROM. Rates: IRR, IRD. Correlations: COR, ZCOR. GEN: yi with vi or sei. HR: hazard ratios
    /// (est, ci_lb, ci_ub, or yi = log HR with vi or sei; inverse variance only).
    #[arg(long, default_value = "PLO")]
    pub measure: String,
    /// How studies are pooled: IV (inverse variance, metafor rma), MH (Mantel-Haenszel: OR, RR, RD,
    /// IRR, IRD; metafor rma.mh), PETO (Peto's one-step OR; metafor rma.peto). With MH or PETO a
    /// random-effects --method adds an inverse-variance random-effects pool; with DL, tau^2 comes
    /// from Q around the M-H estimate (RevMan's "M-H, random").
    #[arg(long, default_value = "IV")]
    pub pooling: String,
    /// Two-group measures: give tables with no events (or only events) in both groups no effect
    /// size (metafor drop00) [default: off; on with --pooling MH or PETO, as metafor rma.mh].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub drop00: Option<bool>,
    /// Sampling variances (metafor vtype): LS (default), UB (SMD: meta's exact form; RD: n-1),
    /// LS2 (SMD), HO (MD, ROM: pooled SD), RevMan (SMD: approximate J, g^2/(2(N-3.94))), Cohen (SMD:
    /// Cohen's d, no small-sample correction, 1/n1+1/n2+d^2/(2N)).
    #[arg(long, default_value = "LS")]
    pub vtype: String,
    /// M-H: continuity correction added inside the M-H sums to tables with a zero cell (RevMan 5,
    /// meta; metafor: 0).
    #[arg(long = "mh-add", default_value_t = 0.0)]
    pub mh_add: f64,
    /// M-H: leave tables with no events (or only events) in both groups out of the M-H sums, so
    /// that --mh-add does not bring them in (RevMan 5, meta; metafor's second drop00 element,
    /// default: kept in).
    #[arg(long = "mh-drop00")]
    pub mh_drop00: bool,
    /// M-H risk difference variance: SGR (Sato-Greenland-Robins, metafor) or GR (Greenland-Robins,
    /// RevMan, meta, Stata).
    #[arg(long = "rd-variance", default_value = "SGR")]
    pub rd_variance: String,
    /// M-H risk difference: estimate and weights from the raw counts, only the variance from the
    /// corrected cells (RevMan 5).
    #[arg(long = "rd-raw-estimate")]
    pub rd_raw_estimate: bool,
    /// M-H: no continuity correction in the CMH test (metafor correct = FALSE).
    #[arg(long = "no-cmh-correction")]
    pub no_cmh_correction: bool,
    /// 2x2 tables: which cells the continuity correction changes: all-cells (metafor, RevMan,
    /// Stata), events-and-n (meta's RR: events and group sizes), tacc (treatment-arm correction).
    #[arg(long = "cc-target", default_value = "all-cells")]
    pub cc_target: String,
    /// 2x2 tables: compute yi from the raw counts and only vi from the corrected cells (meta's and
    /// RevMan's RD; metafor addyi = FALSE).
    #[arg(long = "cc-variance-only")]
    pub cc_variance_only: bool,
    /// tau^2 estimator: EE/FE (common-effect), DL, HE, HS, HSk, SJ, ML, REML, EB, PM; or GLMM
    /// (logistic model fitted to the counts by maximum likelihood, metafor rma.glmm; --test z or
    /// t): --measure PLO for events/total (random intercept), --measure OR for 2x2 tables (fixed
    /// study effects and a random treatment effect, model UM.FS).
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
    /// The model choices of the flags.
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            measure: self.measure.clone(),
            pooling: self.pooling.clone(),
            drop00: self.drop00,
            vtype: self.vtype.clone(),
            mh_add: self.mh_add,
            mh_drop00: self.mh_drop00,
            rd_variance: self.rd_variance.clone(),
            rd_raw_estimate: self.rd_raw_estimate,
            cmh_correction: !self.no_cmh_correction,
            cc_target: self.cc_target.clone(),
            cc_variance_only: self.cc_variance_only,
            method: self.method.clone(),
            test: self.test.clone(),
            level: self.level,
            add: self.add,
            to: self.to.clone(),
            study_ci: self.study_ci.clone(),
            pi: self.pi_type.clone(),
            pft_mean: self.pft_mean.clone(),
            tau2_common: self.tau2_common,
            nagq: self.nagq,
        }
    }

    pub fn pool_options(&self) -> Result<PoolOptions> {
        self.spec().resolve()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    #[command(no_binary_name = true)]
    struct Line {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        model: ModelArgs,
    }

    /// The flags' defaults are the library's: no flag means the default choice.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let line = Line::try_parse_from(["x.csv"]).unwrap();
        assert_eq!(line.data.spec().unwrap(), LoadSpec::default());
        assert_eq!(line.model.spec(), ModelSpec::default());
        assert_eq!(line.data.columns.ci_level().unwrap(), 0.95);
    }

    /// The CLI names its flags where the library speaks of the choice.
    #[test]
    fn labels_without_by_name_the_flags() {
        let line = Line::try_parse_from(["x.csv", "--labels", "a=Alpha"]).unwrap();
        let e = line.data.load_options().unwrap_err().to_string();
        assert!(e.contains("--labels names subgroups") && e.contains("--by"), "{e}");
    }
}
