//! Sensitivity and influence subcommands: `leave1out`, `cumul`, `influence` (with Baujat data),
//! `gosh`, `permutest` and `bootstrap`. Each reads a study table like `pool`, fits the overall
//! model, and prints a table (3 decimals), JSON (unrounded, `null` for missing) or CSV.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::json;

use super::args::{DataArgs, ModelArgs};
use super::pool::write_stdout;
use crate::batch::TableWriter;
use crate::data::Studies;
use crate::diagnostics::{self, GoshOptions, GoshRow};
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::FitRow;
use crate::model::{PoolOptions, RmaOptions};
use crate::report::{csv_field, fmt_num, fmt_prop, write_atomic};

/// `--method` of the commands that fit rma's model to study effect sizes (not the GLMM).
pub const METHOD_HELP: &str = "tau^2 estimator: EE/FE (common-effect), DL, HE, HS, HSk, SJ, ML, REML, EB, PM \
(the GLMM is fitted by pool, forest and batch only)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Data, model and output options shared by the sensitivity commands. They analyse the overall
/// model of a table of study effect sizes: no subgroups (nor their labels or a common tau^2), no
/// GLMM; `--help` shows only what they take.
#[derive(Debug, Clone, Args)]
#[command(
    mut_arg("by", |a| a.hide(true)),
    mut_arg("labels", |a| a.hide(true)),
    mut_arg("tau2_common", |a| a.hide(true)),
    mut_arg("nagq", |a| a.hide(true)),
    mut_arg("method", |a| a.help(METHOD_HELP).long_help(None::<&str>)),
)]
pub struct Common {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format: table (readable), json (unrounded), csv (unrounded).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Decimals of the printed estimates and CIs of the table (proportions in percent: default
    /// 1, as pool and the forest plots; other measures: 3), as metafor's and meta's digits.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=10))]
    pub digits: Option<u16>,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct Leave1outCmd {
    #[command(flatten)]
    pub common: Common,
    /// Also draw the leave-one-out forest plot (SVG or PNG, from the extension).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct CumulCmd {
    #[command(flatten)]
    pub common: Common,
    /// Column to add the studies by (e.g. year; the leading digits of each cell are used);
    /// default: the order of the file.
    #[arg(long)]
    pub order: Option<String>,
    /// Add the studies in decreasing order of --order.
    #[arg(long)]
    pub decreasing: bool,
    /// Also draw the cumulative forest plot (SVG or PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct InfluenceCmd {
    #[command(flatten)]
    pub common: Common,
    /// Also draw the Baujat plot (SVG or PNG).
    #[arg(long)]
    pub baujat: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct GoshCmd {
    #[command(flatten)]
    pub common: Common,
    /// Every subset's fit, streamed to this file: .parquet (one row group per chunk) or .csv.
    #[arg(long)]
    pub subsets_output: Option<PathBuf>,
    /// Fit every subset when there are at most this many (2^k - 1), otherwise this many random ones.
    #[arg(long, default_value_t = 1 << 20)]
    pub subsets: u64,
    /// Seed of the random subsets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Subsets per chunk (memory is flat in the number of subsets).
    #[arg(long, default_value_t = 1 << 16)]
    pub chunk: usize,
    /// Draw the GOSH plot (density of estimate against I^2; SVG or PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct PermutestCmd {
    #[command(flatten)]
    pub common: Common,
    /// Random sign patterns; the test is exact (all 2^k patterns) when 2^k is at most this.
    #[arg(long, default_value_t = 1000)]
    pub iter: u64,
    /// Exact test whatever --iter (up to k = 40).
    #[arg(long)]
    pub exact: bool,
    /// Seed of the random sign patterns (the same seed gives the same p-value; unused by the exact test).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = super::pool::EXIT_CODES)]
pub struct BootstrapCmd {
    #[command(flatten)]
    pub common: Common,
    /// Bootstrap samples drawn from the fitted random-effects model.
    #[arg(long, default_value_t = 1000)]
    pub replicates: usize,
    /// Seed of the random draws (the same seed gives the same replicates).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The loaded data and its effect sizes.
struct Prepared {
    studies: Studies,
    es: EffectSizes,
    options: PoolOptions,
}

impl Prepared {
    fn labels(&self) -> &[String] {
        &self.studies.study
    }

    fn rma(&self) -> RmaOptions {
        self.options.rma_options()
    }
}

fn prepare(c: &Common) -> Result<Prepared> {
    if c.data.by.is_some() {
        return Err(Error::Usage(
            "sensitivity analyses apply to the overall model: filter the rows with --where instead of --by".into(),
        ));
    }
    if c.model.tau2_common {
        return Err(Error::Usage(
            "--tau2-common needs --by, which sensitivity analyses do not take".into(),
        ));
    }
    let options = c.model.pool_options()?;
    if options.method == crate::model::Method::GLMM {
        return Err(Error::Usage(
            "sensitivity analyses refit rma's model to the study effect sizes: use a tau^2 estimator \
             (EE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM), not GLMM"
                .into(),
        ));
    }
    let studies = c.data.load_studies(&c.data.load_options()?, options.measure)?;
    let es = crate::model::subgroup::checked_effect_sizes(&studies, &options)?;
    Ok(Prepared { studies, es, options })
}

fn emit(c: &Common, text: String) -> Result<i32> {
    match &c.output {
        Some(p) => write_atomic(p, text.as_bytes())?,
        None => write_stdout(text.as_bytes())?,
    }
    Ok(0)
}

fn header(p: &Prepared, analysis: &str) -> serde_json::Value {
    json!({
        "analysis": analysis,
        "source": p.studies.source.display().to_string(),
        "measure": p.options.measure,
        "method": p.options.method,
        "test": p.options.test,
        "level": p.options.level,
        "k": p.es.k(),
        "studies": p.labels(),
    })
}

fn to_json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn with<T: Serialize>(mut base: serde_json::Value, key: &str, value: &T) -> serde_json::Value {
    if let (Some(m), Ok(v)) = (base.as_object_mut(), serde_json::to_value(value)) {
        m.insert(key.to_string(), v);
    }
    base
}

/// Pad columns of a text table (first column left-aligned, the others right-aligned).
fn text_table(head: &[&str], rows: &[Vec<String>]) -> String {
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (j, c) in r.iter().enumerate().take(n) {
            w[j] = w[j].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut s = String::new();
        for (j, c) in cells.iter().enumerate() {
            let pad = w[j].saturating_sub(c.chars().count());
            if j == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

fn f3(x: f64) -> String {
    fmt_num(x, 3)
}

fn csv_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        String::new()
    }
}

fn fit_rows_report(
    c: &Common,
    p: &Prepared,
    analysis: &str,
    rows: &[FitRow],
    full: &FitRow,
    first_col: &str,
) -> String {
    let labels = p.labels();
    // The label of the study a row leaves out or adds (rows of `leave1out` and `cumul` are keyed
    // by study position).
    let label = |r: &FitRow| r.study().and_then(|i| labels.get(i)).cloned().unwrap_or_default();
    match c.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| with(json!({"label": label(r)}), "fit", r))
                .map(|mut v| {
                    // Flatten {"label", "fit": {...}} into one object.
                    if let Some(fit) = v.get("fit").cloned() {
                        if let (Some(m), Some(f)) = (v.as_object_mut(), fit.as_object()) {
                            m.remove("fit");
                            for (key, val) in f {
                                m.insert(key.clone(), val.clone());
                            }
                        }
                    }
                    v
                })
                .collect();
            let v = with(header(p, analysis), "full", full);
            to_json(&with(v, "rows", &items))
        }
        Format::Csv => {
            let mut s = String::from(
                "label,study,k,estimate,se,zval,pval,ci_lb,ci_ub,Q,Q_p,tau2,I2,H2,proportion,proportion_ci_lb,proportion_ci_ub,error\n",
            );
            for r in rows {
                let f = [
                    csv_field(&label(r)),
                    (r.study().map_or(0, |i| i + 1)).to_string(),
                    r.k.to_string(),
                    csv_num(r.estimate),
                    csv_num(r.se),
                    csv_num(r.zval),
                    csv_num(r.pval),
                    csv_num(r.ci_lb),
                    csv_num(r.ci_ub),
                    csv_num(r.q),
                    csv_num(r.q_p),
                    csv_num(r.tau2),
                    csv_num(r.i2),
                    csv_num(r.h2),
                    csv_num(r.natural.estimate),
                    csv_num(r.natural.ci_lb),
                    csv_num(r.natural.ci_ub),
                    csv_field(r.error.as_deref().unwrap_or("")),
                ];
                s.push_str(&f.join(","));
                s.push('\n');
            }
            s
        }
        Format::Table => {
            // Proportions in percent within [0, 100] (as pool prints them); other measures on
            // their natural scale.
            let percent = p.options.measure.is_proportion();
            let dec = c
                .digits
                .map(usize::from)
                .unwrap_or(if percent { crate::report::PERCENT_DECIMALS } else { 3 });
            let mut truncated = false;
            let mut shown = |x: f64| {
                if percent {
                    let y = crate::report::in_unit(x);
                    truncated |= y != x && !x.is_nan();
                    fmt_prop(y, dec, true)
                } else {
                    fmt_num(x, dec)
                }
            };
            let mut t: Vec<Vec<String>> = Vec::new();
            for r in rows.iter() {
                let (e, lb, ub) = (
                    shown(r.natural.estimate),
                    shown(r.natural.ci_lb),
                    shown(r.natural.ci_ub),
                );
                t.push(vec![label(r), r.k.to_string(), e, format!("[{lb}; {ub}]")]);
            }
            let full_cells = (
                shown(full.natural.estimate),
                shown(full.natural.ci_lb),
                shown(full.natural.ci_ub),
            );
            let mut t: Vec<Vec<String>> = rows
                .iter()
                .zip(t)
                .map(|(r, mut head)| {
                    head.extend(vec![
                        f3(r.estimate),
                        f3(r.tau2),
                        format!("{}%", fmt_num(r.i2, 1)),
                        f3(r.q),
                        f3(r.q_p),
                        r.error.clone().unwrap_or_else(|| {
                            if r.converged {
                                String::new()
                            } else {
                                "not converged".into()
                            }
                        }),
                    ]);
                    head
                })
                .collect();
            t.push(vec![
                "(all studies)".into(),
                full.k.to_string(),
                full_cells.0,
                format!("[{}; {}]", full_cells.1, full_cells.2),
                f3(full.estimate),
                f3(full.tau2),
                format!("{}%", fmt_num(full.i2, 1)),
                f3(full.q),
                f3(full.q_p),
                String::new(),
            ]);
            let mut s = format!(
                "{analysis}: {} {} ({} test), {} studies\n\n",
                p.options.measure,
                p.options.method,
                p.options.test,
                p.es.k()
            );
            let lv = crate::report::level_label(p.options.level);
            let (est_head, ci_head) = if percent {
                ("proportion %".to_string(), format!("{lv} CI %"))
            } else {
                (p.options.measure.natural_name().to_lowercase(), format!("{lv} CI"))
            };
            s.push_str(&text_table(
                &[
                    first_col, "k", &est_head, &ci_head, "estimate", "tau2", "I2", "Q", "Q_p", "error",
                ],
                &t,
            ));
            s.push_str(&format!(
                "\nestimate, tau2 and Q on the {} scale{}.\n",
                p.options.measure,
                if truncated {
                    "; CIs reaching outside [0%, 100%] are shown truncated there (JSON and CSV keep the model's limits)"
                } else {
                    ""
                }
            ));
            s
        }
    }
}

fn full_row(p: &Prepared) -> FitRow {
    let idx: Vec<usize> = (0..p.es.k()).collect();
    diagnostics::refit_row(&p.es, &idx, 0, &p.options)
}

/// Draw the plot of leave-one-out or cumulative fits (when asked for) and print their report
/// (`what`: the command, and the header of the study column).
fn report_fit_rows(
    common: &Common,
    p: &Prepared,
    rows: &[FitRow],
    plot: Option<&std::path::Path>,
    kind: crate::plot::leave1out::Kind,
    (name, column): (&str, &str),
) -> Result<i32> {
    let full = full_row(p);
    if let Some(path) = plot {
        let fig = crate::plot::leave1out::figure(rows, &full, p.labels(), kind, p.options.level, &Default::default())?;
        crate::plot::write_figure(&fig, path, 300.0)?;
    }
    emit(common, fit_rows_report(common, p, name, rows, &full, column))
}

pub fn run_leave1out(cmd: &Leave1outCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let rows = diagnostics::leave1out(&p.es, &p.options)?;
    report_fit_rows(
        &cmd.common,
        &p,
        &rows,
        cmd.plot.as_deref(),
        crate::plot::leave1out::Kind::LeaveOneOut,
        ("leave1out", "omitted"),
    )
}

pub fn run_cumul(cmd: &CumulCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let order = match &cmd.order {
        Some(col) => {
            let keys: Vec<f64> = crate::plot::years_from_frame(&p.studies, col)?
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            diagnostics::cumul_order(&keys, cmd.decreasing)
        }
        None => {
            let mut o: Vec<usize> = (0..p.es.k()).collect();
            if cmd.decreasing {
                o.reverse();
            }
            o
        }
    };
    let rows = diagnostics::cumul(&p.es, &p.options, &order)?;
    report_fit_rows(
        &cmd.common,
        &p,
        &rows,
        cmd.plot.as_deref(),
        crate::plot::leave1out::Kind::Cumulative,
        ("cumul", "added"),
    )
}

pub fn run_influence(cmd: &InfluenceCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let inf = diagnostics::influence(&p.es, &p.options)?;
    let bj = diagnostics::baujat(&p.es, &p.options)?;
    if let Some(path) = &cmd.baujat {
        let fig = crate::plot::baujat::figure(&bj, p.labels(), &Default::default())?;
        crate::plot::write_figure(&fig, path, 300.0)?;
    }
    let labels = p.labels();
    let text = match cmd.common.format {
        Format::Json => {
            let v = with(header(&p, "influence"), "influence", &inf);
            to_json(&with(v, "baujat", &bj))
        }
        Format::Csv => {
            let mut s = String::from(
                "label,study,rstudent,dffits,cook_d,cov_r,tau2_del,QE_del,hat,weight,dfbs,inf,baujat_x,baujat_y,error\n",
            );
            for i in 0..p.es.k() {
                let f = [
                    csv_field(&labels[i]),
                    (i + 1).to_string(),
                    csv_num(inf.rstudent[i]),
                    csv_num(inf.dffits[i]),
                    csv_num(inf.cook_d[i]),
                    csv_num(inf.cov_r[i]),
                    csv_num(inf.tau2_del[i]),
                    csv_num(inf.qe_del[i]),
                    csv_num(inf.hat[i]),
                    csv_num(inf.weight[i]),
                    csv_num(inf.dfbs[i]),
                    inf.inf[i].to_string(),
                    csv_num(bj.x[i]),
                    csv_num(bj.y[i]),
                    csv_field(inf.errors[i].as_deref().unwrap_or("")),
                ];
                s.push_str(&f.join(","));
                s.push('\n');
            }
            s
        }
        Format::Table => {
            let t: Vec<Vec<String>> = (0..p.es.k())
                .map(|i| {
                    vec![
                        labels[i].clone(),
                        f3(inf.rstudent[i]),
                        f3(inf.dffits[i]),
                        f3(inf.cook_d[i]),
                        f3(inf.cov_r[i]),
                        f3(inf.tau2_del[i]),
                        f3(inf.qe_del[i]),
                        f3(inf.hat[i]),
                        fmt_num(inf.weight[i], 2),
                        f3(inf.dfbs[i]),
                        if inf.inf[i] { "*".into() } else { String::new() },
                    ]
                })
                .collect();
            let mut s = format!(
                "influence: {} {} ({} test), {} studies (* = influential)\n\n",
                p.options.measure,
                p.options.method,
                p.options.test,
                p.es.k()
            );
            s.push_str(&text_table(
                &[
                    "study", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight", "dfbs",
                    "inf",
                ],
                &t,
            ));
            s
        }
    };
    emit(&cmd.common, text)
}

pub fn run_gosh(cmd: &GoshCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let opts = GoshOptions {
        subsets: cmd.subsets,
        seed: cmd.seed,
        chunk: cmd.chunk,
        ..GoshOptions::default()
    };
    let mut writer = match &cmd.subsets_output {
        Some(path) => Some(TableWriter::create::<GoshRow>(path)?),
        None => None,
    };
    let summary = diagnostics::gosh(&p.es, &p.rma(), &opts, |rows: &[GoshRow]| match writer.as_mut() {
        Some(w) => w.write(rows),
        None => Ok(()),
    })?;
    if let Some(w) = writer {
        w.finish::<GoshRow>()?;
    }
    if let Some(path) = &cmd.plot {
        let fig = crate::plot::gosh::figure(&summary, p.options.measure, &Default::default())?;
        crate::plot::write_figure(&fig, path, 300.0)?;
    }
    let text = match cmd.common.format {
        Format::Json | Format::Csv => {
            let mut v = serde_json::to_value(&summary).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.remove("histogram");
            }
            let mut h = header(&p, "gosh");
            if let Some(m) = h.as_object_mut() {
                m.insert("gosh".into(), v);
                m.insert(
                    "subsets_output".into(),
                    json!(cmd.subsets_output.as_ref().map(|x| x.display().to_string())),
                );
            }
            to_json(&h)
        }
        Format::Table => format!(
            "GOSH: {} {}, k = {}: {} {} subsets fitted ({} failed)\nestimate in [{}, {}], I2 in [{}%, {}%]{}\n",
            p.options.measure,
            p.options.method,
            summary.k,
            summary.subsets,
            if summary.exact { "(all)" } else { "random" },
            summary.failed,
            f3(summary.estimate_min),
            f3(summary.estimate_max),
            fmt_num(summary.i2_min, 1),
            fmt_num(summary.i2_max, 1),
            cmd.subsets_output
                .as_ref()
                .map(|x| format!("\nevery subset: {}", x.display()))
                .unwrap_or_default()
        ),
    };
    emit(&cmd.common, text)
}

pub fn run_permutest(cmd: &PermutestCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let o = diagnostics::PermTestOptions {
        iter: cmd.iter,
        exact: cmd.exact,
        seed: cmd.seed,
        keep_distribution: false,
    };
    let r = diagnostics::permutest(&p.es, &p.rma(), &o)?;
    let text = match cmd.common.format {
        Format::Json | Format::Csv => to_json(&with(header(&p, "permutest"), "permutest", &r)),
        Format::Table => format!(
            "permutation test: {} {} ({} test), k = {}\n{} test with {} sign patterns{}\nestimate {}, {} = {}, permutation p = {} (model p = {}); QM = {}, permutation p = {}\n",
            p.options.measure,
            p.options.method,
            p.options.test,
            p.es.k(),
            if r.exact { "exact" } else { "approximate" },
            r.iter,
            r.seed.map(|s| format!(" (seed {s})")).unwrap_or_default(),
            f3(r.estimate),
            if p.options.test == crate::model::Test::Z { "z" } else { "t" },
            f3(r.zval),
            fmt_num(r.pval, 4),
            fmt_num(r.pval_model, 4),
            f3(r.qm),
            fmt_num(r.qm_p, 4)
        ),
    };
    emit(&cmd.common, text)
}

pub fn run_bootstrap(cmd: &BootstrapCmd) -> Result<i32> {
    let p = prepare(&cmd.common)?;
    let o = diagnostics::BootstrapOptions {
        replicates: cmd.replicates,
        seed: cmd.seed,
        level: p.options.level,
        keep_replicates: false,
    };
    let r = diagnostics::bootstrap_tau2(&p.es, &p.rma(), &o)?;
    let text = match cmd.common.format {
        Format::Json | Format::Csv => to_json(&with(header(&p, "bootstrap"), "bootstrap", &r)),
        Format::Table => format!(
            "parametric bootstrap of tau^2: {} {}, k = {}, {} replicates (seed {}, {} failed)\ntau2 = {}, bootstrap mean {} (bias {}), SE {}, {}% percentile interval [{}; {}], share of tau2* = 0: {}\n",
            p.options.measure,
            p.options.method,
            p.es.k(),
            r.replicates,
            r.seed,
            r.failed,
            fmt_num(r.tau2, 4),
            fmt_num(r.mean, 4),
            fmt_num(r.bias, 4),
            fmt_num(r.se, 4),
            fmt_num(100.0 * r.level, 0),
            fmt_num(r.ci_lb, 4),
            fmt_num(r.ci_ub, 4),
            fmt_num(r.share_zero, 3)
        ),
    };
    emit(&cmd.common, text)
}
