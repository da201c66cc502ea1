//! `metarepro metareg`: meta-regression of a study table on moderator columns (metafor
//! `rma(yi, vi, mods = ~ ...)`), printed as a table, JSON or CSV, with an optional bubble plot.

use std::path::PathBuf;

use clap::Args;

use super::args::{DataArgs, ModelArgs};
use super::pool::{write_stdout, Format, EXIT_CODES};
use crate::error::{Error, Result};
use crate::model::metareg::{metareg, MetaregResult};
use crate::plot::bubble::{self, BubbleOptions};
use crate::report::{self, csv_field, fmt_num, fmt_p};

#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
// Subgroups enter as moderators (--mods), the model is rma's: `--help` shows only what metareg takes.
#[command(
    mut_arg("by", |a| a.hide(true)),
    mut_arg("labels", |a| a.hide(true)),
    mut_arg("tau2_common", |a| a.hide(true)),
    mut_arg("nagq", |a| a.hide(true)),
    mut_arg("method", |a| a.help(super::sensitivity::METHOD_HELP).long_help(None::<&str>)),
)]
pub struct MetaregCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Moderators: columns of the table, comma-separated (--mods scq,ethnicity). Numeric columns
    /// enter as they are, text columns as factors (first level in sorted order the reference);
    /// factor(COL) makes a numeric column a factor.
    #[arg(long, required = true, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Output format: table (readable), json (the machine contract, unrounded), csv (the coefficients).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also draw a bubble plot (estimate against a numeric moderator, bubble area by weight,
    /// fitted line with its CI band) to this file (.svg or .png).
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// The moderator on the bubble plot's x axis [default: the first numeric one].
    #[arg(long = "plot-mod", value_name = "COL")]
    pub plot_mod: Option<String>,
    /// Title of the bubble plot.
    #[arg(long = "plot-title")]
    pub plot_title: Option<String>,
    /// Resolution of a PNG bubble plot.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
}

pub fn run(cmd: &MetaregCmd) -> Result<i32> {
    if cmd.data.by.is_some() {
        return Err(Error::Usage(
            "metareg does not take --by: give a subgroup column as a moderator (--mods COL)".into(),
        ));
    }
    let load = cmd.data.load_options()?;
    let options = cmd.model.pool_options()?;
    for out in [&cmd.output, &cmd.plot].into_iter().flatten() {
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
    if let Some(p) = &cmd.plot {
        crate::plot::Format::from_path(p)?;
    }
    let studies = cmd.data.load_studies(&load, options.measure)?;
    let res = metareg(&studies, &cmd.mods, &options)?;
    let text = match cmd.format {
        Format::Table => render_table(&res),
        Format::Json => to_json(&res),
        Format::Csv => to_csv(&res),
    };
    if let Some(p) = &cmd.plot {
        let opts = BubbleOptions {
            moderator: cmd.plot_mod.clone(),
            title: cmd.plot_title.clone(),
            dpi: cmd.dpi,
            ..BubbleOptions::default()
        };
        bubble::write(&res, &opts, p)?;
    }
    match &cmd.output {
        Some(path) => report::write_atomic(path, text.as_bytes())?,
        None => write_stdout(text.as_bytes())?,
    }
    Ok(0)
}

/// The JSON contract: `{"coefficients": [{"name", "estimate", "se", "zval", "pval", "ci_lb",
/// "ci_ub"}], "tau2", "QM", "QM_p", "QE", "QE_p", "R2", "I2", ...}`, unrounded, NA as null.
pub fn to_json(res: &MetaregResult) -> String {
    let mut s = serde_json::to_string_pretty(res).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The coefficients as CSV.
pub fn to_csv(res: &MetaregResult) -> String {
    let mut s = String::from("name,estimate,se,zval,pval,ci_lb,ci_ub\n");
    // As `pool --format csv`: shortest round-trip decimal, empty when missing.
    let num = |x: f64| if x.is_finite() { format!("{x:?}") } else { String::new() };
    for c in &res.coefficients {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            csv_field(&c.name),
            num(c.estimate),
            num(c.se),
            num(c.zval),
            num(c.pval),
            num(c.ci_lb),
            num(c.ci_ub)
        ));
    }
    s
}

/// `p-val = 0.0123` or `p-val < 0.0001`.
fn pval_text(p: f64) -> String {
    let t = fmt_p(p, 4);
    match t.strip_prefix('<') {
        Some(rest) => format!("p-val < {rest}"),
        None => format!("p-val = {t}"),
    }
}

/// The readable table, laid out like metafor's print of a mixed-effects model.
pub fn render_table(res: &MetaregResult) -> String {
    let mut s = String::new();
    if let Some(note) = &res.convergence_note {
        s.push_str(&format!("Warning: not converged: {note}.\n\n"));
    }
    let common = res.method.is_common();
    s.push_str(&format!(
        "{} Model (k = {}; {}measure {}, test {})\n\n",
        if common {
            "Fixed-Effects with Moderators"
        } else {
            "Mixed-Effects"
        },
        res.k,
        if common {
            String::new()
        } else {
            format!("tau^2 estimator: {}; ", res.method)
        },
        res.measure,
        res.test
    ));
    let pct = |x: Option<f64>| x.map(|v| format!("{}%", fmt_num(v, 2))).unwrap_or_else(|| "NA".into());
    if !common {
        s.push_str(&format!(
            "tau^2 (estimated amount of residual heterogeneity):     {}\n",
            fmt_num(res.tau2, 4)
        ));
        s.push_str(&format!(
            "tau (square root of estimated tau^2 value):             {}\n",
            fmt_num(res.tau2.sqrt(), 4)
        ));
    }
    s.push_str(&format!(
        "I^2 (residual heterogeneity / unaccounted variability): {}\n",
        pct(Some(res.i2))
    ));
    s.push_str(&format!(
        "H^2 (unaccounted variability / sampling variability):   {}\n",
        fmt_num(res.h2, 2)
    ));
    s.push_str(&format!(
        "R^2 (amount of heterogeneity accounted for):            {}\n\n",
        pct(res.r2)
    ));
    s.push_str(&format!(
        "Test for Residual Heterogeneity:\nQE(df = {}) = {}, {}\n\n",
        res.qe_df,
        fmt_num(res.qe, 4),
        pval_text(res.qe_p)
    ));
    let p = res.coefficients.len();
    let df = match res.qm_df2 {
        Some(d2) => format!("F(df1 = {}, df2 = {d2})", res.qm_df),
        None => format!("QM(df = {})", res.qm_df),
    };
    s.push_str(&format!(
        "Test of Moderators (coefficients 2:{p}):\n{df} = {}, {}\n\n",
        fmt_num(res.qm, 4),
        pval_text(res.qm_p)
    ));
    let stat = if res.qm_df2.is_some() { "tval" } else { "zval" };
    let header = ["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub"];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for c in &res.coefficients {
        rows.push(vec![
            c.name.clone(),
            fmt_num(c.estimate, 4),
            fmt_num(c.se, 4),
            fmt_num(c.zval, 4),
            fmt_p(c.pval, 4),
            fmt_num(c.ci_lb, 4),
            fmt_num(c.ci_ub, 4),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    s.push_str("Model Results:\n\n");
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(j, v)| {
                if j == 0 {
                    format!("{v:<w$}", w = widths[0])
                } else {
                    format!("{v:>w$}", w = widths[j])
                }
            })
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s.push_str(&format!(
        "\nEstimates on the {} scale; level {}%.\n",
        res.measure,
        fmt_num(100.0 * res.level, 0)
    ));
    s
}
