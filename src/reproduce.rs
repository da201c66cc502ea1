//! Reproducing the shipped analyses (`metarepro reproduce`): every `datasets/*/analysis.toml`
//! describes analyses of its folder's study table; each is pooled with [`model::pool`] and
//! written as `reports/<dataset>/<name>.json` (exactly what `metarepro pool --format json` prints
//! for the same options), `.csv` (as `pool --format csv`) and `.md` (a readable summary), plus a
//! forest plot `figures/<dataset>_<name>.svg` and `.png`. Every `datasets/*/claims.toml` (a
//! paper's printed numbers) is verified with [`crate::verify`] (method search included where the
//! claims have study data) into `reports/<dataset>/verification.{json,md}`.
//!
//! # The `analysis.toml` schema
//!
//! ```toml
//! [dataset]                       # optional
//! title = "RP-ILD treatment outcomes"   # shown in the Markdown reports
//! data = "studies.csv"            # study table, relative to this file's folder [default: studies.csv]
//! source = "..."                  # where the data come from (citation), shown in the reports
//!
//! [labels]                        # optional; what tables and figures call the subgroups
//! cdmards = "cDMARDs"             # code (a value of the `by` column) = label; JSON keeps the codes
//!
//! [[analysis]]                    # one per analysis, in the order they are run
//! name = "remission_by_class"     # required; output file stem: letters, digits, '_', '-', '.'; unique in the file
//! title = "ILD remission by treatment class"   # optional; report heading and plot title
//! note = "..."                    # optional; printed under the heading
//! data = "other.csv"              # optional; overrides [dataset].data
//! where = ["outcome=remission"]   # rows to keep, all must hold (pool --where): COL=VALUE, COL!=VALUE,
//!                                 #   COL=A,B (A or B), COL!=A,B (neither)
//! exclude = ["Smith 2001"]        # studies to leave out, by exact label (pool --exclude); listed in the report
//! by = "treatment_class"          # subgroup column (pool --by)
//! events = "events"               # count columns and study labels (pool --events/--total/--study)
//! total = "total"
//! study = "study"
//! year = "year"                   # optional; the forest plot then sorts studies by this column
//! na = "drop"                     # "error" (default) or "drop" rows with a missing count (pool --na)
//! delimiter = ","                 # optional (pool --delimiter)
//! measure = "PLO"                 # PR, PLN, PLO, PAS, PFT            [default: PLO]
//! method = "REML"                 # EE, FE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM   [default: REML]
//! test = "z"                      # z, t, knha                        [default: z]
//! level = 95                      # percent or fraction               [default: 95]
//! add = 0.5                       # continuity correction [default: 0.5 for PR/PLN/PLO, 0 for PAS/PFT]
//! to = "only0"                    # only0, all, if0all, none          [default: only0]
//! study_ci = "CP"                 # CP, WS, WALD, AC                  [default: CP]
//! pi = "metafor"                  # metafor, z, k-1, k-2              [default: metafor]
//! pft_mean = "harmonic"           # harmonic, geometric, arithmetic   [default: harmonic]
//! tau2_common = false             # one tau^2 across subgroups        [default: false]
//! labels = { triple = "Triple therapy" }   # optional; over [labels] for this analysis (pool --labels)
//!
//! # Two-group and other inputs: the `pool` flags of the same name (docs/comparative.md)
//! measure = "RR"                  # OR, RR, RD, PETO, AS, MD, SMD, SMDH, ROM, IRR, IRD, COR, ZCOR, GEN
//! pooling = "MH"                  # IV, MH, PETO                      [default: IV]
//! ai = "deaths_tofa"              # columns: ai bi ci di n1i n2i m1i sd1i m2i sd2i x1i t1i x2i t2i
//! n1i = "n_tofa"                  #   ri ni yi vi sei est ci_lb ci_ub level_column [default: their own names]
//! ci_level = 95                   # level of published CIs without a level column [default: 95]
//! drop00 = true                   # and vtype, mh_add, mh_drop00, rd_variance, rd_raw_estimate,
//!                                 # cc_target, cc_variance_only: as the flags
//! ```
//!
//! Unknown keys are errors (a misspelt key must not silently fall back to a default). An
//! analysis's keys become the same choices as the `pool` flags of the same names
//! ([`Analysis::load_spec`], [`Analysis::model_spec`]), checked and given their defaults by the
//! same library code ([`data::LoadSpec::resolve`], [`model::ModelSpec::resolve`]), so an analysis
//! means exactly what its `metarepro pool` command line ([`Analysis::pool_args`], printed in the
//! Markdown report) means; `tests/it/reproduce.rs` checks that for every shipped analysis.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::{self, LoadOptions, LoadSpec, Studies};
use crate::error::{Error, Result};
use crate::model::{self, ModelSpec, PoolOptions, PoolResult, Pooled};
use crate::report::{self, fmt_num, fmt_p, json, level_label};

/// File name of an analysis description inside a dataset folder.
pub const ANALYSIS_FILE: &str = "analysis.toml";
/// Default study table of a dataset folder.
pub const DEFAULT_DATA: &str = "studies.csv";

/// The whole `analysis.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisFile {
    #[serde(default)]
    pub dataset: DatasetInfo,
    /// `[labels]`: what tables and figures call the subgroups of every analysis (code → label).
    #[serde(default)]
    pub labels: data::Labels,
    #[serde(default, rename = "analysis")]
    pub analyses: Vec<Analysis>,
}

/// `[dataset]`: what the folder holds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetInfo {
    pub title: Option<String>,
    /// Study table, relative to the folder of `analysis.toml` (default `studies.csv`).
    pub data: Option<String>,
    /// Citation or provenance of the data.
    pub source: Option<String>,
}

fn d_events() -> String {
    "events".into()
}
fn d_total() -> String {
    "total".into()
}
fn d_study() -> String {
    "study".into()
}
fn d_measure() -> String {
    "PLO".into()
}
fn d_method() -> String {
    "REML".into()
}
fn d_test() -> String {
    "z".into()
}
fn d_level() -> f64 {
    95.0
}
fn d_to() -> String {
    "only0".into()
}
fn d_study_ci() -> String {
    "CP".into()
}
fn d_pi() -> String {
    "metafor".into()
}
fn d_pft_mean() -> String {
    "harmonic".into()
}

/// What to do with a row whose count is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Na {
    #[default]
    Error,
    Drop,
}

/// One `[[analysis]]`: the options of one `metarepro pool` run. Defaults are those of `pool`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// Output file stem (unique within the file).
    pub name: String,
    pub title: Option<String>,
    pub note: Option<String>,
    /// Study table relative to the dataset folder; overrides `[dataset].data`.
    pub data: Option<String>,
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    /// Studies to leave out, by their exact label (`pool --exclude`).
    #[serde(default)]
    pub exclude: Vec<String>,
    pub by: Option<String>,
    #[serde(default = "d_events")]
    pub events: String,
    #[serde(default = "d_total")]
    pub total: String,
    #[serde(default = "d_study")]
    pub study: String,
    /// Column of publication years (forest plot sorted by year).
    pub year: Option<String>,
    #[serde(default)]
    pub na: Na,
    pub delimiter: Option<String>,
    #[serde(default = "d_measure")]
    pub measure: String,
    #[serde(default = "d_method")]
    pub method: String,
    #[serde(default = "d_test")]
    pub test: String,
    #[serde(default = "d_level")]
    pub level: f64,
    pub add: Option<f64>,
    #[serde(default = "d_to")]
    pub to: String,
    #[serde(default = "d_study_ci")]
    pub study_ci: String,
    #[serde(default = "d_pi")]
    pub pi: String,
    #[serde(default = "d_pft_mean")]
    pub pft_mean: String,
    #[serde(default)]
    pub tau2_common: bool,
    /// Two-group data: IV, MH or PETO (`--pooling`).
    pub pooling: Option<String>,
    // Two-group and other inputs: the columns, under the names of the `pool` flags (metafor's
    // escalc names; `est`, `ci_lb`, `ci_ub`, `level_column`), e.g. `ai = "deaths_tofa"`.
    pub ai: Option<String>,
    pub bi: Option<String>,
    pub ci: Option<String>,
    pub di: Option<String>,
    pub n1i: Option<String>,
    pub n2i: Option<String>,
    pub m1i: Option<String>,
    pub sd1i: Option<String>,
    pub m2i: Option<String>,
    pub sd2i: Option<String>,
    pub x1i: Option<String>,
    pub t1i: Option<String>,
    pub x2i: Option<String>,
    pub t2i: Option<String>,
    pub ri: Option<String>,
    pub ni: Option<String>,
    pub yi: Option<String>,
    pub vi: Option<String>,
    pub sei: Option<String>,
    pub est: Option<String>,
    pub ci_lb: Option<String>,
    pub ci_ub: Option<String>,
    pub level_column: Option<String>,
    pub drop00: Option<bool>,
    pub vtype: Option<String>,
    pub mh_add: Option<f64>,
    #[serde(default)]
    pub mh_drop00: bool,
    pub rd_variance: Option<String>,
    #[serde(default)]
    pub rd_raw_estimate: bool,
    pub cc_target: Option<String>,
    #[serde(default)]
    pub cc_variance_only: bool,
    /// Level (percent) of published CIs in estimate-with-CI rows without a level column.
    pub ci_level: Option<f64>,
    /// Subgroup labels of this analysis (code → label), over those of `[labels]`
    /// (`pool --labels`; [`read_analysis_file`] merges the two).
    #[serde(default)]
    pub labels: data::Labels,
}

impl Analysis {
    /// The arguments of `metarepro pool` (after the subcommand name, without `--format`) that
    /// run this analysis on `data`.
    pub fn pool_args(&self, data: &Path) -> Vec<String> {
        let mut a = vec![data.display().to_string()];
        let mut opt = |k: &str, v: String| {
            a.push(format!("--{k}"));
            a.push(v);
        };
        for f in &self.filters {
            opt("where", f.clone());
        }
        for e in &self.exclude {
            opt("exclude", e.clone());
        }
        if let Some(by) = &self.by {
            opt("by", by.clone());
            for (code, label) in &self.labels {
                opt("labels", format!("{code}={label}"));
            }
        }
        opt("events", self.events.clone());
        opt("total", self.total.clone());
        opt("study", self.study.clone());
        if self.na == Na::Drop {
            opt("na", "drop".into());
        }
        if let Some(d) = &self.delimiter {
            opt("delimiter", d.clone());
        }
        opt("measure", self.measure.clone());
        opt("method", self.method.clone());
        opt("test", self.test.clone());
        opt("level", format!("{}", self.level));
        if let Some(add) = self.add {
            opt("add", format!("{add}"));
        }
        opt("to", self.to.clone());
        opt("study-ci", self.study_ci.clone());
        opt("pi", self.pi.clone());
        opt("pft-mean", self.pft_mean.clone());
        if self.tau2_common {
            a.push("--tau2-common".into());
        }
        if let Some(p) = &self.pooling {
            a.push("--pooling".into());
            a.push(p.clone());
        }
        let columns = [
            ("ai", &self.ai),
            ("bi", &self.bi),
            ("ci", &self.ci),
            ("di", &self.di),
            ("n1i", &self.n1i),
            ("n2i", &self.n2i),
            ("m1i", &self.m1i),
            ("sd1i", &self.sd1i),
            ("m2i", &self.m2i),
            ("sd2i", &self.sd2i),
            ("x1i", &self.x1i),
            ("t1i", &self.t1i),
            ("x2i", &self.x2i),
            ("t2i", &self.t2i),
            ("ri", &self.ri),
            ("ni", &self.ni),
            ("yi", &self.yi),
            ("vi", &self.vi),
            ("sei", &self.sei),
            ("est", &self.est),
            ("ci-lb", &self.ci_lb),
            ("ci-ub", &self.ci_ub),
            ("level-column", &self.level_column),
        ];
        for (flag, v) in columns {
            if let Some(v) = v {
                a.push(format!("--{flag}"));
                a.push(v.clone());
            }
        }
        let mut opt = |k: &str, v: String| {
            a.push(format!("--{k}"));
            a.push(v);
        };
        if let Some(d) = self.drop00 {
            opt("drop00", d.to_string());
        }
        if let Some(v) = &self.vtype {
            opt("vtype", v.clone());
        }
        if let Some(x) = self.mh_add {
            opt("mh-add", format!("{x}"));
        }
        if let Some(v) = &self.rd_variance {
            opt("rd-variance", v.clone());
        }
        if let Some(v) = &self.cc_target {
            opt("cc-target", v.clone());
        }
        if let Some(x) = self.ci_level {
            opt("ci-level", format!("{x}"));
        }
        if self.mh_drop00 {
            a.push("--mh-drop00".into());
        }
        if self.rd_raw_estimate {
            a.push("--rd-raw-estimate".into());
        }
        if self.cc_variance_only {
            a.push("--cc-variance-only".into());
        }
        a
    }

    /// The data choices of this analysis. Labels apply only with a subgroup column (the
    /// `[labels]` of the file are merged into every analysis, with or without `by`).
    pub fn load_spec(&self) -> LoadSpec {
        let d = data::Columns::default();
        let col = |v: &Option<String>, default: String| v.clone().unwrap_or(default);
        LoadSpec {
            events: self.events.clone(),
            total: self.total.clone(),
            study: self.study.clone(),
            by: self.by.clone(),
            filters: self.filters.clone(),
            exclude: self.exclude.clone(),
            delimiter: self.delimiter.clone(),
            na_drop: self.na == Na::Drop,
            columns: data::Columns {
                ai: col(&self.ai, d.ai),
                bi: col(&self.bi, d.bi),
                ci: col(&self.ci, d.ci),
                di: col(&self.di, d.di),
                n1i: col(&self.n1i, d.n1i),
                n2i: col(&self.n2i, d.n2i),
                m1i: col(&self.m1i, d.m1i),
                sd1i: col(&self.sd1i, d.sd1i),
                m2i: col(&self.m2i, d.m2i),
                sd2i: col(&self.sd2i, d.sd2i),
                x1i: col(&self.x1i, d.x1i),
                t1i: col(&self.t1i, d.t1i),
                x2i: col(&self.x2i, d.x2i),
                t2i: col(&self.t2i, d.t2i),
                ri: col(&self.ri, d.ri),
                ni: col(&self.ni, d.ni),
                yi: col(&self.yi, d.yi),
                vi: col(&self.vi, d.vi),
                sei: col(&self.sei, d.sei),
                est: col(&self.est, d.est),
                ci_lb: col(&self.ci_lb, d.ci_lb),
                ci_ub: col(&self.ci_ub, d.ci_ub),
                level: col(&self.level_column, d.level),
            },
            labels: if self.by.is_some() {
                self.labels.clone()
            } else {
                data::Labels::new()
            },
        }
    }

    /// The model choices of this analysis.
    pub fn model_spec(&self) -> ModelSpec {
        let d = ModelSpec::default();
        ModelSpec {
            measure: self.measure.clone(),
            pooling: self.pooling.clone().unwrap_or(d.pooling),
            drop00: self.drop00,
            vtype: self.vtype.clone().unwrap_or(d.vtype),
            mh_add: self.mh_add.unwrap_or(d.mh_add),
            mh_drop00: self.mh_drop00,
            rd_variance: self.rd_variance.clone().unwrap_or(d.rd_variance),
            rd_raw_estimate: self.rd_raw_estimate,
            cmh_correction: d.cmh_correction,
            cc_target: self.cc_target.clone().unwrap_or(d.cc_target),
            cc_variance_only: self.cc_variance_only,
            method: self.method.clone(),
            test: self.test.clone(),
            level: self.level,
            add: self.add,
            to: self.to.clone(),
            study_ci: self.study_ci.clone(),
            pi: self.pi.clone(),
            pft_mean: self.pft_mean.clone(),
            tau2_common: self.tau2_common,
            nagq: d.nagq,
        }
    }

    /// Load and model options: [`Self::load_spec`] and [`Self::model_spec`], checked (what
    /// `metarepro pool` with [`Self::pool_args`] uses).
    pub fn options(&self) -> Result<(LoadOptions, PoolOptions)> {
        Ok((self.load_spec().resolve()?, self.model_spec().resolve()?))
    }

    /// The level of published CIs of estimate rows (a fraction; 95% without `ci_level`).
    pub fn ci_level(&self) -> Result<f64> {
        data::published_ci_level(self.ci_level.unwrap_or(95.0))
    }
}

/// Whether `name` is usable as a file stem.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// An `analysis.toml` read and checked, with the dataset it belongs to.
#[derive(Debug, Clone)]
pub struct DatasetAnalyses {
    /// Folder name under `datasets/`.
    pub dataset: String,
    /// The dataset folder.
    pub dir: PathBuf,
    /// The `analysis.toml`.
    pub file: PathBuf,
    pub spec: AnalysisFile,
}

impl DatasetAnalyses {
    /// The study table of an analysis.
    pub fn data_path(&self, a: &Analysis) -> PathBuf {
        let rel = a
            .data
            .as_deref()
            .or(self.spec.dataset.data.as_deref())
            .unwrap_or(DEFAULT_DATA);
        clean_join(&self.dir, rel)
    }
}

/// `dir/rel` without a leading `./` when `dir` is `.`.
fn clean_join(dir: &Path, rel: &str) -> PathBuf {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        PathBuf::from(rel)
    } else {
        dir.join(rel)
    }
}

/// Read and check one `analysis.toml`: TOML syntax, known keys, unique valid names, and that
/// every analysis's options parse. Errors name the file (and the analysis).
pub fn read_analysis_file(file: &Path, dataset: &str) -> Result<DatasetAnalyses> {
    let input = |message: String| Error::Input {
        file: file.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|e| input(format!("cannot read: {e}")))?;
    let spec: AnalysisFile = toml::from_str(&text).map_err(|e| input(format!("invalid analysis file: {e}")))?;
    if spec.analyses.is_empty() {
        return Err(input("no [[analysis]] table: nothing to run".into()));
    }
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut spec = spec;
    for a in &mut spec.analyses {
        for (code, label) in &spec.labels {
            a.labels.entry(code.clone()).or_insert_with(|| label.clone());
        }
    }
    let out = DatasetAnalyses {
        dataset: dataset.to_string(),
        dir,
        file: file.to_path_buf(),
        spec,
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in out.spec.analyses.iter().enumerate() {
        if !valid_name(&a.name) {
            return Err(input(format!(
                "analysis {}: name \"{}\" is not a valid file name (letters, digits, '_', '-', '.'; not starting with '.')",
                i + 1,
                a.name
            )));
        }
        if !seen.insert(a.name.clone()) {
            return Err(input(format!("analysis name \"{}\" is used twice", a.name)));
        }
        a.options()
            .and_then(|_| a.ci_level())
            .map_err(|e| input(format!("analysis \"{}\": {e}", a.name)))?;
    }
    Ok(out)
}

/// The dataset folders under `root/datasets`, sorted by name: those with an `analysis.toml` or a
/// `claims.toml` (a folder holding only scripts, such as `datasets/metadat/`, is no dataset).
pub fn dataset_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let base = clean_join(root, "datasets");
    let entries = std::fs::read_dir(&base).map_err(|e| Error::Input {
        file: base.clone(),
        message: format!("cannot list the datasets folder: {e}"),
    })?;
    let mut dirs: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter(|e| e.path().join(ANALYSIS_FILE).is_file() || e.path().join(CLAIMS_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let dir = clean_join(&base, &n);
            (n, dir)
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Every `datasets/*/analysis.toml` under `root` (sorted by dataset), restricted to `only` when
/// not empty. A file that cannot be read or checked is returned as its error, so that the others
/// still run.
pub fn discover(root: &Path, only: &[String]) -> Result<Vec<Discovered>> {
    let dirs = dataset_dirs(root)?;
    for name in only {
        if !dirs.iter().any(|(n, _)| n == name) {
            return Err(Error::Usage(format!(
                "no dataset \"{name}\" under {}; the datasets are: {}",
                clean_join(root, "datasets").display(),
                dirs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(dirs
        .into_iter()
        .filter(|(n, _)| only.is_empty() || only.contains(n))
        .filter_map(|(n, d)| {
            let f = d.join(ANALYSIS_FILE);
            f.is_file().then(|| Discovered {
                analyses: read_analysis_file(&f, &n),
                dataset: n,
            })
        })
        .collect())
}

/// A dataset's `analysis.toml`, read and checked, or why it could not be.
#[derive(Debug)]
pub struct Discovered {
    pub dataset: String,
    pub analyses: Result<DatasetAnalyses>,
}

/// File name of a paper's published numbers inside a dataset folder.
pub const CLAIMS_FILE: &str = "claims.toml";

/// Every `datasets/*/claims.toml` under `root` (sorted by dataset), restricted to `only` when not
/// empty: (dataset, file).
pub fn discover_claims(root: &Path, only: &[String]) -> Result<Vec<(String, PathBuf)>> {
    Ok(dataset_dirs(root)?
        .into_iter()
        .filter(|(n, _)| only.is_empty() || only.contains(n))
        .map(|(n, d)| (n, d.join(CLAIMS_FILE)))
        .filter(|(_, f)| f.is_file())
        .collect())
}

/// A verified claims file.
#[derive(Debug, Clone)]
pub struct Verified {
    pub report: crate::verify::VerifyReport,
    /// Files written, in order.
    pub files: Vec<PathBuf>,
}

impl Verified {
    /// Claims per verdict (`match`, `consistent`, `inconsistent`, ...), in first-seen order.
    pub fn verdict_counts(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for c in &self.report.claims {
            match out.iter_mut().find(|(v, _)| *v == c.verdict.as_str()) {
                Some((_, n)) => *n += 1,
                None => out.push((c.verdict.to_string(), 1)),
            }
        }
        out
    }
}

/// Verify one claims file (with the method search, which only runs where the claims have study
/// data) and write `reports/<dataset>/verification.json` and `.md` under `out`.
pub fn run_verification(dataset: &str, file: &Path, out: &Path) -> Result<Verified> {
    let claims = crate::verify::claims::load(file)?;
    let options = crate::verify::VerifyOptions {
        default_stopping: false,
        search: true,
        progress: false,
    };
    let report = crate::verify::verify(&claims, &options)?;
    let dir = clean_join(out, "reports").join(dataset);
    create_dir(&dir)?;
    let mut files = Vec::new();
    write(
        &dir.join("verification.json"),
        crate::verify::report::json(&report).as_bytes(),
        &mut files,
    )?;
    // The published estimates (and recomputed ones) as a figure beside the Markdown report.
    let fig_dir = clean_join(out, "figures");
    create_dir(&fig_dir)?;
    let fig_name = format!("{dataset}_published");
    let opts = crate::plot::forest::ForestOptions {
        dpi: 150.0,
        ..Default::default()
    };
    let figure = match crate::verify::figure::figure(&report, &opts) {
        Ok(fig) => {
            for ext in ["svg", "png"] {
                let path = fig_dir.join(format!("{fig_name}.{ext}"));
                crate::plot::write_figure(&fig, &path, opts.dpi)?;
                files.push(path);
            }
            Some(format!("../../figures/{fig_name}.png"))
        }
        Err(_) => None,
    };
    write(
        &dir.join("verification.md"),
        crate::verify::report::markdown(&report, figure.as_deref()).as_bytes(),
        &mut files,
    )?;
    Ok(Verified { report, files })
}

/// The files one analysis writes, relative to the output root.
pub fn output_paths(out: &Path, dataset: &str, name: &str) -> OutputPaths {
    let dir = clean_join(out, "reports").join(dataset);
    let fig = clean_join(out, "figures");
    OutputPaths {
        json: dir.join(format!("{name}.json")),
        csv: dir.join(format!("{name}.csv")),
        md: dir.join(format!("{name}.md")),
        svg: fig.join(format!("{dataset}_{name}.svg")),
        png: fig.join(format!("{dataset}_{name}.png")),
    }
}

#[derive(Debug, Clone)]
pub struct OutputPaths {
    pub json: PathBuf,
    pub csv: PathBuf,
    pub md: PathBuf,
    pub svg: PathBuf,
    pub png: PathBuf,
}

/// What to write besides the reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOptions {
    /// Write the forest plots (SVG and PNG).
    pub figures: bool,
    /// PNG resolution.
    pub dpi: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            figures: true,
            dpi: 150.0,
        }
    }
}

/// A successful analysis.
#[derive(Debug, Clone)]
pub struct Done {
    pub result: PoolResult,
    /// Rows left out for a missing count (`na = "drop"`) or excluded by label (`exclude`):
    /// (row, reason).
    pub excluded: Vec<(usize, String)>,
    /// Files written, in order.
    pub files: Vec<PathBuf>,
}

/// One analysis run: `Ok` or the error that stopped it.
#[derive(Debug)]
pub struct Outcome {
    pub dataset: String,
    /// Analysis name (`-` when the analysis file itself failed).
    pub analysis: String,
    pub result: Result<Done>,
}

/// Run one analysis of a dataset and write its outputs under `out`.
pub fn run_analysis(ds: &DatasetAnalyses, a: &Analysis, out: &Path, opts: &RunOptions) -> Result<Done> {
    let data = ds.data_path(a);
    let (load, options) = a.options()?;
    let studies = data::load_for(&data, &load, options.measure.input_kind(), a.ci_level()?)?;
    let mut res = model::pool(&studies, &options).map_err(|e| match e {
        Error::Computation(m) => Error::Computation(format!("{}: {m}", data.display())),
        other => other,
    })?;
    // The dataset's label map covers all its analyses: codes absent from this one are expected.
    res.set_labels(&load.labels);
    let paths = output_paths(out, &ds.dataset, &a.name);
    let mut files = Vec::new();
    let dir = paths.json.parent().map(Path::to_path_buf).unwrap_or_default();
    create_dir(&dir)?;
    write(&paths.json, json::to_json(&res).as_bytes(), &mut files)?;
    write(&paths.csv, report::to_csv(&res).as_bytes(), &mut files)?;
    let labels = excluded_labels(&data, &load, &studies);
    // The figure's options: its order of the studies is also the report's.
    let mut fo = crate::plot::forest::ForestOptions {
        title: Some(a.title.clone().unwrap_or_else(|| a.name.clone())),
        dpi: opts.dpi,
        ..Default::default()
    };
    fo.footnotes
        .extend(crate::plot::forest::excluded_note(&studies.excluded));
    let order_note = match &a.year {
        Some(col) => {
            fo.years = Some(crate::plot::years_from_frame(&studies, col)?);
            fo.sort = crate::plot::forest::Sort::Year;
            format!("Studies in order of year (column `{col}`; file order for ties), as in the figure.")
        }
        None => "Studies in file order, as in the figure.".to_string(),
    };
    let order: Vec<usize> = crate::plot::forest::study_order(&res, &fo)?.concat();
    let md = markdown(ds, a, &studies, &labels, &res, &options, (&order, &order_note));
    write(&paths.md, md.as_bytes(), &mut files)?;
    if opts.figures {
        let fig_dir = paths.svg.parent().map(Path::to_path_buf).unwrap_or_default();
        create_dir(&fig_dir)?;
        for p in [&paths.svg, &paths.png] {
            crate::plot::forest::write(&res, &fo, p)?;
            files.push(p.clone());
        }
    }
    Ok(Done {
        result: res,
        excluded: studies.excluded.clone(),
        files,
    })
}

/// The study labels of the rows left out for a missing count (best effort: `None` when the
/// table cannot be read again).
fn excluded_labels(data: &Path, load: &LoadOptions, studies: &Studies) -> Vec<Option<String>> {
    if studies.excluded.is_empty() {
        return Vec::new();
    }
    let cells = data::read_table(data, load.delimiter)
        .and_then(|t| data::column_text(&t.frame, data, &load.study, "study labels"))
        .unwrap_or_default();
    studies
        .excluded
        .iter()
        .map(|(row, _)| row.checked_sub(1).and_then(|i| cells.get(i)).cloned().flatten())
        .collect()
}

/// "Rows left out (...)": why rows were left out (`what`: the missing values, with
/// `na = "drop"`; studies excluded by label, with `exclude`).
fn left_out_heading(studies: &Studies, what: &str) -> String {
    let by_label = studies
        .excluded
        .iter()
        .filter(|(_, w)| data::is_excluded_by_label(w))
        .count();
    let missing = format!("{what}, `na = \"drop\"`");
    let excluded = "studies excluded by label, `exclude`";
    match (studies.excluded.len() - by_label, by_label) {
        (_, 0) => format!("Rows left out ({missing})"),
        (0, _) => format!("Rows left out ({excluded})"),
        _ => format!("Rows left out ({missing}; {excluded})"),
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Output {
        path: dir.to_path_buf(),
        message: format!("cannot create the folder: {e}"),
    })
}

fn write(path: &Path, bytes: &[u8], files: &mut Vec<PathBuf>) -> Result<()> {
    report::write_atomic(path, bytes)?;
    files.push(path.to_path_buf());
    Ok(())
}

/// Text of `reports/README.md`.
pub const REPORTS_README: &str = "# reports/ (generated)\n\
\n\
Everything in this folder, this README included, is written by `metarepro reproduce` and is\n\
overwritten on every run; do not edit it by hand. To regenerate, from the repository root:\n\
\n\
```sh\n\
cargo run --release -- reproduce\n\
```\n\
\n\
`reproduce` reads every `datasets/<dataset>/analysis.toml` and, for each `[[analysis]]` in it,\n\
writes\n\
\n\
- `reports/<dataset>/<name>.json`: the full result, identical to `metarepro pool --format json`\n\
  with the analysis's options (unrounded; the JSON contract of `src/report/json.rs`);\n\
- `reports/<dataset>/<name>.csv`: one line per fit (overall, then each subgroup), as\n\
  `metarepro pool --format csv`;\n\
- `reports/<dataset>/<name>.md`: a readable summary (pooled proportion with CI and prediction\n\
  interval, heterogeneity and the test for subgroup differences, per subgroup; the studies; the\n\
  equivalent `metarepro pool` command line);\n\
\n\
and the forest plot `figures/<dataset>_<name>.svg` / `.png`. For every\n\
`datasets/<dataset>/claims.toml` (a paper's printed numbers) it writes the verification,\n\
`reports/<dataset>/verification.json` and `.md` (as `metarepro verify --search`; the verdicts and\n\
the claims-file keys are explained in `docs/claims.md`). The numbers in the Markdown files are\n\
rounded for reading; use the JSON or CSV for anything else.\n";

/// A proportion in percent at one decimal, truncated to [0, 100] (the notes of
/// [`report::truncation_notes`] say where).
fn pct(p: f64) -> String {
    fmt_num(100.0 * report::in_unit(p), 1)
}

/// `12.3 [4.5; 30.1]`.
fn prop_ci(est: f64, lb: f64, ub: f64) -> String {
    format!("{} [{}; {}]", pct(est), pct(lb), pct(ub))
}

/// `p = 0.734` / `p < 0.001`.
fn p_eq(p: f64) -> String {
    let t = fmt_p(p, 3);
    match t.strip_prefix('<') {
        Some(rest) => format!("p < {rest}"),
        None => format!("p = {t}"),
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text of the test for subgroup differences.
pub fn subgroup_test_text(res: &PoolResult) -> Option<String> {
    let t = res.subgroup_test.as_ref()?;
    let kind = if t.kind == "common_tau2" {
        "mixed-effects model with common τ²"
    } else if report::subgroup_test_of_random(res) {
        "between subgroups, random-effects estimates"
    } else {
        "between subgroups"
    };
    Some(match t.df2 {
        Some(df2) => format!(
            "Test for subgroup differences ({kind}): F({}, {df2}) = {}, {}",
            t.df,
            fmt_num(t.q, 2),
            p_eq(t.p)
        ),
        None => format!(
            "Test for subgroup differences ({kind}): Q = {}, df = {}, {}",
            fmt_num(t.q, 2),
            t.df,
            p_eq(t.p)
        ),
    })
}

/// A row of the pooled-proportions table. `random`: the fit is a random-effects model (τ² and
/// the PI shown); `single`: the study of a subgroup of one study, shown as its own result.
fn summary_row(o: &mut String, label: &str, f: &Pooled, random: bool, single: Option<&crate::model::StudyRow>) {
    let dash = || "–".to_string();
    let het = f.fit.k > 1;
    let (est, lb, ub) = match single {
        Some(s) => (s.proportion, s.ci_lb, s.ci_ub),
        None => (f.effect.estimate, f.effect.ci_lb, f.effect.ci_ub),
    };
    let pi = if random && single.is_none() && het {
        format!("[{}; {}]", pct(f.effect.pi_lb), pct(f.effect.pi_ub))
    } else {
        dash()
    };
    let _ = writeln!(
        o,
        "| {} | {} | {}/{} | {} | [{}; {}] | {} | {} | {} | {} |",
        md_cell(label),
        f.fit.k,
        fmt_num(f.events, 0),
        fmt_num(f.total, 0),
        pct(est),
        pct(lb),
        pct(ub),
        pi,
        if random && het { fmt_num(f.fit.tau2, 4) } else { dash() },
        if het { fmt_num(f.fit.i2, 1) } else { dash() },
        if het { fmt_p(f.fit.q_p, 3) } else { dash() },
    );
}

/// A shell word, quoted when needed.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=,:+%@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The Markdown report of one analysis.
pub fn markdown(
    ds: &DatasetAnalyses,
    a: &Analysis,
    studies: &Studies,
    excluded_labels: &[Option<String>],
    res: &PoolResult,
    options: &PoolOptions,
    order: (&[usize], &str),
) -> String {
    let mut md = if !res.measure.is_proportion() {
        markdown_comparative(ds, a, studies, res, order)
    } else {
        markdown_proportions(ds, a, studies, excluded_labels, res, options, order)
    };
    md.push_str(&small_study_effects(studies, res, options));
    let warnings = res.convergence_warnings();
    if !warnings.is_empty() {
        // Right under the title, where no reader misses it.
        let at = md.find("\n\n").map(|i| i + 2).unwrap_or(0);
        let block: String = warnings.iter().map(|w| format!("> **Warning.** {w}\n")).collect();
        md.insert_str(at, &format!("{block}\n"));
    }
    md
}

/// Fewer studies than this get no funnel-plot test (Cochrane Handbook, section 13.3.5.4).
pub const MIN_K_SMALL_STUDY_TESTS: usize = 10;

/// The "Small-study effects" section of a report: Egger's test, Begg and Mazumdar's rank
/// correlation and trim-and-fill (with Peters' and Harbord's tests for 2×2 tables) on the overall
/// analysis, as `metarepro bias` computes them with metafor's defaults; below
/// [`MIN_K_SMALL_STUDY_TESTS`] studies, why no test is shown.
fn small_study_effects(studies: &Studies, res: &PoolResult, options: &PoolOptions) -> String {
    use crate::diagnostics::bias::{assess_studies, BiasOptions};
    let mut o = String::from("## Small-study effects\n\n");
    let k = res.overall.fit.k;
    if k < MIN_K_SMALL_STUDY_TESTS {
        let _ = writeln!(
            o,
            "Not assessed: {k} stud{} (fewer than {MIN_K_SMALL_STUDY_TESTS}). With so few studies the \
             funnel-plot tests have too little power to tell asymmetry from chance (Cochrane Handbook, \
             section 13.3.5.4), so no test is shown.",
            if k == 1 { "y" } else { "ies" }
        );
        return o;
    }
    let (a, es) = match assess_studies(studies, options, &BiasOptions::default()) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(o, "Not assessed: {e}.");
            return o;
        }
    };
    let back = crate::effect::BackTransform::with_mean(es.measure, &es.ni, options.pft_mean);
    let lv = level_label(options.level);
    let p = |x: f64| p_eq(x);
    let _ = writeln!(
        o,
        "On all {k} studies, with metafor's defaults (`metarepro bias`; formulas in `docs/bias.md`):\n"
    );
    match &a.egger {
        Ok(t) => {
            let df = t.df.map(|d| format!(", df = {}", fmt_num(d, 0))).unwrap_or_default();
            let _ = writeln!(
                o,
                "- Egger's regression test (predictor: standard error; model: {}, {}-test): {} = {}{df}, {}.",
                options.method,
                options.test,
                t.statistic,
                fmt_num(t.stat, 2),
                p(t.pval)
            );
        }
        Err(e) => {
            let _ = writeln!(o, "- Egger's regression test: not computed ({e}).");
        }
    }
    match &a.begg {
        Ok(t) => {
            let _ = writeln!(
                o,
                "- Begg and Mazumdar's rank correlation: Kendall's tau = {}, {} ({}).",
                fmt_num(t.tau, 3),
                p(t.pval),
                if t.exact { "exact" } else { "normal approximation, ties" }
            );
        }
        Err(e) => {
            let _ = writeln!(o, "- Begg and Mazumdar's rank correlation: not computed ({e}).");
        }
    }
    for (name, t) in [("Peters' test", &a.peters), ("Harbord's test", &a.harbord)] {
        match t {
            Some(Ok(t)) => {
                let _ = writeln!(
                    o,
                    "- {name}: t = {}, df = {}, {}.",
                    fmt_num(t.tval, 2),
                    fmt_num(t.df, 0),
                    p(t.pval)
                );
            }
            Some(Err(e)) => {
                let _ = writeln!(o, "- {name}: not computed ({e}).");
            }
            None => {}
        }
    }
    match &a.trimfill {
        Ok(t) => {
            let c = &t.fit.coefficients[0];
            let (x, y) = (back.apply(c.ci_lb), back.apply(c.ci_ub));
            let (digits, scale) = if options.measure.is_proportion() {
                (1, 100.0)
            } else {
                (2, 1.0)
            };
            let f = |v: f64| fmt_num(scale * v, digits);
            let _ = writeln!(
                o,
                "- Trim-and-fill ({} estimator, missing studies sought on the {} side, {}): {} stud{} imputed; \
                 adjusted estimate {}{} [{lv} CI {}; {}].",
                t.estimator.as_str(),
                t.side.as_str(),
                if t.side_given {
                    "as given"
                } else {
                    "chosen from the data"
                },
                t.k0,
                if t.k0 == 1 { "y" } else { "ies" },
                f(back.apply(c.estimate)),
                if options.measure.is_proportion() { "%" } else { "" },
                f(x.min(y)),
                f(x.max(y)),
            );
        }
        Err(e) => {
            let _ = writeln!(o, "- Trim-and-fill: not computed ({e}).");
        }
    }
    let _ = writeln!(
        o,
        "\nAsymmetry is not proof of publication bias: small-study effects have other causes \
         (heterogeneity, chance, the choice of effect measure)."
    );
    o
}

fn markdown_proportions(
    ds: &DatasetAnalyses,
    a: &Analysis,
    studies: &Studies,
    excluded_labels: &[Option<String>],
    res: &PoolResult,
    options: &PoolOptions,
    (order, order_note): (&[usize], &str),
) -> String {
    let mut o = String::new();
    let lv = level_label(res.level);
    let title = a.title.as_deref().unwrap_or(&a.name);
    let _ = writeln!(o, "# {title}\n");
    let _ = writeln!(
        o,
        "Dataset `{}`{}; analysis `{}` of `datasets/{}/{ANALYSIS_FILE}`. Generated by `metarepro reproduce` (metarepro {}); do not edit.\n",
        ds.dataset,
        ds.spec
            .dataset
            .title
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        a.name,
        ds.dataset,
        env!("CARGO_PKG_VERSION"),
    );
    if let Some(n) = &a.note {
        let _ = writeln!(o, "{}\n", n.trim());
    }
    if let Some(s) = &ds.spec.dataset.source {
        let _ = writeln!(o, "**Data source.** {}\n", s.trim());
    }
    let rel_data = format!(
        "datasets/{}/{}",
        ds.dataset,
        a.data
            .as_deref()
            .or(ds.spec.dataset.data.as_deref())
            .unwrap_or(DEFAULT_DATA)
    );
    let rows = if a.filters.is_empty() {
        "all rows".to_string()
    } else {
        format!(
            "rows where {}",
            a.filters
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    let by =
        a.by.as_deref()
            .map(|b| format!("; subgroups by `{b}`"))
            .unwrap_or_default();
    let rows = if a.exclude.is_empty() {
        rows
    } else {
        format!(
            "{rows}, without the excluded {} {}",
            if a.exclude.len() == 1 { "study" } else { "studies" },
            a.exclude
                .iter()
                .map(|e| format!("\"{}\"", md_cell(e)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = writeln!(o, "**Data.** `{rel_data}`, {rows}{by}.\n");
    let model = if res.method.is_common() {
        "common-effect model".to_string()
    } else {
        format!("random-effects model, τ² by {}", res.method)
    };
    let corr = if res.correction.add != 0.0 && res.correction.to != crate::effect::AddTo::None {
        format!(
            "; continuity correction {} ({}) applied to {} of {} studies",
            fmt_num(res.correction.add, 2),
            res.correction.to.as_str(),
            res.studies.iter().filter(|s| s.corrected).count(),
            res.studies.len()
        )
    } else {
        String::new()
    };
    let tau2 = if res.subgroups.is_empty() {
        ""
    } else if res.method.is_common() {
        "; a common-effect model in each subgroup"
    } else if res.subgroups.iter().all(|g| g.common.is_none()) {
        // (the GLMM: no common-effect fit)
        "; a random-effects model in each subgroup, a separate τ² per subgroup"
    } else if options.tau2_common {
        "; common-effect and random-effects models in each subgroup, one τ² common to all subgroups"
    } else {
        "; common-effect and random-effects models in each subgroup, a separate τ² per subgroup"
    };
    let _ = writeln!(
        o,
        "**Model.** Proportions pooled on the {} scale, {model}, {}-test, {lv} intervals; study CIs {}{corr}{tau2}.\n",
        res.measure,
        res.test,
        res.study_ci.as_str(),
    );
    let mut args = vec!["metarepro".to_string(), "pool".to_string()];
    args.extend(a.pool_args(Path::new(&rel_data)).iter().map(|s| shell_word(s)));
    let _ = writeln!(
        o,
        "Equivalent command:\n\n```sh\n{} --format json\n```\n",
        args.join(" ")
    );

    let _ = writeln!(o, "## Pooled proportions\n");
    let _ = writeln!(
        o,
        "| | k | events/total | proportion % | {lv} CI % | {lv} PI % | τ² | I² % | Q p |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    let random = !res.method.is_common();
    let mut one_study = false;
    for g in &res.subgroups {
        let single = report::single_study(res, g);
        let label = if single.is_some() {
            one_study = true;
            format!("{} ¹", g.display_name())
        } else {
            g.display_name().to_string()
        };
        match (single, random, g.common.as_deref()) {
            // Both models per subgroup, as for all studies: the common-effect one above.
            (None, true, Some(c)) => {
                summary_row(&mut o, &format!("{label}, common effect model"), c, false, None);
                summary_row(&mut o, &label, g, random, None);
            }
            _ => summary_row(&mut o, &label, g, random, single),
        }
    }
    if random {
        if let Some(c) = &res.common {
            summary_row(&mut o, "**overall, common effect model**", c, false, None);
        }
    }
    summary_row(&mut o, "**overall**", &res.overall, random, None);
    let _ = writeln!(o);
    if let Some(t) = subgroup_test_text(res) {
        let _ = writeln!(o, "{t}.\n");
    }
    let both_sub = random
        && res
            .subgroups
            .iter()
            .any(|g| g.common.is_some() && report::single_study(res, g).is_none());
    let main = match (random, both_sub) {
        (true, true) => {
            "The overall row and each pooled subgroup's row are the random-effects model; the common-effect model of the same studies is shown above each"
        }
        (true, false) => "The overall row is the random-effects model; the common-effect model of all studies is shown above it",
        (false, _) => "The overall row is the common-effect model (no τ² and no prediction interval)",
    };
    let _ = writeln!(o, "{main}. τ², I² and Q are on the {} scale.\n", res.measure);
    if one_study {
        let _ = writeln!(
            o,
            "¹ O{}: the row shows the study's own proportion and {} CI (–: not defined).\n",
            &report::ONE_STUDY_NOTE[1..],
            res.study_ci.as_str()
        );
    }
    for n in report::truncation_notes(res, 1, true) {
        let _ = writeln!(o, "Note: {n}.\n");
    }
    if !studies.excluded.is_empty() {
        let _ = writeln!(o, "{}:\n", left_out_heading(studies, "missing count"));
        for (i, (row, why)) in studies.excluded.iter().enumerate() {
            let place = match studies.line_of(*row) {
                Some(l) => format!("row {row} (line {l})"),
                None => format!("row {row}"),
            };
            let label = match excluded_labels.get(i).and_then(|l| l.as_deref()) {
                Some(l) => format!(" ({})", md_cell(l)),
                None => String::new(),
            };
            let _ = writeln!(o, "- {place}{label}: {why}");
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Studies\n");
    let grouped = !res.subgroups.is_empty();
    let weights = if grouped {
        " Weights: within the study's subgroup, and in the overall model (the figure's)."
    } else {
        ""
    };
    let _ = writeln!(o, "{order_note}{weights}\n");
    let blocks: Vec<(Option<&str>, Vec<usize>)> = if !grouped {
        vec![(None, order.to_vec())]
    } else {
        res.subgroups
            .iter()
            .map(|g| {
                let code = g.name.as_deref();
                (
                    Some(g.display_name()),
                    order
                        .iter()
                        .copied()
                        .filter(|&i| res.studies[i].group.as_deref() == code)
                        .collect(),
                )
            })
            .collect()
    };
    for (name, idx) in blocks {
        if let Some(n) = name {
            let _ = writeln!(o, "### {}\n", md_cell(n));
        }
        let wlabel = if name.is_some() {
            "weight in subgroup % | overall weight %"
        } else {
            "weight %"
        };
        let _ = writeln!(
            o,
            "| study | row | events/total | proportion % [{lv} CI] | {wlabel} |\n|---|--:|--:|--:|--:|{}",
            if name.is_some() { "--:|" } else { "" }
        );
        for i in idx {
            let s = &res.studies[i];
            let overall = if name.is_some() {
                format!(" {} |", fmt_num(s.weight_overall, 1))
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "| {} | {} | {}/{} | {} | {} |{overall}",
                md_cell(&s.study),
                s.row,
                fmt_num(s.events, 0),
                fmt_num(s.total, 0),
                prop_ci(s.proportion, s.ci_lb, s.ci_ub),
                fmt_num(s.weight, 1)
            );
        }
        let _ = writeln!(o);
    }
    o
}

/// The Markdown report of a two-group (or other non-proportion) analysis: the conventions in
/// words, both models, and the studies with their arms.
fn markdown_comparative(
    ds: &DatasetAnalyses,
    a: &Analysis,
    studies: &Studies,
    res: &PoolResult,
    (order, order_note): (&[usize], &str),
) -> String {
    let mut o = String::new();
    let lv = level_label(res.level);
    let m = res.measure;
    let title = a.title.as_deref().unwrap_or(&a.name);
    let _ = writeln!(o, "# {title}\n");
    let _ = writeln!(
        o,
        "Dataset `{}`; analysis `{}` of `datasets/{}/{ANALYSIS_FILE}`. Generated by `metarepro reproduce` (metarepro {}); do not edit.\n",
        ds.dataset,
        a.name,
        ds.dataset,
        env!("CARGO_PKG_VERSION"),
    );
    if let Some(n) = &a.note {
        let _ = writeln!(o, "{}\n", n.trim());
    }
    if let Some(s) = &ds.spec.dataset.source {
        let _ = writeln!(o, "**Data source.** {}\n", s.trim());
    }
    let rel_data = format!(
        "datasets/{}/{}",
        ds.dataset,
        a.data
            .as_deref()
            .or(ds.spec.dataset.data.as_deref())
            .unwrap_or(DEFAULT_DATA)
    );
    let _ = writeln!(o, "**Conventions.**\n");
    for c in &res.conventions {
        let _ = writeln!(o, "- {c}");
    }
    let _ = writeln!(o, "- {lv} intervals\n");
    let mut args = vec!["metarepro".to_string(), "pool".to_string()];
    args.extend(a.pool_args(Path::new(&rel_data)).iter().map(|s| shell_word(s)));
    let _ = writeln!(
        o,
        "Equivalent command:\n\n```sh\n{} --format json\n```\n",
        args.join(" ")
    );
    let _ = writeln!(o, "## Pooled {}\n", m.natural_name().to_lowercase());
    let _ = writeln!(
        o,
        "| | model | k | {m} | {lv} CI | {lv} PI | τ² | I² % | Q (df) | Q p |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    let row = |o: &mut String, label: &str, model: &str, f: &Pooled, random: bool| {
        let het = f.fit.k > 1;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | [{}; {}] | {} | {} | {} | {} | {} |",
            md_cell(label),
            model,
            f.fit.k,
            fmt_num(f.effect.estimate, 2),
            fmt_num(f.effect.ci_lb, 2),
            fmt_num(f.effect.ci_ub, 2),
            if random && het {
                format!("[{}; {}]", fmt_num(f.effect.pi_lb, 2), fmt_num(f.effect.pi_ub, 2))
            } else {
                "–".into()
            },
            if random && het {
                fmt_num(f.fit.tau2, 4)
            } else {
                "–".into()
            },
            if het { fmt_num(f.fit.i2, 1) } else { "–".into() },
            if het {
                format!("{} ({})", fmt_num(f.fit.q, 2), f.fit.q_df)
            } else {
                "–".into()
            },
            if het { fmt_p(f.fit.q_p, 3) } else { "–".into() },
        );
    };
    let common_name = match res.pooling {
        crate::model::Pooling::MH => "common effect, M-H",
        crate::model::Pooling::PETO => "common effect, Peto",
        crate::model::Pooling::IV => "common effect, IV",
    };
    let random_name = format!("random effects, {}", res.method);
    for s in &res.subgroups {
        let name = s.display_name();
        let model = if res.method.is_common() {
            common_name
        } else {
            random_name.as_str()
        };
        if s.fit.k == 1 {
            // One study: its own effect and CI (for one study the fit is the study's).
            row(&mut o, &format!("{name} ¹"), "one study", s, false);
        } else {
            // Both models per subgroup, as for all studies: the common-effect one above.
            if let (false, Some(c)) = (res.method.is_common(), s.common.as_deref()) {
                row(&mut o, name, common_name, c, false);
            }
            row(&mut o, name, model, s, !res.method.is_common());
        }
    }
    if let Some(c) = &res.common {
        row(&mut o, "**all studies**", common_name, c, false);
    }
    if !res.method.is_common() {
        row(&mut o, "**all studies**", &random_name, &res.overall, true);
    }
    let _ = writeln!(o);
    if res.subgroups.iter().any(|s| s.fit.k == 1) {
        let _ = writeln!(o, "¹ O{}.\n", &report::ONE_STUDY_NOTE[1..]);
    }
    if let Some(n) = &res.overall.model_note {
        let _ = writeln!(o, "Random effects: {n}.\n");
    }
    if let Some(t) = subgroup_test_text(res) {
        let _ = writeln!(o, "{t}.\n");
    }
    if !studies.excluded.is_empty() {
        let _ = writeln!(o, "{}:\n", left_out_heading(studies, "missing cells"));
        for (row, why) in &studies.excluded {
            let _ = writeln!(o, "- row {row}: {why}");
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "## Studies\n");
    let _ = writeln!(o, "{order_note}\n");
    let _ = writeln!(
        o,
        "| study | row | group 1 | group 2 | {m} [{lv} CI] | {} |\n|---|--:|--:|--:|--:|--:|",
        if res.subgroups.is_empty() {
            "weight %"
        } else {
            "overall weight %"
        }
    );
    for s in order.iter().map(|&i| &res.studies[i]) {
        let (g1, g2) = crate::report::arm_text(s.input.as_ref());
        let eff = if s.dropped {
            "not estimable".to_string()
        } else {
            format!(
                "{} [{}; {}]",
                fmt_num(s.proportion, 2),
                fmt_num(s.ci_lb, 2),
                fmt_num(s.ci_ub, 2)
            )
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            md_cell(&s.study),
            s.row,
            g1,
            g2,
            eff,
            fmt_num(s.weight_overall, 1)
        );
    }
    let _ = writeln!(o);
    o
}

/// Everything `metarepro reproduce` found and did.
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: Vec<Outcome>,
    pub verifications: Vec<VerificationOutcome>,
}

/// One claims file verified: `Ok` or the error that stopped it.
#[derive(Debug)]
pub struct VerificationOutcome {
    pub dataset: String,
    pub result: Result<Verified>,
}

impl Summary {
    /// Analyses and verifications that failed.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_err()).count()
            + self.verifications.iter().filter(|v| v.result.is_err()).count()
    }

    /// Analyses and verifications run.
    pub fn total(&self) -> usize {
        self.outcomes.len() + self.verifications.len()
    }

    /// Every error: (dataset, analysis or `verification`, error).
    pub fn errors(&self) -> Vec<(&str, &str, &Error)> {
        let a = self.outcomes.iter().filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|e| (o.dataset.as_str(), o.analysis.as_str(), e))
        });
        let v = self
            .verifications
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| (o.dataset.as_str(), CLAIMS_FILE, e)));
        a.chain(v).collect()
    }

    /// Exit code: 0 when everything ran (whatever the verdicts of the verification), else that
    /// of the first failure.
    pub fn exit_code(&self) -> i32 {
        self.errors().first().map(|(_, _, e)| e.exit_code()).unwrap_or(0)
    }

    /// The terminal summary: one line per analysis, then the errors in full.
    pub fn table(&self) -> String {
        let head = ["dataset", "analysis", "k", "overall % [95% CI]", "subgroups", "status"];
        let mut rows: Vec<[String; 6]> = Vec::new();
        for o in &self.outcomes {
            match &o.result {
                Ok(d) => {
                    let r = &d.result;
                    let p = &r.overall.effect;
                    let sub = if r.subgroups.is_empty() {
                        "–".to_string()
                    } else {
                        let names: Vec<String> = r
                            .subgroups
                            .iter()
                            .map(|s| format!("{} {}", s.display_name(), pct(s.effect.estimate)))
                            .collect();
                        let test = r
                            .subgroup_test
                            .as_ref()
                            .map(|t| format!("; {}", p_eq(t.p)))
                            .unwrap_or_default();
                        format!("{}{test}", names.join(", "))
                    };
                    rows.push([
                        o.dataset.clone(),
                        o.analysis.clone(),
                        r.overall.fit.k.to_string(),
                        format!(
                            "{} [{}; {}]{}",
                            pct(p.estimate),
                            pct(p.ci_lb),
                            pct(p.ci_ub),
                            if (r.level - 0.95).abs() > 1e-12 {
                                format!(" ({})", level_label(r.level))
                            } else {
                                String::new()
                            }
                        ),
                        sub,
                        "ok".into(),
                    ]);
                }
                Err(_) => rows.push([
                    o.dataset.clone(),
                    o.analysis.clone(),
                    "–".into(),
                    "–".into(),
                    "–".into(),
                    "FAILED".into(),
                ]),
            }
        }
        let mut w = head.map(|h| h.chars().count());
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i].saturating_sub(c.chars().count());
                if i == 2 {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    if i + 1 < cells.len() {
                        s.push_str(&" ".repeat(pad));
                    }
                }
                if i + 1 < cells.len() {
                    s.push_str("  ");
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&head.map(String::from));
        out.push_str(&line(&w.map(|n| "-".repeat(n))));
        for r in &rows {
            out.push_str(&line(r));
        }
        let ok = self.outcomes.iter().filter(|o| o.result.is_ok()).count();
        let _ = writeln!(out, "\n{ok} of {} analyses ran.", self.outcomes.len());
        if !self.verifications.is_empty() {
            out.push('\n');
            out.push_str(&self.verification_table());
        }
        if self.failed() > 0 {
            let _ = writeln!(out, "\nFailed:");
            for (d, what, e) in self.errors() {
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("");
                let _ = writeln!(out, "  {d} / {what}: {first}");
            }
        }
        out
    }

    /// One line per verified claims file: claims, verdicts, flagged checks.
    fn verification_table(&self) -> String {
        let head = ["claims file", "claims", "verdicts", "flags", "status"].map(String::from);
        let mut rows: Vec<[String; 5]> = vec![head];
        for v in &self.verifications {
            let file = format!("{}/{CLAIMS_FILE}", v.dataset);
            rows.push(match &v.result {
                Ok(r) => {
                    let verdicts: Vec<String> = r.verdict_counts().iter().map(|(v, n)| format!("{n} {v}")).collect();
                    let flags: usize = r
                        .report
                        .claims
                        .iter()
                        .map(|c| c.checks.iter().filter(|k| k.status == "flag").count())
                        .sum();
                    [
                        file,
                        r.report.claims.len().to_string(),
                        verdicts.join(", "),
                        flags.to_string(),
                        "ok".into(),
                    ]
                }
                Err(_) => [file, "–".into(), "–".into(), "–".into(), "FAILED".into()],
            });
        }
        let mut w = [0usize; 5];
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for (j, r) in rows.iter().enumerate() {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                let pad = " ".repeat(w[i].saturating_sub(c.chars().count()));
                if i == 1 || i == 3 {
                    line.push_str(&pad);
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&pad);
                }
                line.push_str("  ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if j == 0 {
                let dashes: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
                out.push_str(&dashes.join("  "));
                out.push('\n');
            }
        }
        let ok = self.verifications.iter().filter(|v| v.result.is_ok()).count();
        let _ = writeln!(
            out,
            "\n{ok} of {} claims files verified (reports/<dataset>/verification.md; verdicts are findings, not failures).",
            self.verifications.len()
        );
        out
    }
}

/// Write `reports/README.md` under `out`.
pub fn write_reports_readme(out: &Path) -> Result<()> {
    let dir = clean_join(out, "reports");
    create_dir(&dir)?;
    report::write_atomic(&dir.join("README.md"), REPORTS_README.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<AnalysisFile, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults_are_pools() {
        let f = parse("[[analysis]]\nname = \"a\"\n").unwrap();
        let a = &f.analyses[0];
        let (load, opts) = a.options().unwrap();
        assert_eq!(load, LoadOptions::default());
        assert_eq!(opts, PoolOptions::default());
    }

    #[test]
    fn options_follow_the_file() {
        let f = parse(
            "[[analysis]]\nname = \"a\"\nwhere = [\"outcome=remission\"]\nby = \"g\"\nna = \"drop\"\n\
             measure = \"PFT\"\nmethod = \"DL\"\ntest = \"knha\"\nlevel = 90\n",
        )
        .unwrap();
        let (load, opts) = f.analyses[0].options().unwrap();
        assert_eq!(load.filters, vec![data::RowFilter::equals("outcome", "remission")]);
        assert_eq!(load.by.as_deref(), Some("g"));
        assert!(load.na_drop);
        assert_eq!(opts.measure, crate::effect::Measure::PFT);
        assert_eq!(opts.method, crate::model::Method::DL);
        assert_eq!(opts.test, crate::model::Test::Knha);
        assert!((opts.level - 0.9).abs() < 1e-15);
        // PFT: no correction by default, as metafor.
        assert_eq!(opts.correction.add, 0.0);
    }

    #[test]
    fn unknown_keys_and_values_are_errors() {
        assert!(parse("[[analysis]]\nname = \"a\"\nmesure = \"PLO\"\n").is_err());
        assert!(parse("[[analysis]]\nname = \"a\"\nna = \"skip\"\n").is_err());
        let f = parse("[[analysis]]\nname = \"a\"\nmethod = \"XX\"\n").unwrap();
        let e = f.analyses[0].options().unwrap_err();
        assert!(e.to_string().contains("unknown method"), "{e}");
    }

    #[test]
    fn names_must_be_file_stems() {
        assert!(valid_name("remission_by_class"));
        assert!(valid_name("survival-6m.pft"));
        assert!(!valid_name(""));
        assert!(!valid_name("../x"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(".hidden"));
    }

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(shell_word("outcome=remission"), "outcome=remission");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
